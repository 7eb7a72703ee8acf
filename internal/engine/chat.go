package engine

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"switchboard"
)

// Chat routing. A conversation waits in its queue's chat list, first come
// first served by Since then ID, apart from the queue's calls. It may be
// offered to a member of the queue who:
//
//   - is signed in and in a status that takes calls (a chat needs no phone,
//     so neither a device nor its registration matters);
//   - holds fewer conversations than their MaxChats, counting those offered,
//     accepted and wrapping up;
//   - while on a call (ringing, talking or wrapping one up), holds fewer
//     than Options.MaxChatsOnCall;
//   - has the queue's required skills;
//   - has not been offered this conversation in the current round.
//
// Among them the queue's tiers decide first (lower penalty, then the better
// skill match; wrandom has no penalty tiers), then the fewest conversations
// in hand, then the queue's strategy: leastrecent and ringall the member
// whose last conversation from this queue ended longest ago (a conversation
// goes to one agent, never to a whole tier), fewestcalls the member who
// accepted the fewest from this queue, rrmemory round robin by position
// after the member last offered one, linear by position, random a uniform
// draw, wrandom a draw from 0..1000·(penalty+1) where the lowest wins. Ties
// go to the lower position, then the lower user id. Ranking costs O(members
// of the queue) per offer; the random draws come from the engine's Router,
// so a seeded run repeats exactly.
//
// An offer is a reservation: the agent holds a slot until they accept it,
// and with Options.ChatOfferTimeout an offer not accepted in time is
// withdrawn (ChatRequeued) and offered on, to another eligible member first.
// When every eligible member has been tried a new round starts at once: a
// chat waits in the agent's desktop, nothing rings, so there is no reason
// to pause as calls do. A conversation requeued keeps its Since, and so its
// place in line.
//
// Calls and chats mix through Options.MaxChatsOnCall: a member holding more
// conversations than that is not free for calls (pool.go's place), and a
// member on a call is offered conversations only below it.

var errClosed = errors.New("the engine is closed")

// defaultChatHandle stands in for a queue's chat handle time until a
// conversation has ended: conversations last longer than calls, and an
// agent works several at once.
const defaultChatHandle = 10 * time.Minute

// defaultMaxChats is an agent's chat capacity until SetMaxChats says
// otherwise, the same default as switchboard.User's.
const defaultMaxChats = 3

// chatRT is a conversation the engine routes.
type chatRT struct {
	task ChatTask
	q    *queueRT // nil: held with no queue (claimed or restored so)
	// agent holds it (offered, accepted or wrapping up); nil while waiting.
	agent      *agentRT
	accepted   bool
	wrapping   bool
	acceptedAt time.Time
	// timer is the offer timeout or the wrap-up; seq tells a stale timer
	// from the current one.
	timer Timer
	seq   int
	// tried lists the agents offered it in the current round.
	tried map[int64]bool
}

// agentChats is an agent's side of chat routing.
type agentChats struct {
	max      int
	held     map[int64]*chatRT
	lastEnd  map[int64]time.Time // per queue: when their last conversation ended
	answered map[int64]int       // per queue: conversations accepted
}

// queueChats is a queue's side of chat routing.
type queueChats struct {
	waiting []*chatRT     // by Since, then ID
	aht     time.Duration // moving average of handle time; 0 until one ends
	// rr is the position of the member last offered a conversation, for
	// rrmemory; rrSet says there was one.
	rr    int
	rrSet bool
}

// SetChatObserver sets who is told every routing decision about
// conversations.
func (e *Engine) SetChatObserver(o ChatObserver) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.chatObs = o
}

// QueueChat puts a conversation in its queue and offers it at once if
// someone can take it. It fails for an unknown queue, a queue of another
// tenant, or a conversation the engine already routes.
func (e *Engine) QueueChat(t ChatTask) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	q, err := e.chatQueue(t.TenantID, t.QueueID)
	if err != nil {
		return err
	}
	if _, ok := e.chats[t.ID]; ok {
		return fmt.Errorf("conversation %d is already routed", t.ID)
	}
	c := &chatRT{task: t, q: q, tried: map[int64]bool{}}
	e.chats[t.ID] = c
	e.waitChat(c)
	e.dispatchChats(q)
	return nil
}

// AcceptChat records that the agent a conversation is offered to took it,
// which stops its offer timeout. Accepting one already accepted is fine; it
// fails when the conversation is not offered to or held by agentID.
func (e *Engine) AcceptChat(id, agentID int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.chats[id]
	if !ok || c.agent == nil || c.agent.id != agentID {
		return fmt.Errorf("conversation %d is not offered to agent %d", id, agentID)
	}
	e.acceptChat(c)
	return nil
}

