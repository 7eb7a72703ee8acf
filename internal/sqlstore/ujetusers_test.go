package sqlstore_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestAgentSessions: sign-ins are recorded per user with their address, the
// latest one of each user is found, and other tenants' users are refused.
func TestAgentSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "sessa"), mustTenant(t, db, "sessb")
		u1, err := db.CreateUser(ctx, a.ID, switchboard.User{Email: "u1@a.test", FirstName: "U1"})
		if err != nil {
			t.Fatal(err)
		}
		u2, err := db.CreateUser(ctx, a.ID, switchboard.User{Email: "u2@a.test", FirstName: "U2"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.RecordSignIn(ctx, a.ID, u1.ID, "10.0.0.1", switchboard.SessionPresence); err != nil {
			t.Fatal(err)
		}
		s, err := db.RecordSignIn(ctx, a.ID, u1.ID, "::ffff:192.0.2.7", switchboard.SessionSIP)
		if err != nil {
			t.Fatal(err)
		}
		if s.RemoteAddr != "192.0.2.7" || s.At.IsZero() {
			t.Fatalf("sign-in = %+v, want the v4-mapped address unmapped and a time", s)
		}
		if _, err := db.RecordSignIn(ctx, a.ID, u2.ID, "2001:db8::5", switchboard.SessionPresence); err != nil {
			t.Fatal(err)
		}
		_, err = db.RecordSignIn(ctx, b.ID, u1.ID, "10.0.0.1", switchboard.SessionPresence)
		wantCode(t, "sign-in of another tenant's user", err, switchboard.CodeNotFound)
		_, err = db.RecordSignIn(ctx, a.ID, u1.ID, "not-an-ip", switchboard.SessionPresence)
		wantField(t, "sign-in from no address", err, switchboard.CodeInvalid, "remote_addr")

		last, err := db.LastSignIns(ctx, a.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(last) != 2 || last[u1.ID].RemoteAddr != "192.0.2.7" || last[u1.ID].Source != switchboard.SessionSIP ||
			last[u2.ID].RemoteAddr != "2001:db8::5" {
			t.Fatalf("last sign-ins = %+v", last)
		}
		only, err := db.LastSignIns(ctx, a.ID, []int64{u2.ID})
		if err != nil || len(only) != 1 || only[u2.ID].UserID != u2.ID {
			t.Fatalf("last sign-ins of u2 = %+v, %v", only, err)
		}
		if other, err := db.LastSignIns(ctx, b.ID, nil); err != nil || len(other) != 0 {
			t.Fatalf("other tenant's sign-ins = %+v, %v", other, err)
		}
	})
}

// TestPendingLogouts: a pending sign-out is kept once per agent, completed
// (the agent Offline, with its event) in one step, and cancelled without
// touching the presence.
func TestPendingLogouts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "plog")
		u, err := db.CreateUser(ctx, a.ID, switchboard.User{Email: "busy@a.test", FirstName: "Busy"})
		if err != nil {
			t.Fatal(err)
		}
		v, err := db.CreateUser(ctx, a.ID, switchboard.User{Email: "other@a.test", FirstName: "Other"})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{u.ID, v.ID} {
			if _, err := db.SetPresence(ctx, a.ID, id, switchboard.StatusAvailable, false); err != nil {
				t.Fatal(err)
			}
			if err := db.RequestLogout(ctx, a.ID, id); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.RequestLogout(ctx, a.ID, u.ID); err != nil { // twice: still one
			t.Fatal(err)
		}
		wantCode(t, "logout of an unknown user", db.RequestLogout(ctx, a.ID, 999999), switchboard.CodeNotFound)
		pend, err := db.PendingLogouts(ctx, 10)
		if err != nil || len(pend) != 2 {
			t.Fatalf("pending = %+v, %v; want two", pend, err)
		}
		head, _ := db.EventHead(ctx, a.ID)
		prev, err := db.CompleteLogout(ctx, a.ID, u.ID)
		if err != nil || prev.Status != switchboard.StatusAvailable {
			t.Fatalf("complete = %+v, %v; want the previous Available", prev, err)
		}
		p, _ := db.Presence(ctx, a.ID, u.ID)
		if p.Status != switchboard.StatusOffline {
			t.Fatalf("presence after logout = %s, want Offline", p.Status)
		}
		evs, _ := db.Events(ctx, a.ID, head, 10)
		if len(evs) != 1 || evs[0].Type != switchboard.EventAgentStatusChanged {
			t.Fatalf("events of the logout = %+v, want one agent.status_changed", evs)
		}
		if err := db.CancelLogout(ctx, a.ID, v.ID); err != nil {
			t.Fatal(err)
		}
		if p, _ := db.Presence(ctx, a.ID, v.ID); p.Status != switchboard.StatusAvailable {
			t.Fatalf("presence after a cancelled logout = %s, want Available", p.Status)
		}
		if pend, _ := db.PendingLogouts(ctx, 10); len(pend) != 0 {
			t.Fatalf("pending after completion and cancel = %+v", pend)
		}
		// Completing again is harmless: Offline stays, no event.
		head, _ = db.EventHead(ctx, a.ID)
		if prev, err := db.CompleteLogout(ctx, a.ID, u.ID); err != nil || prev.Status != switchboard.StatusOffline {
			t.Fatalf("second completion = %+v, %v", prev, err)
		}
		if h, _ := db.EventHead(ctx, a.ID); h != head {
			t.Fatalf("a logout of an Offline agent appended events")
		}
	})
}

