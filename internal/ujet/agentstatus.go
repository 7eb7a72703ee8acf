package ujet

// Agent status and force logout (seed "Agent Status Endpoints 4", spec
// §2.6). Decisions:
//   - POST /agent_statuses: the target status must be Available or one of
//     the tenant's custom statuses; a system one (Offline, In-Call,
//     Wrap-Up) refuses the whole request (400). An agent who is in a system
//     status other than Available (Offline, on a call, wrapping up) keeps it:
//     their entry shows previous_status = current_status and an "error"
//     saying why, and the others change (200).
//   - POST /agent_statuses/force_logout: agents are the union of agent_ids,
//     the members of team_ids and the agents whose latest sign-in came from
//     an address of ip_addrs (CIDR, a single IPv4/IPv6 address, or a range
//     "a-b"). Only online agents (not Offline) are logged out. An idle one
//     is Offline at once; one on a call or holding chats gets a pending
//     sign-out that the worker applies the moment they are free: their entry
//     keeps current_status (what they are doing now) with
//     "pending_logout": true. More than 100 agents make a background job:
//     202 {id, status: created, link}, polled at
//     /agent_statuses/force_logout/jobs/{id} (alias /agent_statuses/jobs/{id}).
//   - Unknown agent or team ids are a 400 naming them.

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
)

// logoutJobThreshold is the selection above which a force logout runs as a
// background job.
const logoutJobThreshold = 100

// logoutSweep bounds how often the worker looks at pending sign-outs, and
// logoutPoll how long it waits without a change to look at.
const (
	logoutSweep = 200 * time.Millisecond
	logoutPoll  = time.Second
)

func (a *API) agentStatusRoutes() []route {
	jobList := func(path string) route {
		return rawHandler(route{Method: "GET", Path: path, Scope: switchboard.ScopeUsersRead,
			Summary: "Force logout jobs, newest first", Query: pageParams},
			nil, reflect.TypeFor[[]logoutJobView](), a.listLogoutJobs)
	}
	jobGet := func(path string) route {
		return handler(route{Method: "GET", Path: path, Scope: switchboard.ScopeUsersRead,
			Summary: "A force logout job: status, progress and each agent's result"}, a.getLogoutJob)
	}
	return []route{
		handler(route{Method: "POST", Path: "/agent_statuses", Scope: switchboard.ScopeUsersManage,
			Summary: "Change agents' status between Available and custom statuses, by agents and teams",
			Doc: "Body {status, agent_ids, team_ids}. System statuses (Offline, In-Call, Wrap-Up) cannot be set (400); an agent " +
				"in one keeps it and their entry carries an error."},
			a.setAgentStatuses),
		rawHandler(route{Method: "POST", Path: "/agent_statuses/force_logout", Scope: switchboard.ScopeUsersManage,
			Summary: "Log agents out, by agents, teams or the addresses they signed in from",
			Doc: "Body {agent_ids, team_ids, ip_addrs}; ip_addrs are CIDRs, single IPv4/IPv6 addresses or ranges \"a-b\". Idle agents " +
				"are Offline at once, busy ones (a call or chats) when their interaction ends (pending_logout). Over 100 agents: " +
				"202 with a job to poll."},
			reflect.TypeFor[forceLogoutBody](), reflect.TypeFor[[]agentStatusView](), a.forceLogout),
		jobList("/agent_statuses/force_logout/jobs"),
		jobGet("/agent_statuses/force_logout/jobs/{id}"),
		jobList("/agent_statuses/jobs"),
		jobGet("/agent_statuses/jobs/{id}"),
	}
}

// statusBody is POST /agent_statuses.
type statusBody struct {
	Status   string  `json:"status" limit:"100"`
	AgentIDs []int64 `json:"agent_ids" limit:"10000"`
	TeamIDs  []int64 `json:"team_ids" limit:"1000"`
}

// forceLogoutBody is POST /agent_statuses/force_logout.
type forceLogoutBody struct {
	AgentIDs []int64  `json:"agent_ids" limit:"10000"`
	TeamIDs  []int64  `json:"team_ids" limit:"1000"`
	IPAddrs  []string `json:"ip_addrs" limit:"1000"`
}

