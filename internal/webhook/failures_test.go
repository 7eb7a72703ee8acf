package webhook_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/webhook"
)

// TestFailuresInactiveTypeAndRetrigger runs the dispatcher against a real
// loopback receiver that fails call.ended (500) and takes everything else,
// then recovers: each call.ended that used its attempts is a failure; the
// fifth within the window makes the type inactive, so later call.ended
// events become failures without reaching the receiver while call.answered
// is still delivered; a retrigger after the recovery delivers its event and
// makes the type active again.
func TestFailuresInactiveTypeAndRetrigger(t *testing.T) {
	r := newRig(t, webhook.Options{Schedule: []time.Duration{0, 10 * time.Millisecond}})
	var failing atomic.Bool
	failing.Store(true)
	var ended atomic.Int32
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var p webhook.Payload
		json.NewDecoder(req.Body).Decode(&p)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: req.Header.Clone(), at: time.Now(), body: mustJSON(p)})
		rc.mu.Unlock()
		if p.Type == "call.ended" {
			ended.Add(1)
			if failing.Load() {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}
	}))
	t.Cleanup(rc.Close)
	ctx := context.Background()
	hook := r.subscribe(t, switchboard.Webhook{URL: rc.URL, EventTypes: []string{"call.*"}, InactiveAfterFailures: 5})
	failures := func(f switchboard.WebhookFailureFilter) []switchboard.WebhookFailure {
		t.Helper()
		p, err := r.db.WebhookFailures(ctx, r.tenant.ID, f, switchboard.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Items
	}
	webhookNow := func() switchboard.Webhook {
		w, err := r.db.Webhook(ctx, r.tenant.ID, hook.ID)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}

	for range 4 {
		r.emit(t, "call.ended")
	}
	waitFor(t, "four failures", func() bool { return len(failures(switchboard.WebhookFailureFilter{})) == 4 })
	if w := webhookNow(); len(w.InactiveEventTypes) != 0 {
		t.Fatalf("inactive after four failures: %+v", w.InactiveEventTypes)
	}
	r.emit(t, "call.ended")
	waitFor(t, "call.ended to become inactive", func() bool { w := webhookNow(); return w.TypeInactive("call.ended") })
	if n := ended.Load(); n != 10 {
		t.Errorf("the receiver got %d call.ended attempts, want 5 events × 2 attempts", n)
	}
	fs := failures(switchboard.WebhookFailureFilter{})
	for _, f := range fs {
		if f.Status != switchboard.FailureFailed || f.Attempts != 2 || f.ResponseStatus != 500 || f.Inactive || f.RequestBody == "" {
			t.Errorf("failure %+v", f)
		}
	}

	// While inactive: call.ended is held back, call.answered delivered.
	held := r.emit(t, "call.ended")
	answered := r.emit(t, "call.answered")
	waitFor(t, "the held-back event's failure", func() bool {
		fs := failures(switchboard.WebhookFailureFilter{EventType: "call.ended"})
		return len(fs) == 6 && fs[0].EventSeq == held.Seq
	})
	heldFailure := failures(switchboard.WebhookFailureFilter{})[0]
	if !heldFailure.Inactive || heldFailure.Attempts != 0 || heldFailure.EventSeq != held.Seq {
		t.Errorf("held-back failure %+v", heldFailure)
	}
	waitFor(t, "call.answered to be delivered", func() bool {
		p, _ := r.db.Deliveries(ctx, r.tenant.ID, switchboard.DeliveryFilter{WebhookID: hook.ID, Status: switchboard.DeliverySucceeded}, switchboard.ListOptions{})
		return len(p.Items) == 1 && p.Items[0].EventSeq == answered.Seq
	})
	if n := ended.Load(); n != 10 {
		t.Errorf("an inactive type reached the receiver: %d call.ended attempts", n)
	}
	if w := webhookNow(); !w.Enabled {
		t.Errorf("the webhook was disabled: %s", w.DisabledReason)
	}

	// The receiver recovers; retriggering the held-back event delivers it
	// and makes call.ended active again.
	failing.Store(false)
	if _, err := r.db.RetriggerWebhookFailure(ctx, r.tenant.ID, heldFailure.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the retriggered failure to be delivered", func() bool {
		f, _ := r.db.WebhookFailure(ctx, r.tenant.ID, heldFailure.ID)
		return f.Status == switchboard.FailureDelivered
	})
	if w := webhookNow(); w.TypeInactive("call.ended") {
		t.Errorf("call.ended still inactive after a delivered retrigger")
	}
	last := rc.all()[len(rc.all())-1]
	var p webhook.Payload
	json.Unmarshal(last.body, &p)
	if p.Seq != held.Seq || p.Type != "call.ended" {
		t.Errorf("the receiver last got %s, want the held-back event %d", last.body, held.Seq)
	}
	// New call.ended events are delivered again.
	next := r.emit(t, "call.ended")
	waitFor(t, "a new call.ended to be delivered", func() bool {
		p, _ := r.db.Deliveries(ctx, r.tenant.ID, switchboard.DeliveryFilter{WebhookID: hook.ID, Status: switchboard.DeliverySucceeded}, switchboard.ListOptions{})
		for _, d := range p.Items {
			if d.EventSeq == next.Seq {
				return true
			}
		}
		return false
	})
	if got := len(failures(switchboard.WebhookFailureFilter{Status: switchboard.FailureFailed})); got != 5 {
		t.Errorf("%d failures still failed, want the first 5", got)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
