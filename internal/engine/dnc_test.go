package engine_test

import (
	"slices"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

// A callback armed before its number was put on the do-not-call list never
// rings it: CancelScheduled ends it rejected, its timer disarmed, and leaves
// the tenant's other callbacks alone.
func TestCancelScheduledBeforeItDials(t *testing.T) {
	const listed, other = "+15550004441", "+15550004442"
	w := newDialWorld(t, switchboard.Queue{Name: "Q"}, answers(time.Second))
	for _, n := range []string{listed, other} {
		w.drv.SetNumber(n, sim.Script{Behavior: sim.Answer, AnswerAfter: time.Second, Talk: 10 * time.Second})
	}
	queue := int64(1)
	at := dialStart.Add(time.Minute)
	schedule := func(number string) int64 {
		id, err := w.eng.Schedule(engine.Scheduled{Call: switchboard.Call{TenantID: tenant, QueueID: &queue, To: number, From: callerID, ScheduledAt: &at}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	first, second, kept := schedule(listed), schedule(listed), schedule(other)
	if n := w.eng.CancelScheduled(tenant+1, listed, switchboard.CauseDoNotCall); n != 0 {
		t.Fatalf("another tenant's list cancelled %d callbacks", n)
	}
	if n := w.eng.CancelScheduled(tenant, listed, switchboard.CauseDoNotCall); n != 2 {
		t.Fatalf("cancelled %d callbacks, want 2", n)
	}
	w.clock.Advance(5 * time.Minute)
	for _, id := range []int64{first, second} {
		c, changes, _, ok := w.call(id)
		if !ok || c.Status != switchboard.CallFailed || c.Disposition != switchboard.DispositionRejected ||
			c.HangupCause != switchboard.CauseDoNotCall || slices.Contains(changes, "dialing") || c.ConnectedAt != nil {
			t.Errorf("listed callback %d: %+v, changes %v", id, c, changes)
		}
	}
	if c, _, _, ok := w.call(kept); !ok || c.Status != switchboard.CallFinished {
		t.Errorf("the other number's callback: %+v", c)
	}
	// Once dialled, a callback is no longer "scheduled": nothing to cancel.
	if n := w.eng.CancelScheduled(tenant, other, switchboard.CauseDoNotCall); n != 0 {
		t.Errorf("cancelled %d callbacks already dialled", n)
	}
}

// A callback placed without recording (the caller declined) is connected
// to the agent unrecorded; one placed with recording is recorded.
func TestScheduledWithoutRecording(t *testing.T) {
	for _, noRec := range []bool{true, false} {
		number := "+15550004451"
		if noRec {
			number = "+15550004452"
		}
		w := newDialWorld(t, switchboard.Queue{Name: "Q"}, answers(time.Second))
		w.drv.SetNumber(number, sim.Script{Behavior: sim.Answer, AnswerAfter: time.Second, Talk: 10 * time.Second})
		queue := int64(1)
		at := dialStart.Add(time.Minute)
		id, err := w.eng.Schedule(engine.Scheduled{Call: switchboard.Call{TenantID: tenant, QueueID: &queue, To: number, From: callerID, ScheduledAt: &at},
			NoRecording: noRec})
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(5 * time.Minute)
		c, _, _, ok := w.call(id)
		if !ok || c.Status != switchboard.CallFinished || c.Recorded == noRec {
			t.Errorf("NoRecording %v: %+v", noRec, c)
		}
	}
}
