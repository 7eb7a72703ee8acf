package ujet

// Wait times, queue operation statuses, queue status and the menus: UJET's
// views of its menu tree (menus_tree.go) with the call engine's live state
// of each queue (switchboard.QueueLive) and the queue's hours and callback
// periods.

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
)

// The channels as the query parameters name them: wait times and menus say
// voice_call and chat, the operation statuses call and chat.
const (
	wtVoice = "voice_call"
	wtChat  = "chat"
)

// ewtCeiling is the longest estimated wait shown, in seconds (five hours):
// UJET's queue status shows 18000 for a queue without an agent signed in,
// where the wait has no bound.
const ewtCeiling = 18000

// queueMenuChannels are the channels a menu takes: an IVR menu answers calls; a
// queue takes calls when its channel is voice and chats when its channel is
// chat or it is shown as a mobile or web menu (UJET's SDK menus take chats,
// and a mobile menu calls too, as the wait times example shows both).
func queueMenuChannels(n *menuNode) []string {
	if n.Queue == nil {
		return []string{wtVoice}
	}
	var out []string
	if n.Queue.Channel != switchboard.ChannelChat {
		out = append(out, wtVoice)
	}
	if n.Queue.Channel == switchboard.ChannelChat || n.Type == menuMobile || n.Type == menuWeb {
		out = append(out, wtChat)
	}
	return out
}

// serves says whether node n takes channel ch ("" is any).
func servesChannel(n *menuNode, ch string) bool {
	return ch == "" || slices.Contains(queueMenuChannels(n), ch)
}

// queuePrimaryChannel is the channel whose agents a queue's counts show when the
// request names none: chat for a chat queue, else calls.
func queuePrimaryChannel(n *menuNode) string {
	if n.Queue != nil && n.Queue.Channel == switchboard.ChannelChat {
		return wtChat
	}
	return wtVoice
}

// queueLive is what the engine knows of a queue now, with the counts UJET
// shows derived from it.
type queueLive struct {
	switchboard.QueueLive
	ring bool // the queue offers calls to agents already on one
}

// live reads a queue's state from the call engine. A queue the engine does
// not run (yet) has nobody signed in.
func (a *API) queueLiveOf(ctx context.Context, tenantID int64, q *switchboard.Queue) queueLive {
	l, ok := a.opt.Calls.QueueLive(ctx, tenantID, q.ID)
	if !ok {
		l = switchboard.QueueLive{EstimatedWait: -1, ChatEstimatedWait: -1}
	}
	return queueLive{QueueLive: l, ring: q.RingInUse}
}

// ewt is the estimated wait of a caller (or a chat) joining now, in whole
// seconds, at most ewtCeiling: the engine's position times the average
// handle time over the agents signed in, 0 with one free, and the ceiling
// when nobody is signed in.
func (l queueLive) ewt(ch string) int {
	w := l.EstimatedWait
	if ch == wtChat {
		w = l.ChatEstimatedWait
	}
	if w < 0 || w > ewtCeiling {
		return ewtCeiling
	}
	return int(math.Round(w))
}

// available counts the members who may be offered an interaction of the
// channel now: for calls, signed in, in a status that takes calls, with a
// phone registered and idle; for chats, with a free chat slot.
func (l queueLive) available(ch string) int {
	if ch == wtChat {
		return l.AgentsChatAvailable
	}
	return l.AgentsAvailable
}

// breakthrough counts UJET's breakthrough agents: members signed in who are
// not available, because they ring or talk on a call, and whom the queue
// offers calls anyway since it rings agents in use (Queue.RingInUse). A
// queue that does not is 0; chats have none (an agent's chat slots already
// count them available).
func (l queueLive) breakthrough(ch string) int {
	if ch == wtChat || !l.ring {
		return 0
	}
	return l.AgentsOnCall
}

