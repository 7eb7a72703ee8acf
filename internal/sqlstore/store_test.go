package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// forEachEngine runs fn against a fresh store on every engine available: the
// one conformance suite that both SQLite and PostgreSQL must pass.
func forEachEngine(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := sqlstoretest.Open(t, mk(t), sqlstore.Options{})
			fn(t, db)
		})
	}
}

func mustTenant(t *testing.T, db *sqlstore.DB, slug string) switchboard.Tenant {
	t.Helper()
	tn, err := db.CreateTenant(context.Background(), switchboard.Tenant{Slug: slug, Name: "Tenant " + slug})
	if err != nil {
		t.Fatalf("CreateTenant(%q): %v", slug, err)
	}
	return tn
}

func wantCode(t *testing.T, what string, err error, code switchboard.Code) {
	t.Helper()
	if got := switchboard.ErrorCode(err); got != code {
		t.Fatalf("%s: error code = %q (%v), want %q", what, got, err, code)
	}
}

func wantField(t *testing.T, what string, err error, code switchboard.Code, field string) {
	t.Helper()
	wantCode(t, what, err, code)
	se := err.(*switchboard.Error)
	if _, ok := se.Fields[field]; !ok {
		t.Fatalf("%s: error %v does not name field %q", what, err, field)
	}
}

func TestTenants(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: " Acme ", Name: "Acme", AdminEmail: "boss@acme.test", Timezone: "Europe/Rome"})
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || a.Slug != "acme" || a.Currency != "USD" {
			t.Fatalf("CreateTenant = %+v, want id, slug acme, currency USD", a)
		}
		got, err := db.TenantBySlug(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("TenantBySlug mismatch (-created +got):\n%s", diff)
		}
		_, err = db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Again"})
		wantField(t, "duplicate slug", err, switchboard.CodeConflict, "slug")
		_, err = db.CreateTenant(ctx, switchboard.Tenant{Slug: "Bad Slug!", Timezone: "Mars/Olympus", Currency: "euro"})
		wantField(t, "bad tenant", err, switchboard.CodeInvalid, "slug")
		for _, f := range []string{"name", "timezone", "currency"} {
			wantField(t, "bad tenant", err, switchboard.CodeInvalid, f)
		}
		_, err = db.Tenant(ctx, 999999)
		wantCode(t, "missing tenant", err, switchboard.CodeNotFound)

		a.Name, a.BalanceCents, a.Currency = "Acme Inc", 12345, "eur"
		up, err := db.UpdateTenant(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if up.Name != "Acme Inc" || up.BalanceCents != 12345 || up.Currency != "EUR" || !up.CreatedAt.Equal(a.CreatedAt) {
			t.Errorf("UpdateTenant = %+v", up)
		}
		mustTenant(t, db, "beta")
		page, err := db.Tenants(ctx, switchboard.ListOptions{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 2 || len(page.Items) != 1 || page.NextCursor == "" {
			t.Fatalf("Tenants(limit 1) = %d items, total %d, cursor %q", len(page.Items), page.Total, page.NextCursor)
		}
		page, err = db.Tenants(ctx, switchboard.ListOptions{Limit: 1, Cursor: page.NextCursor})
		if err != nil || len(page.Items) != 1 || page.Items[0].Slug != "beta" || page.NextCursor != "" {
			t.Fatalf("Tenants(page 2) = %+v, %v", page, err)
		}
		_, err = db.Tenants(ctx, switchboard.ListOptions{Cursor: "garbage!"})
		wantField(t, "bad cursor", err, switchboard.CodeInvalid, "cursor")
		_, err = db.Tenants(ctx, switchboard.ListOptions{Limit: 5000})
		wantField(t, "big limit", err, switchboard.CodeInvalid, "limit")
	})
}

