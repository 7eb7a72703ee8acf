package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/callseed"
	"switchboard/internal/sqlstore"
)

// allCDRIDs walks every page of f's records by cursor and returns their ids
// and the total the first page reported.
func allCDRIDs(t *testing.T, db *sqlstore.DB, tenantID int64, f switchboard.CDRFilter) ([]int64, int) {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	opt := switchboard.ListOptions{Limit: 700}
	total := -1
	for {
		p, err := db.CDRs(ctx, tenantID, f, opt)
		if err != nil {
			t.Fatalf("CDRs(%+v): %v", f, err)
		}
		if total < 0 {
			total = p.Total
		}
		for _, c := range p.Items {
			ids = append(ids, c.ID)
		}
		if p.NextCursor == "" {
			return ids, total
		}
		opt.Cursor = p.NextCursor
	}
}

// seedCalls bulk-loads n generated calls of tenantID over days ending at end.
func seedCalls(t *testing.T, db *sqlstore.DB, tenantID int64, n, days int, end time.Time) *callseed.Generator {
	t.Helper()
	g, err := callseed.New(callseed.Config{TenantID: tenantID, Rows: n, Days: days, End: end, Customers: max(1, n/20),
		AgentIDs: []int64{1, 2, 3}, QueueIDs: []int64{7}, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := db.LoadCalls(context.Background(), tenantID, n, g.Next, nil)
	if err != nil || loaded != n {
		t.Fatalf("LoadCalls = %d, %v; want %d", loaded, err, n)
	}
	// The generator's first use drew every call; a fresh one describes them.
	g, _ = callseed.New(callseed.Config{TenantID: tenantID, Rows: n, Days: days, End: end, Customers: max(1, n/20), Seed: 42})
	return g
}

// The totals of unfiltered lists come from counters; they must equal a count
// of the rows after every kind of write: single saves, batched saves (a call
// created and ended in one batch), bulk loads, and the closing of orphans.
func TestCallCountersExact(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		check := func(step string) {
			t.Helper()
			for _, tid := range []int64{tn.ID, other.ID} {
				all, ended, err := sqlstore.CountCalls(ctx, db, tid)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range []struct {
					f    switchboard.CDRFilter
					want int
				}{{switchboard.CDRFilter{}, ended}, {switchboard.CDRFilter{Open: true}, all}, {switchboard.CDRFilter{OnlyOpen: true}, all - ended}} {
					p, err := db.CDRs(ctx, tid, c.f, switchboard.ListOptions{Limit: 1})
					if err != nil || p.Total != c.want {
						t.Fatalf("%s: tenant %d, %+v: total %d, %v; the rows count %d", step, tid, c.f, p.Total, err, c.want)
					}
				}
			}
		}
		check("empty")
		now := time.Now().UTC().Truncate(time.Microsecond)
		c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+15550001111", To: "8001", CreatedAt: now}, "created")
		if err != nil {
			t.Fatal(err)
		}
		check("one open call")
		end := now.Add(time.Minute)
		c.Status, c.EndedAt, c.Disposition = switchboard.CallFailed, &end, switchboard.DispositionAbandoned
		if _, err := db.SaveCall(ctx, c, "ended"); err != nil {
			t.Fatal(err)
		}
		check("ended")
		if _, err := db.SaveCall(ctx, c, "ended"); err != nil { // saved again: no change of state
			t.Fatal(err)
		}
		check("ended twice")
		first, err := db.ReserveCallIDs(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		a := switchboard.Call{ID: first, TenantID: tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallAssigned,
			From: "8001", To: "+15550002222", CreatedAt: now}
		aEnded := a
		aEnded.Status, aEnded.EndedAt = switchboard.CallFailed, &end
		b := switchboard.Call{ID: first + 1, TenantID: other.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+15550003333", To: "9001", CreatedAt: now}
		if err := db.SaveCalls(ctx, []switchboard.CallChange{{Call: a, What: "created"}, {Call: b, What: "created"}, {Call: aEnded, What: "ended"}}); err != nil {
			t.Fatal(err)
		}
		check("a batch")
		seedCalls(t, db, tn.ID, 1500, 3, now.Add(10*time.Minute))
		check("a bulk load")
		if _, err := db.CloseOrphanCalls(ctx, "restart"); err != nil {
			t.Fatal(err)
		}
		check("orphans closed")
	})
}

// A search for part of a number finds exactly what LIKE over every call
// finds, whether the trigram index answers it (3 characters or more) or not,
// with LIKE's wildcards, quotes, spaces, letters in either case and
// characters beyond ASCII in the input.
func TestNumberContainsEqualsScan(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		now := time.Now().UTC().Truncate(time.Microsecond)
		g := seedCalls(t, db, tn.ID, 3000, 30, now)
		seedCalls(t, db, other.ID, 300, 30, now)
		odd := []string{"+1%_5%", "Anonymous", `a_b\c`, `say "hi"`, "+44 20 7946 0000", "ÄÖü123", "abcABC", "*^:-(", "+15550100199"}
		for i, n := range odd {
			end := now.Add(-time.Hour)
			c := switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallFinished,
				From: n, To: odd[(i+1)%len(odd)], CreatedAt: now.Add(-2 * time.Hour), EndedAt: &end}
			if i%3 == 0 {
				c.EndedAt = nil // open calls too
			}
			if _, err := db.SaveCall(ctx, c, "created"); err != nil {
				t.Fatal(err)
			}
		}
		needles := []string{"%", "_", "+", `\`, `"`, "1", "12", "%_5", "ano", "ANON", "abc", "ABC", "7946", "+44 ", "44 20",
			"ü12", "Ö", "Äö", "*^:", "(", "99999999999", "0199", `"hi"`, `c"`, "+1555"}
		r := rand.New(rand.NewPCG(7, 7))
		for range 25 {
			n := callseed.Customer(r.IntN(g.Customers()))
			k := 3 + r.IntN(6)
			i := r.IntN(len(n) - k + 1)
			needles = append(needles, n[i:i+k])
		}
		check := func(part string, open bool) {
			t.Helper()
			want, err := sqlstore.ScanCallIDs(ctx, db, tn.ID, part, !open)
			if err != nil {
				t.Fatal(err)
			}
			got, total := allCDRIDs(t, db, tn.ID, switchboard.CDRFilter{NumberContains: part, Open: open})
			if !slices.Equal(got, want) || total != len(want) {
				t.Errorf("contains %q (open %v): %d ids (total %d), a scan finds %d; first %v vs %v",
					part, open, len(got), total, len(want), got[:min(5, len(got))], want[:min(5, len(want))])
			}
		}
		// Searches matching more calls than the index hands out fall back
		// to LIKE over the rows, with the same answer.
		restore := sqlstore.SetMaxIndexedIDs(3)
		for _, part := range []string{"555", "+1800", "2015", "0199"} {
			check(part, true)
		}
		restore()
		for _, part := range needles {
			for _, open := range []bool{false, true} {
				check(part, open)
			}
		}
	})
}

