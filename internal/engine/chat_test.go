package engine_test

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

// chatWorld is one tenant's engine on the simulated telephony under a
// virtual clock, keeping every routing decision about conversations.
type chatWorld struct {
	clock   *engine.VirtualClock
	drv     *sim.Driver
	eng     *engine.Engine
	changes []engine.ChatChange
}

func (w *chatWorld) ChatChanged(ch engine.ChatChange)             { w.changes = append(w.changes, ch) }
func (w *chatWorld) CallChanged(c *switchboard.Call, what string) {}

// newChatWorld starts an engine with opt's chat settings and agents 1…n,
// signed in and available, whose phones answer after a second.
func newChatWorld(t *testing.T, opt engine.Options, agents int) *chatWorld {
	t.Helper()
	clock := engine.NewVirtualClock(dialStart)
	drv := sim.New(clock)
	w := &chatWorld{clock: clock, drv: drv}
	opt.Clock, opt.Telephony, opt.Observer = clock, drv, w
	opt.Router = engine.NewRouter(rand.New(rand.NewPCG(1, 1)))
	opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	w.eng = engine.New(opt)
	w.eng.SetChatObserver(w)
	drv.SetEngine(w.eng)
	for i := 1; i <= agents; i++ {
		id := int64(i)
		name := fmt.Sprintf("dev%d", id)
		drv.SetDevice(name, sim.Device{Registered: true, Behavior: sim.Answer, AnswerAfter: time.Second})
		w.eng.SetAgent(id, name)
		w.eng.SetUserRoutes(id, tenant, nil)
		w.eng.SetStatus(id, switchboard.StatusAvailable, true)
	}
	t.Cleanup(w.eng.Close)
	return w
}

// queue installs queue id (linear unless q says otherwise) with the given
// members in that order, reachable on number "+1555000020<id>".
func (w *chatWorld) queue(id int64, q switchboard.Queue, members ...int64) {
	q.ID, q.TenantID = id, tenant
	if q.Strategy == "" {
		q.Strategy = switchboard.StrategyLinear
	}
	q.Normalize()
	var ms []switchboard.QueueMember
	for i, u := range members {
		ms = append(ms, switchboard.QueueMember{QueueID: id, UserID: u, Position: i + 1})
	}
	w.eng.SetQueue(q, ms, fmt.Sprintf("+1555000020%d", id))
}

// chat queues conversation id in queue q, waiting from now.
func (w *chatWorld) chat(t *testing.T, id, q int64) {
	t.Helper()
	if err := w.eng.QueueChat(w.task(id, q)); err != nil {
		t.Fatalf("QueueChat(%d): %v", id, err)
	}
}

func (w *chatWorld) task(id, q int64) engine.ChatTask {
	return engine.ChatTask{ID: id, TenantID: tenant, QueueID: q, Channel: switchboard.ChannelWebChat, Since: w.clock.Now()}
}

// log renders the changes since the last call: "offered 5→2", "requeued 5←2 (offer timeout)".
func (w *chatWorld) log() []string {
	var out []string
	for _, ch := range w.changes {
		switch ch.What {
		case engine.ChatOffered:
			out = append(out, fmt.Sprintf("offered %d→%d", ch.Task.ID, ch.AgentID))
		default:
			out = append(out, fmt.Sprintf("%s %d←%d (%s)", ch.What, ch.Task.ID, ch.AgentID, ch.Reason))
		}
	}
	w.changes = nil
	return out
}

func (w *chatWorld) expect(t *testing.T, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, w.log()); diff != "" {
		t.Errorf("chat routing (-want +got):\n%s", diff)
	}
}

func (w *chatWorld) held(t *testing.T, agent int64, want ...int64) {
	t.Helper()
	if got := w.eng.AgentChats(agent); !slices.Equal(got, want) {
		t.Errorf("agent %d holds %v, want %v", agent, got, want)
	}
}

