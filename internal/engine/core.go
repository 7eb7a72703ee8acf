package engine

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"switchboard"
)

// Observer is told about every change of a call, in order, while the engine
// holds its lock. The server persists calls and their events through it; the
// simulator counts. On "created" the observer may set c.ID (a database id);
// otherwise the engine numbers calls itself.
type Observer interface {
	CallChanged(c *switchboard.Call, what string)
}

// AgentObserver, when the Observer also implements it, is told when an agent
// starts a call, starts wrapping up, and is free again, so that the system
// statuses In-Call and Wrap-Up can be shown.
type AgentObserver interface {
	AgentChanged(userID int64, state AgentState)
}

// AgentState is what an agent is doing, as observers see it.
type AgentState string

// The agent states reported to an AgentObserver.
const (
	AgentInCall AgentState = "in_call"
	AgentWrapUp AgentState = "wrap_up"
	AgentFree   AgentState = "free"
)

// Options wire an Engine.
type Options struct {
	Clock     Clock
	Telephony Telephony
	Router    *Router
	Observer  Observer
	Log       *slog.Logger
}

// Engine runs the calls of one tenant's contact center: it takes inbound calls
// into queues, offers them to agents as each queue's strategy says, bridges,
// and lets agents wrap up. All its state is in memory and guarded by one lock;
// every change is reported to the Observer.
type Engine struct {
	mu     sync.Mutex
	opt    Options
	nextID int64
	calls  map[int64]*call
	legs   map[LegID]legRef
	queues map[int64]*queueRT
	routes map[string]int64 // dialled number or extension → queue id
	agents map[int64]*agentRT
}

type legRole int

const (
	callerLeg legRole = iota
	agentLeg
)

type legRef struct {
	call  int64
	role  legRole
	agent int64
}

// agentState is what an agent is doing, as far as routing cares.
type agentState int

const (
	agentIdle agentState = iota
	agentRinging
	agentBusy
	agentWrapUp
)

type agentRT struct {
	id        int64
	device    string
	status    string
	available bool // the status receives calls
	state     agentState
	wrap      Timer
	lastEnd   map[int64]time.Time // per queue
	answered  map[int64]int       // per queue
}

type queueRT struct {
	aht     time.Duration // moving average of talk time; 0 until a call ends
	cfg     switchboard.Queue
	members []switchboard.QueueMember
	waiting []*call  // first come, first served
	routes  []string // route keys that lead here
}

type call struct {
	switchboard.Call
	caller  LegID
	ringing map[LegID]int64 // agent legs ringing, to agent id
	agent   LegID           // the leg that answered
	tried   map[int64]bool  // agents offered this call in the current round
	timer   Timer           // ring timeout or retry pause
	// customerTimeout bounds the customer's ringing in a click-to-call.
	customerTimeout time.Duration
}

