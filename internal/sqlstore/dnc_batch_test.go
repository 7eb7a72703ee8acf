package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestDNCBatch checks the do-not-call list's batch methods on both engines:
// a put creates absent numbers and refreshes listed ones (a lapsed entry is
// listed anew), in one transaction that an invalid entry refuses whole;
// removal reports each number; lookups by number stay within the tenant;
// and each change is an event.
func TestDNCBatch(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Second)
	forEachEngineAt(t, start, func(t *testing.T, db *sqlstore.DB, c *clock) {
		ctx := context.Background()
		tn, other := mustTenant(t, db, "acme"), mustTenant(t, db, "other")
		inHour := start.Add(time.Hour)
		inDay := start.Add(24 * time.Hour)

		res, err := db.PutDNC(ctx, tn.ID, []switchboard.DNCPut{
			{Number: "+17187309219", ExpiresAt: &inHour},
			{Number: "+14155550100", Reason: "asked"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || !res[0].Created || !res[1].Created || res[0].Entry.ID == 0 || res[0].Entry.ID == res[1].Entry.ID {
			t.Fatalf("first put = %+v, want two created entries", res)
		}
		if res[0].Entry.ExpiresAt == nil || !res[0].Entry.ExpiresAt.Equal(inHour) || res[1].Entry.ExpiresAt != nil || res[1].Entry.Reason != "asked" {
			t.Fatalf("first put entries = %+v", res)
		}
		for _, n := range []string{"+17187309219", "+14155550100"} {
			if on, err := db.IsDNC(ctx, tn.ID, n); err != nil || !on {
				t.Fatalf("IsDNC(%s) = %v, %v after the put", n, on, err)
			}
			if on, err := db.IsDNC(ctx, other.ID, n); err != nil || on {
				t.Fatalf("IsDNC(%s) in the other tenant = %v, %v", n, on, err)
			}
		}

		// Re-adding: updated, with the new expiry (here: later, then none),
		// the entry keeping its id and creation time.
		c.advance(time.Minute)
		res2, err := db.PutDNC(ctx, tn.ID, []switchboard.DNCPut{{Number: "+17187309219", ExpiresAt: &inDay}, {Number: "+14155550100", ExpiresAt: &inDay}, {Number: "+14155550100"}})
		if err != nil {
			t.Fatal(err)
		}
		if res2[0].Created || res2[0].Entry.ID != res[0].Entry.ID || !res2[0].Entry.ExpiresAt.Equal(inDay) || !res2[0].Entry.CreatedAt.Equal(res[0].Entry.CreatedAt) {
			t.Fatalf("re-put = %+v, want the same entry updated with the new expiry", res2[0])
		}
		if res2[2].Created || res2[2].Entry.ExpiresAt != nil {
			t.Fatalf("a number repeated in the batch = %+v, want its last entry (no expiry) to win", res2[2])
		}
		d, err := db.DNCByNumber(ctx, tn.ID, "+14155550100")
		if err != nil || d.ExpiresAt != nil || d.ID != res[1].Entry.ID {
			t.Fatalf("DNCByNumber = %+v, %v, want the entry without expiry", d, err)
		}
		d, err = db.DNCByNumber(ctx, tn.ID, "+17187309219")
		if err != nil || d.ExpiresAt == nil || !d.ExpiresAt.Equal(inDay) {
			t.Fatalf("DNCByNumber = %+v, %v, want the new expiry", d, err)
		}
		if _, err := db.DNCByNumber(ctx, other.ID, "+17187309219"); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Fatalf("DNCByNumber in the other tenant: %v, want not found", err)
		}

		// An expiry in the past refuses the whole batch: nothing of it is
		// written.
		past := c.now().Add(-time.Second)
		_, err = db.PutDNC(ctx, tn.ID, []switchboard.DNCPut{{Number: "+12025550111"}, {Number: "+12025550112", ExpiresAt: &past}})
		if switchboard.ErrorCode(err) != switchboard.CodeInvalid {
			t.Fatalf("put with a past expiry: %v, want invalid", err)
		}
		if _, err := db.DNCByNumber(ctx, tn.ID, "+12025550111"); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Fatalf("the batch's valid entry was written despite the refusal: %v", err)
		}
		if _, err := db.PutDNC(ctx, tn.ID, []switchboard.DNCPut{{Number: "7187309219"}}); switchboard.ErrorCode(err) != switchboard.CodeInvalid {
			t.Fatalf("put of a number not in E.164: %v, want invalid", err)
		}

		// A lapsed entry is listed anew: created, with a new creation time.
		c.advance(48 * time.Hour)
		later := c.now().Add(time.Hour)
		res3, err := db.PutDNC(ctx, tn.ID, []switchboard.DNCPut{{Number: "+17187309219", ExpiresAt: &later}})
		if err != nil {
			t.Fatal(err)
		}
		if !res3[0].Created || res3[0].Entry.ID != res[0].Entry.ID || !res3[0].Entry.CreatedAt.Equal(c.now()) {
			t.Fatalf("put over a lapsed entry = %+v, want it created anew in the same row", res3[0])
		}

		// Removal: each number's outcome, the entries gone.
		removed, err := db.RemoveDNCNumbers(ctx, tn.ID, []string{"+14155550100", "+19995550100", "+17187309219"})
		if err != nil || fmt.Sprint(removed) != "[true false true]" {
			t.Fatalf("RemoveDNCNumbers = %v, %v, want [true false true]", removed, err)
		}
		if on, err := db.IsDNC(ctx, tn.ID, "+14155550100"); err != nil || on {
			t.Fatalf("IsDNC after removal = %v, %v", on, err)
		}
		removed, err = db.RemoveDNCNumbers(ctx, other.ID, []string{"+17187309219"})
		if err != nil || removed[0] {
			t.Fatalf("removal in the other tenant = %v, %v", removed, err)
		}

		// Events: two added, two refreshes (+ the repeated number), one
		// listed anew, two removed.
		evs, err := db.Events(ctx, tn.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, e := range evs {
			count[e.Type]++
		}
		if count[switchboard.EventDNCAdded] != 6 || count[switchboard.EventDNCRemoved] != 2 {
			t.Fatalf("events = %v, want 6 dnc.added and 2 dnc.removed", count)
		}
	})
}

// TestLeadCounts checks the counts of a campaign's leads by status and last
// outcome, within the tenant.
func TestLeadCounts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		counts, err := db.LeadCounts(ctx, f.tn.ID, f.camp.ID)
		if err != nil || len(counts) != 0 {
			t.Fatalf("counts of an empty campaign = %v, %v", counts, err)
		}
		leads := insertLeads(t, db, f.tn.ID, switchboard.LeadTarget{CampaignID: f.camp.ID},
			"+15550000001", "+15550000002", "+15550000003", "+15550000004")
		at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
		leads[0].Status, leads[1].Status, leads[2].Status = switchboard.LeadAbandoned, switchboard.LeadAbandoned, switchboard.LeadDoNotCall
		attempts := []switchboard.DialAttempt{
			{CampaignID: f.camp.ID, LeadID: leads[0].ID, Number: leads[0].PhoneNumber, At: at, Outcome: switchboard.DialAbandoned},
			{CampaignID: f.camp.ID, LeadID: leads[1].ID, Number: leads[1].PhoneNumber, At: at, Outcome: switchboard.DialHungUp},
			{CampaignID: f.camp.ID, LeadID: leads[2].ID, Number: leads[2].PhoneNumber, At: at, Outcome: switchboard.DialBlocked},
		}
		for i, a := range attempts {
			leads[i].LastOutcome, leads[i].Attempts = a.Outcome, 1
		}
		if _, err := db.SaveDialProgress(ctx, f.tn.ID, leads[:3], attempts); err != nil {
			t.Fatal(err)
		}
		counts, err = db.LeadCounts(ctx, f.tn.ID, f.camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, c := range counts {
			got[string(c.Status)+"/"+string(c.Outcome)+"/"+c.Transfer] = c.Count
		}
		want := map[string]int{"abandoned/abandoned/": 1, "abandoned/hung_up/": 1, "do_not_call/blocked/": 1, "upcoming//": 1}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("LeadCounts = %v, want %v", got, want)
		}
		if _, err := db.LeadCounts(ctx, f.other.ID, f.camp.ID); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Fatalf("LeadCounts of another tenant's campaign: %v, want not found", err)
		}
	})
}

