package voice360

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/webhook"
)

// The Voice360 event types and the core events each is made from; the
// renderer passes over the events of those types a subscription does not
// take (an outbound call's creation for INCOMING_EXTERNAL_CALL, say).
var eventTypes = map[string][]string{
	"INCOMING_EXTERNAL_CALL": {switchboard.EventCallCreated},
	"CALL_ENDED":             {switchboard.EventCallEnded},
	"USER_DIAL":              {switchboard.EventCallCreated},
	"USER_ANSWER":            {switchboard.EventCallConnected},
	"USER_HANGUP":            {switchboard.EventCallEnded},
	"SMS_RECEIVED":           {switchboard.EventSMSReceived},
	"SMS_SENT":               {switchboard.EventSMSSent},
	"SMS_DELIVERED":          {switchboard.EventSMSDelivered},
	"QUEUE_NO_ANSWER":        {switchboard.EventCallEnded},
	"QUEUE_HANGUP_TIMEOUT":   {switchboard.EventCallEnded},
	"QUEUE_HANGUP_ABANDONED": {switchboard.EventCallEnded},
}

// EventTypes returns the Voice360 webhook event types with the core event
// types each is made of.
func EventTypes() map[string][]string { return maps.Clone(eventTypes) }

// eventTypeNames lists the event types in the document's order.
var eventTypeNames = []string{"INCOMING_EXTERNAL_CALL", "CALL_ENDED", "USER_DIAL", "USER_ANSWER", "USER_HANGUP",
	"SMS_RECEIVED", "SMS_SENT", "SMS_DELIVERED", "QUEUE_NO_ANSWER", "QUEUE_HANGUP_TIMEOUT", "QUEUE_HANGUP_ABANDONED"}

// subscriptionBody configures a webhook as Voice360's portal does.
type subscriptionBody struct {
	Name       string `json:"name"`
	URL        string `json:"url"`
	EventType  string `json:"event_type"`
	HTTPMethod string `json:"http_method"`
	// Retries is how many times a delivery is tried, 1-5 (default 3).
	Retries int   `json:"retries" range:"0,5"`
	Enabled *bool `json:"enabled,omitempty"`
}

// subscription is a webhook as this dialect shows it.
type subscription struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	EventType   string `json:"event_type"`
	HTTPMethod  string `json:"http_method"`
	Retries     int    `json:"retries"`
	Enabled     bool   `json:"enabled"`
	FailedCount int64  `json:"failed_count"`
	LastError   string `json:"last_error"`
	CreatedAt   string `json:"created_at"`
}

func renderSubscription(w switchboard.Webhook) subscription {
	return subscription{ID: w.ID, Name: w.Name, URL: w.URL, EventType: w.DialectType(), HTTPMethod: w.Method, Retries: w.MaxAttempts,
		Enabled: w.Enabled, FailedCount: w.FailedCount, LastError: w.LastError, CreatedAt: w.CreatedAt.UTC().Format(time.RFC3339)}
}

func (a *API) apply(ctx context.Context, in *subscriptionBody, w *switchboard.Webhook) error {
	p := switchboard.Problems{}
	w.SetDialectType(p, "event_type", eventTypes, eventTypeNames, in.EventType)
	if strings.TrimSpace(in.URL) == "" {
		p.Add("url", "is required")
	}
	method := strings.ToUpper(strings.TrimSpace(in.HTTPMethod))
	if method == "" {
		method = http.MethodPost
	}
	if method != http.MethodPost && method != http.MethodGet {
		p.Add("http_method", "must be GET or POST")
	}
	if in.Retries == 0 {
		in.Retries = 3
	}
	if in.Retries < 1 || in.Retries > 5 {
		p.Add("retries", "must be between 1 and 5")
	}
	if err := p.Err(); err != nil {
		return err
	}
	w.Name, w.URL, w.Method, w.Dialect, w.MaxAttempts = strings.TrimSpace(in.Name), strings.TrimSpace(in.URL), method, Name, in.Retries
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
	}
	if a.opt.WebhookPolicy != nil {
		return a.opt.WebhookPolicy.CheckWebhook(ctx, *w)
	}
	return nil
}

