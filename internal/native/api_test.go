package native

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/golden"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi.json from the current routes")

// testAPI is the native API on a real SQLite store behind a real loopback
// HTTP server.
type testAPI struct {
	api   *API
	store *sqlstore.DB
	url   string
	conv  *convWorld
}

func newTestAPI(t *testing.T, limiter *httpapi.RateLimiter) *testAPI {
	t.Helper()
	store := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if limiter == nil {
		limiter = httpapi.NewRateLimiter(0, 1)
	}
	conv := newConversations(t, store)
	api := New(Options{Store: store, Auth: httpapi.NewAuthenticator(store, time.Second, log), Limiter: limiter,
		AdminToken: "admin-secret", Conversations: conv.svc, Log: log})
	obs := &httpapi.Observer{Log: log, MaxBody: 64 << 10}
	srv := httptest.NewServer(obs.Wrap("native", api, WriteError(log)))
	t.Cleanup(srv.Close)
	return &testAPI{api: api, store: store, url: srv.URL, conv: conv}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) errorBody(t *testing.T) ErrorDetail {
	t.Helper()
	var e ErrorBody
	r.decode(t, &e)
	return e.Error
}

func (ta *testAPI) do(t *testing.T, method, path, key string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, ta.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// fixture is a tenant with one object of every kind and a key to reach them.
type fixture struct {
	tenant                          switchboard.Tenant
	key                             string
	user, team, skill, status       int64
	queue, number, apiKey, user2    int64
	webhook, delivery, failure      int64
	call, dnc, contact, message     int64
	menu                            int64
	trunk                           int64
	campaign, lead, list, job       int64
	conversation, attachment        int64
	canned, profile, template, rate int64
	convUUID                        string
}

func newFixture(t *testing.T, s *sqlstore.DB, slug string) fixture {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var f fixture
	var err error
	f.tenant, err = s.CreateTenant(ctx, switchboard.Tenant{Slug: slug, Name: slug})
	must(err)
	id := f.tenant.ID
	u, err := s.CreateUser(ctx, id, switchboard.User{Email: "ann@" + slug + ".test", FirstName: "Ann"})
	must(err)
	u2, err := s.CreateUser(ctx, id, switchboard.User{Email: "bob@" + slug + ".test", FirstName: "Bob"})
	must(err)
	team, err := s.CreateTeam(ctx, id, switchboard.Team{Name: "Team"})
	must(err)
	sk, err := s.CreateSkill(ctx, id, switchboard.Skill{Name: "Skill"})
	must(err)
	st, err := s.CreateStatus(ctx, id, switchboard.AgentStatus{Name: "Lunch"})
	must(err)
	q, err := s.CreateQueue(ctx, id, switchboard.Queue{Name: "Queue"})
	must(err)
	_, err = s.AddQueueMember(ctx, id, switchboard.QueueMember{QueueID: q.ID, UserID: u.ID})
	must(err)
	n, err := s.CreatePhoneNumber(ctx, id, switchboard.PhoneNumber{Number: fmt.Sprintf("+1415555%04d", id)})
	must(err)
	menu, err := s.CreateIVRMenu(ctx, id, switchboard.IVRMenu{Name: "Main", Options: []switchboard.IVROption{
		{Digit: "1", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &q.ID}}}})
	must(err)
	f.menu = menu.ID
	wh, err := s.CreateWebhook(ctx, id, switchboard.Webhook{URL: "http://127.0.0.1:9/hook"})
	must(err)
	k, err := s.CreateAPIKey(ctx, id, switchboard.APIKey{Name: "all"})
	must(err)
	dl, err := s.Deliveries(ctx, id, switchboard.DeliveryFilter{WebhookID: wh.ID}, switchboard.ListOptions{})
	must(err)
	if len(dl.Items) == 0 {
		t.Fatal("the webhook got no delivery of the events after it")
	}
	f.webhook, f.delivery = wh.ID, dl.Items[0].ID
	// The first delivery used its attempts: a webhook failure.
	d0 := dl.Items[len(dl.Items)-1]
	_, err = s.CompleteDeliveries(ctx, []switchboard.DeliveryResult{{DeliveryID: d0.ID, WebhookID: wh.ID, TenantID: id,
		Outcome: switchboard.OutcomeGiveUp, EventID: d0.EventID, EventSeq: d0.EventSeq, EventType: d0.EventType, Attempts: 1,
		Body: []byte(`{}`), Attempt: switchboard.DeliveryAttempt{At: time.Now(), StatusCode: 500, ErrorClass: "http_status", Error: "500"}}},
		switchboard.DisablePolicy{})
	must(err)
	fl, err := s.WebhookFailures(ctx, id, switchboard.WebhookFailureFilter{}, switchboard.ListOptions{})
	must(err)
	if len(fl.Items) != 1 {
		t.Fatalf("the fixture's failure: %d", len(fl.Items))
	}
	f.failure = fl.Items[0].ID
	c, err := s.SaveCall(ctx, switchboard.Call{TenantID: id, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
		From: "+15550001111", To: "+15550002222", CreatedAt: time.Now()}, "created")
	must(err)
	f.call = c.ID
	d, err := s.AddDNC(ctx, id, "+15550009999", "asked not to be called", nil)
	must(err)
	f.dnc = d.ID
	ct, err := s.CreateContact(ctx, id, switchboard.Contact{FirstName: "Carla", PrimaryPhone: "+390312345678"})
	must(err)
	f.contact = ct.ID
	msg, err := s.CreateMessage(ctx, switchboard.Message{TenantID: id, Direction: switchboard.Inbound, From: "+15550001111",
		To: n.Number, Body: "hi", Status: switchboard.MessageReceived})
	must(err)
	f.message = msg.ID
	tr, err := s.CreateTrunk(ctx, id, switchboard.Trunk{Name: "carrier", InboundAddresses: []string{"192.0.2.0/24"}, Enabled: true})
	must(err)
	f.trunk = tr.ID
	cp, err := s.CreateCampaign(ctx, id, switchboard.Campaign{Name: "Renewals", Mode: switchboard.ModeProgressive, QueueID: q.ID})
	must(err)
	f.campaign = cp.ID
	_, err = s.InsertLeads(ctx, id, switchboard.LeadTarget{CampaignID: cp.ID}, []switchboard.Lead{{Name: "Lia", PhoneNumber: "+12125550100",
		PhoneNumbers: []string{"+12125550100"}, TimeZone: "America/New_York"}})
	must(err)
	leads, err := s.Leads(ctx, id, switchboard.LeadTarget{CampaignID: cp.ID}, switchboard.LeadFilter{}, switchboard.ListOptions{})
	must(err)
	f.lead = leads.Items[0].ID
	cl, err := s.CreateContactList(ctx, id, switchboard.ContactList{Name: "Prospects"})
	must(err)
	f.list = cl.ID
	job, err := s.CreateImportJob(ctx, id, switchboard.ImportJob{CampaignID: &cp.ID, Status: switchboard.ImportRunning, Format: "json", Total: 1})
	must(err)
	f.job = job.ID
	cv, _, err := s.CreateConversation(ctx, id, switchboard.Conversation{Channel: switchboard.ChannelWebChat, QueueID: &q.ID,
		EndUser: switchboard.EndUser{Identifier: "visitor-1", Name: "Vera"}, Address: "visitor-1"},
		&switchboard.ConversationMessage{Direction: switchboard.Inbound, Kind: switchboard.KindText, Text: "hello"})
	must(err)
	f.conversation, f.convUUID = cv.ID, cv.UUID
	att, err := s.CreateAttachment(ctx, id, switchboard.Attachment{ConversationID: cv.ID, Kind: switchboard.KindPhoto,
		ContentType: "image/png", Name: "x.png", TokenHash: []byte(slug + "-token-hash"), ExpiresAt: time.Now().Add(time.Hour)})
	must(err)
	f.attachment = att.ID
	cr, err := s.CreateCannedReply(ctx, id, switchboard.CannedReply{Name: "Greeting", Body: "Hello {{name}}"})
	must(err)
	f.canned = cr.ID
	prof, err := s.CreateChannelProfile(ctx, id, switchboard.ChannelProfile{Channel: switchboard.ChannelWebChat, Name: "Site",
		QueueID: &q.ID, Enabled: true})
	must(err)
	f.profile = prof.ID
	tpl, err := s.CreateMessageTemplate(ctx, id, switchboard.MessageTemplate{ProfileID: prof.ID, Name: "welcome", Body: "Hi {{1}}"})
	must(err)
	f.template = tpl.ID
	rate, err := s.CreateRate(ctx, id, switchboard.Rate{Prefix: "1", PerMinuteMilli: 1_000})
	must(err)
	f.rate = rate.ID
	f.key, f.user, f.user2, f.team, f.skill, f.status = k.Secret, u.ID, u2.ID, team.ID, sk.ID, st.ID
	f.queue, f.number, f.apiKey = q.ID, n.ID, k.ID
	return f
}

