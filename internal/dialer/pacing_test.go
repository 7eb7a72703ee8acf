package dialer

import (
	"strings"
	"testing"
	"time"

	"switchboard"
)

// measured returns estimates of n ended dials, a share rate of them answered
// by a person, and talk times of mean talk (exponential-ish spread).
func measured(n int, rate float64, talk time.Duration) *Estimates {
	s := NewEstimates()
	humans := int(float64(n) * rate)
	for i := range n {
		s.Dialled(i < humans)
	}
	for i := range 200 {
		// Talk times spread evenly over (0, 2·talk): mean talk.
		s.Talked(time.Duration(float64(2*talk) * (float64(i) + 0.5) / 200))
	}
	return s
}

func TestDecide(t *testing.T) {
	learned := measured(500, 0.25, 120*time.Second)
	busy := func(n int, e time.Duration) []time.Duration {
		b := make([]time.Duration, n)
		for i := range b {
			b[i] = e
		}
		return b
	}
	for _, c := range []struct {
		name   string
		p      Pacing
		dials  int
		reason string // a part of the decision's reason
		over   bool
	}{
		{name: "preview never dials by itself", p: Pacing{Mode: switchboard.ModePreview, Agents: 5, Free: 5}, reason: "preview"},
		{name: "progressive: a dial per free agent", p: Pacing{Mode: switchboard.ModeProgressive, Agents: 10, Free: 4}, dials: 4, reason: "one dial per free agent"},
		{name: "progressive: dials in flight count", p: Pacing{Mode: switchboard.ModeProgressive, Agents: 10, Free: 4, InFlight: 3}, dials: 1, reason: "one dial per free agent"},
		{name: "progressive: answered calls waiting count", p: Pacing{Mode: switchboard.ModeProgressive, Agents: 10, Free: 4, InFlight: 2, Waiting: 2}, reason: "every free agent has a dial"},
		{name: "predictive: nobody signed in", p: Pacing{Mode: switchboard.ModePredictive}, reason: "no agent"},
		{name: "predictive learns as progressive", p: Pacing{Mode: switchboard.ModePredictive, Agents: 10, Free: 3, Stats: measured(10, 0.3, time.Minute)}, dials: 3, reason: "learning"},
		{name: "predictive: free agents over the answer rate", p: Pacing{Mode: switchboard.ModePredictive, Agents: 10, Free: 2, Stats: learned, Horizon: time.Second, Overdial: 1}, dials: 8, reason: "dialling ahead"},
		{name: "predictive: dials in flight count", p: Pacing{Mode: switchboard.ModePredictive, Agents: 10, Free: 2, InFlight: 8, Stats: learned, Horizon: time.Second, Overdial: 1}, reason: "enough dials in flight"},
		{name: "predictive: overdial adjustment scales", p: Pacing{Mode: switchboard.ModePredictive, Agents: 10, Free: 2, Stats: learned, Horizon: time.Second, Overdial: 1.5}, dials: 12, reason: "dialling ahead"},
		// Ten agents 120 s into calls of mean 120 s (uniform to 240 s): each
		// ends within 60 s with chance 0.5, so five are predicted free.
		{name: "predictive: busy agents weighted by their chance to end within the horizon", p: Pacing{Mode: switchboard.ModePredictive, Agents: 10, Busy: busy(10, 120*time.Second), Stats: learned, Horizon: 60 * time.Second, Overdial: 1}, dials: 20, reason: "dialling ahead"},
		{name: "predictive: busy agents far from their end predict nothing within a short horizon", p: Pacing{Mode: switchboard.ModePredictive, Agents: 10, Busy: busy(10, 0), Stats: learned, Horizon: time.Second, Overdial: 1}, reason: "enough dials in flight"},
		{name: "predictive: wrap-up ending within the horizon counts", p: Pacing{Mode: switchboard.ModePredictive, Agents: 10, WrapLeft: []time.Duration{5 * time.Second, time.Minute}, Stats: learned, Horizon: 10 * time.Second, Overdial: 1}, dials: 4, reason: "dialling ahead"},
		{name: "predictive: abandon budget near the limit falls back to progressive", p: Pacing{Mode: switchboard.ModePredictive, Agents: 10, Free: 2, Stats: learned, Horizon: time.Second, Overdial: 1, AbandonLimit: 3, WindowAbandon: 2.9, WindowAnswers: 100}, dials: 2, reason: "near the limit", over: true},
		{name: "predictive: a few answers in the window do not stop it", p: Pacing{Mode: switchboard.ModePredictive, Agents: 10, Free: 2, Stats: learned, Horizon: time.Second, Overdial: 1, AbandonLimit: 3, WindowAbandon: 10, WindowAnswers: 5}, dials: 8, reason: "dialling ahead"},
		{name: "predictive: answered calls waiting reduce the free agents", p: Pacing{Mode: switchboard.ModePredictive, Agents: 10, Free: 2, Waiting: 2, Stats: learned, Horizon: time.Second, Overdial: 1}, reason: "no agent predicted free"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := Decide(c.p)
			if d.Dials != c.dials || !strings.Contains(d.Reason, c.reason) || d.OverBudget != c.over {
				t.Fatalf("Decide = %+v, want %d dials, reason with %q, over budget %v", d, c.dials, c.reason, c.over)
			}
		})
	}
}

