package voiso

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/webhook"
)

// eventTypes are Voiso's webhook events and the core events each is made
// of. The three call families share their core events; the renderer tells
// them apart by the call's kind (callKind) and passes over the calls of the
// other kinds.
var eventTypes = map[string][]string{
	"inbound.call.answered":    {switchboard.EventCallConnected},
	"inbound.call.hangup":      {switchboard.EventCallEnded},
	"inbound.call.ended":       {switchboard.EventCallWrappedUp},
	"outbound.call.answered":   {switchboard.EventCallConnected},
	"outbound.call.hangup":     {switchboard.EventCallEnded},
	"outbound.call.ended":      {switchboard.EventCallWrappedUp},
	"dialer.call.answered":     {switchboard.EventCallConnected},
	"dialer.call.hangup":       {switchboard.EventCallEnded},
	"dialer.call.ended":        {switchboard.EventCallWrappedUp},
	"message.received":         {switchboard.EventMessageReceived},
	"message.sent":             {switchboard.EventMessageSent},
	"conversation.ended":       {switchboard.EventConversationFinished},
	"call.analytics.available": {switchboard.EventCallAnalyticsAvailable},
}

// eventNames lists Voiso's events in the catalogue's order.
var eventNames = []string{
	"inbound.call.answered", "inbound.call.hangup", "inbound.call.ended",
	"outbound.call.answered", "outbound.call.hangup", "outbound.call.ended",
	"dialer.call.answered", "dialer.call.hangup", "dialer.call.ended",
	"message.received", "message.sent", "conversation.ended", "call.analytics.available",
}

// EventTypes returns Voiso's webhook events with the core event types each
// is made of.
func EventTypes() map[string][]string {
	out := maps.Clone(eventTypes)
	for k, v := range out {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// InactiveAfterFailures is Voiso's rule for a failing receiver: an event type
// of which this many deliveries failed within 24 hours is no longer sent
// until one of its failures is retriggered.
const InactiveAfterFailures = 5

var _ httpapi.WebhookDefaulter = (*API)(nil)

// WebhookDefaults implements httpapi.WebhookDefaulter: a subscription that
// becomes a Voiso one, whichever API makes it so, gets Voiso's inactive rule.
func (a *API) WebhookDefaults(w *switchboard.Webhook) {
	if w.InactiveAfterFailures == 0 {
		w.InactiveAfterFailures = InactiveAfterFailures
	}
}

// envelope is every Voiso webhook.
type envelope struct {
	Event           string `json:"event"`
	Object          string `json:"object"`
	Timestamp       string `json:"timestamp"`
	Secret          string `json:"secret"`
	ContactCenterID string `json:"contact_center_id"`
	Data            any    `json:"data"`
}

// agentOut is Voiso's agent object.
type agentOut struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Extension string `json:"extension"`
}

func agentOf(u *switchboard.UserRef) *agentOut {
	if u == nil {
		return nil
	}
	return &agentOut{ID: u.ID, Name: u.Name(), Email: u.Email, Extension: u.Extension}
}

// shown is a field that some payloads carry and others leave out; carried,
// it may be null. Voiso's call object has fields of one kind of call only
// (queue and script on inbound calls, ext_user_id on outbound ones).
type shown[T any] struct {
	on bool
	v  *T
}

func show[T any](v *T) shown[T] { return shown[T]{on: true, v: v} }

// IsZero reports a field left out (omitzero).
func (s shown[T]) IsZero() bool { return !s.on }

// MarshalJSON renders the value, or null.
func (s shown[T]) MarshalJSON() ([]byte, error) { return json.Marshal(s.v) }

// callDuration is the call object's duration breakdown, in whole seconds;
// which parts it has depends on the call's kind and the event.
type callDuration struct {
	Total         int        `json:"total"`
	QueueTime     shown[int] `json:"queue_time,omitzero"`
	DialingTime   shown[int] `json:"dialing_time,omitzero"`
	DialerWaiting shown[int] `json:"dialer_waiting,omitzero"`
	TalkTime      shown[int] `json:"talk_time,omitzero"`
}

// webhookCampaign is the campaign of a dialer call.
type webhookCampaign struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	IsLive bool   `json:"is_live"`
}

