package ujet

// Chats (seed "Chats", 18 operations; spec §2.8): UJET's chat platform API
// over the core's conversations. A chat is a conversation; its id is the
// conversation's id. POST /chats starts a web chat for an end user in a
// chat queue (menu_id: a queue's menu id, menus_tree.go); the other
// operations act on any conversation of the tenant (SMS chats too).

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"switchboard"
)

func (a *API) chatRoutes() []route {
	read, manage := switchboard.ScopeMessagesRead, switchboard.ScopeMessagesManage
	return append([]route{
		handler(route{Method: "POST", Path: "chats", Summary: "Start a chat", Scope: manage,
			Doc: "Starts a web chat for end_user_id in the chat queue menu_id (a menu id as GET /menu lists it). " +
				"context.value (or context) is kept as the chat's unsigned context; transcript (a list of {\"from\",\"text\"}) " +
				"is imported as the chat's first lines. A queue over capacity (its max length of waiting chats reached) still " +
				"takes the chat and records an over_capacity escalation the end user may answer with a deflection channel."},
			a.startChat),
		rawHandler(route{Method: "GET", Path: "chats", Summary: "List chats, newest first", Scope: read,
			Query: []param{{"page", "integer", "page, from 1"}, {"per", "integer", "chats per page, at most 100"},
				{"created_at[from]", "string", "created at or after (ISO 8601)"}, {"created_at[to]", "string", "created before (ISO 8601)"},
				{"end_user_id", "integer", "the end user's chats only"}}},
			nil, reflect.TypeFor[[]Chat](), a.listChats),
		handler(route{Method: "GET", Path: "chats/{id}", Summary: "Get a chat", Scope: read}, a.getChat),
		handler(route{Method: "PATCH", Path: "chats/{id}", Summary: "Update a chat: finish it, or deflect it to another channel", Scope: manage,
			Doc: "chat.status \"finished\" ends the chat (finished_by_user_id: the end user's id, or an agent's); " +
				"chat.deflection_channel email or external_link ends it deflected (with chat.escalation_id, that escalation " +
				"records the choice); human_agent keeps it waiting."},
			a.updateChat),
		handler(route{Method: "PATCH", Path: "chats/{id}/resume", Summary: "Resume a dismissed chat", Scope: manage}, a.resumeChat),
		handler(route{Method: "POST", Path: "chats/{id}/message", Summary: "Send a message in a chat", Scope: manage,
			Doc: "from_user_id is the chat's end user (the default) or an agent of the company, who takes the chat; " +
				"from_user_type (end_user or agent) says which when an agent's id is also the end user's. " +
				"message.content is {\"text\": …} or a plain string; photo and video messages name an attached media_id."},
			a.chatMessage),
		handler(route{Method: "POST", Path: "chats/{id}/escalations", Summary: "Escalate a chat to a human agent", Scope: manage,
			Status: http.StatusCreated}, a.escalateChat),
		handler(route{Method: "PATCH", Path: "chats/{id}/escalations/{escalation_id}", Summary: "Choose the deflection channel of an escalation",
			Scope: manage, Doc: "deflection_channel human_agent keeps waiting (over_capacity escalations only); email and " +
				"external_link end the chat deflected."}, a.updateEscalation),
		handler(route{Method: "GET", Path: "chats/{id}/customer_flag", Summary: "A chat's customer flags", Scope: read}, a.chatFlags),
		handler(route{Method: "PATCH", Path: "chats/{id}/customer_flag", Summary: "Set a chat's customer flags", Scope: manage}, a.setChatFlags),
		handler(route{Method: "POST", Path: "chats/{id}/custom_data", Summary: "Send custom data in a chat", Scope: manage,
			Doc: "Unsigned: {\"signed\":false,\"data\":{…}}. Signed: {\"signed\":true,\"signed_data\":\"<HS256 JWT>\"} whose " +
				"custom_data claim holds the fields, verified with the company's web-chat signing secret (its web_chat channel " +
				"profile's). reserved_verified_customer, reserved_bad_actor and reserved_repeat_customer set the customer flags."},
			a.chatCustomData),
		handler(route{Method: "POST", Path: "chats/{id}/end_user", Summary: "Update the end user of an active chat", Scope: manage,
			Status: http.StatusAccepted}, a.chatEndUser),
	}, a.chatMediaRoutes()...)
}

