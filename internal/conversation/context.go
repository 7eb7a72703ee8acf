package conversation

import (
	"context"
	"maps"

	"switchboard"
)

// AddContext implements switchboard.Conversations: data an integration
// sends mid-conversation (UJET's custom data). The signed part is verified
// as Start verifies a signed context, with the secret of the
// conversation's channel profile, before anything is written.
func (s *Service) AddContext(ctx context.Context, tenantID, id int64, signedContext string, unsigned map[string]any) (switchboard.Conversation, map[string]any, error) {
	c, err := s.store.Conversation(ctx, tenantID, id)
	if err != nil {
		return c, nil, err
	}
	var claims map[string]any
	if signedContext != "" {
		var profile *switchboard.ChannelProfile
		if c.ProfileID != nil {
			p, err := s.store.ChannelProfile(ctx, tenantID, *c.ProfileID)
			switch {
			case err == nil:
				profile = &p
			case switchboard.ErrorCode(err) != switchboard.CodeNotFound:
				return c, nil, err
			}
		}
		if claims, err = verifyContext(signedContext, profile); err != nil {
			return c, nil, invalid("context.signed", err.Error())
		}
	}
	if len(claims) == 0 && len(unsigned) == 0 {
		return c, claims, nil
	}
	unlock := s.lockConv(id)
	defer unlock()
	c, err = s.change(ctx, tenantID, id, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		if len(claims) > 0 {
			c.Context.Signed = merged(c.Context.Signed, claims)
		}
		if len(unsigned) > 0 {
			c.Context.Unsigned = merged(c.Context.Unsigned, unsigned)
		}
		return switchboard.ConversationUpdate{Event: switchboard.EventConversationUpdated}, nil
	})
	return c, claims, err
}

// merged is old with add's keys set, as a new map.
func merged(old, add map[string]any) map[string]any {
	out := make(map[string]any, len(old)+len(add))
	maps.Copy(out, old)
	maps.Copy(out, add)
	return out
}
