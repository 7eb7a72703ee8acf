package voiso

import (
	"context"
	"strings"
	"unicode/utf16"

	"switchboard"
	"switchboard/internal/phone"
)

// POST /api/v4/messaging/sms: a text sent as an agent through their SMS
// conversation with the number (doc.go: SMS). Its route is declared with the
// other messaging routes (messagingRoutes).

// sendSMSBody is the SMS request (doc.go: SMS), named as Start call names
// the agent and the number.
type sendSMSBody struct {
	// UserID is the agent who sends it, a number or a string of digits.
	UserID flexID `json:"user_id" required:"true"`
	// PhoneNumber is the recipient, international digits with or without +.
	PhoneNumber string `json:"phone_number" required:"true" limit:"32"`
	// Body is the text, 1 to 1,600 characters.
	Body string `json:"body" required:"true" limit:"1600"`
	// SenderID is the number it goes out from: one of the contact center's
	// SMS numbers, the agent's own or a shared one; the agent's outbound
	// number when absent.
	SenderID string `json:"sender_id" limit:"32"`
}

// sentSMSOut is the answer: the SMS record's id and how many segments the
// text takes.
type sentSMSOut struct {
	SMS sentSMS `json:"sms"`
}

type sentSMS struct {
	ID       string `json:"id"`
	Segments int    `json:"segments"`
}

// checkSMSBody is the lower bound of an SMS text (Voiso's v1: 1 to 1,600
// characters; its limit tag is the upper), checked before anything is
// read: a text of spaces alone is missing.
func checkSMSBody(body string) error {
	if strings.TrimSpace(body) == "" {
		return invalid("body", "is missing")
	}
	return nil
}

// sendSMS sends the text as the agent through their SMS conversation with
// the number: the open one (on the sender's profile) is replied in, else one
// is started. The conversation service stores the message, sends it through
// the SMS service (which applies the core's limits) and records the outcome.
func (a *API) sendSMS(ctx context.Context, c *call, in *sendSMSBody) (sentSMSOut, error) {
	if err := checkSMSBody(in.Body); err != nil {
		return sentSMSOut{}, err
	}
	svc, err := a.conversations()
	if err != nil {
		return sentSMSOut{}, err
	}
	tenantID := c.tenantID()
	agent, err := a.opt.Store.User(ctx, tenantID, int64(in.UserID))
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound || (err == nil && agent.DeactivatedAt != nil):
		return sentSMSOut{}, invalid("user_id", "does not match an existing agent")
	case err != nil:
		return sentSMSOut{}, err
	}
	to, err := phone.Normalize(in.PhoneNumber, "")
	if err != nil {
		return sentSMSOut{}, invalid("phone_number", "is not a valid phone number")
	}
	via, err := a.smsSender(ctx, tenantID, agent, in.SenderID)
	if err != nil {
		return sentSMSOut{}, err
	}
	cv, started, err := a.smsConversation(ctx, svc, tenantID, agent.ID, via, to)
	if err != nil {
		return sentSMSOut{}, err
	}
	msg, err := svc.Send(ctx, tenantID, cv.ID, switchboard.ConversationMessage{Direction: switchboard.Outbound,
		Kind: switchboard.KindText, Text: in.Body, AgentID: &agent.ID})
	if err != nil && started {
		// The conversation was started for this text alone: it must not
		// wait in its queue, empty, for an agent.
		if _, ferr := svc.Finish(context.WithoutCancel(ctx), tenantID, cv.ID, switchboard.SideSystem, "failed"); ferr != nil {
			a.opt.Log.Warn("voiso: an SMS conversation started for a text not sent stays open", "tenant_id", tenantID,
				"conversation_id", cv.ID, "err", ferr)
		}
	}
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeInvalid && switchboard.ErrorFields(err)["to"] != "":
		return sentSMSOut{}, invalid("phone_number", switchboard.ErrorFields(err)["to"])
	case switchboard.ErrorCode(err) == switchboard.CodeForbidden:
		return sentSMSOut{}, conflict("user_id", "another agent holds the conversation with this number")
	case switchboard.ErrorCode(err) == switchboard.CodeConflict:
		// The agent cannot take the conversation now: not signed in, or
		// every chat slot taken.
		return sentSMSOut{}, conflict("user_id", switchboard.ErrorMessage(err))
	case err != nil:
		return sentSMSOut{}, err
	case msg.Status == switchboard.ReceiptFailed:
		a.opt.Log.Warn("voiso: SMS not sent", "tenant_id", tenantID, "conversation_id", cv.ID, "message_id", msg.ID, "err", msg.Error)
		return sentSMSOut{}, switchboard.Errorf(switchboard.CodeUnavailable, "the SMS was not sent: %s", msg.Error)
	}
	id := msg.UUID
	if msg.ProviderID != "" {
		// The SMS record (type sms of the CDR list) is the one the SMS
		// service wrote: answer its id, so that the CDR is found by it.
		switch sm, err := a.opt.Store.MessageByProviderID(ctx, tenantID, msg.ProviderID); {
		case err == nil:
			id = sm.UUID
		case switchboard.ErrorCode(err) != switchboard.CodeNotFound:
			return sentSMSOut{}, err
		}
	}
	return sentSMSOut{SMS: sentSMS{ID: id, Segments: smsSegments(in.Body)}}, nil
}

