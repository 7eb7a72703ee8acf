package leadimport_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/leadimport"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// setup opens a store on engine with a tenant and a campaign.
func setup(t *testing.T, url string) (*sqlstore.DB, int64, switchboard.Campaign) {
	t.Helper()
	ctx := context.Background()
	s := sqlstoretest.Open(t, url, sqlstore.Options{})
	tn, err := s.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := s.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Sales"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateCampaign(ctx, tn.ID, switchboard.Campaign{Name: "Renewals", Mode: switchboard.ModeProgressive, QueueID: q.ID})
	if err != nil {
		t.Fatal(err)
	}
	return s, tn.ID, c
}

// TestRun imports 2,500 rows in three batches: bad rows refused at parse,
// duplicates inside the body (in one batch and across batches) and of a
// lead already in the campaign reported by row, the rest inserted, and the
// job completed with every count.
func TestRun(t *testing.T) {
	for name, url := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, tenant, c := setup(t, url(t))
			to := switchboard.LeadTarget{CampaignID: c.ID}
			if _, err := s.InsertLeads(ctx, tenant, to, []switchboard.Lead{{PhoneNumber: "+12125550000", ExternalID: "crm-0"}}); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			b.WriteString("external_id,name,phone_number\n")
			for i := 1; i <= 2500; i++ {
				switch i {
				case 7: // refused: no number
					b.WriteString("crm-7,Seven,\n")
				case 9: // refused: emergency
					b.WriteString("crm-9,Nine,911\n")
				case 20: // duplicate of row 10, same batch
					b.WriteString("crm-10,Ten again,+12125559999\n")
				case 2100: // duplicate of row 30, a later batch
					b.WriteString("crm-30,Thirty again,+12125559998\n")
				case 2200: // duplicate of the lead already there
					b.WriteString("crm-0,Zero again,+12125559997\n")
				case 2300, 2301: // no external id: the number decides
					b.WriteString(",Same number,+44 20 7946 0000\n")
				default:
					fmt.Fprintf(&b, "crm-%d,Lead %d,+1212555%04d\n", i, i, i)
				}
			}
			job, leads, rows, err := leadimport.Prepare(ctx, s, tenant, to, leadimport.FormatCSV, []byte(b.String()), "")
			if err != nil {
				t.Fatal(err)
			}
			if job.ID == 0 || job.Status != switchboard.ImportRunning || job.Total != 2500 || job.Rejected != 2 || job.Processed != 2 ||
				len(job.Errors) != 2 || job.Errors[0].Row != 7 || job.Errors[1].Row != 9 {
				t.Fatalf("prepared job %+v", job)
			}
			done, err := leadimport.Run(ctx, s, job, leads, rows)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := s.ImportJob(ctx, tenant, job.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range []switchboard.ImportJob{done, stored} {
				if j.Status != switchboard.ImportCompleted || j.FinishedAt == nil || j.Processed != 2500 || j.Imported != 2494 ||
					j.Duplicates != 4 || j.Rejected != 2 || j.Error != "" {
					t.Errorf("job %+v", j)
				}
				var got []string
				for _, e := range j.Errors {
					got = append(got, fmt.Sprintf("%d %s", e.Row, e.Field))
				}
				want := "[7 phone_number 9 phone_number 20 external_id 2100 external_id 2200 external_id 2301 phone_number]"
				if fmt.Sprint(got) != want {
					t.Errorf("errors %v, want %s", got, want)
				}
				if !strings.Contains(j.Errors[2].Message, "duplicate of a lead already in the campaign") {
					t.Errorf("duplicate message %q", j.Errors[2].Message)
				}
			}
			p, err := s.Leads(ctx, tenant, to, switchboard.LeadFilter{}, switchboard.ListOptions{Limit: 1})
			if err != nil || p.Total != 2495 {
				t.Errorf("leads in the campaign: %d %v, want 2495", p.Total, err)
			}
		})
	}
}

