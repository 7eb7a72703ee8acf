package ujet

// The call object of seed 004 ("Calls Endpoints 8"), rendered from the
// engine's Call, its CallData, its agent, its end user, the menu tree and
// the calls that continue it. A page of calls is rendered from one read of
// each (renderCalls): never a query per call.

import (
	"context"
	"slices"
	"strconv"

	"switchboard"
)

// CallObject is UJET's call object: every key of the seed's example with
// the seed's JSON type, and the keys spec §3.1 adds (deflection_details,
// offer_type, offer_events, answer_type, outbound_number). Times are null
// until they happen; objects are null when the call has none.
type CallObject struct {
	ID                  int64          `json:"id"`
	ParentID            *int64         `json:"parent_id"`
	Lang                string         `json:"lang"`
	CallType            string         `json:"call_type"`
	Status              string         `json:"status"`
	CreatedAt           string         `json:"created_at"`
	QueuedAt            *string        `json:"queued_at"`
	AssignedAt          *string        `json:"assigned_at"`
	ConnectedAt         *string        `json:"connected_at"`
	EndsAt              *string        `json:"ends_at"`
	ScheduledAt         *string        `json:"scheduled_at"`
	WaitDuration        int64          `json:"wait_duration"`
	CallDuration        int64          `json:"call_duration"`
	HoldDuration        int64          `json:"hold_duration"`
	Rating              *int           `json:"rating"`
	HasFeedback         bool           `json:"has_feedback"`
	VoipProvider        string         `json:"voip_provider"`
	OutTicketID         *string        `json:"out_ticket_id"`
	OutTicketURL        *string        `json:"out_ticket_url"`
	Verified            bool           `json:"verified"`
	RecordingURL        *string        `json:"recording_url"`
	RecordingPermission string         `json:"recording_permission"`
	VoicemailReason     string         `json:"voicemail_reason"`
	Deflection          string         `json:"deflection"`
	DisconnectedBy      string         `json:"disconnected_by"`
	FailDetails         *string        `json:"fail_details"`
	FailReason          string         `json:"fail_reason"`
	SupportNumber       string         `json:"support_number"`
	SelectedMenu        *SelectedMenu  `json:"selected_menu"`
	MenuPath            *MenuPath      `json:"menu_path"`
	AgentInfo           *AgentInfo     `json:"agent_info"`
	EndUser             *CallEndUser   `json:"end_user"`
	Photos              []CallPhoto    `json:"photos"`
	Videos              []CallVideo    `json:"videos"`
	Transfers           []CallTransfer `json:"transfers"`
	DeflectionDetails   *string        `json:"deflection_details"`
	Participants        []Participant  `json:"participants"`
	OfferType           *string        `json:"offer_type"`
	OfferEvents         []OfferEvent   `json:"offer_events"`
	AnswerType          *string        `json:"answer_type"`
	OutboundNumber      *string        `json:"outbound_number"`
}

// AgentInfo is the call object's agent_info (and a transfer's from_agent /
// to_agent).
type AgentInfo struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	LastName    string  `json:"last_name"`
	FirstName   string  `json:"first_name"`
	AgentNumber string  `json:"agent_number"`
	AvatarURL   *string `json:"avatar_url"`
}

// CallEndUser is the call object's end_user.
type CallEndUser struct {
	ID           int64   `json:"id"`
	Identifier   string  `json:"identifier"`
	OutContactID *string `json:"out_contact_id"`
}

// CallPhoto and CallVideo are the media an end user shared during a call;
// voice calls of the core carry none, so the lists are empty.
type CallPhoto struct {
	ID        int64  `json:"id"`
	PhotoType string `json:"photo_type"`
	URL       string `json:"url"`
}

// CallVideo is one video of a call (see CallPhoto).
type CallVideo struct {
	ID  int64  `json:"id"`
	URL string `json:"url"`
}

// CallTransfer is one transfer of a call: the call that continued it.
type CallTransfer struct {
	ID         int64      `json:"id"`
	Status     string     `json:"status"`
	FailReason string     `json:"fail_reason"`
	CreatedAt  string     `json:"created_at"`
	FromMenu   *MenuPath  `json:"from_menu"`
	ToMenu     *MenuPath  `json:"to_menu"`
	FromAgent  *AgentInfo `json:"from_agent"`
	ToAgent    *AgentInfo `json:"to_agent"`
}

// Participant is one leg of a call: the end user's, and the agent's once
// one took it.
type Participant struct {
	ID           int64   `json:"id"`
	Type         string  `json:"type"`
	Status       string  `json:"status"`
	CallID       int64   `json:"call_id"`
	UserID       *int64  `json:"user_id"`
	EndUserID    *int64  `json:"end_user_id"`
	CallDuration int64   `json:"call_duration"`
	HoldDuration int64   `json:"hold_duration"`
	ConnectedAt  *string `json:"connected_at"`
	EndedAt      *string `json:"ended_at"`
	FailReason   string  `json:"fail_reason"`
}

