package main

import (
	"testing"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestVoisoSubscriptionsTakeTheInactiveRule: a Voiso subscription made
// through the native webhooks API gets Voiso's rule (5 failures within 24 h
// make an event type inactive), as one made through /api/v4 does; another
// dialect's keeps the rule off.
func TestVoisoSubscriptionsTakeTheInactiveRule(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db, "--webhook-allow-cidr", "127.0.0.0/8")
	c := client{t: t, base: base, key: key}
	for dialect, want := range map[string]float64{"voiso": 5, "voice360": 0} {
		types := map[string][]string{"voiso": {"inbound.call.answered"}, "voice360": {"CALL_ENDED"}}[dialect]
		status, body := c.do("POST", "/v1/webhooks", map[string]any{"url": "http://127.0.0.1:9/hook", "dialect": dialect, "event_types": types})
		if status != 201 || body["inactive_after_failures"] != want {
			t.Errorf("%s subscription: %d, inactive_after_failures %v, want %v", dialect, status, body["inactive_after_failures"], want)
		}
	}
}
