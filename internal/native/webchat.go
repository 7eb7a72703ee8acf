package native

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"hash/fnv"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
)

// The web-chat end-user API (/v1/webchat) is what a website's chat widget
// calls: no API key, since it runs in the visitor's browser. Starting a chat
// names an enabled web_chat channel profile by its uuid and answers the end
// user's token; every other route takes that token (Authorization: Bearer,
// or ?token= where a browser cannot send headers: the event stream and
// attachment links) and reaches that one conversation only. Answers show
// what the visitor may see: the conversation's status, the agent's first
// name, the messages but for agents' notes and activity lines; never
// queues, ids of agents, flags or context. Each client address is
// rate-limited (Options.WebChatPerMinute), and the routes allow any origin
// (see ServeHTTP).

// endUserPath says whether path is one of the end-user routes, which take
// no API key and are called across origins.
func endUserPath(path string) bool {
	return strings.HasPrefix(path, "/v1/webchat/") || strings.HasPrefix(path, "/v1/uploads/")
}

// admitEndUser spends a token of the client address's bucket.
func (a *API) admitEndUser(w http.ResponseWriter, r *http.Request) error {
	ok, retry, remaining := a.public.Allow(clientKey(r))
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(a.opt.WebChatPerMinute))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	if !ok {
		httpapi.SetRetryAfter(w.Header(), retry)
		return switchboard.Errorf(switchboard.CodeRateLimited, "rate limit exceeded: %d requests a minute per address; retry after %s",
			a.opt.WebChatPerMinute, retry.Round(time.Second))
	}
	return nil
}

// clientKey turns the client's address into a rate-limiter key.
func clientKey(r *http.Request) int64 {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	h := fnv.New64a()
	h.Write([]byte(host))
	return int64(h.Sum64() >> 1)
}

// webchatStartBody starts a chat from a site's widget.
type webchatStartBody struct {
	EndUser webchatEndUser `json:"end_user"`
	// Text is the visitor's first message; it may be left out and written
	// later.
	Text     string      `json:"text" limit:"4096"`
	Language string      `json:"language" limit:"35"`
	Context  contextBody `json:"context"`
}

// webchatEndUser is the visitor as the widget knows them. Identifier is
// the site's id for them, kept as "visitor:<identifier>" because nobody
// vouches for it; left out, the visitor is anonymous and gets one of their
// own. Only the signed context is vouched for by the site: its claims
// identifier (or sub), name and email name the end user as given.
type webchatEndUser struct {
	Identifier string `json:"identifier" limit:"200"`
	Name       string `json:"name" limit:"200"`
	Email      string `json:"email" limit:"200"`
}

// webchatConversation is a conversation as its end user sees it.
type webchatConversation struct {
	ID     int64                          `json:"id"`
	UUID   string                         `json:"uuid"`
	Status switchboard.ConversationStatus `json:"status"`
	// AgentName is the first name of the agent who holds it ("" while none
	// does).
	AgentName string     `json:"agent_name"`
	LastSeq   int64      `json:"last_seq"`
	CreatedAt time.Time  `json:"created_at"`
	EndedAt   *time.Time `json:"ended_at"`
}

// webchatStarted is a chat just started: the end user's token is shown
// only here.
type webchatStarted struct {
	Conversation webchatConversation `json:"conversation"`
	Token        string              `json:"token"`
}

// webchatMessage is a message as the end user sees it.
type webchatMessage struct {
	Seq       int64                 `json:"seq"`
	Direction switchboard.Direction `json:"direction"`
	// Author is end_user, agent or system.
	Author       string                    `json:"author"`
	AgentName    string                    `json:"agent_name,omitempty"`
	Kind         switchboard.MessageKind   `json:"kind"`
	Text         string                    `json:"text"`
	AttachmentID *int64                    `json:"attachment_id"`
	Status       switchboard.ReceiptStatus `json:"status"`
	ClientID     string                    `json:"client_id"`
	CreatedAt    time.Time                 `json:"created_at"`
}

// webchatMessages is a page of the transcript as the end user sees it,
// with the conversation's status, so that a polling widget learns when an
// agent joins and when the chat ends.
type webchatMessages struct {
	Items []webchatMessage `json:"items"`
	// NextAfterSeq is the after_seq that continues (past notes too).
	NextAfterSeq int64                          `json:"next_after_seq"`
	Status       switchboard.ConversationStatus `json:"status"`
	AgentName    string                         `json:"agent_name"`
}

