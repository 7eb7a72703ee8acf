package native

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"switchboard"
)

// WebhookPolicy is the one check every dialect runs on a subscription before
// it is created or updated (webhook.Policy): the SSRF guard refuses URLs the
// dispatcher would never be allowed to reach, so the tenant hears it at once,
// and the lists are bounded.
type WebhookPolicy interface {
	CheckWebhook(ctx context.Context, w switchboard.Webhook) error
}

// webhookBody is the writable view of a subscription.
type webhookBody struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Method is POST (default) or GET.
	Method  string `json:"method"`
	Dialect string `json:"dialect"`
	// EventTypes selects events by type or prefix ("user.*"); empty means
	// all. A vendor dialect's subscription names its events in that
	// vendor's words instead (Voice360's SMS_RECEIVED, Voxloud's
	// CALL_INCOMING).
	EventTypes  []string `json:"event_types"`
	MaxAttempts int      `json:"max_attempts" range:"0,5"`
	// InactiveAfterFailures turns on the inactive rule: an event type of
	// which this many deliveries failed within 24 hours is held back (its
	// events become failures without an attempt) until a retriggered failure
	// of the type is delivered; 0 (the default) turns it off.
	InactiveAfterFailures int               `json:"inactive_after_failures" range:"0,1000"`
	NotifyEmail           string            `json:"notify_email"`
	Headers               map[string]string `json:"headers" limit:"20"`
	// Enabled turns delivery off and on; enabling clears a failure run.
	Enabled *bool `json:"enabled"`
}

func webhookToBody(w switchboard.Webhook) webhookBody {
	enabled := w.Enabled
	types := w.EventTypes
	if w.Dialect != switchboard.DialectNative && w.Dialect != "" {
		types = w.DialectTypes
	}
	return webhookBody{Name: w.Name, URL: w.URL, Method: w.Method, Dialect: w.Dialect, EventTypes: types, MaxAttempts: w.MaxAttempts,
		InactiveAfterFailures: w.InactiveAfterFailures, NotifyEmail: w.NotifyEmail, Headers: w.Headers, Enabled: &enabled}
}

// applyWebhook copies b onto w. A vendor dialect's event names are kept as
// the subscription's dialect types, and the core events they are made of
// select what is delivered.
//
// A subscription that becomes a vendor dialect's (created so, or moved to it)
// takes that dialect's defaults where the body left them zero: a Voiso
// subscription gets Voiso's inactive rule whichever API made it.
func (a *API) applyWebhook(b *webhookBody, w *switchboard.Webhook) error {
	becomes := w.Dialect != b.Dialect
	w.Name, w.URL, w.Method, w.Dialect, w.EventTypes, w.DialectTypes = b.Name, b.URL, b.Method, b.Dialect, b.EventTypes, nil
	w.MaxAttempts, w.NotifyEmail, w.Headers = b.MaxAttempts, b.NotifyEmail, b.Headers
	w.InactiveAfterFailures = b.InactiveAfterFailures
	w.Enabled = b.Enabled == nil || *b.Enabled
	if defaults := a.opt.DialectDefaults[b.Dialect]; becomes && defaults != nil {
		defaults(w)
	}
	vocabulary, vendor := a.opt.DialectEvents[b.Dialect]
	if !vendor {
		return nil
	}
	if len(b.EventTypes) == 0 {
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"event_types": "a " + b.Dialect + " subscription names its events in " + b.Dialect + "'s words"}}
	}
	if name := w.SetDialectTypes(vocabulary, b.EventTypes...); name != "" {
		names := slices.Sorted(maps.Keys(vocabulary))
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"event_types": name + " is not a " + b.Dialect + " event; use " + strings.Join(names, ", ")}}
	}
	return nil
}

// createdWebhook is a subscription with its signing secret, shown when it is
// created or rotated and never again.
type createdWebhook struct {
	switchboard.Webhook
	Secret string `json:"secret"`
}

type replayBody struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
}

type replayResult struct {
	Queued int `json:"queued"`
}

// secretOverlap is how long a rotated-out secret keeps signing.
const secretOverlap = 24 * time.Hour