// overcapacity says the queue is over its capacity for a new interaction of
// the channel now: MaxLength of them already wait, or nobody is signed in
// and the queue does not let callers join empty. For calls this is exactly
// what call control refuses at the door (a caller is refused, or turned into
// a callback); conversations are admitted regardless, so for chats it tells
// a client the queue's own limits are reached before it starts one.
func (l queueLive) overcapacity(q *switchboard.Queue, ch string) bool {
	waiting := l.CallsWaiting
	if ch == wtChat {
		waiting = l.ChatsWaiting
	}
	if q.MaxLength > 0 && waiting >= q.MaxLength {
		return true
	}
	return !q.JoinEmpty && l.AgentsOnline == 0
}

// calls is the running call center, or a 503 without one.
func (a *API) queuesCallControl() error {
	if a.opt.Calls == nil {
		return switchboard.Errorf(switchboard.CodeUnavailable, "call control is not running on this server")
	}
	return nil
}

// queueMenuParam reads the single integer menu_id (or menu_id[]); required
// reports its absence as Rails does.
func queueMenuParam(r *http.Request, required bool) (int64, bool, error) {
	vals := multi(r, "menu_id")
	if len(vals) == 0 {
		if required {
			return 0, false, missing("menu_id")
		}
		return 0, false, nil
	}
	if len(vals) > 1 {
		return 0, false, badRequest("menu_id must be a single menu id")
	}
	n, err := strconv.ParseInt(vals[0], 10, 64)
	if err != nil || n <= 0 {
		return 0, false, badRequest("menu_id must be an integer")
	}
	return n, true, nil
}

// queueMenuNotFound is UJET's refusal of a menu id the tenant has not.
func queueMenuNotFound(id int64) error { return badRequest(fmt.Sprintf("menu_id %d is not found", id)) }

// queueMenuTypeParam reads menu_type: one of UJET's three, or "" for any.
func queueMenuTypeParam(r *http.Request) (string, error) {
	switch t := strings.TrimSpace(r.URL.Query().Get("menu_type")); t {
	case "", menuIVR, menuMobile, menuWeb:
		return t, nil
	default:
		return "", badRequest("menu_type '" + t + "' is not valid: use ivr_menu, mobile_menu or web_menu")
	}
}

// queueLangParam reads the required lang and vets it against the tenant's menus.
func queueLangParam(r *http.Request, t *menuTree) (string, error) {
	lang := strings.TrimSpace(r.URL.Query().Get("lang"))
	if lang == "" {
		return "", missing("lang")
	}
	return t.checkLang(lang)
}

// WaitTime is one menu of GET /wait_times: the estimated wait in seconds of
// each channel the menu takes (only those keys are present), and its agents.
type WaitTime struct {
	MenuID             int64  `json:"menu_id"`
	MenuType           string `json:"menu_type"`
	Chat               *int   `json:"chat,omitempty"`
	VoiceCall          *int   `json:"voice_call,omitempty"`
	MaterializedPath   string `json:"materialized_path"`
	LoggedInAgents     int    `json:"logged_in_agents"`
	AvailableAgents    int    `json:"available_agents"`
	BreakthroughAgents int    `json:"breakthrough_agents"`
}

func (a *API) waitTimeRoutes() []route {
	return []route{handler(route{Method: "GET", Path: "/wait_times", Summary: "Estimated wait times of the menus",
		Scope: switchboard.ScopeRoutingRead,
		Doc: "Every queue of the menu tree (or of menu_id's subtree, that menu included) serving lang, with the estimated " +
			"wait in seconds of each channel it takes (voice_call, chat), its agents signed in, available, and breakthrough " +
			"(on a call, offered anyway: the queue rings agents in use). A queue nobody is signed in to shows 18000.",
		Query: []param{{"lang", "string", "required: the language (ISO 639-1)"},
			{"menu_id", "integer", "that menu and its subtree"}, {"menu_type", "string", "ivr_menu, mobile_menu or web_menu"},
			{"channel_type", "string", "voice_call or chat"},
			{"wait[from]", "integer", "only menus waiting longer than this many seconds"},
			{"wait[to]", "integer", "only menus waiting less than this many seconds"}}},
		func(ctx context.Context, c *call, _ *noBody) ([]WaitTime, error) { return a.waitTimes(ctx, c) })}
}