// callData is the call object of the call webhooks.
type callData struct {
	ID             string                 `json:"id"`
	Type           string                 `json:"type"`
	StartTime      string                 `json:"start_time"`
	AgentStartTime shown[string]          `json:"agent_start_time,omitzero"`
	Duration       callDuration           `json:"duration"`
	Queue          shown[string]          `json:"queue,omitzero"`
	Script         shown[string]          `json:"script,omitzero"`
	CallingNumber  string                 `json:"calling_number"`
	CalledNumber   string                 `json:"called_number"`
	ExtUserID      shown[string]          `json:"ext_user_id,omitzero"`
	ContactsURL    shown[string]          `json:"contacts_url,omitzero"`
	CDRURL         string                 `json:"cdr_url"`
	Agent          *agentOut              `json:"agent"`
	Campaign       shown[webhookCampaign] `json:"campaign,omitzero"`
	EndTime        shown[string]          `json:"end_time,omitzero"`
	Disposition    shown[string]          `json:"disposition,omitzero"`
	EndReason      shown[string]          `json:"end_reason,omitzero"`
	WrapupCode     shown[string]          `json:"wrapup_code,omitzero"`
}

// analyticsData is the data of call.analytics.available.
type analyticsData struct {
	ID      int64   `json:"id"`
	Summary string  `json:"summary"`
	Score   *string `json:"score"`
	Call    callRef `json:"call"`
}

// callRef links a call: its id and its record.
type callRef struct {
	ID     string `json:"id"`
	CDRURL string `json:"cdr_url"`
}

// Renderer renders Voiso's webhook payloads; the dispatcher calls it for
// every delivery of a voiso subscription. It reads the event and, once per
// tenant, the tenant's UUID (contact_center_id), which never changes; every
// name it shows is the one the event recorded, so a retried delivery sends
// the same body as the first.
type Renderer struct {
	API *API

	tenants sync.Map // tenant id → UUID
}

var _ webhook.Renderer = (*Renderer)(nil)

// Render implements webhook.Renderer.
// Ordered implements webhook.OrderedRenderer: Voiso receivers take a call's
// answered, hangup and ended in that order, so a subscription gets one
// delivery at a time.
func (r *Renderer) Ordered() bool { return true }

func (r *Renderer) Render(ctx context.Context, w switchboard.Webhook, e switchboard.Event) ([]byte, error) {
	return webhook.FirstTaker(w, func(typ string) ([]byte, error) { return r.render(ctx, w, typ, e) })
}

// render renders e as Voiso event typ, or passes it over (webhook.ErrSkip).
func (r *Renderer) render(ctx context.Context, w switchboard.Webhook, typ string, e switchboard.Event) ([]byte, error) {
	if !slices.Contains(eventTypes[typ], e.Type) {
		return nil, webhook.ErrSkip
	}
	var (
		object string
		data   any
		err    error
	)
	switch {
	case e.SubjectType == "call":
		object = "call"
		data, err = r.callData(typ, e)
	case e.SubjectType == "call_analytics":
		object = "analytics"
		data, err = r.analyticsData(e)
	case e.SubjectType == "conversation_message":
		object = "message"
		data, err = r.messageData(ctx, e)
	case e.SubjectType == "conversation":
		object = "conversation"
		data, err = r.conversationData(ctx, e)
	default:
		return nil, webhook.ErrSkip
	}
	if err != nil {
		return nil, err
	}
	cc, err := r.tenantUUID(ctx, e.TenantID)
	if err != nil {
		return nil, err
	}
	return json.Marshal(envelope{Event: typ, Object: object, Timestamp: seconds(e.Time), Secret: w.Secret,
		ContactCenterID: cc, Data: data})
}