func TestEstimatesWindow(t *testing.T) {
	s := NewEstimates()
	for range outcomeWindow {
		s.Dialled(true)
	}
	if r := s.AnswerRate(); r != 1 {
		t.Fatalf("all answered: rate %v", r)
	}
	for range outcomeWindow / 2 {
		s.Dialled(false)
	}
	if r := s.AnswerRate(); r != 0.5 || s.Measured() != outcomeWindow {
		t.Fatalf("half of the window unanswered: rate %v over %d", r, s.Measured())
	}
	for range outcomeWindow {
		s.Dialled(false)
	}
	if r := s.AnswerRate(); r != 0.02 {
		t.Fatalf("nobody answers: rate %v, want the floor 0.02", r)
	}
}

func TestFreeWithin(t *testing.T) {
	s := measured(100, 0.3, 100*time.Second) // talk uniform over (0, 200 s)
	for _, c := range []struct {
		e, h, wrap time.Duration
		want       float64
	}{
		{0, 100 * time.Second, 0, 0.5},
		{100 * time.Second, 50 * time.Second, 0, 0.5},
		{100 * time.Second, 60 * time.Second, 10 * time.Second, 0.5},
		{100 * time.Second, 5 * time.Second, 10 * time.Second, 0},
		{150 * time.Second, 100 * time.Second, 0, 1},
	} {
		if got := s.FreeWithin(c.e, c.h, c.wrap); got < c.want-0.02 || got > c.want+0.02 {
			t.Errorf("FreeWithin(%v, %v, wrap %v) = %.3f, want %.2f", c.e, c.h, c.wrap, got, c.want)
		}
	}
}

func TestAbandonWindow(t *testing.T) {
	var w abandonWindow
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		w.add(t0.Add(time.Duration(i)*time.Second), i%10 == 0)
	}
	if r := w.rate(t0.Add(100 * time.Second)); r != 10 {
		t.Fatalf("rate %v, want 10 %%", r)
	}
	// An hour after the first, it leaves the window (an abandoned one).
	if r, n := w.rate(t0.Add(time.Hour)), w.answers(t0.Add(time.Hour)); n != 99 || r != 900.0/99 {
		t.Fatalf("after an hour: %d answers at %v %%", n, r)
	}
	if r := w.rate(t0.Add(3 * time.Hour)); r != 0 {
		t.Fatalf("an empty window: %v", r)
	}
}

func TestNextStatus(t *testing.T) {
	c := switchboard.Campaign{Name: "x", QueueID: 1, MaxRedials: 1}
	c.Normalize()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, x := range []struct {
		outcome  switchboard.DialOutcome
		attempts int
		want     switchboard.LeadStatus
		after    time.Duration
	}{
		{switchboard.DialNoAnswer, 1, switchboard.LeadRedialScheduled, time.Hour},
		{switchboard.DialBusy, 1, switchboard.LeadRedialScheduled, 15 * time.Minute},
		{switchboard.DialNoAnswer, 2, switchboard.LeadNotPickedUp, 0},
		{switchboard.DialMachine, 2, switchboard.LeadVoicemail, 0},
		{switchboard.DialAbandoned, 1, switchboard.LeadRedialScheduled, 24 * time.Hour},
		{switchboard.DialAbandoned, 2, switchboard.LeadAbandoned, 0},
		{switchboard.DialInvalid, 1, switchboard.LeadInvalidNumber, 0},
		{switchboard.DialHungUp, 1, switchboard.LeadNotPickedUp, 0},
		{switchboard.DialFailed, 2, switchboard.LeadFailed, 0},
	} {
		l := switchboard.Lead{Attempts: x.attempts}
		st, at := nextStatus(&c, &l, x.outcome, now)
		if st != x.want || (x.after == 0) != (at == nil) || at != nil && at.Sub(now) != x.after {
			t.Errorf("%s after %d attempts: %s at %v, want %s after %v", x.outcome, x.attempts, st, at, x.want, x.after)
		}
	}
}
