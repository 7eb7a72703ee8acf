package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// clock is a virtual clock for the store: tests move it by hand.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// forEachEngineAt is forEachEngine with the store on a virtual clock.
func forEachEngineAt(t *testing.T, start time.Time, fn func(t *testing.T, db *sqlstore.DB, c *clock)) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			c := newClock(start)
			db := sqlstoretest.Open(t, mk(t), sqlstore.Options{Now: c.now})
			fn(t, db, c)
		})
	}
}

func sms(tenant int64, user *int64, from, to, body string) switchboard.Message {
	return switchboard.Message{TenantID: tenant, UserID: user, Direction: switchboard.Outbound, Status: switchboard.MessageQueued,
		From: from, To: to, Body: body}
}

// TestSMSDailyCap checks the cap on one agent's texts to one number per
// calendar day in the tenant's time zone, and the tenant's setting of it.
func TestSMSDailyCap(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	// 18:00 in New York is 23:00 UTC: the UTC day ends an hour later,
	// the tenant's six hours later.
	start := time.Date(2026, 3, 10, 18, 0, 0, 0, ny)
	forEachEngineAt(t, start, func(t *testing.T, db *sqlstore.DB, c *clock) {
		ctx := context.Background()
		tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme", Timezone: "America/New_York"})
		if err != nil {
			t.Fatal(err)
		}
		if n := tn.SMSDailyPerRecipient; n == nil || *n != switchboard.DefaultSMSDailyPerRecipient {
			t.Fatalf("new tenant's cap = %v, want the default", n)
		}
		ann, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
		bob, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "bob@acme.test", FirstName: "Bob"})
		const from, to = "+15550001000", "+15557654321"
		send := func(user *int64, to string, i int) error {
			c.advance(3 * time.Second) // past the duplicate window either way
			_, err := db.CreateMessage(ctx, sms(tn.ID, user, from, to, fmt.Sprintf("message %d", i)))
			return err
		}
		for i := range 20 {
			if err := send(&ann.ID, to, i); err != nil {
				t.Fatalf("message %d of 20: %v", i+1, err)
			}
		}
		err = send(&ann.ID, to, 21)
		wantField(t, "the 21st message of the day", err, switchboard.CodeRateLimited, "to")
		// The cap is per agent and per number, and an inbound text or a
		// message without an agent is not counted.
		if err := send(&ann.ID, "+15550009999", 0); err != nil {
			t.Errorf("another number: %v", err)
		}
		if err := send(&bob.ID, to, 0); err != nil {
			t.Errorf("another agent: %v", err)
		}
		if err := send(nil, to, 0); err != nil {
			t.Errorf("no agent: %v", err)
		}
		// 01:00 UTC the next day is still the tenant's evening.
		c.set(time.Date(2026, 3, 10, 21, 0, 0, 0, ny))
		err = send(&ann.ID, to, 22)
		wantField(t, "the same local day, the next UTC day", err, switchboard.CodeRateLimited, "to")
		// The tenant's next day.
		c.set(time.Date(2026, 3, 11, 0, 0, 1, 0, ny))
		if err := send(&ann.ID, to, 23); err != nil {
			t.Fatalf("the next local day: %v", err)
		}

		// The tenant's setting: a cap of 2, then none.
		two, zero := 2, 0
		if _, err := db.UpdateTenantFunc(ctx, tn.ID, func(t *switchboard.Tenant) error { t.SMSDailyPerRecipient = &two; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := send(&ann.ID, to, 24); err != nil {
			t.Fatalf("second of 2: %v", err)
		}
		wantField(t, "third of 2", send(&ann.ID, to, 25), switchboard.CodeRateLimited, "to")
		// A failed message reached no one and does not count.
		if _, err := db.UpdateTenantFunc(ctx, tn.ID, func(t *switchboard.Tenant) error { t.SMSDailyPerRecipient = &zero; return nil }); err != nil {
			t.Fatal(err)
		}
		for i := range 25 {
			if err := send(&ann.ID, to, 100+i); err != nil {
				t.Fatalf("no cap, message %d: %v", i, err)
			}
		}
		got, err := db.Tenant(ctx, tn.ID)
		if err != nil || got.SMSDailyPerRecipient == nil || *got.SMSDailyPerRecipient != 0 {
			t.Fatalf("Tenant cap = %v, %v; want 0", got.SMSDailyPerRecipient, err)
		}
		// An update that leaves the setting nil keeps it.
		if up, err := db.UpdateTenantFunc(ctx, tn.ID, func(t *switchboard.Tenant) error { t.SMSDailyPerRecipient = nil; return nil }); err != nil ||
			*up.SMSDailyPerRecipient != 0 {
			t.Fatalf("update without the setting = %v, %v", up.SMSDailyPerRecipient, err)
		}
		bad := -1
		_, err = db.UpdateTenantFunc(ctx, tn.ID, func(t *switchboard.Tenant) error { t.SMSDailyPerRecipient = &bad; return nil })
		wantField(t, "negative cap", err, switchboard.CodeInvalid, "sms_daily_per_recipient")
	})
}

