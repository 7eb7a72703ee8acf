package native

import (
	"context"
	"net/http"

	"switchboard"
	"switchboard/internal/phone"
)

// The configuration conversations use: canned replies, channel profiles,
// message templates and consent. Writing it is the tenant's: those routes
// refuse user keys. Agents read canned replies and templates (to use them)
// and a number's consent with their own keys.

// cannedReplyBody is the writable view of a canned reply.
type cannedReplyBody struct {
	Name string `json:"name" limit:"200"`
	// Body is the reply's text, with {{name}}-style placeholders.
	Body string `json:"body" limit:"4000"`
	// Channels and TeamIDs narrow who sees it; empty: every channel, every
	// team.
	Channels []switchboard.ConversationChannel `json:"channels" limit:"20"`
	TeamIDs  []int64                           `json:"team_ids" limit:"100"`
}

func (b *cannedReplyBody) apply(r *switchboard.CannedReply) error {
	r.Name, r.Body, r.Channels, r.TeamIDs = b.Name, b.Body, b.Channels, b.TeamIDs
	return r.Validate()
}

// channelProfileBody is the writable view of a channel profile.
// SigningSecret is write-only: answers say only whether one is set, and a
// PATCH that leaves it out keeps it ("" removes it).
type channelProfileBody struct {
	Channel switchboard.ConversationChannel `json:"channel" limit:"32"`
	Name    string                          `json:"name" limit:"200"`
	// Identifier is the number (sms, whatsapp; E.164) or the provider's
	// account id; for web chat, free (the site).
	Identifier string `json:"identifier" limit:"200"`
	// QueueID is the queue new conversations on the profile enter.
	QueueID *int64 `json:"queue_id"`
	// SigningSecret verifies the signed context (an HS256 JWT) of the
	// conversations started on the profile.
	SigningSecret *string `json:"signing_secret" limit:"512"`
	// Enabled is true when left out on create.
	Enabled *bool `json:"enabled"`
}

func (b *channelProfileBody) apply(p *switchboard.ChannelProfile) error {
	p.Channel, p.Name, p.Identifier, p.QueueID = b.Channel, b.Name, b.Identifier, b.QueueID
	if p.Channel != switchboard.ChannelWebChat && p.Identifier != "" {
		if n, err := phone.Normalize(p.Identifier, ""); err == nil {
			p.Identifier = n
		}
	}
	if b.SigningSecret != nil {
		p.SigningSecret = *b.SigningSecret
	}
	if b.Enabled != nil {
		p.Enabled = *b.Enabled
	}
	return p.Validate()
}

// channelProfileView is a channel profile as answers show it: without its
// signing secret, saying whether it has one.
type channelProfileView struct {
	switchboard.ChannelProfile
	SigningSecretSet bool `json:"signing_secret_set"`
}

func viewProfile(p switchboard.ChannelProfile) channelProfileView {
	return channelProfileView{ChannelProfile: p, SigningSecretSet: p.SigningSecret != ""}
}

// messageTemplateBody is the writable view of a message template.
type messageTemplateBody struct {
	ProfileID int64  `json:"channel_profile_id"`
	Name      string `json:"name" limit:"200"`
	// Language defaults to en.
	Language string `json:"language" limit:"35"`
	// Category is marketing, utility (the default) or authentication.
	Category string `json:"category" limit:"32"`
	// Status is approved (the default), pending, rejected, paused or
	// disabled.
	Status string `json:"status" limit:"32"`
	// Body has {{1}}, {{2}}… parameters.
	Body string `json:"body" limit:"4096"`
}

func (b *messageTemplateBody) apply(t *switchboard.MessageTemplate) error {
	t.ProfileID, t.Name, t.Language, t.Category, t.Status, t.Body = b.ProfileID, b.Name, b.Language, b.Category, b.Status, b.Body
	return t.Validate()
}

// consentBody sets a number's consent.
type consentBody struct {
	// OptedOut true refuses messages (and the dialer's calls) to the
	// number, as STOP does; false consents again, as START does.
	OptedOut bool `json:"opted_out"`
}

// pathNumber reads the path's {number} in E.164.
func (c *call) pathNumber() (string, error) {
	n, err := phone.Normalize(c.r.PathValue("number"), "")
	if err != nil {
		return "", invalid("number", "must be a phone number in E.164, such as +14155550100")
	}
	return n, nil
}

