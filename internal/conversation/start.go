package conversation

import (
	"context"
	"errors"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"switchboard"
	"switchboard/internal/phone"
)

// Start implements switchboard.Conversations: a conversation opened on the
// end user's behalf (the web-chat widget, an integration), queued in its
// queue and handed to the engine.
func (s *Service) Start(ctx context.Context, tenantID int64, c switchboard.Conversation, signedContext string, first *switchboard.ConversationMessage) (switchboard.Conversation, string, error) {
	p := switchboard.Problems{}
	c.Channel = switchboard.ConversationChannel(strings.TrimSpace(string(c.Channel)))
	switch {
	case c.Channel == "":
		p.Add("channel", "is required")
	case !switchboard.ValidConversationChannel(c.Channel):
		p.Add("channel", "must be web_chat, sms, whatsapp or another lowercase channel name")
	}
	var profile *switchboard.ChannelProfile
	if c.ProfileID != nil {
		pr, err := s.store.ChannelProfile(ctx, tenantID, *c.ProfileID)
		switch {
		case switchboard.ErrorCode(err) == switchboard.CodeNotFound:
			p.Add("channel_profile_id", "is not a channel profile of this account")
		case err != nil:
			return c, "", err
		case !pr.Enabled:
			p.Add("channel_profile_id", "is disabled")
		case c.Channel != "" && pr.Channel != c.Channel:
			p.Add("channel_profile_id", "is a "+string(pr.Channel)+" profile, not "+string(c.Channel))
		default:
			profile = &pr
		}
	}
	if c.QueueID == nil && profile != nil {
		c.QueueID = profile.QueueID
	}
	if c.QueueID == nil {
		p.Add("queue_id", "is required (or a channel profile with a queue)")
	} else if _, err := s.store.Queue(ctx, tenantID, *c.QueueID); switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		p.Add("queue_id", "is not a queue of this account")
	} else if err != nil {
		return c, "", err
	}
	if signedContext != "" {
		claims, err := verifyContext(signedContext, profile)
		if err != nil {
			p.Add("context.signed", err.Error())
		}
		c.Context.Signed = claims
		// The site vouches for who the end user is: its identifier (or
		// sub), name and e-mail win over what the request says, which an
		// anonymous widget could make up.
		if id := claimString(claims, "identifier", "sub"); id != "" {
			c.EndUser.Identifier = id
		}
		if name := claimString(claims, "name"); name != "" {
			c.EndUser.Name = name
		}
		if email := claimString(claims, "email"); email != "" {
			c.EndUser.Email = email
		}
	} else {
		c.Context.Signed = nil
	}
	if err := c.EndUser.Validate(); err != nil {
		for k, v := range switchboard.ErrorFields(err) {
			p.Add(k, v)
		}
	}
	switch c.Channel {
	case switchboard.ChannelWebChat, "":
		c.Address = c.EndUser.Identifier
	default:
		// Numbers: the end user's address is their E.164 number.
		raw := firstNonEmpty(c.Address, c.EndUser.Phone, c.EndUser.Identifier)
		n, err := phone.Normalize(raw, "")
		if err != nil {
			p.Add("end_user.phone", "is not a valid phone number; use E.164 such as +15551234567")
			break
		}
		c.Address = n
		if c.EndUser.Phone == "" {
			c.EndUser.Phone = n
		}
		if profile != nil {
			c.Via = profile.Identifier
		}
		if strings.TrimSpace(c.Via) == "" {
			p.Add("via", "is required: the number or account the conversation runs on (or a channel profile)")
		}
	}
	if first != nil {
		first.Direction, first.AgentID = switchboard.Inbound, nil
		first.Status = switchboard.ReceiptReceived
		if first.Kind == "" {
			first.Kind = switchboard.KindText
		}
		if first.Kind == switchboard.KindNote || first.Kind == switchboard.KindActivity || first.Kind == switchboard.KindTemplate {
			p.Add("kind", "must be text, photo, video or file for the end user's first message")
		} else if err := first.Validate(); err != nil {
			for k, v := range switchboard.ErrorFields(err) {
				p.Add(k, v)
			}
		}
	}
	if err := p.Err(); err != nil {
		return c, "", err
	}

	c.ID, c.TenantID, c.UUID = 0, tenantID, ""
	c.Status, c.AgentID = switchboard.ConversationQueued, nil
	c.EndedBy, c.EndReason, c.Deflection, c.Transfers = "", "", "", nil
	c.AssignedAt, c.FirstResponseAt, c.EndedAt, c.LastOutboundAt = nil, nil, nil, nil
	if c.Language == "" {
		c.Language = c.EndUser.Language
	}
	var token string
	if c.Channel == switchboard.ChannelWebChat {
		token, c.TokenHash = newToken()
	}
	created, _, err := s.store.CreateConversation(ctx, tenantID, c, first)
	if err != nil {
		return created, "", err
	}
	s.route(created)
	s.hub.wake(created.ID)
	return created, token, nil
}

// route hands a queued conversation to the engine: into its queue, or
// nowhere when it has none (it waits for a transfer or an agent's claim).
// A refusal (the engine does not know the queue yet) is logged: the
// conversation stays queued in the store and can still be claimed.
func (s *Service) route(c switchboard.Conversation) {
	if c.QueueID == nil || c.Status != switchboard.ConversationQueued {
		return
	}
	if err := s.opt.Router.QueueChat(task(c)); err != nil {
		s.log.Warn("conversation: the engine did not queue it", "tenant_id", c.TenantID, "conversation_id", c.ID, "queue_id", *c.QueueID, "err", err)
	}
}

// verifyContext checks a signed context: an HS256 JWT signed with the
// profile's secret (no other algorithm is accepted, so neither "none" nor
// a public-key algorithm can be smuggled in), whose exp, when present, has
// not passed. It returns the claims.
func verifyContext(token string, profile *switchboard.ChannelProfile) (map[string]any, error) {
	if profile == nil || profile.SigningSecret == "" {
		return nil, errors.New("cannot be verified: the conversation has no channel profile with a signing secret")
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) {
		return []byte(profile.SigningSecret), nil
	}, jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, errors.New("has expired")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, errors.New("does not verify: it must be an HS256 JWT signed with the channel profile's secret")
	case err != nil:
		return nil, errors.New("is not a valid HS256 JWT")
	}
	return map[string]any(claims), nil
}

// claimString is the first of the claims named that is a non-empty string.
func claimString(claims map[string]any, names ...string) string {
	for _, n := range names {
		if v, ok := claims[n].(string); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// Conversation implements switchboard.Conversations.
func (s *Service) Conversation(ctx context.Context, tenantID, id int64) (switchboard.Conversation, error) {
	return s.store.Conversation(ctx, tenantID, id)
}

// List implements switchboard.Conversations.
func (s *Service) List(ctx context.Context, tenantID int64, f switchboard.ConversationFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.Conversation], error) {
	return s.store.Conversations(ctx, tenantID, f, opt)
}

// Messages implements switchboard.Conversations.
func (s *Service) Messages(ctx context.Context, tenantID, conversationID, afterSeq int64, limit int) ([]switchboard.ConversationMessage, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return s.store.ConversationMessages(ctx, tenantID, conversationID, afterSeq, limit)
}

// OptedOut implements switchboard.Conversations.
func (s *Service) OptedOut(ctx context.Context, tenantID int64, number string) (bool, error) {
	if n, err := phone.Normalize(number, ""); err == nil {
		number = n
	}
	return s.store.OptedOut(ctx, tenantID, number)
}
