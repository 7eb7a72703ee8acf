package switchboard

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Webhook is a subscription: the tenant's URL that receives its events, rendered
// in one dialect's payload format and signed. Delivery rows are created in the
// same transaction as the event, so a subscription never misses one.
type Webhook struct {
	ID       int64 `json:"id"`
	TenantID int64 `json:"tenant_id"`
	// UUID identifies the subscription on dialects that show UUIDs.
	UUID string `json:"uuid"`
	// Name is the subscription's label (some dialects name subscriptions).
	Name string `json:"name"`
	URL  string `json:"url"`
	// Method is POST, or GET for receivers that take the event in the query
	// string (a dialect may allow it).
	Method string `json:"method"`
	// Dialect names the payload renderer: DialectNative, or the name of a
	// registered dialect that renders its vendor's payloads.
	Dialect string `json:"dialect"`
	// EventTypes filters what is delivered; empty means every event.
	EventTypes []string `json:"event_types"`
	// DialectTypes are the event types as the dialect's own API named them
	// when subscribing (a vendor's CALL_INCOMING…). EventTypes holds their
	// core equivalents, which choose the events; the dialect's renderer reads
	// these to shape, or pass over, each one.
	DialectTypes []string `json:"dialect_types"`
	// Secret signs deliveries; write-only except when first created or rotated.
	Secret string `json:"-"`
	// PreviousSecret keeps signing until PreviousSecretExpiresAt, so receivers
	// can switch to a rotated secret without losing deliveries.
	PreviousSecret          string     `json:"-"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
	Enabled                 bool       `json:"enabled"`
	DisabledReason          string     `json:"disabled_reason"`
	DisabledAt              *time.Time `json:"disabled_at"`
	// MaxAttempts caps the tries of one delivery (1-5, as some vendors let
	// subscriptions choose); 0 means
	// the server's whole retry schedule.
	MaxAttempts int `json:"max_attempts"`
	// DelaySeconds holds each delivery back this long after its event: some
	// vendors send a call's record a few seconds after the call ends, once
	// its recording is stored, and so after the call's real-time events.
	DelaySeconds int `json:"delay_seconds"`
	// InactiveAfterFailures turns on the inactive rule: when this many
	// deliveries of one event type failed within InactiveWindow, that type
	// is held back (InactiveEventTypes) while the subscription's other types
	// are still delivered. 0 turns the rule off (the default; the Voiso
	// dialect sets 5, as Voiso does).
	InactiveAfterFailures int `json:"inactive_after_failures"`
	// InactiveEventTypes are the types the rule holds back now (read-only).
	InactiveEventTypes []InactiveEventType `json:"inactive_event_types"`
	NotifyEmail        string              `json:"notify_email"`
	Headers            map[string]string   `json:"headers"`

	// Read-only delivery statistics.
	FailedCount         int64      `json:"failed_count"`
	ConsecutiveFailures int64      `json:"consecutive_failures"`
	FailingSince        *time.Time `json:"failing_since"`
	LastError           string     `json:"last_error"`
	LastSuccessAt       *time.Time `json:"last_success_at"`
	LastFailureAt       *time.Time `json:"last_failure_at"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// MaxInactiveAfterFailures bounds Webhook.InactiveAfterFailures.
const MaxInactiveAfterFailures = 1000

// DialectNative is the payload format of Switchboard's own events. Other
// dialects register their names when the server is composed; whether a
// subscription's dialect is one of them is the webhook policy's check.
const DialectNative = "native"

// dialectName is the shape of a dialect's name.
var dialectName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// Matches reports whether the webhook wants events of type typ.
func (w *Webhook) Matches(typ string) bool {
	if len(w.EventTypes) == 0 {
		return true
	}
	for _, t := range w.EventTypes {
		if t == typ || t == "*" || (strings.HasSuffix(t, ".*") && strings.HasPrefix(typ, t[:len(t)-1])) {
			return true
		}
	}
	return false
}

// reservedHeaders are set by the dispatcher and may not be overridden.
var reservedHeaders = []string{"content-type", "content-length", "host", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature"}

// Normalize fills defaults.
func (w *Webhook) Normalize() {
	w.URL = strings.TrimSpace(w.URL)
	w.Method = strings.ToUpper(strings.TrimSpace(w.Method))
	if w.Method == "" {
		w.Method = "POST"
	}
	if w.Dialect == "" {
		w.Dialect = DialectNative
	}
	if w.EventTypes == nil {
		w.EventTypes = []string{}
	}
	if w.DialectTypes == nil {
		w.DialectTypes = []string{}
	}
	if w.Headers == nil {
		w.Headers = map[string]string{}
	}
	if w.InactiveEventTypes == nil {
		w.InactiveEventTypes = []InactiveEventType{}
	}
	w.NotifyEmail = strings.TrimSpace(w.NotifyEmail)
}

// Validate reports every invalid field of w. Whether the URL's host may be
// reached at all is the dispatcher's SSRF guard's decision, checked separately.
func (w *Webhook) Validate() error {
	p := Problems{}
	u, err := url.Parse(w.URL)
	switch {
	case w.URL == "":
		p.Add("url", "is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		p.Add("url", "must be an absolute http:// or https:// URL")
	case u.User != nil:
		p.Add("url", "must not carry credentials; use headers instead")
	case len(w.URL) > 2000:
		p.Add("url", "must be at most 2000 characters")
	}
	checkName(p, "name", w.Name, false)
	if w.Method != "POST" && w.Method != "GET" {
		p.Add("method", "must be POST or GET")
	}
	if !dialectName.MatchString(w.Dialect) {
		p.Add("dialect", "must be a dialect's name, such as native")
	}
	for _, t := range w.EventTypes {
		if t == "" || len(t) > 100 || strings.ContainsAny(t, " ,") {
			p.Add("event_types", "each must be an event type such as user.created, or a prefix such as user.*")
		}
	}
	if w.DelaySeconds < 0 || w.DelaySeconds > 3600 {
		p.Add("delay_seconds", "must be between 0 and 3600")
	}
	if w.MaxAttempts < 0 || w.MaxAttempts > 5 {
		p.Add("max_attempts", "must be between 1 and 5, or 0 for the full retry schedule")
	}
	if w.InactiveAfterFailures < 0 || w.InactiveAfterFailures > MaxInactiveAfterFailures {
		p.Add("inactive_after_failures", "must be between 1 and "+strconv.Itoa(MaxInactiveAfterFailures)+", or 0 to turn the rule off")
	}
	if w.NotifyEmail != "" {
		checkEmail(p, "notify_email", w.NotifyEmail)
	}
	checkItems(p, "headers", len(w.Headers), MaxWebhookHeaders)
	for k, v := range w.Headers {
		if contains(reservedHeaders, strings.ToLower(k)) {
			p.Add("headers", Echo(k)+" is set by Switchboard and cannot be overridden")
		}
		if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
			p.Add("headers", "names must be tokens and values single lines")
		}
		if len(k) > MaxHeaderNameLength || len(v) > MaxHeaderValueLength {
			p.Add("headers", "names may have at most "+strconv.Itoa(MaxHeaderNameLength)+" characters and values "+strconv.Itoa(MaxHeaderValueLength))
		}
	}
	return p.Err()
}

// DeliveryStatus is where a webhook delivery stands.
type DeliveryStatus string

// The delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for its next attempt
	DeliverySucceeded DeliveryStatus = "succeeded" // a 2xx answer was received
	DeliveryFailed    DeliveryStatus = "failed"    // every attempt failed, or the endpoint answered 410
	DeliverySkipped   DeliveryStatus = "skipped"   // the subscription's dialect passed over the event
)

// Delivery is one event on its way to one webhook. Its ID doubles as the
// webhook-id header, identical on every retry, so receivers can deduplicate.
type Delivery struct {
	ID            int64          `json:"id"`
	TenantID      int64          `json:"tenant_id"`
	WebhookID     int64          `json:"webhook_id"`
	EventID       int64          `json:"event_id"`
	EventSeq      int64          `json:"event_seq"`
	EventType     string         `json:"event_type"`
	Status        DeliveryStatus `json:"status"`
	Attempts      int            `json:"attempts"`
	NextAttemptAt *time.Time     `json:"next_attempt_at"`
	LastStatus    int            `json:"last_status"`
	LastError     string         `json:"last_error"`
	// Retriggered marks a delivery queued again by a retrigger of its
	// failure: it is sent even while its type is inactive, and its outcome
	// settles the failure.
	Retriggered bool       `json:"retriggered"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
	// AttemptLog is filled when one delivery is read on its own.
	AttemptLog []DeliveryAttempt `json:"attempt_log,omitempty"`
}

// DeliveryAttempt records one HTTP try.
type DeliveryAttempt struct {
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code"`
	LatencyMS  int64     `json:"latency_ms"`
	// ErrorClass is "" on success, else one of timeout, connect, refused
	// (SSRF guard), http_status, redirect, other.
	ErrorClass string `json:"error_class"`
	Error      string `json:"error"`
	// Response is the start of the receiver's answer, for debugging.
	Response string `json:"response"`
}

// DeliveryFilter narrows a delivery list.
type DeliveryFilter struct {
	WebhookID int64
	Status    DeliveryStatus
	Since     *time.Time
	Until     *time.Time
}

// SetDialectTypes makes w a subscription to the vendor events names, given
// the dialect's vocabulary (each vendor event type and the core event types it
// is made of): names become w's DialectTypes and their core types its
// EventTypes. It returns the first name the vocabulary lacks, or "" when all
// are known; w is left unchanged then.
func (w *Webhook) SetDialectTypes(vocabulary map[string][]string, names ...string) (unknown string) {
	var core []string
	for _, name := range names {
		types, ok := vocabulary[name]
		if !ok {
			return name
		}
		for _, t := range types {
			if !contains(core, t) {
				core = append(core, t)
			}
		}
	}
	w.EventTypes, w.DialectTypes = core, names
	return ""
}

// SetDialectType makes w a subscription to the one vendor event name (in any
// case), as vendor APIs that subscribe to one event at a time do, and adds to
// p under field why it cannot: no name, or one the vocabulary lacks (its
// names are listed in order).
func (w *Webhook) SetDialectType(p Problems, field string, vocabulary map[string][]string, order []string, name string) {
	name = strings.ToUpper(strings.TrimSpace(name))
	switch {
	case name == "":
		p.Add(field, "is required")
	case w.SetDialectTypes(vocabulary, name) != "":
		p.Add(field, "must be one of "+strings.Join(order, ", "))
	}
}

// DialectType is the vendor event a one-event subscription names, or "".
func (w *Webhook) DialectType() string {
	if len(w.DialectTypes) == 0 {
		return ""
	}
	return w.DialectTypes[0]
}
