package conversation

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"switchboard"
	"switchboard/internal/sms"
)

// Send implements switchboard.Conversations.
//
// Inbound (the end user): stored received; a dismissed conversation is
// queued again (resumed), an ended one refuses (CodeConflict).
//
// Outbound by an agent (m.AgentID): the agent must hold the conversation;
// when nobody holds it and it is open they take it (the engine's claim),
// which is how an agent or supervisor picks a thread; held by another is
// CodeForbidden. Their first message to the end user moves it to
// in_progress. Notes are the exception: any agent may add one to an open
// or ended conversation, without taking it, and they are never sent.
//
// Outbound without agent (an integration, a bot) may go to any open
// conversation and moves nothing.
func (s *Service) Send(ctx context.Context, tenantID, conversationID int64, m switchboard.ConversationMessage) (switchboard.ConversationMessage, error) {
	if err := s.Sync(ctx); err != nil {
		return m, err
	}
	m.TenantID, m.ConversationID, m.ID = tenantID, conversationID, 0
	if m.Kind == "" {
		m.Kind = switchboard.KindText
	}
	if m.Kind == switchboard.KindActivity {
		return m, invalid("kind", "activity lines are written by the system")
	}
	if err := m.Validate(); err != nil {
		return m, err
	}
	if m.Direction == switchboard.Inbound {
		return s.receive(ctx, tenantID, conversationID, m)
	}
	return s.sendOut(ctx, tenantID, conversationID, m)
}

// receive stores the end user's message, resuming a dismissed conversation.
func (s *Service) receive(ctx context.Context, tenantID, id int64, m switchboard.ConversationMessage) (switchboard.ConversationMessage, error) {
	if m.AgentID != nil || m.Kind == switchboard.KindNote || m.Kind == switchboard.KindTemplate {
		return m, invalid("direction", "inbound messages are the end user's text or media")
	}
	if err := s.checkAttachment(ctx, tenantID, id, m); err != nil {
		return m, err
	}
	m.Status, m.Error = switchboard.ReceiptReceived, ""
	unlock := s.lockConv(id)
	defer unlock()
	now := s.now().UTC()
	resumed := false
	msg, c, dup, err := s.store.AddMessage(ctx, tenantID, m, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		if c.Status.Ended() {
			return switchboard.ConversationUpdate{}, wrongStatus(*c, "written to: a new message opens another conversation")
		}
		if c.Status != switchboard.ConversationDismissed {
			return switchboard.ConversationUpdate{}, nil
		}
		resumed = true
		c.Status, c.AgentID, c.QueuedAt = switchboard.ConversationQueued, nil, &now
		return switchboard.ConversationUpdate{Event: switchboard.EventConversationQueued}, nil
	})
	if err != nil {
		return msg, err
	}
	if resumed && !dup {
		s.route(c)
	}
	s.hub.wake(id)
	return msg, nil
}

// sendOut stores an agent's or integration's message and delivers it.
func (s *Service) sendOut(ctx context.Context, tenantID, id int64, m switchboard.ConversationMessage) (switchboard.ConversationMessage, error) {
	c, err := s.store.Conversation(ctx, tenantID, id)
	if err != nil {
		return m, err
	}
	if m.Kind == switchboard.KindNote {
		m.Status = switchboard.ReceiptSent
		msg, _, _, err := s.store.AddMessage(ctx, tenantID, m, nil)
		if err == nil {
			s.hub.wake(id)
		}
		return msg, err
	}
	if c.Status.Ended() {
		return m, wrongStatus(c, "written to")
	}
	if err := s.checkAttachment(ctx, tenantID, id, m); err != nil {
		return m, err
	}
	out, err := s.prepare(ctx, c, &m)
	if err != nil {
		return m, err
	}

	msg, c, dup, err := s.storeOut(ctx, c, m)
	if err != nil || dup || c.Channel == switchboard.ChannelWebChat {
		return msg, err
	}
	out.ID = strconv.FormatInt(msg.ID, 10)
	// The provider has the message once it is handed over: record what it
	// said even when the caller has gone. (Outside the conversation's
	// lock: a slow provider must not hold up the record of routing.)
	msg, err = s.deliver(context.WithoutCancel(ctx), c, msg, out)
	s.hub.wake(id)
	return msg, err
}