func (a *API) cannedReplyRoutes() {
	cs := a.opt.Store
	read, manage := switchboard.ScopeMessagesRead, switchboard.ScopeMessagesManage
	const tag = "Conversations"
	handle(a, route{Method: "GET", Path: "/v1/canned_replies", Summary: "Canned replies, by name", Tag: tag, Scope: read, Paged: true, User: userChecked,
		Query: []param{{"channel", "string", "only those for this channel (or for all)"}, {"team_id", "integer", "only those for this team (or for all)"}}},
		func(ctx context.Context, c *call, _ *noBody) (listBody[switchboard.CannedReply], error) {
			team, err := c.queryInt("team_id")
			if err != nil {
				return listBody[switchboard.CannedReply]{}, err
			}
			ch := switchboard.ConversationChannel(c.r.URL.Query().Get("channel"))
			if ch != "" && !switchboard.ValidConversationChannel(ch) {
				return listBody[switchboard.CannedReply]{}, badParam("channel", "must be a channel name such as web_chat, sms or whatsapp")
			}
			opt, err := c.listOptions()
			if err != nil {
				return listBody[switchboard.CannedReply]{}, err
			}
			p, err := cs.CannedReplies(ctx, c.tenantID(), ch, team, opt)
			return toList(p, opt), err
		})
	handle(a, route{Method: "POST", Path: "/v1/canned_replies", Summary: "Create a canned reply", Tag: tag, Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *cannedReplyBody) (switchboard.CannedReply, error) {
			var r switchboard.CannedReply
			if err := in.apply(&r); err != nil {
				return r, err
			}
			return cs.CreateCannedReply(ctx, c.tenantID(), r)
		})
	get := byID(cs.CannedReply)
	handle(a, route{Method: "GET", Path: "/v1/canned_replies/{id}", Summary: "A canned reply", Tag: tag, Scope: read, User: userChecked}, getter(get))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/canned_replies/{id}", Summary: "Update a canned reply", Tag: tag, Scope: manage},
		patch[cannedReplyBody, switchboard.CannedReply]{
			update: updater(cs.UpdateCannedReplyFunc),
			toBody: func(r switchboard.CannedReply) cannedReplyBody {
				return cannedReplyBody{Name: r.Name, Body: r.Body, Channels: r.Channels, TeamIDs: r.TeamIDs}
			},
			apply: func(in *cannedReplyBody, r *switchboard.CannedReply) error { return in.apply(r) },
		})
	handle(a, route{Method: "DELETE", Path: "/v1/canned_replies/{id}", Summary: "Delete a canned reply", Tag: tag, Scope: manage, Status: http.StatusNoContent},
		deleter(cs.DeleteCannedReply))
}

func (a *API) channelProfileRoutes() {
	cs := a.opt.Store
	read, manage := switchboard.ScopeMessagesRead, switchboard.ScopeMessagesManage
	const tag = "Conversations"
	handle(a, route{Method: "GET", Path: "/v1/channel_profiles", Summary: "Channel profiles: the numbers and accounts the channels use",
		Tag: tag, Scope: read, Paged: true, Query: []param{{"channel", "string", "only profiles of this channel"}}},
		func(ctx context.Context, c *call, _ *noBody) (listBody[channelProfileView], error) {
			ch := switchboard.ConversationChannel(c.r.URL.Query().Get("channel"))
			if ch != "" && !switchboard.ValidConversationChannel(ch) {
				return listBody[channelProfileView]{}, badParam("channel", "must be a channel name such as web_chat, sms or whatsapp")
			}
			opt, err := c.listOptions()
			if err != nil {
				return listBody[channelProfileView]{}, err
			}
			p, err := cs.ChannelProfiles(ctx, c.tenantID(), ch, opt)
			views := switchboard.Page[channelProfileView]{Total: p.Total, NextCursor: p.NextCursor}
			for _, pr := range p.Items {
				views.Items = append(views.Items, viewProfile(pr))
			}
			return toList(views, opt), err
		})
	handle(a, route{Method: "POST", Path: "/v1/channel_profiles", Summary: "Create a channel profile",
		Doc: "web_chat profiles are what a site's widget names (by uuid) to start chats: POST /v1/webchat/{profile_uuid}/conversations.",
		Tag: tag, Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *channelProfileBody) (channelProfileView, error) {
			p := switchboard.ChannelProfile{Enabled: true}
			if err := in.apply(&p); err != nil {
				return channelProfileView{}, err
			}
			p, err := cs.CreateChannelProfile(ctx, c.tenantID(), p)
			return viewProfile(p), err
		})
	get := loader(byID(cs.ChannelProfile), viewProfile)
	handle(a, route{Method: "GET", Path: "/v1/channel_profiles/{id}", Summary: "A channel profile", Tag: tag, Scope: read}, getter(get))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/channel_profiles/{id}", Summary: "Update a channel profile", Tag: tag, Scope: manage},
		patch[channelProfileBody, channelProfileView]{
			update: func(ctx context.Context, c *call, change func(*channelProfileView) error) (channelProfileView, error) {
				p, err := updater(cs.UpdateChannelProfileFunc)(ctx, c, func(p *switchboard.ChannelProfile) error {
					v := viewProfile(*p)
					if err := change(&v); err != nil {
						return err
					}
					*p = v.ChannelProfile
					return nil
				})
				return viewProfile(p), err
			},
			toBody: func(v channelProfileView) channelProfileBody {
				return channelProfileBody{Channel: v.Channel, Name: v.Name, Identifier: v.Identifier, QueueID: v.QueueID, Enabled: &v.Enabled}
			},
			apply: func(in *channelProfileBody, v *channelProfileView) error { return in.apply(&v.ChannelProfile) },
		})
	handle(a, route{Method: "DELETE", Path: "/v1/channel_profiles/{id}", Summary: "Delete a channel profile", Tag: tag, Scope: manage, Status: http.StatusNoContent},
		deleter(cs.DeleteChannelProfile))
}

