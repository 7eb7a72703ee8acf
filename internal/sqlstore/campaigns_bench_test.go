package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// BenchmarkCampaignStore measures what the dialer and the importer pay on
// every engine available: a batch of 1,000 leads inserted (each batch new,
// so nothing is a duplicate), and the two saves of one dial, the dial placed
// (the lead dialing, an open ledger row) and its outcome (the row closed,
// the lead scheduled again, a campaign.attempt event).
func BenchmarkCampaignStore(b *testing.B) {
	for name, mk := range sqlstoretest.Engines(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			db := sqlstoretest.Open(b, mk(b), sqlstore.Options{})
			tn, _ := db.CreateTenant(ctx, switchboard.Tenant{Slug: "bench", Name: "Bench"})
			q, _ := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Sales"})
			c, err := db.CreateCampaign(ctx, tn.ID, switchboard.Campaign{Name: "Bench", QueueID: q.ID})
			if err != nil {
				b.Fatal(err)
			}
			to := switchboard.LeadTarget{CampaignID: c.ID}
			next := 0
			batch := func(n int) []switchboard.Lead {
				leads := make([]switchboard.Lead, n)
				for i := range leads {
					leads[i] = switchboard.Lead{Name: "Lead", PhoneNumber: fmt.Sprintf("+1555%07d", next), TimeZone: "America/New_York"}
					next++
				}
				return leads
			}
			b.Run("InsertLeads1000", func(b *testing.B) {
				for b.Loop() {
					if res, err := db.InsertLeads(ctx, tn.ID, to, batch(1000)); err != nil || res.Inserted != 1000 {
						b.Fatal(res.Inserted, err)
					}
				}
				b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "leads/s")
			})
			b.Run("dial+outcome", func(b *testing.B) {
				if _, err := db.InsertLeads(ctx, tn.ID, to, batch(1000)); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					leads, err := db.DialableLeads(ctx, tn.ID, c.ID, time.Now(), 1)
					if err != nil || len(leads) != 1 {
						b.Fatal(len(leads), err)
					}
					l := leads[0]
					now := time.Now()
					l.Status, l.Attempts, l.LastAttemptAt = switchboard.LeadDialing, l.Attempts+1, &now
					ids, err := db.SaveDialProgress(ctx, tn.ID, []switchboard.Lead{l}, []switchboard.DialAttempt{{CampaignID: c.ID,
						LeadID: l.ID, Number: l.PhoneNumber, At: now}})
					if err != nil {
						b.Fatal(err)
					}
					// The outcome leaves it dialable again, an hour ago, so
					// that the campaign never runs out of leads.
					again := now.Add(-time.Hour)
					l.Status, l.LastOutcome, l.NextAttemptAt = switchboard.LeadRedialScheduled, switchboard.DialNoAnswer, &again
					if _, err := db.SaveDialProgress(ctx, tn.ID, []switchboard.Lead{l}, []switchboard.DialAttempt{{ID: ids[0],
						Outcome: switchboard.DialNoAnswer, EndedAt: &now}}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