// tenantUUID is the tenant's contact_center_id.
func (r *Renderer) tenantUUID(ctx context.Context, tenantID int64) (string, error) {
	if v, ok := r.tenants.Load(tenantID); ok {
		return v.(string), nil
	}
	t, err := r.API.opt.Store.Tenant(ctx, tenantID)
	if err != nil {
		return "", fmt.Errorf("voiso: contact center of tenant %d: %w", tenantID, err)
	}
	if t.UUID != "" {
		r.tenants.Store(tenantID, t.UUID)
	}
	return t.UUID, nil
}

// callKind is the family of Voiso call events a call's belong to: dialer when
// a campaign placed it, outbound when an agent or Start call did, inbound
// otherwise.
func callKind(p switchboard.CallEventPayload) string {
	switch {
	case p.Campaign != nil:
		return "dialer"
	case p.Direction == switchboard.Outbound:
		return "outbound"
	}
	return "inbound"
}

// callData renders a call event as the call object of event typ, or passes
// over a call of another kind.
func (r *Renderer) callData(typ string, e switchboard.Event) (any, error) {
	var p switchboard.CallEventPayload
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return nil, fmt.Errorf("voiso: call event %d: %w", e.ID, err)
	}
	kind, step, _ := strings.Cut(typ, ".call.")
	if callKind(p) != kind || p.Media == switchboard.MediaFax {
		return nil, webhook.ErrSkip // a fax is no Voiso call
	}
	c := p.Call(e.TenantID)
	c.ID = e.SubjectID
	return newCallData(r.API.opt.PublicURL, p, c, kind, step, e.Time), nil
}

// newCallData shapes call c of kind (inbound, outbound, dialer) as the call
// object of step (answered, hangup, ended) at time at.
func newCallData(publicURL string, p switchboard.CallEventPayload, c switchboard.Call, kind, step string, at time.Time) callData {
	until := at // answered: the moment the parties were connected
	if c.ConnectedAt != nil && step == "answered" {
		until = *c.ConnectedAt
	}
	if c.EndedAt != nil && step != "answered" {
		until = *c.EndedAt
	}
	dialing := until
	if c.ConnectedAt != nil && c.ConnectedAt.Before(dialing) {
		dialing = *c.ConnectedAt
	}
	d := callData{ID: c.UUID, Type: kind, StartTime: seconds(c.CreatedAt), CallingNumber: digits(c.From),
		CalledNumber: digits(c.To), CDRURL: cdrURL(publicURL, c.UUID), Agent: agentOf(p.Agent),
		Duration: callDuration{Total: wholeSeconds(until.Sub(c.CreatedAt))}}
	if kind != "outbound" && c.ConnectedAt != nil {
		d.AgentStartTime = show(ptr(seconds(*c.ConnectedAt)))
	}
	switch kind {
	case "inbound":
		d.Duration.QueueTime = show(ptr(wholeSeconds(c.Wait())))
		var queue *string
		if p.Queue != nil {
			queue = &p.Queue.Name
		}
		d.Queue, d.Script = show(queue), show[string](nil) // the core has no agent scripts
	case "outbound":
		d.Duration.DialingTime = show(ptr(wholeSeconds(dialing.Sub(c.CreatedAt))))
		var ext *string
		if c.Source.AccountID != "" {
			ext = &c.Source.AccountID
		}
		d.ExtUserID = show(ext)
	case "dialer":
		d.Duration.DialingTime = show(ptr(wholeSeconds(dialing.Sub(c.CreatedAt))))
		d.Duration.DialerWaiting = show(ptr(wholeSeconds(c.Wait())))
		d.ContactsURL = show(ptr(strings.TrimRight(publicURL, "/") + "/api/v4/campaigns/" + strconv.FormatInt(p.Campaign.ID, 10)))
		d.Campaign = show(&webhookCampaign{ID: p.Campaign.ID, Name: p.Campaign.Name})
	}
	if step != "answered" {
		d.Duration.TalkTime = show(ptr(wholeSeconds(c.Talk())))
		end := until
		d.EndTime = show(ptr(seconds(end)))
		d.Disposition = show(ptr(disposition(c)))
		d.EndReason = show(ptr(endReason(c)))
		d.WrapupCode = show[string](nil) // the core keeps no wrap-up codes
	}
	return d
}

