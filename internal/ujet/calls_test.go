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
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"switchboard"
	"switchboard/internal/callcenter"
	"switchboard/internal/engine"
	"switchboard/internal/golden"
	"switchboard/internal/httpapi"
	"switchboard/internal/sim"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// callsRig is the calls routes over HTTP on loopback, with a real SQLite
// store and a call center on the simulated driver under a virtual clock
// (which is also the dialect's clock), a tenant with an agent, queues of
// each menu type and a number, and a second tenant.
type callsRig struct {
	t      *testing.T
	db     *sqlstore.DB
	srv    *httptest.Server
	clock  *engine.VirtualClock
	calls  *callcenter.Service
	tenant switchboard.Tenant
	other  switchboard.Tenant
	key    string // a * key of tenant
	// readKey holds calls.read only.
	readKey  string
	otherKey string
	agent    switchboard.User
	// voice is an IVR-type queue, mobile a mobile-menu queue, web a
	// web-menu one, closed a voice queue whose hours never open.
	voice, mobile, web, closed switchboard.Queue
	// spanish is a voice queue serving Spanish alone.
	spanish switchboard.Queue
	ivr     switchboard.IVRMenu
	number  string
}

// callsEngines runs test on a rig over each engine: SQLite always,
// PostgreSQL when sqlstoretest.PostgresEnv is set.
func callsEngines(t *testing.T, test func(t *testing.T, r *callsRig)) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) { test(t, newCallsRig(t, mk(t))) })
	}
}

func newCallsRig(t *testing.T, dbURL string) *callsRig {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	r := &callsRig{t: t, number: "+18885658889", clock: engine.NewVirtualClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))}
	r.db = sqlstoretest.Open(t, dbURL, sqlstore.Options{Logger: log})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	r.tenant, err = r.db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	must(err)
	r.other, err = r.db.CreateTenant(ctx, switchboard.Tenant{Slug: "other", Name: "Other"})
	must(err)
	tid := r.tenant.ID
	r.voice, err = r.db.CreateQueue(ctx, tid, switchboard.Queue{Name: "Support", Extension: "700", JoinEmpty: true, Language: "en"})
	must(err)
	r.mobile, err = r.db.CreateQueue(ctx, tid, switchboard.Queue{Name: "App", JoinEmpty: true, MenuType: menuMobile, Language: "en"})
	must(err)
	r.web, err = r.db.CreateQueue(ctx, tid, switchboard.Queue{Name: "Web", JoinEmpty: true, MenuType: menuWeb, Language: "en"})
	must(err)
	r.closed, err = r.db.CreateQueue(ctx, tid, switchboard.Queue{Name: "Night", JoinEmpty: true, Language: "en",
		Hours: &switchboard.OperatingHours{TimeZone: "UTC", Holidays: []switchboard.Holiday{{Date: "2026-11-27", Name: "Closed"}}}})
	must(err)
	r.spanish, err = r.db.CreateQueue(ctx, tid, switchboard.Queue{Name: "Soporte", JoinEmpty: true, Language: "es"})
	must(err)
	r.ivr, err = r.db.CreateIVRMenu(ctx, tid, switchboard.IVRMenu{Name: "Main", Prompt: "main-menu",
		Options: []switchboard.IVROption{{Digit: "1", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &r.voice.ID}}}})
	must(err)
	r.agent, err = r.db.CreateUser(ctx, tid, switchboard.User{Email: "ann@example.com", FirstName: "Ann", LastName: "Agent",
		Extension: "101", AgentNumber: "A-7", OutboundNumber: r.number})
	must(err)
	for _, q := range []int64{r.voice.ID, r.mobile.ID, r.web.ID} {
		_, err = r.db.AddQueueMember(ctx, tid, switchboard.QueueMember{QueueID: q, UserID: r.agent.ID})
		must(err)
	}
	_, err = r.db.CreatePhoneNumber(ctx, tid, switchboard.PhoneNumber{Number: r.number, QueueID: &r.voice.ID})
	must(err)
	k, err := r.db.CreateAPIKey(ctx, tid, switchboard.APIKey{Name: "all", Scopes: []string{switchboard.ScopeAll}})
	must(err)
	r.key = k.Secret
	k, err = r.db.CreateAPIKey(ctx, tid, switchboard.APIKey{Name: "read", Scopes: []string{switchboard.ScopeCallsRead}})
	must(err)
	r.readKey = k.Secret
	k, err = r.db.CreateAPIKey(ctx, r.other.ID, switchboard.APIKey{Name: "other", Scopes: []string{switchboard.ScopeAll}})
	must(err)
	r.otherKey = k.Secret

	drv := sim.New(r.clock)
	r.calls = callcenter.New(callcenter.Options{Store: r.db, Driver: drv, Clock: r.clock, IDBlock: 64,
		Router: engine.NewRouter(rand.New(rand.NewPCG(7, 11))), Log: log})
	drv.SetEngine(r.calls.Engine())
	must(r.calls.Start(ctx, time.Time{}))
	t.Cleanup(func() { r.calls.Close(context.Background()) })
	api := New(Options{Store: r.db, Auth: httpapi.NewAuthenticator(r.db, time.Minute, log), Calls: r.calls, Log: log,
		PublicURL: "https://acme.example.com", Now: r.clock.Now})
	r.srv = httptest.NewServer(api)
	t.Cleanup(r.srv.Close)
	return r
}