// agentStatusView is one agent's entry in the answers of both routes.
type agentStatusView struct {
	AgentID        int64  `json:"agent_id"`
	Name           string `json:"name"`
	Email          string `json:"email"`
	AgentNumber    string `json:"agent_number"`
	PreviousStatus string `json:"previous_status"`
	CurrentStatus  string `json:"current_status"`
	// PendingLogout (force logout only) says the agent is busy and is
	// logged out when their interaction ends.
	PendingLogout *bool `json:"pending_logout,omitempty"`
	// Error says why a status change left this agent as they were.
	Error string `json:"error,omitempty"`
}

func statusView(u switchboard.User, prev, cur string) agentStatusView {
	return agentStatusView{AgentID: u.ID, Name: u.Name(), Email: u.Email, AgentNumber: u.AgentNumber,
		PreviousStatus: prev, CurrentStatus: cur}
}

// selectAgents resolves agent ids and team ids to the tenant's users (in
// id order, each once), refusing ids that name nothing.
func (a *API) selectAgents(ctx context.Context, tenantID int64, agentIDs, teamIDs []int64) (map[int64]switchboard.User, []switchboard.User, error) {
	users, err := switchboard.All(ctx, func(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.User], error) {
		return a.opt.Store.Users(ctx, tenantID, switchboard.UserFilter{IncludeDeactivated: true}, opt)
	}, tenantID)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[int64]switchboard.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	picked := map[int64]bool{}
	var unknown []string
	for _, id := range agentIDs {
		if _, ok := byID[id]; !ok {
			unknown = append(unknown, strconv.FormatInt(id, 10))
			continue
		}
		picked[id] = true
	}
	if len(unknown) > 0 {
		return nil, nil, badRequest("Agent not found: " + strings.Join(unknown, ", "))
	}
	if len(teamIDs) > 0 {
		teams, err := switchboard.All(ctx, a.opt.Store.Teams, tenantID)
		if err != nil {
			return nil, nil, err
		}
		for _, id := range teamIDs {
			if !slices.ContainsFunc(teams, func(t switchboard.Team) bool { return t.ID == id }) {
				unknown = append(unknown, strconv.FormatInt(id, 10))
			}
		}
		if len(unknown) > 0 {
			return nil, nil, badRequest("Team not found: " + strings.Join(unknown, ", "))
		}
		for _, u := range users {
			if slices.ContainsFunc(u.TeamIDs, func(t int64) bool { return slices.Contains(teamIDs, t) }) {
				picked[u.ID] = true
			}
		}
	}
	var out []switchboard.User
	for _, u := range users {
		if picked[u.ID] {
			out = append(out, u)
		}
	}
	return byID, out, nil
}

func (a *API) setAgentStatuses(ctx context.Context, c *call, in *statusBody) ([]agentStatusView, error) {
	tid := c.tenantID()
	name := strings.TrimSpace(in.Status)
	if name == "" {
		return nil, missing("status")
	}
	if len(in.AgentIDs) == 0 && len(in.TeamIDs) == 0 {
		return nil, missing("agent_ids")
	}
	statuses, err := switchboard.All(ctx, a.opt.Store.Statuses, tid)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(statuses, func(s switchboard.AgentStatus) bool { return strings.EqualFold(s.Name, name) })
	if i < 0 {
		return nil, badRequest("Status '" + name + "' is not found")
	}
	target := statuses[i]
	if target.System && target.Name != switchboard.StatusAvailable {
		return nil, badRequest("Status '" + target.Name + "' is a system status: only Available and custom statuses can be set")
	}
	_, agents, err := a.selectAgents(ctx, tid, in.AgentIDs, in.TeamIDs)
	if err != nil {
		return nil, err
	}
	out := make([]agentStatusView, 0, len(agents))
	for _, u := range agents {
		cur := u.Presence.Status
		if cur == "" {
			cur = switchboard.StatusOffline
		}
		v := statusView(u, cur, cur)
		switch {
		case u.DeactivatedAt != nil:
			v.Error = "Agent is deactivated"
		case isSystemStatus(cur) && cur != switchboard.StatusAvailable:
			v.Error = "Agent is in the system status " + cur + ": only Available and custom statuses can be changed"
		default:
			p, err := a.opt.Store.SetPresence(ctx, tid, u.ID, target.Name, false)
			if err != nil {
				v.Error = switchboard.ErrorMessage(err)
				break
			}
			v.CurrentStatus = p.Status
		}
		out = append(out, v)
	}
	return out, nil
}

