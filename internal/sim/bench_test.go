package sim_test

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

// BenchmarkEngine runs 1,000 agents in 50 queues of 20 at about 85 %
// occupancy in virtual time and reports calls routed per wall-clock second,
// and the p99 wall time of taking an inbound call (the routing decision and
// the offer to an agent), against a baseline of the strategy planning alone.
//
// Run: go test -run '^$' -bench Engine -benchtime 1x ./internal/sim
func BenchmarkEngine(b *testing.B) {
	const queues, perQueue = 50, 20
	for range b.N {
		clock := engine.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		drv := sim.New(clock)
		eng := engine.New(engine.Options{Clock: clock, Telephony: drv, Router: engine.NewRouter(rand.New(rand.NewPCG(1, 2))),
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		drv.SetEngine(eng)
		for qi := range queues {
			q := switchboard.Queue{ID: int64(qi + 1), Name: fmt.Sprint("q", qi), Extension: fmt.Sprint(8000 + qi),
				Strategy: switchboard.StrategyLeastRecent, WrapUpSeconds: 10}
			q.Normalize()
			var members []switchboard.QueueMember
			for ai := range perQueue {
				id := int64(qi*perQueue + ai + 1)
				dev := fmt.Sprint("dev", id)
				drv.SetDevice(dev, sim.Device{Registered: true, Behavior: sim.Answer, AnswerAfter: 2 * time.Second})
				eng.SetAgent(id, dev)
				eng.SetStatus(id, switchboard.StatusAvailable, true)
				members = append(members, switchboard.QueueMember{QueueID: q.ID, UserID: id, Position: ai + 1})
			}
			eng.SetQueue(q, members)
		}
		// 20 agents, 180 s talk + 2 s ring + 10 s wrap: about 17 agents' worth.
		rng := rand.New(rand.NewPCG(3, 4))
		perHour := 17.0 * 3600 / 192
		mean := time.Duration(float64(time.Hour) / (perHour * queues))
		stop := clock.Now().Add(10 * time.Hour)
		var decisions []time.Duration
		calls := 0
		var arrive func()
		arrive = func() {
			if !clock.Now().Before(stop) {
				return
			}
			to := fmt.Sprint(8000 + rng.IntN(queues))
			talk := time.Duration(rng.ExpFloat64() * float64(180*time.Second))
			t0 := time.Now()
			drv.Call("+15550000001", to, sim.Script{Talk: talk, Patience: 5 * time.Minute})
			decisions = append(decisions, time.Since(t0))
			calls++
			clock.AfterFunc(time.Duration(rng.ExpFloat64()*float64(mean)), arrive)
		}
		clock.AfterFunc(0, arrive)
		wall := time.Now()
		for clock.Step() {
		}
		took := time.Since(wall)
		slices.Sort(decisions)

		// Baseline: the planning step alone for a 20-member queue.
		r := engine.NewRouter(rand.New(rand.NewPCG(5, 6)))
		members := make([]engine.Member, perQueue)
		for i := range members {
			members[i] = engine.Member{UserID: int64(i + 1), Position: i + 1, LastCallEnd: time.Unix(int64(i*7%13), 0)}
		}
		q := switchboard.Queue{Strategy: switchboard.StrategyLeastRecent}
		const plans = 200000
		p0 := time.Now()
		for range plans {
			r.Plan(q, members, time.Unix(100, 0))
		}
		planEach := time.Since(p0) / plans

		b.ReportMetric(float64(calls)/took.Seconds(), "calls/wall-s")
		b.ReportMetric(float64(decisions[len(decisions)*99/100].Microseconds()), "p99-inbound-µs")
		b.ReportMetric(float64(decisions[len(decisions)/2].Microseconds()), "p50-inbound-µs")
		b.ReportMetric(float64(planEach.Nanoseconds())/1000, "plan-alone-µs")
		b.ReportMetric(float64(calls), "calls")
	}
}

// BenchmarkACDScale routes the same number of calls through one queue of 50
// agents and one of 1,000 at the same occupancy (about 85 %), in virtual
// time, for every strategy, and reports calls routed per wall-clock second for
// each (per CPU second, see routeOneQueue) and their ratio (1,000 over 50). A dispatch whose cost grows with the
// queue's members shows as a ratio well under 1.
//
// Run: go test -run '^$' -bench ACDScale -benchtime 1x ./internal/sim
func BenchmarkACDScale(b *testing.B) {
	const calls = 20000
	strategies := []switchboard.Strategy{switchboard.StrategyLeastRecent, switchboard.StrategyFewestCalls,
		switchboard.StrategyRRMemory, switchboard.StrategyLinear, switchboard.StrategyRandom,
		switchboard.StrategyWRandom, switchboard.StrategyRingAll}
	for range b.N {
		for _, s := range strategies {
			small := routeOneQueue(b, s, 50, calls)
			large := routeOneQueue(b, s, 1000, calls)
			b.ReportMetric(small, string(s)+"-50-calls/s")
			b.ReportMetric(large, string(s)+"-1000-calls/s")
			b.ReportMetric(large/small, string(s)+"-ratio")
		}
	}
}

// routeOneQueue runs calls inbound calls through one queue of n agents with
// strategy s at about 85 % occupancy and returns calls routed per second of
// the process's CPU time. CPU time, not wall time: on a shared machine the
// wall clock also counts the time other processes held the cores, which moves
// the figures far more than what is measured.
func routeOneQueue(b *testing.B, s switchboard.Strategy, n, calls int) float64 {
	clock := engine.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	drv := sim.New(clock)
	eng := engine.New(engine.Options{Clock: clock, Telephony: drv, Router: engine.NewRouter(rand.New(rand.NewPCG(1, 2))),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	drv.SetEngine(eng)
	q := switchboard.Queue{ID: 1, Name: "q", Extension: "8000", Strategy: s, WrapUpSeconds: 10}
	q.Normalize()
	var members []switchboard.QueueMember
	for i := range n {
		id := int64(i + 1)
		dev := fmt.Sprint("dev", id)
		drv.SetDevice(dev, sim.Device{Registered: true, Behavior: sim.Answer, AnswerAfter: 2 * time.Second})
		eng.SetAgent(id, dev)
		eng.SetStatus(id, switchboard.StatusAvailable, true)
		members = append(members, switchboard.QueueMember{QueueID: q.ID, UserID: id, Position: i + 1, Penalty: i % 2})
	}
	eng.SetQueue(q, members)
	// Each call holds an agent about 192 s (2 s ring, 180 s talk, 10 s wrap):
	// 85 % of n agents take 0.85·n/192 calls a second.
	rng := rand.New(rand.NewPCG(3, 4))
	mean := time.Duration(float64(time.Second) * 192 / (0.85 * float64(n)))
	made := 0
	var arrive func()
	arrive = func() {
		if made == calls {
			return
		}
		made++
		talk := time.Duration(rng.ExpFloat64() * float64(180*time.Second))
		drv.Call("+15550000001", "8000", sim.Script{Talk: talk, Patience: 5 * time.Minute})
		clock.AfterFunc(time.Duration(rng.ExpFloat64()*float64(mean)), arrive)
	}
	clock.AfterFunc(0, arrive)
	runtime.GC()
	cpu := cpuTime(b)
	for clock.Step() {
	}
	return float64(calls) / (cpuTime(b) - cpu).Seconds()
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
