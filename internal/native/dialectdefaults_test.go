package native

import (
	"fmt"
	"net/http"
	"testing"

	"switchboard"
)

// TestWebhookDialectDefaults checks that a subscription made a vendor
// dialect's through /v1/webhooks takes that dialect's defaults (Voiso's
// inactive rule) when created so or moved to it, keeps a value the body
// gives, and is left alone by updates that keep its dialect.
func TestWebhookDialectDefaults(t *testing.T) {
	ta := newTestAPI(t, nil)
	a := newFixture(t, ta.store, "acme")
	ta.api.opt.DialectEvents = map[string]map[string][]string{"vendor": {"call.hangup": {switchboard.EventCallEnded}}}
	ta.api.opt.DialectDefaults = map[string]func(*switchboard.Webhook){"vendor": func(w *switchboard.Webhook) {
		if w.InactiveAfterFailures == 0 {
			w.InactiveAfterFailures = 5
		}
	}}
	create := func(body map[string]any) switchboard.Webhook {
		t.Helper()
		var w switchboard.Webhook
		res := ta.do(t, "POST", "/v1/webhooks", a.key, body)
		if res.status != http.StatusCreated {
			t.Fatalf("create %v: %d %s", body, res.status, res.body)
		}
		res.decode(t, &w)
		return w
	}
	patch := func(id int64, body map[string]any) switchboard.Webhook {
		t.Helper()
		var w switchboard.Webhook
		res := ta.do(t, "PATCH", fmt.Sprintf("/v1/webhooks/%d", id), a.key, body)
		if res.status != http.StatusOK {
			t.Fatalf("patch %v: %d %s", body, res.status, res.body)
		}
		res.decode(t, &w)
		return w
	}
	vendor := create(map[string]any{"url": "https://example.com/a", "dialect": "vendor", "event_types": []string{"call.hangup"}})
	if vendor.InactiveAfterFailures != 5 {
		t.Errorf("a vendor subscription has inactive_after_failures %d, want the dialect's 5", vendor.InactiveAfterFailures)
	}
	if w := create(map[string]any{"url": "https://example.com/b", "dialect": "vendor", "event_types": []string{"call.hangup"},
		"inactive_after_failures": 3}); w.InactiveAfterFailures != 3 {
		t.Errorf("a vendor subscription asking for 3 has %d", w.InactiveAfterFailures)
	}
	native := create(map[string]any{"url": "https://example.com/c"})
	if native.InactiveAfterFailures != 0 {
		t.Errorf("a native subscription has inactive_after_failures %d, want 0", native.InactiveAfterFailures)
	}
	if w := patch(native.ID, map[string]any{"dialect": "vendor", "event_types": []string{"call.hangup"}}); w.InactiveAfterFailures != 5 {
		t.Errorf("a subscription moved to the vendor dialect has %d, want 5", w.InactiveAfterFailures)
	}
	// Turning the rule off on a subscription that stays the dialect's holds.
	if w := patch(vendor.ID, map[string]any{"inactive_after_failures": 0}); w.InactiveAfterFailures != 0 {
		t.Errorf("turned off, the rule is %d", w.InactiveAfterFailures)
	}
}