// New returns an engine. Router defaults to one seeded from the clock.
func New(opt Options) *Engine {
	if opt.Router == nil {
		seed := uint64(opt.Clock.Now().UnixNano())
		opt.Router = NewRouter(rand.New(rand.NewPCG(seed, seed>>1)))
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	return &Engine{opt: opt, calls: map[int64]*call{}, legs: map[LegID]legRef{},
		queues: map[int64]*queueRT{}, routes: map[string]int64{}, agents: map[int64]*agentRT{}}
}

// SetQueue installs or replaces a queue and its members, and routes its
// extension and the route keys given to it (its numbers), replacing the routes
// it had.
func (e *Engine) SetQueue(q switchboard.Queue, members []switchboard.QueueMember, numbers ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rt, ok := e.queues[q.ID]
	if !ok {
		rt = &queueRT{}
		e.queues[q.ID] = rt
	}
	rt.cfg, rt.members = q, members
	for _, r := range rt.routes {
		if e.routes[r] == q.ID {
			delete(e.routes, r)
		}
	}
	rt.routes = rt.routes[:0]
	if q.Extension != "" {
		numbers = append(numbers, q.Extension)
	}
	for _, n := range numbers {
		e.routes[n] = q.ID
		rt.routes = append(rt.routes, n)
	}
	e.dispatch(rt)
}

// SetAgent registers an agent's device. New agents start Offline.
func (e *Engine) SetAgent(userID int64, device string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.agent(userID)
	a.device = device
}

func (e *Engine) agent(id int64) *agentRT {
	a, ok := e.agents[id]
	if !ok {
		a = &agentRT{id: id, status: switchboard.StatusOffline, lastEnd: map[int64]time.Time{}, answered: map[int64]int{}}
		e.agents[id] = a
	}
	return a
}

// SetStatus puts an agent in a presence status; available says whether that
// status takes calls. An agent who becomes available is offered waiting calls
// at once; when the last member of a leave-when-empty queue signs out, its
// waiting callers are let go.
func (e *Engine) SetStatus(userID int64, status string, available bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.agent(userID)
	a.status, a.available = status, available
	if available {
		e.dispatchAgent(a)
	}
	if status != switchboard.StatusOffline {
		return
	}
	for _, q := range e.queues {
		if !q.cfg.LeaveWhenEmpty || len(q.waiting) == 0 || e.anyoneSignedIn(q) {
			continue
		}
		for _, c := range append([]*call(nil), q.waiting...) {
			q.waiting = remove(q.waiting, c)
			e.dispatchAgents(e.stopRinging(c, "queue empty"))
			e.opt.Telephony.Hangup(c.caller, "queue empty")
			e.fail(c, switchboard.DispositionFailed, "no agent left in the queue")
		}
	}
}

// Hangup ends a call from the system side, whatever state it is in.
func (e *Engine) Hangup(callID int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.calls[callID]
	if !ok {
		return false
	}
	switch {
	case c.ConnectedAt != nil:
		e.opt.Telephony.Hangup(c.caller, "hung up by the system")
		e.opt.Telephony.Hangup(c.agent, "hung up by the system")
		e.end(c, switchboard.SideSystem, "hung up through the API")
	case c.Direction == switchboard.Outbound:
		for leg := range c.ringing {
			e.opt.Telephony.Hangup(leg, "cancelled")
			delete(e.legs, leg)
		}
		e.endOutbound(c, switchboard.DispositionFailed, switchboard.SideSystem, "hung up through the API")
	default:
		if c.QueueID != nil {
			q := e.queues[*c.QueueID]
			q.waiting = remove(q.waiting, c)
		}
		freed := e.stopRinging(c, "cancelled")
		e.opt.Telephony.Hangup(c.caller, "hung up by the system")
		e.failBy(c, switchboard.DispositionFailed, switchboard.SideSystem, "hung up through the API")
		e.dispatchAgents(freed)
	}
	return true
}

// InboundCall is a new inbound leg reported by a driver.
type InboundCall struct {
	Leg  LegID
	From string
	To   string // what the caller dialled
	// Route is the routing key of To when it is not To itself: extensions,
	// which repeat across tenants, are qualified by tenant.
	Route string
	// Pickup is how long the call rings before Switchboard answers it.
	Pickup time.Duration
}

// Inbound takes a new inbound call. It returns the call's id, or an error when
// nothing answers to the number (the leg is then hung up).
func (e *Engine) Inbound(in InboundCall) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	route := in.Route
	if route == "" {
		route = in.To
	}
	now := e.opt.Clock.Now()
	c := &call{Call: switchboard.Call{Direction: switchboard.Inbound, Status: switchboard.CallSelecting,
		From: in.From, To: in.To, CreatedAt: now}, caller: in.Leg, ringing: map[LegID]int64{}, tried: map[int64]bool{}}
	qid, routed := e.routes[route]
	var q *queueRT
	if routed {
		q = e.queues[qid]
		c.TenantID, c.QueueID = q.cfg.TenantID, &q.cfg.ID
	}
	e.changed(c, "created")
	if c.ID == 0 {
		e.nextID++
		c.ID = e.nextID
	}
	if !routed {
		// Never registered: with a persisting observer its number may not be
		// unique among the calls in progress.
		e.opt.Telephony.Hangup(in.Leg, "no route")
		c.EndedAt, c.Status, c.Disposition, c.HangupBy, c.HangupCause = &now, switchboard.CallFailed,
			switchboard.DispositionRejected, switchboard.SideSystem, "no route for "+in.To
		e.changed(c, "ended")
		return c.ID, fmt.Errorf("no queue answers %s", in.To)
	}
	e.calls[c.ID] = c
	e.legs[in.Leg] = legRef{call: c.ID, role: callerLeg}
	if in.Pickup > 0 {
		id := c.ID
		c.timer = e.opt.Clock.AfterFunc(in.Pickup, func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			if c, ok := e.calls[id]; ok && c.EndedAt == nil {
				c.timer = nil
				e.enqueue(c, q)
			}
		})
		return c.ID, nil
	}
	e.enqueue(c, q)
	return c.ID, nil
}