// TestSMSFailedNotCounted checks that failed messages count for neither
// rule: they reached no one.
func TestSMSFailedNotCounted(t *testing.T) {
	forEachEngineAt(t, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), func(t *testing.T, db *sqlstore.DB, c *clock) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		one := 1
		if _, err := db.UpdateTenantFunc(ctx, tn.ID, func(t *switchboard.Tenant) error { t.SMSDailyPerRecipient = &one; return nil }); err != nil {
			t.Fatal(err)
		}
		ann, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
		m, err := db.CreateMessage(ctx, sms(tn.ID, &ann.ID, "+15550001000", "+15557654321", "hello"))
		if err != nil {
			t.Fatal(err)
		}
		m.Status, m.Error = switchboard.MessageFailed, "carrier refused"
		if _, err := db.UpdateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateMessage(ctx, sms(tn.ID, &ann.ID, "+15550001000", "+15557654321", "hello")); err != nil {
			t.Fatalf("a retry of a failed message at once: %v", err)
		}
	})
}

// TestSMSDuplicateWindow checks that an agent's identical SMS is refused for
// 2 s and only an identical one: same sender number, recipient, agent and
// text.
func TestSMSDuplicateWindow(t *testing.T) {
	forEachEngineAt(t, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), func(t *testing.T, db *sqlstore.DB, c *clock) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		ann, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
		bob, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "bob@acme.test", FirstName: "Bob"})
		const from, to = "+15550001000", "+15557654321"
		create := func(m switchboard.Message) error {
			_, err := db.CreateMessage(ctx, m)
			return err
		}
		if err := create(sms(tn.ID, &ann.ID, from, to, "hello")); err != nil {
			t.Fatal(err)
		}
		c.advance(1999 * time.Millisecond)
		wantField(t, "identical within 2 s", create(sms(tn.ID, &ann.ID, from, to, "hello")), switchboard.CodeRateLimited, "to")
		for name, m := range map[string]switchboard.Message{
			"another text":         sms(tn.ID, &ann.ID, from, to, "hello!"),
			"another agent":        sms(tn.ID, &bob.ID, from, to, "hello"),
			"no agent":             sms(tn.ID, nil, from, to, "hello"),
			"another sender":       sms(tn.ID, &ann.ID, "+15550001001", to, "hello"),
			"another recipient":    sms(tn.ID, &ann.ID, from, "+15557654322", "hello"),
			"another tenant":       sms(other.ID, nil, from, to, "hello!"),
			"an inbound duplicate": {TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.MessageReceived, From: to, To: from, Body: "hi"},
		} {
			if err := create(m); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		inbound := switchboard.Message{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.MessageReceived, From: to, To: from, Body: "hi"}
		if err := create(inbound); err != nil {
			t.Errorf("an inbound text twice: %v", err)
		}
		// An integration's text (no agent) may repeat itself.
		if err := create(sms(tn.ID, nil, from, to, "hello")); err != nil {
			t.Errorf("identical without an agent: %v", err)
		}
		c.advance(time.Millisecond) // 2 s after the first
		if err := create(sms(tn.ID, &ann.ID, from, to, "hello")); err != nil {
			t.Fatalf("identical 2 s later: %v", err)
		}
	})
}

// TestSMSConcurrentDuplicates sends one text many times at once: exactly
// one is stored, the rest refused.
func TestSMSConcurrentDuplicates(t *testing.T) {
	forEachEngineAt(t, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), func(t *testing.T, db *sqlstore.DB, c *clock) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		ann, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
		const n = 12
		var wg sync.WaitGroup
		var stored, limited atomic.Int32
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.CreateMessage(ctx, sms(tn.ID, &ann.ID, "+15550001000", "+15557654321", "hello"))
				switch switchboard.ErrorCode(err) {
				case "":
					stored.Add(1)
				case switchboard.CodeRateLimited:
					limited.Add(1)
				default:
					t.Errorf("CreateMessage: %v", err)
				}
			}()
		}
		wg.Wait()
		if stored.Load() != 1 || limited.Load() != n-1 {
			t.Fatalf("stored %d, refused %d; want 1 and %d", stored.Load(), limited.Load(), n-1)
		}
		page, err := db.Messages(ctx, tn.ID, switchboard.MessageFilter{}, switchboard.ListOptions{})
		if err != nil || page.Total != 1 {
			t.Fatalf("messages stored = %d, %v; want 1", page.Total, err)
		}
	})
}
