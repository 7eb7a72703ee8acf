package engine

import (
	"cmp"
	"math"
	"slices"

	"github.com/google/btree"

	"switchboard"
)

// A queue keeps the members who could take a call now in a pool ordered the
// way its strategy offers calls, so that choosing whom to ring costs
// O(log N) in the queue's members instead of ranking all of them on every
// offer. The pool is updated whenever something that decides a member's place
// changes: the agent's state, status, device or skills (Engine.reindex), or the
// queue's configuration (Engine.SetQueue). Router.Plan ranks from scratch and
// is the reference the pool is tested against.

// poolKey orders a queue's free members: lower penalty, then the better skill
// match, then the strategy's metric, then position and user id, exactly as
// Router.Plan orders them.
type poolKey struct {
	penalty  int // 0 for every member under wrandom, which has no penalty tiers
	score    int // the negated skill score: better matches first
	metric   int64
	position int
	user     int64
}

func (k poolKey) tier() [2]int { return [2]int{k.penalty, k.score} }

func lessKey(a, b poolKey) bool {
	return cmp.Or(cmp.Compare(a.penalty, b.penalty), cmp.Compare(a.score, b.score), cmp.Compare(a.metric, b.metric),
		cmp.Compare(a.position, b.position), cmp.Compare(a.user, b.user)) < 0
}

// group is the members of a pool who share a tier and metric: the set the
// random strategies draw from, with O(1) insertion, removal and draws.
type group struct {
	users []int64
	at    map[int64]int // user → index in users
}

func (g *group) add(u int64) {
	g.at[u] = len(g.users)
	g.users = append(g.users, u)
}

func (g *group) remove(u int64) {
	i := g.at[u]
	last := g.users[len(g.users)-1]
	g.users[i], g.at[last] = last, i
	g.users = g.users[:len(g.users)-1]
	delete(g.at, u)
}

// groupKey names a group: a tier and, under wrandom, a penalty.
type groupKey struct {
	penalty, score int
	metric         int64
}

func groupOf(k poolKey) groupKey { return groupKey{k.penalty, k.score, k.metric} }

// memberPool is one queue's free members in its strategy's order.
type memberPool struct {
	strategy switchboard.Strategy
	tree     *btree.BTreeG[poolKey]
	keys     map[int64]poolKey // user → their key in tree
	groups   map[groupKey]*group
}

func newMemberPool(s switchboard.Strategy) *memberPool {
	return &memberPool{strategy: s, tree: btree.NewG(16, lessKey), keys: map[int64]poolKey{}, groups: map[groupKey]*group{}}
}

// random reports whether the pool's strategy draws members at random, and so
// keeps groups to draw from.
func (p *memberPool) random() bool {
	return p.strategy == switchboard.StrategyRandom || p.strategy == switchboard.StrategyWRandom
}

// key places member m, with skill score score, under the pool's strategy.
func (p *memberPool) key(m Member, score int) poolKey {
	k := poolKey{penalty: m.Penalty, score: -score, position: m.Position, user: m.UserID}
	switch p.strategy {
	case switchboard.StrategyLeastRecent:
		// Longest idle first; never is longest of all. Ordering by the end
		// time is ordering by idle time at any instant.
		k.metric = math.MinInt64
		if !m.LastCallEnd.IsZero() {
			k.metric = m.LastCallEnd.UnixNano()
		}
	case switchboard.StrategyFewestCalls:
		k.metric = int64(m.CallsAnswered)
	case switchboard.StrategyWRandom:
		k.penalty, k.metric = 0, int64(m.Penalty)
	}
	return k
}

// set puts user in the pool under key k, or takes them out when free is false.
func (p *memberPool) set(user int64, k poolKey, free bool) {
	old, in := p.keys[user]
	if in && free && old == k {
		return
	}
	if in {
		p.tree.Delete(old)
		delete(p.keys, user)
		if p.random() {
			g := p.groups[groupOf(old)]
			g.remove(user)
			if len(g.users) == 0 {
				delete(p.groups, groupOf(old))
			}
		}
	}
	if !free {
		return
	}
	p.tree.ReplaceOrInsert(k)
	p.keys[user] = k
	if p.random() {
		g := p.groups[groupOf(k)]
		if g == nil {
			g = &group{at: map[int64]int{}}
			p.groups[groupOf(k)] = g
		}
		g.add(user)
	}
}

