package voiso

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/internal/phone"
)

// campaignOut is Voiso's campaign (shapes.json "campaign"), rendered from
// the core's as plan G15 says.
type campaignOut struct {
	ID                     int64         `json:"id"`
	Name                   string        `json:"name"`
	Status                 string        `json:"status"`
	Strategy               string        `json:"strategy"`
	DialLevel              float64       `json:"dial_level"`
	DialLevelOverride      dialOverride  `json:"dial_level_override"`
	MaxDialTime            int           `json:"max_dial_time"`
	MaxWaitTime            int           `json:"max_wait_time"`
	MaxDialAttempts        int           `json:"max_dial_attempts"`
	AMDEnabled             bool          `json:"amd_enabled"`
	AMDVoicemailMessage    amdMessage    `json:"amd_voicemail_message"`
	CallerIDSets           []callerIDSet `json:"caller_id_sets"`
	UseLocalCallerID       bool          `json:"use_local_caller_id"`
	ASROptimizationEnabled bool          `json:"asr_optimization_enabled"`
	FollowUpMode           *string       `json:"follow_up_mode"`
	CreatedAt              string        `json:"created_at"`
	UpdatedAt              string        `json:"updated_at"`
}

// dialOverride is always off: the core has no dial-level override.
type dialOverride struct {
	Enabled               bool     `json:"enabled"`
	Value                 *float64 `json:"value"`
	ActiveAgentsThreshold *int     `json:"active_agents_threshold"`
}

type amdMessage struct {
	Enabled      bool       `json:"enabled"`
	VoiceMessage *typedName `json:"voice_message"`
}

type callerIDSet struct {
	PhoneNumbers []string `json:"phone_numbers"`
}

// abandonSeconds is how long an answered dial waits for an agent before it
// is abandoned: the core's fixed 2 s (switchboard.DialAbandoned).
const abandonSeconds = 2

// campaignStatus names the core's statuses as Voiso does.
var campaignStatus = map[switchboard.CampaignStatus]string{
	switchboard.CampaignCreated: "draft", switchboard.CampaignStarted: "active", switchboard.CampaignPaused: "paused",
	switchboard.CampaignStopped: "stopped", switchboard.CampaignFinished: "completed",
}

func strategyOf(c switchboard.Campaign) string {
	if c.Mode == switchboard.ModePredictive {
		return "predictive_ai"
	}
	return "simple"
}

// dialLevel is a predictive campaign's overdial adjustment, 1 otherwise: the
// stored setting, not the live pacing.
func dialLevel(c switchboard.Campaign) float64 {
	if c.Mode == switchboard.ModePredictive && c.OverdialAdjustment > 0 {
		return c.OverdialAdjustment
	}
	return 1
}

func renderCampaign(c switchboard.Campaign) campaignOut {
	numbers := c.CallerIDPool
	if len(numbers) == 0 && c.CallerID != "" {
		numbers = []string{c.CallerID}
	}
	set := callerIDSet{PhoneNumbers: make([]string, len(numbers))}
	for i, n := range numbers {
		set.PhoneNumbers[i] = digits(n)
	}
	timer := "timer"
	out := campaignOut{ID: c.ID, Name: c.Name, Status: campaignStatus[c.Status], Strategy: strategyOf(c), DialLevel: dialLevel(c),
		MaxDialTime: c.RingSeconds, MaxWaitTime: abandonSeconds, MaxDialAttempts: c.MaxRedials + 1,
		AMDEnabled: c.MachineAction != "", AMDVoicemailMessage: amdMessage{Enabled: c.MachineAction == switchboard.MachineMessage},
		CallerIDSets: []callerIDSet{set}, FollowUpMode: &timer, CreatedAt: millis(c.CreatedAt), UpdatedAt: millis(c.UpdatedAt)}
	if c.MachinePrompt != "" {
		out.AMDVoicemailMessage.VoiceMessage = &typedName{Type: "voice_message", Name: c.MachinePrompt}
	}
	if out.Status == "" {
		out.Status = string(c.Status)
	}
	return out
}