// webchatSendBody is the visitor's message.
type webchatSendBody struct {
	Text string `json:"text" limit:"4096"`
	// ClientID is the widget's own id for the message: a retry with the
	// same client_id is stored once.
	ClientID string `json:"client_id" limit:"200"`
	// AttachmentID sends an uploaded photo, video or file.
	AttachmentID *int64 `json:"attachment_id"`
	// Kind may say what is sent (text, photo, video, file); left out, it is
	// the attachment's kind, or text. It must agree with the attachment.
	Kind switchboard.MessageKind `json:"kind"`
}

// maxLongPoll bounds wait on the long poll.
const maxLongPoll = 30

// uuidLike says whether s may be a UUID, so that a path naming something
// else (bytes no database column takes) is not found without a query.
func uuidLike(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') && c != '-' {
			return false
		}
	}
	return true
}

// endUserCall is an end user's request on their conversation.
type endUserCall struct {
	svc  switchboard.Conversations
	conv switchboard.Conversation
	// names caches the agents' first names for one answer.
	names map[int64]string
}

// endUserConversation authenticates the end user's token for the path's
// {uuid}. queryToken allows ?token= for routes a browser reaches without
// headers.
func (a *API) endUserConversation(r *http.Request, queryToken bool) (*endUserCall, error) {
	svc, err := a.conversations()
	if err != nil {
		return nil, err
	}
	token := ""
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		token = strings.TrimSpace(h[7:])
	} else if queryToken {
		token = r.URL.Query().Get("token")
	}
	if token == "" {
		return nil, switchboard.Errorf(switchboard.CodeUnauthorized, "the end user's token is required: Authorization: Bearer <token>")
	}
	if !uuidLike(r.PathValue("uuid")) {
		return nil, switchboard.Errorf(switchboard.CodeUnauthorized, "no conversation of this token")
	}
	cv, err := svc.EndUserConversation(r.Context(), r.PathValue("uuid"), token)
	if code := switchboard.ErrorCode(err); code == switchboard.CodeNotFound || code == switchboard.CodeUnauthorized {
		// An unknown conversation and a wrong token look alike.
		return nil, switchboard.Errorf(switchboard.CodeUnauthorized, "no conversation of this token")
	}
	if err != nil {
		return nil, err
	}
	return &endUserCall{svc: svc, conv: cv, names: map[int64]string{}}, nil
}

// agentName is the first name of agent (cached), "" for none.
func (a *API) agentName(ctx context.Context, e *endUserCall, agent *int64) string {
	if agent == nil {
		return ""
	}
	if n, ok := e.names[*agent]; ok {
		return n
	}
	u, err := a.opt.Store.User(ctx, e.conv.TenantID, *agent)
	if err != nil {
		return ""
	}
	e.names[*agent] = u.FirstName
	return u.FirstName
}

func (a *API) viewConversation(ctx context.Context, e *endUserCall) webchatConversation {
	cv := &e.conv
	name := ""
	if cv.Status == switchboard.ConversationAssigned || cv.Status == switchboard.ConversationInProgress {
		name = a.agentName(ctx, e, cv.AgentID)
	}
	return webchatConversation{ID: cv.ID, UUID: cv.UUID, Status: cv.Status, AgentName: name, LastSeq: cv.LastSeq,
		CreatedAt: cv.CreatedAt, EndedAt: cv.EndedAt}
}

// visible says whether the end user sees m: not agents' notes, not the
// activity lines (they name queues and agents).
func visible(m *switchboard.ConversationMessage) bool {
	return m.Kind != switchboard.KindNote && m.Kind != switchboard.KindActivity
}

func (a *API) viewMessage(ctx context.Context, e *endUserCall, m *switchboard.ConversationMessage) webchatMessage {
	v := webchatMessage{Seq: m.Seq, Direction: m.Direction, Author: author(m), Kind: m.Kind, Text: m.Text,
		AttachmentID: m.AttachmentID, Status: m.Status, ClientID: m.ClientID, CreatedAt: m.CreatedAt}
	if m.Direction == switchboard.Outbound {
		v.AgentName = a.agentName(ctx, e, m.AgentID)
	}
	return v
}

// endUserRoute registers an end-user route answering JSON.
func endUserRoute[In, Out any](a *API, rt route, fn func(ctx context.Context, r *http.Request, in *In) (Out, error)) {
	rt.Access, rt.Tag = endUser, "Web chat"
	handle(a, rt, func(ctx context.Context, c *call, in *In) (Out, error) { return fn(ctx, c.r, in) })
}

