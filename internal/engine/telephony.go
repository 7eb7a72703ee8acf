package engine

import (
	"context"
	"io"
	"time"

	"switchboard"
)

// The driver ports. The engine declares what it needs from telephony and a
// driver (the simulator today, SIP next) implements it; the engine never
// imports a driver. Call control is what the engine itself drives; devices,
// media fetching and fax documents are what the call service asks of the same
// driver on behalf of the APIs.

// LegID names one call leg inside a telephony driver.
type LegID string

// Endpoint is where a leg goes: an agent's device, or an outside number.
type Endpoint struct {
	Device string // the agent's device (SIP username, or the simulator's phone)
	Number string // an E.164 number
}

// Originate asks the driver for a new outbound leg.
type Originate struct {
	// TenantID is whose call it is: a driver picks the tenant's carrier
	// for an outside number.
	TenantID int64
	Leg      LegID
	To       Endpoint
	CallerID string
	// Timeout ends an unanswered leg with LegNoAnswer.
	Timeout time.Duration
}

// CallControl is the port the engine drives calls through. Every method only
// starts the work and returns at once: the engine calls them while it holds
// its lock, so they must not block on the network. What happens next, failures
// included (an unregistered phone, a rejected number), comes back as LegEvents
// through Engine.LegEvent, and new inbound legs through Engine.Inbound, never
// from inside one of these calls.
type CallControl interface {
	Originate(o Originate)
	Answer(leg LegID)
	Bridge(a, b LegID)
	Hangup(leg LegID, cause string)
}

// MediaControl is the port for what is played and recorded on a leg; like
// CallControl it never blocks.
type MediaControl interface {
	// Play starts a prompt or hold music on a leg ("moh:default" is the
	// queue's music on hold, "ringback" the ringing tone, PromptMedia names
	// an IVR menu's prompt); it stops when the leg is bridged, ends, or
	// something else is played on it.
	Play(leg LegID, media string)
	// Record starts (on) or stops recording what is said on a leg and on
	// whatever it is bridged to, as the recording of call (what
	// Recordings.Recording later fetches by the call's id); recording also
	// stops when the leg ends, and starting another call's recording on
	// the same leg (a transfer) ends the first.
	Record(leg LegID, call int64, on bool)
}

// Telephony is what the engine needs of a driver to run calls.
type Telephony interface {
	CallControl
	MediaControl
}

// Devices is the port for agents' phones: the call service tells the driver
// which device belongs to which agent and asks whether it is registered, so
// that an agent whose phone is away is not offered calls in vain.
type Devices interface {
	// Provision makes device known to the driver (an agent has an
	// extension); Unprovision forgets it.
	Provision(device string)
	Registered(device string) bool
}

// Recordings is the port for fetching what a call recorded.
type Recordings interface {
	// Recording opens the recording of c (audio/wav) and gives its size; a
	// call still in progress gives what has been recorded so far.
	Recording(ctx context.Context, c switchboard.Call) (int64, io.ReadCloser, error)
}

// Faxes is the port for received faxes.
type Faxes interface {
	// FaxDocument is the document (PDF) of a received fax call.
	FaxDocument(ctx context.Context, c switchboard.Call) ([]byte, error)
}

// Driver is a whole telephony driver: every port. `serve --telephony` picks
// one; the engine and the call service see only these interfaces.
type Driver interface {
	Telephony
	Devices
	Recordings
	Faxes
	// Close stops the driver's timers and ends its legs; it is called after
	// the engine has stopped and before the store closes.
	Close() error
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
	// LegHeld and LegResumed say the far end put the call on hold or took it
	// off (a phone's hold button: a re-INVITE with sendonly or inactive
	// media, RFC 3264). On an agent's leg the engine holds the call as the
	// API's hold does.
	LegHeld
	LegResumed
	// LegTransfer says the far end asked to transfer the call blind to
	// Target (a phone's REFER).
	LegTransfer
	// LegSwitching says an outside number's carrier failed while the leg
	// was connecting and the driver is trying the tenant's next trunk
	// (Cause names the failure); the leg's later events come from that
	// attempt. A driver with no other trunk to try reports LegFailed.
	LegSwitching
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
	// Target, with LegTransfer, is the routing key of where the call goes:
	// a queue's route (its extension or number) or an agent's device.
	Target string
}
