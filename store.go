package switchboard

import (
	"context"
	"time"
)

// ListOptions selects one page of a list. Cursor, when set, continues after the
// last item of the previous page and is the efficient choice; Offset exists for
// clients written against offset-paged vendor APIs and is ignored when Cursor is
// set.
type ListOptions struct {
	Limit  int
	Cursor string
	Offset int
	// SkipTotal leaves Page.Total at 0, saving a count for readers that walk
	// a list to its end (exports).
	SkipTotal bool
}

// Page limits shared by every list endpoint.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 1000
	// MaxOffset bounds the offset= of a list, as vendors bound their page=.
	MaxOffset = 1<<31 - 1
	// MaxEventPageBytes bounds the payload bytes of one page of the event log,
	// so that a page of a thousand large events cannot take a reader (or the
	// server holding it for a stream) to gigabytes. A page always holds at
	// least one event, however large.
	MaxEventPageBytes = 1 << 20
)

// Validate checks and defaults the options.
func (o *ListOptions) Validate() error {
	p := Problems{}
	switch {
	case o.Limit == 0:
		o.Limit = DefaultPageLimit
	case o.Limit < 0 || o.Limit > MaxPageLimit:
		p.Add("limit", "must be between 1 and 1000")
	}
	if o.Offset < 0 || o.Offset > MaxOffset {
		p.Add("offset", "must be between 0 and 2147483647")
	}
	return p.Err()
}

// Page is one page of a list: its items, the total across all pages, and the
// cursor of the next page ("" on the last one).
type Page[T any] struct {
	Items      []T
	Total      int
	NextCursor string
}

// UserFilter narrows a user list.
type UserFilter struct {
	TeamID             int64 // 0: any team
	Email              string
	IncludeDeactivated bool
	// Name keeps users whose "first last" name contains it, ignoring case.
	Name string
	// Extension, SIPUsername, OutboundNumber (E.164) and TimeZone match
	// exactly; Role keeps users holding that role among others.
	Extension      string
	SIPUsername    string
	OutboundNumber string
	TimeZone       string
	Role           string
}

// NewAPIKey is a freshly minted key: the stored record plus its secret, which
// exists only here and is shown to the caller once.
type NewAPIKey struct {
	APIKey
	Secret string
}