func (a *API) subscription(ctx context.Context, c *call) (switchboard.Webhook, error) {
	id, err := httpapi.PathID(c.r, "id")
	if err != nil {
		return switchboard.Webhook{}, err
	}
	w, err := a.opt.Store.Webhook(ctx, c.tenant.ID, id)
	if err == nil && w.Dialect != Name {
		err = switchboard.Errorf(switchboard.CodeNotFound, "Webhook %d not found", id)
	}
	return w, err
}

func (a *API) webhookRoutes() {
	handle(a, route{Method: "GET", Path: "/webhooks", Summary: "List the webhooks (a Switchboard extension: Voice360 configures them in its portal)",
		Access: developerKey, Scope: switchboard.ScopeWebhooksRead, Message: "List of webhooks"},
		func(ctx context.Context, c *call, _ *noBody) ([]subscription, error) {
			hooks, err := switchboard.All(ctx, a.opt.Store.Webhooks, c.tenant.ID)
			out := []subscription{}
			for _, w := range hooks {
				if w.Dialect == Name {
					out = append(out, renderSubscription(w))
				}
			}
			return out, err
		})
	handle(a, route{Method: "POST", Path: "/webhooks", Summary: "Create a webhook: name, URL, event type, GET or POST, retries 1-5",
		Access: developerKey, Scope: switchboard.ScopeWebhooksManage, Message: "Webhook created"},
		func(ctx context.Context, c *call, in *subscriptionBody) (subscription, error) {
			w := switchboard.Webhook{Enabled: true}
			if err := a.apply(ctx, in, &w); err != nil {
				return subscription{}, err
			}
			if !w.Enabled {
				w.DisabledReason = "disabled by the tenant"
			}
			w, err := a.opt.Store.CreateWebhook(ctx, c.tenant.ID, w)
			return renderSubscription(w), err
		})
	handle(a, route{Method: "GET", Path: "/webhooks/{id}", Summary: "Get a webhook", Access: developerKey, Scope: switchboard.ScopeWebhooksRead, Message: "Webhook details"},
		func(ctx context.Context, c *call, _ *noBody) (subscription, error) {
			w, err := a.subscription(ctx, c)
			return renderSubscription(w), err
		})
	handle(a, route{Method: "PUT", Path: "/webhooks/{id}", Summary: "Replace a webhook's settings", Access: developerKey, Scope: switchboard.ScopeWebhooksManage, Message: "Webhook updated"},
		// The new settings are checked against the webhook as read (the
		// policy resolves names, so not inside the store's transaction), and
		// what they change is applied to the webhook as stored, in the
		// transaction that writes it, so that a concurrent change of another
		// setting is not undone.
		func(ctx context.Context, c *call, in *subscriptionBody) (subscription, error) {
			read, err := a.subscription(ctx, c)
			if err != nil {
				return subscription{}, err
			}
			w := read.Clone()
			if err := a.apply(ctx, in, &w); err != nil {
				return subscription{}, err
			}
			w, err = a.opt.Store.UpdateWebhookFunc(ctx, c.tenant.ID, read.ID, func(cur *switchboard.Webhook) error {
				cur.ApplyChanges(read, w)
				return nil
			})
			return renderSubscription(w), err
		})
	handle(a, route{Method: "DELETE", Path: "/webhooks/{id}", Summary: "Delete a webhook", Access: developerKey, Scope: switchboard.ScopeWebhooksManage, Message: "Webhook deleted"},
		func(ctx context.Context, c *call, _ *noBody) (any, error) {
			w, err := a.subscription(ctx, c)
			if err != nil {
				return nil, err
			}
			return nil, a.opt.Store.DeleteWebhook(ctx, c.tenant.ID, w.ID)
		})
}

// Payload is every Voice360 webhook.
type Payload struct {
	EventName string `json:"event_name"`
	AccountID string `json:"account_id"`
	// Timestamp is the event's time in Unix seconds.
	Timestamp int64          `json:"timestamp"`
	Metadata  map[string]any `json:"metadata"`
}

// Renderer renders Voice360 webhook payloads; the dispatcher calls it for
// every delivery of a voice360 subscription.
type Renderer struct {
	// PublicURL is the base of recording links.
	PublicURL string
}

var _ webhook.Renderer = Renderer{}

// Render implements webhook.Renderer.
func (r Renderer) Render(ctx context.Context, w switchboard.Webhook, e switchboard.Event) ([]byte, error) {
	return webhook.FirstTaker(w, func(typ string) ([]byte, error) { return r.render(ctx, typ, e) })
}

