package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestQueueMenuFields checks that a queue's menu type, hours, voicemail and
// callback-slot settings survive create, read, list, update and the
// read-modify-write path on both engines, that clearing the hours reads back
// as always open, and that the queue.* events carry them.
func TestQueueMenuFields(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		hours := &switchboard.OperatingHours{TimeZone: "Europe/Rome",
			Weekly:   []switchboard.OpenRange{{Day: 1, Open: "09:00", Close: "17:30"}, {Day: 2, Open: "09:00", Close: "24:00"}},
			Holidays: []switchboard.Holiday{{Date: "2026-12-25", Name: "Christmas"}, {Date: "2026-12-24", Name: "Eve", Open: "09:00", Close: "12:00"}}}
		q, err := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Support", MenuType: "mobile_menu", Hours: hours,
			VoicemailEnabled: true, CallbackSlotMinutes: 30, CallbackSlotCapacity: 4})
		if err != nil {
			t.Fatal(err)
		}
		want := func(t *testing.T, how string, got switchboard.Queue, mt string, h *switchboard.OperatingHours, vm bool, mins, capacity int) {
			t.Helper()
			if got.MenuType != mt || !reflect.DeepEqual(got.Hours, h) || got.VoicemailEnabled != vm ||
				got.CallbackSlotMinutes != mins || got.CallbackSlotCapacity != capacity {
				t.Fatalf("%s: menu_type %q hours %+v voicemail %v slots %d/%d; want %q %+v %v %d/%d", how,
					got.MenuType, got.Hours, got.VoicemailEnabled, got.CallbackSlotMinutes, got.CallbackSlotCapacity,
					mt, h, vm, mins, capacity)
			}
		}
		want(t, "created", q, "mobile_menu", hours, true, 30, 4)
		got, err := db.Queue(ctx, tn.ID, q.ID)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "read", got, "mobile_menu", hours, true, 30, 4)
		page, err := db.Queues(ctx, tn.ID, switchboard.ListOptions{Limit: 10})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("Queues = %+v, %v", page.Items, err)
		}
		want(t, "listed", page.Items[0], "mobile_menu", hours, true, 30, 4)

		got.MenuType, got.Hours, got.VoicemailEnabled, got.CallbackSlotMinutes, got.CallbackSlotCapacity = "web_menu", nil, false, 0, 0
		if got, err = db.UpdateQueue(ctx, tn.ID, got); err != nil {
			t.Fatal(err)
		}
		want(t, "updated", got, "web_menu", nil, false, 0, 0)
		if got, err = db.Queue(ctx, tn.ID, q.ID); err != nil {
			t.Fatal(err)
		}
		want(t, "read after update", got, "web_menu", nil, false, 0, 0)
		if got.Hours.OpenAt(time.Now()) != true {
			t.Fatal("a queue without hours reads as closed")
		}

		if got, err = db.UpdateQueueFunc(ctx, tn.ID, q.ID, func(q *switchboard.Queue) error {
			q.MenuType, q.Hours, q.CallbackSlotMinutes = "ivr_menu", hours, 60
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want(t, "modified", got, "ivr_menu", hours, false, 60, 0)
		if got, err = db.Queue(ctx, tn.ID, q.ID); err != nil {
			t.Fatal(err)
		}
		want(t, "read after modify", got, "ivr_menu", hours, false, 60, 0)

		// Validation reaches the new fields through the store.
		bad := got
		bad.MenuType, bad.Hours = "sms_menu", &switchboard.OperatingHours{TimeZone: "Mars/Olympus"}
		_, err = db.UpdateQueue(ctx, tn.ID, bad)
		var se *switchboard.Error
		if !errors.As(err, &se) || se.Fields["menu_type"] == "" || se.Fields["hours.time_zone"] == "" {
			t.Fatalf("bad menu type and zone: %v", err)
		}

		evs, err := db.Events(ctx, tn.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var menus []string
		var last switchboard.Queue
		for _, ev := range evs {
			if ev.Type != switchboard.EventQueueCreated && ev.Type != switchboard.EventQueueUpdated {
				continue
			}
			if err := json.Unmarshal(ev.Payload, &last); err != nil {
				t.Fatalf("%s payload: %v", ev.Type, err)
			}
			menus = append(menus, last.MenuType)
		}
		if want := []string{"mobile_menu", "web_menu", "ivr_menu"}; !reflect.DeepEqual(menus, want) {
			t.Fatalf("queue events carry menu types %v, want %v", menus, want)
		}
		want(t, "last event", last, "ivr_menu", hours, false, 60, 0)
	})
}

// TestScheduledCallbacks checks that a queue's waiting callbacks are found by
// their time, and that callbacks already dialled, of another queue or of
// another tenant are not.
func TestScheduledCallbacks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "other", Name: "Other"})
		if err != nil {
			t.Fatal(err)
		}
		q1, err := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "One"})
		if err != nil {
			t.Fatal(err)
		}
		q2, err := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Two"})
		if err != nil {
			t.Fatal(err)
		}
		oq, err := db.CreateQueue(ctx, other.ID, switchboard.Queue{Name: "Theirs"})
		if err != nil {
			t.Fatal(err)
		}
		base := time.Date(2026, 2, 25, 17, 30, 0, 0, time.UTC)
		schedule := func(tenant, queue int64, at time.Time) switchboard.Call {
			t.Helper()
			c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tenant, QueueID: &queue, Direction: switchboard.Outbound,
				Status: switchboard.CallScheduled, To: "+390612345678", ScheduledAt: &at, CreatedAt: base}, "scheduled")
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		schedule(tn.ID, q1.ID, base.Add(10*time.Minute))
		schedule(tn.ID, q1.ID, base)
		schedule(tn.ID, q1.ID, base.Add(15*time.Minute)) // the end of [base, base+15m) is excluded
		dialled := schedule(tn.ID, q1.ID, base.Add(5*time.Minute))
		dialled.Status = switchboard.CallConnecting
		if _, err := db.SaveCall(ctx, dialled, "dialing"); err != nil {
			t.Fatal(err)
		}
		schedule(tn.ID, q2.ID, base.Add(time.Minute))
		schedule(other.ID, oq.ID, base.Add(time.Minute))

		got, err := db.ScheduledCallbacks(ctx, tn.ID, q1.ID, base, base.Add(15*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if want := []time.Time{base, base.Add(10 * time.Minute)}; !timesEqual(got, want) {
			t.Fatalf("callbacks %v, want %v", got, want)
		}
		if got, err = db.ScheduledCallbacks(ctx, tn.ID, q1.ID, base, base.Add(time.Hour)); err != nil || len(got) != 3 {
			t.Fatalf("callbacks in the hour %v, %v; want 3", got, err)
		}
		if got, err = db.ScheduledCallbacks(ctx, tn.ID, oq.ID, base, base.Add(time.Hour)); err != nil || len(got) != 0 {
			t.Fatalf("another tenant's queue: %v, %v", got, err)
		}
	})
}

func timesEqual(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