func TestUsers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		team, err := db.CreateTeam(ctx, tn.ID, switchboard.Team{Name: "Sales"})
		if err != nil {
			t.Fatal(err)
		}
		skill, err := db.CreateSkill(ctx, tn.ID, switchboard.Skill{Name: "Italian"})
		if err != nil {
			t.Fatal(err)
		}
		foreignTeam, err := db.CreateTeam(ctx, other.ID, switchboard.Team{Name: "Theirs"})
		if err != nil {
			t.Fatal(err)
		}
		u, err := db.CreateUser(ctx, tn.ID, switchboard.User{
			Email: "Ann@Acme.test", FirstName: "Ann", LastName: "Smith", Extension: "1001", AgentNumber: "A1",
			TeamIDs: []int64{team.ID}, Skills: []switchboard.UserSkill{{SkillID: skill.ID, Proficiency: 4}},
			PhoneNumbers: []string{"+39 011 2121212"}, OutboundNumber: "15550001111", SIPPassword: "s3cret",
		})
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || u.UUID == "" || u.Email != "ann@acme.test" || u.SIPUsername != "1001" {
			t.Fatalf("CreateUser = %+v", u)
		}
		if diff := cmp.Diff([]string{"+390112121212"}, u.PhoneNumbers); diff != "" {
			t.Errorf("phone numbers not normalized (-want +got):\n%s", diff)
		}
		got, err := db.User(ctx, tn.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(u, got); diff != "" {
			t.Errorf("User mismatch (-created +got):\n%s", diff)
		}
		if got, err := db.UserByEmail(ctx, tn.ID, "ann@acme.test"); err != nil || got.ID != u.ID {
			t.Errorf("UserByEmail = %d, %v", got.ID, err)
		}
		_, err = db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Dup"})
		wantField(t, "duplicate email", err, switchboard.CodeConflict, "email")
		_, err = db.CreateUser(ctx, tn.ID, switchboard.User{Email: "x@acme.test", FirstName: "X", Extension: "1001"})
		wantField(t, "duplicate extension", err, switchboard.CodeConflict, "extension")
		_, err = db.CreateUser(ctx, tn.ID, switchboard.User{Email: "x@acme.test", FirstName: "X", TeamIDs: []int64{foreignTeam.ID}})
		wantField(t, "foreign team", err, switchboard.CodeInvalid, "team_ids")
		_, err = db.CreateUser(ctx, tn.ID, switchboard.User{Email: "nope", Skills: []switchboard.UserSkill{{SkillID: skill.ID, Proficiency: 9}},
			PhoneNumbers: []string{"abc"}, Roles: []string{"king"}})
		for _, f := range []string{"email", "first_name", "skills", "phone_numbers", "roles"} {
			wantField(t, "invalid user", err, switchboard.CodeInvalid, f)
		}
		// The same e-mail may exist in another tenant.
		if _, err := db.CreateUser(ctx, other.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"}); err != nil {
			t.Fatalf("same e-mail in another tenant: %v", err)
		}

		for i := range 7 {
			if _, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: fmt.Sprintf("agent%d@acme.test", i), FirstName: "Agent"}); err != nil {
				t.Fatal(err)
			}
		}
		var seen []int64
		opt := switchboard.ListOptions{Limit: 3}
		for {
			page, err := db.Users(ctx, tn.ID, switchboard.UserFilter{}, opt)
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != 8 {
				t.Fatalf("Users total = %d, want 8", page.Total)
			}
			for _, x := range page.Items {
				seen = append(seen, x.ID)
			}
			if page.NextCursor == "" {
				break
			}
			opt.Cursor = page.NextCursor
		}
		if len(seen) != 8 || seen[0] != u.ID {
			t.Fatalf("paged through %v, want 8 users starting with %d", seen, u.ID)
		}
		page, err := db.Users(ctx, tn.ID, switchboard.UserFilter{}, switchboard.ListOptions{Limit: 2, Offset: 6})
		if err != nil || len(page.Items) != 2 || page.Items[0].ID != seen[6] {
			t.Fatalf("Users(offset 6) = %+v, %v", page.Items, err)
		}
		page, err = db.Users(ctx, tn.ID, switchboard.UserFilter{TeamID: team.ID}, switchboard.ListOptions{})
		if err != nil || page.Total != 1 || page.Items[0].Skills[0].Proficiency != 4 {
			t.Fatalf("Users(team) = %+v, %v", page, err)
		}

		u.FirstName, u.TeamIDs, u.Skills, u.SIPPassword = "Annie", nil, nil, ""
		up, err := db.UpdateUser(ctx, tn.ID, u)
		if err != nil {
			t.Fatal(err)
		}
		if up.FirstName != "Annie" || len(up.TeamIDs) != 0 || len(up.Skills) != 0 || up.SIPPassword != "" {
			t.Errorf("UpdateUser = %+v (password %q)", up, up.SIPPassword)
		}
		// An update without a password keeps the one set at creation.
		if accts, err := db.SIPAccounts(ctx, "1001"); err != nil || len(accts) != 1 ||
			accts[0].HA1 != ha1("1001", switchboard.DefaultSIPRealm, "s3cret") {
			t.Errorf("SIPAccounts after update = %+v, %v", accts, err)
		}
		now := time.Now()
		up.DeactivatedAt = &now
		if up, err = db.UpdateUser(ctx, tn.ID, up); err != nil || up.DeactivatedAt == nil {
			t.Fatalf("deactivate = %+v, %v", up, err)
		}
		page, _ = db.Users(ctx, tn.ID, switchboard.UserFilter{}, switchboard.ListOptions{})
		if page.Total != 7 {
			t.Errorf("after deactivation Users total = %d, want 7", page.Total)
		}
		page, _ = db.Users(ctx, tn.ID, switchboard.UserFilter{IncludeDeactivated: true}, switchboard.ListOptions{})
		if page.Total != 8 {
			t.Errorf("with deactivated Users total = %d, want 8", page.Total)
		}
		up.ID = 424242
		_, err = db.UpdateUser(ctx, tn.ID, up)
		wantCode(t, "update missing user", err, switchboard.CodeNotFound)
	})
}

