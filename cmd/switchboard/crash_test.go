package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"switchboard/internal/siptest"
	"switchboard/internal/sqlstore/sqlstoretest"
	"switchboard/internal/webhook"
)

// buildBinary compiles the switchboard binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "switchboard")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePort is a loopback address whose TCP port was free a moment ago,
// drawn below the kernel's ephemeral range (see siptest.FreeTCPPort).
func freePort(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", siptest.FreeTCPPort(t))
}

// startBinary runs the real server as a child process and waits until it answers.
func startBinary(t *testing.T, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	logf, _ := os.Create(filepath.Join(t.TempDir(), "server.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var addr string
	for i, a := range args {
		if a == "--addr" {
			addr = args[i+1]
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			logf.Seek(0, 0)
			b, _ := io.ReadAll(logf)
			t.Fatalf("server did not come up:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCrashLosesNoWebhook kills the real server with SIGKILL while 5,000 events
// are being delivered, restarts it, and checks that the receiver ends with
// every event at least once: deduplicated by webhook-id, exactly 5,000.
func TestCrashLosesNoWebhook(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const events = 5000
	bin := buildBinary(t)
	db := sqlstoretest.SQLiteURL(t)
	if _, err := run(t, "", "tenant", "create", "--db", db, "--slug", "acme", "--name", "Acme"); err != nil {
		t.Fatal(err)
	}
	key, err := run(t, "", "key", "create", "--db", db, "--tenant", "acme")
	if err != nil {
		t.Fatal(err)
	}
	key = strings.TrimSpace(key)

	var mu sync.Mutex
	seen := map[string]bool{}
	seqs := map[int64]bool{}
	total := 0
	var unique atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p webhook.Payload
		json.Unmarshal(body, &p)
		mu.Lock()
		total++
		if id := r.Header.Get("webhook-id"); !seen[id] {
			seen[id] = true
			unique.Add(1)
		}
		seqs[p.Seq] = true
		mu.Unlock()
		time.Sleep(time.Millisecond) // a receiver that does some work
	}))
	defer recv.Close()

	addr := freePort(t)
	args := []string{"--addr", addr, "--db", db, "--rate-limit", "0", "--tenant-write-rate", "0", "--webhook-allow-cidr", "127.0.0.0/8",
		"--webhook-timeout", "2s", "--webhook-poll", "100ms", "--log-level", "warn"}
	server := startBinary(t, bin, args...)
	base := "http://" + addr
	post := func(path string, body any) (int, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
	if status, err := post("/v1/webhooks", map[string]any{"url": recv.URL + "/hook", "event_types": []string{"skill.created"}}); err != nil || status != 201 {
		t.Fatalf("subscribe: %d %v", status, err)
	}

	// Emit the events from 4 clients. A request cut off by the crash is sent
	// again; a 409 then means it had committed before the crash.
	var next atomic.Int64
	var emitters sync.WaitGroup
	for range 4 {
		emitters.Add(1)
		go func() {
			defer emitters.Done()
			for i := next.Add(1) - 1; i < events; i = next.Add(1) - 1 {
				for {
					status, err := post("/v1/skills", map[string]string{"name": fmt.Sprintf("skill-%05d", i)})
					if err == nil && (status == 201 || status == 409) {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}

	deadline := time.Now().Add(60 * time.Second)
	for unique.Load() < 1000 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d deliveries before the planned crash", unique.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	server.Process.Signal(syscall.SIGKILL)
	server.Wait()
	atCrash := unique.Load()
	startBinary(t, bin, args...)
	emitters.Wait()

	deadline = time.Now().Add(90 * time.Second)
	for unique.Load() < events {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart the receiver has %d of %d events", unique.Load(), events)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Deliveries that reached the receiver before the crash but whose outcome
	// was not recorded are sent again once their lease runs out: wait for the
	// queue to drain so the count of duplicates is complete.
	for {
		req, _ := http.NewRequest("GET", base+"/v1/webhook_deliveries?status=pending&limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			var page struct {
				Metadata struct{ Total int } `json:"metadata"`
			}
			json.NewDecoder(res.Body).Decode(&page)
			res.Body.Close()
			if page.Metadata.Total == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries still pending after the restart")
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != events || len(seqs) != events {
		t.Fatalf("receiver has %d distinct webhook-ids and %d distinct event seqs, want %d each", len(seen), len(seqs), events)
	}
	t.Logf("killed with %d of %d delivered; receiver got %d requests: %d distinct, %d duplicates",
		atCrash, events, total, len(seen), total-len(seen))
}
