package switchboard

import (
	"slices"
	"strconv"
	"time"
)

// CallStatus is where a call stands, named as the most detailed of the
// vendors' call objects Switchboard speaks names its statuses.
type CallStatus string

// The call statuses.
const (
	CallSelecting  CallStatus = "selecting"  // in the menu, no queue chosen yet
	CallQueued     CallStatus = "queued"     // waiting in a queue for an agent
	CallAssigned   CallStatus = "assigned"   // an agent is being rung
	CallConnecting CallStatus = "connecting" // the agent answered; legs are being bridged
	CallConnected  CallStatus = "connected"  // caller and agent are talking
	CallFinished   CallStatus = "finished"   // ended after being connected
	CallFailed     CallStatus = "failed"     // ended without ever being connected
	CallScheduled  CallStatus = "scheduled"  // a callback waiting for its time
	CallRecovered  CallStatus = "recovered"  // a failed call later reached by a callback
	CallDeflected  CallStatus = "deflected"  // sent elsewhere (overflow to callback, another number)
	CallVoicemail  CallStatus = "voicemail"  // the caller is leaving a voicemail
	// CallVoicemailReceived is a voicemail left and not heard yet;
	// CallVoicemailRead one an agent has opened.
	CallVoicemailReceived CallStatus = "voicemail_received"
	CallVoicemailRead     CallStatus = "voicemail_read"
	// CallSwitching is a call whose carrier failed while connecting, being
	// tried again through the tenant's next trunk.
	CallSwitching CallStatus = "switching"
	// CallActionOnly is a call carried by the customer's own telephony (an
	// outside dialer handing it to an agent): Switchboard routes and records
	// the interaction but does not carry its audio; CallActionOnlyFinished
	// when it ended.
	CallActionOnly         CallStatus = "action_only"
	CallActionOnlyFinished CallStatus = "action_only_finished"
)

// Why a caller was offered voicemail (Call.VoicemailReason).
const (
	VoicemailAfterHours   = "after_hours"   // the queue was closed
	VoicemailOverCapacity = "over_capacity" // the queue was full
	VoicemailNoAnswer     = "no_answer"     // no agent answered in time (queue wait, a user's missed call)
)

// What a call carries.
const (
	MediaVoice = "voice"
	MediaFax   = "fax"
)

// Direction says who placed a call.
type Direction string

// The call directions.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// Disposition is how a call ended, in the vocabulary of CDRs.
type Disposition string

// The dispositions.
const (
	DispositionAnswered  Disposition = "answered"
	DispositionNoAnswer  Disposition = "no_answer"
	DispositionBusy      Disposition = "busy"
	DispositionFailed    Disposition = "failed"
	DispositionAbandoned Disposition = "abandoned" // the caller hung up while waiting
	DispositionRejected  Disposition = "rejected"  // refused before ringing (full queue, do-not-call)
	DispositionMissed    Disposition = "missed"    // offered to agents, none answered
)

// CauseQueueTimeout is the hang-up cause of a call that waited in its queue
// for the queue's MaxWaitSeconds without an agent.
const CauseQueueTimeout = "queue timeout"

// CauseAfterHours is the hang-up cause of a call refused because its queue
// was closed (outside its Hours) and takes no voicemail.
const CauseAfterHours = "after hours"

// CauseDoNotCall is the hang-up cause of a callback cancelled because its
// number was put on the do-not-call list after it was scheduled.
const CauseDoNotCall = "do not call"

// Side names a party of a call, for who hung up.
type Side string

// The sides.
const (
	SideCaller Side = "caller"
	SideAgent  Side = "agent"
	SideSystem Side = "system"
)

