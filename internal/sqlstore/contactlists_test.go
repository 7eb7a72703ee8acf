package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

func TestCampaignCounts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		st, err := db.CampaignCounts(ctx, f.tn.ID, f.camp.ID, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Leads) != len(switchboard.LeadStatuses) || st.LeadsTotal != 0 || st.Dials != 0 || st.AbandonRate != 0 {
			t.Fatalf("counts of an empty campaign = %+v, want every status at 0", st)
		}
		var numbers []string
		for i := range 12 {
			numbers = append(numbers, fmt.Sprintf("+155500000%02d", i))
		}
		leads := insertLeads(t, db, f.tn.ID, switchboard.LeadTarget{CampaignID: f.camp.ID}, numbers...)
		t0 := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
		// Twelve rows: the first six an hour before the window.
		outcomes := []switchboard.DialOutcome{
			switchboard.DialConnected, switchboard.DialAbandoned, switchboard.DialHungUp, switchboard.DialMachine, switchboard.DialBlocked, switchboard.DialSkipped,
			switchboard.DialConnected, switchboard.DialConnected, switchboard.DialAbandoned, switchboard.DialBusy, switchboard.DialInvalid, "",
		}
		statuses := []switchboard.LeadStatus{switchboard.LeadFinished, switchboard.LeadAbandoned, switchboard.LeadRedialScheduled,
			switchboard.LeadVoicemail, switchboard.LeadDoNotCall, switchboard.LeadSkipped, switchboard.LeadFinished, switchboard.LeadFinished,
			switchboard.LeadAbandoned, switchboard.LeadNotPickedUp, switchboard.LeadInvalidNumber, switchboard.LeadDialing}
		var attempts []switchboard.DialAttempt
		for i, l := range leads {
			at := t0.Add(time.Duration(i) * time.Minute)
			if i >= 6 {
				at = at.Add(time.Hour)
			}
			attempts = append(attempts, switchboard.DialAttempt{CampaignID: f.camp.ID, LeadID: l.ID, Number: l.PhoneNumber, At: at, Outcome: outcomes[i]})
			leads[i].Status = statuses[i]
		}
		if _, err := db.SaveDialProgress(ctx, f.tn.ID, leads, attempts); err != nil {
			t.Fatal(err)
		}
		st, err = db.CampaignCounts(ctx, f.tn.ID, f.camp.ID, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := switchboard.CampaignStats{LeadsTotal: 12, Dials: 10, Connects: 3, Abandons: 2, Machines: 1, NoAnswers: 0, Busy: 1,
			Failed: 1, Blocked: 1}
		got := st
		got.Leads, got.AbandonRate, got.WindowAbandonRate = nil, 0, 0
		if mustJSON(t, got) != mustJSON(t, want) {
			t.Errorf("CampaignCounts = %+v\nwant %+v", got, want)
		}
		if st.Leads[switchboard.LeadFinished] != 3 || st.Leads[switchboard.LeadAbandoned] != 2 || st.Leads[switchboard.LeadUpcoming] != 0 ||
			st.Leads[switchboard.LeadDialing] != 1 || len(st.Leads) != len(switchboard.LeadStatuses) {
			t.Errorf("leads by status = %v", st.Leads)
		}
		// All: 2 abandons of 3 connects + 2 abandons + 1 hung up; the
		// window: 1 of 2 + 1.
		if math.Abs(st.AbandonRate-100*2.0/6) > 1e-9 || math.Abs(st.WindowAbandonRate-100*1.0/3) > 1e-9 {
			t.Errorf("abandon rates = %v, %v; want 33.3, 33.3", st.AbandonRate, st.WindowAbandonRate)
		}
		if st2, _ := db.CampaignCounts(ctx, f.tn.ID, f.camp.ID, time.Time{}); st2.WindowAbandonRate != st2.AbandonRate {
			t.Errorf("a zero window covers everything: %v, %v", st2.WindowAbandonRate, st2.AbandonRate)
		}
	})
}

