package engine

import (
	"cmp"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"switchboard"
)

// Observer is told about every change of a call, in order, while the engine
// holds its lock. The call service hands the changes to its batching writer;
// the simulator counts. It must not block, and it must not keep c: the engine
// changes it on.
type Observer interface {
	CallChanged(c *switchboard.Call, what string)
}

// CallIDs hands out call ids. The engine numbers a call when it creates it,
// under its lock, so the source must answer from memory; an id it gives must
// never be given again, on this node or any other, which is why the server's
// source reserves blocks of ids from the store ahead of need. ok is false when
// no id is at hand (the store has been unreachable for long): the new call is
// then refused, and the calls in progress go on.
type CallIDs interface {
	NextCallID() (id int64, ok bool)
}

// counterIDs numbers calls 1, 2, 3… for an engine without a store (the
// capacity simulator and tests).
type counterIDs struct{ next int64 }

func (c *counterIDs) NextCallID() (int64, bool) {
	c.next++
	return c.next, true
}

// ErrNoCallID refuses a new call when the CallIDs source has no id at hand.
var ErrNoCallID = errors.New("no call id is available: the store is unreachable")

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
	// IDs numbers new calls; nil numbers them 1, 2, 3… (no store).
	IDs CallIDs
	Log *slog.Logger
	// ChatOfferTimeout is how long an agent has to accept an offered
	// conversation (AcceptChat) before it is offered on; 0: offers are final.
	ChatOfferTimeout time.Duration
	// MaxChatsOnCall: while an agent is on a call (ringing, talking or wrapping
	// up a call) they are offered a new conversation only while they hold fewer
	// than this many; and a call is offered only to an agent holding at most
	// this many conversations. 0: calls and chats do not mix.
	MaxChatsOnCall int
	// VoicemailMaxLength bounds a caller's voicemail message (voicemail.go);
	// 0 is DefaultVoicemailMaxLength.
	VoicemailMaxLength time.Duration
}

// Engine runs the calls of one tenant's contact center: it takes inbound calls
// into queues, offers them to agents as each queue's strategy says, bridges,
// and lets agents wrap up. All its state is in memory and guarded by one lock;
// every change is reported to the Observer.
type Engine struct {
	mu     sync.Mutex
	opt    Options
	closed bool // Close ran: no more timers, no more changes
	calls  map[int64]*call
	legs   map[LegID]legRef
	queues map[int64]*queueRT
	routes map[string]int64 // dialled number or extension → queue id
	// userRoutes sends numbers straight to one agent: route key → user id.
	userRoutes map[string]int64
	agents     map[int64]*agentRT
	// memberOf lists the queues each user is a member of, in id order.
	memberOf map[int64][]*queueRT
	// menus are the IVR menus by tenant and id; menuRoutes sends route keys
	// (numbers) to them (ivr.go).
	menus      map[int64]map[int64]*switchboard.IVRMenu
	menuRoutes map[string]menuRoute
	// chats are the conversations the engine routes, by id (chat.go).
	chats   map[int64]*chatRT
	chatObs ChatObserver
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
	// unreachable says the agent's phone is not registered (SetReachable):
	// their status may take calls, but none is offered until it is back.
	unreachable bool
	state       agentState
	wrap        Timer
	skills      map[int64]int       // skill id → proficiency
	tenant      int64               // set with the agent's direct routes
	routes      []string            // route keys that ring this agent directly
	lastEnd     map[int64]time.Time // per queue
	answered    map[int64]int       // per queue
	// connectedAt is when the agent's call connected (zero while not on a
	// connected call); wrapUntil when their wrap-up ends (PacingView).
	connectedAt, wrapUntil time.Time
	chat                   agentChats
	// voicemail lets callers the agent misses leave a message
	// (SetUserVoicemail).
	voicemail bool
}

// arrivalWindow is how many recent arrivals estimate a queue's arrival rate.
const arrivalWindow = 50

