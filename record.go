package switchboard

import (
	"context"
	"time"
)

// RecordType is the kind of interaction a record describes: Voiso's CDR list
// (and any report that spans channels) shows calls, conversations and text
// messages as one list ordered by start.
type RecordType string

// The record types.
const (
	RecordCall         RecordType = "call"
	RecordConversation RecordType = "conversation"
	RecordSMS          RecordType = "sms"
)

// RecordFilter narrows a record list. Every list field is "any of these"; an
// empty list does not narrow. A filter that one kind of record cannot meet
// (CampaignIDs of a conversation) leaves that kind out.
type RecordFilter struct {
	// Types are the kinds listed; empty lists all three.
	Types []RecordType
	// Since and Until bound the start (Until exclusive); EndedSince and
	// EndedUntil bound the end (records not ended are left out when either
	// is set). An SMS ends when delivered, or when sent if no receipt
	// says more.
	Since, Until           *time.Time
	EndedSince, EndedUntil *time.Time
	// Subtypes are the dialect's record subtypes as the core names them:
	// the CallSubtype names for calls; the channel for conversations;
	// inbound or outbound (the direction) for SMS. A kind none of whose
	// subtypes is named is left out.
	Subtypes     []string
	Dispositions []Disposition // calls only
	AgentIDs     []int64       // the call's or conversation's agent, the SMS's sender
	TeamIDs      []int64       // records of members of these teams
	QueueIDs     []int64       // calls and conversations only
	CampaignIDs  []int64       // calls only
	SourceIDs    []string      // calls only: Call.Source.AccountID
	// From matches the calling side's number exactly (E.164), To the called
	// side's, any of the list; FromLike and ToLike match that side against a
	// pattern where * stands for any run of digits ("+4420*"), every other
	// character for itself. Conversations have no such numbers: these
	// leave them out.
	From, To         []string
	FromLike, ToLike string
	// Newest lists the latest first.
	Newest bool
}

// The subtypes of a call, as CallSubtype derives them.
const (
	CallSubtypeInbound       = "inbound"
	CallSubtypeOutbound      = "outbound"
	CallSubtypeClickToCall   = "click_to_call"
	CallSubtypeDialer        = "dialer"
	CallSubtypeQueueCallback = "queue_callback"
)

// CallSubtype is the kind of call c is, derived rather than stored so that
// no write has to keep it: a call a campaign placed is dialer; a scheduled
// call (a callback) queue_callback; an outbound call an outside system
// started (Start call, a CRM's click-to-call: Source.System is set)
// click_to_call; any other outbound call outbound; the rest inbound. The
// record list's Subtypes filter applies the same rule in SQL.
func CallSubtype(c *Call) string {
	switch {
	case c.CampaignID != nil:
		return CallSubtypeDialer
	case c.ScheduledAt != nil:
		return CallSubtypeQueueCallback
	case c.Direction == Outbound && c.Source.System != "":
		return CallSubtypeClickToCall
	case c.Direction == Outbound:
		return CallSubtypeOutbound
	}
	return CallSubtypeInbound
}

// Record is one entry of a record list: exactly one of Call, Conversation and
// Message is set, as Type says.
type Record struct {
	Type         RecordType
	Call         *CDR
	Conversation *Conversation
	Message      *Message
}

// StartedAt is when the record's interaction began, the list's order.
func (r Record) StartedAt() time.Time {
	switch {
	case r.Call != nil:
		return r.Call.CreatedAt
	case r.Conversation != nil:
		return r.Conversation.CreatedAt
	case r.Message != nil:
		return r.Message.CreatedAt
	}
	return time.Time{}
}

// RecordStore lists calls, conversations and SMS as one list. Cursor pages
// cost one index range read per kind whatever their depth; offset pages read
// offset+limit rows of each kind, which is why dialects bound the offset.
type RecordStore interface {
	Records(ctx context.Context, tenantID int64, f RecordFilter, opt ListOptions) (Page[Record], error)
	// MessageByUUID and WebhookByUUID find the objects dialects name by UUID;
	// CodeNotFound outside the tenant.
	MessageByUUID(ctx context.Context, tenantID int64, uuid string) (Message, error)
	WebhookByUUID(ctx context.Context, tenantID int64, uuid string) (Webhook, error)
	// UsersByID returns the tenant's users among ids, in ids' order, leaving
	// out ids it does not know; QueueMemberships maps each of userIDs to the
	// queues it is a member of.
	UsersByID(ctx context.Context, tenantID int64, ids []int64) ([]User, error)
	QueueMemberships(ctx context.Context, tenantID int64, userIDs []int64) (map[int64][]int64, error)
}