// OfferEvent is one round of offering a call to agents; the core's routing
// keeps no rounds, so the list is empty.
type OfferEvent struct {
	CastingTime *string `json:"casting_time"`
	Group       string  `json:"group"`
}

// The call types this dialect shows. The three "(API)" types are UJET's, for
// calls created through POST /calls (CallData.CallType); the others name the
// core's other calls.
const (
	typeOutboundAPI  = "Voice Outbound (API)"
	typeInboundAPI   = "Voice Inbound (API)"
	typeScheduledAPI = "Voice Scheduled (API)"
	// An inbound call to one of the tenant's numbers or extensions.
	typeInboundIVR = "Voice Inbound (IVR)"
	// An outbound call placed through another API (another dialect's
	// click-to-call, a CRM), which names its Source.
	typeOutboundOtherAPI = "Voice Outbound (API)"
	// An outbound call of the dialer's campaigns.
	typeOutboundDialer = "Voice Outbound (Dialer)"
	// An outbound call an agent placed from their phone.
	typeOutboundManual = "Voice Outbound (Manual)"
	// A callback the core scheduled (a queue's overflow to callback, a
	// follow-up) rather than UJET's API.
	typeScheduledCallback = "Voice Scheduled (Callback)"
)

// voipProvider names the carrier of every call: Switchboard carries calls
// itself, through its SIP trunks or its simulator.
const voipProvider = "voip_provider_switchboard"

// callRender is what a page of calls is rendered from, each read once.
type callRender struct {
	tree     *menuTree
	data     map[int64]switchboard.CallData
	agents   map[int64]switchboard.User
	endUsers map[int64]switchboard.EndUser
	children map[int64][]switchboard.Call
	public   string
}

// renderCalls renders calls with one read each of their data, agents, end
// users, menus and continued calls.
func (a *API) renderCalls(ctx context.Context, tenantID int64, calls []switchboard.Call) ([]CallObject, error) {
	st := a.opt.Store
	rd := &callRender{public: a.opt.PublicURL}
	ids := make([]int64, 0, len(calls))
	var transferred []int64
	for i := range calls {
		ids = append(ids, calls[i].ID)
		if calls[i].HangupCause == causeTransferred {
			transferred = append(transferred, calls[i].ID)
		}
	}
	var err error
	if rd.tree, err = loadMenus(ctx, st, tenantID); err != nil {
		return nil, err
	}
	if rd.data, err = st.CallDataFor(ctx, tenantID, ids); err != nil {
		return nil, err
	}
	if rd.children, err = st.CallsByParent(ctx, tenantID, transferred); err != nil {
		return nil, err
	}
	var agentIDs, endUserIDs []int64
	addAgent := func(c *switchboard.Call) {
		if c.AgentID != nil && !slices.Contains(agentIDs, *c.AgentID) {
			agentIDs = append(agentIDs, *c.AgentID)
		}
	}
	for i := range calls {
		addAgent(&calls[i])
		for j := range rd.children[calls[i].ID] {
			addAgent(&rd.children[calls[i].ID][j])
		}
		if d, ok := rd.data[calls[i].ID]; ok && d.EndUserID != nil && !slices.Contains(endUserIDs, *d.EndUserID) {
			endUserIDs = append(endUserIDs, *d.EndUserID)
		}
	}
	users, err := st.UsersByID(ctx, tenantID, agentIDs)
	if err != nil {
		return nil, err
	}
	rd.agents = make(map[int64]switchboard.User, len(users))
	for _, u := range users {
		rd.agents[u.ID] = u
	}
	if rd.endUsers, err = st.EndUsersByID(ctx, tenantID, endUserIDs); err != nil {
		return nil, err
	}
	out := make([]CallObject, len(calls))
	for i := range calls {
		out[i] = rd.object(&calls[i])
	}
	return out, nil
}

// renderCall renders one call.
func (a *API) renderCall(ctx context.Context, tenantID int64, c switchboard.Call) (CallObject, error) {
	objs, err := a.renderCalls(ctx, tenantID, []switchboard.Call{c})
	if err != nil {
		return CallObject{}, err
	}
	return objs[0], nil
}

// causeTransferred is the hang-up cause of a call the engine transferred
// (the call that continues it links back by ParentID).
const causeTransferred = "transferred"

