package engine_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

func TestActionOnlyKeepsTheAgentBusyThenWrapsUp(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Q", WrapUpSeconds: 30}, answers(time.Second))
	queue := int64(1)
	id, err := w.eng.StartActionOnly(engine.ActionOnly{TenantID: tenant, AgentID: 1, From: "+15550009999", To: "8001992999",
		QueueID: &queue, Source: switchboard.CallSource{System: "ujet_pds", AccountID: "1917"}})
	if err != nil {
		t.Fatal(err)
	}
	if l := w.eng.AgentLive(1); l.State != "in_call" || l.CallsInProgress != 1 {
		t.Fatalf("agent %+v, want busy with the dialer's call", l)
	}
	// A caller meanwhile is not offered to the busy agent.
	caller := w.place(t, sim.Script{Talk: 10 * time.Second})
	w.clock.Advance(time.Minute)
	if _, changes, _, _ := w.call(caller); slices.Contains(changes, "ringing") {
		t.Fatalf("the caller rang the agent on the action-only call: %v", changes)
	}
	// The agent cannot take a second one.
	var busy *engine.ErrAgentUnavailable
	if _, err := w.eng.StartActionOnly(engine.ActionOnly{TenantID: tenant, AgentID: 1}); !errors.As(err, &busy) {
		t.Fatalf("second action-only call: %v, want the agent unavailable", err)
	}
	if err := w.eng.Hold(id, true); err == nil {
		t.Error("an action-only call was put on hold")
	}
	if err := w.eng.FinishActionOnly(tenant+1, id, switchboard.SideAgent, "done"); err == nil {
		t.Error("another tenant finished the call")
	}
	if err := w.eng.FinishActionOnly(tenant, id, switchboard.SideAgent, "dialer: call ended"); err != nil {
		t.Fatal(err)
	}
	c, changes, _, ok := w.call(id)
	if !ok || c.Status != switchboard.CallActionOnlyFinished || c.Disposition != switchboard.DispositionAnswered ||
		c.Talk() != time.Minute || *c.AgentID != 1 || c.Source.AccountID != "1917" || c.Recorded || c.HangupBy != switchboard.SideAgent {
		t.Fatalf("call %+v (talk %v)", c, c.Talk())
	}
	if want := []string{"created", "ended"}; !slices.Equal(changes, want) {
		t.Errorf("changes %v, want %v", changes, want)
	}
	if l := w.eng.AgentLive(1); l.State != "wrap_up" {
		t.Errorf("agent %+v, want wrapping up", l)
	}
	// After the wrap-up the waiting caller reaches the agent.
	w.clock.Advance(31 * time.Second)
	if _, changes, _, _ := w.call(caller); !slices.Contains(changes, "connected") {
		t.Errorf("the waiting caller %v was not connected after the wrap-up", changes)
	}
	if err := w.eng.FinishActionOnly(tenant, id, switchboard.SideAgent, "again"); err == nil {
		t.Error("a finished call was finished again")
	}
}

func TestActionOnlyNeedsASignedInAgent(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Q"}, answers(time.Second))
	w.eng.SetStatus(1, switchboard.StatusOffline, false)
	var unavailable *engine.ErrAgentUnavailable
	if _, err := w.eng.StartActionOnly(engine.ActionOnly{TenantID: tenant, AgentID: 1}); !errors.As(err, &unavailable) {
		t.Fatalf("%v, want the agent unavailable", err)
	}
	if _, err := w.eng.StartActionOnly(engine.ActionOnly{TenantID: tenant, AgentID: 99}); !errors.As(err, &unavailable) {
		t.Fatalf("unknown agent: %v", err)
	}
}
