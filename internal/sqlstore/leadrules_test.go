package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestAddCampaignLeadsOneAtATime checks Voiso's rule on lead imports: while
// one import into a campaign runs, and for 2 s after, another is refused
// with a conflict naming campaign_id; other campaigns are not held up.
func TestAddCampaignLeadsOneAtATime(t *testing.T) {
	forEachEngineAt(t, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), func(t *testing.T, db *sqlstore.DB, c *clock) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		batch := func(prefix int, n int) []switchboard.Lead {
			out := make([]switchboard.Lead, n)
			for i := range out {
				out[i] = switchboard.Lead{Name: "L", PhoneNumber: fmt.Sprintf("+1555%03d%04d", prefix, i)}
			}
			return out
		}
		// Two imports at once: one runs, the other is refused. The clock
		// stands still, so the loser is refused whether it came during
		// the winner's import or in its cooldown.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		results := make([]switchboard.InsertLeadsResult, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = db.AddCampaignLeads(ctx, f.tn.ID, f.camp.ID, batch(i, 500))
			}()
		}
		wg.Wait()
		var ok, conflicts int
		for i, err := range errs {
			switch {
			case err == nil && results[i].Inserted == 500:
				ok++
			case switchboard.ErrorCode(err) == switchboard.CodeConflict:
				wantField(t, "concurrent import", err, switchboard.CodeConflict, "campaign_id")
				conflicts++
			default:
				t.Fatalf("import %d = %+v, %v", i, results[i], err)
			}
		}
		if ok != 1 || conflicts != 1 {
			t.Fatalf("%d imports ran and %d were refused, want 1 and 1", ok, conflicts)
		}
		// Another campaign is not held up.
		camp2, err := db.CreateCampaign(ctx, f.tn.ID, switchboard.Campaign{Name: "Summer", QueueID: f.queue.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddCampaignLeads(ctx, f.tn.ID, camp2.ID, batch(7, 1)); err != nil {
			t.Fatalf("another campaign: %v", err)
		}
		// Within the cooldown, then after it.
		c.advance(1999 * time.Millisecond)
		_, err = db.AddCampaignLeads(ctx, f.tn.ID, f.camp.ID, batch(8, 1))
		wantField(t, "import within 2 s of the last", err, switchboard.CodeConflict, "campaign_id")
		c.advance(time.Millisecond)
		res, err := db.AddCampaignLeads(ctx, f.tn.ID, f.camp.ID, batch(8, 1))
		if err != nil || res.Inserted != 1 {
			t.Fatalf("import 2 s after the last = %+v, %v", res, err)
		}
		// A refused import (an invalid lead) still ends with the cooldown.
		c.advance(2 * time.Second)
		_, err = db.AddCampaignLeads(ctx, f.tn.ID, f.camp.ID, []switchboard.Lead{{Name: "no number"}})
		wantCode(t, "invalid lead", err, switchboard.CodeInvalid)
		_, err = db.AddCampaignLeads(ctx, f.tn.ID, f.camp.ID, batch(9, 1))
		wantField(t, "import right after a failed one", err, switchboard.CodeConflict, "campaign_id")
		// Another tenant's campaign does not exist here.
		_, err = db.AddCampaignLeads(ctx, f.tn.ID, f.ocamp.ID, batch(9, 1))
		wantCode(t, "another tenant's campaign", err, switchboard.CodeNotFound)
		page, err := db.Leads(ctx, f.tn.ID, switchboard.LeadTarget{CampaignID: f.camp.ID}, switchboard.LeadFilter{}, switchboard.ListOptions{})
		if err != nil || page.Total != 501 {
			t.Fatalf("campaign leads = %d, %v; want 501", page.Total, err)
		}
		// Deleting the campaign takes its claim with it.
		if err := db.DeleteCampaign(ctx, f.tn.ID, camp2.ID); err != nil {
			t.Fatalf("delete a campaign that imported leads: %v", err)
		}
	})
}