// path fills rt's path parameters with f's objects.
func (f fixture) path(rt *httpapi.Endpoint[route]) string {
	ids := map[string]int64{"users": f.user, "teams": f.team, "skills": f.skill, "agent_statuses": f.status,
		"queues": f.queue, "phone_numbers": f.number, "api_keys": f.apiKey, "tenants": f.tenant.ID,
		"webhooks": f.webhook, "webhook_deliveries": f.delivery, "webhook_failures": f.failure, "calls": f.call, "cdrs": f.call, "dnc": f.dnc, "contacts": f.contact, "messages": f.message,
		"ivr_menus": f.menu, "trunks": f.trunk, "campaigns": f.campaign, "leads": f.lead, "contact_lists": f.list, "lead_imports": f.job,
		"conversations": f.conversation, "attachments": f.attachment, "canned_replies": f.canned, "channel_profiles": f.profile,
		"message_templates": f.template, "rates": f.rate}
	parts := strings.Split(rt.Path, "/")
	for i, p := range parts {
		switch p {
		case "{id}":
			parts[i] = fmt.Sprint(ids[parts[i-1]])
		case "{user_id}":
			parts[i] = fmt.Sprint(f.user)
		}
	}
	return strings.Join(parts, "/")
}

// TestTenantIsolationEveryRoute walks every route that names an object and
// shows that another tenant's key gets 404 for it, never the object, and that
// the object is unchanged afterwards.
func TestTenantIsolationEveryRoute(t *testing.T) {
	ta := newTestAPI(t, nil)
	a := newFixture(t, ta.store, "acme")
	b := newFixture(t, ta.store, "beta")
	walked := 0
	for _, rt := range ta.api.table.Endpoints() {
		// An outside number scripted in the simulator is nobody's object:
		// each tenant scripts its own (internal/sim's tenant numbers).
		if !rt.TenantKeys || !strings.Contains(rt.Path, "{") || strings.HasSuffix(rt.Path, "{number}") {
			continue
		}
		walked++
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			var body any
			if rt.Body != nil {
				body = "{}"
			}
			res := ta.do(t, rt.Method, a.path(rt), b.key, body)
			if res.status != http.StatusNotFound {
				t.Fatalf("tenant b on tenant a's object: status %d %s, want 404", res.status, res.body)
			}
			if e := res.errorBody(t); e.Code != switchboard.CodeNotFound {
				t.Errorf("error code %q, want not_found", e.Code)
			}
		})
	}
	if walked < 20 {
		t.Fatalf("walked %d routes with ids, expected the whole API", walked)
	}
	// Nothing of a's changed or vanished.
	for _, p := range []string{fmt.Sprintf("/v1/users/%d", a.user), fmt.Sprintf("/v1/queues/%d/members", a.queue),
		fmt.Sprintf("/v1/phone_numbers/%d", a.number), fmt.Sprintf("/v1/api_keys/%d", a.apiKey)} {
		if res := ta.do(t, "GET", p, a.key, nil); res.status != 200 {
			t.Errorf("GET %s by its owner: %d %s", p, res.status, res.body)
		}
	}
	var members listBody[switchboard.QueueMember]
	ta.do(t, "GET", fmt.Sprintf("/v1/queues/%d/members", a.queue), a.key, nil).decode(t, &members)
	if members.Metadata.Total != 1 {
		t.Errorf("queue members after the walk: %d, want 1", members.Metadata.Total)
	}
	// Lists never show the other tenant's rows.
	var users listBody[switchboard.User]
	ta.do(t, "GET", "/v1/users", b.key, nil).decode(t, &users)
	for _, u := range users.Items {
		if u.TenantID != b.tenant.ID {
			t.Errorf("tenant b's user list holds %+v", u)
		}
	}
}