func (a *API) waitTimes(ctx context.Context, c *call) ([]WaitTime, error) {
	tree, err := loadMenus(ctx, a.opt.Store, c.tenantID())
	if err != nil {
		return nil, err
	}
	lang, err := queueLangParam(c.r, tree)
	if err != nil {
		return nil, err
	}
	menuID, byMenu, err := queueMenuParam(c.r, false)
	if err != nil {
		return nil, err
	}
	mt, err := queueMenuTypeParam(c.r)
	if err != nil {
		return nil, err
	}
	ch := strings.TrimSpace(c.r.URL.Query().Get("channel_type"))
	switch ch {
	case "", wtVoice, wtChat:
	case "call", "voice":
		ch = wtVoice
	default:
		return nil, badRequest("channel_type '" + ch + "' is not valid: use voice_call or chat")
	}
	var bounds [2]*int
	for i, key := range []string{"wait[from]", "wait[to]"} {
		if v := strings.TrimSpace(c.r.URL.Query().Get(key)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, badRequest(key + " must be a positive integer")
			}
			bounds[i] = &n
		}
	}
	if err := a.queuesCallControl(); err != nil {
		return nil, err
	}
	nodes := tree.all()
	if byMenu {
		if nodes = tree.subtree(menuID); nodes == nil {
			return nil, queueMenuNotFound(menuID)
		}
	}
	out := []WaitTime{}
	for _, n := range nodes {
		if n.Queue == nil || (mt != "" && n.Type != mt) || !servesChannel(n, ch) || !n.servesLang(lang) {
			continue
		}
		l := a.queueLiveOf(ctx, c.tenantID(), n.Queue)
		counted := ch
		if counted == "" {
			counted = queuePrimaryChannel(n)
		}
		wt := WaitTime{MenuID: n.ID, MenuType: n.Type, MaterializedPath: tree.namePath(n.ID), LoggedInAgents: l.AgentsOnline,
			AvailableAgents: l.available(counted), BreakthroughAgents: l.breakthrough(counted)}
		inRange := false
		for _, served := range queueMenuChannels(n) {
			if ch != "" && served != ch {
				continue
			}
			w := l.ewt(served)
			if served == wtChat {
				wt.Chat = &w
			} else {
				wt.VoiceCall = &w
			}
			if (bounds[0] == nil || w > *bounds[0]) && (bounds[1] == nil || w < *bounds[1]) {
				inRange = true
			}
		}
		if inRange {
			out = append(out, wt)
		}
	}
	return out, nil
}

// OperationStatus is GET /queue_operation_statuses: whether the menu is
// outside its hours and whether it refuses new interactions now.
// after_hours repeats after_hour: UJET's prose names the key one way and its
// example the other, so a client reading either finds it.
type OperationStatus struct {
	MenuID       int64  `json:"menu_id"`
	Lang         string `json:"lang"`
	ChannelType  string `json:"channel_type"`
	AfterHour    bool   `json:"after_hour"`
	Overcapacity bool   `json:"overcapacity"`
	AfterHours   bool   `json:"after_hours"`
}

