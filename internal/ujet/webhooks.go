package ujet

// The chat platform's webhooks (spec §2.8): events of a chat POSTed to the
// consumer, signed with X-Signature: primary=<b64> secondary=<b64> and
// X-Signature-Timestamp, each signature base64(HMAC-SHA256(secret,
// timestamp + raw JSON body)). Subscriptions are made through the native
// API with dialect "ujet" and these event names; the subscription's secret
// (as shown when it was created or rotated) is the primary secret, the one
// rotated out the secondary while it is still valid.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/webhook"
)

// eventTypes are UJET's chat webhook events and the core events each is
// made of.
var eventTypes = map[string][]string{
	"chat_created":       {switchboard.EventConversationCreated},
	"chat_assigned":      {switchboard.EventConversationAssigned},
	"chat_connected":     {switchboard.EventConversationInProgress},
	"message_received":   {switchboard.EventMessageReceived, switchboard.EventMessageSent},
	"escalation_created": {switchboard.EventConversationEscalated},
	"escalation_updated": {switchboard.EventConversationEscalationUpdated},
	"chat_deflected":     {switchboard.EventConversationDeflected},
	"chat_dismissed":     {switchboard.EventConversationDismissed},
	"chat_ended":         {switchboard.EventConversationFinished, switchboard.EventConversationAbandoned},
}

// EventTypes maps the dialect's webhook event names to core event types.
func EventTypes() map[string][]string {
	out := maps.Clone(eventTypes)
	for k, v := range out {
		out[k] = slices.Clone(v)
	}
	return out
}

func (a *API) renderer() webhook.Renderer { return &Renderer{API: a} }

// Renderer renders the chat webhooks and signs them UJET's way.
type Renderer struct {
	API *API
}

var _ webhook.SigningRenderer = (*Renderer)(nil)

// WebhookEvent is every chat webhook's body: the event, when it happened,
// the chat's id, and the object it is about (the chat, the message or the
// escalation).
type WebhookEvent struct {
	EventType  string          `json:"event_type"`
	Timestamp  string          `json:"timestamp"`
	ChatID     int64           `json:"chat_id"`
	Chat       *Chat           `json:"chat,omitempty"`
	Message    *ChatMessageOut `json:"message,omitempty"`
	Escalation *EscalationOut  `json:"escalation,omitempty"`
}

// Render implements webhook.Renderer.
func (r *Renderer) Render(ctx context.Context, w switchboard.Webhook, e switchboard.Event) ([]byte, error) {
	return webhook.FirstTaker(w, func(typ string) ([]byte, error) { return r.render(ctx, typ, e) })
}

// render renders e as event typ, or passes it over (webhook.ErrSkip).
func (r *Renderer) render(ctx context.Context, typ string, e switchboard.Event) ([]byte, error) {
	if !slices.Contains(eventTypes[typ], e.Type) {
		return nil, webhook.ErrSkip
	}
	out := WebhookEvent{EventType: typ, Timestamp: millis(e.Time)}
	switch e.SubjectType {
	case "conversation":
		var p switchboard.ConversationEventPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return nil, fmt.Errorf("ujet: conversation event %d: %w", e.ID, err)
		}
		tree, err := loadMenus(ctx, r.API.opt.Store, e.TenantID)
		if err != nil {
			return nil, err
		}
		who := people{}
		if ag := personOf(p.Agent); ag != nil {
			who[ag.ID] = *ag
		}
		chat := newChat(&p.Conversation, tree, who)
		out.ChatID, out.Chat = p.Conversation.ID, &chat
	case "conversation_message":
		var p switchboard.ConversationMessagePayload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return nil, fmt.Errorf("ujet: message event %d: %w", e.ID, err)
		}
		m := p.Message
		switch m.Kind {
		case switchboard.KindNote, switchboard.KindActivity:
			return nil, webhook.ErrSkip // agents' notes and system lines are not the consumer's
		}
		from, sender := &p.EndUserID, "end_user"
		switch {
		case m.Direction == switchboard.Outbound && m.AgentID != nil:
			from, sender = m.AgentID, "agent"
		case m.Direction == switchboard.Outbound:
			from, sender = nil, "system"
		}
		msg := messageOut(m, from, sender)
		msg.ChatID = p.ConversationID
		out.ChatID, out.Message = p.ConversationID, &msg
	case "conversation_escalation":
		var esc switchboard.ConversationEscalation
		if err := json.Unmarshal(e.Payload, &esc); err != nil {
			return nil, fmt.Errorf("ujet: escalation event %d: %w", e.ID, err)
		}
		eo := escalationOut(esc)
		out.ChatID, out.Escalation = esc.ConversationID, &eo
	default:
		return nil, webhook.ErrSkip
	}
	return json.Marshal(out)
}

// SignatureHeaders implements webhook.SigningRenderer: X-Signature-Timestamp
// is the time of sending in Unix seconds; X-Signature carries primary=
// (the current secret) and, while a rotated-out secret is still valid,
// secondary=.
func (r *Renderer) SignatureHeaders(secrets []string, now time.Time, body []byte) (http.Header, error) {
	return SignatureHeaders(secrets, now, body), nil
}

// SignatureHeaders signs body as UJET signs its chat webhooks, with the
// primary and (when given) secondary secret.
func SignatureHeaders(secrets []string, now time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(now.Unix(), 10)
	var parts []string
	for i, s := range secrets {
		if i > 1 {
			break
		}
		name := "primary"
		if i == 1 {
			name = "secondary"
		}
		parts = append(parts, name+"="+Signature(s, ts, body))
	}
	h := http.Header{}
	h.Set("X-Signature", strings.Join(parts, " "))
	h.Set("X-Signature-Timestamp", ts)
	return h
}

// Signature is base64(HMAC-SHA256(secret, timestamp + body)), the key being
// the secret's bytes as the subscriber holds it.
func Signature(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
