package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

func TestContacts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		john, err := db.CreateContact(ctx, tn.ID, switchboard.Contact{FirstName: "John", LastName: "Doe", PrimaryPhone: "+390312345678",
			Phones: []string{"+390387654321"}, PrimaryEmail: "j.doe01@example.com", Emails: []string{"JD@Example.com"}})
		if err != nil || john.UUID == "" || john.CRMName != "" {
			t.Fatalf("CreateContact = %+v, %v", john, err)
		}
		maria, _ := db.CreateContact(ctx, tn.ID, switchboard.Contact{FirstName: "Maria", LastName: "Rosi", PrimaryPhone: "+390312345637", CRMName: "Hubspot"})
		db.CreateContact(ctx, other.ID, switchboard.Contact{FirstName: "John", PrimaryPhone: "+390312345678"})

		_, err = db.CreateContact(ctx, tn.ID, switchboard.Contact{FirstName: "X", PrimaryPhone: "0312345678", Phones: []string{"12"}})
		wantField(t, "national number", err, switchboard.CodeInvalid, "primary_phone")
		wantField(t, "bad secondary number", err, switchboard.CodeInvalid, "phones[0]")
		_, err = db.CreateContact(ctx, tn.ID, switchboard.Contact{PrimaryPhone: "+390312345678"})
		wantField(t, "no first name", err, switchboard.CodeInvalid, "first_name")

		for _, tc := range []struct {
			why  string
			f    switchboard.ContactFilter
			want []int64
		}{
			{"first name, any case, partial", switchboard.ContactFilter{FirstName: "oH"}, []int64{john.ID}},
			{"last name partial", switchboard.ContactFilter{LastName: "ROS"}, []int64{maria.ID}},
			{"secondary number partial", switchboard.ContactFilter{Phone: "87654"}, []int64{john.ID}},
			{"shared digits", switchboard.ContactFilter{Phone: "+3903123456"}, []int64{john.ID, maria.ID}},
			{"secondary email, any case", switchboard.ContactFilter{Email: "jd@exa"}, []int64{john.ID}},
			{"all filters", switchboard.ContactFilter{FirstName: "john", LastName: "doe", Email: "j.doe0", Phone: "678"}, []int64{john.ID}},
			{"like wildcards are literal", switchboard.ContactFilter{FirstName: "%"}, nil},
		} {
			p, err := db.Contacts(ctx, tn.ID, tc.f, switchboard.ListOptions{})
			var got []int64
			for _, c := range p.Items {
				got = append(got, c.ID)
			}
			if err != nil || len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Errorf("%s: Contacts(%+v) = %v, %v; want %v", tc.why, tc.f, got, err, tc.want)
			}
		}

		found, err := db.ContactsByPhone(ctx, tn.ID, []string{"+390387654321", "+15550000000", ""})
		if err != nil || len(found) != 1 || found["+390387654321"].ID != john.ID {
			t.Errorf("ContactsByPhone = %v, %v", found, err)
		}
		john.Phones = []string{"+390311111111"}
		john.LastName = "Doe-Smith"
		if john, err = db.UpdateContact(ctx, tn.ID, john); err != nil || john.LastName != "Doe-Smith" {
			t.Fatalf("UpdateContact = %+v, %v", john, err)
		}
		if found, _ := db.ContactsByPhone(ctx, tn.ID, []string{"+390387654321", "+390311111111"}); len(found) != 1 || found["+390311111111"].ID != john.ID {
			t.Errorf("numbers after update: %v", found)
		}
		if got, err := db.ContactByUUID(ctx, tn.ID, john.UUID); err != nil || got.ID != john.ID || len(got.Emails) != 1 {
			t.Errorf("ContactByUUID = %+v, %v", got, err)
		}
		_, err = db.ContactByUUID(ctx, other.ID, john.UUID)
		wantCode(t, "contact across tenants", err, switchboard.CodeNotFound)
		wantCode(t, "delete across tenants", db.DeleteContact(ctx, other.ID, john.ID), switchboard.CodeNotFound)
		if err := db.DeleteContact(ctx, tn.ID, john.ID); err != nil {
			t.Fatal(err)
		}
		if found, _ := db.ContactsByPhone(ctx, tn.ID, []string{"+390312345678"}); found["+390312345678"].ID != maria.ID && len(found) != 0 {
			t.Errorf("a deleted contact is still found by phone: %v", found)
		}
		evs, _ := db.Events(ctx, tn.ID, 0, 1000)
		if last := evs[len(evs)-1]; last.Type != switchboard.EventContactDeleted {
			t.Errorf("last event %s", last.Type)
		}
	})
}

