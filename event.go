package switchboard

import (
	"encoding/json"
	"time"
)

// Event records one state change. Events are appended in the same transaction as
// the change they describe (a transactional outbox), so webhooks, CDRs and live
// streams that read the log can neither miss a change nor see one that rolled
// back. Seq numbers a tenant's events 1, 2, 3… without gaps and in commit
// order, which lets a consumer resume exactly where it stopped; ID is global
// but commits out of order on PostgreSQL, so it is no cursor.
//
// Payload is the event's own record of what happened, written once and never
// re-read from today's state: a webhook retried or replayed a week later
// renders the same bytes. Every payload is a JSON object with a "v" field,
// its version (EventPayloadVersion when written by this build); a consumer
// reads the fields of the versions it knows and ignores the others.
type Event struct {
	ID          int64           `json:"id"`
	TenantID    int64           `json:"tenant_id"`
	Seq         int64           `json:"seq"`
	Type        string          `json:"type"`
	Time        time.Time       `json:"time"`
	SubjectType string          `json:"subject_type"`
	SubjectID   int64           `json:"subject_id"`
	Payload     json.RawMessage `json:"payload"`
}

// EventPayloadVersion is the version of the payloads this build writes. A
// change that renames or removes a field, or changes its meaning, raises it;
// adding a field does not.
const EventPayloadVersion = 1

// The event types. They are the native API's public event names (webhook
// subscriptions, GET /v1/events, the stream), so they never change once
// shipped; consumers must ignore types they do not know. Each group says its
// subject type and its payload.
//
// Tenants (subject "tenant"; payload: the Tenant as the native API shows
// it, with "v").
const (
	EventTenantCreated = "tenant.created"
	EventTenantUpdated = "tenant.updated"
)

// Users (subject "user"; payload: the User as the native API shows it, with
// "v") and their presence (agent.status_changed, subject "user"; payload
// PresenceEventPayload).
const (
	EventUserCreated        = "user.created"
	EventUserUpdated        = "user.updated"
	EventUserDeactivated    = "user.deactivated"
	EventAgentStatusChanged = "agent.status_changed"
)

// Routing configuration: teams ("team"), skills ("skill") and agent statuses
// ("agent_status"); payload: the object as the native API shows it, with "v".
const (
	EventTeamCreated   = "team.created"
	EventTeamUpdated   = "team.updated"
	EventTeamDeleted   = "team.deleted"
	EventSkillCreated  = "skill.created"
	EventSkillUpdated  = "skill.updated"
	EventSkillDeleted  = "skill.deleted"
	EventStatusCreated = "agent_status.created"
	EventStatusUpdated = "agent_status.updated"
	EventStatusDeleted = "agent_status.deleted"
)

// Queues (subject "queue"; payload: the Queue, or for the member events the
// QueueMember, as the native API shows it, with "v").
const (
	EventQueueCreated       = "queue.created"
	EventQueueUpdated       = "queue.updated"
	EventQueueDeleted       = "queue.deleted"
	EventQueueMemberAdded   = "queue.member_added"
	EventQueueMemberUpdated = "queue.member_updated"
	EventQueueMemberRemoved = "queue.member_removed"
)

// Phone numbers (subject "phone_number"; payload: the PhoneNumber, with "v").
const (
	EventNumberCreated = "phone_number.created"
	EventNumberUpdated = "phone_number.updated"
	EventNumberDeleted = "phone_number.deleted"
)

// IVR menus (subject "ivr_menu"; payload: the IVRMenu, with "v").
const (
	EventIVRMenuCreated = "ivr_menu.created"
	EventIVRMenuUpdated = "ivr_menu.updated"
	EventIVRMenuDeleted = "ivr_menu.deleted"
)

// Trunks (subject "trunk"; payload: the Trunk as the native API shows it,
// without its passwords, with "v"). Setting default_outbound on one trunk
// clears it on the tenant's others, each with its own trunk.updated.
const (
	EventTrunkCreated = "trunk.created"
	EventTrunkUpdated = "trunk.updated"
	EventTrunkDeleted = "trunk.deleted"
)

