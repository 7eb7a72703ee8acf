package voiso

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/internal/phone"
)

// ref is the {id, name} of a team, queue, skill or security access group.
type ref struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// typedName is a named media object ({type, name}): a ringtone, music on
// hold, a voice message.
type typedName struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// userOut is Voiso's full user object (shapes.json "user").
type userOut struct {
	ID                   int64           `json:"id"`
	Name                 string          `json:"name"`
	Email                string          `json:"email"`
	SIPAccount           *string         `json:"sip_account"`
	Extension            *string         `json:"extension"`
	CallerID             *string         `json:"caller_id"`
	EmployeeID           *string         `json:"employee_id"`
	Timezone             string          `json:"timezone"`
	SecurityAccessGroup  ref             `json:"security_access_group"`
	Teams                []ref           `json:"teams"`
	SupervisedTeams      []ref           `json:"supervised_teams"`
	Queues               []ref           `json:"queues"`
	SupervisedQueues     []ref           `json:"supervised_queues"`
	WebRTCRingtone       typedName       `json:"webrtc_ringtone"`
	Channels             []string        `json:"channels"`
	ChannelGroupCapacity channelCapacity `json:"channel_group_capacity"`
	ChannelProfiles      []profileRef    `json:"channel_profiles"`
	SpeechLanguage       *string         `json:"speech_language"`
	Skills               []userSkill     `json:"skills"`
	Status               string          `json:"status"`
}

type channelCapacity struct {
	Chat    int `json:"chat"`
	Instant int `json:"instant"`
}

type profileRef struct {
	ID         int64  `json:"id"`
	Channel    string `json:"channel"`
	Identifier string `json:"identifier"`
	Name       string `json:"name"`
}

type userSkill struct {
	Skill ref `json:"skill"`
	Value int `json:"value"`
}

// userBrief is a user as campaign user changes and team assignments name it.
type userBrief struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

func brief(u switchboard.User) userBrief { return userBrief{ID: u.ID, Name: u.Name(), Email: u.Email} }

// usersList is a page of full users.
type usersList struct {
	Users    []userOut `json:"users"`
	Metadata metadata  `json:"metadata"`
}

// metadata is every list's metadata: total counts every match.
type metadata struct {
	Total int `json:"total"`
}

type userGet struct {
	User userOut `json:"user"`
}

// The security access groups: the core has roles, not SAGs, so each role is
// one fixed group, a user's the highest role they hold.
var accessGroups = []struct {
	ref
	role string
}{{ref{1, "Agent"}, switchboard.RoleAgent}, {ref{2, "Supervisor"}, switchboard.RoleSupervisor}, {ref{3, "Admin"}, switchboard.RoleAdmin}}

func accessGroup(roles []string) ref {
	g := accessGroups[0].ref
	for _, ag := range accessGroups {
		if slices.Contains(roles, ag.role) {
			g = ag.ref
		}
	}
	return g
}

// defaultRingtone is every user's: the core has no ringtones.
var defaultRingtone = typedName{Type: "ringtone", Name: "Bells (Default)"}

// userNames is what rendering a page of users needs besides the users: the
// names of the tenant's teams, queues and skills, its channel profiles, the
// queues each user is in, the SIP domain and the tenant's time zone. It is
// read once per page, so a page costs the same few reads whatever its size.
type userNames struct {
	teams, queues, skills map[int64]string
	profiles              []switchboard.ChannelProfile
	memberships           map[int64][]int64
	sipDomain, timezone   string
}

// namesFor reads what rendering users needs.
func (a *API) namesFor(ctx context.Context, c *call, users []switchboard.User) (*userNames, error) {
	tid := c.tenantID()
	n := &userNames{sipDomain: a.sipDomain(), timezone: c.principal.Tenant.Timezone}
	if n.timezone == "" {
		n.timezone = "UTC"
	}
	var err error
	if n.teams, err = names(ctx, a.opt.Store.Teams, tid, func(t switchboard.Team) (int64, string) { return t.ID, t.Name }); err != nil {
		return nil, err
	}
	if n.queues, err = names(ctx, a.opt.Store.Queues, tid, func(q switchboard.Queue) (int64, string) { return q.ID, q.Name }); err != nil {
		return nil, err
	}
	if n.skills, err = names(ctx, a.opt.Store.Skills, tid, func(s switchboard.Skill) (int64, string) { return s.ID, s.Name }); err != nil {
		return nil, err
	}
	if n.profiles, err = switchboard.All(ctx, func(ctx context.Context, tid int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.ChannelProfile], error) {
		return a.opt.Store.ChannelProfiles(ctx, tid, "", opt)
	}, tid); err != nil {
		return nil, err
	}
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	if n.memberships, err = a.opt.Store.QueueMemberships(ctx, tid, ids); err != nil {
		return nil, err
	}
	return n, nil
}

// names maps every object of one of the tenant's lists to its name.
func names[T any](ctx context.Context, list func(context.Context, int64, switchboard.ListOptions) (switchboard.Page[T], error),
	tenantID int64, of func(T) (int64, string)) (map[int64]string, error) {
	all, err := switchboard.All(ctx, list, tenantID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(all))
	for _, x := range all {
		id, name := of(x)
		out[id] = name
	}
	return out, nil
}

