package engine

import (
	"fmt"
	"slices"
	"time"

	"switchboard"
)

// The inbound side of the engine: calls arrive, wait in their queue first come
// first served, and are offered to members as the queue's strategy plans.

// InboundCall is a new inbound leg reported by a driver.
type InboundCall struct {
	Leg  LegID
	From string
	To   string // what the caller dialled
	// Route is the routing key of To when it is not To itself: extensions,
	// which repeat across tenants, are qualified by tenant.
	Route string
	// TenantID, when set, is the only tenant the call may reach: a carrier
	// trunk belongs to one tenant, and a number of another tenant sent down
	// it must not route there.
	TenantID int64
	// Pickup is how long the call rings before Switchboard answers it.
	Pickup time.Duration
	// FaxPages, when positive, says the caller is a fax machine (the driver
	// heard its calling tone) sending that many pages: the call is answered
	// and received by the system, never offered to agents, and ends when the
	// sender hangs up.
	FaxPages int
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
	c := &call{Call: switchboard.Call{Direction: switchboard.Inbound, Status: switchboard.CallSelecting, Media: switchboard.MediaVoice,
		From: in.From, To: in.To, CreatedAt: now}, caller: in.Leg, ringing: map[LegID]int64{}, tried: map[int64]bool{}}
	qid, routed := e.routes[route]
	var q *queueRT
	var direct *agentRT
	var menu *switchboard.IVRMenu
	if routed {
		q = e.queues[qid]
		c.TenantID, c.QueueID = q.cfg.TenantID, &q.cfg.ID
	} else if uid, ok := e.userRoutes[route]; ok {
		routed, direct = true, e.agents[uid]
		c.TenantID = direct.tenant
	} else if mr, ok := e.menuRoutes[route]; ok {
		routed, c.TenantID = true, mr.tenant
		menu, _ = e.menu(mr.tenant, mr.menu)
	}
	if routed && in.TenantID != 0 && c.TenantID != in.TenantID {
		routed, q, direct, menu = false, nil, nil, nil
		c.TenantID, c.QueueID = in.TenantID, nil
	}
	id, err := e.newID()
	if err != nil {
		e.opt.Telephony.Hangup(in.Leg, "temporarily unavailable")
		return 0, err
	}
	c.ID = id
	e.changed(c, "created")
	if !routed {
		e.opt.Telephony.Hangup(in.Leg, "no route")
		c.EndedAt, c.Status, c.Disposition, c.HangupBy, c.HangupCause = &now, switchboard.CallFailed,
			switchboard.DispositionRejected, switchboard.SideSystem, "no route for "+in.To
		e.changed(c, "ended")
		return c.ID, fmt.Errorf("no queue answers %s", in.To)
	}
	e.calls[c.ID] = c
	e.legs[in.Leg] = legRef{call: c.ID, role: callerLeg}
	if in.FaxPages > 0 {
		e.answer(c)
		c.Media, c.FaxPages, c.ConnectedAt, c.Status = switchboard.MediaFax, in.FaxPages, &now, switchboard.CallConnected
		e.changed(c, "connected")
		return c.ID, nil
	}
	if direct != nil {
		// A number of the agent's own rings their phone, if they can take it.
		if direct.device == "" || !direct.available || (direct.state != agentIdle) {
			if direct.voicemail {
				e.startVoicemail(c, switchboard.VoicemailNoAnswer, switchboard.DispositionMissed)
				return c.ID, nil
			}
			e.opt.Telephony.Hangup(in.Leg, "agent not available")
			e.failBy(c, switchboard.DispositionMissed, switchboard.SideSystem, "the agent is not available")
			return c.ID, nil
		}
		e.answer(c)
		e.ringDirect(c, direct, in.Leg)
		return c.ID, nil
	}
	next := func(c *call) {
		if menu != nil {
			e.enterMenu(c, menu)
			return
		}
		e.enqueue(c, q)
	}
	if in.Pickup > 0 {
		id := c.ID
		c.timer = e.after(in.Pickup, func() {
			if c, ok := e.calls[id]; ok && c.EndedAt == nil {
				c.timer = nil
				next(c)
			}
		})
		return c.ID, nil
	}
	next(c)
	return c.ID, nil
}

