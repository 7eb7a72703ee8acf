package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"switchboard"
	"switchboard/internal/engine"
)

// Scenario is a contact center to simulate: queues with their arrivals,
// handle times and caller patience, and groups of agents serving them. It is
// read from JSON by switchboard simulate --scenario.
type Scenario struct {
	Hours       float64         `json:"hours"`
	WarmupHours float64         `json:"warmup_hours"`
	Seed        uint64          `json:"seed"`
	Queues      []ScenarioQueue `json:"queues"`
	Agents      []AgentGroup    `json:"agents"`
}

// ScenarioQueue is one queue of a scenario.
type ScenarioQueue struct {
	Name               string       `json:"name"`
	Strategy           string       `json:"strategy"`
	ArrivalsPerHour    float64      `json:"arrivals_per_hour"`
	HandleTime         Distribution `json:"handle_time"`
	Patience           Distribution `json:"patience"`
	TimeoutSeconds     int          `json:"timeout_seconds"`
	WrapUpSeconds      int          `json:"wrap_up_seconds"`
	MaxLength          int          `json:"max_length"`
	SLThresholdSeconds int          `json:"sl_threshold_seconds"`
}

// AgentGroup is Count identical agents who are members of Queues.
type AgentGroup struct {
	Count              int      `json:"count"`
	Queues             []string `json:"queues"`
	Penalty            int      `json:"penalty"`
	AnswerAfterSeconds float64  `json:"answer_after_seconds"`
}

// Distribution draws durations: "exponential" (the default), "lognormal"
// with a coefficient of variation, "fixed", or "none" (infinite: a caller who
// never gives up).
type Distribution struct {
	Kind        string  `json:"distribution"`
	MeanSeconds float64 `json:"mean_seconds"`
	CV          float64 `json:"cv"`
}

func (d Distribution) draw(rng *rand.Rand) time.Duration {
	mean := d.MeanSeconds
	switch d.Kind {
	case "none":
		return 0
	case "fixed":
		return seconds(mean)
	case "lognormal":
		sigma2 := math.Log(1 + d.CV*d.CV)
		mu := math.Log(mean) - sigma2/2
		return seconds(math.Exp(mu + math.Sqrt(sigma2)*rng.NormFloat64()))
	}
	return seconds(rng.ExpFloat64() * mean)
}

func seconds(s float64) time.Duration {
	return max(time.Duration(s*float64(time.Second)), time.Millisecond)
}

// ReadScenario decodes a scenario strictly (unknown fields are errors) and
// validates it, naming the offending field.
func ReadScenario(r io.Reader) (Scenario, error) {
	var s Scenario
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("scenario: %w", err)
	}
	return s, s.Validate()
}

// Validate reports the first problem of s, naming its field.
func (s *Scenario) Validate() error {
	bad := func(field, why string) error { return fmt.Errorf("scenario: %s %s", field, why) }
	if s.Hours <= 0 || s.Hours > 1e5 {
		return bad("hours", "must be between 0 and 100000")
	}
	if s.WarmupHours < 0 {
		return bad("warmup_hours", "must not be negative")
	}
	if len(s.Queues) == 0 {
		return bad("queues", "must list at least one queue")
	}
	names := map[string]bool{}
	for i, q := range s.Queues {
		f := fmt.Sprintf("queues[%d]", i)
		switch {
		case q.Name == "" || names[q.Name]:
			return bad(f+".name", "must be given and unique")
		case q.ArrivalsPerHour <= 0:
			return bad(f+".arrivals_per_hour", "must be positive")
		case q.HandleTime.MeanSeconds <= 0:
			return bad(f+".handle_time.mean_seconds", "must be positive")
		case q.Patience.Kind != "none" && q.Patience.MeanSeconds <= 0:
			return bad(f+".patience", `needs mean_seconds, or "distribution": "none" for callers who never give up`)
		}
		for _, d := range []struct {
			name string
			d    Distribution
		}{{"handle_time", q.HandleTime}, {"patience", q.Patience}} {
			switch d.d.Kind {
			case "", "exponential", "fixed", "none", "lognormal":
			default:
				return bad(f+"."+d.name+".distribution", "must be exponential, lognormal, fixed or none")
			}
		}
		if q.Strategy != "" {
			st := switchboard.Queue{Name: q.Name, Strategy: switchboard.Strategy(q.Strategy)}
			st.Normalize()
			if err := st.Validate(); err != nil {
				return bad(f+".strategy", "must be one of the queue strategies")
			}
		}
		names[q.Name] = true
	}
	if len(s.Agents) == 0 {
		return bad("agents", "must list at least one agent group")
	}
	for i, g := range s.Agents {
		f := fmt.Sprintf("agents[%d]", i)
		if g.Count < 1 || g.Count > 10000 {
			return bad(f+".count", "must be between 1 and 10000")
		}
		if len(g.Queues) == 0 {
			return bad(f+".queues", "must name at least one queue")
		}
		for _, q := range g.Queues {
			if !names[q] {
				return bad(f+".queues", fmt.Sprintf("names %q, which is not a queue of the scenario", q))
			}
		}
	}
	return nil
}

// QueueResult is what a scenario run measured for one queue.
type QueueResult struct {
	Name         string  `json:"name"`
	Offered      int     `json:"offered"`
	Answered     int     `json:"answered"`
	Abandoned    int     `json:"abandoned"`
	Rejected     int     `json:"rejected"`
	PWait        float64 `json:"p_wait"`
	ASASeconds   float64 `json:"asa_seconds"`
	ServiceLevel float64 `json:"service_level"`
	AbandonRate  float64 `json:"abandon_rate"`
}