// disposition is the call's disposition in Voiso's (legacy) vocabulary, a
// superset of the core's: an outbound call that reached an answering
// machine is machine_answered.
func disposition(c switchboard.Call) string {
	if c.Status == switchboard.CallVoicemail && c.Direction == switchboard.Outbound {
		return "machine_answered"
	}
	if c.Disposition == "" {
		return string(switchboard.DispositionFailed)
	}
	return string(c.Disposition)
}

// endReason says who or what ended the call: agent_hangup, customer_hangup,
// no_answer, busy, failed or system.
func endReason(c switchboard.Call) string {
	switch c.Disposition {
	case switchboard.DispositionBusy:
		return "busy"
	case switchboard.DispositionNoAnswer, switchboard.DispositionMissed:
		return "no_answer"
	case switchboard.DispositionFailed, switchboard.DispositionRejected:
		return "failed"
	}
	switch c.HangupBy {
	case switchboard.SideAgent:
		return "agent_hangup"
	case switchboard.SideCaller:
		return "customer_hangup"
	}
	return "system"
}

// analyticsData renders call.analytics.available.
func (r *Renderer) analyticsData(e switchboard.Event) (any, error) {
	var p switchboard.AnalyticsEventPayload
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return nil, fmt.Errorf("voiso: analytics event %d: %w", e.ID, err)
	}
	return analyticsData{ID: p.ID, Summary: p.Summary, Score: score(p.Score), Call: callRef{ID: p.CallUUID, CDRURL: cdrURL(r.API.opt.PublicURL, p.CallUUID)}}, nil
}

// score renders the core's 0-100 score on Voiso's 0-5 scale, one decimal,
// as a string ("4.7").
func score(s *int) *string {
	if s == nil {
		return nil
	}
	return ptr(strconv.FormatFloat(float64(*s)/20, 'f', 1, 64))
}

// cdrURL is the link to a record: GET /api/v4/reporting/cdrs/{id} on this
// server.
func cdrURL(publicURL, uuid string) string {
	return strings.TrimRight(publicURL, "/") + "/api/v4/reporting/cdrs/" + uuid
}

// wholeSeconds rounds d to whole seconds, never below 0.
func wholeSeconds(d time.Duration) int {
	if d < 0 {
		return 0
	}
	return int(d.Round(time.Second) / time.Second)
}

func ptr[T any](v T) *T { return &v }

// messageData is the data of message.received and message.sent.
type messageData struct {
	ID             string            `json:"id"`
	ReferenceID    *string           `json:"reference_id"`
	ContentType    string            `json:"content_type"`
	ContentData    map[string]string `json:"content_data"`
	Status         string            `json:"status"`
	ConversationID string            `json:"conversation_id"`
	Agent          *agentOut         `json:"agent"`
	Contact        convContact       `json:"contact"`
	Channel        convChannel       `json:"channel"`
}

// conversationData is the data of conversation.ended: the conversation as
// the record list shows it.
type conversationData struct {
	ID         string      `json:"id"`
	Status     string      `json:"status"`
	WrapupCode *string     `json:"wrapup_code"`
	StartedAt  string      `json:"started_at"`
	EndedAt    *string     `json:"ended_at"`
	Agent      *agentOut   `json:"agent"`
	Contact    convContact `json:"contact"`
	Channel    convChannel `json:"channel"`
}

// eventChannel shows the channel profile an event named.
func eventChannel(ch switchboard.ConversationChannel, p *switchboard.ChannelProfileRef) convChannel {
	out := convChannel{Type: convChannelType(ch)}
	if p != nil {
		out.ID, out.Name = p.UUID, p.Name
	}
	return out
}

