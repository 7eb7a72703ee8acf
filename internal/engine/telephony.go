package engine

import "time"

// LegID names one call leg inside a telephony driver.
type LegID string

// Endpoint is where a leg goes: an agent's device, or an outside number.
type Endpoint struct {
	Device string // the agent's device (SIP username, or the simulator's phone)
	Number string // an E.164 number
}

// Originate asks the driver for a new outbound leg.
type Originate struct {
	Leg      LegID
	To       Endpoint
	CallerID string
	// Timeout ends an unanswered leg with LegNoAnswer.
	Timeout time.Duration
}

// Telephony is what the engine needs from a telephony driver (the simulator, or
// SIP). Drivers report what happens on their legs through Engine.LegEvent and
// new inbound legs through Engine.Inbound, never from inside one of these
// calls, so the engine may call them while it holds its own lock.
type Telephony interface {
	Originate(o Originate) error
	Answer(leg LegID) error
	Bridge(a, b LegID) error
	Hangup(leg LegID, cause string) error
	// Play starts a prompt or hold music on a leg ("moh:default" is the
	// queue's music on hold); it stops when the leg is bridged or ends.
	Play(leg LegID, media string) error
	// Record starts (on) or stops recording what is said on a leg and on
	// whatever it is bridged to; recording also stops when the leg ends.
	Record(leg LegID, on bool) error
}

// LegEventType is what happened on a leg.
type LegEventType int

// The leg events.
const (
	LegRinging LegEventType = iota + 1
	LegAnswered
	LegBusy
	LegNoAnswer
	LegFailed
	LegHungUp // the far end hung up
	LegDTMF   // the far end keyed digits (in Digits)
)

// CauseMachine on LegAnswered says an answering machine or voicemail picked up,
// not a person (the driver's answering-machine detection).
const CauseMachine = "machine"

// LegEvent reports one thing that happened on a leg.
type LegEvent struct {
	Leg    LegID
	Type   LegEventType
	Cause  string
	Digits string // with LegDTMF
}
