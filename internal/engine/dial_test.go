package engine_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

var dialStart = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

const (
	tenant      = int64(7)
	callerID    = "+15550000100"
	queueNumber = "+15550000200" // inbound calls to the queue
)

// dialWorld is one tenant's queue (id 1) with agents 1…n on the simulator
// under a virtual clock, keeping every call change and dial report.
type dialWorld struct {
	clock *engine.VirtualClock
	drv   *sim.Driver
	eng   *engine.Engine

	mu      sync.Mutex
	changes map[int64][]string
	ended   map[int64]switchboard.Call
	reports map[int64][]engine.DialReport
	// wrapped is when each call's work was reported over (WrapUpObserver).
	wrapped map[int64]time.Time
}

func (w *dialWorld) CallWrappedUp(c *switchboard.Call) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.ended[c.ID]; !ok {
		panic(fmt.Sprintf("call %d wrapped up before it ended", c.ID))
	}
	if _, ok := w.wrapped[c.ID]; ok {
		panic(fmt.Sprintf("call %d wrapped up twice", c.ID))
	}
	w.wrapped[c.ID] = w.clock.Now()
}

func (w *dialWorld) CallChanged(c *switchboard.Call, what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.changes[c.ID] = append(w.changes[c.ID], what)
	if what == "ended" {
		w.ended[c.ID] = *c
	}
}