func (a *API) sipDomain() string {
	if a.opt.SIPDomain != "" {
		return a.opt.SIPDomain
	}
	return switchboard.DefaultSIPRealm
}

// nullable is s, or null when empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// refs names ids from names, in ids' order, leaving out unknown ids.
func refs(ids []int64, names map[int64]string) []ref {
	out := []ref{}
	for _, id := range ids {
		if name, ok := names[id]; ok {
			out = append(out, ref{ID: id, Name: name})
		}
	}
	return out
}

// render is u as Voiso shows a user. Its queues are those it is a member
// of; its channel profiles the enabled profiles routed to one of them, and
// its channels voice and theirs. A supervisor supervises the teams and
// queues they are in (doc.go: Supervisors).
func (n *userNames) render(u switchboard.User) userOut {
	queueIDs := n.memberships[u.ID]
	out := userOut{ID: u.ID, Name: u.Name(), Email: u.Email, Extension: nullable(u.Extension),
		CallerID: nullable(digits(u.OutboundNumber)), EmployeeID: nullable(u.AgentNumber), Timezone: u.TimeZone,
		SecurityAccessGroup: accessGroup(u.Roles), Teams: refs(u.TeamIDs, n.teams), Queues: refs(queueIDs, n.queues),
		SupervisedTeams: []ref{}, SupervisedQueues: []ref{}, WebRTCRingtone: defaultRingtone, Channels: []string{"voice"},
		ChannelGroupCapacity: channelCapacity{Chat: u.MaxChats, Instant: u.MaxChats}, ChannelProfiles: []profileRef{},
		Skills: []userSkill{}, Status: presenceStatus(u.Presence)}
	if u.SIPUsername != "" {
		out.SIPAccount = nullable(u.SIPUsername + "@" + n.sipDomain)
	}
	if out.Timezone == "" {
		out.Timezone = n.timezone
	}
	if slices.Contains(u.Roles, switchboard.RoleSupervisor) {
		out.SupervisedTeams, out.SupervisedQueues = out.Teams, out.Queues
	}
	for _, p := range n.profiles {
		if !p.Enabled || p.QueueID == nil || !slices.Contains(queueIDs, *p.QueueID) {
			continue
		}
		identifier := p.Identifier
		if switchboard.IsE164(identifier) {
			identifier = digits(identifier)
		}
		out.ChannelProfiles = append(out.ChannelProfiles, profileRef{ID: p.ID, Channel: string(p.Channel), Identifier: identifier, Name: p.Name})
		if ch := string(p.Channel); !slices.Contains(out.Channels, ch) {
			out.Channels = append(out.Channels, ch)
		}
	}
	for _, s := range u.Skills {
		if name, ok := n.skills[s.SkillID]; ok {
			out.Skills = append(out.Skills, userSkill{Skill: ref{ID: s.SkillID, Name: name}, Value: s.Proficiency})
		}
	}
	return out
}

// presenceStatus is the agent's presence as Voiso's status: available,
// busy (on a call or in wrap-up), offline, or a custom status's name in
// lower case.
func presenceStatus(p switchboard.Presence) string {
	switch p.Status {
	case switchboard.StatusAvailable:
		return "available"
	case switchboard.StatusInCall, switchboard.StatusWrapUp:
		return "busy"
	case "", switchboard.StatusOffline:
		return "offline"
	}
	return strings.ToLower(p.Status)
}

// renderUsers renders a page of users with one read of the names.
func (a *API) renderUsers(ctx context.Context, c *call, users []switchboard.User) ([]userOut, error) {
	n, err := a.namesFor(ctx, c, users)
	if err != nil {
		return nil, err
	}
	out := make([]userOut, len(users))
	for i, u := range users {
		out[i] = n.render(u)
	}
	return out, nil
}

// userQuery lists the user list's filters.
var userQuery = []param{
	{"limit", "integer", "page size, 1-100 (default 100)"}, {"offset", "integer", "rows to skip (default 0)"},
	{"name", "string", "part of the name, any case"}, {"email", "string", "the e-mail address"},
	{"sip_account", "string", "username@domain"}, {"security_access_group_id", "integer", "1 agent, 2 supervisor, 3 admin"},
	{"extension", "string", "the extension"}, {"caller_id", "string", "the outbound number, digits"},
	{"timezone", "string", "an IANA time-zone name"},
}

// pageQuery documents limit and offset.
var pageQuery = userQuery[:2]

