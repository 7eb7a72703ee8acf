package native

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
)

// errNoConversations answers the conversation routes on a server where the
// conversation service does not run.
var errNoConversations = switchboard.Errorf(switchboard.CodeUnavailable, "conversations are not running on this server")

// conversations is the conversation service, or errNoConversations.
func (a *API) conversations() (switchboard.Conversations, error) {
	if a.opt.Conversations == nil {
		return nil, errNoConversations
	}
	return a.opt.Conversations, nil
}

// conversation reads the conversation the path's {id} names. A user key
// reaches only the conversations its user holds or last held (AgentID), as
// it reaches only the calls its user took: anything else is 403, as for
// calls; another tenant's conversation is not found whatever the key.
func (a *API) conversation(ctx context.Context, c *call) (switchboard.Conversations, switchboard.Conversation, error) {
	svc, err := a.conversations()
	if err != nil {
		return nil, switchboard.Conversation{}, err
	}
	id, err := c.pathID("id")
	if err != nil {
		return nil, switchboard.Conversation{}, err
	}
	cv, err := svc.Conversation(ctx, c.tenantID(), id)
	if err != nil {
		return nil, cv, err
	}
	if self := c.userKeyID(); self != 0 && (cv.AgentID == nil || *cv.AgentID != self) {
		return nil, switchboard.Conversation{}, switchboard.Errorf(switchboard.CodeForbidden,
			"a user key reaches only the conversations its own user holds or held")
	}
	return svc, cv, nil
}

// invalid is the 422 naming one field.
func invalid(field, reason string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed", Fields: map[string]string{field: reason}}
}

// endUserBody is the end user of a conversation as a starter gives it.
type endUserBody struct {
	// Identifier is the site's own id for the visitor (web chat) or their
	// number (SMS, WhatsApp); one end user per identifier and tenant.
	Identifier string `json:"identifier" limit:"200"`
	Name       string `json:"name" limit:"200"`
	Email      string `json:"email" limit:"200"`
	Phone      string `json:"phone" limit:"64"`
}

func (b endUserBody) endUser() switchboard.EndUser {
	return switchboard.EndUser{Identifier: strings.TrimSpace(b.Identifier), Name: b.Name, Email: b.Email, Phone: b.Phone}
}

// contextBody is the data a conversation starts with: Signed is an HS256
// JWT signed with the channel profile's signing secret (its claims are
// verified and kept), Unsigned is kept as given.
type contextBody struct {
	Signed   string         `json:"signed" limit:"8192"`
	Unsigned map[string]any `json:"unsigned"`
}

// startBody starts a conversation on an end user's behalf.
type startBody struct {
	// Channel is web_chat, sms, whatsapp or a provider's own.
	Channel switchboard.ConversationChannel `json:"channel" limit:"32"`
	// QueueID is the queue it enters; it may be left out when the channel
	// profile names one.
	QueueID   *int64      `json:"queue_id"`
	ProfileID *int64      `json:"channel_profile_id"`
	Language  string      `json:"language" limit:"35"`
	EndUser   endUserBody `json:"end_user"`
	// Text is the end user's first message.
	Text    string      `json:"text" limit:"4096"`
	Context contextBody `json:"context"`
}

// startedConversation is a conversation just started, with the end user's
// token for the web-chat end-user API: shown only in this answer.
type startedConversation struct {
	switchboard.Conversation
	Token string `json:"token,omitempty"`
}

// patchConversationBody is what agents and integrations may change on a
// conversation.
type patchConversationBody struct {
	Language      string             `json:"language" limit:"35"`
	CustomerFlags []string           `json:"customer_flags" limit:"50"`
	Context       patchContextBody   `json:"context"`
	EndUser       patchEndUserFields `json:"end_user"`
}

// patchContextBody is the context a PATCH may change: the unsigned part
// only (the signed part is what the end user's site vouched for).
type patchContextBody struct {
	Unsigned map[string]any `json:"unsigned"`
}

