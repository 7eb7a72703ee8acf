package sip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/internal/callcenter"
)

// sippPath finds sipp, skipping the test when it is missing unless
// SWITCHBOARD_TEST_REQUIRE_SIP=1 (CI) makes that a failure.
func sippPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("SWITCHBOARD_TEST_REQUIRE_SIP") == "1" {
			t.Fatal("sipp is not on PATH and SWITCHBOARD_TEST_REQUIRE_SIP=1")
		}
		t.Skip("sipp is not on PATH (apt-get install sip-tester)")
	}
	return p
}

// freeUDPPort returns a UDP port on 127.0.0.1 nobody listened on a moment
// ago, for sipp's -p.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// TestSippRegisters has sipp, a SIP stack we did not write, register 20
// agents with digest (testdata/reg.xml, credentials from a CSV), then
// register them once more with wrong passwords, which must all fail.
func TestSippRegisters(t *testing.T) {
	sipp := sippPath(t)
	// Every agent registers from 127.0.0.1: no lockout or rate limit here.
	r := newRig(t, GuardOptions{MaxFailures: 1000, Known: func(netip.Addr) bool { return true }})
	acme := r.tenant("acme")
	const agents = 20
	var good, bad strings.Builder
	good.WriteString("SEQUENTIAL\n")
	bad.WriteString("SEQUENTIAL\n")
	for i := range agents {
		ext := fmt.Sprint(2000 + i)
		pw := fmt.Sprintf("pw-%d-secret", i)
		r.user(acme, ext, pw)
		fmt.Fprintf(&good, "%s;[authentication username=%s password=%s]\n", ext, ext, pw)
		fmt.Fprintf(&bad, "%s;[authentication username=%s password=wrong]\n", ext, ext)
	}
	dir := t.TempDir()
	out, err := runSipp(t, sipp, dir, "good", good.String(), agents, r.addr)
	if err != nil {
		t.Fatalf("sipp with the right passwords: %v\n%s", err, tail(out))
	}
	for i := range agents {
		if !r.reg.Registered(callcenter.DeviceName(acme.ID, fmt.Sprint(2000+i))) {
			t.Errorf("agent %d not registered after sipp", 2000+i)
		}
	}
	// Wrong passwords: sipp expects 200 and gets 403, so every call fails
	// and sipp exits non-zero.
	out, err = runSipp(t, sipp, dir, "bad", bad.String(), agents, r.addr)
	if err == nil {
		t.Fatalf("sipp with wrong passwords succeeded:\n%s", tail(out))
	}
	if st := r.reg.Stats(); st.AuthFailures != agents {
		t.Errorf("registrar counted %d failures, want %d", st.AuthFailures, agents)
	}
}

// runSipp runs testdata/reg.xml for calls agents read from csv against
// server, and returns sipp's output.
func runSipp(t *testing.T, sipp, dir, name, csv string, calls int, server string) (string, error) {
	t.Helper()
	path := filepath.Join(dir, name+".csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, "-sf", "testdata/reg.xml", "-inf", path, "-m", fmt.Sprint(calls),
		"-r", "50", "-i", "127.0.0.1", "-p", fmt.Sprint(freeUDPPort(t)), "-timeout", "30s", "-timeout_error",
		"-trace_screen", "-screen_file", filepath.Join(dir, name+".screen"), server)
	out, err := cmd.CombinedOutput()
	screen, _ := os.ReadFile(filepath.Join(dir, name+".screen"))
	return string(out) + string(screen), err
}

// tail is the end of sipp's output, for a failure message.
func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}