func TestRouting(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		root, err := db.CreateTeam(ctx, tn.ID, switchboard.Team{Name: "Root"})
		if err != nil {
			t.Fatal(err)
		}
		child, err := db.CreateTeam(ctx, tn.ID, switchboard.Team{Name: "Child", ParentID: &root.ID})
		if err != nil {
			t.Fatal(err)
		}
		root.ParentID = &child.ID
		_, err = db.UpdateTeam(ctx, tn.ID, root)
		wantField(t, "team loop", err, switchboard.CodeInvalid, "parent_id")
		_, err = db.CreateTeam(ctx, tn.ID, switchboard.Team{Name: "Root"})
		wantField(t, "duplicate team", err, switchboard.CodeConflict, "name")
		child.Name = "Kids"
		if child, err = db.UpdateTeam(ctx, tn.ID, child); err != nil || child.Name != "Kids" {
			t.Fatalf("UpdateTeam = %+v, %v", child, err)
		}
		if err := db.DeleteTeam(ctx, tn.ID, root.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Team(ctx, tn.ID, child.ID); err != nil || got.ParentID != nil {
			t.Fatalf("child after parent deleted = %+v, %v", got, err)
		}
		wantCode(t, "delete again", db.DeleteTeam(ctx, tn.ID, root.ID), switchboard.CodeNotFound)
		if p, err := db.Teams(ctx, tn.ID, switchboard.ListOptions{}); err != nil || p.Total != 1 {
			t.Fatalf("Teams = %+v, %v", p, err)
		}

		sk, err := db.CreateSkill(ctx, tn.ID, switchboard.Skill{Name: "Billing"})
		if err != nil {
			t.Fatal(err)
		}
		sk.Name = "Invoices"
		if sk, err = db.UpdateSkill(ctx, tn.ID, sk); err != nil || sk.Name != "Invoices" {
			t.Fatalf("UpdateSkill = %+v, %v", sk, err)
		}
		if got, err := db.Skill(ctx, tn.ID, sk.ID); err != nil || got.Name != "Invoices" {
			t.Fatalf("Skill = %+v, %v", got, err)
		}
		if p, err := db.Skills(ctx, tn.ID, switchboard.ListOptions{}); err != nil || p.Total != 1 {
			t.Fatalf("Skills = %+v, %v", p, err)
		}
		if err := db.DeleteSkill(ctx, tn.ID, sk.ID); err != nil {
			t.Fatal(err)
		}

		statuses, err := db.Statuses(ctx, tn.ID, switchboard.ListOptions{})
		if err != nil || statuses.Total != len(switchboard.SystemStatuses) {
			t.Fatalf("new tenant statuses = %+v, %v", statuses, err)
		}
		sys := statuses.Items[0]
		sys.Name = "Gone"
		_, err = db.UpdateStatus(ctx, tn.ID, sys)
		wantCode(t, "update system status", err, switchboard.CodeForbidden)
		wantCode(t, "delete system status", db.DeleteStatus(ctx, tn.ID, sys.ID), switchboard.CodeForbidden)
		_, err = db.CreateStatus(ctx, tn.ID, switchboard.AgentStatus{Name: "available"})
		wantField(t, "system name", err, switchboard.CodeInvalid, "name")
		lunch, err := db.CreateStatus(ctx, tn.ID, switchboard.AgentStatus{Name: "Lunch"})
		if err != nil {
			t.Fatal(err)
		}
		lunch.Name, lunch.System = "Long lunch", true
		if lunch, err = db.UpdateStatus(ctx, tn.ID, lunch); err != nil || lunch.System || lunch.Name != "Long lunch" {
			t.Fatalf("UpdateStatus = %+v, %v", lunch, err)
		}
		if got, err := db.Status(ctx, tn.ID, lunch.ID); err != nil || got.Name != "Long lunch" {
			t.Fatalf("Status = %+v, %v", got, err)
		}
		if err := db.DeleteStatus(ctx, tn.ID, lunch.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestQueues(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		sk, _ := db.CreateSkill(ctx, tn.ID, switchboard.Skill{Name: "Italian"})
		ann, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", Extension: "1001"})
		bob, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "bob@acme.test", FirstName: "Bob"})
		eve, _ := db.CreateUser(ctx, other.ID, switchboard.User{Email: "eve@other.test", FirstName: "Eve"})

		q, err := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Sales Queue", Extension: "8001",
			Strategy: switchboard.StrategyLeastRecent, RequiredSkills: []switchboard.QueueSkill{{SkillID: sk.ID, MinProficiency: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		if q.TimeoutSeconds != 20 || q.Channel != switchboard.ChannelVoice || q.UUID == "" {
			t.Errorf("queue defaults = %+v", q)
		}
		got, err := db.Queue(ctx, tn.ID, q.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(q, got); diff != "" {
			t.Errorf("Queue mismatch (-created +got):\n%s", diff)
		}
		_, err = db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Clash", Extension: "1001"})
		wantField(t, "queue extension = user extension", err, switchboard.CodeConflict, "extension")
		_, err = db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Bad", Strategy: "loudest", TimeoutSeconds: -1})
		wantField(t, "bad strategy", err, switchboard.CodeInvalid, "strategy")
		wantField(t, "bad timeout", err, switchboard.CodeInvalid, "timeout_seconds")
		sub, err := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Sub", ParentID: &q.ID, Strategy: switchboard.StrategyRRMemory})
		if err != nil {
			t.Fatal(err)
		}
		q.ParentID = &sub.ID
		_, err = db.UpdateQueue(ctx, tn.ID, q)
		wantField(t, "queue loop", err, switchboard.CodeInvalid, "parent_id")
		q.ParentID, q.WrapUpSeconds, q.RequiredSkills = nil, 30, nil
		if q, err = db.UpdateQueue(ctx, tn.ID, q); err != nil || q.WrapUpSeconds != 30 || len(q.RequiredSkills) != 0 {
			t.Fatalf("UpdateQueue = %+v, %v", q, err)
		}

		if _, err := db.AddQueueMember(ctx, tn.ID, switchboard.QueueMember{QueueID: q.ID, UserID: bob.ID, Penalty: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddQueueMember(ctx, tn.ID, switchboard.QueueMember{QueueID: q.ID, UserID: ann.ID}); err != nil {
			t.Fatal(err)
		}
		_, err = db.AddQueueMember(ctx, tn.ID, switchboard.QueueMember{QueueID: q.ID, UserID: ann.ID})
		wantField(t, "member twice", err, switchboard.CodeConflict, "user_id")
		_, err = db.AddQueueMember(ctx, tn.ID, switchboard.QueueMember{QueueID: q.ID, UserID: eve.ID})
		wantField(t, "foreign member", err, switchboard.CodeInvalid, "user_id")
		_, err = db.AddQueueMember(ctx, other.ID, switchboard.QueueMember{QueueID: q.ID, UserID: eve.ID})
		wantCode(t, "member into foreign queue", err, switchboard.CodeNotFound)
		m, err := db.UpdateQueueMember(ctx, tn.ID, switchboard.QueueMember{QueueID: q.ID, UserID: bob.ID, Penalty: 5})
		if err != nil || m.Penalty != 5 || m.Position != 1 {
			t.Fatalf("UpdateQueueMember = %+v, %v", m, err)
		}
		members, err := db.QueueMembers(ctx, tn.ID, q.ID, switchboard.ListOptions{Limit: 1})
		if err != nil || members.Total != 2 || members.Items[0].UserID != bob.ID {
			t.Fatalf("QueueMembers page 1 = %+v, %v", members, err)
		}
		members, err = db.QueueMembers(ctx, tn.ID, q.ID, switchboard.ListOptions{Cursor: members.NextCursor})
		if err != nil || len(members.Items) != 1 || members.Items[0].UserID != ann.ID {
			t.Fatalf("QueueMembers page 2 = %+v, %v", members, err)
		}
		_, err = db.QueueMembers(ctx, other.ID, q.ID, switchboard.ListOptions{})
		wantCode(t, "foreign queue members", err, switchboard.CodeNotFound)
		if err := db.RemoveQueueMember(ctx, tn.ID, q.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "remove twice", db.RemoveQueueMember(ctx, tn.ID, q.ID, bob.ID), switchboard.CodeNotFound)
		if p, err := db.Queues(ctx, tn.ID, switchboard.ListOptions{}); err != nil || p.Total != 2 {
			t.Fatalf("Queues = %+v, %v", p, err)
		}
		if err := db.DeleteQueue(ctx, tn.ID, q.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Queue(ctx, tn.ID, sub.ID); err != nil || got.ParentID != nil {
			t.Fatalf("sub-queue after parent deleted = %+v, %v", got, err)
		}
	})
}

func TestPhoneNumbers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		u, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
		q, _ := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Sales"})
		n, err := db.CreatePhoneNumber(ctx, tn.ID, switchboard.PhoneNumber{Number: "+39 011 2121212", Label: "Main office", SMSEnabled: true, UserID: &u.ID})
		if err != nil {
			t.Fatal(err)
		}
		if n.Number != "+390112121212" || n.Input != "+39 011 2121212" || !n.SMSEnabled {
			t.Errorf("CreatePhoneNumber = %+v", n)
		}
		_, err = db.CreatePhoneNumber(ctx, other.ID, switchboard.PhoneNumber{Number: "390112121212"})
		wantField(t, "number owned by another tenant", err, switchboard.CodeConflict, "number")
		_, err = db.CreatePhoneNumber(ctx, tn.ID, switchboard.PhoneNumber{Number: "+15550001", UserID: &u.ID, QueueID: &q.ID})
		wantField(t, "both targets", err, switchboard.CodeInvalid, "queue_id")
		_, err = db.CreatePhoneNumber(ctx, tn.ID, switchboard.PhoneNumber{Number: "not a number"})
		wantField(t, "garbage number", err, switchboard.CodeInvalid, "number")
		_, err = db.CreatePhoneNumber(ctx, other.ID, switchboard.PhoneNumber{Number: "+15550002222", QueueID: &q.ID})
		wantField(t, "foreign queue", err, switchboard.CodeInvalid, "queue_id")
		n.UserID, n.QueueID, n.Label, n.Number = nil, &q.ID, "Sales line", ""
		if n, err = db.UpdatePhoneNumber(ctx, tn.ID, n); err != nil || *n.QueueID != q.ID || n.Number != "+390112121212" {
			t.Fatalf("UpdatePhoneNumber = %+v, %v", n, err)
		}
		if got, err := db.PhoneNumber(ctx, tn.ID, n.ID); err != nil || got.Label != "Sales line" {
			t.Fatalf("PhoneNumber = %+v, %v", got, err)
		}
		if p, err := db.PhoneNumbers(ctx, tn.ID, switchboard.ListOptions{}); err != nil || p.Total != 1 {
			t.Fatalf("PhoneNumbers = %+v, %v", p, err)
		}
		if err := db.DeletePhoneNumber(ctx, tn.ID, n.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreatePhoneNumber(ctx, other.ID, switchboard.PhoneNumber{Number: "+390112121212"}); err != nil {
			t.Fatalf("a released number can be taken again: %v", err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := sqlstoretest.Open(t, mk(t), sqlstore.Options{Now: clock})
			ctx := context.Background()
			tn := mustTenant(t, db, "acme")
			u, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
			k, err := db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{Name: "crm", UserID: &u.ID, Scopes: []string{switchboard.ScopeUsersRead}})
			if err != nil {
				t.Fatal(err)
			}
			if len(k.Secret) < 40 || k.Prefix != k.Secret[:sqlstore.KeyPrefixLen] {
				t.Fatalf("CreateAPIKey secret %q prefix %q", k.Secret, k.Prefix)
			}
			all, err := db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{})
			if err != nil || !all.Allows(switchboard.ScopeKeysManage) {
				t.Fatalf("key without scopes = %+v, %v; want every scope", all.APIKey, err)
			}
			_, err = db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{Scopes: []string{"root"}})
			wantField(t, "unknown scope", err, switchboard.CodeInvalid, "scopes")

			got, err := db.AuthenticateKey(ctx, k.Secret)
			if err != nil || got.ID != k.ID || got.TenantID != tn.ID || *got.UserID != u.ID {
				t.Fatalf("AuthenticateKey = %+v, %v", got, err)
			}
			if !got.Allows(switchboard.ScopeUsersRead) || got.Allows(switchboard.ScopeUsersManage) {
				t.Errorf("scopes of %v", got.Scopes)
			}
			_, err = db.AuthenticateKey(ctx, k.Secret[:len(k.Secret)-1]+"x")
			wantCode(t, "wrong secret", err, switchboard.CodeUnauthorized)
			_, err = db.AuthenticateKey(ctx, "")
			wantCode(t, "empty secret", err, switchboard.CodeUnauthorized)

			if err := db.TouchAPIKey(ctx, k.ID, now); err != nil {
				t.Fatal(err)
			}
			if got, _ := db.APIKey(ctx, tn.ID, k.ID); got.LastUsedAt == nil || !got.LastUsedAt.Equal(now) {
				t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, now)
			}
			exp := now.Add(time.Hour)
			short, err := db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{ExpiresAt: &exp})
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			now = now.Add(2 * time.Hour)
			mu.Unlock()
			_, err = db.AuthenticateKey(ctx, short.Secret)
			wantCode(t, "expired key", err, switchboard.CodeUnauthorized)

			rev, err := db.RevokeAPIKey(ctx, tn.ID, k.ID)
			if err != nil || rev.RevokedAt == nil {
				t.Fatalf("RevokeAPIKey = %+v, %v", rev, err)
			}
			_, err = db.AuthenticateKey(ctx, k.Secret)
			wantCode(t, "revoked key", err, switchboard.CodeUnauthorized)
			if p, err := db.APIKeys(ctx, tn.ID, switchboard.ListOptions{}); err != nil || p.Total != 3 {
				t.Fatalf("APIKeys = %+v, %v", p, err)
			}

			// A user key never carries more than a user key may, and stops
			// while its user is deactivated.
			bob, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "bob@acme.test", FirstName: "Bob"})
			uk, err := db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{UserID: &bob.ID})
			if err != nil || !slices.Equal(uk.Scopes, switchboard.UserKeyScopes) {
				t.Fatalf("user key without scopes = %v, %v; want %v", uk.Scopes, err, switchboard.UserKeyScopes)
			}
			for _, sc := range []string{switchboard.ScopeAll, switchboard.ScopeKeysManage, switchboard.ScopeWebhooksManage} {
				_, err = db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{UserID: &bob.ID, Scopes: []string{sc}})
				wantField(t, "user key with "+sc, err, switchboard.CodeInvalid, "scopes")
			}
			now := clock()
			bob.DeactivatedAt = &now
			if bob, err = db.UpdateUser(ctx, tn.ID, bob); err != nil {
				t.Fatal(err)
			}
			_, err = db.AuthenticateKey(ctx, uk.Secret)
			wantCode(t, "deactivated user's key", err, switchboard.CodeUnauthorized)
			_, err = db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{UserID: &bob.ID})
			wantField(t, "key for a deactivated user", err, switchboard.CodeInvalid, "user_id")
			bob.DeactivatedAt = nil
			if _, err = db.UpdateUser(ctx, tn.ID, bob); err != nil {
				t.Fatal(err)
			}
			if _, err = db.AuthenticateKey(ctx, uk.Secret); err != nil {
				t.Errorf("reactivated user's key: %v", err)
			}
		})
	}
}

