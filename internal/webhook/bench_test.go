package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
	"switchboard/internal/webhook"
)

// BenchmarkDelivery measures, per engine:
//
//   - drain: deliveries per second while the dispatcher (its defaults: 64
//     workers, 8 per subscription) empties a backlog of 8,000 events to 4
//     subscriptions on one loopback receiver (32,000 deliveries), and in the
//     same iteration a bare HTTP client posting as many bodies to the same
//     receiver at the same concurrency (32): the ceiling that the client and
//     the receiver sharing this machine allow. ratio-vs-bare is the
//     dispatcher's rate over the bare client's, so 1 - ratio is what the
//     dispatcher's own work (store, rendering, signing) costs.
//   - latency: p50 and p99 from the moment an event is appended to its
//     arrival at the receiver, while 16 appenders offer 5,000 events per
//     second for 3 seconds to one subscription, each on its own schedule
//     (an appender that falls behind sends at once, never skips); events/s
//     is the rate the appenders achieved, and events/s-store-alone what the
//     same appenders achieve in the same iteration with no dispatcher
//     running (the store's own ceiling on the machine as loaded).
//
// Run: bash bench/webhooks.sh (or go test -run '^$' -bench Delivery
// -benchtime 1x ./internal/webhook, with SWITCHBOARD_TEST_POSTGRES set for
// the PostgreSQL leg).
func BenchmarkDelivery(b *testing.B) {
	for name, mk := range sqlstoretest.Engines(b) {
		b.Run(name+"/drain", func(b *testing.B) {
			for range b.N {
				benchDrain(b, mk(b))
			}
		})
		b.Run(name+"/latency", func(b *testing.B) {
			for range b.N {
				benchLatency(b, mk)
			}
		})
	}
}

func benchRig(b *testing.B, dbURL string) (*sqlstore.DB, switchboard.Tenant, func() context.CancelFunc) {
	db := sqlstoretest.Open(b, dbURL, sqlstore.Options{})
	tn, err := db.CreateTenant(context.Background(), switchboard.Tenant{Slug: "bench", Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	start := func() context.CancelFunc {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			webhook.New(webhook.Options{Store: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Guard: webhook.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})}).Run(ctx)
		}()
		return func() { cancel(); <-done }
	}
	return db, tn, start
}

// appendConcurrently appends n events from 16 goroutines, as concurrent
// requests would (the store commits them in groups).
func appendConcurrently(b *testing.B, db *sqlstore.DB, tenantID int64, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if _, err := db.AppendEvent(context.Background(), tenantID, "bench.tick", "bench", i, map[string]int64{"i": i}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func benchDrain(b *testing.B, dbURL string) {
	const events, subs = 8000, 4
	ctx := context.Background()
	db, tn, start := benchRig(b, dbURL)
	var got atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	defer recv.Close()
	for i := range subs {
		if _, err := db.CreateWebhook(ctx, tn.ID, switchboard.Webhook{URL: fmt.Sprintf("%s/%d", recv.URL, i), EventTypes: []string{"bench.*"}}); err != nil {
			b.Fatal(err)
		}
	}
	appendConcurrently(b, db, tn.ID, events)
	total := int64(events * subs)
	cpu0 := cpuTime()
	t0 := time.Now()
	stop := start()
	for got.Load() < total {
		if time.Since(t0) > 2*time.Minute {
			b.Fatalf("drain stalled at %d of %d", got.Load(), total)
		}
		time.Sleep(time.Millisecond)
	}
	took := time.Since(t0)
	stop()
	cpuDrain := cpuTime() - cpu0

	// The same number of posts of a body of the same size from a bare client
	// at the dispatcher's concurrency (8 per subscription).
	body, _ := json.Marshal(webhook.Payload{Type: "bench.tick", Timestamp: time.Now(), TenantID: tn.ID, Seq: 1, EventID: 1,
		SubjectType: "bench", SubjectID: 1, Data: json.RawMessage(`{"v":1,"i":1}`)})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var left atomic.Int64
	left.Store(total)
	var wg sync.WaitGroup
	cpu1 := cpuTime()
	t1 := time.Now()
	for range 8 * subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				res, err := client.Post(recv.URL+"/bare", "application/json", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	bare := time.Since(t1)
	cpuBare := cpuTime() - cpu1
	b.ReportMetric(float64(total)/took.Seconds(), "deliveries/s")
	b.ReportMetric(float64(total)/bare.Seconds(), "bare-posts/s")
	b.ReportMetric(bare.Seconds()/took.Seconds(), "ratio-vs-bare")
	// CPU time of the whole process (dispatcher, store and receiver) per
	// delivery and per bare post: what the rates would be on an idle machine
	// is about the cores divided by these, whatever else shares it now.
	b.ReportMetric(float64(cpuDrain.Microseconds())/float64(total), "cpu-µs/delivery")
	b.ReportMetric(float64(cpuBare.Microseconds())/float64(total), "cpu-µs/bare-post")
}

// cpuTime is the CPU time, user and system, this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchLatency(b *testing.B, mk func(testing.TB) string) {
	// The store alone first: the same appenders on a fresh database with the
	// same subscription and no dispatcher, which is what the appends can do
	// on this machine right now.
	db, tn, _ := benchRig(b, mk(b))
	if _, err := db.CreateWebhook(context.Background(), tn.ID, switchboard.Webhook{URL: "http://127.0.0.1:9/none", EventTypes: []string{"bench.*"}}); err != nil {
		b.Fatal(err)
	}
	alone := offer(b, db, tn.ID)

	db, tn, start := benchRig(b, mk(b))
	var mu sync.Mutex
	var lat []time.Duration
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		var p webhook.Payload
		json.NewDecoder(r.Body).Decode(&p)
		var d struct{ At int64 }
		json.Unmarshal(p.Data, &d)
		mu.Lock()
		lat = append(lat, now.Sub(time.Unix(0, d.At)))
		mu.Unlock()
	}))
	defer recv.Close()
	if _, err := db.CreateWebhook(context.Background(), tn.ID, switchboard.Webhook{URL: recv.URL, EventTypes: []string{"bench.*"}}); err != nil {
		b.Fatal(err)
	}
	stop := start()
	defer stop()
	achieved := offer(b, db, tn.ID)
	total := offered * offerSeconds
	behind := 0
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(lat)
		mu.Unlock()
		if n >= total || time.Now().After(deadline) {
			behind = total - n
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(achieved, "events/s")
	b.ReportMetric(alone, "events/s-store-alone")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if behind > 0 {
		b.Errorf("%d events never arrived", behind)
	}
}

// The offered load of the latency benchmark.
const (
	offered      = 5000 // events per second
	offerSeconds = 3
	appenders    = 16
)

// offer appends offered events per second for offerSeconds and returns the
// rate achieved. Event i is due at t0 + i/offered; sixteen appenders take the
// events in turn, as concurrent calls would, and each sleeps until its next
// one is due (one that falls behind appends at once and never skips). The
// store has one writer (SQLite), which commits what waits for it in one
// transaction, so this measures its commit rate under the load.
func offer(b *testing.B, db *sqlstore.DB, tenantID int64) float64 {
	total := offered * offerSeconds
	t0 := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(total); i = next.Add(1) - 1 {
				if wait := time.Until(t0.Add(time.Duration(i) * time.Second / offered)); wait > 0 {
					time.Sleep(wait)
				}
				if _, err := db.AppendEvent(context.Background(), tenantID, "bench.tick", "bench", i, map[string]int64{"At": time.Now().UnixNano()}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(total) / time.Since(t0).Seconds()
}
