package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// staff is the same five members for every strategy: ann and bob in penalty
// tier 0, cat, dan and eve in tier 1.
func staff() []Member {
	return []Member{
		{UserID: 1, Position: 1, Penalty: 0, LastCallEnd: t0.Add(-2 * time.Minute), CallsAnswered: 7},  // ann
		{UserID: 2, Position: 2, Penalty: 0, LastCallEnd: t0.Add(-10 * time.Minute), CallsAnswered: 3}, // bob
		{UserID: 3, Position: 3, Penalty: 1, LastCallEnd: t0.Add(-30 * time.Minute), CallsAnswered: 1}, // cat
		{UserID: 4, Position: 4, Penalty: 1, CallsAnswered: 0},                                         // dan, no call yet
		{UserID: 5, Position: 5, Penalty: 1, LastCallEnd: t0.Add(-1 * time.Minute), CallsAnswered: 9},  // eve
	}
}

func TestPlanStrategies(t *testing.T) {
	tests := []struct {
		strategy switchboard.Strategy
		want     []Step
		why      string
	}{
		{switchboard.StrategyRingAll, []Step{{1, 2}, {3, 4, 5}},
			"tier 0 (ann, bob) rings together; tier 1 only if nobody in tier 0 answers"},
		{switchboard.StrategyLinear, []Step{{1}, {2}, {3}, {4}, {5}},
			"one at a time in joining order, lower penalty first"},
		{switchboard.StrategyLeastRecent, []Step{{2}, {1}, {4}, {3}, {5}},
			"tier 0: bob idle 10 min before ann 2 min; tier 1: dan never called, then cat 30 min, then eve 1 min"},
		{switchboard.StrategyFewestCalls, []Step{{2}, {1}, {4}, {3}, {5}},
			"tier 0: bob 3 calls before ann 7; tier 1: dan 0, cat 1, eve 9"},
		{switchboard.StrategyRRMemory, []Step{{1}, {2}, {3}, {4}, {5}},
			"no call taken yet: from the first position, tier by tier"},
	}
	for _, tt := range tests {
		t.Run(string(tt.strategy), func(t *testing.T) {
			r := NewRouter(rand.New(rand.NewPCG(1, 2)))
			got := r.Plan(switchboard.Queue{ID: 1, Strategy: tt.strategy}, staff(), t0)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Plan(%s) (-want +got):\n%s\nwhy: %s", tt.strategy, diff, tt.why)
			}
		})
	}
}

func TestRRMemoryResumesAfterLastAnswerer(t *testing.T) {
	r := NewRouter(rand.New(rand.NewPCG(1, 2)))
	q := switchboard.Queue{ID: 7, Strategy: switchboard.StrategyRRMemory}
	members := []Member{{UserID: 1, Position: 1}, {UserID: 2, Position: 2}, {UserID: 3, Position: 3}}
	var offered []int64
	for range 5 {
		plan := r.Plan(q, members, t0)
		first := plan[0][0]
		offered = append(offered, first)
		r.Answered(q.ID, int(first)) // user id equals position here
	}
	if fmt.Sprint(offered) != "[1 2 3 1 2]" {
		t.Errorf("rrmemory offered %v, want 1 2 3 1 2 (each call starts after the last answerer)", offered)
	}
	// Another queue keeps its own memory.
	if got := r.Plan(switchboard.Queue{ID: 8, Strategy: switchboard.StrategyRRMemory}, members, t0)[0][0]; got != 1 {
		t.Errorf("a fresh queue starts at %d, want 1", got)
	}
}

func TestRandomStrategiesAreFairAndSeeded(t *testing.T) {
	counts := map[switchboard.Strategy]map[int64]int{}
	for _, s := range []switchboard.Strategy{switchboard.StrategyRandom, switchboard.StrategyWRandom} {
		r := NewRouter(rand.New(rand.NewPCG(42, 42)))
		counts[s] = map[int64]int{}
		for range 30000 {
			counts[s][r.Plan(switchboard.Queue{Strategy: s}, staff(), t0)[0][0]]++
		}
	}
	// random: only tier 0 (ann, bob) is ever first, each about half the time.
	if c := counts[switchboard.StrategyRandom]; c[1]+c[2] != 30000 || c[1] < 14000 || c[2] < 14000 {
		t.Errorf("random first offers %v: want only ann and bob, about evenly", c)
	}
	// wrandom: no tiers; penalty 0 draws from 0..999, penalty 1 from 0..1999,
	// so penalty-1 members come first less often but do come first.
	c := counts[switchboard.StrategyWRandom]
	if c[3] == 0 || c[3] >= c[1] {
		t.Errorf("wrandom first offers %v: want penalty-1 members first sometimes, less often than penalty 0", c)
	}
	a := NewRouter(rand.New(rand.NewPCG(9, 9))).Plan(switchboard.Queue{Strategy: switchboard.StrategyRandom}, staff(), t0)
	b := NewRouter(rand.New(rand.NewPCG(9, 9))).Plan(switchboard.Queue{Strategy: switchboard.StrategyRandom}, staff(), t0)
	if !cmp.Equal(a, b) {
		t.Errorf("same seed, different plans: %v %v", a, b)
	}
}

func TestRequiredSkills(t *testing.T) {
	const italian, billing = 10, 20
	members := []Member{
		{UserID: 1, Position: 1, Skills: map[int64]int{italian: 5}},                         // lacks billing
		{UserID: 2, Position: 2, Skills: map[int64]int{italian: 2, billing: 2}},             // score 4
		{UserID: 3, Position: 3, Skills: map[int64]int{italian: 5, billing: 4}},             // score 9
		{UserID: 4, Position: 4, Skills: map[int64]int{italian: 1, billing: 5}},             // italian below 2
		{UserID: 5, Position: 5, Skills: map[int64]int{italian: 3, billing: 1}},             // score 4
		{UserID: 6, Position: 6, Penalty: 1, Skills: map[int64]int{italian: 5, billing: 5}}, // best, but penalty 1
	}
	q := switchboard.Queue{Strategy: switchboard.StrategyLinear, RequiredSkills: []switchboard.QueueSkill{
		{SkillID: italian, MinProficiency: 2}, {SkillID: billing, MinProficiency: 1}}}
	got := NewRouter(rand.New(rand.NewPCG(1, 1))).Plan(q, members, t0)
	want := []Step{{3}, {2}, {5}, {6}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("skills plan (-want +got):\n%s\nwhy: 1 and 4 lack a skill; 3 has the best match; 2 and 5 tie and go by position; 6 is in penalty tier 1", diff)
	}
	q.Strategy = switchboard.StrategyRingAll
	if got := NewRouter(nil).Plan(q, members, t0); !cmp.Equal(got, []Step{{3}, {2, 5}, {6}}) {
		t.Errorf("ringall with skills = %v, want [[3] [2 5] [6]]: skill tiers ring together", got)
	}
	if got := NewRouter(nil).Plan(q, members[:1], t0); len(got) != 0 {
		t.Errorf("no qualified member: plan %v, want none", got)
	}
}