type patchEndUserFields struct {
	Name  string `json:"name" limit:"200"`
	Email string `json:"email" limit:"200"`
	Phone string `json:"phone" limit:"64"`
}

// messagesBody is a page of a transcript, oldest first.
type messagesBody struct {
	Items []switchboard.ConversationMessage `json:"items"`
	// NextAfterSeq is the after_seq that continues the transcript.
	NextAfterSeq int64 `json:"next_after_seq"`
}

// sendBody is a message written into a conversation.
type sendBody struct {
	Text string `json:"text" limit:"4096"`
	// Kind is text (the default), photo, video, file (with attachment_id;
	// taken from the attachment when left out), template (with template)
	// or note (agents only, never sent to the end user).
	Kind         switchboard.MessageKind  `json:"kind" limit:"16"`
	AttachmentID *int64                   `json:"attachment_id"`
	Template     *switchboard.TemplateUse `json:"template"`
	// ClientID is the sender's own id for the message: a retry with the
	// same client_id is stored once.
	ClientID string `json:"client_id" limit:"200"`
	// Direction is outbound (the default). A tenant key may hand in the
	// end user's message with inbound; a user key always writes as its
	// user, outbound.
	Direction switchboard.Direction `json:"direction" limit:"16"`
}

type acceptBody struct {
	// AgentID is the agent who accepts (tenant keys; the assigned agent
	// when left out). A user key accepts as its own user.
	AgentID *int64 `json:"agent_id"`
}

type conversationTransferBody struct {
	QueueID int64 `json:"queue_id"`
}

type finishBody struct {
	// Reason says why (resolved when left out).
	Reason string `json:"reason" limit:"100"`
}

type deflectBody struct {
	// To is email, external_link or keep_waiting.
	To string `json:"to" limit:"32"`
}

var conversationParams = []param{
	{"channel", "string", "web_chat, sms, whatsapp …"},
	{"status", "string", "queued, assigned, in_progress, dismissed, finished, abandoned or deflected"},
	{"open", "boolean", "only conversations not ended"},
	{"queue_id", "integer", "conversations in this queue"},
	{"agent_id", "integer", "conversations this agent holds or last held"},
	{"end_user_id", "integer", "conversations of this end user"},
	{"channel_profile_id", "integer", "conversations on this channel profile"},
	{"address", "string", "the end user's number or identifier on the channel"},
	{"q", "string", "conversations with a message containing this text"},
	{"since", "string", "created at or after this RFC 3339 time"},
	{"until", "string", "created before this RFC 3339 time"},
}

var conversationStatuses = []switchboard.ConversationStatus{switchboard.ConversationQueued, switchboard.ConversationAssigned,
	switchboard.ConversationInProgress, switchboard.ConversationDismissed, switchboard.ConversationFinished,
	switchboard.ConversationAbandoned, switchboard.ConversationDeflected}

// conversationFilter reads the list filters. A user key sees only the
// conversations its user holds or held.
func (c *call) conversationFilter() (switchboard.ConversationFilter, error) {
	var f switchboard.ConversationFilter
	q := c.r.URL.Query()
	if ch := switchboard.ConversationChannel(q.Get("channel")); ch != "" {
		if !switchboard.ValidConversationChannel(ch) {
			return f, badParam("channel", "must be a channel name such as web_chat, sms or whatsapp")
		}
		f.Channel = ch
	}
	if st := switchboard.ConversationStatus(q.Get("status")); st != "" {
		ok := false
		for _, s := range conversationStatuses {
			ok = ok || s == st
		}
		if !ok {
			return f, badParam("status", "must be queued, assigned, in_progress, dismissed, finished, abandoned or deflected")
		}
		f.Status = st
	}
	var err error
	if f.Open, err = c.queryBool("open"); err != nil {
		return f, err
	}
	for name, dst := range map[string]*int64{"queue_id": &f.QueueID, "agent_id": &f.AgentID, "end_user_id": &f.EndUserID,
		"channel_profile_id": &f.ProfileID} {
		if *dst, err = c.queryInt(name); err != nil {
			return f, err
		}
	}
	f.Address, f.Text = q.Get("address"), q.Get("q")
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		t, err := c.queryTime(name)
		if err != nil {
			return f, err
		}
		if t != nil {
			*dst = *t
		}
	}
	if self := c.userKeyID(); self != 0 {
		if f.AgentID != 0 && f.AgentID != self {
			return f, &switchboard.Error{Code: switchboard.CodeForbidden, Message: "a user key lists only its own user's conversations",
				Fields: map[string]string{"agent_id": "must be the key's own user"}}
		}
		f.AgentID = self
	}
	return f, nil
}