// One party's calls in a period, through the number indexes, newest or
// oldest first, equal a filter of every call.
func TestNumberInPeriod(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		now := time.Now().UTC().Truncate(time.Microsecond)
		seedCalls(t, db, tn.ID, 2000, 20, now)
		every, _ := allCDRIDs(t, db, tn.ID, switchboard.CDRFilter{Open: true})
		calls := map[int64]switchboard.Call{}
		for _, id := range every {
			c, err := db.Call(ctx, tn.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			calls[id] = c
		}
		since, until := now.Add(-10*24*time.Hour), now.Add(-3*24*time.Hour)
		for _, id := range every[:40] {
			number := calls[id].From
			if calls[id].Direction == switchboard.Outbound {
				number = calls[id].To
			}
			var want []int64
			for _, id := range every {
				c := calls[id]
				if (c.From == number || c.To == number) && !c.CreatedAt.Before(since) && c.CreatedAt.Before(until) && c.EndedAt != nil {
					want = append(want, id)
				}
			}
			f := switchboard.CDRFilter{Number: number, Since: &since, Until: &until}
			got, total := allCDRIDs(t, db, tn.ID, f)
			if !slices.Equal(got, want) || total != len(want) {
				t.Fatalf("number %s in the period: %v (total %d), want %v", number, got, total, want)
			}
			f.Newest = true
			got, _ = allCDRIDs(t, db, tn.ID, f)
			slices.Reverse(want)
			if !slices.Equal(got, want) {
				t.Fatalf("number %s newest first: %v, want %v", number, got, want)
			}
		}
	})
}

