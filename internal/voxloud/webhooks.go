package voxloud

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/internal/webhook"
)

// The Voxloud event types and the core events each is made from. The renderer
// passes over the events of those types a subscription does not take (an
// inbound call's creation for CALL_STARTED, a click-to-call's record for
// PHONE_CALL).
var eventTypes = map[string][]string{
	"CALL_INCOMING": {switchboard.EventCallRinging},
	"CALL_STARTED":  {switchboard.EventCallCreated, switchboard.EventCallDialing},
	"CALL_ANSWERED": {switchboard.EventCallConnected},
	"CALL_HANGUP":   {switchboard.EventCallEnded},
	"PHONE_CALL":    {switchboard.EventCallEnded},
	"CLICK_TO_CALL": {switchboard.EventCallEnded},
	"FAX_CALL":      {switchboard.EventCallEnded},
}

// EventTypes returns the Voxloud webhook event types with the core event
// types each is made of.
func EventTypes() map[string][]string { return maps.Clone(eventTypes) }

// eventTypeNames lists the Voxloud event types in the document's order.
var eventTypeNames = []string{"FAX_CALL", "PHONE_CALL", "CLICK_TO_CALL", "CALL_STARTED", "CALL_INCOMING", "CALL_ANSWERED", "CALL_HANGUP"}

// recordDelaySeconds holds call records back after the call's end, as
// Voxloud does ("a delay of some seconds ... due to the processing of some
// additional data"), so that they arrive after the call's real-time events.
const recordDelaySeconds = 2

// SourceClickToCall marks the calls placed by a click-to-call link
// (Call.Source.System); their records are CLICK_TO_CALL events.
const SourceClickToCall = "click_to_call"

// subscriptionBody is a webhook subscription as Voxloud writes it.
type subscriptionBody struct {
	ID                string `json:"id,omitempty"`
	CallbackURL       string `json:"callback_url"`
	EventType         string `json:"event_type"`
	Enabled           *bool  `json:"enabled,omitempty"`
	NotificationEmail string `json:"notification_email,omitempty"`
}

// subscriptionOut is a subscription as Voxloud renders it.
type subscriptionOut struct {
	ID                string `json:"id"`
	Enabled           bool   `json:"enabled"`
	EventType         string `json:"event_type"`
	FailedCount       int64  `json:"failed_count"`
	CallbackURL       string `json:"callback_url"`
	NotificationEmail string `json:"notification_email,omitempty"`
	LastError         string `json:"last_error,omitempty"`
}

func renderSubscription(w switchboard.Webhook) subscriptionOut {
	return subscriptionOut{ID: w.UUID, Enabled: w.Enabled, EventType: w.DialectType(), FailedCount: w.FailedCount,
		CallbackURL: w.URL, NotificationEmail: w.NotifyEmail, LastError: w.LastError}
}

// apply copies the body onto w and checks what only this dialect knows.
func (a *API) apply(ctx context.Context, in *subscriptionBody, w *switchboard.Webhook) error {
	p := switchboard.Problems{}
	w.SetDialectType(p, "event_type", eventTypes, eventTypeNames, in.EventType)
	if strings.TrimSpace(in.CallbackURL) == "" {
		p.Add("callback_url", "is required")
	}
	if err := p.Err(); err != nil {
		return err
	}
	w.URL, w.Method, w.Dialect = strings.TrimSpace(in.CallbackURL), http.MethodPost, Name
	w.DelaySeconds = 0
	if t := w.DialectType(); t == "PHONE_CALL" || t == "CLICK_TO_CALL" || t == "FAX_CALL" {
		w.DelaySeconds = recordDelaySeconds
	}
	w.NotifyEmail = in.NotificationEmail
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
	}
	if a.opt.WebhookPolicy != nil {
		// Names "url", which errors render as callback_url.
		return a.opt.WebhookPolicy.CheckWebhook(ctx, *w)
	}
	return nil
}

// subscription finds the tenant's Voxloud subscription with the given UUID.
func (a *API) subscription(ctx context.Context, tenantID int64, id string) (switchboard.Webhook, error) {
	hooks, err := a.subscriptions(ctx, tenantID)
	if err != nil {
		return switchboard.Webhook{}, err
	}
	for _, w := range hooks {
		if w.UUID == id {
			return w, nil
		}
	}
	return switchboard.Webhook{}, switchboard.Errorf(switchboard.CodeNotFound, "webhook subscription %s not found", switchboard.Echo(id))
}

