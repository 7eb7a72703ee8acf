package engine

import (
	"errors"
	"fmt"
	"time"

	"switchboard"
)

// Scheduled is a call the engine places at a set time (a callback): it dials
// the customer then and, once they answer, puts them in the queue like any
// caller. Call carries TenantID, QueueID, To (the customer), From (the caller
// id shown), ScheduledAt, and optionally ParentID and an ID when it is restored
// from the store after a restart. A call with AgentID instead of QueueID rings
// that agent's phone once the customer answers (a click-to-call that dials the
// contact first).
type Scheduled struct {
	Call            switchboard.Call
	CustomerTimeout time.Duration
	// NoRecording leaves the call unrecorded once it is connected.
	NoRecording bool
}

// Schedule arms a scheduled call and returns its id.
func (e *Engine) Schedule(s Scheduled) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.schedule(s)
}

// schedule is Schedule with e.mu held.
func (e *Engine) schedule(s Scheduled) (int64, error) {
	switch {
	case (s.Call.QueueID == nil && s.Call.AgentID == nil) || s.Call.ScheduledAt == nil:
		return 0, errors.New("a scheduled call needs a queue or an agent, and a time")
	case s.Call.QueueID != nil:
		q, ok := e.queues[*s.Call.QueueID]
		if !ok || q.cfg.TenantID != s.Call.TenantID {
			return 0, errors.New("no such queue")
		}
	default:
		a, ok := e.agents[*s.Call.AgentID]
		if !ok || a.tenant != s.Call.TenantID {
			return 0, errors.New("no such agent")
		}
	}
	if s.CustomerTimeout <= 0 {
		s.CustomerTimeout = 45 * time.Second
	}
	c := &call{Call: s.Call, ringing: map[LegID]int64{}, tried: map[int64]bool{}, customerTimeout: s.CustomerTimeout,
		awaitingCustomer: true, noRecording: s.NoRecording}
	c.Direction, c.Status = switchboard.Outbound, switchboard.CallScheduled
	if c.ID == 0 {
		id, err := e.newID()
		if err != nil {
			return 0, err
		}
		c.ID, c.CreatedAt = id, e.opt.Clock.Now()
		e.changed(c, "scheduled")
	}
	e.calls[c.ID] = c
	id := c.ID
	c.timer = e.after(c.ScheduledAt.Sub(e.opt.Clock.Now()), func() {
		if c, ok := e.calls[id]; ok && c.EndedAt == nil {
			c.timer = nil
			e.dialScheduled(c)
		}
	})
	return c.ID, nil
}

// dialScheduled calls the customer of a scheduled call.
func (e *Engine) dialScheduled(c *call) {
	leg := LegID(fmt.Sprintf("c%d-callback", c.ID))
	c.caller = leg
	e.legs[leg] = legRef{call: c.ID, role: callerLeg}
	c.Status = switchboard.CallConnecting
	e.changed(c, "dialing")
	e.opt.Telephony.Originate(Originate{TenantID: c.TenantID, Leg: leg, To: Endpoint{Number: c.To}, CallerID: c.From, Timeout: c.customerTimeout})
}

// scheduledLegEvent handles the customer's leg of a scheduled call until they
// answer; from then on the call is an ordinary queued call.
func (e *Engine) scheduledLegEvent(c *call, ev LegEvent) {
	switch ev.Type {
	case LegAnswered:
		c.awaitingCustomer = false
		if c.QueueID != nil {
			e.enqueue(c, e.queues[*c.QueueID])
			return
		}
		a := e.agents[*c.AgentID]
		if a == nil || a.device == "" || !a.available || a.state != agentIdle {
			e.opt.Telephony.Hangup(c.caller, "agent unavailable")
			e.failBy(c, switchboard.DispositionMissed, switchboard.SideSystem, "the agent was not available when the customer answered")
			return
		}
		e.ringDirect(c, a, c.caller)
	case LegBusy:
		e.fail(c, switchboard.DispositionBusy, ev.Cause)
	case LegNoAnswer:
		e.fail(c, switchboard.DispositionNoAnswer, ev.Cause)
	case LegFailed, LegHungUp:
		e.fail(c, switchboard.DispositionFailed, ev.Cause)
	}
}

// overflow turns a caller who found q full into a callback: the call ends as
// deflected, and a scheduled call dials the caller back when their turn would
// have come (their position times the queue's handle time over its agents).
func (e *Engine) overflow(c *call, q *queueRT) {
	now := e.opt.Clock.Now()
	e.opt.Telephony.Hangup(c.caller, "overflow to callback")
	c.EndedAt, c.Status, c.Disposition, c.HangupBy, c.HangupCause = &now, switchboard.CallDeflected,
		switchboard.DispositionRejected, switchboard.SideSystem, "queue full: a callback is scheduled"
	delete(e.legs, c.caller)
	delete(e.calls, c.ID)
	e.changed(c, "ended")
	online := q.online
	aht := q.aht
	if aht == 0 {
		aht = defaultHandle
	}
	wait := PositionWait(len(q.waiting)+1, max(online, 1), aht)
	at := now.Add(wait)
	parent := c.ID
	if _, err := e.schedule(Scheduled{Call: switchboard.Call{TenantID: c.TenantID, QueueID: &q.cfg.ID, To: c.From, From: c.To,
		ScheduledAt: &at, ParentID: &parent}}); err != nil {
		e.opt.Log.Error("overflow to callback", "call", c.ID, "err", err)
	}
}

// CancelScheduled ends the tenant's callbacks to number that have not been
// dialled yet, rejected with cause, and says how many it ended: the number
// was put on the do-not-call list after they were scheduled, and the
// engine's timers dial without asking the store again.
func (e *Engine) CancelScheduled(tenantID int64, number, cause string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.calls {
		if c.TenantID == tenantID && c.To == number && c.Status == switchboard.CallScheduled && c.EndedAt == nil && c.caller == "" {
			if c.timer != nil {
				c.timer.Stop()
				c.timer = nil
			}
			e.failBy(c, switchboard.DispositionRejected, switchboard.SideSystem, cause)
			n++
		}
	}
	return n
}