func TestContactLists(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		_, err := db.CreateContactList(ctx, f.tn.ID, switchboard.ContactList{Name: " "})
		wantField(t, "nameless list", err, switchboard.CodeInvalid, "name")
		list, err := db.CreateContactList(ctx, f.tn.ID, switchboard.ContactList{Name: "VIP", Description: "best customers"})
		if err != nil {
			t.Fatal(err)
		}
		in := []switchboard.Lead{
			{Name: "Ann", PhoneNumber: "+15550000001", Priority: 2, Fields: map[string]string{"k": "v"}},
			{Name: "Bob", PhoneNumber: "+15550000002"},
			{Name: "Cy", PhoneNumber: "+15550000003", ExternalID: "x"},
		}
		if res, err := db.InsertLeads(ctx, f.tn.ID, switchboard.LeadTarget{ContactListID: list.ID}, in); err != nil || res.Inserted != 3 {
			t.Fatalf("InsertLeads(list) = %+v, %v", res, err)
		}
		got, err := db.ContactList(ctx, f.tn.ID, list.ID)
		if err != nil || got.Leads != 3 || got.Description != "best customers" {
			t.Fatalf("ContactList = %+v, %v", got, err)
		}
		up, err := db.UpdateContactListFunc(ctx, f.tn.ID, list.ID, func(l *switchboard.ContactList) error { l.Name = "VIPs"; return nil })
		if err != nil || up.Name != "VIPs" || up.Leads != 3 || !up.CreatedAt.Equal(list.CreatedAt) {
			t.Fatalf("UpdateContactListFunc = %+v, %v", up, err)
		}
		_, err = db.UpdateContactListFunc(ctx, f.tn.ID, list.ID, func(l *switchboard.ContactList) error { l.Leads = 9; return nil })
		wantField(t, "change the count", err, switchboard.CodeInvalid, "leads")
		page, err := db.ContactLists(ctx, f.tn.ID, switchboard.ListOptions{})
		if err != nil || page.Total != 1 || page.Items[0].Leads != 3 {
			t.Fatalf("ContactLists = %+v, %v", page, err)
		}

		// The campaign already has Bob: he is skipped by the copy.
		insertLeads(t, db, f.tn.ID, switchboard.LeadTarget{CampaignID: f.camp.ID}, "+15550000002")
		seq := lastSeq(t, db, f.tn.ID)
		n, err := db.CopyContactList(ctx, f.tn.ID, list.ID, f.camp.ID)
		if err != nil || n != 2 {
			t.Fatalf("CopyContactList = %d, %v; want 2", n, err)
		}
		evs := eventsSince(t, db, f.tn.ID, seq)
		if len(evs) != 1 || evs[0].Type != switchboard.EventLeadsImported || evs[0].SubjectID != f.camp.ID {
			t.Fatalf("events = %v, want one leads.imported", eventTypes(evs))
		}
		var p switchboard.LeadsImportedPayload
		if err := json.Unmarshal(evs[0].Payload, &p); err != nil || p.Inserted != 2 || p.Duplicates != 1 {
			t.Errorf("payload = %s", evs[0].Payload)
		}
		leads, _ := db.Leads(ctx, f.tn.ID, switchboard.LeadTarget{CampaignID: f.camp.ID}, switchboard.LeadFilter{Status: switchboard.LeadUpcoming}, switchboard.ListOptions{})
		if leads.Total != 3 {
			t.Fatalf("campaign leads = %d, want 3", leads.Total)
		}
		var names []string
		for _, l := range leads.Items {
			names = append(names, l.Name)
			if l.CampaignID == nil || *l.CampaignID != f.camp.ID || l.ContactListID != nil || l.Status != switchboard.LeadUpcoming || l.Attempts != 0 {
				t.Errorf("copied lead = %+v", l)
			}
			if l.Name == "Ann" && (l.Priority != 2 || l.Fields["k"] != "v") {
				t.Errorf("copied lead lost its data: %+v", l)
			}
		}
		if strings.Join(names, ",") != "Lead +15550000002,Ann,Cy" {
			t.Errorf("campaign leads = %v", names)
		}
		if n, err := db.CopyContactList(ctx, f.tn.ID, list.ID, f.camp.ID); err != nil || n != 0 {
			t.Errorf("second copy = %d, %v; want 0", n, err)
		}
		// A list's leads are never dialled.
		listLeads, _ := db.Leads(ctx, f.tn.ID, switchboard.LeadTarget{ContactListID: list.ID}, switchboard.LeadFilter{}, switchboard.ListOptions{})
		dialing := listLeads.Items[0]
		dialing.Status = switchboard.LeadDialing
		_, err = db.SaveDialProgress(ctx, f.tn.ID, []switchboard.Lead{dialing}, nil)
		wantCode(t, "dial a list's lead", err, switchboard.CodeNotFound)

		job, err := db.CreateImportJob(ctx, f.tn.ID, switchboard.ImportJob{ContactListID: &list.ID, Format: "csv"})
		if err != nil {
			t.Fatal(err)
		}
		seq = lastSeq(t, db, f.tn.ID)
		if err := db.DeleteContactList(ctx, f.tn.ID, list.ID); err != nil {
			t.Fatal(err)
		}
		if evs := eventsSince(t, db, f.tn.ID, seq); len(evs) != 1 || evs[0].Type != switchboard.EventContactListDeleted {
			t.Errorf("events = %v, want contact_list.deleted", eventTypes(evs))
		}
		_, err = db.ImportJob(ctx, f.tn.ID, job.ID)
		wantCode(t, "job of a deleted list", err, switchboard.CodeNotFound)
		if leads, _ := db.Leads(ctx, f.tn.ID, switchboard.LeadTarget{CampaignID: f.camp.ID}, switchboard.LeadFilter{}, switchboard.ListOptions{}); leads.Total != 3 {
			t.Errorf("deleting the list took copied leads: %d left", leads.Total)
		}
	})
}