// Call is one interaction by voice, from its first leg to its last. Durations
// are derived from the timestamps: wait is queued to answered (or to the end
// when never answered), ring is the agent's ringing, talk is connected to end.
type Call struct {
	ID        int64      `json:"id"`
	TenantID  int64      `json:"tenant_id"`
	UUID      string     `json:"uuid"`
	Direction Direction  `json:"direction"`
	Status    CallStatus `json:"status"`
	From      string     `json:"from"`
	To        string     `json:"to"`
	QueueID   *int64     `json:"queue_id"`
	AgentID   *int64     `json:"agent_id"`
	// RingingAgents are the agents whose phones ring for the call right now;
	// it lives in events only (who was offered an inbound call).
	RingingAgents []int64 `json:"ringing_agent_ids,omitempty"`
	// IVRMenuID is the IVR menu the caller is hearing right now; like
	// RingingAgents it lives in events only (call.menu and the changes that
	// follow it while the caller is in the menu).
	IVRMenuID *int64 `json:"ivr_menu_id,omitempty"`
	// ParentID links a call to the one it continues (a transfer).
	ParentID *int64 `json:"parent_id"`
	// Source says which outside system started the call, and its record there.
	Source CallSource `json:"source"`
	// CampaignID is the outbound campaign whose dialer placed the call.
	CampaignID *int64 `json:"campaign_id"`
	// Recorded says the call's audio was recorded (from the moment it was
	// connected); integrations may place calls without recording.
	Recorded bool `json:"recorded"`
	// Media is MediaVoice, or MediaFax for a fax machine's call: the
	// telephony driver recognised its tone and received FaxPages pages.
	Media    string `json:"media"`
	FaxPages int    `json:"fax_pages"`
	// DTMF holds the digits the caller keyed during the call, in order.
	DTMF string `json:"dtmf"`
	// Hold is the time the caller spent on hold, part of the talk time.
	Hold        time.Duration `json:"-"`
	HoldSeconds float64       `json:"hold_seconds"`
	Disposition Disposition   `json:"disposition"`
	HangupBy    Side          `json:"hangup_by"`
	HangupCause string        `json:"hangup_cause"`
	CreatedAt   time.Time     `json:"created_at"`
	QueuedAt    *time.Time    `json:"queued_at"`
	RingingAt   *time.Time    `json:"ringing_at"`
	ConnectedAt *time.Time    `json:"connected_at"`
	EndedAt     *time.Time    `json:"ended_at"`
	// ScheduledAt is when a scheduled call (a callback) dials the customer.
	ScheduledAt *time.Time `json:"scheduled_at"`
	// VoicemailReason says why the caller was offered voicemail (one of
	// the Voicemail… constants); empty for a call that was not.
	VoicemailReason string `json:"voicemail_reason"`
	// VoicemailReadAt and VoicemailReadBy say when and by whom a voicemail
	// was first opened (status voicemail_read).
	VoicemailReadAt *time.Time `json:"voicemail_read_at"`
	VoicemailReadBy *int64     `json:"voicemail_read_by"`
}

// Wait is how long the caller waited in the queue: until an agent answered,
// or until the call ended when none did.
func (c *Call) Wait() time.Duration {
	if c.QueuedAt == nil {
		return 0
	}
	switch {
	case c.ConnectedAt != nil:
		return c.ConnectedAt.Sub(*c.QueuedAt)
	case c.EndedAt != nil:
		return c.EndedAt.Sub(*c.QueuedAt)
	}
	return 0
}

// Talk is how long caller and agent were connected.
func (c *Call) Talk() time.Duration {
	if c.ConnectedAt == nil || c.EndedAt == nil {
		return 0
	}
	return c.EndedAt.Sub(*c.ConnectedAt)
}

// Presence is an agent's current status and since when.
type Presence struct {
	UserID int64     `json:"user_id"`
	Status string    `json:"status"`
	Since  time.Time `json:"since"`
	// Available says whether the status takes calls.
	Available bool `json:"available"`
}

// CDRFilter narrows a list of call detail records. Zero fields do not filter.
type CDRFilter struct {
	Since, Until *time.Time // on the call's start
	Direction    Direction
	Disposition  Disposition
	AgentID      int64
	TeamID       int64 // calls handled by members of the team
	QueueID      int64
	// Number matches a call whose from or to number is exactly this (E.164);
	// NumberPrefix and NumberContains match part of either.
	Number         string
	NumberPrefix   string
	NumberContains string
	// The lists below are "any of these" (empty: any); they narrow together
	// with the single-value fields above, which the older dialects use.
	Directions   []Direction
	Dispositions []Disposition
	AgentIDs     []int64
	TeamIDs      []int64
	QueueIDs     []int64
	CampaignIDs  []int64
	SourceIDs    []string // Source.AccountID
	Statuses     []CallStatus
	// EndedSince and EndedUntil bound the call's end (Until exclusive).
	EndedSince, EndedUntil *time.Time
	// From and To match that side's number exactly (E.164), any of the
	// list; FromLike and ToLike match that side against a pattern where *
	// stands for any run of digits ("+4420*", "*5550100").
	From, To         []string
	FromLike, ToLike string
	// MinDuration and MaxDuration bound the talk time.
	MinDuration, MaxDuration *time.Duration
	// Newest lists the most recent calls first.
	Newest bool
	// Open includes calls still in progress; by default only ended calls are
	// records. OnlyOpen lists calls in progress alone.
	Open, OnlyOpen bool
}