// userFilter reads the user list's filters; ok is false when a filter can
// match no user (a SIP domain that is not ours, an unknown access group).
func (a *API) userFilter(c *call) (f switchboard.UserFilter, ok bool, err error) {
	q := c.r.URL.Query()
	f = switchboard.UserFilter{Name: q.Get("name"), Email: q.Get("email"), Extension: q.Get("extension"), TimeZone: q.Get("timezone")}
	if v := q.Get("sip_account"); v != "" {
		user, domain, found := strings.Cut(v, "@")
		if found && !strings.EqualFold(domain, a.sipDomain()) {
			return f, false, nil
		}
		f.SIPUsername = user
	}
	if v := q.Get("caller_id"); v != "" {
		n, err := phone.Normalize(v, "")
		if err != nil {
			return f, false, badRequest("caller_id must be a phone number")
		}
		f.OutboundNumber = n
	}
	if v := q.Get("security_access_group_id"); v != "" {
		id, err := strconv.Atoi(v)
		if err != nil {
			return f, false, badRequest("security_access_group_id must be an integer")
		}
		if id < 1 || id > len(accessGroups) {
			return f, false, nil
		}
		f.Role = accessGroups[id-1].role
	}
	return f, true, nil
}

func (a *API) userRoutes() []route {
	return []route{
		handler(route{Method: "GET", Path: "users", Summary: "List users", Scope: switchboard.ScopeUsersRead, Query: userQuery},
			func(ctx context.Context, c *call, _ *noBody) (usersList, error) {
				opt, err := listOptions(c.r.URL.Query())
				if err != nil {
					return usersList{}, err
				}
				f, ok, err := a.userFilter(c)
				if err != nil || !ok {
					return usersList{Users: []userOut{}}, err
				}
				p, err := a.opt.Store.Users(ctx, c.tenantID(), f, opt)
				if err != nil {
					return usersList{}, err
				}
				out, err := a.renderUsers(ctx, c, p.Items)
				return usersList{Users: out, Metadata: metadata{Total: p.Total}}, err
			}),
		handler(route{Method: "GET", Path: "users/{user_id}", Summary: "Get a user", Scope: switchboard.ScopeUsersRead},
			func(ctx context.Context, c *call, _ *noBody) (userGet, error) {
				id, err := pathID(c, "user_id")
				if err != nil {
					return userGet{}, err
				}
				u, err := a.opt.Store.User(ctx, c.tenantID(), id)
				if err != nil {
					return userGet{}, err
				}
				out, err := a.renderUsers(ctx, c, []switchboard.User{u})
				if err != nil {
					return userGet{}, err
				}
				return userGet{User: out[0]}, nil
			}),
		handler(route{Method: "GET", Path: "teams", Summary: "List teams", Scope: switchboard.ScopeUsersTeamsRead, Query: pageQuery},
			func(ctx context.Context, c *call, _ *noBody) (teamsList, error) {
				opt, err := listOptions(c.r.URL.Query())
				if err != nil {
					return teamsList{}, err
				}
				p, err := a.opt.Store.Teams(ctx, c.tenantID(), opt)
				out := teamsList{Teams: make([]ref, len(p.Items)), Metadata: metadata{Total: p.Total}}
				for i, t := range p.Items {
					out.Teams[i] = ref{ID: t.ID, Name: t.Name}
				}
				return out, err
			}),
		handler(route{Method: "GET", Path: "teams/{team_id}/assignments", Summary: "List a team's members and their roles in it",
			Scope: switchboard.ScopeUsersTeamsRead, Query: pageQuery}, a.teamAssignments),
	}
}

type teamsList struct {
	Teams    []ref    `json:"teams"`
	Metadata metadata `json:"metadata"`
}

// assignment is one member of a team: supervisor when they hold the role,
// member otherwise.
type assignment struct {
	User userBrief `json:"user"`
	Team ref       `json:"team"`
	Role string    `json:"role"`
}

type assignmentsList struct {
	Assignments []assignment `json:"assignments"`
	Metadata    metadata     `json:"metadata"`
}

func (a *API) teamAssignments(ctx context.Context, c *call, _ *noBody) (assignmentsList, error) {
	opt, err := listOptions(c.r.URL.Query())
	if err != nil {
		return assignmentsList{}, err
	}
	id, err := pathID(c, "team_id")
	if err != nil {
		return assignmentsList{}, err
	}
	t, err := a.opt.Store.Team(ctx, c.tenantID(), id)
	if err != nil {
		return assignmentsList{}, err
	}
	p, err := a.opt.Store.Users(ctx, c.tenantID(), switchboard.UserFilter{TeamID: t.ID}, opt)
	if err != nil {
		return assignmentsList{}, err
	}
	out := assignmentsList{Assignments: make([]assignment, len(p.Items)), Metadata: metadata{Total: p.Total}}
	for i, u := range p.Items {
		role := "member"
		if slices.Contains(u.Roles, switchboard.RoleSupervisor) {
			role = "supervisor"
		}
		out.Assignments[i] = assignment{User: brief(u), Team: ref{ID: t.ID, Name: t.Name}, Role: role}
	}
	return out, nil
}

// pathID reads an integer id from the path; anything else names no object
// and is 404, as an unknown id is.
func pathID(c *call, name string) (int64, error) {
	id, err := strconv.ParseInt(c.r.PathValue(name), 10, 64)
	if err != nil || id < 1 {
		return 0, switchboard.Errorf(switchboard.CodeNotFound, "no %s %s", strings.TrimSuffix(name, "_id"), switchboard.Echo(c.r.PathValue(name)))
	}
	return id, nil
}