// ReleaseChat takes a conversation that ended or left routing (finished,
// abandoned, dismissed, deflected) out of the engine. A waiting one leaves
// its queue. A held one frees its agent's slot, after the queue's wrap-up
// when wrapUp (the slot stays taken meanwhile), and the agent is offered
// waiting conversations. Unknown ids are ignored.
func (e *Engine) ReleaseChat(id int64, wrapUp bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.chats[id]
	if !ok || e.closed {
		return
	}
	if c.agent == nil {
		c.q.chat.waiting = slices.DeleteFunc(c.q.chat.waiting, func(x *chatRT) bool { return x == c })
		delete(e.chats, id)
		return
	}
	if c.wrapping {
		if !wrapUp {
			e.freeChat(c)
		}
		return
	}
	a := c.agent
	now := e.opt.Clock.Now()
	if c.q != nil {
		start := c.acceptedAt
		if start.IsZero() {
			start = now
		}
		h := now.Sub(start)
		if c.q.chat.aht == 0 {
			c.q.chat.aht = h
		} else {
			c.q.chat.aht = (3*c.q.chat.aht + h) / 4
		}
		a.chat.lastEnd[c.q.cfg.ID] = now
	}
	e.stopChatTimer(c)
	var wrap time.Duration
	if wrapUp && c.q != nil {
		wrap = time.Duration(c.q.cfg.WrapUpSeconds) * time.Second
	}
	if wrap <= 0 {
		e.freeChat(c)
		return
	}
	c.wrapping = true
	seq := c.seq
	c.timer = e.after(wrap, func() {
		if e.chats[id] == c && c.wrapping && c.seq == seq {
			e.freeChat(c)
		}
	})
}

// TransferChat moves a conversation to queueID: its holder's slot is freed
// at once (no wrap-up) and it waits there from since. It fails for an
// unknown queue or one of another tenant, and an unknown conversation.
func (e *Engine) TransferChat(id, queueID int64, since time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	c, ok := e.chats[id]
	if !ok {
		return fmt.Errorf("conversation %d is not routed", id)
	}
	q, err := e.chatQueue(c.task.TenantID, queueID)
	if err != nil {
		return err
	}
	a := c.agent
	if a != nil {
		e.unhold(c)
	} else {
		c.q.chat.waiting = slices.DeleteFunc(c.q.chat.waiting, func(x *chatRT) bool { return x == c })
	}
	c.q, c.task.QueueID, c.task.Since, c.tried = q, queueID, since, map[int64]bool{}
	e.waitChat(c)
	e.dispatchChats(q)
	if a != nil {
		e.dispatchAgent(a)
	}
	return nil
}

// RestoreChat puts back, at start, a conversation agentID held (and had
// accepted) before: it counts against their capacity even beyond it, which
// only means they are offered no more until they are below it. A task with
// QueueID 0, or of a queue the engine does not run, is held with no queue.
// Call it once the agents' statuses are set: one restored to an agent who
// is signed out waits in its queue again at once (ChatRequeued, "agent
// signed out"), as if they had signed out holding it. A conversation the
// engine already routes is left as it is.
func (e *Engine) RestoreChat(t ChatTask, agentID int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.chats[t.ID]; ok || e.closed {
		return
	}
	q, _ := e.chatQueue(t.TenantID, t.QueueID)
	c := &chatRT{task: t, q: q, tried: map[int64]bool{}}
	e.chats[t.ID] = c
	a := e.agent(agentID)
	e.holdChat(c, a)
	e.acceptChat(c)
	if a.status == switchboard.StatusOffline && q != nil {
		e.requeueChat(c, "agent signed out")
		e.dispatchChats(q)
	}
}

// ClaimChat lets an agent take a conversation themselves (they wrote to it
// while nobody held it). One waiting in a queue leaves it; one the engine
// does not know becomes held by the agent, in t's queue when the engine runs
// it, else with no queue (its release frees the slot without wrap-up). The
// claim is reported as an offer (ChatOffered), so that the observer records
// the assignment, and is accepted at once. It fails when the agent is not
// signed in or already holds their MaxChats, or when another agent holds or
// was offered the conversation. A claim ignores Options.MaxChatsOnCall and
// the agent's status: the agent chose to.
func (e *Engine) ClaimChat(t ChatTask, agentID int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	a, ok := e.agents[agentID]
	if !ok || a.status == switchboard.StatusOffline {
		return fmt.Errorf("agent %d is not signed in", agentID)
	}
	c, known := e.chats[t.ID]
	if known && c.agent != nil {
		if c.agent != a {
			return fmt.Errorf("conversation %d is held by another agent", t.ID)
		}
		e.acceptChat(c)
		return nil
	}
	if len(a.chat.held) >= a.chat.max {
		return fmt.Errorf("agent %d already holds %d conversations, their maximum", agentID, len(a.chat.held))
	}
	if known {
		c.q.chat.waiting = slices.DeleteFunc(c.q.chat.waiting, func(x *chatRT) bool { return x == c })
	} else {
		q, _ := e.chatQueue(t.TenantID, t.QueueID)
		c = &chatRT{task: t, q: q, tried: map[int64]bool{}}
		e.chats[t.ID] = c
	}
	e.holdChat(c, a)
	e.chatChanged(ChatChange{Task: c.task, What: ChatOffered, AgentID: a.id})
	e.acceptChat(c)
	return nil
}