// Contacts ("contact"), click-to-call links ("click_to_call") and the
// do-not-call list ("dnc"); payload: the object, with "v".
const (
	EventContactCreated     = "contact.created"
	EventContactUpdated     = "contact.updated"
	EventContactDeleted     = "contact.deleted"
	EventClickToCallCreated = "click_to_call.created"
	EventClickToCallDeleted = "click_to_call.deleted"
	EventDNCAdded           = "dnc.added"
	EventDNCRemoved         = "dnc.removed"
)

// Outbound campaigns (subject "campaign"; payload: the Campaign, with "v"),
// one type per lifecycle step (campaign.resumed: a paused campaign started
// again). Their dial attempts (campaign.attempt, subject "campaign"; payload
// AttemptEventPayload) are written when an attempt's outcome is known or a
// rule blocked it. Leads: lead.updated and lead.deleted (subject "lead";
// payload: the Lead), leads.imported when a batch of leads was added to a
// campaign or list (subject "campaign" or "contact_list"; payload
// LeadsImportedPayload), and contact lists (subject "contact_list"; payload:
// the ContactList).
const (
	EventCampaignCreated    = "campaign.created"
	EventCampaignUpdated    = "campaign.updated"
	EventCampaignDeleted    = "campaign.deleted"
	EventCampaignStarted    = "campaign.started"
	EventCampaignPaused     = "campaign.paused"
	EventCampaignResumed    = "campaign.resumed"
	EventCampaignStopped    = "campaign.stopped"
	EventCampaignFinished   = "campaign.finished"
	EventCampaignAttempt    = "campaign.attempt"
	EventLeadUpdated        = "lead.updated"
	EventLeadDeleted        = "lead.deleted"
	EventLeadsImported      = "leads.imported"
	EventContactListCreated = "contact_list.created"
	EventContactListUpdated = "contact_list.updated"
	EventContactListDeleted = "contact_list.deleted"
	// The preview offers (subject "user": the agent; payload
	// PreviewEventPayload): a lead offered to an agent, and the offer's end
	// (accepted: the call is placed; skipped; expired: given back, or
	// dialled when the campaign's timeout action is dial; withdrawn: the
	// campaign paused or stopped).
	EventPreviewOffered = "campaign.preview_offered"
	EventPreviewEnded   = "campaign.preview_ended"
)

// PreviewEventPayload is the payload of the preview events: the offer, and
// with campaign.preview_ended how it ended (accepted, skipped, expired or
// withdrawn).
type PreviewEventPayload struct {
	V      int          `json:"v"`
	Offer  PreviewOffer `json:"offer"`
	Ending string       `json:"ending,omitempty"`
}

// CampaignStatusEvent is the event type of a campaign that moved from status
// from to status to.
func CampaignStatusEvent(from, to CampaignStatus) string {
	switch {
	case to == CampaignStarted && from == CampaignPaused:
		return EventCampaignResumed
	case to == CampaignStarted:
		return EventCampaignStarted
	case to == CampaignPaused:
		return EventCampaignPaused
	case to == CampaignStopped:
		return EventCampaignStopped
	}
	return EventCampaignFinished
}

// AttemptEventPayload is the payload of campaign.attempt: the ledger row and
// the lead as the attempt left it.
type AttemptEventPayload struct {
	V       int         `json:"v"`
	Attempt DialAttempt `json:"attempt"`
	Lead    Lead        `json:"lead"`
}

// LeadsImportedPayload is the payload of leads.imported.
type LeadsImportedPayload struct {
	V             int    `json:"v"`
	CampaignID    *int64 `json:"campaign_id"`
	ContactListID *int64 `json:"contact_list_id"`
	Inserted      int    `json:"inserted"`
	Duplicates    int    `json:"duplicates"`
}

// API keys ("api_key") and webhooks ("webhook"); payload: the object without
// its secrets, with "v". endpoint.disabled says why the dispatcher gave up on
// a webhook.
const (
	EventKeyCreated      = "api_key.created"
	EventKeyRevoked      = "api_key.revoked"
	EventWebhookCreated  = "webhook.created"
	EventWebhookUpdated  = "webhook.updated"
	EventWebhookDeleted  = "webhook.deleted"
	EventWebhookDisabled = "endpoint.disabled"
)

// Text messages (subject "message"; payload MessageEventPayload), one type
// per status the message reached.
const (
	EventSMSQueued    = "sms.queued"
	EventSMSSent      = "sms.sent"
	EventSMSDelivered = "sms.delivered"
	EventSMSFailed    = "sms.failed"
	EventSMSReceived  = "sms.received"
)