func (a *API) webchatRoutes() {
	endUserRoute(a, route{Method: "POST", Path: "/v1/webchat/{profile_uuid}/conversations", Summary: "Start a web chat (a site's widget)",
		Doc: "No API key: the path names an enabled web_chat channel profile. The chat enters the profile's queue; the answer's token " +
			"is the end user's credential for the other /v1/webchat routes, shown only here. context.signed, when given, is an HS256 " +
			"JWT signed with the profile's signing secret by the site's server (422 when it does not verify).",
		Status: http.StatusCreated},
		func(ctx context.Context, r *http.Request, in *webchatStartBody) (webchatStarted, error) {
			svc, err := a.conversations()
			if err != nil {
				return webchatStarted{}, err
			}
			var p switchboard.ChannelProfile
			err = switchboard.Errorf(switchboard.CodeNotFound, "no web chat %s", switchboard.Echo(r.PathValue("profile_uuid")))
			if uuidLike(r.PathValue("profile_uuid")) {
				p, err = a.opt.Store.ChannelProfileByUUID(ctx, r.PathValue("profile_uuid"))
			}
			if err == nil && (!p.Enabled || p.Channel != switchboard.ChannelWebChat) {
				err = switchboard.Errorf(switchboard.CodeNotFound, "no web chat %s", switchboard.Echo(r.PathValue("profile_uuid")))
			}
			if err != nil {
				return webchatStarted{}, err
			}
			// Anyone can call this route, so what the widget says of the
			// visitor is kept apart from the end users the tenant's own
			// systems name: an identifier given here is namespaced
			// ("visitor:…"), and only one in the signed context (claim
			// identifier or sub) is taken as the tenant's own.
			eu := switchboard.EndUser{Identifier: strings.TrimSpace(in.EndUser.Identifier), Name: in.EndUser.Name, Email: in.EndUser.Email}
			if eu.Identifier == "" {
				eu.Identifier = "visitor-" + rand.Text()
			} else {
				eu.Identifier = switchboard.Clip("visitor:"+eu.Identifier, 200)
			}
			cv := switchboard.Conversation{Channel: switchboard.ChannelWebChat, QueueID: p.QueueID, ProfileID: &p.ID, Language: in.Language,
				EndUser: eu, Address: eu.Identifier, Context: switchboard.ConversationContext{Unsigned: in.Context.Unsigned}}
			var first *switchboard.ConversationMessage
			if strings.TrimSpace(in.Text) != "" {
				first = &switchboard.ConversationMessage{Direction: switchboard.Inbound, Kind: switchboard.KindText, Text: in.Text}
			}
			cv, token, err := svc.Start(ctx, p.TenantID, cv, in.Context.Signed, first)
			if err != nil {
				return webchatStarted{}, err
			}
			e := &endUserCall{svc: svc, conv: cv, names: map[int64]string{}}
			return webchatStarted{Conversation: a.viewConversation(ctx, e), Token: token}, nil
		})
	endUserRoute(a, route{Method: "GET", Path: "/v1/webchat/conversations/{uuid}", Summary: "The end user's conversation: its status and agent"},
		func(ctx context.Context, r *http.Request, _ *noBody) (webchatConversation, error) {
			e, err := a.endUserConversation(r, false)
			if err != nil {
				return webchatConversation{}, err
			}
			return a.viewConversation(ctx, e), nil
		})
	endUserRoute(a, route{Method: "GET", Path: "/v1/webchat/conversations/{uuid}/messages", Summary: "The transcript after after_seq, waiting up to wait seconds for news",
		Doc: "A long poll: with wait (0-30 s) the answer waits until a message the end user may see arrives, the status changes, " +
			"or the time is up. Agents' notes are never shown; next_after_seq continues past them.",
		Query: []param{{"after_seq", "integer", "only messages after this seq"}, {"wait", "integer", "seconds to wait for news (0-30)"}}},
		a.longPoll)
	handleStream(a, route{Method: "GET", Path: "/v1/webchat/conversations/{uuid}/events", Summary: "The conversation's messages and status as Server-Sent Events",
		Doc: "Each message the end user may see is an event `message` whose id is its seq, so that a reconnecting EventSource " +
			"(Last-Event-ID) resumes after it; status changes are events `status`. Comments keep the connection alive; the stream " +
			"ends after the conversation does. The token may be given as ?token= since EventSource sends no headers.",
		Tag: "Web chat", Access: endUser, Query: []param{{"after_seq", "integer", "start after this seq (default 0: the whole transcript)"},
			{"token", "string", "the end user's token, for clients that cannot send Authorization"}}},
		a.endUserEvents)
	endUserRoute(a, route{Method: "POST", Path: "/v1/webchat/conversations/{uuid}/messages", Summary: "The end user writes", Status: http.StatusCreated},
		func(ctx context.Context, r *http.Request, in *webchatSendBody) (webchatMessage, error) {
			e, err := a.endUserConversation(r, false)
			if err != nil {
				return webchatMessage{}, err
			}
			m := switchboard.ConversationMessage{ConversationID: e.conv.ID, Direction: switchboard.Inbound, Text: in.Text,
				AttachmentID: in.AttachmentID, ClientID: in.ClientID}
			if in.AttachmentID != nil {
				att, err := a.opt.Store.Attachment(ctx, e.conv.TenantID, *in.AttachmentID)
				if err != nil || att.ConversationID != e.conv.ID {
					return webchatMessage{}, invalid("attachment_id", "names no attachment of this conversation")
				}
				if in.Kind != "" && in.Kind != att.Kind {
					return webchatMessage{}, invalid("kind", "must be "+string(att.Kind)+", the attachment's kind")
				}
				m.Kind = att.Kind
			} else {
				if in.Kind != "" && in.Kind != switchboard.KindText {
					return webchatMessage{}, invalid("kind", "must be text without an attachment_id")
				}
				m.Kind = switchboard.KindText
			}
			m, err = e.svc.Send(ctx, e.conv.TenantID, e.conv.ID, m)
			if err != nil {
				return webchatMessage{}, err
			}
			return a.viewMessage(ctx, e, &m), nil
		})
	endUserRoute(a, route{Method: "POST", Path: "/v1/webchat/conversations/{uuid}/uploads", Summary: "Get an upload URL for a photo, video or file",
		Doc: "PUT the bytes to upload_url, then send the attachment_id in a message.", Status: http.StatusCreated},
		func(ctx context.Context, r *http.Request, in *uploadRequest) (uploadSlot, error) {
			e, err := a.endUserConversation(r, false)
			if err != nil {
				return uploadSlot{}, err
			}
			return newUpload(ctx, e.svc, e.conv.TenantID, e.conv.ID, in)
		})
	handleRaw(a, route{Method: "GET", Path: "/v1/webchat/conversations/{uuid}/attachments/{id}/content", Summary: "An attachment of the conversation",
		Tag: "Web chat", Access: endUser, Binary: true, Query: []param{{"token", "string", "the end user's token, for links (img src) that cannot send Authorization"}}}, nil,
		func(w http.ResponseWriter, r *http.Request, c *call) {
			e, err := a.endUserConversation(r, true)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			id, err := c.pathID("id")
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			att, body, err := e.svc.OpenAttachment(r.Context(), e.conv.TenantID, id)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			defer body.Close()
			if att.ConversationID != e.conv.ID {
				a.writeError(w, r, switchboard.Errorf(switchboard.CodeNotFound, "no attachment %d in this conversation", id))
				return
			}
			a.serveAttachment(w, r, att, body)
		})
	endUserRoute(a, route{Method: "POST", Path: "/v1/webchat/conversations/{uuid}/end", Summary: "The end user ends the chat"},
		func(ctx context.Context, r *http.Request, _ *noBody) (webchatConversation, error) {
			e, err := a.endUserConversation(r, false)
			if err != nil {
				return webchatConversation{}, err
			}
			if !e.conv.Status.Ended() {
				if e.conv, err = e.svc.Finish(ctx, e.conv.TenantID, e.conv.ID, switchboard.SideEndUser, "end_user_left"); err != nil {
					return webchatConversation{}, err
				}
			}
			return a.viewConversation(ctx, e), nil
		})
}