// Store is the contract of the persistent core: every method validates its input,
// checks that every referenced object belongs to tenantID, writes the change and
// its Event in one transaction, and returns *Error values with the codes its doc
// names (CodeNotFound for objects outside the tenant, as if they did not exist).
type Store interface {
	CampaignStore
	ConversationStore
	RecordStore
	BillingStore
	AnalyticsStore
	WebhookFailureStore
	CallDataStore
	CallbackStore
	DNCStore
	AgentSessionStore
	UserJobStore
	PhonebookStore
	QueueSettingsStore

	CreateTenant(ctx context.Context, t Tenant) (Tenant, error)
	Tenant(ctx context.Context, id int64) (Tenant, error)
	TenantBySlug(ctx context.Context, slug string) (Tenant, error)
	Tenants(ctx context.Context, opt ListOptions) (Page[Tenant], error)
	// UpdateTenant replaces the tenant's settings. A BalanceCents other than
	// the stored one is written to the ledger as an adjustment; since the
	// billing service changes the balance at any time, callers change
	// tenants with UpdateTenantFunc, which reads the balance in the
	// transaction. The currency of a balance that is not zero cannot change
	// (CodeConflict naming currency).
	UpdateTenant(ctx context.Context, t Tenant) (Tenant, error)

	CreateUser(ctx context.Context, tenantID int64, u User) (User, error)
	User(ctx context.Context, tenantID, id int64) (User, error)
	UserByEmail(ctx context.Context, tenantID int64, email string) (User, error)
	Users(ctx context.Context, tenantID int64, f UserFilter, opt ListOptions) (Page[User], error)
	// UpdateUser replaces the user's writable fields with u's; setting or clearing
	// DeactivatedAt deactivates or reactivates the user.
	UpdateUser(ctx context.Context, tenantID int64, u User) (User, error)
	// SIPAccounts finds, across tenants, the active users whose sip_username
	// is username and who have a SIP password, for the registrar: a phone's
	// REGISTER names a username, not a tenant.
	SIPAccounts(ctx context.Context, username string) ([]SIPAccount, error)
	// SaveSIPBindings replaces the stored bindings of each device in
	// bindings (a device with none has all of its bindings removed).
	SaveSIPBindings(ctx context.Context, bindings map[string][]SIPBinding) error
	// SIPBindings lists every stored binding that expires after now.
	SIPBindings(ctx context.Context, now time.Time) ([]SIPBinding, error)

	// The Update…Func methods are the read-modify-write form of the updates,
	// for partial updates (PATCH) and anything else that changes an object it
	// has read: fn receives the object as stored, inside the transaction that
	// writes it and with its row locked until the commit, and the store then
	// validates and writes what fn left, as the matching Update… does. So
	// concurrent partial updates never lose each other's changes. fn must be
	// quick, must not call the store (on SQLite it runs in the one writer),
	// and may run more than once (a deadlock victim is retried), so it must
	// change nothing but its argument; its error aborts the update unchanged.
	UpdateUserFunc(ctx context.Context, tenantID, id int64, fn func(*User) error) (User, error)
	UpdateTeamFunc(ctx context.Context, tenantID, id int64, fn func(*Team) error) (Team, error)
	UpdateSkillFunc(ctx context.Context, tenantID, id int64, fn func(*Skill) error) (Skill, error)
	UpdateStatusFunc(ctx context.Context, tenantID, id int64, fn func(*AgentStatus) error) (AgentStatus, error)
	UpdateQueueFunc(ctx context.Context, tenantID, id int64, fn func(*Queue) error) (Queue, error)
	UpdatePhoneNumberFunc(ctx context.Context, tenantID, id int64, fn func(*PhoneNumber) error) (PhoneNumber, error)
	UpdateIVRMenuFunc(ctx context.Context, tenantID, id int64, fn func(*IVRMenu) error) (IVRMenu, error)
	UpdateTrunkFunc(ctx context.Context, tenantID, id int64, fn func(*Trunk) error) (Trunk, error)
	UpdateContactFunc(ctx context.Context, tenantID, id int64, fn func(*Contact) error) (Contact, error)
	UpdateWebhookFunc(ctx context.Context, tenantID, id int64, fn func(*Webhook) error) (Webhook, error)
	UpdateTenantFunc(ctx context.Context, id int64, fn func(*Tenant) error) (Tenant, error)

	// SetPresence puts an agent in a status of the tenant. Only the system may
	// set In-Call and Wrap-Up (bySystem); deactivated users stay Offline.
	SetPresence(ctx context.Context, tenantID, userID int64, status string, bySystem bool) (Presence, error)
	Presence(ctx context.Context, tenantID, userID int64) (Presence, error)

	// SaveCall records one change of a call with its call.<what> event, in
	// one transaction: it inserts the call the first time (numbering one
	// without an ID) and updates it after, and returns it with its ID.
	SaveCall(ctx context.Context, c Call, what string) (Call, error)
	// SaveCalls records changes of calls the engine numbered, in order, in
	// one transaction: the call service's batching writer.
	SaveCalls(ctx context.Context, changes []CallChange) error
	// ReserveCallIDs takes n call ids no call has or will be given by
	// anyone else, and returns the first (they run first … first+n-1).
	ReserveCallIDs(ctx context.Context, n int) (first int64, err error)
	Call(ctx context.Context, tenantID, id int64) (Call, error)
	// MarkVoicemailRead moves a call whose voicemail was received to
	// voicemail_read, read by userID now, with its call.voicemail_read
	// event. The first read wins: a voicemail already read is returned as
	// it is; a call that holds no voicemail is a CodeConflict.
	MarkVoicemailRead(ctx context.Context, tenantID, callID, userID int64) (Call, error)
	CallByUUID(ctx context.Context, tenantID int64, uuid string) (Call, error)
	// CDRs lists call records, oldest first.
	CDRs(ctx context.Context, tenantID int64, f CDRFilter, opt ListOptions) (Page[CDR], error)
	// EachCDR calls fn with every record f selects, in the order CDRs lists
	// them, read by one streaming query rather than page by page (exports).
	// Only the columns in cols are read. The record is reused from one call
	// of fn to the next, so fn copies what it keeps; an error from fn stops
	// the read and is returned.
	EachCDR(ctx context.Context, tenantID int64, f CDRFilter, cols CallColumns, fn func(*CDR) error) error
	// CallStats summarizes the ended calls that started in [since, until),
	// of one queue or (queueID 0) of the whole tenant.
	CallStats(ctx context.Context, tenantID, queueID int64, since, until time.Time, slThreshold time.Duration) (CallStats, error)
	// AddDNC puts a number (E.164) on the tenant's do-not-call list, until
	// expiresAt when it is set (it must be in the future).
	AddDNC(ctx context.Context, tenantID int64, number, reason string, expiresAt *time.Time) (DNCNumber, error)
	DNCNumbers(ctx context.Context, tenantID int64, opt ListOptions) (Page[DNCNumber], error)
	RemoveDNC(ctx context.Context, tenantID, id int64) error
	// IsDNC says whether number is on the list now (an expired entry is not).
	IsDNC(ctx context.Context, tenantID int64, number string) (bool, error)
	// SubjectEvents returns the events about one object (a call's steps), in
	// order.
	SubjectEvents(ctx context.Context, tenantID int64, subjectType string, subjectID int64) ([]Event, error)

	// CreateContact files a CRM contact; its numbers must be E.164.
	CreateContact(ctx context.Context, tenantID int64, c Contact) (Contact, error)
	Contact(ctx context.Context, tenantID, id int64) (Contact, error)
	ContactByUUID(ctx context.Context, tenantID int64, uuid string) (Contact, error)
	// Contacts searches contacts, oldest first; see ContactFilter.
	Contacts(ctx context.Context, tenantID int64, f ContactFilter, opt ListOptions) (Page[Contact], error)
	// ContactsByPhone finds the contact of each number that belongs to one
	// (the first filed, when several share it), for caller lookup.
	ContactsByPhone(ctx context.Context, tenantID int64, numbers []string) (map[string]Contact, error)
	UpdateContact(ctx context.Context, tenantID int64, c Contact) (Contact, error)
	DeleteContact(ctx context.Context, tenantID, id int64) error

	// CreateMessage records a text message (outbound: queued; inbound:
	// received) with its sms.* event.
	CreateMessage(ctx context.Context, m Message) (Message, error)
	// UpdateMessage stores a message's new status, provider id, error and
	// times with its sms.<status> event.
	UpdateMessage(ctx context.Context, m Message) (Message, error)
	Message(ctx context.Context, tenantID, id int64) (Message, error)
	MessageByProviderID(ctx context.Context, tenantID int64, providerID string) (Message, error)
	// Messages lists messages, newest first.
	Messages(ctx context.Context, tenantID int64, f MessageFilter, opt ListOptions) (Page[Message], error)
	// NumberOwner finds the tenant number (E.164) belongs to, across
	// tenants: an inbound message names only the number it was sent to.
	NumberOwner(ctx context.Context, number string) (PhoneNumber, error)

	// CreateClickToCall files a click-to-call link within the tenant's limit
	// (its users plus its queues).
	CreateClickToCall(ctx context.Context, tenantID int64, l ClickToCall) (ClickToCall, error)
	ClickToCallByKey(ctx context.Context, tenantID int64, key string) (ClickToCall, error)
	ClickToCalls(ctx context.Context, tenantID int64, opt ListOptions) (Page[ClickToCall], error)
	DeleteClickToCall(ctx context.Context, tenantID, id int64) error

	CreateTeam(ctx context.Context, tenantID int64, t Team) (Team, error)
	Team(ctx context.Context, tenantID, id int64) (Team, error)
	Teams(ctx context.Context, tenantID int64, opt ListOptions) (Page[Team], error)
	UpdateTeam(ctx context.Context, tenantID int64, t Team) (Team, error)
	DeleteTeam(ctx context.Context, tenantID, id int64) error

	CreateSkill(ctx context.Context, tenantID int64, s Skill) (Skill, error)
	Skill(ctx context.Context, tenantID, id int64) (Skill, error)
	Skills(ctx context.Context, tenantID int64, opt ListOptions) (Page[Skill], error)
	UpdateSkill(ctx context.Context, tenantID int64, s Skill) (Skill, error)
	DeleteSkill(ctx context.Context, tenantID, id int64) error

	CreateStatus(ctx context.Context, tenantID int64, s AgentStatus) (AgentStatus, error)
	Status(ctx context.Context, tenantID, id int64) (AgentStatus, error)
	Statuses(ctx context.Context, tenantID int64, opt ListOptions) (Page[AgentStatus], error)
	UpdateStatus(ctx context.Context, tenantID int64, s AgentStatus) (AgentStatus, error)
	DeleteStatus(ctx context.Context, tenantID, id int64) error

	CreateQueue(ctx context.Context, tenantID int64, q Queue) (Queue, error)
	Queue(ctx context.Context, tenantID, id int64) (Queue, error)
	Queues(ctx context.Context, tenantID int64, opt ListOptions) (Page[Queue], error)
	UpdateQueue(ctx context.Context, tenantID int64, q Queue) (Queue, error)
	DeleteQueue(ctx context.Context, tenantID, id int64) error
	AddQueueMember(ctx context.Context, tenantID int64, m QueueMember) (QueueMember, error)
	UpdateQueueMember(ctx context.Context, tenantID int64, m QueueMember) (QueueMember, error)
	RemoveQueueMember(ctx context.Context, tenantID, queueID, userID int64) error
	QueueMembers(ctx context.Context, tenantID, queueID int64, opt ListOptions) (Page[QueueMember], error)

	CreatePhoneNumber(ctx context.Context, tenantID int64, n PhoneNumber) (PhoneNumber, error)
	PhoneNumber(ctx context.Context, tenantID, id int64) (PhoneNumber, error)
	PhoneNumbers(ctx context.Context, tenantID int64, opt ListOptions) (Page[PhoneNumber], error)
	UpdatePhoneNumber(ctx context.Context, tenantID int64, n PhoneNumber) (PhoneNumber, error)
	DeletePhoneNumber(ctx context.Context, tenantID, id int64) error

	// CreateIVRMenu files a menu whose targets (queues, users, menus) are
	// the tenant's own. DeleteIVRMenu refuses (CodeConflict) a menu a number
	// or another menu leads to, as DeleteQueue refuses a queue a menu leads
	// to.
	CreateIVRMenu(ctx context.Context, tenantID int64, m IVRMenu) (IVRMenu, error)
	IVRMenu(ctx context.Context, tenantID, id int64) (IVRMenu, error)
	IVRMenus(ctx context.Context, tenantID int64, opt ListOptions) (Page[IVRMenu], error)
	UpdateIVRMenu(ctx context.Context, tenantID int64, m IVRMenu) (IVRMenu, error)
	DeleteIVRMenu(ctx context.Context, tenantID, id int64) error

	// CreateTrunk adds a carrier trunk; setting DefaultOutbound clears it on
	// the tenant's other trunks in the same transaction. Names are unique
	// per tenant, inbound usernames across tenants (CodeConflict).
	CreateTrunk(ctx context.Context, tenantID int64, t Trunk) (Trunk, error)
	Trunk(ctx context.Context, tenantID, id int64) (Trunk, error)
	Trunks(ctx context.Context, tenantID int64, opt ListOptions) (Page[Trunk], error)
	// UpdateTrunk replaces the trunk's settings; an empty password keeps
	// the stored one (see Trunk).
	UpdateTrunk(ctx context.Context, tenantID int64, t Trunk) (Trunk, error)
	DeleteTrunk(ctx context.Context, tenantID, id int64) error
	// AllTrunks reads every tenant's trunks with their passwords, for the
	// SIP driver, which loads them at start and then follows trunk.* events.
	AllTrunks(ctx context.Context) ([]Trunk, error)

	CreateAPIKey(ctx context.Context, tenantID int64, k APIKey) (NewAPIKey, error)
	APIKey(ctx context.Context, tenantID, id int64) (APIKey, error)
	APIKeys(ctx context.Context, tenantID int64, opt ListOptions) (Page[APIKey], error)
	RevokeAPIKey(ctx context.Context, tenantID, id int64) (APIKey, error)
	// AuthenticateKey finds the usable key whose secret is secret, or fails with
	// CodeUnauthorized. It is the only lookup that is not scoped by tenant, since
	// the secret is what tells the tenant.
	AuthenticateKey(ctx context.Context, secret string) (APIKey, error)
	// TouchAPIKey records that the key was used at t.
	TouchAPIKey(ctx context.Context, id int64, t time.Time) error

	CreateWebhook(ctx context.Context, tenantID int64, w Webhook) (Webhook, error)
	Webhook(ctx context.Context, tenantID, id int64) (Webhook, error)
	Webhooks(ctx context.Context, tenantID int64, opt ListOptions) (Page[Webhook], error)
	// UpdateWebhook changes the subscription's settings and its Enabled flag;
	// statistics and secrets are the store's own.
	UpdateWebhook(ctx context.Context, tenantID int64, w Webhook) (Webhook, error)
	DeleteWebhook(ctx context.Context, tenantID, id int64) error
	// RotateWebhookSecret replaces the signing secret; the old one keeps
	// signing beside the new one for overlap.
	RotateWebhookSecret(ctx context.Context, tenantID, id int64, overlap time.Duration) (Webhook, error)
	Deliveries(ctx context.Context, tenantID int64, f DeliveryFilter, opt ListOptions) (Page[Delivery], error)
	Delivery(ctx context.Context, tenantID, id int64) (Delivery, error)
	// RetryDelivery queues one delivery again with a fresh attempt budget.
	RetryDelivery(ctx context.Context, tenantID, id int64) (Delivery, error)
	// ReplayWebhook queues again every event in [since, until) the webhook
	// wants, and reports how many.
	ReplayWebhook(ctx context.Context, tenantID, id int64, since, until time.Time) (int, error)

	// AppendEvent records an event that is not the side effect of another
	// change, with its deliveries, in one transaction.
	AppendEvent(ctx context.Context, tenantID int64, typ, subjectType string, subjectID int64, payload any) (Event, error)
	// Events returns a tenant's events with Seq greater than afterSeq, oldest
	// first, at most limit of them, and stops early rather than exceed
	// MaxEventPageBytes of payloads (returning at least one event).
	Events(ctx context.Context, tenantID, afterSeq int64, limit int) ([]Event, error)
	// EventHead returns the sequence number of the tenant's newest event (0
	// when it has none): where a live reader starts.
	EventHead(ctx context.Context, tenantID int64) (int64, error)
	// Live returns the tenant's agents, queues and calls in progress with
	// the sequence number of the last event they reflect, read in one
	// snapshot: a reader that applies the events after it stays exact.
	Live(ctx context.Context, tenantID int64) (LiveView, error)
	// Changes signals after commits that appended events (see sqlstore).
	Changes() (<-chan struct{}, func())

	Ping(ctx context.Context) error
	Close() error
}

// All reads every page of a tenant's list, for the few callers that need the
// whole of a short list (a tenant's queues, numbers or webhooks).
func All[T any](ctx context.Context, list func(context.Context, int64, ListOptions) (Page[T], error), tenantID int64) ([]T, error) {
	var out []T
	opt := ListOptions{Limit: MaxPageLimit, SkipTotal: true}
	for {
		p, err := list(ctx, tenantID, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out, nil
		}
		opt.Cursor = p.NextCursor
	}
}
