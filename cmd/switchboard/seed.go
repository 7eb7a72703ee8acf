package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"switchboard"
	"switchboard/internal/callseed"
)

// seedCalls loads a generated history of calls into a tenant (created when
// missing, with the agents and queues the calls go through), so that anyone
// can reproduce the call-record benchmarks on millions of rows.
func (m *Main) seedCalls(ctx context.Context, args []string) error {
	var slug, end string
	var rows, days, agents, queues, customers int
	var seed uint64
	return m.withStore(ctx, "seed-calls", args, false, func(fs *flag.FlagSet) {
		fs.StringVar(&slug, "tenant", "seed", "slug of the tenant the calls belong to; created when missing")
		fs.IntVar(&rows, "rows", 100_000, "how many call records to load")
		fs.IntVar(&days, "days", 365, "the period the calls spread over, in days before --end")
		fs.StringVar(&end, "end", "", "when the period ends, RFC 3339 (default now); calls still in progress then stay open")
		fs.IntVar(&agents, "agents", 50, "how many agents take the calls (users seed-agent-N@example.invalid, created when missing)")
		fs.IntVar(&queues, "queues", 5, "how many queues inbound calls go through (created when missing)")
		fs.IntVar(&customers, "customers", 0, "how many distinct customer numbers call; 0 means one per 40 calls (a few dozen calls a number)")
		fs.Uint64Var(&seed, "seed", 1, "the random seed: the same flags load the same calls")
	}, func(*flag.FlagSet) error {
		if rows < 0 || days < 1 || agents < 0 || queues < 0 || customers < 0 {
			return usageError{errors.New("--rows, --agents, --queues and --customers must not be negative, and --days at least 1")}
		}
		until := time.Now().UTC()
		if end != "" {
			t, err := time.Parse(time.RFC3339, end)
			if err != nil {
				return usageError{fmt.Errorf("--end: %w", err)}
			}
			until = t
		}
		t, err := m.store.TenantBySlug(ctx, slug)
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
			t, err = m.store.CreateTenant(ctx, switchboard.Tenant{Slug: slug, Name: "Seeded calls (" + slug + ")"})
		}
		if err != nil {
			return describe(err)
		}
		agentIDs, queueIDs, err := m.seedStaff(ctx, t.ID, agents, queues)
		if err != nil {
			return err
		}
		g, err := callseed.New(callseed.Config{TenantID: t.ID, Rows: rows, Days: days, End: until, AgentIDs: agentIDs,
			QueueIDs: queueIDs, Customers: customers, Seed: seed})
		if err != nil {
			return usageError{err}
		}
		start, last := time.Now(), time.Now()
		loaded, err := m.store.LoadCalls(ctx, t.ID, rows, g.Next, func(n int) {
			if time.Since(last) >= 2*time.Second || n == rows {
				last = time.Now()
				el := time.Since(start)
				fmt.Fprintf(m.Stderr, "seed-calls: %d/%d calls in %s (%.0f/s)\n", n, rows, el.Round(time.Second), float64(n)/el.Seconds())
			}
			if n == rows {
				fmt.Fprintln(m.Stderr, "seed-calls: building the indexes and the planner's statistics")
			}
		})
		if err != nil {
			return err
		}
		return m.printJSON(map[string]any{"tenant": t.Slug, "tenant_id": t.ID, "rows": loaded, "customers": g.Customers(),
			"seconds": time.Since(start).Seconds()})
	})
}

// seedStaff returns the ids of n seed agents and q seed queues of the
// tenant, creating those missing (a second seeding reuses them).
func (m *Main) seedStaff(ctx context.Context, tenantID int64, n, q int) (agents, queues []int64, err error) {
	for i := 1; i <= n; i++ {
		email := fmt.Sprintf("seed-agent-%d@example.invalid", i)
		u, err := m.store.UserByEmail(ctx, tenantID, email)
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
			u, err = m.store.CreateUser(ctx, tenantID, switchboard.User{Email: email, FirstName: "Agent", LastName: fmt.Sprint(i)})
		}
		if err != nil {
			return nil, nil, describe(err)
		}
		agents = append(agents, u.ID)
	}
	existing := map[string]int64{}
	opt := switchboard.ListOptions{Limit: switchboard.MaxPageLimit}
	for {
		p, err := m.store.Queues(ctx, tenantID, opt)
		if err != nil {
			return nil, nil, describe(err)
		}
		for _, qu := range p.Items {
			existing[qu.Name] = qu.ID
		}
		if p.NextCursor == "" {
			break
		}
		opt.Cursor = p.NextCursor
	}
	for i := 1; i <= q; i++ {
		name := fmt.Sprintf("Seed queue %d", i)
		id, ok := existing[name]
		if !ok {
			qu, err := m.store.CreateQueue(ctx, tenantID, switchboard.Queue{Name: name})
			if err != nil {
				return nil, nil, describe(err)
			}
			id = qu.ID
		}
		queues = append(queues, id)
	}
	return agents, queues, nil
}