func (a *API) queueStatusRoutes() []route {
	return []route{
		handler(route{Method: "GET", Path: "/queue_operation_statuses", Summary: "Whether a menu is after hours or over capacity",
			Scope: switchboard.ScopeRoutingRead,
			Doc: "after_hour: the queue's hours (and holidays) are closed now. overcapacity: the queue refuses a new " +
				"interaction of the channel now: max_length interactions already wait, or nobody is signed in and the queue " +
				"does not let callers join empty (for calls, what call control refuses). An IVR menu is after hours when every " +
				"queue under it is, and over capacity when every queue under it is (or it has none).",
			Query: []param{{"menu_id", "integer", "required"}, {"lang", "string", "required"},
				{"channel_type", "string", "required: call or chat"}}},
			func(ctx context.Context, c *call, _ *noBody) (OperationStatus, error) {
				return a.operationStatus(ctx, c)
			}),
		rawHandler(route{Method: "GET", Path: "/queues/status", Summary: "Real-time status of the leaf queues with their callback periods",
			Scope: switchboard.ScopeRoutingRead,
			Doc: "Leaf queues of the tree (or of each menu_id[]'s subtree) serving lang: estimated waits, agents, the " +
				"callback periods of callback_period_hours from callback_start_from (periods of the queue's callback slot " +
				"length in its hours' time zone, only while open, with the callbacks scheduled in each and its max_slots, 0 " +
				"for no limit), and the queue's hours of operation and holidays.",
			Query: []param{{"lang", "string", "required"}, {"menu_id[]", "integer", "menus whose leaf queues to show"},
				{"menu_type", "string", "ivr_menu, mobile_menu or web_menu"}, {"channel_type", "string", "call or chat"},
				{"callback_period_hours", "integer", "1 to 8 (4)"},
				{"callback_start_from", "string", "ISO 8601, within the next 24 hours (now)"}}},
			nil, reflect.TypeFor[QueueStatusList](), func(w http.ResponseWriter, c *call) {
				out, err := a.queueStatus(c.r.Context(), c)
				if err != nil {
					a.writeError(w, c.r, err)
					return
				}
				httpapi.WriteJSON(w, http.StatusOK, out)
			}),
	}
}

func (a *API) operationStatus(ctx context.Context, c *call) (OperationStatus, error) {
	q := c.r.URL.Query()
	menuID, _, err := queueMenuParam(c.r, true)
	if err != nil {
		return OperationStatus{}, err
	}
	if strings.TrimSpace(q.Get("lang")) == "" {
		return OperationStatus{}, missing("lang")
	}
	ch := strings.TrimSpace(q.Get("channel_type"))
	counted := ch
	switch ch {
	case "":
		return OperationStatus{}, missing("channel_type")
	case "call", wtVoice:
		counted = wtVoice
	case wtChat:
	default:
		return OperationStatus{}, badRequest("channel_type '" + ch + "' is not valid: use call or chat")
	}
	tree, err := loadMenus(ctx, a.opt.Store, c.tenantID())
	if err != nil {
		return OperationStatus{}, err
	}
	lang, err := queueLangParam(c.r, tree)
	if err != nil {
		return OperationStatus{}, err
	}
	nodes := tree.subtree(menuID)
	if nodes == nil {
		return OperationStatus{}, queueMenuNotFound(menuID)
	}
	if err := a.queuesCallControl(); err != nil {
		return OperationStatus{}, err
	}
	now := a.now()
	out := OperationStatus{MenuID: menuID, Lang: lang, ChannelType: ch, Overcapacity: true}
	queues, open := 0, 0
	for _, n := range nodes {
		if n.Queue == nil {
			continue
		}
		if queues++; n.Queue.Hours.OpenAt(now) {
			open++
		}
		if !a.queueLiveOf(ctx, c.tenantID(), n.Queue).overcapacity(n.Queue, counted) {
			out.Overcapacity = false
		}
	}
	// Without a queue nothing is closed, and nothing can take the
	// interaction.
	out.AfterHour = queues > 0 && open == 0
	out.AfterHours = out.AfterHour
	return out, nil
}

// QueueStatusList is GET /queues/status.
type QueueStatusList struct {
	Queues []QueueStatus `json:"queues"`
}

