package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// failRig is a tenant with a subscription under the inactive rule and helpers
// that drive its deliveries through CompleteDeliveries as the dispatcher does.
type failRig struct {
	t    *testing.T
	db   *sqlstore.DB
	tn   switchboard.Tenant
	hook switchboard.Webhook
}

// emitAndClaim appends one event of typ and claims its delivery to r.hook.
func (r *failRig) emitAndClaim(typ string) switchboard.DeliveryClaim {
	r.t.Helper()
	ctx := context.Background()
	e, err := r.db.AppendEvent(ctx, r.tn.ID, typ, "call", 1, map[string]any{"n": 1})
	if err != nil {
		r.t.Fatal(err)
	}
	return r.claim(e.ID)
}

// claim leases the pending delivery of event eventID to r.hook; the claim
// is made a minute ahead of the clock, so that whatever was queued is due.
func (r *failRig) claim(eventID int64) switchboard.DeliveryClaim {
	r.t.Helper()
	claims, err := r.db.ClaimDeliveries(context.Background(), time.Now().Add(time.Minute), time.Second, 1000, 1000, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, c := range claims {
		if c.Webhook.ID == r.hook.ID && c.Event.ID == eventID {
			return c
		}
	}
	r.t.Fatalf("the delivery of event %d is not claimable (claimed %d)", eventID, len(claims))
	return switchboard.DeliveryClaim{}
}

// complete records one outcome of c at at, as the dispatcher would.
func (r *failRig) complete(c switchboard.DeliveryClaim, outcome switchboard.DeliveryOutcome, status int, at time.Time) {
	r.t.Helper()
	res := switchboard.DeliveryResult{DeliveryID: c.Delivery.ID, WebhookID: c.Webhook.ID, TenantID: c.Delivery.TenantID, Outcome: outcome,
		EventID: c.Event.ID, EventSeq: c.Event.Seq, EventType: c.Event.Type, Attempts: c.Delivery.Attempts + 1,
		Body: []byte(`{"type":"` + c.Event.Type + `"}`), Retriggered: c.Delivery.Retriggered,
		Attempt: switchboard.DeliveryAttempt{At: at, StatusCode: status, ErrorClass: "http_status", Error: "500 Internal Server Error", Response: "down"}}
	switch outcome {
	case switchboard.OutcomeDelivered:
		res.Attempt.ErrorClass, res.Attempt.Error = "", ""
	case switchboard.OutcomeInactive:
		res.Attempts, res.Attempt.StatusCode, res.Attempt.ErrorClass, res.Attempt.Error = c.Delivery.Attempts, 0, "inactive", "inactive"
	}
	if _, err := r.db.CompleteDeliveries(context.Background(), []switchboard.DeliveryResult{res}, switchboard.DisablePolicy{}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *failRig) webhook() switchboard.Webhook {
	r.t.Helper()
	w, err := r.db.Webhook(context.Background(), r.tn.ID, r.hook.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

func (r *failRig) failures(f switchboard.WebhookFailureFilter) []switchboard.WebhookFailure {
	r.t.Helper()
	p, err := r.db.WebhookFailures(context.Background(), r.tn.ID, f, switchboard.ListOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	if p.Total != len(p.Items) {
		r.t.Fatalf("failures total %d, items %d", p.Total, len(p.Items))
	}
	return p.Items
}

func (r *failRig) countEvents(typ string) int {
	r.t.Helper()
	evs, err := r.db.Events(context.Background(), r.tn.ID, 0, 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func TestWebhookFailuresAndInactiveTypes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		hook, err := db.CreateWebhook(ctx, tn.ID, switchboard.Webhook{URL: "https://example.com/h", EventTypes: []string{"call.*"}, InactiveAfterFailures: 5})
		if err != nil || hook.InactiveAfterFailures != 5 || len(hook.InactiveEventTypes) != 0 {
			t.Fatalf("CreateWebhook = %+v, %v", hook, err)
		}
		_, err = db.CreateWebhook(ctx, tn.ID, switchboard.Webhook{URL: "https://example.com/x", InactiveAfterFailures: -1})
		wantField(t, "negative inactive_after_failures", err, switchboard.CodeInvalid, "inactive_after_failures")
		// A catch-all subscription shows that failure events are never delivered.
		all, err := db.CreateWebhook(ctx, tn.ID, switchboard.Webhook{URL: "https://example.com/all"})
		if err != nil {
			t.Fatal(err)
		}
		r := &failRig{t: t, db: db, tn: tn, hook: hook}
		now := time.Now().UTC().Truncate(time.Microsecond)

		// Four failures of call.ended more than 24 h ago and one now: the
		// old ones fall outside the window, so the type stays active.
		for i := range 4 {
			r.complete(r.emitAndClaim("call.ended"), switchboard.OutcomeGiveUp, 500, now.Add(-25*time.Hour+time.Duration(i)*time.Minute))
		}
		r.complete(r.emitAndClaim("call.ended"), switchboard.OutcomeGiveUp, 500, now)
		if w := r.webhook(); len(w.InactiveEventTypes) != 0 {
			t.Fatalf("inactive after 1 failure within the window: %+v", w.InactiveEventTypes)
		}
		fs := r.failures(switchboard.WebhookFailureFilter{})
		if len(fs) != 5 || fs[0].ID < fs[4].ID {
			t.Fatalf("failures %d, want 5, newest first", len(fs))
		}
		f0 := fs[0]
		if f0.Status != switchboard.FailureFailed || f0.EventType != "call.ended" || f0.Attempts != 1 || f0.ResponseStatus != 500 ||
			f0.ResponseBody != "down" || f0.RequestBody != `{"type":"call.ended"}` || f0.Inactive || f0.UUID == "" ||
			!f0.LastFailedAt.Equal(now) || f0.WebhookID != hook.ID || f0.EventSeq == 0 || f0.Error == "" {
			t.Errorf("failure %+v", f0)
		}

		// Four more within the window make five: call.ended is inactive.
		for range 3 {
			r.complete(r.emitAndClaim("call.ended"), switchboard.OutcomeGiveUp, 500, now)
		}
		if w := r.webhook(); len(w.InactiveEventTypes) != 0 {
			t.Fatalf("inactive after 4 failures within the window")
		}
		r.complete(r.emitAndClaim("call.ended"), switchboard.OutcomeGiveUp, 500, now)
		w := r.webhook()
		if len(w.InactiveEventTypes) != 1 || w.InactiveEventTypes[0].EventType != "call.ended" || w.InactiveEventTypes[0].Failures != 5 ||
			!w.TypeInactive("call.ended") || w.TypeInactive("call.answered") {
			t.Fatalf("inactive types %+v", w.InactiveEventTypes)
		}
		if n := r.countEvents(switchboard.EventWebhookTypeInactive); n != 1 {
			t.Errorf("%d type_inactive events, want 1", n)
		}
		if !w.Enabled {
			t.Errorf("the inactive rule disabled the whole webhook")
		}

		// An inactive delivery: no attempt, a failure marked inactive, and
		// no further count.
		c := r.emitAndClaim("call.ended")
		if !c.Webhook.TypeInactive("call.ended") {
			t.Fatalf("the claim does not carry the inactive type")
		}
		r.complete(c, switchboard.OutcomeInactive, 0, now)
		d, err := db.Delivery(ctx, tn.ID, c.Delivery.ID)
		if err != nil || d.Status != switchboard.DeliveryFailed || d.Attempts != 0 || len(d.AttemptLog) != 0 {
			t.Errorf("inactive delivery %+v, %v", d, err)
		}
		inact := r.failures(switchboard.WebhookFailureFilter{})[0]
		if !inact.Inactive || inact.Attempts != 0 || inact.DeliveryID != c.Delivery.ID {
			t.Errorf("inactive failure %+v", inact)
		}

		// Filters.
		if got := len(r.failures(switchboard.WebhookFailureFilter{EventType: "call.answered"})); got != 0 {
			t.Errorf("call.answered failures %d", got)
		}
		if got := len(r.failures(switchboard.WebhookFailureFilter{WebhookID: hook.ID, EventType: "call.ended", Status: switchboard.FailureFailed})); got != 10 {
			t.Errorf("filtered failures %d, want 10", got)
		}
		if got := len(r.failures(switchboard.WebhookFailureFilter{WebhookID: all.ID})); got != 0 {
			t.Errorf("failures of the other webhook %d", got)
		}
		since, until := now.Add(-time.Hour), now.Add(time.Hour)
		if got := len(r.failures(switchboard.WebhookFailureFilter{Since: &since, Until: &until})); got != 10 {
			t.Errorf("failures in the hour %d, want 10", got)
		}
		if got := len(r.failures(switchboard.WebhookFailureFilter{Until: &since})); got != 0 {
			t.Errorf("failures before the hour %d, want 0", got)
		}
		_, err = db.WebhookFailures(ctx, tn.ID, switchboard.WebhookFailureFilter{Status: "lost"}, switchboard.ListOptions{})
		wantField(t, "bad status filter", err, switchboard.CodeInvalid, "status")
		if p, _ := db.WebhookFailures(ctx, other.ID, switchboard.WebhookFailureFilter{}, switchboard.ListOptions{}); p.Total != 0 {
			t.Errorf("another tenant sees %d failures", p.Total)
		}
		_, err = db.WebhookFailure(ctx, other.ID, f0.ID)
		wantCode(t, "failure across tenants", err, switchboard.CodeNotFound)
		_, err = db.RetriggerWebhookFailure(ctx, other.ID, f0.ID)
		wantCode(t, "retrigger across tenants", err, switchboard.CodeNotFound)

		// Other types of the same subscription are still claimed and
		// delivered as before.
		ans := r.emitAndClaim("call.answered")
		if ans.Webhook.TypeInactive("call.answered") {
			t.Fatalf("call.answered inactive")
		}
		r.complete(ans, switchboard.OutcomeDelivered, 200, now)

		// Retrigger: the failure is retriggered and its delivery pending,
		// marked so that it is sent while the type is inactive.
		rt, err := db.RetriggerWebhookFailure(ctx, tn.ID, f0.ID)
		if err != nil || rt.Status != switchboard.FailureRetriggered || rt.RetriggeredAt == nil {
			t.Fatalf("retrigger = %+v, %v", rt, err)
		}
		_, err = db.RetriggerWebhookFailure(ctx, tn.ID, f0.ID)
		wantCode(t, "retrigger twice", err, switchboard.CodeConflict)
		again := r.claim(f0.EventID)
		if !again.Delivery.Retriggered || again.Delivery.Attempts != 0 {
			t.Fatalf("retriggered claim %+v", again.Delivery)
		}
		// It fails again: the same failure, failed, with its attempts added.
		r.complete(again, switchboard.OutcomeGiveUp, 503, now.Add(time.Second))
		got, _ := db.WebhookFailure(ctx, tn.ID, f0.ID)
		if got.Status != switchboard.FailureFailed || got.Attempts != 2 || got.ResponseStatus != 503 || !got.LastFailedAt.After(got.FirstFailedAt) {
			t.Errorf("failure after a failed retrigger %+v", got)
		}
		if d, _ := db.Delivery(ctx, tn.ID, again.Delivery.ID); d.Retriggered {
			t.Errorf("the delivery stays marked retriggered after its outcome")
		}
		if w := r.webhook(); !w.TypeInactive("call.ended") {
			t.Errorf("a failed retrigger reactivated the type")
		}
		// Retriggered again and delivered: settled, and the type active.
		if _, err := db.RetriggerWebhookFailure(ctx, tn.ID, f0.ID); err != nil {
			t.Fatal(err)
		}
		r.complete(r.claim(f0.EventID), switchboard.OutcomeDelivered, 200, now.Add(2*time.Second))
		got, _ = db.WebhookFailure(ctx, tn.ID, f0.ID)
		if got.Status != switchboard.FailureDelivered || got.DeliveredAt == nil {
			t.Errorf("failure after a delivered retrigger %+v", got)
		}
		if w := r.webhook(); len(w.InactiveEventTypes) != 0 {
			t.Errorf("type still inactive after a delivered retrigger: %+v", w.InactiveEventTypes)
		}
		_, err = db.RetriggerWebhookFailure(ctx, tn.ID, f0.ID)
		wantCode(t, "retrigger a delivered failure", err, switchboard.CodeConflict)
		// The failures still needing attention leave the delivered one out.
		kept, _ := db.WebhookFailures(ctx, tn.ID, switchboard.WebhookFailureFilter{}, switchboard.ListOptions{Limit: 100})
		open, err := db.WebhookFailures(ctx, tn.ID, switchboard.WebhookFailureFilter{Undelivered: true}, switchboard.ListOptions{Limit: 100})
		if err != nil || open.Total != kept.Total-1 || slices.ContainsFunc(open.Items, func(f switchboard.WebhookFailure) bool { return f.ID == f0.ID }) {
			t.Errorf("undelivered failures: %d of %d, %v; the delivered %d must be the one left out", open.Total, kept.Total, err, f0.ID)
		}
		for typ, want := range map[string]int{switchboard.EventWebhookFailureRecorded: 11, switchboard.EventWebhookFailureRetriggered: 2,
			switchboard.EventWebhookFailureDelivered: 1, switchboard.EventWebhookTypeReactivated: 1} {
			if n := r.countEvents(typ); n != want {
				t.Errorf("%d %s events, want %d", n, typ, want)
			}
		}

		// Failure events reach no webhook, not even one subscribed to all.
		dl, _ := db.Deliveries(ctx, tn.ID, switchboard.DeliveryFilter{WebhookID: all.ID}, switchboard.ListOptions{Limit: 200})
		for _, d := range dl.Items {
			if !switchboard.EventDeliverable(d.EventType) {
				t.Errorf("a %s event was queued for delivery", d.EventType)
			}
		}

		// Turning the rule off makes inactive types active again.
		r.complete(r.emitAndClaim("call.ended"), switchboard.OutcomeGiveUp, 500, now.Add(3*time.Second))
		if w := r.webhook(); !w.TypeInactive("call.ended") {
			t.Fatalf("five failed failures within the window, yet the type is active")
		}
		w = r.webhook()
		w.InactiveAfterFailures = 0
		if w, err = db.UpdateWebhook(ctx, tn.ID, w); err != nil || len(w.InactiveEventTypes) != 0 {
			t.Fatalf("rule off: %+v, %v", w.InactiveEventTypes, err)
		}
		if n := r.countEvents(switchboard.EventWebhookTypeReactivated); n != 2 {
			t.Errorf("%d type_reactivated events, want 2", n)
		}

		// A disabled webhook's failures wait for it to be enabled.
		w.Enabled = false
		if _, err := db.UpdateWebhook(ctx, tn.ID, w); err != nil {
			t.Fatal(err)
		}
		fs = r.failures(switchboard.WebhookFailureFilter{Status: switchboard.FailureFailed})
		_, err = db.RetriggerWebhookFailure(ctx, tn.ID, fs[0].ID)
		wantField(t, "retrigger with the webhook disabled", err, switchboard.CodeConflict, "webhook_id")

		// Failures go with their webhook.
		if err := db.DeleteWebhook(ctx, tn.ID, hook.ID); err != nil {
			t.Fatal(err)
		}
		if got := len(r.failures(switchboard.WebhookFailureFilter{})); got != 0 {
			t.Errorf("%d failures outlive their webhook", got)
		}
	})
}
