package engine

import (
	"time"

	"switchboard"
)

// The chat side of the engine's live views and monitoring.

// ChatStates lists every state Stats.Chats counts, so that monitoring
// reports zeros rather than missing series: waiting in a queue, offered
// (not yet accepted), active (accepted) and wrap_up.
var ChatStates = []string{"waiting", "offered", "active", "wrap_up"}

// chatState names c's state as Stats counts it.
func chatState(c *chatRT) string {
	switch {
	case c.agent == nil:
		return "waiting"
	case c.wrapping:
		return "wrap_up"
	case c.accepted:
		return "active"
	default:
		return "offered"
	}
}

// chatLive fills the chat fields of q's live view. e.mu is held.
func (e *Engine) chatLive(q *queueRT, l *switchboard.QueueLive) {
	now := e.opt.Clock.Now()
	l.ChatsWaiting = len(q.chat.waiting)
	if len(q.chat.waiting) > 0 {
		l.ChatLongestWait = max(now.Sub(q.chat.waiting[0].task.Since).Seconds(), 0)
	}
	capacity := 0 // the chat slots of the members signed in
	for _, m := range q.members {
		a, ok := e.agents[m.UserID]
		if !ok || a.status == switchboard.StatusOffline {
			continue
		}
		if _, ok := skillScore(q.cfg.RequiredSkills, a.skills); !ok {
			continue
		}
		capacity += a.chat.max
		l.AgentsChatCapacity += e.chatSlots(a)
		if e.chatSlots(a) > 0 {
			l.AgentsChatAvailable++
		}
	}
	for _, c := range e.chats {
		if c.q == q && c.agent != nil && !c.wrapping {
			l.ChatsActive++
		}
	}
	aht := q.chat.aht
	if aht == 0 {
		aht = defaultChatHandle
	}
	l.ChatAverageHandle = aht.Seconds()
	switch {
	case l.AgentsChatCapacity > 0:
		l.ChatEstimatedWait = 0
	case q.online == 0 || capacity == 0:
		l.ChatEstimatedWait = -1
	default:
		l.ChatEstimatedWait = PositionWait(l.ChatsWaiting+1, capacity, aht).Seconds()
	}
}

// chatStats adds the conversations to s. e.mu is held.
func (e *Engine) chatStats(s *Stats, now time.Time) {
	s.Chats = make(map[string]int, len(ChatStates))
	for _, st := range ChatStates {
		s.Chats[st] = 0
	}
	for _, c := range e.chats {
		s.Chats[chatState(c)]++
	}
	for i := range s.Queues {
		q := e.queues[s.Queues[i].ID]
		s.Queues[i].ChatsWaiting = len(q.chat.waiting)
		if len(q.chat.waiting) > 0 {
			s.Queues[i].ChatLongestWait = max(now.Sub(q.chat.waiting[0].task.Since).Seconds(), 0)
		}
	}
}
