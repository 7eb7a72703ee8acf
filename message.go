package switchboard

import (
	"strings"
	"time"
	"unicode/utf8"
)

// MessageStatus is where a text message stands.
type MessageStatus string

// The message statuses. Outbound messages go queued → sent → delivered (or
// failed); inbound ones are received.
const (
	MessageQueued    MessageStatus = "queued"
	MessageSent      MessageStatus = "sent"
	MessageDelivered MessageStatus = "delivered"
	MessageFailed    MessageStatus = "failed"
	MessageReceived  MessageStatus = "received"
)

// Message is a text message (SMS) sent from or to one of the tenant's
// numbers. It is handed to an SMS provider (a carrier gateway, or the
// simulator), whose id for it matches delivery receipts.
type Message struct {
	ID        int64         `json:"id"`
	TenantID  int64         `json:"tenant_id"`
	UUID      string        `json:"uuid"`
	Direction Direction     `json:"direction"`
	From      string        `json:"from"`
	To        string        `json:"to"`
	Body      string        `json:"body"`
	Status    MessageStatus `json:"status"`
	// UserID is the user who sent it, when a user key sent it.
	UserID      *int64     `json:"user_id"`
	ProviderID  string     `json:"provider_id"`
	Error       string     `json:"error"`
	CreatedAt   time.Time  `json:"created_at"`
	SentAt      *time.Time `json:"sent_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
}

// MaxMessageLength bounds a message's body, in characters: ten SMS segments.
// Dialects may allow less (one takes 160).
const MaxMessageLength = 1600

// Validate reports every invalid field of m; numbers are checked by the
// messaging service, which can parse them.
func (m *Message) Validate() error {
	p := Problems{}
	if strings.TrimSpace(m.From) == "" {
		p.Add("from", "is required")
	}
	if strings.TrimSpace(m.To) == "" {
		p.Add("to", "is required")
	}
	checkLen(p, "from", m.From, MaxNumberLength)
	checkLen(p, "to", m.To, MaxNumberLength)
	switch n := utf8.RuneCountInString(m.Body); {
	case strings.TrimSpace(m.Body) == "":
		p.Add("message", "is required")
	case n > MaxMessageLength:
		p.Add("message", "must be at most 1600 characters")
	}
	return p.Err()
}

// MessageFilter narrows a list of messages. Zero fields do not filter.
type MessageFilter struct {
	Direction Direction
	Status    MessageStatus
	UserID    int64
	// Number matches the from or the to number.
	Number string
}
