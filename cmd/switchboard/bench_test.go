package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// BenchmarkListUsers measures an authenticated GET /v1/users?limit=50 through
// the whole server (auth, rate limiter, routing, access log, metrics, SQLite,
// JSON) against two bare net/http handlers in the same process, alternating
// rounds so that machine noise hits all three alike:
//
//   - bare-static writes the same response body pre-rendered: the ceiling of
//     HTTP on this machine, with no database at all;
//   - bare-store calls the same store method on the same SQLite file and
//     encodes the same envelope, with no auth, limiter, log or metrics: the
//     difference to it is the cost of the server's plumbing.
//
// Run it with: go test -run '^$' -bench ListUsers -benchtime 6000x ./cmd/switchboard
// (bench/run.sh does). It reports requests per second of each and the ratios.
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
	page, err := m.store.Users(ctx, tenant.ID, switchboard.UserFilter{}, switchboard.ListOptions{Limit: 50})
	if err != nil {
		b.Fatal(err)
	}
	static, _ := json.Marshal(map[string]any{"items": page.Items, "metadata": map[string]any{"total": page.Total, "limit": 50, "next_cursor": page.NextCursor}})

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
	targets := []struct {
		name, url, key string
		took           time.Duration
	}{
		{"bare-static", serve(bareStatic) + "/v1/users?limit=50", "", 0},
		{"bare-store", serve(bareStore) + "/v1/users?limit=50", "", 0},
		{"switchboard", "http://" + m.Addr() + "/v1/users?limit=50", key.Secret, 0},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const rounds, workers = 3, 8
	per := max(b.N/rounds, workers)
	b.ResetTimer()
	for range rounds {
		for i := range targets {
			targets[i].took += load(b, client, targets[i].url, targets[i].key, per, workers)
		}
	}
	b.StopTimer()
	rps := map[string]float64{}
	for _, t := range targets {
		rps[t.name] = float64(per*rounds) / t.took.Seconds()
		b.ReportMetric(rps[t.name], t.name+"-req/s")
	}
	b.ReportMetric(rps["switchboard"]/rps["bare-static"], "ratio-vs-static")
	b.ReportMetric(rps["switchboard"]/rps["bare-store"], "ratio-vs-store")
	b.ReportMetric(0, "ns/op")
}

// load sends n GET requests from workers goroutines and returns the wall time.
func load(b *testing.B, client *http.Client, url, key string, n, workers int) time.Duration {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				req, _ := http.NewRequest("GET", url, nil)
				if key != "" {
					req.Header.Set("Authorization", "Bearer "+key)
				}
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Errorf("GET %s: %d", url, res.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}