func isSystemStatus(name string) bool {
	return slices.ContainsFunc(switchboard.SystemStatuses, func(s switchboard.AgentStatus) bool { return s.Name == name })
}

// ipMatcher is one entry of ip_addrs: a prefix or an inclusive range.
type ipMatcher struct {
	prefix   netip.Prefix
	from, to netip.Addr
}

func (m ipMatcher) match(a netip.Addr) bool {
	a = a.Unmap()
	if m.prefix.IsValid() {
		return m.prefix.Contains(a)
	}
	return a.BitLen() == m.from.BitLen() && a.Compare(m.from) >= 0 && a.Compare(m.to) <= 0
}

// parseIPs reads ip_addrs: CIDRs, single addresses, ranges "a-b".
func parseIPs(specs []string) ([]ipMatcher, error) {
	var out []ipMatcher
	for _, s := range specs {
		s = strings.TrimSpace(s)
		bad := badRequest("Invalid IP address: " + switchboard.Clip(s, 100))
		switch {
		case strings.Contains(s, "/"):
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, bad
			}
			out = append(out, ipMatcher{prefix: p.Masked()})
		case strings.Contains(s, "-"):
			a, b, _ := strings.Cut(s, "-")
			from, err1 := netip.ParseAddr(strings.TrimSpace(a))
			to, err2 := netip.ParseAddr(strings.TrimSpace(b))
			if err1 != nil || err2 != nil {
				return nil, bad
			}
			from, to = from.Unmap(), to.Unmap()
			if from.BitLen() != to.BitLen() || from.Compare(to) > 0 {
				return nil, bad
			}
			out = append(out, ipMatcher{from: from, to: to})
		default:
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, bad
			}
			a = a.Unmap()
			out = append(out, ipMatcher{prefix: netip.PrefixFrom(a, a.BitLen())})
		}
	}
	return out, nil
}

func (a *API) forceLogout(w http.ResponseWriter, c *call) {
	in := new(forceLogoutBody)
	if err := decode(c.r, in); err != nil {
		a.writeError(w, c.r, err)
		return
	}
	status, body, err := a.doForceLogout(c.r.Context(), c, in)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	httpapi.WriteJSON(w, status, body)
}

func (a *API) doForceLogout(ctx context.Context, c *call, in *forceLogoutBody) (int, any, error) {
	tid := c.tenantID()
	if len(in.AgentIDs) == 0 && len(in.TeamIDs) == 0 && len(in.IPAddrs) == 0 {
		return 0, nil, missing("agent_ids")
	}
	ips, err := parseIPs(in.IPAddrs)
	if err != nil {
		return 0, nil, err
	}
	byID, agents, err := a.selectAgents(ctx, tid, in.AgentIDs, in.TeamIDs)
	if err != nil {
		return 0, nil, err
	}
	if len(ips) > 0 {
		signIns, err := a.opt.Store.LastSignIns(ctx, tid, nil)
		if err != nil {
			return 0, nil, err
		}
		for id, s := range signIns {
			addr, err := netip.ParseAddr(s.RemoteAddr)
			if err != nil || !slices.ContainsFunc(ips, func(m ipMatcher) bool { return m.match(addr) }) {
				continue
			}
			if u, ok := byID[id]; ok && !slices.ContainsFunc(agents, func(x switchboard.User) bool { return x.ID == id }) {
				agents = append(agents, u)
			}
		}
		slices.SortFunc(agents, func(x, y switchboard.User) int { return int(x.ID - y.ID) })
	}
	// Only online agents are logged out.
	agents = slices.DeleteFunc(agents, func(u switchboard.User) bool {
		return u.Presence.Status == switchboard.StatusOffline || u.Presence.Status == ""
	})
	if len(agents) > logoutJobThreshold {
		ids := make([]int64, len(agents))
		for i, u := range agents {
			ids[i] = u.ID
		}
		j, err := a.opt.Store.CreateForceLogoutJob(ctx, tid, switchboard.ForceLogoutJob{AgentIDs: ids})
		if err != nil {
			return 0, nil, err
		}
		a.kickLogouts()
		return http.StatusAccepted, a.logoutJobView(j, nil), nil
	}
	out := make([]agentStatusView, 0, len(agents))
	for _, u := range agents {
		r, err := a.logoutAgent(ctx, tid, u)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, resultView(u, r))
	}
	return http.StatusOK, out, nil
}

