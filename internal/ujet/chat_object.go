package ujet

// The chat objects UJET shows: the chat platform's chat object (web chats:
// GET /chats, POST /chats and the chat webhooks) and the messaging chat
// object POST /sms answers (the call object's shape, for SMS chats), both
// drawn from a core conversation.

import (
	"context"
	"strconv"
	"strings"

	"switchboard"
)

// The attributes the dialect records on the conversations it starts
// (ConversationContext.Attributes): UJET's chat type and the CRM ticket.
const (
	attrChatType = "ujet.chat_type"
	attrTicketID = "ujet.ticket_id"
)

// The customer flags UJET names, kept as the conversation's flags.
const (
	flagVerified = "verified_customer"
	flagBadActor = "bad_actor"
	flagRepeat   = "repeat_customer"
)

// chatStatus is a conversation's status in UJET's words: a conversation an
// agent holds is assigned (UJET has no separate "in progress"), an
// abandoned one finished, as UJET ends every chat that was not deflected.
func chatStatus(c *switchboard.Conversation) string {
	switch c.Status {
	case switchboard.ConversationQueued:
		return "queued"
	case switchboard.ConversationAssigned, switchboard.ConversationInProgress:
		return "assigned"
	case switchboard.ConversationDismissed:
		return "dismissed"
	case switchboard.ConversationDeflected:
		return "deflected"
	case switchboard.ConversationFinished, switchboard.ConversationAbandoned:
		return "finished"
	}
	return string(c.Status)
}

// statusText is the chat object's status_text: the status said to a person.
func statusText(c *switchboard.Conversation) string {
	switch c.Status {
	case switchboard.ConversationQueued:
		return "Waiting for an agent"
	case switchboard.ConversationAssigned:
		return "An agent has been assigned"
	case switchboard.ConversationInProgress:
		return "Chatting with an agent"
	case switchboard.ConversationDismissed:
		return "Dismissed for inactivity"
	case switchboard.ConversationDeflected:
		return "Deflected to " + strings.ReplaceAll(c.Deflection, "_", " ")
	case switchboard.ConversationAbandoned:
		return "Ended before an agent answered"
	}
	return "Chat ended"
}

// ChatAgent is an agent in the chat object.
type ChatAgent struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	FirstName string  `json:"first_name"`
	AvatarURL *string `json:"avatar_url"`
	// Status is the agent's part in the chat: assigned (offered), connected
	// (chatting) or finished (gone from it).
	Status string `json:"status"`
}

// ChatVirtualAgent is a virtual agent in the chat object; Switchboard runs
// none, so the chat object's virtual_agent is null and its list empty.
type ChatVirtualAgent struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	AvatarURL *string `json:"avatar_url"`
	Status    string  `json:"status"`
}

// ChatMenu is one menu of the path the chat took (root first).
type ChatMenu struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ChatEndUser is the chat's end user.
type ChatEndUser struct {
	ID         int64  `json:"id"`
	Identifier string `json:"identifier"`
}

// Chat is the chat platform's chat object (spec §3.2).
type Chat struct {
	ID               int64              `json:"id"`
	Status           string             `json:"status"`
	StatusText       string             `json:"status_text"`
	Features         []string           `json:"features"`
	CreatedAt        string             `json:"created_at"`
	EndsAt           *string            `json:"ends_at"`
	TimeoutAt        *string            `json:"timeout_at"`
	Agent            *ChatAgent         `json:"agent"`
	VirtualAgent     *ChatVirtualAgent  `json:"virtual_agent"`
	AllAgents        []ChatAgent        `json:"all_agents"`
	AllVirtualAgents []ChatVirtualAgent `json:"all_virtual_agents"`
	Lang             string             `json:"lang"`
	Menus            []ChatMenu         `json:"menus"`
	EndUser          ChatEndUser        `json:"end_user"`
}

// chatFeatures are what a chat here carries besides text: UJET lists a
// chat's media features; photos and videos are served (POST
// /chats/{id}/photos, /videos).
var chatFeatures = []string{"photo", "video"}

// person is a user as the chat objects name them.
type person struct {
	ID                               int64
	FirstName, LastName, Email, Code string
}

func (p person) name() string {
	return strings.TrimSpace(p.FirstName + " " + p.LastName)
}