// MessageEventType returns the event type of a message that reached status
// st.
func MessageEventType(st MessageStatus) string {
	switch st {
	case MessageSent:
		return EventSMSSent
	case MessageDelivered:
		return EventSMSDelivered
	case MessageFailed:
		return EventSMSFailed
	case MessageReceived:
		return EventSMSReceived
	}
	return EventSMSQueued
}

// Calls (subject "call"; payload CallEventPayload), one type per step the
// call engine reports.
const (
	EventCallCreated       = "call.created"        // a call began (inbound arrival, outbound dial, transfer leg)
	EventCallQueued        = "call.queued"         // it joined a queue
	EventCallRinging       = "call.ringing"        // agents' phones ring (RingingAgents)
	EventCallRingTimeout   = "call.ring_timeout"   // an agent let it ring out
	EventCallNotAnswered   = "call.not_answered"   // every agent offered let it ring out
	EventCallAgentAnswered = "call.agent_answered" // the agent of an outbound call answered; the customer is dialled
	EventCallConnected     = "call.connected"      // caller and agent talk
	EventCallVoicemail     = "call.voicemail"      // an outbound call reached an answering machine
	EventCallDTMF          = "call.dtmf"           // the caller keyed digits
	EventCallMenu          = "call.menu"           // the caller hears an IVR menu (IVRMenuID)
	EventCallHeld          = "call.held"
	EventCallResumed       = "call.resumed"
	EventCallScheduled     = "call.scheduled" // a callback waits for its time
	EventCallDialing       = "call.dialing"   // a scheduled call is placed
	EventCallEnded         = "call.ended"
	EventCallRecovered     = "call.recovered" // a failed call later reached by its callback
	// EventCallVoicemailStarted: an inbound caller was offered voicemail
	// (VoicemailReason) and is recording a message; the call ends with
	// status voicemail_received. EventCallVoicemailRead: an agent opened the
	// message first (VoicemailReadAt, VoicemailReadBy).
	EventCallVoicemailStarted = "call.voicemail_started"
	EventCallVoicemailRead    = "call.voicemail_read"
	// EventCallSwitching: the carrier leg failed while connecting and the
	// call is tried again through the tenant's next trunk.
	EventCallSwitching = "call.switching"
	// EventCallWrappedUp: the work of the call is over. It follows
	// call.ended once the call's agent leaves its wrap-up, or at once when
	// nobody wraps the call up (it reached no agent, its queue has no
	// wrap-up, or it had no queue); a wrap-up cut by a restart ends at the
	// next start (for an agent the store shows in Wrap-Up: one who chose
	// another status during the call gets none). Its payload is the call as
	// it ended, with the names of this moment. Voiso's *.call.ended webhooks ("ended, post-call work
	// included") are rendered from it.
	EventCallWrappedUp = "call.wrapped_up"
)

// EventCallsLoaded (subject "tenant"; payload CallsLoadedPayload) says that
// call records were loaded in bulk (switchboard seed-calls), without an event
// per call: readers that keep answers until the tenant's event sequence moves
// (the response cache) learn from it that the call records changed.
const EventCallsLoaded = "calls.loaded"

// CallsLoadedPayload is the payload of EventCallsLoaded.
type CallsLoadedPayload struct {
	V       int   `json:"v"`
	Calls   int   `json:"calls"`    // how many records this load wrote
	FirstID int64 `json:"first_id"` // the loaded records' ids run from here
}

// callChanges maps the call engine's names for a call's steps to their event
// types.
var callChanges = map[string]string{
	"created": EventCallCreated, "queued": EventCallQueued, "ringing": EventCallRinging,
	"ring_timeout": EventCallRingTimeout, "not_answered": EventCallNotAnswered,
	"agent_answered": EventCallAgentAnswered, "connected": EventCallConnected, "voicemail": EventCallVoicemail,
	"dtmf": EventCallDTMF, "menu": EventCallMenu, "held": EventCallHeld, "resumed": EventCallResumed, "scheduled": EventCallScheduled,
	"dialing": EventCallDialing, "ended": EventCallEnded, "recovered": EventCallRecovered,
	"voicemail_started": EventCallVoicemailStarted, "voicemail_read": EventCallVoicemailRead, "switching": EventCallSwitching,
	CallWrappedUp: EventCallWrappedUp,
}