// do sends method path with body (a string sent as is, else JSON) with
// HTTP Basic slug:key and returns the status, headers and body.
func (r *callsRig) do(method, path, key string, body any) (int, http.Header, []byte) {
	r.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = strings.NewReader(string(raw))
	}
	req, err := http.NewRequest(method, r.srv.URL+"/apps/api/v1"+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	slug := r.tenant.Slug
	if key == r.otherKey {
		slug = r.other.Slug
	}
	req.SetBasicAuth(slug, key)
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

// expect sends the request and fails unless the status is status and, when
// want is not "", the body is {"message": want}.
func (r *callsRig) expect(method, path string, body any, status int, want string) []byte {
	r.t.Helper()
	got, _, out := r.do(method, path, r.key, body)
	if got != status {
		r.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, status, out)
	}
	if want != "" {
		var m ErrorBody
		if err := json.Unmarshal(out, &m); err != nil || m.Message != want {
			r.t.Fatalf("%s %s: body %s, want message %q", method, path, out, want)
		}
	}
	return out
}

// available signs the agent in as Available.
func (r *callsRig) available() {
	r.t.Helper()
	if _, err := r.db.SetPresence(context.Background(), r.tenant.ID, r.agent.ID, switchboard.StatusAvailable, false); err != nil {
		r.t.Fatal(err)
	}
}

// seedCallObject is the call object of seed 004 ("Calls Endpoints 8"),
// verbatim: the golden every rendered call is compared with.
const seedCallObject = `{
    "id": 0, "parent_id": 0, "lang": "en", "call_type": "Voice Scheduled (API)", "status": "scheduled",
    "created_at": "2018-06-07T19:49:52.896Z", "queued_at": "2018-06-07T19:49:52.896Z", "assigned_at": "2018-06-07T19:49:52.896Z",
    "connected_at": "2018-06-07T19:49:52.896Z", "ends_at": "2018-06-07T19:49:52.896Z", "scheduled_at": "2018-06-07T19:49:52.896Z",
    "wait_duration": 0, "call_duration": 0, "hold_duration": 0, "rating": 0, "has_feedback": true,
    "voip_provider": "voip_provider_twilio", "out_ticket_id": "string", "out_ticket_url": "string", "verified": true,
    "recording_url": "string", "recording_permission": "not_asked", "voicemail_reason": "not_voicemail",
    "deflection": "no_deflection", "disconnected_by": "disconnected_by_unknown", "fail_details": "string",
    "fail_reason": "nothing", "support_number": "string",
    "selected_menu": {"id": 0, "name": "string", "parent_id": 0, "position": 0, "deleted": true, "hidden": "string",
      "menu_type": "ivr_menu", "output_msg": "string"},
    "menu_path": {"items_count": 0, "name": "string", "materialized_path": "string"},
    "agent_info": {"id": 0, "name": "string", "last_name": "string", "first_name": "string", "agent_number": "string", "avatar_url": "string"},
    "end_user": {"id": 0, "identifier": "string", "out_contact_id": "string"},
    "photos": [{"id": 0, "photo_type": "photo", "url": "string"}],
    "videos": [{"id": 0, "url": "string"}],
    "transfers": [{"id": 0, "status": "transferring", "fail_reason": "nothing", "created_at": "2018-06-07T19:49:52.896Z",
      "from_menu": {"items_count": 0, "name": "string", "materialized_path": "string"},
      "to_menu": {"items_count": 0, "name": "string", "materialized_path": "string"},
      "from_agent": {"id": 0, "name": "string", "last_name": "string", "first_name": "string", "agent_number": "string", "avatar_url": "string"},
      "to_agent": {"id": 0, "name": "string", "last_name": "string", "first_name": "string", "agent_number": "string", "avatar_url": "string"}}],
    "participants": [{"id": 0, "type": "end_user", "status": "waiting", "call_id": 0, "user_id": 0, "end_user_id": 0,
      "call_duration": 0, "hold_duration": 0, "connected_at": "2018-06-07T19:49:52.896Z", "ended_at": "2018-06-07T19:49:52.896Z",
      "fail_reason": "nothing"}]
  }`

// specExtraKeys are the keys spec §3.1 lists beyond the seed's example.
var specExtraKeys = []string{"deflection_details", "offer_type", "offer_events", "answer_type", "outbound_number"}

// nullable are the seed's keys this dialect renders null when the call has
// no such thing (a rating, a CRM ticket URL, an avatar…); every other key
// must have the seed's type exactly.
var nullable = map[string]bool{"rating": true, "out_ticket_url": true, "agent_info.avatar_url": true,
	"transfers[].from_agent.avatar_url": true, "transfers[].to_agent.avatar_url": true, "participants[].user_id": true,
	"participants[].end_user_id": true, "fail_details": true, "parent_id": true, "scheduled_at": true, "recording_url": true,
	"end_user.out_contact_id": true, "selected_menu.parent_id": true, "transfers[].from_agent": true, "transfers[].to_agent": true,
	"transfers[].from_menu": true, "transfers[].to_menu": true, "queued_at": true, "assigned_at": true, "connected_at": true,
	"ends_at": true, "participants[].connected_at": true, "participants[].ended_at": true, "out_ticket_id": true,
	"agent_info": true, "end_user": true, "selected_menu": true, "menu_path": true}

// nullDiff matches Compare's line for a value the answer has as null.
var nullDiff = regexp.MustCompile(`^(.+): \w+ in the example, null in the answer$`)

// checkCallObject compares a rendered call with the seed's: every key of
// the seed, of the seed's JSON type (null only where nullable says), and no
// key beyond the seed's and the spec's. It returns the keys that were null.
func checkCallObject(t *testing.T, got []byte) []string {
	t.Helper()
	var nulls []string
	for _, d := range golden.Compare([]byte(seedCallObject), got, nil, specExtraKeys) {
		if m := nullDiff.FindStringSubmatch(d); m != nil && nullable[m[1]] {
			nulls = append(nulls, m[1])
			continue
		}
		t.Errorf("call object: %s", d)
	}
	var o map[string]json.RawMessage
	if err := json.Unmarshal(got, &o); err != nil {
		t.Fatal(err)
	}
	for _, k := range specExtraKeys {
		if _, ok := o[k]; !ok {
			t.Errorf("call object: %s (spec §3.1) missing", k)
		}
	}
	return nulls
}

