package switchboard

import (
	"context"
	"strings"
	"time"
)

// WebhookFailure is an event that did not reach a subscription: its delivery
// used up every attempt, the receiver answered 410, or the event's type was
// inactive for the subscription when it was due. It is kept, with what was
// sent and what came back, so that the tenant can see what their receiver
// missed and send it again (RetriggerWebhookFailure); a failure is the
// delivery's, one per delivery, and a retriggered delivery that fails again
// turns the same record back to failed.
type WebhookFailure struct {
	ID         int64  `json:"id"`
	TenantID   int64  `json:"tenant_id"`
	UUID       string `json:"uuid"`
	WebhookID  int64  `json:"webhook_id"`
	DeliveryID int64  `json:"delivery_id"`
	EventID    int64  `json:"event_id"`
	EventSeq   int64  `json:"event_seq"`
	EventType  string `json:"event_type"`
	// RequestBody is what was sent (or would have been, for an inactive
	// type), as the subscription's dialect rendered it, up to
	// MaxFailureBody bytes.
	RequestBody string `json:"request_body"`
	// ResponseStatus and ResponseBody are the receiver's last answer (0 and
	// "" when none came back); the body is kept only from public receivers,
	// as the attempt log keeps it.
	ResponseStatus int    `json:"response_status"`
	ResponseBody   string `json:"response_body"`
	// Error says why the last attempt failed, or that the type was inactive.
	Error string `json:"error"`
	// Inactive is true when the event was not sent because its type was
	// inactive for the subscription.
	Inactive bool `json:"inactive"`
	// Attempts counts the HTTP attempts made for the event, across
	// retriggers.
	Attempts      int                  `json:"attempts"`
	Status        WebhookFailureStatus `json:"status"`
	FirstFailedAt time.Time            `json:"first_failed_at"`
	LastFailedAt  time.Time            `json:"last_failed_at"`
	RetriggeredAt *time.Time           `json:"retriggered_at"`
	DeliveredAt   *time.Time           `json:"delivered_at"`
	CreatedAt     time.Time            `json:"created_at"`
	UpdatedAt     time.Time            `json:"updated_at"`
}

// WebhookFailureStatus is where a failure stands.
type WebhookFailureStatus string

// The failure statuses.
const (
	FailureFailed      WebhookFailureStatus = "failed"      // not delivered, not retried automatically
	FailureRetriggered WebhookFailureStatus = "retriggered" // queued again by a retrigger; its outcome is pending
	FailureDelivered   WebhookFailureStatus = "delivered"   // a retrigger delivered it
)

// MaxFailureBody bounds the request body a failure keeps.
const MaxFailureBody = 64 << 10

// InactiveWindow is the window of the inactive rule: a subscription's event
// type becomes inactive when Webhook.InactiveAfterFailures of its deliveries
// failed within it.
const InactiveWindow = 24 * time.Hour

// InactiveEventType is one event type that a subscription no longer
// receives: Failures of its deliveries failed within InactiveWindow, the
// last at Since. New events of the type become failures without an attempt
// until a retriggered failure of the type is delivered, or the rule is turned
// off (InactiveAfterFailures 0).
type InactiveEventType struct {
	EventType string    `json:"event_type"`
	Since     time.Time `json:"since"`
	Failures  int       `json:"failures"`
}

// TypeInactive reports whether events of type typ are held back from w.
func (w *Webhook) TypeInactive(typ string) bool {
	for _, t := range w.InactiveEventTypes {
		if t.EventType == typ {
			return true
		}
	}
	return false
}

// WebhookFailureFilter narrows a failure list; zero fields do not filter.
type WebhookFailureFilter struct {
	WebhookID int64
	EventType string
	Status    WebhookFailureStatus
	// Undelivered leaves out the failures a retrigger delivered: what still
	// needs the tenant's attention (Voiso's list).
	Undelivered bool
	// Since and Until bound the failures' creation, [Since, Until).
	Since *time.Time
	Until *time.Time
}