// ScenarioResult is a scenario run's measurements.
type ScenarioResult struct {
	Queues      []QueueResult `json:"queues"`
	Occupancy   float64       `json:"occupancy"`
	WallSeconds float64       `json:"wall_seconds"`
}

// RunScenario runs s through the engine and this driver in virtual time.
func RunScenario(s Scenario) (ScenarioResult, error) {
	if err := s.Validate(); err != nil {
		return ScenarioResult{}, err
	}
	wall := time.Now()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := engine.NewVirtualClock(start)
	rng := rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))
	drv := New(clock)
	from, to := start.Add(time.Duration(s.WarmupHours*float64(time.Hour))), start.Add(time.Duration((s.WarmupHours+s.Hours)*float64(time.Hour)))
	k := &scenarioCounter{from: from, to: to, byQueue: map[int64]*queueCount{}}
	eng := engine.New(engine.Options{Clock: clock, Telephony: drv, Observer: k,
		Router: engine.NewRouter(rand.New(rand.NewPCG(s.Seed+1, s.Seed+2))), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	drv.SetEngine(eng)

	members := map[string][]switchboard.QueueMember{}
	agents := 0
	for _, g := range s.Agents {
		for range g.Count {
			agents++
			id := int64(agents)
			dev := fmt.Sprintf("agent-%d", id)
			drv.SetDevice(dev, Device{Registered: true, Behavior: Answer, AnswerAfter: time.Duration(g.AnswerAfterSeconds * float64(time.Second))})
			eng.SetAgent(id, dev)
			eng.SetStatus(id, switchboard.StatusAvailable, true)
			for _, q := range g.Queues {
				members[q] = append(members[q], switchboard.QueueMember{UserID: id, Penalty: g.Penalty, Position: len(members[q]) + 1})
			}
		}
	}
	for i, sq := range s.Queues {
		q := switchboard.Queue{ID: int64(i + 1), Name: sq.Name, Strategy: switchboard.Strategy(sq.Strategy), TimeoutSeconds: sq.TimeoutSeconds,
			WrapUpSeconds: sq.WrapUpSeconds, MaxLength: sq.MaxLength, ServiceLevelSeconds: sq.SLThresholdSeconds, JoinEmpty: true}
		q.Normalize()
		for j := range members[sq.Name] {
			members[sq.Name][j].QueueID = q.ID
		}
		route := fmt.Sprintf("q%d", q.ID)
		eng.SetQueue(q, members[sq.Name], route)
		k.byQueue[q.ID] = &queueCount{name: q.Name, threshold: time.Duration(q.ServiceLevelSeconds) * time.Second}
		mean := time.Duration(float64(time.Hour) / sq.ArrivalsPerHour)
		sq := sq
		var arrive func()
		arrive = func() {
			if !clock.Now().Before(to) {
				return
			}
			drv.Call("+15550000001", route, Script{Talk: sq.HandleTime.draw(rng), Patience: sq.Patience.draw(rng)})
			clock.AfterFunc(time.Duration(rng.ExpFloat64()*float64(mean)), arrive)
		}
		clock.AfterFunc(time.Duration(rng.ExpFloat64()*float64(mean)), arrive)
	}
	for clock.Step() {
	}
	res := ScenarioResult{Queues: []QueueResult{}, WallSeconds: time.Since(wall).Seconds()}
	var talk time.Duration
	for i := range s.Queues {
		qc := k.byQueue[int64(i+1)]
		talk += qc.talk
		r := QueueResult{Name: qc.name, Offered: qc.offered, Answered: qc.answered, Abandoned: qc.abandoned, Rejected: qc.rejected}
		if qc.answered > 0 {
			r.PWait = float64(qc.waited) / float64(qc.answered)
			r.ASASeconds = qc.wait.Seconds() / float64(qc.answered)
			r.ServiceLevel = float64(qc.inSL) / float64(qc.answered)
		}
		if qc.offered > 0 {
			r.AbandonRate = float64(qc.abandoned) / float64(qc.offered)
		}
		res.Queues = append(res.Queues, r)
	}
	res.Occupancy = talk.Seconds() / (float64(agents) * to.Sub(from).Seconds())
	return res, nil
}

type queueCount struct {
	name                                                 string
	threshold                                            time.Duration
	offered, answered, abandoned, rejected, waited, inSL int
	wait, talk                                           time.Duration
}

type scenarioCounter struct {
	from, to time.Time
	byQueue  map[int64]*queueCount
}

func (k *scenarioCounter) CallChanged(c *switchboard.Call, what string) {
	if what != "ended" || c.QueueID == nil || c.CreatedAt.Before(k.from) || !c.CreatedAt.Before(k.to) {
		return
	}
	q := k.byQueue[*c.QueueID]
	q.offered++
	switch c.Disposition {
	case switchboard.DispositionAnswered:
		q.answered++
		w := c.Wait()
		q.wait += w
		if w > 0 {
			q.waited++
		}
		if w <= q.threshold {
			q.inSL++
		}
		q.talk += c.Talk()
	case switchboard.DispositionAbandoned:
		q.abandoned++
	case switchboard.DispositionRejected:
		q.rejected++
	}
}