func (a *API) conversationRoutes() {
	read, manage := switchboard.ScopeMessagesRead, switchboard.ScopeMessagesManage
	const tag = "Conversations"
	handle(a, route{Method: "POST", Path: "/v1/conversations", Summary: "Start a conversation on an end user's behalf",
		Doc: "A web chat (or a thread on another channel) started as its end user would: it enters queue_id (or the channel " +
			"profile's queue) with text as the end user's first message, and the engine offers it to an agent with chat capacity. " +
			"For web chat the answer carries token, the end user's credential for the /v1/webchat routes, shown only here. " +
			"Idempotency-Key is not honoured here: a replay would keep the token in clear, which the store never does (a retry " +
			"finds the end user's chat open and answers 409).",
		Tag: tag, Scope: manage, Status: http.StatusCreated, Replay: httpapi.ReplayOff},
		func(ctx context.Context, c *call, in *startBody) (startedConversation, error) {
			svc, err := a.conversations()
			if err != nil {
				return startedConversation{}, err
			}
			p := switchboard.Problems{}
			if in.Channel == "" {
				p.Add("channel", "is required: web_chat, sms, whatsapp …")
			} else if !switchboard.ValidConversationChannel(in.Channel) {
				p.Add("channel", "must be web_chat, sms, whatsapp or another lowercase channel name")
			}
			if in.QueueID == nil && in.ProfileID == nil {
				p.Add("queue_id", "is required (or a channel_profile_id whose profile names a queue)")
			}
			if strings.TrimSpace(in.EndUser.Identifier) == "" {
				p.Add("end_user.identifier", "is required")
			}
			if strings.TrimSpace(in.Text) == "" {
				p.Add("text", "is required: the end user's first message")
			}
			if err := p.Err(); err != nil {
				return startedConversation{}, err
			}
			eu := in.EndUser.endUser()
			cv := switchboard.Conversation{Channel: in.Channel, QueueID: in.QueueID, ProfileID: in.ProfileID, Language: in.Language,
				EndUser: eu, Address: eu.Identifier, Context: switchboard.ConversationContext{Unsigned: in.Context.Unsigned}}
			first := &switchboard.ConversationMessage{Direction: switchboard.Inbound, Kind: switchboard.KindText, Text: in.Text}
			cv, token, err := svc.Start(ctx, c.tenantID(), cv, in.Context.Signed, first)
			return startedConversation{Conversation: cv, Token: token}, err
		})
	handle(a, route{Method: "GET", Path: "/v1/conversations", Summary: "Conversations, newest first",
		Doc: "A user key lists only the conversations its user holds or last held.", Tag: tag, Scope: read, Paged: true,
		Query: conversationParams, User: userChecked},
		func(ctx context.Context, c *call, _ *noBody) (listBody[switchboard.Conversation], error) {
			svc, err := a.conversations()
			if err != nil {
				return listBody[switchboard.Conversation]{}, err
			}
			f, err := c.conversationFilter()
			if err != nil {
				return listBody[switchboard.Conversation]{}, err
			}
			opt, err := c.listOptions()
			if err != nil {
				return listBody[switchboard.Conversation]{}, err
			}
			p, err := svc.List(ctx, c.tenantID(), f, opt)
			return toList(p, opt), err
		})
	a.conversationExportRoute()
	handle(a, route{Method: "GET", Path: "/v1/conversations/{id}", Summary: "A conversation", Tag: tag, Scope: read, User: userChecked},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.Conversation, error) {
			_, cv, err := a.conversation(ctx, c)
			return cv, err
		})
	handlePatch(a, route{Method: "PATCH", Path: "/v1/conversations/{id}", Summary: "Change a conversation's language, customer flags, unsigned context or end user's details",
		Tag: tag, Scope: manage, User: userChecked},
		patch[patchConversationBody, switchboard.Conversation]{
			update: func(ctx context.Context, c *call, change func(*switchboard.Conversation) error) (switchboard.Conversation, error) {
				svc, cv, err := a.conversation(ctx, c)
				if err != nil {
					return cv, err
				}
				return svc.Update(ctx, c.tenantID(), cv.ID, change)
			},
			toBody: func(cv switchboard.Conversation) patchConversationBody {
				return patchConversationBody{Language: cv.Language, CustomerFlags: cv.Flags,
					Context: patchContextBody{Unsigned: cv.Context.Unsigned},
					EndUser: patchEndUserFields{Name: cv.EndUser.Name, Email: cv.EndUser.Email, Phone: cv.EndUser.Phone}}
			},
			apply: func(in *patchConversationBody, cv *switchboard.Conversation) error {
				cv.Language, cv.Flags, cv.Context.Unsigned = in.Language, in.CustomerFlags, in.Context.Unsigned
				cv.EndUser.Name, cv.EndUser.Email, cv.EndUser.Phone = in.EndUser.Name, in.EndUser.Email, in.EndUser.Phone
				return nil
			},
		})
	a.conversationActionRoutes()
	a.transcriptRoutes()
	a.attachmentRoutes()
}

