package ujet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/callcenter"
	"switchboard/internal/engine"
	"switchboard/internal/httpapi"
	"switchboard/internal/sim"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// qsStart is the virtual time the queue tests run at: Wednesday 25 February
// 2026, 17:30 UTC (12:30 in New York), the date of UJET's example.
var qsStart = time.Date(2026, 2, 25, 17, 30, 0, 0, time.UTC)

// qsWorld is the dialect over HTTP on loopback with a real SQLite store and
// a call center on simulated telephony under a virtual clock, and a tenant
// whose menu tree is
//
//	Main (IVR menu)            menu 2m+1
//	├── 1 → Support (voice)    two agents, Ann and Bob
//	└── 2 → Laptop (mobile)    Cat; New York hours, 15-minute callback slots of 1
//	Web Chat (chat queue)      Cat
//	Soporte (voice, es)        nobody; callers may not join empty
type qsWorld struct {
	t                                 testing.TB
	db                                *sqlstore.DB
	srv                               *httptest.Server
	clock                             *engine.VirtualClock
	drv                               *sim.Driver
	calls                             *callcenter.Service
	tenant                            switchboard.Tenant
	key                               string
	ivr                               switchboard.IVRMenu
	support, laptop, webChat, soporte switchboard.Queue
	ann, bob, cat                     switchboard.User
	number                            string
}

func newQSWorld(t testing.TB) *qsWorld {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	w := &qsWorld{t: t, clock: engine.NewVirtualClock(qsStart), number: "+18885550100"}
	w.db = sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{Logger: log})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	w.tenant, err = w.db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	must(err)
	tid := w.tenant.ID
	w.support, err = w.db.CreateQueue(ctx, tid, switchboard.Queue{Name: "Support", JoinEmpty: true, Language: "en"})
	must(err)
	w.laptop, err = w.db.CreateQueue(ctx, tid, switchboard.Queue{Name: "Laptop", JoinEmpty: true, MenuType: menuMobile,
		Language: "en", CallbackSlotMinutes: 15, CallbackSlotCapacity: 1,
		Hours: &switchboard.OperatingHours{TimeZone: "America/New_York",
			Weekly:   []switchboard.OpenRange{{Day: 3, Open: "09:00", Close: "13:15"}, {Day: 4, Open: "09:00", Close: "17:00"}},
			Holidays: []switchboard.Holiday{{Date: "2026-12-25", Name: "Christmas"}, {Date: "2026-12-24", Name: "Eve", Open: "09:00", Close: "12:00"}}}})
	must(err)
	w.webChat, err = w.db.CreateQueue(ctx, tid, switchboard.Queue{Name: "Web Chat", Channel: switchboard.ChannelChat, JoinEmpty: true})
	must(err)
	w.soporte, err = w.db.CreateQueue(ctx, tid, switchboard.Queue{Name: "Soporte", Language: "es"})
	must(err)
	w.ivr, err = w.db.CreateIVRMenu(ctx, tid, switchboard.IVRMenu{Name: "Main", Prompt: "welcome", Options: []switchboard.IVROption{
		{Digit: "1", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &w.support.ID}},
		{Digit: "2", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &w.laptop.ID}}}})
	must(err)
	mk := func(first, ext string, queues ...int64) switchboard.User {
		u, err := w.db.CreateUser(ctx, tid, switchboard.User{Email: strings.ToLower(first) + "@acme.test", FirstName: first, Extension: ext})
		must(err)
		for _, q := range queues {
			_, err := w.db.AddQueueMember(ctx, tid, switchboard.QueueMember{QueueID: q, UserID: u.ID})
			must(err)
		}
		_, err = w.db.SetPresence(ctx, tid, u.ID, switchboard.StatusAvailable, false)
		must(err)
		return u
	}
	w.ann = mk("Ann", "101", w.support.ID)
	w.bob = mk("Bob", "102", w.support.ID)
	w.cat = mk("Cat", "103", w.laptop.ID, w.webChat.ID)
	_, err = w.db.CreatePhoneNumber(ctx, tid, switchboard.PhoneNumber{Number: w.number, QueueID: &w.support.ID})
	must(err)
	k, err := w.db.CreateAPIKey(ctx, tid, switchboard.APIKey{Name: "routing", Scopes: []string{switchboard.ScopeRoutingRead}})
	must(err)
	w.key = k.Secret

	w.drv = sim.New(w.clock)
	w.calls = callcenter.New(callcenter.Options{Store: w.db, Driver: w.drv, Clock: w.clock, IDBlock: 64,
		Router: engine.NewRouter(rand.New(rand.NewPCG(7, 11))), Log: log})
	w.drv.SetEngine(w.calls.Engine())
	must(w.calls.Start(ctx, time.Time{}))
	t.Cleanup(func() { w.calls.Close(context.Background()) })
	api := New(Options{Store: w.db, Auth: httpapi.NewAuthenticator(w.db, time.Minute, log), Calls: w.calls, Log: log,
		Now: w.clock.Now, PublicURL: "https://acme.example.com"})
	w.srv = httptest.NewServer(api)
	t.Cleanup(w.srv.Close)
	return w
}

