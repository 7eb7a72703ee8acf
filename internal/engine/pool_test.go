package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
)

// TestPoolOffersAsPlanDoes drives a pool through thousands of random changes
// (members leaving and coming back with new call counts, idle times and
// skills, calls tried, rrmemory answers) and checks that after each one the
// pool rings exactly whom Router.Plan, which ranks every member from scratch,
// would ring first.
func TestPoolOffersAsPlanDoes(t *testing.T) {
	for _, s := range []switchboard.Strategy{switchboard.StrategyLeastRecent, switchboard.StrategyFewestCalls,
		switchboard.StrategyLinear, switchboard.StrategyRingAll, switchboard.StrategyRRMemory} {
		t.Run(string(s), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(len(s))))
			q := switchboard.Queue{ID: 3, Strategy: s, RequiredSkills: []switchboard.QueueSkill{{SkillID: 1, MinProficiency: 2}}}
			r := NewRouter(rand.New(rand.NewPCG(1, 1)))
			pool := newMemberPool(s)
			free := map[int64]Member{}
			for step := range 4000 {
				// Change one of 60 members: out of the pool, or in with new
				// figures (a proficiency under 2 leaves them unqualified).
				u := int64(rng.IntN(60) + 1)
				m := Member{UserID: u, Position: int(u), Penalty: rng.IntN(3), Skills: map[int64]int{1: rng.IntN(6)},
					CallsAnswered: rng.IntN(5)}
				if rng.IntN(4) > 0 {
					m.LastCallEnd = t0.Add(-time.Duration(rng.IntN(5)) * time.Minute)
				}
				score, qualified := skillScore(q.RequiredSkills, m.Skills)
				in := rng.IntN(3) > 0 && qualified
				pool.set(u, pool.key(m, score), in)
				delete(free, u)
				if in {
					free[u] = m
				}
				if rng.IntN(10) == 0 {
					r.Answered(q.ID, rng.IntN(60)+1)
				}
				tried := map[int64]bool{}
				for range rng.IntN(4) {
					tried[int64(rng.IntN(60)+1)] = true
				}
				var members []Member
				for _, m := range free {
					if !tried[m.UserID] {
						members = append(members, m)
					}
				}
				var want Step
				if plan := r.Plan(q, members, t0); len(plan) > 0 {
					want = plan[0]
				}
				got := pool.next(q, tried, r)
				if s == switchboard.StrategyRingAll {
					slices.Sort(got)
					slices.Sort(want)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("step %d: pool offers differently from Plan (-Plan +pool):\n%s", step, diff)
				}
			}
		})
	}
}

// TestPoolRandomStrategies checks the random strategies' draws from the pool:
// random is uniform over the best tier and never leaves it; wrandom draws over
// every penalty, each member as likely as the rule "lowest draw from
// 0..1000·(penalty+1) wins" makes them (computed exactly below); members tried
// are never drawn; and a seeded router repeats its draws.
func TestPoolRandomStrategies(t *testing.T) {
	const draws = 60000
	count := func(s switchboard.Strategy, seed uint64, tried map[int64]bool) map[int64]int {
		pool := newMemberPool(s)
		for _, m := range staff() {
			pool.set(m.UserID, pool.key(m, 0), true)
		}
		r := NewRouter(rand.New(rand.NewPCG(seed, seed)))
		c := map[int64]int{}
		for range draws {
			c[pool.next(switchboard.Queue{ID: 1, Strategy: s}, tried, r)[0]]++
		}
		return c
	}
	// random: tier 0 (ann, bob) only, evenly; with ann tried, always bob.
	c := count(switchboard.StrategyRandom, 1, nil)
	if c[1]+c[2] != draws || c[1] < draws*48/100 || c[2] < draws*48/100 {
		t.Errorf("random drew %v: want ann and bob only, evenly", c)
	}
	if c := count(switchboard.StrategyRandom, 1, map[int64]bool{1: true}); c[2] != draws {
		t.Errorf("random with ann tried drew %v: want bob every time", c)
	}
	// wrandom: staff has two members of penalty 0 (draws 0..1000) and three
	// of penalty 1 (0..2000). A penalty-0 member wins with probability
	// ∫0^1000 (1/1000)(1-x/1000)(1-x/2000)^3 dx, a penalty-1 member with the
	// rest over three.
	p0 := 0.0
	const n = 100000
	for i := range n {
		x := (float64(i) + 0.5) * 1000 / n
		p0 += (1.0 / n) * (1 - x/1000) * pow3(1-x/2000)
	}
	p1 := (1 - 2*p0) / 3
	c = count(switchboard.StrategyWRandom, 2, nil)
	for u, want := range map[int64]float64{1: p0, 2: p0, 3: p1, 4: p1, 5: p1} {
		if got := float64(c[u]) / draws; got < want-0.01 || got > want+0.01 {
			t.Errorf("wrandom drew member %d %.4f of the time, want %.4f (counts %v)", u, got, want, c)
		}
	}
	if c := count(switchboard.StrategyWRandom, 2, map[int64]bool{1: true, 2: true, 3: true, 4: true}); c[5] != draws {
		t.Errorf("wrandom with all but eve tried drew %v: want eve every time", c)
	}
	if a, b := count(switchboard.StrategyRandom, 9, nil), count(switchboard.StrategyRandom, 9, nil); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different draws: %v %v", a, b)
	}
}

func pow3(x float64) float64 { return x * x * x }