// call places an inbound call to queue q; the caller stays until hung up.
func (w *chatWorld) call(t *testing.T, q int64) int64 {
	t.Helper()
	_, id, err := w.drv.Call(callerID, fmt.Sprintf("+1555000020%d", q), sim.Script{})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestChatCapacity(t *testing.T) {
	w := newChatWorld(t, engine.Options{}, 1)
	w.queue(1, switchboard.Queue{}, 1)
	for id := int64(1); id <= 5; id++ {
		w.chat(t, id, 1)
	}
	w.expect(t, "offered 1→1", "offered 2→1", "offered 3→1")
	w.held(t, 1, 1, 2, 3)
	w.eng.ReleaseChat(2, false)
	w.expect(t, "offered 4→1")
	w.eng.SetMaxChats(1, 5)
	w.expect(t, "offered 5→1")
	w.held(t, 1, 1, 3, 4, 5)
	w.eng.SetMaxChats(1, 1)
	w.eng.ReleaseChat(1, false)
	w.chat(t, 6, 1)
	w.expect(t)
}

func TestChatFewestInHandFirst(t *testing.T) {
	w := newChatWorld(t, engine.Options{}, 3)
	w.queue(1, switchboard.Queue{}, 1, 2, 3)
	for id := int64(1); id <= 5; id++ {
		w.chat(t, id, 1)
	}
	// Linear would give agent 1 all three: within a tier the fewest in
	// hand come first, the strategy only breaks the tie.
	w.expect(t, "offered 1→1", "offered 2→2", "offered 3→3", "offered 4→1", "offered 5→2")
}

func TestChatEligibility(t *testing.T) {
	tests := []struct {
		name  string
		setup func(w *chatWorld)
		want  []string
	}{
		{"offline agents are not offered chats", func(w *chatWorld) {
			w.eng.SetStatus(1, switchboard.StatusOffline, false)
		}, []string{"offered 1→2"}},
		{"a status that takes no calls takes no chats", func(w *chatWorld) {
			w.eng.SetStatus(1, "Break", false)
		}, []string{"offered 1→2"}},
		{"a chat needs no phone", func(w *chatWorld) {
			w.eng.SetReachable("dev1", false)
		}, []string{"offered 1→1"}},
		{"required skills", func(w *chatWorld) {
			w.queue(1, switchboard.Queue{RequiredSkills: []switchboard.QueueSkill{{SkillID: 9, MinProficiency: 3}}}, 1, 2)
			w.eng.SetSkills(1, map[int64]int{9: 2})
			w.eng.SetSkills(2, map[int64]int{9: 4})
		}, []string{"offered 1→2"}},
		{"no capacity", func(w *chatWorld) {
			w.eng.SetMaxChats(1, 0)
		}, []string{"offered 1→2"}},
		{"nobody eligible: it waits", func(w *chatWorld) {
			w.eng.SetStatus(1, switchboard.StatusOffline, false)
			w.eng.SetMaxChats(2, 0)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newChatWorld(t, engine.Options{}, 2)
			w.queue(1, switchboard.Queue{}, 1, 2)
			tt.setup(w)
			w.changes = nil
			w.chat(t, 1, 1)
			w.expect(t, tt.want...)
		})
	}
}

func TestChatAgentBecomingAvailableIsOffered(t *testing.T) {
	w := newChatWorld(t, engine.Options{}, 1)
	w.queue(1, switchboard.Queue{}, 1)
	w.eng.SetStatus(1, "Break", false)
	w.chat(t, 1, 1)
	w.chat(t, 2, 1)
	w.expect(t)
	w.eng.SetStatus(1, switchboard.StatusAvailable, true)
	w.expect(t, "offered 1→1", "offered 2→1")
}

func TestChatsAndCallsDoNotMixByDefault(t *testing.T) {
	w := newChatWorld(t, engine.Options{}, 2)
	w.queue(1, switchboard.Queue{}, 1, 2)
	w.chat(t, 1, 1)
	w.expect(t, "offered 1→1")
	// Agent 1 holds a chat: the call rings agent 2.
	c := w.call(t, 1)
	w.clock.Advance(2 * time.Second)
	if got := w.eng.AgentLive(2); got.State != "in_call" {
		t.Fatalf("agent 2 is %q, want in_call", got.State)
	}
	if got := w.eng.AgentLive(1); got.State != "idle" || got.ChatsInProgress != 1 {
		t.Fatalf("agent 1 is %+v, want idle holding a chat", got)
	}
	// Agent 2 is on a call: the next chat goes to agent 1.
	w.chat(t, 2, 1)
	w.expect(t, "offered 2→1")
	w.eng.Hangup(c)
	w.clock.Advance(time.Minute) // wrap-up
	w.chat(t, 3, 1)
	w.expect(t, "offered 3→2")
}

func TestMaxChatsOnCall(t *testing.T) {
	w := newChatWorld(t, engine.Options{MaxChatsOnCall: 1}, 1)
	w.queue(1, switchboard.Queue{WrapUpSeconds: 0}, 1)
	c := w.call(t, 1)
	w.clock.Advance(2 * time.Second)
	if got := w.eng.AgentLive(1); got.State != "in_call" {
		t.Fatalf("agent 1 is %q, want in_call", got.State)
	}
	// On a call: one chat, not two.
	w.chat(t, 1, 1)
	w.chat(t, 2, 1)
	w.expect(t, "offered 1→1")
	// The call ends: the second follows.
	w.eng.Hangup(c)
	w.expect(t, "offered 2→1")
	// Holding two chats, the agent is not free for a call...
	c = w.call(t, 1)
	w.clock.Advance(5 * time.Second)
	if got := w.eng.AgentLive(1); got.State != "idle" || got.ChatsInProgress != 2 {
		t.Fatalf("agent 1 is %+v, want idle with 2 chats", got)
	}
	// ... and is once down to one.
	w.eng.ReleaseChat(2, false)
	w.clock.Advance(2 * time.Second)
	if got := w.eng.AgentLive(1); got.State != "in_call" {
		t.Fatalf("agent 1 is %q, want in_call once they hold one chat", got.State)
	}
	w.chat(t, 3, 1)
	w.expect(t)
	w.eng.Hangup(c)
	w.expect(t, "offered 3→1")
}

func TestChatWrapUpHoldsTheSlot(t *testing.T) {
	w := newChatWorld(t, engine.Options{}, 1)
	w.queue(1, switchboard.Queue{WrapUpSeconds: 30}, 1)
	w.eng.SetMaxChats(1, 1)
	w.chat(t, 1, 1)
	w.chat(t, 2, 1)
	w.expect(t, "offered 1→1")
	if err := w.eng.AcceptChat(1, 1); err != nil {
		t.Fatal(err)
	}
	w.eng.ReleaseChat(1, true)
	w.held(t, 1, 1)
	w.clock.Advance(29 * time.Second)
	w.expect(t)
	w.clock.Advance(time.Second)
	w.expect(t, "offered 2→1")
	w.held(t, 1, 2)
	// Without wrap-up the slot is free at once.
	w.chat(t, 3, 1)
	w.eng.ReleaseChat(2, false)
	w.expect(t, "offered 3→1")
	// A release without wrap-up during one cuts it short.
	w.eng.ReleaseChat(3, true)
	w.chat(t, 4, 1)
	w.expect(t)
	w.eng.ReleaseChat(3, false)
	w.expect(t, "offered 4→1")
}

func TestChatOfferTimeout(t *testing.T) {
	w := newChatWorld(t, engine.Options{ChatOfferTimeout: 20 * time.Second}, 3)
	w.queue(1, switchboard.Queue{}, 1, 2, 3)
	w.chat(t, 1, 1)
	w.expect(t, "offered 1→1")
	w.clock.Advance(20 * time.Second)
	w.expect(t, "requeued 1←1 (offer timeout)", "offered 1→2")
	w.clock.Advance(20 * time.Second)
	w.expect(t, "requeued 1←2 (offer timeout)", "offered 1→3")
	// Everyone had it: a new round starts with the first again.
	w.clock.Advance(20 * time.Second)
	w.expect(t, "requeued 1←3 (offer timeout)", "offered 1→1")
	if err := w.eng.AcceptChat(1, 2); err == nil {
		t.Error("agent 2 accepted a chat offered to agent 1")
	}
	if err := w.eng.AcceptChat(1, 1); err != nil {
		t.Fatal(err)
	}
	if err := w.eng.AcceptChat(1, 1); err != nil {
		t.Errorf("accepting twice: %v", err)
	}
	w.clock.Advance(time.Hour)
	w.expect(t)
	w.held(t, 1, 1)
}

func TestChatOfferTimeoutKeepsItsPlace(t *testing.T) {
	w := newChatWorld(t, engine.Options{ChatOfferTimeout: 20 * time.Second}, 2)
	w.queue(1, switchboard.Queue{}, 1, 2)
	w.eng.SetMaxChats(1, 1)
	w.eng.SetMaxChats(2, 1)
	w.chat(t, 1, 1)
	w.chat(t, 2, 1)
	w.clock.Advance(time.Second)
	w.chat(t, 3, 1)
	w.expect(t, "offered 1→1", "offered 2→2")
	if err := w.eng.AcceptChat(2, 2); err != nil {
		t.Fatal(err)
	}
	// Chat 1 times out at agent 1: it is still ahead of chat 3, and agent 1
	// is the only one free: the next round offers it to them again.
	w.clock.Advance(19 * time.Second)
	w.expect(t, "requeued 1←1 (offer timeout)", "offered 1→1")
	l, _ := w.eng.QueueLive(tenant, 1)
	if l.ChatsWaiting != 1 || l.ChatLongestWait != 19 {
		t.Errorf("live: %d waiting, longest %v s; want chat 3 waiting 19 s", l.ChatsWaiting, l.ChatLongestWait)
	}
}

func TestChatSignOutRequeues(t *testing.T) {
	w := newChatWorld(t, engine.Options{}, 2)
	w.queue(1, switchboard.Queue{WrapUpSeconds: 60}, 1, 2)
	w.eng.SetMaxChats(2, 0)
	w.chat(t, 1, 1)
	w.clock.Advance(time.Second)
	w.chat(t, 2, 1)
	w.clock.Advance(time.Second)
	w.chat(t, 3, 1)
	w.expect(t, "offered 1→1", "offered 2→1", "offered 3→1")
	if err := w.eng.AcceptChat(1, 1); err != nil {
		t.Fatal(err)
	}
	w.eng.ReleaseChat(3, true) // wrapping up: stays
	w.clock.Advance(time.Second)
	w.chat(t, 4, 1)
	w.eng.SetStatus(1, switchboard.StatusOffline, false)
	w.expect(t, "requeued 1←1 (agent signed out)", "requeued 2←1 (agent signed out)")
	w.held(t, 1, 3)
	// They keep their place: 1 and 2 before 4.
	w.eng.SetMaxChats(2, 2)
	w.expect(t, "offered 1→2", "offered 2→2")
}

func TestChatTransfer(t *testing.T) {
	w := newChatWorld(t, engine.Options{}, 2)
	w.queue(1, switchboard.Queue{WrapUpSeconds: 60}, 1)
	w.queue(2, switchboard.Queue{}, 2)
	w.eng.SetMaxChats(1, 1)
	w.chat(t, 1, 1)
	w.chat(t, 2, 1)
	w.expect(t, "offered 1→1")
	if err := w.eng.AcceptChat(1, 1); err != nil {
		t.Fatal(err)
	}
	if err := w.eng.TransferChat(1, 99, w.clock.Now()); err == nil {
		t.Error("transfer to an unknown queue")
	}
	if err := w.eng.TransferChat(77, 2, w.clock.Now()); err == nil {
		t.Error("transfer of an unknown conversation")
	}
	w.eng.SetQueue(switchboard.Queue{ID: 3, TenantID: tenant + 1, Strategy: switchboard.StrategyLinear}, nil)
	if err := w.eng.TransferChat(1, 3, w.clock.Now()); err == nil {
		t.Error("transfer to another tenant's queue")
	}
	// The holder's slot is freed at once (no wrap-up): chat 2 follows.
	if err := w.eng.TransferChat(1, 2, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	w.expect(t, "offered 1→2", "offered 2→1")
	w.held(t, 1, 2)
	w.held(t, 2, 1)
	// A waiting one moves too.
	w.eng.SetMaxChats(2, 1)
	w.chat(t, 3, 1)
	if err := w.eng.TransferChat(3, 2, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if l, _ := w.eng.QueueLive(tenant, 2); l.ChatsWaiting != 1 || l.ChatsActive != 1 {
		t.Errorf("queue 2: %d waiting, %d active; want 1 and 1", l.ChatsWaiting, l.ChatsActive)
	}
	if l, _ := w.eng.QueueLive(tenant, 1); l.ChatsWaiting != 0 {
		t.Errorf("queue 1: %d waiting, want 0", l.ChatsWaiting)
	}
}

func TestChatRestoreAndClaim(t *testing.T) {
	w := newChatWorld(t, engine.Options{}, 2)
	w.queue(1, switchboard.Queue{}, 1)
	w.eng.SetMaxChats(1, 2)
	// Restored beyond capacity: held, but nothing new is offered.
	for id := int64(1); id <= 3; id++ {
		w.eng.RestoreChat(w.task(id, 1), 1)
	}
	w.eng.RestoreChat(w.task(4, 0), 1)
	w.held(t, 1, 1, 2, 3, 4)
	w.chat(t, 5, 1)
	w.expect(t)
	if err := w.eng.AcceptChat(2, 1); err != nil {
		t.Errorf("restored chats are held: %v", err)
	}
	w.eng.ReleaseChat(1, true)
	w.eng.ReleaseChat(4, true) // no queue: no wrap-up
	w.eng.ReleaseChat(2, false)
	w.expect(t, "offered 5→1")
	w.held(t, 1, 3, 5)

	// Claims.
	if err := w.eng.ClaimChat(w.task(6, 0), 1); err == nil || !strings.Contains(err.Error(), "maximum") {
		t.Errorf("claim beyond capacity: %v", err)
	}
	w.eng.SetStatus(2, switchboard.StatusOffline, false)
	if err := w.eng.ClaimChat(w.task(6, 0), 2); err == nil {
		t.Error("an agent signed out claimed a chat")
	}
	w.eng.SetStatus(2, "Break", false)
	if err := w.eng.ClaimChat(w.task(6, 0), 2); err != nil {
		t.Fatalf("claim of a chat with no queue: %v", err)
	}
	if err := w.eng.ClaimChat(w.task(5, 1), 2); err == nil {
		t.Error("claimed a chat another agent holds")
	}
	w.eng.SetMaxChats(1, 0)
	w.chat(t, 7, 1)
	if err := w.eng.ClaimChat(w.task(7, 1), 2); err != nil {
		t.Fatalf("claim of a waiting chat: %v", err)
	}
	w.expect(t, "offered 6→2", "offered 7→2")
	w.held(t, 2, 6, 7)
	if err := w.eng.AcceptChat(7, 2); err != nil {
		t.Errorf("a claim is accepted: %v", err)
	}
	if l, _ := w.eng.QueueLive(tenant, 1); l.ChatsWaiting != 0 {
		t.Errorf("a claimed chat still waits: %+v", l)
	}
	// Restored to an agent signed out: it waits again, and is offered.
	w.eng.SetMaxChats(1, 5)
	w.expect(t)
	w.eng.SetStatus(2, switchboard.StatusOffline, false)
	w.eng.RestoreChat(w.task(8, 1), 2)
	w.expect(t, "requeued 7←2 (agent signed out)", "offered 7→1", "requeued 8←2 (agent signed out)", "offered 8→1")
	w.held(t, 2, 6) // the claimed chat with no queue stays theirs
	// A closed engine routes nothing more.
	w.eng.Close()
	if err := w.eng.QueueChat(w.task(9, 1)); err == nil {
		t.Error("a closed engine queued a chat")
	}
	w.eng.ReleaseChat(8, false)
	w.expect(t)
}

func TestChatQueueAndRelease(t *testing.T) {
	w := newChatWorld(t, engine.Options{}, 1)
	w.queue(1, switchboard.Queue{}, 1)
	w.eng.SetQueue(switchboard.Queue{ID: 2, TenantID: tenant + 1, Strategy: switchboard.StrategyLinear}, nil)
	if err := w.eng.QueueChat(w.task(1, 9)); err == nil {
		t.Error("queued in an unknown queue")
	}
	if err := w.eng.QueueChat(w.task(1, 2)); err == nil {
		t.Error("queued in another tenant's queue")
	}
	w.eng.SetStatus(1, "Break", false)
	w.chat(t, 1, 1)
	if err := w.eng.QueueChat(w.task(1, 1)); err == nil {
		t.Error("queued twice")
	}
	w.chat(t, 2, 1)
	w.eng.ReleaseChat(1, true) // waiting: leaves the queue
	w.eng.ReleaseChat(42, true)
	w.eng.SetStatus(1, switchboard.StatusAvailable, true)
	w.expect(t, "offered 2→1")
	w.eng.ReleaseChat(2, false)
	w.held(t, 1)
	st := w.eng.Stats()
	if diff := cmp.Diff(map[string]int{"waiting": 0, "offered": 0, "active": 0, "wrap_up": 0}, st.Chats); diff != "" {
		t.Errorf("Stats.Chats (-want +got):\n%s", diff)
	}
}

func TestChatLiveAndStats(t *testing.T) {
	w := newChatWorld(t, engine.Options{}, 3)
	w.queue(1, switchboard.Queue{WrapUpSeconds: 10}, 1, 2, 3)
	w.eng.SetStatus(3, switchboard.StatusOffline, false)
	w.eng.SetMaxChats(1, 2)
	w.eng.SetMaxChats(2, 1)
	l, _ := w.eng.QueueLive(tenant, 1)
	if l.AgentsChatCapacity != 3 || l.ChatEstimatedWait != 0 || l.ChatAverageHandle != 600 {
		t.Errorf("idle queue: %+v", l)
	}
	for id := int64(1); id <= 5; id++ {
		w.chat(t, id, 1)
		w.clock.Advance(10 * time.Second)
	}
	w.eng.AcceptChat(1, 1)
	w.eng.AcceptChat(2, 2)
	w.clock.Advance(60 * time.Second)
	w.eng.ReleaseChat(1, true) // handled 60 s since accepted, now wrapping up
	l, _ = w.eng.QueueLive(tenant, 1)
	want := switchboard.QueueLive{ChatsWaiting: 2, ChatsActive: 2, ChatLongestWait: 80, ChatAverageHandle: 60,
		// Three slots for two waiting and one joining: 3 × 60 s / 3.
		ChatEstimatedWait: 60}
	got := switchboard.QueueLive{ChatsWaiting: l.ChatsWaiting, ChatsActive: l.ChatsActive, ChatLongestWait: l.ChatLongestWait,
		ChatEstimatedWait: l.ChatEstimatedWait, ChatAverageHandle: l.ChatAverageHandle, AgentsChatCapacity: l.AgentsChatCapacity}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("QueueLive chat fields (-want +got):\n%s", diff)
	}
	st := w.eng.Stats()
	if diff := cmp.Diff(map[string]int{"waiting": 2, "offered": 1, "active": 1, "wrap_up": 1}, st.Chats); diff != "" {
		t.Errorf("Stats.Chats (-want +got):\n%s", diff)
	}
	if q := st.Queues[0]; q.ChatsWaiting != 2 || q.ChatLongestWait != 80 {
		t.Errorf("Stats.Queues[0]: %+v", q)
	}
	if a := w.eng.AgentLive(1); a.ChatsInProgress != 1 {
		t.Errorf("agent 1 has %d chats in progress, want 1 (the other wraps up)", a.ChatsInProgress)
	}
	w.eng.SetStatus(1, switchboard.StatusOffline, false)
	w.eng.SetStatus(2, switchboard.StatusOffline, false)
	if l, _ := w.eng.QueueLive(tenant, 1); l.ChatEstimatedWait != -1 {
		t.Errorf("nobody signed in: estimated wait %v, want -1", l.ChatEstimatedWait)
	}
}

func TestChatStrategies(t *testing.T) {
	// Agents 1-3 in one tier hold nothing; the strategy decides who gets the
	// first of three chats released at once, the next go by fewest in hand.
	tests := []struct {
		strategy switchboard.Strategy
		prep     func(w *chatWorld)
		first    int64
	}{
		{switchboard.StrategyLinear, nil, 1},
		{switchboard.StrategyRRMemory, func(w *chatWorld) {
			w.chat(t, 100, 1) // to agent 1; rrmemory resumes after them
			w.eng.ReleaseChat(100, false)
		}, 2},
		{switchboard.StrategyLeastRecent, func(w *chatWorld) {
			w.chat(t, 100, 1) // agent 1 ends one now: they are the most recent
			w.eng.ReleaseChat(100, false)
		}, 2},
		{switchboard.StrategyFewestCalls, func(w *chatWorld) {
			w.chat(t, 100, 1)
			w.eng.AcceptChat(100, 1)
			w.eng.ReleaseChat(100, false)
		}, 2},
	}
	for _, tt := range tests {
		t.Run(string(tt.strategy), func(t *testing.T) {
			w := newChatWorld(t, engine.Options{}, 3)
			w.queue(1, switchboard.Queue{Strategy: tt.strategy}, 1, 2, 3)
			if tt.prep != nil {
				tt.prep(w)
			}
			w.changes = nil
			w.chat(t, 1, 1)
			if ch := w.changes; len(ch) != 1 || ch[0].AgentID != tt.first {
				t.Errorf("offers %v, want one to agent %d", w.log(), tt.first)
			}
		})
	}
	// Penalty tiers come before load.
	w := newChatWorld(t, engine.Options{}, 2)
	q := switchboard.Queue{ID: 1, TenantID: tenant, Strategy: switchboard.StrategyLinear}
	q.Normalize()
	w.eng.SetQueue(q, []switchboard.QueueMember{{QueueID: 1, UserID: 1, Position: 1, Penalty: 1}, {QueueID: 1, UserID: 2, Position: 2}})
	for id := int64(1); id <= 4; id++ {
		w.chat(t, id, 1)
	}
	w.expect(t, "offered 1→2", "offered 2→2", "offered 3→2", "offered 4→1")
}