type queueRT struct {
	arrivals []time.Time   // the last arrivalWindow arrival times
	aht      time.Duration // moving average of talk time; 0 until a call ends
	cfg      switchboard.Queue
	members  []switchboard.QueueMember
	member   map[int64]switchboard.QueueMember // by user id
	pool     *memberPool                       // the members free to take a call now
	online   int                               // members signed in (not Offline)
	waiting  []*call                           // first come, first served
	routes   []string                          // route keys that lead here
	chat     queueChats
}

type call struct {
	switchboard.Call
	caller  LegID
	ringing map[LegID]int64 // agent legs ringing, to agent id
	agent   LegID           // the leg that answered
	tried   map[int64]bool  // agents offered this call in the current round
	timer   Timer           // ring timeout or retry pause
	wait    Timer           // the queue's longest wait
	// clickToCall marks the agent-first outbound flow; customerTimeout
	// bounds the customer's ringing in it and in scheduled calls.
	clickToCall     bool
	noRecording     bool // a click-to-call or callback placed without recording
	customerTimeout time.Duration
	// awaitingCustomer marks a scheduled call not yet answered by the customer.
	awaitingCustomer bool
	// reachedMachine marks a call answered by voicemail, not a person.
	reachedMachine bool
	// actionOnly marks a call an outside dialer carries (actiononly.go).
	actionOnly bool
	// vmDisposition is the disposition a voicemail call ends with.
	vmDisposition switchboard.Disposition
	// holdSince is when the current hold began (zero when not on hold).
	holdSince time.Time
	// answered says the caller's leg has been answered (see answer).
	answered bool
	// menu is the IVR menu the caller is in (nil outside menus), as it was
	// when they entered it; menuRepeats counts its repeats, menuPrompts the
	// prompts the call has heard in all menus (ivr.go).
	menu        *switchboard.IVRMenu
	menuRepeats int
	menuPrompts int
	// dial is a campaign dial's state (dial.go); nil for other calls.
	dial *dialRT
	// wrapsUp says the call's agent wraps it up once it has ended, so its
	// wrapped-up report waits for the wrap-up's end (see end).
	wrapsUp bool
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
	if opt.IDs == nil {
		opt.IDs = &counterIDs{}
	}
	return &Engine{opt: opt, calls: map[int64]*call{}, legs: map[LegID]legRef{},
		queues: map[int64]*queueRT{}, routes: map[string]int64{}, agents: map[int64]*agentRT{}, userRoutes: map[string]int64{},
		memberOf: map[int64][]*queueRT{}, menus: map[int64]map[int64]*switchboard.IVRMenu{}, menuRoutes: map[string]menuRoute{},
		chats: map[int64]*chatRT{}}
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
	for _, m := range rt.members {
		e.memberOf[m.UserID] = slices.DeleteFunc(e.memberOf[m.UserID], func(x *queueRT) bool { return x == rt })
	}
	rt.cfg, rt.members = q, members
	rt.member = make(map[int64]switchboard.QueueMember, len(members))
	rt.pool = newMemberPool(q.Strategy)
	rt.chat.free = map[int64]freeMember{}
	rt.online = 0
	for _, m := range members {
		rt.member[m.UserID] = m
		qs := append(e.memberOf[m.UserID], rt)
		slices.SortFunc(qs, func(a, b *queueRT) int { return cmp.Compare(a.cfg.ID, b.cfg.ID) })
		e.memberOf[m.UserID] = qs
		if a, ok := e.agents[m.UserID]; ok {
			if a.status != switchboard.StatusOffline {
				rt.online++
			}
			e.place(rt, a)
		}
	}
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
	e.dispatchChats(rt)
}

// SetAgent registers an agent's device. New agents start Offline.
func (e *Engine) SetAgent(userID int64, device string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.agent(userID)
	a.device = device
	e.reindex(a)
}

// SetReachable says whether the agents whose phone is device can be rung:
// a real telephony driver tells the engine when a phone registers and when
// its registration lapses, so that no call is offered to a phone that cannot
// ring. Agents are reachable until told otherwise.
func (e *Engine) SetReachable(device string, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.agents {
		if a.device != device || a.unreachable == !ok {
			continue
		}
		a.unreachable = !ok
		e.reindex(a)
		if ok && a.available {
			e.dispatchAgent(a)
		}
	}
}

