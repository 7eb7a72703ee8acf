package conversation

import (
	"context"
	"fmt"
	"slices"

	"switchboard"
)

// Each move below runs under the conversation's lock: it checks the status
// it starts from on a fresh read, tells the engine, and writes the store
// with its event; a refused move is CodeConflict naming the current status.

// change applies fn to the conversation under its lock and wakes its
// watchers.
func (s *Service) change(ctx context.Context, tenantID, id int64, fn func(*switchboard.Conversation) (switchboard.ConversationUpdate, error)) (switchboard.Conversation, error) {
	c, err := s.store.UpdateConversationFunc(ctx, tenantID, id, fn)
	if err == nil {
		s.hub.wake(id)
	}
	return c, err
}

// Accept implements switchboard.Conversations: the agent it is assigned to
// takes it (in_progress). Accepting one already in progress with the same
// agent answers it as it is.
func (s *Service) Accept(ctx context.Context, tenantID, id, agentID int64) (switchboard.Conversation, error) {
	c, unlock, err := s.begin(ctx, tenantID, id)
	if err != nil {
		return c, err
	}
	defer unlock()
	if !held(c.Status) {
		return c, wrongStatus(c, "accepted")
	}
	if c.AgentID == nil || *c.AgentID != agentID {
		return c, switchboard.Errorf(switchboard.CodeForbidden, "conversation %d is assigned to another agent", id)
	}
	if c.Status == switchboard.ConversationInProgress {
		return c, nil
	}
	if err := s.opt.Router.AcceptChat(id, agentID); err != nil {
		return c, switchboard.Errorf(switchboard.CodeConflict, "cannot accept conversation %d: %v", id, err)
	}
	return s.change(ctx, tenantID, id, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		if c.Status != switchboard.ConversationAssigned || c.AgentID == nil || *c.AgentID != agentID {
			return switchboard.ConversationUpdate{}, wrongStatus(*c, "accepted")
		}
		c.Status = switchboard.ConversationInProgress
		return switchboard.ConversationUpdate{Event: switchboard.EventConversationInProgress}, nil
	})
}

// Transfer implements switchboard.Conversations: the conversation leaves
// its holder (no wrap-up) and waits in queueID from now, with the move
// recorded in Transfers and an activity line in the transcript.
func (s *Service) Transfer(ctx context.Context, tenantID, id, queueID int64, byAgent *int64) (switchboard.Conversation, error) {
	if _, err := s.store.Queue(ctx, tenantID, queueID); switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return switchboard.Conversation{}, invalid("queue_id", "is not a queue of this account")
	} else if err != nil {
		return switchboard.Conversation{}, err
	}
	c, unlock, err := s.begin(ctx, tenantID, id)
	if err != nil {
		return c, err
	}
	defer unlock()
	if c.Status.Ended() {
		return c, wrongStatus(c, "transferred")
	}
	now := s.now().UTC()
	line := switchboard.ConversationMessage{Direction: switchboard.Outbound, Kind: switchboard.KindActivity,
		Status: switchboard.ReceiptSent, AgentID: byAgent, Text: fmt.Sprintf("transferred to queue %d", queueID)}
	_, c, _, err = s.store.AddMessage(ctx, tenantID, withConversation(line, tenantID, id), func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		if c.Status.Ended() {
			return switchboard.ConversationUpdate{}, wrongStatus(*c, "transferred")
		}
		var from *int64
		if held(c.Status) {
			from = c.AgentID
		}
		c.Transfers = append(c.Transfers, switchboard.ConversationTransfer{FromQueueID: c.QueueID, ToQueueID: queueID,
			FromAgentID: from, ByAgentID: byAgent, At: now})
		c.Status, c.AgentID, c.QueueID, c.QueuedAt = switchboard.ConversationQueued, nil, ptr(queueID), &now
		return switchboard.ConversationUpdate{Event: switchboard.EventConversationTransferred}, nil
	})
	if err != nil {
		return c, err
	}
	if err := s.opt.Router.TransferChat(id, queueID, now); err != nil {
		// The engine did not have it (dismissed, or queued with no queue):
		// it enters the new queue afresh.
		s.route(c)
	}
	s.hub.wake(id)
	return c, nil
}

