package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

func TestPresenceAndCalls(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		u, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", Extension: "1001"})
		p, err := db.Presence(ctx, tn.ID, u.ID)
		if err != nil || p.Status != switchboard.StatusOffline || p.Available {
			t.Fatalf("new user's presence %+v, %v", p, err)
		}
		db.CreateStatus(ctx, tn.ID, switchboard.AgentStatus{Name: "Lunch"})
		if p, err = db.SetPresence(ctx, tn.ID, u.ID, "available", false); err != nil || p.Status != "Available" || !p.Available {
			t.Fatalf("SetPresence(available) = %+v, %v", p, err)
		}
		if got, _ := db.Presence(ctx, tn.ID, u.ID); got.Status != "Available" || !got.Available || got.Since.IsZero() {
			t.Errorf("Presence after sign-in %+v", got)
		}
		_, err = db.SetPresence(ctx, tn.ID, u.ID, "Wrap-Up", false)
		wantField(t, "agent setting Wrap-Up", err, switchboard.CodeInvalid, "status")
		if _, err := db.SetPresence(ctx, tn.ID, u.ID, "Wrap-Up", true); err != nil {
			t.Errorf("the system setting Wrap-Up: %v", err)
		}
		_, err = db.SetPresence(ctx, tn.ID, u.ID, "Napping", false)
		wantField(t, "unknown status", err, switchboard.CodeInvalid, "status")
		_, err = db.SetPresence(ctx, other.ID, u.ID, "Lunch", false)
		wantCode(t, "presence across tenants", err, switchboard.CodeNotFound)
		evs, _ := db.Events(ctx, tn.ID, 0, 100)
		if last := evs[len(evs)-1]; last.Type != switchboard.EventAgentStatusChanged || last.SubjectID != u.ID {
			t.Errorf("last event %+v", last)
		}

		now := time.Now().UTC().Truncate(time.Microsecond)
		c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+15550001111", To: "8001", CreatedAt: now, QueuedAt: &now}, "created")
		if err != nil || c.ID == 0 || c.UUID == "" {
			t.Fatalf("SaveCall(new) = %+v, %v", c, err)
		}
		later := now.Add(3 * time.Second)
		c.Status, c.ConnectedAt, c.AgentID = switchboard.CallConnected, &later, &u.ID
		if _, err := db.SaveCall(ctx, c, "connected"); err != nil {
			t.Fatal(err)
		}
		got, err := db.Call(ctx, tn.ID, c.ID)
		if err != nil || got.Status != switchboard.CallConnected || *got.AgentID != u.ID || got.Wait() != 3*time.Second {
			t.Errorf("Call = %+v, %v", got, err)
		}
		_, err = db.Call(ctx, other.ID, c.ID)
		wantCode(t, "call across tenants", err, switchboard.CodeNotFound)
		evs, _ = db.Events(ctx, tn.ID, 0, 100)
		if n := len(evs); evs[n-2].Type != "call.created" || evs[n-1].Type != "call.connected" {
			t.Errorf("call events %s, %s", evs[n-2].Type, evs[n-1].Type)
		}
	})
}

