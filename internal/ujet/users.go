package ujet

// Users (seed "Users 1", spec §2.13, §3.4): GET /users, the seed's user
// object, its filters and its four 400 texts, read as the seed's response
// table writes them:
//   - per must be an integer from 1 to 999 ("less than 1000"): this list
//     pages up to 999 records, not the dialect's usual 100;
//   - a filter and page or per together: "Cannot paginate filtered
//     results" (a filtered answer is the whole selection, unpaged);
//   - two filters at once (last_login_time[from] and [to] are one filter):
//     "Only one filter should be configured at a time";
//   - more than 1000 values in the filter: "Ensure you are not filtering
//     more than 1000 values at a time".

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// The seed's error texts of GET /users.
const (
	textUsersPer       = "Invalid page size request - check to ensure the max page size is a valid integer less than 1000"
	textUsersPaginate  = "Cannot paginate filtered results - ensure that you are not using a filter and pagination parameters"
	textUsersOneFilter = "Only one filter should be configured at a time"
	textUsersValues    = "Ensure you are not filtering more than 1000 values at a time"
)

// maxUserFilterValues bounds the values of the one filter of a user list.
const maxUserFilterValues = 1000

func (a *API) userRoutes() []route {
	return []route{
		rawHandler(route{Method: "GET", Path: "/users", Scope: switchboard.ScopeUsersRead,
			Summary: "Users (agents), 100 a page by default; or the users one filter selects",
			Doc: "At most one filter at a time, without page/per: id[], agent_number[], status_id[] (the id of the agent's " +
				"current status), online[] (true: not Offline), wrap_up[] (true: in Wrap-Up), location[], " +
				"last_login_time[from|to] (the agent's latest sign-in), status_updated_at[from|to].",
			Query: []param{
				{Name: "page", Type: "integer", Doc: "page number, from 1"},
				{Name: "per", Type: "integer", Doc: "records per page, 1 to 999 (100 by default)"},
				{Name: "id[]", Type: "array", Doc: "user ids"},
				{Name: "agent_number[]", Type: "array", Doc: "agent numbers"},
				{Name: "status_id[]", Type: "array", Doc: "ids of agent statuses"},
				{Name: "online[]", Type: "array", Doc: "true or false"},
				{Name: "wrap_up[]", Type: "array", Doc: "true or false"},
				{Name: "location[]", Type: "array", Doc: "locations (ignoring case)"},
				{Name: "last_login_time[from]", Type: "string", Doc: "ISO 8601, UTC"},
				{Name: "last_login_time[to]", Type: "string", Doc: "ISO 8601, UTC"},
				{Name: "status_updated_at[from]", Type: "string", Doc: "ISO 8601, UTC"},
				{Name: "status_updated_at[to]", Type: "string", Doc: "ISO 8601, UTC"},
			}},
			nil, reflect.TypeFor[[]userView](), a.listUsers),
	}
}

// userView is the seed's user object.
type userView struct {
	ID                               int64      `json:"id"`
	Email                            string     `json:"email"`
	FirstName                        string     `json:"first_name"`
	LastName                         string     `json:"last_name"`
	AgentNumber                      string     `json:"agent_number"`
	Location                         string     `json:"location"`
	MaxChatLimit                     int        `json:"max_chat_limit"`
	MaxChatLimitEnabled              bool       `json:"max_chat_limit_enabled"`
	UnrestrictedInternationalCalling bool       `json:"unrestricted_international_calling"`
	DeactivatedAt                    *string    `json:"deactivated_at"`
	UcaasUserName                    string     `json:"ucaas_user_name"`
	UcaasSIPURI                      string     `json:"ucaas_sip_uri"`
	ExternalUser                     bool       `json:"external_user"`
	PhoneNumbers                     []string   `json:"phone_numbers"`
	ExtensionNumbers                 []int64    `json:"extension_numbers"`
	Teams                            []nameOnly `json:"teams"`
	Roles                            []nameOnly `json:"roles"`
}

type nameOnly struct {
	Name string `json:"name"`
}

// userFilters are the filters of GET /users, by the name the one-filter
// rule counts them under.
var userFilters = []string{"id", "agent_number", "status_id", "online", "wrap_up", "location", "last_login_time", "status_updated_at"}

func (a *API) listUsers(w http.ResponseWriter, c *call) {
	if err := a.serveUsers(w, c); err != nil {
		a.writeError(w, c.r, err)
	}
}

func (a *API) serveUsers(w http.ResponseWriter, c *call) error {
	q := c.r.URL.Query()
	ctx, tid := c.r.Context(), c.tenantID()
	page, per := 1, 100
	if v, ok := q["per"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(firstOf(v)))
		if err != nil || n < 1 || n >= 1000 {
			return badRequest(textUsersPer)
		}
		per = n
	}
	if v, ok := q["page"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(firstOf(v)))
		if err != nil || n < 1 || n > switchboard.MaxOffset/1000 {
			return badRequest("Invalid page request - page must be a positive integer")
		}
		page = n
	}
	var used []string
	for _, f := range userFilters {
		for key := range q {
			if key == f || strings.HasPrefix(key, f+"[") {
				used = append(used, f)
				break
			}
		}
	}
	if len(used) > 1 {
		return badRequest(textUsersOneFilter)
	}
	_, paged := q["page"]
	_, sized := q["per"]
	if len(used) == 1 && (paged || sized) {
		return badRequest(textUsersPaginate)
	}
	refs, err := a.userViewRefs(c)
	if err != nil {
		return err
	}
	if len(used) == 0 {
		p, err := a.opt.Store.Users(ctx, tid, switchboard.UserFilter{IncludeDeactivated: true},
			switchboard.ListOptions{Limit: per, Offset: (page - 1) * per})
		if err != nil {
			return err
		}
		out := make([]userView, len(p.Items))
		for i, u := range p.Items {
			out[i] = refs.view(u)
		}
		writeList(c, a.opt.PublicURL, out, p.Total, page, per)
		return nil
	}
	keep, err := a.userFilter(c, used[0], refs)
	if err != nil {
		return err
	}
	users, err := switchboard.All(ctx, func(ctx2 context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.User], error) {
		return a.opt.Store.Users(ctx2, tenantID, switchboard.UserFilter{IncludeDeactivated: true}, opt)
	}, tid)
	if err != nil {
		return err
	}
	out := []userView{}
	for _, u := range users {
		if keep(u) {
			out = append(out, refs.view(u))
		}
	}
	// The whole selection is one page.
	writeList(c, a.opt.PublicURL, out, len(out), 1, max(1, len(out)))
	return nil
}