// render renders e as a webhook of type typ, or passes it over.
func (r Renderer) render(ctx context.Context, typ string, e switchboard.Event) ([]byte, error) {
	if !slices.Contains(eventTypes[typ], e.Type) {
		return nil, webhook.ErrSkip
	}
	var meta map[string]any
	var err error
	switch e.SubjectType {
	case "call":
		meta, err = r.callMetadata(typ, e)
	case "message":
		meta, err = messageMetadata(typ, e)
	default:
		return nil, webhook.ErrSkip
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(Payload{EventName: typ, AccountID: strconv.FormatInt(e.TenantID, 10), Timestamp: e.Time.Unix(), Metadata: meta})
}

func messageMetadata(typ string, e switchboard.Event) (map[string]any, error) {
	var m switchboard.MessageEventPayload
	if err := json.Unmarshal(e.Payload, &m); err != nil {
		return nil, fmt.Errorf("voice360: message event %d: %w", e.ID, err)
	}
	meta := map[string]any{"from_number": m.From, "to_number": m.To, "body": m.Body, "message_id": m.UUID}
	switch typ {
	case "SMS_DELIVERED":
		if m.DeliveredAt != nil {
			meta["delivered_at"] = m.DeliveredAt.UTC().Format(time.RFC3339)
		}
	case "SMS_SENT":
		meta["status"] = string(m.Status)
	}
	return meta, nil
}

// callMetadata picks the call events a type takes and describes them from
// the event alone: names are those the event recorded, so a retried delivery
// renders the same bytes as the first.
func (r Renderer) callMetadata(typ string, e switchboard.Event) (map[string]any, error) {
	var p switchboard.CallEventPayload
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return nil, fmt.Errorf("voice360: call event %d: %w", e.ID, err)
	}
	c := p.Call(e.TenantID)
	c.ID = e.SubjectID
	inbound, queued, answered := c.Direction == switchboard.Inbound, c.QueueID != nil, c.ConnectedAt != nil
	take := map[string]bool{
		"INCOMING_EXTERNAL_CALL": inbound && c.ParentID == nil,
		"CALL_ENDED":             true,
		"USER_DIAL":              !inbound && c.AgentID != nil,
		"USER_ANSWER":            c.AgentID != nil,
		"USER_HANGUP":            !inbound && c.AgentID != nil,
		// Offered to agents, none of whom answered, and not given up by the
		// caller (a queue timeout after ringing is both this and the next).
		"QUEUE_NO_ANSWER":        queued && !answered && c.RingingAt != nil && c.Disposition != switchboard.DispositionAbandoned,
		"QUEUE_HANGUP_TIMEOUT":   queued && !answered && c.HangupCause == switchboard.CauseQueueTimeout,
		"QUEUE_HANGUP_ABANDONED": queued && !answered && c.Disposition == switchboard.DispositionAbandoned,
	}
	if !take[typ] {
		return nil, webhook.ErrSkip
	}
	meta := map[string]any{"call_id": c.UUID, "direction": string(c.Direction), "from_number": c.From, "to_number": c.To}
	if c.QueueID != nil {
		meta["queue_id"] = *c.QueueID
		if p.Queue != nil && p.Queue.Name != "" {
			meta["queue_name"] = p.Queue.Name
		}
	}
	if c.AgentID != nil {
		meta["user_id"] = *c.AgentID
		if u := p.Agent; u != nil {
			meta["extension"] = u.Extension
			meta["user_name"] = u.Name()
		}
	}
	if c.EndedAt != nil {
		rec := switchboard.NewCDR(c)
		meta["duration"] = int64(rec.TalkSeconds + 0.5)
		meta["wait_seconds"] = int64(rec.WaitSeconds + 0.5)
		meta["disposition"] = string(c.Disposition)
		meta["hangup_by"] = string(c.HangupBy)
		meta["hangup_cause"] = c.HangupCause
		if c.Recorded {
			meta["recording_url"] = strings.TrimRight(r.PublicURL, "/") + "/v1/calls/" + strconv.FormatInt(c.ID, 10) + "/recording"
		}
	}
	if slices.Contains([]string{"USER_ANSWER"}, typ) && c.ConnectedAt != nil {
		meta["answered_at"] = c.ConnectedAt.UTC().Format(time.RFC3339)
	}
	return meta, nil
}