// storeOut stores an outbound message under the conversation's lock, after
// making sure an agent sender holds the conversation (claiming it when
// nobody does); the agent's message moves it to in_progress.
func (s *Service) storeOut(ctx context.Context, c switchboard.Conversation, m switchboard.ConversationMessage) (switchboard.ConversationMessage, switchboard.Conversation, bool, error) {
	tenantID, id := c.TenantID, c.ID
	unlock := s.lockConv(id)
	defer unlock()
	claimed := false
	var err error
	if m.AgentID != nil {
		agent := *m.AgentID
		// Re-read under the lock: the applier may have recorded a decision
		// since.
		if c, err = s.store.Conversation(ctx, tenantID, id); err != nil {
			return m, c, false, err
		}
		if c.Status.Ended() {
			return m, c, false, wrongStatus(c, "written to")
		}
		if !slices.Contains(s.opt.Router.AgentChats(agent), id) {
			if held(c.Status) && c.AgentID != nil && *c.AgentID != agent {
				return m, c, false, switchboard.Errorf(switchboard.CodeForbidden, "conversation %d is held by agent %d", id, *c.AgentID)
			}
			if err := s.opt.Router.ClaimChat(task(c), agent); err != nil {
				return m, c, false, switchboard.Errorf(switchboard.CodeConflict, "cannot take conversation %d: %v", id, err)
			}
			claimed = true
		}
		if err := s.opt.Router.AcceptChat(id, agent); err != nil && !claimed {
			return m, c, false, switchboard.Errorf(switchboard.CodeConflict, "cannot accept conversation %d: %v", id, err)
		}
	}
	before := c
	if c.Channel == switchboard.ChannelWebChat {
		m.Status = switchboard.ReceiptSent // the end user reads it through the end-user API
	} else {
		m.Status = switchboard.ReceiptQueued
	}
	now := s.now().UTC()
	msg, c, dup, err := s.store.AddMessage(ctx, tenantID, m, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		if c.Status.Ended() {
			return switchboard.ConversationUpdate{}, wrongStatus(*c, "written to")
		}
		if m.AgentID == nil {
			return switchboard.ConversationUpdate{}, nil
		}
		agent := *m.AgentID
		if claimed || c.AgentID == nil || *c.AgentID != agent || !held(c.Status) {
			c.AgentID, c.AssignedAt = ptr(agent), &now
		}
		// The first response is the current holder's first message since
		// they were assigned.
		if c.FirstResponseAt == nil || (c.AssignedAt != nil && c.FirstResponseAt.Before(*c.AssignedAt)) {
			c.FirstResponseAt = &now
		}
		if c.Status == switchboard.ConversationInProgress {
			return switchboard.ConversationUpdate{}, nil
		}
		c.Status = switchboard.ConversationInProgress
		return switchboard.ConversationUpdate{Event: switchboard.EventConversationInProgress}, nil
	})
	if err != nil {
		if claimed {
			// The claim stands in the engine but the store refused the
			// message: let the conversation go back where it was.
			s.opt.Router.ReleaseChat(id, false)
			s.route(before)
		}
		return msg, c, dup, err
	}
	s.hub.wake(id)
	return msg, c, dup, nil
}

