package dialer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

// Simulation is one campaign run on the simulated telephony under a virtual
// clock: Agents identical agents who answer at once, and leads of whom
// AnswerRate answer; of the answers, MachineRate are answering machines
// (after 8-20 s of ringing, recognised at once: the machine rule applies) and
// the rest people (after 4-20 s). Of the dials nobody answers, 85 % ring out
// the campaign's ring time (30 s) and 15 % are busy after 2-5 s. Talk times
// are lognormal (coefficient of variation 1) with mean AHT less the wrap-up.
type Simulation struct {
	Agents      int
	Mode        switchboard.CampaignMode
	AnswerRate  float64
	MachineRate float64
	AHT         time.Duration
	Wrap        time.Duration
	Duration    time.Duration
	Seed        uint64
	// MaxAbandonPercent is the campaign's limit (default 3).
	MaxAbandonPercent float64
	// PreviewThink is how long a simulated agent looks at a preview lead
	// before accepting it (default 5 s).
	PreviewThink time.Duration
}

// SimResult is what a simulated campaign measured. Rates are fractions.
type SimResult struct {
	Mode                 string  `json:"mode"`
	Agents               int     `json:"agents"`
	Hours                float64 `json:"hours"`
	Occupancy            float64 `json:"occupancy"`
	AbandonRate          float64 `json:"abandon_rate"`
	MaxWindowAbandonRate float64 `json:"max_window_abandon_rate"`
	ConnectsPerAgentHour float64 `json:"connects_per_agent_hour"`
	TalkMinutesPerHour   float64 `json:"talk_minutes_per_agent_hour"`
	Dials                int     `json:"dials"`
	Connects             int     `json:"connects"`
	Abandons             int     `json:"abandons"`
	PersonAnswers        int     `json:"person_answers"`
	Machines             int     `json:"machines"`
	Blocked              int     `json:"blocked"`
	WallSeconds          float64 `json:"wall_seconds"`
}

// Validate reports what is wrong with s.
func (s *Simulation) Validate() error {
	switch {
	case s.Agents < 1 || s.Agents > 10000:
		return errors.New("--agents must be between 1 and 10,000")
	case s.Mode != switchboard.ModePreview && s.Mode != switchboard.ModeProgressive && s.Mode != switchboard.ModePredictive:
		return errors.New("--mode must be preview, progressive or predictive")
	case s.AnswerRate <= 0 || s.AnswerRate > 1:
		return errors.New("--answer-rate must be above 0 and at most 1")
	case s.MachineRate < 0 || s.MachineRate >= 1:
		return errors.New("--machine-rate (the share of answers that are machines) must be at least 0 and below 1")
	case s.AHT <= 0:
		return errors.New("--aht must be positive")
	case s.Wrap < 0 || s.Wrap >= s.AHT:
		return errors.New("--wrap must be at least 0 and shorter than --aht")
	case s.Duration <= 0 || s.Duration > 1000*time.Hour:
		return errors.New("--hours must be above 0 and at most 1,000")
	}
	return nil
}

// simCounter adds up the agents' busy time from the engine's calls.
type simCounter struct {
	wrap time.Duration
	busy time.Duration
	talk time.Duration
	end  time.Time
}

func (k *simCounter) CallChanged(c *switchboard.Call, what string) {
	if what != "ended" || c.ConnectedAt == nil || c.ConnectedAt.After(k.end) {
		return
	}
	ended := *c.EndedAt
	if ended.After(k.end) {
		ended = k.end
	}
	t := ended.Sub(*c.ConnectedAt)
	k.talk += t
	k.busy += t + min(k.wrap, k.end.Sub(ended))
}

