package native

import (
	"fmt"
	"net/http"
	"testing"

	"switchboard"
)

// TestWebhookFailuresAPI reads the fixture's failure through the list, its
// filters and the one-failure route, retriggers it, and is refused a second
// retrigger while the first is pending.
func TestWebhookFailuresAPI(t *testing.T) {
	ta := newTestAPI(t, nil)
	a := newFixture(t, ta.store, "acme")
	b := newFixture(t, ta.store, "beta")

	var list listBody[switchboard.WebhookFailure]
	res := ta.do(t, "GET", "/v1/webhook_failures", a.key, nil)
	if res.status != http.StatusOK {
		t.Fatalf("list: %d %s", res.status, res.body)
	}
	res.decode(t, &list)
	if list.Metadata.Total != 1 || len(list.Items) != 1 || list.Items[0].ID != a.failure || list.Items[0].TenantID != a.tenant.ID {
		t.Fatalf("list %+v", list)
	}
	f := list.Items[0]
	for q, want := range map[string]int{
		fmt.Sprintf("?webhook_id=%d", a.webhook):         1,
		fmt.Sprintf("?webhook_id=%d", b.webhook):         0,
		"?event_type=" + f.EventType:                     1,
		"?event_type=call.nothing":                       0,
		"?status=failed":                                 1,
		"?status=delivered":                              0,
		"?since=2000-01-01T00:00:00Z":                    1,
		"?until=2000-01-01T00:00:00Z":                    0,
		"?since=2000-01-01T00:00:00Z&status=retriggered": 0,
	} {
		var l listBody[switchboard.WebhookFailure]
		res := ta.do(t, "GET", "/v1/webhook_failures"+q, a.key, nil)
		res.decode(t, &l)
		if res.status != http.StatusOK || l.Metadata.Total != want {
			t.Errorf("list%s: %d, total %d, want %d", q, res.status, l.Metadata.Total, want)
		}
	}
	for q, field := range map[string]string{"?status=lost": "status", "?since=yesterday": "since", "?webhook_id=x": "webhook_id",
		"?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z": "until"} {
		res := ta.do(t, "GET", "/v1/webhook_failures"+q, a.key, nil)
		if e := res.errorBody(t); res.status/100 != 4 || e.Fields[field] == "" {
			t.Errorf("list%s: %d %s, want a 4xx naming %s", q, res.status, res.body, field)
		}
	}

	var got switchboard.WebhookFailure
	ta.do(t, "GET", fmt.Sprintf("/v1/webhook_failures/%d", a.failure), a.key, nil).decode(t, &got)
	if got.ID != a.failure || got.Status != switchboard.FailureFailed || got.ResponseStatus != 500 || got.RequestBody != "{}" || got.UUID == "" {
		t.Errorf("get %+v", got)
	}

	path := fmt.Sprintf("/v1/webhook_failures/%d/retrigger", a.failure)
	res = ta.do(t, "POST", path, a.key, nil)
	res.decode(t, &got)
	if res.status != http.StatusOK || got.Status != switchboard.FailureRetriggered || got.RetriggeredAt == nil {
		t.Fatalf("retrigger: %d %s", res.status, res.body)
	}
	res = ta.do(t, "POST", path, a.key, nil)
	if e := res.errorBody(t); res.status != http.StatusConflict || e.Code != switchboard.CodeConflict {
		t.Errorf("second retrigger: %d %s, want 409", res.status, res.body)
	}
	d, err := ta.store.Delivery(t.Context(), a.tenant.ID, got.DeliveryID)
	if err != nil || d.Status != switchboard.DeliveryPending || !d.Retriggered || d.Attempts != 0 {
		t.Errorf("the retriggered delivery %+v, %v", d, err)
	}
	// The subscription's rule is a writable setting.
	res = ta.do(t, "PATCH", fmt.Sprintf("/v1/webhooks/%d", a.webhook), a.key, map[string]any{"inactive_after_failures": 5})
	var w switchboard.Webhook
	res.decode(t, &w)
	if res.status != http.StatusOK || w.InactiveAfterFailures != 5 || w.InactiveEventTypes == nil {
		t.Errorf("PATCH inactive_after_failures: %d %s", res.status, res.body)
	}
}