func personOf(u *switchboard.UserRef) *person {
	if u == nil {
		return nil
	}
	return &person{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email}
}

// people names the users a conversation involves: its agent and the
// agents it was transferred from.
type people map[int64]person

// peopleOf reads the users of c from the store; users it no longer knows
// are left out (and shown by id alone).
func (a *API) peopleOf(ctx context.Context, c *switchboard.Conversation) (people, error) {
	return a.morePeople(ctx, people{}, c)
}

// morePeople adds the users of c that out lacks (a list's chats share
// their agents).
func (a *API) morePeople(ctx context.Context, out people, c *switchboard.Conversation) (people, error) {
	ids := []int64{}
	if c.AgentID != nil {
		ids = append(ids, *c.AgentID)
	}
	for _, t := range c.Transfers {
		if t.FromAgentID != nil {
			ids = append(ids, *t.FromAgentID)
		}
	}
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		u, err := a.opt.Store.User(ctx, c.TenantID, id)
		switch {
		case switchboard.ErrorCode(err) == switchboard.CodeNotFound:
			continue
		case err != nil:
			return nil, err
		}
		out[id] = person{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Code: u.AgentNumber}
	}
	return out, nil
}

func (p people) get(id int64) person {
	if v, ok := p[id]; ok {
		return v
	}
	return person{ID: id}
}

// agentPart is an agent's part in the chat: assigned (offered), connected
// (chatting) or finished.
func agentPart(c *switchboard.Conversation) string {
	switch {
	case c.Status == switchboard.ConversationAssigned:
		return "assigned"
	case c.Status == switchboard.ConversationInProgress:
		return "connected"
	}
	return "finished"
}

// newChat renders c as the chat object; tree names its menus (nil: none).
func newChat(c *switchboard.Conversation, tree *menuTree, who people) Chat {
	out := Chat{ID: c.ID, Status: chatStatus(c), StatusText: statusText(c), Features: chatFeatures, CreatedAt: millis(c.CreatedAt),
		EndsAt: optMillis(c.EndedAt), AllAgents: []ChatAgent{}, AllVirtualAgents: []ChatVirtualAgent{}, Lang: chatLang(c),
		Menus: []ChatMenu{}, EndUser: ChatEndUser{ID: c.EndUser.ID, Identifier: c.EndUser.Identifier}}
	seen := map[int64]bool{}
	for _, t := range c.Transfers {
		if t.FromAgentID != nil && !seen[*t.FromAgentID] {
			seen[*t.FromAgentID] = true
			p := who.get(*t.FromAgentID)
			out.AllAgents = append(out.AllAgents, ChatAgent{ID: p.ID, Name: p.name(), FirstName: p.FirstName, Status: "finished"})
		}
	}
	if c.AgentID != nil {
		p := who.get(*c.AgentID)
		ag := ChatAgent{ID: p.ID, Name: p.name(), FirstName: p.FirstName, Status: agentPart(c)}
		if held(c) {
			out.Agent = &ag
		}
		if !seen[ag.ID] {
			out.AllAgents = append(out.AllAgents, ag)
		}
	}
	if c.QueueID != nil && tree != nil {
		for _, n := range tree.path(queueMenuID(*c.QueueID)) {
			out.Menus = append(out.Menus, ChatMenu{ID: n.ID, Name: n.Name})
		}
	}
	return out
}

// held says an agent holds c now.
func held(c *switchboard.Conversation) bool {
	return c.Status == switchboard.ConversationAssigned || c.Status == switchboard.ConversationInProgress
}

// chatLang is the chat's language, UJET's default when it has none.
func chatLang(c *switchboard.Conversation) string {
	if c.Language != "" {
		return c.Language
	}
	return defaultLang
}

// SMSAgentInfo is the messaging chat object's agent_info (the call
// object's, with the agent's e-mail).
type SMSAgentInfo struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	FirstName   string  `json:"first_name"`
	LastName    string  `json:"last_name"`
	AgentNumber string  `json:"agent_number"`
	AvatarURL   *string `json:"avatar_url"`
	Email       string  `json:"email"`
}