// conversationActionRoutes are the moves through a conversation's
// lifecycle. Each reads the conversation first, so that another tenant's
// id is not found whatever the body says.
func (a *API) conversationActionRoutes() {
	manage := switchboard.ScopeMessagesManage
	const tag = "Conversations"
	handleOptional(a, route{Method: "POST", Path: "/v1/conversations/{id}/accept", Summary: "The assigned agent takes the conversation (in_progress)",
		Doc: "A user key accepts as its own user; a tenant key names agent_id, or accepts for the agent it is assigned to.",
		Tag: tag, Scope: manage, User: userChecked},
		func(ctx context.Context, c *call, in *acceptBody) (switchboard.Conversation, error) {
			svc, cv, err := a.conversation(ctx, c)
			if err != nil {
				return cv, err
			}
			agent := int64(0)
			switch self := c.userKeyID(); {
			case self != 0:
				if in.AgentID != nil && *in.AgentID != self {
					return cv, &switchboard.Error{Code: switchboard.CodeForbidden, Message: "a user key accepts only for its own user",
						Fields: map[string]string{"agent_id": "must be the key's own user"}}
				}
				agent = self
			case in.AgentID != nil:
				agent = *in.AgentID
			case cv.AgentID != nil:
				agent = *cv.AgentID
			default:
				return cv, invalid("agent_id", "is required: the conversation is not assigned to anyone")
			}
			return svc.Accept(ctx, c.tenantID(), cv.ID, agent)
		})
	handle(a, route{Method: "POST", Path: "/v1/conversations/{id}/transfer", Summary: "Move the conversation to another queue",
		Tag: tag, Scope: manage, User: userChecked},
		func(ctx context.Context, c *call, in *conversationTransferBody) (switchboard.Conversation, error) {
			svc, cv, err := a.conversation(ctx, c)
			if err != nil {
				return cv, err
			}
			if in.QueueID <= 0 {
				return cv, invalid("queue_id", "is required")
			}
			var by *int64
			if self := c.userKeyID(); self != 0 {
				by = &self
			}
			return svc.Transfer(ctx, c.tenantID(), cv.ID, in.QueueID, by)
		})
	handleOptional(a, route{Method: "POST", Path: "/v1/conversations/{id}/finish", Summary: "End the conversation",
		Doc: "With a user key the agent ends it; with a tenant key the system does. reason defaults to resolved.",
		Tag: tag, Scope: manage, User: userChecked},
		func(ctx context.Context, c *call, in *finishBody) (switchboard.Conversation, error) {
			svc, cv, err := a.conversation(ctx, c)
			if err != nil {
				return cv, err
			}
			by := switchboard.SideSystem
			if c.userKeyID() != 0 {
				by = switchboard.SideAgent
			}
			reason := strings.TrimSpace(in.Reason)
			if reason == "" {
				reason = "resolved"
			}
			return svc.Finish(ctx, c.tenantID(), cv.ID, by, reason)
		})
	for _, step := range []struct {
		verb, summary string
		fn            func(switchboard.Conversations) func(ctx context.Context, tenantID, id int64) (switchboard.Conversation, error)
	}{
		{"dismiss", "Let the conversation wait, unassigned, until the end user writes again",
			func(s switchboard.Conversations) func(context.Context, int64, int64) (switchboard.Conversation, error) {
				return s.Dismiss
			}},
		{"resume", "Queue a dismissed conversation again",
			func(s switchboard.Conversations) func(context.Context, int64, int64) (switchboard.Conversation, error) {
				return s.Resume
			}},
	} {
		handle(a, route{Method: "POST", Path: "/v1/conversations/{id}/" + step.verb, Summary: step.summary, Tag: tag, Scope: manage, User: userChecked},
			func(ctx context.Context, c *call, _ *noBody) (switchboard.Conversation, error) {
				svc, cv, err := a.conversation(ctx, c)
				if err != nil {
					return cv, err
				}
				return step.fn(svc)(ctx, c.tenantID(), cv.ID)
			})
	}
	handle(a, route{Method: "POST", Path: "/v1/conversations/{id}/deflect", Summary: "Send the end user to another channel (email, external_link) or record that they keep waiting",
		Tag: tag, Scope: manage, User: userChecked},
		func(ctx context.Context, c *call, in *deflectBody) (switchboard.Conversation, error) {
			svc, cv, err := a.conversation(ctx, c)
			if err != nil {
				return cv, err
			}
			switch in.To {
			case switchboard.DeflectEmail, switchboard.DeflectExternalLink, switchboard.DeflectKeepWaiting:
			default:
				return cv, invalid("to", "must be email, external_link or keep_waiting")
			}
			return svc.Deflect(ctx, c.tenantID(), cv.ID, in.To)
		})
}

