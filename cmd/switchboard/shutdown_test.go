package main

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestSIGTERMEndsEventStreams runs the real binary with one event stream that
// reads and one whose client never reads (its write blocked on a full
// socket), sends SIGTERM, and checks that the process exits 0 well within
// its shutdown timeout, the reading client told why with a stream.end event.
func TestSIGTERMEndsEventStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	db := sqlstoretest.SQLiteURL(t)
	out, err := run(t, "", "tenant", "create", "--db", db, "--slug", "acme", "--name", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	var tenant struct{ ID int64 }
	if err := json.Unmarshal([]byte(out), &tenant); err != nil {
		t.Fatal(err)
	}
	key, err := run(t, "", "key", "create", "--db", db, "--tenant", "acme")
	if err != nil {
		t.Fatal(err)
	}
	key = strings.TrimSpace(key)
	// A log larger than loopback buffers, so the stream that is not read
	// blocks in a write.
	store := sqlstoretest.Open(t, db, sqlstore.Options{})
	blob := strings.Repeat("x", 400_000)
	for range 40 {
		if _, err := store.AppendEvent(context.Background(), tenant.ID, "test.big", "test", 1, map[string]string{"blob": blob}); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()

	const shutdownTimeout = 10 * time.Second
	addr := freePort(t)
	server := startBinary(t, bin, "--addr", addr, "--db", db, "--metrics-addr", "", "--log-level", "warn",
		"--shutdown-timeout", shutdownTimeout.String())
	res, events := openStream(t, "http://"+addr, key, "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("open stream: %d", res.StatusCode)
	}
	rawStream(t, addr, key, "?after_seq=0")
	time.Sleep(time.Second) // the second stream fills its socket

	start := time.Now()
	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- server.Wait() }()
	select {
	case err := <-exited:
		took := time.Since(start)
		t.Logf("exited %s after SIGTERM (shutdown timeout %s): %v", took.Round(time.Millisecond), shutdownTimeout, err)
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Errorf("the server exited with %v, want status 0", err)
		}
		if took > shutdownTimeout/2 {
			t.Errorf("shutdown took %s, not well under the %s timeout", took, shutdownTimeout)
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatalf("the server did not exit %s after SIGTERM", shutdownTimeout+5*time.Second)
	}
	end, _ := waitEnd(t, events, 5*time.Second)
	var why map[string]string
	json.Unmarshal([]byte(end.Data), &why)
	if why["reason"] != "shutdown" {
		t.Errorf("the reading client got stream.end %+v, want reason shutdown", end)
	}
}
