package siptest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"testing"
)

// RequireEnv is the environment variable that turns a missing tool from a
// skip into a failure, so CI cannot pass by running none of the SIP tests.
const RequireEnv = "SWITCHBOARD_TEST_REQUIRE_SIP"

// Tools are the binaries the runners start.
const (
	SippBinary    = "sipp"
	BaresipBinary = "baresip"
)

// Require skips t (or fails it when RequireEnv is set) unless every named
// binary is on the PATH.
func Require(t testing.TB, binaries ...string) {
	t.Helper()
	for _, b := range binaries {
		if _, err := exec.LookPath(b); err != nil {
			if os.Getenv(RequireEnv) != "" {
				t.Fatalf("%s is not installed (apt-get install sip-tester baresip-core) and %s is set", b, RequireEnv)
			}
			t.Skipf("%s is not installed (apt-get install sip-tester baresip-core); set %s to make this a failure", b, RequireEnv)
		}
	}
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
// It draws from 12000-19999, below Linux's ephemeral range (32768 up) and
// apart from FreeUDPRange's: a port the kernel picked for it would be one
// the kernel hands the next socket that asks (any test's), which is how a
// peer found its port taken before it could bind.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	return freeIn(t, "UDP", func(p int) bool { return udpRangeFree(p, 1) })
}

// FreeTCPPort returns a TCP port on 127.0.0.1 that was free a moment ago,
// drawn as FreeUDPPort draws.
func FreeTCPPort(t testing.TB) int {
	t.Helper()
	return freeIn(t, "TCP", func(p int) bool {
		l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		l.Close()
		return true
	})
}

// freeIn draws ports from 12000-19999 until free says one is.
func freeIn(t testing.TB, what string, free func(int) bool) int {
	t.Helper()
	for range 500 {
		if p := 12000 + rand.IntN(8000); free(p) {
			return p
		}
	}
	t.Fatalf("no free %s port on 127.0.0.1 in 12000-19999", what)
	return 0
}

// FreeUDPRange returns the first port of n consecutive UDP ports on
// 127.0.0.1, all free when checked, starting at an even port (RTP takes the
// even port and RTCP the odd one above it). Ports come from 20000-31999,
// below Linux's ephemeral range (32768 up), so the sockets other tests open
// do not wander into the range while it is in use.
func FreeUDPRange(t testing.TB, n int) int {
	t.Helper()
	for range 200 {
		lo := 20000 + 2*rand.IntN((12000-n)/2)
		if ok := udpRangeFree(lo, n); ok {
			return lo
		}
	}
	t.Fatalf("no %d consecutive free UDP ports on 127.0.0.1", n)
	return 0
}

func udpRangeFree(lo, n int) bool {
	held := make([]net.PacketConn, 0, n)
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for p := lo; p < lo+n; p++ {
		c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		held = append(held, c)
	}
	return true
}
