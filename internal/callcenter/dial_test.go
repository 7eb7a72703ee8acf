package callcenter_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sim"
)

// TestDialPrerequisites checks that a click-to-call is refused for the first
// prerequisite of the agent that is missing, in the order Voiso's Start call
// lists them, and placed when none is.
func TestDialPrerequisites(t *testing.T) {
	w := newWorld(t, 1, 0, 0)
	ctx := context.Background()
	mk := func(u switchboard.User, status string) int64 {
		t.Helper()
		u.FirstName = "User"
		u, err := w.store.CreateUser(ctx, w.tenant, u)
		if err != nil {
			t.Fatal(err)
		}
		if status != "" {
			if _, err := w.store.SetPresence(ctx, w.tenant, u.ID, status, false); err != nil {
				t.Fatal(err)
			}
		}
		return u.ID
	}
	noPhone := mk(switchboard.User{Email: "nophone@example.com"}, switchboard.StatusAvailable)
	// Without a phone and without click-to-call: the phone is named first.
	noPhoneNoClick := mk(switchboard.User{Email: "neither@example.com", ClickToCallDisabled: true}, switchboard.StatusAvailable)
	noClick := mk(switchboard.User{Email: "noclick@example.com", Extension: "201", ClickToCallDisabled: true}, switchboard.StatusAvailable)
	offline := mk(switchboard.User{Email: "offline@example.com", Extension: "202"}, "")

	for _, tt := range []struct {
		name string
		user int64
		code switchboard.Code
		why  string
	}{
		{"unknown user", 999999, switchboard.CodeNotFound, ""},
		{"no extension or sign-in identity", noPhone, switchboard.CodeInvalid, "has no extension or sign-in identity"},
		{"no phone and no click-to-call", noPhoneNoClick, switchboard.CodeInvalid, "has no extension or sign-in identity"},
		{"click-to-call withheld", noClick, switchboard.CodeForbidden, "click_to_call_disabled"},
		{"not signed in", offline, switchboard.CodeInvalid, "not signed in"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.svc.Dial(ctx, w.tenant, switchboard.DialRequest{UserID: tt.user, PhoneNumber: "+15550002222"})
			if got := switchboard.ErrorCode(err); got != tt.code {
				t.Fatalf("Dial: %v (code %q), want %q", err, got, tt.code)
			}
			if tt.why == "" {
				return
			}
			var se *switchboard.Error
			if !errors.As(err, &se) || !strings.Contains(se.Fields["user_id"], tt.why) {
				t.Fatalf("Dial: %v, want user_id %q", err, tt.why)
			}
		})
	}

	// The world's agent has an extension and is Available: the call is
	// placed, the agent's phone first.
	c, err := w.svc.Dial(ctx, w.tenant, switchboard.DialRequest{UserID: w.agents[0], PhoneNumber: "+15550002222"})
	if err != nil {
		t.Fatal(err)
	}
	if c.AgentID == nil || *c.AgentID != w.agents[0] || c.To != "+15550002222" || c.Direction != switchboard.Outbound {
		t.Fatalf("placed %+v", c)
	}
	w.clock.Advance(time.Minute)
}

// TestCallWrappedUpEvents checks that call.wrapped_up reaches the log in
// the engine's order: after the agent is back from the wrap-up for a
// connected call, and right after call.ended for a call no agent took.
func TestCallWrappedUpEvents(t *testing.T) {
	w := newWorld(t, 1, 0, 0) // the queue wraps up for 10 s
	ctx := context.Background()
	head, err := w.store.EventHead(ctx, w.tenant)
	if err != nil {
		t.Fatal(err)
	}
	_, talked, err := w.drv.Call("+15551000001", w.number, sim.Script{Talk: 20 * time.Second, Patience: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(5 * time.Second)
	// The only agent is busy: this caller gives up while queued.
	_, gaveUp, err := w.drv.Call("+15551000002", w.number, sim.Script{Talk: time.Minute, Patience: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		w.clock.Advance(5 * time.Second)
	}
	if err := w.svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := w.store.Events(ctx, w.tenant, head, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for _, e := range evs {
		switch {
		case e.Type == switchboard.EventAgentStatusChanged:
			var p switchboard.PresenceEventPayload
			if err := json.Unmarshal(e.Payload, &p); err != nil {
				t.Fatal(err)
			}
			seq = append(seq, "agent "+p.Status)
		case e.SubjectType == "call" && (e.Type == switchboard.EventCallEnded || e.Type == switchboard.EventCallWrappedUp):
			name := map[int64]string{talked: "talked", gaveUp: "gave up"}[e.SubjectID]
			seq = append(seq, name+" "+e.Type)
		}
	}
	want := []string{"agent In-Call", "gave up call.ended", "gave up call.wrapped_up", "talked call.ended", "agent Wrap-Up",
		"agent Available", "talked call.wrapped_up"}
	if !slices.Equal(seq, want) {
		t.Errorf("events\n got %q\nwant %q", seq, want)
	}
}