// TestLeadsByNumber checks the number filter and the update of a
// campaign's leads by number through UpdateLeadFunc, as the Voiso dialect
// does it.
func TestLeadsByNumber(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newCampaignFixture(t, db)
		to := switchboard.LeadTarget{CampaignID: f.camp.ID}
		if _, err := db.InsertLeads(ctx, f.tn.ID, to, []switchboard.Lead{
			{Name: "Ann", PhoneNumber: "+15550000001"},
			{Name: "Ann at work", PhoneNumber: "+15550000001", ExternalID: "crm-7"},
			{Name: "Bob", PhoneNumber: "+15550000002", PhoneNumbers: []string{"+15550000001"}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.InsertLeads(ctx, f.other.ID, switchboard.LeadTarget{CampaignID: f.ocamp.ID},
			[]switchboard.Lead{{Name: "Theirs", PhoneNumber: "+15550000001"}}); err != nil {
			t.Fatal(err)
		}
		page, err := db.Leads(ctx, f.tn.ID, to, switchboard.LeadFilter{Number: "+15550000001"}, switchboard.ListOptions{})
		if err != nil || page.Total != 2 || page.Items[0].Name != "Ann" || page.Items[1].Name != "Ann at work" {
			t.Fatalf("Leads(number) = %+v, %v; want Ann's two leads (not Bob's second number)", page.Items, err)
		}
		if p, err := db.Leads(ctx, f.tn.ID, to, switchboard.LeadFilter{Number: "+15550000009"}, switchboard.ListOptions{}); err != nil || p.Total != 0 {
			t.Fatalf("Leads(unknown number) = %+v, %v", p, err)
		}
		if p, err := db.Leads(ctx, f.tn.ID, to, switchboard.LeadFilter{Number: "+15550000001", Status: switchboard.LeadSkipped},
			switchboard.ListOptions{}); err != nil || p.Total != 0 {
			t.Fatalf("Leads(number, skipped) = %+v, %v", p, err)
		}
		// Update every lead of the number: name, external id, priority,
		// and inactive (skipped).
		for _, l := range page.Items {
			up, err := db.UpdateLeadFunc(ctx, f.tn.ID, l.ID, func(l *switchboard.Lead) error {
				l.Name, l.Priority, l.Status = l.Name+" (moved)", 9, switchboard.LeadSkipped
				if l.ExternalID != "" {
					l.ExternalID = "crm-8"
				}
				return nil
			})
			if err != nil || up.Status != switchboard.LeadSkipped || up.Priority != 9 {
				t.Fatalf("UpdateLeadFunc = %+v, %v", up, err)
			}
		}
		page, err = db.Leads(ctx, f.tn.ID, to, switchboard.LeadFilter{Number: "+15550000001", Status: switchboard.LeadSkipped}, switchboard.ListOptions{})
		if err != nil || page.Total != 2 || page.Items[1].ExternalID != "crm-8" || page.Items[0].Name != "Ann (moved)" {
			t.Fatalf("after the update = %+v, %v", page.Items, err)
		}
		// And active again.
		up, err := db.UpdateLeadFunc(ctx, f.tn.ID, page.Items[0].ID, func(l *switchboard.Lead) error {
			l.Status = switchboard.LeadUpcoming
			return nil
		})
		if err != nil || up.Status != switchboard.LeadUpcoming {
			t.Fatalf("reactivate = %+v, %v", up, err)
		}
		if p, err := db.Leads(ctx, f.other.ID, switchboard.LeadTarget{CampaignID: f.ocamp.ID}, switchboard.LeadFilter{Number: "+15550000001"},
			switchboard.ListOptions{}); err != nil || p.Total != 1 || p.Items[0].Status != switchboard.LeadUpcoming {
			t.Fatalf("the other tenant's lead = %+v, %v", p, err)
		}
	})
}