// conversationParts reads what a conversation's webhooks show beside it, its
// agent and its channel profile, for events written before payloads named
// them: these are the names at delivery.
func (r *Renderer) conversationParts(ctx context.Context, c switchboard.Conversation) (*agentOut, convChannel, error) {
	n := newRecordNames(r.API.opt.Store, c.TenantID)
	agent, err := n.agent(ctx, c.AgentID)
	if err != nil {
		return nil, convChannel{}, err
	}
	ch := convChannel{Type: convChannelType(c.Channel), Name: c.Via}
	p, err := n.profile(ctx, c.ProfileID)
	if p != nil {
		ch.ID, ch.Name = p.UUID, p.Name
	}
	return agent, ch, err
}

// messageData renders a conversation message's event; an SMS thread's
// messages (SMS is not a conversation channel in Voiso) and agents' notes
// and system lines are passed over. Its agent is the one who wrote it, else
// the conversation's.
func (r *Renderer) messageData(ctx context.Context, e switchboard.Event) (any, error) {
	var p switchboard.ConversationMessagePayload
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return nil, fmt.Errorf("voiso: message event %d: %w", e.ID, err)
	}
	m := p.Message
	if p.Channel == switchboard.ChannelSMS || m.Kind == switchboard.KindNote || m.Kind == switchboard.KindActivity {
		return nil, webhook.ErrSkip
	}
	d := messageData{ID: m.UUID, ContentType: msgContentType(m.Kind), ContentData: map[string]string{"text": m.Text},
		Status: msgStatus(m.Status)}
	if m.ClientID != "" {
		d.ReferenceID = &m.ClientID
	}
	if p.ConversationUUID != "" && p.EndUser != nil { // the names as they were
		d.ConversationID, d.Agent, d.Channel = p.ConversationUUID, agentOf(p.Agent), eventChannel(p.Channel, p.Profile)
		d.Contact = convContactOf(switchboard.Conversation{EndUser: switchboard.EndUser{ID: p.EndUser.ID, Name: p.EndUser.Name}, Address: p.EndUser.Address})
		if p.Sender != nil {
			d.Agent = agentOf(p.Sender)
		}
		return d, nil
	}
	c, err := r.API.opt.Store.Conversation(ctx, e.TenantID, p.ConversationID)
	if err != nil {
		return nil, fmt.Errorf("voiso: message event %d: %w", e.ID, err)
	}
	if d.Agent, d.Channel, err = r.conversationParts(ctx, c); err != nil {
		return nil, err
	}
	if m.AgentID != nil {
		if d.Agent, err = newRecordNames(r.API.opt.Store, e.TenantID).agent(ctx, m.AgentID); err != nil {
			return nil, err
		}
	}
	d.ConversationID, d.Contact = c.UUID, convContactOf(c)
	return d, nil
}

// conversationData renders conversation.ended; an SMS thread is passed over.
func (r *Renderer) conversationData(ctx context.Context, e switchboard.Event) (any, error) {
	var p switchboard.ConversationEventPayload
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return nil, fmt.Errorf("voiso: conversation event %d: %w", e.ID, err)
	}
	c := p.Conversation
	if c.Channel == switchboard.ChannelSMS {
		return nil, webhook.ErrSkip
	}
	c.TenantID = e.TenantID
	d := conversationData{ID: c.UUID, Status: conversationDisposition(c.Status), StartedAt: seconds(c.CreatedAt),
		EndedAt: optSeconds(c.EndedAt), Contact: convContactOf(c)}
	if c.EndReason != "" {
		d.WrapupCode = &c.EndReason
	}
	named := (c.AgentID == nil || p.Agent != nil) && (c.ProfileID == nil || p.Profile != nil)
	if named {
		d.Agent, d.Channel = agentOf(p.Agent), eventChannel(c.Channel, p.Profile)
		return d, nil
	}
	var err error
	d.Agent, d.Channel, err = r.conversationParts(ctx, c)
	return d, err
}