func (a *API) webhookRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeWebhooksRead, switchboard.ScopeWebhooksManage
	check := func(ctx context.Context, w switchboard.Webhook) error {
		if a.opt.WebhookPolicy == nil {
			return nil
		}
		return a.opt.WebhookPolicy.CheckWebhook(ctx, w)
	}
	handle(a, route{Method: "GET", Path: "/v1/webhooks", Summary: "List webhook subscriptions", Tag: "Webhooks", Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.Webhook], error) {
			return s.Webhooks(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/webhooks", Summary: "Subscribe a URL to events; the response holds the signing secret, shown only once", Tag: "Webhooks", Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *webhookBody) (createdWebhook, error) {
			var w switchboard.Webhook
			if err := a.applyWebhook(in, &w); err != nil {
				return createdWebhook{}, err
			}
			if !w.Enabled {
				w.DisabledReason = "disabled by the tenant"
			}
			w.Normalize()
			if err := w.Validate(); err != nil {
				return createdWebhook{}, err
			}
			if err := check(ctx, w); err != nil {
				return createdWebhook{}, err
			}
			w, err := s.CreateWebhook(ctx, c.tenantID(), w)
			return createdWebhook{Webhook: w, Secret: w.Secret}, err
		})
	get := byID(s.Webhook)
	handle(a, route{Method: "GET", Path: "/v1/webhooks/{id}", Summary: "Get a webhook subscription with its delivery statistics", Tag: "Webhooks", Scope: read}, getter(get))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/webhooks/{id}", Summary: "Update, disable or re-enable a webhook subscription", Tag: "Webhooks", Scope: manage},
		patch[webhookBody, switchboard.Webhook]{
			update: updater(s.UpdateWebhookFunc),
			toBody: webhookToBody,
			apply:  func(in *webhookBody, w *switchboard.Webhook) error { return a.applyWebhook(in, w) },
			// Every update is checked whole, as a creation is: the policy
			// may have changed since the subscription was written. The
			// policy resolves names, so it vets the merge before the
			// transaction, which stores it only if it is still the same.
			get: get,
			vetKey: func(w switchboard.Webhook) any {
				return []any{w.URL, w.EventTypes, w.DialectTypes, w.Headers} // what the policy reads, and more
			},
			vet: func(ctx context.Context, c *call, w switchboard.Webhook) error {
				w.Normalize()
				if err := w.Validate(); err != nil {
					return err
				}
				return check(ctx, w)
			},
		})
	handle(a, route{Method: "DELETE", Path: "/v1/webhooks/{id}", Summary: "Delete a webhook subscription and its delivery log", Tag: "Webhooks", Scope: manage, Status: http.StatusNoContent},
		deleter(s.DeleteWebhook))
	handle(a, route{Method: "POST", Path: "/v1/webhooks/{id}/rotate_secret", Summary: "Replace the signing secret; the old one keeps signing beside it for 24 hours", Tag: "Webhooks", Scope: manage},
		func(ctx context.Context, c *call, _ *noBody) (createdWebhook, error) {
			id, err := c.pathID("id")
			if err != nil {
				return createdWebhook{}, err
			}
			w, err := s.RotateWebhookSecret(ctx, c.tenantID(), id, secretOverlap)
			return createdWebhook{Webhook: w, Secret: w.Secret}, err
		})
	handle(a, route{Method: "POST", Path: "/v1/webhooks/{id}/replay", Summary: "Send again every event of a time range that the subscription wants", Tag: "Webhooks", Scope: manage, Status: http.StatusAccepted},
		func(ctx context.Context, c *call, in *replayBody) (replayResult, error) {
			w, err := get(ctx, c)
			if err != nil {
				return replayResult{}, err
			}
			p := switchboard.Problems{}
			if in.Since.IsZero() {
				p.Add("since", "is required")
			}
			if in.Until.IsZero() {
				p.Add("until", "is required")
			}
			if err := p.Err(); err != nil {
				return replayResult{}, err
			}
			n, err := s.ReplayWebhook(ctx, c.tenantID(), w.ID, in.Since, in.Until)
			return replayResult{Queued: n}, err
		})
	handle(a, route{Method: "GET", Path: "/v1/webhook_deliveries", Summary: "The delivery log, newest last", Tag: "Webhooks", Scope: read, Paged: true,
		Query: []param{{"webhook_id", "integer", "only deliveries to this subscription"},
			{"status", "string", "pending, succeeded or failed"},
			{"since", "string", "created at or after this RFC 3339 time"}, {"until", "string", "created before this RFC 3339 time"}}},
		func(ctx context.Context, c *call, _ *noBody) (listBody[switchboard.Delivery], error) {
			var f switchboard.DeliveryFilter
			var err error
			if f.WebhookID, err = c.queryInt("webhook_id"); err != nil {
				return listBody[switchboard.Delivery]{}, err
			}
			f.Status = switchboard.DeliveryStatus(c.r.URL.Query().Get("status"))
			switch f.Status {
			case "", switchboard.DeliveryPending, switchboard.DeliverySucceeded, switchboard.DeliveryFailed, switchboard.DeliverySkipped:
			default:
				return listBody[switchboard.Delivery]{}, badParam("status", "must be pending, succeeded, failed or skipped")
			}
			if f.Since, err = c.queryTime("since"); err != nil {
				return listBody[switchboard.Delivery]{}, err
			}
			if f.Until, err = c.queryTime("until"); err != nil {
				return listBody[switchboard.Delivery]{}, err
			}
			opt, err := c.listOptions()
			if err != nil {
				return listBody[switchboard.Delivery]{}, err
			}
			p, err := s.Deliveries(ctx, c.tenantID(), f, opt)
			return toList(p, opt), err
		})
	handle(a, route{Method: "GET", Path: "/v1/webhook_deliveries/{id}", Summary: "One delivery with every attempt", Tag: "Webhooks", Scope: read},
		getter(byID(s.Delivery)))
	a.webhookFailureRoutes()
	handle(a, route{Method: "POST", Path: "/v1/webhook_deliveries/{id}/retry", Summary: "Send one delivery again, with a fresh attempt budget and the same webhook-id", Tag: "Webhooks", Scope: manage},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.Delivery, error) {
			id, err := c.pathID("id")
			if err != nil {
				return switchboard.Delivery{}, err
			}
			return s.RetryDelivery(ctx, c.tenantID(), id)
		})
}