func TestEventsOutbox(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "acme")
		b := mustTenant(t, db, "beta")
		u, err := db.CreateUser(ctx, a.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateUser(ctx, b.ID, switchboard.User{Email: "bob@beta.test", FirstName: "Bob"}); err != nil {
			t.Fatal(err)
		}
		// A failed change must leave no event behind.
		if _, err := db.CreateUser(ctx, a.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Dup"}); err == nil {
			t.Fatal("duplicate user was created")
		}
		q, _ := db.CreateQueue(ctx, a.ID, switchboard.Queue{Name: "Sales"})
		db.AddQueueMember(ctx, a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: u.ID})
		evs, err := db.Events(ctx, a.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for i, e := range evs {
			if e.Seq != int64(i+1) || e.TenantID != a.ID {
				t.Errorf("event %d has seq %d tenant %d, want seq %d tenant %d", i, e.Seq, e.TenantID, i+1, a.ID)
			}
			types = append(types, e.Type)
		}
		want := []string{switchboard.EventTenantCreated, switchboard.EventUserCreated, switchboard.EventQueueCreated, switchboard.EventQueueMemberAdded}
		if diff := cmp.Diff(want, types); diff != "" {
			t.Errorf("event types (-want +got):\n%s", diff)
		}
		if evs[1].SubjectType != "user" || evs[1].SubjectID != u.ID || len(evs[1].Payload) == 0 {
			t.Errorf("user event = %+v", evs[1])
		}
		rest, err := db.Events(ctx, a.ID, 2, 100)
		if err != nil || len(rest) != 2 || rest[0].Seq != 3 {
			t.Fatalf("Events after 2 = %+v, %v", rest, err)
		}
		bevs, _ := db.Events(ctx, b.ID, 0, 100)
		if len(bevs) != 2 {
			t.Errorf("tenant b has %d events, want 2", len(bevs))
		}
	})
}

