package sqlstore_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestCallVoicemailFields checks, on both engines, that a call's voicemail
// reason and reader survive every save path (SaveCall, the engine's batched
// SaveCalls and a bulk load), that the call events carry them, that
// MarkVoicemailRead keeps the first of two racing readers and refuses a call
// without voicemail, and that a restart closes an orphaned voicemail or
// action-only call in its own final status.
func TestCallVoicemailFields(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		var users []int64
		for _, e := range []string{"ann@a.test", "bob@a.test"} {
			u, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: e, FirstName: "A"})
			if err != nil {
				t.Fatal(err)
			}
			users = append(users, u.ID)
		}
		start := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
		ended := start.Add(30 * time.Second)
		vm := switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallVoicemail, From: "+15550001111",
			To: "+15550002222", CreatedAt: start, Recorded: true, VoicemailReason: switchboard.VoicemailAfterHours}
		vm, err = db.SaveCall(ctx, vm, "created")
		if err != nil {
			t.Fatal(err)
		}
		// The engine's batched path: started, then received.
		vm.Status = switchboard.CallVoicemail
		started := vm
		vm.Status, vm.EndedAt, vm.Disposition, vm.HangupBy = switchboard.CallVoicemailReceived, &ended, switchboard.DispositionRejected, switchboard.SideCaller
		if err := db.SaveCalls(ctx, []switchboard.CallChange{{Call: started, What: "voicemail_started"}, {Call: vm, What: "ended"}}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Call(ctx, tn.ID, vm.ID)
		if err != nil || got.Status != switchboard.CallVoicemailReceived || got.VoicemailReason != switchboard.VoicemailAfterHours ||
			got.VoicemailReadAt != nil || got.VoicemailReadBy != nil {
			t.Fatalf("saved %+v, %v", got, err)
		}
		// Two agents open it at once: one is its reader, for both.
		var wg sync.WaitGroup
		reads := make([]switchboard.Call, 2)
		errs := make([]error, 2)
		for i, u := range users {
			wg.Go(func() { reads[i], errs[i] = db.MarkVoicemailRead(ctx, tn.ID, vm.ID, u) })
		}
		wg.Wait()
		for i := range reads {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if reads[i].Status != switchboard.CallVoicemailRead || reads[i].VoicemailReadBy == nil || reads[i].VoicemailReadAt == nil {
				t.Fatalf("read %d: %+v", i, reads[i])
			}
		}
		if *reads[0].VoicemailReadBy != *reads[1].VoicemailReadBy || !reads[0].VoicemailReadAt.Equal(*reads[1].VoicemailReadAt) {
			t.Errorf("two readers recorded: %v at %v and %v at %v", *reads[0].VoicemailReadBy, reads[0].VoicemailReadAt,
				*reads[1].VoicemailReadBy, reads[1].VoicemailReadAt)
		}
		if got, _ = db.Call(ctx, tn.ID, vm.ID); got.Status != switchboard.CallVoicemailRead || *got.VoicemailReadBy != *reads[0].VoicemailReadBy ||
			!got.VoicemailReadAt.Equal(*reads[0].VoicemailReadAt) {
			t.Errorf("stored %+v", got)
		}
		evs, err := db.SubjectEvents(ctx, tn.ID, "call", vm.ID)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range evs {
			types = append(types, e.Type)
		}
		want := []string{switchboard.EventCallCreated, switchboard.EventCallVoicemailStarted, switchboard.EventCallEnded, switchboard.EventCallVoicemailRead}
		if len(types) != len(want) {
			t.Fatalf("events %v, want %v", types, want)
		}
		for i := range want {
			if types[i] != want[i] {
				t.Fatalf("events %v, want %v", types, want)
			}
		}
		var p switchboard.CallEventPayload
		if err := json.Unmarshal(evs[3].Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.VoicemailReason != switchboard.VoicemailAfterHours || p.VoicemailReadBy == nil || *p.VoicemailReadBy != *got.VoicemailReadBy ||
			p.VoicemailReadAt == nil || p.Call(tn.ID).VoicemailReadAt == nil {
			t.Errorf("voicemail_read payload %+v", p)
		}

		// A call without voicemail cannot be read; another tenant's is not found.
		plain, err := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+15550001111", To: "+15550002222", CreatedAt: start}, "created")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.MarkVoicemailRead(ctx, tn.ID, plain.ID, users[0]); switchboard.ErrorCode(err) != switchboard.CodeConflict {
			t.Errorf("reading a call without voicemail: %v", err)
		}
		other, _ := db.CreateTenant(ctx, switchboard.Tenant{Slug: "other", Name: "Other"})
		if _, err := db.MarkVoicemailRead(ctx, other.ID, vm.ID, users[0]); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Errorf("another tenant read it: %v", err)
		}

		// A bulk load keeps the fields.
		readAt := start.Add(time.Hour)
		n := 0
		first, err := db.LoadCalls(ctx, tn.ID, 1, func(c *switchboard.Call) bool {
			if n++; n > 1 {
				return false
			}
			*c = switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallVoicemailRead, From: "+15550001111",
				To: "+15550002222", CreatedAt: start, EndedAt: &ended, UUID: "9d0a9e5e-6b1d-4c51-9d0f-0e6b1f1a2b3c",
				VoicemailReason: switchboard.VoicemailNoAnswer, VoicemailReadAt: &readAt, VoicemailReadBy: &users[1]}
			return true
		}, nil)
		if err != nil || first != 1 {
			t.Fatalf("load: %d, %v", first, err)
		}
		page, err := db.CDRs(ctx, tn.ID, switchboard.CDRFilter{Newest: true}, switchboard.ListOptions{Limit: 1})
		if err != nil || len(page.Items) != 1 {
			t.Fatal(page, err)
		}
		if l := page.Items[0]; l.VoicemailReason != switchboard.VoicemailNoAnswer || !l.VoicemailReadAt.Equal(readAt) || *l.VoicemailReadBy != users[1] {
			t.Errorf("loaded %+v", l.Call)
		}

		// Orphans of a restart end in their own statuses.
		open := []switchboard.Call{
			{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallVoicemail, From: "+15550001111", To: "+15550002222",
				CreatedAt: start, VoicemailReason: switchboard.VoicemailNoAnswer, Recorded: true},
			{TenantID: tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallActionOnly, To: "+15550001111",
				CreatedAt: start, ConnectedAt: &start, AgentID: &users[0]},
		}
		for i := range open {
			if open[i], err = db.SaveCall(ctx, open[i], "created"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.CloseOrphanCalls(ctx, "restart"); err != nil {
			t.Fatal(err)
		}
		for i, want := range []struct {
			st switchboard.CallStatus
			d  switchboard.Disposition
		}{{switchboard.CallVoicemailReceived, switchboard.DispositionMissed}, {switchboard.CallActionOnlyFinished, switchboard.DispositionAnswered}} {
			if got, _ := db.Call(ctx, tn.ID, open[i].ID); got.Status != want.st || got.Disposition != want.d || got.EndedAt == nil {
				t.Errorf("orphan %d closed as %+v, want %s", i, got, want.st)
			}
		}
	})
}