// conversations is the conversation service, or 503 when this server runs
// none.
func (a *API) conversations() (switchboard.Conversations, error) {
	if a.opt.Conversations == nil {
		return nil, switchboard.Errorf(switchboard.CodeUnavailable, "chats are not served by this server")
	}
	return a.opt.Conversations, nil
}

// chat reads the chat of path value id (404 Not Found when the tenant has
// none).
func (a *API) chat(ctx context.Context, c *call) (switchboard.Conversations, switchboard.Conversation, error) {
	svc, err := a.conversations()
	if err != nil {
		return nil, switchboard.Conversation{}, err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return nil, switchboard.Conversation{}, err
	}
	cv, err := svc.Conversation(ctx, c.tenantID(), id)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return nil, cv, notFound()
	}
	return svc, cv, err
}

// chatOut renders a chat with its menus and agents as they are now.
func (a *API) chatOut(ctx context.Context, cv *switchboard.Conversation) (Chat, error) {
	tree, err := loadMenus(ctx, a.opt.Store, cv.TenantID)
	if err != nil {
		return Chat{}, err
	}
	who, err := a.peopleOf(ctx, cv)
	if err != nil {
		return Chat{}, err
	}
	return newChat(cv, tree, who), nil
}

// startChatBody is POST /chats.
type startChatBody struct {
	Chat *startChat `json:"chat"`
}

type startChat struct {
	MenuID    flexInt `json:"menu_id"`
	EndUserID flexInt `json:"end_user_id"`
	Lang      string  `json:"lang" limit:"35"`
	Email     string  `json:"email" limit:"200"`
	// Context is kept as the chat's unsigned context: its value when it has
	// one ({"value": {…}}), else the object itself.
	Context map[string]any `json:"context"`
	// Transcript is the pre-chat transcript: a list of lines, each
	// {"from": "end_user"|"virtual_agent"|…, "text" (or "content" or
	// "message"): …}, or a plain string (the end user's).
	Transcript json.RawMessage `json:"transcript"`
}

// transcriptLine is one line of an imported transcript.
type transcriptLine struct {
	inbound bool
	text    string
}

// maxTranscript bounds an imported transcript.
const maxTranscript = 200