// enqueue answers a routed call and puts it in its queue, unless the queue
// refuses it.
func (e *Engine) enqueue(c *call, q *queueRT) {
	now := e.opt.Clock.Now()
	// A campaign's call is never refused or timed out by the queue: its
	// abandon timer bounds its wait (dial.go).
	// An inbound caller who finds the queue closed leaves a voicemail or is
	// refused (voicemail.go).
	if c.dial == nil && c.Direction == switchboard.Inbound && !q.cfg.Hours.OpenAt(now) {
		if q.cfg.VoicemailEnabled {
			e.startVoicemail(c, switchboard.VoicemailAfterHours, switchboard.DispositionRejected)
			return
		}
		e.fail(c, switchboard.DispositionRejected, switchboard.CauseAfterHours)
		return
	}
	if c.dial == nil && q.cfg.MaxLength > 0 && len(q.waiting) >= q.cfg.MaxLength {
		if q.cfg.OverflowToCallback && c.ParentID == nil {
			e.overflow(c, q)
			return
		}
		if q.cfg.VoicemailEnabled && c.Direction == switchboard.Inbound {
			e.startVoicemail(c, switchboard.VoicemailOverCapacity, switchboard.DispositionRejected)
			return
		}
		e.fail(c, switchboard.DispositionRejected, "queue full")
		return
	}
	if c.dial == nil && !q.cfg.JoinEmpty && !e.anyoneSignedIn(q) {
		e.fail(c, switchboard.DispositionRejected, "no agent signed in")
		return
	}
	e.answer(c)
	e.opt.Telephony.Play(c.caller, "moh:"+q.cfg.MusicOnHold)
	c.Status, c.QueuedAt = switchboard.CallQueued, &now
	q.arrivals = append(q.arrivals, now)
	if len(q.arrivals) > arrivalWindow {
		q.arrivals = q.arrivals[1:]
	}
	q.waiting = append(q.waiting, c)
	e.changed(c, "queued")
	if q.cfg.MaxWaitSeconds > 0 && c.dial == nil {
		id := c.ID
		c.wait = e.after(time.Duration(q.cfg.MaxWaitSeconds)*time.Second, func() { e.waitTimeout(id, q) })
	}
	e.dispatch(q)
}

// waitTimeout ends a call still waiting in q when the queue's longest wait
// runs out.
func (e *Engine) waitTimeout(id int64, q *queueRT) {
	c, ok := e.calls[id]
	if !ok || c.EndedAt != nil || c.agent != "" || !slices.Contains(q.waiting, c) {
		return
	}
	q.waiting = remove(q.waiting, c)
	freed := e.stopRinging(c, switchboard.CauseQueueTimeout)
	if q.cfg.VoicemailEnabled && c.Direction == switchboard.Inbound {
		e.startVoicemail(c, switchboard.VoicemailNoAnswer, switchboard.DispositionNoAnswer)
		e.dispatchAgents(freed)
		return
	}
	e.opt.Telephony.Hangup(c.caller, switchboard.CauseQueueTimeout)
	e.failBy(c, switchboard.DispositionNoAnswer, switchboard.SideSystem, switchboard.CauseQueueTimeout)
	e.dispatchAgents(freed)
}

func (e *Engine) anyoneSignedIn(q *queueRT) bool { return q.online > 0 }

// dispatchAgent offers waiting calls, then waiting conversations, of every
// queue the agent is in, in queue id order so that runs under a virtual
// clock repeat exactly.
func (e *Engine) dispatchAgent(a *agentRT) {
	for _, q := range e.memberOf[a.id] {
		e.dispatch(q)
	}
	e.dispatchChatsOf(a)
}