func TestImportJobs(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		_, err := db.CreateImportJob(ctx, f.tn.ID, switchboard.ImportJob{CampaignID: &f.camp.ID, Format: "xml"})
		wantField(t, "bad format", err, switchboard.CodeInvalid, "format")
		job, err := db.CreateImportJob(ctx, f.tn.ID, switchboard.ImportJob{CampaignID: &f.camp.ID, Format: "csv", Total: 2500, Status: "completed"})
		if err != nil {
			t.Fatal(err)
		}
		if job.ID == 0 || job.Status != switchboard.ImportRunning || job.Errors == nil {
			t.Fatalf("CreateImportJob = %+v", job)
		}
		seq := lastSeq(t, db, f.tn.ID)
		job.Processed, job.Imported, job.Duplicates, job.Rejected = 1000, 990, 5, 5
		for i := range switchboard.MaxImportErrors + 10 {
			job.Errors = append(job.Errors, switchboard.ImportRowError{Row: i + 1, Field: "phone_number", Message: "is not a phone number"})
		}
		if err := db.UpdateImportJob(ctx, job); err != nil {
			t.Fatal(err)
		}
		got, err := db.ImportJob(ctx, f.tn.ID, job.ID)
		if err != nil || got.Processed != 1000 || got.Imported != 990 || got.Duplicates != 5 || got.Rejected != 5 || got.Total != 2500 ||
			len(got.Errors) != switchboard.MaxImportErrors || got.Errors[0].Row != 1 || got.FinishedAt != nil {
			t.Fatalf("ImportJob = %+v (%d errors), %v", got.Status, len(got.Errors), err)
		}
		if evs := eventsSince(t, db, f.tn.ID, seq); len(evs) != 0 {
			t.Errorf("progress wrote events %v", eventTypes(evs))
		}
		job.Status = switchboard.ImportCompleted
		if err := db.UpdateImportJob(ctx, job); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.ImportJob(ctx, f.tn.ID, job.ID); got.Status != switchboard.ImportCompleted || got.FinishedAt == nil {
			t.Errorf("completed job = %+v", got)
		}
		job.Status = "done"
		wantField(t, "bad status", db.UpdateImportJob(ctx, job), switchboard.CodeInvalid, "status")

		// A cut run's jobs, of every tenant, fail; finished ones stay.
		r1, _ := db.CreateImportJob(ctx, f.tn.ID, switchboard.ImportJob{CampaignID: &f.camp.ID, Format: "json"})
		r2, _ := db.CreateImportJob(ctx, f.other.ID, switchboard.ImportJob{CampaignID: &f.ocamp.ID, Format: "json"})
		n, err := db.FailRunningImports(ctx, "the server restarted during the import")
		if err != nil || n != 2 {
			t.Fatalf("FailRunningImports = %d, %v; want 2", n, err)
		}
		for _, j := range []switchboard.ImportJob{r1, r2} {
			got, _ := db.ImportJob(ctx, j.TenantID, j.ID)
			if got.Status != switchboard.ImportFailed || got.Error != "the server restarted during the import" || got.FinishedAt == nil {
				t.Errorf("cut job = %+v", got)
			}
		}
		if got, _ := db.ImportJob(ctx, f.tn.ID, job.ID); got.Status != switchboard.ImportCompleted {
			t.Errorf("a completed job became %s", got.Status)
		}
		if n, _ := db.FailRunningImports(ctx, "again"); n != 0 {
			t.Errorf("second FailRunningImports = %d", n)
		}
	})
}

