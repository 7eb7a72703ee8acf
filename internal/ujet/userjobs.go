package ujet

// The bulk user worker: it validates a created job's file against the
// seed's table of rules and, once the job proceeds, applies its rows in
// batches (one transaction of many rows each, a failing row rolled back
// alone), until the job is finished. Everything it needs is in the store, so
// a restarted server picks up where the last one stopped.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// Worker tuning: how many rows one transaction applies, how often the
// worker looks for jobs without being woken.
const (
	userJobBatch = 250
	userJobPoll  = 2 * time.Second
)

// maxChatLimit is X of the seed's "max_chat_limit 1 to X": the core's
// bound on an agent's concurrent chats (User.Validate).
const maxChatLimit = 50

// defaultMaxChats is the chat limit an agent has when no limit of their own
// is enabled (User.Normalize's default).
const defaultMaxChats = 3

// ujetRoles are UJET's role names and the core roles they are.
var ujetRoles = []struct{ name, core string }{
	{"Admin", switchboard.RoleAdmin},
	{"Manager", switchboard.RoleSupervisor},
	{"Agent", switchboard.RoleAgent},
}

// coreRole is the core role a row's role name means: UJET's names, or the
// core's own, in any case.
func coreRole(name string) (string, bool) {
	for _, r := range ujetRoles {
		if strings.EqualFold(name, r.name) || strings.EqualFold(name, r.core) {
			return r.core, true
		}
	}
	return "", false
}

// ujetRole is the UJET name of a core role.
func ujetRole(core string) string {
	for _, r := range ujetRoles {
		if r.core == core {
			return r.name
		}
	}
	return core
}

// userRefs are the tenant's names a row may refer to: its teams and its
// locations. Locations are the distinct locations of the tenant's users
// (the core has no list of its own), matched ignoring case.
type userRefs struct {
	teams        map[string]int64  // lower-case name → id
	teamList     []string          // names, in id order
	teamNames    map[int64]string  // id → name
	locations    map[string]string // lower-case → as spelled
	locationList []string
}

func (a *API) loadUserRefs(ctx context.Context, tenantID int64) (*userRefs, error) {
	ref := &userRefs{teams: map[string]int64{}, teamNames: map[int64]string{}, locations: map[string]string{}}
	teams, err := switchboard.All(ctx, a.opt.Store.Teams, tenantID)
	if err != nil {
		return nil, err
	}
	for _, t := range teams {
		ref.teams[strings.ToLower(t.Name)] = t.ID
		ref.teamNames[t.ID] = t.Name
		ref.teamList = append(ref.teamList, t.Name)
	}
	users, err := switchboard.All(ctx, func(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.User], error) {
		return a.opt.Store.Users(ctx, tenantID, switchboard.UserFilter{IncludeDeactivated: true}, opt)
	}, tenantID)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if l := strings.TrimSpace(u.Location); l != "" {
			if _, ok := ref.locations[strings.ToLower(l)]; !ok {
				ref.locations[strings.ToLower(l)] = l
				ref.locationList = append(ref.locationList, l)
			}
		}
	}
	slices.Sort(ref.locationList)
	return ref, nil
}

// userRow is a row of a bulk user file as read. Pointers are nil for keys
// the row leaves out (and so leaves unchanged).
type userRow struct {
	email, newEmail     string
	agentNumber         *string
	firstName, lastName string
	status              string
	location            *string
	maxChats            *int
	maxChatsEnabled     *int
	roles               map[string]int // core role → 0 or 1
	teams               map[int64]int  // team id → 0 or 1
}

// The seed's validation texts, one per rule.
const (
	msgEmail      = "Must be a valid email"
	msgUnique     = "Must be unique within the file"
	msgNonEmpty   = "Non-empty string"
	msgString     = "Must be a string"
	msgStatus     = "Must be “Active”, “Inactive”, or empty"
	msgLocation   = "Must exactly match one of the existing locations (case-insensitive), or Null, or empty"
	msgZeroOne    = "Must be 0, 1 or empty"
	msgNameValues = "Must be an array of {\"name\", \"value\"}"
)