// longPoll answers the messages after after_seq the end user may see,
// waiting up to wait seconds for some (or a change of status). It
// subscribes before it reads, so that nothing written in between is missed,
// and polls every second for changes made on other nodes.
func (a *API) longPoll(ctx context.Context, r *http.Request, _ *noBody) (webchatMessages, error) {
	e, err := a.endUserConversation(r, false)
	if err != nil {
		return webchatMessages{}, err
	}
	c := &call{r: r}
	after, err := c.queryInt("after_seq")
	if err != nil {
		return webchatMessages{}, err
	}
	wait, err := c.queryInt("wait")
	if err != nil {
		return webchatMessages{}, err
	}
	if after < 0 {
		return webchatMessages{}, badParam("after_seq", "must be 0 or more")
	}
	if wait < 0 || wait > maxLongPoll {
		return webchatMessages{}, badParam("wait", "must be from 0 to 30 seconds")
	}
	wake, stop := e.svc.Watch(e.conv.TenantID, e.conv.ID)
	defer stop()
	deadline := time.NewTimer(time.Duration(wait) * time.Second)
	defer deadline.Stop()
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	start := e.conv
	out := webchatMessages{Items: []webchatMessage{}}
	for {
		const page = 100
		msgs, err := e.svc.Messages(ctx, e.conv.TenantID, e.conv.ID, after, page)
		if err != nil {
			return out, err
		}
		for i := range msgs {
			if visible(&msgs[i]) {
				out.Items = append(out.Items, a.viewMessage(ctx, e, &msgs[i]))
			}
			after = msgs[i].Seq
		}
		changed := e.conv.Status != start.Status || !sameAgent(e.conv.AgentID, start.AgentID)
		if len(out.Items) > 0 || changed || wait == 0 || len(msgs) == page || e.conv.Status.Ended() {
			break
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-deadline.C:
			wait = 0 // read once more, then answer
			continue
		case <-wake:
		case <-poll.C:
		}
		if e.conv, err = e.svc.Conversation(ctx, e.conv.TenantID, e.conv.ID); err != nil {
			return out, err
		}
	}
	v := a.viewConversation(ctx, e)
	out.NextAfterSeq, out.Status, out.AgentName = after, v.Status, v.AgentName
	return out, nil
}