// TestScopes walks every tenant route with a key that holds only tenant.read:
// every route that needs another scope must answer 403.
func TestScopes(t *testing.T) {
	ta := newTestAPI(t, nil)
	a := newFixture(t, ta.store, "acme")
	k, err := ta.store.CreateAPIKey(context.Background(), a.tenant.ID, switchboard.APIKey{Scopes: []string{switchboard.ScopeTenantRead}})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range ta.api.table.Endpoints() {
		if !rt.TenantKeys {
			continue
		}
		var body any
		if rt.Body != nil {
			body = "{}"
		}
		res := ta.do(t, rt.Method, a.path(rt), k.Secret, body)
		want := http.StatusForbidden
		if rt.Scope == switchboard.ScopeTenantRead {
			want = http.StatusOK
		}
		if res.status != want {
			t.Errorf("%s %s with tenant.read only: %d %s, want %d", rt.Method, rt.Path, res.status, res.body, want)
		}
	}
	// A key cannot mint a key with more than it holds.
	lim, _ := ta.store.CreateAPIKey(context.Background(), a.tenant.ID, switchboard.APIKey{Scopes: []string{switchboard.ScopeKeysManage}})
	res := ta.do(t, "POST", "/v1/api_keys", lim.Secret, map[string]any{"scopes": []string{"*"}})
	if res.status != http.StatusForbidden {
		t.Errorf("escalating key: %d %s, want 403", res.status, res.body)
	}
	for _, admin := range []string{"", a.key, "wrong"} {
		if res := ta.do(t, "GET", "/v1/admin/tenants", admin, nil); res.status != http.StatusUnauthorized {
			t.Errorf("admin route with %q: %d, want 401", admin, res.status)
		}
	}
	if res := ta.do(t, "GET", "/v1/admin/tenants", "admin-secret", nil); res.status != http.StatusOK {
		t.Errorf("admin route with the admin token: %d %s", res.status, res.body)
	}
}

