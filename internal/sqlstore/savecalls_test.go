package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestReserveCallIDs hands out blocks to racing callers and to SaveCall:
// no id is given twice.
func TestReserveCallIDs(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		var mu sync.Mutex
		seen := map[int64]bool{}
		take := func(first int64, n int) {
			mu.Lock()
			defer mu.Unlock()
			for id := first; id < first+int64(n); id++ {
				if seen[id] {
					t.Errorf("id %d given twice", id)
				}
				seen[id] = true
			}
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 5 {
					first, err := db.ReserveCallIDs(ctx, 10)
					if err != nil {
						t.Error(err)
						return
					}
					take(first, 10)
					c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
						From: "+15550001111", To: "8001", CreatedAt: time.Now()}, "created")
					if err != nil {
						t.Error(err)
						return
					}
					take(c.ID, 1)
				}
			})
		}
		wg.Wait()
		if len(seen) != 8*5*11 {
			t.Errorf("%d ids, want %d", len(seen), 8*5*11)
		}
		if _, err := db.ReserveCallIDs(ctx, 0); err == nil {
			t.Error("reserving no ids succeeded")
		}
	})
}

// TestSaveCallsBatch writes a batch as the call service does: several
// changes of two calls, an agent's presence following a call, a recovered
// call. Every change has its event, in order and gapless; each call's row is
// its last state; a webhook gets a delivery per event it wants.
func TestSaveCallsBatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		u, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", Extension: "1001"})
		if err != nil {
			t.Fatal(err)
		}
		db.CreateStatus(ctx, tn.ID, switchboard.AgentStatus{Name: "Lunch", Available: true})
		if _, err := db.SetPresence(ctx, tn.ID, u.ID, "Lunch", false); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateWebhook(ctx, tn.ID, switchboard.Webhook{URL: "https://example.com/hook", EventTypes: []string{"call.ended"}}); err != nil {
			t.Fatal(err)
		}
		first, err := db.ReserveCallIDs(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		failed, err := db.SaveCall(ctx, switchboard.Call{ID: first + 2, TenantID: tn.ID, Direction: switchboard.Inbound,
			Status: switchboard.CallFailed, From: "+15550002222", To: "8001", CreatedAt: time.Now()}, "created")
		if err != nil {
			t.Fatal(err)
		}
		head, _ := db.EventHead(ctx, tn.ID)
		now := time.Now().UTC().Truncate(time.Microsecond)
		a := switchboard.Call{ID: first, UUID: "a-uuid", TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+15550001111", To: "8001", CreatedAt: now}
		b := switchboard.Call{ID: first + 1, UUID: "b-uuid", TenantID: other.ID, Direction: switchboard.Inbound,
			Status: switchboard.CallQueued, From: "+15550003333", To: "8001", CreatedAt: now}
		connected, ended := a, a
		connected.Status, connected.AgentID, connected.ConnectedAt, connected.ParentID = switchboard.CallConnected, &u.ID, &now, &failed.ID
		ended = connected
		ended.Status, ended.EndedAt, ended.Disposition = switchboard.CallFinished, &now, switchboard.DispositionAnswered
		agent := func(p switchboard.AgentPhase) switchboard.CallChange {
			return switchboard.CallChange{Agent: &switchboard.AgentCallState{TenantID: tn.ID, UserID: u.ID, State: p}}
		}
		err = db.SaveCalls(ctx, []switchboard.CallChange{
			{Call: a, What: "created"}, {Call: b, What: "created"}, {Call: connected, What: "connected"},
			agent(switchboard.PhaseInCall),
			{Recover: &switchboard.CallRef{TenantID: tn.ID, CallID: failed.ID}},
			{Call: ended, What: "ended"}, agent(switchboard.PhaseFree),
		})
		if err != nil {
			t.Fatal(err)
		}
		evs, err := db.Events(ctx, tn.ID, head, 100)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for i, e := range evs {
			types = append(types, e.Type)
			if e.Seq != head+int64(i)+1 {
				t.Errorf("event %d has seq %d, want %d", i, e.Seq, head+int64(i)+1)
			}
			if i > 0 && e.ID <= evs[i-1].ID {
				t.Errorf("event ids out of order: %d after %d", e.ID, evs[i-1].ID)
			}
		}
		want := []string{"call.created", "call.connected", switchboard.EventAgentStatusChanged, "call.recovered", "call.ended",
			switchboard.EventAgentStatusChanged}
		if len(types) != len(want) {
			t.Fatalf("events %v, want %v", types, want)
		}
		for i := range want {
			if types[i] != want[i] {
				t.Fatalf("events %v, want %v", types, want)
			}
		}
		got, err := db.Call(ctx, tn.ID, a.ID)
		if err != nil || got.Status != switchboard.CallFinished || got.UUID != "a-uuid" || got.AgentID == nil || *got.AgentID != u.ID {
			t.Errorf("call a = %+v, %v", got, err)
		}
		if got, err := db.Call(ctx, other.ID, b.ID); err != nil || got.Status != switchboard.CallQueued {
			t.Errorf("call b = %+v, %v", got, err)
		}
		if got, _ := db.Call(ctx, tn.ID, failed.ID); got.Status != switchboard.CallRecovered {
			t.Errorf("the failed call is %s, want recovered", got.Status)
		}
		if p, _ := db.Presence(ctx, tn.ID, u.ID); p.Status != "Lunch" {
			t.Errorf("after the call the agent is %s, want Lunch back", p.Status)
		}
		c, err := db.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := c.WebhookDeliveries[switchboard.DeliveryPending]; n != 1 {
			t.Errorf("%d deliveries pending, want 1 (call.ended)", n)
		}
		// A batch must not take another tenant's call id.
		stolen := b
		stolen.TenantID = tn.ID
		if err := db.SaveCalls(ctx, []switchboard.CallChange{{Call: stolen, What: "ended"}}); err == nil {
			t.Error("a batch overwrote another tenant's call")
		}
	})
}
