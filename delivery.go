package switchboard

import "time"

// DeliveryClaim is a delivery leased to a dispatcher, with what it needs to send it.
type DeliveryClaim struct {
	Delivery Delivery
	Webhook  Webhook
	Event    Event
}

// DeliveryOutcome is what became of one delivery attempt.
type DeliveryOutcome int

// The outcomes of an attempt.
const (
	OutcomeDelivered DeliveryOutcome = iota // 2xx: done
	OutcomeRetry                            // failed; try again at DeliveryResult.NextAttemptAt
	OutcomeGiveUp                           // failed for the last time
	OutcomeGone                             // 410: failed, and the webhook is disabled at once
	OutcomeSkipped                          // not sent: the subscription's dialect passed over the event
	OutcomeInactive                         // not sent: the event's type is inactive for the subscription
)

// DeliveryResult records one attempt of one delivery.
type DeliveryResult struct {
	DeliveryID    int64
	WebhookID     int64
	TenantID      int64
	Outcome       DeliveryOutcome
	NextAttemptAt time.Time
	Attempt       DeliveryAttempt
	// What a failure record needs (OutcomeGiveUp, OutcomeGone,
	// OutcomeInactive), and what settles a retriggered one: the event, the
	// delivery's attempts after this one, the body sent, and whether the
	// delivery was a retrigger.
	EventID     int64
	EventSeq    int64
	EventType   string
	Attempts    int
	Body        []byte
	Retriggered bool
}

// Failed reports whether the result ends its delivery as a failure, which
// is then recorded as a WebhookFailure.
func (r *DeliveryResult) Failed() bool {
	return r.Outcome == OutcomeGiveUp || r.Outcome == OutcomeGone || r.Outcome == OutcomeInactive
}

// DisablePolicy says when a failing webhook is disabled: when it has failed
// for longer than After and another delivery gives up, or after Deliveries
// consecutive deliveries gave up. Zero values disable that rule.
type DisablePolicy struct {
	After      time.Duration
	Deliveries int64
}