// object renders one call of the page.
func (rd *callRender) object(c *switchboard.Call) CallObject {
	d, ok := rd.data[c.ID]
	if !ok {
		d = switchboard.CallData{CallID: c.ID}
	}
	o := CallObject{ID: c.ID, ParentID: c.ParentID, CallType: callType(c, &d), Status: string(c.Status), CreatedAt: millis(c.CreatedAt),
		QueuedAt: optMillis(c.QueuedAt), AssignedAt: optMillis(c.RingingAt), ConnectedAt: optMillis(c.ConnectedAt),
		EndsAt: optMillis(c.EndedAt), ScheduledAt: optMillis(c.ScheduledAt), WaitDuration: seconds(c.Wait().Seconds()),
		CallDuration: seconds(c.Talk().Seconds()), HoldDuration: seconds(c.Hold.Seconds()), VoipProvider: voipProvider,
		Verified: d.VerifiedCustomer, RecordingPermission: recordingPermission(d.RecordingPermission),
		VoicemailReason: voicemailReason(c.VoicemailReason), Deflection: deflection(c), DisconnectedBy: disconnectedBy(c.HangupBy),
		FailReason: failReason(c), SupportNumber: supportNumber(c), Photos: []CallPhoto{}, Videos: []CallVideo{},
		Transfers: []CallTransfer{}, Participants: []Participant{}, OfferEvents: []OfferEvent{}}
	if d.TicketID != "" {
		o.OutTicketID = &d.TicketID
	}
	if c.Status == switchboard.CallFailed || c.Disposition != "" && c.Disposition != switchboard.DispositionAnswered {
		if c.HangupCause != "" {
			o.FailDetails = &c.HangupCause
		}
	}
	if hasRecording(c) {
		u := absURL(rd.public, "/apps/api/v1/calls/"+strconv.FormatInt(c.ID, 10)+"/recording")
		o.RecordingURL = &u
	}
	if c.Direction == switchboard.Outbound && c.From != "" {
		o.OutboundNumber = &c.From
	}
	if c.ConnectedAt != nil && c.AgentID != nil {
		manual := "manual"
		o.AnswerType = &manual
	}
	menu := rd.menuOf(c, &d)
	if menu != 0 {
		o.SelectedMenu, o.MenuPath = rd.tree.selectedMenu(menu), rd.tree.menuPath(menu)
	}
	o.Lang = d.Language
	if o.Lang == "" {
		o.Lang = defaultLang
		if n := rd.tree.node(menu); n != nil {
			o.Lang = n.langOf()
		}
	}
	o.AgentInfo = rd.agentInfo(c.AgentID)
	var endUserID *int64
	if d.EndUserID != nil {
		if eu, ok := rd.endUsers[*d.EndUserID]; ok {
			endUserID = &eu.ID
			o.EndUser = &CallEndUser{ID: eu.ID, Identifier: eu.Identifier}
			if eu.ContactID != nil {
				s := strconv.FormatInt(*eu.ContactID, 10)
				o.EndUser.OutContactID = &s
			}
		}
	}
	// The end user's leg, then the agent's: ids 2·call and 2·call+1, so
	// that each participant keeps one id for good.
	o.Participants = append(o.Participants, Participant{ID: 2 * c.ID, Type: "end_user", Status: participantStatus(c, false),
		CallID: c.ID, EndUserID: endUserID, CallDuration: o.CallDuration, HoldDuration: o.HoldDuration,
		ConnectedAt: o.ConnectedAt, EndedAt: o.EndsAt, FailReason: o.FailReason})
	if c.AgentID != nil {
		agent := *c.AgentID
		o.Participants = append(o.Participants, Participant{ID: 2*c.ID + 1, Type: "agent", Status: participantStatus(c, true),
			CallID: c.ID, UserID: &agent, CallDuration: o.CallDuration, HoldDuration: o.HoldDuration,
			ConnectedAt: o.ConnectedAt, EndedAt: o.EndsAt, FailReason: o.FailReason})
	}
	for i := range rd.children[c.ID] {
		next := &rd.children[c.ID][i]
		if next.ScheduledAt != nil {
			continue // a callback follows the call up; it does not continue it
		}
		tr := CallTransfer{ID: next.ID, Status: transferStatus(next), FailReason: failReason(next), CreatedAt: millis(next.CreatedAt),
			FromAgent: rd.agentInfo(c.AgentID), ToAgent: rd.agentInfo(next.AgentID)}
		if menu != 0 {
			tr.FromMenu = rd.tree.menuPath(menu)
		}
		if next.QueueID != nil {
			tr.ToMenu = rd.tree.menuPath(queueMenuID(*next.QueueID))
		}
		o.Transfers = append(o.Transfers, tr)
	}
	return o
}

