package engine

import (
	"fmt"

	"switchboard"
)

// The chat routing invariants, for the tests that drive the engine with
// scripted end users and agents (chatinvariant_test.go).

// CheckChatChangeLocked checks, while the engine's lock is held (from a
// ChatObserver), the invariants that must hold at every routing decision:
// no agent holds more than their MaxChats, no conversation is held by two
// agents, an offer goes only to an eligible member, waiting conversations
// of a queue are offered in order of Since among those the agent may have
// (that is, every one ahead that still waits was offered to them in its
// current round), and no agent on a call holds more than MaxChatsOnCall.
func (e *Engine) CheckChatChangeLocked(ch ChatChange) error {
	holder := map[int64]int64{}
	for _, a := range e.agents {
		if len(a.chat.held) > a.chat.max {
			return fmt.Errorf("agent %d holds %d conversations, over their %d", a.id, len(a.chat.held), a.chat.max)
		}
		if a.state != agentIdle && len(a.chat.held) > e.opt.MaxChatsOnCall {
			return fmt.Errorf("agent %d is on a call (state %d) and holds %d conversations, over %d", a.id, a.state, len(a.chat.held), e.opt.MaxChatsOnCall)
		}
		for id, c := range a.chat.held {
			if other, ok := holder[id]; ok {
				return fmt.Errorf("conversation %d is held by agents %d and %d", id, other, a.id)
			}
			holder[id] = a.id
			if c.agent != a || e.chats[id] != c {
				return fmt.Errorf("conversation %d is in agent %d's hand but not theirs", id, a.id)
			}
		}
	}
	if ch.What != ChatOffered {
		return nil
	}
	c, a := e.chats[ch.Task.ID], e.agents[ch.AgentID]
	if c == nil || a == nil || c.agent != a {
		return fmt.Errorf("conversation %d was offered to agent %d, who does not hold it", ch.Task.ID, ch.AgentID)
	}
	q := c.q
	if _, member := q.member[a.id]; !member {
		return fmt.Errorf("conversation %d was offered to agent %d, not a member of queue %d", c.task.ID, a.id, q.cfg.ID)
	}
	if a.status == switchboard.StatusOffline || !a.available {
		return fmt.Errorf("conversation %d was offered to agent %d in status %q", c.task.ID, a.id, a.status)
	}
	if a.state != agentIdle && len(a.chat.held)-1 >= e.opt.MaxChatsOnCall {
		return fmt.Errorf("conversation %d was offered to agent %d on a call holding %d", c.task.ID, a.id, len(a.chat.held)-1)
	}
	if _, ok := skillScore(q.cfg.RequiredSkills, a.skills); !ok {
		return fmt.Errorf("conversation %d was offered to agent %d, who lacks the queue's skills", c.task.ID, a.id)
	}
	for _, w := range q.chat.waiting {
		if chatOrder(w, c) >= 0 {
			break
		}
		if !w.tried[a.id] {
			return fmt.Errorf("conversation %d was offered to agent %d while %d, ahead of it, waits untried by them", c.task.ID, a.id, w.task.ID)
		}
	}
	return nil
}

// CheckChatsQuiescent checks, between instants of virtual time, that the
// engine conserves work: no conversation waits in a queue while one of its
// members could be offered it, and no agent on a call holds more than
// MaxChatsOnCall.
func (e *Engine) CheckChatsQuiescent() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.agents {
		if a.state != agentIdle && len(a.chat.held) > e.opt.MaxChatsOnCall {
			return fmt.Errorf("agent %d is on a call and holds %d conversations", a.id, len(a.chat.held))
		}
	}
	for _, q := range e.queues {
		if len(q.chat.waiting) == 0 {
			continue
		}
		if elig := e.chatEligible(q); len(elig) > 0 {
			return fmt.Errorf("queue %d has %d conversations waiting while agent %d has %d free slots",
				q.cfg.ID, len(q.chat.waiting), elig[0].id, e.chatSlots(elig[0]))
		}
	}
	return nil
}
