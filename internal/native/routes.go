package native

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"

	"switchboard"
	"switchboard/internal/httpapi"
)

// registerRoutes declares the whole API. The order here is the order of the
// OpenAPI document.
func (a *API) registerRoutes() {
	a.tenantRoutes()
	a.userRoutes()
	a.callRoutes()
	a.voicemailRoutes()
	a.cdrRoutes()
	a.metricRoutes()
	a.teamRoutes()
	a.skillRoutes()
	a.statusRoutes()
	a.queueRoutes()
	a.numberRoutes()
	a.ivrRoutes()
	a.trunkRoutes()
	a.contactRoutes()
	a.messageRoutes()
	a.simChatRoutes()
	a.conversationRoutes()
	a.cannedReplyRoutes()
	a.channelProfileRoutes()
	a.messageTemplateRoutes()
	a.consentRoutes()
	a.webchatRoutes()
	a.campaignRoutes()
	a.leadRoutes()
	a.previewRoutes()
	a.keyRoutes()
	a.eventRoutes()
	a.webhookRoutes()
	a.adminRoutes()
	a.billingRoutes()
	a.adminBillingRoutes()
}

// userBody is the writable view of a user. SIPPassword is write-only: an empty
// value keeps the current password, and a new sip_username on a user with a
// password needs a new one too (the store hashes the password with the name).
type userBody struct {
	Email          string                  `json:"email" limit:"254"`
	FirstName      string                  `json:"first_name" limit:"200"`
	LastName       string                  `json:"last_name" limit:"200"`
	AgentNumber    string                  `json:"agent_number" limit:"32"`
	Extension      string                  `json:"extension" limit:"20"`
	Location       string                  `json:"location" limit:"200"`
	Roles          []string                `json:"roles" limit:"3"`
	TeamIDs        []int64                 `json:"team_ids" limit:"100"`
	Skills         []switchboard.UserSkill `json:"skills" limit:"100"`
	MaxChats       int                     `json:"max_chats" range:"0,50"`
	PhoneNumbers   []string                `json:"phone_numbers" limit:"20"`
	OutboundNumber string                  `json:"outbound_number" limit:"64"`
	TimeZone       string                  `json:"time_zone" limit:"64"`
	SIPUsername    string                  `json:"sip_username" limit:"64"`
	SIPPassword    string                  `json:"sip_password" limit:"128"`
	// ClickToCallDisabled withholds the click-to-call permission.
	ClickToCallDisabled bool `json:"click_to_call_disabled"`
	// VoicemailEnabled lets callers the user misses leave a message;
	// ForwardEnabled sends the user's direct calls to ForwardNumber (E.164).
	VoicemailEnabled bool   `json:"voicemail_enabled"`
	ForwardEnabled   bool   `json:"forward_enabled"`
	ForwardNumber    string `json:"forward_number" limit:"64"`
	// Deactivated signs the user out of the platform for good while keeping
	// their history; setting it back to false reactivates them.
	Deactivated bool `json:"deactivated"`
}

func userToBody(u switchboard.User) userBody {
	return userBody{Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, AgentNumber: u.AgentNumber,
		Extension: u.Extension, Location: u.Location, Roles: u.Roles, TeamIDs: u.TeamIDs, Skills: u.Skills,
		MaxChats: u.MaxChats, PhoneNumbers: u.PhoneNumbers, OutboundNumber: u.OutboundNumber, TimeZone: u.TimeZone,
		SIPUsername: u.SIPUsername, ClickToCallDisabled: u.ClickToCallDisabled, VoicemailEnabled: u.VoicemailEnabled,
		ForwardEnabled: u.ForwardEnabled, ForwardNumber: u.ForwardNumber, Deactivated: u.DeactivatedAt != nil}
}

func (b *userBody) apply(u *switchboard.User) {
	u.Email, u.FirstName, u.LastName, u.AgentNumber = b.Email, b.FirstName, b.LastName, b.AgentNumber
	u.Extension, u.Location, u.Roles, u.TeamIDs, u.Skills = b.Extension, b.Location, b.Roles, b.TeamIDs, b.Skills
	u.MaxChats, u.PhoneNumbers, u.OutboundNumber, u.TimeZone = b.MaxChats, b.PhoneNumbers, b.OutboundNumber, b.TimeZone
	u.SIPUsername, u.SIPPassword, u.ClickToCallDisabled = b.SIPUsername, b.SIPPassword, b.ClickToCallDisabled
	u.VoicemailEnabled, u.ForwardEnabled, u.ForwardNumber = b.VoicemailEnabled, b.ForwardEnabled, b.ForwardNumber
	switch {
	case b.Deactivated && u.DeactivatedAt == nil:
		now := nowUTC()
		u.DeactivatedAt = &now
	case !b.Deactivated:
		u.DeactivatedAt = nil
	}
}

