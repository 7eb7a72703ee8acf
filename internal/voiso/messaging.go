package voiso

import (
	"context"
	"net/url"
	"strings"

	"switchboard"
)

// The messaging routes: conversations on every channel but SMS with their
// messages, channel profiles, canned messages, WhatsApp templates, and SMS
// sent as an agent. Conversations and messages are named by their UUIDs
// (doc.go: Identifiers); an SMS thread is not a conversation here (doc.go:
// Records), so its UUID is not found on these routes.

func (a *API) messagingRoutes() []route {
	return []route{
		handler(route{Method: "GET", Path: "messaging/conversations", Scope: switchboard.ScopeMessagingConversationsRead,
			Summary: "Conversations on every channel but SMS, newest first",
			Doc: "Filters: subtype (a channel: web_chat, whatsapp …; chat means web_chat), status (active or archived), " +
				"user_id, queue_id, contact_id, started_at with bracket comparisons. Each filter takes one value.",
			Query: append([]param{
				{"subtype", "string", "the channel: web_chat (or chat), whatsapp, telegram …"},
				{"status", "string", "active (not ended) or archived (ended)"},
				{"user_id", "integer", "the agent who holds or last held it"},
				{"queue_id", "integer", "its queue"},
				{"contact_id", "integer", "its contact (end user)"},
				{"started_at[gte]", "string", "started at or after (also gt, lt, lte, eq)"},
			}, msgPageParams...)},
			a.listConversations),
		handler(route{Method: "GET", Path: "messaging/conversations/{conversation_id}", Scope: switchboard.ScopeMessagingConversationsRead,
			Summary: "A conversation, by its UUID"},
			a.getConversation),
		handler(route{Method: "GET", Path: "messaging/conversations/{conversation_id}/messages", Scope: switchboard.ScopeMessagingConversationsRead,
			Summary: "A conversation's messages, oldest first",
			Doc: "Every line of the transcript: messages exchanged with the contact, agents' notes and system lines " +
				"(activity message, note, system). offset counts lines from the first.",
			Query: msgPageParams},
			a.conversationMessages),
		handler(route{Method: "GET", Path: "messaging/channel_profiles", Scope: switchboard.ScopeMessagingChannelProfilesRead,
			Summary: "Channel profiles: the numbers and accounts conversations run on",
			Query:   append([]param{{"channel", "string", "only profiles of this channel"}}, msgPageParams...)},
			a.listChannelProfiles),
		handler(route{Method: "GET", Path: "messaging/canned_messages", Scope: switchboard.ScopeMessagingCannedMessagesRead,
			Summary: "Canned messages: reusable agent replies, by name", Query: msgPageParams},
			a.listCannedMessages),
		handler(route{Method: "GET", Path: "messaging/whatsapp_templates", Scope: switchboard.ScopeMessagingTemplatesRead,
			Summary: "WhatsApp templates of every WhatsApp number of the contact center", Query: msgPageParams},
			a.listWhatsAppTemplates),
		handler(route{Method: "POST", Path: "messaging/sms", Scope: switchboard.ScopeMessagingSMSManage,
			Summary: "Send an SMS as an agent",
			Doc: "The text goes out from sender_id (or the agent's outbound number) through the agent's SMS conversation " +
				"with phone_number, started when none is open. body is 1 to 1,600 characters. At most 20 SMS from one agent " +
				"to one number per day, and no identical text twice within 2 seconds: either is 429. A number that texted " +
				"STOP is 422 naming phone_number."},
			a.sendSMS),
	}
}

// msgPageParams documents limit and offset.
var msgPageParams = []param{
	{"limit", "integer", "1 to 100, default 100"},
	{"offset", "integer", "items to skip, default 0"},
}

// conversations is the conversation service, or 503 where none runs.
func (a *API) conversations() (switchboard.Conversations, error) {
	if a.opt.Conversations == nil {
		return nil, switchboard.Errorf(switchboard.CodeUnavailable, "conversations are not running on this server")
	}
	return a.opt.Conversations, nil
}

// convAgent is Voiso's common agent object.
type convAgent struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Extension string `json:"extension"`
}

// convContact is the person on the other side of a conversation: the end
// user, named by their channel address.
type convContact struct {
	ID                int64  `json:"id"`
	Username          string `json:"username"`
	ChannelIdentifier string `json:"channel_identifier"`
}