// parseUserRow reads and checks one row of a file against the seed's rules,
// resolving names with ref; it returns every field's error.
func parseUserRow(raw json.RawMessage, ref *userRefs) (userRow, []switchboard.FieldError) {
	var r userRow
	var errs []switchboard.FieldError
	bad := func(field, msg string) { errs = append(errs, switchboard.FieldError{Field: field, Message: msg}) }
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		bad("row", "Must be a JSON object")
		return r, errs
	}
	// str reads a string key: present says the key is there and not null.
	str := func(key string) (v string, present, ok bool) {
		b, found := m[key]
		if !found || bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
			return "", false, true
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return "", true, false
		}
		return strings.TrimSpace(v), true, true
	}
	// small reads an integer given as a number or a string of digits; empty
	// says "", null or absent.
	small := func(b json.RawMessage) (n int, empty, ok bool) {
		b = bytes.TrimSpace(b)
		if len(b) == 0 || bytes.Equal(b, []byte("null")) {
			return 0, true, true
		}
		s := string(b)
		if b[0] == '"' {
			if json.Unmarshal(b, &s) != nil {
				return 0, false, false
			}
			if s = strings.TrimSpace(s); s == "" {
				return 0, true, true
			}
		}
		n, err := strconv.Atoi(s)
		return n, false, err == nil
	}

	email, _, ok := str("email")
	switch {
	case !ok || email == "":
		bad("email", msgEmail)
	case !validEmail(email):
		bad("email", msgEmail)
	}
	r.email = strings.ToLower(email)
	if v, present, ok := str("new_email"); !ok || (present && v != "" && !validEmail(v)) {
		bad("new_email", msgEmail)
	} else {
		r.newEmail = strings.ToLower(v)
	}
	if v, present, ok := str("agent_number"); !ok {
		bad("agent_number", msgString)
	} else if present {
		r.agentNumber = &v
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"first_name", &r.firstName}, {"last_name", &r.lastName}} {
		v, _, ok := str(f.key)
		if !ok || v == "" {
			bad(f.key, msgNonEmpty)
		}
		*f.dst = v
	}
	if v, _, ok := str("status"); !ok || (v != "" && v != "Active" && v != "Inactive") {
		bad("status", msgStatus)
	} else {
		r.status = v
	}
	if v, present, ok := str("location"); !ok {
		bad("location", msgLocation)
	} else if present || m["location"] != nil {
		canon := ""
		if v != "" {
			var known bool
			if canon, known = ref.locations[strings.ToLower(v)]; !known {
				bad("location", msgLocation)
			}
		}
		r.location = &canon
	}
	if b, found := m["max_chat_limit"]; found {
		n, empty, ok := small(b)
		switch {
		case !ok || (!empty && (n < 1 || n > maxChatLimit)):
			bad("max_chat_limit", fmt.Sprintf("Must be 1 to %d (inclusively), or empty", maxChatLimit))
		case !empty:
			r.maxChats = &n
		}
	}
	if b, found := m["max_chat_limit_enabled"]; found {
		n, empty, ok := small(b)
		switch {
		case !ok || (!empty && n != 0 && n != 1):
			bad("max_chat_limit_enabled", msgZeroOne)
		case !empty:
			r.maxChatsEnabled = &n
		}
	}
	// roles and teams: [{name, value}], value 0/1/empty.
	type nv struct {
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	}
	for _, list := range []string{"roles", "teams"} {
		b, found := m[list]
		if !found || bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
			continue
		}
		var items []nv
		if err := json.Unmarshal(b, &items); err != nil {
			bad(list, msgNameValues)
			continue
		}
		for i, it := range items {
			field := fmt.Sprintf("%s[%d]", list, i)
			n, empty, ok := small(it.Value)
			if !ok || (!empty && n != 0 && n != 1) {
				bad(field+".value", msgZeroOne)
				continue
			}
			if list == "roles" {
				role, known := coreRole(strings.TrimSpace(it.Name))
				if !known {
					bad(field+".name", "Must be one of Admin, Manager, Agent")
					continue
				}
				if !empty {
					if r.roles == nil {
						r.roles = map[string]int{}
					}
					r.roles[role] = n
				}
				continue
			}
			id, known := ref.teams[strings.ToLower(strings.TrimSpace(it.Name))]
			if !known {
				bad(field+".name", "Must be the name of an existing team")
				continue
			}
			if !empty {
				if r.teams == nil {
					r.teams = map[int64]int{}
				}
				r.teams[id] = n
			}
		}
	}
	return r, errs
}

