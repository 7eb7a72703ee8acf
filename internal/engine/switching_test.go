package engine_test

import (
	"slices"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

// clickToCall places agent 1's call to number.
func (w *dialWorld) clickToCall(t *testing.T, number string) int64 {
	t.Helper()
	id, err := w.eng.Call(engine.ClickToCall{TenantID: tenant, AgentID: 1, Number: number, CallerID: callerID})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSwitchingToTheNextTrunk(t *testing.T) {
	const number = "+15550003333"
	w := newDialWorld(t, switchboard.Queue{Name: "Q"}, answers(time.Second))
	w.drv.SetNumber(number, sim.Script{Behavior: sim.Answer, AnswerAfter: 4 * time.Second, Talk: 10 * time.Second})
	w.drv.SetTrunks(tenant, "primary", "backup")
	w.drv.FailTrunk("primary", true)
	id := w.clickToCall(t, number)
	// The agent answers at 1 s; the primary fails 2 s later; the backup's
	// customer answers 4 s after that.
	w.clock.Advance(2 * time.Second)
	w.mu.Lock()
	early := slices.Clone(w.changes[id])
	w.mu.Unlock()
	if slices.Contains(early, "switching") {
		t.Fatalf("switched before the trunk failed: %v", early)
	}
	w.clock.Advance(time.Minute)
	c, changes, _, ok := w.call(id)
	if want := []string{"created", "ringing", "agent_answered", "switching", "connected", "ended"}; !ok || !slices.Equal(changes, want) {
		t.Fatalf("changes %v, want %v", changes, want)
	}
	if c.Status != switchboard.CallFinished || c.ConnectedAt.Sub(dialStart) != 7*time.Second || c.Talk() != 10*time.Second {
		t.Errorf("call %+v", c)
	}
	w.checkIdle(t)
}

func TestSwitchingFailsWhenNoTrunkIsLeft(t *testing.T) {
	const number = "+15550003334"
	for _, tc := range []struct {
		name    string
		trunks  []string
		changes []string
	}{
		{"the only trunk fails", []string{"primary"}, []string{"created", "ringing", "agent_answered", "ended"}},
		{"both trunks fail", []string{"primary", "backup"}, []string{"created", "ringing", "agent_answered", "switching", "ended"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newDialWorld(t, switchboard.Queue{Name: "Q"}, answers(time.Second))
			w.drv.SetNumber(number, sim.Script{Behavior: sim.Answer, AnswerAfter: 4 * time.Second, Talk: 10 * time.Second})
			w.drv.SetTrunks(tenant, tc.trunks...)
			for _, tr := range tc.trunks {
				w.drv.FailTrunk(tr, true)
			}
			id := w.clickToCall(t, number)
			w.clock.Advance(time.Minute)
			c, changes, _, ok := w.call(id)
			if !ok || !slices.Equal(changes, tc.changes) {
				t.Fatalf("changes %v, want %v", changes, tc.changes)
			}
			if c.Status != switchboard.CallFailed || c.Disposition != switchboard.DispositionFailed ||
				c.EndedAt.Sub(dialStart) != time.Second+time.Duration(len(tc.trunks))*sim.TrunkFailTime {
				t.Errorf("call %+v", c)
			}
			// The agent is free again.
			if l := w.eng.AgentLive(1); l.State != "idle" {
				t.Errorf("agent %+v", l)
			}
			w.checkIdle(t)
		})
	}
}

func TestScheduledCallSwitchesTrunks(t *testing.T) {
	const number = "+15550003335"
	w := newDialWorld(t, switchboard.Queue{Name: "Q"}, answers(time.Second))
	w.drv.SetNumber(number, sim.Script{Behavior: sim.Answer, AnswerAfter: 3 * time.Second, Talk: 10 * time.Second})
	w.drv.SetTrunks(tenant, "primary", "backup")
	w.drv.FailTrunk("primary", true)
	queue := int64(1)
	at := dialStart.Add(time.Minute)
	id, err := w.eng.Schedule(engine.Scheduled{Call: switchboard.Call{TenantID: tenant, QueueID: &queue, To: number, From: callerID, ScheduledAt: &at}})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(5 * time.Minute)
	c, changes, _, ok := w.call(id)
	if i := slices.Index(changes, "switching"); !ok || i < 0 || !slices.Contains(changes[i:], "connected") || c.Status != switchboard.CallFinished {
		t.Fatalf("call %+v, changes %v", c, changes)
	}
}