// sipPasswordBody is a generated SIP password, the only time it is shown.
type sipPasswordBody struct {
	UserID      int64  `json:"user_id"`
	SIPUsername string `json:"sip_username"`
	SIPPassword string `json:"sip_password"`
}

func (a *API) userRoutes() {
	s := a.opt.Store
	handle(a, route{Method: "GET", Path: "/v1/users", Summary: "List users", Tag: "Users", Scope: switchboard.ScopeUsersRead, Paged: true,
		Query: []param{{"team_id", "integer", "only members of this team"}, {"email", "string", "only the user with this e-mail"},
			{"include_deactivated", "boolean", "also list deactivated users"}}},
		func(ctx context.Context, c *call, _ *noBody) (listBody[switchboard.User], error) {
			var f switchboard.UserFilter
			var err error
			if f.TeamID, err = c.queryInt("team_id"); err != nil {
				return listBody[switchboard.User]{}, err
			}
			if f.IncludeDeactivated, err = c.queryBool("include_deactivated"); err != nil {
				return listBody[switchboard.User]{}, err
			}
			f.Email = c.r.URL.Query().Get("email")
			opt, err := c.listOptions()
			if err != nil {
				return listBody[switchboard.User]{}, err
			}
			p, err := s.Users(ctx, c.tenantID(), f, opt)
			return toList(p, opt), err
		})
	handle(a, route{Method: "POST", Path: "/v1/users", Summary: "Create a user", Tag: "Users", Scope: switchboard.ScopeUsersManage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *userBody) (switchboard.User, error) {
			var u switchboard.User
			in.apply(&u)
			return s.CreateUser(ctx, c.tenantID(), u)
		})
	getUser := func(ctx context.Context, c *call) (switchboard.User, error) {
		id, err := c.pathID("id")
		if err != nil {
			return switchboard.User{}, err
		}
		return s.User(ctx, c.tenantID(), id)
	}
	handle(a, route{Method: "GET", Path: "/v1/users/{id}", Summary: "Get a user", Tag: "Users", Scope: switchboard.ScopeUsersRead, User: userSelf},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.User, error) { return getUser(ctx, c) })
	handlePatch(a, route{Method: "PATCH", Path: "/v1/users/{id}", Summary: "Update a user", Tag: "Users", Scope: switchboard.ScopeUsersManage},
		patch[userBody, switchboard.User]{
			update: updater(s.UpdateUserFunc),
			toBody: userToBody,
			apply:  func(in *userBody, u *switchboard.User) error { in.apply(u); return nil },
			done: func(c *call, u switchboard.User) {
				if u.DeactivatedAt != nil {
					a.opt.Auth.ForgetUser(c.tenantID(), u.ID) // the user's keys stop at once
				}
			},
		})
	// A generated password is not replayed by Idempotency-Key: the replay
	// would keep it in clear, which the store never does (a retry makes
	// another, and the phone takes whichever the admin saw last).
	handle(a, route{Method: "POST", Path: "/v1/users/{id}/sip_password", Summary: "Set a new, generated SIP password; the response holds it, shown only once",
		Doc: "The password (26 characters, 130 random bits) replaces the user's current one at once: phones registered with the old " +
			"one keep their registration until it expires, then need the new one. The store keeps only its digest hashes.",
		Tag: "Users", Scope: switchboard.ScopeUsersManage, Replay: httpapi.ReplayOff},
		func(ctx context.Context, c *call, _ *noBody) (sipPasswordBody, error) {
			password := rand.Text()
			u, err := updater(s.UpdateUserFunc)(ctx, c, func(u *switchboard.User) error {
				if u.SIPUsername == "" {
					return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "the user has no sip_username",
						Fields: map[string]string{"sip_username": "is required (or an extension, its default) to set a SIP password"}}
				}
				u.SIPPassword = password
				return nil
			})
			if err != nil {
				return sipPasswordBody{}, err
			}
			return sipPasswordBody{UserID: u.ID, SIPUsername: u.SIPUsername, SIPPassword: password}, nil
		})
	handle(a, route{Method: "DELETE", Path: "/v1/users/{id}", Summary: "Deactivate a user (users are kept for their history)", Tag: "Users",
		Scope: switchboard.ScopeUsersManage, Status: http.StatusNoContent},
		func(ctx context.Context, c *call, _ *noBody) (noContent, error) {
			now := nowUTC()
			u, err := updater(s.UpdateUserFunc)(ctx, c, func(u *switchboard.User) error {
				if u.DeactivatedAt != nil {
					return errUnchanged
				}
				u.DeactivatedAt = &now
				return nil
			})
			if errors.Is(err, errUnchanged) {
				return noContent{}, nil
			}
			if err == nil {
				a.opt.Auth.ForgetUser(c.tenantID(), u.ID) // the user's keys stop at once
			}
			return noContent{}, err
		})
}

