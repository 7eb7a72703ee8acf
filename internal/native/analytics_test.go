package native

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"switchboard"
)

func TestCallAnalyticsRoute(t *testing.T) {
	ta := newTestAPI(t, nil)
	a := newFixture(t, ta.store, "acme")
	ctx := context.Background()
	path := fmt.Sprintf("/v1/calls/%d/analytics", a.call)
	res := ta.do(t, "GET", path, a.key, nil)
	if res.status != http.StatusNotFound || res.errorBody(t).Code != switchboard.CodeNotFound {
		t.Fatalf("a call without analytics: %d %s, want 404", res.status, res.body)
	}
	q, _, err := ta.store.QueueCallAnalytics(ctx, a.tenant.ID, a.call)
	if err != nil {
		t.Fatal(err)
	}
	var got switchboard.CallAnalytics
	res = ta.do(t, "GET", path, a.key, nil)
	if res.decode(t, &got); res.status != 200 || got.Status != switchboard.AnalyticsPending || got.Score != nil {
		t.Fatalf("a pending analysis: %d %s", res.status, res.body)
	}
	score := 81
	if _, err := ta.store.FinishCallAnalytics(ctx, switchboard.CallAnalytics{ID: q.ID, TenantID: a.tenant.ID, Status: switchboard.AnalyticsAvailable,
		Language: "en", Summary: "Customer: I need help. Agent: Done.", Score: &score, ScoreParts: &switchboard.ScoreParts{Sentiment: 70},
		Transcript: []switchboard.TranscriptSegment{{Speaker: switchboard.SpeakerCustomer, End: 2, Text: "I need help."}}, Provider: "sim"}); err != nil {
		t.Fatal(err)
	}
	res = ta.do(t, "GET", path, a.key, nil)
	if res.decode(t, &got); res.status != 200 || got.Status != switchboard.AnalyticsAvailable || *got.Score != 81 ||
		len(got.Transcript) != 1 || got.Transcript[0].Speaker != switchboard.SpeakerCustomer || got.CallID != a.call {
		t.Fatalf("an available analysis: %d %s", res.status, res.body)
	}
	if res := ta.do(t, "GET", "/v1/calls/999999/analytics", a.key, nil); res.status != http.StatusNotFound {
		t.Errorf("an unknown call: %d", res.status)
	}
	// calls.read is the scope; a key without it is refused.
	k, err := ta.store.CreateAPIKey(ctx, a.tenant.ID, switchboard.APIKey{Scopes: []string{switchboard.ScopeContactsRead}})
	if err != nil {
		t.Fatal(err)
	}
	if res := ta.do(t, "GET", path, k.Secret, nil); res.status != http.StatusForbidden {
		t.Errorf("without calls.read: %d %s, want 403", res.status, res.body)
	}
	// Another tenant's key sees nothing of it.
	b := newFixture(t, ta.store, "beta")
	if res := ta.do(t, "GET", path, b.key, nil); res.status != http.StatusNotFound {
		t.Errorf("another tenant: %d %s, want 404", res.status, res.body)
	}
}
