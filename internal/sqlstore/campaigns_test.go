package sqlstore_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// campaignFixture is a tenant with a queue and a campaign on it, and another
// tenant with its own, for the campaign store's tests.
type campaignFixture struct {
	tn, other     switchboard.Tenant
	queue, oqueue switchboard.Queue
	camp, ocamp   switchboard.Campaign
}

func newCampaignFixture(t *testing.T, db *sqlstore.DB) campaignFixture {
	t.Helper()
	ctx := context.Background()
	var f campaignFixture
	f.tn, f.other = mustTenant(t, db, "acme"), mustTenant(t, db, "other")
	var err error
	if f.queue, err = db.CreateQueue(ctx, f.tn.ID, switchboard.Queue{Name: "Sales"}); err != nil {
		t.Fatal(err)
	}
	if f.oqueue, err = db.CreateQueue(ctx, f.other.ID, switchboard.Queue{Name: "Theirs"}); err != nil {
		t.Fatal(err)
	}
	if f.camp, err = db.CreateCampaign(ctx, f.tn.ID, switchboard.Campaign{Name: "Spring", QueueID: f.queue.ID}); err != nil {
		t.Fatal(err)
	}
	if f.ocamp, err = db.CreateCampaign(ctx, f.other.ID, switchboard.Campaign{Name: "Theirs", QueueID: f.oqueue.ID}); err != nil {
		t.Fatal(err)
	}
	return f
}