// TestBadInput checks that malformed and invalid requests get 400, 413 or 422
// with the offending field named, and never a 500.
func TestBadInput(t *testing.T) {
	ta := newTestAPI(t, nil)
	a := newFixture(t, ta.store, "acme")
	big := `{"email":"` + strings.Repeat("x", 70<<10) + `"}`
	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"malformed JSON", "POST", "/v1/users", `{"email":`, 400, ""},
		{"not an object", "POST", "/v1/users", `[1,2]`, 400, ""},
		{"empty body", "POST", "/v1/users", ``, 400, ""},
		{"unknown field", "POST", "/v1/users", `{"email":"a@b.c","first_name":"A","nickname":"x"}`, 400, "nickname"},
		{"wrong type", "POST", "/v1/users", `{"email":"a@b.c","first_name":42}`, 400, "first_name"},
		{"wrong nested type", "POST", "/v1/users", `{"email":"a@b.c","first_name":"A","skills":[{"skill_id":"one"}]}`, 400, "skills.skill_id"},
		{"missing required", "POST", "/v1/users", `{"first_name":"A"}`, 422, "email"},
		{"invalid email", "POST", "/v1/users", `{"email":"nope","first_name":"A"}`, 422, "email"},
		{"two values", "POST", "/v1/users", `{"email":"a@b.c","first_name":"A"}{}`, 400, ""},
		{"oversized", "POST", "/v1/users", big, 413, ""},
		{"bad strategy", "POST", "/v1/queues", `{"name":"Q","strategy":"loud"}`, 422, "strategy"},
		{"bad number", "POST", "/v1/phone_numbers", `{"number":"call me"}`, 422, "number"},
		{"duplicate", "POST", "/v1/users", `{"email":"ann@acme.test","first_name":"A"}`, 409, "email"},
		{"bad id", "GET", "/v1/users/abc", ``, 400, "id"},
		{"missing object", "GET", "/v1/users/99999", ``, 404, ""},
		{"bad limit", "GET", "/v1/users?limit=5000", ``, 422, "limit"},
		{"limit not a number", "GET", "/v1/users?limit=ten", ``, 400, "limit"},
		{"bad cursor", "GET", "/v1/users?cursor=zzz", ``, 422, "cursor"},
		{"unknown member", "PATCH", fmt.Sprintf("/v1/queues/%d/members/%d", a.queue, a.user2), `{"penalty":1}`, 404, ""},
		{"no such route", "GET", "/v1/nothing", ``, 404, ""},
		{"wrong method", "PUT", "/v1/users", `{}`, 405, ""},
		{"wrong method on an item", "POST", fmt.Sprintf("/v1/users/%d", a.user), `{}`, 405, ""},
		{"patch unknown field", "PATCH", fmt.Sprintf("/v1/teams/%d", a.team), `{"colour":"red"}`, 400, "colour"},
		{"patch read-only field", "PATCH", fmt.Sprintf("/v1/users/%d", a.user), `{"id":7}`, 400, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			res := ta.do(t, tt.method, tt.path, a.key, body)
			if res.status != tt.status {
				t.Fatalf("%s %s: status %d %s, want %d", tt.method, tt.path, res.status, res.body, tt.status)
			}
			e := res.errorBody(t)
			if e.Message == "" || e.RequestID == "" {
				t.Errorf("error body %s lacks a message or request id", res.body)
			}
			if tt.field != "" {
				if _, ok := e.Fields[tt.field]; !ok {
					t.Errorf("error %s does not name field %q", res.body, tt.field)
				}
			}
		})
	}
	if res := ta.do(t, "GET", "/v1/users", "", nil); res.status != 401 || res.header.Get("WWW-Authenticate") == "" {
		t.Errorf("no key: %d, WWW-Authenticate %q", res.status, res.header.Get("WWW-Authenticate"))
	}
}