// subscriptions lists the tenant's webhooks of this dialect.
func (a *API) subscriptions(ctx context.Context, tenantID int64) ([]switchboard.Webhook, error) {
	hooks, err := switchboard.All(ctx, a.opt.Store.Webhooks, tenantID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(hooks, func(w switchboard.Webhook) bool { return w.Dialect != Name }), nil
}

func (a *API) webhookRoutes() {
	const base = "/api/v1/webhook-subscriptions"
	handle(a, route{Method: "POST", Path: base, Summary: "Create a webhook subscription", Scope: switchboard.ScopeWebhooksManage},
		func(ctx context.Context, c *call, in *subscriptionBody) (subscriptionOut, error) {
			w := switchboard.Webhook{Enabled: true}
			if err := a.apply(ctx, in, &w); err != nil {
				return subscriptionOut{}, err
			}
			if !w.Enabled {
				w.DisabledReason = "disabled by the tenant"
			}
			w, err := a.opt.Store.CreateWebhook(ctx, c.tenantID(), w)
			return renderSubscription(w), err
		})
	// update checks the new settings against the subscription as read (the
	// policy resolves names, so not inside the store's transaction) and then
	// applies what it changed to the subscription as stored, in the
	// transaction that writes it: a concurrent change of a setting this
	// request leaves alone is not undone.
	update := func(ctx context.Context, c *call, in *subscriptionBody) (subscriptionOut, error) {
		read, err := a.subscription(ctx, c.tenantID(), c.r.PathValue("id"))
		if err != nil {
			return subscriptionOut{}, err
		}
		if in.ID != "" && in.ID != read.UUID {
			return subscriptionOut{}, invalid("id", "does not match the subscription in the path")
		}
		if in.NotificationEmail == "" {
			in.NotificationEmail = read.NotifyEmail // the document's update example leaves it out
		}
		w := read.Clone()
		if err := a.apply(ctx, in, &w); err != nil {
			return subscriptionOut{}, err
		}
		w, err = a.opt.Store.UpdateWebhookFunc(ctx, c.tenantID(), read.ID, func(cur *switchboard.Webhook) error {
			cur.ApplyChanges(read, w)
			return nil
		})
		return renderSubscription(w), err
	}
	for _, m := range []string{"PUT", "POST"} {
		handle(a, route{Method: m, Path: base + "/{id}", Summary: "Update a webhook subscription", Scope: switchboard.ScopeWebhooksManage}, update)
	}
	handle(a, route{Method: "GET", Path: base, Summary: "List the webhook subscriptions", Scope: switchboard.ScopeWebhooksRead},
		func(ctx context.Context, c *call, _ *noBody) ([]subscriptionOut, error) {
			hooks, err := a.subscriptions(ctx, c.tenantID())
			out := make([]subscriptionOut, len(hooks))
			for i, w := range hooks {
				out[i] = renderSubscription(w)
			}
			return out, err
		})
	handle(a, route{Method: "GET", Path: base + "/{id}", Summary: "Get a webhook subscription", Scope: switchboard.ScopeWebhooksRead},
		func(ctx context.Context, c *call, _ *noBody) (subscriptionOut, error) {
			w, err := a.subscription(ctx, c.tenantID(), c.r.PathValue("id"))
			return renderSubscription(w), err
		})
	handle(a, route{Method: "DELETE", Path: base + "/{id}", Summary: "Delete a webhook subscription", Scope: switchboard.ScopeWebhooksManage,
		Status: http.StatusNoContent},
		func(ctx context.Context, c *call, _ *noBody) (noContent, error) {
			w, err := a.subscription(ctx, c.tenantID(), c.r.PathValue("id"))
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, a.opt.Store.DeleteWebhook(ctx, c.tenantID(), w.ID)
		})
}

// envelope is every Voxloud webhook: the time in epoch milliseconds, the
// subscription's event type, the event's data and the PBX (tenant) id.
type envelope struct {
	Timestamp int64  `json:"timestamp"`
	Type      string `json:"type"`
	Data      any    `json:"data"`
	PBXID     int64  `json:"pbx_id"`
}

// phoneCallEvent is the data of a real-time call event.
type phoneCallEvent struct {
	Timestamp         int64  `json:"timestamp"`
	CallID            string `json:"callId"`
	DestinationNumber string `json:"destinationNumber"`
	DestinationName   string `json:"destinationName"`
	OriginatorNumber  string `json:"originatorNumber"`
	OriginatorName    string `json:"originatorName"`
	Type              string `json:"type"`
	UserEmail         string `json:"userEmail,omitempty"`
	UserExtension     *int64 `json:"userExtension,omitempty"`
	SIPUsername       string `json:"sipUsername,omitempty"`
}

// faxEvent is the data of a FAX_CALL webhook. Description exists for
// outbound faxes only, which Switchboard does not send.
type faxEvent struct {
	ID            int64  `json:"id"`
	Timestamp     int64  `json:"timestamp"`
	Direction     string `json:"direction"`
	Sender        string `json:"sender"`
	Recipient     string `json:"recipient"`
	AttachmentURL string `json:"attachment_url"`
	TotalPages    int    `json:"total_pages"`
	Description   string `json:"description,omitempty"`
}

// Renderer renders the Voxloud webhook payloads; the dispatcher calls it for
// every delivery of a voxloud subscription.
type Renderer struct {
	API *API
}

var _ webhook.Renderer = Renderer{}

// Render implements webhook.Renderer.
func (r Renderer) Render(ctx context.Context, w switchboard.Webhook, e switchboard.Event) ([]byte, error) {
	return webhook.FirstTaker(w, func(typ string) ([]byte, error) { return r.render(typ, e) })
}

// render renders e as a webhook of type typ, or passes it over. It reads
// nothing but the event: names are those the event recorded, so a retried
// delivery renders the same bytes as the first.
func (r Renderer) render(typ string, e switchboard.Event) ([]byte, error) {
	if e.SubjectType != "call" || !slices.Contains(eventTypes[typ], e.Type) {
		return nil, webhook.ErrSkip
	}
	var p switchboard.CallEventPayload
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return nil, fmt.Errorf("voxloud: call event %d: %w", e.ID, err)
	}
	c := p.Call(e.TenantID)
	c.ID = e.SubjectID
	clickToCall, fax := c.Source.System == SourceClickToCall, c.Media == switchboard.MediaFax
	if fax != (typ == "FAX_CALL") {
		return nil, webhook.ErrSkip // faxes are FAX_CALL events only
	}
	var data any
	switch typ {
	case "FAX_CALL":
		data = faxEvent{ID: c.ID, Timestamp: e.Time.UnixMilli(), Direction: string(c.Direction), Sender: c.From, Recipient: c.To,
			AttachmentURL: strings.TrimRight(r.API.opt.PublicURL, "/") + "/api/v1/telephony-events/" + strconv.FormatInt(c.ID, 10) + "/attachment",
			TotalPages:    c.FaxPages}
	case "CALL_INCOMING", "CALL_STARTED", "CALL_ANSWERED", "CALL_HANGUP":
		if (typ == "CALL_INCOMING" && c.Direction != switchboard.Inbound) || (typ == "CALL_STARTED" && c.Direction == switchboard.Inbound) {
			return nil, webhook.ErrSkip
		}
		data = phoneCall(p, typ, e)
	case "PHONE_CALL", "CLICK_TO_CALL":
		if clickToCall != (typ == "CLICK_TO_CALL") {
			return nil, webhook.ErrSkip
		}
		ev := r.API.telephonyEvent(switchboard.NewCDR(c), agentOf(p.Agent), contactOf(p.Customer), accountID(c.TenantID))
		ev.Timestamp = e.Time.UnixMilli()
		data = ev
	default:
		return nil, webhook.ErrSkip
	}
	return json.Marshal(envelope{Timestamp: e.Time.UnixMilli(), Type: typ, Data: data, PBXID: e.TenantID})
}