// dispatch offers q's waiting calls, first come first served, to its free
// members, one ring step per call. Whom to ring comes from the queue's pool
// of free members, so an offer costs O(log N) in the queue's members.
func (e *Engine) dispatch(q *queueRT) {
	for _, c := range q.waiting {
		if len(c.ringing) > 0 || c.timer != nil {
			continue // being offered, or pausing between rounds
		}
		step := q.pool.next(q.cfg, c.tried, e.opt.Router)
		if len(step) == 0 {
			if len(c.tried) > 0 {
				e.pause(q, c) // everyone had a chance: wait, then start a new round
			}
			// Later calls can use no one the head of the line cannot.
			return
		}
		e.ring(q, c, step)
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
			e.setState(a, agentRinging)
		}
		timeout := time.Duration(q.cfg.TimeoutSeconds) * time.Second
		e.opt.Telephony.Originate(Originate{TenantID: c.TenantID, Leg: leg, To: Endpoint{Device: a.device}, CallerID: c.From, Timeout: timeout})
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
	c.timer = e.after(time.Duration(q.cfg.TimeoutSeconds)*time.Second, func() { e.ringTimeout(id) })
}

// ringTimeout gives up on the agents ringing for a call and offers it on.
func (e *Engine) ringTimeout(id int64) {
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
	legs := make([]LegID, 0, len(c.ringing))
	for leg := range c.ringing {
		legs = append(legs, leg)
	}
	slices.Sort(legs) // a fixed order keeps virtual-time runs repeatable
	var freed []*agentRT
	for _, leg := range legs {
		id := c.ringing[leg]
		e.opt.Telephony.Hangup(leg, cause)
		delete(c.ringing, leg)
		delete(e.legs, leg)
		if a := e.agents[id]; a != nil && a.state == agentRinging {
			e.setState(a, agentIdle)
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
	c.timer = e.after(time.Duration(q.cfg.RetrySeconds)*time.Second, func() {
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
		e.setState(a, agentIdle)
		e.dispatchAgent(a)
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
				e.setState(a, agentIdle)
				e.dispatchAgent(a)
			}
			return
		}
		c.agent = ev.Leg
		delete(c.ringing, ev.Leg)
		var freed []*agentRT
		if c.QueueID != nil {
			q := e.queues[*c.QueueID]
			q.waiting = remove(q.waiting, c)
			freed = e.stopRinging(c, "answered elsewhere")
			a.answered[q.cfg.ID]++
			e.opt.Router.Answered(q.cfg.ID, memberPosition(q, agentID))
		} else {
			freed = e.stopRinging(c, "answered elsewhere")
		}
		e.setState(a, agentBusy)
		a.connectedAt = now
		e.agentChanged(a.id, AgentInCall)
		c.AgentID, c.ConnectedAt, c.Status = &a.id, &now, switchboard.CallConnected
		e.opt.Telephony.Bridge(c.caller, ev.Leg)
		if !c.noRecording {
			e.opt.Telephony.Record(c.caller, c.ID, true)
			c.Recorded = true
		}
		e.changed(c, "connected")
		if c.dial != nil {
			e.dialConnected(c, false, "")
		}
		e.dispatchAgents(freed)
	case LegBusy, LegNoAnswer, LegFailed:
		if _, ringing := c.ringing[ev.Leg]; ringing {
			delete(c.ringing, ev.Leg)
			delete(e.legs, ev.Leg)
			e.release(a)
			if len(c.ringing) == 0 && c.agent == "" && c.QueueID == nil {
				// A call for one agent (transferred, or to their own number) that they
				// did not take: there is nowhere else to offer it, but their voicemail.
				e.stopRinging(c, "")
				if a != nil && a.voicemail && c.Direction == switchboard.Inbound {
					e.startVoicemail(c, switchboard.VoicemailNoAnswer, switchboard.DispositionMissed)
					return
				}
				e.opt.Telephony.Hangup(c.caller, "not answered")
				e.failBy(c, switchboard.DispositionMissed, switchboard.SideSystem, "the agent did not answer")
				return
			}
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
	if c.Status == switchboard.CallVoicemail {
		e.finishVoicemail(c, switchboard.SideCaller, cause)
		return
	}
	if c.Media == switchboard.MediaFax {
		// The sender hung up: the fax is in.
		now := e.opt.Clock.Now()
		c.EndedAt, c.Status, c.Disposition, c.HangupBy, c.HangupCause = &now, switchboard.CallFinished,
			switchboard.DispositionAnswered, switchboard.SideCaller, cause
		delete(e.legs, c.caller)
		delete(e.calls, c.ID)
		e.changed(c, "ended")
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