// eventsSince returns tenantID's events after seq.
func eventsSince(t *testing.T, db *sqlstore.DB, tenantID, seq int64) []switchboard.Event {
	t.Helper()
	evs, err := db.Events(context.Background(), tenantID, seq, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func lastSeq(t *testing.T, db *sqlstore.DB, tenantID int64) int64 {
	t.Helper()
	evs := eventsSince(t, db, tenantID, 0)
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Seq
}

func eventTypes(evs []switchboard.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func TestCampaignLifecycle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		c := f.camp
		if c.ID == 0 || c.Status != switchboard.CampaignCreated || c.Mode != switchboard.ModeProgressive ||
			c.MaxAbandonPercent != 3 || len(c.RetryRules) == 0 || c.Schedule.From != "08:00" || c.StartedAt != nil {
			t.Fatalf("CreateCampaign = %+v, want defaults and status created", c)
		}
		got, err := db.Campaign(ctx, f.tn.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := mustJSON(t, got), mustJSON(t, c); g != w {
			t.Errorf("Campaign read back\n got %s\nwant %s", g, w)
		}
		// A status given at creation is ignored; a foreign queue is refused.
		started, err := db.CreateCampaign(ctx, f.tn.ID, switchboard.Campaign{Name: "B", QueueID: f.queue.ID, Status: switchboard.CampaignStarted,
			CallerIDPool: []string{"+15550001111"}, Schedule: switchboard.CampaignSchedule{Days: []string{"Mon", "tue"}}})
		if err != nil || started.Status != switchboard.CampaignCreated {
			t.Fatalf("CreateCampaign(status started) = %+v, %v; want created", started, err)
		}
		if got, _ := db.Campaign(ctx, f.tn.ID, started.ID); strings.Join(got.Schedule.Days, ",") != "mon,tue" || got.CallerIDPool[0] != "+15550001111" {
			t.Errorf("lists read back as %v and %v", got.Schedule.Days, got.CallerIDPool)
		}
		_, err = db.CreateCampaign(ctx, f.tn.ID, switchboard.Campaign{Name: "C", QueueID: f.oqueue.ID})
		wantField(t, "another tenant's queue", err, switchboard.CodeInvalid, "queue_id")
		_, err = db.CreateCampaign(ctx, f.tn.ID, switchboard.Campaign{Name: "C", QueueID: f.queue.ID, RingSeconds: 5})
		wantField(t, "ring seconds", err, switchboard.CodeInvalid, "ring_seconds")

		page, err := db.Campaigns(ctx, f.tn.ID, switchboard.ListOptions{Limit: 1})
		if err != nil || page.Total != 2 || len(page.Items) != 1 || page.NextCursor == "" {
			t.Fatalf("Campaigns(limit 1) = %+v, %v", page, err)
		}
		page, err = db.Campaigns(ctx, f.tn.ID, switchboard.ListOptions{Limit: 1, Cursor: page.NextCursor})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != started.ID || page.NextCursor != "" {
			t.Fatalf("Campaigns(page 2) = %+v, %v", page, err)
		}

		seq := lastSeq(t, db, f.tn.ID)
		up, err := db.UpdateCampaignFunc(ctx, f.tn.ID, c.ID, func(c *switchboard.Campaign) error {
			c.Name, c.Mode, c.MaxRedials = "Spring 2", switchboard.ModePredictive, 4
			return nil
		})
		if err != nil || up.Name != "Spring 2" || up.Mode != switchboard.ModePredictive || up.MaxRedials != 4 || !up.UpdatedAt.After(c.CreatedAt) && !up.UpdatedAt.Equal(c.CreatedAt) {
			t.Fatalf("UpdateCampaignFunc = %+v, %v", up, err)
		}
		for field, fn := range map[string]func(*switchboard.Campaign){
			"status":     func(c *switchboard.Campaign) { c.Status = switchboard.CampaignStarted },
			"started_at": func(c *switchboard.Campaign) { now := time.Now(); c.StartedAt = &now },
			"id":         func(c *switchboard.Campaign) { c.ID++ },
			"created_at": func(c *switchboard.Campaign) { c.CreatedAt = c.CreatedAt.Add(time.Hour) },
		} {
			_, err := db.UpdateCampaignFunc(ctx, f.tn.ID, c.ID, func(c *switchboard.Campaign) error { fn(c); return nil })
			wantField(t, "update "+field, err, switchboard.CodeInvalid, field)
		}
		_, err = db.UpdateCampaignFunc(ctx, f.tn.ID, c.ID, func(c *switchboard.Campaign) error { c.QueueID = f.oqueue.ID; return nil })
		wantField(t, "update to a foreign queue", err, switchboard.CodeInvalid, "queue_id")

		move := func(from []switchboard.CampaignStatus, to switchboard.CampaignStatus) switchboard.Campaign {
			t.Helper()
			c, err := db.SetCampaignStatus(ctx, f.tn.ID, f.camp.ID, from, to)
			if err != nil {
				t.Fatalf("SetCampaignStatus(%s): %v", to, err)
			}
			if c.Status != to {
				t.Fatalf("SetCampaignStatus(%s) = %s", to, c.Status)
			}
			return c
		}
		s := move([]switchboard.CampaignStatus{switchboard.CampaignCreated}, switchboard.CampaignStarted)
		if s.StartedAt == nil || s.FinishedAt != nil || s.Name != "Spring 2" {
			t.Fatalf("started campaign = %+v", s)
		}
		firstStart := *s.StartedAt
		_, err = db.SetCampaignStatus(ctx, f.tn.ID, c.ID, []switchboard.CampaignStatus{switchboard.CampaignCreated}, switchboard.CampaignStarted)
		wantCode(t, "start a started campaign", err, switchboard.CodeConflict)
		if !strings.Contains(err.Error(), "started") {
			t.Errorf("conflict %q does not name the current status", err)
		}
		err = db.DeleteCampaign(ctx, f.tn.ID, c.ID)
		wantCode(t, "delete a started campaign", err, switchboard.CodeConflict)
		running, err := db.RunningCampaigns(ctx)
		if err != nil || len(running) != 1 || running[0].ID != c.ID {
			t.Fatalf("RunningCampaigns = %+v, %v", running, err)
		}
		if _, err := db.SetCampaignStatus(ctx, f.other.ID, f.ocamp.ID, []switchboard.CampaignStatus{switchboard.CampaignCreated}, switchboard.CampaignStarted); err != nil {
			t.Fatal(err)
		}
		if running, _ := db.RunningCampaigns(ctx); len(running) != 2 {
			t.Fatalf("RunningCampaigns of every tenant = %d campaigns, want 2", len(running))
		}
		move([]switchboard.CampaignStatus{switchboard.CampaignStarted}, switchboard.CampaignPaused)
		wantCode(t, "delete a paused campaign", db.DeleteCampaign(ctx, f.tn.ID, c.ID), switchboard.CodeConflict)
		s = move([]switchboard.CampaignStatus{switchboard.CampaignPaused}, switchboard.CampaignStarted)
		if !s.StartedAt.Equal(firstStart) {
			t.Errorf("resuming moved started_at from %v to %v", firstStart, s.StartedAt)
		}
		s = move([]switchboard.CampaignStatus{switchboard.CampaignStarted, switchboard.CampaignPaused}, switchboard.CampaignStopped)
		if s.FinishedAt == nil {
			t.Errorf("stopped campaign has no finished_at")
		}
		want := []string{switchboard.EventCampaignUpdated, switchboard.EventCampaignStarted, switchboard.EventCampaignPaused,
			switchboard.EventCampaignResumed, switchboard.EventCampaignStopped}
		if got := eventTypes(eventsSince(t, db, f.tn.ID, seq)); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("events = %v, want %v", got, want)
		}

		// Deleting takes the leads, the ledger and the import jobs along.
		if err := db.DeleteQueue(ctx, f.tn.ID, f.queue.ID); err == nil {
			t.Fatal("DeleteQueue of a campaign's queue succeeded")
		} else if switchboard.ErrorCode(err) != switchboard.CodeConflict || !strings.Contains(err.Error(), "Spring 2") {
			t.Errorf("DeleteQueue of a campaign's queue: %v, want a conflict naming the campaign", err)
		}
		leads := insertLeads(t, db, f.tn.ID, switchboard.LeadTarget{CampaignID: started.ID}, "+15550000001", "+15550000002")
		l := leads[0]
		l.Status, l.Attempts = switchboard.LeadFinished, 1
		if _, err := db.SaveDialProgress(ctx, f.tn.ID, []switchboard.Lead{l}, []switchboard.DialAttempt{{CampaignID: started.ID,
			LeadID: l.ID, Number: l.PhoneNumber, At: time.Now(), Outcome: switchboard.DialConnected}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateImportJob(ctx, f.tn.ID, switchboard.ImportJob{CampaignID: &started.ID, Format: "csv"}); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteCampaign(ctx, f.tn.ID, started.ID); err != nil {
			t.Fatal(err)
		}
		_, err = db.Lead(ctx, f.tn.ID, l.ID)
		wantCode(t, "lead of a deleted campaign", err, switchboard.CodeNotFound)
		_, err = db.Campaign(ctx, f.tn.ID, started.ID)
		wantCode(t, "deleted campaign", err, switchboard.CodeNotFound)
		if evs := eventsSince(t, db, f.tn.ID, 0); evs[len(evs)-1].Type != switchboard.EventCampaignDeleted {
			t.Errorf("last event = %s, want campaign.deleted", evs[len(evs)-1].Type)
		}
		if err := db.DeleteCampaign(ctx, f.tn.ID, c.ID); err != nil {
			t.Fatalf("delete a stopped campaign: %v", err)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// insertLeads adds one lead per number to target and returns them as stored.
func insertLeads(t *testing.T, db *sqlstore.DB, tenantID int64, to switchboard.LeadTarget, numbers ...string) []switchboard.Lead {
	t.Helper()
	ctx := context.Background()
	in := make([]switchboard.Lead, len(numbers))
	for i, n := range numbers {
		in[i] = switchboard.Lead{Name: "Lead " + n, PhoneNumber: n, TimeZone: "America/New_York"}
	}
	res, err := db.InsertLeads(ctx, tenantID, to, in)
	if err != nil || res.Inserted != len(numbers) {
		t.Fatalf("InsertLeads = %+v, %v", res, err)
	}
	page, err := db.Leads(ctx, tenantID, to, switchboard.LeadFilter{}, switchboard.ListOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []switchboard.Lead
	for _, l := range page.Items {
		for _, n := range numbers {
			if l.PhoneNumber == n {
				out = append(out, l)
			}
		}
	}
	return out
}

// TestCampaignTenantIsolation shows that every method refuses another
// tenant's campaigns, leads, lists, ledger rows and jobs as not found.
func TestCampaignTenantIsolation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		theirs := insertLeads(t, db, f.other.ID, switchboard.LeadTarget{CampaignID: f.ocamp.ID}, "+15550000001")[0]
		list, err := db.CreateContactList(ctx, f.other.ID, switchboard.ContactList{Name: "Theirs"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetCampaignStatus(ctx, f.other.ID, f.ocamp.ID, []switchboard.CampaignStatus{switchboard.CampaignCreated}, switchboard.CampaignStarted); err != nil {
			t.Fatal(err)
		}
		dialing := theirs
		dialing.Status = switchboard.LeadDialing
		ids, err := db.SaveDialProgress(ctx, f.other.ID, []switchboard.Lead{dialing}, []switchboard.DialAttempt{{CampaignID: f.ocamp.ID,
			LeadID: theirs.ID, Number: theirs.PhoneNumber, At: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		job, err := db.CreateImportJob(ctx, f.other.ID, switchboard.ImportJob{ContactListID: &list.ID, Format: "json"})
		if err != nil {
			t.Fatal(err)
		}
		me := f.tn.ID
		for what, call := range map[string]func() error{
			"Campaign": func() error { _, err := db.Campaign(ctx, me, f.ocamp.ID); return err },
			"UpdateCampaignFunc": func() error {
				_, err := db.UpdateCampaignFunc(ctx, me, f.ocamp.ID, func(*switchboard.Campaign) error { return nil })
				return err
			},
			"SetCampaignStatus": func() error {
				_, err := db.SetCampaignStatus(ctx, me, f.ocamp.ID, []switchboard.CampaignStatus{switchboard.CampaignStarted}, switchboard.CampaignPaused)
				return err
			},
			"DeleteCampaign": func() error { return db.DeleteCampaign(ctx, me, f.ocamp.ID) },
			"InsertLeads": func() error {
				_, err := db.InsertLeads(ctx, me, switchboard.LeadTarget{CampaignID: f.ocamp.ID}, []switchboard.Lead{{PhoneNumber: "+15550000009"}})
				return err
			},
			"InsertLeads(list)": func() error {
				_, err := db.InsertLeads(ctx, me, switchboard.LeadTarget{ContactListID: list.ID}, []switchboard.Lead{{PhoneNumber: "+15550000009"}})
				return err
			},
			"Lead": func() error { _, err := db.Lead(ctx, me, theirs.ID); return err },
			"Leads": func() error {
				_, err := db.Leads(ctx, me, switchboard.LeadTarget{CampaignID: f.ocamp.ID}, switchboard.LeadFilter{}, switchboard.ListOptions{})
				return err
			},
			"Leads(list)": func() error {
				_, err := db.Leads(ctx, me, switchboard.LeadTarget{ContactListID: list.ID}, switchboard.LeadFilter{}, switchboard.ListOptions{})
				return err
			},
			"UpdateLeadFunc": func() error {
				_, err := db.UpdateLeadFunc(ctx, me, theirs.ID, func(*switchboard.Lead) error { return nil })
				return err
			},
			"DeleteLead":    func() error { return db.DeleteLead(ctx, me, theirs.ID) },
			"DialableLeads": func() error { _, err := db.DialableLeads(ctx, me, f.ocamp.ID, time.Now(), 10); return err },
			"SaveDialProgress(lead)": func() error {
				_, err := db.SaveDialProgress(ctx, me, []switchboard.Lead{dialing}, nil)
				return err
			},
			"SaveDialProgress(new attempt)": func() error {
				_, err := db.SaveDialProgress(ctx, me, nil, []switchboard.DialAttempt{{CampaignID: f.ocamp.ID, LeadID: theirs.ID, Number: "+15550000001", At: time.Now()}})
				return err
			},
			"SaveDialProgress(attempt)": func() error {
				_, err := db.SaveDialProgress(ctx, me, nil, []switchboard.DialAttempt{{ID: ids[0], Outcome: switchboard.DialBusy}})
				return err
			},
			"Attempts": func() error {
				_, err := db.Attempts(ctx, me, f.ocamp.ID, switchboard.AttemptFilter{}, switchboard.ListOptions{})
				return err
			},
			"EachAttempt": func() error {
				return db.EachAttempt(ctx, me, f.ocamp.ID, switchboard.AttemptFilter{}, func(*switchboard.DialAttempt) error { return nil })
			},
			"CampaignCounts": func() error { _, err := db.CampaignCounts(ctx, me, f.ocamp.ID, time.Time{}); return err },
			"ContactList":    func() error { _, err := db.ContactList(ctx, me, list.ID); return err },
			"UpdateContactListFunc": func() error {
				_, err := db.UpdateContactListFunc(ctx, me, list.ID, func(*switchboard.ContactList) error { return nil })
				return err
			},
			"DeleteContactList":       func() error { return db.DeleteContactList(ctx, me, list.ID) },
			"CopyContactList(list)":   func() error { _, err := db.CopyContactList(ctx, me, list.ID, f.camp.ID); return err },
			"CopyContactList(target)": func() error { _, err := db.CopyContactList(ctx, f.other.ID, list.ID, f.camp.ID); return err },
			"CreateImportJob": func() error {
				_, err := db.CreateImportJob(ctx, me, switchboard.ImportJob{CampaignID: &f.ocamp.ID, Format: "csv"})
				return err
			},
			"ImportJob": func() error { _, err := db.ImportJob(ctx, me, job.ID); return err },
			"UpdateImportJob": func() error {
				j := job
				j.TenantID = me
				return db.UpdateImportJob(ctx, j)
			},
		} {
			wantCode(t, what, call(), switchboard.CodeNotFound)
		}
		// Nothing of theirs changed.
		if l, err := db.Lead(ctx, f.other.ID, theirs.ID); err != nil || l.Status != switchboard.LeadDialing {
			t.Errorf("their lead = %+v, %v", l, err)
		}
		if open, err := db.OpenAttempts(ctx); err != nil || len(open) != 1 || open[0].Outcome != "" {
			t.Errorf("OpenAttempts = %+v, %v", open, err)
		}
		if j, err := db.ImportJob(ctx, f.other.ID, job.ID); err != nil || j.Status != switchboard.ImportRunning {
			t.Errorf("their job = %+v, %v", j, err)
		}
	})
}
