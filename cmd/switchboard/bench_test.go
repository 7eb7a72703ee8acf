package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore/sqlstoretest"
	"switchboard/internal/webhook"
)

// BenchmarkListUsers measures an authenticated GET /v1/users?limit=50 through
// the whole server (auth, rate limiter, routing, response cache, access log,
// metrics, SQLite, JSON) against two bare net/http handlers in the same
// process, alternating rounds so that machine noise hits every target alike:
//
//   - bare-static writes the same response body pre-rendered: the ceiling of
//     HTTP on this machine, with no database at all;
//   - bare-store calls the same store method on the same SQLite file and
//     encodes the same envelope, with no auth, limiter, log or metrics;
//   - uncached is the same server built with --response-cache-bytes 0 (the
//     whole stack as it was before the cache, on the same store);
//   - cold asks the server with a query no request asked before (a
//     parameter the route ignores), so that every request misses the
//     response cache and runs the page query;
//   - warm asks the same page of unchanged data again: the tenant's sequence
//     is read, and the answer comes from memory;
//   - warm-304 does so with If-None-Match naming the page's ETag.
//
// Run it with: go test -run '^$' -bench ListUsers -benchtime 6000x ./cmd/switchboard
// (bench/reads.sh does). It reports requests per second of each and the
// ratios to bare-static.
func BenchmarkListUsers(b *testing.B) {
	ctx := context.Background()
	db := sqlstoretest.SQLiteURL(b)
	m, _, _ := newMain(nil)
	m.Stderr = io.Discard
	if err := m.Start(ctx, []string{"--addr", "127.0.0.1:0", "--db", db, "--rate-limit", "0"}); err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	tenant, err := m.store.CreateTenant(ctx, switchboard.Tenant{Slug: "bench", Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	team, _ := m.store.CreateTeam(ctx, tenant.ID, switchboard.Team{Name: "Sales"})
	skill, _ := m.store.CreateSkill(ctx, tenant.ID, switchboard.Skill{Name: "English"})
	for i := range 200 {
		_, err := m.store.CreateUser(ctx, tenant.ID, switchboard.User{Email: fmt.Sprintf("agent%03d@bench.test", i),
			FirstName: "Agent", LastName: fmt.Sprint(i), Extension: fmt.Sprint(1000 + i), TeamIDs: []int64{team.ID},
			Skills: []switchboard.UserSkill{{SkillID: skill.ID, Proficiency: 3}}})
		if err != nil {
			b.Fatal(err)
		}
	}
	key, err := m.store.CreateAPIKey(ctx, tenant.ID, switchboard.APIKey{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + m.Addr() + "/v1/users?limit=50"
	// The bare handlers serve exactly the bytes the server answers.
	static, etag := fetch(b, base, key.Secret)

	// bare-store calls the same store method on the same database and writes
	// the same envelope, with none of the server's plumbing around it.
	bareStore := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := m.store.Users(r.Context(), tenant.ID, switchboard.UserFilter{}, switchboard.ListOptions{Limit: 50})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"items": p.Items, "metadata": map[string]any{"total": p.Total, "limit": 50, "next_cursor": p.NextCursor}})
	})
	bareStatic := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(static)
	})
	serve := func(h http.Handler) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: h}
		go srv.Serve(ln)
		b.Cleanup(func() { srv.Close() })
		return "http://" + ln.Addr().String()
	}
	// The same server without its response cache: a second handler built
	// the way Start builds the first, on the same store and call service.
	m.Config.ResponseCacheBytes = 0
	cached := m.responseCache
	plain, _ := m.handler(webhook.NewGuard(nil), m.calls, m.dialer, m.messenger(), m.convs)
	m.responseCache = cached
	var cold atomic.Int64
	targets := []benchTarget{
		{name: "bare-static", req: get(serve(bareStatic)+"/v1/users?limit=50", "", ""), want: 200},
		{name: "bare-store", req: get(serve(bareStore)+"/v1/users?limit=50", "", ""), want: 200},
		{name: "uncached", req: get(serve(plain)+"/v1/users?limit=50", key.Secret, ""), want: 200},
		{name: "cold", req: func() *http.Request {
			return get(base+"&x="+strconv.FormatInt(cold.Add(1), 10), key.Secret, "")()
		}, want: 200},
		{name: "warm", req: get(base, key.Secret, ""), want: 200},
		{name: "warm-304", req: get(base, key.Secret, etag), want: 304},
	}
	if only := os.Getenv("SWITCHBOARD_BENCH_TARGETS"); only != "" {
		// For profiles of one path: bare-static stays as the baseline.
		names := strings.Split(only, ",")
		targets = slices.DeleteFunc(targets, func(t benchTarget) bool { return t.name != "bare-static" && !slices.Contains(names, t.name) })
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const rounds, workers = 6, 8
	per := max(b.N/rounds, workers)
	b.ResetTimer()
	for range rounds {
		for i := range targets {
			targets[i].took += load(b, client, targets[i].req, targets[i].want, per, workers)
		}
	}
	b.StopTimer()
	rps := map[string]float64{}
	for _, t := range targets {
		rps[t.name] = float64(per*rounds) / t.took.Seconds()
		b.ReportMetric(rps[t.name], t.name+"-req/s")
	}
	for _, t := range targets[1:] {
		b.ReportMetric(rps[t.name]/rps["bare-static"], t.name+"/static")
	}
	b.ReportMetric(0, "ns/op")
}

// benchTarget is one server BenchmarkListUsers loads, and its total time.
type benchTarget struct {
	name string
	req  func() *http.Request
	want int
	took time.Duration
}

// fetch GETs url with key and returns the body and its ETag.
func fetch(b *testing.B, url, key string) ([]byte, string) {
	req := get(url, key, "")()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
		b.Fatalf("GET %s: %d %s (ETag %q)", url, resp.StatusCode, body, resp.Header.Get("ETag"))
	}
	return body, resp.Header.Get("ETag")
}

// get returns a maker of GET requests for url with key ("" for none) and
// If-None-Match inm ("" for none).
func get(url, key, inm string) func() *http.Request {
	return func() *http.Request {
		req, _ := http.NewRequest("GET", url, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		return req
	}
}

// load sends n requests made by req from workers goroutines, checks each
// answers status want, and returns the wall time.
func load(b *testing.B, client *http.Client, req func() *http.Request, want, n, workers int) time.Duration {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				r := req()
				res, err := client.Do(r)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != want {
					b.Errorf("GET %s: %d, want %d", r.URL, res.StatusCode, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}
