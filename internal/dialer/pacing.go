package dialer

import (
	"math"
	"slices"
	"time"

	"switchboard"
)

// Pacing is what a pacing decision looks at: the campaign's queue as the
// engine sees it now, the dials still ringing, and what the dialer has
// measured so far.
type Pacing struct {
	Mode switchboard.CampaignMode
	// Agents are the queue's members signed in and able to take calls;
	// Free those who could take one this instant; Waiting the answered
	// calls waiting for an agent (not those already ringing one: that agent
	// is not free).
	Agents, Free, Waiting int
	// Busy is, for each agent on a call, how long they have been on it;
	// WrapLeft, for each agent wrapping up, the wrap-up time left.
	Busy, WrapLeft []time.Duration
	// Wrap is the queue's wrap-up after a call.
	Wrap time.Duration
	// InFlight is the campaign's dials not yet answered.
	InFlight int
	// Stats is what has been measured.
	Stats *Estimates
	// Horizon is the predictive look-ahead (see Estimates.Horizon).
	Horizon time.Duration
	// Overdial scales the predictive target (the campaign's adjustment).
	Overdial float64
	// AbandonLimit is the campaign's limit in percent; WindowAbandon the
	// rolling-hour rate in percent, and WindowAnswers the person-answered
	// dials it is measured over.
	AbandonLimit  float64
	WindowAbandon float64
	WindowAnswers int
}

// Decision is how many leads to dial now, and why.
type Decision struct {
	Dials int
	// Ratio is dials in flight after this decision per agent predicted
	// free (1 for progressive pacing).
	Ratio  float64
	Reason string
	// OverBudget says the abandon budget forced progressive pacing.
	OverBudget bool
}

// Learning thresholds: predictive pacing runs as progressive until this many
// dials have an outcome, so that the answer rate it divides by is measured,
// not guessed.
const (
	minDialsMeasured = 60
	// budgetGuard is the share of the abandon limit at which predictive
	// pacing stops dialling ahead of free agents for the rest of the window.
	budgetGuard = 0.85
	// minWindowAnswers is how many person-answered dials the rolling window
	// must hold before its rate is trusted to stop overdialling.
	minWindowAnswers = 20
)

// Decide is the pacing rule. Preview places no dial by itself (the agents
// accept leads); progressive keeps one dial in flight or waiting per free
// agent; predictive keeps enough in flight that the agents predicted to be
// free within the horizon are met at the measured answer rate, unless the
// abandon budget is nearly spent.
func Decide(p Pacing) Decision {
	progressive := p.Free - p.Waiting - p.InFlight
	switch p.Mode {
	case switchboard.ModePreview:
		return Decision{Reason: "preview: agents accept leads one by one"}
	case switchboard.ModeProgressive:
		if progressive <= 0 {
			return Decision{Ratio: 1, Reason: "progressive: every free agent has a dial"}
		}
		return Decision{Dials: progressive, Ratio: 1, Reason: "progressive: one dial per free agent"}
	}
	if p.Agents == 0 {
		return Decision{Reason: "predictive: no agent signed in"}
	}
	if p.Stats == nil || p.Stats.Measured() < minDialsMeasured {
		return Decision{Dials: max(progressive, 0), Ratio: 1, Reason: "predictive: learning the answer rate (progressive until 60 dials end)"}
	}
	if p.WindowAnswers >= minWindowAnswers && p.WindowAbandon >= budgetGuard*p.AbandonLimit {
		return Decision{Dials: max(progressive, 0), Ratio: 1, OverBudget: true,
			Reason: "predictive: abandon rate near the limit; dialling only for free agents"}
	}
	rate := p.Stats.AnswerRate()
	free := p.Stats.PredictFree(p)
	if free <= 0 {
		return Decision{Reason: "predictive: no agent predicted free within the horizon"}
	}
	over := p.Overdial
	if over <= 0 {
		over = 1
	}
	n := int(math.Floor(free*over/rate)) - p.InFlight
	// Never fewer dials than a progressive dialer would place.
	n = max(n, progressive)
	ratio := (float64(p.InFlight) + float64(max(n, 0))) / free
	if n > 0 {
		return Decision{Dials: n, Ratio: ratio, Reason: "predictive: dialling ahead for the agents predicted free"}
	}
	return Decision{Ratio: ratio, Reason: "predictive: enough dials in flight"}
}

