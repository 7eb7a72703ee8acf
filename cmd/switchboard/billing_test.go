package main

import (
	"fmt"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestBillingUnderServe places a simulated inbound call to a rated number
// through the real server: the billing service, started by serve, holds
// while the call runs and charges it once when it ends.
func TestBillingUnderServe(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	_, c := newCallServer(t, db)
	uid, qid := agentInQueue(c)
	c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+390112121212", "queue_id": qid})
	if status, p := c.do("POST", "/v1/billing/rates", map[string]any{"prefix": "39", "direction": "inbound", "per_minute_milli": 6000}); status != 201 {
		t.Fatalf("POST /v1/billing/rates: %d %v", status, p)
	}
	if status, p := c.do("POST", "/v1/billing/credits", map[string]any{"amount_cents": 1000}); status != 201 {
		t.Fatalf("POST /v1/billing/credits: %d %v", status, p)
	}
	if status, p := c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": "Available"}); status != 200 {
		t.Fatalf("sign in: %d %v", status, p)
	}
	status, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "+390112121212", "answer_after_seconds": 0, "talk_seconds": 1})
	if status != 201 {
		t.Fatalf("POST /v1/sim/calls: %d %v", status, call)
	}
	waitCall(t, c, int64(call["id"].(float64)), func(v map[string]any) bool { return v["status"] == "finished" })

	// One started minute at 6 ¢, the 60 ¢ hold given back.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, bal := c.do("GET", "/v1/billing/balance", nil)
		if bal["amount_cents"] == float64(994) && bal["held_cents"] == float64(0) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("balance never showed the charge: %v", bal)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, ledger := c.do("GET", "/v1/billing/ledger", nil)
	items := ledger["items"].([]any)
	kinds := ""
	for i := len(items) - 1; i >= 0; i-- {
		kinds += items[i].(map[string]any)["kind"].(string) + " "
	}
	if kinds != "credit hold release charge " {
		t.Errorf("ledger kinds, oldest first: %q", kinds)
	}
}