// transcriptRoutes read and write a conversation's messages.
func (a *API) transcriptRoutes() {
	read, manage := switchboard.ScopeMessagesRead, switchboard.ScopeMessagesManage
	const tag = "Conversations"
	handle(a, route{Method: "GET", Path: "/v1/conversations/{id}/messages", Summary: "A conversation's transcript, oldest first",
		Doc: "Messages with seq above after_seq (0: from the start), at most limit (1-1000, default 100); next_after_seq continues. " +
			"Agents' notes are included (kind note); the end user never sees them.",
		Tag: tag, Scope: read, User: userChecked,
		Query: []param{{"after_seq", "integer", "only messages after this seq"}, {"limit", "integer", "at most this many (1-1000, default 100)"}}},
		func(ctx context.Context, c *call, _ *noBody) (messagesBody, error) {
			svc, cv, err := a.conversation(ctx, c)
			if err != nil {
				return messagesBody{}, err
			}
			after, limit, err := c.transcriptPage()
			if err != nil {
				return messagesBody{}, err
			}
			msgs, err := svc.Messages(ctx, c.tenantID(), cv.ID, after, limit)
			return transcript(msgs, after), err
		})
	handle(a, route{Method: "POST", Path: "/v1/conversations/{id}/messages", Summary: "Write a message into a conversation",
		Doc: "With a user key the key's user writes, as the agent holding the conversation (outbound; their first message moves it " +
			"to in_progress). With a tenant key an integration writes outbound without an agent, or hands in the end user's message " +
			"with direction inbound. Outbound messages go out through the channel; a number that opted out refuses them (422 naming consent).",
		Tag: tag, Scope: manage, Status: http.StatusCreated, User: userChecked},
		func(ctx context.Context, c *call, in *sendBody) (switchboard.ConversationMessage, error) {
			svc, cv, err := a.conversation(ctx, c)
			if err != nil {
				return switchboard.ConversationMessage{}, err
			}
			m := switchboard.ConversationMessage{ConversationID: cv.ID, Direction: in.Direction, Kind: in.Kind, Text: in.Text,
				AttachmentID: in.AttachmentID, Template: in.Template, ClientID: in.ClientID}
			if m.Direction == "" {
				m.Direction = switchboard.Outbound
			}
			if self := c.userKeyID(); self != 0 {
				if m.Direction != switchboard.Outbound {
					return m, &switchboard.Error{Code: switchboard.CodeForbidden, Message: "a user key writes as its own user, outbound",
						Fields: map[string]string{"direction": "must be outbound with a user key"}}
				}
				m.AgentID = &self
			}
			if err := a.defaultKind(ctx, c.tenantID(), &m); err != nil {
				return m, err
			}
			return svc.Send(ctx, c.tenantID(), cv.ID, m)
		})
}