// CallWrappedUp is the call change that says the work of an ended call is
// over (EventCallWrappedUp): it records the event only, never the call's row,
// which its "ended" change wrote.
const CallWrappedUp = "wrapped_up"

// CallEventType returns the event type of a call step as the call engine
// names it (Observer.CallChanged's what: "created", "ended"…), and false
// for a step without one, which a store refuses rather than invent a type.
func CallEventType(change string) (string, bool) {
	typ, ok := callChanges[change]
	return typ, ok
}

// UserRef is a user as an event saw them: enough for a renderer to name the
// agent of a call as they were named then.
type UserRef struct {
	ID          int64  `json:"id"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Email       string `json:"email"`
	Extension   string `json:"extension"`
	SIPUsername string `json:"sip_username"`
}

// Name is the user's display name.
func (u UserRef) Name() string {
	return (&User{FirstName: u.FirstName, LastName: u.LastName}).Name()
}

// QueueRef is a queue as an event saw it (Name is empty when it was gone).
type QueueRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// CampaignRef is a campaign as an event saw it (Name is empty when it was
// gone).
type CampaignRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ContactRef is the contact an event found for a call's outside party, as it
// was then.
type ContactRef struct {
	ID            int64  `json:"id"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	CRMName       string `json:"crm_name"`
	CRMContactURL string `json:"crm_contact_url"`
}

// CallEventPayload is the payload of every call.* event: the call as it
// stood after the step, with the names its renderers show (queue, agent,
// agents rung, the customer's contact) as they were at that moment. Times
// have the store's precision (microseconds).
type CallEventPayload struct {
	V         int        `json:"v"`
	ID        int64      `json:"id"`
	UUID      string     `json:"uuid"`
	Direction Direction  `json:"direction"`
	Status    CallStatus `json:"status"`
	From      string     `json:"from"`
	To        string     `json:"to"`
	QueueID   *int64     `json:"queue_id"`
	AgentID   *int64     `json:"agent_id"`
	// Queue, Agent and Ringing (the agents whose phones ring) are as they
	// were named at the time; Agent is nil, and Ringing leaves out, a user
	// the store did not know.
	Queue   *QueueRef `json:"queue"`
	Agent   *UserRef  `json:"agent"`
	Ringing []UserRef `json:"ringing_agents"`
	// Customer is the contact filed under the outside party's number
	// (CustomerNumber), if any.
	Customer *ContactRef `json:"customer_contact"`
	// IVRMenuID is the menu the caller hears while the call is in one.
	IVRMenuID *int64     `json:"ivr_menu_id,omitempty"`
	ParentID  *int64     `json:"parent_id"`
	Source    CallSource `json:"source"`
	// Campaign is the campaign whose dialer placed the call, named at the
	// time (Name empty when it was gone); absent for other calls, and in
	// payloads written before calls knew their campaign.
	Campaign    *CampaignRef `json:"campaign,omitempty"`
	Recorded    bool         `json:"recorded"`
	Media       string       `json:"media"`
	FaxPages    int          `json:"fax_pages"`
	DTMF        string       `json:"dtmf"`
	HoldSeconds float64      `json:"hold_seconds"`
	Disposition Disposition  `json:"disposition"`
	HangupBy    Side         `json:"hangup_by"`
	HangupCause string       `json:"hangup_cause"`
	CreatedAt   time.Time    `json:"created_at"`
	QueuedAt    *time.Time   `json:"queued_at"`
	RingingAt   *time.Time   `json:"ringing_at"`
	ConnectedAt *time.Time   `json:"connected_at"`
	EndedAt     *time.Time   `json:"ended_at"`
	ScheduledAt *time.Time   `json:"scheduled_at"`
	// VoicemailReason, VoicemailReadAt and VoicemailReadBy are the call's
	// voicemail (absent for a call that was not offered one).
	VoicemailReason string     `json:"voicemail_reason,omitempty"`
	VoicemailReadAt *time.Time `json:"voicemail_read_at,omitempty"`
	VoicemailReadBy *int64     `json:"voicemail_read_by,omitempty"`
}