// first returns the first member in the pool's order at or after from who is
// not in tried and satisfies in, or false.
func (p *memberPool) first(from poolKey, tried map[int64]bool, in func(poolKey) bool) (poolKey, bool) {
	var found poolKey
	ok := false
	p.tree.AscendGreaterOrEqual(from, func(k poolKey) bool {
		if !in(k) {
			return false
		}
		if tried[k.user] {
			return true
		}
		found, ok = k, true
		return false
	})
	return found, ok
}

// next returns whom q's next offer of a call rings: the first step of
// Router.Plan over the pool's members not in tried, or nil when there is no
// one. Random draws come from r, and rrmemory resumes where r says.
func (p *memberPool) next(q switchboard.Queue, tried map[int64]bool, r *Router) Step {
	any := func(poolKey) bool { return true }
	head, ok := p.first(poolKey{penalty: math.MinInt, score: math.MinInt, metric: math.MinInt64, position: math.MinInt, user: math.MinInt64}, tried, any)
	if !ok {
		return nil
	}
	t := head.tier()
	sameTier := func(k poolKey) bool { return k.tier() == t }
	tierStart := poolKey{penalty: t[0], score: t[1], metric: math.MinInt64, position: math.MinInt, user: math.MinInt64}
	switch p.strategy {
	case switchboard.StrategyRingAll:
		var step Step
		p.tree.AscendGreaterOrEqual(head, func(k poolKey) bool {
			if !sameTier(k) {
				return false
			}
			if !tried[k.user] {
				step = append(step, k.user)
			}
			return true
		})
		return step
	case switchboard.StrategyRRMemory:
		// Positions after the last answerer's come first, then wrap around.
		if last, has := r.last(q.ID); has {
			from := tierStart
			from.metric, from.position = 0, last+1
			if k, ok := p.first(from, tried, sameTier); ok {
				return Step{k.user}
			}
		}
		return Step{head.user}
	case switchboard.StrategyRandom:
		return Step{p.draw(p.groups[groupOf(head)], tried, r)}
	case switchboard.StrategyWRandom:
		return Step{p.drawWeighted(head, tried, r)}
	default: // linear, leastrecent, fewestcalls
		return Step{head.user}
	}
}

// draw picks a member of g not in tried, uniformly at random.
func (p *memberPool) draw(g *group, tried map[int64]bool, r *Router) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Members already tried are few next to a large group: a few draws
	// almost always find an untried one, and a small group is listed.
	for range 8 {
		if u := g.users[r.rng.IntN(len(g.users))]; !tried[u] {
			return u
		}
	}
	var free []int64
	for _, u := range g.users {
		if !tried[u] {
			free = append(free, u)
		}
	}
	slices.Sort(free) // a listing in a fixed order keeps seeded runs repeatable
	return free[r.rng.IntN(len(free))]
}

// drawWeighted picks a member of head's tier under wrandom: every member draws
// from 0..1000·(penalty+1) and the lowest draw wins. The lowest draw of n
// members of one penalty is drawn at once from its distribution, so the cost
// is in the number of distinct penalties, not of members.
func (p *memberPool) drawWeighted(head poolKey, tried map[int64]bool, r *Router) int64 {
	var best *group
	bestDraw := math.Inf(1)
	k, ok := head, true
	for ok {
		g := p.groups[groupOf(k)]
		n := len(g.users)
		for u := range tried {
			if _, in := g.at[u]; in {
				n--
			}
		}
		if n > 0 {
			w := 1000 * float64(k.metric+1)
			r.mu.Lock()
			d := w * (1 - math.Pow(r.rng.Float64(), 1/float64(n)))
			r.mu.Unlock()
			if d < bestDraw {
				best, bestDraw = g, d
			}
		}
		from := k
		from.metric, from.position, from.user = k.metric+1, math.MinInt, math.MinInt64
		k, ok = p.first(from, tried, func(x poolKey) bool { return x.tier() == head.tier() })
	}
	return p.draw(best, tried, r)
}
