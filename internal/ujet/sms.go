package ujet

// POST /sms (seed "SMS", spec §2.2): a messaging chat opened by the company
// with its first text, on one of its SMS numbers, over the core's
// conversations (channel sms). Every refusal is one of UJET's texts.

import (
	"context"
	"strings"

	"switchboard"
	"switchboard/internal/phone"
)

// The chat types POST /sms takes: UJET's current name, the name its
// examples send, and the deprecated one (answered as "Messaging (SMS)").
const (
	chatTypeAPI        = "Messaging (API)"
	chatTypeSMS        = "Messaging (SMS)"
	chatTypeDeprecated = "SMS"
)

// The SMS texts UJET documents (all 400).
const (
	textActiveSession = "Outbound SMS failed. Consumer is already in an active SMS session."
	textOptedOut      = "Outbound SMS failed. Consumer has opted out of SMS."
)

func (a *API) smsRoutes() []route {
	return []route{handler(route{Method: "POST", Path: "sms", Summary: "Send an outbound SMS, creating a messaging chat",
		Scope: switchboard.ScopeMessagesManage,
		Doc: "outbound_number must be one of the company's SMS numbers; the chat waits in that number's menu (its channel " +
			"profile's queue, else the number's, else the agent's first) and, with agentId or agentEmail, is taken by that " +
			"agent, who sends the message. A North American (+1) outbound number texts North American numbers only " +
			"(\"Non-US phone number not allowed\"). A number that opted out (STOP) is refused."},
		a.sendSMS)}
}

// smsBody is POST /sms. The seed's examples spell the agent routing in
// camelCase (agentId, agentEmail); snake_case is read too.
type smsBody struct {
	ChatType        string  `json:"chat_type" limit:"64"`
	EndUserNumber   string  `json:"end_user_number" limit:"64"`
	OutboundNumber  string  `json:"outbound_number" limit:"64"`
	Message         string  `json:"message" limit:"1600"`
	TicketID        string  `json:"ticket_id" limit:"200"`
	AgentID         flexInt `json:"agentId"`
	AgentEmail      string  `json:"agentEmail" limit:"200"`
	AgentIDSnake    flexInt `json:"agent_id"`
	AgentEmailSnake string  `json:"agent_email" limit:"200"`
}

// northAmerican says an E.164 number is in the North American Numbering
// Plan (+1: the US, Canada and the Caribbean share it).
func northAmerican(e164 string) bool { return strings.HasPrefix(e164, "+1") }