// validEmail is the seed's "valid email": one plain address.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s, "@") && len(s) <= 254
}

// patch applies the row to a user: a new one (exists false, zero but for
// its e-mail) or the one the row's e-mail names.
func (r userRow) patch(now time.Time) func(u *switchboard.User, exists bool) error {
	return func(u *switchboard.User, exists bool) error {
		if r.newEmail != "" {
			if !exists {
				return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "new_email changes the e-mail of an existing user, and no user has " + r.email,
					Fields: map[string]string{"new_email": "needs an existing user"}}
			}
			u.Email = r.newEmail
		}
		u.FirstName, u.LastName = r.firstName, r.lastName
		if r.agentNumber != nil {
			u.AgentNumber = *r.agentNumber
		}
		switch r.status {
		case "Active":
			u.DeactivatedAt = nil
		case "Inactive":
			if u.DeactivatedAt == nil {
				u.DeactivatedAt = &now
			}
		}
		if r.location != nil {
			u.Location = *r.location
		}
		if r.maxChats != nil {
			u.MaxChats = *r.maxChats
		}
		if r.maxChatsEnabled != nil && *r.maxChatsEnabled == 0 {
			u.MaxChats = defaultMaxChats // no limit of their own: the default applies
		}
		if len(r.roles) > 0 {
			var roles []string
			for _, ur := range ujetRoles {
				has := slices.Contains(u.Roles, ur.core)
				if v, set := r.roles[ur.core]; set {
					has = v == 1
				}
				if has {
					roles = append(roles, ur.core)
				}
			}
			u.Roles = roles
		}
		if len(r.teams) > 0 {
			var teams []int64
			for _, id := range u.TeamIDs {
				if v, set := r.teams[id]; !set || v == 1 {
					teams = append(teams, id)
				}
			}
			for id, v := range r.teams {
				if v == 1 && !slices.Contains(teams, id) {
					teams = append(teams, id)
				}
			}
			slices.Sort(teams)
			u.TeamIDs = teams
		}
		return nil
	}
}

// validateUserFile reads a file and checks every row, the uniqueness of
// email and new_email within the file among them. fileError is set when
// the file is not a JSON array of rows at all.
func validateUserFile(file []byte, ref *userRefs) (rows []switchboard.UserJobRow, fileError string) {
	var raw []json.RawMessage
	if err := json.Unmarshal(file, &raw); err != nil {
		return nil, "Must be a JSON array of users (see GET /bulk/users/template)"
	}
	if len(raw) == 0 {
		return nil, "The file holds no users"
	}
	if len(raw) > switchboard.MaxUserJobRows {
		return nil, fmt.Sprintf("The file holds %d users; at most %d fit in one job", len(raw), switchboard.MaxUserJobRows)
	}
	emails, newEmails := map[string]bool{}, map[string]bool{}
	rows = make([]switchboard.UserJobRow, len(raw))
	for i, el := range raw {
		r, errs := parseUserRow(el, ref)
		if r.email != "" {
			if emails[r.email] {
				errs = append(errs, switchboard.FieldError{Field: "email", Message: msgUnique})
			}
			emails[r.email] = true
		}
		if r.newEmail != "" {
			if newEmails[r.newEmail] {
				errs = append(errs, switchboard.FieldError{Field: "new_email", Message: msgUnique})
			}
			newEmails[r.newEmail] = true
		}
		if errs == nil {
			errs = []switchboard.FieldError{}
		}
		rows[i] = switchboard.UserJobRow{Row: i + 1, Email: r.email, Data: el, Errors: errs}
	}
	return rows, ""
}