func withConversation(m switchboard.ConversationMessage, tenantID, id int64) switchboard.ConversationMessage {
	m.TenantID, m.ConversationID = tenantID, id
	return m
}

// Finish implements switchboard.Conversations. A conversation an agent
// holds is finished and its agent wraps up (the engine keeps the slot for
// the queue's wrap-up time); one the end user leaves before any agent
// wrote to them is abandoned; anything else open is finished without
// wrap-up. by defaults to system, reason to resolved (abandoned for an
// abandon).
func (s *Service) Finish(ctx context.Context, tenantID, id int64, by switchboard.Side, reason string) (switchboard.Conversation, error) {
	switch by {
	case "":
		by = switchboard.SideSystem
	case switchboard.SideEndUser, switchboard.SideAgent, switchboard.SideSystem:
	default:
		return switchboard.Conversation{}, invalid("ended_by", "must be end_user, agent or system")
	}
	if len(reason) > 200 {
		return switchboard.Conversation{}, invalid("reason", "must be at most 200 characters")
	}
	c, unlock, err := s.begin(ctx, tenantID, id)
	if err != nil {
		return c, err
	}
	defer unlock()
	if c.Status.Ended() {
		return c, wrongStatus(c, "finished")
	}
	status := switchboard.ConversationFinished
	if by == switchboard.SideEndUser && c.FirstResponseAt == nil {
		status = switchboard.ConversationAbandoned
	}
	wasHeld := held(c.Status)
	s.opt.Router.ReleaseChat(id, wasHeld && status == switchboard.ConversationFinished)
	now := s.now().UTC()
	return s.change(ctx, tenantID, id, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		if c.Status.Ended() {
			return switchboard.ConversationUpdate{}, wrongStatus(*c, "finished")
		}
		c.Status, c.EndedBy, c.EndedAt = status, by, &now
		c.EndReason = reason
		if c.EndReason == "" {
			c.EndReason = "resolved"
			if status == switchboard.ConversationAbandoned {
				c.EndReason = "abandoned"
			}
		}
		return switchboard.ConversationUpdate{Event: switchboard.ConversationStatusEvent(status)}, nil
	})
}

// Dismiss implements switchboard.Conversations: the holder lets it go
// (their slot is freed at once) and it waits, out of every queue and with
// no agent, until the end user writes again or Resume.
func (s *Service) Dismiss(ctx context.Context, tenantID, id int64) (switchboard.Conversation, error) {
	c, unlock, err := s.begin(ctx, tenantID, id)
	if err != nil {
		return c, err
	}
	defer unlock()
	if !held(c.Status) {
		return c, wrongStatus(c, "dismissed (only an assigned or in-progress one can)")
	}
	s.opt.Router.ReleaseChat(id, false)
	return s.change(ctx, tenantID, id, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		if c.Status.Ended() {
			return switchboard.ConversationUpdate{}, wrongStatus(*c, "dismissed")
		}
		c.Status, c.AgentID = switchboard.ConversationDismissed, nil
		return switchboard.ConversationUpdate{Event: switchboard.EventConversationDismissed}, nil
	})
}

// Resume implements switchboard.Conversations: a dismissed conversation
// waits in its queue again from now.
func (s *Service) Resume(ctx context.Context, tenantID, id int64) (switchboard.Conversation, error) {
	unlock := s.lockConv(id)
	defer unlock()
	now := s.now().UTC()
	c, err := s.change(ctx, tenantID, id, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		if c.Status != switchboard.ConversationDismissed {
			return switchboard.ConversationUpdate{}, wrongStatus(*c, "resumed (only a dismissed one can)")
		}
		c.Status, c.AgentID, c.QueuedAt = switchboard.ConversationQueued, nil, &now
		return switchboard.ConversationUpdate{Event: switchboard.EventConversationQueued}, nil
	})
	if err != nil {
		return c, err
	}
	s.route(c)
	return c, nil
}