// CDR is a call detail record: the call with its durations worked out.
type CDR struct {
	Call
	WaitSeconds  float64 `json:"wait_seconds"`
	RingSeconds  float64 `json:"ring_seconds"`
	TalkSeconds  float64 `json:"talk_seconds"`
	TotalSeconds float64 `json:"total_seconds"`
	// RecordingURL is the path of the call's recording, when it was recorded.
	RecordingURL string `json:"recording_url"`
}

// NewCDR derives the record of c.
func NewCDR(c Call) CDR {
	r := CDR{Call: c, WaitSeconds: c.Wait().Seconds(), TalkSeconds: c.Talk().Seconds()}
	if c.RingingAt != nil {
		end := c.EndedAt
		if c.ConnectedAt != nil {
			end = c.ConnectedAt
		}
		if end != nil {
			r.RingSeconds = end.Sub(*c.RingingAt).Seconds()
		}
	}
	if c.EndedAt != nil {
		r.TotalSeconds = c.EndedAt.Sub(c.CreatedAt).Seconds()
	}
	if c.Recorded {
		r.RecordingURL = "/v1/calls/" + strconv.FormatInt(c.ID, 10) + "/recording"
	}
	return r
}

// CallStats summarizes the calls of a period.
type CallStats struct {
	Offered   int `json:"offered"`
	Answered  int `json:"answered"`
	Abandoned int `json:"abandoned"`
	// AnsweredInSL counts answers within the service-level threshold.
	AnsweredInSL int `json:"answered_within_threshold"`
	// ServiceLevel is AnsweredInSL / Answered (1 when nothing was answered).
	ServiceLevel float64 `json:"service_level"`
	// ServiceLevelSeconds is the threshold used.
	ServiceLevelSeconds int     `json:"service_level_seconds"`
	ASASeconds          float64 `json:"asa_seconds"`
	AHTSeconds          float64 `json:"aht_seconds"`
	// AbandonRate is Abandoned / Offered.
	AbandonRate float64 `json:"abandon_rate"`
}

// QueueLive is a queue's state right now, as the call engine sees it.
type QueueLive struct {
	AgentsOnline    int     `json:"agents_online"`    // members signed in, in any status but Offline
	AgentsAvailable int     `json:"agents_available"` // free to take a call now
	AgentsOnCall    int     `json:"agents_on_call"`   // ringing or talking
	AgentsWrapUp    int     `json:"agents_wrap_up"`
	CallsWaiting    int     `json:"calls_waiting"`
	CallsActive     int     `json:"calls_active"` // connected calls of this queue
	LongestWait     float64 `json:"longest_wait_seconds"`
	// EstimatedWait is what a caller joining now would wait, in seconds: 0
	// with an agent free, else their position times the queue's average
	// handle time over the agents signed in (exact for exponential handle
	// times); -1 when no agent is signed in.
	EstimatedWait float64 `json:"estimated_wait_seconds"`
	// AverageHandle is the moving average of the queue's talk times, as
	// Asterisk keeps it ((3·old + new)/4), in seconds.
	AverageHandle float64 `json:"average_handle_seconds"`
	// ArrivalsPerHour is the recent arrival rate (over the last 50 calls).
	ArrivalsPerHour float64 `json:"arrivals_per_hour"`
	// ErlangCWait is Erlang C's mean wait for a caller arriving now, from the
	// recent arrival rate, the average handle time and the agents signed in;
	// -1 when that load needs more agents than are signed in (the queue would
	// grow without bound), 0 before two calls have arrived.
	ErlangCWait float64 `json:"erlang_c_wait_seconds"`
	// The chat side of the queue: conversations waiting for an agent, held
	// by agents (assigned or in progress), the longest wait now, and the
	// estimated wait of a conversation joining now (0 with chat capacity
	// free, -1 when no member is signed in), from the queue's average chat
	// handle time over the members' total chat capacity.
	ChatsWaiting       int     `json:"chats_waiting"`
	ChatsActive        int     `json:"chats_active"`
	ChatLongestWait    float64 `json:"chat_longest_wait_seconds"`
	ChatEstimatedWait  float64 `json:"chat_estimated_wait_seconds"`
	ChatAverageHandle  float64 `json:"chat_average_handle_seconds"`
	AgentsChatCapacity int     `json:"agents_chat_capacity"` // free chat slots of members who may take chats now
	// AgentsChatAvailable counts the members who may be offered a
	// conversation now (a free chat slot): a chat queue's available agents.
	AgentsChatAvailable int `json:"agents_chat_available"`
}

