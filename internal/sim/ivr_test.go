package sim_test

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

// The IVR tests run a tenant with one queue (agent 1 answers it), one agent
// reached directly (agent 2), and menus, under the virtual clock: every
// figure below is exact.

const (
	ivrTenant = int64(7)
	ivrQueue  = int64(1)
	ivrAgent  = int64(2) // rung directly by a menu
	ivrNumber = "+15550000200"
	mainMenu  = int64(10)
	subMenu   = int64(11)
)

// step is one change the engine reported, with what the call showed then.
type step struct {
	what   string
	status switchboard.CallStatus
	menu   int64 // the IVR menu the call was in, 0 for none
	at     time.Duration
}

type ivrRecorder struct {
	mu    sync.Mutex
	clock *engine.VirtualClock
	steps map[int64][]step
	ended map[int64]switchboard.Call
}

func (r *ivrRecorder) CallChanged(c *switchboard.Call, what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := step{what: what, status: c.Status, at: r.clock.Now().Sub(start)}
	if c.IVRMenuID != nil {
		s.menu = *c.IVRMenuID
	}
	r.steps[c.ID] = append(r.steps[c.ID], s)
	if what == "ended" {
		r.ended[c.ID] = c.Clone()
	}
}

type ivrWorld struct {
	clock *engine.VirtualClock
	drv   *sim.Driver
	eng   *engine.Engine
	rec   *ivrRecorder
}

func queueAction() switchboard.IVRAction {
	id := ivrQueue
	return switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &id}
}

func menuAction(id int64) switchboard.IVRAction {
	return switchboard.IVRAction{Action: switchboard.IVRToMenu, MenuID: &id}
}

func act(a switchboard.IVRActionType) switchboard.IVRAction { return switchboard.IVRAction{Action: a} }

// standardMenus is a main menu (1 → queue, 2 → submenu, 3 → agent 2,
// 9 → hang up; 5 s timeout; one repeat, then hang up) and its submenu
// (1 → queue, * → back to the main menu).
func standardMenus() []switchboard.IVRMenu {
	agent := ivrAgent
	return []switchboard.IVRMenu{
		{ID: mainMenu, Name: "Main", Prompt: "main", TimeoutSeconds: 5, MaxRepeats: 1,
			Options: []switchboard.IVROption{
				{Digit: "1", IVRAction: queueAction()},
				{Digit: "2", IVRAction: menuAction(subMenu)},
				{Digit: "3", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToUser, UserID: &agent}},
				{Digit: "9", IVRAction: act(switchboard.IVRHangup)},
			},
			TimeoutAction: act(switchboard.IVRRepeat), InvalidAction: act(switchboard.IVRRepeat), FinalAction: act(switchboard.IVRHangup)},
		{ID: subMenu, Name: "Support", Prompt: "support", TimeoutSeconds: 5, MaxRepeats: 0,
			Options: []switchboard.IVROption{
				{Digit: "1", IVRAction: queueAction()},
				{Digit: "*", IVRAction: menuAction(mainMenu)},
			},
			TimeoutAction: act(switchboard.IVRRepeat), InvalidAction: act(switchboard.IVRRepeat), FinalAction: act(switchboard.IVRHangup)},
	}
}