// Call returns the call the payload describes, in tenant tenantID, for the
// derivations a renderer shares with the API (durations, CDRs).
func (p CallEventPayload) Call(tenantID int64) Call {
	c := Call{ID: p.ID, TenantID: tenantID, UUID: p.UUID, Direction: p.Direction, Status: p.Status, From: p.From, To: p.To,
		ParentID: p.ParentID, Source: p.Source, Recorded: p.Recorded, Media: p.Media, FaxPages: p.FaxPages, DTMF: p.DTMF,
		Hold: time.Duration(p.HoldSeconds * float64(time.Second)), HoldSeconds: p.HoldSeconds, Disposition: p.Disposition,
		HangupBy: p.HangupBy, HangupCause: p.HangupCause, CreatedAt: p.CreatedAt, QueuedAt: p.QueuedAt, RingingAt: p.RingingAt,
		ConnectedAt: p.ConnectedAt, EndedAt: p.EndedAt, ScheduledAt: p.ScheduledAt, QueueID: p.QueueID, AgentID: p.AgentID, IVRMenuID: p.IVRMenuID,
		VoicemailReason: p.VoicemailReason, VoicemailReadAt: p.VoicemailReadAt, VoicemailReadBy: p.VoicemailReadBy}
	if p.Campaign != nil {
		id := p.Campaign.ID
		c.CampaignID = &id
	}
	for _, u := range p.Ringing {
		c.RingingAgents = append(c.RingingAgents, u.ID)
	}
	return c
}

// PresenceEventPayload is the payload of agent.status_changed: the status
// the agent is in since Since, the one before, and whether it takes calls.
type PresenceEventPayload struct {
	V         int       `json:"v"`
	UserID    int64     `json:"user_id"`
	Status    string    `json:"status"`
	Previous  string    `json:"previous"`
	Available bool      `json:"available"`
	Since     time.Time `json:"since"`
}

// MessageEventPayload is the payload of the sms.* events: the message as it
// stood after the change.
type MessageEventPayload struct {
	V           int           `json:"v"`
	ID          int64         `json:"id"`
	UUID        string        `json:"uuid"`
	Direction   Direction     `json:"direction"`
	From        string        `json:"from"`
	To          string        `json:"to"`
	Body        string        `json:"body"`
	Status      MessageStatus `json:"status"`
	UserID      *int64        `json:"user_id"`
	Error       string        `json:"error"`
	CreatedAt   time.Time     `json:"created_at"`
	SentAt      *time.Time    `json:"sent_at"`
	DeliveredAt *time.Time    `json:"delivered_at"`
}

// NewMessageEventPayload records m as its events carry it.
func NewMessageEventPayload(m Message) MessageEventPayload {
	return MessageEventPayload{V: EventPayloadVersion, ID: m.ID, UUID: m.UUID, Direction: m.Direction, From: m.From, To: m.To,
		Body: m.Body, Status: m.Status, UserID: m.UserID, Error: m.Error, CreatedAt: m.CreatedAt, SentAt: m.SentAt,
		DeliveredAt: m.DeliveredAt}
}

// Conversations (subject "conversation"; payload ConversationEventPayload).
// A status change writes conversation.<status>; the others say what changed.
const (
	EventConversationCreated     = "conversation.created"
	EventConversationQueued      = "conversation.queued"      // it waits in its queue (new, resumed, transferred or let go by an agent)
	EventConversationAssigned    = "conversation.assigned"    // offered to an agent, who holds a chat slot for it
	EventConversationInProgress  = "conversation.in_progress" // the agent accepted it or wrote
	EventConversationRequeued    = "conversation.requeued"    // the agent did not take it in time: offered on
	EventConversationTransferred = "conversation.transferred" // moved to another queue (Transfers)
	EventConversationDismissed   = "conversation.dismissed"
	EventConversationUpdated     = "conversation.updated" // flags, language, context, end user
	EventConversationFinished    = "conversation.finished"
	EventConversationAbandoned   = "conversation.abandoned"
	EventConversationDeflected   = "conversation.deflected"
)

// ConversationStatusEvent is the event type of a conversation that reached
// status st.
func ConversationStatusEvent(st ConversationStatus) string {
	return "conversation." + string(st)
}

// ConversationEventPayload is the payload of the conversation.* events: the
// conversation as it stood after the change (its UUID, its end user and
// their address included), with its agent and channel profile as they were
// named then, so that a webhook replayed later shows the names of the time.
type ConversationEventPayload struct {
	V            int          `json:"v"`
	Conversation Conversation `json:"conversation"`
	// Agent is Conversation.AgentID named; nil when there is none (or the
	// store no longer knew the user). Profile is Conversation.ProfileID
	// named; nil when there is none. Both are absent from payloads written
	// before events carried them.
	Agent   *UserRef           `json:"agent,omitempty"`
	Profile *ChannelProfileRef `json:"channel_profile,omitempty"`
}