// get sends GET path with the tenant's Basic credential and decodes the
// answer into out (when not nil); it returns the status, headers and body.
func (w *qsWorld) get(path string, out any) (int, http.Header, []byte) {
	w.t.Helper()
	req, err := http.NewRequest("GET", w.srv.URL+"/apps/api/v1"+path, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	req.SetBasicAuth(w.tenant.Slug, w.key)
	res, err := w.srv.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	if out != nil && res.StatusCode == 200 {
		// Decoding into a used value would keep keys the answer lacks.
		reflect.ValueOf(out).Elem().SetZero()
		if err := json.Unmarshal(body, out); err != nil {
			w.t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return res.StatusCode, res.Header, body
}

// refused checks that GET path is a 400 (or status) {"message": text}.
func (w *qsWorld) refused(path string, status int, text string) {
	w.t.Helper()
	got, _, body := w.get(path, nil)
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil || got != status || e["message"] != text || len(e) != 1 {
		w.t.Fatalf("GET %s: %d %s, want %d {\"message\":%q}", path, got, body, status, text)
	}
}

// qsSameShape checks that got has exactly the keys of example and that each
// value has the example's JSON type (number, string, bool, array, object,
// null).
func qsSameShape(t *testing.T, what string, got, example map[string]any) {
	t.Helper()
	for k, v := range example {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s lacks %q", what, k)
			continue
		}
		if reflect.TypeOf(g) != reflect.TypeOf(v) {
			t.Errorf("%s: %q is %T, the example has %T", what, k, g, v)
		}
	}
	for k := range got {
		if _, ok := example[k]; !ok {
			t.Errorf("%s has %q, which the example lacks", what, k)
		}
	}
}

func qsObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func qsByMenu[T any](items []T, id func(T) int64) map[int64]T {
	out := map[int64]T{}
	for _, it := range items {
		out[id(it)] = it
	}
	return out
}

func qsWaitID(w WaitTime) int64 { return w.MenuID }

// TestQueuesWaitTimes checks GET /wait_times against live engine state: the
// waits per channel the menus take, the agent counts as callers arrive, the
// subtree, type, channel and wait filters, and the refusals.
func TestQueuesWaitTimes(t *testing.T) {
	w := newQSWorld(t)
	sup, lap, chat, es := queueMenuID(w.support.ID), queueMenuID(w.laptop.ID), queueMenuID(w.webChat.ID), queueMenuID(w.soporte.ID)

	var got []WaitTime
	if st, _, body := w.get("/wait_times?lang=en", &got); st != 200 {
		t.Fatalf("%d %s", st, body)
	}
	m := qsByMenu(got, qsWaitID)
	if len(got) != 3 || m[es].MenuID != 0 {
		t.Fatalf("wait times for en: %+v (Soporte serves es)", got)
	}
	s := m[sup]
	if s.VoiceCall == nil || *s.VoiceCall != 0 || s.Chat != nil || s.MenuType != menuIVR || s.MaterializedPath != "Main / Support" ||
		s.LoggedInAgents != 2 || s.AvailableAgents != 2 || s.BreakthroughAgents != 0 {
		t.Fatalf("Support idle: %+v", s)
	}
	if c := m[chat]; c.Chat == nil || *c.Chat != 0 || c.VoiceCall != nil || c.MenuType != menuWeb || c.MaterializedPath != "Web Chat" ||
		c.LoggedInAgents != 1 || c.AvailableAgents != 1 {
		t.Fatalf("Web Chat: %+v", c)
	}
	if l := m[lap]; l.Chat == nil || l.VoiceCall == nil || l.MenuType != menuMobile || l.MaterializedPath != "Main / Laptop" {
		t.Fatalf("Laptop (a mobile menu takes calls and chats): %+v", l)
	}

	// The shape of UJET's example, key by key and type by type.
	_, _, body := w.get(fmt.Sprintf("/wait_times?lang=en&menu_id=%d", lap), nil)
	var raw []map[string]any
	if err := json.Unmarshal(body, &raw); err != nil || len(raw) != 1 {
		t.Fatalf("Laptop subtree: %s", body)
	}
	qsSameShape(t, "wait time", raw[0], qsObject(t, `{"menu_id":29,"menu_type":"mobile_menu","chat":10,"voice_call":10,
		"materialized_path":"Laptop","logged_in_agents":3,"available_agents":2,"breakthrough_agents":1}`))

	// Three callers for two agents who talk for ten minutes: both agents
	// are on a call and one caller waits.
	for i := range 3 {
		if _, _, err := w.drv.Call(fmt.Sprintf("+1555000100%d", i), w.number, sim.Script{Talk: 10 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(5 * time.Second)
	}
	w.clock.Advance(10 * time.Second)
	live, _ := w.calls.QueueLive(context.Background(), w.tenant.ID, w.support.ID)
	if live.AgentsOnCall != 2 || live.CallsWaiting != 1 {
		t.Fatalf("engine: %+v", live)
	}
	w.get("/wait_times?lang=en&channel_type=voice_call", &got)
	s = qsByMenu(got, qsWaitID)[sup]
	if s.VoiceCall == nil || *s.VoiceCall != int(live.EstimatedWait+0.5) || *s.VoiceCall <= 0 || s.AvailableAgents != 0 ||
		s.LoggedInAgents != 2 || s.BreakthroughAgents != 0 {
		t.Fatalf("Support busy: %+v, engine %+v", s, live)
	}
	// A queue that rings agents in use counts its busy agents as breakthrough.
	if _, err := w.db.UpdateQueueFunc(context.Background(), w.tenant.ID, w.support.ID, func(q *switchboard.Queue) error {
		q.RingInUse = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w.get("/wait_times?lang=en", &got)
	if s = qsByMenu(got, qsWaitID)[sup]; s.BreakthroughAgents != 2 {
		t.Fatalf("Support ringing agents in use: %+v", s)
	}

	// Filters.
	ids := func(path string) []int64 {
		t.Helper()
		var got []WaitTime
		if st, _, body := w.get(path, &got); st != 200 {
			t.Fatalf("GET %s: %d %s", path, st, body)
		}
		var out []int64
		for _, g := range got {
			out = append(out, g.MenuID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(v ...int64) []int64 { slices.Sort(v); return v }
	for path, want := range map[string][]int64{
		fmt.Sprintf("/wait_times?lang=en&menu_id=%d", ivrMenuID(w.ivr.ID)): sorted(sup, lap),
		"/wait_times?lang=en&menu_type=mobile_menu":                        {lap},
		"/wait_times?lang=en&menu_type=web_menu":                           {chat},
		"/wait_times?lang=en&channel_type=chat":                            sorted(lap, chat),
		"/wait_times?lang=en&wait[from]=1":                                 {sup},
		"/wait_times?lang=en&wait[to]=1":                                   sorted(lap, chat),
		"/wait_times?lang=es":                                              {es},
	} {
		if got := ids(path); !slices.Equal(got, want) {
			t.Errorf("GET %s: menus %v, want %v", path, got, want)
		}
	}
	w.get("/wait_times?lang=en&channel_type=chat", &got)
	if l := qsByMenu(got, qsWaitID)[lap]; l.VoiceCall != nil || l.Chat == nil {
		t.Fatalf("channel_type=chat shows only the chat wait: %+v", l)
	}
	// Nobody is signed in to Soporte: the wait has no bound.
	w.get("/wait_times?lang=es", &got)
	if len(got) != 1 || *got[0].VoiceCall != ewtCeiling || got[0].LoggedInAgents != 0 {
		t.Fatalf("Soporte: %+v", got)
	}

	w.refused("/wait_times", 400, "param is missing or the value is empty: lang")
	w.refused("/wait_times?lang=xx-zz-qq", 400, "Language 'xx-zz-qq' is not found")
	w.refused("/wait_times?lang=fr", 400, "Language 'fr' is not available")
	w.refused("/wait_times?lang=en&menu_type=sms_menu", 400, "menu_type 'sms_menu' is not valid: use ivr_menu, mobile_menu or web_menu")
	w.refused("/wait_times?lang=en&channel_type=fax", 400, "channel_type 'fax' is not valid: use voice_call or chat")
	w.refused("/wait_times?lang=en&menu_id=9999", 400, "menu_id 9999 is not found")
	w.refused("/wait_times?lang=en&menu_id=abc", 400, "menu_id must be an integer")
	w.refused("/wait_times?lang=en&wait[from]=-3", 400, "wait[from] must be a positive integer")
}

// TestQueuesOperationStatus checks after_hour against the queue's hours and
// overcapacity against what call control would refuse now.
func TestQueuesOperationStatus(t *testing.T) {
	w := newQSWorld(t)
	sup, lap, es := queueMenuID(w.support.ID), queueMenuID(w.laptop.ID), queueMenuID(w.soporte.ID)
	status := func(menu int64, lang, ch string) OperationStatus {
		t.Helper()
		var out OperationStatus
		path := fmt.Sprintf("/queue_operation_statuses?menu_id=%d&lang=%s&channel_type=%s", menu, lang, ch)
		if st, _, body := w.get(path, &out); st != 200 {
			t.Fatalf("GET %s: %d %s", path, st, body)
		}
		return out
	}
	_, _, body := w.get(fmt.Sprintf("/queue_operation_statuses?menu_id=%d&lang=en&channel_type=call", sup), nil)
	example := qsObject(t, `{"menu_id":1,"lang":"en","channel_type":"call","after_hour":false,"overcapacity":true}`)
	example["after_hours"] = false // the prose's name of after_hour, emitted alongside
	qsSameShape(t, "operation status", qsObject(t, string(body)), example)

	if s := status(sup, "en", "call"); s.MenuID != sup || s.Lang != "en" || s.ChannelType != "call" || s.AfterHour || s.AfterHours || s.Overcapacity {
		t.Fatalf("Support: %+v", s)
	}
	// Wednesday 12:30 in New York: Laptop is open until 13:15.
	if s := status(lap, "en", "chat"); s.AfterHour || s.Overcapacity {
		t.Fatalf("Laptop at 12:30: %+v", s)
	}
	w.clock.Advance(50 * time.Minute) // 13:20
	if s := status(lap, "en", "call"); !s.AfterHour || !s.AfterHours {
		t.Fatalf("Laptop at 13:20: %+v", s)
	}
	// The IVR menu is after hours only when every queue under it is.
	if s := status(ivrMenuID(w.ivr.ID), "en", "call"); s.AfterHour {
		t.Fatalf("Main with Support open: %+v", s)
	}
	// Nobody is signed in to Soporte, which callers may not join empty.
	if s := status(es, "es", "call"); s.AfterHour || !s.Overcapacity {
		t.Fatalf("Soporte: %+v", s)
	}
	// Support full: max_length callers wait.
	if _, err := w.db.UpdateQueueFunc(context.Background(), w.tenant.ID, w.support.ID, func(q *switchboard.Queue) error {
		q.MaxLength = 1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, _, err := w.drv.Call(fmt.Sprintf("+1555000200%d", i), w.number, sim.Script{Talk: 10 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(5 * time.Second)
	}
	if s := status(sup, "en", "call"); !s.Overcapacity {
		live, _ := w.calls.QueueLive(context.Background(), w.tenant.ID, w.support.ID)
		t.Fatalf("Support with its one place taken: %+v (engine %+v)", s, live)
	}
	if s := status(sup, "en", "chat"); s.Overcapacity {
		t.Fatalf("no chat waits in Support: %+v", s)
	}

	w.refused("/queue_operation_statuses?lang=en&channel_type=call", 400, "param is missing or the value is empty: menu_id")
	w.refused(fmt.Sprintf("/queue_operation_statuses?menu_id=%d&channel_type=call", sup), 400, "param is missing or the value is empty: lang")
	w.refused(fmt.Sprintf("/queue_operation_statuses?menu_id=%d&lang=en", sup), 400, "param is missing or the value is empty: channel_type")
	w.refused(fmt.Sprintf("/queue_operation_statuses?menu_id=%d&lang=en&channel_type=sms", sup), 400, "channel_type 'sms' is not valid: use call or chat")
	w.refused("/queue_operation_statuses?menu_id=9999&lang=en&channel_type=call", 400, "menu_id 9999 is not found")
	w.refused(fmt.Sprintf("/queue_operation_statuses?menu_id=%d&lang=de&channel_type=call", sup), 400, "Language 'de' is not available")
}

// TestQueuesStatus checks GET /queues/status: leaf queues only, the callback
// periods in the queue's zone while it is open with the callbacks scheduled
// through the call service, the hours and holidays, and the refusals.
func TestQueuesStatus(t *testing.T) {
	w := newQSWorld(t)
	ctx := context.Background()
	lap := queueMenuID(w.laptop.ID)
	// 13:00 New York is 18:00 UTC: the 13:00-13:15 period takes its one slot.
	if _, err := w.calls.Schedule(ctx, w.tenant.ID, switchboard.ScheduleRequest{QueueID: w.laptop.ID, PhoneNumber: "+15550003000",
		At: qsStart.Add(35 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	_, err := w.calls.Schedule(ctx, w.tenant.ID, switchboard.ScheduleRequest{QueueID: w.laptop.ID, PhoneNumber: "+15550003001",
		At: qsStart.Add(40 * time.Minute)})
	if switchboard.ErrorCode(err) != switchboard.CodeInvalid {
		t.Fatalf("a second callback into a period of one slot: %v", err)
	}

	var got QueueStatusList
	path := fmt.Sprintf("/queues/status?lang=en&menu_id[]=%d&callback_period_hours=1", ivrMenuID(w.ivr.ID))
	st, _, body := w.get(path, &got)
	if st != 200 || len(got.Queues) != 2 {
		t.Fatalf("GET %s: %d %s", path, st, body)
	}
	q := qsByMenu(got.Queues, func(s QueueStatus) int64 { return s.MenuID })[lap]
	want := []CallbackPeriod{ // open until 13:15
		{Date: "20260225", StartTime: "12:30", EndTime: "12:45", ScheduledCalls: 0, MaxSlots: 1},
		{Date: "20260225", StartTime: "12:45", EndTime: "13:00", ScheduledCalls: 0, MaxSlots: 1},
		{Date: "20260225", StartTime: "13:00", EndTime: "13:15", ScheduledCalls: 1, MaxSlots: 1},
	}
	if !reflect.DeepEqual(q.CallbackPeriods, want) {
		t.Fatalf("Laptop's periods %+v, want %+v", q.CallbackPeriods, want)
	}
	if q.MenuType != menuMobile || q.Lang != "en" || q.MaterializedPath != "Main / Laptop" || q.LoggedInAgents != 1 ||
		q.CurrentQueueEWT != 0 || q.ScheduledCallbackEWT != 0 || q.AfterHour || q.AlwaysOpen || q.TimeZone != "America/New_York" {
		t.Fatalf("Laptop: %+v", q)
	}
	wantHours := []QueueOpenPeriod{{Day: "wednesday", StartTime: "09:00", EndTime: "13:15"}, {Day: "thursday", StartTime: "09:00", EndTime: "17:00"}}
	wantHolidays := []QueueHoliday{{Date: "20261225", Name: "Christmas", Closed: true}, {Date: "20261224", Name: "Eve", StartTime: "09:00", EndTime: "12:00"}}
	if !reflect.DeepEqual(q.HoursOfOperation, wantHours) || !reflect.DeepEqual(q.Holidays, wantHolidays) {
		t.Fatalf("Laptop's hours %+v, holidays %+v", q.HoursOfOperation, q.Holidays)
	}

	// The example's keys and types, plus the hours this dialect adds.
	var raw struct {
		Queues []map[string]any `json:"queues"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	example := qsObject(t, `{"menu_id":2,"menu_type":"ivr_menu","lang":"en","materialized_path":"IVR Support","current_queue_ewt":18000,
		"scheduled_callback_ewt":0,"logged_in_agents":0,"available_agents":0,"breakthrough_agents":0,
		"callback_periods":[{"date":"20260225","start_time":"17:30","end_time":"17:45","scheduled_calls":0,"max_slots":1}],
		"after_hour":false,"always_open":false,"time_zone":"America/New_York","hours_of_operation":[],"holidays":[]}`)
	for _, r := range raw.Queues {
		qsSameShape(t, "queue status", r, example)
		if r["menu_id"] == float64(lap) {
			qsSameShape(t, "callback period", r["callback_periods"].([]any)[0].(map[string]any),
				example["callback_periods"].([]any)[0].(map[string]any))
		}
	}

	// Leaf queues only, of the whole tree when no menu is named; Soporte
	// serves es.
	w.get("/queues/status?lang=en", &got)
	var menus []int64
	for _, s := range got.Queues {
		menus = append(menus, s.MenuID)
	}
	slices.Sort(menus)
	wantMenus := []int64{queueMenuID(w.support.ID), lap, queueMenuID(w.webChat.ID)}
	slices.Sort(wantMenus)
	if !slices.Equal(menus, wantMenus) {
		t.Fatalf("leaf queues %v, want %v", menus, wantMenus)
	}
	// Support has no hours: always open, periods over the whole window.
	s := qsByMenu(got.Queues, func(s QueueStatus) int64 { return s.MenuID })[queueMenuID(w.support.ID)]
	if !s.AlwaysOpen || s.TimeZone != "UTC" || len(s.CallbackPeriods) != 16 || s.CallbackPeriods[0].StartTime != "17:30" ||
		s.CallbackPeriods[0].MaxSlots != 0 || s.LoggedInAgents != 2 || s.AvailableAgents != 2 {
		t.Fatalf("Support over four hours: %+v", s)
	}

	// Starting later: the first period is the one holding the start; the
	// full 13:00 period makes the callback wait until 13:15, when Laptop is
	// closed, so no period shown has room.
	from := qsStart.Add(31 * time.Minute).Format(time.RFC3339)
	w.get(fmt.Sprintf("/queues/status?lang=en&menu_id=%d&callback_period_hours=1&callback_start_from=%s", lap, from), &got)
	if len(got.Queues) != 1 || len(got.Queues[0].CallbackPeriods) != 1 || got.Queues[0].CallbackPeriods[0].StartTime != "13:00" ||
		got.Queues[0].ScheduledCallbackEWT != ewtCeiling {
		t.Fatalf("from 13:01: %+v", got.Queues)
	}
	// The seed's "Queue Status" item names menu_id, lang and channel_type
	// (call or chat): a queue that does not take the channel is left out.
	w.get(fmt.Sprintf("/queues/status?menu_id=%d&lang=en&channel_type=chat", lap), &got)
	if len(got.Queues) != 1 || got.Queues[0].MenuID != lap || got.Queues[0].AvailableAgents != 1 {
		t.Fatalf("Laptop for chat: %+v", got.Queues)
	}
	w.get(fmt.Sprintf("/queues/status?menu_id=%d&lang=en&channel_type=chat", queueMenuID(w.support.ID)), &got)
	if len(got.Queues) != 0 {
		t.Fatalf("Support takes no chats: %+v", got.Queues)
	}

	// After hours.
	w.clock.Advance(2 * time.Hour)
	w.get(fmt.Sprintf("/queues/status?lang=en&menu_id=%d", lap), &got)
	if !got.Queues[0].AfterHour || len(got.Queues[0].CallbackPeriods) != 0 {
		t.Fatalf("Laptop at 14:30: %+v", got.Queues[0])
	}

	w.refused("/queues/status", 400, "param is missing or the value is empty: lang")
	w.refused("/queues/status?lang=en&callback_period_hours=9", 400, "callback_period_hours must be an integer from 1 to 8")
	w.refused("/queues/status?lang=en&callback_period_hours=0", 400, "callback_period_hours must be an integer from 1 to 8")
	w.refused("/queues/status?lang=en&callback_start_from="+w.clock.Now().Add(25*time.Hour).Format(time.RFC3339), 400,
		"callback_start_from must be within the next 24 hours")
	w.refused("/queues/status?lang=en&callback_start_from=tomorrow", 400,
		"callback_start_from is not a valid time (ISO 8601, e.g. 2026-02-25T17:30:00.000Z)")
	w.refused("/queues/status?lang=en&menu_id[]=9999", 400, "menu_id 9999 is not found")
	w.refused("/queues/status?lang=en&menu_type=voice", 400, "menu_type 'voice' is not valid: use ivr_menu, mobile_menu or web_menu")
}

// TestQueuesMenus checks GET /menu and /menu/{id} (and the /menus aliases):
// the nodes in tree order with UJET's ids, parents and positions, paging
// headers, filters, and Not Found.
func TestQueuesMenus(t *testing.T) {
	w := newQSWorld(t)
	main := ivrMenuID(w.ivr.ID)
	for _, base := range []string{"/menu", "/menus"} {
		var got []Menu
		st, h, body := w.get(base, &got)
		if st != 200 || h.Get("Total") != "5" || h.Get("Per-Page") != "100" {
			t.Fatalf("GET %s: %d %v %s", base, st, h, body)
		}
		var order []int64
		for _, m := range got {
			order = append(order, m.ID)
		}
		// Depth-first: the IVR menu's options follow it in digit order.
		i := slices.Index(order, main)
		if i < 0 || i+2 >= len(order) || order[i+1] != queueMenuID(w.support.ID) || order[i+2] != queueMenuID(w.laptop.ID) {
			t.Fatalf("%s order %v", base, order)
		}
		m := qsByMenu(got, func(m Menu) int64 { return m.ID })
		if l := m[queueMenuID(w.laptop.ID)]; l.ParentID == nil || *l.ParentID != main || l.Position != 2 || l.MenuType != menuMobile ||
			l.MaterializedPath != "Main / Laptop" || l.Lang != "en" || !slices.Equal(l.Channels, []string{wtVoice, wtChat}) ||
			l.OutputMsg != "You selected Laptop." || l.Deleted || l.Hidden != "false" {
			t.Fatalf("Laptop: %+v", l)
		}
		if r := m[main]; r.ParentID != nil || r.MenuType != menuIVR || r.OutputMsg != "welcome" || r.Name != "Main" {
			t.Fatalf("Main: %+v", r)
		}
		var raw []map[string]any
		json.Unmarshal(body, &raw)
		qsSameShape(t, "menu", raw[0], qsObject(t, `{"id":1,"name":"Lock Star","parent_id":null,"position":1,"deleted":false,
			"hidden":"false","menu_type":"ivr_menu","output_msg":"You selected Lock Star.","materialized_path":"Lock Star",
			"lang":"en","channels":["voice_call"]}`))

		// Pages of two: Link names the next and last pages.
		st, h, _ = w.get(base+"?per=2&page=2", &got)
		if st != 200 || len(got) != 2 || h.Get("Total") != "5" || !strings.Contains(h.Get("Link"), `page=3&per=2>; rel="next"`) ||
			!strings.Contains(h.Get("Link"), `<https://acme.example.com/apps/api/v1`+base+`?page=1&per=2>; rel="first"`) {
			t.Fatalf("page 2: %v %+v", h, got)
		}
		w.get(base+"?menu_type=web_menu", &got)
		if len(got) != 1 || got[0].ID != queueMenuID(w.webChat.ID) || !slices.Equal(got[0].Channels, []string{wtChat}) {
			t.Fatalf("web menus: %+v", got)
		}
		w.get(base+"?lang=es", &got)
		if len(got) != 1 || got[0].ID != queueMenuID(w.soporte.ID) {
			t.Fatalf("Spanish menus: %+v", got)
		}

		var one Menu
		if st, _, body := w.get(fmt.Sprintf("%s/%d", base, queueMenuID(w.support.ID)), &one); st != 200 || one.Name != "Support" ||
			one.ParentID == nil || *one.ParentID != main || one.Position != 1 {
			t.Fatalf("GET one: %d %s", st, body)
		}
		w.refused(base+"/9999", 404, "Not Found")
		w.refused(base+"/abc", 404, "Not Found")
		w.refused(base+"?lang=fr", 400, "Language 'fr' is not available")
	}
}

// TestQueuesOpenAPI checks that the dialect's document describes these
// routes with their parameters and answers.
func TestQueuesOpenAPI(t *testing.T) {
	w := newQSWorld(t)
	res, err := http.Get(w.srv.URL + "/apps/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
			} `json:"parameters"`
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for path, params := range map[string][]string{
		"/wait_times":               {"lang", "menu_id", "menu_type", "channel_type", "wait[from]", "wait[to]"},
		"/queue_operation_statuses": {"menu_id", "lang", "channel_type"},
		"/queues/status":            {"lang", "menu_id[]", "menu_type", "callback_period_hours", "callback_start_from"},
		"/menu":                     {"page", "per"},
		"/menus":                    {"page", "per"},
		"/menu/{id}":                nil,
		"/menus/{id}":               nil,
	} {
		op, ok := doc.Paths["/apps/api/v1"+path]["get"]
		if !ok || op.Responses["200"] == nil {
			t.Errorf("the document lacks GET %s (or its 200)", path)
			continue
		}
		var names []string
		for _, p := range op.Parameters {
			names = append(names, p.Name)
		}
		for _, p := range params {
			if !slices.Contains(names, p) {
				t.Errorf("GET %s documents %v, lacking %s", path, names, p)
			}
		}
	}
}
