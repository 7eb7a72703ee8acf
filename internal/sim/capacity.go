package sim

import (
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"switchboard"
	"switchboard/internal/engine"
)

// Capacity describes one queue to simulate: N identical agents who answer at
// once, Poisson arrivals, exponential handle times, callers who never give up,
// first come first served: the M/M/N system Erlang C describes exactly.
type Capacity struct {
	Agents       int
	CallsPerHour float64
	AHT          time.Duration
	Duration     time.Duration // simulated time after the warm-up
	Warmup       time.Duration // simulated time whose calls are not counted
	SLThreshold  time.Duration
	Seed         uint64
	Strategy     switchboard.Strategy
}

// CapacityResult is what a capacity run measured, beside what Erlang C
// predicts for the same settings.
type CapacityResult struct {
	Calls        int     `json:"calls"`
	PWait        float64 `json:"p_wait"`
	ASASeconds   float64 `json:"asa_seconds"`
	ServiceLevel float64 `json:"service_level"`
	Occupancy    float64 `json:"occupancy"`
	// ErlangC holds the model's values for the same settings (absent when
	// the load is at or above the agents).
	ErlangC *ErlangCPrediction `json:"erlang_c,omitempty"`
	// WallSeconds is how long the run took for real.
	WallSeconds float64 `json:"wall_seconds"`
}

// ErlangCPrediction is Erlang C's answer for a Capacity.
type ErlangCPrediction struct {
	PWait        float64 `json:"p_wait"`
	ASASeconds   float64 `json:"asa_seconds"`
	ServiceLevel float64 `json:"service_level"`
	Occupancy    float64 `json:"occupancy"`
}

// Validate reports what is wrong with c.
func (c *Capacity) Validate() error {
	switch {
	case c.Agents < 1:
		return errors.New("agents must be at least 1")
	case c.CallsPerHour <= 0:
		return errors.New("arrival rate must be positive")
	case c.AHT <= 0:
		return errors.New("average handle time must be positive")
	case c.Duration <= 0:
		return errors.New("duration must be positive")
	case c.SLThreshold < 0:
		return errors.New("service-level threshold must not be negative")
	}
	return nil
}

// RunCapacity runs c through the real engine and this driver under a virtual
// clock. Arrivals stop at the end of the window; calls still in progress then
// are not counted.
func RunCapacity(c Capacity) (CapacityResult, error) {
	var res CapacityResult
	if err := c.Validate(); err != nil {
		return res, err
	}
	wall := time.Now()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := engine.NewVirtualClock(start)
	rng := rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	drv := New(clock)
	counter := &capacityCounter{from: start.Add(c.Warmup), to: start.Add(c.Warmup + c.Duration), threshold: c.SLThreshold}
	eng := engine.New(engine.Options{Clock: clock, Telephony: drv, Observer: counter,
		Router: engine.NewRouter(rand.New(rand.NewPCG(c.Seed+1, c.Seed+2))),
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil))})
	drv.SetEngine(eng)
	if c.Strategy == "" {
		c.Strategy = switchboard.StrategyLeastRecent
	}
	q := switchboard.Queue{ID: 1, Name: "Capacity", Extension: "8000", Strategy: c.Strategy, TimeoutSeconds: 600}
	q.Normalize()
	members := make([]switchboard.QueueMember, c.Agents)
	for i := range members {
		id := int64(i + 1)
		dev := "agent-" + string(rune('a'+i%26)) + "-" + time.Duration(id).String()
		drv.SetDevice(dev, Device{Registered: true, Behavior: Answer})
		eng.SetAgent(id, dev)
		eng.SetStatus(id, switchboard.StatusAvailable, true)
		members[i] = switchboard.QueueMember{QueueID: 1, UserID: id, Position: i + 1}
	}
	eng.SetQueue(q, members)

	mean := time.Duration(float64(time.Hour) / c.CallsPerHour)
	stop := start.Add(c.Warmup + c.Duration)
	var arrive func()
	arrive = func() {
		if !clock.Now().Before(stop) {
			return
		}
		talk := time.Duration(rng.ExpFloat64() * float64(c.AHT))
		drv.Call("+15550000001", "8000", Script{Talk: max(talk, time.Microsecond)})
		clock.AfterFunc(time.Duration(rng.ExpFloat64()*float64(mean)), arrive)
	}
	clock.AfterFunc(time.Duration(rng.ExpFloat64()*float64(mean)), arrive)
	for clock.Step() {
	}

	res = counter.result(c)
	if s, err := engine.ErlangCStaffing(c.CallsPerHour, c.AHT, c.Agents, c.SLThreshold); err == nil {
		res.ErlangC = &ErlangCPrediction{PWait: s.PWait, ASASeconds: s.ASA.Seconds(), ServiceLevel: s.ServiceLevel, Occupancy: s.Occupancy}
	}
	res.WallSeconds = time.Since(wall).Seconds()
	return res, nil
}

// capacityCounter measures the calls that arrived inside the window.
type capacityCounter struct {
	from, to  time.Time
	threshold time.Duration
	calls     int
	waited    int
	inSL      int
	wait      time.Duration
	talk      time.Duration
}

func (k *capacityCounter) CallChanged(c *switchboard.Call, what string) {
	if what != "ended" || c.CreatedAt.Before(k.from) || !c.CreatedAt.Before(k.to) || c.Disposition != switchboard.DispositionAnswered {
		return
	}
	w := c.Wait()
	k.calls++
	k.wait += w
	if w > 0 {
		k.waited++
	}
	if w <= k.threshold {
		k.inSL++
	}
	k.talk += c.Talk()
}

func (k *capacityCounter) result(c Capacity) CapacityResult {
	if k.calls == 0 {
		return CapacityResult{}
	}
	n := float64(k.calls)
	return CapacityResult{
		Calls:        k.calls,
		PWait:        float64(k.waited) / n,
		ASASeconds:   k.wait.Seconds() / n,
		ServiceLevel: float64(k.inSL) / n,
		Occupancy:    k.talk.Seconds() / (float64(c.Agents) * c.Duration.Seconds()),
	}
}