// TestInsertLeadsUniquePhone checks UJET's rule for a campaign's contacts:
// with UniquePhone, a lead whose number the campaign (or an earlier lead of
// the batch) has is a duplicate whatever its external id, named by the
// field it shares; without it, only the dedupe key counts.
func TestInsertLeadsUniquePhone(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		to := switchboard.LeadTarget{CampaignID: f.camp.ID, UniquePhone: true}
		res, err := db.InsertLeads(ctx, f.tn.ID, to, []switchboard.Lead{
			{Name: "A", PhoneNumber: "+15550000001", ExternalID: "A"},
			{Name: "B", PhoneNumber: "+15550000001", ExternalID: "B"}, // the batch's number
			{Name: "C", PhoneNumber: "+15550000003", ExternalID: "A"}, // the batch's external id
			{Name: "D", PhoneNumber: "+15550000004"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Inserted != 2 || fmt.Sprint(res.Duplicates) != "[1 2]" || fmt.Sprint(res.DuplicateFields) != "[phone_number external_id]" {
			t.Fatalf("first batch = %+v", res)
		}
		res, err = db.InsertLeads(ctx, f.tn.ID, to, []switchboard.Lead{
			{Name: "E", PhoneNumber: "+15550000004", ExternalID: "E"}, // a stored number
			{Name: "F", PhoneNumber: "+15550000006", ExternalID: "A"}, // a stored external id
			{Name: "G", PhoneNumber: "+15550000007", ExternalID: "G"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Inserted != 1 || fmt.Sprint(res.Duplicates) != "[0 1]" || fmt.Sprint(res.DuplicateFields) != "[phone_number external_id]" {
			t.Fatalf("second batch = %+v", res)
		}
		// Without the rule, a new external id on a stored number goes in.
		to.UniquePhone = false
		res, err = db.InsertLeads(ctx, f.tn.ID, to, []switchboard.Lead{{Name: "H", PhoneNumber: "+15550000004", ExternalID: "H"}})
		if err != nil || res.Inserted != 1 {
			t.Fatalf("without UniquePhone = %+v, %v", res, err)
		}
		// Another campaign's numbers do not count.
		other, err := db.CreateCampaign(ctx, f.tn.ID, switchboard.Campaign{Name: "Other", QueueID: f.queue.ID})
		if err != nil {
			t.Fatal(err)
		}
		res, err = db.InsertLeads(ctx, f.tn.ID, switchboard.LeadTarget{CampaignID: other.ID, UniquePhone: true},
			[]switchboard.Lead{{Name: "I", PhoneNumber: "+15550000001"}})
		if err != nil || res.Inserted != 1 {
			t.Fatalf("another campaign = %+v, %v", res, err)
		}
	})
}

// TestLeadTransfers checks how a lead's last call's transfer shows: a call
// an agent transferred whose continuation goes on is open, one whose
// continuation ended is ended; a call with a callback (a child not from a
// transfer) or none is absent; another tenant's calls are absent; and the
// campaign's counts group by it.
func TestLeadTransfers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		now := time.Now().UTC()
		call := func(tenant int64, parent *int64, cause string, ended bool) int64 {
			t.Helper()
			var campaign *int64
			if tenant == f.tn.ID && parent == nil {
				campaign = &f.camp.ID
			}
			c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tenant, Direction: switchboard.Outbound, Status: switchboard.CallConnected,
				From: "+15550001111", To: "+15550002222", ParentID: parent, CampaignID: campaign, CreatedAt: now}, "created")
			if err != nil {
				t.Fatal(err)
			}
			if ended {
				c.Status, c.EndedAt, c.HangupCause = switchboard.CallFinished, &now, cause
				if c, err = db.SaveCall(ctx, c, "ended"); err != nil {
					t.Fatal(err)
				}
			}
			return c.ID
		}
		open := call(f.tn.ID, nil, "transferred", true)
		call(f.tn.ID, &open, "", false)
		done := call(f.tn.ID, nil, "transferred", true)
		call(f.tn.ID, &done, "hung up", true)
		callback := call(f.tn.ID, nil, "queue full", true)
		call(f.tn.ID, &callback, "", false)
		plain := call(f.tn.ID, nil, "hung up", true)
		theirs := call(f.other.ID, nil, "transferred", true)
		call(f.other.ID, &theirs, "", false)

		got, err := db.LeadTransfers(ctx, f.tn.ID, []int64{open, done, callback, plain, theirs, 999999})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]string{open: switchboard.TransferOpen, done: switchboard.TransferEnded}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("LeadTransfers = %v, want %v", got, want)
		}

		leads := insertLeads(t, db, f.tn.ID, switchboard.LeadTarget{CampaignID: f.camp.ID}, "+15550000001", "+15550000002", "+15550000003")
		for i, id := range []int64{open, done, plain} {
			leads[i].Status, leads[i].LastOutcome, leads[i].LastCallID, leads[i].Attempts = switchboard.LeadFinished, switchboard.DialConnected, &id, 1
		}
		if _, err := db.SaveDialProgress(ctx, f.tn.ID, leads, nil); err != nil {
			t.Fatal(err)
		}
		counts, err := db.LeadCounts(ctx, f.tn.ID, f.camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string]int{}
		for _, c := range counts {
			byKey[string(c.Status)+"/"+c.Transfer] += c.Count
		}
		if want := map[string]int{"finished/": 1, "finished/open": 1, "finished/ended": 1}; fmt.Sprint(byKey) != fmt.Sprint(want) {
			t.Fatalf("LeadCounts = %v, want %v", byKey, want)
		}
	})
}