// enqueue answers a routed call and puts it in its queue, unless the queue
// refuses it.
func (e *Engine) enqueue(c *call, q *queueRT) {
	now := e.opt.Clock.Now()
	if q.cfg.MaxLength > 0 && len(q.waiting) >= q.cfg.MaxLength {
		e.fail(c, switchboard.DispositionRejected, "queue full")
		return
	}
	if !q.cfg.JoinEmpty && !e.anyoneSignedIn(q) {
		e.fail(c, switchboard.DispositionRejected, "no agent signed in")
		return
	}
	e.opt.Telephony.Answer(c.caller)
	e.opt.Telephony.Play(c.caller, "moh:"+q.cfg.MusicOnHold)
	c.Status, c.QueuedAt = switchboard.CallQueued, &now
	q.waiting = append(q.waiting, c)
	e.changed(c, "queued")
	e.dispatch(q)
}

func (e *Engine) anyoneSignedIn(q *queueRT) bool {
	for _, m := range q.members {
		if a, ok := e.agents[m.UserID]; ok && a.status != switchboard.StatusOffline {
			return true
		}
	}
	return false
}

// dispatchAgent offers waiting calls of every queue the agent is in.
func (e *Engine) dispatchAgent(a *agentRT) {
	for _, q := range e.queues {
		for _, m := range q.members {
			if m.UserID == a.id {
				e.dispatch(q)
				break
			}
		}
	}
}

// dispatch offers q's waiting calls, first come first served, to its free
// members, one ring step per call.
func (e *Engine) dispatch(q *queueRT) {
	now := e.opt.Clock.Now()
	for _, c := range q.waiting {
		if len(c.ringing) > 0 || c.timer != nil {
			continue // being offered, or pausing between rounds
		}
		var free []Member
		for _, m := range q.members {
			a, ok := e.agents[m.UserID]
			if !ok || !a.available || a.device == "" || c.tried[a.id] {
				continue
			}
			if a.state != agentIdle && !(q.cfg.RingInUse && a.state == agentBusy) {
				continue
			}
			free = append(free, Member{UserID: a.id, Penalty: m.Penalty, Position: m.Position,
				LastCallEnd: a.lastEnd[q.cfg.ID], CallsAnswered: a.answered[q.cfg.ID]})
		}
		if len(free) == 0 {
			if len(c.tried) > 0 {
				e.pause(q, c) // everyone had a chance: wait, then start a new round
			}
			// Later calls can use no one the head of the line cannot.
			if len(c.tried) == 0 {
				return
			}
			continue
		}
		plan := e.opt.Router.Plan(q.cfg, free, now)
		if len(plan) == 0 {
			return
		}
		e.ring(q, c, plan[0])
	}
}

