package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// A large claim across webhooks, per-webhook bounds included, and its
// outcomes recorded in one batch of every kind: each delivery ends as its own
// result says, with its own attempt, whatever statement wrote it.
func TestClaimAndCompleteInBatches(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		var hooks []switchboard.Webhook
		for _, u := range []string{"https://a.example.com/", "https://b.example.com/", "https://c.example.com/"} {
			w, err := db.CreateWebhook(ctx, tn.ID, switchboard.Webhook{URL: u, EventTypes: []string{"bench.*"}})
			if err != nil {
				t.Fatal(err)
			}
			hooks = append(hooks, w)
		}
		const events = 30
		for i := range events {
			if _, err := db.AppendEvent(ctx, tn.ID, "bench.tick", "bench", int64(i), map[string]int{"i": i}); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		// Webhook a takes at most 5, b none, c the default of 20.
		claims, err := db.ClaimDeliveries(ctx, now, time.Minute, 1000, 20, map[int64]int{hooks[0].ID: 5, hooks[1].ID: 0})
		if err != nil {
			t.Fatal(err)
		}
		per := map[int64]int{}
		for i, c := range claims {
			per[c.Webhook.ID]++
			if c.Event.ID != c.Delivery.EventID || c.Event.Type != "bench.tick" || c.Delivery.EventSeq != c.Event.Seq ||
				c.Webhook.ID != c.Delivery.WebhookID || c.Webhook.Secret == "" || len(c.Event.Payload) == 0 {
				t.Fatalf("claim %d lacks what sending needs: %+v", i, c)
			}
			if i > 0 && c.Delivery.ID < claims[i-1].Delivery.ID {
				t.Errorf("claims out of due order: %d after %d", c.Delivery.ID, claims[i-1].Delivery.ID)
			}
		}
		if per[hooks[0].ID] != 5 || per[hooks[1].ID] != 0 || per[hooks[2].ID] != 20 {
			t.Fatalf("claimed per webhook %v, want 5 of a, none of b, 20 of c", per)
		}
		rest, err := db.ClaimDeliveries(ctx, now, time.Minute, 1000, 100, nil)
		if err != nil || len(rest) != 3*events-25 {
			t.Fatalf("second claim got %d (%v), want the %d not leased", len(rest), err, 3*events-25)
		}
		claims = append(claims, rest...)

		// One result of each kind in turn, for every claimed delivery.
		at := time.Now().UTC().Truncate(time.Millisecond)
		outcomes := []switchboard.DeliveryOutcome{switchboard.OutcomeDelivered, switchboard.OutcomeRetry, switchboard.OutcomeSkipped,
			switchboard.OutcomeDelivered, switchboard.OutcomeGiveUp}
		var results []switchboard.DeliveryResult
		for i, c := range claims {
			r := switchboard.DeliveryResult{DeliveryID: c.Delivery.ID, WebhookID: c.Webhook.ID, TenantID: tn.ID, Outcome: outcomes[i%len(outcomes)],
				Attempt: switchboard.DeliveryAttempt{At: at, StatusCode: 200 + i, LatencyMS: int64(i), Error: "e" + c.Webhook.URL}}
			if r.Outcome == switchboard.OutcomeRetry {
				r.NextAttemptAt = at.Add(time.Duration(i) * time.Second)
			}
			results = append(results, r)
		}
		if _, err := db.CompleteDeliveries(ctx, results, switchboard.DisablePolicy{}); err != nil {
			t.Fatal(err)
		}
		want := map[switchboard.DeliveryOutcome]switchboard.DeliveryStatus{switchboard.OutcomeDelivered: switchboard.DeliverySucceeded,
			switchboard.OutcomeRetry: switchboard.DeliveryPending, switchboard.OutcomeSkipped: switchboard.DeliverySkipped,
			switchboard.OutcomeGiveUp: switchboard.DeliveryFailed}
		for i, r := range results {
			d, err := db.Delivery(ctx, tn.ID, r.DeliveryID)
			if err != nil {
				t.Fatal(err)
			}
			ok := d.Status == want[r.Outcome] && d.Attempts == 1 && d.LastStatus == r.Attempt.StatusCode &&
				d.LastError == r.Attempt.Error && len(d.AttemptLog) == 1 && d.AttemptLog[0].StatusCode == r.Attempt.StatusCode &&
				d.AttemptLog[0].LatencyMS == int64(i)
			switch r.Outcome {
			case switchboard.OutcomeDelivered:
				ok = ok && d.DeliveredAt != nil && d.DeliveredAt.Equal(at) && d.NextAttemptAt == nil
			case switchboard.OutcomeRetry:
				ok = ok && d.DeliveredAt == nil && d.NextAttemptAt != nil && d.NextAttemptAt.Equal(r.NextAttemptAt)
			default:
				ok = ok && d.DeliveredAt == nil && d.NextAttemptAt == nil
			}
			if !ok {
				t.Errorf("result %d (%v): delivery %+v", i, r.Outcome, d)
			}
		}
		// Every webhook had a failure in the batch: statistics result by
		// result, the last one a give-up or a success depending on order.
		for _, h := range hooks {
			w, _ := db.Webhook(ctx, tn.ID, h.ID)
			if w.LastSuccessAt == nil || w.LastFailureAt == nil || w.FailedCount == 0 {
				t.Errorf("webhook %s after the batch: %+v", h.URL, w)
			}
		}
		// Leases are gone: only the retries are due, and only when due.
		later, err := db.ClaimDeliveries(ctx, at.Add(time.Hour), time.Minute, 1000, 100, nil)
		if err != nil || len(later) != len(results)/len(outcomes) {
			t.Fatalf("after the outcomes %d are due (%v), want the %d retries", len(later), err, len(results)/len(outcomes))
		}

		// A batch of successes only: each webhook's run of failures ends and
		// its last success is the latest of the batch, in one update.
		results, latest := results[:0], map[int64]time.Time{}
		for i, c := range later {
			ts := at.Add(time.Duration(len(later)-i) * time.Minute) // latest first
			results = append(results, switchboard.DeliveryResult{DeliveryID: c.Delivery.ID, WebhookID: c.Webhook.ID, TenantID: tn.ID,
				Outcome: switchboard.OutcomeDelivered, Attempt: switchboard.DeliveryAttempt{At: ts, StatusCode: 204}})
			if ts.After(latest[c.Webhook.ID]) {
				latest[c.Webhook.ID] = ts
			}
		}
		if _, err := db.CompleteDeliveries(ctx, results, switchboard.DisablePolicy{}); err != nil {
			t.Fatal(err)
		}
		for id, ts := range latest {
			w, _ := db.Webhook(ctx, tn.ID, id)
			if w.ConsecutiveFailures != 0 || w.FailingSince != nil || w.LastSuccessAt == nil || !w.LastSuccessAt.Equal(ts) {
				t.Errorf("webhook %d after only successes: %+v, want last success %v", id, w, ts)
			}
		}
	})
}