type teamBody struct {
	Name     string `json:"name" limit:"200"`
	ParentID *int64 `json:"parent_id"`
}

func (a *API) teamRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeRoutingRead, switchboard.ScopeRoutingManage
	handle(a, route{Method: "GET", Path: "/v1/teams", Summary: "List teams", Tag: "Teams", Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.Team], error) {
			return s.Teams(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/teams", Summary: "Create a team", Tag: "Teams", Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *teamBody) (switchboard.Team, error) {
			return s.CreateTeam(ctx, c.tenantID(), switchboard.Team{Name: in.Name, ParentID: in.ParentID})
		})
	get := byID(s.Team)
	handle(a, route{Method: "GET", Path: "/v1/teams/{id}", Summary: "Get a team", Tag: "Teams", Scope: read}, getter(get))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/teams/{id}", Summary: "Update a team", Tag: "Teams", Scope: manage},
		patch[teamBody, switchboard.Team]{
			update: updater(s.UpdateTeamFunc),
			toBody: func(t switchboard.Team) teamBody { return teamBody{Name: t.Name, ParentID: t.ParentID} },
			apply: func(in *teamBody, t *switchboard.Team) error {
				t.Name, t.ParentID = in.Name, in.ParentID
				return nil
			},
		})
	handle(a, route{Method: "DELETE", Path: "/v1/teams/{id}", Summary: "Delete a team (members stay, sub-teams move up)", Tag: "Teams",
		Scope: manage, Status: http.StatusNoContent}, deleter(s.DeleteTeam))
}

type skillBody struct {
	Name string `json:"name" limit:"200"`
}

func (a *API) skillRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeRoutingRead, switchboard.ScopeRoutingManage
	handle(a, route{Method: "GET", Path: "/v1/skills", Summary: "List skills", Tag: "Skills", Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.Skill], error) {
			return s.Skills(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/skills", Summary: "Create a skill", Tag: "Skills", Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *skillBody) (switchboard.Skill, error) {
			return s.CreateSkill(ctx, c.tenantID(), switchboard.Skill{Name: in.Name})
		})
	get := byID(s.Skill)
	handle(a, route{Method: "GET", Path: "/v1/skills/{id}", Summary: "Get a skill", Tag: "Skills", Scope: read}, getter(get))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/skills/{id}", Summary: "Rename a skill", Tag: "Skills", Scope: manage},
		patch[skillBody, switchboard.Skill]{
			update: updater(s.UpdateSkillFunc),
			toBody: func(k switchboard.Skill) skillBody { return skillBody{Name: k.Name} },
			apply:  func(in *skillBody, k *switchboard.Skill) error { k.Name = in.Name; return nil },
		})
	handle(a, route{Method: "DELETE", Path: "/v1/skills/{id}", Summary: "Delete a skill (users and queues lose it)", Tag: "Skills",
		Scope: manage, Status: http.StatusNoContent}, deleter(s.DeleteSkill))
}

type statusBody struct {
	Name string `json:"name" limit:"40"`
	// Available makes agents in this status receive calls.
	Available bool `json:"available"`
}

func (a *API) statusRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeRoutingRead, switchboard.ScopeRoutingManage
	handle(a, route{Method: "GET", Path: "/v1/agent_statuses", Summary: "List agent statuses (system and custom)", Tag: "Agent statuses", Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.AgentStatus], error) {
			return s.Statuses(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/agent_statuses", Summary: "Create a custom agent status", Tag: "Agent statuses", Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *statusBody) (switchboard.AgentStatus, error) {
			return s.CreateStatus(ctx, c.tenantID(), switchboard.AgentStatus{Name: in.Name, Available: in.Available})
		})
	get := byID(s.Status)
	handle(a, route{Method: "GET", Path: "/v1/agent_statuses/{id}", Summary: "Get an agent status", Tag: "Agent statuses", Scope: read}, getter(get))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/agent_statuses/{id}", Summary: "Update a custom agent status", Tag: "Agent statuses", Scope: manage},
		patch[statusBody, switchboard.AgentStatus]{
			update: updater(s.UpdateStatusFunc),
			toBody: func(st switchboard.AgentStatus) statusBody { return statusBody{Name: st.Name, Available: st.Available} },
			apply: func(in *statusBody, st *switchboard.AgentStatus) error {
				st.Name, st.Available = in.Name, in.Available
				return nil
			},
		})
	handle(a, route{Method: "DELETE", Path: "/v1/agent_statuses/{id}", Summary: "Delete a custom agent status", Tag: "Agent statuses",
		Scope: manage, Status: http.StatusNoContent}, deleter(s.DeleteStatus))
}