// convChannel is the channel profile a conversation runs on.
type convChannel struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Name string `json:"name"`
}

// convRef is an object named by its id and name (a queue, a team).
type convRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// conversationOut is a conversation as the list and the get show it.
type conversationOut struct {
	ID         string      `json:"id"`
	Status     string      `json:"status"`
	Channel    convChannel `json:"channel"`
	Contact    convContact `json:"contact"`
	Agent      *convAgent  `json:"agent"`
	Queue      *convRef    `json:"queue"`
	StartedAt  string      `json:"started_at"`
	EndedAt    *string     `json:"ended_at"`
	WrapupCode *string     `json:"wrapup_code"`
}

// msgListMetadata is a list's metadata: the number of every match, not the
// page's.
type msgListMetadata struct {
	Total int `json:"total"`
}

type conversationsOut struct {
	Conversations []conversationOut `json:"conversations"`
	Metadata      msgListMetadata   `json:"metadata"`
}

type conversationGetOut struct {
	Conversation conversationOut `json:"conversation"`
}

// convNames looks up, once per request, the names a page of objects shows:
// agents, queues, teams and channel profiles, each read by id. Whatever is
// gone (a deleted queue) renders as absent rather than failing the page.
type convNames struct {
	store    switchboard.Store
	tenantID int64
	users    map[int64]*switchboard.User
	queues   map[int64]*switchboard.Queue
	teams    map[int64]*switchboard.Team
	profiles map[int64]*switchboard.ChannelProfile
}

func (a *API) convNamesFor(tenantID int64) *convNames {
	return &convNames{store: a.opt.Store, tenantID: tenantID, users: map[int64]*switchboard.User{},
		queues: map[int64]*switchboard.Queue{}, teams: map[int64]*switchboard.Team{}, profiles: map[int64]*switchboard.ChannelProfile{}}
}

// convLookup reads id through get once, keeping nil for what is not found.
func convLookup[T any](ctx context.Context, seen map[int64]*T, id int64, get func(context.Context, int64) (T, error)) (*T, error) {
	if v, ok := seen[id]; ok {
		return v, nil
	}
	v, err := get(ctx, id)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound:
		seen[id] = nil
		return nil, nil
	case err != nil:
		return nil, err
	}
	seen[id] = &v
	return &v, nil
}