// phoneCall renders a real-time event from its call event. Its user is the
// agent the event is about: the first agent being rung for INCOMING, the
// call's agent otherwise.
func phoneCall(p switchboard.CallEventPayload, typ string, e switchboard.Event) phoneCallEvent {
	out := phoneCallEvent{Timestamp: e.Time.UnixMilli(), CallID: p.UUID, Type: strings.TrimPrefix(typ, "CALL_"),
		OriginatorNumber: p.From, OriginatorName: p.From, DestinationNumber: p.To, DestinationName: p.To}
	agent := p.Agent
	if typ == "CALL_INCOMING" && len(p.Ringing) > 0 {
		agent = &p.Ringing[0]
	}
	if agent != nil {
		out.UserEmail, out.SIPUsername, out.UserExtension = agent.Email, agent.SIPUsername, extensionNumber(agent.Extension)
	}
	contact := p.Customer
	if p.Direction == switchboard.Inbound {
		if contact != nil {
			out.OriginatorName = contactName(*contact)
		}
		if agent != nil {
			out.DestinationName = agent.Name()
		}
	} else {
		if agent != nil {
			out.OriginatorName = agent.Name()
		}
		if contact != nil {
			out.DestinationName = contactName(*contact)
		}
	}
	return out
}

func extensionNumber(ext string) *int64 {
	var n int64
	if _, err := fmt.Sscan(ext, &n); err != nil || ext == "" {
		return nil
	}
	return &n
}

func contactName(c switchboard.ContactRef) string {
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}