type numberBody struct {
	// Number is the DID in any common format; it is stored in E.164.
	Number     string `json:"number" limit:"64"`
	Label      string `json:"label" limit:"200"`
	SMSEnabled bool   `json:"sms_enabled"`
	MMSEnabled bool   `json:"mms_enabled"`
	UserID     *int64 `json:"user_id"`
	QueueID    *int64 `json:"queue_id"`
	IVRMenuID  *int64 `json:"ivr_menu_id"`
}

func (b *numberBody) apply(n *switchboard.PhoneNumber) {
	if b.Number != n.Input {
		n.Input, n.Number = b.Number, ""
	}
	n.Label, n.SMSEnabled, n.MMSEnabled, n.UserID, n.QueueID = b.Label, b.SMSEnabled, b.MMSEnabled, b.UserID, b.QueueID
	n.IVRMenuID = b.IVRMenuID
}

func (a *API) numberRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeNumbersRead, switchboard.ScopeNumbersManage
	handle(a, route{Method: "GET", Path: "/v1/phone_numbers", Summary: "List phone numbers (DIDs)", Tag: "Phone numbers", Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.PhoneNumber], error) {
			return s.PhoneNumbers(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/phone_numbers", Summary: "Add a phone number (DID) routed to a user, a queue or an IVR menu", Tag: "Phone numbers", Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *numberBody) (switchboard.PhoneNumber, error) {
			var n switchboard.PhoneNumber
			in.apply(&n)
			return s.CreatePhoneNumber(ctx, c.tenantID(), n)
		})
	get := byID(s.PhoneNumber)
	handle(a, route{Method: "GET", Path: "/v1/phone_numbers/{id}", Summary: "Get a phone number", Tag: "Phone numbers", Scope: read}, getter(get))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/phone_numbers/{id}", Summary: "Update or reassign a phone number", Tag: "Phone numbers", Scope: manage},
		patch[numberBody, switchboard.PhoneNumber]{
			update: updater(s.UpdatePhoneNumberFunc),
			toBody: func(n switchboard.PhoneNumber) numberBody {
				return numberBody{Number: n.Input, Label: n.Label, SMSEnabled: n.SMSEnabled, MMSEnabled: n.MMSEnabled, UserID: n.UserID,
					QueueID: n.QueueID, IVRMenuID: n.IVRMenuID}
			},
			apply: func(in *numberBody, n *switchboard.PhoneNumber) error { in.apply(n); return nil },
		})
	handle(a, route{Method: "DELETE", Path: "/v1/phone_numbers/{id}", Summary: "Release a phone number", Tag: "Phone numbers",
		Scope: manage, Status: http.StatusNoContent}, deleter(s.DeletePhoneNumber))
}

// byID adapts a store getter to a route that names the object in {id}.
func byID[T any](get func(ctx context.Context, tenantID, id int64) (T, error)) func(context.Context, *call) (T, error) {
	return func(ctx context.Context, c *call) (T, error) {
		id, err := c.pathID("id")
		if err != nil {
			var zero T
			return zero, err
		}
		return get(ctx, c.tenantID(), id)
	}
}

func getter[T any](get func(context.Context, *call) (T, error)) func(context.Context, *call, *noBody) (T, error) {
	return func(ctx context.Context, c *call, _ *noBody) (T, error) { return get(ctx, c) }
}

func loader[T, B any](get func(context.Context, *call) (T, error), toBody func(T) B) func(context.Context, *call) (B, error) {
	return func(ctx context.Context, c *call) (B, error) {
		v, err := get(ctx, c)
		return toBody(v), err
	}
}

func deleter(del func(ctx context.Context, tenantID, id int64) error) func(context.Context, *call, *noBody) (noContent, error) {
	return func(ctx context.Context, c *call, _ *noBody) (noContent, error) {
		id, err := c.pathID("id")
		if err != nil {
			return noContent{}, err
		}
		return noContent{}, del(ctx, c.tenantID(), id)
	}
}
