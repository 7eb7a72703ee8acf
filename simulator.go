package switchboard

import (
	"context"
	"time"
)

// Simulator is the control surface of the simulated telephony, which the
// server runs by default (`serve --telephony sim`): scripted callers dial the
// tenant's numbers, and agents' virtual phones answer as configured. It powers
// the demo, the test suite and capacity planning. The simulator driver
// implements it (internal/sim); the native API serves it under /v1/sim, and
// only while the simulator is the telephony.
type Simulator interface {
	// PlaceCall has a scripted caller dial one of the tenant's numbers or
	// queue extensions, and returns the inbound call as recorded.
	PlaceCall(ctx context.Context, tenantID int64, c SimulatedCall) (Call, error)
	// SetPhone configures a user's virtual phone.
	SetPhone(ctx context.Context, tenantID, userID int64, p SimulatedPhone) error
	// SetNumber scripts how an outside number (E.164) answers the tenant's
	// calls: campaign dials, click-to-calls and callbacks.
	SetNumber(ctx context.Context, tenantID int64, number string, n SimulatedNumber) error
}

// SimulatedNumber is how an outside number answers.
type SimulatedNumber struct {
	// Behavior is answer, voicemail (a machine answers), reject (busy),
	// no_answer (rings until the call's ring time), invalid (does not
	// exist) or ignore (rings forever).
	Behavior    string
	AnswerAfter time.Duration
	// Talk is how long the person (or machine) stays once bridged, and
	// Patience how long an answered person waits for an agent.
	Talk, Patience time.Duration
}

// SimulatedCall is how a scripted caller behaves.
type SimulatedCall struct {
	From, To string
	// AnswerAfter is how long the call rings before Switchboard picks it up.
	AnswerAfter time.Duration
	// Talk is how long the caller talks once connected (0: until the agent
	// hangs up); Patience how long they wait for an agent (0: forever).
	Talk, Patience time.Duration
	// DTMF is keyed DTMFAfter after Switchboard answers. Commas split it
	// into groups, each keyed DTMFAfter after the one before, so a caller
	// can walk a menu and then its submenu ("1,2").
	DTMF      string
	DTMFAfter time.Duration
	// FaxPages makes the caller a fax machine sending that many pages.
	FaxPages int
	// Message is how long the caller speaks when offered voicemail (a
	// closed or full queue, or one whose wait ran out), from the beep
	// until they hang up; 0 hangs up at the beep without a message.
	Message time.Duration
}

// SimulatedPhone is how a user's virtual phone behaves.
type SimulatedPhone struct {
	Registered bool
	// Behavior is answer, reject (busy), ignore (rings until the timeout) or
	// no_answer.
	Behavior    string
	AnswerAfter time.Duration
}
