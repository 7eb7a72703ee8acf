package voxloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// benchCalls is how many call records the telephony benchmarks query.
const benchCalls = 100_000

// telephonyFixture is a tenant with benchCalls ended calls over 30 days,
// between 2,000 customers and 50 agents, served over loopback HTTP.
type telephonyFixture struct {
	db     *sqlstore.DB
	tenant int64
	srv    *httptest.Server
	key    string
	start  time.Time
}

func newTelephonyFixture(b *testing.B) *telephonyFixture {
	ctx := context.Background()
	db := sqlstoretest.Open(b, sqlstoretest.SQLiteURL(b), sqlstore.Options{})
	tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "bench", Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	var agents []int64
	for i := range 50 {
		u, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: fmt.Sprintf("a%d@bench.test", i), FirstName: "Agent", LastName: fmt.Sprint(i), Extension: fmt.Sprint(100 + i)})
		if err != nil {
			b.Fatal(err)
		}
		agents = append(agents, u.ID)
	}
	for i := range 200 {
		db.CreateContact(ctx, tn.ID, switchboard.Contact{FirstName: "C", LastName: fmt.Sprint(i), PrimaryPhone: fmt.Sprintf("+39333%07d", i)})
	}
	f := &telephonyFixture{db: db, tenant: tn.ID, start: time.Now().UTC().Add(-30 * 24 * time.Hour)}
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := w; i < benchCalls; i += 16 {
				created := f.start.Add(time.Duration(i) * (30 * 24 * time.Hour / benchCalls))
				connected, ended := created.Add(5*time.Second), created.Add(time.Duration(30+rng.IntN(300))*time.Second)
				agent := agents[rng.IntN(len(agents))]
				c := switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallFinished,
					From: fmt.Sprintf("+39333%07d", rng.IntN(2000)), To: "+390112121212", AgentID: &agent, CreatedAt: created,
					RingingAt: &created, ConnectedAt: &connected, EndedAt: &ended, Disposition: switchboard.DispositionAnswered}
				if _, err := db.SaveCall(ctx, c, "ended"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d calls in %s", benchCalls, time.Since(began).Round(time.Millisecond))
	k, err := db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	f.key = k.Secret
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := New(Options{Store: db, Auth: httpapi.NewAuthenticator(db, time.Minute, log).AcceptHeaders(KeyHeader), Limiter: httpapi.NewRateLimiter(0, 0), Log: log})
	f.srv = httptest.NewServer(api)
	b.Cleanup(f.srv.Close)
	return f
}

func (f *telephonyFixture) post(b *testing.B, path string, body any, accept string) []byte {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.srv.URL+path, bytes.NewReader(raw))
	req.Header.Set("Voverc-Auth", f.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		b.Fatalf("%s: %d %s", path, res.StatusCode, out)
	}
	return out
}

var (
	fixtureOnce sync.Once
	fixture     *telephonyFixture
)

// BenchmarkTelephonyEvents measures the Voxloud telephony-events query over
// 100,000 records: a filtered page (one customer's calls in one week, newest
// first) and an unfiltered one through the whole HTTP stack, each against the
// store's own query for the same page as the baseline; and the CSV export of
// every record, with the heap sampled while it streams.
func BenchmarkTelephonyEvents(b *testing.B) {
	fixtureOnce.Do(func() { fixture = newTelephonyFixture(b) })
	f := fixture
	week := map[string]any{"number": "+393330000042", "date_time_from": f.start.Add(10 * 24 * time.Hour).Format(time.RFC3339),
		"date_time_to": f.start.Add(17 * 24 * time.Hour).Format(time.RFC3339)}
	partial := map[string]any{"number": "3330000042", "date_time_from": week["date_time_from"], "date_time_to": week["date_time_to"]}
	from, until := f.start.Add(10*24*time.Hour), f.start.Add(17*24*time.Hour)
	pages := []struct {
		name string
		body any
		filt switchboard.CDRFilter
	}{
		{"number-week", week, switchboard.CDRFilter{Number: "+393330000042", Since: &from, Until: &until, Newest: true}},
		{"digits-week", partial, switchboard.CDRFilter{NumberContains: "3330000042", Since: &from, Until: &until, Newest: true}},
		{"unfiltered", map[string]any{}, switchboard.CDRFilter{Newest: true}},
	}
	for _, p := range pages {
		b.Run("page-"+p.name, func(b *testing.B) {
			ctx := context.Background()
			var store, api []time.Duration
			var page struct {
				TotalElements int `json:"totalElements"`
			}
			json.Unmarshal(f.post(b, "/api/v1/telephony-events?size=30", p.body, "application/json"), &page)
			if page.TotalElements == 0 {
				b.Fatal("the query matches nothing")
			}
			b.ReportMetric(float64(page.TotalElements), "matches")
			for range b.N {
				t0 := time.Now()
				if _, err := f.db.CDRs(ctx, f.tenant, p.filt, switchboard.ListOptions{Limit: 30}); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				f.post(b, "/api/v1/telephony-events?sort=timestamp,desc&size=30&page=0", p.body, "application/json")
				store, api = append(store, t1.Sub(t0)), append(api, time.Since(t1))
			}
			slices.Sort(store)
			slices.Sort(api)
			pct := func(d []time.Duration, q float64) float64 {
				return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(api, 0.5), "p50-ms")
			b.ReportMetric(pct(api, 0.99), "p99-ms")
			b.ReportMetric(pct(store, 0.5), "store-p50-ms")
			b.ReportMetric(pct(api, 0.5)/pct(store, 0.5), "ratio-to-store")
		})
	}
	b.Run("csv-all", func(b *testing.B) {
		for range b.N {
			var peak uint64
			stop := make(chan struct{})
			done := make(chan struct{})
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapInuse
			go func() {
				defer close(done)
				for {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse)
					}
				}
			}()
			t0 := time.Now()
			req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/telephony-events", nil)
			req.Header.Set("Voverc-Auth", f.key)
			req.Header.Set("Accept", "text/csv")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			// Count lines without keeping them, as a client saving to disk would.
			lines, buf := 0, make([]byte, 64<<10)
			var size int64
			for {
				n, err := res.Body.Read(buf)
				lines += bytes.Count(buf[:n], []byte{'\n'})
				size += int64(n)
				if err != nil {
					break
				}
			}
			res.Body.Close()
			elapsed := time.Since(t0)
			close(stop)
			<-done
			if lines != benchCalls+1 {
				b.Fatalf("CSV has %d lines, want %d", lines, benchCalls+1)
			}
			b.ReportMetric(float64(benchCalls)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(float64(size)/(1<<20), "csv-MB")
			b.ReportMetric(float64(peak-min(peak, base))/(1<<20), "heap-growth-MB")
		}
	})
}
