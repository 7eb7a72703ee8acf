package sip

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/internal/callcenter"
	"switchboard/internal/siptest"
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
	return siptest.FreeUDPPort(t)
}

// TestSippRegisters has sipp, a SIP stack we did not write, register 20
// agents with digest (testdata/reg.xml, credentials from a CSV), then
// register them once more with wrong passwords, which must all fail.
func TestSippRegisters(t *testing.T) {
	sipp := sippPath(t)
	// Every agent registers from 127.0.0.1: no lockout or rate limit here.
	r := newRegRig(t, GuardOptions{MaxFailures: 1000, Known: func(netip.Addr) bool { return true }})
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

// TestBaresipRegisters has baresip, a real softphone, register with digest
// as an agent's phone would, and fail with a wrong password.
func TestBaresipRegisters(t *testing.T) {
	baresip, err := exec.LookPath("baresip")
	if err != nil {
		if os.Getenv("SWITCHBOARD_TEST_REQUIRE_SIP") == "1" {
			t.Fatal("baresip is not on PATH and SWITCHBOARD_TEST_REQUIRE_SIP=1")
		}
		t.Skip("baresip is not on PATH (apt-get install baresip-core)")
	}
	r := newRegRig(t, GuardOptions{})
	acme := r.tenant("acme")
	r.user(acme, "1001", "soft-pw")
	r.user(acme, "1002", "soft-pw2")

	start := func(user, password string) {
		t.Helper()
		dir := t.TempDir()
		config := fmt.Sprintf("sip_listen\t127.0.0.1:%d\nnet_interface\t127.0.0.1\nmodule_path\t/usr/lib/baresip/modules\n"+
			"sip_transports\tudp\nmodule\tg711.so\nmodule_tmp\tuuid.so\nmodule_tmp\taccount.so\n", freeUDPPort(t))
		accounts := fmt.Sprintf("<sip:%s@%s;transport=udp>;auth_pass=%s;regint=60\n", user, r.addr, password)
		for name, body := range map[string]string{"config": config, "accounts": accounts} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, baresip, "-4", "-f", dir)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cancel()
			cmd.Wait()
			if t.Failed() {
				t.Logf("baresip %s:\n%s", user, tail(out.String()))
			}
		})
	}
	start("1001", "soft-pw")
	start("1002", "wrong-pw")

	good := callcenter.DeviceName(acme.ID, "1001")
	deadline := time.Now().Add(10 * time.Second)
	for !r.reg.Registered(good) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !r.reg.Registered(good) {
		t.Fatalf("baresip did not register %s", good)
	}
	b := r.reg.Bindings(good)[0]
	if b.UserAgent == "" || !strings.HasPrefix(b.Contact.User, "1001") || b.Source.Addr() != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("baresip's binding = %+v", b)
	}
	// The wrong password never registers, and its failures are counted.
	for r.reg.Stats().AuthFailures == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if r.reg.Registered(callcenter.DeviceName(acme.ID, "1002")) || r.reg.Stats().AuthFailures == 0 {
		t.Errorf("baresip with a wrong password: registered %v, failures %d",
			r.reg.Registered(callcenter.DeviceName(acme.ID, "1002")), r.reg.Stats().AuthFailures)
	}
}