func badParam(name, reason string) error {
	return &switchboard.Error{Code: switchboard.CodeBadRequest, Message: name + " " + reason, Fields: map[string]string{name: reason}}
}

// queryTime parses an optional RFC 3339 query parameter.
func (c *call) queryTime(name string) (*time.Time, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, badParam(name, "must be an RFC 3339 time such as 2026-11-27T10:00:00Z")
	}
	return &t, nil
}

// webhookFailureRoutes serve the events that did not reach a subscription
// (switchboard.WebhookFailure): newest first, one by one, and retriggered.
// They are not in the response cache: they change as deliveries fail, and
// the delivery log beside them is not cached either.
func (a *API) webhookFailureRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeWebhooksRead, switchboard.ScopeWebhooksManage
	handle(a, route{Method: "GET", Path: "/v1/webhook_failures", Summary: "Events that did not reach a subscription, newest first", Tag: "Webhooks", Scope: read, Paged: true,
		Query: []param{{"webhook_id", "integer", "only failures of this subscription"},
			{"event_type", "string", "only failures of this event type"},
			{"status", "string", "failed, retriggered or delivered"},
			{"since", "string", "created at or after this RFC 3339 time"}, {"until", "string", "created before this RFC 3339 time"}}},
		func(ctx context.Context, c *call, _ *noBody) (listBody[switchboard.WebhookFailure], error) {
			var f switchboard.WebhookFailureFilter
			var err error
			if f.WebhookID, err = c.queryInt("webhook_id"); err != nil {
				return listBody[switchboard.WebhookFailure]{}, err
			}
			q := c.r.URL.Query()
			f.EventType, f.Status = q.Get("event_type"), switchboard.WebhookFailureStatus(q.Get("status"))
			if f.Since, err = c.queryTime("since"); err != nil {
				return listBody[switchboard.WebhookFailure]{}, err
			}
			if f.Until, err = c.queryTime("until"); err != nil {
				return listBody[switchboard.WebhookFailure]{}, err
			}
			if err := f.Validate(); err != nil {
				return listBody[switchboard.WebhookFailure]{}, err
			}
			opt, err := c.listOptions()
			if err != nil {
				return listBody[switchboard.WebhookFailure]{}, err
			}
			p, err := s.WebhookFailures(ctx, c.tenantID(), f, opt)
			return toList(p, opt), err
		})
	handle(a, route{Method: "GET", Path: "/v1/webhook_failures/{id}", Summary: "One webhook failure with what was sent and what came back", Tag: "Webhooks", Scope: read},
		getter(byID(s.WebhookFailure)))
	handle(a, route{Method: "POST", Path: "/v1/webhook_failures/{id}/retrigger", Summary: "Send a failed event again now, even while its type is inactive; once delivered its type is active again", Tag: "Webhooks", Scope: manage},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.WebhookFailure, error) {
			id, err := c.pathID("id")
			if err != nil {
				return switchboard.WebhookFailure{}, err
			}
			return s.RetriggerWebhookFailure(ctx, c.tenantID(), id)
		})
}
