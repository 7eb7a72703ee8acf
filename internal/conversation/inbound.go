package conversation

import (
	"context"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/phone"
)

// The consent keywords: the whole message, trimmed, in any case. These are
// the CTIA words and the common synonyms providers honour.
var (
	optOutWords = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true}
	optInWords  = map[string]bool{"START": true, "UNSTOP": true, "YES": true}
)

// Inbound implements switchboard.Conversations: a text that arrived on one
// of the tenant's numbers. A consent keyword updates the sender's consent
// first. The message then joins the sender's open conversation on that
// profile (or channel); else it opens one (linked to their last by
// PreviousID), routed to the profile's queue, else the number's queue, else
// held directly by the number's user, else queued with no queue (it waits
// for a transfer or an agent's claim). An opt-out keyword with no open
// conversation opens none: the answer is then the zero Conversation.
// A provider's retry (same providerID) is the same message, stored once.
func (s *Service) Inbound(ctx context.Context, tenantID int64, channel switchboard.ConversationChannel, from, to, text, providerID string) (switchboard.Conversation, error) {
	p := switchboard.Problems{}
	if !switchboard.ValidConversationChannel(channel) || channel == switchboard.ChannelWebChat {
		p.Add("channel", "must be sms, whatsapp or another number channel")
	}
	via, err := phone.Normalize(to, "")
	if err != nil {
		p.Add("to", "is not a valid phone number")
	}
	from = strings.TrimSpace(from)
	if from == "" {
		p.Add("from", "is required")
	} else if n, err := phone.Normalize(from, ""); err == nil {
		from = n // short codes and alphanumeric senders stay as they came
	}
	if strings.TrimSpace(text) == "" {
		p.Add("text", "is required")
	}
	if err := p.Err(); err != nil {
		return switchboard.Conversation{}, err
	}

	word := strings.ToUpper(strings.TrimSpace(text))
	optOut := optOutWords[word]
	if optOut || optInWords[word] {
		if _, err := s.store.SetConsent(ctx, switchboard.Consent{TenantID: tenantID, Number: from, OptedOut: optOut,
			Channel: channel, Source: "keyword", Keyword: word, At: s.now().UTC()}); err != nil {
			return switchboard.Conversation{}, err
		}
	}

	var profileID int64
	var profile *switchboard.ChannelProfile
	if pr, err := s.store.ChannelProfileFor(ctx, tenantID, channel, via); err == nil {
		profile, profileID = &pr, pr.ID
	} else if switchboard.ErrorCode(err) != switchboard.CodeNotFound {
		return switchboard.Conversation{}, err
	}
	m := switchboard.ConversationMessage{Direction: switchboard.Inbound, Kind: switchboard.KindText, Text: text, ProviderID: providerID}
	if providerID != "" {
		m.ClientID = "provider:" + providerID
	}
	for attempt := 0; ; attempt++ {
		c, err := s.store.OpenConversation(ctx, tenantID, channel, profileID, from)
		if err == nil {
			if _, err := s.Send(ctx, tenantID, c.ID, m); err != nil {
				return c, err
			}
			return s.store.Conversation(ctx, tenantID, c.ID)
		}
		if switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			return c, err
		}
		if optOut {
			return switchboard.Conversation{}, nil
		}
		c, err = s.open(ctx, tenantID, channel, profile, from, via, m)
		if switchboard.ErrorCode(err) == switchboard.CodeConflict && attempt == 0 {
			continue // another message of the sender opened it meanwhile: join it
		}
		return c, err
	}
}

