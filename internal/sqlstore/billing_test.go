package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// ledgerSum adds a tenant's ledger: the balance and held amounts it implies.
func ledgerSum(t *testing.T, db *sqlstore.DB, tenantID int64) (amount, held int64, entries []switchboard.LedgerEntry) {
	t.Helper()
	opt := switchboard.ListOptions{Limit: switchboard.MaxPageLimit}
	for {
		p, err := db.Ledger(context.Background(), tenantID, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Items {
			entries = append(entries, e)
			if e.Kind == switchboard.LedgerHold || e.Kind == switchboard.LedgerRelease {
				held += e.AmountCents
			} else {
				amount += e.AmountCents
			}
		}
		if p.NextCursor == "" {
			return amount, held, entries
		}
		opt.Cursor = p.NextCursor
	}
}

func countEvents(t *testing.T, db *sqlstore.DB, tenantID int64, typ string) int {
	t.Helper()
	evs, err := db.Events(context.Background(), tenantID, 0, switchboard.MaxPageLimit)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func TestBillingLedger(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "acme"), mustTenant(t, db, "globex")

		bal, err := db.Balance(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if bal.AmountCents != 0 || bal.Currency != "USD" || bal.Prepaid {
			t.Errorf("new balance = %+v", bal)
		}
		if err := db.CanPlaceCall(ctx, a.ID); err != nil {
			t.Errorf("a tenant that is not prepaid may always call: %v", err)
		}

		_, err = db.CreditBalance(ctx, a.ID, switchboard.LedgerCredit, switchboard.Credit{AmountCents: 0})
		wantField(t, "zero credit", err, switchboard.CodeInvalid, "amount_cents")
		e, err := db.CreditBalance(ctx, a.ID, switchboard.LedgerCredit, switchboard.Credit{AmountCents: 10_000, Reason: " top-up "})
		if err != nil {
			t.Fatal(err)
		}
		if e.BalanceAfterCents != 10_000 || e.Reason != "top-up" || e.Kind != switchboard.LedgerCredit {
			t.Errorf("credit = %+v", e)
		}
		if _, err := db.UpdateBalanceSettings(ctx, a.ID, func(s *switchboard.BalanceSettings) error {
			*s = switchboard.BalanceSettings{LowBalanceThresholdCents: 2_000, Prepaid: true}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		_, err = db.CreditBalance(ctx, a.ID, switchboard.LedgerAdjustment, switchboard.Credit{AmountCents: -10_001})
		wantField(t, "overdrawing adjustment", err, switchboard.CodeConflict, "amount_cents")

		// A hold lowers what is available, not the amount; the charge
		// releases it in the same transaction, and both are once per call.
		h, ok, err := db.HoldForCall(ctx, a.ID, 77, 3_000, "hold")
		if err != nil || !ok || h.HeldAfterCents != 3_000 {
			t.Fatalf("hold = %+v, %v, %v", h, ok, err)
		}
		if _, ok, err := db.HoldForCall(ctx, a.ID, 77, 3_000, "hold"); err != nil || ok {
			t.Errorf("second hold of a call: placed %v, %v", ok, err)
		}
		if held, err := db.CallHeld(ctx, a.ID, 77); err != nil || !held {
			t.Errorf("CallHeld of a held call = %v, %v", held, err)
		}
		bal, _ = db.Balance(ctx, a.ID)
		if bal.AmountCents != 10_000 || bal.HeldCents != 3_000 || bal.AvailableCents != 7_000 {
			t.Errorf("held balance = %+v", bal)
		}
		c, ok, err := db.ChargeCall(ctx, a.ID, switchboard.CallCharge{CallID: 77, AmountCents: 9_500, BilledSeconds: 120})
		if err != nil || !ok || c.AmountCents != -9_500 || c.BalanceAfterCents != 500 || c.HeldAfterCents != 0 {
			t.Fatalf("charge = %+v, %v, %v", c, ok, err)
		}
		if _, ok, err := db.ChargeCall(ctx, a.ID, switchboard.CallCharge{CallID: 77, AmountCents: 9_500}); err != nil || ok {
			t.Errorf("second charge of a call: charged %v, %v", ok, err)
		}
		if _, ok, err := db.HoldForCall(ctx, a.ID, 77, 3_000, "hold"); err != nil || ok {
			t.Errorf("hold of a charged call: placed %v, %v", ok, err)
		}
		if held, err := db.CallHeld(ctx, a.ID, 77); err != nil || held {
			t.Errorf("CallHeld of a charged call = %v, %v", held, err)
		}
		// Below the threshold once: one notice, however many more charges.
		if _, _, err := db.ChargeCall(ctx, a.ID, switchboard.CallCharge{CallID: 78, AmountCents: 100}); err != nil {
			t.Fatal(err)
		}
		if n := countEvents(t, db, a.ID, switchboard.EventBillingLowBalance); n != 1 {
			t.Errorf("%d low-balance events, want 1", n)
		}
		// A connected call is charged past zero; then new calls are refused.
		if _, _, err := db.ChargeCall(ctx, a.ID, switchboard.CallCharge{CallID: 79, AmountCents: 1_000}); err != nil {
			t.Fatal(err)
		}
		bal, _ = db.Balance(ctx, a.ID)
		if bal.AmountCents != -600 {
			t.Errorf("balance after charging past zero = %d, want -600", bal.AmountCents)
		}
		wantField(t, "spent prepaid balance", db.CanPlaceCall(ctx, a.ID), switchboard.CodeConflict, "balance")
		if err := db.CanPlaceCall(ctx, b.ID); err != nil {
			t.Errorf("another tenant: %v", err)
		}
		// Topping up re-arms the notice.
		if _, err := db.CreditBalance(ctx, a.ID, switchboard.LedgerCredit, switchboard.Credit{AmountCents: 5_000}); err != nil {
			t.Fatal(err)
		}
		if err := db.CanPlaceCall(ctx, a.ID); err != nil {
			t.Errorf("after top-up: %v", err)
		}
		if _, _, err := db.ChargeCall(ctx, a.ID, switchboard.CallCharge{CallID: 80, AmountCents: 3_000}); err != nil {
			t.Fatal(err)
		}
		if n := countEvents(t, db, a.ID, switchboard.EventBillingLowBalance); n != 2 {
			t.Errorf("%d low-balance events after re-arming, want 2", n)
		}

		// The operator's PATCH of balance_cents is an adjustment in the
		// ledger, and the tenant shows the ledger's amount.
		ten, err := db.UpdateTenantFunc(ctx, a.ID, func(t *switchboard.Tenant) error { t.BalanceCents = 100_000; return nil })
		if err != nil {
			t.Fatal(err)
		}
		amount, held, entries := ledgerSum(t, db, a.ID)
		bal, _ = db.Balance(ctx, a.ID)
		if amount != 100_000 || held != 0 || bal.AmountCents != amount || ten.BalanceCents != amount {
			t.Errorf("ledger sums to %d (held %d), balance %+v, tenant %d", amount, held, bal, ten.BalanceCents)
		}
		if entries[0].Kind != switchboard.LedgerAdjustment || entries[0].AmountCents != 100_000-1_400 {
			t.Errorf("newest entry = %+v, want the operator's adjustment", entries[0])
		}
		_, err = db.UpdateTenantFunc(ctx, a.ID, func(t *switchboard.Tenant) error { t.Currency = "EUR"; return nil })
		wantField(t, "currency of a balance", err, switchboard.CodeConflict, "currency")
		if _, err := db.UpdateTenantFunc(ctx, b.ID, func(t *switchboard.Tenant) error { t.Currency = "EUR"; return nil }); err != nil {
			t.Errorf("currency of an empty balance: %v", err)
		}
		// Tenants are apart.
		if _, _, es := ledgerSum(t, db, b.ID); len(es) != 0 {
			t.Errorf("other tenant's ledger = %+v", es)
		}
		// A tenant made with a balance opens its ledger with it.
		rich, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "rich", Name: "Rich", BalanceCents: 4_200})
		if err != nil {
			t.Fatal(err)
		}
		if amount, _, _ := ledgerSum(t, db, rich.ID); amount != 4_200 {
			t.Errorf("opening ledger = %d, want 4200", amount)
		}
		// The event carries the entry and the balance after it.
		evs, _ := db.Events(ctx, a.ID, 0, switchboard.MaxPageLimit)
		var p switchboard.BillingEventPayload
		for _, e := range evs {
			if e.Type == switchboard.EventBillingHeld {
				if err := json.Unmarshal(e.Payload, &p); err != nil {
					t.Fatal(err)
				}
			}
		}
		if p.V != 1 || p.Entry == nil || p.Entry.AmountCents != 3_000 || p.Balance.AvailableCents != 7_000 {
			t.Errorf("billing.held payload = %+v", p)
		}
	})
}

