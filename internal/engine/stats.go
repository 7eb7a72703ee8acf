package engine

import (
	"sort"

	"switchboard"
)

// Stats is the engine's state at one moment, for monitoring.
type Stats struct {
	// Calls counts the calls in progress by status (queued, ringing,
	// connected, …).
	Calls map[string]int
	// Agents counts the known agents by state: offline, available (idle in a
	// status that receives calls), away (idle in one that does not), ringing,
	// in_call and wrap_up.
	Agents map[string]int
	// Chats counts the conversations the engine routes by state (see
	// ChatStates).
	Chats map[string]int
	// Queues lists every queue, ordered by id.
	Queues []QueueStats
}

// QueueStats is one queue's backlog.
type QueueStats struct {
	ID, TenantID int64
	Waiting      int
	// LongestWait is how long the caller waiting longest has waited, in
	// seconds; 0 when nobody waits.
	LongestWait float64
	// ChatsWaiting counts the conversations waiting for an agent, and
	// ChatLongestWait is how long the first of them has waited, in seconds.
	ChatsWaiting    int
	ChatLongestWait float64
}

// AgentStates lists every state Stats.Agents may count, so that monitoring
// reports zeros rather than missing series.
var AgentStates = []string{"offline", "available", "away", "ringing", "in_call", "wrap_up"}

// Stats reports the engine's state now. It holds the engine's lock for one
// pass over its calls, agents and queues.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.opt.Clock.Now()
	s := Stats{Calls: map[string]int{}, Agents: map[string]int{}}
	for _, st := range AgentStates {
		s.Agents[st] = 0
	}
	for _, c := range e.calls {
		if c.EndedAt == nil {
			s.Calls[string(c.Status)]++
		}
	}
	for _, a := range e.agents {
		st := "offline"
		switch {
		case a.status == switchboard.StatusOffline && a.state == agentIdle:
		case a.state == agentRinging:
			st = "ringing"
		case a.state == agentBusy:
			st = "in_call"
		case a.state == agentWrapUp:
			st = "wrap_up"
		case a.available:
			st = "available"
		default:
			st = "away"
		}
		s.Agents[st]++
	}
	for id, q := range e.queues {
		qs := QueueStats{ID: id, TenantID: q.cfg.TenantID, Waiting: len(q.waiting)}
		for _, c := range q.waiting {
			if c.QueuedAt != nil {
				qs.LongestWait = max(qs.LongestWait, now.Sub(*c.QueuedAt).Seconds())
			}
		}
		s.Queues = append(s.Queues, qs)
	}
	sort.Slice(s.Queues, func(i, j int) bool { return s.Queues[i].ID < s.Queues[j].ID })
	e.chatStats(&s, now)
	return s
}