// parseTranscript reads a transcript: an array of lines (objects or
// strings), or one object with a "messages" array.
func parseTranscript(raw json.RawMessage) ([]transcriptLine, error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		var obj struct {
			Messages []json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, badRequest("transcript must be a list of messages")
		}
		items = obj.Messages
	}
	if len(items) > maxTranscript {
		return nil, badRequest("transcript must hold at most " + strconv.Itoa(maxTranscript) + " messages")
	}
	var out []transcriptLine
	for _, it := range items {
		var s string
		if json.Unmarshal(it, &s) == nil {
			if strings.TrimSpace(s) != "" {
				out = append(out, transcriptLine{inbound: true, text: s})
			}
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(it, &m); err != nil {
			return nil, badRequest("transcript must be a list of messages")
		}
		text := ""
		for _, k := range []string{"text", "content", "message", "body"} {
			switch v := m[k].(type) {
			case string:
				text = v
			case map[string]any:
				if t, ok := v["text"].(string); ok {
					text = t
				}
			}
			if text != "" {
				break
			}
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		from := ""
		for _, k := range []string{"from", "sender", "role", "sender_type", "type"} {
			if v, ok := m[k].(string); ok && v != "" {
				from = strings.ToLower(v)
				break
			}
		}
		inbound := from == "" || from == "end_user" || from == "enduser" || from == "user" || from == "consumer" || from == "customer"
		out = append(out, transcriptLine{inbound: inbound, text: text})
	}
	return out, nil
}

// chatQueue resolves menu_id to the chat queue it names: a queue's menu
// taking chats.
func chatQueue(tree *menuTree, menuID flexInt) (*menuNode, error) {
	if !menuID.Set {
		return nil, badRequest("menu_id is required")
	}
	n := tree.node(menuID.Value)
	if n == nil {
		return nil, badRequest("menu_id " + strconv.FormatInt(menuID.Value, 10) + " is not found")
	}
	if n.Queue == nil || n.Queue.Channel != switchboard.ChannelChat {
		return nil, badRequest("Only chat menu IDs are permitted")
	}
	return n, nil
}

// webChatProfile is the tenant's first enabled web-chat channel profile,
// whose signing secret verifies signed custom data; nil when it has none.
func (a *API) webChatProfile(ctx context.Context, tenantID int64) (*switchboard.ChannelProfile, error) {
	opt := switchboard.ListOptions{Limit: 100}
	for {
		page, err := a.opt.Store.ChannelProfiles(ctx, tenantID, switchboard.ChannelWebChat, opt)
		if err != nil {
			return nil, err
		}
		for i := range page.Items {
			if page.Items[i].Enabled {
				return &page.Items[i], nil
			}
		}
		if page.NextCursor == "" {
			return nil, nil
		}
		opt.Cursor = page.NextCursor
	}
}

// overCapacity says the queue already holds its most waiting chats
// (Queue.MaxLength; 0: no cap).
func (a *API) overCapacity(ctx context.Context, q *switchboard.Queue) (bool, error) {
	if q.MaxLength <= 0 {
		return false, nil
	}
	page, err := a.opt.Store.Conversations(ctx, q.TenantID, switchboard.ConversationFilter{QueueID: q.ID,
		Status: switchboard.ConversationQueued}, switchboard.ListOptions{Limit: 1})
	if err != nil {
		return false, err
	}
	return page.Total >= q.MaxLength, nil
}

func (a *API) startChat(ctx context.Context, c *call, in *startChatBody) (Chat, error) {
	svc, err := a.conversations()
	if err != nil {
		return Chat{}, err
	}
	if in.Chat == nil {
		return Chat{}, missing("chat")
	}
	body := in.Chat
	tenantID := c.tenantID()
	tree, err := loadMenus(ctx, a.opt.Store, tenantID)
	if err != nil {
		return Chat{}, err
	}
	node, err := chatQueue(tree, body.MenuID)
	if err != nil {
		return Chat{}, err
	}
	if !node.Queue.Hours.OpenAt(a.now()) {
		return Chat{}, badRequest(textAfterHoursChat)
	}
	lang := body.Lang
	if lang == "" {
		lang = node.langOf()
	}
	if lang, err = tree.checkLang(lang); err != nil {
		return Chat{}, err
	}
	if !body.EndUserID.Set {
		return Chat{}, badRequest("end_user_id is required")
	}
	eu, err := a.opt.Store.EndUser(ctx, tenantID, body.EndUserID.Value)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return Chat{}, badRequest("end_user_id " + strconv.FormatInt(body.EndUserID.Value, 10) + " is not found")
	} else if err != nil {
		return Chat{}, err
	}
	lines, err := parseTranscript(body.Transcript)
	if err != nil {
		return Chat{}, err
	}
	full, err := a.overCapacity(ctx, node.Queue)
	if err != nil {
		return Chat{}, err
	}
	start := switchboard.Conversation{Channel: switchboard.ChannelWebChat, QueueID: &node.Queue.ID, Language: lang,
		EndUser: switchboard.EndUser{Identifier: eu.Identifier, Email: strings.TrimSpace(body.Email)},
		Context: switchboard.ConversationContext{Attributes: map[string]string{attrChatType: "Chat (API)"}}}
	if v, ok := body.Context["value"].(map[string]any); ok {
		start.Context.Unsigned = v
	} else if len(body.Context) > 0 {
		start.Context.Unsigned = body.Context
	}
	profile, err := a.webChatProfile(ctx, tenantID)
	if err != nil {
		return Chat{}, err
	}
	if profile != nil {
		start.ProfileID = &profile.ID
	}
	cv, _, err := svc.Start(ctx, tenantID, start, "", nil)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeConflict:
		return Chat{}, badRequest("End user is already in an active chat")
	case err != nil:
		return Chat{}, err
	}
	for _, l := range lines {
		m := switchboard.ConversationMessage{Direction: switchboard.Outbound, Kind: switchboard.KindText, Text: l.text}
		if l.inbound {
			m.Direction = switchboard.Inbound
		}
		if _, err := svc.Send(ctx, tenantID, cv.ID, m); err != nil {
			return Chat{}, err
		}
	}
	if full {
		if _, err := a.opt.Store.CreateEscalation(ctx, tenantID, switchboard.ConversationEscalation{ConversationID: cv.ID,
			Kind: switchboard.EscalationOverCapacity, Reason: "over_capacity", Status: switchboard.EscalationPending}); err != nil {
			return Chat{}, err
		}
	}
	if cv, err = svc.Conversation(ctx, tenantID, cv.ID); err != nil {
		return Chat{}, err
	}
	return a.chatOut(ctx, &cv)
}