// campaignBrief is the campaign the lifecycle actions answer, unwrapped
// (shapes.json "paused campaign").
type campaignBrief struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	Status    string  `json:"status"`
	Strategy  string  `json:"strategy"`
	DialLevel float64 `json:"dial_level"`
}

type campaignsList struct {
	Campaigns []campaignOut `json:"campaigns"`
	Metadata  metadata      `json:"metadata"`
}

type campaignGet struct {
	Campaign campaignOut `json:"campaign"`
}

// campaignQuery lists the campaign list's filters.
var campaignQuery = append(slices.Clone(pageQuery),
	param{"name", "string", "part of the name, any case"},
	param{"status", "string", "draft, active, paused, stopped or completed"},
	param{"strategy", "string", "simple or predictive_ai"},
	param{"method", "string", "the pacing: preview, progressive or predictive"},
	param{"live", "boolean", "true: active campaigns only; false: the others"})

// addUsersBody adds agents to a campaign.
type addUsersBody struct {
	UserIDs []int64 `json:"user_ids" required:"true"`
}

type addedUsers struct {
	AddedUsers []userBrief `json:"added_users"`
}

type removedUser struct {
	User userBrief `json:"user"`
}

// maxCampaignUsers is how many users one request may add.
const maxCampaignUsers = 100

func (a *API) campaignRoutes() []route {
	const base = "campaigns/{campaign_id}"
	return []route{
		handler(route{Method: "GET", Path: "campaigns", Summary: "List campaigns", Scope: switchboard.ScopeCampaignsRead, Query: campaignQuery},
			a.listCampaigns),
		handler(route{Method: "GET", Path: base, Summary: "Get a campaign", Scope: switchboard.ScopeCampaignsRead},
			func(ctx context.Context, c *call, _ *noBody) (campaignGet, error) {
				cp, err := a.campaign(ctx, c)
				return campaignGet{Campaign: renderCampaign(cp)}, err
			}),
		handler(route{Method: "GET", Path: base + "/users", Summary: "List a campaign's agents (its queue's members)",
			Scope: switchboard.ScopeCampaignsRead, Query: pageQuery},
			func(ctx context.Context, c *call, _ *noBody) (usersList, error) {
				cp, err := a.campaign(ctx, c)
				if err != nil {
					return usersList{}, err
				}
				return a.members(ctx, c, cp.QueueID, false)
			}),
		handler(route{Method: "POST", Path: base + "/users", Summary: "Add agents to a campaign",
			Doc:   "At most 100 user ids; a user already in the campaign is listed as added, not refused.",
			Scope: switchboard.ScopeCampaignsManage}, a.addCampaignUsers),
		handler(route{Method: "DELETE", Path: base + "/users/{user_id}", Summary: "Remove an agent from a campaign",
			Scope: switchboard.ScopeCampaignsManage}, a.removeCampaignUser),
		a.lifecycle("start", "started", "Start a campaign, or resume a paused one"),
		a.lifecycle("pause", "paused", "Pause an active campaign"),
		a.lifecycle("stop", "stopped", "Stop a campaign for good"),
		handler(route{Method: "POST", Path: base + "/leads", Summary: "Add leads to a campaign",
			Doc: "A JSON array of at most 1,000 leads. Each number is created, a duplicate of one already in the campaign " +
				"(or earlier in the request), or rejected when it is not a phone number.",
			Scope: switchboard.ScopeCampaignsManage}, a.addLeads),
		handler(route{Method: "PATCH", Path: base + "/leads", Summary: "Update a campaign's leads, found by phone number",
			Doc: "A JSON array of at most 1,000 changes, each naming a lead by phone_number; name, source, priority and " +
				"active change when given. Each number is updated, not_found, or rejected (not a phone number, or a change " +
				"the lead's state refuses).",
			Scope: switchboard.ScopeCampaignsManage}, a.updateLeads),
	}
}