// QueueStatus is one leaf queue of GET /queues/status.
type QueueStatus struct {
	MenuID           int64  `json:"menu_id"`
	MenuType         string `json:"menu_type"`
	Lang             string `json:"lang"`
	MaterializedPath string `json:"materialized_path"`
	// CurrentQueueEWT is the estimated wait of a caller (a chat for a chat
	// queue) joining now, in seconds.
	CurrentQueueEWT int `json:"current_queue_ewt"`
	// ScheduledCallbackEWT is the wait, in seconds from now, for the first
	// callback period shown with a slot free: 0 when the current one has
	// room, 18000 when none shown has.
	ScheduledCallbackEWT int              `json:"scheduled_callback_ewt"`
	LoggedInAgents       int              `json:"logged_in_agents"`
	AvailableAgents      int              `json:"available_agents"`
	BreakthroughAgents   int              `json:"breakthrough_agents"`
	CallbackPeriods      []CallbackPeriod `json:"callback_periods"`
	// AfterHour is whether the queue's hours are closed now.
	AfterHour bool `json:"after_hour"`
	// AlwaysOpen is set for a queue without hours of operation.
	AlwaysOpen bool `json:"always_open"`
	// TimeZone is the zone of the hours, holidays and callback periods.
	TimeZone         string            `json:"time_zone"`
	HoursOfOperation []QueueOpenPeriod `json:"hours_of_operation"`
	Holidays         []QueueHoliday    `json:"holidays"`
}

// CallbackPeriod is one period of scheduled callbacks, in the queue's time
// zone as UJET shows it: date "20260225", times "17:30".
type CallbackPeriod struct {
	Date           string `json:"date"`
	StartTime      string `json:"start_time"`
	EndTime        string `json:"end_time"`
	ScheduledCalls int    `json:"scheduled_calls"`
	// MaxSlots is the queue's callback capacity per period; 0 is no limit.
	MaxSlots int `json:"max_slots"`
}

// QueueOpenPeriod is one weekly opening of a queue.
type QueueOpenPeriod struct {
	Day       string `json:"day"` // monday … sunday
	StartTime string `json:"start_time"`
	EndTime   string `json:"end_time"`
}

// QueueHoliday is a date whose hours replace the weekly ones: closed all day, or
// open from start_time to end_time.
type QueueHoliday struct {
	Date      string `json:"date"` // "20261225"
	Name      string `json:"name"`
	Closed    bool   `json:"closed"`
	StartTime string `json:"start_time"`
	EndTime   string `json:"end_time"`
}

// Bounds of the queue status' callback window.
const (
	defaultCallbackHours = 4
	maxCallbackHours     = 8
)

func (a *API) queueStatus(ctx context.Context, c *call) (QueueStatusList, error) {
	q := c.r.URL.Query()
	tree, err := loadMenus(ctx, a.opt.Store, c.tenantID())
	if err != nil {
		return QueueStatusList{}, err
	}
	lang, err := queueLangParam(c.r, tree)
	if err != nil {
		return QueueStatusList{}, err
	}
	menuIDs, err := multiInt(c.r, "menu_id")
	if err != nil {
		return QueueStatusList{}, err
	}
	mt, err := queueMenuTypeParam(c.r)
	if err != nil {
		return QueueStatusList{}, err
	}
	ch := strings.TrimSpace(q.Get("channel_type"))
	switch ch {
	case "":
	case "call", wtVoice:
		ch = wtVoice
	case wtChat:
	default:
		return QueueStatusList{}, badRequest("channel_type '" + ch + "' is not valid: use call or chat")
	}
	hours := defaultCallbackHours
	if v := strings.TrimSpace(q.Get("callback_period_hours")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxCallbackHours {
			return QueueStatusList{}, badRequest("callback_period_hours must be an integer from 1 to 8")
		}
		hours = n
	}
	now := a.now()
	from := now
	if v := strings.TrimSpace(q.Get("callback_start_from")); v != "" {
		t, ok := parseTime(v)
		if !ok {
			return QueueStatusList{}, badRequest("callback_start_from is not a valid time (ISO 8601, e.g. 2026-02-25T17:30:00.000Z)")
		}
		if t.After(now.Add(24 * time.Hour)) {
			return QueueStatusList{}, badRequest("callback_start_from must be within the next 24 hours")
		}
		if t.After(now) {
			from = t
		}
	}
	if err := a.queuesCallControl(); err != nil {
		return QueueStatusList{}, err
	}
	var nodes []*menuNode
	if len(menuIDs) == 0 {
		nodes = tree.all()
	}
	seen := map[int64]bool{}
	for _, id := range menuIDs {
		sub := tree.subtree(id)
		if sub == nil {
			return QueueStatusList{}, queueMenuNotFound(id)
		}
		nodes = append(nodes, sub...)
	}
	out := QueueStatusList{Queues: []QueueStatus{}}
	for _, n := range nodes {
		if seen[n.ID] || !n.Leaf() || (mt != "" && n.Type != mt) || !servesChannel(n, ch) || !n.servesLang(lang) {
			continue
		}
		seen[n.ID] = true
		st, err := a.leafStatus(ctx, c.tenantID(), tree, n, ch, now, from, time.Duration(hours)*time.Hour)
		if err != nil {
			return QueueStatusList{}, err
		}
		out.Queues = append(out.Queues, st)
	}
	return out, nil
}