func TestRateLimit(t *testing.T) {
	ta := newTestAPI(t, httpapi.NewRateLimiter(1, 3))
	a := newFixture(t, ta.store, "acme")
	b := newFixture(t, ta.store, "beta")
	for i := range 3 {
		if res := ta.do(t, "GET", "/v1/tenant", a.key, nil); res.status != 200 {
			t.Fatalf("request %d within the burst: %d", i, res.status)
		}
	}
	res := ta.do(t, "GET", "/v1/tenant", a.key, nil)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Fatalf("over the burst: %d, Retry-After %q", res.status, res.header.Get("Retry-After"))
	}
	if e := res.errorBody(t); e.Code != switchboard.CodeRateLimited {
		t.Errorf("code %q", e.Code)
	}
	if res := ta.do(t, "GET", "/v1/tenant", b.key, nil); res.status != 200 {
		t.Errorf("another key is limited separately: %d", res.status)
	}
}

// TestCRUDFlow drives each resource through create, read, update, list and
// delete over HTTP, the way an integration would.
func TestCRUDFlow(t *testing.T) {
	ta := newTestAPI(t, nil)
	a := newFixture(t, ta.store, "acme")
	var u switchboard.User
	res := ta.do(t, "POST", "/v1/users", a.key, map[string]any{"email": "carl@acme.test", "first_name": "Carl", "last_name": "Neri",
		"extension": "2001", "agent_number": "77", "team_ids": []int64{a.team}, "skills": []map[string]any{{"skill_id": a.skill, "proficiency": 3}},
		"sip_password": "pw"})
	if res.status != 201 {
		t.Fatalf("create user: %d %s", res.status, res.body)
	}
	res.decode(t, &u)
	if u.ID == 0 || u.Extension != "2001" || len(u.TeamIDs) != 1 || strings.Contains(string(res.body), "pw") {
		t.Fatalf("created user %s", res.body)
	}
	res = ta.do(t, "PATCH", fmt.Sprintf("/v1/users/%d", u.ID), a.key, map[string]any{"last_name": "Bianchi"})
	var patched switchboard.User
	res.decode(t, &patched)
	if res.status != 200 || patched.LastName != "Bianchi" || patched.Extension != "2001" || len(patched.Skills) != 1 {
		t.Fatalf("patch user: %d %s", res.status, res.body)
	}
	if res := ta.do(t, "DELETE", fmt.Sprintf("/v1/users/%d", u.ID), a.key, nil); res.status != 204 {
		t.Fatalf("deactivate: %d %s", res.status, res.body)
	}
	ta.do(t, "GET", fmt.Sprintf("/v1/users/%d", u.ID), a.key, nil).decode(t, &patched)
	if patched.DeactivatedAt == nil {
		t.Errorf("user not deactivated")
	}

	var q switchboard.Queue
	res = ta.do(t, "POST", "/v1/queues", a.key, map[string]any{"name": "Sales Queue", "extension": "8001", "strategy": "ringall"})
	if res.status != 201 {
		t.Fatalf("create queue: %d %s", res.status, res.body)
	}
	res.decode(t, &q)
	res = ta.do(t, "POST", fmt.Sprintf("/v1/queues/%d/members", q.ID), a.key, map[string]any{"user_id": a.user, "penalty": 0})
	if res.status != 201 {
		t.Fatalf("add member: %d %s", res.status, res.body)
	}
	res = ta.do(t, "PATCH", fmt.Sprintf("/v1/queues/%d", q.ID), a.key, map[string]any{"parent_id": nil, "wrap_up_seconds": 15})
	res.decode(t, &q)
	if res.status != 200 || q.WrapUpSeconds != 15 || q.Extension != "8001" {
		t.Fatalf("patch queue: %d %s", res.status, res.body)
	}
	var n switchboard.PhoneNumber
	res = ta.do(t, "POST", "/v1/phone_numbers", a.key, map[string]any{"number": "+390112121212", "label": "Main office", "sms_enabled": true, "user_id": a.user})
	if res.status != 201 {
		t.Fatalf("create number: %d %s", res.status, res.body)
	}
	res.decode(t, &n)
	res = ta.do(t, "PATCH", fmt.Sprintf("/v1/phone_numbers/%d", n.ID), a.key, map[string]any{"user_id": nil, "queue_id": q.ID})
	res.decode(t, &n)
	if res.status != 200 || n.QueueID == nil || n.UserID != nil || n.Number != "+390112121212" {
		t.Fatalf("reassign number: %d %s", res.status, res.body)
	}

	var created createdKey
	res = ta.do(t, "POST", "/v1/api_keys", a.key, map[string]any{"name": "crm", "scopes": []string{"users.read"}})
	res.decode(t, &created)
	if res.status != 201 || created.Secret == "" {
		t.Fatalf("create key: %d %s", res.status, res.body)
	}
	if res := ta.do(t, "GET", "/v1/users", created.Secret, nil); res.status != 200 {
		t.Fatalf("new key: %d", res.status)
	}
	if res := ta.do(t, "DELETE", fmt.Sprintf("/v1/api_keys/%d", created.ID), a.key, nil); res.status != 200 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	if res := ta.do(t, "GET", "/v1/users", created.Secret, nil); res.status != 401 {
		t.Fatalf("revoked key still works: %d", res.status)
	}

	var evs eventsBody
	ta.do(t, "GET", "/v1/events?after_seq=0&limit=1000", a.key, nil).decode(t, &evs)
	if len(evs.Items) < 10 || evs.NextAfterSeq != evs.Items[len(evs.Items)-1].Seq {
		t.Errorf("events: %d items, next %d", len(evs.Items), evs.NextAfterSeq)
	}

	var page listBody[switchboard.User]
	ta.do(t, "GET", "/v1/users?limit=1&include_deactivated=true", a.key, nil).decode(t, &page)
	if page.Metadata.Total != 3 || page.Metadata.NextCursor == "" || page.Metadata.Limit != 1 {
		t.Errorf("metadata %+v", page.Metadata)
	}
	ta.do(t, "GET", "/v1/users?limit=1&include_deactivated=true&cursor="+page.Metadata.NextCursor, a.key, nil).decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != a.user2 {
		t.Errorf("second page %+v", page.Items)
	}
}

// TestOpenAPIGolden pins the generated document; run with -update after an
// intended change and review the diff.
func TestOpenAPIGolden(t *testing.T) {
	ta := newTestAPI(t, nil)
	res := ta.do(t, "GET", "/v1/openapi.json", "", nil)
	if res.status != 200 {
		t.Fatalf("GET /v1/openapi.json: %d", res.status)
	}
	var doc map[string]any
	res.decode(t, &doc)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi version %v", doc["openapi"])
	}
	golden.File(t, filepath.Join("testdata", "openapi.json"), res.body, *update)
	paths := doc["paths"].(map[string]any)
	for _, rt := range ta.api.table.Endpoints() {
		if _, ok := paths[rt.Path].(map[string]any)[strings.ToLower(rt.Method)]; !ok {
			t.Errorf("%s %s missing from the document", rt.Method, rt.Path)
		}
	}
}