// campaign is the campaign the path names.
func (a *API) campaign(ctx context.Context, c *call) (switchboard.Campaign, error) {
	id, err := pathID(c, "campaign_id")
	if err != nil {
		return switchboard.Campaign{}, err
	}
	return a.opt.Store.Campaign(ctx, c.tenantID(), id)
}

// listCampaigns pages the tenant's campaigns. The store lists them without
// filters, so a filtered list is read whole and paged here: a tenant's
// campaigns are few, unlike its leads or calls.
func (a *API) listCampaigns(ctx context.Context, c *call, _ *noBody) (campaignsList, error) {
	q := c.r.URL.Query()
	opt, err := listOptions(q)
	if err != nil {
		return campaignsList{}, err
	}
	keep, filtered, err := campaignFilter(q)
	if err != nil {
		return campaignsList{}, err
	}
	var items []switchboard.Campaign
	total := 0
	if !filtered {
		p, err := a.opt.Store.Campaigns(ctx, c.tenantID(), opt)
		if err != nil {
			return campaignsList{}, err
		}
		items, total = p.Items, p.Total
	} else {
		all, err := switchboard.All(ctx, a.opt.Store.Campaigns, c.tenantID())
		if err != nil {
			return campaignsList{}, err
		}
		all = slices.DeleteFunc(all, func(cp switchboard.Campaign) bool { return !keep(cp) })
		total = len(all)
		items = all[min(opt.Offset, len(all)):min(opt.Offset+opt.Limit, len(all))]
	}
	out := campaignsList{Campaigns: make([]campaignOut, len(items)), Metadata: metadata{Total: total}}
	for i, cp := range items {
		out.Campaigns[i] = renderCampaign(cp)
	}
	return out, nil
}

// campaignFilter reads the campaign list's filters into a predicate;
// filtered is false when none is given.
func campaignFilter(q map[string][]string) (keep func(switchboard.Campaign) bool, filtered bool, err error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	name, status, strategy, method, live := strings.ToLower(get("name")), get("status"), get("strategy"), get("method"), get("live")
	var liveWant, liveSet bool
	if live != "" {
		b, err := strconv.ParseBool(live)
		if err != nil {
			return nil, false, badRequest("live must be true or false")
		}
		liveWant, liveSet = b, true
	}
	keep = func(cp switchboard.Campaign) bool {
		return (name == "" || strings.Contains(strings.ToLower(cp.Name), name)) &&
			(status == "" || renderCampaign(cp).Status == status) &&
			(strategy == "" || strategyOf(cp) == strategy) &&
			(method == "" || string(cp.Mode) == method) &&
			(!liveSet || (cp.Status == switchboard.CampaignStarted) == liveWant)
	}
	return keep, name != "" || status != "" || strategy != "" || method != "" || liveSet, nil
}

// addCampaignUsers makes each user a member of the campaign's queue. Every
// id must be an active user of the tenant (else 422 naming user_ids, and
// nobody is added); one already a member is listed as added.
func (a *API) addCampaignUsers(ctx context.Context, c *call, in *addUsersBody) (addedUsers, error) {
	cp, err := a.campaign(ctx, c)
	if err != nil {
		return addedUsers{}, err
	}
	switch {
	case len(in.UserIDs) == 0:
		return addedUsers{}, invalid("user_ids", "is missing")
	case len(in.UserIDs) > maxCampaignUsers:
		return addedUsers{}, invalid("user_ids", "must have at most 100 items")
	}
	ids := slices.Compact(slices.Sorted(slices.Values(in.UserIDs)))
	users, err := a.opt.Store.UsersByID(ctx, c.tenantID(), ids)
	if err != nil {
		return addedUsers{}, err
	}
	users = slices.DeleteFunc(users, func(u switchboard.User) bool { return u.DeactivatedAt != nil })
	if len(users) != len(ids) {
		return addedUsers{}, invalid("user_ids", "must all be active users")
	}
	out := addedUsers{AddedUsers: make([]userBrief, 0, len(users))}
	for _, u := range users {
		_, err := a.opt.Store.AddQueueMember(ctx, c.tenantID(), switchboard.QueueMember{QueueID: cp.QueueID, UserID: u.ID})
		if err != nil && switchboard.ErrorCode(err) != switchboard.CodeConflict {
			return addedUsers{}, err
		}
		out.AddedUsers = append(out.AddedUsers, brief(u))
	}
	return out, nil
}