func sameAgent(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }

// webchatStatus is the data of a status event.
type webchatStatus struct {
	Status    switchboard.ConversationStatus `json:"status"`
	AgentName string                         `json:"agent_name"`
}

// endUserEvents serves the conversation to its end user as Server-Sent
// Events: messages (id: their seq) and status changes, until the
// conversation ends.
func (a *API) endUserEvents(w http.ResponseWriter, r *http.Request, c *call) {
	e, err := a.endUserConversation(r, true)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	after, _, err := streamStart(c)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	st, err := a.streams.addEndUser(e.conv.ID, w)
	if err != nil {
		httpapi.SetRetryAfter(w.Header(), 5*time.Second)
		a.writeError(w, r, err)
		return
	}
	defer a.streams.remove(st)
	ctx := r.Context()
	wake, stop := e.svc.Watch(e.conv.TenantID, e.conv.ID)
	defer stop()

	st.rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if st.write("retry: 2000\n\n") != nil {
		return
	}
	sendStatus := func() error {
		v := a.viewConversation(ctx, e)
		data, _ := json.Marshal(webchatStatus{Status: v.Status, AgentName: v.AgentName})
		return st.write("event: status\ndata: %s\n\n", data)
	}
	if sendStatus() != nil || st.flush() != nil {
		return
	}
	shown := e.conv
	lifetime := time.NewTimer(a.streams.lim.MaxLifetime)
	defer lifetime.Stop()
	poll := time.NewTicker(2 * time.Second)
	defer poll.Stop()
	lastWrite := time.Now()
	for {
		msgs, err := e.svc.Messages(ctx, e.conv.TenantID, e.conv.ID, after, 100)
		if err != nil {
			if ctx.Err() == nil {
				a.opt.Log.Error("web chat stream", "conversation_id", e.conv.ID, "err", err)
			}
			return
		}
		wrote := false
		for i := range msgs {
			after = msgs[i].Seq
			if !visible(&msgs[i]) {
				continue
			}
			data, _ := json.Marshal(a.viewMessage(ctx, e, &msgs[i]))
			if st.write("id: %d\nevent: message\ndata: %s\n\n", msgs[i].Seq, data) != nil {
				return
			}
			wrote = true
		}
		if len(msgs) == 100 {
			if st.flush() != nil {
				return
			}
			continue
		}
		if e.conv.Status != shown.Status || !sameAgent(e.conv.AgentID, shown.AgentID) {
			if sendStatus() != nil {
				return
			}
			shown, wrote = e.conv, true
		}
		if wrote {
			if st.flush() != nil {
				return
			}
			lastWrite = time.Now()
		}
		if e.conv.Status.Ended() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-a.streams.closing:
			return
		case <-lifetime.C:
			return // the EventSource reconnects with Last-Event-ID
		case <-wake:
		case <-poll.C:
			if time.Since(lastWrite) >= streamKeepalive {
				if st.write(": keepalive\n\n") != nil || st.flush() != nil {
					return
				}
				lastWrite = time.Now()
			}
		}
		if e.conv, err = e.svc.Conversation(ctx, e.conv.TenantID, e.conv.ID); err != nil {
			return
		}
	}
}