// checkAttachment refuses a media message whose attachment is not a ready
// attachment of the conversation of the message's kind.
func (s *Service) checkAttachment(ctx context.Context, tenantID, id int64, m switchboard.ConversationMessage) error {
	switch m.Kind {
	case switchboard.KindPhoto, switchboard.KindVideo, switchboard.KindFile:
	default:
		if m.AttachmentID != nil {
			return invalid("attachment_id", "is only for photo, video and file messages")
		}
		return nil
	}
	a, err := s.store.Attachment(ctx, tenantID, *m.AttachmentID)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound:
		return invalid("attachment_id", "is not an attachment of this account")
	case err != nil:
		return err
	case a.ConversationID != id:
		return invalid("attachment_id", "belongs to another conversation")
	case a.Status != switchboard.AttachmentReady:
		return invalid("attachment_id", "has not been uploaded yet")
	case a.Kind != m.Kind:
		return invalid("attachment_id", "is a "+string(a.Kind)+", not a "+string(m.Kind))
	}
	return nil
}

// consentRefusal is the answer to an outbound message to a number that
// opted out.
func consentRefusal(number string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalid,
		Message: "cannot send the message: " + number + " has withdrawn consent (STOP) for messages",
		Fields:  map[string]string{"to": "has withdrawn consent (STOP) for messages"}}
}

// prepare checks an outbound message against its channel before it is
// stored (consent, the WhatsApp window, templates) and builds what the
// provider receives; it renders a template into m.Text.
func (s *Service) prepare(ctx context.Context, c switchboard.Conversation, m *switchboard.ConversationMessage) (OutboundMessage, error) {
	out := OutboundMessage{TenantID: c.TenantID, Channel: c.Channel, From: c.Via, To: c.Address}
	if c.Channel == switchboard.ChannelWebChat {
		if m.Kind == switchboard.KindTemplate {
			return out, invalid("kind", "templates are for whatsapp and other provider channels, not web chat")
		}
		return out, nil
	}
	optedOut, err := s.store.OptedOut(ctx, c.TenantID, c.Address)
	if err != nil {
		return out, err
	}
	if optedOut {
		return out, consentRefusal(c.Address)
	}
	if c.Channel == switchboard.ChannelSMS && m.Kind != switchboard.KindText {
		return out, invalid("kind", "SMS carries text only")
	}
	if c.Channel == switchboard.ChannelWhatsApp && m.Kind != switchboard.KindTemplate {
		if c.LastInboundAt == nil || s.now().Sub(*c.LastInboundAt) > s.opt.WhatsAppWindow {
			return out, invalid("kind", fmt.Sprintf("must be template: outside the %s window since the end user's last message only template messages may be sent", window(s.opt.WhatsAppWindow)))
		}
	}
	switch m.Kind {
	case switchboard.KindTemplate:
		t, err := s.store.MessageTemplate(ctx, c.TenantID, m.Template.TemplateID)
		switch {
		case switchboard.ErrorCode(err) == switchboard.CodeNotFound:
			return out, invalid("template.template_id", "is not a template of this account")
		case err != nil:
			return out, err
		case c.ProfileID != nil && t.ProfileID != *c.ProfileID:
			return out, invalid("template.template_id", "belongs to another channel profile")
		case t.Status != "approved":
			return out, invalid("template.template_id", "is "+t.Status+": only approved templates may be sent")
		}
		text, params, err := renderTemplate(t.Body, m.Template.Params)
		if err != nil {
			return out, err
		}
		if m.Template.Language == "" {
			m.Template.Language = t.Language
		}
		m.Text = text
		out.Text = text
		out.Template = &OutboundTemplate{Name: t.Name, Language: m.Template.Language, Params: params}
	case switchboard.KindPhoto, switchboard.KindVideo, switchboard.KindFile:
		out.Text = m.Text
		if s.opt.MediaURL != nil {
			a, err := s.store.Attachment(ctx, c.TenantID, *m.AttachmentID)
			if err != nil {
				return out, err
			}
			out.MediaURL = s.opt.MediaURL(a)
		}
	default:
		out.Text = m.Text
	}
	return out, nil
}

// window names a duration in hours ("24-hour").
func window(d time.Duration) string {
	return strconv.FormatFloat(d.Hours(), 'f', -1, 64) + "-hour"
}

