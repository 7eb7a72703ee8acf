package sqlstore_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestUsersByID checks the batch reads a page of users is rendered from:
// users in the order asked with their presence, queue memberships per user,
// and nothing of another tenant.
func TestUsersByID(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		mk := func(tenant int64, email, ext string) switchboard.User {
			t.Helper()
			u, err := db.CreateUser(ctx, tenant, switchboard.User{Email: email, FirstName: "F", Extension: ext})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		ann, bob, cid := mk(tn.ID, "ann@acme.test", "1001"), mk(tn.ID, "bob@acme.test", ""), mk(tn.ID, "cid@acme.test", "")
		eve := mk(other.ID, "eve@other.test", "2001")
		if _, err := db.SetPresence(ctx, tn.ID, ann.ID, switchboard.StatusAvailable, false); err != nil {
			t.Fatal(err)
		}
		q1, err := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "One", Extension: "8001"})
		if err != nil {
			t.Fatal(err)
		}
		q2, err := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Two", Extension: "8002"})
		if err != nil {
			t.Fatal(err)
		}
		qo, err := db.CreateQueue(ctx, other.ID, switchboard.Queue{Name: "Theirs", Extension: "8001"})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct{ tenant, queue, user int64 }{
			{tn.ID, q2.ID, ann.ID}, {tn.ID, q1.ID, ann.ID}, {tn.ID, q1.ID, bob.ID}, {other.ID, qo.ID, eve.ID},
		} {
			if _, err := db.AddQueueMember(ctx, m.tenant, switchboard.QueueMember{QueueID: m.queue, UserID: m.user}); err != nil {
				t.Fatal(err)
			}
		}

		got, err := db.UsersByID(ctx, tn.ID, []int64{cid.ID, eve.ID, ann.ID, 999999, cid.ID})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, u := range got {
			ids = append(ids, u.ID)
		}
		if want := []int64{cid.ID, ann.ID, cid.ID}; !slices.Equal(ids, want) {
			t.Fatalf("UsersByID ids = %v, want %v (order kept, foreign and unknown left out)", ids, want)
		}
		if p := got[1].Presence; p.Status != switchboard.StatusAvailable || !p.Available || p.Since.IsZero() || p.UserID != ann.ID {
			t.Errorf("ann's presence = %+v, want Available since the SetPresence", p)
		}
		if p := got[0].Presence; p.Status != switchboard.StatusOffline || p.Available || !p.Since.IsZero() {
			t.Errorf("cid's presence = %+v, want Offline since never", p)
		}
		// The batch read is the single read, presence included.
		one, err := db.User(ctx, tn.ID, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(one, got[1]); diff != "" {
			t.Errorf("UsersByID differs from User (-User +UsersByID):\n%s", diff)
		}
		if pr, err := db.Presence(ctx, tn.ID, ann.ID); err != nil || pr != one.Presence {
			t.Errorf("User.Presence = %+v, Presence = %+v, %v", one.Presence, pr, err)
		}
		// An update keeps the presence as stored, whatever the caller sent.
		one.FirstName, one.Presence = "Annie", switchboard.Presence{}
		up, err := db.UpdateUser(ctx, tn.ID, one)
		if err != nil {
			t.Fatal(err)
		}
		if up.Presence.Status != switchboard.StatusAvailable {
			t.Errorf("UpdateUser presence = %+v, want the stored one", up.Presence)
		}
		if got, err := db.UsersByID(ctx, tn.ID, nil); err != nil || len(got) != 0 {
			t.Errorf("UsersByID(nil) = %v, %v", got, err)
		}

		ms, err := db.QueueMemberships(ctx, tn.ID, []int64{ann.ID, bob.ID, cid.ID, eve.ID})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64][]int64{ann.ID: {q1.ID, q2.ID}, bob.ID: {q1.ID}, cid.ID: {}, eve.ID: {}}
		if diff := cmp.Diff(want, ms); diff != "" {
			t.Errorf("QueueMemberships (-want +got):\n%s", diff)
		}
		ms, err = db.QueueMemberships(ctx, other.ID, []int64{ann.ID, eve.ID})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[int64][]int64{ann.ID: {}, eve.ID: {qo.ID}}, ms); diff != "" {
			t.Errorf("QueueMemberships of the other tenant (-want +got):\n%s", diff)
		}
	})
}