// removeCampaignUser takes the user out of the campaign's queue; a user who
// is not in it is 404.
func (a *API) removeCampaignUser(ctx context.Context, c *call, _ *noBody) (removedUser, error) {
	cp, err := a.campaign(ctx, c)
	if err != nil {
		return removedUser{}, err
	}
	id, err := pathID(c, "user_id")
	if err != nil {
		return removedUser{}, err
	}
	u, err := a.opt.Store.User(ctx, c.tenantID(), id)
	if err != nil {
		return removedUser{}, err
	}
	if err := a.opt.Store.RemoveQueueMember(ctx, c.tenantID(), cp.QueueID, u.ID); err != nil {
		return removedUser{}, err
	}
	return removedUser{User: brief(u)}, nil
}

// lifecycle is the route of one campaign action, answering the campaign
// unwrapped. A move the campaign's status forbids is 409 naming status
// ("cannot be paused while paused").
func (a *API) lifecycle(action, done, summary string) route {
	return handler(route{Method: "POST", Path: "campaigns/{campaign_id}/" + action, Summary: summary,
		Scope: switchboard.ScopeCampaignsManage},
		func(ctx context.Context, c *call, _ *noBody) (campaignBrief, error) {
			cp, err := a.campaign(ctx, c)
			if err != nil {
				return campaignBrief{}, err
			}
			if a.opt.Dialer == nil {
				return campaignBrief{}, switchboard.Errorf(switchboard.CodeUnavailable, "the dialer is not running")
			}
			var got switchboard.Campaign
			switch {
			case action == "start" && cp.Status == switchboard.CampaignPaused:
				got, err = a.opt.Dialer.ResumeCampaign(ctx, c.tenantID(), cp.ID)
			case action == "start":
				got, err = a.opt.Dialer.StartCampaign(ctx, c.tenantID(), cp.ID)
			case action == "pause":
				got, err = a.opt.Dialer.PauseCampaign(ctx, c.tenantID(), cp.ID)
			default:
				got, err = a.opt.Dialer.StopCampaign(ctx, c.tenantID(), cp.ID)
			}
			if switchboard.ErrorCode(err) == switchboard.CodeConflict {
				if now, rerr := a.opt.Store.Campaign(ctx, c.tenantID(), cp.ID); rerr == nil {
					cp = now
				}
				return campaignBrief{}, conflict("status", "cannot be "+done+" while "+renderCampaign(cp).Status)
			}
			if err != nil {
				return campaignBrief{}, err
			}
			return campaignBrief{ID: got.ID, Name: got.Name, Status: renderCampaign(got).Status, Strategy: strategyOf(got), DialLevel: dialLevel(got)}, nil
		})
}

// leadIn is one lead of the add-leads array.
type leadIn struct {
	PhoneNumber string     `json:"phone_number" required:"true" limit:"64"`
	Name        string     `json:"name" limit:"200"`
	Source      leadSource `json:"source"`
	// Priority orders dialling, 1 first (Voiso's order; the core's is
	// the reverse).
	Priority       *int              `json:"priority" range:"1,1000"`
	Active         *bool             `json:"active"`
	ContextHeaders map[string]string `json:"context_headers" limit:"20"`
}

type leadSource struct {
	System string `json:"system" limit:"200"`
	URL    string `json:"url" limit:"2000"`
}