// leafStatus is queue node n's status now, its callback periods over
// [from, from+window).
func (a *API) leafStatus(ctx context.Context, tenantID int64, tree *menuTree, n *menuNode, ch string, now, from time.Time,
	window time.Duration) (QueueStatus, error) {
	qu := n.Queue
	if ch == "" {
		ch = queuePrimaryChannel(n)
	}
	l := a.queueLiveOf(ctx, tenantID, qu)
	loc := qu.CallbackLocation()
	st := QueueStatus{MenuID: n.ID, MenuType: n.Type, Lang: n.langOf(), MaterializedPath: tree.namePath(n.ID),
		CurrentQueueEWT: l.ewt(ch), LoggedInAgents: l.AgentsOnline, AvailableAgents: l.available(ch),
		BreakthroughAgents: l.breakthrough(ch), CallbackPeriods: []CallbackPeriod{}, AfterHour: !qu.Hours.OpenAt(now),
		AlwaysOpen: qu.Hours == nil, TimeZone: loc.String(), HoursOfOperation: []QueueOpenPeriod{}, Holidays: []QueueHoliday{}}
	first, _ := qu.CallbackPeriod(from)
	end := from.Add(window)
	taken, err := a.opt.Store.ScheduledCallbacks(ctx, tenantID, qu.ID, first, end.Add(qu.CallbackSlot()))
	if err != nil {
		return st, err
	}
	st.ScheduledCallbackEWT = ewtCeiling
	found := false
	for start := first; start.Before(end); {
		pStart, pEnd := qu.CallbackPeriod(start)
		start = pEnd
		if !qu.Hours.OpenAt(pStart) {
			continue
		}
		count := 0
		for _, t := range taken {
			if !t.Before(pStart) && t.Before(pEnd) {
				count++
			}
		}
		local, localEnd := pStart.In(loc), pEnd.In(loc)
		endClock := localEnd.Format("15:04")
		if endClock == "00:00" {
			endClock = "24:00"
		}
		st.CallbackPeriods = append(st.CallbackPeriods, CallbackPeriod{Date: local.Format("20060102"),
			StartTime: local.Format("15:04"), EndTime: endClock, ScheduledCalls: count, MaxSlots: qu.CallbackSlotCapacity})
		if !found && (qu.CallbackSlotCapacity == 0 || count < qu.CallbackSlotCapacity) {
			found = true
			st.ScheduledCallbackEWT = min(ewtCeiling, max(0, int(pStart.Sub(now).Seconds())))
		}
	}
	if h := qu.Hours; h != nil {
		for _, r := range h.Weekly {
			st.HoursOfOperation = append(st.HoursOfOperation, QueueOpenPeriod{Day: strings.ToLower(time.Weekday(r.Day).String()),
				StartTime: r.Open, EndTime: r.Close})
		}
		for _, d := range h.Holidays {
			date := strings.ReplaceAll(d.Date, "-", "")
			st.Holidays = append(st.Holidays, QueueHoliday{Date: date, Name: d.Name, Closed: d.Open == "" && d.Close == "",
				StartTime: d.Open, EndTime: d.Close})
		}
	}
	return st, nil
}