// kickUserJobs wakes the worker (a job was created or proceeded).
func (a *API) kickUserJobs() {
	select {
	case a.work.users <- struct{}{}:
	default:
	}
}

// workers are the wake-up channels of the dialect's background work.
type workers struct {
	users, logouts chan struct{}
}

func newWorkers() workers {
	return workers{users: make(chan struct{}, 1), logouts: make(chan struct{}, 1)}
}

// Run does the dialect's background work until ctx ends: bulk user jobs,
// force logout jobs and the sign-outs pending until busy agents free up.
// The server runs it once; jobs left by a previous run are resumed.
func (a *API) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.logoutLoop(ctx)
	}()
	for {
		a.runUserJobs(ctx)
		select {
		case <-ctx.Done():
			<-done
			return
		case <-a.work.users:
		case <-time.After(userJobPoll):
		}
	}
}

// runUserJobs moves every unfinished job on as far as it can go.
func (a *API) runUserJobs(ctx context.Context) {
	jobs, err := a.opt.Store.UnfinishedUserJobs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.opt.Log.Error("ujet: list bulk user jobs", "error", err)
		}
		return
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			return
		}
		switch j.Status {
		case switchboard.UserJobCreated:
			err = a.validateUserJob(ctx, j)
		case switchboard.UserJobInProgress:
			err = a.applyUserJob(ctx, j)
		}
		if err != nil && ctx.Err() == nil && switchboard.ErrorCode(err) != switchboard.CodeConflict {
			a.opt.Log.Error("ujet: bulk user job", "tenant_id", j.TenantID, "job_id", j.ID, "status", j.Status, "error", err)
		}
	}
}

func (a *API) validateUserJob(ctx context.Context, j switchboard.UserJob) error {
	file, err := a.opt.Store.UserJobFile(ctx, j.TenantID, j.ID)
	if err != nil {
		return err
	}
	ref, err := a.loadUserRefs(ctx, j.TenantID)
	if err != nil {
		return err
	}
	rows, fileErr := validateUserFile(file, ref)
	// A file replaced meanwhile is CodeConflict: the next round validates
	// the new one.
	_, err = a.opt.Store.SetUserJobScheme(ctx, j.TenantID, j.ID, j.Version, rows, fileErr)
	return err
}

// applyUserJob applies the rows not yet applied, a batch per transaction,
// then finishes the job. Each row is read again against the tenant's names
// as they are now: one that no longer holds fails with its reason.
func (a *API) applyUserJob(ctx context.Context, j switchboard.UserJob) error {
	ref, err := a.loadUserRefs(ctx, j.TenantID)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		p, err := a.opt.Store.UserJobRows(ctx, j.TenantID, j.ID, switchboard.UserRowFilter{Pending: true},
			switchboard.ListOptions{Limit: userJobBatch, SkipTotal: true})
		if err != nil {
			return err
		}
		if len(p.Items) == 0 {
			_, err := a.opt.Store.FinishUserJob(ctx, j.TenantID, j.ID)
			return err
		}
		now := a.now().UTC()
		changes := make([]switchboard.UserRowChange, 0, len(p.Items))
		for _, row := range p.Items {
			r, errs := parseUserRow(row.Data, ref)
			ch := switchboard.UserRowChange{Row: row.Row, Email: r.email, Patch: r.patch(now)}
			if len(errs) > 0 {
				reason := errs[0].Field + ": " + errs[0].Message
				ch.Patch = func(*switchboard.User, bool) error {
					return &switchboard.Error{Code: switchboard.CodeInvalid, Message: reason}
				}
			}
			changes = append(changes, ch)
		}
		if _, err := a.opt.Store.ApplyUserJobRows(ctx, j.TenantID, j.ID, changes); err != nil {
			return err
		}
	}
	return ctx.Err()
}