func (a *API) listChats(w http.ResponseWriter, c *call) {
	ctx := c.r.Context()
	fail := func(err error) { a.writeError(w, c.r, err) }
	svc, err := a.conversations()
	if err != nil {
		fail(err)
		return
	}
	opt, page, per, err := pageOptions(c.r)
	if err != nil {
		fail(err)
		return
	}
	from, to, err := timeRange(c.r, "created_at")
	if err != nil {
		fail(err)
		return
	}
	f := switchboard.ConversationFilter{}
	if from != nil {
		f.Since = *from
	}
	if to != nil {
		f.Until = *to
	}
	if v := c.r.URL.Query().Get("end_user_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			fail(badRequest("end_user_id must be an integer"))
			return
		}
		f.EndUserID = n
	}
	res, err := svc.List(ctx, c.tenantID(), f, opt)
	if err != nil {
		fail(err)
		return
	}
	tree, err := loadMenus(ctx, a.opt.Store, c.tenantID())
	if err != nil {
		fail(err)
		return
	}
	out := make([]Chat, 0, len(res.Items))
	who := people{}
	for i := range res.Items {
		who, err = a.morePeople(ctx, who, &res.Items[i])
		if err != nil {
			fail(err)
			return
		}
		out = append(out, newChat(&res.Items[i], tree, who))
	}
	writeList(c, a.opt.PublicURL, out, res.Total, page, per)
}

func (a *API) getChat(ctx context.Context, c *call, _ *noBody) (Chat, error) {
	_, cv, err := a.chat(ctx, c)
	if err != nil {
		return Chat{}, err
	}
	return a.chatOut(ctx, &cv)
}

// updateChatBody is PATCH /chats/{id}.
type updateChatBody struct {
	FinishedByUserID flexInt     `json:"finished_by_user_id"`
	Chat             *chatUpdate `json:"chat"`
}

type chatUpdate struct {
	Status            string  `json:"status" limit:"32"`
	DeflectionChannel string  `json:"deflection_channel" limit:"32"`
	EscalationID      flexInt `json:"escalation_id"`
}

// textEnded is UJET's refusal of an action on an ended chat;
// textAfterHoursChat its refusal of a chat its menu's hours close (worded
// as its refusal of calls).
const (
	textEnded          = "Chat is already ended"
	textAfterHoursChat = "Menu is in 'after hours' state, can't accept incoming chats"
)

func (a *API) updateChat(ctx context.Context, c *call, in *updateChatBody) (Chat, error) {
	svc, cv, err := a.chat(ctx, c)
	if err != nil {
		return Chat{}, err
	}
	if in.Chat == nil && !in.FinishedByUserID.Set {
		return Chat{}, missing("chat")
	}
	up := chatUpdate{}
	if in.Chat != nil {
		up = *in.Chat
	}
	tenantID := c.tenantID()
	if up.DeflectionChannel != "" {
		if err := a.deflect(ctx, svc, &cv, up.EscalationID, up.DeflectionChannel); err != nil {
			return Chat{}, err
		}
	}
	switch up.Status {
	case "":
		if in.FinishedByUserID.Set && up.DeflectionChannel == "" {
			up.Status = "finished"
		}
	case "finished":
	default:
		return Chat{}, badRequest("valid status needs to be provided")
	}
	if up.Status == "finished" {
		if cv.Status.Ended() {
			return Chat{}, badRequest(textEnded)
		}
		by := switchboard.SideEndUser
		if in.FinishedByUserID.Set && in.FinishedByUserID.Value != cv.EndUser.ID {
			_, err := a.opt.Store.User(ctx, tenantID, in.FinishedByUserID.Value)
			if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
				return Chat{}, badRequest("finished_by_user_id " + strconv.FormatInt(in.FinishedByUserID.Value, 10) + " is not found")
			} else if err != nil {
				return Chat{}, err
			}
			by = switchboard.SideAgent
		}
		if _, err := svc.Finish(ctx, tenantID, cv.ID, by, ""); err != nil {
			if switchboard.ErrorCode(err) == switchboard.CodeConflict {
				return Chat{}, badRequest(textEnded)
			}
			return Chat{}, err
		}
	}
	if cv, err = svc.Conversation(ctx, tenantID, cv.ID); err != nil {
		return Chat{}, err
	}
	return a.chatOut(ctx, &cv)
}

