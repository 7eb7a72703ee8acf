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
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
	"switchboard/internal/webhook"
)

// BenchmarkDelivery measures, per engine:
//
//   - drain: deliveries per second while the dispatcher empties a backlog of
//     4,000 events to 4 subscriptions on one loopback receiver, against a bare
//     HTTP client posting the same number of bodies at the same concurrency
//     (the receiver's own ceiling on this machine);
//   - latency: p50 and p99 from the event's commit to its arrival at the
//     receiver while events are appended at 1,000 per second for 3 seconds.
//
// Run: go test -run '^$' -bench Delivery -benchtime 1x ./internal/webhook
// (with SWITCHBOARD_TEST_POSTGRES set for the PostgreSQL leg).
func BenchmarkDelivery(b *testing.B) {
	for name, mk := range sqlstoretest.Engines(b) {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				benchDrain(b, mk(b))
				benchLatency(b, mk(b))
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

func benchDrain(b *testing.B, dbURL string) {
	const events, subs = 4000, 4
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
	for i := range events {
		if _, err := db.AppendEvent(ctx, tn.ID, "bench.tick", "bench", int64(i), map[string]int{"i": i}); err != nil {
			b.Fatal(err)
		}
	}
	total := int64(events * subs)
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

	// The same number of posts from a bare client at the dispatcher's
	// concurrency (8 per subscription).
	body, _ := json.Marshal(webhook.Payload{Type: "bench.tick", Data: json.RawMessage(`{"i":1}`)})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var left atomic.Int64
	left.Store(total)
	var wg sync.WaitGroup
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
	rate := float64(total) / took.Seconds()
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(float64(total)/bare.Seconds(), "bare-posts/s")
	b.ReportMetric(bare.Seconds()/took.Seconds(), "ratio-vs-bare")
}

func benchLatency(b *testing.B, dbURL string) {
	const perSecond, seconds = 1000, 3
	ctx := context.Background()
	db, tn, start := benchRig(b, dbURL)
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
	if _, err := db.CreateWebhook(ctx, tn.ID, switchboard.Webhook{URL: recv.URL, EventTypes: []string{"bench.*"}}); err != nil {
		b.Fatal(err)
	}
	stop := start()
	defer stop()
	total := perSecond * seconds
	tick := time.NewTicker(time.Second / perSecond)
	t0 := time.Now()
	behind := 0
	// Four appenders share the ticks, as concurrent calls would; the store
	// still has one writer, so this measures its commit rate, not parallelism.
	var next atomic.Int64
	var appenders sync.WaitGroup
	for range 4 {
		appenders.Add(1)
		go func() {
			defer appenders.Done()
			for i := next.Add(1); i <= int64(total); i = next.Add(1) {
				<-tick.C
				if _, err := db.AppendEvent(ctx, tn.ID, "bench.tick", "bench", i, map[string]int64{"At": time.Now().UnixNano()}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	appenders.Wait()
	tick.Stop()
	achieved := float64(total) / time.Since(t0).Seconds()
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
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if behind > 0 {
		b.Errorf("%d events never arrived", behind)
	}
}