// defaultKind fills a message's kind when the sender left it out: a
// template's, an attachment's own kind, else text.
func (a *API) defaultKind(ctx context.Context, tenantID int64, m *switchboard.ConversationMessage) error {
	switch {
	case m.Kind != "":
	case m.Template != nil:
		m.Kind = switchboard.KindTemplate
	case m.AttachmentID != nil:
		att, err := a.opt.Store.Attachment(ctx, tenantID, *m.AttachmentID)
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
			return invalid("attachment_id", "names no attachment of this tenant")
		}
		if err != nil {
			return err
		}
		m.Kind = att.Kind
	default:
		m.Kind = switchboard.KindText
	}
	return nil
}

// transcriptPage reads after_seq and limit (default 100).
func (c *call) transcriptPage() (after int64, limit int, err error) {
	if after, err = c.queryInt("after_seq"); err != nil {
		return 0, 0, err
	}
	if after < 0 {
		return 0, 0, badParam("after_seq", "must be 0 or more")
	}
	n, err := c.queryInt("limit")
	if err != nil {
		return 0, 0, err
	}
	switch {
	case !c.r.URL.Query().Has("limit"):
		n = 100
	case n < 1 || n > switchboard.MaxPageLimit:
		return 0, 0, invalid("limit", "must be from 1 to 1000")
	}
	return after, int(n), nil
}

// transcript is the page of msgs read after after.
func transcript(msgs []switchboard.ConversationMessage, after int64) messagesBody {
	if msgs == nil {
		msgs = []switchboard.ConversationMessage{}
	}
	if len(msgs) > 0 {
		after = msgs[len(msgs)-1].Seq
	}
	return messagesBody{Items: msgs, NextAfterSeq: after}
}

// handleOptional registers a route whose JSON body may be left out
// altogether (an empty body reads as {}), for actions whose every field
// is optional: POST /v1/conversations/{id}/finish with no body at all.
func handleOptional[In, Out any](a *API, rt route, fn func(ctx context.Context, c *call, in *In) (Out, error)) {
	e := rt.endpoint()
	e.Body, e.Result = reflect.TypeFor[In](), reflect.TypeFor[Out]()
	a.table.HandleRaw(&e, func(w http.ResponseWriter, r *http.Request, c *call) {
		in := new(In)
		raw, err := io.ReadAll(r.Body)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.writeError(w, r, switchboard.Errorf(switchboard.CodeTooLarge, "request body too large: at most %d bytes", tooBig.Limit))
			return
		}
		if err != nil {
			a.writeError(w, r, switchboard.Errorf(switchboard.CodeBadRequest, "cannot read request body: %v", err))
			return
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			r.Body = io.NopCloser(bytes.NewReader(raw))
			if err := httpapi.DecodeJSON(r, in, true); err != nil {
				a.writeError(w, r, err)
				return
			}
		}
		out, err := fn(r.Context(), c, in)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		a.respond(w, r, &e, out)
	})
}