// Validate reports the filter's invalid fields.
func (f WebhookFailureFilter) Validate() error {
	p := Problems{}
	switch f.Status {
	case "", FailureFailed, FailureRetriggered, FailureDelivered:
	default:
		p.Add("status", "must be failed, retriggered or delivered")
	}
	if len(f.EventType) > 100 || strings.ContainsAny(f.EventType, " ,") {
		p.Add("event_type", "must be an event type such as call.ended")
	}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		p.Add("until", "must be after since")
	}
	return p.Err()
}

// Event types of webhook failures (subject "webhook_failure", payload
// WebhookFailureEventPayload), and of the inactive rule (subject "webhook",
// payload WebhookTypeEventPayload). They are recorded in the log and shown by
// the event API and the stream, but never delivered to webhooks
// (EventDeliverable): a failure event sent to failing receivers would fail
// and make more failures.
const (
	EventWebhookFailureRecorded    = "webhook_failure.recorded"
	EventWebhookFailureRetriggered = "webhook_failure.retriggered"
	EventWebhookFailureDelivered   = "webhook_failure.delivered"
	EventWebhookTypeInactive       = "webhook_failure.type_inactive"
	EventWebhookTypeReactivated    = "webhook_failure.type_reactivated"
)

// EventDeliverable reports whether events of type typ are delivered to
// webhook subscriptions; only the webhook failure events are not.
func EventDeliverable(typ string) bool { return !strings.HasPrefix(typ, "webhook_failure.") }

// WebhookFailureEventPayload is the payload of the webhook_failure.* events:
// the failure without its request and response bodies.
type WebhookFailureEventPayload struct {
	V              int                  `json:"v"`
	ID             int64                `json:"id"`
	UUID           string               `json:"uuid"`
	WebhookID      int64                `json:"webhook_id"`
	DeliveryID     int64                `json:"delivery_id"`
	EventID        int64                `json:"event_id"`
	EventSeq       int64                `json:"event_seq"`
	EventType      string               `json:"event_type"`
	Status         WebhookFailureStatus `json:"status"`
	Inactive       bool                 `json:"inactive"`
	Attempts       int                  `json:"attempts"`
	ResponseStatus int                  `json:"response_status"`
	Error          string               `json:"error"`
}

// NewWebhookFailureEventPayload returns f's event payload.
func NewWebhookFailureEventPayload(f WebhookFailure) WebhookFailureEventPayload {
	return WebhookFailureEventPayload{V: EventPayloadVersion, ID: f.ID, UUID: f.UUID, WebhookID: f.WebhookID,
		DeliveryID: f.DeliveryID, EventID: f.EventID, EventSeq: f.EventSeq, EventType: f.EventType, Status: f.Status,
		Inactive: f.Inactive, Attempts: f.Attempts, ResponseStatus: f.ResponseStatus, Error: f.Error}
}

// WebhookTypeEventPayload is the payload of webhook_failure.type_inactive
// and webhook_failure.type_reactivated.
type WebhookTypeEventPayload struct {
	V         int    `json:"v"`
	WebhookID int64  `json:"webhook_id"`
	EventType string `json:"event_type"`
	// Failures is how many deliveries of the type failed within the window
	// (type_inactive only).
	Failures int `json:"failures,omitempty"`
	// FailureID is the retriggered failure whose delivery reactivated the
	// type (0 when the rule was turned off).
	FailureID int64 `json:"failure_id,omitempty"`
}

// WebhookFailureStore keeps webhook failures. The dispatcher's outcomes
// (Store's CompleteDeliveries in the sqlstore) write them; these are the
// tenant's views and the one action on them.
type WebhookFailureStore interface {
	// WebhookFailures lists a tenant's failures, newest first.
	WebhookFailures(ctx context.Context, tenantID int64, f WebhookFailureFilter, opt ListOptions) (Page[WebhookFailure], error)
	WebhookFailure(ctx context.Context, tenantID, id int64) (WebhookFailure, error)
	// RetriggerWebhookFailure queues the failure's delivery again, due at
	// once, with a fresh attempt budget and its webhook-id, even while its
	// type is inactive; once delivered, the failure is delivered and the
	// type active again. Only a failed failure can be retriggered
	// (CodeConflict otherwise); a disabled subscription refuses it too.
	RetriggerWebhookFailure(ctx context.Context, tenantID, id int64) (WebhookFailure, error)
}
