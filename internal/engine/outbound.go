package engine

import (
	"fmt"
	"time"

	"switchboard"
)

// ClickToCall is an agent's outbound call: the agent's phone rings first and,
// once the agent answers, the customer's number is dialled with CallerID.
type ClickToCall struct {
	TenantID int64
	AgentID  int64
	Number   string // the customer, E.164
	CallerID string
	// AgentTimeout and CustomerTimeout bound the ringing of each side.
	AgentTimeout, CustomerTimeout time.Duration
	Source                        switchboard.CallSource
	// NoRecording leaves the call unrecorded.
	NoRecording bool
}

// ErrAgentUnavailable explains why an agent cannot place a call now.
type ErrAgentUnavailable struct{ Reason string }

func (e *ErrAgentUnavailable) Error() string { return "agent cannot place a call: " + e.Reason }

// Call places a click-to-call. It fails with *ErrAgentUnavailable when the agent
// has no device, is not in an available status, or is busy.
func (e *Engine) Call(o ClickToCall) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clickToCall(o, nil)
}

// clickToCall is Call with e.mu held; setup, when set, completes the new call
// before it is first reported (a campaign's preview dial).
func (e *Engine) clickToCall(o ClickToCall, setup func(*call)) (int64, error) {
	a, ok := e.agents[o.AgentID]
	switch {
	case !ok || a.device == "":
		return 0, &ErrAgentUnavailable{"the agent has no phone (no extension, or not loaded)"}
	case a.status == switchboard.StatusOffline:
		return 0, &ErrAgentUnavailable{"the agent is not signed in"}
	case !a.available:
		return 0, &ErrAgentUnavailable{"the agent's status " + a.status + " does not take calls"}
	case a.state != agentIdle:
		return 0, &ErrAgentUnavailable{"the agent is already on a call or wrapping up"}
	}
	if o.AgentTimeout <= 0 {
		o.AgentTimeout = 30 * time.Second
	}
	if o.CustomerTimeout <= 0 {
		o.CustomerTimeout = 45 * time.Second
	}
	id, err := e.newID()
	if err != nil {
		return 0, err
	}
	now := e.opt.Clock.Now()
	c := &call{Call: switchboard.Call{ID: id, TenantID: o.TenantID, Direction: switchboard.Outbound, Status: switchboard.CallAssigned,
		From: o.CallerID, To: o.Number, AgentID: &a.id, CreatedAt: now, RingingAt: &now, Source: o.Source},
		ringing: map[LegID]int64{}, tried: map[int64]bool{}, noRecording: o.NoRecording}
	if setup != nil {
		setup(c)
	}
	e.changed(c, "created")
	e.calls[c.ID] = c
	leg := LegID(fmt.Sprintf("c%d-agent", c.ID))
	c.clickToCall, c.customerTimeout = true, o.CustomerTimeout
	e.legs[leg] = legRef{call: c.ID, role: agentLeg, agent: a.id}
	c.ringing[leg] = a.id
	e.setState(a, agentRinging)
	e.opt.Telephony.Originate(Originate{TenantID: c.TenantID, Leg: leg, To: Endpoint{Device: a.device}, CallerID: o.Number, Timeout: o.AgentTimeout})
	e.changed(c, "ringing")
	return c.ID, nil
}

// outboundLegEvent moves a click-to-call along: agent answers → dial the
// customer → customer answers → bridge; any failure ends the call.
func (e *Engine) outboundLegEvent(c *call, ref legRef, ev LegEvent) {
	a := e.agents[*c.AgentID]
	now := e.opt.Clock.Now()
	switch {
	case ref.role == agentLeg && ev.Type == LegAnswered && c.agent == "":
		delete(c.ringing, ev.Leg)
		c.agent = ev.Leg
		e.setState(a, agentBusy)
		e.agentChanged(a.id, AgentInCall)
		c.Status = switchboard.CallConnecting
		e.changed(c, "agent_answered")
		cust := LegID(fmt.Sprintf("c%d-customer", c.ID))
		c.caller = cust
		e.legs[cust] = legRef{call: c.ID, role: callerLeg}
		e.opt.Telephony.Originate(Originate{TenantID: c.TenantID, Leg: cust, To: Endpoint{Number: c.To}, CallerID: c.From, Timeout: c.customerTimeout})
	case ref.role == agentLeg && ev.Type != LegAnswered && ev.Type != LegRinging:
		if c.agent == "" { // the agent never picked up
			delete(c.ringing, ev.Leg)
			delete(e.legs, ev.Leg)
			e.setState(a, agentIdle)
			if ev.Type == LegFailed { // the phone could not be rung at all
				e.fail(c, switchboard.DispositionFailed, "agent phone: "+ev.Cause)
			} else {
				e.fail(c, switchboard.DispositionNoAnswer, "agent did not answer: "+ev.Cause)
			}
			e.dispatchAgent(a)
			return
		}
		if ev.Type == LegHungUp {
			if c.ConnectedAt != nil {
				e.opt.Telephony.Hangup(c.caller, "agent hung up")
				e.end(c, switchboard.SideAgent, ev.Cause)
				return
			}
			e.endOutbound(c, switchboard.DispositionFailed, switchboard.SideAgent, "agent hung up while dialling")
		}
	case ref.role == callerLeg && ev.Type == LegAnswered:
		c.ConnectedAt, c.Status = &now, switchboard.CallConnected
		what := "connected"
		if ev.Cause == CauseMachine {
			// The agent is bridged all the same, to leave a message.
			c.Status, what, c.reachedMachine = switchboard.CallVoicemail, "voicemail", true
		}
		a.connectedAt = now
		e.opt.Telephony.Bridge(c.agent, c.caller)
		if !c.noRecording {
			e.opt.Telephony.Record(c.caller, c.ID, true)
			c.Recorded = true
		}
		e.changed(c, what)
		if c.dial != nil {
			e.dialConnected(c, c.reachedMachine, ev.Cause)
		}
	case ref.role == callerLeg && ev.Type == LegHungUp && c.ConnectedAt != nil:
		e.opt.Telephony.Hangup(c.agent, "customer hung up")
		e.end(c, switchboard.SideCaller, ev.Cause)
	case ref.role == callerLeg && (ev.Type == LegBusy || ev.Type == LegNoAnswer || ev.Type == LegFailed || ev.Type == LegHungUp):
		d := map[LegEventType]switchboard.Disposition{LegBusy: switchboard.DispositionBusy, LegNoAnswer: switchboard.DispositionNoAnswer,
			LegFailed: switchboard.DispositionFailed, LegHungUp: switchboard.DispositionFailed}[ev.Type]
		e.endOutbound(c, d, switchboard.SideSystem, ev.Cause)
	}
}

// endOutbound ends a click-to-call that never connected to the customer and
// frees the agent.
func (e *Engine) endOutbound(c *call, d switchboard.Disposition, by switchboard.Side, cause string) {
	if c.agent != "" {
		e.opt.Telephony.Hangup(c.agent, cause)
		delete(e.legs, c.agent)
	}
	if c.caller != "" {
		e.opt.Telephony.Hangup(c.caller, cause)
	}
	e.failBy(c, d, by, cause)
	a := e.agents[*c.AgentID]
	e.setState(a, agentIdle)
	e.agentChanged(a.id, AgentFree)
	e.dispatchAgent(a)
}
