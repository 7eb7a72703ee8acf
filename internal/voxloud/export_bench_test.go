//go:build unix

package voxloud

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// benchExportCalls is how many calls BenchmarkCSVExport seeds; nine in ten
// have ended and are exported.
var benchExportCalls = flag.Int("export-calls", 1_100_000, "calls BenchmarkCSVExport seeds")

// BenchmarkCSVExport measures the telephony-events CSV export of about a
// million call records end to end (HTTP over loopback, the body read and
// thrown away as a client saving it would), on every engine, in rounds that
// alternate three readers of the same rows:
//
//   - scan: Store.EachCDR over the columns the export reads, doing nothing
//     with them (the store's and driver's floor);
//   - stream: the export as served;
//   - paged: the export as it was (pages of 500 through Store.CDRs), the
//     baseline.
//
// It reports the median rows/s of each, their ratios, and the export's
// heap growth while it streams. Run it with -benchtime 2x (bench/export.sh).
func BenchmarkCSVExport(b *testing.B) {
	for name, url := range sqlstoretest.Engines(b) {
		b.Run(name, func(b *testing.B) {
			began := time.Now()
			f := newExportFixture(b, url(b), *benchExportCalls, 2000)
			b.Logf("seeded %d calls in %s", *benchExportCalls, time.Since(began).Round(time.Millisecond))
			ctx := context.Background()
			var scan, stream, paged, heap, streamCPU, scanCPU []float64
			var rows int
			for b.Loop() {
				t0, c0 := time.Now(), cpuTime()
				rows = 0
				err := f.db.EachCDR(ctx, f.tenant, switchboard.CDRFilter{Newest: true}, csvCallColumns, func(*switchboard.CDR) error {
					rows++
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				scan = append(scan, float64(rows)/time.Since(t0).Seconds())
				scanCPU = append(scanCPU, float64(rows)/(cpuTime()-c0).Seconds())
				c0 = cpuTime()
				size, elapsed, growth := f.timeExport(b, f.srv)
				streamCPU = append(streamCPU, float64(rows)/(cpuTime()-c0).Seconds())
				stream, heap = append(stream, float64(rows)/elapsed.Seconds()), append(heap, growth)
				oldSize, elapsed, _ := f.timeExport(b, f.paged)
				paged = append(paged, float64(rows)/elapsed.Seconds())
				if size != oldSize || size == 0 {
					b.Fatalf("the streaming export wrote %d bytes, the paged one %d", size, oldSize)
				}
			}
			med := func(v []float64) float64 {
				slices.Sort(v)
				return (v[(len(v)-1)/2] + v[len(v)/2]) / 2
			}
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(med(stream), "stream-rows/s")
			b.ReportMetric(med(paged), "paged-rows/s")
			b.ReportMetric(med(scan), "scan-rows/s")
			b.ReportMetric(med(stream)/med(paged), "stream/paged")
			b.ReportMetric(med(stream)/med(scan), "stream/scan")
			b.ReportMetric(slices.Max(heap), "heap-growth-MB")
			// Rows per second of this process's CPU (server, client and, on
			// SQLite, the database): what a core would export if the machine
			// were not shared.
			b.ReportMetric(med(streamCPU), "stream-rows/cpu-s")
			b.ReportMetric(med(scanCPU), "scan-rows/cpu-s")
		})
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timeExport runs the export of every record on srv, reading the body in
// 64 KiB reads and throwing it away, and returns its size, how long it took
// and how far the heap in use grew meanwhile (sampled every 20 ms).
func (f *exportFixture) timeExport(b *testing.B, srv *httptest.Server) (int64, time.Duration, float64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	}()
	t0 := time.Now()
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/telephony-events", bytes.NewReader([]byte("{}")))
	req.Header.Set("Voverc-Auth", f.key)
	req.Header.Set("Accept", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	var size int64
	for {
		n, err := res.Body.Read(buf)
		size += int64(n)
		if err != nil {
			break
		}
	}
	res.Body.Close()
	elapsed := time.Since(t0)
	close(stop)
	<-done
	if res.StatusCode != 200 {
		b.Fatalf("export: %d", res.StatusCode)
	}
	return size, elapsed, float64(peak-base) / (1 << 20)
}