type leadsImport struct {
	LeadsImport leadsImportResult `json:"leads_import"`
}

type leadsImportResult struct {
	Created    []string `json:"created"`
	Rejected   []string `json:"rejected"`
	Duplicates []string `json:"duplicates"`
}

// maxLeads is how many leads one request may carry.
const maxLeads = 1000

// The lead fields the dialect keeps a lead's source and SIP context in.
const (
	fieldSourceSystem = "source_system"
	fieldSourceURL    = "source_url"
)

// toLead is in as the core's lead, its number E.164; false when the number
// is not a phone number.
func toLead(in leadIn) (switchboard.Lead, bool) {
	n, err := phone.Normalize(in.PhoneNumber, "")
	if err != nil {
		return switchboard.Lead{}, false
	}
	l := switchboard.Lead{Name: in.Name, PhoneNumber: n, Fields: map[string]string{}}
	if in.Priority != nil {
		l.Priority = maxLeads + 1 - *in.Priority
	}
	if in.Source.System != "" {
		l.Fields[fieldSourceSystem] = in.Source.System
	}
	if in.Source.URL != "" {
		l.Fields[fieldSourceURL] = in.Source.URL
	}
	for k, v := range in.ContextHeaders {
		l.Fields[k] = v
	}
	return l, true
}

// addLeads inserts the leads as one import (refused with 409 naming
// campaign_id while another import into the campaign runs, or for 2 s
// after), so the answer can say which were created, which were duplicates
// and which were rejected. A created lead sent with active false is then
// taken off dialling (skipped), as the update would.
func (a *API) addLeads(ctx context.Context, c *call, in *[]leadIn) (leadsImport, error) {
	cp, err := a.campaign(ctx, c)
	if err != nil {
		return leadsImport{}, err
	}
	if len(*in) > maxLeads {
		return leadsImport{}, invalid("leads", "must be at most 1000 per request")
	}
	res := leadsImportResult{Created: []string{}, Rejected: []string{}, Duplicates: []string{}}
	var leads []switchboard.Lead
	var sent []leadIn
	for _, li := range *in {
		l, ok := toLead(li)
		if !ok {
			res.Rejected = append(res.Rejected, li.PhoneNumber)
			continue
		}
		leads = append(leads, l)
		sent = append(sent, li)
	}
	if len(leads) == 0 {
		return leadsImport{LeadsImport: res}, nil
	}
	got, err := a.opt.Store.AddCampaignLeads(ctx, c.tenantID(), cp.ID, leads)
	if err != nil {
		return leadsImport{}, err
	}
	dup := make(map[int]bool, len(got.Duplicates))
	for _, i := range got.Duplicates {
		dup[i] = true
	}
	for i, li := range sent {
		if dup[i] {
			res.Duplicates = append(res.Duplicates, li.PhoneNumber)
			continue
		}
		res.Created = append(res.Created, li.PhoneNumber)
		if li.Active != nil && !*li.Active {
			active := false
			if _, err := a.updateLead(ctx, c.tenantID(), cp.ID, leads[i].PhoneNumber, leadPatch{Active: &active}); err != nil {
				return leadsImport{}, err
			}
		}
	}
	return leadsImport{LeadsImport: res}, nil
}

// leadPatch is one lead of the update-leads array: the lead is found by its
// number, and only the fields given change (name, source, priority,
// active), as Voiso's update allows.
type leadPatch struct {
	PhoneNumber string      `json:"phone_number" required:"true" limit:"64"`
	Name        *string     `json:"name" limit:"200"`
	Source      *leadSource `json:"source"`
	Priority    *int        `json:"priority" range:"1,1000"`
	Active      *bool       `json:"active"`
}

type leadsUpdate struct {
	LeadsUpdate leadsUpdateResult `json:"leads_update"`
}

type leadsUpdateResult struct {
	Updated  []string `json:"updated"`
	NotFound []string `json:"not_found"`
	Rejected []string `json:"rejected"`
}

