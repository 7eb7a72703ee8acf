package engine

import (
	"errors"

	"switchboard"
)

// Action-only calls. An outside dialer (UJET's PDS) carries the call's audio
// on its own telephony and hands the connected customer to one of our
// agents: Switchboard records the interaction (status action_only, the agent
// in it, the talk time) and keeps the agent busy, so no other call or
// conversation is offered to them, until the dialer says the call is over
// (action_only_finished); the agent then wraps up as after any call of the
// call's queue. The engine drives no leg for it: there is no media to play,
// record, hold or transfer.

// ActionOnly is a call an outside dialer hands to an agent.
type ActionOnly struct {
	TenantID int64
	AgentID  int64
	// From and To are the call's numbers as the dialer gives them (the
	// customer and the number dialled); the engine does not dial either.
	From, To string
	// QueueID, when set, is the queue the call counts for: its wrap-up
	// follows the call.
	QueueID *int64
	Source  switchboard.CallSource
}

// StartActionOnly records a call the outside dialer connected to the agent
// and makes the agent busy with it. It fails with *ErrAgentUnavailable when
// the agent is not signed in or is already handling a call.
func (e *Engine) StartActionOnly(o ActionOnly) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.agents[o.AgentID]
	switch {
	case !ok || a.status == switchboard.StatusOffline:
		return 0, &ErrAgentUnavailable{"the agent is not signed in"}
	case a.state != agentIdle:
		return 0, &ErrAgentUnavailable{"the agent is already on a call or wrapping up"}
	}
	if o.QueueID != nil {
		if q, ok := e.queues[*o.QueueID]; !ok || q.cfg.TenantID != o.TenantID {
			return 0, errors.New("no such queue")
		}
	}
	id, err := e.newID()
	if err != nil {
		return 0, err
	}
	now := e.opt.Clock.Now()
	c := &call{Call: switchboard.Call{ID: id, TenantID: o.TenantID, Direction: switchboard.Outbound, Status: switchboard.CallActionOnly,
		Media: switchboard.MediaVoice, From: o.From, To: o.To, QueueID: o.QueueID, AgentID: &a.id, CreatedAt: now, ConnectedAt: &now,
		Source: o.Source}, ringing: map[LegID]int64{}, tried: map[int64]bool{}, actionOnly: true}
	e.calls[c.ID] = c
	e.setState(a, agentBusy)
	a.connectedAt = now
	e.agentChanged(a.id, AgentInCall)
	e.changed(c, "created")
	return c.ID, nil
}

// FinishActionOnly ends an action-only call (action_only_finished): the
// agent wraps up as after any call and is then offered calls again. by and
// cause say who ended it and why, as the dialer reported.
func (e *Engine) FinishActionOnly(tenantID, callID int64, by switchboard.Side, cause string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.calls[callID]
	if !ok || c.TenantID != tenantID || !c.actionOnly {
		return errors.New("no action-only call in progress has this id on this server")
	}
	e.end(c, by, cause)
	return nil
}