// TestBillingConcurrentCharges charges one tenant from many goroutines: the
// balance must be exactly the ledger's sum, each entry's balance_after one
// step of a single sequence.
func TestBillingConcurrentCharges(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "acme")
		if _, err := db.CreditBalance(ctx, a.ID, switchboard.LedgerCredit, switchboard.Credit{AmountCents: 1_000_000}); err != nil {
			t.Fatal(err)
		}
		const workers, calls = 8, 20
		var wg sync.WaitGroup
		errs := make(chan error, workers*calls*2)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range calls {
					id := int64(w*calls + i + 1)
					if _, _, err := db.HoldForCall(ctx, a.ID, id, 500, "hold"); err != nil {
						errs <- err
					}
					// Every call is charged twice (a replay): only once counts.
					for range 2 {
						if _, _, err := db.ChargeCall(ctx, a.ID, switchboard.CallCharge{CallID: id, AmountCents: 7}); err != nil {
							errs <- err
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		amount, held, entries := ledgerSum(t, db, a.ID)
		bal, err := db.Balance(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(1_000_000 - workers*calls*7)
		if amount != want || bal.AmountCents != want || held != 0 || bal.HeldCents != 0 {
			t.Errorf("ledger %d held %d, balance %+v; want %d and nothing held", amount, held, bal, want)
		}
		// Oldest first, each entry continues from the one before.
		var run, runHeld int64
		for i := len(entries) - 1; i >= 0; i-- {
			e := entries[i]
			if e.Kind == switchboard.LedgerHold || e.Kind == switchboard.LedgerRelease {
				runHeld += e.AmountCents
			} else {
				run += e.AmountCents
			}
			if e.BalanceAfterCents != run || e.HeldAfterCents != runHeld {
				t.Fatalf("entry %d (%s %d) says after %d/%d, the sum is %d/%d", e.ID, e.Kind, e.AmountCents,
					e.BalanceAfterCents, e.HeldAfterCents, run, runHeld)
			}
		}
	})
}

func TestBillingRates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "acme"), mustTenant(t, db, "globex")
		past := time.Now().Add(-time.Hour)
		mk := func(tenantID int64, r switchboard.Rate) switchboard.Rate {
			t.Helper()
			if r.EffectiveFrom.IsZero() {
				r.EffectiveFrom = past
			}
			out, err := db.CreateRate(ctx, tenantID, r)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		all := mk(a.ID, switchboard.Rate{Prefix: "", PerMinuteMilli: 10_000})
		us := mk(a.ID, switchboard.Rate{Prefix: "+1", PerMinuteMilli: 1_000})
		nyc := mk(a.ID, switchboard.Rate{Prefix: "1212", PerMinuteMilli: 2_000, InitialIncrement: 1})
		mk(a.ID, switchboard.Rate{Prefix: "1212", PerMinuteMilli: 9_999, EffectiveFrom: time.Now().Add(time.Hour)}) // not yet
		in := mk(a.ID, switchboard.Rate{Prefix: "1800", Direction: switchboard.Inbound, PerMinuteMilli: 500})
		mk(b.ID, switchboard.Rate{Prefix: "12125", PerMinuteMilli: 1})
		if us.Prefix != "1" || us.InitialIncrement != 60 || us.Increment != 60 || nyc.Increment != 1 {
			t.Errorf("normalised rates: %+v %+v", us, nyc)
		}
		_, err := db.CreateRate(ctx, a.ID, switchboard.Rate{Prefix: "12a", Direction: "sideways", Increment: -1, EffectiveFrom: past})
		wantField(t, "bad prefix", err, switchboard.CodeInvalid, "prefix")
		wantField(t, "bad direction", err, switchboard.CodeInvalid, "direction")
		_, err = db.CreateRate(ctx, a.ID, switchboard.Rate{Prefix: "1", PerMinuteMilli: 5, EffectiveFrom: us.EffectiveFrom})
		wantCode(t, "same prefix and start", err, switchboard.CodeConflict)

		now := time.Now()
		for _, c := range []struct {
			dir    switchboard.Direction
			number string
			want   int64 // rate id, 0 for none
		}{
			{switchboard.Outbound, "+12125550100", nyc.ID}, // longest prefix, in effect
			{switchboard.Outbound, "+13105550100", us.ID},
			{switchboard.Outbound, "+390112121212", all.ID},
			{switchboard.Inbound, "+18005550100", in.ID},
			{switchboard.Inbound, "+390112121212", 0}, // inbound: free without a rate
		} {
			r, ok, err := db.MatchRate(ctx, a.ID, c.dir, c.number, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := map[bool]int64{true: r.ID}[ok]; got != c.want {
				t.Errorf("%s %s matched rate %d, want %d", c.dir, c.number, got, c.want)
			}
		}
		// A later start of the same prefix takes over once in effect.
		r, _, _ := db.MatchRate(ctx, a.ID, switchboard.Outbound, "+12125550100", now.Add(2*time.Hour))
		if r.PerMinuteMilli != 9_999 {
			t.Errorf("rate after the new one took effect = %+v", r)
		}

		up, err := db.UpdateRateFunc(ctx, a.ID, us.ID, func(r *switchboard.Rate) error { r.PerMinuteMilli = 1_500; return nil })
		if err != nil || up.PerMinuteMilli != 1_500 {
			t.Fatalf("update = %+v, %v", up, err)
		}
		_, err = db.UpdateRateFunc(ctx, b.ID, us.ID, func(r *switchboard.Rate) error { return nil })
		wantCode(t, "other tenant's rate", err, switchboard.CodeNotFound)
		if err := db.DeleteRate(ctx, a.ID, us.ID); err != nil {
			t.Fatal(err)
		}
		if r, _, _ := db.MatchRate(ctx, a.ID, switchboard.Outbound, "+13105550100", now); r.ID != all.ID {
			t.Errorf("after deleting +1 matched %d, want the catch-all %d", r.ID, all.ID)
		}
		if n := countEvents(t, db, a.ID, switchboard.EventRateCreated); n != 5 {
			t.Errorf("%d billing_rate.created events, want 5", n)
		}
	})
}