func TestCDRFilters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		team, _ := db.CreateTeam(ctx, tn.ID, switchboard.Team{Name: "Sales"})
		ann, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", TeamIDs: []int64{team.ID}})
		bob, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "bob@acme.test", FirstName: "Bob"})
		q, _ := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Q"})
		base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		mk := func(tenant int64, from string, offset, talk time.Duration, agent *int64, d switchboard.Disposition, dir switchboard.Direction, open bool) int64 {
			t.Helper()
			start := base.Add(offset)
			c := switchboard.Call{TenantID: tenant, Direction: dir, Status: switchboard.CallFinished, From: from, To: "+390112121212",
				QueueID: &q.ID, AgentID: agent, Disposition: d, CreatedAt: start, QueuedAt: &start}
			if agent != nil {
				conn := start.Add(10 * time.Second)
				c.ConnectedAt = &conn
				end := conn.Add(talk)
				c.EndedAt = &end
			} else if !open {
				end := start.Add(30 * time.Second)
				c.EndedAt = &end
			}
			c, err := db.SaveCall(ctx, c, "ended")
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		a1 := mk(tn.ID, "+15550001111", 0, 2*time.Minute, &ann.ID, switchboard.DispositionAnswered, switchboard.Inbound, false)
		b1 := mk(tn.ID, "+15559990000", time.Hour, 10*time.Minute, &bob.ID, switchboard.DispositionAnswered, switchboard.Outbound, false)
		ab := mk(tn.ID, "+44200000001", 2*time.Hour, 0, nil, switchboard.DispositionAbandoned, switchboard.Inbound, false)
		live := mk(tn.ID, "+15550002222", 3*time.Hour, 0, nil, "", switchboard.Inbound, true)
		mk(other.ID, "+15550001111", 0, time.Minute, nil, switchboard.DispositionAbandoned, switchboard.Inbound, false)

		since, until := base.Add(30*time.Minute), base.Add(150*time.Minute)
		minTalk, maxTalk := 5*time.Minute, 3*time.Minute
		for name, tt := range map[string]struct {
			f    switchboard.CDRFilter
			want []int64
		}{
			"ended only":      {switchboard.CDRFilter{}, []int64{a1, b1, ab}},
			"include open":    {switchboard.CDRFilter{Open: true}, []int64{a1, b1, ab, live}},
			"time range":      {switchboard.CDRFilter{Since: &since, Until: &until}, []int64{b1, ab}},
			"direction":       {switchboard.CDRFilter{Direction: switchboard.Outbound}, []int64{b1}},
			"disposition":     {switchboard.CDRFilter{Disposition: switchboard.DispositionAbandoned}, []int64{ab}},
			"agent":           {switchboard.CDRFilter{AgentID: ann.ID}, []int64{a1}},
			"team":            {switchboard.CDRFilter{TeamID: team.ID}, []int64{a1}},
			"queue":           {switchboard.CDRFilter{QueueID: q.ID}, []int64{a1, b1, ab}},
			"number prefix":   {switchboard.CDRFilter{NumberPrefix: "+1555"}, []int64{a1, b1}},
			"number contains": {switchboard.CDRFilter{NumberContains: "999"}, []int64{b1}},
			"like is escaped": {switchboard.CDRFilter{NumberContains: "%"}, nil},
			"min talk":        {switchboard.CDRFilter{MinDuration: &minTalk}, []int64{b1}},
			"max talk":        {switchboard.CDRFilter{MaxDuration: &maxTalk}, []int64{a1, ab}},
		} {
			page, err := db.CDRs(ctx, tn.ID, tt.f, switchboard.ListOptions{})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var got []int64
			for _, c := range page.Items {
				got = append(got, c.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || page.Total != len(tt.want) {
				t.Errorf("%s: got %v (total %d), want %v", name, got, page.Total, tt.want)
			}
		}
		page, _ := db.CDRs(ctx, tn.ID, switchboard.CDRFilter{AgentID: ann.ID}, switchboard.ListOptions{})
		if r := page.Items[0]; r.WaitSeconds != 10 || r.TalkSeconds != 120 || r.TotalSeconds != 130 {
			t.Errorf("durations of %+v", r)
		}
		evs, err := db.SubjectEvents(ctx, tn.ID, "call", a1)
		if err != nil || len(evs) != 1 || evs[0].Type != "call.ended" {
			t.Errorf("SubjectEvents = %+v, %v", evs, err)
		}
		if evs, _ := db.SubjectEvents(ctx, other.ID, "call", a1); len(evs) != 0 {
			t.Errorf("another tenant sees the call's events")
		}
	})
}

func TestCallStats(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		q, _ := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Q"})
		base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		save := func(wait, talk time.Duration, answered bool, queue *int64) {
			t.Helper()
			start := base
			c := switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, From: "+15550001111", To: "8001",
				QueueID: queue, CreatedAt: start, QueuedAt: &start}
			if answered {
				conn := start.Add(wait)
				end := conn.Add(talk)
				c.ConnectedAt, c.EndedAt, c.Status, c.Disposition = &conn, &end, switchboard.CallFinished, switchboard.DispositionAnswered
			} else {
				end := start.Add(wait)
				c.EndedAt, c.Status, c.Disposition = &end, switchboard.CallFailed, switchboard.DispositionAbandoned
			}
			if _, err := db.SaveCall(ctx, c, "ended"); err != nil {
				t.Fatal(err)
			}
		}
		save(10*time.Second, 100*time.Second, true, &q.ID)
		save(30*time.Second, 200*time.Second, true, &q.ID)
		save(50*time.Second, 0, false, &q.ID)
		save(5*time.Second, 60*time.Second, true, nil) // another queue's
		s, err := db.CallStats(ctx, tn.ID, q.ID, base.Add(-time.Hour), base.Add(time.Hour), 20*time.Second)
		want := switchboard.CallStats{Offered: 3, Answered: 2, Abandoned: 1, AnsweredInSL: 1, ServiceLevel: 0.5,
			ServiceLevelSeconds: 20, ASASeconds: 20, AHTSeconds: 150, AbandonRate: 1.0 / 3}
		if err != nil || s != want {
			t.Errorf("CallStats(queue) = %+v, %v; want %+v", s, err, want)
		}
		if all, _ := db.CallStats(ctx, tn.ID, 0, base.Add(-time.Hour), base.Add(time.Hour), 20*time.Second); all.Offered != 4 {
			t.Errorf("CallStats(tenant) offered %d, want 4", all.Offered)
		}
		if none, _ := db.CallStats(ctx, tn.ID, q.ID, base.Add(time.Hour), base.Add(2*time.Hour), 20*time.Second); none.Offered != 0 || none.ServiceLevel != 1 {
			t.Errorf("empty period %+v", none)
		}
	})
}

