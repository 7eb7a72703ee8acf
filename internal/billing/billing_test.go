package billing_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/billing"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fromStart is the real store read from the start of every tenant's log, as
// if no position had been saved: a full replay.
type fromStart struct{ *sqlstore.DB }

func (fromStart) BillingPositions(context.Context) (map[int64]int64, error) {
	return map[int64]int64{}, nil
}

// call makes a call's created, connected (unless talk < 0) and ended events
// through the store, as the call service's writer does.
func call(t *testing.T, db *sqlstore.DB, tenantID int64, dir switchboard.Direction, to string, talk time.Duration) switchboard.Call {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tenantID, Direction: dir, Status: switchboard.CallConnecting,
		From: "+390112121212", To: to, CreatedAt: now}, "created")
	if err != nil {
		t.Fatal(err)
	}
	if talk >= 0 {
		c.Status, c.ConnectedAt = switchboard.CallConnected, &now
		if c, err = db.SaveCall(ctx, c, "connected"); err != nil {
			t.Fatal(err)
		}
	}
	end := now.Add(max(talk, 0))
	c.Status, c.EndedAt = switchboard.CallFinished, &end
	if c, err = db.SaveCall(ctx, c, "ended"); err != nil {
		t.Fatal(err)
	}
	return c
}

func ledger(t *testing.T, db *sqlstore.DB, tenantID int64) []switchboard.LedgerEntry {
	t.Helper()
	p, err := db.Ledger(context.Background(), tenantID, switchboard.ListOptions{Limit: switchboard.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func count(t *testing.T, db *sqlstore.DB, tenantID int64, typ string) int {
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

func TestServiceBillsCalls(t *testing.T) {
	for name, url := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := sqlstoretest.Open(t, url(t), sqlstore.Options{})
			tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
			if err != nil {
				t.Fatal(err)
			}
			past := time.Now().Add(-time.Hour)
			us, err := db.CreateRate(ctx, tn.ID, switchboard.Rate{Prefix: "1", PerMinuteMilli: 6_000, EffectiveFrom: past}) // 6 ¢, 60/60
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.CreateRate(ctx, tn.ID, switchboard.Rate{Prefix: "1800", Direction: switchboard.Inbound, PerMinuteMilli: 3_000,
				InitialIncrement: 1, EffectiveFrom: past}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.CreditBalance(ctx, tn.ID, switchboard.LedgerCredit, switchboard.Credit{AmountCents: 1_000}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.UpdateBalanceSettings(ctx, tn.ID, func(s *switchboard.BalanceSettings) error {
				*s = switchboard.BalanceSettings{LowBalanceThresholdCents: 900, Prepaid: true}
				return nil
			}); err != nil {
				t.Fatal(err)
			}

			svc, err := billing.Start(ctx, db, billing.Options{Log: quiet, HoldMinutes: 10})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { svc.Close() }()

			// Connected: 10 minutes at 6 ¢ are held.
			now := time.Now().UTC().Truncate(time.Microsecond)
			c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallConnected,
				From: "+390112121212", To: "+12125550100", CreatedAt: now, ConnectedAt: &now}, "created")
			if err != nil {
				t.Fatal(err)
			}
			if c, err = db.SaveCall(ctx, c, "connected"); err != nil {
				t.Fatal(err)
			}
			if err := svc.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			bal, _ := db.Balance(ctx, tn.ID)
			if bal.HeldCents != 60 || bal.AvailableCents != 940 || bal.AmountCents != 1_000 {
				t.Errorf("while the call runs: %+v, want 60 held of 1000", bal)
			}
			// Ended after 61 s: two started minutes, 12 ¢; the hold is gone.
			end := now.Add(61 * time.Second)
			c.Status, c.EndedAt = switchboard.CallFinished, &end
			if _, err := db.SaveCall(ctx, c, "ended"); err != nil {
				t.Fatal(err)
			}
			if err := svc.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			bal, _ = db.Balance(ctx, tn.ID)
			if bal.HeldCents != 0 || bal.AmountCents != 988 {
				t.Errorf("after the call: %+v, want 988 and nothing held", bal)
			}
			es := ledger(t, db, tn.ID)
			if len(es) != 4 || es[0].Kind != switchboard.LedgerCharge || es[0].AmountCents != -12 || es[0].BilledSeconds != 120 ||
				*es[0].CallID != c.ID || *es[0].RateID != us.ID || es[1].Kind != switchboard.LedgerRelease || es[1].AmountCents != -60 {
				t.Errorf("ledger = %+v", es)
			}

			// Not billed: an extension, an inbound call without a rate, a
			// call never answered. Billed: an inbound call to a rated DID.
			call(t, db, tn.ID, switchboard.Outbound, "1001", time.Minute)
			call(t, db, tn.ID, switchboard.Inbound, "+390115550100", time.Minute)
			call(t, db, tn.ID, switchboard.Outbound, "+13105550100", -1)
			call(t, db, tn.ID, switchboard.Inbound, "+18005550100", 10*time.Second) // 10 s at 3 ¢/min: 0.5 ¢ → 1 ¢
			if err := svc.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			bal, _ = db.Balance(ctx, tn.ID)
			if bal.AmountCents != 987 || bal.HeldCents != 0 {
				t.Errorf("after the unbilled calls and one inbound: %+v, want 987", bal)
			}
			if n := len(ledger(t, db, tn.ID)); n != 7 {
				t.Errorf("%d ledger entries, want 7 (the inbound call's hold, release and charge)", n)
			}

			// Below 900: one notice, however many calls follow.
			call(t, db, tn.ID, switchboard.Outbound, "+12125550101", 20*time.Minute) // 120 ¢
			call(t, db, tn.ID, switchboard.Outbound, "+12125550102", time.Minute)
			if err := svc.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			if n := count(t, db, tn.ID, switchboard.EventBillingLowBalance); n != 1 {
				t.Errorf("%d billing.low_balance events, want 1", n)
			}
			bal, _ = db.Balance(ctx, tn.ID)
			if bal.AmountCents != 987-120-6 {
				t.Errorf("balance = %d, want %d", bal.AmountCents, 987-120-6)
			}

			// A full replay of the log changes nothing.
			before := ledger(t, db, tn.ID)
			replay, err := billing.Start(ctx, fromStart{db}, billing.Options{Log: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if err := replay.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			replay.Close()
			if after := ledger(t, db, tn.ID); len(after) != len(before) {
				t.Errorf("the replay wrote %d entries", len(after)-len(before))
			}

			// Stopped, the service keeps its place: a call made meanwhile
			// is billed at the next start, the earlier ones are not again.
			if err := svc.Close(); err != nil {
				t.Fatal(err)
			}
			call(t, db, tn.ID, switchboard.Outbound, "+12125550103", 30*time.Second)
			svc, err = billing.Start(ctx, db, billing.Options{Log: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			bal, _ = db.Balance(ctx, tn.ID)
			if bal.AmountCents != 987-120-6-6 {
				t.Errorf("after restart: %d, want %d", bal.AmountCents, 987-120-6-6)
			}
			if n := count(t, db, tn.ID, switchboard.EventBillingCharged); n != 5 {
				t.Errorf("%d billing.charged events, want 5 (one per billed call)", n)
			}

			// A rate removed while its call runs: the hold is given back and
			// the call is free.
			uk, err := db.CreateRate(ctx, tn.ID, switchboard.Rate{Prefix: "44", PerMinuteMilli: 6_000, EffectiveFrom: past})
			if err != nil {
				t.Fatal(err)
			}
			now = time.Now().UTC().Truncate(time.Microsecond)
			c, err = db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallConnected,
				From: "+390112121212", To: "+442071234567", CreatedAt: now, ConnectedAt: &now}, "created")
			if err != nil {
				t.Fatal(err)
			}
			if c, err = db.SaveCall(ctx, c, "connected"); err != nil {
				t.Fatal(err)
			}
			if err := svc.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			if bal, _ = db.Balance(ctx, tn.ID); bal.HeldCents != 60 {
				t.Errorf("held %d, want 60", bal.HeldCents)
			}
			if err := db.DeleteRate(ctx, tn.ID, uk.ID); err != nil {
				t.Fatal(err)
			}
			end = now.Add(time.Minute)
			c.Status, c.EndedAt = switchboard.CallFinished, &end
			if _, err := db.SaveCall(ctx, c, "ended"); err != nil {
				t.Fatal(err)
			}
			if err := svc.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			bal, _ = db.Balance(ctx, tn.ID)
			if bal.HeldCents != 0 || bal.AmountCents != 987-120-6-6 {
				t.Errorf("after the unrated end: %+v", bal)
			}
		})
	}
}

// flaky is the real store whose charges fail while it is down, as they do
// when the database is unreachable.
type flaky struct {
	*sqlstore.DB
	up atomic.Bool
}

func (f *flaky) ChargeCall(ctx context.Context, tenantID int64, c switchboard.CallCharge) (switchboard.LedgerEntry, bool, error) {
	if !f.up.Load() {
		return switchboard.LedgerEntry{}, false, errors.New("database unreachable")
	}
	return f.DB.ChargeCall(ctx, tenantID, c)
}

// TestServiceRetriesAndKeepsFailedEvents shows that a charge that fails is
// retried until it succeeds, and that a service stopped while it fails
// saves no position past the event, so that the next start charges it.
func TestServiceRetriesAndKeepsFailedEvents(t *testing.T) {
	ctx := context.Background()
	db := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateRate(ctx, tn.ID, switchboard.Rate{Prefix: "", PerMinuteMilli: 6_000, EffectiveFrom: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	charged := func() int64 {
		t.Helper()
		b, err := db.Balance(ctx, tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		return -b.AmountCents
	}

	// Down while the service stops: nothing charged, nothing lost.
	store := &flaky{DB: db}
	svc, err := billing.Start(ctx, store, billing.Options{Log: quiet, Retry: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	call(t, db, tn.ID, switchboard.Outbound, "+12125550100", time.Minute)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		// Wait until the service has tried (and failed) a few times.
		if svc.Failures() >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the service never tried to charge the call")
		}
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	if got := charged(); got != 0 {
		t.Fatalf("charged %d while the store was down", got)
	}

	// Up again at the next start: the call is charged, once.
	store.up.Store(true)
	svc, err = billing.Start(ctx, store, billing.Options{Log: quiet, Retry: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if err := svc.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if got := charged(); got != 6 {
		t.Errorf("charged %d after the restart, want 6", got)
	}

	// Down, then up while the service runs: the retry charges it.
	store.up.Store(false)
	call(t, db, tn.ID, switchboard.Outbound, "+12125550101", time.Minute)
	go func() {
		for svc.Failures() < 2 {
			time.Sleep(time.Millisecond)
		}
		store.up.Store(true)
	}()
	if err := svc.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if got := charged(); got != 12 {
		t.Errorf("charged %d after the retries, want 12", got)
	}
}