// Estimates are the measurements predictive pacing divides by: the share of
// dials a person answers (machines and no-answers are not), and the
// distribution of talk times, both over a recent window.
type Estimates struct {
	outcomes []bool // recent ended dials: true when a person answered
	next     int
	humans   int
	total    int
	talk     []time.Duration // recent talk times, a ring
	talkNext int
	sorted   []time.Duration // talk, sorted (rebuilt when stale)
	stale    bool
	// Horizon is the look-ahead of the free-agent prediction: lengthened
	// while the abandon rate is under target, shortened above it (the
	// EIS patents' window, US 5,640,445).
	Horizon time.Duration
}

// Window sizes of the estimates.
const (
	outcomeWindow = 500
	talkWindow    = 400
)

// NewEstimates starts empty estimates with a short horizon.
func NewEstimates() *Estimates {
	return &Estimates{outcomes: make([]bool, 0, outcomeWindow), talk: make([]time.Duration, 0, talkWindow), Horizon: 5 * time.Second}
}

// Measured is how many ended dials the answer rate is measured over.
func (s *Estimates) Measured() int { return s.total }

// Dialled records a dial's outcome: human says a person answered.
func (s *Estimates) Dialled(human bool) {
	if len(s.outcomes) < outcomeWindow {
		s.outcomes = append(s.outcomes, human)
	} else {
		if s.outcomes[s.next] {
			s.humans--
		}
		s.outcomes[s.next] = human
		s.next = (s.next + 1) % outcomeWindow
		s.total--
	}
	s.total++
	if human {
		s.humans++
	}
}

// Talked records a connected call's talk time.
func (s *Estimates) Talked(d time.Duration) {
	if len(s.talk) < talkWindow {
		s.talk = append(s.talk, d)
	} else {
		s.talk[s.talkNext] = d
		s.talkNext = (s.talkNext + 1) % talkWindow
	}
	s.stale = true
}

// AnswerRate is the share of recent dials a person answered, never below 2 %
// (a run of no-answers must not make the dialer dial without bound).
func (s *Estimates) AnswerRate() float64 {
	if s.total == 0 {
		return 1
	}
	return max(float64(s.humans)/float64(s.total), 0.02)
}

// MeanTalk is the mean recent talk time (3 min before any call ended).
func (s *Estimates) MeanTalk() time.Duration {
	if len(s.talk) == 0 {
		return 3 * time.Minute
	}
	var sum time.Duration
	for _, d := range s.talk {
		sum += d
	}
	return sum / time.Duration(len(s.talk))
}

// survival is the share of recent talk times longer than d.
func (s *Estimates) survival(d time.Duration) float64 {
	if s.stale {
		s.sorted = append(s.sorted[:0], s.talk...)
		slices.Sort(s.sorted)
		s.stale = false
	}
	n := len(s.sorted)
	i, _ := slices.BinarySearch(s.sorted, d+1)
	return float64(n-i) / float64(n)
}

// FreeWithin is the chance that an agent e into a call is free again (talk
// ended and wrap-up done) within h: from the measured talk times once 30
// calls ended, from an exponential of the mean before.
func (s *Estimates) FreeWithin(e, h, wrap time.Duration) float64 {
	left := h - wrap
	if left <= 0 {
		return 0
	}
	if len(s.talk) < 30 {
		return 1 - math.Exp(-left.Seconds()/s.MeanTalk().Seconds())
	}
	se := s.survival(e)
	if se <= 0 {
		// Longer than every call measured: assume the mean's hazard.
		return 1 - math.Exp(-left.Seconds()/s.MeanTalk().Seconds())
	}
	return (se - s.survival(e+left)) / se
}

// PredictFree is how many agents are predicted free within the horizon: the
// free ones, less the answered calls waiting, plus each agent wrapping up
// whose wrap-up ends within it and each busy agent weighted by the chance
// that their call ends (and its wrap-up) within it.
func (s *Estimates) PredictFree(p Pacing) float64 {
	h := p.Horizon
	free := float64(p.Free - p.Waiting)
	for _, w := range p.WrapLeft {
		if w <= h {
			free++
		}
	}
	for _, e := range p.Busy {
		free += s.FreeWithin(e, h, p.Wrap)
	}
	return free
}

// Adapt moves the horizon toward the abandon target: 2 % longer while the
// recent rate is under aim, 5 % shorter above it, within 1 s to 5 min.
// Gentle steps: larger ones made the horizon swing and the rolling hour's
// rate with it.
func (s *Estimates) Adapt(rate, aim float64) {
	if rate < aim {
		s.Horizon = time.Duration(float64(s.Horizon) * 1.02)
	} else {
		s.Horizon = time.Duration(float64(s.Horizon) * 0.95)
	}
	s.Horizon = min(max(s.Horizon, time.Second), 5*time.Minute)
}
