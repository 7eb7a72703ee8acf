package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

func TestInsertLeadsDedupe(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		to := switchboard.LeadTarget{CampaignID: f.camp.ID}
		yes := true
		seq := lastSeq(t, db, f.tn.ID)
		res, err := db.InsertLeads(ctx, f.tn.ID, to, []switchboard.Lead{
			{Name: "Ann", PhoneNumber: "+15550000001", Consent: &yes, Priority: 3},
			{Name: "Bob", PhoneNumber: "+15550000002", PhoneNumbers: []string{"+15550000003"}, Fields: map[string]string{"plan": "gold"}},
			{Name: "Ann again", PhoneNumber: "+15550000001"},             // same number: duplicate
			{Name: "Cy", PhoneNumber: "+15550000001", ExternalID: "c-1"}, // keyed by its external id: not one
			{Name: "Cy again", PhoneNumber: "+15550000009", ExternalID: "c-1"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Inserted != 3 || !slices.Equal(res.Duplicates, []int{2, 4}) {
			t.Fatalf("InsertLeads = %+v, want 3 inserted and duplicates [2 4]", res)
		}
		// Against the stored leads, and within the batch again.
		res, err = db.InsertLeads(ctx, f.tn.ID, to, []switchboard.Lead{
			{Name: "New", PhoneNumber: "+15550000004"},
			{Name: "Bob", PhoneNumber: "+15550000002"},
			{Name: "Cy", PhoneNumber: "+15550000007", ExternalID: "c-1"},
			{Name: "New twice", PhoneNumber: "+15550000004"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Inserted != 1 || !slices.Equal(res.Duplicates, []int{1, 2, 3}) {
			t.Fatalf("second InsertLeads = %+v, want 1 inserted and duplicates [1 2 3]", res)
		}
		evs := eventsSince(t, db, f.tn.ID, seq)
		if len(evs) != 2 || evs[0].Type != switchboard.EventLeadsImported || evs[0].SubjectType != "campaign" || evs[0].SubjectID != f.camp.ID {
			t.Fatalf("events = %+v, want one leads.imported per call", evs)
		}
		var p switchboard.LeadsImportedPayload
		if err := json.Unmarshal(evs[1].Payload, &p); err != nil || p.Inserted != 1 || p.Duplicates != 3 || p.CampaignID == nil || *p.CampaignID != f.camp.ID {
			t.Errorf("leads.imported payload = %s (%v)", evs[1].Payload, err)
		}

		page, err := db.Leads(ctx, f.tn.ID, to, switchboard.LeadFilter{}, switchboard.ListOptions{Limit: 2})
		if err != nil || page.Total != 4 || len(page.Items) != 2 || page.NextCursor == "" {
			t.Fatalf("Leads(limit 2) = %+v, %v", page, err)
		}
		ann, bob := page.Items[0], page.Items[1]
		if ann.Name != "Ann" || ann.Status != switchboard.LeadUpcoming || ann.Attempts != 0 || ann.Consent == nil || !*ann.Consent ||
			ann.Priority != 3 || !slices.Equal(ann.PhoneNumbers, []string{"+15550000001"}) || ann.Fields == nil || len(ann.Fields) != 0 ||
			ann.CampaignID == nil || *ann.CampaignID != f.camp.ID || ann.ContactListID != nil {
			t.Errorf("stored lead = %+v", ann)
		}
		if !slices.Equal(bob.PhoneNumbers, []string{"+15550000002", "+15550000003"}) || bob.Fields["plan"] != "gold" || bob.Consent != nil {
			t.Errorf("stored lead = %+v", bob)
		}
		page, err = db.Leads(ctx, f.tn.ID, to, switchboard.LeadFilter{}, switchboard.ListOptions{Limit: 2, Cursor: page.NextCursor})
		if err != nil || len(page.Items) != 2 || page.Items[0].ExternalID != "c-1" || page.NextCursor != "" {
			t.Fatalf("Leads(page 2) = %+v, %v", page, err)
		}
		if got, _ := db.Lead(ctx, f.tn.ID, ann.ID); mustJSON(t, got) != mustJSON(t, ann) {
			t.Errorf("Lead = %+v, want %+v", got, ann)
		}

		_, err = db.InsertLeads(ctx, f.tn.ID, to, []switchboard.Lead{{Name: "No number"}})
		wantField(t, "lead without a number", err, switchboard.CodeInvalid, "leads[0].phone_number")
		_, err = db.InsertLeads(ctx, f.tn.ID, switchboard.LeadTarget{}, []switchboard.Lead{{PhoneNumber: "+15550000001"}})
		wantCode(t, "no target", err, switchboard.CodeInvalid)
		_, err = db.Leads(ctx, f.tn.ID, to, switchboard.LeadFilter{Status: "bogus"}, switchboard.ListOptions{})
		wantField(t, "bad status filter", err, switchboard.CodeInvalid, "status")

		// A list holds its own leads: the same number is no duplicate there.
		list, err := db.CreateContactList(ctx, f.tn.ID, switchboard.ContactList{Name: "VIP"})
		if err != nil {
			t.Fatal(err)
		}
		res, err = db.InsertLeads(ctx, f.tn.ID, switchboard.LeadTarget{ContactListID: list.ID}, []switchboard.Lead{{PhoneNumber: "+15550000001"}})
		if err != nil || res.Inserted != 1 {
			t.Fatalf("InsertLeads(list) = %+v, %v", res, err)
		}

		for _, s := range []switchboard.CampaignStatus{switchboard.CampaignStarted, switchboard.CampaignStopped} {
			if _, err := db.SetCampaignStatus(ctx, f.tn.ID, f.camp.ID, []switchboard.CampaignStatus{switchboard.CampaignCreated, switchboard.CampaignStarted}, s); err != nil {
				t.Fatal(err)
			}
		}
		// A stopped (or finished) campaign takes new leads: started again,
		// it dials them.
		if res, err := db.InsertLeads(ctx, f.tn.ID, to, []switchboard.Lead{{PhoneNumber: "+15550000008"}}); err != nil || res.Inserted != 1 {
			t.Fatalf("leads into a stopped campaign: %+v, %v", res, err)
		}
	})
}

func TestUpdateAndDeleteLead(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		leads := insertLeads(t, db, f.tn.ID, switchboard.LeadTarget{CampaignID: f.camp.ID}, "+15550000001", "+15550000002")
		a, b := leads[0], leads[1]
		seq := lastSeq(t, db, f.tn.ID)
		no := false
		up, err := db.UpdateLeadFunc(ctx, f.tn.ID, a.ID, func(l *switchboard.Lead) error {
			l.Name, l.ExternalID, l.Priority, l.Consent = "Ann", "crm-1", 9, &no
			l.PhoneNumbers = []string{"+15550000011", "+15550000001"}
			l.Fields = map[string]string{"tier": "1"}
			l.TimeZone = "Europe/Rome"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if up.Name != "Ann" || up.PhoneNumber != "+15550000011" || up.Priority != 9 || up.Consent == nil || *up.Consent ||
			up.Fields["tier"] != "1" || up.TimeZone != "Europe/Rome" || up.ExternalID != "crm-1" {
			t.Fatalf("UpdateLeadFunc = %+v", up)
		}
		if got, _ := db.Lead(ctx, f.tn.ID, a.ID); mustJSON(t, got) != mustJSON(t, up) {
			t.Errorf("Lead after update = %+v\nwant %+v", got, up)
		}
		if evs := eventsSince(t, db, f.tn.ID, seq); len(evs) != 1 || evs[0].Type != switchboard.EventLeadUpdated || evs[0].SubjectID != a.ID {
			t.Errorf("events = %v, want lead.updated", eventTypes(evs))
		}
		// The dedupe key moved with the external id: its old number is free.
		if res, err := db.InsertLeads(ctx, f.tn.ID, switchboard.LeadTarget{CampaignID: f.camp.ID}, []switchboard.Lead{{PhoneNumber: "+15550000001"}}); err != nil || res.Inserted != 1 {
			t.Errorf("insert the number a lead no longer dedupes by = %+v, %v", res, err)
		}
		_, err = db.UpdateLeadFunc(ctx, f.tn.ID, b.ID, func(l *switchboard.Lead) error { l.ExternalID = "crm-1"; return nil })
		wantField(t, "a taken external id", err, switchboard.CodeConflict, "external_id")

		for field, fn := range map[string]func(*switchboard.Lead){
			"attempts":        func(l *switchboard.Lead) { l.Attempts = 3 },
			"campaign_id":     func(l *switchboard.Lead) { l.CampaignID = nil },
			"next_attempt_at": func(l *switchboard.Lead) { now := time.Now(); l.NextAttemptAt = &now },
			"status":          func(l *switchboard.Lead) { l.Status = switchboard.LeadFinished },
			"phone_numbers[1]": func(l *switchboard.Lead) {
				l.PhoneNumbers = []string{l.PhoneNumber, "12"}
			},
			"time_zone":    func(l *switchboard.Lead) { l.TimeZone = "Mars/Olympus" },
			"phone_number": func(l *switchboard.Lead) { l.PhoneNumber, l.PhoneNumbers = "", nil },
		} {
			_, err := db.UpdateLeadFunc(ctx, f.tn.ID, b.ID, func(l *switchboard.Lead) error { fn(l); return nil })
			wantField(t, "change "+field, err, switchboard.CodeInvalid, field)
		}
		// Skipped, and back to upcoming.
		for _, s := range []switchboard.LeadStatus{switchboard.LeadSkipped, switchboard.LeadUpcoming} {
			got, err := db.UpdateLeadFunc(ctx, f.tn.ID, b.ID, func(l *switchboard.Lead) error { l.Status = s; return nil })
			if err != nil || got.Status != s {
				t.Fatalf("move to %s = %+v, %v", s, got, err)
			}
		}
		// A lead being dialled is neither moved nor deleted.
		d := b
		d.Status = switchboard.LeadDialing
		if _, err := db.SaveDialProgress(ctx, f.tn.ID, []switchboard.Lead{d}, nil); err != nil {
			t.Fatal(err)
		}
		_, err = db.UpdateLeadFunc(ctx, f.tn.ID, b.ID, func(l *switchboard.Lead) error { l.Status = switchboard.LeadSkipped; return nil })
		wantCode(t, "skip a lead being dialled", err, switchboard.CodeConflict)
		if got, err := db.UpdateLeadFunc(ctx, f.tn.ID, b.ID, func(l *switchboard.Lead) error { l.Name = "Bob"; return nil }); err != nil || got.Name != "Bob" {
			t.Errorf("rename a lead being dialled = %+v, %v", got, err)
		}
		wantCode(t, "delete a lead being dialled", db.DeleteLead(ctx, f.tn.ID, b.ID), switchboard.CodeConflict)
		seq = lastSeq(t, db, f.tn.ID)
		if err := db.DeleteLead(ctx, f.tn.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if evs := eventsSince(t, db, f.tn.ID, seq); len(evs) != 1 || evs[0].Type != switchboard.EventLeadDeleted {
			t.Errorf("events = %v, want lead.deleted", eventTypes(evs))
		}
		_, err = db.Lead(ctx, f.tn.ID, a.ID)
		wantCode(t, "deleted lead", err, switchboard.CodeNotFound)
	})
}

func TestDialableLeads(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		var in []switchboard.Lead
		for i, prio := range []int{0, 5, 0, 5, 1, 0} {
			in = append(in, switchboard.Lead{PhoneNumber: fmt.Sprintf("+1555000000%d", i), Priority: prio})
		}
		if _, err := db.InsertLeads(ctx, f.tn.ID, switchboard.LeadTarget{CampaignID: f.camp.ID}, in); err != nil {
			t.Fatal(err)
		}
		page, _ := db.Leads(ctx, f.tn.ID, switchboard.LeadTarget{CampaignID: f.camp.ID}, switchboard.LeadFilter{}, switchboard.ListOptions{})
		l := page.Items
		now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
		later, earlier := now.Add(time.Hour), now.Add(-time.Minute)
		l[1].Status, l[1].NextAttemptAt = switchboard.LeadRedialScheduled, &later   // not yet
		l[3].Status, l[3].NextAttemptAt = switchboard.LeadRedialScheduled, &earlier // due
		l[4].Status = switchboard.LeadFinished
		l[5].Status = switchboard.LeadDialing
		if _, err := db.SaveDialProgress(ctx, f.tn.ID, []switchboard.Lead{l[1], l[3], l[4], l[5]}, nil); err != nil {
			t.Fatal(err)
		}
		got, err := db.DialableLeads(ctx, f.tn.ID, f.camp.ID, now, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, g := range got {
			ids = append(ids, g.ID)
		}
		if want := []int64{l[3].ID, l[0].ID, l[2].ID}; !slices.Equal(ids, want) {
			t.Errorf("DialableLeads = %v, want %v (priority first, then id; only due ones)", ids, want)
		}
		if got, _ := db.DialableLeads(ctx, f.tn.ID, f.camp.ID, later, 2); len(got) != 2 || got[0].ID != l[1].ID || got[1].ID != l[3].ID {
			t.Errorf("DialableLeads(later, 2) = %+v", got)
		}
		plan, err := sqlstore.DialablePlan(ctx, db, f.tn.ID, f.camp.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if db.Engine() == sqlstore.SQLite && !strings.Contains(plan, "leads_dialable") {
			t.Errorf("DialableLeads does not read the index leads_dialable:\n%s", plan)
		}
	})
}

func TestSaveDialProgress(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		leads := insertLeads(t, db, f.tn.ID, switchboard.LeadTarget{CampaignID: f.camp.ID}, "+15550000001", "+15550000002")
		a, b := leads[0], leads[1]
		t0 := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
		callID, agentID := int64(77), int64(5)
		seq := lastSeq(t, db, f.tn.ID)
		// A dial placed (open row, no event) and a dial refused (blocked,
		// with its event), in one save.
		a.Status, a.Attempts, a.LastAttemptAt, a.LastCallID = switchboard.LeadDialing, 1, &t0, &callID
		b.Status, b.LastOutcome = switchboard.LeadDoNotCall, switchboard.DialBlocked
		checks := switchboard.DialChecks{Emergency: switchboard.CheckPass, DNC: switchboard.CheckPass, CallingHours: switchboard.CheckPass,
			Consent: switchboard.CheckNA, AbandonBudget: switchboard.CheckPass}
		ids, err := db.SaveDialProgress(ctx, f.tn.ID, []switchboard.Lead{b, a}, []switchboard.DialAttempt{
			{CampaignID: f.camp.ID, LeadID: a.ID, CallID: &callID, Number: a.PhoneNumber, CallerID: "+15559990000", Mode: "progressive",
				At: t0, TimeZone: "America/New_York", LocalTime: "2026-03-02T10:00:00-05:00", Checks: checks, AbandonRate: 1.5},
			{CampaignID: f.camp.ID, LeadID: b.ID, Number: b.PhoneNumber, At: t0.Add(time.Second), Outcome: switchboard.DialBlocked,
				Reason: "dnc", Checks: switchboard.DialChecks{DNC: switchboard.CheckBlocked}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 2 || ids[0] == 0 || ids[1] <= ids[0] {
			t.Fatalf("SaveDialProgress ids = %v", ids)
		}
		evs := eventsSince(t, db, f.tn.ID, seq)
		if len(evs) != 1 || evs[0].Type != switchboard.EventCampaignAttempt || evs[0].SubjectID != f.camp.ID {
			t.Fatalf("events = %v, want one campaign.attempt (the blocked one)", eventTypes(evs))
		}
		var p switchboard.AttemptEventPayload
		if err := json.Unmarshal(evs[0].Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.V != 1 || p.Attempt.ID != ids[1] || p.Attempt.Outcome != switchboard.DialBlocked || p.Lead.ID != b.ID ||
			p.Lead.Status != switchboard.LeadDoNotCall || p.Lead.Name != b.Name {
			t.Errorf("attempt payload = %s", evs[0].Payload)
		}
		got, _ := db.Lead(ctx, f.tn.ID, a.ID)
		if got.Status != switchboard.LeadDialing || got.Attempts != 1 || got.LastCallID == nil || *got.LastCallID != callID ||
			got.LastAttemptAt == nil || !got.LastAttemptAt.Equal(t0) || got.Name != a.Name {
			t.Errorf("lead after the dial = %+v", got)
		}
		open, err := db.OpenAttempts(ctx)
		if err != nil || len(open) != 1 || open[0].ID != ids[0] || open[0].Checks != checks || open[0].CallerID != "+15559990000" ||
			open[0].LocalTime != "2026-03-02T10:00:00-05:00" || open[0].AbandonRate != 1.5 || !open[0].At.Equal(t0) {
			t.Fatalf("OpenAttempts = %+v, %v", open, err)
		}

		// Connected and still talking: the row has an outcome but has not
		// ended, so a cut run must still settle it.
		if _, err := db.SaveDialProgress(ctx, f.tn.ID, nil, []switchboard.DialAttempt{
			{ID: ids[0], Outcome: switchboard.DialConnected, CallID: &callID, AgentID: &agentID}}); err != nil {
			t.Fatal(err)
		}
		if open, err := db.OpenAttempts(ctx); err != nil || len(open) != 1 || open[0].Outcome != switchboard.DialConnected {
			t.Fatalf("OpenAttempts while connected = %+v, %v", open, err)
		}

		// The outcome: the row is updated, the lead scheduled again.
		seq = lastSeq(t, db, f.tn.ID)
		ended, next := t0.Add(30*time.Second), t0.Add(time.Hour)
		a.Status, a.LastOutcome, a.NextAttemptAt = switchboard.LeadRedialScheduled, switchboard.DialNoAnswer, &next
		ids2, err := db.SaveDialProgress(ctx, f.tn.ID, []switchboard.Lead{a}, []switchboard.DialAttempt{
			{ID: ids[0], Outcome: switchboard.DialNoAnswer, Reason: "ring timeout", CallID: &callID, AgentID: &agentID, EndedAt: &ended}})
		if err != nil || len(ids2) != 0 {
			t.Fatalf("SaveDialProgress(outcome) = %v, %v", ids2, err)
		}
		evs = eventsSince(t, db, f.tn.ID, seq)
		if len(evs) != 1 || evs[0].Type != switchboard.EventCampaignAttempt {
			t.Fatalf("events = %v, want campaign.attempt", eventTypes(evs))
		}
		p = switchboard.AttemptEventPayload{}
		json.Unmarshal(evs[0].Payload, &p)
		if p.Attempt.ID != ids[0] || p.Attempt.Outcome != switchboard.DialNoAnswer || p.Attempt.Number != a.PhoneNumber ||
			p.Attempt.Checks != checks || p.Attempt.EndedAt == nil || p.Lead.Status != switchboard.LeadRedialScheduled ||
			p.Lead.NextAttemptAt == nil || !p.Lead.NextAttemptAt.Equal(next) {
			t.Errorf("outcome payload = %s", evs[0].Payload)
		}
		if open, _ := db.OpenAttempts(ctx); len(open) != 0 {
			t.Errorf("OpenAttempts after the outcome = %+v", open)
		}

		// A new row of a lead that is not in its campaign, or an unknown
		// row, fails the whole save.
		other, err := db.CreateCampaign(ctx, f.tn.ID, switchboard.Campaign{Name: "Other", QueueID: f.queue.ID})
		if err != nil {
			t.Fatal(err)
		}
		a.Status = switchboard.LeadFinished
		_, err = db.SaveDialProgress(ctx, f.tn.ID, []switchboard.Lead{a}, []switchboard.DialAttempt{{CampaignID: other.ID, LeadID: a.ID, Number: "+15550000001", At: t0}})
		wantCode(t, "attempt in another campaign", err, switchboard.CodeNotFound)
		_, err = db.SaveDialProgress(ctx, f.tn.ID, nil, []switchboard.DialAttempt{{ID: 999999, Outcome: switchboard.DialBusy}})
		wantCode(t, "unknown attempt", err, switchboard.CodeNotFound)
		_, err = db.SaveDialProgress(ctx, f.tn.ID, []switchboard.Lead{{ID: a.ID, Status: "lost"}}, nil)
		wantField(t, "unknown status", err, switchboard.CodeInvalid, "leads[0].status")
		if got, _ := db.Lead(ctx, f.tn.ID, a.ID); got.Status != switchboard.LeadRedialScheduled {
			t.Errorf("a failed save changed the lead to %s", got.Status)
		}

		// The ledger: paged, filtered, streamed.
		page, err := db.Attempts(ctx, f.tn.ID, f.camp.ID, switchboard.AttemptFilter{}, switchboard.ListOptions{Limit: 1})
		if err != nil || page.Total != 2 || len(page.Items) != 1 || page.Items[0].ID != ids[0] || page.NextCursor == "" {
			t.Fatalf("Attempts(limit 1) = %+v, %v", page, err)
		}
		page, err = db.Attempts(ctx, f.tn.ID, f.camp.ID, switchboard.AttemptFilter{}, switchboard.ListOptions{Limit: 1, Cursor: page.NextCursor})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != ids[1] || page.NextCursor != "" {
			t.Fatalf("Attempts(page 2) = %+v, %v", page, err)
		}
		for _, c := range []struct {
			f    switchboard.AttemptFilter
			want []int64
		}{
			{switchboard.AttemptFilter{Since: t0.Add(time.Second)}, []int64{ids[1]}},
			{switchboard.AttemptFilter{Until: t0.Add(time.Second)}, []int64{ids[0]}},
			{switchboard.AttemptFilter{LeadID: a.ID}, []int64{ids[0]}},
			{switchboard.AttemptFilter{Since: t0.Add(time.Hour)}, nil},
		} {
			var got []int64
			if err := db.EachAttempt(ctx, f.tn.ID, f.camp.ID, c.f, func(a *switchboard.DialAttempt) error { got = append(got, a.ID); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("EachAttempt(%+v) = %v, want %v", c.f, got, c.want)
			}
			page, err := db.Attempts(ctx, f.tn.ID, f.camp.ID, c.f, switchboard.ListOptions{})
			if err != nil || page.Total != len(c.want) {
				t.Errorf("Attempts(%+v) total = %d, %v; want %d", c.f, page.Total, err, len(c.want))
			}
		}
		// Streaming in chunks resumes after the last row.
		sqlstore.SetExportChunk(db, 1)
		var streamed []int64
		if err := db.EachAttempt(ctx, f.tn.ID, f.camp.ID, switchboard.AttemptFilter{}, func(a *switchboard.DialAttempt) error { streamed = append(streamed, a.ID); return nil }); err != nil || !slices.Equal(streamed, ids) {
			t.Errorf("EachAttempt in chunks of 1 = %v, %v; want %v", streamed, err, ids)
		}
	})
}