func newIVRWorld(t *testing.T, menus []switchboard.IVRMenu) *ivrWorld {
	t.Helper()
	clock := engine.NewVirtualClock(start)
	drv := sim.New(clock)
	rec := &ivrRecorder{clock: clock, steps: map[int64][]step{}, ended: map[int64]switchboard.Call{}}
	eng := engine.New(engine.Options{Clock: clock, Telephony: drv, Observer: rec,
		Router: engine.NewRouter(rand.New(rand.NewPCG(1, 1))), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	drv.SetEngine(eng)
	for _, id := range []int64{1, ivrAgent} {
		dev := "ivr-dev" + string(rune('0'+id))
		drv.SetDevice(dev, answer(2*time.Second))
		eng.SetAgent(id, dev)
		eng.SetUserRoutes(id, ivrTenant, nil)
		eng.SetStatus(id, switchboard.StatusAvailable, true)
	}
	q := switchboard.Queue{ID: ivrQueue, TenantID: ivrTenant, Name: "Sales"}
	q.Normalize()
	eng.SetQueue(q, []switchboard.QueueMember{{QueueID: ivrQueue, UserID: 1, Position: 1}})
	eng.SetMenus(ivrTenant, menus, map[string]int64{ivrNumber: mainMenu})
	return &ivrWorld{clock: clock, drv: drv, eng: eng, rec: rec}
}

func (w *ivrWorld) call(t *testing.T, s sim.Script) int64 {
	t.Helper()
	_, id, err := w.drv.Call("+15550001111", ivrNumber, s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// run lets the virtual clock run out and returns how the call ended and the
// steps it went through.
func (w *ivrWorld) run(t *testing.T, id int64) (switchboard.Call, []step) {
	t.Helper()
	w.clock.Advance(time.Hour)
	w.rec.mu.Lock()
	defer w.rec.mu.Unlock()
	c, ok := w.rec.ended[id]
	if !ok {
		t.Fatalf("call %d has not ended: %+v", id, w.rec.steps[id])
	}
	if w.drv.Legs() != 0 {
		t.Errorf("%d legs left up", w.drv.Legs())
	}
	return c, w.rec.steps[id]
}

// path names the steps: "menu@10" for a prompt of menu 10, else the change.
func path(steps []step) string {
	var out []string
	for _, s := range steps {
		if s.what == "menu" {
			out = append(out, "menu@"+string(rune('0'+s.menu-mainMenu))) // menu@0 main, menu@1 sub
			continue
		}
		out = append(out, s.what)
	}
	return strings.Join(out, " ")
}

func at(steps []step, what string) time.Duration {
	for _, s := range steps {
		if s.what == what {
			return s.at
		}
	}
	return -1
}

func TestIVRDigitToQueue(t *testing.T) {
	w := newIVRWorld(t, standardMenus())
	id := w.call(t, sim.Script{Talk: 30 * time.Second, DTMF: "1", DTMFAfter: 3 * time.Second})
	if got := w.drv.Playing("sim-in-1"); got != engine.PromptMedia(ivrTenant, "main") {
		t.Errorf("the caller hears %q, want the main prompt", got)
	}
	c, steps := w.run(t, id)
	if c.Disposition != switchboard.DispositionAnswered || c.QueueID == nil || *c.QueueID != ivrQueue || c.AgentID == nil || *c.AgentID != 1 {
		t.Fatalf("call %+v; want answered by agent 1 through the queue", c)
	}
	if got, want := path(steps), "created menu@0 dtmf queued ringing connected ended"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
	if steps[1].status != switchboard.CallSelecting || steps[1].menu != mainMenu || steps[3].menu != 0 {
		t.Errorf("in the menu the call shows %s in menu %d, and %d once queued", steps[1].status, steps[1].menu, steps[3].menu)
	}
	if c.DTMF != "1" || c.IVRMenuID != nil || at(steps, "queued") != 3*time.Second || c.Wait() != 2*time.Second {
		t.Errorf("dtmf %q, menu %v, queued at %v, waited %v; want 1, none, 3 s, 2 s", c.DTMF, c.IVRMenuID, at(steps, "queued"), c.Wait())
	}
	if w.drv.Prompts() != 1 {
		t.Errorf("%d prompts played, want 1", w.drv.Prompts())
	}
}

func TestIVRDigitToUser(t *testing.T) {
	w := newIVRWorld(t, standardMenus())
	id := w.call(t, sim.Script{Talk: 30 * time.Second, DTMF: "3", DTMFAfter: 2 * time.Second})
	c, steps := w.run(t, id)
	if c.Disposition != switchboard.DispositionAnswered || c.AgentID == nil || *c.AgentID != ivrAgent || c.QueueID != nil {
		t.Fatalf("call %+v; want answered by agent %d directly", c, ivrAgent)
	}
	if got, want := path(steps), "created menu@0 dtmf ringing connected ended"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
	if at(steps, "ringing") != 2*time.Second || at(steps, "connected") != 4*time.Second {
		t.Errorf("rang at %v, connected at %v; want 2 s and 4 s", at(steps, "ringing"), at(steps, "connected"))
	}
}

func TestIVRDigitToUserWhoIsBusy(t *testing.T) {
	w := newIVRWorld(t, standardMenus())
	w.eng.SetStatus(ivrAgent, "Lunch", false)
	id := w.call(t, sim.Script{DTMF: "3", DTMFAfter: 2 * time.Second})
	c, _ := w.run(t, id)
	if c.Disposition != switchboard.DispositionMissed || c.HangupBy != switchboard.SideSystem {
		t.Fatalf("call %+v; want missed: the agent is not available", c)
	}
}

func TestIVRSubmenu(t *testing.T) {
	for name, dtmf := range map[string]string{"waiting for each prompt": "2,1", "typing ahead": "21"} {
		t.Run(name, func(t *testing.T) {
			w := newIVRWorld(t, standardMenus())
			id := w.call(t, sim.Script{Talk: 10 * time.Second, DTMF: dtmf, DTMFAfter: 2 * time.Second})
			c, steps := w.run(t, id)
			if c.Disposition != switchboard.DispositionAnswered || c.QueueID == nil || *c.QueueID != ivrQueue || c.DTMF != "21" {
				t.Fatalf("call %+v; want answered through the queue after 2 then 1", c)
			}
			want := "created menu@0 dtmf menu@1 dtmf queued ringing connected ended"
			queued := 4 * time.Second
			if dtmf == "21" {
				want, queued = "created menu@0 dtmf menu@1 queued ringing connected ended", 2*time.Second
			}
			if got := path(steps); got != want {
				t.Errorf("path %q, want %q", got, want)
			}
			if at(steps, "queued") != queued || w.drv.Prompts() != 2 {
				t.Errorf("queued at %v after %d prompts; want %v after 2", at(steps, "queued"), w.drv.Prompts(), queued)
			}
		})
	}
}

func TestIVRBackToTheMainMenu(t *testing.T) {
	w := newIVRWorld(t, standardMenus())
	id := w.call(t, sim.Script{DTMF: "2,*,9", DTMFAfter: time.Second})
	c, steps := w.run(t, id)
	if got, want := path(steps), "created menu@0 dtmf menu@1 dtmf menu@0 dtmf ended"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
	if c.Disposition != switchboard.DispositionRejected || c.HangupCause != engine.CauseIVRHangup || c.EndedAt.Sub(start) != 3*time.Second {
		t.Errorf("call %+v; want ended by the menu at 3 s", c)
	}
}

func TestIVRTimeoutBranch(t *testing.T) {
	menus := standardMenus()
	menus[0].TimeoutAction = queueAction()
	w := newIVRWorld(t, menus)
	id := w.call(t, sim.Script{Talk: 10 * time.Second})
	c, steps := w.run(t, id)
	if c.Disposition != switchboard.DispositionAnswered || c.QueueID == nil || c.DTMF != "" {
		t.Fatalf("call %+v; want answered through the queue without a digit", c)
	}
	if at(steps, "queued") != 5*time.Second {
		t.Errorf("queued at %v, want at the 5 s timeout", at(steps, "queued"))
	}
}

func TestIVRInvalidBranch(t *testing.T) {
	menus := standardMenus()
	menus[0].InvalidAction = menuAction(subMenu)
	w := newIVRWorld(t, menus)
	id := w.call(t, sim.Script{Talk: 10 * time.Second, DTMF: "7,1", DTMFAfter: time.Second})
	c, steps := w.run(t, id)
	if got, want := path(steps), "created menu@0 dtmf menu@1 dtmf queued ringing connected ended"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
	if c.DTMF != "71" || c.QueueID == nil {
		t.Errorf("call %+v; want digits 71 and the queue", c)
	}
}

func TestIVRInvalidDigitRepeats(t *testing.T) {
	w := newIVRWorld(t, standardMenus())
	id := w.call(t, sim.Script{Talk: 10 * time.Second, DTMF: "7,1", DTMFAfter: time.Second})
	_, steps := w.run(t, id)
	if got, want := path(steps), "created menu@0 dtmf menu@0 dtmf queued ringing connected ended"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
}

func TestIVRMaxRepeats(t *testing.T) {
	t.Run("then hang up", func(t *testing.T) {
		menus := standardMenus()
		menus[0].MaxRepeats = 2
		w := newIVRWorld(t, menus)
		id := w.call(t, sim.Script{})
		c, steps := w.run(t, id)
		if got, want := path(steps), "created menu@0 menu@0 menu@0 ended"; got != want {
			t.Errorf("path %q, want %q", got, want)
		}
		if c.Disposition != switchboard.DispositionRejected || c.HangupCause != engine.CauseIVRHangup ||
			c.HangupBy != switchboard.SideSystem || c.EndedAt.Sub(start) != 15*time.Second || c.IVRMenuID == nil {
			t.Errorf("call %+v; want ended by the menu after 3 prompts of 5 s, naming the menu", c)
		}
	})
	t.Run("then a default queue", func(t *testing.T) {
		menus := standardMenus()
		menus[0].FinalAction = queueAction()
		w := newIVRWorld(t, menus)
		id := w.call(t, sim.Script{Talk: 10 * time.Second, DTMF: "7,7,7", DTMFAfter: time.Second})
		c, steps := w.run(t, id)
		if got, want := path(steps), "created menu@0 dtmf menu@0 dtmf queued ringing dtmf connected ended"; got != want {
			t.Errorf("path %q, want %q", got, want)
		}
		if c.QueueID == nil || c.Disposition != switchboard.DispositionAnswered || c.DTMF != "777" {
			t.Errorf("call %+v; want the default queue after one repeat, every digit kept", c)
		}
	})
}

func TestIVRHangUpInMenu(t *testing.T) {
	w := newIVRWorld(t, standardMenus())
	id := w.call(t, sim.Script{Patience: 7 * time.Second})
	c, steps := w.run(t, id)
	if got, want := path(steps), "created menu@0 menu@0 ended"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
	if c.Disposition != switchboard.DispositionAbandoned || c.HangupBy != switchboard.SideCaller || c.HangupCause != "caller gave up" ||
		c.EndedAt.Sub(start) != 7*time.Second || c.IVRMenuID == nil || *c.IVRMenuID != mainMenu {
		t.Errorf("call %+v; want abandoned by the caller at 7 s in the main menu", c)
	}
	// The menu's timer died with the call: nothing more happens to it.
	w.clock.Advance(time.Hour)
	if n := len(w.rec.steps[id]); n != len(steps) {
		t.Errorf("%d changes after the call ended", n-len(steps))
	}
}

func TestIVRMenusLeadingToEachOtherEnd(t *testing.T) {
	menus := standardMenus()
	menus[0].TimeoutAction, menus[1].TimeoutAction = menuAction(subMenu), menuAction(mainMenu)
	w := newIVRWorld(t, menus)
	id := w.call(t, sim.Script{})
	c, steps := w.run(t, id)
	if c.HangupCause != engine.CauseIVRLoop || w.drv.Prompts() != 50 || len(steps) != 52 {
		t.Errorf("call %+v after %d prompts and %d changes; want ended for looping after 50", c, w.drv.Prompts(), len(steps))
	}
}

func TestIVRChoiceLeadingNowhere(t *testing.T) {
	menus := standardMenus()
	w := newIVRWorld(t, menus[:1]) // the submenu is gone
	id := w.call(t, sim.Script{DTMF: "2", DTMFAfter: time.Second})
	c, _ := w.run(t, id)
	if c.Disposition != switchboard.DispositionRejected || c.HangupCause != engine.CauseIVRTarget {
		t.Errorf("call %+v; want ended: the choice leads nowhere", c)
	}
}

func TestIVRPickupDelaysTheMenu(t *testing.T) {
	w := newIVRWorld(t, standardMenus())
	id := w.call(t, sim.Script{Ring: 4 * time.Second, Talk: time.Second, DTMF: "1", DTMFAfter: time.Second})
	_, steps := w.run(t, id)
	if at(steps, "menu") != 4*time.Second || at(steps, "queued") != 5*time.Second {
		t.Errorf("menu at %v, queued at %v; want 4 s and 5 s", at(steps, "menu"), at(steps, "queued"))
	}
}

func TestIVRMenusAreReplacedByTenant(t *testing.T) {
	w := newIVRWorld(t, standardMenus())
	w.eng.SetMenus(ivrTenant, nil, nil)
	if _, _, err := w.drv.Call("+15550001111", ivrNumber, sim.Script{}); err == nil {
		t.Fatal("a number whose menus were removed still answers")
	}
	w.eng.SetMenus(ivrTenant+1, standardMenus(), map[string]int64{"+15550000300": mainMenu})
	_, id, err := w.drv.Call("+15550001111", "+15550000300", sim.Script{DTMF: "1", DTMFAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := w.run(t, id)
	// Tenant 8's menu leads to queue 1, which is tenant 7's: not followed.
	if c.HangupCause != engine.CauseIVRTarget || c.TenantID != ivrTenant+1 {
		t.Errorf("call %+v; want tenant 8's call refused a queue of tenant 7", c)
	}
}

func TestIVRHungUpThroughTheAPIInMenu(t *testing.T) {
	w := newIVRWorld(t, standardMenus())
	id := w.call(t, sim.Script{})
	w.clock.Advance(2 * time.Second)
	if !w.eng.Hangup(id) {
		t.Fatal("Hangup found no call")
	}
	c, steps := w.run(t, id)
	if got, want := path(steps), "created menu@0 ended"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
	if c.Disposition != switchboard.DispositionFailed || c.HangupBy != switchboard.SideSystem || c.EndedAt.Sub(start) != 2*time.Second {
		t.Errorf("call %+v; want failed by the system at 2 s", c)
	}
}