// TestForceLogoutJobs: jobs are filed for their agents, updated with
// results, listed newest first, and the unfinished ones found for resuming.
func TestForceLogoutJobs(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "flja"), mustTenant(t, db, "fljb")
		_, err := db.CreateForceLogoutJob(ctx, a.ID, switchboard.ForceLogoutJob{})
		wantField(t, "job without agents", err, switchboard.CodeInvalid, "agent_ids")
		j1, err := db.CreateForceLogoutJob(ctx, a.ID, switchboard.ForceLogoutJob{AgentIDs: []int64{3, 4, 5}})
		if err != nil || j1.Status != switchboard.LogoutJobCreated {
			t.Fatalf("create = %+v, %v", j1, err)
		}
		j2, err := db.CreateForceLogoutJob(ctx, a.ID, switchboard.ForceLogoutJob{AgentIDs: []int64{6}})
		if err != nil {
			t.Fatal(err)
		}
		j1.Status, j1.Processed = switchboard.LogoutJobFinished, 3
		j1.Results = []switchboard.ForceLogoutResult{{AgentID: 3, PreviousStatus: "Available", CurrentStatus: "Offline"},
			{AgentID: 4, PreviousStatus: "In-Call", CurrentStatus: "In-Call", Pending: true}}
		if j1, err = db.UpdateForceLogoutJob(ctx, j1); err != nil || j1.FinishedAt == nil {
			t.Fatalf("finish = %+v, %v", j1, err)
		}
		got, err := db.ForceLogoutJob(ctx, a.ID, j1.ID)
		if err != nil || got.Status != switchboard.LogoutJobFinished || len(got.Results) != 2 || !got.Results[1].Pending ||
			len(got.AgentIDs) != 3 || got.FinishedAt == nil {
			t.Fatalf("read back = %+v, %v", got, err)
		}
		_, err = db.ForceLogoutJob(ctx, b.ID, j1.ID)
		wantCode(t, "another tenant's job", err, switchboard.CodeNotFound)
		page, err := db.ForceLogoutJobs(ctx, a.ID, switchboard.ListOptions{Limit: 10})
		if err != nil || page.Total != 2 || page.Items[0].ID != j2.ID {
			t.Fatalf("list = %+v, %v; want two, newest first", page, err)
		}
		open, err := db.UnfinishedForceLogoutJobs(ctx)
		if err != nil || len(open) != 1 || open[0].ID != j2.ID {
			t.Fatalf("unfinished = %+v, %v", open, err)
		}
	})
}