// ChannelProfileRef is a channel profile as an event saw it (Name is empty
// when it was gone).
type ChannelProfileRef struct {
	ID         int64               `json:"id"`
	UUID       string              `json:"uuid"`
	Channel    ConversationChannel `json:"channel"`
	Name       string              `json:"name"`
	Identifier string              `json:"identifier"`
}

// EndUserRef is the end user of a conversation as an event saw them: Address
// is where the conversation reaches them on its channel (their number, or
// their web-chat identifier).
type EndUserRef struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Identifier string `json:"identifier"`
	Address    string `json:"address"`
}

// NewEndUserRef is the end user of c as its events name them.
func NewEndUserRef(c Conversation) EndUserRef {
	return EndUserRef{ID: c.EndUser.ID, Name: c.EndUser.Name, Identifier: c.EndUser.Identifier, Address: c.Address}
}

// Conversation messages (subject "conversation_message"; payload
// ConversationMessagePayload), one type per status the message reached:
// message.received (from the end user), message.queued, message.sent,
// message.delivered, message.read, message.failed.
const (
	EventMessageReceived  = "message.received"
	EventMessageQueued    = "message.queued"
	EventMessageSent      = "message.sent"
	EventMessageDelivered = "message.delivered"
	EventMessageRead      = "message.read"
	EventMessageFailed    = "message.failed"
)

// ConversationMessageEvent is the event type of a conversation message in
// status st.
func ConversationMessageEvent(st ReceiptStatus) string { return "message." + string(st) }

// ConversationMessagePayload is the payload of the message.* events: the
// message (its UUID included), with its conversation's id, channel, queue and
// agent so that a consumer routes it without another read, and the names a
// webhook shows (Voiso's message webhooks: the agent, the end user, the
// channel profile) as they were at the time.
type ConversationMessagePayload struct {
	V              int                 `json:"v"`
	Message        ConversationMessage `json:"message"`
	ConversationID int64               `json:"conversation_id"`
	Channel        ConversationChannel `json:"channel"`
	QueueID        *int64              `json:"queue_id"`
	AgentID        *int64              `json:"agent_id"`
	EndUserID      int64               `json:"end_user_id"`
	// The fields below are absent from payloads written before events
	// carried them. ConversationUUID names the conversation as dialects do.
	ConversationUUID string `json:"conversation_uuid,omitempty"`
	// Agent is AgentID (the conversation's agent) named; Sender is the
	// message's own agent (Message.AgentID) named, nil for the end user's
	// and the system's messages. Each is nil when the store no longer knew
	// the user.
	Agent  *UserRef `json:"agent,omitempty"`
	Sender *UserRef `json:"sender,omitempty"`
	// EndUser is the conversation's end user and address; Profile the
	// channel profile it runs on (nil when none).
	EndUser *EndUserRef        `json:"end_user,omitempty"`
	Profile *ChannelProfileRef `json:"channel_profile,omitempty"`
}

// Consent (subject "consent": the number's record; payload Consent with
// "v").
const (
	EventConsentOptedOut = "consent.opted_out"
	EventConsentOptedIn  = "consent.opted_in"
)

// ConsentEventPayload is the payload of the consent events.
type ConsentEventPayload struct {
	V int `json:"v"`
	Consent
}

// Channel profiles ("channel_profile"), canned replies ("canned_reply") and
// message templates ("message_template"); payload: the object as the native
// API shows it, with "v".
const (
	EventChannelProfileCreated  = "channel_profile.created"
	EventChannelProfileUpdated  = "channel_profile.updated"
	EventChannelProfileDeleted  = "channel_profile.deleted"
	EventCannedReplyCreated     = "canned_reply.created"
	EventCannedReplyUpdated     = "canned_reply.updated"
	EventCannedReplyDeleted     = "canned_reply.deleted"
	EventMessageTemplateCreated = "message_template.created"
	EventMessageTemplateUpdated = "message_template.updated"
	EventMessageTemplateDeleted = "message_template.deleted"
)
