package callcenter_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/callcenter"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
	"switchboard/internal/sqlstore"
)

// Benchmark shape: 1,000 agents in 50 queues of 20, calls arriving at about
// 85 % occupancy, 180 s mean talk, 10 s wrap-up, in virtual time.
const benchQueues, benchPerQueue = 50, 20

// BenchmarkPersistedRouting runs inbound calls end to end through the call
// service with SQLite persistence (every change of every call, with its
// event, and the agents' presence following their calls, committed by the
// batching writer) and reports calls per wall-clock second until the last
// change is in the store, and the ratio to the same traffic through the
// engine alone, without a store, measured in the same process.
//
// Run: go test -run '^$' -bench PersistedRouting -benchtime 1x ./internal/callcenter
func BenchmarkPersistedRouting(b *testing.B) {
	const hours = 1
	for range b.N {
		bare, bareCalls := benchBare(b, hours)
		persisted, calls, changes := benchPersisted(b, hours)
		if calls != bareCalls {
			b.Fatalf("the runs took %d and %d calls: not the same traffic", bareCalls, calls)
		}
		b.ReportMetric(float64(calls)/persisted.Seconds(), "persisted-calls/s")
		b.ReportMetric(float64(calls)/bare.Seconds(), "engine-calls/s")
		b.ReportMetric(bare.Seconds()/persisted.Seconds(), "ratio")
		b.ReportMetric(float64(changes)/persisted.Seconds(), "events/s")
	}
}

// traffic returns a run that places Poisson arrivals on the clock until
// stop, lets the clock run out, and returns how many calls it placed.
func traffic(clock *engine.VirtualClock, call func(to string, talk time.Duration)) func(stop time.Time) int {
	rng := rand.New(rand.NewPCG(3, 4))
	perHour := 17.0 * 3600 / 192
	mean := time.Duration(float64(time.Hour) / (perHour * benchQueues))
	return func(stop time.Time) int {
		calls := 0
		var arrive func()
		arrive = func() {
			if !clock.Now().Before(stop) {
				return
			}
			to := fmt.Sprint(8000 + rng.IntN(benchQueues))
			call(to, time.Duration(rng.ExpFloat64()*float64(180*time.Second)))
			calls++
			clock.AfterFunc(time.Duration(rng.ExpFloat64()*float64(mean)), arrive)
		}
		clock.AfterFunc(0, arrive)
		for clock.Step() {
		}
		return calls
	}
}

func benchBare(b *testing.B, hours int) (time.Duration, int) {
	clock := engine.NewVirtualClock(start)
	drv := sim.New(clock)
	eng := engine.New(engine.Options{Clock: clock, Telephony: drv, Router: engine.NewRouter(rand.New(rand.NewPCG(1, 2))),
		Log: slog.New(slog.DiscardHandler)})
	drv.SetEngine(eng)
	for qi := range benchQueues {
		q := switchboard.Queue{ID: int64(qi + 1), TenantID: 1, Name: fmt.Sprint("q", qi), Strategy: switchboard.StrategyLeastRecent,
			WrapUpSeconds: 10, JoinEmpty: true}
		q.Normalize()
		var members []switchboard.QueueMember
		for ai := range benchPerQueue {
			id := int64(qi*benchPerQueue + ai + 1)
			dev := fmt.Sprint("dev", id)
			drv.SetDevice(dev, sim.Device{Registered: true, Behavior: sim.Answer, AnswerAfter: 2 * time.Second})
			eng.SetAgent(id, dev)
			eng.SetStatus(id, switchboard.StatusAvailable, true)
			members = append(members, switchboard.QueueMember{QueueID: q.ID, UserID: id, Position: ai + 1})
		}
		eng.SetQueue(q, members, fmt.Sprint(8000+qi))
	}
	t0 := time.Now()
	n := traffic(clock, func(to string, talk time.Duration) {
		drv.Call("+15550000001", to, sim.Script{Talk: talk, Patience: 5 * time.Minute})
	})(clock.Now().Add(time.Duration(hours) * time.Hour))
	return time.Since(t0), n
}

func benchPersisted(b *testing.B, hours int) (took time.Duration, calls int, events int64) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"), sqlstore.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ten, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "bench", Name: "Bench", AdminEmail: "ops@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	for qi := range benchQueues {
		q, err := db.CreateQueue(ctx, ten.ID, switchboard.Queue{Name: fmt.Sprint("q", qi), Strategy: switchboard.StrategyLeastRecent,
			WrapUpSeconds: 10, JoinEmpty: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.CreatePhoneNumber(ctx, ten.ID, switchboard.PhoneNumber{Number: fmt.Sprintf("+1555%07d", 8000+qi), QueueID: &q.ID}); err != nil {
			b.Fatal(err)
		}
		for ai := range benchPerQueue {
			u, err := db.CreateUser(ctx, ten.ID, switchboard.User{Email: fmt.Sprintf("a%d-%d@example.com", qi, ai), FirstName: "A",
				LastName: fmt.Sprint(ai), Extension: fmt.Sprint(1000 + qi*benchPerQueue + ai)})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := db.AddQueueMember(ctx, ten.ID, switchboard.QueueMember{QueueID: q.ID, UserID: u.ID}); err != nil {
				b.Fatal(err)
			}
			if _, err := db.SetPresence(ctx, ten.ID, u.ID, switchboard.StatusAvailable, false); err != nil {
				b.Fatal(err)
			}
		}
	}
	clock := engine.NewVirtualClock(start)
	drv := sim.New(clock)
	svc := callcenter.New(callcenter.Options{Store: db, Driver: drv, Clock: clock, Router: engine.NewRouter(rand.New(rand.NewPCG(1, 2))),
		Log: slog.New(slog.DiscardHandler)})
	drv.SetEngine(svc.Engine())
	if err := svc.Start(ctx, time.Time{}); err != nil {
		b.Fatal(err)
	}
	for ai := range benchQueues * benchPerQueue {
		drv.SetDevice(callcenter.DeviceName(ten.ID, fmt.Sprint(1000+ai)), sim.Device{Registered: true, Behavior: sim.Answer, AnswerAfter: 2 * time.Second})
	}
	head, err := db.EventHead(ctx, ten.ID)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	t0 := time.Now()
	calls = traffic(clock, func(to string, talk time.Duration) {
		n := fmt.Sprintf("+1555%07s", to)
		drv.Call("+15550000001", n, sim.Script{Talk: talk, Patience: 5 * time.Minute})
	})(clock.Now().Add(time.Duration(hours) * time.Hour))
	if err := svc.Close(ctx); err != nil { // drains the writer
		b.Fatal(err)
	}
	took = time.Since(t0)
	b.StopTimer()
	last, err := db.EventHead(ctx, ten.ID)
	if err != nil {
		b.Fatal(err)
	}
	return took, calls, last - head
}