func (a *API) messageTemplateRoutes() {
	cs := a.opt.Store
	read, manage := switchboard.ScopeMessagesRead, switchboard.ScopeMessagesManage
	const tag = "Conversations"
	handle(a, route{Method: "GET", Path: "/v1/message_templates", Summary: "Message templates (WhatsApp-style), by name",
		Tag: tag, Scope: read, Paged: true, User: userChecked, Query: []param{{"channel_profile_id", "integer", "only this profile's templates"}}},
		func(ctx context.Context, c *call, _ *noBody) (listBody[switchboard.MessageTemplate], error) {
			profile, err := c.queryInt("channel_profile_id")
			if err != nil {
				return listBody[switchboard.MessageTemplate]{}, err
			}
			opt, err := c.listOptions()
			if err != nil {
				return listBody[switchboard.MessageTemplate]{}, err
			}
			p, err := cs.MessageTemplates(ctx, c.tenantID(), profile, opt)
			return toList(p, opt), err
		})
	handle(a, route{Method: "POST", Path: "/v1/message_templates", Summary: "Create a message template", Tag: tag, Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *messageTemplateBody) (switchboard.MessageTemplate, error) {
			var t switchboard.MessageTemplate
			if err := in.apply(&t); err != nil {
				return t, err
			}
			return cs.CreateMessageTemplate(ctx, c.tenantID(), t)
		})
	get := byID(cs.MessageTemplate)
	handle(a, route{Method: "GET", Path: "/v1/message_templates/{id}", Summary: "A message template", Tag: tag, Scope: read, User: userChecked}, getter(get))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/message_templates/{id}", Summary: "Update a message template", Tag: tag, Scope: manage},
		patch[messageTemplateBody, switchboard.MessageTemplate]{
			update: updater(cs.UpdateMessageTemplateFunc),
			toBody: func(t switchboard.MessageTemplate) messageTemplateBody {
				return messageTemplateBody{ProfileID: t.ProfileID, Name: t.Name, Language: t.Language, Category: t.Category, Status: t.Status, Body: t.Body}
			},
			apply: func(in *messageTemplateBody, t *switchboard.MessageTemplate) error { return in.apply(t) },
		})
	handle(a, route{Method: "DELETE", Path: "/v1/message_templates/{id}", Summary: "Delete a message template", Tag: tag, Scope: manage, Status: http.StatusNoContent},
		deleter(cs.DeleteMessageTemplate))
}

func (a *API) consentRoutes() {
	cs := a.opt.Store
	read, manage := switchboard.ScopeMessagesRead, switchboard.ScopeMessagesManage
	const tag = "Conversations"
	handle(a, route{Method: "GET", Path: "/v1/consents/{number}", Summary: "A number's consent to messages",
		Doc: "A number with no record has not refused: opted_out false.", Tag: tag, Scope: read, User: userChecked},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.Consent, error) {
			n, err := c.pathNumber()
			if err != nil {
				return switchboard.Consent{}, err
			}
			con, err := cs.Consent(ctx, c.tenantID(), n)
			if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
				return switchboard.Consent{TenantID: c.tenantID(), Number: n}, nil
			}
			return con, err
		})
	handle(a, route{Method: "PUT", Path: "/v1/consents/{number}", Summary: "Set a number's consent to messages (as STOP and START do)",
		Doc: "opted_out true makes text messages and the dialer refuse the number; false consents again. Recorded with source api.",
		Tag: tag, Scope: manage},
		func(ctx context.Context, c *call, in *consentBody) (switchboard.Consent, error) {
			n, err := c.pathNumber()
			if err != nil {
				return switchboard.Consent{}, err
			}
			return cs.SetConsent(ctx, switchboard.Consent{TenantID: c.tenantID(), Number: n, OptedOut: in.OptedOut,
				Channel: "api", Source: "api", At: nowUTC()})
		})
}