func firstOf(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// userRefsView is what rendering and filtering users needs besides the
// users: team names, status ids, latest sign-ins.
type userRefsView struct {
	teams     map[int64]string
	statusIDs map[string]int64 // lower-case name → id
	signIns   map[int64]switchboard.AgentSession
	sipDomain string
}

func (a *API) userViewRefs(c *call) (*userRefsView, error) {
	ctx, tid := c.r.Context(), c.tenantID()
	teams, err := switchboard.All(ctx, a.opt.Store.Teams, tid)
	if err != nil {
		return nil, err
	}
	statuses, err := switchboard.All(ctx, a.opt.Store.Statuses, tid)
	if err != nil {
		return nil, err
	}
	r := &userRefsView{teams: map[int64]string{}, statusIDs: map[string]int64{}, sipDomain: a.opt.SIPDomain}
	if r.sipDomain == "" {
		r.sipDomain = switchboard.DefaultSIPRealm
	}
	for _, t := range teams {
		r.teams[t.ID] = t.Name
	}
	for _, s := range statuses {
		r.statusIDs[strings.ToLower(s.Name)] = s.ID
	}
	if r.signIns, err = a.opt.Store.LastSignIns(ctx, tid, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// view renders u as the seed's user object. max_chat_limit_enabled says
// the agent has a limit of their own (other than the default of 3);
// unrestricted_international_calling is true because the core restricts no
// agent's international calls; external_user is false, as every user is
// the tenant's own.
func (r *userRefsView) view(u switchboard.User) userView {
	v := userView{ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, AgentNumber: u.AgentNumber,
		Location: u.Location, MaxChatLimit: u.MaxChats, MaxChatLimitEnabled: u.MaxChats != defaultMaxChats,
		UnrestrictedInternationalCalling: true, DeactivatedAt: optMillis(u.DeactivatedAt), UcaasUserName: u.SIPUsername,
		PhoneNumbers: u.PhoneNumbers, ExtensionNumbers: []int64{}, Teams: []nameOnly{}, Roles: []nameOnly{}}
	if u.SIPUsername != "" {
		v.UcaasSIPURI = "sip:" + u.SIPUsername + "@" + r.sipDomain
	}
	if v.PhoneNumbers == nil {
		v.PhoneNumbers = []string{}
	}
	if n, err := strconv.ParseInt(u.Extension, 10, 64); err == nil {
		v.ExtensionNumbers = append(v.ExtensionNumbers, n)
	}
	for _, id := range u.TeamIDs {
		if name, ok := r.teams[id]; ok {
			v.Teams = append(v.Teams, nameOnly{Name: name})
		}
	}
	for _, role := range u.Roles {
		v.Roles = append(v.Roles, nameOnly{Name: ujetRole(role)})
	}
	return v
}

// userFilter reads the one filter named and returns whether a user passes.
func (a *API) userFilter(c *call, name string, refs *userRefsView) (func(switchboard.User) bool, error) {
	switch name {
	case "last_login_time", "status_updated_at":
		from, to, err := timeRange(c.r, name)
		if err != nil {
			return nil, err
		}
		in := func(t time.Time) bool {
			return !t.IsZero() && (from == nil || t.After(*from)) && (to == nil || t.Before(*to))
		}
		if name == "status_updated_at" {
			return func(u switchboard.User) bool { return in(u.Presence.Since) }, nil
		}
		return func(u switchboard.User) bool { return in(refs.signIns[u.ID].At) }, nil
	}
	values := multi(c.r, name)
	if len(values) > maxUserFilterValues {
		return nil, badRequest(textUsersValues)
	}
	switch name {
	case "id", "status_id":
		ids, err := multiInt(c.r, name)
		if err != nil {
			return nil, err
		}
		if name == "id" {
			return func(u switchboard.User) bool { return slices.Contains(ids, u.ID) }, nil
		}
		return func(u switchboard.User) bool {
			id, ok := refs.statusIDs[strings.ToLower(u.Presence.Status)]
			return ok && slices.Contains(ids, id)
		}, nil
	case "agent_number":
		return func(u switchboard.User) bool { return u.AgentNumber != "" && slices.Contains(values, u.AgentNumber) }, nil
	case "location":
		return func(u switchboard.User) bool {
			return u.Location != "" && slices.ContainsFunc(values, func(v string) bool { return strings.EqualFold(v, u.Location) })
		}, nil
	}
	// online, wrap_up: booleans.
	want := map[bool]bool{}
	for _, v := range values {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, badRequest(name + "[] must hold true or false")
		}
		want[b] = true
	}
	if name == "online" {
		return func(u switchboard.User) bool {
			return want[u.Presence.Status != switchboard.StatusOffline && u.Presence.Status != ""]
		}, nil
	}
	return func(u switchboard.User) bool { return want[u.Presence.Status == switchboard.StatusWrapUp] }, nil
}