// TestUserJobs walks a bulk user job through its states: validation (a
// stale one refused), proceed (only from valid_scheme), rows applied in one
// transaction with a failing row rolled back alone, a resumed batch that
// skips applied rows, and finish.
func TestUserJobs(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "ujoba"), mustTenant(t, db, "ujobb")
		old, err := db.CreateUser(ctx, a.ID, switchboard.User{Email: "old@a.test", FirstName: "Old", LastName: "Name", Extension: "101"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.CreateUserJob(ctx, a.ID, "users.json", nil)
		wantField(t, "job without a file", err, switchboard.CodeInvalid, "file")
		j, err := db.CreateUserJob(ctx, a.ID, "users.json", []byte(`[1]`))
		if err != nil || j.Status != switchboard.UserJobCreated || j.Version != 1 {
			t.Fatalf("create = %+v, %v", j, err)
		}
		if j, err = db.ReplaceUserJobFile(ctx, a.ID, j.ID, "users2.json", []byte(`[2]`)); err != nil || j.Version != 2 {
			t.Fatalf("replace = %+v, %v", j, err)
		}
		if f, err := db.UserJobFile(ctx, a.ID, j.ID); err != nil || string(f) != "[2]" {
			t.Fatalf("file = %q, %v", f, err)
		}
		_, err = db.UserJobFile(ctx, b.ID, j.ID)
		wantCode(t, "another tenant's job file", err, switchboard.CodeNotFound)
		_, err = db.SetUserJobScheme(ctx, a.ID, j.ID, 1, nil, "")
		wantCode(t, "validation of a replaced file", err, switchboard.CodeConflict)
		_, err = db.ProceedUserJob(ctx, a.ID, j.ID)
		wantCode(t, "proceed before validation", err, switchboard.CodeConflict)

		rows := []switchboard.UserJobRow{
			{Row: 1, Email: "new@a.test", Data: json.RawMessage(`{"email":"new@a.test"}`)},
			{Row: 2, Email: "old@a.test", Data: json.RawMessage(`{"email":"old@a.test"}`)},
			{Row: 3, Email: "clash@a.test", Data: json.RawMessage(`{"email":"clash@a.test"}`)},
		}
		// A row with errors makes the scheme invalid; the valid file is set
		// on a fresh version.
		bad := append([]switchboard.UserJobRow(nil), rows...)
		bad[2].Errors = []switchboard.FieldError{{Field: "first_name", Message: "Non-empty string"}}
		if j, err = db.SetUserJobScheme(ctx, a.ID, j.ID, 2, bad, ""); err != nil || j.Status != switchboard.UserJobInvalidScheme || j.SchemeErrors != 1 {
			t.Fatalf("invalid scheme = %+v, %v", j, err)
		}
		errRows, err := db.UserJobRows(ctx, a.ID, j.ID, switchboard.UserRowFilter{WithErrors: true}, switchboard.ListOptions{Limit: 10})
		if err != nil || errRows.Total != 1 || errRows.Items[0].Row != 3 || errRows.Items[0].Errors[0].Field != "first_name" {
			t.Fatalf("error rows = %+v, %v", errRows, err)
		}
		if j, err = db.ReplaceUserJobFile(ctx, a.ID, j.ID, "users3.json", []byte(`[3]`)); err != nil {
			t.Fatal(err)
		}
		if j, err = db.SetUserJobScheme(ctx, a.ID, j.ID, j.Version, rows, ""); err != nil || j.Status != switchboard.UserJobValidScheme || j.Total != 3 {
			t.Fatalf("valid scheme = %+v, %v", j, err)
		}
		_, err = db.ApplyUserJobRows(ctx, a.ID, j.ID, nil)
		wantCode(t, "apply before proceed", err, switchboard.CodeConflict)
		if j, err = db.ProceedUserJob(ctx, a.ID, j.ID); err != nil || j.Status != switchboard.UserJobInProgress {
			t.Fatalf("proceed = %+v, %v", j, err)
		}
		_, err = db.ReplaceUserJobFile(ctx, a.ID, j.ID, "late.json", []byte(`[4]`))
		wantCode(t, "replace after proceed", err, switchboard.CodeConflict)
		if open, err := db.UnfinishedUserJobs(ctx); err != nil || len(open) != 1 || open[0].ID != j.ID {
			t.Fatalf("unfinished = %+v, %v", open, err)
		}

		name := func(first string) func(*switchboard.User, bool) error {
			return func(u *switchboard.User, exists bool) error {
				u.FirstName, u.LastName = first, "Bulk"
				return nil
			}
		}
		head, _ := db.EventHead(ctx, a.ID)
		changes := []switchboard.UserRowChange{
			{Row: 1, Email: "new@a.test", Patch: name("New")},
			{Row: 2, Email: "OLD@a.test", Patch: name("Renamed")},
			// Row 3 takes old's extension: the store refuses it, and only it.
			{Row: 3, Email: "clash@a.test", Patch: func(u *switchboard.User, exists bool) error {
				u.FirstName, u.Extension = "Clash", "101"
				return nil
			}},
		}
		out, err := db.ApplyUserJobRows(ctx, a.ID, j.ID, changes)
		if err != nil || len(out) != 3 {
			t.Fatalf("apply = %+v, %v", out, err)
		}
		if out[0].Outcome != switchboard.RowCreated || out[1].Outcome != switchboard.RowUpdated || *out[1].UserID != old.ID ||
			out[2].Outcome != switchboard.RowFailed || !strings.Contains(out[2].Reason, "extension") {
			t.Fatalf("outcomes = %+v", out)
		}
		if _, err := db.UserByEmail(ctx, a.ID, "clash@a.test"); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Fatalf("the failed row's user exists: %v", err)
		}
		if u, _ := db.User(ctx, a.ID, old.ID); u.FirstName != "Renamed" || u.Extension != "101" {
			t.Fatalf("updated user = %+v", u)
		}
		evs, _ := db.Events(ctx, a.ID, head, 10)
		if len(evs) != 2 || evs[0].Type != switchboard.EventUserCreated || evs[1].Type != switchboard.EventUserUpdated {
			t.Fatalf("events = %+v, want user.created and user.updated", evs)
		}
		// A resumed worker sending the same rows changes nothing.
		again, err := db.ApplyUserJobRows(ctx, a.ID, j.ID, changes)
		if err != nil || len(again) != 0 {
			t.Fatalf("re-apply = %+v, %v; want every row skipped", again, err)
		}
		pending, err := db.UserJobRows(ctx, a.ID, j.ID, switchboard.UserRowFilter{Pending: true}, switchboard.ListOptions{Limit: 10})
		if err != nil || pending.Total != 0 {
			t.Fatalf("pending rows = %+v, %v", pending, err)
		}
		if j, err = db.FinishUserJob(ctx, a.ID, j.ID); err != nil || j.Status != switchboard.UserJobFinished || j.FinishedAt == nil {
			t.Fatalf("finish = %+v, %v", j, err)
		}
		got, err := db.UserJob(ctx, a.ID, j.ID)
		if err != nil || got.Processed != 3 || got.Created != 1 || got.Updated != 1 || got.Failed != 1 {
			t.Fatalf("job counts = %+v, %v", got, err)
		}
		j2, _ := db.CreateUserJob(ctx, a.ID, "second.json", []byte(`[]`))
		list, err := db.UserJobs(ctx, a.ID, switchboard.ListOptions{Limit: 10})
		if err != nil || list.Total != 2 || list.Items[0].ID != j2.ID {
			t.Fatalf("jobs = %+v, %v; want newest first", list, err)
		}
		if other, _ := db.UserJobs(ctx, b.ID, switchboard.ListOptions{Limit: 10}); other.Total != 0 {
			t.Fatalf("another tenant sees %d jobs", other.Total)
		}
	})
}

