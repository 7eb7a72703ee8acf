package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestSpeechAnalyticsUnderServe runs serve with the simulated provider: a
// simulated call that an agent answers is recorded, and once it ends its
// analysis appears on GET /v1/calls/{id}/analytics, with its event.
func TestSpeechAnalyticsUnderServe(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db, "--analytics-provider", "sim")
	c := client{t: t, base: base, key: key}
	uid, _ := agentInQueue(c)
	if status, p := c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": "Available"}); status != 200 {
		t.Fatalf("sign in: %d %v", status, p)
	}
	_, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "8001", "answer_after_seconds": 0, "talk_seconds": 3})
	id := int64(call["id"].(float64))
	path := fmt.Sprintf("/v1/calls/%d/analytics", id)
	if status, _ := c.do("GET", path, nil); status != 404 {
		t.Errorf("analytics of a call in progress: %d, want 404", status)
	}
	waitCall(t, c, id, func(v map[string]any) bool { return v["status"] == "finished" })
	var a map[string]any
	deadline := time.Now().Add(15 * time.Second)
	for {
		var status int
		status, a = c.do("GET", path, nil)
		if status == 200 && a["status"] != "pending" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %v", path, status, a)
		}
		time.Sleep(50 * time.Millisecond)
	}
	segs, _ := a["transcript"].([]any)
	if a["status"] != "available" || a["provider"] != "sim" || len(segs) < 1 || a["score"] == nil ||
		!strings.HasPrefix(a["summary"].(string), "Customer: ") {
		t.Fatalf("analytics %v", a)
	}
	if first := segs[0].(map[string]any); first["speaker"] != "customer" || first["start"] != float64(0) {
		t.Errorf("first segment %v", first)
	}
	_, evs := c.do("GET", "/v1/events?limit=1000", nil)
	found := false
	for _, e := range evs["items"].([]any) {
		ev := e.(map[string]any)
		if ev["type"] == "call.analytics.available" {
			p := ev["payload"].(map[string]any)
			found = p["call_id"] == float64(id) && p["score"] == a["score"] && ev["subject_type"] == "call_analytics"
		}
	}
	if !found {
		t.Errorf("no call.analytics.available event for call %d in %v", id, evs["items"])
	}
}

func TestAnalyticsFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--analytics-provider", "whisper"}, "--analytics-provider must be off, sim or http"},
		{[]string{"--analytics-provider", "http"}, "--analytics-url must be an http:// or https:// URL"},
		{[]string{"--analytics-provider", "http", "--analytics-url", "ftp://x"}, "--analytics-url must be"},
		{[]string{"--analytics-concurrency", "0"}, "--analytics-concurrency must be between 1 and 64"},
	} {
		m, _, _ := newMain(nil)
		err := m.Start(context.Background(), append([]string{"--db", sqlstoretest.SQLiteURL(t), "--addr", "127.0.0.1:0"}, tc.args...))
		if err == nil {
			m.Close()
			t.Errorf("%v started", tc.args)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
