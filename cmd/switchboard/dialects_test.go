package main

import (
	"testing"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestWebhookDialectIsRegistered: a subscription may name only a dialect the
// server is composed of, as the registry lists them, not a list in the core.
func TestWebhookDialectIsRegistered(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db, "--webhook-allow-cidr", "127.0.0.0/8")
	c := client{t: t, base: base, key: key}
	status, body := c.do("POST", "/v1/webhooks", map[string]any{"url": "http://127.0.0.1:9/hook", "dialect": "nosuch"})
	fields, _ := body["error"].(map[string]any)["fields"].(map[string]any)
	if status != 422 || fields["dialect"] != "must be one of native, voxloud, voice360, voiso, ujet" {
		t.Errorf("unknown dialect: %d %v, want 422 naming the registered dialects", status, body)
	}
	for _, d := range []map[string]any{{"dialect": "native"}, {"dialect": "voice360", "event_types": []string{"CALL_ENDED"}}} {
		d["url"] = "http://127.0.0.1:9/hook"
		if status, body := c.do("POST", "/v1/webhooks", d); status != 201 {
			t.Errorf("%v: %d %v, want 201", d, status, body)
		}
	}
}