// SetMaxChats sets how many conversations the agent may hold at once
// (switchboard.User.MaxChats; 3 until told).
func (e *Engine) SetMaxChats(userID int64, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.agent(userID)
	a.chat.max = max(n, 0)
	e.dispatchChatsOf(a)
}

// AgentChats lists the conversations the agent holds (offered, accepted or
// wrapping up), by id.
func (e *Engine) AgentChats(userID int64) []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.agents[userID]
	if !ok {
		return nil
	}
	ids := make([]int64, 0, len(a.chat.held))
	for id := range a.chat.held {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// chatQueue returns the queue a conversation of tenantID may wait in.
func (e *Engine) chatQueue(tenantID, queueID int64) (*queueRT, error) {
	q, ok := e.queues[queueID]
	if !ok || q.cfg.TenantID != tenantID {
		return nil, errors.New("the conversation's queue is not known to the engine")
	}
	return q, nil
}

// waitChat puts c in its queue's waiting list at its place by Since.
func (e *Engine) waitChat(c *chatRT) {
	w := c.q.chat.waiting
	i, _ := slices.BinarySearchFunc(w, c, chatOrder)
	c.q.chat.waiting = slices.Insert(w, i, c)
}

func chatOrder(a, b *chatRT) int {
	return cmp.Or(a.task.Since.Compare(b.task.Since), cmp.Compare(a.task.ID, b.task.ID))
}

// holdChat gives c to a, who now holds a slot for it.
func (e *Engine) holdChat(c *chatRT, a *agentRT) {
	c.agent, c.accepted, c.wrapping, c.acceptedAt = a, false, false, time.Time{}
	a.chat.held[c.task.ID] = c
	e.reindex(a)
}

// acceptChat marks c accepted by its holder and stops its offer timeout.
func (e *Engine) acceptChat(c *chatRT) {
	if c.accepted || c.wrapping {
		return
	}
	e.stopChatTimer(c)
	c.accepted, c.acceptedAt = true, e.opt.Clock.Now()
	if c.q != nil {
		c.agent.chat.answered[c.q.cfg.ID]++
	}
}

func (e *Engine) stopChatTimer(c *chatRT) {
	c.seq++
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

// unhold takes c from its holder, whose slot is free again; it does not
// offer them anything.
func (e *Engine) unhold(c *chatRT) {
	a := c.agent
	e.stopChatTimer(c)
	delete(a.chat.held, c.task.ID)
	c.agent, c.accepted, c.wrapping, c.acceptedAt = nil, false, false, time.Time{}
	e.reindex(a)
}

// freeChat ends c's routing and offers its holder what waits.
func (e *Engine) freeChat(c *chatRT) {
	a := c.agent
	e.unhold(c)
	delete(e.chats, c.task.ID)
	e.dispatchAgent(a)
}

// requeueChat puts a held conversation back in its queue, keeping its
// Since, and reports why. Nothing is offered: the caller does that.
func (e *Engine) requeueChat(c *chatRT, reason string) {
	a := c.agent
	e.unhold(c)
	e.waitChat(c)
	e.chatChanged(ChatChange{Task: c.task, What: ChatRequeued, AgentID: a.id, Reason: reason})
}

// requeueAgentChats requeues the conversations a (who signed out) holds and
// is not wrapping up; those held with no queue stay theirs.
func (e *Engine) requeueAgentChats(a *agentRT) {
	if e.closed {
		return
	}
	var cs []*chatRT
	for _, c := range a.chat.held {
		if !c.wrapping && c.q != nil {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, chatOrder)
	for _, c := range cs {
		e.requeueChat(c, "agent signed out")
	}
	for _, c := range cs {
		e.dispatchChats(c.q)
	}
}

func (e *Engine) chatChanged(ch ChatChange) {
	if e.chatObs != nil {
		e.chatObs.ChatChanged(ch)
	}
}

// chatSlots is how many more conversations a may be offered now, in any
// queue.
func (e *Engine) chatSlots(a *agentRT) int {
	if a.status == switchboard.StatusOffline || !a.available {
		return 0
	}
	n := a.chat.max - len(a.chat.held)
	if a.state != agentIdle {
		n = min(n, e.opt.MaxChatsOnCall-len(a.chat.held))
	}
	return max(n, 0)
}

// chatEligible lists the members of q who may be offered one of its
// conversations now, tried or not, in member order.
func (e *Engine) chatEligible(q *queueRT) []*agentRT {
	var out []*agentRT
	for _, m := range q.members {
		a, ok := e.agents[m.UserID]
		if !ok || e.chatSlots(a) == 0 {
			continue
		}
		if _, ok := skillScore(q.cfg.RequiredSkills, a.skills); ok {
			out = append(out, a)
		}
	}
	return out
}

// chatKey orders candidates for one of q's conversations.
type chatKey struct {
	penalty, score, held int
	metric               int64
	position             int
	user                 int64
}

func (k chatKey) compare(o chatKey) int {
	return cmp.Or(cmp.Compare(k.penalty, o.penalty), cmp.Compare(k.score, o.score), cmp.Compare(k.held, o.held),
		cmp.Compare(k.metric, o.metric), cmp.Compare(k.position, o.position), cmp.Compare(k.user, o.user))
}

// chatPick returns the best of elig for c, leaving out those tried in this
// round, or nil.
func (e *Engine) chatPick(q *queueRT, c *chatRT, elig []*agentRT) *agentRT {
	var best *agentRT
	var bestKey chatKey
	for _, a := range elig {
		if c.tried[a.id] {
			continue
		}
		m := q.member[a.id]
		score, _ := skillScore(q.cfg.RequiredSkills, a.skills)
		k := chatKey{penalty: m.Penalty, score: -score, held: len(a.chat.held), position: m.Position, user: a.id}
		switch q.cfg.Strategy {
		case switchboard.StrategyLeastRecent, switchboard.StrategyRingAll:
			k.metric = math.MinInt64
			if t := a.chat.lastEnd[q.cfg.ID]; !t.IsZero() {
				k.metric = t.UnixNano()
			}
		case switchboard.StrategyFewestCalls:
			k.metric = int64(a.chat.answered[q.cfg.ID])
		case switchboard.StrategyRRMemory:
			k.metric = int64(m.Position)
			if q.chat.rrSet && m.Position <= q.chat.rr {
				k.metric += 1 << 40
			}
		case switchboard.StrategyRandom:
			k.metric = e.opt.Router.draw(1 << 30)
		case switchboard.StrategyWRandom:
			k.penalty, k.metric = 0, e.opt.Router.draw(1000*(m.Penalty+1))
		default: // linear
			k.metric = int64(m.Position)
		}
		if best == nil || k.compare(bestKey) < 0 {
			best, bestKey = a, k
		}
	}
	return best
}

// draw returns a random number in [0, n) from the router's source.
func (r *Router) draw(n int) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(r.rng.IntN(n))
}

// dispatchChats offers q's waiting conversations, in order, to the members
// who may take them, until either runs out.
func (e *Engine) dispatchChats(q *queueRT) {
	if q == nil || len(q.chat.waiting) == 0 || e.closed {
		return
	}
	elig := e.chatEligible(q)
	for i := 0; i < len(q.chat.waiting) && len(elig) > 0; {
		c := q.chat.waiting[i]
		a := e.chatPick(q, c, elig)
		if a == nil {
			// Every member who may take it now has had it this round: the
			// next round starts at once.
			clear(c.tried)
			a = e.chatPick(q, c, elig)
		}
		q.chat.waiting = slices.Delete(q.chat.waiting, i, i+1)
		e.offerChat(c, a)
		if e.chatSlots(a) == 0 {
			elig = slices.DeleteFunc(elig, func(x *agentRT) bool { return x == a })
		}
	}
}

// offerChat gives c, already out of its queue's list, to a.
func (e *Engine) offerChat(c *chatRT, a *agentRT) {
	q := c.q
	c.tried[a.id] = true
	e.holdChat(c, a)
	q.chat.rr, q.chat.rrSet = q.member[a.id].Position, true
	e.chatChanged(ChatChange{Task: c.task, What: ChatOffered, AgentID: a.id})
	if d := e.opt.ChatOfferTimeout; d > 0 {
		id, seq := c.task.ID, c.seq
		c.timer = e.after(d, func() {
			if e.chats[id] != c || c.agent != a || c.accepted || c.seq != seq {
				return
			}
			c.timer = nil
			e.requeueChat(c, "offer timeout")
			e.dispatchChats(q)
			e.dispatchAgent(a)
		})
	}
}

// dispatchChatsOf offers a the waiting conversations of their queues, in
// queue id order.
func (e *Engine) dispatchChatsOf(a *agentRT) {
	for _, q := range e.memberOf[a.id] {
		if e.chatSlots(a) == 0 {
			return
		}
		e.dispatchChats(q)
	}
}

// stopChats stops every chat timer (Close).
func (e *Engine) stopChats() {
	for _, c := range e.chats {
		if c.timer != nil {
			c.timer.Stop()
		}
	}
}