var placeholder = regexp.MustCompile(`\{\{\s*(\d+)\s*\}\}`)

// renderTemplate fills body's {{1}}, {{2}}… from params ("1", "2"…); every
// placeholder needs its parameter. It returns the text and the parameters
// in order.
func renderTemplate(body string, params map[string]string) (string, []string, error) {
	maxN := 0
	for _, sub := range placeholder.FindAllStringSubmatch(body, -1) {
		if n, _ := strconv.Atoi(sub[1]); n > maxN {
			maxN = n
		}
	}
	ordered := make([]string, maxN)
	p := switchboard.Problems{}
	for i := range maxN {
		v, ok := params[strconv.Itoa(i+1)]
		if !ok {
			p.Add("template.params."+strconv.Itoa(i+1), "is required by the template")
		}
		ordered[i] = v
	}
	if err := p.Err(); err != nil {
		return "", nil, err
	}
	text := placeholder.ReplaceAllStringFunc(body, func(ph string) string {
		n, _ := strconv.Atoi(placeholder.FindStringSubmatch(ph)[1])
		if n < 1 {
			return ph
		}
		return ordered[n-1]
	})
	return text, ordered, nil
}

// deliver hands a stored outbound message to its channel and records the
// outcome: sent with the provider's id, or failed with why.
func (s *Service) deliver(ctx context.Context, c switchboard.Conversation, msg switchboard.ConversationMessage, out OutboundMessage) (switchboard.ConversationMessage, error) {
	var providerID string
	var sendErr error
	s.sendingMu.Lock()
	s.sending[c.TenantID]++
	s.sendingMu.Unlock()
	defer func() {
		s.sendingMu.Lock()
		if s.sending[c.TenantID]--; s.sending[c.TenantID] <= 0 {
			delete(s.sending, c.TenantID)
		}
		s.sendingMu.Unlock()
	}()
	switch {
	case c.Channel == switchboard.ChannelSMS:
		if s.opt.SMS == nil {
			sendErr = fmt.Errorf("SMS is not configured on this server")
			break
		}
		// The sender is the message's agent, else the conversation's: the
		// SMS limits count per agent.
		agent := msg.AgentID
		if agent == nil {
			agent = c.AgentID
		}
		sm, err := s.opt.SMS.Send(ctx, sms.Outbound{TenantID: c.TenantID, UserID: agent, From: c.Via, To: c.Address, Body: out.Text, Reply: true})
		switch {
		case switchboard.ErrorCode(err) == switchboard.CodeRateLimited:
			// Refused by the SMS limits before reaching the provider:
			// the message is failed, and the caller gets the refusal to
			// answer it as the rate limit it is.
			failed, ferr := s.store.SetMessageStatus(ctx, c.TenantID, msg.ID, switchboard.ReceiptFailed, "",
				switchboard.Clip(switchboard.ErrorMessage(err), 500))
			if ferr != nil {
				return failed, ferr
			}
			return failed, err
		case err != nil:
			sendErr = fmt.Errorf("%s", switchboard.ErrorMessage(err))
		case sm.Status == switchboard.MessageFailed:
			sendErr = fmt.Errorf("%s", sm.Error)
		default:
			providerID = sm.ProviderID
		}
	default:
		p := s.opt.Providers[c.Channel]
		if p == nil {
			sendErr = fmt.Errorf("no provider carries the %s channel on this server", c.Channel)
			break
		}
		providerID, sendErr = p.Send(ctx, out)
	}
	if sendErr != nil {
		s.log.Warn("conversation: message not sent", "tenant_id", c.TenantID, "conversation_id", c.ID, "message_id", msg.ID, "err", sendErr)
		return s.store.SetMessageStatus(ctx, c.TenantID, msg.ID, switchboard.ReceiptFailed, "", switchboard.Clip(sendErr.Error(), 500))
	}
	return s.store.SetMessageStatus(ctx, c.TenantID, msg.ID, switchboard.ReceiptSent, providerID, "")
}
