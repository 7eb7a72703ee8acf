package engine

import (
	"time"

	"switchboard"
)

// QueueLive reports q's state now; ok is false for a queue the engine does not
// run, or one of another tenant.
func (e *Engine) QueueLive(tenantID, queueID int64) (switchboard.QueueLive, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	q, ok := e.queues[queueID]
	if !ok || q.cfg.TenantID != tenantID {
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
			if a.available && a.device != "" && !a.unreachable {
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
	if n := len(q.arrivals); n >= 2 {
		if span := q.arrivals[n-1].Sub(q.arrivals[0]); span > 0 {
			l.ArrivalsPerHour = float64(n-1) / span.Hours()
			if l.AgentsOnline > 0 {
				if s, err := ErlangCStaffing(l.ArrivalsPerHour, aht, l.AgentsOnline, 0); err == nil {
					l.ErlangCWait = s.ASA.Seconds()
				} else {
					l.ErlangCWait = -1
				}
			} else {
				l.ErlangCWait = -1
			}
		}
	}
	switch {
	case l.AgentsAvailable > 0:
		l.EstimatedWait = 0
	case l.AgentsOnline == 0:
		l.EstimatedWait = -1
	default:
		l.EstimatedWait = PositionWait(l.CallsWaiting+1, l.AgentsOnline, aht).Seconds()
	}
	e.chatLive(q, &l)
	return l, true
}

// defaultHandle stands in for a queue's handle time until a call has ended.
const defaultHandle = 3 * time.Minute

// AgentLive reports what the agent is doing now: their routing state and the
// calls they are ringing for or talking on. Device registration is the
// driver's to say.
func (e *Engine) AgentLive(userID int64) switchboard.AgentLive {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := switchboard.AgentLive{State: "idle"}
	a, ok := e.agents[userID]
	if !ok {
		return l
	}
	l.State = map[agentState]string{agentIdle: "idle", agentRinging: "ringing", agentBusy: "in_call", agentWrapUp: "wrap_up"}[a.state]
	for _, c := range e.calls {
		talking := c.AgentID != nil && *c.AgentID == userID && c.ConnectedAt != nil
		ringing := false
		for _, id := range c.ringing {
			ringing = ringing || id == userID
		}
		if talking || ringing {
			l.CallsInProgress++
		}
	}
	for _, c := range a.chat.held {
		if !c.wrapping {
			l.ChatsInProgress++
		}
	}
	return l
}

// Hold puts a connected call's caller on hold (music) or takes them off it;
// the time on hold is added to the call's Hold.
