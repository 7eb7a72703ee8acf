package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/callseed"
	"switchboard/internal/sqlstore"
)

// cdrBenchDB is one database seeded by switchboard seed-calls (bench/cdr.sh
// builds them), with what the queries need to draw realistic inputs.
type cdrBenchDB struct {
	label     string
	db        *sqlstore.DB
	tenant    int64
	customers int
	end       time.Time
	days      int
}

// openCDRBenchDBs opens the databases named by SWITCHBOARD_CDR_BENCH_DBS,
// "label=sqlite:PATH,label=postgres://…", each seeded for tenant "seed" with
// the default customers (one per 40 calls) over SWITCHBOARD_CDR_BENCH_DAYS
// (365) days ending at SWITCHBOARD_CDR_BENCH_END. The first is the baseline.
func openCDRBenchDBs(b *testing.B) []*cdrBenchDB {
	spec := os.Getenv("SWITCHBOARD_CDR_BENCH_DBS")
	if spec == "" {
		b.Skip("set SWITCHBOARD_CDR_BENCH_DBS (bench/cdr.sh does) to databases seeded by switchboard seed-calls")
	}
	end, err := time.Parse(time.RFC3339, os.Getenv("SWITCHBOARD_CDR_BENCH_END"))
	if err != nil {
		b.Fatalf("SWITCHBOARD_CDR_BENCH_END: %v", err)
	}
	days := 365
	if d := os.Getenv("SWITCHBOARD_CDR_BENCH_DAYS"); d != "" {
		fmt.Sscan(d, &days)
	}
	ctx := context.Background()
	var out []*cdrBenchDB
	for _, part := range strings.Split(spec, ",") {
		label, url, _ := strings.Cut(part, "=")
		db, err := sqlstore.Open(ctx, url, sqlstore.Options{})
		if err != nil {
			b.Fatalf("%s: %v", label, err)
		}
		b.Cleanup(func() { db.Close() })
		tn, err := db.TenantBySlug(ctx, "seed")
		if err != nil {
			b.Fatalf("%s: %v", label, err)
		}
		p, err := db.CDRs(ctx, tn.ID, switchboard.CDRFilter{Open: true}, switchboard.ListOptions{Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, &cdrBenchDB{label: label, db: db, tenant: tn.ID, customers: max(1, p.Total/40), end: end, days: days})
	}
	return out
}

// week is a random week of d's period.
func (d *cdrBenchDB) week(r *rand.Rand) (*time.Time, *time.Time) {
	span := time.Duration(d.days-7) * 24 * time.Hour
	since := d.end.Add(-time.Duration(d.days) * 24 * time.Hour).Add(time.Duration(r.Int64N(int64(span))))
	until := since.Add(7 * 24 * time.Hour)
	return &since, &until
}

// cdrBenchQueries are the three pages of issue 12's table, with random
// inputs: one customer's calls in a week, the newest page of every call, and
// six digits of a customer's number in a week; each with its total, as the
// dialects ask for it.
var cdrBenchQueries = []struct {
	name   string
	target time.Duration
	filter func(d *cdrBenchDB, r *rand.Rand) switchboard.CDRFilter
}{
	{"number-week", 20 * time.Millisecond, func(d *cdrBenchDB, r *rand.Rand) switchboard.CDRFilter {
		since, until := d.week(r)
		return switchboard.CDRFilter{Number: callseed.Customer(r.IntN(d.customers)), Since: since, Until: until, Newest: true}
	}},
	{"unfiltered-newest", 20 * time.Millisecond, func(d *cdrBenchDB, r *rand.Rand) switchboard.CDRFilter {
		return switchboard.CDRFilter{Newest: true}
	}},
	{"digits-week", 50 * time.Millisecond, func(d *cdrBenchDB, r *rand.Rand) switchboard.CDRFilter {
		since, until := d.week(r)
		n := callseed.Customer(r.IntN(d.customers))[2:] // the ten national digits
		at := r.IntN(len(n) - 6 + 1)
		return switchboard.CDRFilter{NumberContains: n[at : at+6], Since: since, Until: until, Newest: true}
	}},
}

// BenchmarkCDRPages measures p50 and p99 of each page of issue 12's table on
// every database of SWITCHBOARD_CDR_BENCH_DBS, in alternating rounds (one
// query on each database in turn), so that the machine's noise hits them
// alike; it reports each database's p99 and its ratio to the first one's.
// With SWITCHBOARD_CDR_BENCH_LEGACY set it runs the queries as they were
// before issue 12 instead (LegacyCDRs): slow, so use few iterations.
func BenchmarkCDRPages(b *testing.B) {
	dbs := openCDRBenchDBs(b)
	legacy := os.Getenv("SWITCHBOARD_CDR_BENCH_LEGACY") != ""
	for _, q := range cdrBenchQueries {
		b.Run(q.name, func(b *testing.B) {
			ctx := context.Background()
			r := rand.New(rand.NewPCG(12, 1))
			lat := make([][]time.Duration, len(dbs))
			matches := make([]int, len(dbs))
			for range b.N {
				for i, d := range dbs {
					f := q.filter(d, r)
					opt := switchboard.ListOptions{Limit: 50}
					t0 := time.Now()
					var p switchboard.Page[switchboard.CDR]
					var err error
					if legacy {
						p, err = sqlstore.LegacyCDRs(d.db, ctx, d.tenant, f, opt)
					} else {
						p, err = d.db.CDRs(ctx, d.tenant, f, opt)
					}
					if err != nil {
						b.Fatal(err)
					}
					lat[i] = append(lat[i], time.Since(t0))
					matches[i] += p.Total
				}
			}
			var base float64
			for i, d := range dbs {
				slices.Sort(lat[i])
				p99 := ms(lat[i][int(0.99*float64(len(lat[i])-1))])
				if i == 0 {
					base = p99
				}
				b.ReportMetric(ms(lat[i][len(lat[i])/2]), "p50-ms-"+d.label)
				b.ReportMetric(p99, "p99-ms-"+d.label)
				b.ReportMetric(p99/base, "ratio-"+d.label)
				b.ReportMetric(float64(matches[i])/float64(b.N), "total-"+d.label)
			}
			b.ReportMetric(float64(q.target.Milliseconds()), "target-ms")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