// RunSimulation runs s and measures it.
func RunSimulation(s Simulation) (SimResult, error) {
	if err := s.Validate(); err != nil {
		return SimResult{}, err
	}
	if s.MaxAbandonPercent == 0 {
		s.MaxAbandonPercent = switchboard.DefaultMaxAbandonPercent
	}
	if s.PreviewThink <= 0 {
		s.PreviewThink = 5 * time.Second
	}
	wall := time.Now()
	ctx := context.Background()
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	end := start.Add(s.Duration)
	clock := engine.NewVirtualClock(start)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	drv := sim.New(clock)
	counter := &simCounter{wrap: s.Wrap, end: end}
	eng := engine.New(engine.Options{Clock: clock, Telephony: drv, Observer: counter,
		Router: engine.NewRouter(rand.New(rand.NewPCG(s.Seed+1, s.Seed+2))), Log: quiet})
	drv.SetEngine(eng)

	const tenant, queueID, campaignID = 1, 1, 1
	q := switchboard.Queue{ID: queueID, TenantID: tenant, Name: "Campaign", Extension: "8000", Strategy: switchboard.StrategyLeastRecent,
		TimeoutSeconds: 3600, WrapUpSeconds: int(s.Wrap / time.Second)}
	q.Normalize()
	q.WrapUpSeconds = int(s.Wrap / time.Second)
	members := make([]switchboard.QueueMember, s.Agents)
	for i := range members {
		id := int64(i + 1)
		dev := fmt.Sprintf("agent-%d", id)
		drv.SetDevice(dev, sim.Device{Registered: true, Behavior: sim.Answer})
		eng.SetAgent(id, dev)
		eng.SetUserRoutes(id, tenant, nil)
		eng.SetStatus(id, switchboard.StatusAvailable, true)
		members[i] = switchboard.QueueMember{QueueID: queueID, UserID: id, Position: i + 1}
	}
	eng.SetQueue(q, members)

	mem := NewMemory()
	mem.AddQueue(q)
	c := switchboard.Campaign{ID: campaignID, TenantID: tenant, Name: "Simulated", Mode: s.Mode, QueueID: queueID,
		CallerID: "+15550000000", MaxAbandonPercent: s.MaxAbandonPercent, MaxRedials: 2,
		Schedule: switchboard.CampaignSchedule{From: "00:00", To: "24:00"}}
	c.Normalize()
	c.Status = switchboard.CampaignStarted
	mem.AddCampaign(c)
	// Enough leads that the run never runs dry: three times what the
	// agents could talk to if every dial reached a person.
	n := int(3*float64(s.Agents)*s.Duration.Hours()*3600/s.AHT.Seconds()/(s.AnswerRate*(1-s.MachineRate))) + 100
	leads := make([]switchboard.Lead, n)
	for i := range leads {
		leads[i] = switchboard.Lead{Name: fmt.Sprintf("Lead %d", i+1), PhoneNumber: fmt.Sprintf("+1555%07d", i+1), TimeZone: "UTC"}
	}
	mem.AddLeads(campaignID, leads)

	rng := rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))
	talk := s.AHT - s.Wrap
	sigma2 := math.Log(2) // coefficient of variation 1
	mu := math.Log(talk.Seconds()) - sigma2/2
	uniform := func(lo, hi float64) time.Duration {
		return time.Duration((lo + rng.Float64()*(hi-lo)) * float64(time.Second))
	}
	drv.SetNumberFunc(func(string) sim.Script {
		u := rng.Float64()
		person := s.AnswerRate * (1 - s.MachineRate)
		switch {
		case u < person:
			t := time.Duration(math.Exp(mu+math.Sqrt(sigma2)*rng.NormFloat64()) * float64(time.Second))
			return sim.Script{Behavior: sim.Answer, AnswerAfter: uniform(4, 20), Talk: max(t, time.Second)}
		case u < s.AnswerRate:
			return sim.Script{Behavior: sim.Voicemail, AnswerAfter: uniform(8, 20), Talk: 30 * time.Second}
		case rng.Float64() < 0.85:
			return sim.Script{Behavior: sim.NoAnswer}
		default:
			return sim.Script{Behavior: sim.Reject, AnswerAfter: uniform(2, 5)}
		}
	})

	d := New(Options{Clock: clock, Engine: eng, Store: mem, Log: quiet})
	if err := d.Run(ctx, c); err != nil {
		return SimResult{}, err
	}
	d.Start()
	if s.Mode == switchboard.ModePreview {
		var accept func()
		accept = func() {
			for agent := int64(1); agent <= int64(s.Agents); agent++ {
				if o, ok := d.Preview(tenant, agent); ok && o.CallID == nil && !clock.Now().Before(o.OfferedAt.Add(s.PreviewThink)) {
					_, _ = d.AcceptPreview(ctx, tenant, agent, o.Lead.ID)
				}
			}
			clock.AfterFunc(time.Second, accept)
		}
		clock.AfterFunc(time.Second, accept)
	}
	clock.Advance(s.Duration)
	d.Close()
	eng.Close()

	res := SimResult{Mode: string(s.Mode), Agents: s.Agents, Hours: s.Duration.Hours()}
	agentHours := float64(s.Agents) * s.Duration.Hours()
	res.Occupancy = counter.busy.Hours() / agentHours
	res.TalkMinutesPerHour = counter.talk.Minutes() / agentHours
	var answers []time.Time
	var abandoned []bool
	for _, a := range mem.Ledger() {
		switch a.Outcome {
		case switchboard.DialBlocked:
			res.Blocked++
			continue
		case switchboard.DialSkipped:
			continue
		case switchboard.DialConnected:
			res.Connects++
		case switchboard.DialAbandoned:
			res.Abandons++
		case switchboard.DialMachine:
			res.Machines++
		}
		res.Dials++
		if a.Outcome == switchboard.DialConnected || a.Outcome == switchboard.DialAbandoned || a.Outcome == switchboard.DialHungUp {
			answers = append(answers, a.At)
			abandoned = append(abandoned, a.Outcome == switchboard.DialAbandoned)
		}
	}
	res.PersonAnswers = len(answers)
	if len(answers) > 0 {
		res.AbandonRate = float64(res.Abandons) / float64(len(answers))
	}
	res.MaxWindowAbandonRate = maxWindowRate(answers, abandoned, start, end, time.Hour, time.Minute)
	res.ConnectsPerAgentHour = float64(res.Connects) / agentHours
	res.WallSeconds = time.Since(wall).Seconds()
	return res, nil
}

// maxWindowRate is the worst abandon rate over every window of span that
// starts on a step from start and fits before end (the whole run when it is
// shorter than span). at is in order.
func maxWindowRate(at []time.Time, abandoned []bool, start, end time.Time, span, step time.Duration) float64 {
	if end.Sub(start) < span {
		span = end.Sub(start)
	}
	worst := 0.0
	lo, hi, n, ab := 0, 0, 0, 0
	for w := start; !w.Add(span).After(end); w = w.Add(step) {
		for hi < len(at) && at[hi].Before(w.Add(span)) {
			n++
			if abandoned[hi] {
				ab++
			}
			hi++
		}
		for lo < hi && at[lo].Before(w) {
			n--
			if abandoned[lo] {
				ab--
			}
			lo++
		}
		if n > 0 {
			worst = max(worst, float64(ab)/float64(n))
		}
	}
	return worst
}
