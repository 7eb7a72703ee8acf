package engine

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"switchboard"
)

// Member is a queue member the engine may offer a call to. The engine passes
// only members who can take it now (signed in, in an available status, device
// registered, not wrapping up, and idle unless the queue rings agents in use).
type Member struct {
	UserID   int64
	Penalty  int
	Position int // the order members joined the queue in
	// Skills maps skill ids to proficiency 0-5.
	Skills map[int64]int
	// LastCallEnd is when the member's last call from this queue ended (zero:
	// none yet).
	LastCallEnd time.Time
	// CallsAnswered counts the member's calls from this queue (today).
	CallsAnswered int
}

// Step is the members rung together at one step of offering a call: every
// member of a tier under ringall, one member otherwise. If no one answers
// within the queue's timeout the next step is tried.
type Step []int64

// Router orders a queue's members for its next call. It remembers, per queue,
// where round robin stopped, and draws random orders from its own source so a
// seeded router repeats exactly. It is safe for concurrent use.
type Router struct {
	mu  sync.Mutex
	rng *rand.Rand
	rr  map[int64]int // queue id → position of the member who took the last call
}

// NewRouter returns a router drawing random orders from rng.
func NewRouter(rng *rand.Rand) *Router {
	return &Router{rng: rng, rr: map[int64]int{}}
}

// Answered tells the router that the member at position took q's call, which
// is where rrmemory resumes next time.
func (r *Router) Answered(queueID int64, position int) {
	r.mu.Lock()
	r.rr[queueID] = position
	r.mu.Unlock()
}

// last returns the position of the member who took q's last call.
func (r *Router) last(queueID int64) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pos, ok := r.rr[queueID]
	return pos, ok
}

// Plan returns the steps in which q offers its next call to members, at now.
//
// Members lacking one of q's required skills at its minimum proficiency are
// left out. The rest are tried in tiers, as Asterisk does: lower penalty first
// and, within a penalty, the best skill match first (the sum of the member's
// proficiencies in the required skills). Within a tier the strategy decides:
//
//   - ringall: the whole tier rings at once; the first to answer wins.
//   - leastrecent: the member whose last call from this queue ended longest
//     ago (never is longest of all).
//   - fewestcalls: the member who answered the fewest calls from this queue.
//   - random: a uniformly random order.
//   - rrmemory: round robin by position, starting after the member who took
//     the last call.
//   - linear: by position, always from the first.
//   - wrandom: random, weighted by penalty (a member with penalty k draws from
//     0..1000·(k+1)), with no penalty tiers.
//
// Ties go to the lower position, then the lower user id, so plans are stable.
//
// Plan ranks every member it is given, which costs O(N log N). The engine
// does not call it on each offer: each queue keeps its free members in a pool
// (pool.go) ordered the same way, and TestPoolOffersAsPlanDoes holds the two
// to the same answers.
func (r *Router) Plan(q switchboard.Queue, members []Member, now time.Time) []Step {
	type ranked struct {
		m      Member
		tier   [2]int // penalty, -skill score
		metric int64
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	last, hasLast := r.rr[q.ID]
	var rs []ranked
	for _, m := range members {
		score, ok := skillScore(q.RequiredSkills, m.Skills)
		if !ok {
			continue
		}
		x := ranked{m: m, tier: [2]int{m.Penalty, -score}}
		switch q.Strategy {
		case switchboard.StrategyLeastRecent:
			if m.LastCallEnd.IsZero() {
				x.metric = -1 << 62
			} else {
				x.metric = -int64(now.Sub(m.LastCallEnd))
			}
		case switchboard.StrategyFewestCalls:
			x.metric = int64(m.CallsAnswered)
		case switchboard.StrategyRandom:
			x.metric = int64(r.rng.IntN(1000))
		case switchboard.StrategyRRMemory:
			// Positions after the last answerer come first, then wrap around.
			x.metric = int64(m.Position)
			if hasLast && m.Position <= last {
				x.metric += 1 << 40
			}
		case switchboard.StrategyWRandom:
			x.tier[0] = 0
			x.metric = int64(r.rng.IntN(1000 * (m.Penalty + 1)))
		default: // linear and ringall
			x.metric = int64(m.Position)
		}
		rs = append(rs, x)
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(a.tier[0], b.tier[0]), cmp.Compare(a.tier[1], b.tier[1]),
			cmp.Compare(a.metric, b.metric), cmp.Compare(a.m.Position, b.m.Position), cmp.Compare(a.m.UserID, b.m.UserID))
	})
	var steps []Step
	for i, x := range rs {
		if q.Strategy == switchboard.StrategyRingAll && i > 0 && x.tier == rs[i-1].tier {
			steps[len(steps)-1] = append(steps[len(steps)-1], x.m.UserID)
			continue
		}
		steps = append(steps, Step{x.m.UserID})
	}
	return steps
}

// skillScore reports whether a member with skills meets every requirement,
// and the sum of the member's proficiencies in the required skills.
func skillScore(required []switchboard.QueueSkill, skills map[int64]int) (int, bool) {
	score := 0
	for _, req := range required {
		p, ok := skills[req.SkillID]
		if !ok || p < req.MinProficiency {
			return 0, false
		}
		score += p
	}
	return score, true
}