// loadAgents reads a page's agents in one query: the conversations of a
// page are held by many agents more often than they sit in many queues.
func (n *convNames) loadAgents(ctx context.Context, page []switchboard.Conversation) error {
	var ids []int64
	for _, cv := range page {
		if cv.AgentID != nil {
			if _, seen := n.users[*cv.AgentID]; !seen {
				ids = append(ids, *cv.AgentID)
				n.users[*cv.AgentID] = nil // unless found below
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	users, err := n.store.UsersByID(ctx, n.tenantID, ids)
	for i := range users {
		n.users[users[i].ID] = &users[i]
	}
	return err
}

func (n *convNames) agent(ctx context.Context, id *int64) (*convAgent, error) {
	if id == nil {
		return nil, nil
	}
	u, err := convLookup(ctx, n.users, *id, func(ctx context.Context, id int64) (switchboard.User, error) {
		return n.store.User(ctx, n.tenantID, id)
	})
	if u == nil {
		return nil, err
	}
	return &convAgent{ID: u.ID, Name: u.Name(), Email: u.Email, Extension: u.Extension}, nil
}

func (n *convNames) queue(ctx context.Context, id *int64) (*convRef, error) {
	if id == nil {
		return nil, nil
	}
	q, err := convLookup(ctx, n.queues, *id, func(ctx context.Context, id int64) (switchboard.Queue, error) {
		return n.store.Queue(ctx, n.tenantID, id)
	})
	if q == nil {
		return nil, err
	}
	return &convRef{ID: q.ID, Name: q.Name}, nil
}

func (n *convNames) team(ctx context.Context, id int64) (*convRef, error) {
	t, err := convLookup(ctx, n.teams, id, func(ctx context.Context, id int64) (switchboard.Team, error) {
		return n.store.Team(ctx, n.tenantID, id)
	})
	if t == nil {
		return nil, err
	}
	return &convRef{ID: t.ID, Name: t.Name}, nil
}

func (n *convNames) profile(ctx context.Context, id int64) (*switchboard.ChannelProfile, error) {
	return convLookup(ctx, n.profiles, id, func(ctx context.Context, id int64) (switchboard.ChannelProfile, error) {
		return n.store.ChannelProfile(ctx, n.tenantID, id)
	})
}

// conversation renders cv. A conversation without a channel profile (a web
// chat started on the channel alone) has a channel object with an empty id
// and its Via, if any, as its name.
func (n *convNames) conversation(ctx context.Context, cv switchboard.Conversation) (conversationOut, error) {
	out := conversationOut{ID: cv.UUID, Status: convStatus(cv.Status), StartedAt: seconds(cv.CreatedAt), EndedAt: optSeconds(cv.EndedAt),
		Channel: convChannel{Type: convChannelType(cv.Channel), Name: cv.Via}, Contact: convContactOf(cv)}
	if cv.EndReason != "" {
		out.WrapupCode = &cv.EndReason
	}
	var err error
	if cv.ProfileID != nil {
		p, err := n.profile(ctx, *cv.ProfileID)
		if err != nil {
			return out, err
		}
		if p != nil {
			out.Channel.ID, out.Channel.Name = p.UUID, p.Name
		}
	}
	if out.Agent, err = n.agent(ctx, cv.AgentID); err != nil {
		return out, err
	}
	out.Queue, err = n.queue(ctx, cv.QueueID)
	return out, err
}

// convContactOf is the conversation's end user: their name (Guest when they
// gave none, as Voiso names anonymous visitors, and as the CDR list shows
// them) and their address on the channel, numbers as digits.
func convContactOf(cv switchboard.Conversation) convContact {
	name := cv.EndUser.Name
	if name == "" {
		name = "Guest"
	}
	return convContact{ID: cv.EndUser.ID, Username: name, ChannelIdentifier: digits(cv.Address)}
}

// conversationFilter reads the list's filters. A channel filter of sms
// matches nothing: SMS are records of their own (doc.go: Records).
func conversationFilter(q url.Values) (f switchboard.ConversationFilter, none bool, err error) {
	one := func(key string) (string, error) {
		v := values(q, key, true)
		if len(v) > 1 {
			return "", badRequest("%s takes one value", key)
		}
		if len(v) == 0 {
			return "", nil
		}
		return v[0], nil
	}
	oneID := func(key string) (int64, error) {
		if _, err := one(key); err != nil {
			return 0, err
		}
		got, err := ids(q, key)
		if err != nil || len(got) == 0 {
			return 0, err
		}
		return got[0], nil
	}
	sub, err := one("subtype")
	if err != nil {
		return f, false, err
	}
	switch ch := switchboard.ConversationChannel(sub); {
	case sub == "":
	case sub == "chat":
		f.Channel = switchboard.ChannelWebChat
	case ch == switchboard.ChannelSMS:
		none = true
	case !switchboard.ValidConversationChannel(ch):
		return f, false, badRequest("subtype must be a channel such as web_chat, whatsapp or telegram")
	default:
		f.Channel = ch
	}
	switch st, err := one("status"); {
	case err != nil:
		return f, false, err
	case st == "active":
		f.Open = true
	case st == "archived":
		f.Ended = true
	case st != "":
		return f, false, badRequest("status must be active or archived")
	}
	if f.AgentID, err = oneID("user_id"); err != nil {
		return f, false, err
	}
	if f.QueueID, err = oneID("queue_id"); err != nil {
		return f, false, err
	}
	if f.EndUserID, err = oneID("contact_id"); err != nil {
		return f, false, err
	}
	started, err := comparisons(q, "started_at")
	if err != nil {
		return f, false, err
	}
	if started.Since != nil {
		f.Since = *started.Since
	}
	if started.Until != nil {
		f.Until = *started.Until
	}
	if started.Since != nil && started.Until != nil && !started.Until.After(*started.Since) {
		none = true // an empty range: the store would read its whole bound
	}
	f.ExcludeChannel = switchboard.ChannelSMS
	return f, none, nil
}

func (a *API) listConversations(ctx context.Context, c *call, _ *noBody) (conversationsOut, error) {
	out := conversationsOut{Conversations: []conversationOut{}}
	svc, err := a.conversations()
	if err != nil {
		return out, err
	}
	q := c.r.URL.Query()
	opt, err := listOptions(q)
	if err != nil {
		return out, err
	}
	f, none, err := conversationFilter(q)
	if err != nil || none {
		return out, err
	}
	page, err := svc.List(ctx, c.tenantID(), f, opt)
	if err != nil {
		return out, err
	}
	n := a.convNamesFor(c.tenantID())
	if err := n.loadAgents(ctx, page.Items); err != nil {
		return out, err
	}
	for _, cv := range page.Items {
		o, err := n.conversation(ctx, cv)
		if err != nil {
			return out, err
		}
		out.Conversations = append(out.Conversations, o)
	}
	out.Metadata.Total = page.Total
	return out, nil
}

// conversationOf reads the conversation the path names by UUID: another
// tenant's, an SMS thread's or a malformed id is not found.
func (a *API) conversationOf(ctx context.Context, c *call) (switchboard.Conversation, error) {
	id := c.r.PathValue("conversation_id")
	if !uuidLike(id) {
		return switchboard.Conversation{}, switchboard.Errorf(switchboard.CodeNotFound, "no conversation %s", switchboard.Echo(id))
	}
	cv, err := a.opt.Store.ConversationByUUID(ctx, c.tenantID(), strings.ToLower(id))
	if err == nil && cv.Channel == switchboard.ChannelSMS {
		err = switchboard.Errorf(switchboard.CodeNotFound, "no conversation %s: SMS are records of type sms", id)
	}
	return cv, err
}

// uuidLike says whether s has a UUID's form, so that a path that cannot
// name a conversation costs no read.
func uuidLike(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case (r < '0' || r > '9') && (r < 'a' || r > 'f') && (r < 'A' || r > 'F'):
			return false
		}
	}
	return true
}

func (a *API) getConversation(ctx context.Context, c *call, _ *noBody) (conversationGetOut, error) {
	cv, err := a.conversationOf(ctx, c)
	if err != nil {
		return conversationGetOut{}, err
	}
	out, err := a.convNamesFor(c.tenantID()).conversation(ctx, cv)
	return conversationGetOut{Conversation: out}, err
}

// messageOut is one line of a conversation's transcript.
type messageOut struct {
	ID             string            `json:"id"`
	ConversationID string            `json:"conversation_id"`
	ContentType    string            `json:"content_type"`
	ContentData    messageContent    `json:"content_data"`
	Activity       string            `json:"activity"`
	ActivityType   string            `json:"activity_type"`
	Participant    participant       `json:"participant"`
	Attributes     messageAttributes `json:"attributes"`
	Status         string            `json:"status"`
	CreatedAt      string            `json:"created_at"`
	UpdatedAt      string            `json:"updated_at"`
}

// messageAttributes are a message's extra attributes: none are kept, and
// the object is always empty, as Voiso shows it for plain messages.
type messageAttributes struct{}

type messageContent struct {
	Text string `json:"text"`
}

// participant is who wrote a line: the agent, the contact (end user), or
// the system (an integration, a bot, an activity line), whose id is 0.
type participant struct {
	ID   int64  `json:"participant_id"`
	Type string `json:"participant_type"`
}

type messagesOut struct {
	Messages []messageOut    `json:"messages"`
	Metadata msgListMetadata `json:"metadata"`
}

// conversationMessages pages the transcript by offset. Messages are
// numbered 1, 2, 3… without gaps (Seq), so offset n is "after Seq n": a page
// costs one index range read however deep, and the total is the newest
// Seq, read with the conversation.
func (a *API) conversationMessages(ctx context.Context, c *call, _ *noBody) (messagesOut, error) {
	out := messagesOut{Messages: []messageOut{}}
	svc, err := a.conversations()
	if err != nil {
		return out, err
	}
	limit, offset, err := pageOf(c.r.URL.Query(), 1, maxLimit)
	if err != nil {
		return out, err
	}
	cv, err := a.conversationOf(ctx, c)
	if err != nil {
		return out, err
	}
	out.Metadata.Total = int(cv.LastSeq)
	if int64(offset) >= cv.LastSeq {
		return out, nil
	}
	msgs, err := svc.Messages(ctx, c.tenantID(), cv.ID, int64(offset), limit)
	if err != nil {
		return out, err
	}
	for _, m := range msgs {
		out.Messages = append(out.Messages, messageOf(cv, m))
	}
	return out, nil
}

// messageOf renders m of cv.
func messageOf(cv switchboard.Conversation, m switchboard.ConversationMessage) messageOut {
	p := participant{Type: "system"}
	switch {
	case m.Direction == switchboard.Inbound:
		p = participant{ID: cv.EndUser.ID, Type: "contact"}
	case m.AgentID != nil:
		p = participant{ID: *m.AgentID, Type: "agent"}
	}
	return messageOut{ID: m.UUID, ConversationID: cv.UUID, ContentType: msgContentType(m.Kind), ContentData: messageContent{Text: m.Text},
		Activity: msgActivity(m.Kind), ActivityType: string(m.Direction), Participant: p, Status: msgStatus(m.Status),
		CreatedAt: seconds(m.CreatedAt), UpdatedAt: seconds(m.UpdatedAt)}
}

// channelProfileOut is a channel profile, as the user object embeds it.
type channelProfileOut struct {
	ID         int64  `json:"id"`
	Channel    string `json:"channel"`
	Identifier string `json:"identifier"`
	Name       string `json:"name"`
}

type channelProfilesOut struct {
	ChannelProfiles []channelProfileOut `json:"channel_profiles"`
	Metadata        msgListMetadata     `json:"metadata"`
}

// channelProfileOf renders p; a number is shown as digits.
func channelProfileOf(p switchboard.ChannelProfile) channelProfileOut {
	return channelProfileOut{ID: p.ID, Channel: string(p.Channel), Identifier: digits(p.Identifier), Name: p.Name}
}

func (a *API) listChannelProfiles(ctx context.Context, c *call, _ *noBody) (channelProfilesOut, error) {
	out := channelProfilesOut{ChannelProfiles: []channelProfileOut{}}
	q := c.r.URL.Query()
	opt, err := listOptions(q)
	if err != nil {
		return out, err
	}
	ch := switchboard.ConversationChannel(strings.TrimSpace(q.Get("channel")))
	if ch == "chat" {
		ch = switchboard.ChannelWebChat
	}
	if ch != "" && !switchboard.ValidConversationChannel(ch) {
		return out, badRequest("channel must be a channel such as sms, whatsapp or web_chat")
	}
	page, err := a.opt.Store.ChannelProfiles(ctx, c.tenantID(), ch, opt)
	if err != nil {
		return out, err
	}
	for _, p := range page.Items {
		out.ChannelProfiles = append(out.ChannelProfiles, channelProfileOf(p))
	}
	out.Metadata.Total = page.Total
	return out, nil
}

// cannedMessageOut is a canned reply: channels empty means every channel,
// teams empty every team (the core's rule).
type cannedMessageOut struct {
	ID       int64     `json:"id"`
	Name     string    `json:"name"`
	Body     string    `json:"body"`
	Channels []string  `json:"channels"`
	Teams    []convRef `json:"teams"`
}

type cannedMessagesOut struct {
	CannedMessages []cannedMessageOut `json:"canned_messages"`
	Metadata       msgListMetadata    `json:"metadata"`
}

func (a *API) listCannedMessages(ctx context.Context, c *call, _ *noBody) (cannedMessagesOut, error) {
	out := cannedMessagesOut{CannedMessages: []cannedMessageOut{}}
	opt, err := listOptions(c.r.URL.Query())
	if err != nil {
		return out, err
	}
	page, err := a.opt.Store.CannedReplies(ctx, c.tenantID(), "", 0, opt)
	if err != nil {
		return out, err
	}
	n := a.convNamesFor(c.tenantID())
	for _, r := range page.Items {
		o := cannedMessageOut{ID: r.ID, Name: r.Name, Body: r.Body, Channels: []string{}, Teams: []convRef{}}
		for _, ch := range r.Channels {
			o.Channels = append(o.Channels, string(ch))
		}
		for _, id := range r.TeamIDs {
			t, err := n.team(ctx, id)
			if err != nil {
				return out, err
			}
			if t != nil {
				o.Teams = append(o.Teams, *t)
			}
		}
		out.CannedMessages = append(out.CannedMessages, o)
	}
	out.Metadata.Total = page.Total
	return out, nil
}

// whatsAppTemplateOut is a template of one of the WhatsApp numbers, as
// Voiso's v3 listed them: its UUID is what a sender names.
type whatsAppTemplateOut struct {
	UUID     string `json:"uuid"`
	Name     string `json:"name"`
	Category string `json:"category"`
	Language string `json:"language"`
	Body     string `json:"body"`
	Number   string `json:"number"`
}

type whatsAppTemplatesOut struct {
	WhatsAppTemplates []whatsAppTemplateOut `json:"whatsapp_templates"`
	Metadata          msgListMetadata       `json:"metadata"`
}

// listWhatsAppTemplates lists the templates of every WhatsApp profile as
// one list: the profiles in the order they were made, each one's templates
// in theirs. Templates belong to a profile, and other channels' profiles may
// have some (a provider's own channel): those are not WhatsApp's.
func (a *API) listWhatsAppTemplates(ctx context.Context, c *call, _ *noBody) (whatsAppTemplatesOut, error) {
	out := whatsAppTemplatesOut{WhatsAppTemplates: []whatsAppTemplateOut{}}
	opt, err := listOptions(c.r.URL.Query())
	if err != nil {
		return out, err
	}
	tenantID := c.tenantID()
	var profiles []switchboard.ChannelProfile
	popt := switchboard.ListOptions{Limit: switchboard.MaxPageLimit, SkipTotal: true}
	for {
		page, err := a.opt.Store.ChannelProfiles(ctx, tenantID, switchboard.ChannelWhatsApp, popt)
		if err != nil {
			return out, err
		}
		profiles = append(profiles, page.Items...)
		if page.NextCursor == "" {
			break
		}
		popt.Cursor = page.NextCursor
	}
	// Each profile's page answers its total too: the ones before the
	// offset are skipped by their totals, and once the page is full a
	// page of one still counts the rest.
	skip, want := opt.Offset, opt.Limit
	for _, p := range profiles {
		page, err := a.opt.Store.MessageTemplates(ctx, tenantID, p.ID, switchboard.ListOptions{Limit: max(want, 1), Offset: min(skip, switchboard.MaxOffset)})
		if err != nil {
			return out, err
		}
		out.Metadata.Total += page.Total
		if skip >= page.Total {
			skip -= page.Total
			continue
		}
		skip = 0
		for _, t := range page.Items[:min(len(page.Items), want)] {
			out.WhatsAppTemplates = append(out.WhatsAppTemplates, whatsAppTemplateOut{UUID: t.UUID, Name: t.Name,
				Category: strings.ToUpper(t.Category), Language: t.Language, Body: t.Body, Number: digits(p.Identifier)})
			want--
		}
	}
	return out, nil
}

// convChannelType is the type of a conversation's channel object: Voiso calls
// its web chat "chat" there (the message webhook's example), while record
// subtypes keep the legacy channel names (web_chat, whatsapp …), which are
// the core's.
func convChannelType(c switchboard.ConversationChannel) string {
	if c == switchboard.ChannelWebChat {
		return "chat"
	}
	return string(c)
}

// convStatus is Voiso's legacy two-valued status: active until the
// conversation ends, archived after.
func convStatus(s switchboard.ConversationStatus) string {
	if s.Ended() {
		return "archived"
	}
	return "active"
}

// msgStatus renders a message's receipt status in Voiso's vocabulary
// (initial, accepted, waiting, ready, sent, delivered, seen, failed): a
// message the end user sent is accepted, as the message.received webhook's
// example shows; one waiting for its provider is waiting; read is seen.
func msgStatus(s switchboard.ReceiptStatus) string {
	switch s {
	case switchboard.ReceiptQueued:
		return "waiting"
	case switchboard.ReceiptSent:
		return "sent"
	case switchboard.ReceiptDelivered:
		return "delivered"
	case switchboard.ReceiptRead:
		return "seen"
	case switchboard.ReceiptFailed:
		return "failed"
	case switchboard.ReceiptReceived:
		return "accepted"
	}
	return "initial"
}

// msgContentType renders a message's kind as Voiso's content_type: media are
// image, video or document, as the legacy channels name them; an activity
// line is a notification (web chat's word); a note is text.
func msgContentType(k switchboard.MessageKind) string {
	switch k {
	case switchboard.KindPhoto:
		return "image"
	case switchboard.KindVideo:
		return "video"
	case switchboard.KindFile:
		return "document"
	case switchboard.KindTemplate:
		return "template"
	case switchboard.KindActivity:
		return "notification"
	}
	return "text"
}

// msgActivity says what a transcript line is: a message exchanged with
// the end user, an agents' note, or a system line.
func msgActivity(k switchboard.MessageKind) string {
	switch k {
	case switchboard.KindNote:
		return "note"
	case switchboard.KindActivity:
		return "system"
	}
	return "message"
}
