package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestLiveViewFollowsTheStream loads GET /v1/live under simulated traffic
// (callers arriving, waiting, being answered and hanging up, agents changing
// status, a queue renamed), follows /v1/events/stream from the view's seq,
// applies each event, and compares the result with views loaded later, still
// under traffic: at the same seq they must be equal, field for field.
func TestLiveViewFollowsTheStream(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			key := newTenantKey(t, db)
			_, base, _ := startServer(t, "--db", db, "--rate-limit", "0", "--tenant-write-rate", "0")
			c := client{t: t, base: base, key: key}
			_, q := c.do("POST", "/v1/queues", map[string]any{"name": "Sales", "extension": "8001", "strategy": "ringall"})
			qid := int64(q["id"].(float64))
			var agents []int64
			for i := range 3 {
				_, u := c.do("POST", "/v1/users", map[string]any{"email": fmt.Sprintf("a%d@acme.test", i), "first_name": fmt.Sprintf("Agent%d", i),
					"extension": strconv.Itoa(1001 + i)})
				uid := int64(u["id"].(float64))
				agents = append(agents, uid)
				c.do("POST", fmt.Sprintf("/v1/queues/%d/members", qid), map[string]any{"user_id": uid})
				c.do("PUT", fmt.Sprintf("/v1/sim/devices/%d", uid), map[string]any{"registered": true, "behavior": "answer", "answer_after_seconds": 0.1})
			}
			c.do("POST", fmt.Sprintf("/v1/users/%d/status", agents[0]), map[string]any{"status": "Available"})

			var view switchboard.LiveView
			getView := func() switchboard.LiveView {
				var v switchboard.LiveView
				status, body := c.do("GET", "/v1/live", nil)
				raw, _ := json.Marshal(body)
				if status != 200 || json.Unmarshal(raw, &v) != nil {
					t.Fatalf("GET /v1/live: %d %s", status, raw)
				}
				return v
			}

			// Traffic: callers every 40 ms who talk 150 ms and wait at most
			// 300 ms; agents signing in and out; the queue renamed.
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-time.After(40 * time.Millisecond):
					}
					c.do("POST", "/v1/sim/calls", map[string]any{"from": fmt.Sprintf("+1555000%04d", i), "to": "8001",
						"talk_seconds": 0.15, "patience_seconds": 0.3})
				}
			}()
			go func() {
				defer wg.Done()
				statuses := []string{"Available", "Offline", "Available", "Break"}
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-time.After(70 * time.Millisecond):
					}
					uid := agents[1+i%2]
					c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": statuses[i%len(statuses)]})
					if i%5 == 0 {
						c.do("PATCH", fmt.Sprintf("/v1/queues/%d", qid), map[string]any{"name": fmt.Sprintf("Sales %d", i)})
					}
				}
			}()
			defer func() {
				select {
				case <-stop:
				default:
					close(stop)
				}
				wg.Wait()
			}()

			time.Sleep(300 * time.Millisecond)
			view = getView()
			_, events := openStream(t, c.base, c.key, "?after_seq="+strconv.FormatInt(view.Seq, 10), nil)
			applied, waiting, inCall := 0, 0, 0
			// Compare at least 4 times, and on until the traffic has shown
			// enough (a loaded machine places calls slowly).
			for round := 0; round < 4 || ((applied < 50 || inCall == 0) && round < 20); round++ {
				time.Sleep(400 * time.Millisecond)
				later := getView()
				for view.Seq < later.Seq {
					e := next(t, events, 10*time.Second)
					var ev switchboard.Event
					if err := json.Unmarshal([]byte(e.Data), &ev); err != nil {
						t.Fatalf("event %s: %v", e.Data, err)
					}
					if err := view.Apply(ev); err != nil {
						t.Fatal(err)
					}
					applied++
				}
				if got, want := toJSON(view), toJSON(later); got != want {
					t.Fatalf("round %d: the view followed to seq %d differs from the view loaded then:\nfollowed %s\nloaded   %s", round, later.Seq, got, want)
				}
				for _, q := range later.Queues {
					waiting += len(q.Waiting)
				}
				inCall += len(later.Calls)
			}
			close(stop)
			wg.Wait()
			if applied < 50 || inCall == 0 {
				t.Fatalf("only %d events applied and %d calls in progress seen: the traffic did not exercise the view", applied, inCall)
			}
			t.Logf("%d events applied; %d calls in progress and %d waiting over the compared views", applied, inCall, waiting)
		})
	}
}