func TestDNCAndCallSource(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		d, err := db.AddDNC(ctx, tn.ID, "1 (555) 000-3333", "asked", nil)
		if err != nil || d.Number != "+15550003333" {
			t.Fatalf("AddDNC = %+v, %v", d, err)
		}
		_, err = db.AddDNC(ctx, tn.ID, "+15550003333", "", nil)
		wantField(t, "duplicate DNC", err, switchboard.CodeConflict, "number")
		_, err = db.AddDNC(ctx, tn.ID, "nope", "", nil)
		wantField(t, "bad DNC number", err, switchboard.CodeInvalid, "number")
		if on, _ := db.IsDNC(ctx, tn.ID, "+15550003333"); !on {
			t.Errorf("number not on the list")
		}
		if on, _ := db.IsDNC(ctx, other.ID, "+15550003333"); on {
			t.Errorf("another tenant's list applies")
		}
		wantCode(t, "remove across tenants", db.RemoveDNC(ctx, other.ID, d.ID), switchboard.CodeNotFound)
		if err := db.RemoveDNC(ctx, tn.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		if p, _ := db.DNCNumbers(ctx, tn.ID, switchboard.ListOptions{}); p.Total != 0 {
			t.Errorf("list after removal: %d", p.Total)
		}
		// An entry with an expiry blocks until then, and no longer after.
		past := time.Now().Add(-time.Minute)
		_, err = db.AddDNC(ctx, tn.ID, "+15550004444", "", &past)
		wantField(t, "DNC expiring in the past", err, switchboard.CodeInvalid, "expires_at")
		soon := time.Now().Add(400 * time.Millisecond)
		e, err := db.AddDNC(ctx, tn.ID, "+15550004444", "for a while", &soon)
		if err != nil || e.ExpiresAt == nil || !e.ExpiresAt.Equal(soon.UTC().Truncate(time.Microsecond)) {
			t.Fatalf("AddDNC with expiry = %+v, %v", e, err)
		}
		if on, _ := db.IsDNC(ctx, tn.ID, "+15550004444"); !on {
			t.Error("an entry not expired yet does not block")
		}
		if p, _ := db.DNCNumbers(ctx, tn.ID, switchboard.ListOptions{}); len(p.Items) != 1 || p.Items[0].ExpiresAt == nil {
			t.Errorf("list with an expiring entry: %+v", p.Items)
		}
		time.Sleep(time.Until(soon) + 50*time.Millisecond)
		if on, _ := db.IsDNC(ctx, tn.ID, "+15550004444"); on {
			t.Error("an expired entry still blocks")
		}
		c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallAssigned,
			From: "+1", To: "+2", CreatedAt: time.Now(), Source: switchboard.CallSource{System: "crm", AccountID: "A-1"}}, "created")
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Call(ctx, tn.ID, c.ID); got.Source.System != "crm" || got.Source.AccountID != "A-1" {
			t.Errorf("source %+v", got.Source)
		}
	})
}

func TestScheduledAndRecoveredCalls(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		now := time.Now().UTC().Truncate(time.Microsecond)
		failed, _ := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallFailed,
			From: "+1", To: "+2", CreatedAt: now, EndedAt: &now}, "ended")
		at := now.Add(time.Hour)
		sched, err := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallScheduled,
			From: "+2", To: "+1", CreatedAt: now, ScheduledAt: &at, ParentID: &failed.ID}, "scheduled")
		if err != nil {
			t.Fatal(err)
		}
		open, _ := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+3", To: "+2", CreatedAt: now}, "created")
		n, err := db.CloseOrphanCalls(ctx, "system restart")
		if err != nil || n != 1 {
			t.Fatalf("CloseOrphanCalls = %d, %v; want only the queued call", n, err)
		}
		if c, _ := db.Call(ctx, tn.ID, open.ID); c.Status != switchboard.CallFailed || c.HangupCause != "system restart" {
			t.Errorf("orphan %+v", c)
		}
		list, err := db.ScheduledCalls(ctx)
		if err != nil || len(list) != 1 || list[0].ID != sched.ID || !list[0].ScheduledAt.Equal(at) {
			t.Fatalf("ScheduledCalls = %+v, %v", list, err)
		}
		if err := db.RecoverCall(ctx, tn.ID, failed.ID); err != nil {
			t.Fatal(err)
		}
		if c, _ := db.Call(ctx, tn.ID, failed.ID); c.Status != switchboard.CallRecovered {
			t.Errorf("parent after recovery %+v", c)
		}
		done, _ := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallFinished,
			From: "+4", To: "+2", CreatedAt: now, EndedAt: &now}, "ended")
		if err := db.RecoverCall(ctx, tn.ID, done.ID); err != nil {
			t.Fatal(err)
		}
		if c, _ := db.Call(ctx, tn.ID, done.ID); c.Status != switchboard.CallFinished {
			t.Errorf("RecoverCall changed a call that had not failed: %+v", c)
		}
	})
}

