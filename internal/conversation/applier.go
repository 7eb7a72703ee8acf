package conversation

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"switchboard"
	"switchboard/internal/engine"
)

// The applier records the engine's routing decisions in the store, in the
// order the engine made them, on one goroutine: the engine reports them
// under its lock (ChatChanged only appends), and a slow store delays the
// record, never routing.
//
// A decision is written only while it still holds: an offer is recorded
// (assigned, the agent, assigned_at) when the agent still holds the
// conversation in the engine and the store does not already show it in
// progress with them (a claim); a requeue is recorded (queued, no agent)
// when the store shows the conversation held by that agent and the engine
// no longer does. Together with lockConv this keeps a decision the engine
// made before one of the service's own changes from overwriting it.

// applyAttempts bounds how often one decision is tried against a failing
// store before it is logged as lost.
const applyAttempts = 5

type applier struct {
	s *Service

	mu       sync.Mutex
	queue    []engine.ChatChange
	enqueued uint64
	done     uint64
	waiters  []syncWaiter
	closing  bool
	wake     chan struct{}
	stopped  chan struct{}
}

type syncWaiter struct {
	target uint64
	ch     chan struct{}
}

func newApplier(s *Service) *applier {
	return &applier{s: s, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// ChatChanged implements engine.ChatObserver: it only queues the change.
func (a *applier) ChatChanged(ch engine.ChatChange) {
	a.mu.Lock()
	a.queue = append(a.queue, ch)
	a.enqueued++
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *applier) start() { go a.run() }

func (a *applier) run() {
	defer close(a.stopped)
	for {
		a.mu.Lock()
		batch := a.queue
		a.queue = nil
		closing := a.closing
		a.mu.Unlock()
		if len(batch) == 0 {
			if closing {
				return
			}
			<-a.wake
			continue
		}
		for _, ch := range batch {
			a.s.record(ch)
			a.mu.Lock()
			a.done++
			a.waiters = slices.DeleteFunc(a.waiters, func(w syncWaiter) bool {
				if w.target <= a.done {
					close(w.ch)
					return true
				}
				return false
			})
			a.mu.Unlock()
		}
	}
}

// sync waits until every change queued before the call is recorded.
func (a *applier) sync(ctx context.Context) error {
	a.mu.Lock()
	if a.done >= a.enqueued {
		a.mu.Unlock()
		return nil
	}
	w := syncWaiter{target: a.enqueued, ch: make(chan struct{})}
	a.waiters = append(a.waiters, w)
	a.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close drains the queue and stops the goroutine.
func (a *applier) close(ctx context.Context) error {
	a.mu.Lock()
	already := a.closing
	a.closing = true
	a.mu.Unlock()
	if !already {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
	select {
	case <-a.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// record writes one routing decision, retrying a failing store a few times.
func (s *Service) record(ch engine.ChatChange) {
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := s.recordOnce(ch)
		if err == nil || errors.Is(err, errSkip) || switchboard.ErrorCode(err) == switchboard.CodeNotFound {
			s.hub.wake(ch.Task.ID)
			return
		}
		if attempt >= applyAttempts {
			s.log.Error("conversation: routing decision not recorded", "tenant_id", ch.Task.TenantID,
				"conversation_id", ch.Task.ID, "what", ch.What, "agent_id", ch.AgentID, "err", err)
			return
		}
		time.Sleep(backoff)
		backoff *= 2
	}
}

func (s *Service) recordOnce(ch engine.ChatChange) error {
	unlock := s.lockConv(ch.Task.ID)
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	holds := slices.Contains(s.opt.Router.AgentChats(ch.AgentID), ch.Task.ID)
	now := s.now().UTC()
	_, err := s.store.UpdateConversationFunc(ctx, ch.Task.TenantID, ch.Task.ID, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		if c.Status.Ended() {
			return switchboard.ConversationUpdate{}, errSkip
		}
		switch ch.What {
		case engine.ChatOffered:
			if !holds {
				return switchboard.ConversationUpdate{}, errSkip // superseded: a later decision says where it went
			}
			if held(c.Status) && c.AgentID != nil && *c.AgentID == ch.AgentID {
				return switchboard.ConversationUpdate{}, errSkip // already recorded (a claim the service wrote)
			}
			c.Status, c.AgentID, c.AssignedAt = switchboard.ConversationAssigned, ptr(ch.AgentID), &now
			if ch.Task.QueueID != 0 && (c.QueueID == nil || *c.QueueID != ch.Task.QueueID) {
				c.QueueID = ptr(ch.Task.QueueID)
			}
			return switchboard.ConversationUpdate{Event: switchboard.EventConversationAssigned}, nil
		case engine.ChatRequeued:
			if holds || !held(c.Status) || c.AgentID == nil || *c.AgentID != ch.AgentID {
				return switchboard.ConversationUpdate{}, errSkip
			}
			c.Status, c.AgentID = switchboard.ConversationQueued, nil
			return switchboard.ConversationUpdate{Event: switchboard.EventConversationRequeued}, nil
		}
		return switchboard.ConversationUpdate{}, errSkip
	})
	return err
}

// hub wakes the watchers of conversations: the web-chat long poll and SSE
// stream of this node re-read when woken.
type hub struct {
	mu       sync.Mutex
	watchers map[int64]map[chan struct{}]struct{}
}

func newHub() *hub { return &hub{watchers: map[int64]map[chan struct{}]struct{}{}} }

func (h *hub) add(id int64) (chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	set := h.watchers[id]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		h.watchers[id] = set
	}
	set[ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.watchers[id], ch)
			if len(h.watchers[id]) == 0 {
				delete(h.watchers, id)
			}
			h.mu.Unlock()
		})
	}
}

func (h *hub) wake(id int64) {
	h.mu.Lock()
	for ch := range h.watchers[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	h.mu.Unlock()
}

func (h *hub) wakeAll() {
	h.mu.Lock()
	for _, set := range h.watchers {
		for ch := range set {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
	h.mu.Unlock()
}

// Watch implements switchboard.Conversations: the channel wakes on every
// change this node makes to the conversation, and at least every
// PollInterval.
func (s *Service) Watch(tenantID, conversationID int64) (<-chan struct{}, func()) {
	return s.hub.add(conversationID)
}