// TestLeads100k imports 100,000 leads in batches of 1,000 as an import job
// does, finishes most of them through SaveDialProgress as the dialer would,
// and reads the next dialable leads; it logs how long each part took (the
// figures in the store's report) and fails if they are minutes, not seconds.
func TestLeads100k(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("100k leads: not in -short, nor under the race detector (.ci/run runs it on its own)")
	}
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		to := switchboard.LeadTarget{CampaignID: f.camp.ID}
		const total, batch = 100_000, 1000
		start := time.Now()
		dups := 0
		for b := 0; b < total/batch; b++ {
			leads := make([]switchboard.Lead, batch)
			for i := range leads {
				n := b*batch + i
				leads[i] = switchboard.Lead{Name: fmt.Sprintf("Lead %d", n), PhoneNumber: fmt.Sprintf("+1555%07d", n),
					TimeZone: "America/New_York", Priority: n % 3, Fields: map[string]string{"n": fmt.Sprint(n)}}
			}
			leads[batch-1].PhoneNumber = leads[0].PhoneNumber // one duplicate in every batch
			res, err := db.InsertLeads(ctx, f.tn.ID, to, leads)
			if err != nil {
				t.Fatal(err)
			}
			dups += len(res.Duplicates)
		}
		insert := time.Since(start)
		if dups != total/batch {
			t.Fatalf("duplicates = %d, want %d", dups, total/batch)
		}
		// The dialer finishes 99 % of them, a thousand leads a save.
		start = time.Now()
		finished, saves := 0, 0
		var reading time.Duration
		for finished < total*99/100 {
			r := time.Now()
			page, err := db.DialableLeads(ctx, f.tn.ID, f.camp.ID, time.Now(), batch)
			if err != nil {
				t.Fatal(err)
			}
			reading += time.Since(r)
			for i := range page {
				page[i].Status, page[i].Attempts, page[i].LastOutcome = switchboard.LeadFinished, 1, switchboard.DialConnected
			}
			if _, err := db.SaveDialProgress(ctx, f.tn.ID, page, nil); err != nil {
				t.Fatal(err)
			}
			finished += len(page)
			saves++
		}
		progress := time.Since(start) - reading
		start = time.Now()
		const reads = 100
		for range reads {
			if got, err := db.DialableLeads(ctx, f.tn.ID, f.camp.ID, time.Now(), 50); err != nil || len(got) != 50 {
				t.Fatalf("DialableLeads = %d, %v", len(got), err)
			}
		}
		dialable := time.Since(start) / reads
		start = time.Now()
		st, err := db.CampaignCounts(ctx, f.tn.ID, f.camp.ID, time.Time{})
		if err != nil || st.LeadsTotal != total-total/batch {
			t.Fatalf("CampaignCounts = %+v, %v", st.LeadsTotal, err)
		}
		counts := time.Since(start)
		start = time.Now()
		page, err := db.Leads(ctx, f.tn.ID, to, switchboard.LeadFilter{}, switchboard.ListOptions{Limit: 50})
		if err != nil || len(page.Items) != 50 {
			t.Fatalf("Leads = %d, %v", len(page.Items), err)
		}
		if page, err = db.Leads(ctx, f.tn.ID, to, switchboard.LeadFilter{Status: switchboard.LeadUpcoming},
			switchboard.ListOptions{Limit: 50, Cursor: page.NextCursor}); err != nil || len(page.Items) != 50 {
			t.Fatalf("Leads(upcoming) = %d, %v", len(page.Items), err)
		}
		list := time.Since(start) / 2
		t.Logf("%s: InsertLeads %d leads in batches of %d: %v (%.0f leads/s); SaveDialProgress of %d leads in %d saves: %v (%.0f leads/s); "+
			"DialableLeads(1000) as they finish: %v; DialableLeads(50) with %d finished: %v a read; CampaignCounts: %v; a page of Leads: %v",
			db.Engine(), total, batch, insert.Round(time.Millisecond), total/insert.Seconds(), finished, saves, progress.Round(time.Millisecond),
			float64(finished)/progress.Seconds(), reading.Round(time.Millisecond), finished, dialable.Round(time.Microsecond), counts.Round(time.Microsecond), list.Round(time.Microsecond))
		if insert > time.Minute || progress > time.Minute || dialable > 100*time.Millisecond {
			t.Errorf("too slow: insert %v, progress %v, dialable read %v", insert, progress, dialable)
		}
	})
}