// CallSource is the outside system that started a call (a CRM's click-to-call).
type CallSource struct {
	System    string `json:"system" limit:"200"`
	AccountID string `json:"account_id" limit:"200"`
}

// DNCNumber is a number the tenant must not call.
type DNCNumber struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"tenant_id"`
	Number    string    `json:"number"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt, when set, is when the entry stops blocking calls (a
	// request honoured for a period); null never expires.
	ExpiresAt *time.Time `json:"expires_at"`
}

// AgentLive is what an agent is doing right now, as the call engine sees it.
type AgentLive struct {
	// State is idle, ringing, in_call or wrap_up.
	State            string `json:"state"`
	DeviceRegistered bool   `json:"device_registered"`
	CallsInProgress  int    `json:"calls_in_progress"`
	// ChatsInProgress counts the conversations the agent holds, offered or
	// accepted (not those wrapping up).
	ChatsInProgress int `json:"chats_in_progress"`
}

// CallChange is one change the call engine made, as the call service hands
// it to the store: exactly one of
//   - a call's change: Call as it stood after it, What naming it (created,
//     queued, ringing, connected, ended …) and its call.<what> event;
//   - an agent's call state (Agent): their shown presence follows their calls,
//     In-Call, then Wrap-Up, then back to the status they had before, unless
//     they chose another meanwhile;
//   - a call recovered (Recover): a failed call whose callback reached the
//     customer.
//
// The writer commits many of them, in order, in one transaction.
type CallChange struct {
	Call    Call
	What    string
	Agent   *AgentCallState
	Recover *CallRef
}

// AgentCallState is an agent starting a call, wrapping up, or free again.
type AgentCallState struct {
	TenantID, UserID int64
	State            AgentPhase
}

// AgentPhase is where an agent is in handling a call.
type AgentPhase string

// The phases the call engine reports.
const (
	PhaseInCall AgentPhase = "in_call"
	PhaseWrapUp AgentPhase = "wrap_up"
	PhaseFree   AgentPhase = "free"
)

// CallRef names one call of a tenant.
type CallRef struct{ TenantID, CallID int64 }

// CustomerNumber is the outside party's number: the caller of an inbound
// call, the number dialled by an outbound one.
func (c *Call) CustomerNumber() string {
	if c.Direction == Inbound {
		return c.From
	}
	return c.To
}

// Clone returns a copy of c that shares no memory with it: its ids, times and
// ringing agents are copied too. The call engine keeps changing its calls
// after reporting them, so whatever keeps a reported call keeps a clone.
func (c Call) Clone() Call {
	c.QueueID, c.AgentID, c.ParentID = clonePtr(c.QueueID), clonePtr(c.AgentID), clonePtr(c.ParentID)
	c.IVRMenuID = clonePtr(c.IVRMenuID)
	c.QueuedAt, c.RingingAt, c.ConnectedAt = clonePtr(c.QueuedAt), clonePtr(c.RingingAt), clonePtr(c.ConnectedAt)
	c.EndedAt, c.ScheduledAt = clonePtr(c.EndedAt), clonePtr(c.ScheduledAt)
	c.RingingAgents = slices.Clone(c.RingingAgents)
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