func resultView(u switchboard.User, r switchboard.ForceLogoutResult) agentStatusView {
	v := statusView(u, r.PreviousStatus, r.CurrentStatus)
	pending := r.Pending
	v.PendingLogout = &pending
	return v
}

// busy says whether the agent is in an interaction: a call (ringing, up or
// wrapping up) or chats. Without a call center, the presence the engine
// last showed tells.
func (a *API) busy(ctx context.Context, tenantID int64, u switchboard.User) bool {
	if a.opt.Calls == nil {
		return u.Presence.Status == switchboard.StatusInCall || u.Presence.Status == switchboard.StatusWrapUp
	}
	l := a.opt.Calls.AgentLive(ctx, tenantID, u.ID)
	return l.CallsInProgress > 0 || l.ChatsInProgress > 0 || (l.State != "" && l.State != "idle")
}

// logoutAgent logs an online agent out now, or, when busy, leaves the
// sign-out pending for the worker.
func (a *API) logoutAgent(ctx context.Context, tenantID int64, u switchboard.User) (switchboard.ForceLogoutResult, error) {
	r := switchboard.ForceLogoutResult{AgentID: u.ID, PreviousStatus: u.Presence.Status, CurrentStatus: u.Presence.Status}
	if a.busy(ctx, tenantID, u) {
		if err := a.opt.Store.RequestLogout(ctx, tenantID, u.ID); err != nil {
			return r, err
		}
		a.kickLogouts() // the interaction may have ended meanwhile
		r.Pending = true
		return r, nil
	}
	prev, err := a.opt.Store.CompleteLogout(ctx, tenantID, u.ID)
	if err != nil {
		return r, err
	}
	r.PreviousStatus, r.CurrentStatus = prev.Status, switchboard.StatusOffline
	return r, nil
}

// logoutJobView is a force logout job as its routes show it.
type logoutJobView struct {
	ID         int64             `json:"id"`
	Status     string            `json:"status"`
	Link       string            `json:"link"`
	Total      int               `json:"total"`
	Processed  int               `json:"processed"`
	Results    []agentStatusView `json:"results"`
	CreatedAt  string            `json:"created_at"`
	UpdatedAt  string            `json:"updated_at"`
	FinishedAt *string           `json:"finished_at"`
}

func (a *API) logoutJobView(j switchboard.ForceLogoutJob, users map[int64]switchboard.User) logoutJobView {
	v := logoutJobView{ID: j.ID, Status: j.Status, Total: len(j.AgentIDs), Processed: j.Processed, Results: []agentStatusView{},
		Link:      absURL(a.opt.PublicURL, "/apps/api/v1/agent_statuses/force_logout/jobs/"+strconv.FormatInt(j.ID, 10)),
		CreatedAt: millis(j.CreatedAt), UpdatedAt: millis(j.UpdatedAt), FinishedAt: optMillis(j.FinishedAt)}
	for _, r := range j.Results {
		u, ok := users[r.AgentID]
		if !ok {
			u = switchboard.User{ID: r.AgentID}
		}
		v.Results = append(v.Results, resultView(u, r))
	}
	return v
}

func (a *API) tenantUsers(ctx context.Context, tenantID int64) (map[int64]switchboard.User, error) {
	users, err := switchboard.All(ctx, func(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.User], error) {
		return a.opt.Store.Users(ctx, tenantID, switchboard.UserFilter{IncludeDeactivated: true}, opt)
	}, tenantID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]switchboard.User, len(users))
	for _, u := range users {
		out[u.ID] = u
	}
	return out, nil
}

func (a *API) listLogoutJobs(w http.ResponseWriter, c *call) {
	opt, page, per, err := pageOptions(c.r)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	ctx := c.r.Context()
	p, err := a.opt.Store.ForceLogoutJobs(ctx, c.tenantID(), opt)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	users, err := a.tenantUsers(ctx, c.tenantID())
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	out := make([]logoutJobView, len(p.Items))
	for i, j := range p.Items {
		out[i] = a.logoutJobView(j, users)
	}
	writeList(c, a.opt.PublicURL, out, p.Total, page, per)
}