// TestUserJobsOneBatchSeesItsOwnChanges: rows of one batch see the users the
// rows before them created or renamed, as if applied one by one.
func TestUserJobsOneBatchSeesItsOwnChanges(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "ujren")
		old, err := db.CreateUser(ctx, a.ID, switchboard.User{Email: "old@a.test", FirstName: "Old"})
		if err != nil {
			t.Fatal(err)
		}
		j, _ := db.CreateUserJob(ctx, a.ID, "f.json", []byte("[]"))
		rows := []switchboard.UserJobRow{{Row: 1, Email: "old@a.test"}, {Row: 2, Email: "new@a.test"}, {Row: 3, Email: "fresh@a.test"},
			{Row: 4, Email: "fresh@a.test"}}
		if _, err := db.SetUserJobScheme(ctx, a.ID, j.ID, 1, rows, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ProceedUserJob(ctx, a.ID, j.ID); err != nil {
			t.Fatal(err)
		}
		set := func(first, newEmail string) func(*switchboard.User, bool) error {
			return func(u *switchboard.User, _ bool) error {
				u.FirstName = first
				if newEmail != "" {
					u.Email = newEmail
				}
				return nil
			}
		}
		out, err := db.ApplyUserJobRows(ctx, a.ID, j.ID, []switchboard.UserRowChange{
			{Row: 1, Email: "old@a.test", Patch: set("Renamed", "new@a.test")},
			{Row: 2, Email: "new@a.test", Patch: set("Again", "")},
			{Row: 3, Email: "fresh@a.test", Patch: set("Fresh", "")},
			{Row: 4, Email: "FRESH@a.test", Patch: set("Twice", "")},
		})
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, r := range out {
			got = append(got, r.Outcome)
		}
		if strings.Join(got, ",") != "updated,updated,created,updated" || *out[0].UserID != old.ID || *out[1].UserID != old.ID ||
			*out[3].UserID != *out[2].UserID {
			t.Fatalf("outcomes = %v (%+v)", got, out)
		}
		if u, _ := db.User(ctx, a.ID, old.ID); u.Email != "new@a.test" || u.FirstName != "Again" {
			t.Fatalf("renamed user = %+v", u)
		}
		if u, _ := db.UserByEmail(ctx, a.ID, "fresh@a.test"); u.FirstName != "Twice" {
			t.Fatalf("fresh user = %+v", u)
		}
		// The rows' outcomes are stored, with their data.
		p, err := db.UserJobRows(ctx, a.ID, j.ID, switchboard.UserRowFilter{}, switchboard.ListOptions{Limit: 10})
		if err != nil || len(p.Items) != 4 || p.Items[2].Outcome != switchboard.RowCreated || p.Items[2].Email != "fresh@a.test" {
			t.Fatalf("stored rows = %+v, %v", p.Items, err)
		}
	})
}