// SMSEndUser is the messaging chat object's end_user.
type SMSEndUser struct {
	ID           int64   `json:"id"`
	Identifier   string  `json:"identifier"`
	OutContactID *string `json:"out_contact_id"`
}

// ChatPhoto and ChatVideo are a chat's media as its objects list them.
type ChatPhoto struct {
	ID        int64  `json:"id"`
	PhotoType string `json:"photo_type"`
	URL       string `json:"url"`
}

type ChatVideo struct {
	ID  int64  `json:"id"`
	URL string `json:"url"`
}

// SMSTransfer is one move of a messaging chat between menus.
type SMSTransfer struct {
	ID         int64         `json:"id"`
	Status     string        `json:"status"`
	FailReason string        `json:"fail_reason"`
	CreatedAt  string        `json:"created_at"`
	FromMenu   *MenuPath     `json:"from_menu"`
	ToMenu     *MenuPath     `json:"to_menu"`
	FromAgent  *SMSAgentInfo `json:"from_agent"`
	ToAgent    *SMSAgentInfo `json:"to_agent"`
}

// SMSParticipant is one party of a messaging chat.
type SMSParticipant struct {
	ID           int64   `json:"id"`
	Type         string  `json:"type"`
	Status       string  `json:"status"`
	ChatID       int64   `json:"chat_id"`
	UserID       *int64  `json:"user_id"`
	EndUserID    *int64  `json:"end_user_id"`
	ChatDuration int     `json:"chat_duration"`
	ConnectedAt  *string `json:"connected_at"`
	EndedAt      *string `json:"ended_at"`
	FailReason   string  `json:"fail_reason"`
}

// SMSChat is the messaging chat object POST /sms answers (spec §3.2).
type SMSChat struct {
	ID             int64            `json:"id"`
	Lang           string           `json:"lang"`
	ChatType       string           `json:"chat_type"`
	Status         string           `json:"status"`
	CreatedAt      string           `json:"created_at"`
	QueuedAt       *string          `json:"queued_at"`
	AssignedAt     *string          `json:"assigned_at"`
	EndsAt         *string          `json:"ends_at"`
	WaitDuration   int              `json:"wait_duration"`
	ChatDuration   int              `json:"chat_duration"`
	Rating         *int             `json:"rating"`
	HasFeedback    bool             `json:"has_feedback"`
	OutTicketID    *string          `json:"out_ticket_id"`
	OutTicketURL   *string          `json:"out_ticket_url"`
	Verified       bool             `json:"verified"`
	DisconnectedBy string           `json:"disconnected_by"`
	FailReason     string           `json:"fail_reason"`
	SelectedMenu   *SelectedMenu    `json:"selected_menu"`
	MenuPath       *MenuPath        `json:"menu_path"`
	AgentInfo      *SMSAgentInfo    `json:"agent_info"`
	EndUser        SMSEndUser       `json:"end_user"`
	Photos         []ChatPhoto      `json:"photos"`
	Videos         []ChatVideo      `json:"videos"`
	Transfers      []SMSTransfer    `json:"transfers"`
	Participants   []SMSParticipant `json:"participants"`
	OfferType      *string          `json:"offer_type"`
	OfferEvents    []OfferEvent     `json:"offer_events"`
	AnswerType     string           `json:"answer_type"`
	OutboundNumber string           `json:"outbound_number"`
}

func chatAgentInfo(p person) *SMSAgentInfo {
	return &SMSAgentInfo{ID: p.ID, Name: p.name(), FirstName: p.FirstName, LastName: p.LastName, AgentNumber: p.Code, Email: p.Email}
}

// disconnectedBy says who ended the chat in UJET's words.
func chatDisconnectedBy(c *switchboard.Conversation) string {
	switch c.EndedBy {
	case switchboard.SideEndUser:
		return "disconnected_by_end_user"
	case switchboard.SideAgent:
		return "disconnected_by_agent"
	case switchboard.SideSystem:
		return "disconnected_by_system"
	}
	return "disconnected_by_unknown"
}

// failReason is why a chat failed: nothing, or the core's reason for one
// that ended unanswered.
func chatFailReason(c *switchboard.Conversation) string {
	if c.Status == switchboard.ConversationAbandoned {
		return "end_user_abandoned"
	}
	if c.EndReason == "failed" {
		return "failed"
	}
	return "nothing"
}

