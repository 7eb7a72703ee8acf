package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

func TestWebhookStore(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		all, err := db.CreateWebhook(ctx, tn.ID, switchboard.Webhook{URL: "https://example.com/all"})
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Secret) < 40 || all.Secret[:6] != "whsec_" || !all.Enabled || all.Method != "POST" {
			t.Fatalf("CreateWebhook = %+v", all)
		}
		users, err := db.CreateWebhook(ctx, tn.ID, switchboard.Webhook{URL: "https://example.com/users", EventTypes: []string{"user.*"}, MaxAttempts: 2})
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.CreateWebhook(ctx, tn.ID, switchboard.Webhook{URL: "ftp://x", Method: "PUT", MaxAttempts: 9, Headers: map[string]string{"Webhook-Id": "x"}})
		for _, f := range []string{"url", "method", "max_attempts", "headers"} {
			wantField(t, "bad webhook", err, switchboard.CodeInvalid, f)
		}
		if _, err := db.CreateWebhook(ctx, other.ID, switchboard.Webhook{URL: "https://example.com/other"}); err != nil {
			t.Fatal(err)
		}

		// Deliveries are written with the events, for the subscriptions that want them.
		db.CreateSkill(ctx, tn.ID, switchboard.Skill{Name: "S"})
		db.CreateUser(ctx, tn.ID, switchboard.User{Email: "a@acme.test", FirstName: "A"})
		e, err := db.AppendEvent(ctx, tn.ID, "call.started", "call", 7, map[string]any{"from": "+15550001111"})
		if err != nil || e.Seq == 0 || e.ID == 0 {
			t.Fatalf("AppendEvent = %+v, %v", e, err)
		}
		page, err := db.Deliveries(ctx, tn.ID, switchboard.DeliveryFilter{}, switchboard.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		byHook := map[int64][]string{}
		for _, d := range page.Items {
			byHook[d.WebhookID] = append(byHook[d.WebhookID], d.EventType)
		}
		if got := fmt.Sprint(byHook[all.ID]); got != "[webhook.created webhook.created skill.created user.created call.started]" {
			t.Errorf("deliveries of the catch-all webhook: %s", got)
		}
		if got := fmt.Sprint(byHook[users.ID]); got != "[user.created]" {
			t.Errorf("deliveries of the user.* webhook: %s", got)
		}

		// Claims: at most perWebhook of one webhook, none of skipped ones, none leased.
		now := time.Now()
		claims, err := db.ClaimDeliveries(ctx, now, time.Minute, 100, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		perHook := map[int64]int{}
		for _, c := range claims {
			perHook[c.Webhook.ID]++
			if c.Webhook.Secret == "" || c.Event.Type != c.Delivery.EventType || len(c.Event.Payload) == 0 {
				t.Errorf("claim lacks what sending needs: %+v", c)
			}
		}
		if perHook[all.ID] != 2 || perHook[users.ID] != 1 || len(perHook) != 3 {
			t.Fatalf("claimed per webhook %v, want 2 of the catch-all, 1 of users, and the other tenant's", perHook)
		}
		again, _ := db.ClaimDeliveries(ctx, now, time.Minute, 100, 10, map[int64]int{users.ID: 0})
		for _, c := range again {
			if c.Webhook.ID == users.ID {
				t.Errorf("claimed a delivery of a skipped webhook")
			}
			for _, prev := range claims {
				if prev.Delivery.ID == c.Delivery.ID {
					t.Errorf("delivery %d claimed twice while leased", c.Delivery.ID)
				}
			}
		}
		if len(again) != 3 {
			t.Errorf("second claim got %d, want the 3 unleased catch-all deliveries", len(again))
		}
		if late, _ := db.ClaimDeliveries(ctx, now.Add(2*time.Minute), time.Minute, 100, 10, nil); len(late) != 7 {
			t.Errorf("after the leases expire %d deliveries are claimable, want all 7", len(late))
		}

		// Outcomes.
		first := claims[0]
		at := time.Now().UTC()
		results := []switchboard.DeliveryResult{
			{DeliveryID: first.Delivery.ID, WebhookID: first.Webhook.ID, TenantID: first.Delivery.TenantID, Outcome: switchboard.OutcomeRetry,
				NextAttemptAt: at.Add(time.Hour), Attempt: switchboard.DeliveryAttempt{At: at, StatusCode: 500, ErrorClass: "http_status", Error: "500", Response: "oops"}},
		}
		if _, err := db.CompleteDeliveries(ctx, results, switchboard.DisablePolicy{}); err != nil {
			t.Fatal(err)
		}
		d, err := db.Delivery(ctx, first.Delivery.TenantID, first.Delivery.ID)
		if err != nil || d.Status != switchboard.DeliveryPending || d.Attempts != 1 || len(d.AttemptLog) != 1 || d.AttemptLog[0].Response != "oops" {
			t.Fatalf("after a retry: %+v, %v", d, err)
		}
		w, _ := db.Webhook(ctx, first.Delivery.TenantID, first.Webhook.ID)
		if w.FailingSince == nil || w.LastError != "500" || w.ConsecutiveFailures != 0 {
			t.Errorf("webhook after a failed attempt: %+v", w)
		}
		results[0].Outcome, results[0].Attempt.StatusCode = switchboard.OutcomeDelivered, 200
		if _, err := db.CompleteDeliveries(ctx, results, switchboard.DisablePolicy{}); err != nil {
			t.Fatal(err)
		}
		d, _ = db.Delivery(ctx, first.Delivery.TenantID, first.Delivery.ID)
		w, _ = db.Webhook(ctx, first.Delivery.TenantID, first.Webhook.ID)
		if d.Status != switchboard.DeliverySucceeded || d.DeliveredAt == nil || w.FailingSince != nil || w.LastSuccessAt == nil {
			t.Errorf("after success: delivery %+v webhook %+v", d, w)
		}

		// Two deliveries that give up disable the webhook under a policy of 2.
		pend, _ := db.Deliveries(ctx, tn.ID, switchboard.DeliveryFilter{WebhookID: all.ID, Status: switchboard.DeliveryPending}, switchboard.ListOptions{})
		var giveUps []switchboard.DeliveryResult
		for _, p := range pend.Items[:2] {
			giveUps = append(giveUps, switchboard.DeliveryResult{DeliveryID: p.ID, WebhookID: all.ID, TenantID: tn.ID, Outcome: switchboard.OutcomeGiveUp,
				Attempt: switchboard.DeliveryAttempt{At: at, ErrorClass: "timeout", Error: "timed out"}})
		}
		disabled, err := db.CompleteDeliveries(ctx, giveUps, switchboard.DisablePolicy{Deliveries: 2})
		if err != nil || len(disabled) != 1 || disabled[0].ID != all.ID || disabled[0].Enabled {
			t.Fatalf("CompleteDeliveries disabled %+v, %v", disabled, err)
		}
		evs, _ := db.Events(ctx, tn.ID, 0, 100)
		if last := evs[len(evs)-1]; last.Type != switchboard.EventWebhookDisabled || last.SubjectID != all.ID {
			t.Errorf("last event %+v, want endpoint.disabled", last)
		}
		if c, _ := db.ClaimDeliveries(ctx, now.Add(time.Hour*3), time.Minute, 100, 10, nil); len(c) != 2 {
			t.Errorf("claims with the webhook disabled: %d, want only the 2 of the other webhooks", len(c))
		}
		w, _ = db.Webhook(ctx, tn.ID, all.ID)
		w.Enabled = true
		if w, err = db.UpdateWebhook(ctx, tn.ID, w); err != nil || !w.Enabled || w.ConsecutiveFailures != 0 || w.DisabledReason != "" {
			t.Fatalf("re-enable: %+v, %v", w, err)
		}

		// Gone disables at once; retry and replay queue again.
		g := []switchboard.DeliveryResult{{DeliveryID: pend.Items[2].ID, WebhookID: all.ID, TenantID: tn.ID, Outcome: switchboard.OutcomeGone,
			Attempt: switchboard.DeliveryAttempt{At: at, StatusCode: 410}}}
		if disabled, _ := db.CompleteDeliveries(ctx, g, switchboard.DisablePolicy{}); len(disabled) != 1 {
			t.Fatalf("410 did not disable")
		}
		d, err = db.RetryDelivery(ctx, tn.ID, pend.Items[2].ID)
		if err != nil || d.Status != switchboard.DeliveryPending || d.Attempts != 0 {
			t.Fatalf("RetryDelivery = %+v, %v", d, err)
		}
		n, err := db.ReplayWebhook(ctx, tn.ID, users.ID, at.Add(-time.Hour), at.Add(time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("ReplayWebhook = %d, %v; want the one user event", n, err)
		}
		_, err = db.ReplayWebhook(ctx, other.ID, users.ID, at.Add(-time.Hour), at.Add(time.Hour))
		wantCode(t, "replay across tenants", err, switchboard.CodeNotFound)
		_, err = db.RetryDelivery(ctx, other.ID, pend.Items[2].ID)
		wantCode(t, "retry across tenants", err, switchboard.CodeNotFound)

		rot, err := db.RotateWebhookSecret(ctx, tn.ID, users.ID, time.Hour)
		if err != nil || rot.Secret == users.Secret || rot.PreviousSecret != users.Secret || rot.PreviousSecretExpiresAt == nil {
			t.Fatalf("RotateWebhookSecret = %+v, %v", rot, err)
		}
		if err := db.DeleteWebhook(ctx, tn.ID, users.ID); err != nil {
			t.Fatal(err)
		}
		if p, _ := db.Deliveries(ctx, tn.ID, switchboard.DeliveryFilter{WebhookID: users.ID}, switchboard.ListOptions{}); p.Total != 0 {
			t.Errorf("deliveries of a deleted webhook remain: %d", p.Total)
		}
	})
}