// deflect records the end user's choice of channel: human_agent keeps the
// chat waiting, email and external_link end it deflected. With an
// escalation (escalationID, or the chat's newest pending one), the
// escalation records the choice; human_agent is for over_capacity
// escalations only.
func (a *API) deflect(ctx context.Context, svc switchboard.Conversations, cv *switchboard.Conversation, escalationID flexInt, channel string) error {
	switch channel {
	case switchboard.DeflectHumanAgent, switchboard.DeflectEmail, switchboard.DeflectExternalLink:
	default:
		return badRequest("valid deflection channel needs to be provided")
	}
	tenantID := cv.TenantID
	var esc *switchboard.ConversationEscalation
	if escalationID.Set {
		e, err := a.opt.Store.Escalation(ctx, tenantID, escalationID.Value)
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound || (err == nil && e.ConversationID != cv.ID) {
			return notFound()
		} else if err != nil {
			return err
		}
		esc = &e
	} else {
		list, err := a.opt.Store.Escalations(ctx, tenantID, cv.ID)
		if err != nil {
			return err
		}
		for i := len(list) - 1; i >= 0; i-- {
			if list[i].Status == switchboard.EscalationPending {
				esc = &list[i]
				break
			}
		}
	}
	if cv.Status.Ended() {
		return badRequest(textEnded)
	}
	if channel == switchboard.DeflectHumanAgent {
		if esc != nil && esc.Kind != switchboard.EscalationOverCapacity {
			return badRequest("human_agent deflection is only for over capacity escalations")
		}
		if cv.Status == switchboard.ConversationQueued {
			if _, err := svc.Deflect(ctx, tenantID, cv.ID, switchboard.DeflectKeepWaiting); err != nil {
				return err
			}
		}
	} else if _, err := svc.Deflect(ctx, tenantID, cv.ID, channel); err != nil {
		if switchboard.ErrorCode(err) == switchboard.CodeConflict {
			return badRequest(textEnded)
		}
		return err
	}
	if esc != nil {
		status := switchboard.EscalationDeflected
		if channel == switchboard.DeflectHumanAgent {
			status = switchboard.EscalationEscalated
		}
		if _, err := a.opt.Store.UpdateEscalationFunc(ctx, tenantID, esc.ID, func(e *switchboard.ConversationEscalation) error {
			e.Status, e.DeflectionChannel = status, channel
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

func (a *API) resumeChat(ctx context.Context, c *call, _ *noBody) (Chat, error) {
	svc, cv, err := a.chat(ctx, c)
	if err != nil {
		return Chat{}, err
	}
	if cv.Status != switchboard.ConversationDismissed {
		return Chat{}, badRequest("This chat is not in dismissed state.")
	}
	if cv.QueueID != nil {
		q, err := a.opt.Store.Queue(ctx, c.tenantID(), *cv.QueueID)
		if err != nil {
			return Chat{}, err
		}
		if !q.Hours.OpenAt(a.now()) {
			return Chat{}, badRequest(textAfterHoursChat)
		}
	}
	cv, err = svc.Resume(ctx, c.tenantID(), cv.ID)
	if switchboard.ErrorCode(err) == switchboard.CodeConflict {
		return Chat{}, badRequest("This chat is not in dismissed state.")
	} else if err != nil {
		return Chat{}, err
	}
	return a.chatOut(ctx, &cv)
}

// chatMessageBody is POST /chats/{id}/message.
type chatMessageBody struct {
	FromUserID flexInt `json:"from_user_id"`
	// FromUserType says which kind of user from_user_id is, end_user or
	// agent (the two are numbered apart and may share a number); without
	// it, the chat's end user's id is the end user and any other an agent.
	FromUserType string       `json:"from_user_type" limit:"16"`
	Message      *chatMessage `json:"message"`
}

type chatMessage struct {
	Type string `json:"type" limit:"16"`
	// Content is {"text": …} (or {"media_id": …} for media) or a plain
	// string.
	Content json.RawMessage `json:"content"`
	MediaID flexInt         `json:"media_id"`
}

// ChatMessageOut is a message as the chat routes answer it.
type ChatMessageOut struct {
	ID         int64          `json:"id"`
	ChatID     int64          `json:"chat_id"`
	FromUserID *int64         `json:"from_user_id"`
	SenderType string         `json:"sender_type"`
	Type       string         `json:"type"`
	Content    ChatMsgContent `json:"content"`
	CreatedAt  string         `json:"created_at"`
}

// ChatMsgContent is a message's content: its text, or its media.
type ChatMsgContent struct {
	Text    string `json:"text,omitempty"`
	MediaID *int64 `json:"media_id,omitempty"`
}

// readContent reads a message's content: {"text": …, "media_id": …} or a
// plain string.
func readContent(raw json.RawMessage) (text string, media flexInt, err error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return "", media, nil
	}
	if raw[0] == '"' {
		err = json.Unmarshal(raw, &text)
		return text, media, err
	}
	var obj struct {
		Text    string  `json:"text"`
		MediaID flexInt `json:"media_id"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", media, badRequest("message.content must be {\"text\": …} or a string")
	}
	return obj.Text, obj.MediaID, nil
}

func (a *API) chatMessage(ctx context.Context, c *call, in *chatMessageBody) (ChatMessageOut, error) {
	svc, cv, err := a.chat(ctx, c)
	if err != nil {
		return ChatMessageOut{}, err
	}
	if in.Message == nil {
		return ChatMessageOut{}, missing("message")
	}
	text, media, err := readContent(in.Message.Content)
	if err != nil {
		return ChatMessageOut{}, err
	}
	if !media.Set {
		media = in.Message.MediaID
	}
	m := switchboard.ConversationMessage{Direction: switchboard.Inbound, Text: text}
	switch typ := strings.ToLower(strings.TrimSpace(in.Message.Type)); typ {
	case "", "text":
		m.Kind = switchboard.KindText
		if strings.TrimSpace(text) == "" {
			return ChatMessageOut{}, badRequest("message content is required")
		}
	case "photo", "video":
		m.Kind = switchboard.MessageKind(typ)
		if !media.Set {
			return ChatMessageOut{}, badRequest("media_id is required")
		}
		m.AttachmentID = &media.Value
	default:
		return ChatMessageOut{}, badRequest("valid message type needs to be provided")
	}
	if cv.Status.Ended() {
		return ChatMessageOut{}, badRequest(textEnded)
	}
	var from *int64
	sender := "end_user"
	asAgent := in.FromUserID.Set && in.FromUserID.Value != cv.EndUser.ID
	switch in.FromUserType {
	case "":
	case "agent":
		asAgent = in.FromUserID.Set
		if !asAgent {
			return ChatMessageOut{}, badRequest("from_user_id is required")
		}
	case "end_user":
		if in.FromUserID.Set && in.FromUserID.Value != cv.EndUser.ID {
			return ChatMessageOut{}, badRequest("from_user_id " + strconv.FormatInt(in.FromUserID.Value, 10) + " is not the chat's end user")
		}
		asAgent = false
	default:
		return ChatMessageOut{}, badRequest("from_user_type must be end_user or agent")
	}
	if asAgent {
		u, err := a.opt.Store.User(ctx, c.tenantID(), in.FromUserID.Value)
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound || (err == nil && u.DeactivatedAt != nil) {
			return ChatMessageOut{}, badRequest("from_user_id " + strconv.FormatInt(in.FromUserID.Value, 10) + " is not found")
		} else if err != nil {
			return ChatMessageOut{}, err
		}
		m.Direction, m.AgentID, sender = switchboard.Outbound, &u.ID, "agent"
		from = &u.ID
	} else {
		from = &cv.EndUser.ID
	}
	msg, err := svc.Send(ctx, c.tenantID(), cv.ID, m)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeConflict && cv.Status.Ended():
		return ChatMessageOut{}, badRequest(textEnded)
	case switchboard.ErrorCode(err) == switchboard.CodeForbidden:
		return ChatMessageOut{}, badRequest("Chat is assigned to another agent")
	case switchboard.ErrorCode(err) == switchboard.CodeConflict && m.AgentID != nil:
		// The agent cannot take the chat now: not signed in, or every chat
		// slot of theirs taken.
		return ChatMessageOut{}, badRequest("Agent is not available to take this chat")
	case err != nil:
		return ChatMessageOut{}, err
	}
	return messageOut(msg, from, sender), nil
}

func messageOut(m switchboard.ConversationMessage, from *int64, sender string) ChatMessageOut {
	out := ChatMessageOut{ID: m.ID, ChatID: m.ConversationID, FromUserID: from, SenderType: sender, Type: string(m.Kind),
		CreatedAt: millis(m.CreatedAt)}
	if m.AttachmentID != nil {
		out.Content.MediaID = m.AttachmentID
	}
	out.Content.Text = m.Text
	return out
}