// Menu is a node of UJET's menu tree as GET /menu shows it (the Manager
// API's menu object), with the name path, the language, and the channels
// it takes (the channel_type values wait times answer for it).
type Menu struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	ParentID *int64 `json:"parent_id"`
	Position int    `json:"position"`
	Deleted  bool   `json:"deleted"`
	// Hidden is a string, as the seed types the menu's hidden ("false").
	Hidden           string   `json:"hidden"`
	MenuType         string   `json:"menu_type"`
	OutputMsg        string   `json:"output_msg"`
	MaterializedPath string   `json:"materialized_path"`
	Lang             string   `json:"lang"`
	Channels         []string `json:"channels"`
}

func queueMenuOf(t *menuTree, n *menuNode) Menu {
	return Menu{ID: n.ID, Name: n.Name, ParentID: n.ParentID, Position: n.Position, Hidden: "false", MenuType: n.Type, OutputMsg: n.OutputMsg,
		MaterializedPath: t.namePath(n.ID), Lang: n.langOf(), Channels: queueMenuChannels(n)}
}

func (a *API) menuRoutes() []route {
	var out []route
	for _, base := range []string{"/menu", "/menus"} {
		alias := ""
		if base == "/menus" {
			alias = " (alias of /menu)"
		}
		out = append(out,
			rawHandler(route{Method: "GET", Path: base, Summary: "List the menus" + alias, Scope: switchboard.ScopeRoutingRead,
				Doc: "Every node of the menu tree depth-first from the roots (queue q is menu 2q, IVR menu m is menu 2m+1), " +
					"paged with page and per.",
				Query: []param{{"lang", "string", "only menus serving this language"},
					{"menu_type", "string", "ivr_menu, mobile_menu or web_menu"},
					{"page", "integer", "1-based"}, {"per", "integer", "at most 100"}}},
				nil, reflect.TypeFor[[]Menu](), a.listMenus),
			handler(route{Method: "GET", Path: base + "/{id}", Summary: "Get a menu" + alias, Scope: switchboard.ScopeRoutingRead},
				func(ctx context.Context, c *call, _ *noBody) (Menu, error) {
					id, err := pathID(c, "id")
					if err != nil {
						return Menu{}, err
					}
					tree, err := loadMenus(ctx, a.opt.Store, c.tenantID())
					if err != nil {
						return Menu{}, err
					}
					n := tree.node(id)
					if n == nil {
						return Menu{}, notFound()
					}
					return queueMenuOf(tree, n), nil
				}))
	}
	return out
}

func (a *API) listMenus(w http.ResponseWriter, c *call) {
	err := func() error {
		_, page, per, err := pageOptions(c.r)
		if err != nil {
			return err
		}
		mt, err := queueMenuTypeParam(c.r)
		if err != nil {
			return err
		}
		tree, err := loadMenus(c.r.Context(), a.opt.Store, c.tenantID())
		if err != nil {
			return err
		}
		lang := strings.TrimSpace(c.r.URL.Query().Get("lang"))
		if lang != "" {
			if lang, err = tree.checkLang(lang); err != nil {
				return err
			}
		}
		var all []Menu
		for _, n := range tree.all() {
			if (mt == "" || n.Type == mt) && (lang == "" || n.servesLang(lang)) {
				all = append(all, queueMenuOf(tree, n))
			}
		}
		lo := min((page-1)*per, len(all))
		hi := min(lo+per, len(all))
		writeList(c, a.opt.PublicURL, all[lo:hi], len(all), page, per)
		return nil
	}()
	if err != nil {
		a.writeError(w, c.r, err)
	}
}