// smsSender is the number an agent's SMS goes out from: sender_id, or the
// agent's outbound number, or their first own number. It must be one of the
// tenant's numbers with SMS enabled, and not another agent's.
func (a *API) smsSender(ctx context.Context, tenantID int64, agent switchboard.User, senderID string) (string, error) {
	field, raw := "sender_id", strings.TrimSpace(senderID)
	if raw == "" {
		raw = agent.OutboundNumber
		if raw == "" && len(agent.PhoneNumbers) > 0 {
			raw = agent.PhoneNumbers[0]
		}
		if raw == "" {
			return "", invalid(field, "is missing: the agent has no number of their own to send from")
		}
	}
	via, err := phone.Normalize(raw, "")
	if err != nil {
		return "", invalid(field, "is not a valid phone number")
	}
	owner, err := a.opt.Store.NumberOwner(ctx, via)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound || (err == nil && owner.TenantID != tenantID):
		return "", invalid(field, "is not one of this contact center's numbers")
	case err != nil:
		return "", err
	case !owner.SMSEnabled:
		return "", invalid(field, "does not have SMS enabled")
	case owner.UserID != nil && *owner.UserID != agent.ID:
		return "", invalid(field, "is another agent's number")
	}
	return via, nil
}

// smsConversation is the open SMS conversation of to on via (on via's
// channel profile when it has one), or a new one: in the profile's queue,
// else the number's, else the agent's first. A conversation another
// request opened meanwhile is joined.
func (a *API) smsConversation(ctx context.Context, svc switchboard.Conversations, tenantID, agentID int64, via, to string) (cv switchboard.Conversation, started bool, err error) {
	var profile *switchboard.ChannelProfile
	switch p, err := a.opt.Store.ChannelProfileFor(ctx, tenantID, switchboard.ChannelSMS, via); {
	case err == nil:
		profile = &p
	case switchboard.ErrorCode(err) != switchboard.CodeNotFound:
		return cv, false, err
	}
	var profileID int64
	if profile != nil {
		profileID = profile.ID
	}
	for attempt := 0; ; attempt++ {
		cv, err = a.opt.Store.OpenConversation(ctx, tenantID, switchboard.ChannelSMS, profileID, to)
		if switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			return cv, false, err
		}
		start := switchboard.Conversation{Channel: switchboard.ChannelSMS, Address: to, Via: via,
			EndUser: switchboard.EndUser{Identifier: to, Phone: to}}
		if profile != nil {
			start.ProfileID, start.QueueID = &profile.ID, profile.QueueID
		}
		switch last, err := a.opt.Store.LastConversation(ctx, tenantID, switchboard.ChannelSMS, to); {
		case err == nil:
			start.PreviousID = &last.ID
		case switchboard.ErrorCode(err) != switchboard.CodeNotFound:
			return cv, false, err
		}
		if start.QueueID == nil {
			owner, err := a.opt.Store.NumberOwner(ctx, via)
			if err != nil {
				return cv, false, err
			}
			start.QueueID = owner.QueueID
		}
		if start.QueueID == nil {
			// An agent's own number routes to them, not to a queue: the
			// conversation waits in the first queue they are a member of.
			queues, err := a.opt.Store.QueueMemberships(ctx, tenantID, []int64{agentID})
			if err != nil {
				return cv, false, err
			}
			if q := queues[agentID]; len(q) > 0 {
				start.QueueID = &q[0]
			}
		}
		if start.QueueID == nil {
			return cv, false, invalid("sender_id", "has no queue for its SMS conversations: give its channel profile or the number a queue, or the agent one")
		}
		cv, _, err = svc.Start(ctx, tenantID, start, "", nil)
		if switchboard.ErrorCode(err) == switchboard.CodeConflict && attempt == 0 {
			continue // opened meanwhile by another send or an inbound text: reply in it
		}
		return cv, err == nil, err
	}
}

// gsm7 is the GSM 03.38 default alphabet (one septet each) and gsm7Ext its
// extension table (an escape and a septet each): a text made of these
// alone is sent in 7-bit segments, anything else in UCS-2.
var (
	gsm7    = runeSet("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
	gsm7Ext = runeSet("\f^{}\\[~]|€")
)

func runeSet(s string) map[rune]bool {
	m := make(map[rune]bool, len(s))
	for _, r := range s {
		m[r] = true
	}
	return m
}

// smsSegments is how many SMS a text takes: 160 septets in one GSM-7
// message or 153 per part of a longer one; 70 UTF-16 units in one UCS-2
// message or 67 per part. Voiso's v1 answered the count; the carrier bills
// by it.
func smsSegments(body string) int {
	septets, gsm := 0, true
	for _, r := range body {
		switch {
		case gsm7[r]:
			septets++
		case gsm7Ext[r]:
			septets += 2
		default:
			gsm = false
		}
	}
	single, part, n := 160, 153, septets
	if !gsm {
		single, part, n = 70, 67, len(utf16.Encode([]rune(body)))
	}
	if n <= single {
		return 1
	}
	return (n + part - 1) / part
}
