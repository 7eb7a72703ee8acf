package sim_test

import (
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

var start = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// recorder keeps every call change the engine reports.
type recorder struct {
	mu      sync.Mutex
	changes []string
	ended   map[int64]switchboard.Call
}

func (r *recorder) CallChanged(c *switchboard.Call, what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, what)
	if what == "ended" {
		r.ended[c.ID] = *c
	}
}

type world struct {
	clock *engine.VirtualClock
	drv   *sim.Driver
	eng   *engine.Engine
	rec   *recorder
}

func newWorld(t *testing.T, q switchboard.Queue, agents map[int64]sim.Device) *world {
	t.Helper()
	clock := engine.NewVirtualClock(start)
	drv := sim.New(clock)
	rec := &recorder{ended: map[int64]switchboard.Call{}}
	eng := engine.New(engine.Options{Clock: clock, Telephony: drv, Observer: rec,
		Router: engine.NewRouter(rand.New(rand.NewPCG(1, 1))), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	drv.SetEngine(eng)
	q.Normalize()
	var members []switchboard.QueueMember
	for id := int64(1); id <= int64(len(agents)); id++ {
		dev := agents[id]
		name := "dev" + string(rune('0'+id))
		drv.SetDevice(name, dev)
		eng.SetAgent(id, name)
		eng.SetStatus(id, switchboard.StatusAvailable, true)
		members = append(members, switchboard.QueueMember{QueueID: q.ID, UserID: id, Position: int(id)})
	}
	eng.SetQueue(q, members, "+15550000100")
	return &world{clock: clock, drv: drv, eng: eng, rec: rec}
}

func answer(after time.Duration) sim.Device {
	return sim.Device{Registered: true, Behavior: sim.Answer, AnswerAfter: after}
}

func (w *world) call(t *testing.T, s sim.Script) int64 {
	t.Helper()
	_, id, err := w.drv.Call("+15550001111", "+15550000100", s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (w *world) ended(id int64) (switchboard.Call, bool) {
	w.rec.mu.Lock()
	defer w.rec.mu.Unlock()
	c, ok := w.rec.ended[id]
	return c, ok
}

func TestRingAllExactlyOneAgentEvenOnSimultaneousAnswers(t *testing.T) {
	// Both phones answer after exactly 2 s: the same virtual instant.
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", Strategy: switchboard.StrategyRingAll},
		map[int64]sim.Device{1: answer(2 * time.Second), 2: answer(2 * time.Second)})
	id := w.call(t, sim.Script{Talk: time.Minute})
	w.clock.Advance(10 * time.Minute)
	c, ok := w.ended(id)
	if !ok || c.Disposition != switchboard.DispositionAnswered || c.AgentID == nil {
		t.Fatalf("call %+v", c)
	}
	if got := c.Wait(); got != 2*time.Second {
		t.Errorf("wait %v, want 2s of ringing", got)
	}
	if c.Talk() != time.Minute || c.HangupBy != switchboard.SideCaller {
		t.Errorf("talk %v hangup by %s", c.Talk(), c.HangupBy)
	}
	connected := 0
	for _, ch := range w.rec.changes {
		if ch == "connected" {
			connected++
		}
	}
	if connected != 1 || w.drv.Legs() != 0 || w.drv.Recorded() != 1 {
		t.Errorf("%d connections, %d legs left up, %d recorded; want exactly 1, none and 1", connected, w.drv.Legs(), w.drv.Recorded())
	}
}

func TestRingTimeoutMovesToNextAgent(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", Strategy: switchboard.StrategyLinear, TimeoutSeconds: 15},
		map[int64]sim.Device{1: {Registered: true, Behavior: sim.Ignore}, 2: answer(time.Second)})
	id := w.call(t, sim.Script{Talk: 30 * time.Second})
	w.clock.Advance(5 * time.Minute)
	c, _ := w.ended(id)
	if c.AgentID == nil || *c.AgentID != 2 || c.Wait() != 16*time.Second {
		t.Fatalf("call went to %v after %v; want agent 2 after 15 s of agent 1 ringing plus 1 s", c.AgentID, c.Wait())
	}
}

func TestUnregisteredAndRejectingAgentsAreSkipped(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", Strategy: switchboard.StrategyLinear},
		map[int64]sim.Device{1: {Registered: false}, 2: {Registered: true, Behavior: sim.Reject}, 3: answer(0)})
	id := w.call(t, sim.Script{Talk: time.Second})
	w.clock.Advance(time.Minute)
	if c, _ := w.ended(id); c.AgentID == nil || *c.AgentID != 3 || c.Wait() != 0 {
		t.Fatalf("call %+v; want agent 3 at once", c)
	}
}

func TestWrapUpHoldsTheNextCall(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", WrapUpSeconds: 30}, map[int64]sim.Device{1: answer(0)})
	first := w.call(t, sim.Script{Talk: 10 * time.Second})
	w.clock.Advance(5 * time.Second)
	second := w.call(t, sim.Script{Talk: 10 * time.Second})
	w.clock.Advance(5 * time.Minute)
	a, _ := w.ended(first)
	b, _ := w.ended(second)
	if a.Wait() != 0 || b.Wait() != 35*time.Second {
		t.Errorf("waits %v and %v; want 0 and 35 s (5 s of the first call left, then 30 s of wrap-up)", a.Wait(), b.Wait())
	}
}

func TestAbandonFullQueueAndJoinEmpty(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", MaxLength: 1}, map[int64]sim.Device{1: answer(0)})
	busy := w.call(t, sim.Script{Talk: time.Hour})
	w.clock.Advance(time.Second) // answered: the queue is empty again
	waiting := w.call(t, sim.Script{Patience: 20 * time.Second})
	rejected := w.call(t, sim.Script{})
	w.clock.Advance(time.Minute)
	if c, _ := w.ended(waiting); c.Disposition != switchboard.DispositionAbandoned || c.Wait() != 20*time.Second || c.HangupBy != switchboard.SideCaller {
		t.Errorf("impatient caller: %+v", c)
	}
	if c, _ := w.ended(rejected); c.Disposition != switchboard.DispositionRejected || c.HangupCause != "queue full" {
		t.Errorf("caller over max length: %+v", c)
	}
	if _, ok := w.ended(busy); ok {
		t.Errorf("the first call should still be talking")
	}

	empty := newWorld(t, switchboard.Queue{ID: 2, Name: "Empty"}, map[int64]sim.Device{})
	if c, _ := empty.ended(empty.call(t, sim.Script{})); c.HangupCause != "no agent signed in" {
		t.Errorf("join-empty off: %+v", c)
	}
}

func TestQueueLive(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", WrapUpSeconds: 30}, map[int64]sim.Device{1: answer(0), 2: answer(0)})
	w.call(t, sim.Script{Talk: 2 * time.Minute})
	w.call(t, sim.Script{Talk: 4 * time.Minute})
	w.clock.Advance(time.Second)
	w.call(t, sim.Script{})
	w.clock.Advance(9 * time.Second)
	live, ok := w.eng.QueueLive(0, 1)
	// Three arrivals in one second: 7,200 an hour at 180 s each needs 360
	// agents, so Erlang C's wait is unbounded (-1).
	want := switchboard.QueueLive{AgentsOnline: 2, AgentsOnCall: 2, CallsWaiting: 1, CallsActive: 2, LongestWait: 9,
		AverageHandle: 180, EstimatedWait: 180, ArrivalsPerHour: 7200, ErlangCWait: -1, // position 2 × 180 s / 2 agents
		// No chat slot is free beside a call: a conversation would wait its
		// position 1 × the default 600 s over the 2 × 3 slots of the members.
		ChatAverageHandle: 600, ChatEstimatedWait: 100}
	if !ok || live != want {
		t.Errorf("QueueLive = %+v, want %+v", live, want)
	}
	w.clock.Advance(2 * time.Minute) // the first call ends; its agent wraps up and the waiting call still waits
	live, _ = w.eng.QueueLive(0, 1)
	if live.AgentsWrapUp != 1 || live.AverageHandle != 120 || live.CallsWaiting != 1 {
		t.Errorf("after the first call: %+v", live)
	}
	if _, ok := w.eng.QueueLive(0, 99); ok {
		t.Errorf("an unknown queue reported live state")
	}
}

func TestClickToCall(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q"}, map[int64]sim.Device{1: answer(2 * time.Second), 2: {Registered: true, Behavior: sim.Ignore}})
	w.drv.SetNumber("+15550002222", sim.Script{Behavior: sim.Answer, AnswerAfter: 5 * time.Second, Talk: time.Minute})
	w.drv.SetNumber("+15550003333", sim.Script{Behavior: sim.Reject})
	dial := func(agent int64, number string) int64 {
		t.Helper()
		id, err := w.eng.Call(engine.ClickToCall{TenantID: 1, AgentID: agent, Number: number, CallerID: "+15550000100", AgentTimeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	ok := dial(1, "+15550002222")
	if _, err := w.eng.Call(engine.ClickToCall{AgentID: 1, Number: "+15550002222"}); err == nil {
		t.Errorf("a second call for a ringing agent was accepted")
	}
	w.clock.Advance(5 * time.Minute)
	c, _ := w.ended(ok)
	// The agent answers after 2 s, the customer 5 s after being dialled, then talks a minute.
	if c.Direction != switchboard.Outbound || c.Disposition != switchboard.DispositionAnswered || c.Talk() != time.Minute ||
		c.ConnectedAt.Sub(c.CreatedAt) != 7*time.Second || c.HangupBy != switchboard.SideCaller || c.From != "+15550000100" {
		t.Errorf("click-to-call %+v", c)
	}
	busy := dial(1, "+15550003333")
	w.clock.Advance(time.Minute)
	if c, _ := w.ended(busy); c.Disposition != switchboard.DispositionBusy {
		t.Errorf("busy customer: %+v", c)
	}
	noAgent := dial(2, "+15550002222")
	w.clock.Advance(time.Minute)
	if c, _ := w.ended(noAgent); c.Disposition != switchboard.DispositionNoAnswer || c.Talk() != 0 {
		t.Errorf("agent not answering: %+v", c)
	}
	w.eng.SetStatus(1, "Lunch", false)
	if _, err := w.eng.Call(engine.ClickToCall{AgentID: 1, Number: "+15550002222"}); err == nil {
		t.Errorf("an agent at lunch placed a call")
	}
	if w.drv.Legs() != 0 {
		t.Errorf("%d legs left up", w.drv.Legs())
	}
}

func TestLeaveWhenEmptyAndHangup(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", LeaveWhenEmpty: true}, map[int64]sim.Device{1: answer(0)})
	talking := w.call(t, sim.Script{Talk: time.Hour})
	w.clock.Advance(time.Second)
	waiting := w.call(t, sim.Script{})
	w.eng.SetStatus(1, switchboard.StatusOffline, false)
	w.clock.Advance(time.Second)
	if c, ok := w.ended(waiting); !ok || c.HangupCause != "no agent left in the queue" {
		t.Errorf("waiting caller after the last agent left: %+v", c)
	}
	if _, ok := w.ended(talking); ok {
		t.Errorf("the connected call was cut")
	}
	if !w.eng.Hangup(talking) || w.eng.Hangup(talking) {
		t.Errorf("Hangup should end the call once")
	}
	w.clock.Advance(time.Second)
	if c, _ := w.ended(talking); c.HangupBy != switchboard.SideSystem || c.Disposition != switchboard.DispositionAnswered || w.drv.Legs() != 0 {
		t.Errorf("hung-up call %+v, %d legs up", c, w.drv.Legs())
	}
}

func TestRingInUse(t *testing.T) {
	for _, inUse := range []bool{false, true} {
		w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", RingInUse: inUse}, map[int64]sim.Device{1: answer(0)})
		w.call(t, sim.Script{Talk: time.Hour})
		w.clock.Advance(time.Second)
		second := w.call(t, sim.Script{Talk: time.Second})
		w.clock.Advance(time.Minute)
		_, done := w.ended(second)
		if done != inUse {
			t.Errorf("ring-in-use %v: second call answered while the agent talks = %v", inUse, done)
		}
	}
}

func TestScheduledCall(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", TenantID: 0}, map[int64]sim.Device{1: answer(time.Second)})
	w.drv.SetNumber("+15550002222", sim.Script{Behavior: sim.Answer, AnswerAfter: 4 * time.Second, Talk: time.Minute})
	w.drv.SetNumber("+15550003333", sim.Script{Behavior: sim.NoAnswer})
	at := start.Add(10 * time.Minute)
	q := int64(1)
	parent := int64(77)
	ok, err := w.eng.Schedule(engine.Scheduled{Call: switchboard.Call{QueueID: &q, To: "+15550002222", From: "+15550000100",
		ScheduledAt: &at, ParentID: &parent}})
	if err != nil {
		t.Fatal(err)
	}
	missed, _ := w.eng.Schedule(engine.Scheduled{Call: switchboard.Call{QueueID: &q, To: "+15550003333", ScheduledAt: &at},
		CustomerTimeout: 30 * time.Second})
	w.clock.Advance(9 * time.Minute)
	if _, done := w.ended(ok); done {
		t.Fatal("the scheduled call ran early")
	}
	w.clock.Advance(10 * time.Minute)
	c, _ := w.ended(ok)
	// Dialled at 10:00, answered 4 s later, queued, agent answers after 1 s.
	if c.Disposition != switchboard.DispositionAnswered || c.QueuedAt.Sub(at) != 4*time.Second || c.Wait() != time.Second ||
		*c.ParentID != parent || c.Direction != switchboard.Outbound {
		t.Errorf("scheduled call %+v", c)
	}
	if m, _ := w.ended(missed); m.Disposition != switchboard.DispositionNoAnswer {
		t.Errorf("unanswered callback %+v", m)
	}
	if _, err := w.eng.Schedule(engine.Scheduled{Call: switchboard.Call{To: "+1", ScheduledAt: &at}}); err == nil {
		t.Errorf("a scheduled call without a queue was accepted")
	}
}

func TestOverflowToCallback(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", MaxLength: 1, OverflowToCallback: true}, map[int64]sim.Device{1: answer(0)})
	w.drv.SetNumber("+15550001111", sim.Script{Behavior: sim.Answer, AnswerAfter: 2 * time.Second, Talk: time.Minute})
	w.call(t, sim.Script{Talk: 2 * time.Minute}) // with the agent
	w.clock.Advance(time.Second)
	w.call(t, sim.Script{Talk: time.Minute}) // waits
	over := w.call(t, sim.Script{})          // finds the queue full
	c, _ := w.ended(over)
	if c.Status != switchboard.CallDeflected || !strings.Contains(c.HangupCause, "callback") {
		t.Fatalf("overflowing caller %+v", c)
	}
	w.clock.Advance(30 * time.Minute)
	var callback switchboard.Call
	for _, e := range w.rec.ended {
		if e.ParentID != nil && *e.ParentID == over {
			callback = e
		}
	}
	// Position 2 × 180 s (no call has ended yet) over 1 agent: dialled back after 6 min.
	if callback.ID == 0 || callback.Disposition != switchboard.DispositionAnswered || callback.To != "+15550001111" ||
		callback.ScheduledAt.Sub(*c.EndedAt) != 6*time.Minute {
		t.Errorf("callback %+v", callback)
	}
}

func TestRequiredSkillsRoute(t *testing.T) {
	const italian = 10
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", Strategy: switchboard.StrategyLinear,
		RequiredSkills: []switchboard.QueueSkill{{SkillID: italian, MinProficiency: 2}}},
		map[int64]sim.Device{1: answer(0), 2: answer(0), 3: answer(0)})
	w.eng.SetSkills(1, map[int64]int{italian: 1})
	w.eng.SetSkills(2, map[int64]int{italian: 3})
	w.eng.SetSkills(3, map[int64]int{italian: 5})
	id := w.call(t, sim.Script{Talk: time.Second})
	w.clock.Advance(time.Minute)
	if c, _ := w.ended(id); c.AgentID == nil || *c.AgentID != 3 {
		t.Errorf("call went to %v; want agent 3, the best match (agent 1 is below the minimum)", c.AgentID)
	}
}

func TestClickToCallReachesVoicemail(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q"}, map[int64]sim.Device{1: answer(time.Second)})
	w.drv.SetNumber("+15550004444", sim.Script{Behavior: sim.Voicemail, AnswerAfter: 6 * time.Second, Talk: 20 * time.Second})
	id, err := w.eng.Call(engine.ClickToCall{TenantID: 1, AgentID: 1, Number: "+15550004444", CallerID: "+15550000100"})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Minute)
	c, _ := w.ended(id)
	if c.Status != switchboard.CallVoicemail || c.Talk() != 20*time.Second || c.HangupBy != switchboard.SideCaller {
		t.Errorf("call to voicemail %+v", c)
	}
}

func TestQueueLiveErlangC(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q"}, map[int64]sim.Device{1: answer(0), 2: answer(0)})
	for range 5 {
		w.call(t, sim.Script{Talk: 3 * time.Minute})
		w.clock.Advance(6 * time.Minute) // 10 calls an hour, each 3 minutes: half an Erlang on 2 agents
	}
	live, _ := w.eng.QueueLive(0, 1)
	want, _ := engine.ErlangCStaffing(10, 3*time.Minute, 2, 0)
	if live.ArrivalsPerHour != 10 || live.AverageHandle != 180 || math.Abs(live.ErlangCWait-want.ASA.Seconds()) > 1e-9 || live.ErlangCWait <= 0 {
		t.Errorf("live %+v; Erlang C ASA %.3f s", live, want.ASA.Seconds())
	}
}

func TestNumberRoutedToAnAgent(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q"}, map[int64]sim.Device{1: answer(2 * time.Second), 2: {Registered: true, Behavior: sim.NoAnswer}})
	w.eng.SetUserRoutes(1, 7, []string{"+15550000111"})
	w.eng.SetUserRoutes(2, 7, []string{"+15550000222"})
	call := func(to string) int64 {
		_, id, err := w.drv.Call("+15550001111", to, sim.Script{Talk: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	ok, silent := call("+15550000111"), call("+15550000222")
	w.clock.Advance(2 * time.Minute)
	if c, _ := w.ended(ok); c.AgentID == nil || *c.AgentID != 1 || c.TenantID != 7 || c.Wait() != 0 || c.Talk() != 30*time.Second {
		t.Errorf("direct call %+v", c)
	}
	if c, _ := w.ended(silent); c.Disposition != switchboard.DispositionMissed {
		t.Errorf("direct call nobody took %+v", c)
	}
	w.eng.SetStatus(1, "Lunch", false)
	if c, _ := w.ended(call("+15550000111")); c.Disposition != switchboard.DispositionMissed || c.HangupCause != "the agent is not available" {
		t.Errorf("direct call to an agent at lunch %+v", c)
	}
	w.eng.SetUserRoutes(1, 7, nil)
	if _, _, err := w.drv.Call("+15550001111", "+15550000111", sim.Script{}); err == nil {
		t.Errorf("a removed route still answers")
	}
}

func TestCallerDTMF(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q"}, map[int64]sim.Device{1: answer(5 * time.Second)})
	id := w.call(t, sim.Script{Talk: 10 * time.Second, DTMF: "1234#", DTMFAfter: 2 * time.Second})
	w.clock.Advance(time.Minute)
	if c, _ := w.ended(id); c.DTMF != "1234#" {
		t.Errorf("digits %q, want 1234#", c.DTMF)
	}
	seen := false
	for _, ch := range w.rec.changes {
		seen = seen || ch == "dtmf"
	}
	if !seen {
		t.Errorf("no dtmf change reported")
	}
}

func TestHold(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q"}, map[int64]sim.Device{1: answer(0)})
	id := w.call(t, sim.Script{Talk: 5 * time.Minute})
	w.clock.Advance(time.Minute)
	if err := w.eng.Hold(id, true); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(90 * time.Second)
	w.eng.Hold(id, false)
	w.clock.Advance(time.Minute)
	w.eng.Hold(id, true) // on hold when the call ends
	w.clock.Advance(10 * time.Minute)
	c, _ := w.ended(id)
	if c.Hold != 3*time.Minute || c.HoldSeconds != 180 || c.Talk() != 5*time.Minute {
		t.Errorf("hold %v (%v s), talk %v; want 1m30s + 1m30s on hold (the second until the 5-minute call ends)", c.Hold, c.HoldSeconds, c.Talk())
	}
	if err := w.eng.Hold(id, true); err == nil {
		t.Errorf("hold on an ended call accepted")
	}
}

func TestQueueMaxWaitEndsTheCall(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", TimeoutSeconds: 15, MaxWaitSeconds: 40},
		map[int64]sim.Device{1: {Registered: true, Behavior: sim.Ignore}})
	waits := w.call(t, sim.Script{})
	w.clock.Advance(time.Minute)
	c, ok := w.ended(waits)
	if !ok || c.HangupCause != switchboard.CauseQueueTimeout || c.Disposition != switchboard.DispositionNoAnswer ||
		c.HangupBy != switchboard.SideSystem || c.Wait() != 40*time.Second || c.RingingAt == nil {
		t.Fatalf("call %+v (wait %v); want a queue timeout after 40 s of ringing", c, c.Wait())
	}
	if w.drv.Legs() != 0 {
		t.Errorf("%d legs left up", w.drv.Legs())
	}
	// An answered call is not cut off by the limit.
	w2 := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", MaxWaitSeconds: 5}, map[int64]sim.Device{1: answer(2 * time.Second)})
	talks := w2.call(t, sim.Script{Talk: time.Minute})
	w2.clock.Advance(5 * time.Minute)
	if c, _ := w2.ended(talks); c.Disposition != switchboard.DispositionAnswered || c.Talk() != time.Minute {
		t.Errorf("answered call %+v", c)
	}
}

func TestFaxIsReceivedWithoutAgents(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q"}, map[int64]sim.Device{1: answer(0)})
	id := w.call(t, sim.Script{FaxPages: 3})
	w.clock.Advance(5 * time.Minute)
	c, ok := w.ended(id)
	if !ok || c.Media != switchboard.MediaFax || c.FaxPages != 3 || c.AgentID != nil || c.Talk() != 3*sim.FaxPageTime ||
		c.Disposition != switchboard.DispositionAnswered || c.Recorded {
		t.Fatalf("fax %+v", c)
	}
	if w.drv.Recorded() != 0 || w.drv.Legs() != 0 {
		t.Errorf("%d recorded, %d legs up", w.drv.Recorded(), w.drv.Legs())
	}
}

func TestClickToCallWithoutRecording(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q"}, map[int64]sim.Device{1: answer(time.Second)})
	w.drv.SetNumber("+15557654321", sim.Script{Behavior: sim.Answer, AnswerAfter: time.Second, Talk: 10 * time.Second})
	id, err := w.eng.Call(engine.ClickToCall{TenantID: 0, AgentID: 1, Number: "+15557654321", CallerID: "+15550000100", NoRecording: true})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Minute)
	if c, ok := w.ended(id); !ok || c.Recorded || c.Talk() != 10*time.Second || w.drv.Recorded() != 0 {
		t.Errorf("click-to-call %+v, %d recorded", c, w.drv.Recorded())
	}
}

// TestEveryChangeMovesTheMemberPool changes, one at a time, each thing that
// decides whom a queue may ring (membership, position, skills, device,
// status, the queue's strategy), and checks that the next call goes where the
// change says: the queue's pool of free members must follow every one.
func TestEveryChangeMovesTheMemberPool(t *testing.T) {
	const italian = 10
	q := switchboard.Queue{ID: 1, Name: "Q", Strategy: switchboard.StrategyLinear}
	w := newWorld(t, q, map[int64]sim.Device{1: answer(0), 2: answer(0), 3: answer(0)})
	q.Normalize()
	q.WrapUpSeconds = 0
	members := func(ids ...int64) []switchboard.QueueMember {
		var ms []switchboard.QueueMember
		for i, id := range ids {
			ms = append(ms, switchboard.QueueMember{QueueID: 1, UserID: id, Position: i + 1})
		}
		return ms
	}
	w.eng.SetQueue(q, members(1, 2, 3), "+15550000100")
	takes := func(why string, want int64) {
		t.Helper()
		id := w.call(t, sim.Script{Talk: time.Second})
		w.clock.Advance(time.Minute)
		c, done := w.ended(id)
		var got int64
		if c.AgentID != nil {
			got = *c.AgentID
		}
		if !done || got != want {
			t.Errorf("%s: the call went to agent %d, want %d", why, got, want)
		}
	}
	takes("linear, all free", 1)
	w.eng.SetQueue(q, members(3, 2), "+15550000100")
	takes("agent 1 left the queue and 3 is first", 3)
	w.eng.SetStatus(3, "Break", false)
	takes("agent 3 on a break", 2)
	w.eng.SetStatus(3, switchboard.StatusAvailable, true)
	w.eng.SetAgent(3, "")
	takes("agent 3 has no phone", 2)
	w.eng.SetAgent(3, "dev3")
	takes("agent 3 has a phone again", 3)
	q.RequiredSkills = []switchboard.QueueSkill{{SkillID: italian, MinProficiency: 2}}
	w.eng.SetQueue(q, members(3, 2, 1), "+15550000100")
	w.eng.SetSkills(2, map[int64]int{italian: 4})
	takes("only agent 2 speaks Italian", 2)
	w.eng.SetSkills(1, map[int64]int{italian: 5})
	takes("agent 1 speaks it better", 1)
	q.RequiredSkills, q.Strategy = nil, switchboard.StrategyFewestCalls
	w.eng.SetQueue(q, members(1, 2, 3), "+15550000100")
	// So far agent 1 has taken 2 calls, 2 has taken 3, and 3 has taken 2.
	takes("fewest calls: 1 and 3 tie at 2, and 1 comes first", 1)
	takes("fewest calls: 3 has the fewest now", 3)
	w.eng.SetStatus(3, switchboard.StatusOffline, false)
	takes("fewest calls: 3 signed out; 1 and 2 tie at 3", 1)
}

// TestUnreachablePhonesAreNotOffered checks SetReachable: an agent whose
// phone is not registered is not rung at all (a real phone cannot fail
// fast the way the simulator's does), and is offered the waiting call the
// moment the phone registers.
func TestUnreachablePhonesAreNotOffered(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q", JoinEmpty: true}, map[int64]sim.Device{1: answer(time.Second)})
	w.eng.SetReachable("dev1", false)
	id := w.call(t, sim.Script{Talk: 10 * time.Second})
	w.clock.Advance(time.Minute)
	if live, _ := w.eng.QueueLive(0, 1); live.CallsWaiting != 1 || live.AgentsAvailable != 0 {
		t.Fatalf("with the phone away: %+v; want the call waiting and no one available", live)
	}
	w.eng.SetReachable("dev1", true)
	w.clock.Advance(time.Minute)
	c, ok := w.ended(id)
	if !ok || c.AgentID == nil || *c.AgentID != 1 || c.Wait() != 61*time.Second {
		t.Fatalf("call %+v; want agent 1 once the phone is back, after 60 s in the queue and 1 s of ringing", c)
	}
}

func TestSetNumberFuncScriptsUnscriptedNumbers(t *testing.T) {
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q"}, map[int64]sim.Device{1: answer(time.Second)})
	var asked []string
	w.drv.SetNumberFunc(func(number string) sim.Script {
		asked = append(asked, number)
		switch number[len(number)-1] {
		case '1':
			return sim.Script{Behavior: sim.Invalid, AnswerAfter: 2 * time.Second}
		case '2':
			return sim.Script{Behavior: sim.Reject, AnswerAfter: 3 * time.Second}
		}
		return sim.Script{Behavior: sim.Answer, AnswerAfter: time.Second, Talk: 5 * time.Second}
	})
	// A number scripted with SetNumber keeps its script.
	w.drv.SetNumber("+15550000011", sim.Script{Behavior: sim.Reject})
	dial := func(number string) int64 {
		t.Helper()
		id, err := w.eng.Dial(engine.Dial{QueueID: 1, Number: number, CallerID: "+15550000100"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	invalid, busy, answered, scripted := dial("+15550000001"), dial("+15550000002"), dial("+15550000003"), dial("+15550000011")
	w.clock.Advance(time.Minute)
	for _, tt := range []struct {
		id    int64
		disp  switchboard.Disposition
		after time.Duration
	}{
		{invalid, switchboard.DispositionFailed, 2 * time.Second},
		{busy, switchboard.DispositionBusy, 3 * time.Second},
		{answered, switchboard.DispositionAnswered, 7 * time.Second}, // answered at 1 s, agent at 2 s, 5 s of talk
		{scripted, switchboard.DispositionBusy, 0},
	} {
		c, _ := w.ended(tt.id)
		if c.Disposition != tt.disp || c.EndedAt.Sub(start) != tt.after {
			t.Errorf("call to %s ended %s after %v (%s), want %s after %v", c.To, c.Disposition, c.EndedAt.Sub(start), c.HangupCause, tt.disp, tt.after)
		}
	}
	if want := []string{"+15550000001", "+15550000002", "+15550000003"}; !slices.Equal(asked, want) {
		t.Errorf("the function was asked for %v, want %v", asked, want)
	}
	if w.drv.Legs() != 0 {
		t.Errorf("%d legs left up", w.drv.Legs())
	}
}

func TestOutsideNumberPatience(t *testing.T) {
	// A callback's customer answers, finds no agent (at lunch) and gives up
	// 4 s later; once bridged, patience no longer counts.
	w := newWorld(t, switchboard.Queue{ID: 1, Name: "Q"}, map[int64]sim.Device{1: answer(3 * time.Second)})
	w.drv.SetNumber("+15550002222", sim.Script{Behavior: sim.Answer, AnswerAfter: time.Second, Patience: 4 * time.Second, Talk: 10 * time.Second})
	q := int64(1)
	at := start.Add(time.Minute)
	patient, _ := w.eng.Schedule(engine.Scheduled{Call: switchboard.Call{QueueID: &q, To: "+15550002222", ScheduledAt: &at}})
	w.clock.Advance(5 * time.Minute)
	if c, _ := w.ended(patient); c.Disposition != switchboard.DispositionAnswered || c.Talk() != 10*time.Second {
		t.Errorf("bridged within its patience: %+v", c)
	}
	w.eng.SetStatus(1, "Lunch", false)
	at = start.Add(10 * time.Minute)
	gaveUp, _ := w.eng.Schedule(engine.Scheduled{Call: switchboard.Call{QueueID: &q, To: "+15550002222", ScheduledAt: &at}})
	w.clock.Advance(10 * time.Minute)
	if c, _ := w.ended(gaveUp); c.Disposition != switchboard.DispositionAbandoned || c.EndedAt.Sub(at) != 5*time.Second {
		t.Errorf("left waiting: %+v, want abandoned 5 s after the dial", c)
	}
	if w.drv.Legs() != 0 {
		t.Errorf("%d legs left up", w.drv.Legs())
	}
}