// TestConcurrentWrites checks that parallel writers neither fail with a locked
// database nor break the gapless event sequence.
func TestConcurrentWrites(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "acme")
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.CreateSkill(ctx, a.ID, switchboard.Skill{Name: fmt.Sprintf("skill-%d", i)})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		evs, err := db.Events(ctx, a.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 41 {
			t.Fatalf("%d events, want 41", len(evs))
		}
		for i, e := range evs {
			if e.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d", i, e.Seq)
			}
		}
	})
}

// TestTenantIsolation shows that no store method hands one tenant another's row.
func TestTenantIsolation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "acme")
		b := mustTenant(t, db, "beta")
		u, _ := db.CreateUser(ctx, a.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
		team, _ := db.CreateTeam(ctx, a.ID, switchboard.Team{Name: "T"})
		sk, _ := db.CreateSkill(ctx, a.ID, switchboard.Skill{Name: "S"})
		st, _ := db.CreateStatus(ctx, a.ID, switchboard.AgentStatus{Name: "Lunch"})
		q, _ := db.CreateQueue(ctx, a.ID, switchboard.Queue{Name: "Q"})
		n, _ := db.CreatePhoneNumber(ctx, a.ID, switchboard.PhoneNumber{Number: "+15550001234"})
		k, _ := db.CreateAPIKey(ctx, a.ID, switchboard.APIKey{})

		checks := map[string]error{}
		_, checks["User"] = db.User(ctx, b.ID, u.ID)
		_, checks["UpdateUser"] = db.UpdateUser(ctx, b.ID, u)
		_, checks["Team"] = db.Team(ctx, b.ID, team.ID)
		_, checks["UpdateTeam"] = db.UpdateTeam(ctx, b.ID, team)
		checks["DeleteTeam"] = db.DeleteTeam(ctx, b.ID, team.ID)
		_, checks["Skill"] = db.Skill(ctx, b.ID, sk.ID)
		_, checks["UpdateSkill"] = db.UpdateSkill(ctx, b.ID, sk)
		checks["DeleteSkill"] = db.DeleteSkill(ctx, b.ID, sk.ID)
		_, checks["Status"] = db.Status(ctx, b.ID, st.ID)
		_, checks["UpdateStatus"] = db.UpdateStatus(ctx, b.ID, st)
		checks["DeleteStatus"] = db.DeleteStatus(ctx, b.ID, st.ID)
		_, checks["Queue"] = db.Queue(ctx, b.ID, q.ID)
		_, checks["UpdateQueue"] = db.UpdateQueue(ctx, b.ID, q)
		checks["DeleteQueue"] = db.DeleteQueue(ctx, b.ID, q.ID)
		_, checks["PhoneNumber"] = db.PhoneNumber(ctx, b.ID, n.ID)
		n.Number = ""
		_, checks["UpdatePhoneNumber"] = db.UpdatePhoneNumber(ctx, b.ID, n)
		checks["DeletePhoneNumber"] = db.DeletePhoneNumber(ctx, b.ID, n.ID)
		_, checks["APIKey"] = db.APIKey(ctx, b.ID, k.ID)
		_, checks["RevokeAPIKey"] = db.RevokeAPIKey(ctx, b.ID, k.ID)
		for name, err := range checks {
			if switchboard.ErrorCode(err) != switchboard.CodeNotFound {
				t.Errorf("%s across tenants: %v, want not_found", name, err)
			}
		}
		for name, total := range map[string]func() (int, error){
			"Users": func() (int, error) {
				p, err := db.Users(ctx, b.ID, switchboard.UserFilter{}, switchboard.ListOptions{})
				return p.Total, err
			},
			"Teams":  func() (int, error) { p, err := db.Teams(ctx, b.ID, switchboard.ListOptions{}); return p.Total, err },
			"Skills": func() (int, error) { p, err := db.Skills(ctx, b.ID, switchboard.ListOptions{}); return p.Total, err },
			"Queues": func() (int, error) { p, err := db.Queues(ctx, b.ID, switchboard.ListOptions{}); return p.Total, err },
			"PhoneNumbers": func() (int, error) {
				p, err := db.PhoneNumbers(ctx, b.ID, switchboard.ListOptions{})
				return p.Total, err
			},
			"APIKeys": func() (int, error) { p, err := db.APIKeys(ctx, b.ID, switchboard.ListOptions{}); return p.Total, err },
		} {
			if n, err := total(); err != nil || n != 0 {
				t.Errorf("%s of the other tenant = %d, %v; want 0", name, n, err)
			}
		}
	})
}