// TestBillingMigration runs migration 0018 over a database that has a
// tenant with a balance and a history of events, as an installation
// upgrading to billing has: the ledger opens with the balance, and the
// billing service's position starts at the tenant's head, so that the
// calls made before are not charged.
func TestBillingMigration(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			url := mk(t)
			db := sqlstoretest.Open(t, url, sqlstore.Options{})
			tn := mustTenant(t, db, "acme")
			if _, err := db.AppendEvent(ctx, tn.ID, "call.ended", "call", 1, map[string]any{}); err != nil {
				t.Fatal(err)
			}
			// Back to the schema before 0018 (and 0024, which moves its positions),
			// with a balance set the old way.
			err := sqlstore.RunTx(ctx, db, func(exec func(string, ...any) error) error {
				for _, q := range []string{"DELETE FROM follower_positions WHERE name = 'billing'", "DROP TABLE billing_rates", "DROP TABLE billing_ledger",
					"DROP TABLE billing_balances", "DELETE FROM schema_migrations WHERE version LIKE '0018%' OR version LIKE '0024%'",
					"UPDATE tenants SET balance_cents = 2500"} {
					if err := exec(q); err != nil {
						return fmt.Errorf("%s: %w", q, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			head, err := db.EventHead(ctx, tn.ID)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			db = sqlstoretest.Open(t, url, sqlstore.Options{}) // migrates
			amount, _, entries := ledgerSum(t, db, tn.ID)
			if amount != 2500 || len(entries) != 1 || entries[0].Reason != "opening balance" {
				t.Errorf("ledger after the migration: %+v", entries)
			}
			pos, err := db.BillingPositions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if pos[tn.ID] != head || head == 0 {
				t.Errorf("billing position %d, want the head %d", pos[tn.ID], head)
			}
		})
	}
}
