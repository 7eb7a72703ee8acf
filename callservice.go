package switchboard

import (
	"context"
	"io"
	"time"
)

// CallService is call control as every dialect sees it: one interface,
// implemented by the call service (internal/callcenter), that the native API
// and every vendor dialect call with the request types below. A dialect
// translates its vendor's request into one of these and renders the Call it
// gets back; the rules (caller-id choice, the do-not-call list, who may place
// a call) live behind the interface, once.
type CallService interface {
	// Dial places a click-to-call: the agent's phone rings first and, once
	// they answer, the customer's number is dialled.
	Dial(ctx context.Context, tenantID int64, r DialRequest) (Call, error)
	// DialLink places the call of a click-to-call link to a contact, ringing
	// the side the link says first.
	DialLink(ctx context.Context, tenantID int64, r LinkRequest) (Call, error)
	// Schedule arms a callback: at r.At the customer is dialled and, once
	// they answer, queued.
	Schedule(ctx context.Context, tenantID int64, r ScheduleRequest) (Call, error)
	// Hangup ends a call in progress.
	Hangup(ctx context.Context, tenantID, callID int64) (Call, error)
	// Hold puts a connected call's caller on hold, or takes them off it.
	Hold(ctx context.Context, tenantID, callID int64, on bool) (Call, error)
	// Transfer hands a connected call's caller to a queue or an agent and
	// returns the call that continues.
	Transfer(ctx context.Context, tenantID, callID int64, to TransferTarget) (Call, error)
	// QueueLive is a queue's state now; false when call control does not
	// run the queue (or it is another tenant's).
	QueueLive(ctx context.Context, tenantID, queueID int64) (QueueLive, bool)
	// AgentLive is what an agent is doing now.
	AgentLive(ctx context.Context, tenantID, userID int64) AgentLive
	// Recording opens a call's recording (audio/wav) and gives its size.
	Recording(ctx context.Context, c Call) (int64, io.ReadCloser, error)
	// FaxDocument is a received fax's document (PDF).
	FaxDocument(ctx context.Context, c Call) ([]byte, error)
	// MarkVoicemailRead records that userID opened the voicemail of a call
	// (voicemail_received → voicemail_read); the first reader stays.
	MarkVoicemailRead(ctx context.Context, tenantID, callID, userID int64) (Call, error)
	// StartActionOnly records a call an outside dialer connected to an
	// agent (status action_only) and keeps the agent busy until
	// FinishActionOnly (action_only_finished), after which they wrap up.
	StartActionOnly(ctx context.Context, tenantID int64, r ActionOnlyRequest) (Call, error)
	FinishActionOnly(ctx context.Context, tenantID, callID int64, r FinishActionOnly) (Call, error)
}

// ActionOnlyRequest hands an outside dialer's connected call to an agent.
type ActionOnlyRequest struct {
	UserID int64
	// PhoneNumber is the customer the dialer reached (the number it
	// dialled: PDS's DNIS); CallerID the number the customer was shown,
	// when the dialer says. Both are kept as given when they are not phone
	// numbers.
	PhoneNumber, CallerID string
	// QueueID, when set, is the queue the call counts for (its wrap-up).
	QueueID *int64
	// Source names the dialer and its id of the call.
	Source CallSource
}

// FinishActionOnly says how an action-only call ended.
type FinishActionOnly struct {
	// By is who hung up (SideCaller, SideAgent or SideSystem; empty is
	// SideSystem) and Cause why, as the dialer reported.
	By    Side
	Cause string
}

// DialRequest asks for a click-to-call.
type DialRequest struct {
	UserID int64
	// PhoneNumber is the customer's number, E.164 or digits with a country
	// code.
	PhoneNumber string
	// CallerID is shown to the customer: one of the tenant's numbers or the
	// agent's outbound number; empty picks the agent's, else the tenant's
	// first.
	CallerID string
	// Source says which API and account placed the call.
	Source CallSource
	// NoRecording places the call without recording it.
	NoRecording bool
}

// LinkRequest asks for the call of a click-to-call link.
type LinkRequest struct {
	Link ClickToCall
	// Contact is the number to connect, E.164.
	Contact string
	Source  CallSource
}

// ScheduleRequest asks for a callback.
type ScheduleRequest struct {
	QueueID     int64
	PhoneNumber string
	// CallerID is one of the tenant's numbers; empty picks the queue's own
	// number, else the tenant's first.
	CallerID string
	At       time.Time
	// ParentID links the callback to the call it follows up.
	ParentID *int64
	// NoRecording places the callback without recording it (the caller
	// declined), as DialRequest.NoRecording does a click-to-call.
	NoRecording bool
}

// TransferTarget is where a blind transfer sends the caller: a queue or one
// agent.
type TransferTarget struct {
	QueueID int64
	UserID  int64
}
