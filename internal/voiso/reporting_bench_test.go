package voiso

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// benchRecords is how many calls the CDR benchmark loads.
const benchRecords = 100_000

// BenchmarkCDRPage measures GET /api/v4/reporting/cdrs through the whole HTTP
// stack over 100,000 calls of 50 agents on SQLite: a full page of 1,000 and
// one agent's week (100), each against Store.Records for the same page, so
// the ratio is what admission, filters, names and rendering add to the
// store's query.
func BenchmarkCDRPage(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	db := sqlstoretest.Open(b, sqlstoretest.SQLiteURL(b), sqlstore.Options{Logger: log})
	tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "bench", Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	team, err := db.CreateTeam(ctx, tn.ID, switchboard.Team{Name: "Sales"})
	if err != nil {
		b.Fatal(err)
	}
	queue, err := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Support"})
	if err != nil {
		b.Fatal(err)
	}
	var agents []int64
	for i := range 50 {
		u, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: fmt.Sprintf("a%d@bench.test", i), FirstName: "Agent",
			LastName: fmt.Sprint(i), Extension: fmt.Sprint(100 + i), TeamIDs: []int64{team.ID}})
		if err != nil {
			b.Fatal(err)
		}
		agents = append(agents, u.ID)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	if _, err := db.LoadCalls(ctx, tn.ID, benchRecords, func(c *switchboard.Call) bool {
		created := start.Add(time.Duration(i) * 30 * time.Second)
		connected, ended := created.Add(5*time.Second), created.Add(time.Duration(30+i%300)*time.Second)
		*c = switchboard.Call{TenantID: tn.ID, UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Direction: switchboard.Inbound, Status: switchboard.CallFinished,
			From: fmt.Sprintf("+1555%07d", i%5000), To: "+18885658889", QueueID: &queue.ID, AgentID: &agents[i%len(agents)],
			CreatedAt: created, QueuedAt: &created, ConnectedAt: &connected, EndedAt: &ended, Disposition: switchboard.DispositionAnswered,
			HangupBy: switchboard.SideCaller}
		i++
		return true
	}, nil); err != nil {
		b.Fatal(err)
	}
	k, err := db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{Name: "bench", Scopes: []string{switchboard.ScopeReportingCDRsRead}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(New(Options{Store: db, Auth: httpapi.NewAuthenticator(db, time.Minute, log),
		Limiter: httpapi.NewRateLimiter(0, 0), Log: log}))
	b.Cleanup(srv.Close)

	weekFrom, weekUntil := start.Add(7*24*time.Hour), start.Add(14*24*time.Hour)
	for _, p := range []struct {
		name, query string
		filter      switchboard.RecordFilter
		limit       int
	}{
		{"all-1000", "limit=1000&offset=1000", switchboard.RecordFilter{}, 1000},
		{"agent-week-100", fmt.Sprintf("user_id=%d&started_at[gte]=%s&started_at[lt]=%s&limit=100", agents[7],
			weekFrom.Format(time.RFC3339), weekUntil.Format(time.RFC3339)),
			switchboard.RecordFilter{AgentIDs: []int64{agents[7]}, Since: &weekFrom, Until: &weekUntil}, 100},
	} {
		b.Run(p.name, func(b *testing.B) {
			var store, api []time.Duration
			opt := switchboard.ListOptions{Limit: p.limit}
			if p.name == "all-1000" {
				opt.Offset = 1000
			}
			for range b.N {
				t0 := time.Now()
				if _, err := db.Records(ctx, tn.ID, p.filter, opt); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				req, _ := http.NewRequest("GET", srv.URL+"/api/v4/reporting/cdrs?"+p.query, nil)
				req.Header.Set("Authorization", "Bearer "+k.Secret)
				res, err := srv.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatalf("%s: %d", p.query, res.StatusCode)
				}
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
}