// ring offers c to the agents of one step.
func (e *Engine) ring(q *queueRT, c *call, step Step) {
	now := e.opt.Clock.Now()
	for _, id := range step {
		a := e.agents[id]
		c.tried[id] = true
		leg := LegID(fmt.Sprintf("c%d-a%d-%d", c.ID, id, len(c.tried)))
		e.legs[leg] = legRef{call: c.ID, role: agentLeg, agent: id}
		c.ringing[leg] = id
		if a.state == agentIdle {
			a.state = agentRinging
		}
		timeout := time.Duration(q.cfg.TimeoutSeconds) * time.Second
		if err := e.opt.Telephony.Originate(Originate{Leg: leg, To: Endpoint{Device: a.device}, CallerID: c.From, Timeout: timeout}); err != nil {
			e.opt.Log.Warn("ring agent", "call", c.ID, "agent", id, "err", err)
			delete(c.ringing, leg)
			delete(e.legs, leg)
			if a.state == agentRinging {
				a.state = agentIdle
			}
		}
	}
	if len(c.ringing) == 0 {
		return
	}
	if c.Status != switchboard.CallAssigned {
		c.Status = switchboard.CallAssigned
		if c.RingingAt == nil {
			c.RingingAt = &now
		}
		e.changed(c, "ringing")
	}
	id := c.ID
	c.timer = e.opt.Clock.AfterFunc(time.Duration(q.cfg.TimeoutSeconds)*time.Second, func() { e.ringTimeout(id) })
}

// ringTimeout gives up on the agents ringing for a call and offers it on.
func (e *Engine) ringTimeout(id int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.calls[id]
	if !ok || c.agent != "" {
		return
	}
	c.timer = nil
	freed := e.stopRinging(c, "ring timeout")
	c.Status = switchboard.CallQueued
	e.changed(c, "ring_timeout")
	e.redispatch(c)
	e.dispatchAgents(freed)
}

// stopRinging hangs up every agent leg still ringing for c and returns the
// agents it freed. It does not offer them other calls: the caller does, once
// c's own state is settled, so that no offer sees c half-changed.
func (e *Engine) stopRinging(c *call, cause string) []*agentRT {
	var freed []*agentRT
	for leg, id := range c.ringing {
		e.opt.Telephony.Hangup(leg, cause)
		delete(c.ringing, leg)
		delete(e.legs, leg)
		if a := e.agents[id]; a != nil && a.state == agentRinging {
			a.state = agentIdle
			freed = append(freed, a)
		}
	}
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	return freed
}

func (e *Engine) dispatchAgents(agents []*agentRT) {
	for _, a := range agents {
		e.dispatchAgent(a)
	}
}

// pause waits the queue's retry time before a call's next round of offers.
func (e *Engine) pause(q *queueRT, c *call) {
	id := c.ID
	c.tried = map[int64]bool{}
	c.timer = e.opt.Clock.AfterFunc(time.Duration(q.cfg.RetrySeconds)*time.Second, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if c, ok := e.calls[id]; ok {
			c.timer = nil
			e.redispatch(c)
		}
	})
}

func (e *Engine) redispatch(c *call) {
	if c.QueueID != nil {
		if q, ok := e.queues[*c.QueueID]; ok {
			e.dispatch(q)
		}
	}
}

// release frees an agent who was rung but did not take the call.
func (e *Engine) release(a *agentRT) {
	if a != nil && a.state == agentRinging {
		a.state = agentIdle
		e.dispatchAgent(a)
	}
}

// LegEvent takes a report from the driver.
func (e *Engine) LegEvent(ev LegEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ref, ok := e.legs[ev.Leg]
	if !ok {
		return
	}
	c, ok := e.calls[ref.call]
	if !ok {
		return
	}
	switch {
	case c.Direction == switchboard.Outbound:
		e.outboundLegEvent(c, ref, ev)
	case ref.role == callerLeg:
		if ev.Type == LegHungUp || ev.Type == LegFailed {
			e.callerGone(c, ev.Cause)
		}
	case ref.role == agentLeg:
		e.agentLegEvent(c, ref.agent, ev)
	}
}