// TestUserFilters checks each UserFilter field narrows the list alone and
// together, inside the tenant.
func TestUserFilters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		mk := func(tenant int64, u switchboard.User) int64 {
			t.Helper()
			u, err := db.CreateUser(ctx, tenant, u)
			if err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		ann := mk(tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", LastName: "O'Hara", Extension: "1001",
			OutboundNumber: "+15550001111", TimeZone: "Europe/Rome", Roles: []string{switchboard.RoleAgent, switchboard.RoleSupervisor}})
		joanna := mk(tn.ID, switchboard.User{Email: "jo@acme.test", FirstName: "Joanna", LastName: "Smith", Extension: "1002",
			SIPUsername: "joanna.s", OutboundNumber: "+15550002222", TimeZone: "Europe/Rome"})
		adm := mk(tn.ID, switchboard.User{Email: "adm@acme.test", LastName: "Boss_Man", Roles: []string{switchboard.RoleAdmin}})
		mk(other.ID, switchboard.User{Email: "ann@other.test", FirstName: "Ann", Extension: "1001", TimeZone: "Europe/Rome",
			OutboundNumber: "+15550001111", Roles: []string{switchboard.RoleSupervisor}})

		for _, c := range []struct {
			name string
			f    switchboard.UserFilter
			want []int64
		}{
			{"name contains, any case", switchboard.UserFilter{Name: "ANN"}, []int64{ann, joanna}},
			{"name across first and last", switchboard.UserFilter{Name: "n o'h"}, []int64{ann}},
			{"name only last", switchboard.UserFilter{Name: "boss_"}, []int64{adm}},
			{"underscore is literal", switchboard.UserFilter{Name: "s_m"}, []int64{adm}},
			{"percent is literal", switchboard.UserFilter{Name: "%"}, nil},
			{"extension", switchboard.UserFilter{Extension: "1002"}, []int64{joanna}},
			{"sip username (defaults to the extension)", switchboard.UserFilter{SIPUsername: "1001"}, []int64{ann}},
			{"sip username set", switchboard.UserFilter{SIPUsername: "joanna.s"}, []int64{joanna}},
			{"outbound number", switchboard.UserFilter{OutboundNumber: "+15550001111"}, []int64{ann}},
			{"time zone", switchboard.UserFilter{TimeZone: "Europe/Rome"}, []int64{ann, joanna}},
			{"role among several", switchboard.UserFilter{Role: switchboard.RoleSupervisor}, []int64{ann}},
			{"role agent (the default)", switchboard.UserFilter{Role: switchboard.RoleAgent}, []int64{ann, joanna}},
			{"role admin", switchboard.UserFilter{Role: switchboard.RoleAdmin}, []int64{adm}},
			{"together", switchboard.UserFilter{TimeZone: "Europe/Rome", Name: "jo"}, []int64{joanna}},
		} {
			page, err := db.Users(ctx, tn.ID, c.f, switchboard.ListOptions{})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var ids []int64
			for _, u := range page.Items {
				ids = append(ids, u.ID)
			}
			if !slices.Equal(ids, c.want) || page.Total != len(c.want) {
				t.Errorf("%s: ids %v total %d, want %v", c.name, ids, page.Total, c.want)
			}
		}
		_, err := db.Users(ctx, tn.ID, switchboard.UserFilter{Role: "king"}, switchboard.ListOptions{})
		wantField(t, "unknown role", err, switchboard.CodeInvalid, "role")
	})
}
