package main

import (
	"fmt"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestDNCCancelsArmedCallbacks: a callback scheduled before its number was
// put on the do-not-call list is cancelled when the number is listed, on
// every engine, through the engine follower (the list is written by one
// API, the callback armed by the call service), and never rings; a callback
// to another number is left alone.
func TestDNCCancelsArmedCallbacks(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			_, c := newCallServer(t, mk(t))
			s := newCampaignScene(t, c, 1)
			at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			schedule := func(number string) int64 {
				status, p := c.do("POST", "/v1/scheduled_calls", map[string]any{"queue_id": s.queue, "phone_number": number, "scheduled_at": at})
				if status != 201 {
					t.Fatalf("schedule %s: %d %v", number, status, p)
				}
				return int64(p["id"].(float64))
			}
			listed, other := schedule("+12125550177"), schedule("+12125550178")
			if status, p := c.do("POST", "/v1/dnc", map[string]any{"number": "+12125550177", "reason": "asked on the phone"}); status != 201 {
				t.Fatalf("put on the list: %d %v", status, p)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				_, p := c.do("GET", fmt.Sprintf("/v1/calls/%d", listed), nil)
				if p["status"] == "failed" {
					if p["disposition"] != "rejected" || p["hangup_cause"] != "do not call" {
						t.Fatalf("cancelled callback: %v", p)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the listed number's callback is still %v", p["status"])
				}
				time.Sleep(50 * time.Millisecond)
			}
			if _, p := c.do("GET", fmt.Sprintf("/v1/calls/%d", other), nil); p["status"] != "scheduled" {
				t.Errorf("the other callback: %v", p)
			}
		})
	}
}