// wholeSeconds rounds a duration in seconds to whole seconds, never below 0.
func wholeSeconds(s float64) int {
	if s < 0 {
		return 0
	}
	return int(s + 0.5)
}

// newSMSChat renders c as the messaging chat object.
func (a *API) newSMSChat(c *switchboard.Conversation, tree *menuTree, who people, photos []ChatPhoto, videos []ChatVideo) SMSChat {
	out := SMSChat{ID: c.ID, Lang: chatLang(c), ChatType: c.Context.Attributes[attrChatType], Status: chatStatus(c),
		CreatedAt: millis(c.CreatedAt), QueuedAt: optMillis(c.QueuedAt), AssignedAt: optMillis(c.AssignedAt), EndsAt: optMillis(c.EndedAt),
		WaitDuration: wholeSeconds(c.WaitSeconds()), ChatDuration: wholeSeconds(c.HandleSeconds()),
		Verified: hasFlag(c, flagVerified), DisconnectedBy: chatDisconnectedBy(c), FailReason: chatFailReason(c),
		EndUser: SMSEndUser{ID: c.EndUser.ID, Identifier: c.EndUser.Identifier},
		Photos:  photos, Videos: videos, Transfers: []SMSTransfer{}, Participants: []SMSParticipant{},
		OfferEvents: []OfferEvent{}, AnswerType: "manual", OutboundNumber: c.Via}
	if out.ChatType == "" {
		out.ChatType = chatTypeSMS
	}
	if out.Photos == nil {
		out.Photos = []ChatPhoto{}
	}
	if out.Videos == nil {
		out.Videos = []ChatVideo{}
	}
	if t := c.Context.Attributes[attrTicketID]; t != "" {
		out.OutTicketID = &t
	}
	if c.EndUser.ContactID != nil {
		s := strconv.FormatInt(*c.EndUser.ContactID, 10)
		out.EndUser.OutContactID = &s
	}
	if c.QueueID != nil && tree != nil {
		out.SelectedMenu = tree.selectedMenu(queueMenuID(*c.QueueID))
		out.MenuPath = tree.menuPath(queueMenuID(*c.QueueID))
	}
	if c.AgentID != nil {
		out.AgentInfo = chatAgentInfo(who.get(*c.AgentID))
	}
	for i, t := range c.Transfers {
		tr := SMSTransfer{ID: int64(i + 1), Status: "transferred", FailReason: "nothing", CreatedAt: millis(t.At)}
		if t.FromQueueID != nil && tree != nil {
			tr.FromMenu = tree.menuPath(queueMenuID(*t.FromQueueID))
		}
		if tree != nil {
			tr.ToMenu = tree.menuPath(queueMenuID(t.ToQueueID))
		}
		if t.FromAgentID != nil {
			tr.FromAgent = chatAgentInfo(who.get(*t.FromAgentID))
		}
		out.Transfers = append(out.Transfers, tr)
	}
	// The parties: the end user, then the agent who holds or held it.
	endUserStatus := "waiting"
	switch {
	case c.Status.Ended():
		endUserStatus = "finished"
	case c.Status == switchboard.ConversationInProgress:
		endUserStatus = "connected"
	}
	eu := c.EndUser.ID
	out.Participants = append(out.Participants, SMSParticipant{ID: 1, Type: "end_user", Status: endUserStatus, ChatID: c.ID,
		EndUserID: &eu, ChatDuration: out.ChatDuration, ConnectedAt: optMillis(c.FirstResponseAt), EndedAt: optMillis(c.EndedAt),
		FailReason: out.FailReason})
	if c.AgentID != nil {
		ag := *c.AgentID
		out.Participants = append(out.Participants, SMSParticipant{ID: 2, Type: "agent", Status: agentPart(c), ChatID: c.ID,
			UserID: &ag, ChatDuration: out.ChatDuration, ConnectedAt: optMillis(c.AssignedAt), EndedAt: optMillis(c.EndedAt),
			FailReason: "nothing"})
	}
	return out
}

// hasFlag says c carries customer flag f.
func hasFlag(c *switchboard.Conversation, f string) bool {
	for _, g := range c.Flags {
		if g == f {
			return true
		}
	}
	return false
}
