package engine

import (
	"errors"
	"fmt"
	"time"

	"switchboard"
)

// Target is where a blind transfer sends the caller: a queue, or one agent.
type Target struct {
	QueueID int64
	AgentID int64
}

// Transfer hands a connected call's caller to target without consulting it (a
// blind transfer). The call ends for its agent, who wraps up as after any
// call, and a new call, linked by ParentID, continues with the same caller
// leg: queued in the target queue, or ringing the target agent (missed if they
// do not answer). It returns the new call's id.
func (e *Engine) Transfer(callID int64, to Target) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.calls[callID]
	if !ok {
		return 0, errors.New("the call is not connected on this server")
	}
	return e.transfer(c, to)
}

// IsTarget reports whether key names, within tenant, a queue or an agent
// a call can be transferred to.
func (e *Engine) IsTarget(tenantID int64, key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.target(tenantID, key)
	return ok
}

// target resolves a routing key within a tenant to a queue (by its
// extension's or number's route) or an agent (by device, or a number routed
// to them).
func (e *Engine) target(tenantID int64, key string) (Target, bool) {
	if qid, ok := e.routes[key]; ok && e.queues[qid].cfg.TenantID == tenantID {
		return Target{QueueID: qid}, true
	}
	if uid, ok := e.userRoutes[key]; ok && e.agents[uid].tenant == tenantID {
		return Target{AgentID: uid}, true
	}
	for id, a := range e.agents {
		// Devices are named within their tenant; an agent's tenant is only
		// known once they have a direct route.
		if a.device == key && (a.tenant == 0 || a.tenant == tenantID) {
			return Target{AgentID: id}, true
		}
	}
	return Target{}, false
}

// transfer is Transfer with e.mu held.
func (e *Engine) transfer(c *call, to Target) (int64, error) {
	if c.ConnectedAt == nil || c.EndedAt != nil || c.caller == "" {
		return 0, errors.New("the call is not connected on this server")
	}
	var ok bool
	var q *queueRT
	var target *agentRT
	switch {
	case to.QueueID != 0:
		if q, ok = e.queues[to.QueueID]; !ok || q.cfg.TenantID != c.TenantID {
			return 0, errors.New("no such queue")
		}
	case to.AgentID != 0:
		target, ok = e.agents[to.AgentID]
		switch {
		case !ok || target.device == "":
			return 0, &ErrAgentUnavailable{"the agent has no phone"}
		case !target.available || target.state != agentIdle:
			return 0, &ErrAgentUnavailable{"the agent is not available"}
		}
	default:
		return 0, errors.New("a transfer needs a queue or an agent")
	}
	id, err := e.newID()
	if err != nil {
		return 0, err
	}
	leg := c.caller
	e.opt.Telephony.Hangup(c.agent, "transferred")
	e.end(c, switchboard.SideAgent, "transferred")

	now := e.opt.Clock.Now()
	parent := c.ID
	next := &call{Call: switchboard.Call{ID: id, TenantID: c.TenantID, Direction: c.Direction, Status: switchboard.CallSelecting,
		From: c.From, To: c.To, ParentID: &parent, CreatedAt: now}, caller: leg, ringing: map[LegID]int64{}, tried: map[int64]bool{},
		answered: true} // the caller was talking to the agent
	if q != nil {
		next.QueueID = &q.cfg.ID
	}
	e.changed(next, "created")
	e.calls[next.ID] = next
	e.legs[leg] = legRef{call: next.ID, role: callerLeg}
	if q != nil {
		e.enqueue(next, q)
		return next.ID, nil
	}
	e.ringDirect(next, target, leg)
	return next.ID, nil
}

// ringDirect offers c, whose caller is on leg, to one agent only: a transfer
// to an agent, or a call to a number routed to the agent. If the agent does not
// answer, the call is missed (see agentLegEvent).
func (e *Engine) ringDirect(c *call, target *agentRT, leg LegID) {
	now := e.opt.Clock.Now()
	ring := LegID(fmt.Sprintf("c%d-a%d-direct", c.ID, target.id))
	e.legs[ring] = legRef{call: c.ID, role: agentLeg, agent: target.id}
	c.ringing[ring] = target.id
	e.setState(target, agentRinging)
	c.Status, c.RingingAt = switchboard.CallAssigned, &now
	e.opt.Telephony.Play(leg, "ringback")
	e.opt.Telephony.Originate(Originate{TenantID: c.TenantID, Leg: ring, To: Endpoint{Device: target.device}, CallerID: c.From, Timeout: 30 * time.Second})
	e.changed(c, "ringing")
}
