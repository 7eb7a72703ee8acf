package sqlstore_test

import (
	"context"
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