// updateLeads changes each lead the array names by number: updated,
// not_found when the campaign has no lead with that first number, rejected
// when the number is not a phone number or the change is refused (a lead
// already dialled to its end cannot be made active again).
func (a *API) updateLeads(ctx context.Context, c *call, in *[]leadPatch) (leadsUpdate, error) {
	cp, err := a.campaign(ctx, c)
	if err != nil {
		return leadsUpdate{}, err
	}
	if len(*in) > maxLeads {
		return leadsUpdate{}, invalid("leads", "must be at most 1000 per request")
	}
	res := leadsUpdateResult{Updated: []string{}, NotFound: []string{}, Rejected: []string{}}
	for _, lp := range *in {
		n, err := phone.Normalize(lp.PhoneNumber, "")
		if err != nil {
			res.Rejected = append(res.Rejected, lp.PhoneNumber)
			continue
		}
		found, err := a.updateLead(ctx, c.tenantID(), cp.ID, n, lp)
		switch code := switchboard.ErrorCode(err); {
		case err == nil && !found:
			res.NotFound = append(res.NotFound, lp.PhoneNumber)
		case err == nil:
			res.Updated = append(res.Updated, lp.PhoneNumber)
		case code == switchboard.CodeInvalid || code == switchboard.CodeConflict:
			res.Rejected = append(res.Rejected, lp.PhoneNumber)
		default:
			return leadsUpdate{}, err
		}
	}
	return leadsUpdate{LeadsUpdate: res}, nil
}

// updateLead applies lp to every lead of the campaign whose first number is
// number (E.164); found is false when there is none.
func (a *API) updateLead(ctx context.Context, tenantID, campaignID int64, number string, lp leadPatch) (found bool, err error) {
	p, err := a.opt.Store.Leads(ctx, tenantID, switchboard.LeadTarget{CampaignID: campaignID}, switchboard.LeadFilter{Number: number},
		switchboard.ListOptions{Limit: switchboard.MaxPageLimit, SkipTotal: true})
	if err != nil {
		return false, err
	}
	for _, l := range p.Items {
		if _, err := a.opt.Store.UpdateLeadFunc(ctx, tenantID, l.ID, func(l *switchboard.Lead) error { return patchLead(l, lp) }); err != nil {
			return true, err
		}
	}
	return len(p.Items) > 0, nil
}

// patchLead applies lp's given fields to l. Active false takes a lead that
// is still to be dialled off dialling (skipped), and is refused while a
// dial of it runs; active true puts a skipped lead back (upcoming). A lead
// dialled to its end is neither: it is not dialled again either way.
func patchLead(l *switchboard.Lead, lp leadPatch) error {
	if lp.Name != nil {
		l.Name = *lp.Name
	}
	if lp.Source != nil {
		if l.Fields == nil {
			l.Fields = map[string]string{}
		}
		l.Fields[fieldSourceSystem], l.Fields[fieldSourceURL] = lp.Source.System, lp.Source.URL
		for _, k := range []string{fieldSourceSystem, fieldSourceURL} {
			if l.Fields[k] == "" {
				delete(l.Fields, k)
			}
		}
	}
	if lp.Priority != nil {
		l.Priority = maxLeads + 1 - *lp.Priority
	}
	if lp.Active != nil {
		switch {
		case *lp.Active && l.Status == switchboard.LeadSkipped:
			l.Status = switchboard.LeadUpcoming
		case !*lp.Active && (l.Status == switchboard.LeadUpcoming || l.Status == switchboard.LeadRedialScheduled):
			l.Status = switchboard.LeadSkipped
		case !*lp.Active && slices.Contains([]switchboard.LeadStatus{switchboard.LeadPreviewing, switchboard.LeadDialing,
			switchboard.LeadQueued, switchboard.LeadConnected}, l.Status):
			return invalid("active", "cannot change while the lead is being dialled")
		}
	}
	return nil
}