// SetUserRoutes makes calls to routes ring the agent directly, replacing the
// routes they had. The tenant is recorded on those calls.
func (e *Engine) SetUserRoutes(userID, tenantID int64, routes []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.agent(userID)
	for _, r := range a.routes {
		if e.userRoutes[r] == userID {
			delete(e.userRoutes, r)
		}
	}
	a.tenant, a.routes = tenantID, append([]string(nil), routes...)
	for _, r := range routes {
		e.userRoutes[r] = userID
	}
}

// SetSkills gives an agent their skills (skill id → proficiency 0-5), which
// queues with required skills route on.
func (e *Engine) SetSkills(userID int64, skills map[int64]int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.agent(userID)
	a.skills = skills
	e.reindex(a)
	e.dispatchChatsOf(a)
}

func (e *Engine) agent(id int64) *agentRT {
	a, ok := e.agents[id]
	if !ok {
		a = &agentRT{id: id, status: switchboard.StatusOffline, lastEnd: map[int64]time.Time{}, answered: map[int64]int{},
			chat: agentChats{max: defaultMaxChats, held: map[int64]*chatRT{}, lastEnd: map[int64]time.Time{}, answered: map[int64]int{}}}
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
	if was, now := a.status != switchboard.StatusOffline, status != switchboard.StatusOffline; was != now {
		for _, q := range e.memberOf[a.id] {
			if now {
				q.online++
			} else {
				q.online--
			}
		}
	}
	a.status, a.available = status, available
	e.reindex(a)
	if available {
		e.dispatchAgent(a)
	}
	if status != switchboard.StatusOffline {
		return
	}
	e.requeueAgentChats(a)
	for _, q := range slices.Clone(e.memberOf[a.id]) {
		if !q.cfg.LeaveWhenEmpty || len(q.waiting) == 0 || e.anyoneSignedIn(q) {
			continue
		}
		for _, c := range append([]*call(nil), q.waiting...) {
			if c.dial != nil {
				continue // a campaign call's abandon timer lets it go
			}
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
	case c.dial != nil && c.dial.phase == dialClosing:
		e.closeDial(c, switchboard.SideSystem, "hung up through the API")
	case c.actionOnly:
		e.end(c, switchboard.SideSystem, "hung up through the API")
	case c.Status == switchboard.CallVoicemail:
		e.opt.Telephony.Hangup(c.caller, "hung up by the system")
		e.finishVoicemail(c, switchboard.SideSystem, "hung up through the API")
	case c.ConnectedAt != nil:
		e.opt.Telephony.Hangup(c.caller, "hung up by the system")
		e.opt.Telephony.Hangup(c.agent, "hung up by the system")
		e.end(c, switchboard.SideSystem, "hung up through the API")
	case c.clickToCall:
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

// LegEvent takes a report from the driver.
func (e *Engine) LegEvent(ev LegEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	ref, ok := e.legs[ev.Leg]
	if !ok {
		return
	}
	c, ok := e.calls[ref.call]
	if !ok {
		return
	}
	switch {
	case ev.Type == LegSwitching:
		// The call shows switching until the new attempt answers or fails:
		// every flow sets the call's status when its leg answers or fails.
		if ref.role == callerLeg && c.EndedAt == nil && c.Status != switchboard.CallSwitching {
			c.Status = switchboard.CallSwitching
			e.changed(c, "switching")
		}
	case ev.Type == LegHeld || ev.Type == LegResumed:
		if ref.role == agentLeg && c.agent == ev.Leg && c.ConnectedAt != nil && c.EndedAt == nil {
			e.hold(c, ev.Type == LegHeld)
		}
	case ev.Type == LegTransfer:
		if ref.role == agentLeg && c.agent == ev.Leg {
			if to, ok := e.target(c.TenantID, ev.Target); ok {
				if _, err := e.transfer(c, to); err != nil {
					e.opt.Log.Info("engine: a transfer from the phone failed", "call", c.ID, "target", ev.Target, "err", err)
				}
			}
		}
	case ev.Type == LegDTMF:
		if ref.role == callerLeg && ev.Digits != "" {
			c.DTMF += ev.Digits
			e.changed(c, "dtmf")
			if c.menu != nil {
				e.menuDigits(c, ev.Digits)
			}
		}
	case c.dial != nil && !c.clickToCall && (c.dial.phase == dialRinging || c.dial.phase == dialClosing):
		e.dialLegEvent(c, ref, ev)
	case c.awaitingCustomer:
		e.scheduledLegEvent(c, ev)
	case c.clickToCall:
		e.outboundLegEvent(c, ref, ev)
	case ref.role == callerLeg:
		if ev.Type == LegHungUp || ev.Type == LegFailed {
			e.callerGone(c, ev.Cause)
		}
	case ref.role == agentLeg:
		e.agentLegEvent(c, ref.agent, ev)
	}
}

// end finishes a connected call and starts the agent's wrap-up.
func (e *Engine) end(c *call, by switchboard.Side, cause string) {
	now := e.opt.Clock.Now()
	if !c.holdSince.IsZero() {
		c.Hold += now.Sub(c.holdSince)
		c.HoldSeconds, c.holdSince = c.Hold.Seconds(), time.Time{}
	}
	c.EndedAt, c.Status, c.Disposition, c.HangupBy, c.HangupCause = &now, switchboard.CallFinished, switchboard.DispositionAnswered, by, cause
	if c.reachedMachine {
		c.Status = switchboard.CallVoicemail
	}
	if c.actionOnly {
		c.Status = switchboard.CallActionOnlyFinished
	}
	delete(e.legs, c.caller)
	delete(e.legs, c.agent)
	delete(e.calls, c.ID)
	var q *queueRT
	if c.QueueID != nil { // a click-to-call has no queue, so no wrap-up
		q = e.queues[*c.QueueID]
	}
	wrap := time.Duration(0)
	if q != nil {
		wrap = time.Duration(q.cfg.WrapUpSeconds) * time.Second
	}
	c.wrapsUp = wrap > 0
	e.changed(c, "ended")
	if c.dial != nil {
		e.dialFinished(c)
	}
	a := e.agents[*c.AgentID]
	if q != nil {
		a.lastEnd[q.cfg.ID] = now
		if q.aht == 0 {
			q.aht = c.Talk()
		} else {
			q.aht = (3*q.aht + c.Talk()) / 4
		}
	}
	if wrap <= 0 {
		e.setState(a, agentIdle)
		e.agentChanged(a.id, AgentFree)
		e.dispatchAgent(a)
		return
	}
	a.wrapUntil = now.Add(wrap)
	e.setState(a, agentWrapUp)
	e.agentChanged(a.id, AgentWrapUp)
	a.wrap = e.after(wrap, func() {
		if a.state != agentWrapUp {
			e.wrappedUp(c)
			return
		}
		e.setState(a, agentIdle)
		e.agentChanged(a.id, AgentFree)
		// Before the agent is offered another call, whose changes would
		// otherwise come first.
		e.wrappedUp(c)
		e.dispatchAgent(a)
	})
}

// after runs f under the engine's lock once d has passed, unless the engine
// has closed by then.
func (e *Engine) after(d time.Duration, f func()) Timer {
	return e.opt.Clock.AfterFunc(d, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if !e.closed {
			f()
		}
	})
}

// Close stops the engine: every timer it set is stopped and it takes no more
// events or calls, so nothing it does reaches the store once the call service
// has flushed its writer. Calls in progress stay as they were; the next start
// closes them as orphans.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for _, c := range e.calls {
		for _, t := range []Timer{c.timer, c.wait} {
			if t != nil {
				t.Stop()
			}
		}
	}
	for _, a := range e.agents {
		if a.wrap != nil {
			a.wrap.Stop()
		}
	}
	e.stopChats()
}

// newID numbers a new call, or reports that it cannot be taken.
func (e *Engine) newID() (int64, error) {
	if e.closed {
		return 0, errors.New("the call engine is closed")
	}
	id, ok := e.opt.IDs.NextCallID()
	if !ok {
		return 0, ErrNoCallID
	}
	return id, nil
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
	if c.dial != nil {
		e.dialFinished(c)
	}
}

func (e *Engine) agentChanged(id int64, st AgentState) {
	if ao, ok := e.opt.Observer.(AgentObserver); ok {
		ao.AgentChanged(id, st)
	}
}

func (e *Engine) changed(c *call, what string) {
	c.RingingAgents = c.RingingAgents[:0]
	for _, id := range c.ringing {
		c.RingingAgents = append(c.RingingAgents, id)
	}
	slices.Sort(c.RingingAgents)
	if e.opt.Observer != nil {
		e.opt.Observer.CallChanged(&c.Call, what)
	}
	if what == "ended" && !c.wrapsUp {
		e.wrappedUp(c) // nobody wraps it up: its work is over as it ends
	}
}

func memberPosition(q *queueRT, userID int64) int {
	return q.member[userID].Position
}

// setState moves an agent to state s and re-places them in their queues'
// pools: every change of state goes through here.
func (e *Engine) setState(a *agentRT, s agentState) {
	if s != agentBusy {
		a.connectedAt = time.Time{}
	}
	a.state = s
	e.reindex(a)
}

// reindex re-places a in the pool of every queue they are a member of, after
// anything that decides whether or where they are there changed.
func (e *Engine) reindex(a *agentRT) {
	for _, q := range e.memberOf[a.id] {
		e.place(q, a)
	}
}

// place puts a in q's pool if they could take one of its calls now (the
// conditions dispatch used to check member by member), under the key of q's
// strategy, or takes them out.
func (e *Engine) place(q *queueRT, a *agentRT) {
	m := q.member[a.id]
	free := a.available && a.device != "" && !a.unreachable && (a.state == agentIdle || (q.cfg.RingInUse && a.state == agentBusy)) &&
		len(a.chat.held) <= e.opt.MaxChatsOnCall
	score, qualified := skillScore(q.cfg.RequiredSkills, a.skills)
	var k poolKey
	if free && qualified {
		k = q.pool.key(Member{UserID: a.id, Penalty: m.Penalty, Position: m.Position,
			LastCallEnd: a.lastEnd[q.cfg.ID], CallsAnswered: a.answered[q.cfg.ID]}, score)
	}
	q.pool.set(a.id, k, free && qualified)
	e.placeChat(q, a)
}

func remove(list []*call, c *call) []*call {
	for i, x := range list {
		if x == c {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

func (e *Engine) Hold(callID int64, on bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.calls[callID]
	if !ok || c.ConnectedAt == nil || c.EndedAt != nil {
		return errors.New("the call is not connected on this server")
	}
	if c.actionOnly {
		return errors.New("the call is carried by an outside dialer: it is held there")
	}
	e.hold(c, on)
	return nil
}

// hold puts c's caller on hold or takes them off it. e.mu is held.
func (e *Engine) hold(c *call, on bool) {
	now := e.opt.Clock.Now()
	switch {
	case on && c.holdSince.IsZero():
		c.holdSince = now
		e.opt.Telephony.Play(c.caller, "moh:default")
		e.changed(c, "held")
	case !on && !c.holdSince.IsZero():
		c.Hold += now.Sub(c.holdSince)
		c.HoldSeconds, c.holdSince = c.Hold.Seconds(), time.Time{}
		e.opt.Telephony.Bridge(c.caller, c.agent)
		e.changed(c, "resumed")
	}
}

// Device is the phone an agent's calls ring; ok is false for an agent
// without one.
func (e *Engine) Device(userID int64) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.agents[userID]
	if !ok || a.device == "" {
		return "", false
	}
	return a.device, true
}