// On a fresh SQLite database, before any statistics exist beyond what Open
// gathers, the one-number and digit searches are driven by their indexes and
// read calls by id: never a scan of the tenant's calls.
func TestCDRPlansFresh(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		if db.Engine() != sqlstore.SQLite {
			t.Skip("PostgreSQL's plans depend on its statistics; bench/cdr.sh shows them at scale")
		}
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		since := time.Now().Add(-7 * 24 * time.Hour)
		for _, c := range []struct {
			f    switchboard.CDRFilter
			want []string
		}{
			{switchboard.CDRFilter{Number: "+15550001111", Since: &since, Newest: true}, []string{"calls_tenant_from", "calls_tenant_to", "INTEGER PRIMARY KEY"}},
			{switchboard.CDRFilter{NumberContains: "5550001", Since: &since}, []string{"json_each", "INTEGER PRIMARY KEY"}},
			{switchboard.CDRFilter{Newest: true}, []string{"calls_tenant"}},
		} {
			plan, err := sqlstore.CDRPlan(ctx, db, tn.ID, c.f)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(plan, w) {
					t.Errorf("plan of %+v does not use %s:\n%s", c.f, w, plan)
				}
			}
			scan := strings.Contains(plan+"\n", "SCAN calls\n") || strings.Contains(plan, "SCAN calls USING")
			if scan || strings.Contains(plan, "TEMP B-TREE") && c.f.Number == "" && c.f.NumberContains == "" {
				t.Errorf("plan of %+v scans or sorts the calls:\n%s", c.f, plan)
			}
		}
	})
}

// TestNumberIndexFollowsEveryWrite saves calls through the writer, alone and
// many at once (group commits), renumbers and deletes some, and checks after
// each step that a search by digits finds exactly what a scan finds and that
// no call is left waiting to enter SQLite's number index once committed.
func TestNumberIndexFollowsEveryWrite(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		now := time.Now().UTC().Truncate(time.Microsecond)
		check := func(step string) {
			t.Helper()
			for _, part := range []string{"7000", "8000", "90001", "555"} {
				want, err := sqlstore.ScanCallIDs(ctx, db, tn.ID, part, false)
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := allCDRIDs(t, db, tn.ID, switchboard.CDRFilter{NumberContains: part, Open: true}); !slices.Equal(got, want) {
					t.Errorf("%s: contains %q finds %v, a scan %v", step, part, got, want)
				}
			}
			if n, err := sqlstore.PendingNumbers(ctx, db); err != nil || n != 0 {
				t.Errorf("%s: %d calls wait for the number index after commit (%v)", step, n, err)
			}
		}
		save := func(c switchboard.Call, what string) switchboard.Call {
			t.Helper()
			saved, err := db.SaveCall(ctx, c, what)
			if err != nil {
				t.Fatal(err)
			}
			return saved
		}
		first := save(switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+15557000111", To: "+15559000100", CreatedAt: now}, "created")
		check("one call")
		var wg sync.WaitGroup
		calls := make([]switchboard.Call, 40)
		for i := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Outbound,
					Status: switchboard.CallQueued, From: "+15559000100", To: fmt.Sprintf("+1555800%04d", i), CreatedAt: now}, "created")
				if err != nil {
					t.Error(err)
				}
				calls[i] = c
			}()
		}
		wg.Wait()
		check("forty calls at once")
		first.From = "+15558000999"
		save(first, "queued")
		check("a call renumbered")
		for _, c := range calls[:10] {
			end := now.Add(time.Minute)
			c.To, c.EndedAt, c.Status = "+15557000222", &end, switchboard.CallFailed
			save(c, "ended")
		}
		check("ten calls renumbered as they end")
	})
}
