package switchboard

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// ConversationChannel is how a conversation reaches its end user. The list
// is open: a provider may bring others (telegram, messenger); the core
// treats every channel alike but for what its provider can carry. (A
// queue's Channel, voice or chat, says which interactions it is meant for;
// a conversation may enter any queue, and is routed there as a chat.)
type ConversationChannel string

// The channels Switchboard serves itself.
const (
	ChannelWebChat  ConversationChannel = "web_chat"
	ChannelSMS      ConversationChannel = "sms"
	ChannelWhatsApp ConversationChannel = "whatsapp"
)

// ValidConversationChannel reports whether c is a channel name: a known one,
// or a lowercase word of at most 32 characters for a provider's own.
func ValidConversationChannel(c ConversationChannel) bool {
	if c == "" || len(c) > 32 {
		return false
	}
	for _, r := range c {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// ConversationStatus is where a conversation stands. It moves
// queued → assigned (offered to an agent, who holds a chat slot for it) →
// in_progress (the agent accepted it or wrote) → finished; a conversation
// may also end abandoned (the end user left before an agent wrote),
// deflected (sent to another channel), or be dismissed (the agent let it go
// while the end user was silent: it waits, unassigned, and the end user's
// next message queues it again: a resume).
type ConversationStatus string

// The conversation statuses.
const (
	ConversationQueued     ConversationStatus = "queued"
	ConversationAssigned   ConversationStatus = "assigned"
	ConversationInProgress ConversationStatus = "in_progress"
	ConversationDismissed  ConversationStatus = "dismissed"
	ConversationFinished   ConversationStatus = "finished"
	ConversationAbandoned  ConversationStatus = "abandoned"
	ConversationDeflected  ConversationStatus = "deflected"
)

// Ended says the conversation is over: new traffic from its end user opens
// another one (linked by PreviousID).
func (s ConversationStatus) Ended() bool {
	return s == ConversationFinished || s == ConversationAbandoned || s == ConversationDeflected
}

// Deflections: where a deflected conversation was sent, or keep_waiting when
// the end user chose to stay in the queue.
const (
	DeflectEmail        = "email"
	DeflectExternalLink = "external_link"
	DeflectKeepWaiting  = "keep_waiting"
)

// Sides that end conversations besides SideAgent and SideSystem.
const SideEndUser Side = "end_user"

// EndUser is the person on the other side of a conversation: a web visitor
// (Identifier: the site's id for them), a phone number (SMS, WhatsApp), or
// a CRM contact. Within a tenant, Identifier is unique; for numbers it is
// the E.164 number itself.
type EndUser struct {
	ID         int64     `json:"id"`
	TenantID   int64     `json:"tenant_id"`
	Identifier string    `json:"identifier" limit:"200"`
	Name       string    `json:"name" limit:"200"`
	Phone      string    `json:"phone" limit:"64"`
	Email      string    `json:"email" limit:"200"`
	Language   string    `json:"language" limit:"35"`
	ContactID  *int64    `json:"contact_id"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Validate reports every invalid field of u.
func (u *EndUser) Validate() error {
	p := Problems{}
	u.Identifier = strings.TrimSpace(u.Identifier)
	if u.Identifier == "" {
		p.Add("end_user.identifier", "is required")
	}
	checkLen(p, "end_user.identifier", u.Identifier, 200)
	checkLen(p, "end_user.name", u.Name, 200)
	checkLen(p, "end_user.phone", u.Phone, MaxNumberLength)
	checkLen(p, "end_user.email", u.Email, 200)
	checkLen(p, "end_user.language", u.Language, 35)
	return p.Err()
}

// Conversation is one chat or message thread, routed by the engine to
// agents with chat capacity as calls are routed.
type Conversation struct {
	ID       int64               `json:"id"`
	TenantID int64               `json:"tenant_id"`
	UUID     string              `json:"uuid"`
	Channel  ConversationChannel `json:"channel"`
	Status   ConversationStatus  `json:"status"`
	QueueID  *int64              `json:"queue_id"`
	// AgentID is the agent who holds it (assigned or in progress) or last
	// held it (ended); null until first assigned.
	AgentID *int64  `json:"agent_id"`
	EndUser EndUser `json:"end_user"`
	// Address is the end user's address on the channel: their number (SMS,
	// WhatsApp) or their identifier (web chat). One address has at most one
	// conversation not ended per channel profile.
	Address string `json:"address"`
	// Via is Switchboard's side of the thread: the tenant's number (SMS,
	// WhatsApp) or account the conversation runs on; empty for web chat.
	Via      string `json:"via"`
	Language string `json:"language"`
	// ProfileID is the channel profile (number, account) it runs on.
	ProfileID *int64 `json:"channel_profile_id"`
	// Context holds the data the starter passed: Signed was verified (an
	// HS256 JWT signed with the channel profile's secret), Unsigned is taken
	// as given.
	Context ConversationContext `json:"context"`
	// Flags are the customer flags agents set (vip, abusive …).
	Flags []string `json:"customer_flags"`
	// EndedBy says who ended it (end_user, agent, system) and EndReason
	// why (resolved, abandoned, deflected, timeout, failed …).
	EndedBy   Side   `json:"ended_by"`
	EndReason string `json:"end_reason"`
	// Deflection is email, external_link or keep_waiting once deflected.
	Deflection string `json:"deflection"`
	// Transfers are the moves between queues, oldest first.
	Transfers []ConversationTransfer `json:"transfers"`
	// PreviousID is the conversation of the same address this one follows.
	PreviousID *int64 `json:"previous_id"`
	// LastSeq is the sequence of the newest message: messages are numbered
	// 1, 2, 3… without gaps within a conversation.
	LastSeq         int64      `json:"last_seq"`
	CreatedAt       time.Time  `json:"created_at"`
	QueuedAt        *time.Time `json:"queued_at"`
	AssignedAt      *time.Time `json:"assigned_at"`
	FirstResponseAt *time.Time `json:"first_response_at"`
	LastInboundAt   *time.Time `json:"last_inbound_at"`
	LastOutboundAt  *time.Time `json:"last_outbound_at"`
	EndedAt         *time.Time `json:"ended_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	// TokenHash is the SHA-256 of the end user's token for the web-chat API
	// (empty for conversations that have none).
	TokenHash []byte `json:"-"`
}

// ConversationTransfer is one move of a conversation to another queue.
type ConversationTransfer struct {
	FromQueueID *int64    `json:"from_queue_id"`
	ToQueueID   int64     `json:"to_queue_id"`
	FromAgentID *int64    `json:"from_agent_id"`
	ByAgentID   *int64    `json:"by_agent_id"`
	At          time.Time `json:"at"`
}

// Durations of a conversation, in seconds, derived from its timestamps (0
// when a bound is missing): wait is queued to assigned (or to the end when
// never assigned), first response is assigned to the agent's first message,
// handle is assigned to the end.
func (c *Conversation) WaitSeconds() float64 {
	switch {
	case c.QueuedAt == nil:
		return 0
	case c.AssignedAt != nil:
		return c.AssignedAt.Sub(*c.QueuedAt).Seconds()
	case c.EndedAt != nil:
		return c.EndedAt.Sub(*c.QueuedAt).Seconds()
	}
	return 0
}

// FirstResponseSeconds is how long the end user waited for the agent's
// first message after the conversation was assigned.
func (c *Conversation) FirstResponseSeconds() float64 {
	if c.AssignedAt == nil || c.FirstResponseAt == nil {
		return 0
	}
	return c.FirstResponseAt.Sub(*c.AssignedAt).Seconds()
}

// HandleSeconds is how long agents held it: assigned to ended.
func (c *Conversation) HandleSeconds() float64 {
	if c.AssignedAt == nil || c.EndedAt == nil {
		return 0
	}
	return c.EndedAt.Sub(*c.AssignedAt).Seconds()
}

// ConversationContext is the data a conversation was started with.
type ConversationContext struct {
	Signed   map[string]any `json:"signed"`
	Unsigned map[string]any `json:"unsigned"`
	// Attributes are what the API that started the conversation recorded
	// of it for its own answers (a CRM ticket id, its name for the kind of
	// chat); set at Start only, never by the end user.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// MessageKind is what a conversation message carries.
type MessageKind string

// The message kinds.
const (
	KindText     MessageKind = "text"
	KindPhoto    MessageKind = "photo"
	KindVideo    MessageKind = "video"
	KindFile     MessageKind = "file"
	KindTemplate MessageKind = "template"
	KindNote     MessageKind = "note"     // internal: agents only, never sent to the end user
	KindActivity MessageKind = "activity" // a system line: assigned, transferred, ended
)

// ReceiptStatus is how far a message got: outbound ones move queued → sent
// → delivered → read (or failed); inbound ones are received. Notes and
// activity lines are stored as sent.
type ReceiptStatus string

// The receipt statuses.
const (
	ReceiptQueued    ReceiptStatus = "queued"
	ReceiptSent      ReceiptStatus = "sent"
	ReceiptDelivered ReceiptStatus = "delivered"
	ReceiptRead      ReceiptStatus = "read"
	ReceiptFailed    ReceiptStatus = "failed"
	ReceiptReceived  ReceiptStatus = "received"
)

// receiptRank orders the receipt statuses: a receipt never moves a message
// back (a late "sent" after "read" changes nothing).
var receiptRank = map[ReceiptStatus]int{ReceiptQueued: 0, ReceiptSent: 1, ReceiptDelivered: 2, ReceiptRead: 3, ReceiptFailed: 4, ReceiptReceived: 4}

// Advances reports whether moving a message from s to next goes forward.
// Failed is final, as is received.
func (s ReceiptStatus) Advances(next ReceiptStatus) bool {
	if s == ReceiptFailed || s == ReceiptReceived {
		return false
	}
	return receiptRank[next] > receiptRank[s]
}

// MaxConversationText bounds a message's text, in characters.
const MaxConversationText = 4096

// ConversationMessage is one line of a conversation's transcript.
type ConversationMessage struct {
	ID int64 `json:"id"`
	// UUID names the message everywhere a dialect shows it; given when it
	// is stored.
	UUID           string `json:"uuid"`
	TenantID       int64  `json:"tenant_id"`
	ConversationID int64  `json:"conversation_id"`
	// Seq numbers the messages of a conversation 1, 2, 3… without gaps, in
	// the order they were stored.
	Seq int64 `json:"seq"`
	// Direction is inbound for the end user's messages, outbound for the
	// agents' and the system's.
	Direction    Direction     `json:"direction"`
	Kind         MessageKind   `json:"kind"`
	Text         string        `json:"text"`
	AttachmentID *int64        `json:"attachment_id"`
	Template     *TemplateUse  `json:"template"`
	AgentID      *int64        `json:"agent_id"`
	Status       ReceiptStatus `json:"status"`
	Error        string        `json:"error"`
	ProviderID   string        `json:"provider_id"`
	// ClientID is the sender's own id for the message: a retried send with
	// the same ClientID is the same message, stored once.
	ClientID  string     `json:"client_id"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// Validate reports every invalid field of m.
func (m *ConversationMessage) Validate() error {
	p := Problems{}
	if m.Direction != Inbound && m.Direction != Outbound {
		p.Add("direction", "must be inbound or outbound")
	}
	switch m.Kind {
	case KindText, KindNote, KindActivity:
		if strings.TrimSpace(m.Text) == "" {
			p.Add("text", "is required")
		}
	case KindPhoto, KindVideo, KindFile:
		if m.AttachmentID == nil {
			p.Add("attachment_id", "is required for a "+string(m.Kind))
		}
	case KindTemplate:
		if m.Template == nil || m.Template.TemplateID == 0 {
			p.Add("template.template_id", "is required")
		}
	default:
		p.Add("kind", "must be text, photo, video, file, template, note or activity")
	}
	if utf8.RuneCountInString(m.Text) > MaxConversationText {
		p.Add("text", "must be at most 4096 characters")
	}
	checkLen(p, "client_id", m.ClientID, 200)
	return p.Err()
}

// TemplateUse is a template message's template and parameters.
type TemplateUse struct {
	TemplateID int64             `json:"template_id"`
	Language   string            `json:"language"`
	Params     map[string]string `json:"params"`
}

// Attachment is a file sent in a conversation, kept in the blob store. It
// is created pending, with an upload URL that expires; the upload makes it
// ready, and only a ready attachment may be sent.
type Attachment struct {
	ID             int64  `json:"id"`
	TenantID       int64  `json:"tenant_id"`
	UUID           string `json:"uuid"`
	ConversationID int64  `json:"conversation_id"`
	// Kind is photo, video or file.
	Kind        MessageKind `json:"kind"`
	ContentType string      `json:"content_type"`
	Name        string      `json:"name"`
	// Size is the upload's size in bytes and SHA256 its hex digest, once
	// uploaded.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Status is pending until uploaded, then ready.
	Status string `json:"status"`
	// Key names the bytes in the blob store.
	Key string `json:"-"`
	// TokenHash is the SHA-256 of the upload token; the token is good until
	// ExpiresAt.
	TokenHash []byte     `json:"-"`
	ExpiresAt time.Time  `json:"expires_at"`
	CreatedAt time.Time  `json:"created_at"`
	ReadyAt   *time.Time `json:"ready_at"`
}

// The attachment statuses.
const (
	AttachmentPending = "pending"
	AttachmentReady   = "ready"
)

// AttachmentLimits bound what may be uploaded, per kind.
var AttachmentLimits = map[MessageKind]struct {
	MaxBytes     int64
	ContentTypes []string // prefixes: image/, video/ …
}{
	KindPhoto: {10 << 20, []string{"image/jpeg", "image/png", "image/gif", "image/webp"}},
	KindVideo: {50 << 20, []string{"video/mp4", "video/quicktime", "video/webm"}},
	KindFile:  {20 << 20, []string{"application/pdf", "text/plain", "text/csv", "image/", "audio/", "application/zip", "application/vnd.openxmlformats-officedocument.", "application/msword"}},
}

// BlobStore keeps attachment bytes. The local directory is the default
// (internal/blobdir); an S3-compatible store is the obvious second.
type BlobStore interface {
	// Put stores up to limit bytes of r under key, refusing more (an error
	// wrapping ErrTooLarge); it returns the size and the hex SHA-256.
	Put(ctx context.Context, key string, r io.Reader, limit int64) (size int64, sha256 string, err error)
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

// ErrTooLarge is what a BlobStore's Put wraps when the bytes exceed its
// limit: it lives here, beside the interface, so that the conversation
// service recognises it whatever store is wired in.
var ErrTooLarge = errors.New("the upload exceeds its size limit")

// CannedReply is a reusable agent reply ({{name}}-style placeholders), for
// some channels and teams (all when empty).
type CannedReply struct {
	ID        int64                 `json:"id"`
	TenantID  int64                 `json:"tenant_id"`
	Name      string                `json:"name" limit:"200"`
	Body      string                `json:"body" limit:"4000"`
	Channels  []ConversationChannel `json:"channels"`
	TeamIDs   []int64               `json:"team_ids"`
	CreatedAt time.Time             `json:"created_at"`
	UpdatedAt time.Time             `json:"updated_at"`
}

// Validate reports every invalid field of r.
func (r *CannedReply) Validate() error {
	p := Problems{}
	if strings.TrimSpace(r.Name) == "" {
		p.Add("name", "is required")
	}
	if strings.TrimSpace(r.Body) == "" {
		p.Add("body", "is required")
	}
	checkLen(p, "name", r.Name, 200)
	checkLen(p, "body", r.Body, 4000)
	for _, c := range r.Channels {
		if !ValidConversationChannel(c) {
			p.Add("channels", "must be channel names such as web_chat, sms or whatsapp")
		}
	}
	return p.Err()
}

// ChannelProfile is a channel instance: which number or account a channel
// uses, and which queue its new conversations enter.
type ChannelProfile struct {
	ID       int64               `json:"id"`
	TenantID int64               `json:"tenant_id"`
	UUID     string              `json:"uuid"`
	Channel  ConversationChannel `json:"channel"`
	Name     string              `json:"name" limit:"200"`
	// Identifier is the number (sms, whatsapp: E.164) or the provider's
	// account id; for web chat, free (the site).
	Identifier string `json:"identifier" limit:"200"`
	QueueID    *int64 `json:"queue_id"`
	// SigningSecret verifies the signed context (HS256 JWT) of the
	// conversations started on it; it is written, never shown.
	SigningSecret string    `json:"-"`
	Enabled       bool      `json:"enabled"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Validate reports every invalid field of p.
func (cp *ChannelProfile) Validate() error {
	p := Problems{}
	if !ValidConversationChannel(cp.Channel) {
		p.Add("channel", "must be web_chat, sms, whatsapp or another lowercase channel name")
	}
	if strings.TrimSpace(cp.Name) == "" {
		p.Add("name", "is required")
	}
	checkLen(p, "name", cp.Name, 200)
	checkLen(p, "identifier", cp.Identifier, 200)
	if cp.Channel != ChannelWebChat && strings.TrimSpace(cp.Identifier) == "" {
		p.Add("identifier", "is required: the number or account the channel uses")
	}
	checkLen(p, "signing_secret", cp.SigningSecret, 512)
	return p.Err()
}

// MessageTemplate is an approved template (WhatsApp-style) of a profile:
// a body with {{1}}, {{2}}… parameters.
type MessageTemplate struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"tenant_id"`
	UUID      string    `json:"uuid"`
	ProfileID int64     `json:"channel_profile_id"`
	Name      string    `json:"name" limit:"200"`
	Language  string    `json:"language" limit:"35"`
	Category  string    `json:"category"` // marketing, utility, authentication
	Status    string    `json:"status"`   // approved, pending, rejected, paused, disabled
	Body      string    `json:"body" limit:"4096"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate reports every invalid field of t.
func (t *MessageTemplate) Validate() error {
	p := Problems{}
	if t.ProfileID == 0 {
		p.Add("channel_profile_id", "is required")
	}
	if strings.TrimSpace(t.Name) == "" {
		p.Add("name", "is required")
	}
	if strings.TrimSpace(t.Body) == "" {
		p.Add("body", "is required")
	}
	if t.Language == "" {
		t.Language = "en"
	}
	if t.Category == "" {
		t.Category = "utility"
	}
	if t.Status == "" {
		t.Status = "approved"
	}
	switch t.Category {
	case "marketing", "utility", "authentication":
	default:
		p.Add("category", "must be marketing, utility or authentication")
	}
	switch t.Status {
	case "approved", "pending", "rejected", "paused", "disabled":
	default:
		p.Add("status", "must be approved, pending, rejected, paused or disabled")
	}
	checkLen(p, "name", t.Name, 200)
	checkLen(p, "language", t.Language, 35)
	checkLen(p, "body", t.Body, 4096)
	return p.Err()
}

// Consent is a number's standing for messages and the dialer: STOP (and
// its synonyms) sets it out, START back in. A number with no record has not
// refused.
type Consent struct {
	TenantID int64  `json:"tenant_id"`
	Number   string `json:"number"`
	OptedOut bool   `json:"opted_out"`
	// Channel is where it was given (sms, whatsapp, api), Source how
	// (keyword, api, agent), Keyword the word that set it.
	Channel ConversationChannel `json:"channel"`
	Source  string              `json:"source"`
	Keyword string              `json:"keyword"`
	At      time.Time           `json:"at"`
}

// ConversationFilter narrows a conversation list. Zero fields do not filter.
type ConversationFilter struct {
	Channel ConversationChannel
	// ExcludeChannel leaves one channel out: Voiso lists SMS as their own
	// records, so its conversation list is every channel but sms.
	ExcludeChannel ConversationChannel
	Status         ConversationStatus
	// Open keeps only conversations not ended.
	Open bool
	// Ended keeps only conversations ended (Voiso's archived ones).
	Ended     bool
	QueueID   int64
	AgentID   int64
	EndUserID int64
	Address   string
	ProfileID int64
	// Text keeps conversations with a message containing it (case
	// insensitive).
	Text string
	// Since and Until bound CreatedAt (Until exclusive).
	Since, Until time.Time
}

// ConversationUpdate is what an UpdateConversationFunc callback returns:
// the event to write with the change ("" for none).
type ConversationUpdate struct {
	Event string
}

// ConversationStore keeps conversations, their messages and what they use.
// Like every store method, each change is written with its event in one
// transaction.
type ConversationStore interface {
	// UpsertEndUser creates the tenant's end user with u.Identifier, or
	// updates the non-empty fields of the one that exists.
	UpsertEndUser(ctx context.Context, tenantID int64, u EndUser) (EndUser, error)
	EndUser(ctx context.Context, tenantID, id int64) (EndUser, error)
	EndUserByIdentifier(ctx context.Context, tenantID int64, identifier string) (EndUser, error)

	// CreateConversation stores c (its EndUser upserted, as UpsertEndUser,
	// and set on it) with conversation.created and, when c.Status is
	// queued, conversation.queued; first, when given, is added as its first
	// message as AddMessage does. A second conversation not ended for the
	// same profile (or channel, when no profile) and address answers
	// CodeConflict.
	CreateConversation(ctx context.Context, tenantID int64, c Conversation, first *ConversationMessage) (Conversation, *ConversationMessage, error)
	Conversation(ctx context.Context, tenantID, id int64) (Conversation, error)
	// ConversationByUUID finds a conversation by its UUID; tenantID 0
	// searches every tenant (the web-chat end-user API knows only the
	// conversation).
	ConversationByUUID(ctx context.Context, tenantID int64, uuid string) (Conversation, error)
	// OpenConversation is the conversation not ended of address on the
	// profile (profileID 0: on the channel with no profile), or CodeNotFound.
	OpenConversation(ctx context.Context, tenantID int64, channel ConversationChannel, profileID int64, address string) (Conversation, error)
	// LastConversation is the newest conversation of address on the
	// channel, ended or not (CodeNotFound when none).
	LastConversation(ctx context.Context, tenantID int64, channel ConversationChannel, address string) (Conversation, error)
	// Conversations lists newest first.
	Conversations(ctx context.Context, tenantID int64, f ConversationFilter, opt ListOptions) (Page[Conversation], error)
	// OpenConversations lists every tenant's conversations not ended, for
	// the router's restart.
	OpenConversations(ctx context.Context) ([]Conversation, error)
	// UpdateConversationFunc reads the conversation, lets fn change it and
	// writes it with the event fn names; fn's error aborts. ID, TenantID,
	// UUID, CreatedAt and LastSeq are not changed by it.
	UpdateConversationFunc(ctx context.Context, tenantID, id int64, fn func(*Conversation) (ConversationUpdate, error)) (Conversation, error)

	// AddMessage appends m to its conversation (m.ConversationID): it takes
	// the next Seq, stores m with its message.<status> event and, in the
	// same transaction, raises the conversation's LastSeq and applies fn (nil:
	// nothing more) to it, writing the event fn names. A message whose
	// ClientID the conversation already has is returned as stored, with
	// duplicate true and nothing written.
	AddMessage(ctx context.Context, tenantID int64, m ConversationMessage, fn func(*Conversation) (ConversationUpdate, error)) (msg ConversationMessage, c Conversation, duplicate bool, err error)
	ConversationMessage(ctx context.Context, tenantID, id int64) (ConversationMessage, error)
	// ConversationMessages lists a conversation's messages with Seq >
	// afterSeq, oldest first, at most limit (1..1000).
	ConversationMessages(ctx context.Context, tenantID, conversationID, afterSeq int64, limit int) ([]ConversationMessage, error)
	// MessageByProvider finds an outbound message by its provider's id.
	MessageByProvider(ctx context.Context, tenantID int64, providerID string) (ConversationMessage, error)
	// SetMessageStatus moves a message to status (with error text and
	// provider id when not empty) and writes message.<status>; a status that
	// does not advance the message (ReceiptStatus.Advances) changes nothing
	// and writes nothing.
	SetMessageStatus(ctx context.Context, tenantID, id int64, status ReceiptStatus, providerID, errText string) (ConversationMessage, error)

	// CreateAttachment stores a pending attachment; CompleteAttachment
	// makes it ready with its size, digest and key; AttachmentByToken finds
	// one by the SHA-256 of its upload token.
	CreateAttachment(ctx context.Context, tenantID int64, a Attachment) (Attachment, error)
	Attachment(ctx context.Context, tenantID, id int64) (Attachment, error)
	AttachmentByToken(ctx context.Context, tokenHash []byte) (Attachment, error)
	CompleteAttachment(ctx context.Context, tenantID, id int64, size int64, sha256, key string) (Attachment, error)

	CreateCannedReply(ctx context.Context, tenantID int64, r CannedReply) (CannedReply, error)
	CannedReply(ctx context.Context, tenantID, id int64) (CannedReply, error)
	// CannedReplies lists by name; channel and teamID ("" and 0: any)
	// keep those meant for them (or for all).
	CannedReplies(ctx context.Context, tenantID int64, channel ConversationChannel, teamID int64, opt ListOptions) (Page[CannedReply], error)
	UpdateCannedReplyFunc(ctx context.Context, tenantID, id int64, fn func(*CannedReply) error) (CannedReply, error)
	DeleteCannedReply(ctx context.Context, tenantID, id int64) error

	CreateChannelProfile(ctx context.Context, tenantID int64, p ChannelProfile) (ChannelProfile, error)
	ChannelProfile(ctx context.Context, tenantID, id int64) (ChannelProfile, error)
	// ChannelProfileByUUID finds a profile of any tenant (the web-chat
	// widget names its profile, not its tenant).
	ChannelProfileByUUID(ctx context.Context, uuid string) (ChannelProfile, error)
	// ChannelProfileFor is the tenant's enabled profile of channel with
	// identifier (a number), or CodeNotFound.
	ChannelProfileFor(ctx context.Context, tenantID int64, channel ConversationChannel, identifier string) (ChannelProfile, error)
	ChannelProfiles(ctx context.Context, tenantID int64, channel ConversationChannel, opt ListOptions) (Page[ChannelProfile], error)
	UpdateChannelProfileFunc(ctx context.Context, tenantID, id int64, fn func(*ChannelProfile) error) (ChannelProfile, error)
	DeleteChannelProfile(ctx context.Context, tenantID, id int64) error

	CreateMessageTemplate(ctx context.Context, tenantID int64, t MessageTemplate) (MessageTemplate, error)
	MessageTemplate(ctx context.Context, tenantID, id int64) (MessageTemplate, error)
	// MessageTemplates lists the templates of one profile, or with
	// profileID 0 every template of the tenant (one list, one total).
	MessageTemplates(ctx context.Context, tenantID int64, profileID int64, opt ListOptions) (Page[MessageTemplate], error)
	UpdateMessageTemplateFunc(ctx context.Context, tenantID, id int64, fn func(*MessageTemplate) error) (MessageTemplate, error)
	DeleteMessageTemplate(ctx context.Context, tenantID, id int64) error

	// SetConsent records a number's consent with consent.opted_out or
	// consent.opted_in.
	SetConsent(ctx context.Context, c Consent) (Consent, error)
	// Consent is the number's record (CodeNotFound: none, which is consent).
	Consent(ctx context.Context, tenantID int64, number string) (Consent, error)
	// OptedOut says whether the number refused messages (STOP).
	OptedOut(ctx context.Context, tenantID int64, number string) (bool, error)

	ConversationEscalationStore
}

// Conversations is the service every dialect's chat and messaging routes
// call: it starts conversations on an end user's behalf, adds messages (an
// agent's go out through the channel's provider), moves conversations
// through their lifecycle, and has the engine route them.
type Conversations interface {
	// Start opens a conversation for c.EndUser on c.Channel, into c.QueueID
	// (or the profile's queue) with first as its first inbound message (nil
	// for none). Signed context arrives as a JWT in signedContext ("" for
	// none), verified with the profile's secret (CodeInvalid when it does
	// not verify). It returns the conversation and, for web chat, the end
	// user's token for the end-user API (shown once).
	Start(ctx context.Context, tenantID int64, c Conversation, signedContext string, first *ConversationMessage) (Conversation, string, error)
	Conversation(ctx context.Context, tenantID, id int64) (Conversation, error)
	List(ctx context.Context, tenantID int64, f ConversationFilter, opt ListOptions) (Page[Conversation], error)
	// Send adds a message: from the end user (Direction inbound) or an
	// agent or integration (outbound). An agent (m.AgentID set) must hold
	// the conversation (CodeForbidden otherwise); their first message moves
	// it to in_progress. Outbound messages go out through the channel's
	// provider; a number that opted out refuses them (CodeInvalid naming
	// consent). An inbound message to a dismissed conversation queues it
	// again (resume).
	Send(ctx context.Context, tenantID, conversationID int64, m ConversationMessage) (ConversationMessage, error)
	Messages(ctx context.Context, tenantID, conversationID, afterSeq int64, limit int) ([]ConversationMessage, error)
	// Accept is the assigned agent taking the conversation (in_progress).
	Accept(ctx context.Context, tenantID, id, agentID int64) (Conversation, error)
	// Transfer moves it to another queue; byAgent is the agent who did (nil:
	// the API).
	Transfer(ctx context.Context, tenantID, id, queueID int64, byAgent *int64) (Conversation, error)
	// Finish ends it: by says who, reason why.
	Finish(ctx context.Context, tenantID, id int64, by Side, reason string) (Conversation, error)
	// Dismiss lets it wait unassigned until the end user writes again.
	Dismiss(ctx context.Context, tenantID, id int64) (Conversation, error)
	// Resume queues a dismissed conversation again.
	Resume(ctx context.Context, tenantID, id int64) (Conversation, error)
	// Deflect ends it towards another channel (email, external_link), or
	// records keep_waiting and leaves it queued.
	Deflect(ctx context.Context, tenantID, id int64, to string) (Conversation, error)
	// AddContext adds data to an open or ended conversation's context:
	// signedContext (an HS256 JWT, "" for none) verified with its channel
	// profile's secret as Start verifies one (CodeInvalid naming
	// context.signed when it does not) into Signed, unsigned into Unsigned;
	// a key given again replaces the old value. It writes
	// conversation.updated and returns the verified claims with the
	// conversation.
	AddContext(ctx context.Context, tenantID, id int64, signedContext string, unsigned map[string]any) (Conversation, map[string]any, error)
	// Update changes what agents and integrations may: language, flags,
	// unsigned context, the end user's name, email and phone.
	Update(ctx context.Context, tenantID, id int64, fn func(*Conversation) error) (Conversation, error)
	// Inbound takes a text that arrived on one of the tenant's numbers
	// (SMS, WhatsApp): it applies STOP/START keywords to the number's
	// consent, and opens or continues the sender's conversation.
	Inbound(ctx context.Context, tenantID int64, channel ConversationChannel, from, to, text, providerID string) (Conversation, error)
	// Receipt applies a provider's delivery report to the message it sent.
	Receipt(ctx context.Context, tenantID int64, providerID string, status ReceiptStatus, errText string) (ConversationMessage, error)
	// OptedOut says whether number refused messages (STOP).
	OptedOut(ctx context.Context, tenantID int64, number string) (bool, error)

	// NewUpload creates a pending attachment of kind for the conversation
	// and returns it with its upload token, good until its ExpiresAt.
	NewUpload(ctx context.Context, tenantID, conversationID int64, kind MessageKind, contentType, name string) (Attachment, string, error)
	// Upload stores the bytes for the attachment of token, within the
	// kind's AttachmentLimits (CodeInvalid naming the limit otherwise), and
	// makes it ready. An expired or used token is CodeNotFound.
	Upload(ctx context.Context, token, contentType string, r io.Reader) (Attachment, error)
	// OpenAttachment reads a ready attachment's bytes.
	OpenAttachment(ctx context.Context, tenantID, id int64) (Attachment, io.ReadCloser, error)

	// EndUserConversation finds the conversation of uuid for its end user,
	// who proves it with the token Start gave (CodeUnauthorized otherwise).
	EndUserConversation(ctx context.Context, uuid, token string) (Conversation, error)
	// Watch wakes when the conversation may have changed (a message or a
	// status) on this node; stop releases it. Readers re-read on each wake
	// and also poll, for changes made on other nodes.
	Watch(tenantID, conversationID int64) (wake <-chan struct{}, stop func())
}