// Deflect implements switchboard.Conversations: email and external_link
// end the conversation (deflected, by the end user, who chose the other
// channel); keep_waiting records the choice on a queued conversation and
// leaves it waiting.
func (s *Service) Deflect(ctx context.Context, tenantID, id int64, to string) (switchboard.Conversation, error) {
	switch to {
	case switchboard.DeflectEmail, switchboard.DeflectExternalLink, switchboard.DeflectKeepWaiting:
	default:
		return switchboard.Conversation{}, invalid("to", "must be email, external_link or keep_waiting")
	}
	if err := s.Sync(ctx); err != nil {
		return switchboard.Conversation{}, err
	}
	unlock := s.lockConv(id)
	defer unlock()
	if to == switchboard.DeflectKeepWaiting {
		return s.change(ctx, tenantID, id, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			if c.Status != switchboard.ConversationQueued {
				return switchboard.ConversationUpdate{}, wrongStatus(*c, "kept waiting (only a queued one can)")
			}
			c.Deflection = to
			return switchboard.ConversationUpdate{Event: switchboard.EventConversationUpdated}, nil
		})
	}
	c, err := s.store.Conversation(ctx, tenantID, id)
	if err != nil {
		return c, err
	}
	if c.Status.Ended() {
		return c, wrongStatus(c, "deflected")
	}
	s.opt.Router.ReleaseChat(id, false)
	now := s.now().UTC()
	return s.change(ctx, tenantID, id, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		if c.Status.Ended() {
			return switchboard.ConversationUpdate{}, wrongStatus(*c, "deflected")
		}
		c.Status, c.Deflection, c.EndedBy, c.EndReason, c.EndedAt = switchboard.ConversationDeflected, to, switchboard.SideEndUser, "deflected", &now
		return switchboard.ConversationUpdate{Event: switchboard.EventConversationDeflected}, nil
	})
}

// Update implements switchboard.Conversations: fn may change the
// language, the customer flags, the unsigned context and the end user's
// name, email and phone; anything else it changes is put back.
func (s *Service) Update(ctx context.Context, tenantID, id int64, fn func(*switchboard.Conversation) error) (switchboard.Conversation, error) {
	unlock := s.lockConv(id)
	defer unlock()
	return s.change(ctx, tenantID, id, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		was := *c
		was.Flags = slices.Clone(c.Flags)
		if err := fn(c); err != nil {
			return switchboard.ConversationUpdate{}, err
		}
		next := was
		next.Language, next.Flags, next.Context.Unsigned = c.Language, c.Flags, c.Context.Unsigned
		next.EndUser.Name, next.EndUser.Email, next.EndUser.Phone = c.EndUser.Name, c.EndUser.Email, c.EndUser.Phone
		p := switchboard.Problems{}
		if len(next.Language) > 35 {
			p.Add("language", "must be at most 35 characters")
		}
		if len(next.Flags) > 50 {
			p.Add("customer_flags", "must be at most 50 flags")
		}
		for _, f := range next.Flags {
			if f == "" || len(f) > 64 {
				p.Add("customer_flags", "must be words of 1 to 64 characters")
			}
		}
		if err := next.EndUser.Validate(); err != nil {
			for k, v := range switchboard.ErrorFields(err) {
				p.Add(k, v)
			}
		}
		if err := p.Err(); err != nil {
			return switchboard.ConversationUpdate{}, err
		}
		*c = next
		return switchboard.ConversationUpdate{Event: switchboard.EventConversationUpdated}, nil
	})
}

// begin starts a move of conversation id: it waits for the engine's
// decisions reported so far (Sync), takes the conversation's lock (which
// the applier's writes take too) and reads it. The caller calls unlock
// when done, unless err is set.
func (s *Service) begin(ctx context.Context, tenantID, id int64) (c switchboard.Conversation, unlock func(), err error) {
	if err := s.Sync(ctx); err != nil {
		return c, nil, err
	}
	unlock = s.lockConv(id)
	if c, err = s.store.Conversation(ctx, tenantID, id); err != nil {
		unlock()
		return c, nil, err
	}
	return c, unlock, nil
}
