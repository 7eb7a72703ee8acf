package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestKilledServerRestart kills the real server (SIGKILL: no graceful call
// shutdown) while two agents are on calls, keeps it down for a while, and
// starts it again, on every engine. The agents must be back to the status they
// had before their calls (Available and a custom "Ready"), and the cut calls
// must end at about the old process's last heartbeat: their talk time must not
// include the downtime.
func TestKilledServerRestart(t *testing.T) {
	bin := buildBinary(t)
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			key := newTenantKey(t, db)
			addr := freePort(t)
			args := []string{"--addr", addr, "--db", db, "--rate-limit", "0", "--metrics-addr", "", "--log-level", "warn"}
			server := startBinary(t, bin, args...)
			c := client{t: t, base: "http://" + addr, key: key}

			if status, s := c.do("POST", "/v1/agent_statuses", map[string]any{"name": "Ready", "available": true}); status != 201 {
				t.Fatalf("create status: %d %v", status, s)
			}
			_, q := c.do("POST", "/v1/queues", map[string]any{"name": "Q", "extension": "8001"})
			qid := int64(q["id"].(float64))
			want := map[int64]string{}
			for i, st := range []string{"Available", "Ready"} {
				_, u := c.do("POST", "/v1/users", map[string]any{"email": fmt.Sprintf("a%d@acme.test", i), "first_name": "A", "extension": fmt.Sprint(1001 + i)})
				uid := int64(u["id"].(float64))
				c.do("POST", fmt.Sprintf("/v1/queues/%d/members", qid), map[string]any{"user_id": uid})
				if status, p := c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": st}); status != 200 {
					t.Fatalf("sign in: %d %v", status, p)
				}
				want[uid] = st
			}
			var calls []int64
			for range 2 {
				status, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "8001", "answer_after_seconds": 0, "talk_seconds": 3600})
				if status != 201 {
					t.Fatalf("place call: %d %v", status, call)
				}
				id := int64(call["id"].(float64))
				waitCall(t, c, id, func(v map[string]any) bool { return v["status"] == "connected" })
				calls = append(calls, id)
			}
			for uid := range want {
				if _, p := c.do("GET", fmt.Sprintf("/v1/users/%d/status", uid), nil); p["status"] != "In-Call" {
					t.Fatalf("agent %d during the call: %v", uid, p)
				}
			}
			time.Sleep(2500 * time.Millisecond) // at least one heartbeat after the calls connected
			server.Process.Signal(syscall.SIGKILL)
			server.Wait()
			killed := time.Now()
			const down = 5 * time.Second
			time.Sleep(down)
			store, err := sqlstore.Open(context.Background(), db, sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			lastSeen, ok, err := store.LastHeartbeat(context.Background(), sqlstore.CallControlNode)
			store.Close()
			if err != nil || !ok || lastSeen.After(killed) || killed.Sub(lastSeen) > 4*time.Second {
				t.Fatalf("last heartbeat %v (%v, %v), killed at %v: want one every 2 s", lastSeen, ok, err, killed)
			}

			startBinary(t, bin, args...)
			for uid, st := range want {
				if status, p := c.do("GET", fmt.Sprintf("/v1/users/%d/status", uid), nil); status != 200 || p["status"] != st {
					t.Errorf("agent %d after the restart: %d %v, want %s", uid, status, p, st)
				}
			}
			for _, id := range calls {
				status, cdr := c.do("GET", fmt.Sprintf("/v1/cdrs/%d", id), nil)
				if status != 200 || cdr["hangup_cause"] != "system restart" || cdr["disposition"] != "answered" {
					t.Fatalf("cut call %d: %d %v", id, status, cdr)
				}
				connected, _ := time.Parse(time.RFC3339Nano, cdr["connected_at"].(string))
				ended, _ := time.Parse(time.RFC3339Nano, cdr["ended_at"].(string))
				if !ended.Equal(lastSeen.Truncate(time.Microsecond)) {
					t.Errorf("call %d ended at %v, want the last heartbeat %v (killed at %v)", id, ended, lastSeen, killed)
				}
				if talk, want := cdr["talk_seconds"].(float64), lastSeen.Sub(connected).Seconds(); talk < want-0.01 || talk > want+0.01 || talk > killed.Sub(connected).Seconds() {
					t.Errorf("call %d talk %.3fs, want %.3fs: connected to the last heartbeat, not the %v down", id, talk, want, down)
				}
			}
			// The restored agents take calls again.
			_, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "8001", "answer_after_seconds": 0, "talk_seconds": 1})
			waitCall(t, c, int64(call["id"].(float64)), func(v map[string]any) bool { return v["status"] == "finished" })
		})
	}
}

// TestSecondServerRefused starts a server and then a second one on the same
// database, on every engine: the second must refuse to start and say why,
// while the administration commands keep working beside the first. Once the
// first stops, a new one starts.
func TestSecondServerRefused(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			first, _, _ := startServer(t, "--db", db)
			second, _, _ := newMain(nil)
			err := second.Start(context.Background(), []string{"--addr", "127.0.0.1:0", "--metrics-addr", "", "--db", db})
			if err == nil {
				second.Close()
				t.Fatal("a second server on the same database started")
			}
			if !errors.Is(err, sqlstore.ErrLocked) || !strings.Contains(err.Error(), "refusing to start") || !strings.Contains(err.Error(), "stop the other server first") && !strings.Contains(err.Error(), "stop it first") {
				t.Errorf("second server: %v", err)
			}
			if exitCode(err) != 1 {
				t.Errorf("exit code %d", exitCode(err))
			}
			if _, err := run(t, "", "migrate", "--db", db); err != nil {
				t.Errorf("migrate beside a running server: %v", err)
			}
			if _, err := run(t, "", "tenant", "create", "--db", db, "--slug", "beside", "--name", "Beside"); err != nil {
				t.Errorf("tenant create beside a running server: %v", err)
			}
			first.Close()
			third, _, _ := startServer(t, "--db", db)
			third.Close()
		})
	}
}