func (e *Engine) agentLegEvent(c *call, agentID int64, ev LegEvent) {
	a := e.agents[agentID]
	now := e.opt.Clock.Now()
	switch ev.Type {
	case LegAnswered:
		if c.agent != "" || c.EndedAt != nil {
			// Someone else answered first (or the caller left): exactly one
			// agent gets a call, whatever the timing of the answers.
			e.opt.Telephony.Hangup(ev.Leg, "answered elsewhere")
			delete(c.ringing, ev.Leg)
			delete(e.legs, ev.Leg)
			if a.state == agentRinging {
				a.state = agentIdle
				e.dispatchAgent(a)
			}
			return
		}
		c.agent = ev.Leg
		delete(c.ringing, ev.Leg)
		q := e.queues[*c.QueueID]
		q.waiting = remove(q.waiting, c)
		freed := e.stopRinging(c, "answered elsewhere")
		a.state = agentBusy
		e.agentChanged(a.id, AgentInCall)
		a.answered[q.cfg.ID]++
		e.opt.Router.Answered(q.cfg.ID, memberPosition(q, agentID))
		c.AgentID, c.ConnectedAt, c.Status = &a.id, &now, switchboard.CallConnected
		e.opt.Telephony.Bridge(c.caller, ev.Leg)
		e.changed(c, "connected")
		e.dispatchAgents(freed)
	case LegBusy, LegNoAnswer, LegFailed:
		if _, ringing := c.ringing[ev.Leg]; ringing {
			delete(c.ringing, ev.Leg)
			delete(e.legs, ev.Leg)
			e.release(a)
			if len(c.ringing) == 0 && c.agent == "" {
				e.stopRinging(c, "") // only stops the ring timer
				c.Status = switchboard.CallQueued
				e.changed(c, "not_answered")
				e.redispatch(c)
			}
		}
	case LegHungUp:
		if ev.Leg == c.agent {
			e.end(c, switchboard.SideAgent, ev.Cause)
			e.opt.Telephony.Hangup(c.caller, "agent hung up")
		} else if _, ringing := c.ringing[ev.Leg]; ringing {
			e.agentLegEvent(c, agentID, LegEvent{Leg: ev.Leg, Type: LegFailed, Cause: ev.Cause})
		}
	}
}

// callerGone ends a call whose caller hung up.
func (e *Engine) callerGone(c *call, cause string) {
	if c.EndedAt != nil {
		return
	}
	if c.agent == "" {
		if c.QueueID != nil {
			q := e.queues[*c.QueueID]
			q.waiting = remove(q.waiting, c)
		}
		freed := e.stopRinging(c, "caller hung up")
		e.fail(c, switchboard.DispositionAbandoned, cause)
		e.dispatchAgents(freed)
		return
	}
	e.opt.Telephony.Hangup(c.agent, "caller hung up")
	e.end(c, switchboard.SideCaller, cause)
}

// end finishes a connected call and starts the agent's wrap-up.
func (e *Engine) end(c *call, by switchboard.Side, cause string) {
	now := e.opt.Clock.Now()
	c.EndedAt, c.Status, c.Disposition, c.HangupBy, c.HangupCause = &now, switchboard.CallFinished, switchboard.DispositionAnswered, by, cause
	delete(e.legs, c.caller)
	delete(e.legs, c.agent)
	delete(e.calls, c.ID)
	e.changed(c, "ended")
	a := e.agents[*c.AgentID]
	if c.QueueID == nil { // a click-to-call: no queue, no wrap-up
		a.state = agentIdle
		e.agentChanged(a.id, AgentFree)
		e.dispatchAgent(a)
		return
	}
	q := e.queues[*c.QueueID]
	a.lastEnd[q.cfg.ID] = now
	if q.aht == 0 {
		q.aht = c.Talk()
	} else {
		q.aht = (3*q.aht + c.Talk()) / 4
	}
	wrap := time.Duration(q.cfg.WrapUpSeconds) * time.Second
	if wrap <= 0 {
		a.state = agentIdle
		e.agentChanged(a.id, AgentFree)
		e.dispatchAgent(a)
		return
	}
	a.state = agentWrapUp
	e.agentChanged(a.id, AgentWrapUp)
	a.wrap = e.opt.Clock.AfterFunc(wrap, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if a.state == agentWrapUp {
			a.state = agentIdle
			e.agentChanged(a.id, AgentFree)
			e.dispatchAgent(a)
		}
	})
}