// TestRunFails: a store error (the campaign was stopped) and an ended
// context each end the job failed with the reason, never left running.
func TestRunFails(t *testing.T) {
	ctx := context.Background()
	s, tenant, c := setup(t, sqlstoretest.SQLiteURL(t))
	to := switchboard.LeadTarget{CampaignID: c.ID}
	body := []byte(`[{"phone_number":"+12125550100"},{"phone_number":"+12125550101"}]`)

	job, leads, rows, err := leadimport.Prepare(ctx, s, tenant, to, leadimport.FormatJSON, body, "")
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	got, err := leadimport.Run(cancelled, s, job, leads, rows)
	if err == nil || got.Status != switchboard.ImportFailed || !strings.Contains(got.Error, "interrupted after 0 rows") {
		t.Errorf("cancelled run: %v, job %+v", err, got)
	}

	job, leads, rows, err = leadimport.Prepare(ctx, s, tenant, to, leadimport.FormatJSON, body, "")
	if err != nil {
		t.Fatal(err)
	}
	// The campaign is deleted while the job waits: the store refuses the
	// batch, and the job ends failed with the reason.
	if err := s.DeleteCampaign(ctx, tenant, c.ID); err != nil {
		t.Fatal(err)
	}
	got, err = leadimport.Run(ctx, s, job, leads, rows)
	if switchboard.ErrorCode(err) != switchboard.CodeNotFound || got.Status != switchboard.ImportFailed || got.Error == "" ||
		got.FinishedAt == nil || got.Imported != 0 {
		t.Errorf("run into a deleted campaign: %v, job %+v", err, got)
	}

	// A body that cannot be read records no job; another tenant's campaign
	// is not found.
	c, _ = s.CreateCampaign(ctx, tenant, switchboard.Campaign{Name: "Again", QueueID: c.QueueID})
	to = switchboard.LeadTarget{CampaignID: c.ID}
	if _, _, _, err := leadimport.Prepare(ctx, s, tenant, to, leadimport.FormatJSON, []byte(`{}`), ""); switchboard.ErrorCode(err) != switchboard.CodeInvalid {
		t.Errorf("unreadable body: %v", err)
	}
	other, _ := s.CreateTenant(ctx, switchboard.Tenant{Slug: "beta", Name: "Beta"})
	if _, _, _, err := leadimport.Prepare(ctx, s, other.ID, to, leadimport.FormatJSON, body, ""); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
		t.Errorf("another tenant's campaign: %v", err)
	}
}

// BenchmarkImport100k is a whole import of 100,000 CSV rows into a campaign
// on each engine: Prepare (parse, check, the job) and Run (a hundred
// batches, the job written after each).
func BenchmarkImport100k(b *testing.B) {
	var body strings.Builder
	body.WriteString("external_id,name,phone_number,plan\n")
	for i := range leadimport.MaxRows {
		fmt.Fprintf(&body, "crm-%d,Lead %d,+1%03d555%04d,gold\n", i, i, 201+i/10000, i%10000)
	}
	for name, url := range sqlstoretest.Engines(b) {
		b.Run(name, func(b *testing.B) {
			s := sqlstoretest.Open(b, url(b), sqlstore.Options{})
			ctx := context.Background()
			tn, err := s.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
			if err != nil {
				b.Fatal(err)
			}
			q, err := s.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Sales"})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				c, err := s.CreateCampaign(ctx, tn.ID, switchboard.Campaign{Name: "Bulk", QueueID: q.ID})
				if err != nil {
					b.Fatal(err)
				}
				to := switchboard.LeadTarget{CampaignID: c.ID}
				job, leads, rows, err := leadimport.Prepare(ctx, s, tn.ID, to, leadimport.FormatCSV, []byte(body.String()), "")
				if err != nil {
					b.Fatal(err)
				}
				if job, err = leadimport.Run(ctx, s, job, leads, rows); err != nil || job.Imported != leadimport.MaxRows {
					b.Fatalf("%v: %+v", err, job.Errors[:min(3, len(job.Errors))])
				}
			}
		})
	}
}