// open starts the conversation of an inbound message and routes it.
func (s *Service) open(ctx context.Context, tenantID int64, channel switchboard.ConversationChannel, profile *switchboard.ChannelProfile, from, via string, first switchboard.ConversationMessage) (switchboard.Conversation, error) {
	first.Status = switchboard.ReceiptReceived
	c := switchboard.Conversation{Channel: channel, Status: switchboard.ConversationQueued, Address: from, Via: via,
		EndUser: switchboard.EndUser{Identifier: from}}
	if strings.HasPrefix(from, "+") {
		c.EndUser.Phone = from
	}
	if last, err := s.store.LastConversation(ctx, tenantID, channel, from); err == nil {
		c.PreviousID = ptr(last.ID)
	} else if switchboard.ErrorCode(err) != switchboard.CodeNotFound {
		return c, err
	}
	var directUser *int64
	if profile != nil {
		c.ProfileID, c.QueueID = ptr(profile.ID), profile.QueueID
	}
	if c.QueueID == nil {
		owner, err := s.store.NumberOwner(ctx, via)
		switch {
		case err == nil && owner.TenantID == tenantID:
			c.QueueID, directUser = owner.QueueID, owner.UserID
		case err != nil && switchboard.ErrorCode(err) != switchboard.CodeNotFound:
			return c, err
		}
	}
	created, _, err := s.store.CreateConversation(ctx, tenantID, c, &first)
	if err != nil {
		return created, err
	}
	switch {
	case created.QueueID != nil:
		s.route(created)
	case directUser != nil:
		// The number belongs to one agent: it is theirs at once (the
		// engine records the claim as an assignment).
		unlock := s.lockConv(created.ID)
		err := s.opt.Router.ClaimChat(task(created), *directUser)
		unlock()
		if err != nil {
			s.log.Info("conversation: the number's agent cannot take it now; it waits for a claim",
				"tenant_id", tenantID, "conversation_id", created.ID, "agent_id", *directUser, "err", err)
		} else if err := s.Sync(ctx); err == nil {
			if c, err := s.store.Conversation(ctx, tenantID, created.ID); err == nil {
				created = c
			}
		}
	}
	s.hub.wake(created.ID)
	return created, nil
}

// receiptWait bounds how long a receipt waits for the send it reports on.
const receiptWait = 3 * time.Second

// sendingFor reports whether a send of the tenant's awaits its provider id.
func (s *Service) sendingFor(tenantID int64) bool {
	s.sendingMu.Lock()
	defer s.sendingMu.Unlock()
	return s.sending[tenantID] > 0
}

// Receipt implements switchboard.Conversations: a provider's delivery
// report for a message it sent. Receipts never move a message back. A
// provider id no conversation message has is CodeNotFound at once (the
// native API hands every SMS receipt here, most of them for plain SMS).
func (s *Service) Receipt(ctx context.Context, tenantID int64, providerID string, status switchboard.ReceiptStatus, errText string) (switchboard.ConversationMessage, error) {
	switch status {
	case switchboard.ReceiptSent, switchboard.ReceiptDelivered, switchboard.ReceiptRead, switchboard.ReceiptFailed:
	default:
		return switchboard.ConversationMessage{}, invalid("status", "must be sent, delivered, read or failed")
	}
	if strings.TrimSpace(providerID) == "" {
		return switchboard.ConversationMessage{}, invalid("provider_id", "is required")
	}
	// A carrier may report faster than deliver records the provider's id
	// (the send returns, then the id is written): while a send of the
	// tenant's is in that gap on this node, a receipt that names no message
	// yet waits a little for it rather than being lost. Receipts of plain
	// SMS, which name no conversation message, answer at once otherwise.
	m, err := s.store.MessageByProvider(ctx, tenantID, providerID)
	for deadline := time.Now().Add(receiptWait); switchboard.ErrorCode(err) == switchboard.CodeNotFound && s.sendingFor(tenantID) && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		m, err = s.store.MessageByProvider(ctx, tenantID, providerID)
	}
	if err != nil {
		return m, err
	}
	if status != switchboard.ReceiptFailed {
		errText = ""
	}
	m, err = s.store.SetMessageStatus(ctx, tenantID, m.ID, status, "", switchboard.Clip(errText, 500))
	if err == nil {
		s.hub.wake(m.ConversationID)
	}
	return m, err
}