// fail ends a call that never connected.
func (e *Engine) fail(c *call, d switchboard.Disposition, cause string) {
	by := switchboard.SideSystem
	if d == switchboard.DispositionAbandoned {
		by = switchboard.SideCaller
	}
	e.failBy(c, d, by, cause)
}

func (e *Engine) failBy(c *call, d switchboard.Disposition, by switchboard.Side, cause string) {
	now := e.opt.Clock.Now()
	c.EndedAt, c.Status, c.Disposition, c.HangupCause, c.HangupBy = &now, switchboard.CallFailed, d, cause, by
	if d == switchboard.DispositionRejected {
		e.opt.Telephony.Hangup(c.caller, cause)
	}
	delete(e.legs, c.caller)
	delete(e.calls, c.ID)
	e.changed(c, "ended")
}

func (e *Engine) agentChanged(id int64, st AgentState) {
	if ao, ok := e.opt.Observer.(AgentObserver); ok {
		ao.AgentChanged(id, st)
	}
}

func (e *Engine) changed(c *call, what string) {
	if e.opt.Observer != nil {
		e.opt.Observer.CallChanged(&c.Call, what)
	}
}

func memberPosition(q *queueRT, userID int64) int {
	for _, m := range q.members {
		if m.UserID == userID {
			return m.Position
		}
	}
	return 0
}

func remove(list []*call, c *call) []*call {
	for i, x := range list {
		if x == c {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// QueueLive reports q's state now; ok is false for a queue the engine does not
// run.
func (e *Engine) QueueLive(queueID int64) (switchboard.QueueLive, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	q, ok := e.queues[queueID]
	if !ok {
		return switchboard.QueueLive{}, false
	}
	now := e.opt.Clock.Now()
	var l switchboard.QueueLive
	for _, m := range q.members {
		a, ok := e.agents[m.UserID]
		if !ok || a.status == switchboard.StatusOffline {
			continue
		}
		l.AgentsOnline++
		switch a.state {
		case agentIdle:
			if a.available && a.device != "" {
				l.AgentsAvailable++
			}
		case agentRinging, agentBusy:
			l.AgentsOnCall++
		case agentWrapUp:
			l.AgentsWrapUp++
		}
	}
	l.CallsWaiting = len(q.waiting)
	for _, c := range q.waiting {
		if c.QueuedAt != nil {
			l.LongestWait = max(l.LongestWait, now.Sub(*c.QueuedAt).Seconds())
		}
	}
	for _, c := range e.calls {
		if c.agent != "" && c.QueueID != nil && *c.QueueID == queueID {
			l.CallsActive++
		}
	}
	aht := q.aht
	if aht == 0 {
		aht = defaultHandle
	}
	l.AverageHandle = aht.Seconds()
	switch {
	case l.AgentsAvailable > 0:
		l.EstimatedWait = 0
	case l.AgentsOnline == 0:
		l.EstimatedWait = -1
	default:
		l.EstimatedWait = PositionWait(l.CallsWaiting+1, l.AgentsOnline, aht).Seconds()
	}
	return l, true
}

// defaultHandle stands in for a queue's handle time until a call has ended.
const defaultHandle = 3 * time.Minute
