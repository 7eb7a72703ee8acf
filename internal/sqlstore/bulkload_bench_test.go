package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/callseed"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// BenchmarkLoadCalls loads b.N generated calls into a fresh database of each
// engine: the seeding tool's rate (rows/s).
func BenchmarkLoadCalls(b *testing.B) {
	for name, mk := range sqlstoretest.Engines(b) {
		b.Run(name, func(b *testing.B) {
			db := sqlstoretest.Open(b, mk(b), sqlstore.Options{})
			ctx := context.Background()
			tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "bulk", Name: "Bulk"})
			if err != nil {
				b.Fatal(err)
			}
			g, err := callseed.New(callseed.Config{TenantID: tn.ID, Rows: b.N, Days: 30, End: time.Now(), Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			if _, err := db.LoadCalls(ctx, tn.ID, b.N, g.Next, nil); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