// TestCallsObjectShape renders a call with everything (agent, end user,
// ticket, recording, menu, a transfer, custom data) and checks it against
// the seed's call object key by key and type by type; then a bare call,
// whose absent parts are null.
func TestCallsObjectShape(t *testing.T) {
	callsEngines(t, func(t *testing.T, r *callsRig) {
		ctx := context.Background()
		tid := r.tenant.ID
		now := r.clock.Now().UTC()
		at := func(s int) *time.Time { v := now.Add(time.Duration(s) * time.Second); return &v }
		qid := r.voice.ID
		parent, err := r.db.SaveCall(ctx, switchboard.Call{TenantID: tid, Direction: switchboard.Inbound, Status: switchboard.CallFinished,
			From: "+15550002222", To: r.number, QueueID: &qid, AgentID: &r.agent.ID, CreatedAt: now, QueuedAt: at(1), RingingAt: at(5),
			ConnectedAt: at(8), EndedAt: at(68), Hold: 4 * time.Second, Recorded: true, Disposition: switchboard.DispositionAnswered,
			HangupBy: switchboard.SideAgent, HangupCause: causeTransferred}, "created")
		if err != nil {
			t.Fatal(err)
		}
		child, err := r.db.SaveCall(ctx, switchboard.Call{TenantID: tid, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+15550002222", To: r.number, QueueID: &r.mobile.ID, ParentID: &parent.ID, CreatedAt: *at(68), QueuedAt: at(68)}, "created")
		if err != nil {
			t.Fatal(err)
		}
		contact, err := r.db.CreateContact(ctx, tid, switchboard.Contact{FirstName: "Ada", PrimaryPhone: "+15550002222"})
		if err != nil {
			t.Fatal(err)
		}
		eu, err := r.db.UpsertEndUser(ctx, tid, switchboard.EndUser{Identifier: "ada-1", ContactID: &contact.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.db.UpdateCallDataFunc(ctx, tid, parent.ID, func(d *switchboard.CallData) error {
			d.EndUserID, d.TicketID, d.VerifiedCustomer = &eu.ID, "T-1", true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		out := r.expect("GET", fmt.Sprintf("/calls/%d", parent.ID), nil, 200, "")
		nulls := checkCallObject(t, out)
		for _, n := range nulls {
			switch n {
			case "rating", "out_ticket_url", "agent_info.avatar_url", "transfers[].from_agent.avatar_url", "parent_id", "scheduled_at",
				"participants[].user_id", "participants[].end_user_id", "fail_details", "selected_menu.parent_id", "transfers[].to_agent":
			default:
				t.Errorf("a fully populated call has %s null", n)
			}
		}
		var o CallObject
		if err := json.Unmarshal(out, &o); err != nil {
			t.Fatal(err)
		}
		menu := queueMenuID(r.voice.ID)
		if o.ID != parent.ID || o.Status != "finished" || o.CallType != typeInboundIVR || o.WaitDuration != 7 || o.CallDuration != 60 ||
			o.HoldDuration != 4 || o.DisconnectedBy != "disconnected_by_agent" || o.FailReason != "nothing" || !o.Verified ||
			*o.OutTicketID != "T-1" || o.SupportNumber != r.number || o.Lang != "en" || o.VoipProvider != voipProvider ||
			*o.RecordingURL != fmt.Sprintf("https://acme.example.com/apps/api/v1/calls/%d/recording", parent.ID) ||
			o.SelectedMenu.ID != menu || o.SelectedMenu.MenuType != menuIVR || *o.SelectedMenu.ParentID != ivrMenuID(r.ivr.ID) ||
			o.MenuPath.MaterializedPath != fmt.Sprintf("%d/%d", ivrMenuID(r.ivr.ID), menu) || o.MenuPath.ItemsCount != 2 ||
			o.AgentInfo.Name != "Ann Agent" || o.AgentInfo.AgentNumber != "A-7" || o.EndUser.ID != eu.ID || o.EndUser.Identifier != "ada-1" ||
			*o.EndUser.OutContactID != fmt.Sprint(contact.ID) || *o.AssignedAt != millis(*at(5)) || *o.EndsAt != millis(*at(68)) {
			t.Errorf("call object %s", out)
		}
		if len(o.Transfers) != 1 || o.Transfers[0].ID != child.ID || o.Transfers[0].Status != "transferring" ||
			o.Transfers[0].FromAgent.ID != r.agent.ID || o.Transfers[0].ToMenu.MaterializedPath != fmt.Sprint(queueMenuID(r.mobile.ID)) {
			t.Errorf("transfers %+v", o.Transfers)
		}
		if len(o.Participants) != 2 || o.Participants[0].Type != "end_user" || *o.Participants[0].EndUserID != eu.ID ||
			o.Participants[0].Status != "finished" || o.Participants[1].Type != "agent" || *o.Participants[1].UserID != r.agent.ID {
			t.Errorf("participants %+v", o.Participants)
		}
		// The transferred-to call names its parent; a bare call renders its
		// absent parts as null, never as a wrong type.
		out = r.expect("GET", fmt.Sprintf("/calls/%d", child.ID), nil, 200, "")
		checkCallObject(t, out)
		if err := json.Unmarshal(out, &o); err != nil || *o.ParentID != parent.ID || o.SelectedMenu.MenuType != menuMobile || o.Status != "queued" {
			t.Errorf("child call %s", out)
		}
		bare, err := r.db.SaveCall(ctx, switchboard.Call{TenantID: tid, Direction: switchboard.Outbound, Status: switchboard.CallFailed,
			To: "+15550003333", From: r.number, CreatedAt: now, EndedAt: at(3), Disposition: switchboard.DispositionBusy,
			HangupCause: "busy here", HangupBy: switchboard.SideSystem}, "created")
		if err != nil {
			t.Fatal(err)
		}
		out = r.expect("GET", fmt.Sprintf("/calls/%d", bare.ID), nil, 200, "")
		checkCallObject(t, out)
		if err := json.Unmarshal(out, &o); err != nil || o.FailReason != "busy" || *o.FailDetails != "busy here" || o.AgentInfo != nil ||
			o.CallType != typeOutboundManual || o.RecordingURL != nil || *o.OutboundNumber != r.number || len(o.Participants) != 1 {
			t.Errorf("bare call %s", out)
		}
		// Recording: the recorded call streams audio; the bare one has none.
		code, h, body := r.do("GET", fmt.Sprintf("/calls/%d/recording", parent.ID), r.key, nil)
		if code != 200 || h.Get("Content-Type") != "audio/wav" || len(body) < 44 || string(body[:4]) != "RIFF" {
			t.Errorf("recording: %d %s, %d bytes", code, h.Get("Content-Type"), len(body))
		}
		r.expect("GET", fmt.Sprintf("/calls/%d/recording", bare.ID), nil, 404, "Not Found")
		// Another tenant's call, an id that is none: Not Found.
		if code, _, out := r.do("GET", fmt.Sprintf("/calls/%d", parent.ID), r.otherKey, nil); code != 404 || !strings.Contains(string(out), "Not Found") {
			t.Errorf("another tenant's call: %d %s", code, out)
		}
		r.expect("GET", "/calls/abc", nil, 404, "Not Found")
	})
}

// TestCallsList pages the tenant's calls newest first with UJET's headers
// and filters, rendering the page from batch reads.
func TestCallsList(t *testing.T) {
	callsEngines(t, func(t *testing.T, r *callsRig) {
		ctx := context.Background()
		tid := r.tenant.ID
		base := r.clock.Now().UTC()
		var ids []int64
		for i := range 5 {
			created := base.Add(time.Duration(i) * time.Minute)
			c := switchboard.Call{TenantID: tid, Direction: switchboard.Inbound, Status: switchboard.CallQueued, From: "+1555000100" + fmt.Sprint(i),
				To: r.number, CreatedAt: created, QueueID: &r.voice.ID, QueuedAt: &created}
			if i%2 == 0 {
				end := created.Add(30 * time.Second)
				c.Status, c.EndedAt, c.Disposition = switchboard.CallFailed, &end, switchboard.DispositionAbandoned
			}
			saved, err := r.db.SaveCall(ctx, c, "created")
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, saved.ID)
		}
		if _, err := r.db.SaveCall(ctx, switchboard.Call{TenantID: r.other.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+15550009999", To: "+15550008888", CreatedAt: base}, "created"); err != nil {
			t.Fatal(err)
		}
		code, h, out := r.do("GET", "/calls?per=2&page=2", r.readKey, nil)
		var page []CallObject
		if code != 200 || json.Unmarshal(out, &page) != nil || len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[1] {
			t.Fatalf("page 2: %d %s", code, out)
		}
		if h.Get("Total") != "5" || h.Get("Per-Page") != "2" || !strings.Contains(h.Get("Link"), `page=3&per=2>; rel="next"`) ||
			!strings.Contains(h.Get("Link"), `page=1&per=2>; rel="prev"`) || !strings.Contains(h.Get("Link"), `page=3&per=2>; rel="last"`) {
			t.Errorf("headers Total %q Per-Page %q Link %q", h.Get("Total"), h.Get("Per-Page"), h.Get("Link"))
		}
		for _, o := range page {
			checkCallObject(t, mustJSON(t, o))
		}
		// status[]: the failed ones; created_at and updated_at windows.
		_, h, out = r.do("GET", "/calls?status[]=failed", r.readKey, nil)
		if json.Unmarshal(out, &page) != nil || len(page) != 3 || h.Get("Total") != "3" || page[0].Status != "failed" {
			t.Errorf("status[]=failed: %s", out)
		}
		from := millis(base.Add(90 * time.Second))
		_, h, out = r.do("GET", "/calls?created_at[from]="+from+"&status=queued,failed", r.readKey, nil)
		if json.Unmarshal(out, &page) != nil || len(page) != 3 || h.Get("Total") != "3" || page[2].ID != ids[2] {
			t.Errorf("created_at[from]: %s", out)
		}
		to := millis(base.Add(2*time.Minute + 31*time.Second))
		_, _, out = r.do("GET", "/calls?updated_at[to]="+to, r.readKey, nil)
		if json.Unmarshal(out, &page) != nil || len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[0] {
			t.Errorf("updated_at[to]: %s", out)
		}
		r.expect("GET", "/calls?status[]=lost", nil, 400, `status "lost" is not a call status`)
		r.expect("GET", "/calls?created_at[from]=yesterday", nil, 400, "created_at[from] is not a valid time (ISO 8601, e.g. 2019-06-07T01:27:30.406Z)")
		r.expect("GET", "/calls?page=0", nil, 400, "Invalid page request - page must be a positive integer")
		// The other tenant sees only its own call.
		if code, h, _ := r.do("GET", "/calls", r.otherKey, nil); code != 200 || h.Get("Total") != "1" {
			t.Errorf("other tenant: %d Total %q", code, h.Get("Total"))
		}
		// The dialect's OpenAPI document describes the routes.
		if code, _, doc := r.do("GET", "/openapi.json", r.readKey, nil); code != 200 || !strings.Contains(string(doc), `"/apps/api/v1/calls/{id}/custom_data"`) {
			t.Errorf("openapi.json: %d", code)
		}
		// A read-only key cannot create.
		if code, _, _ := r.do("POST", "/calls", r.readKey, map[string]any{"call_type": typeOutboundAPI}); code != 403 {
			t.Errorf("calls.read key created a call: %d", code)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCallsCreateErrors reproduces spec §3.1's error table: each
// documented text where it applies, before anything is dialled.
func TestCallsCreateErrors(t *testing.T) {
	callsEngines(t, func(t *testing.T, r *callsRig) {
		ctx := context.Background()
		if _, err := r.db.AddDNC(ctx, r.tenant.ID, "+15550007777", "asked", nil); err != nil {
			t.Fatal(err)
		}
		deact, err := r.db.CreateUser(ctx, r.tenant.ID, switchboard.User{Email: "gone@example.com", FirstName: "Gone", Extension: "103"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.db.UpdateUserFunc(ctx, r.tenant.ID, deact.ID, func(u *switchboard.User) error {
			n := time.Now()
			u.DeactivatedAt = &n
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		noC2C, err := r.db.CreateUser(ctx, r.tenant.ID, switchboard.User{Email: "noc2c@example.com", FirstName: "No", Extension: "104",
			ClickToCallDisabled: true})
		if err != nil {
			t.Fatal(err)
		}
		future := millis(r.clock.Now().Add(time.Hour))
		voice, mobile, web, ivr := queueMenuID(r.voice.ID), queueMenuID(r.mobile.ID), queueMenuID(r.web.ID), ivrMenuID(r.ivr.ID)
		out := map[string]any{"call_type": typeOutboundAPI, "agent_email": "ann@example.com", "end_user_number": "+15550002000"}
		in := map[string]any{"call_type": typeInboundAPI, "menu_id": voice, "end_user_number": "+15550002000"}
		sch := map[string]any{"call_type": typeScheduledAPI, "menu_id": mobile, "end_user_number": "+15550002000", "scheduled_at": future}
		with := func(m map[string]any, kv ...any) map[string]any {
			c := map[string]any{}
			for k, v := range m {
				c[k] = v
			}
			for i := 0; i < len(kv); i += 2 {
				if kv[i+1] == nil {
					delete(c, kv[i].(string))
				} else {
					c[kv[i].(string)] = kv[i+1]
				}
			}
			return c
		}
		for _, tc := range []struct {
			name string
			body any
			want string
		}{
			{"no call type", map[string]any{}, "Invalid call type"},
			{"unknown call type", with(out, "call_type", "Voice Outbound"), "Invalid call type"},
			{"agent email required", with(out, "agent_email", nil), "Agent email required"},
			{"unknown agent", with(out, "agent_email", "nobody@example.com"), "Not a valid agent email"},
			{"deactivated agent", with(out, "agent_email", "gone@example.com"), "Not a valid agent email"},
			{"no click-to-call", with(out, "agent_email", noC2C.Email), "Agent does not have access to make calls"},
			{"agent not available", out, "Agent is not available to take this call"},
			{"no number nor ticket", with(out, "end_user_number", nil), "ticket_id or end_user_number required"},
			{"outbound malformed number", with(out, "end_user_number", "12"), "end_user_number is not well-formed"},
			{"unknown ticket", with(out, "ticket_id", "T-404", "end_user_number", nil), "Contact not found"},
			{"unknown language", with(out, "lang", "xx-!"), "Language 'xx-!' is not found"},
			{"unavailable language", with(out, "lang", "fr"), "Language 'fr' is not available"},
			{"a language the menu does not serve", with(in, "lang", "en", "menu_id", queueMenuID(r.spanish.ID)), "Language 'en' is not available"},
			{"outbound unknown menu", with(out, "menu_id", 9999), "menu_id 9999 is not found"},
			{"outbound malformed menu", with(out, "menu_id", "nine"), "menu_id is not well formed"},
			{"DNC outbound", with(out, "end_user_number", "+1 555-000-7777"), "end_user_number is in the company's Do Not Call list"},
			{"inbound menu required", with(in, "menu_id", nil), "menu_id is required"},
			{"inbound menu unknown", with(in, "menu_id", "9999"), "menu_id 9999 is not found"},
			{"inbound menu malformed", with(in, "menu_id", true), "menu_id is not well formed"},
			{"inbound web menu", with(in, "menu_id", web), "Only IVR and mobile menu IDs are permitted"},
			{"inbound IVR menu (not a queue)", with(in, "menu_id", ivr), fmt.Sprintf("menu_id %d is not a leaf menu; calls queue in leaf menus", ivr)},
			{"inbound after hours", with(in, "menu_id", queueMenuID(r.closed.ID)), "Menu is in 'after hours' state, can't accept incoming calls"},
			{"inbound number required", with(in, "end_user_number", nil), "end_user_number is required"},
			{"inbound malformed number", with(in, "end_user_number", "abc"), "end_user_number is not well formed"},
			{"inbound DNC", with(in, "end_user_number", "+15550007777"), "end_user_number is in the company's Do Not Call list"},
			{"inbound bad permission", with(in, "recording_permission", "yes"), "recording_permission must be recording_permission_not_asked, " +
				"recording_permission_denied or recording_permission_granted"},
			{"scheduled_at required", with(sch, "scheduled_at", nil), "scheduled_at is required"},
			{"scheduled_at malformed", with(sch, "scheduled_at", "tomorrow"), "scheduled_at is not well formed"},
			{"scheduled_at past", with(sch, "scheduled_at", millis(r.clock.Now().Add(-time.Minute))), "scheduled_at must be a future time"},
			{"scheduled IVR menu", with(sch, "menu_id", voice), "Only mobile and web menu IDs are permitted"},
			{"scheduled menu required", with(sch, "menu_id", nil), "menu_id is required"},
			{"scheduled unknown parent", with(sch, "call_id", 424242), "call_id 424242 is not found"},
			{"scheduled DNC", with(sch, "end_user_number", "+15550007777"), "end_user_number is in the company's Do Not Call list"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r.t = t
				r.expect("POST", "/calls", tc.body, 400, tc.want)
			})
		}
		r.t = t
		if calls, err := r.db.CDRs(ctx, r.tenant.ID, switchboard.CDRFilter{Open: true}, switchboard.ListOptions{}); err != nil || calls.Total != 0 {
			t.Errorf("refused requests placed %d calls (%v)", calls.Total, err)
		}
	})
}

// TestCallsCreate replays the seed's four POST /calls bodies. Their
// placeholders are made real where they must be: "123123" is no phone
// number (answered with UJET's not-well-formed text, then sent with a real
// one), ticket "123123" resolves once a call carries it, and menu_id 9 is
// replaced by the rig's queue menus (ids are the tenant's: 2·queue).
func TestCallsCreate(t *testing.T) {
	callsEngines(t, func(t *testing.T, r *callsRig) {
		ctx := context.Background()
		r.available()
		seedOut1 := `{ "call_type": "Voice Outbound (API)", "menu_id": 11, "agent_email": "agent@somedomain.com", "outbound_number": "+1 760-867-5309", "end_user_number": "123123", "lang": "en" }`
		seedOut2 := `{ "call_type": "Voice Outbound (API)", "menu_id": 11, "agent_email": "allen@somedomain.com", "outbound_number": "+1 760-867-5309", "ticket_id": "123123", "lang": "en" }`
		seedIn := `{ "call_type": "Voice Inbound (API)", "lang": "en", "menu_id": 9, "ticket_id": "76517", "end_user_number": "+1 859-657-9625", "recording_permission": "recording_permission_granted" }`
		seedSch := `{ "call_type": "Voice Scheduled (API)", "lang": "en", "menu_id": 9, "ticket_id": "76517", "end_user_number": "+1 859-657-9625", "scheduled_at": "2019-09-15T00:19:14.421Z", "recording_permission": "recording_permission_granted" }`
		real := func(s string, kv ...string) string {
			for i := 0; i < len(kv); i += 2 {
				s = strings.Replace(s, kv[i], kv[i+1], 1)
			}
			return s
		}
		menu11 := fmt.Sprint(queueMenuID(r.voice.ID))
		// The seed's agents are somedomain.com's; ours is ann@example.com.
		r.expect("POST", "/calls", seedOut1, 400, "Not a valid agent email")
		r.expect("POST", "/calls", real(seedOut1, "agent@somedomain.com", "ann@example.com", `"menu_id": 11`, `"menu_id": `+menu11), 400,
			"end_user_number is not well-formed")

		// The inbound example first: its ticket 76517 is what the later
		// examples find.
		body := real(seedIn, `"menu_id": 9`, `"menu_id": `+menu11)
		var o CallObject
		if err := json.Unmarshal(r.expect("POST", "/calls", body, 201, ""), &o); err != nil {
			t.Fatal(err)
		}
		checkCallObject(t, mustJSON(t, o))
		c, err := r.db.Call(ctx, r.tenant.ID, o.ID)
		if err != nil || c.To != "+18596579625" || c.QueueID == nil || *c.QueueID != r.voice.ID || o.CallType != typeInboundAPI ||
			o.RecordingPermission != "granted" || *o.OutTicketID != "76517" || o.SelectedMenu.ID != queueMenuID(r.voice.ID) ||
			o.EndUser == nil || o.EndUser.Identifier != "+18596579625" {
			t.Fatalf("inbound call %+v (%v); object %+v", c, err, o)
		}
		inbound := o.ID

		// The outbound example with the ticket: 123123 is not a ticket yet.
		out2 := real(seedOut2, "allen@somedomain.com", "ann@example.com", `"menu_id": 11`, `"menu_id": `+menu11)
		r.expect("POST", "/calls", out2, 400, "Contact not found")
		if _, err := r.db.UpdateCallDataFunc(ctx, r.tenant.ID, inbound, func(d *switchboard.CallData) error { d.TicketID = "123123"; return nil }); err != nil {
			t.Fatal(err)
		}
		// The agent is free again once the inbound call is over.
		r.calls.Hangup(ctx, r.tenant.ID, inbound)
		r.clock.Advance(time.Minute)
		if err := json.Unmarshal(r.expect("POST", "/calls", real(out2, "+1 760-867-5309", r.number), 201, ""), &o); err != nil {
			t.Fatal(err)
		}
		checkCallObject(t, mustJSON(t, o))
		c, err = r.db.Call(ctx, r.tenant.ID, o.ID)
		if err != nil || c.To != "+18596579625" || c.From != r.number || c.AgentID == nil || *c.AgentID != r.agent.ID ||
			c.Source.System != ujetSource || o.CallType != typeOutboundAPI || o.AgentInfo == nil || o.AgentInfo.ID != r.agent.ID ||
			o.SelectedMenu == nil || o.SelectedMenu.ID != queueMenuID(r.voice.ID) || *o.OutTicketID != "123123" {
			t.Fatalf("outbound by ticket: call %+v (%v); object %+v", c, err, o)
		}
		r.calls.Hangup(ctx, r.tenant.ID, o.ID)
		r.clock.Advance(time.Minute)
		// The first example with a real number and an outbound number that is
		// not the tenant's (the default is used, as UJET documents).
		if err := json.Unmarshal(r.expect("POST", "/calls", real(seedOut1, "agent@somedomain.com", "ann@example.com", `"menu_id": 11`,
			`"menu_id": `+menu11, "123123", "+15550002000"), 201, ""), &o); err != nil {
			t.Fatal(err)
		}
		if c, _ := r.db.Call(ctx, r.tenant.ID, o.ID); c.To != "+15550002000" || c.From != r.number || o.Status == "" {
			t.Errorf("outbound call %+v", c)
		}
		r.calls.Hangup(ctx, r.tenant.ID, o.ID)

		// The scheduled example: its 2019 time is past; a future one under the
		// mobile queue is scheduled there, with the inbound call as parent.
		sch := real(seedSch, `"menu_id": 9`, `"menu_id": `+fmt.Sprint(queueMenuID(r.mobile.ID)))
		r.expect("POST", "/calls", sch, 400, "scheduled_at must be a future time")
		when := r.clock.Now().Add(2 * time.Hour).UTC()
		sch = real(sch, "2019-09-15T00:19:14.421Z", millis(when), `"lang"`, fmt.Sprintf(`"call_id": "%d", "lang"`, inbound))
		if err := json.Unmarshal(r.expect("POST", "/calls", sch, 201, ""), &o); err != nil {
			t.Fatal(err)
		}
		checkCallObject(t, mustJSON(t, o))
		if o.Status != "scheduled" || *o.ScheduledAt != millis(when) || o.CallType != typeScheduledAPI || *o.ParentID != inbound ||
			o.SelectedMenu.MenuType != menuMobile {
			t.Errorf("scheduled call %+v", o)
		}
		// call_id alone: the parent's queue (a voice queue: IVR type) is
		// refused for a scheduled call, as UJET refuses IVR menus.
		noMenu := real(sch, fmt.Sprintf(`"menu_id": %d, `, queueMenuID(r.mobile.ID)), "")
		r.expect("POST", "/calls", noMenu, 400, "Only mobile and web menu IDs are permitted")
		// A call that names no language takes its menu's.
		if err := json.Unmarshal(r.expect("POST", "/calls", map[string]any{"call_type": "IncomingCall", "menu_id": queueMenuID(r.spanish.ID),
			"end_user_number": "+15550006000"}, 201, ""), &o); err != nil || o.Lang != "es" {
			t.Errorf("inbound without lang: %+v %v", o, err)
		}
		// The legacy names are the same types.
		if err := json.Unmarshal(r.expect("POST", "/calls", real(sch, "Voice Scheduled (API)", "ScheduledCall"), 201, ""), &o); err != nil || o.CallType != typeScheduledAPI {
			t.Errorf("ScheduledCall: %+v %v", o, err)
		}
	})
}

// TestCallsEndUserFlagsCustomData covers the mid-session end user, the
// customer flags and custom data, signed and unsigned, with the seed's
// bodies.
func TestCallsEndUserFlagsCustomData(t *testing.T) {
	callsEngines(t, func(t *testing.T, r *callsRig) {
		ctx := context.Background()
		tid := r.tenant.ID
		now := r.clock.Now().UTC()
		live, err := r.db.SaveCall(ctx, switchboard.Call{TenantID: tid, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+15550002222", To: r.number, QueueID: &r.voice.ID, CreatedAt: now, QueuedAt: &now}, "created")
		if err != nil {
			t.Fatal(err)
		}
		ended, err := r.db.SaveCall(ctx, switchboard.Call{TenantID: tid, Direction: switchboard.Inbound, Status: switchboard.CallFinished,
			From: "+15550002222", To: r.number, CreatedAt: now, EndedAt: &now}, "created")
		if err != nil {
			t.Fatal(err)
		}
		p := func(id int64, rest string) string { return fmt.Sprintf("/calls/%d%s", id, rest) }

		// End user: the seed's body, then the rules.
		seedEndUser := `{ "identifier": "string", "name": "string", "email": "string", "phone": "string" }`
		r.expect("POST", p(live.ID, "/end_user"), seedEndUser, 202, "")
		r.expect("POST", p(live.ID, "/end_user"), `{"identifier": "cust-42", "name": "Ada", "phone": "+15550002222"}`, 202, "")
		out := r.expect("POST", p(live.ID, "/end_user"), `{"identifier": "cust-42", "phone": "+15550009999"}`, 202, "")
		if string(out) != `{"message":"accepted"}`+"\n" && string(out) != `{"message":"accepted"}` {
			t.Errorf("end_user answer %q", out)
		}
		eu, err := r.db.EndUserByIdentifier(ctx, tid, "cust-42")
		if err != nil || eu.Name != "Ada" || eu.Phone != "+15550002222" {
			t.Errorf("end user %+v (%v): the phone already set must be kept", eu, err)
		}
		var o CallObject
		if err := json.Unmarshal(r.expect("GET", p(live.ID, ""), nil, 200, ""), &o); err != nil || o.EndUser == nil || o.EndUser.Identifier != "cust-42" {
			t.Errorf("the call's end user: %+v", o.EndUser)
		}
		r.expect("POST", p(live.ID, "/end_user"), `{"name": "x"}`, 400, "param is missing or the value is empty: identifier")
		r.expect("POST", p(ended.ID, "/end_user"), `{"identifier": "cust-42"}`, 400, "Call is already ended")
		r.expect("POST", "/calls/999999/end_user", `{"identifier": "cust-42"}`, 404, "Not Found")

		// Customer flags: the seed's body holds type names, not values.
		seedFlags := `{ "verified_customer": "boolean", "bad_actor": "boolean", "repeat_customers": "boolean" }`
		r.expect("PATCH", p(live.ID, "/customer_flag"), seedFlags, 400, "")
		r.expect("GET", p(live.ID, "/customer_flag"), nil, 200, "")
		out = r.expect("PATCH", p(live.ID, "/customer_flag"), `{ "verified_customer": true, "bad_actor": "false", "repeat_customers": "true" }`, 200, "")
		if diffs := golden.CheckTypes(map[string]string{"": "object", "verified_customer": "boolean", "bad_actor": "boolean",
			"repeat_customer": "boolean"}, out); len(diffs) > 0 {
			t.Errorf("flags shape: %v", diffs)
		}
		var fl CustomerFlags
		if err := json.Unmarshal(r.expect("GET", p(live.ID, "/customer_flag"), nil, 200, ""), &fl); err != nil ||
			fl != (CustomerFlags{VerifiedCustomer: true, RepeatCustomer: true}) {
			t.Errorf("flags %+v", fl)
		}
		r.expect("PATCH", p(live.ID, "/customer_flag"), `{"bad_actor": true}`, 200, "")
		if json.Unmarshal(r.expect("GET", p(live.ID, "/customer_flag"), nil, 200, ""), &fl); fl != (CustomerFlags{true, true, true}) {
			t.Errorf("a partial PATCH changed other flags: %+v", fl)
		}

		// Custom data, unsigned: the seed's body (its // comments removed).
		seedUnsigned := `{ "signed": false, "data": { "reserved_verified_customer": { "label": "LABEL 1", "value": true }, "reserved_bad_actor": { "label": "LABEL 2", "value": false }, "reserved_repeat_customer": { "label": "LABEL 3", "value": true }, "field1": { "label": "LABEL 4", "value": "dummy1" }, "field2": { "label": "LABEL 5", "value": "dummy2" } } }`
		var cd CustomData
		if err := json.Unmarshal(r.expect("POST", p(live.ID, "/custom_data"), seedUnsigned, 200, ""), &cd); err != nil {
			t.Fatal(err)
		}
		if cd.Data["field1"].Label != "LABEL 4" || string(cd.Data["field1"].Value) != `"dummy1"` || len(cd.Data) != 2 ||
			cd.CustomerFlags != (CustomerFlags{VerifiedCustomer: true, RepeatCustomer: true}) {
			t.Errorf("unsigned custom data %+v", cd)
		}
		// Signed: the seed's own token is signed with UJET's example secret,
		// which is not this tenant's.
		seedSigned := `{ "signed": true, "signed_data": "eyJhbGciOiJIUzI1NiJ9.eyJjdXN0b21fZGF0YSI6eyJyZXNlcnZlZF92ZXJpZmllZF9jdXN0b21lciI6eyJ2YWx1ZSI6ZmFsc2V9LCJyZXNlcnZlZF9iYWRfYWN0b3IiOnsidmFsdWUiOnRydWV9LCJyZXNlcnZlZF9yZXBlYXRfY3VzdG9tZXIiOnsidmFsdWUiOmZhbHNlfSwiZmllbGQxIjp7InZhbHVlIjoiZHVtbXkxMTEifSwiZmllbGQyIjp7InZhbHVlIjoiZHVtbXkyMjIifX0sImV4cCI6MTcyOTY4MzU5MywiaWF0IjoxNzI5Njc5OTkzfQ.BMskgKTM3DbgrMLWjI46ZJ1K73H25JRd16SgHK0A1Ts" }`
		r.expect("POST", p(live.ID, "/custom_data"), seedSigned, 400, "signed_data cannot be verified: the company secret is not set")
		secret := "acme-company-secret"
		if _, err := r.db.UpdateTenantFunc(ctx, tid, func(t *switchboard.Tenant) error { t.CompanySecret = &secret; return nil }); err != nil {
			t.Fatal(err)
		}
		r.expect("POST", p(live.ID, "/custom_data"), seedSigned, 400, "signed_data is not signed with the company secret")
		sign := func(exp time.Time) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"custom_data": map[string]any{
				"reserved_verified_customer": map[string]any{"value": false}, "reserved_bad_actor": map[string]any{"value": true},
				"reserved_repeat_customer": map[string]any{"value": false}, "field1": map[string]any{"value": "dummy111"},
				"field2": map[string]any{"label": "L2", "value": "dummy222"}}, "exp": exp.Unix(), "iat": r.clock.Now().Add(-time.Minute).Unix()})
			s, err := tok.SignedString([]byte(secret))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		if err := json.Unmarshal(r.expect("PATCH", p(live.ID, "/custom_data"), map[string]any{"signed": true, "signed_data": sign(r.clock.Now().Add(time.Hour))},
			200, ""), &cd); err != nil {
			t.Fatal(err)
		}
		if string(cd.SignedData["field1"].Value) != `"dummy111"` || cd.SignedData["field2"].Label != "L2" || len(cd.Data) != 2 ||
			cd.CustomerFlags != (CustomerFlags{BadActor: true}) {
			t.Errorf("signed custom data %+v", cd)
		}
		r.expect("POST", p(live.ID, "/custom_data"), map[string]any{"signed": true, "signed_data": sign(r.clock.Now().Add(-time.Second))},
			400, "signed_data has expired")
		r.expect("POST", p(live.ID, "/custom_data"), map[string]any{"signed": true, "signed_data": "not.a.jwt"}, 400, "signed_data is not a valid HS256 JWT")
		r.expect("POST", p(live.ID, "/custom_data"), map[string]any{"signed": true}, 400, "param is missing or the value is empty: signed_data")
		r.expect("POST", p(live.ID, "/custom_data"), map[string]any{"signed": false}, 400, "param is missing or the value is empty: data")
		// The spec's form: {"custom_data": {"signed": jwt, "unsigned": {…}}}.
		r.expect("POST", p(live.ID, "/custom_data"), map[string]any{"custom_data": map[string]any{"signed": sign(r.clock.Now().Add(time.Hour)),
			"unsigned": map[string]any{"plan": "gold"}}}, 200, "")
		d, err := r.db.CallData(ctx, tid, live.ID)
		if err != nil || string(d.CustomData["plan"].Value) != `"gold"` || d.CustomData["plan"].Label != "" {
			t.Errorf("spec form: %+v %v", d, err)
		}
		// Another tenant cannot touch the call.
		if code, _, _ := r.do("PATCH", p(live.ID, "/customer_flag"), r.otherKey, `{"bad_actor": false}`); code != 404 {
			t.Errorf("another tenant's PATCH: %d", code)
		}
	})
}