// TestCallEventPayload checks that a call's event records, with version 1,
// the names of its queue, agent, agents rung and the caller's contact as they
// were when it changed, that a later rename leaves it as it was, and that a
// change without an event type is refused.
func TestCallEventPayload(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		ann, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", LastName: "Lee", Extension: "101"})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "bob@acme.test", FirstName: "Bob", Extension: "102"})
		if err != nil {
			t.Fatal(err)
		}
		q, err := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Sales"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateContact(ctx, tn.ID, switchboard.Contact{FirstName: "Maria", LastName: "Rosi", PrimaryPhone: "+393331234567",
			CRMName: "Hubspot"}); err != nil {
			t.Fatal(err)
		}
		c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallAssigned,
			From: "+393331234567", To: "+390112121212", QueueID: &q.ID, AgentID: &ann.ID, RingingAgents: []int64{bob.ID, ann.ID},
			CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6789, time.UTC)}, "ringing")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SaveCall(ctx, c, "ringing_somewhere"); err == nil {
			t.Fatal("a change without an event type was saved")
		}
		if _, err := db.UpdateUser(ctx, tn.ID, switchboard.User{ID: ann.ID, Email: "ann@acme.test", FirstName: "Anne", Extension: "109"}); err != nil {
			t.Fatal(err)
		}
		evs, err := db.SubjectEvents(ctx, tn.ID, "call", c.ID)
		if err != nil || len(evs) != 1 || evs[0].Type != switchboard.EventCallRinging {
			t.Fatalf("call events %v, %v", evs, err)
		}
		var p switchboard.CallEventPayload
		if err := json.Unmarshal(evs[0].Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.V != 1 || p.Queue == nil || p.Queue.Name != "Sales" || p.Agent == nil || p.Agent.Name() != "Ann Lee" || p.Agent.Extension != "101" ||
			len(p.Ringing) != 2 || p.Ringing[0].FirstName != "Bob" || p.Ringing[1].Email != "ann@acme.test" ||
			p.Customer == nil || p.Customer.FirstName != "Maria" || p.Customer.CRMName != "Hubspot" || p.UUID != c.UUID {
			t.Fatalf("payload %s", evs[0].Payload)
		}
		if want := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC); !p.CreatedAt.Equal(want) {
			t.Errorf("created_at %v, want the store's microseconds %v", p.CreatedAt, want)
		}
		back := p.Call(tn.ID)
		if *back.QueueID != q.ID || *back.AgentID != ann.ID || fmt.Sprint(back.RingingAgents) != fmt.Sprint([]int64{bob.ID, ann.ID}) {
			t.Errorf("the payload's call %+v", back)
		}

		// The batched path (the call service's writer) makes the same
		// payload, with the names of its own moment.
		c.Status, c.RingingAgents = switchboard.CallConnected, nil
		if err := db.SaveCalls(ctx, []switchboard.CallChange{{Call: c, What: "connected"}, {Call: c, What: "dtmf"}}); err != nil {
			t.Fatal(err)
		}
		if evs, err = db.SubjectEvents(ctx, tn.ID, "call", c.ID); err != nil || len(evs) != 3 {
			t.Fatalf("call events %v, %v", evs, err)
		}
		for _, e := range evs[1:] {
			var p switchboard.CallEventPayload
			if err := json.Unmarshal(e.Payload, &p); err != nil || p.V != 1 || p.Agent == nil || p.Agent.Name() != "Anne" ||
				p.Agent.Extension != "109" || p.Queue.Name != "Sales" || p.Customer == nil {
				t.Errorf("batched %s payload %s (%v)", e.Type, e.Payload, err)
			}
		}
		if evs[1].Type != switchboard.EventCallConnected || evs[2].Type != switchboard.EventCallDTMF {
			t.Errorf("batched event types %s, %s", evs[1].Type, evs[2].Type)
		}
	})
}
