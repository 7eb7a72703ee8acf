//go:build unix

package sqlstore_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"switchboard"
)

// Issue 16's acceptance: Voiso's CDR list over 1,000,000 call records. Both
// benchmarks read the databases of SWITCHBOARD_CDR_BENCH_DBS (seeded by
// switchboard seed-calls; bench/voiso_cdrs.sh builds and names them) and
// measure three ways of reading the same records in alternating rounds, so
// that the machine's noise hits them alike:
//
//   - cdrs: S.CDRs alone, the store query the ratios are to;
//   - calls: S.Records of type call (Voiso's type=call), which is the CDR
//     list behind the record cursor;
//   - records: S.Records of every type (Voiso's default), merging calls with
//     the conversations and SMS.
//
// Besides wall-clock figures each reports CPU time (the process's, user and
// system: the store runs in it, SQLite included), which a machine shared with
// other work depresses far less.

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// voisoBenchAgents returns the ids of the seeded tenant's agents.
func voisoBenchAgents(b *testing.B, d *cdrBenchDB) []int64 {
	p, err := d.db.Users(context.Background(), d.tenant, switchboard.UserFilter{}, switchboard.ListOptions{Limit: 1000})
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for _, u := range p.Items {
		ids = append(ids, u.ID)
	}
	if len(ids) == 0 {
		b.Fatal("the seeded tenant has no agents")
	}
	return ids
}

// voisoBenchWays are the three ways of reading one filter's first page or
// next page.
var voisoBenchWays = []struct {
	name string
	page func(ctx context.Context, d *cdrBenchDB, f switchboard.RecordFilter, opt switchboard.ListOptions) (n int, next string, err error)
}{
	{"cdrs", func(ctx context.Context, d *cdrBenchDB, f switchboard.RecordFilter, opt switchboard.ListOptions) (int, string, error) {
		p, err := d.db.CDRs(ctx, d.tenant, switchboard.CDRFilter{Since: f.Since, Until: f.Until,
			Directions: directionsOf(f.Subtypes), AgentIDs: f.AgentIDs}, opt)
		return len(p.Items), p.NextCursor, err
	}},
	{"calls", func(ctx context.Context, d *cdrBenchDB, f switchboard.RecordFilter, opt switchboard.ListOptions) (int, string, error) {
		f.Types = []switchboard.RecordType{switchboard.RecordCall}
		p, err := d.db.Records(ctx, d.tenant, f, opt)
		return len(p.Items), p.NextCursor, err
	}},
	{"records", func(ctx context.Context, d *cdrBenchDB, f switchboard.RecordFilter, opt switchboard.ListOptions) (int, string, error) {
		p, err := d.db.Records(ctx, d.tenant, f, opt)
		return len(p.Items), p.NextCursor, err
	}},
}

// directionsOf is the CDR filter's directions of the benchmark's subtypes
// (inbound only).
func directionsOf(subtypes []string) []switchboard.Direction {
	var out []switchboard.Direction
	for _, s := range subtypes {
		out = append(out, switchboard.Direction(s))
	}
	return out
}

// BenchmarkVoisoCDRFilteredPage measures p50 and p99 of a filtered first
// page of 100 with its total: one agent's inbound calls started in a random
// week (the dialect's direction, user_id and started_at filters), each way
// in turn. Inbound calls are Voiso's inbound subtype; the CDR list's
// filter is the direction.
func BenchmarkVoisoCDRFilteredPage(b *testing.B) {
	ctx := context.Background()
	for _, d := range openCDRBenchDBs(b) {
		b.Run(d.label, func(b *testing.B) {
			agents := voisoBenchAgents(b, d)
			r := rand.New(rand.NewPCG(16, 1))
			lat := make([][]time.Duration, len(voisoBenchWays))
			cpu := make([]time.Duration, len(voisoBenchWays))
			rows := 0
			for range b.N {
				since, until := d.week(r)
				f := switchboard.RecordFilter{Subtypes: []string{string(switchboard.Inbound)},
					AgentIDs: []int64{agents[r.IntN(len(agents))]}, Since: since, Until: until}
				for i, w := range voisoBenchWays {
					c0, t0 := cpuTime(), time.Now()
					n, _, err := w.page(ctx, d, f, switchboard.ListOptions{Limit: 100})
					if err != nil {
						b.Fatal(err)
					}
					lat[i] = append(lat[i], time.Since(t0))
					cpu[i] += cpuTime() - c0
					if i == 0 {
						rows += n
					}
				}
			}
			var base float64
			for i, w := range voisoBenchWays {
				slices.Sort(lat[i])
				p99 := ms(lat[i][int(0.99*float64(len(lat[i])-1))])
				if i == 0 {
					base = p99
				}
				b.ReportMetric(ms(lat[i][len(lat[i])/2]), "p50-ms-"+w.name)
				b.ReportMetric(p99, "p99-ms-"+w.name)
				b.ReportMetric(p99/base, "ratio-"+w.name)
				b.ReportMetric(ms(cpu[i])/float64(b.N), "cpu-ms-"+w.name)
			}
			b.ReportMetric(float64(rows)/float64(b.N), "rows/page")
			b.ReportMetric(50, "target-ms")
		})
	}
}

// BenchmarkVoisoCDRWalk walks every record by cursor in pages of 1,000
// (Voiso's largest), each page with its total as the dialect asks, and
// reports rows per second of each way and its ratio to the CDR list's.
func BenchmarkVoisoCDRWalk(b *testing.B) {
	ctx := context.Background()
	for _, d := range openCDRBenchDBs(b) {
		b.Run(d.label, func(b *testing.B) {
			spent := make([]time.Duration, len(voisoBenchWays))
			cpu := make([]time.Duration, len(voisoBenchWays))
			rows := make([]int, len(voisoBenchWays))
			for range b.N {
				for i, w := range voisoBenchWays {
					opt := switchboard.ListOptions{Limit: 1000}
					c0, t0 := cpuTime(), time.Now()
					for {
						n, next, err := w.page(ctx, d, switchboard.RecordFilter{}, opt)
						if err != nil {
							b.Fatal(err)
						}
						rows[i] += n
						if next == "" {
							break
						}
						opt.Cursor = next
					}
					spent[i] += time.Since(t0)
					cpu[i] += cpuTime() - c0
				}
			}
			var base float64
			for i, w := range voisoBenchWays {
				if rows[i] != rows[0] {
					b.Fatalf("%s walked %d rows, cdrs %d", w.name, rows[i], rows[0])
				}
				rate := float64(rows[i]) / spent[i].Seconds()
				if i == 0 {
					base = rate
				}
				b.ReportMetric(rate, "rows/s-"+w.name)
				b.ReportMetric(rate/base, "ratio-"+w.name)
				b.ReportMetric(float64(rows[i])/cpu[i].Seconds(), "rows/cpu-s-"+w.name)
			}
			b.ReportMetric(float64(rows[0])/float64(b.N), "rows")
			b.ReportMetric(200_000, "target-rows/s")
		})
	}
}
