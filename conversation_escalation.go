package switchboard

import (
	"context"
	"time"
)

// ConversationEscalation asks that a conversation be handled by a human
// agent: a virtual agent's (or the integration's) hand-over, or, when the
// conversation's queue was over capacity, the offer to the end user to keep
// waiting or go to another channel (deflection). It is kept with the
// choice made, for the dialects that show escalations (UJET's chats).
type ConversationEscalation struct {
	ID             int64 `json:"id"`
	TenantID       int64 `json:"tenant_id"`
	ConversationID int64 `json:"conversation_id"`
	// Kind is virtual_agent or over_capacity.
	Kind   string `json:"kind"`
	Reason string `json:"reason" limit:"500"`
	// Force asked for a human even when the queue was over capacity.
	Force bool `json:"force"`
	// Status is pending (deflection offered, no choice made yet),
	// escalated (waiting for a human agent) or deflected (the end user
	// went to another channel).
	Status string `json:"status"`
	// DeflectionChannel is the end user's choice: human_agent (keep
	// waiting), email or external_link; empty until made.
	DeflectionChannel string    `json:"deflection_channel"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// The escalation kinds, statuses and the deflection channel of keeping on
// waiting for a human.
const (
	EscalationVirtualAgent = "virtual_agent"
	EscalationOverCapacity = "over_capacity"

	EscalationPending   = "pending"
	EscalationEscalated = "escalated"
	EscalationDeflected = "deflected"

	DeflectHumanAgent = "human_agent"
)

// Validate reports every invalid field of e.
func (e *ConversationEscalation) Validate() error {
	p := Problems{}
	if e.ConversationID == 0 {
		p.Add("conversation_id", "is required")
	}
	switch e.Kind {
	case EscalationVirtualAgent, EscalationOverCapacity:
	default:
		p.Add("kind", "must be virtual_agent or over_capacity")
	}
	switch e.Status {
	case EscalationPending, EscalationEscalated, EscalationDeflected:
	default:
		p.Add("status", "must be pending, escalated or deflected")
	}
	switch e.DeflectionChannel {
	case "", DeflectHumanAgent, DeflectEmail, DeflectExternalLink:
	default:
		p.Add("deflection_channel", "must be human_agent, email or external_link")
	}
	checkLen(p, "reason", e.Reason, 500)
	return p.Err()
}

// Escalations (subject "conversation_escalation"; payload the
// ConversationEscalation, with "v").
const (
	EventConversationEscalated         = "conversation.escalated"
	EventConversationEscalationUpdated = "conversation.escalation_updated"
)

// ConversationEscalationStore keeps the escalations of conversations.
type ConversationEscalationStore interface {
	// CreateEscalation stores e for its conversation (which must be the
	// tenant's) with conversation.escalated.
	CreateEscalation(ctx context.Context, tenantID int64, e ConversationEscalation) (ConversationEscalation, error)
	Escalation(ctx context.Context, tenantID, id int64) (ConversationEscalation, error)
	// Escalations lists a conversation's escalations, oldest first.
	Escalations(ctx context.Context, tenantID, conversationID int64) ([]ConversationEscalation, error)
	// UpdateEscalationFunc lets fn change the status, the deflection
	// channel and the reason, and writes conversation.escalation_updated.
	UpdateEscalationFunc(ctx context.Context, tenantID, id int64, fn func(*ConversationEscalation) error) (ConversationEscalation, error)
}
