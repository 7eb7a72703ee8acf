package engine_test

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

// mondays are hours open on Mondays only: closed at dialStart, a Tuesday.
var mondays = &switchboard.OperatingHours{Weekly: []switchboard.OpenRange{{Day: 1, Open: "09:00", Close: "17:00"}}}

// place has a scripted caller dial the queue and returns the call's id.
func (w *dialWorld) place(t *testing.T, s sim.Script) int64 {
	t.Helper()
	_, id, err := w.drv.Call("+15557770001", queueNumber, s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// recordingLength is the length of the audio the simulator serves for c.
func recordingLength(t *testing.T, drv *sim.Driver, c switchboard.Call) time.Duration {
	t.Helper()
	size, r, err := drv.Recording(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	r.Close()
	if err != nil || n != size {
		t.Fatalf("recording: %d bytes of %d, %v", n, size, err)
	}
	return time.Duration((size-44)/2) * time.Second / sim.RecordingRate
}

func TestVoicemailAfterHours(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Closed", Hours: mondays, VoicemailEnabled: true}, answers(time.Second))
	id := w.place(t, sim.Script{Message: 20 * time.Second})
	w.clock.Advance(time.Minute)
	c, changes, _, ok := w.call(id)
	if !ok {
		t.Fatalf("the call has not ended: %v", changes)
	}
	if want := []string{"created", "voicemail_started", "ended"}; !slices.Equal(changes, want) {
		t.Errorf("changes %v, want %v", changes, want)
	}
	if c.Status != switchboard.CallVoicemailReceived || c.VoicemailReason != switchboard.VoicemailAfterHours ||
		c.Disposition != switchboard.DispositionRejected || c.HangupBy != switchboard.SideCaller || !c.Recorded ||
		c.AgentID != nil || c.RingingAt != nil || c.ConnectedAt != nil {
		t.Errorf("call %+v", c)
	}
	// Greeting and beep, then the 20 s message.
	if got := c.EndedAt.Sub(dialStart); got != sim.VoicemailGreeting+20*time.Second {
		t.Errorf("ended %v after the call, want %v", got, sim.VoicemailGreeting+20*time.Second)
	}
	if got := recordingLength(t, w.drv, c); got != 20*time.Second {
		t.Errorf("the recording lasts %v, want the 20 s message", got)
	}
	if w.drv.Recorded() != 1 {
		t.Errorf("%d legs recorded, want the caller's", w.drv.Recorded())
	}
	w.checkIdle(t)
}

func TestAfterHoursWithoutVoicemailIsRefused(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Closed", Hours: mondays}, answers(time.Second))
	id := w.place(t, sim.Script{Message: 20 * time.Second})
	w.clock.Advance(time.Minute)
	c, changes, _, ok := w.call(id)
	if !ok || c.Status != switchboard.CallFailed || c.Disposition != switchboard.DispositionRejected ||
		c.HangupCause != switchboard.CauseAfterHours || c.VoicemailReason != "" || c.Recorded || !c.EndedAt.Equal(dialStart) {
		t.Fatalf("call %+v (%v), want refused at once after hours", c, changes)
	}
	w.checkIdle(t)
}

func TestOpenHoursQueueAsUsual(t *testing.T) {
	tuesdays := &switchboard.OperatingHours{Weekly: []switchboard.OpenRange{{Day: 2, Open: "09:00", Close: "17:00"}}}
	w := newDialWorld(t, switchboard.Queue{Name: "Open", Hours: tuesdays, VoicemailEnabled: true}, answers(time.Second))
	id := w.place(t, sim.Script{Talk: 10 * time.Second, Message: 20 * time.Second})
	w.clock.Advance(time.Minute)
	if c, changes, _, _ := w.call(id); c.Status != switchboard.CallFinished || c.VoicemailReason != "" || slices.Contains(changes, "voicemail_started") {
		t.Fatalf("call %+v (%v), want answered by the agent", c, changes)
	}
}

func TestVoicemailOverCapacity(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Full", MaxLength: 1, VoicemailEnabled: true},
		sim.Device{Registered: true, Behavior: sim.Ignore})
	waits := w.place(t, sim.Script{Patience: 2 * time.Minute})
	full := w.place(t, sim.Script{Message: 5 * time.Second})
	w.clock.Advance(time.Minute)
	c, changes, _, ok := w.call(full)
	if !ok || c.Status != switchboard.CallVoicemailReceived || c.VoicemailReason != switchboard.VoicemailOverCapacity ||
		c.Disposition != switchboard.DispositionRejected || c.QueuedAt != nil {
		t.Fatalf("call %+v (%v), want a voicemail for a full queue", c, changes)
	}
	if got := recordingLength(t, w.drv, c); got != 5*time.Second {
		t.Errorf("the recording lasts %v, want 5 s", got)
	}
	if _, changes, _, ended := w.call(waits); ended || !slices.Contains(changes, "queued") {
		t.Errorf("the first caller %v should still wait", changes)
	}
}

func TestVoicemailAfterTheLongestWait(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Slow", TimeoutSeconds: 15, MaxWaitSeconds: 40, VoicemailEnabled: true},
		sim.Device{Registered: true, Behavior: sim.Ignore})
	id := w.place(t, sim.Script{Message: 10 * time.Second})
	w.clock.Advance(2 * time.Minute)
	c, changes, _, ok := w.call(id)
	if !ok || c.Status != switchboard.CallVoicemailReceived || c.VoicemailReason != switchboard.VoicemailNoAnswer ||
		c.Disposition != switchboard.DispositionNoAnswer || c.HangupBy != switchboard.SideCaller || c.RingingAt == nil {
		t.Fatalf("call %+v (%v)", c, changes)
	}
	if got := c.EndedAt.Sub(dialStart); got != 40*time.Second+sim.VoicemailGreeting+10*time.Second {
		t.Errorf("ended %v after the call", got)
	}
	if i := slices.Index(changes, "voicemail_started"); i < 0 || changes[len(changes)-1] != "ended" {
		t.Errorf("changes %v", changes)
	}
	// The agent rung last is free again, not left ringing.
	if l := w.eng.AgentLive(1); l.State != "idle" || l.CallsInProgress != 0 {
		t.Errorf("agent %+v, want idle", l)
	}
	w.checkIdle(t)
}

func TestVoicemailLengthIsBounded(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Closed", Hours: mondays, VoicemailEnabled: true}, answers(time.Second))
	id := w.place(t, sim.Script{Message: time.Hour})
	w.clock.Advance(10 * time.Minute)
	c, _, _, ok := w.call(id)
	if !ok || c.Status != switchboard.CallVoicemailReceived || c.HangupBy != switchboard.SideSystem ||
		c.EndedAt.Sub(dialStart) != engine.DefaultVoicemailMaxLength {
		t.Fatalf("call %+v, want cut at %v", c, engine.DefaultVoicemailMaxLength)
	}
	if got := recordingLength(t, w.drv, c); got != engine.DefaultVoicemailMaxLength-sim.VoicemailGreeting {
		t.Errorf("the recording lasts %v", got)
	}
	w.checkIdle(t)
}

func TestVoicemailHungUpThroughTheAPI(t *testing.T) {
	w := newDialWorld(t, switchboard.Queue{Name: "Closed", Hours: mondays, VoicemailEnabled: true}, answers(time.Second))
	id := w.place(t, sim.Script{Message: time.Minute})
	w.clock.Advance(13 * time.Second)
	if !w.eng.Hangup(id) {
		t.Fatal("the engine does not know the call")
	}
	c, _, _, ok := w.call(id)
	if !ok || c.Status != switchboard.CallVoicemailReceived || c.HangupBy != switchboard.SideSystem {
		t.Fatalf("call %+v", c)
	}
	if got := recordingLength(t, w.drv, c); got != 10*time.Second {
		t.Errorf("the recording lasts %v, want 10 s", got)
	}
	w.checkIdle(t)
}

func TestUserVoicemail(t *testing.T) {
	const direct = "+15550009000"
	for _, tc := range []struct {
		name   string
		device sim.Device
		signIn bool
		after  time.Duration // when the greeting starts
	}{
		{"not answered", sim.Device{Registered: true, Behavior: sim.NoAnswer}, true, 30 * time.Second},
		{"not available", answers(time.Second), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newDialWorld(t, switchboard.Queue{Name: "Q"}, tc.device)
			w.eng.SetUserRoutes(1, tenant, []string{direct})
			w.eng.SetUserVoicemail(1, true)
			if !tc.signIn {
				w.eng.SetStatus(1, "Lunch", false)
			}
			_, id, err := w.drv.Call("+15557770002", direct, sim.Script{Message: 8 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			w.clock.Advance(2 * time.Minute)
			c, changes, _, ok := w.call(id)
			if !ok || c.Status != switchboard.CallVoicemailReceived || c.VoicemailReason != switchboard.VoicemailNoAnswer ||
				c.Disposition != switchboard.DispositionMissed || c.EndedAt.Sub(dialStart) != tc.after+sim.VoicemailGreeting+8*time.Second {
				t.Fatalf("call %+v (%v)", c, changes)
			}
			if got := recordingLength(t, w.drv, c); got != 8*time.Second {
				t.Errorf("the message lasts %v", got)
			}
			w.checkIdle(t)
		})
	}
	// Without voicemail the missed call ends as before.
	w := newDialWorld(t, switchboard.Queue{Name: "Q"}, sim.Device{Registered: true, Behavior: sim.NoAnswer})
	w.eng.SetUserRoutes(1, tenant, []string{direct})
	_, id, _ := w.drv.Call("+15557770002", direct, sim.Script{Message: 8 * time.Second})
	w.clock.Advance(2 * time.Minute)
	if c, _, _, _ := w.call(id); c.Status != switchboard.CallFailed || c.Disposition != switchboard.DispositionMissed || c.VoicemailReason != "" {
		t.Fatalf("call %+v", c)
	}
}