func (a *API) getLogoutJob(ctx context.Context, c *call, _ *noBody) (logoutJobView, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return logoutJobView{}, err
	}
	j, err := a.opt.Store.ForceLogoutJob(ctx, c.tenantID(), id)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return logoutJobView{}, notFound()
	}
	if err != nil {
		return logoutJobView{}, err
	}
	users, err := a.tenantUsers(ctx, c.tenantID())
	if err != nil {
		return logoutJobView{}, err
	}
	return a.logoutJobView(j, users), nil
}

// kickLogouts wakes the logout worker.
func (a *API) kickLogouts() {
	select {
	case a.work.logouts <- struct{}{}:
	default:
	}
}

// logoutLoop runs force logout jobs and applies pending sign-outs: woken by
// a new job, by any change the store commits (a call or chat ending is
// one), and every logoutPoll.
func (a *API) logoutLoop(ctx context.Context) {
	changes, stop := a.opt.Store.Changes()
	defer stop()
	for {
		a.runLogoutJobs(ctx)
		a.applyPendingLogouts(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(logoutSweep):
		}
		select {
		case <-ctx.Done():
			return
		case <-a.work.logouts:
		case <-changes:
		case <-time.After(logoutPoll):
		}
	}
}

// applyPendingLogouts signs out every agent with a pending sign-out who is
// free now; one who is gone or deactivated has theirs dropped.
func (a *API) applyPendingLogouts(ctx context.Context) {
	pending, err := a.opt.Store.PendingLogouts(ctx, 1000)
	if err != nil {
		if ctx.Err() == nil {
			a.opt.Log.Error("ujet: pending logouts", "error", err)
		}
		return
	}
	for _, p := range pending {
		u, err := a.opt.Store.User(ctx, p.TenantID, p.UserID)
		switch {
		case switchboard.ErrorCode(err) == switchboard.CodeNotFound || (err == nil && u.DeactivatedAt != nil):
			err = a.opt.Store.CancelLogout(ctx, p.TenantID, p.UserID)
		case err != nil:
		case a.busy(ctx, p.TenantID, u):
			continue
		default:
			_, err = a.opt.Store.CompleteLogout(ctx, p.TenantID, p.UserID)
		}
		if err != nil && ctx.Err() == nil {
			a.opt.Log.Error("ujet: pending logout", "tenant_id", p.TenantID, "user_id", p.UserID, "error", err)
		}
	}
}

// runLogoutJobs carries every unfinished job on from its last recorded
// agent, recording progress every logoutJobStep agents.
func (a *API) runLogoutJobs(ctx context.Context) {
	jobs, err := a.opt.Store.UnfinishedForceLogoutJobs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.opt.Log.Error("ujet: force logout jobs", "error", err)
		}
		return
	}
	for _, j := range jobs {
		if err := a.runLogoutJob(ctx, j); err != nil && ctx.Err() == nil {
			a.opt.Log.Error("ujet: force logout job", "tenant_id", j.TenantID, "job_id", j.ID, "error", err)
		}
	}
}

const logoutJobStep = 50

func (a *API) runLogoutJob(ctx context.Context, j switchboard.ForceLogoutJob) error {
	j.Status = switchboard.LogoutJobInProgress
	for j.Processed < len(j.AgentIDs) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		end := min(j.Processed+logoutJobStep, len(j.AgentIDs))
		for _, id := range j.AgentIDs[j.Processed:end] {
			u, err := a.opt.Store.User(ctx, j.TenantID, id)
			if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
				continue
			}
			if err != nil {
				return err
			}
			if u.Presence.Status == switchboard.StatusOffline {
				j.Results = append(j.Results, switchboard.ForceLogoutResult{AgentID: id, PreviousStatus: switchboard.StatusOffline,
					CurrentStatus: switchboard.StatusOffline})
				continue
			}
			r, err := a.logoutAgent(ctx, j.TenantID, u)
			if err != nil {
				return err
			}
			j.Results = append(j.Results, r)
		}
		j.Processed = end
		if j.Processed == len(j.AgentIDs) {
			j.Status = switchboard.LogoutJobFinished
		}
		var err error
		if j, err = a.opt.Store.UpdateForceLogoutJob(ctx, j); err != nil {
			return fmt.Errorf("record force logout progress: %w", err)
		}
	}
	if j.Status != switchboard.LogoutJobFinished {
		j.Status = switchboard.LogoutJobFinished
		_, err := a.opt.Store.UpdateForceLogoutJob(ctx, j)
		return err
	}
	return nil
}