func TestClickToCallLinks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", Extension: "101"})
		db.CreatePhoneNumber(ctx, tn.ID, switchboard.PhoneNumber{Number: "+390660786731"})
		link := switchboard.ClickToCall{Name: "support", Extension: "101", OutboundNumber: "+390660786731"}
		l, err := db.CreateClickToCall(ctx, tn.ID, link)
		if err != nil || len(l.Key) != 32 || l.DialFirst != switchboard.DialExtension {
			t.Fatalf("CreateClickToCall = %+v, %v", l, err)
		}
		// One user and no queue: the limit is one link.
		_, err = db.CreateClickToCall(ctx, tn.ID, link)
		wantCode(t, "over the limit", err, switchboard.CodeInvalid)
		db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Sales", Extension: "200"})
		_, err = db.CreateClickToCall(ctx, tn.ID, switchboard.ClickToCall{Name: "x", Extension: "999", OutboundNumber: "+390660786731"})
		wantField(t, "unknown extension", err, switchboard.CodeInvalid, "extension")
		_, err = db.CreateClickToCall(ctx, tn.ID, switchboard.ClickToCall{Name: "x", Extension: "200", OutboundNumber: "+15550001111"})
		wantField(t, "foreign number", err, switchboard.CodeInvalid, "outbound_number")
		_, err = db.CreateClickToCall(ctx, tn.ID, switchboard.ClickToCall{Name: "x", Extension: "200", OutboundNumber: "+390660786731", DialFirst: "agent"})
		wantField(t, "bad dial_first", err, switchboard.CodeInvalid, "dial_first")
		if _, err := db.CreateClickToCall(ctx, tn.ID, switchboard.ClickToCall{Name: "sales", Extension: "200", OutboundNumber: "+390660786731", DialFirst: "contact"}); err != nil {
			t.Errorf("a queue's extension: %v", err)
		}
		if got, err := db.ClickToCallByKey(ctx, tn.ID, l.Key); err != nil || got.ID != l.ID || got.CreatedAt.Before(time.Now().Add(-time.Minute)) {
			t.Errorf("ClickToCallByKey = %+v, %v", got, err)
		}
		_, err = db.ClickToCallByKey(ctx, other.ID, l.Key)
		wantCode(t, "link across tenants", err, switchboard.CodeNotFound)
		if p, _ := db.ClickToCalls(ctx, tn.ID, switchboard.ListOptions{}); p.Total != 2 {
			t.Errorf("ClickToCalls total %d", p.Total)
		}
		if err := db.DeleteClickToCall(ctx, tn.ID, l.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateClickToCall(ctx, tn.ID, link); err != nil {
			t.Errorf("after a delete there is room again: %v", err)
		}
	})
}

func TestCDRNumberAndOrder(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		now := time.Now().UTC().Truncate(time.Microsecond)
		end := now.Add(time.Minute)
		mk := func(tenant int64, from, to string) int64 {
			c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tenant, Direction: switchboard.Inbound, Status: switchboard.CallFinished,
				From: from, To: to, CreatedAt: now, EndedAt: &end}, "ended")
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		a := mk(tn.ID, "+393331234567", "+390112121212")
		b := mk(tn.ID, "+390112121212", "+393331234567")
		mk(tn.ID, "+393339999999", "+390112121212")
		mk(other.ID, "+393331234567", "+390112121212")
		p, err := db.CDRs(ctx, tn.ID, switchboard.CDRFilter{Number: "+393331234567", Newest: true}, switchboard.ListOptions{})
		if err != nil || p.Total != 2 || len(p.Items) != 2 || p.Items[0].ID != b || p.Items[1].ID != a {
			t.Errorf("CDRs(number, newest first) = %d items %+v, %v; want %d then %d", p.Total, p.Items, err, b, a)
		}
		p, _ = db.CDRs(ctx, tn.ID, switchboard.CDRFilter{Newest: true}, switchboard.ListOptions{Limit: 2})
		next, _ := db.CDRs(ctx, tn.ID, switchboard.CDRFilter{Newest: true}, switchboard.ListOptions{Limit: 2, Cursor: p.NextCursor, SkipTotal: true})
		if len(p.Items) != 2 || len(next.Items) != 1 || next.Items[0].ID != a || next.Total != 0 {
			t.Errorf("newest-first cursor pages: %+v then %+v", p.Items, next)
		}
	})
}
