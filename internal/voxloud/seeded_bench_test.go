package voxloud

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/callseed"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore"
)

// BenchmarkTelephonyEventsSeeded measures issue 12's one-number page (one
// customer's calls in a random week, newest first, with its total) through
// the whole Voxloud HTTP stack, on every database of
// SWITCHBOARD_CDR_BENCH_DBS (seeded by switchboard seed-calls; bench/cdr.sh
// sets it), in alternating rounds, reporting each database's p99 and its
// ratio to the first one's.
func BenchmarkTelephonyEventsSeeded(b *testing.B) {
	spec := os.Getenv("SWITCHBOARD_CDR_BENCH_DBS")
	if spec == "" {
		b.Skip("set SWITCHBOARD_CDR_BENCH_DBS (bench/cdr.sh does) to databases seeded by switchboard seed-calls")
	}
	end, err := time.Parse(time.RFC3339, os.Getenv("SWITCHBOARD_CDR_BENCH_END"))
	if err != nil {
		b.Fatalf("SWITCHBOARD_CDR_BENCH_END: %v", err)
	}
	const days = 365
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	type target struct {
		label, url, key string
		customers       int
	}
	var targets []target
	for _, part := range strings.Split(spec, ",") {
		label, dbURL, _ := strings.Cut(part, "=")
		db, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
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
		k, err := db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{Name: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		api := New(Options{Store: db, Auth: httpapi.NewAuthenticator(db, time.Minute, log).AcceptHeaders(KeyHeader), Limiter: httpapi.NewRateLimiter(0, 0), Log: log})
		srv := httptest.NewServer(api)
		b.Cleanup(srv.Close)
		targets = append(targets, target{label: label, url: srv.URL, key: k.Secret, customers: max(1, p.Total/40)})
	}
	r := rand.New(rand.NewPCG(12, 2))
	lat := make([][]time.Duration, len(targets))
	b.ResetTimer()
	for range b.N {
		for i, t := range targets {
			since := end.Add(-days * 24 * time.Hour).Add(time.Duration(r.Int64N(int64((days - 7) * 24 * time.Hour))))
			body, _ := json.Marshal(map[string]any{"number": callseed.Customer(r.IntN(t.customers)),
				"date_time_from": since.Format(time.RFC3339), "date_time_to": since.Add(7 * 24 * time.Hour).Format(time.RFC3339)})
			req, _ := http.NewRequest("POST", t.url+"/api/v1/telephony-events?sort=timestamp,desc&size=20&page=0", bytes.NewReader(body))
			req.Header.Set("Voverc-Auth", t.key)
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			out, _ := io.ReadAll(res.Body)
			res.Body.Close()
			lat[i] = append(lat[i], time.Since(t0))
			if res.StatusCode != 200 {
				b.Fatalf("%s: %d %s", t.label, res.StatusCode, out)
			}
		}
	}
	var base float64
	for i, t := range targets {
		slices.Sort(lat[i])
		p99 := float64(lat[i][int(0.99*float64(len(lat[i])-1))].Microseconds()) / 1000
		if i == 0 {
			base = p99
		}
		b.ReportMetric(float64(lat[i][len(lat[i])/2].Microseconds())/1000, "p50-ms-"+t.label)
		b.ReportMetric(p99, "p99-ms-"+t.label)
		b.ReportMetric(p99/base, "ratio-"+t.label)
	}
	b.ReportMetric(20, "target-ms")
}