func (a *API) sendSMS(ctx context.Context, c *call, in *smsBody) (SMSChat, error) {
	tenantID := c.tenantID()
	chatType := strings.TrimSpace(in.ChatType)
	switch chatType {
	case "":
		return SMSChat{}, badRequest("chat_type needs to be provided")
	case chatTypeAPI, chatTypeSMS:
	case chatTypeDeprecated:
		chatType = chatTypeSMS
	default:
		return SMSChat{}, badRequest("valid chat type needs to be provided")
	}
	svc := a.opt.Conversations
	enabled, err := a.smsEnabled(ctx, tenantID)
	if err != nil {
		return SMSChat{}, err
	}
	if svc == nil || !enabled {
		return SMSChat{}, badRequest("SMS is not enabled")
	}
	if strings.TrimSpace(in.EndUserNumber) == "" {
		return SMSChat{}, badRequest("end_user_number is required")
	}
	to, err := phone.Normalize(in.EndUserNumber, "")
	if err != nil {
		return SMSChat{}, badRequest("end_user_number is invalid")
	}
	if strings.TrimSpace(in.OutboundNumber) == "" {
		return SMSChat{}, badRequest("outbound_number is required")
	}
	via, err := phone.Normalize(in.OutboundNumber, "")
	if err != nil {
		return SMSChat{}, badRequest("outbound_number is invalid")
	}
	owner, err := a.opt.Store.NumberOwner(ctx, via)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound || (err == nil && owner.TenantID != tenantID):
		return SMSChat{}, badRequest("outbound_number is not found")
	case err != nil:
		return SMSChat{}, err
	case !owner.SMSEnabled:
		return SMSChat{}, badRequest("Outbound SMS is not enabled")
	}
	if northAmerican(via) && !northAmerican(to) {
		return SMSChat{}, badRequest("Non-US phone number not allowed")
	}
	if strings.TrimSpace(in.Message) == "" {
		return SMSChat{}, badRequest("message is required")
	}
	agent, err := a.smsAgent(ctx, tenantID, in)
	if err != nil {
		return SMSChat{}, err
	}
	open, err := a.opt.Store.Conversations(ctx, tenantID, switchboard.ConversationFilter{Channel: switchboard.ChannelSMS, Address: to,
		Open: true}, switchboard.ListOptions{Limit: 1})
	if err != nil {
		return SMSChat{}, err
	}
	if open.Total > 0 {
		return SMSChat{}, badRequest(textActiveSession)
	}
	if out, err := svc.OptedOut(ctx, tenantID, to); err != nil {
		return SMSChat{}, err
	} else if out {
		return SMSChat{}, badRequest(textOptedOut)
	}
	start := switchboard.Conversation{Channel: switchboard.ChannelSMS, Address: to, Via: via, Language: defaultLang,
		EndUser: switchboard.EndUser{Identifier: to, Phone: to},
		Context: switchboard.ConversationContext{Attributes: map[string]string{attrChatType: chatType}}}
	if t := strings.TrimSpace(in.TicketID); t != "" {
		start.Context.Attributes[attrTicketID] = t
	}
	switch p, err := a.opt.Store.ChannelProfileFor(ctx, tenantID, switchboard.ChannelSMS, via); {
	case err == nil:
		start.ProfileID, start.QueueID = &p.ID, p.QueueID
	case switchboard.ErrorCode(err) != switchboard.CodeNotFound:
		return SMSChat{}, err
	}
	if start.QueueID == nil {
		start.QueueID = owner.QueueID
	}
	if start.QueueID == nil && agent != nil {
		queues, err := a.opt.Store.QueueMemberships(ctx, tenantID, []int64{agent.ID})
		if err != nil {
			return SMSChat{}, err
		}
		if q := queues[agent.ID]; len(q) > 0 {
			start.QueueID = &q[0]
		}
	}
	if start.QueueID == nil {
		return SMSChat{}, badRequest("outbound_number is not assigned to a menu")
	}
	switch last, err := a.opt.Store.LastConversation(ctx, tenantID, switchboard.ChannelSMS, to); {
	case err == nil:
		start.PreviousID = &last.ID
	case switchboard.ErrorCode(err) != switchboard.CodeNotFound:
		return SMSChat{}, err
	}
	cv, _, err := svc.Start(ctx, tenantID, start, "", nil)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeConflict:
		return SMSChat{}, badRequest(textActiveSession)
	case err != nil:
		return SMSChat{}, err
	}
	m := switchboard.ConversationMessage{Direction: switchboard.Outbound, Kind: switchboard.KindText, Text: in.Message}
	if agent != nil {
		m.AgentID = &agent.ID
	}
	msg, err := svc.Send(ctx, tenantID, cv.ID, m)
	if err == nil && msg.Status == switchboard.ReceiptFailed {
		err = switchboard.Errorf(switchboard.CodeUnavailable, "Outbound SMS failed: %s", msg.Error)
	}
	if err != nil {
		// The chat was opened for this text alone: it must not wait in its
		// queue, empty, for an agent.
		if _, ferr := svc.Finish(context.WithoutCancel(ctx), tenantID, cv.ID, switchboard.SideSystem, "failed"); ferr != nil {
			a.opt.Log.Warn("ujet: an SMS chat opened for a text not sent stays open", "tenant_id", tenantID, "conversation_id", cv.ID, "err", ferr)
		}
		switch {
		case switchboard.ErrorCode(err) == switchboard.CodeInvalid && switchboard.ErrorFields(err)["to"] != "":
			return SMSChat{}, badRequest(textOptedOut)
		case switchboard.ErrorCode(err) == switchboard.CodeConflict:
			// The agent cannot take the chat now: not signed in, or every
			// chat slot of theirs taken.
			return SMSChat{}, badRequest("Agent is not available to take this chat")
		}
		return SMSChat{}, err
	}
	if cv, err = svc.Conversation(ctx, tenantID, cv.ID); err != nil {
		return SMSChat{}, err
	}
	tree, err := loadMenus(ctx, a.opt.Store, tenantID)
	if err != nil {
		return SMSChat{}, err
	}
	who, err := a.peopleOf(ctx, &cv)
	if err != nil {
		return SMSChat{}, err
	}
	return a.newSMSChat(&cv, tree, who, nil, nil), nil
}

// smsEnabled says the tenant has a number with SMS enabled: UJET's "SMS is
// not enabled" is a company without SMS.
func (a *API) smsEnabled(ctx context.Context, tenantID int64) (bool, error) {
	opt := switchboard.ListOptions{Limit: 1000, SkipTotal: true}
	for {
		page, err := a.opt.Store.PhoneNumbers(ctx, tenantID, opt)
		if err != nil {
			return false, err
		}
		for _, n := range page.Items {
			if n.SMSEnabled {
				return true, nil
			}
		}
		if page.NextCursor == "" {
			return false, nil
		}
		opt.Cursor = page.NextCursor
	}
}

// smsAgent is the agent agentId or agentEmail names (nil for none): an
// active user of the company.
func (a *API) smsAgent(ctx context.Context, tenantID int64, in *smsBody) (*switchboard.User, error) {
	id := in.AgentID
	if !id.Set {
		id = in.AgentIDSnake
	}
	email := strings.TrimSpace(in.AgentEmail)
	if email == "" {
		email = strings.TrimSpace(in.AgentEmailSnake)
	}
	var u switchboard.User
	var err error
	switch {
	case id.Set:
		u, err = a.opt.Store.User(ctx, tenantID, id.Value)
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound || (err == nil && u.DeactivatedAt != nil) {
			return nil, badRequest("Not a valid agent id")
		}
	case email != "":
		u, err = a.opt.Store.UserByEmail(ctx, tenantID, email)
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound || (err == nil && u.DeactivatedAt != nil) {
			return nil, badRequest("Not a valid agent email")
		}
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}