// menuOf is the menu id a call is shown under: its queue's, else the menu
// the API named; 0 for none.
func (rd *callRender) menuOf(c *switchboard.Call, d *switchboard.CallData) int64 {
	switch {
	case c.QueueID != nil && rd.tree.queueNode(*c.QueueID) != nil:
		return queueMenuID(*c.QueueID)
	case d.MenuID != nil && rd.tree.node(*d.MenuID) != nil:
		return *d.MenuID
	}
	return 0
}

func (rd *callRender) agentInfo(id *int64) *AgentInfo {
	if id == nil {
		return nil
	}
	u, ok := rd.agents[*id]
	if !ok {
		return nil
	}
	return agentInfo(u)
}

// agentInfo renders a user as the call object's agent_info.
func agentInfo(u switchboard.User) *AgentInfo {
	name := u.FirstName
	if u.LastName != "" {
		name += " " + u.LastName
	}
	return &AgentInfo{ID: u.ID, Name: name, FirstName: u.FirstName, LastName: u.LastName, AgentNumber: u.AgentNumber}
}

// callType is the call_type a call is shown with: the one its API gave it,
// else one named from its direction and origin.
func callType(c *switchboard.Call, d *switchboard.CallData) string {
	switch {
	case d.CallType != "":
		return d.CallType
	case c.Direction == switchboard.Inbound:
		return typeInboundIVR
	case c.ScheduledAt != nil:
		return typeScheduledCallback
	case c.CampaignID != nil:
		return typeOutboundDialer
	case c.Source.System != "":
		return typeOutboundOtherAPI
	}
	return typeOutboundManual
}

// recordingPermission renders the stored permission as the call object
// shows it ("not_asked" when none was asked).
func recordingPermission(p string) string {
	if p == "" {
		return switchboard.RecordingNotAsked
	}
	return p
}

// voicemailReason is "not_voicemail" for a call that was not offered
// voicemail, else the core's reason (after_hours, over_capacity,
// no_answer).
func voicemailReason(r string) string {
	if r == "" {
		return "not_voicemail"
	}
	return r
}

// deflection says where a call was sent instead of an agent: voicemail,
// elsewhere (the core's deflected: overflow to callback or another number),
// or nowhere.
func deflection(c *switchboard.Call) string {
	switch {
	case c.VoicemailReason != "":
		return "voicemail"
	case c.Status == switchboard.CallDeflected:
		return "deflected"
	}
	return "no_deflection"
}

// disconnectedBy names the side that hung up.
func disconnectedBy(s switchboard.Side) string {
	switch s {
	case switchboard.SideCaller:
		return "disconnected_by_end_user"
	case switchboard.SideAgent:
		return "disconnected_by_agent"
	case switchboard.SideSystem:
		return "disconnected_by_system"
	}
	return "disconnected_by_unknown"
}

// failReason maps how a call that was never connected ended; "nothing" for
// a call that was (or has not ended).
func failReason(c *switchboard.Call) string {
	if c.HangupCause == switchboard.CauseQueueTimeout {
		return "queue_timeout"
	}
	switch c.Disposition {
	case switchboard.DispositionNoAnswer:
		return "no_answer"
	case switchboard.DispositionBusy:
		return "busy"
	case switchboard.DispositionFailed:
		return "connection_failed"
	case switchboard.DispositionAbandoned:
		return "end_user_abandoned"
	case switchboard.DispositionRejected:
		return "rejected"
	case switchboard.DispositionMissed:
		return "agent_not_answered"
	}
	if c.Status == switchboard.CallFailed {
		return "failed"
	}
	return "nothing"
}

// supportNumber is the tenant's number of the call: the number an inbound
// caller dialled, the caller id an outbound call showed.
func supportNumber(c *switchboard.Call) string {
	if c.Direction == switchboard.Inbound {
		return c.To
	}
	return c.From
}

// participantStatus is a leg's status: waiting until connected, then
// connected, finished or failed.
func participantStatus(c *switchboard.Call, agent bool) string {
	switch c.Status {
	case switchboard.CallConnected:
		return "connected"
	case switchboard.CallAssigned, switchboard.CallConnecting:
		if agent {
			return "connecting"
		}
		return "waiting"
	}
	if c.EndedAt != nil {
		if c.ConnectedAt != nil {
			return "finished"
		}
		return "failed"
	}
	return "waiting"
}

// transferStatus is a transfer's status from the call that continues the
// transferred one: transferring until an agent answers it, then
// transferred; failed when it ended unanswered.
func transferStatus(next *switchboard.Call) string {
	switch {
	case next.ConnectedAt != nil:
		return "transferred"
	case next.EndedAt != nil:
		return "failed"
	}
	return "transferring"
}

// seconds rounds a duration in seconds to the whole seconds UJET shows.
func seconds(s float64) int64 { return int64(s + 0.5) }