// newDialWorld starts the world with one agent per device, each signed in
// and available (device "dev<id>").
func newDialWorld(t *testing.T, q switchboard.Queue, devices ...sim.Device) *dialWorld {
	t.Helper()
	clock := engine.NewVirtualClock(dialStart)
	drv := sim.New(clock)
	w := &dialWorld{clock: clock, drv: drv, changes: map[int64][]string{}, ended: map[int64]switchboard.Call{},
		reports: map[int64][]engine.DialReport{}, wrapped: map[int64]time.Time{}}
	w.eng = engine.New(engine.Options{Clock: clock, Telephony: drv, Observer: w,
		Router: engine.NewRouter(rand.New(rand.NewPCG(1, 1))), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	drv.SetEngine(w.eng)
	q.ID, q.TenantID = 1, tenant
	q.Normalize()
	var members []switchboard.QueueMember
	for i, dev := range devices {
		id := int64(i + 1)
		name := fmt.Sprintf("dev%d", id)
		drv.SetDevice(name, dev)
		w.eng.SetAgent(id, name)
		w.eng.SetUserRoutes(id, tenant, nil)
		w.eng.SetStatus(id, switchboard.StatusAvailable, true)
		members = append(members, switchboard.QueueMember{QueueID: 1, UserID: id, Position: int(id)})
	}
	w.eng.SetQueue(q, members, queueNumber)
	t.Cleanup(w.eng.Close)
	return w
}

func answers(after time.Duration) sim.Device {
	return sim.Device{Registered: true, Behavior: sim.Answer, AnswerAfter: after}
}

// dial places d (tenant, queue and caller id filled in) and keeps its
// reports.
func (w *dialWorld) dial(t *testing.T, d engine.Dial) int64 {
	t.Helper()
	id, err := w.eng.Dial(w.fill(d))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (w *dialWorld) fill(d engine.Dial) engine.Dial {
	d.TenantID, d.QueueID, d.CallerID = tenant, 1, callerID
	if d.Report == nil {
		d.Report = func(r engine.DialReport) {
			w.mu.Lock()
			w.reports[r.CallID] = append(w.reports[r.CallID], r)
			w.mu.Unlock()
		}
	}
	return d
}

func (w *dialWorld) call(id int64) (switchboard.Call, []string, []engine.DialReport, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.ended[id]
	return c, slices.Clone(w.changes[id]), slices.Clone(w.reports[id]), ok
}

// step is an expected report: its result, when after the dial it came, its
// agent and (DialEnded) talk time.
type step struct {
	result engine.DialResult
	at     time.Duration
	agent  int64
	talk   time.Duration
}

func (w *dialWorld) checkReports(t *testing.T, id int64, placed time.Time, want []step) {
	t.Helper()
	_, _, reports, _ := w.call(id)
	var got []step
	for _, r := range reports {
		if r.CallID != id {
			t.Errorf("report %+v names call %d, not %d", r, r.CallID, id)
		}
		got = append(got, step{r.Result, r.At.Sub(placed), r.AgentID, r.Talk})
	}
	if !slices.Equal(got, want) {
		t.Errorf("reports\n got %v\nwant %v", got, want)
	}
}

func (s step) String() string {
	return fmt.Sprintf("{%v at %v agent %d talk %v}", s.result, s.at, s.agent, s.talk)
}

// checkIdle checks that nothing is left of the calls: no leg in the
// simulator, no call in the engine.
func (w *dialWorld) checkIdle(t *testing.T) {
	t.Helper()
	if n := w.drv.Legs(); n != 0 {
		t.Errorf("%d legs left in the simulator", n)
	}
	for st, n := range w.eng.Stats().Calls {
		t.Errorf("%d calls still %s in the engine", n, st)
	}
}

func TestDialOutcomes(t *testing.T) {
	const number = "+15550002222"
	tests := []struct {
		name      string
		script    sim.Script
		lunch     bool // the only agent is at lunch: no one takes a call
		dial      engine.Dial
		want      []step
		status    switchboard.CallStatus
		disp      switchboard.Disposition
		by        switchboard.Side
		endsAfter time.Duration
		changes   []string
	}{
		{name: "connected", script: sim.Script{Behavior: sim.Answer, AnswerAfter: 5 * time.Second, Talk: time.Minute},
			want:   []step{{engine.DialAnswered, 5 * time.Second, 0, 0}, {engine.DialConnected, 6 * time.Second, 1, 0}, {engine.DialEnded, 66 * time.Second, 1, time.Minute}},
			status: switchboard.CallFinished, disp: switchboard.DispositionAnswered, by: switchboard.SideCaller, endsAfter: 66 * time.Second,
			changes: []string{"created", "dialing", "queued", "ringing", "connected", "ended"}},
		{name: "abandoned without a message", script: sim.Script{Behavior: sim.Answer, AnswerAfter: 5 * time.Second, Talk: time.Minute}, lunch: true,
			want:   []step{{engine.DialAnswered, 5 * time.Second, 0, 0}, {engine.DialAbandoned, 7 * time.Second, 0, 0}},
			status: switchboard.CallFailed, disp: switchboard.DispositionAbandoned, by: switchboard.SideSystem, endsAfter: 7 * time.Second,
			changes: []string{"created", "dialing", "queued", "ended"}},
		{name: "abandoned with a message", script: sim.Script{Behavior: sim.Answer, AnswerAfter: 5 * time.Second, Talk: time.Minute}, lunch: true,
			dial: engine.Dial{AbandonMedia: "prompt:t7-sorry", MessageLength: 8 * time.Second},
			want: []step{{engine.DialAnswered, 5 * time.Second, 0, 0}, {engine.DialAbandoned, 7 * time.Second, 0, 0}},
			// The message plays 8 s before the hang-up.
			status: switchboard.CallFailed, disp: switchboard.DispositionAbandoned, by: switchboard.SideSystem, endsAfter: 15 * time.Second,
			changes: []string{"created", "dialing", "queued", "ended"}},
		{name: "hung up while waiting", script: sim.Script{Behavior: sim.Answer, AnswerAfter: 5 * time.Second, Patience: time.Second}, lunch: true,
			want:   []step{{engine.DialAnswered, 5 * time.Second, 0, 0}, {engine.DialHungUp, 6 * time.Second, 0, 0}},
			status: switchboard.CallFailed, disp: switchboard.DispositionAbandoned, by: switchboard.SideCaller, endsAfter: 6 * time.Second,
			changes: []string{"created", "dialing", "queued", "ended"}},
		{name: "no answer", script: sim.Script{Behavior: sim.NoAnswer}, dial: engine.Dial{Timeout: 20 * time.Second},
			want:   []step{{engine.DialNoAnswer, 20 * time.Second, 0, 0}},
			status: switchboard.CallFailed, disp: switchboard.DispositionNoAnswer, by: switchboard.SideSystem, endsAfter: 20 * time.Second,
			changes: []string{"created", "dialing", "ended"}},
		{name: "no answer by default after 25 s", script: sim.Script{Behavior: sim.Ignore},
			want:   []step{{engine.DialNoAnswer, 25 * time.Second, 0, 0}},
			status: switchboard.CallFailed, disp: switchboard.DispositionNoAnswer, by: switchboard.SideSystem, endsAfter: 25 * time.Second,
			changes: []string{"created", "dialing", "ended"}},
		{name: "busy", script: sim.Script{Behavior: sim.Reject, AnswerAfter: 4 * time.Second},
			want:   []step{{engine.DialBusy, 4 * time.Second, 0, 0}},
			status: switchboard.CallFailed, disp: switchboard.DispositionBusy, by: switchboard.SideSystem, endsAfter: 4 * time.Second,
			changes: []string{"created", "dialing", "ended"}},
		{name: "invalid number", script: sim.Script{Behavior: sim.Invalid, AnswerAfter: time.Second},
			want:   []step{{engine.DialInvalid, time.Second, 0, 0}},
			status: switchboard.CallFailed, disp: switchboard.DispositionFailed, by: switchboard.SideSystem, endsAfter: time.Second,
			changes: []string{"created", "dialing", "ended"}},
		{name: "machine, hung up", script: sim.Script{Behavior: sim.Voicemail, AnswerAfter: 6 * time.Second, Talk: 20 * time.Second},
			want:   []step{{engine.DialMachine, 6 * time.Second, 0, 0}},
			status: switchboard.CallVoicemail, disp: switchboard.DispositionAnswered, by: switchboard.SideSystem, endsAfter: 6 * time.Second,
			changes: []string{"created", "dialing", "voicemail", "ended"}},
		{name: "machine, message left", script: sim.Script{Behavior: sim.Voicemail, AnswerAfter: 6 * time.Second, Talk: 20 * time.Second},
			dial: engine.Dial{MachineMedia: "prompt:t7-offer"},
			want: []step{{engine.DialMachine, 6 * time.Second, 0, 0}},
			// The message plays the default 10 s.
			status: switchboard.CallVoicemail, disp: switchboard.DispositionAnswered, by: switchboard.SideSystem, endsAfter: 16 * time.Second,
			changes: []string{"created", "dialing", "voicemail", "ended"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newDialWorld(t, switchboard.Queue{Name: "Campaign"}, answers(time.Second))
			if tt.lunch {
				w.eng.SetStatus(1, "Lunch", false)
			}
			w.drv.SetNumber(number, tt.script)
			d := tt.dial
			d.Number = number
			d.Source = switchboard.CallSource{System: "campaign", AccountID: "3"}
			id := w.dial(t, d)
			w.clock.Advance(time.Hour)
			c, changes, _, ok := w.call(id)
			if !ok {
				t.Fatal("the call did not end")
			}
			w.checkReports(t, id, dialStart, tt.want)
			if c.Status != tt.status || c.Disposition != tt.disp || c.HangupBy != tt.by || c.EndedAt.Sub(dialStart) != tt.endsAfter {
				t.Errorf("call ended %s %s by %s after %v (%q); want %s %s by %s after %v", c.Status, c.Disposition, c.HangupBy,
					c.EndedAt.Sub(dialStart), c.HangupCause, tt.status, tt.disp, tt.by, tt.endsAfter)
			}
			if c.Direction != switchboard.Outbound || c.From != callerID || c.To != number || c.QueueID == nil || *c.QueueID != 1 ||
				c.TenantID != tenant || c.Source.System != "campaign" || c.Source.AccountID != "3" {
				t.Errorf("call %+v: want outbound from the caller id to the number, in queue 1 of tenant %d, with its source", c, tenant)
			}
			if !slices.Equal(changes, tt.changes) {
				t.Errorf("changes %v, want %v", changes, tt.changes)
			}
			w.checkIdle(t)
		})
	}
}

func TestDialAbandonMessagePlaysBeforeTheHangup(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Campaign"}, answers(time.Second))
	w.eng.SetStatus(1, "Lunch", false)
	w.drv.SetNumber("+15550002222", sim.Script{Behavior: sim.Answer, AnswerAfter: 3 * time.Second})
	id := w.dial(t, engine.Dial{Number: "+15550002222", AbandonMedia: "prompt:t7-sorry", MessageLength: 8 * time.Second})
	leg := engine.LegID(fmt.Sprintf("c%d-dial", id))
	w.clock.Advance(4 * time.Second)
	if got := w.drv.Playing(leg); got != "moh:default" {
		t.Errorf("while waiting the person hears %q, want the queue's music", got)
	}
	w.clock.Advance(time.Second) // 2 s after the answer: abandoned
	if got := w.drv.Playing(leg); got != "prompt:t7-sorry" {
		t.Errorf("after the abandon the person hears %q, want the abandon message", got)
	}
	w.clock.Advance(7 * time.Second)
	if _, _, _, ended := w.call(id); ended || w.drv.Legs() != 1 {
		t.Errorf("the call ended (%v) or its leg went (%d legs) before the message's 8 s", ended, w.drv.Legs())
	}
	w.clock.Advance(time.Second)
	if c, _, _, ended := w.call(id); !ended || c.EndedAt.Sub(dialStart) != 13*time.Second {
		t.Errorf("call %+v: want it ended 13 s after the dial", c)
	}
	w.checkIdle(t)
}

// TestDialAbandonTime shows the 2 s bound both ways: an agent who frees
// and answers within it takes the person; one who frees later does not, and
// the person is abandoned exactly 2 s after answering.
func TestDialAbandonTime(t *testing.T) {
	for _, tt := range []struct {
		name   string
		frees  time.Duration // when the agent's inbound call ends, after the person answered
		want   []step
		status switchboard.CallStatus
	}{
		// The agent frees 0.5 s after the answer and answers 1 s after.
		{name: "connected", frees: 500 * time.Millisecond, status: switchboard.CallFinished,
			want: []step{{engine.DialAnswered, 5 * time.Second, 0, 0}, {engine.DialConnected, 6500 * time.Millisecond, 1, 0},
				{engine.DialEnded, 66500 * time.Millisecond, 1, time.Minute}}},
		// Rung at 1.5 s, the agent would answer at 2.5 s: too late.
		{name: "abandoned", frees: 1500 * time.Millisecond, status: switchboard.CallFailed,
			want: []step{{engine.DialAnswered, 5 * time.Second, 0, 0}, {engine.DialAbandoned, 7 * time.Second, 0, 0}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newDialWorld(t, switchboard.Queue{Name: "Campaign"}, answers(time.Second))
			// The agent takes an inbound call at once (rung at 0, answers at
			// 1 s); it ends 5 s + frees after the dial.
			talk := 5*time.Second + tt.frees - time.Second
			if _, _, err := w.drv.Call("+15550009999", queueNumber, sim.Script{Talk: talk}); err != nil {
				t.Fatal(err)
			}
			w.drv.SetNumber("+15550002222", sim.Script{Behavior: sim.Answer, AnswerAfter: 5 * time.Second, Talk: time.Minute})
			id := w.dial(t, engine.Dial{Number: "+15550002222"})
			w.clock.Advance(time.Hour)
			w.checkReports(t, id, dialStart, tt.want)
			if c, _, _, _ := w.call(id); c.Status != tt.status {
				t.Errorf("status %s, want %s", c.Status, tt.status)
			}
			w.checkIdle(t)
		})
	}
}

func TestDialAbandonStopsTheRingingAgents(t *testing.T) {
	// Two slow phones (3 s to answer) ring for the person, who is abandoned
	// at 2 s: both stop ringing and are free again, and neither connects.
	w := newDialWorld(t, switchboard.Queue{Name: "Campaign", Strategy: switchboard.StrategyRingAll}, answers(3*time.Second), answers(3*time.Second))
	w.drv.SetNumber("+15550002222", sim.Script{Behavior: sim.Answer, AnswerAfter: 5 * time.Second, Talk: time.Minute})
	id := w.dial(t, engine.Dial{Number: "+15550002222"})
	w.clock.Advance(6 * time.Second)
	if v, _ := w.eng.PacingView(tenant, 1); v.Ringing != 1 || v.Free != 0 || len(v.Busy) != 2 {
		t.Fatalf("1 s after the answer %+v: want the call ringing both agents", v)
	}
	w.clock.Advance(time.Second)
	v, _ := w.eng.PacingView(tenant, 1)
	if v.Ringing != 0 || v.Waiting != 0 || v.Free != 2 || len(v.Busy) != 0 {
		t.Errorf("after the abandon %+v: want both agents free and no call in the queue", v)
	}
	w.clock.Advance(time.Hour)
	w.checkReports(t, id, dialStart, []step{{engine.DialAnswered, 5 * time.Second, 0, 0}, {engine.DialAbandoned, 7 * time.Second, 0, 0}})
	_, changes, _, _ := w.call(id)
	if slices.Contains(changes, "connected") {
		t.Errorf("changes %v: an agent connected after the abandon", changes)
	}
	w.checkIdle(t)
}

func TestDialMachineReportsNothingOnceHungUp(t *testing.T) {
	// The machine would hang up 20 s after a bridge that never comes; the
	// engine hangs it up at once and nothing more happens on the leg.
	w := newDialWorld(t, switchboard.Queue{Name: "Campaign"}, answers(time.Second))
	w.drv.SetNumber("+15550004444", sim.Script{Behavior: sim.Voicemail, AnswerAfter: 6 * time.Second, Talk: 20 * time.Second})
	id := w.dial(t, engine.Dial{Number: "+15550004444"})
	w.clock.Advance(6 * time.Second)
	if w.drv.Legs() != 0 || w.clock.Pending() != 0 {
		t.Errorf("%d legs and %d timers left once the machine was hung up", w.drv.Legs(), w.clock.Pending())
	}
	w.clock.Advance(time.Hour)
	_, changes, reports, _ := w.call(id)
	if len(changes) != 4 || len(reports) != 1 {
		t.Errorf("changes %v and %d reports: want nothing after the end", changes, len(reports))
	}
}

func TestDialHungUpThroughTheAPI(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Campaign"}, answers(time.Second))
	w.eng.SetStatus(1, "Lunch", false)
	w.drv.SetNumber("+15550002222", sim.Script{Behavior: sim.Ignore})
	w.drv.SetNumber("+15550003333", sim.Script{Behavior: sim.Answer, AnswerAfter: time.Second})
	w.drv.SetNumber("+15550004444", sim.Script{Behavior: sim.Voicemail, AnswerAfter: time.Second})
	ringing := w.dial(t, engine.Dial{Number: "+15550002222"})
	waiting := w.dial(t, engine.Dial{Number: "+15550003333", AbandonAfter: 10 * time.Second})
	machine := w.dial(t, engine.Dial{Number: "+15550004444", MachineMedia: "prompt:t7-offer"})
	w.clock.Advance(3 * time.Second)
	for _, id := range []int64{ringing, waiting, machine} {
		if !w.eng.Hangup(id) {
			t.Fatalf("call %d is not in the engine", id)
		}
	}
	w.clock.Advance(time.Hour)
	w.checkReports(t, ringing, dialStart, []step{{engine.DialFailed, 3 * time.Second, 0, 0}})
	w.checkReports(t, waiting, dialStart, []step{{engine.DialAnswered, time.Second, 0, 0}, {engine.DialFailed, 3 * time.Second, 0, 0}})
	w.checkReports(t, machine, dialStart, []step{{engine.DialMachine, time.Second, 0, 0}})
	if c, _, _, _ := w.call(machine); c.Status != switchboard.CallVoicemail || c.HangupBy != switchboard.SideSystem ||
		c.EndedAt.Sub(dialStart) != 3*time.Second {
		t.Errorf("machine call %+v: want voicemail, hung up by the system at 3 s", c)
	}
	w.checkIdle(t)
}

func TestDialRefusals(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Campaign"}, answers(time.Second), answers(time.Second))
	w.eng.SetStatus(2, "Lunch", false)
	for _, tt := range []struct {
		name    string
		d       engine.Dial
		notHere bool
	}{
		{"another tenant's queue", engine.Dial{TenantID: tenant + 1, QueueID: 1, Number: "+15550002222"}, true},
		{"no such queue", engine.Dial{TenantID: tenant, QueueID: 9, Number: "+15550002222"}, true},
		{"not E.164", engine.Dial{TenantID: tenant, QueueID: 1, Number: "555-2222"}, false},
		{"no such agent", engine.Dial{TenantID: tenant, QueueID: 1, AgentID: 9, Number: "+15550002222"}, true},
	} {
		_, err := w.eng.Dial(tt.d)
		if err == nil || errors.Is(err, engine.ErrNotHere) != tt.notHere {
			t.Errorf("%s: error %v, want one (ErrNotHere: %v)", tt.name, err, tt.notHere)
		}
	}
	var unavailable *engine.ErrAgentUnavailable
	if _, err := w.eng.Dial(engine.Dial{TenantID: tenant, QueueID: 1, AgentID: 2, Number: "+15550002222"}); !errors.As(err, &unavailable) {
		t.Errorf("preview for an agent at lunch: %v, want *ErrAgentUnavailable", err)
	}
	if n := len(w.changes); n != 0 {
		t.Errorf("%d calls were created by refused dials", n)
	}
}

func TestDialPreview(t *testing.T) {
	for _, tt := range []struct {
		name   string
		agent  sim.Device
		script sim.Script
		want   []step
		status switchboard.CallStatus
		disp   switchboard.Disposition
	}{
		// The agent answers after 2 s, the customer 5 s after being dialled.
		{name: "connected", agent: answers(2 * time.Second), script: sim.Script{Behavior: sim.Answer, AnswerAfter: 5 * time.Second, Talk: time.Minute},
			want:   []step{{engine.DialConnected, 7 * time.Second, 1, 0}, {engine.DialEnded, 67 * time.Second, 1, time.Minute}},
			status: switchboard.CallFinished, disp: switchboard.DispositionAnswered},
		{name: "agent does not answer", agent: sim.Device{Registered: true, Behavior: sim.Ignore}, script: sim.Script{Behavior: sim.Answer},
			want:   []step{{engine.DialFailed, 30 * time.Second, 1, 0}},
			status: switchboard.CallFailed, disp: switchboard.DispositionNoAnswer},
		{name: "busy", agent: answers(2 * time.Second), script: sim.Script{Behavior: sim.Reject, AnswerAfter: time.Second},
			want:   []step{{engine.DialBusy, 3 * time.Second, 1, 0}},
			status: switchboard.CallFailed, disp: switchboard.DispositionBusy},
		{name: "no answer", agent: answers(2 * time.Second), script: sim.Script{Behavior: sim.NoAnswer},
			want:   []step{{engine.DialNoAnswer, 27 * time.Second, 1, 0}},
			status: switchboard.CallFailed, disp: switchboard.DispositionNoAnswer},
		{name: "invalid number", agent: answers(2 * time.Second), script: sim.Script{Behavior: sim.Invalid},
			want:   []step{{engine.DialInvalid, 2 * time.Second, 1, 0}},
			status: switchboard.CallFailed, disp: switchboard.DispositionFailed},
		// The agent is bridged to the machine to leave a message.
		{name: "machine", agent: answers(2 * time.Second), script: sim.Script{Behavior: sim.Voicemail, AnswerAfter: 6 * time.Second, Talk: 20 * time.Second},
			want:   []step{{engine.DialMachine, 8 * time.Second, 1, 0}, {engine.DialEnded, 28 * time.Second, 1, 20 * time.Second}},
			status: switchboard.CallVoicemail, disp: switchboard.DispositionAnswered},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newDialWorld(t, switchboard.Queue{Name: "Campaign", WrapUpSeconds: 30}, tt.agent)
			w.drv.SetNumber("+15550002222", tt.script)
			id := w.dial(t, engine.Dial{AgentID: 1, Number: "+15550002222"})
			if _, err := w.eng.Dial(w.fill(engine.Dial{AgentID: 1, Number: "+15550002222"})); err == nil {
				t.Errorf("a second preview for a ringing agent was placed")
			}
			w.clock.Advance(time.Hour)
			w.checkReports(t, id, dialStart, tt.want)
			c, _, _, _ := w.call(id)
			if c.Status != tt.status || c.Disposition != tt.disp || c.AgentID == nil || *c.AgentID != 1 || c.QueueID == nil || *c.QueueID != 1 {
				t.Errorf("call %+v: want %s %s, agent 1, queue 1", c, tt.status, tt.disp)
			}
			w.checkIdle(t)
		})
	}
}

func TestDialPreviewWrapsUpAsTheQueueSays(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Campaign", WrapUpSeconds: 30}, answers(time.Second))
	w.drv.SetNumber("+15550002222", sim.Script{Behavior: sim.Answer, AnswerAfter: 2 * time.Second, Talk: 10 * time.Second})
	w.dial(t, engine.Dial{AgentID: 1, Number: "+15550002222"})
	w.clock.Advance(23 * time.Second) // connected at 3 s, ended at 13 s
	v, _ := w.eng.PacingView(tenant, 1)
	if !slices.Equal(v.WrapLeft, []time.Duration{20 * time.Second}) || v.Free != 0 {
		t.Errorf("%+v: want the agent wrapping up with 20 s left", v)
	}
	w.clock.Advance(20 * time.Second)
	if v, _ := w.eng.PacingView(tenant, 1); v.Free != 1 || len(v.WrapLeft) != 0 {
		t.Errorf("%+v: want the agent free after the wrap-up", v)
	}
}

func TestPacingView(t *testing.T) {
	// Agents 1 and 2 answer in 1 s, 3 never does, 4 is at lunch, 5 offline.
	w := newDialWorld(t, switchboard.Queue{Name: "Campaign", WrapUpSeconds: 30, Strategy: switchboard.StrategyLinear, TimeoutSeconds: 60},
		answers(time.Second), answers(time.Second), sim.Device{Registered: true, Behavior: sim.Ignore}, answers(time.Second), answers(time.Second))
	w.eng.SetStatus(4, "Lunch", false)
	w.eng.SetStatus(5, switchboard.StatusOffline, false)
	if _, ok := w.eng.PacingView(tenant+1, 1); ok {
		t.Error("another tenant sees the queue")
	}
	if _, ok := w.eng.PacingView(tenant, 2); ok {
		t.Error("a queue the engine does not run is seen")
	}
	v, _ := w.eng.PacingView(tenant, 1)
	if v.Agents != 3 || v.Free != 3 || len(v.Busy)+len(v.WrapLeft)+v.Waiting+v.Ringing != 0 {
		t.Fatalf("at the start %+v: want 3 agents, all free", v)
	}
	w.drv.SetNumber("+15550000001", sim.Script{Behavior: sim.Answer, AnswerAfter: 2 * time.Second, Talk: 100 * time.Second})
	w.drv.SetNumber("+15550000002", sim.Script{Behavior: sim.Answer, AnswerAfter: 2 * time.Second, Talk: 10 * time.Second})
	w.dial(t, engine.Dial{Number: "+15550000001"}) // agent 1 from 3 s to 103 s
	w.dial(t, engine.Dial{Number: "+15550000002"}) // agent 2 from 3 s to 13 s, wrap-up to 43 s
	w.clock.Advance(20 * time.Second)
	v, _ = w.eng.PacingView(tenant, 1)
	want := engine.PacingView{Agents: 3, Free: 1, Busy: []time.Duration{17 * time.Second}, WrapLeft: []time.Duration{23 * time.Second}}
	if !equalViews(v, want) {
		t.Errorf("at 20 s %+v, want %+v", v, want)
	}
	// Two more persons answer at 22 s: one rings agent 3 (who never
	// answers), the other waits; both are abandoned at 24 s.
	w.drv.SetNumber("+15550000003", sim.Script{Behavior: sim.Answer, AnswerAfter: 2 * time.Second})
	w.dial(t, engine.Dial{Number: "+15550000003"})
	w.dial(t, engine.Dial{Number: "+15550000003"})
	w.clock.Advance(3 * time.Second)
	v, _ = w.eng.PacingView(tenant, 1)
	want = engine.PacingView{Agents: 3, Free: 0, Waiting: 1, Ringing: 1, Busy: []time.Duration{20 * time.Second, 0}, WrapLeft: []time.Duration{20 * time.Second}}
	if !equalViews(v, want) {
		t.Errorf("at 23 s %+v, want %+v", v, want)
	}
	w.clock.Advance(time.Second)
	v, _ = w.eng.PacingView(tenant, 1)
	want = engine.PacingView{Agents: 3, Free: 1, Busy: []time.Duration{21 * time.Second}, WrapLeft: []time.Duration{19 * time.Second}}
	if !equalViews(v, want) {
		t.Errorf("at 24 s %+v, want %+v", v, want)
	}
	w.clock.Advance(time.Hour)
	w.checkIdle(t)
}

func equalViews(a, b engine.PacingView) bool {
	return a.Agents == b.Agents && a.Free == b.Free && a.Waiting == b.Waiting && a.Ringing == b.Ringing &&
		slices.Equal(a.Busy, b.Busy) && slices.Equal(a.WrapLeft, b.WrapLeft)
}

func TestInvalidNumber(t *testing.T) {
	for cause, want := range map[string]bool{
		"invalid number":                                     true,
		"failed (SIP 404 Not Found, Q.850 1)":                true,
		"failed (SIP 484 Address Incomplete, Q.850 28)":      true,
		"failed (SIP 500 Server Internal Error, Q.850 41)":   false,
		"failed (SIP 403 Forbidden, Q.850 127)":              false,
		"failed (SIP 480 Temporarily Unavailable, Q.850 18)": false,
		"busy (SIP 486 Busy Here, Q.850 17)":                 false,
		"device not registered":                              false,
		"":                                                   false,
	} {
		if got := engine.InvalidNumber(cause); got != want {
			t.Errorf("InvalidNumber(%q) = %v, want %v", cause, got, want)
		}
	}
}

// BenchmarkDialCampaign runs one simulated hour of a 50-agent campaign
// keeping, every second, three numbers ringing or waiting per free agent,
// with 30 % of numbers answered by a person, 10 % by a machine, and 3
// minutes of talk on average: about the load the dialer's simulation puts
// on the engine. It reports the dials placed and abandoned per simulated
// hour.
func BenchmarkDialCampaign(b *testing.B) {
	const agents = 50
	for i := 0; i < b.N; i++ {
		clock := engine.NewVirtualClock(dialStart)
		drv := sim.New(clock)
		eng := engine.New(engine.Options{Clock: clock, Telephony: drv,
			Router: engine.NewRouter(rand.New(rand.NewPCG(1, 1))), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		drv.SetEngine(eng)
		rng := rand.New(rand.NewPCG(7, 7))
		drv.SetNumberFunc(func(string) sim.Script {
			ring := time.Duration(3+rng.IntN(15)) * time.Second
			switch p := rng.Float64(); {
			case p < 0.30:
				return sim.Script{Behavior: sim.Answer, AnswerAfter: ring, Talk: time.Duration(rng.ExpFloat64() * float64(3*time.Minute))}
			case p < 0.40:
				return sim.Script{Behavior: sim.Voicemail, AnswerAfter: ring}
			case p < 0.45:
				return sim.Script{Behavior: sim.Reject, AnswerAfter: ring}
			default:
				return sim.Script{Behavior: sim.NoAnswer}
			}
		})
		q := switchboard.Queue{ID: 1, TenantID: tenant, Name: "Campaign", WrapUpSeconds: 10}
		q.Normalize()
		var members []switchboard.QueueMember
		for id := int64(1); id <= agents; id++ {
			drv.SetDevice(fmt.Sprintf("dev%d", id), answers(time.Second))
			eng.SetAgent(id, fmt.Sprintf("dev%d", id))
			eng.SetStatus(id, switchboard.StatusAvailable, true)
			members = append(members, switchboard.QueueMember{QueueID: 1, UserID: id, Position: int(id)})
		}
		eng.SetQueue(q, members)
		dials, pending, abandoned := 0, 0, 0
		report := func(r engine.DialReport) {
			switch r.Result {
			case engine.DialAnswered, engine.DialEnded:
			case engine.DialAbandoned:
				abandoned++
				pending--
			default: // connected, or an outcome without an agent
				pending--
			}
		}
		for s := 0; s < 3600; s++ {
			v, _ := eng.PacingView(tenant, 1)
			for want := 3*v.Free - pending; want > 0; want-- {
				if _, err := eng.Dial(engine.Dial{TenantID: tenant, QueueID: 1, Number: fmt.Sprintf("+1555%07d", dials), CallerID: callerID, Report: report}); err != nil {
					b.Fatal(err)
				}
				dials++
				pending++
			}
			clock.Advance(time.Second)
		}
		eng.Close()
		b.ReportMetric(float64(dials), "dials/op")
		b.ReportMetric(float64(abandoned), "abandons/op")
	}
}

func TestDialConnectedBehavesAsAQueuedCall(t *testing.T) {
	// Connected at 6 s, held from 10 s to 15 s, transferred to agent 2 at
	// 20 s: the dial ends there for the dialer (DialEnded with 14 s of
	// talk), agent 1 wraps up as the queue says, and the person goes on
	// with agent 2 on a new call.
	w := newDialWorld(t, switchboard.Queue{Name: "Campaign", WrapUpSeconds: 30, Strategy: switchboard.StrategyLinear}, answers(time.Second), answers(time.Second))
	w.eng.SetStatus(2, "Lunch", false)
	w.drv.SetNumber("+15550002222", sim.Script{Behavior: sim.Answer, AnswerAfter: 5 * time.Second, Talk: time.Minute})
	id := w.dial(t, engine.Dial{Number: "+15550002222"})
	w.clock.Advance(10 * time.Second)
	if err := w.eng.Hold(id, true); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(5 * time.Second)
	if err := w.eng.Hold(id, false); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(5 * time.Second)
	w.eng.SetStatus(2, switchboard.StatusAvailable, true)
	next, err := w.eng.Transfer(id, engine.Target{AgentID: 2})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Second)
	if v, _ := w.eng.PacingView(tenant, 1); !slices.Equal(v.WrapLeft, []time.Duration{29 * time.Second}) || !slices.Equal(v.Busy, []time.Duration{0}) {
		t.Errorf("after the transfer %+v: want agent 1 wrapping up and agent 2 on the call", v)
	}
	w.clock.Advance(time.Hour)
	w.checkReports(t, id, dialStart, []step{{engine.DialAnswered, 5 * time.Second, 0, 0}, {engine.DialConnected, 6 * time.Second, 1, 0},
		{engine.DialEnded, 20 * time.Second, 1, 14 * time.Second}})
	c, _, _, _ := w.call(id)
	if c.Hold != 5*time.Second || c.Disposition != switchboard.DispositionAnswered {
		t.Errorf("campaign call %+v: want 5 s on hold, answered", c)
	}
	if n, _, reports, _ := w.call(next); n.AgentID == nil || *n.AgentID != 2 || len(reports) != 0 {
		t.Errorf("transferred call %+v with %d reports: want agent 2's, not a dial", n, len(reports))
	}
	w.checkIdle(t)
}

// TestDialCampaignID checks that a dial's campaign is on its call from its
// first change to its end, preview or not, and that a dial without one
// leaves the call without a campaign.
func TestDialCampaignID(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Campaign"}, answers(time.Second), answers(time.Second))
	w.drv.SetNumber("+15550002222", sim.Script{Behavior: sim.Answer, AnswerAfter: 2 * time.Second, Talk: 10 * time.Second})
	w.drv.SetNumber("+15550003333", sim.Script{Behavior: sim.Answer, AnswerAfter: 2 * time.Second, Talk: 10 * time.Second})
	w.drv.SetNumber("+15550004444", sim.Script{Behavior: sim.Reject, AnswerAfter: time.Second})
	progressive := w.dial(t, engine.Dial{Number: "+15550002222", CampaignID: 42})
	preview := w.dial(t, engine.Dial{AgentID: 2, Number: "+15550003333", CampaignID: 43})
	plain := w.dial(t, engine.Dial{Number: "+15550004444"})
	w.clock.Advance(time.Hour)
	for _, tt := range []struct {
		id   int64
		want string
	}{{progressive, "42"}, {preview, "43"}, {plain, "<nil>"}} {
		c, _, _, ok := w.call(tt.id)
		got := "<nil>"
		if c.CampaignID != nil {
			got = fmt.Sprint(*c.CampaignID)
		}
		if !ok || got != tt.want {
			t.Errorf("call %d ended %v with campaign %s, want %s", tt.id, ok, got, tt.want)
		}
	}
	w.checkIdle(t)
}

// TestCallWrappedUp checks when the engine reports a call's work over: at the
// end of its agent's wrap-up, or as it ends when nobody wraps it up (a dial
// that reached no one, a queue without wrap-up).
func TestCallWrappedUp(t *testing.T) {
	for _, tt := range []struct {
		name    string
		wrapUp  int
		agent   int64 // preview
		script  sim.Script
		wrapped time.Duration // after the call's end
	}{
		{"connected, queue wraps up", 30, 0, sim.Script{Behavior: sim.Answer, AnswerAfter: 2 * time.Second, Talk: 10 * time.Second}, 30 * time.Second},
		{"preview, queue wraps up", 30, 1, sim.Script{Behavior: sim.Answer, AnswerAfter: 2 * time.Second, Talk: 10 * time.Second}, 30 * time.Second},
		{"connected, no wrap-up", 0, 0, sim.Script{Behavior: sim.Answer, AnswerAfter: 2 * time.Second, Talk: 10 * time.Second}, 0},
		{"no answer", 30, 0, sim.Script{Behavior: sim.NoAnswer}, 0},
		{"busy in preview", 30, 1, sim.Script{Behavior: sim.Reject, AnswerAfter: time.Second}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newDialWorld(t, switchboard.Queue{Name: "Campaign", WrapUpSeconds: tt.wrapUp}, answers(time.Second))
			w.drv.SetNumber("+15550002222", tt.script)
			id := w.dial(t, engine.Dial{AgentID: tt.agent, Number: "+15550002222"})
			w.clock.Advance(time.Hour)
			c, _, _, ok := w.call(id)
			w.mu.Lock()
			at, wrapped := w.wrapped[id]
			w.mu.Unlock()
			if !ok || !wrapped || c.EndedAt == nil {
				t.Fatalf("call %d: ended %v, wrapped up %v", id, ok, wrapped)
			}
			if got := at.Sub(*c.EndedAt); got != tt.wrapped {
				t.Errorf("wrapped up %v after the end, want %v", got, tt.wrapped)
			}
			w.checkIdle(t)
		})
	}
}
