package callcenter_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"switchboard"
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
