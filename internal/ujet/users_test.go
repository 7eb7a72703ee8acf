package ujet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// usersRig is the dialect over HTTP on loopback with a real store (no call
// center: busy agents are those the engine showed In-Call or Wrap-Up), a
// tenant with a team and agents 11 and 12 (the seed's ids), and a second
// tenant whose objects the first must never see.
type usersRig struct {
	t           *testing.T
	db          *sqlstore.DB
	api         *API
	srv         *httptest.Server
	tenant      switchboard.Tenant
	other       switchboard.Tenant
	key         string
	otherKey    string
	team        switchboard.Team
	ann, bob    switchboard.User
	lunch       switchboard.AgentStatus
	otherUserID int64
}

// usersEngines runs test over each engine: SQLite always, PostgreSQL when
// sqlstoretest.PostgresEnv is set.
func usersEngines(t *testing.T, test func(t *testing.T, r *usersRig)) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) { test(t, newUsersRig(t, mk(t))) })
	}
}

func newUsersRig(t *testing.T, dbURL string) *usersRig {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	r := &usersRig{t: t, db: sqlstoretest.Open(t, dbURL, sqlstore.Options{Logger: log})}
	sqlstoretest.SetNextID(t, dbURL, "users", 11)
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
	r.team, err = r.db.CreateTeam(ctx, tid, switchboard.Team{Name: "Support"})
	must(err)
	r.ann, err = r.db.CreateUser(ctx, tid, switchboard.User{Email: "ann@example.com", FirstName: "Ann", LastName: "Agent",
		AgentNumber: "A-11", Extension: "101", Location: "Berlin", TeamIDs: []int64{r.team.ID}, PhoneNumbers: []string{"+14155550101"}})
	must(err)
	r.bob, err = r.db.CreateUser(ctx, tid, switchboard.User{Email: "bob@example.com", FirstName: "Bob", LastName: "Busy",
		AgentNumber: "A-12", Location: "Lisbon", Roles: []string{switchboard.RoleAgent, switchboard.RoleSupervisor}, MaxChats: 5})
	must(err)
	if r.ann.ID != 11 || r.bob.ID != 12 {
		t.Fatalf("agents are %d and %d, want the seed's 11 and 12", r.ann.ID, r.bob.ID)
	}
	r.lunch, err = r.db.CreateStatus(ctx, tid, switchboard.AgentStatus{Name: "Lunch"})
	must(err)
	ou, err := r.db.CreateUser(ctx, r.other.ID, switchboard.User{Email: "ann@example.com", FirstName: "Other"})
	must(err)
	r.otherUserID = ou.ID
	k, err := r.db.CreateAPIKey(ctx, tid, switchboard.APIKey{Name: "ujet", Scopes: []string{"*"}})
	must(err)
	r.key = k.Secret
	ok2, err := r.db.CreateAPIKey(ctx, r.other.ID, switchboard.APIKey{Name: "ujet", Scopes: []string{"*"}})
	must(err)
	r.otherKey = ok2.Secret
	// The listener exists before the server starts: the API learns its URL
	// and is the handler from the start.
	r.srv = httptest.NewUnstartedServer(nil)
	r.api = New(Options{Store: r.db, Auth: httpapi.NewAuthenticator(r.db, time.Second, log),
		PublicURL: "http://" + r.srv.Listener.Addr().String(), Log: log, SIPDomain: "sip.acme.test"})
	r.srv.Config.Handler = r.api
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

// do sends a request as the tenant (Basic slug:key) and decodes a JSON
// answer into out (when not nil).
func (r *usersRig) do(method, path string, body io.Reader, contentType string, out any) *http.Response {
	r.t.Helper()
	return r.doAs(r.tenant.Slug, r.key, method, path, body, contentType, out)
}

func (r *usersRig) doAs(user, pass, method, path string, body io.Reader, contentType string, out any) *http.Response {
	r.t.Helper()
	req, err := http.NewRequest(method, r.srv.URL+"/apps/api/v1"+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			r.t.Fatalf("%s %s: %d %s: %v", method, path, res.StatusCode, b, err)
		}
	}
	res.Body = io.NopCloser(bytes.NewReader(b))
	return res
}

func (r *usersRig) json(method, path, body string, out any) *http.Response {
	r.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	return r.do(method, path, rd, "application/json", out)
}

// wantMessage checks a UJET error answer: the status and {"message": text}.
func wantMessage(t *testing.T, res *http.Response, status int, text string) {
	t.Helper()
	b, _ := io.ReadAll(res.Body)
	var e map[string]any
	if err := json.Unmarshal(b, &e); err != nil || res.StatusCode != status || e["message"] != text || len(e) != 1 {
		t.Fatalf("answer %d %s, want %d {\"message\": %q}", res.StatusCode, b, status, text)
	}
}

// multipartFile builds a multipart body with the file part and, when id is
// not empty, the id field.
func multipartFile(t *testing.T, id string, file []byte) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if id != "" {
		mw.WriteField("id", id)
	}
	fw, err := mw.CreateFormFile("file", "users.json")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// TestUsersSeedObject: GET /users renders the seed's user object exactly,
// pages with page/per (per up to 999) and applies the seed's four refusals.
func TestUsersSeedObject(t *testing.T) {
	usersEngines(t, func(t *testing.T, r *usersRig) {
		var list []map[string]any
		res := r.json("GET", "/users", "", &list)
		if res.StatusCode != 200 || len(list) != 2 || res.Header.Get("Total") != "2" || res.Header.Get("Per-Page") != "100" ||
			list[0]["deactivated_at"] != nil {
			t.Fatalf("GET /users = %d %v (Total %q)", res.StatusCode, list, res.Header.Get("Total"))
		}
		seed := map[string]string{"id": "number", "email": "string", "first_name": "string", "last_name": "string",
			"agent_number": "string", "location": "string", "max_chat_limit": "number", "max_chat_limit_enabled": "boolean",
			"unrestricted_international_calling": "boolean", "deactivated_at": "string|null", "ucaas_user_name": "string",
			"ucaas_sip_uri": "string", "external_user": "boolean", "phone_numbers": "array", "extension_numbers": "array",
			"teams": "array", "roles": "array"}
		wantShape(t, "user", list[0], seed)
		ann := list[0]
		if ann["id"] != float64(11) || ann["email"] != "ann@example.com" || ann["location"] != "Berlin" || ann["agent_number"] != "A-11" ||
			ann["ucaas_user_name"] != "101" || ann["ucaas_sip_uri"] != "sip:101@sip.acme.test" || ann["max_chat_limit"] != float64(3) ||
			ann["max_chat_limit_enabled"] != false {
			t.Errorf("ann = %v", ann)
		}
		if ext := ann["extension_numbers"].([]any); len(ext) != 1 || ext[0] != float64(101) {
			t.Errorf("extension_numbers = %v, want [101] (integers)", ext)
		}
		if teams := ann["teams"].([]any); len(teams) != 1 || teams[0].(map[string]any)["name"] != "Support" || len(teams[0].(map[string]any)) != 1 {
			t.Errorf("teams = %v", teams)
		}
		if roles := list[1]["roles"].([]any); len(roles) != 2 || roles[0].(map[string]any)["name"] != "Agent" || roles[1].(map[string]any)["name"] != "Manager" {
			t.Errorf("bob's roles = %v, want Agent and Manager", roles)
		}
		if list[1]["max_chat_limit"] != float64(5) || list[1]["max_chat_limit_enabled"] != true {
			t.Errorf("bob's chat limit = %v / %v", list[1]["max_chat_limit"], list[1]["max_chat_limit_enabled"])
		}
		// A deactivated user is listed, deactivated_at in UJET's form.
		gone, err := r.db.CreateUser(context.Background(), r.tenant.ID, switchboard.User{Email: "gone@example.com", FirstName: "Gone"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.db.UpdateUserFunc(context.Background(), r.tenant.ID, gone.ID, func(u *switchboard.User) error {
			now := time.Now()
			u.DeactivatedAt = &now
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		r.json("GET", fmt.Sprintf("/users?id[]=%d", gone.ID), "", &list)
		if len(list) != 1 || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(fmt.Sprint(list[0]["deactivated_at"])) {
			t.Fatalf("deactivated user = %v", list)
		}
		// page/per: per 1, page 2 is bob; per 999 is accepted.
		res = r.json("GET", "/users?page=2&per=1", "", &list)
		if len(list) != 1 || list[0]["id"] != float64(12) || !strings.Contains(res.Header.Get("Link"), `rel="prev"`) {
			t.Fatalf("page 2 per 1 = %v, Link %q", list, res.Header.Get("Link"))
		}
		if res := r.json("GET", "/users?per=999", "", &list); res.StatusCode != 200 || res.Header.Get("Per-Page") != "999" {
			t.Fatalf("per=999 = %d", res.StatusCode)
		}
		for _, q := range []string{"per=1000", "per=0", "per=abc"} {
			wantMessage(t, r.json("GET", "/users?"+q, "", nil), 400, textUsersPer)
		}
		wantMessage(t, r.json("GET", "/users?id[]=11&per=10", "", nil), 400, textUsersPaginate)
		wantMessage(t, r.json("GET", "/users?id[]=11&page=1", "", nil), 400, textUsersPaginate)
		wantMessage(t, r.json("GET", "/users?id[]=11&location[]=Berlin", "", nil), 400, textUsersOneFilter)
		var many strings.Builder
		for i := range 1001 {
			fmt.Fprintf(&many, "&agent_number[]=%d", i)
		}
		wantMessage(t, r.json("GET", "/users?"+many.String()[1:], "", nil), 400, textUsersValues)
		// The other tenant sees only its own user.
		var others []map[string]any
		r.doAs(r.other.Slug, r.otherKey, "GET", "/users", nil, "", &others)
		if len(others) != 1 || others[0]["id"] != float64(r.otherUserID) {
			t.Fatalf("other tenant's users = %v", others)
		}
	})
}

// TestUsersFilters: each of the seed's filters selects exactly the users it
// names; a range's two ends are one filter.
func TestUsersFilters(t *testing.T) {
	usersEngines(t, func(t *testing.T, r *usersRig) {
		ctx := context.Background()
		tid := r.tenant.ID
		if _, err := r.db.SetPresence(ctx, tid, r.ann.ID, switchboard.StatusAvailable, false); err != nil {
			t.Fatal(err)
		}
		if _, err := r.db.SetPresence(ctx, tid, r.bob.ID, switchboard.StatusWrapUp, true); err != nil {
			t.Fatal(err)
		}
		if _, err := r.db.RecordSignIn(ctx, tid, r.ann.ID, "10.0.0.1", switchboard.SessionPresence); err != nil {
			t.Fatal(err)
		}
		available := 0
		sts, _ := r.db.Statuses(ctx, tid, switchboard.ListOptions{Limit: 100})
		for _, s := range sts.Items {
			if s.Name == switchboard.StatusAvailable {
				available = int(s.ID)
			}
		}
		past, future := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		for _, c := range []struct {
			query string
			want  []float64
		}{
			{"id[]=12", []float64{12}},
			{"id[]=11&id[]=12", []float64{11, 12}},
			{"agent_number[]=A-11", []float64{11}},
			{fmt.Sprintf("status_id[]=%d", available), []float64{11}},
			{"online[]=true", []float64{11, 12}},
			{"online[]=false", []float64{}},
			{"wrap_up[]=true", []float64{12}},
			{"wrap_up[]=false", []float64{11}},
			{"location[]=berlin", []float64{11}},
			{"location[]=Berlin&location[]=LISBON", []float64{11, 12}},
			{"last_login_time[from]=" + past + "&last_login_time[to]=" + future, []float64{11}},
			{"last_login_time[from]=" + future, []float64{}},
			{"status_updated_at[from]=" + past, []float64{11, 12}},
			{"status_updated_at[to]=" + past, []float64{}},
		} {
			var list []map[string]any
			res := r.json("GET", "/users?"+c.query, "", &list)
			got := []float64{}
			for _, u := range list {
				got = append(got, u["id"].(float64))
			}
			sort.Float64s(got)
			if res.StatusCode != 200 || !reflect.DeepEqual(got, c.want) {
				t.Errorf("GET /users?%s = %d %v, want %v", c.query, res.StatusCode, got, c.want)
			}
		}
	})
}

// TestEndUsersSeed: the seed's end user body is upserted by identifier and
// found by id and by identifier.
func TestEndUsersSeed(t *testing.T) {
	usersEngines(t, func(t *testing.T, r *usersRig) {
		var created map[string]any
		res := r.json("POST", "/end_users", `{ "identifier": "string", "email": "string", "name": "string", "phone": "string" }`, &created)
		if res.StatusCode != 200 {
			t.Fatalf("POST /end_users = %d %v", res.StatusCode, created)
		}
		wantShape(t, "end user", created, map[string]string{"id": "number", "identifier": "string"})
		var again map[string]any
		r.json("POST", "/end_users", `{"identifier": "string", "name": "Renamed"}`, &again)
		if again["id"] != created["id"] {
			t.Fatalf("upsert made a second end user: %v then %v", created, again)
		}
		eu, _ := r.db.EndUserByIdentifier(context.Background(), r.tenant.ID, "string")
		if eu.Name != "Renamed" || eu.Email != "string" {
			t.Fatalf("stored end user = %+v", eu)
		}
		for _, q := range []string{fmt.Sprintf("id=%v", created["id"]), "identifier=string"} {
			var got map[string]any
			if res := r.json("GET", "/end_users?"+q, "", &got); res.StatusCode != 200 || got["id"] != created["id"] || got["identifier"] != "string" {
				t.Fatalf("GET /end_users?%s = %d %v", q, res.StatusCode, got)
			}
		}
		wantMessage(t, r.json("POST", "/end_users", `{"name": "x"}`, nil), 400, "param is missing or the value is empty: identifier")
		wantMessage(t, r.json("GET", "/end_users?identifier=nobody", "", nil), 404, "Not Found")
		wantMessage(t, r.json("GET", "/end_users", "", nil), 400, "param is missing or the value is empty: id or identifier")
		res = r.doAs(r.other.Slug, r.otherKey, "GET", fmt.Sprintf("/end_users?id=%v", created["id"]), nil, "", nil)
		wantMessage(t, res, 404, "Not Found")
	})
}

// TestAgentStatusSeed: the seed's body moves agents 11 and 12 between
// Available and a custom status; a system target status is refused whole,
// an agent in a system status keeps it with an error.
func TestAgentStatusSeed(t *testing.T) {
	usersEngines(t, func(t *testing.T, r *usersRig) {
		ctx := context.Background()
		tid := r.tenant.ID
		r.db.SetPresence(ctx, tid, r.ann.ID, "Lunch", false)
		r.db.SetPresence(ctx, tid, r.bob.ID, switchboard.StatusInCall, true)
		var out []map[string]any
		res := r.json("POST", "/agent_statuses", `{ "status": "Available", "agent_ids": [11, 12], "team_ids": [] }`, &out)
		if res.StatusCode != 200 || len(out) != 2 {
			t.Fatalf("POST /agent_statuses = %d %v", res.StatusCode, out)
		}
		item := map[string]string{"agent_id": "number", "name": "string", "email": "string", "agent_number": "string",
			"previous_status": "string", "current_status": "string"}
		wantShape(t, "agent status", out[0], item)
		if out[0]["agent_id"] != float64(11) || out[0]["name"] != "Ann Agent" || out[0]["previous_status"] != "Lunch" ||
			out[0]["current_status"] != "Available" {
			t.Errorf("ann = %v", out[0])
		}
		if out[1]["previous_status"] != "In-Call" || out[1]["current_status"] != "In-Call" || out[1]["error"] == nil {
			t.Errorf("bob (on a call) = %v, want unchanged with an error", out[1])
		}
		if p, _ := r.db.Presence(ctx, tid, r.bob.ID); p.Status != switchboard.StatusInCall {
			t.Errorf("bob's presence = %s", p.Status)
		}
		// By team, to a custom status.
		r.json("POST", "/agent_statuses", fmt.Sprintf(`{"status": "lunch", "team_ids": [%d]}`, r.team.ID), &out)
		if len(out) != 1 || out[0]["agent_id"] != float64(11) || out[0]["previous_status"] != "Available" || out[0]["current_status"] != "Lunch" {
			t.Fatalf("by team = %v", out)
		}
		wantMessage(t, r.json("POST", "/agent_statuses", `{"status": "Offline", "agent_ids": [11]}`, nil), 400,
			"Status 'Offline' is a system status: only Available and custom statuses can be set")
		wantMessage(t, r.json("POST", "/agent_statuses", `{"status": "Nap", "agent_ids": [11]}`, nil), 400, "Status 'Nap' is not found")
		wantMessage(t, r.json("POST", "/agent_statuses", fmt.Sprintf(`{"status": "Available", "agent_ids": [%d]}`, r.otherUserID), nil), 400,
			fmt.Sprintf("Agent not found: %d", r.otherUserID))
		wantMessage(t, r.json("POST", "/agent_statuses", `{"agent_ids": [11]}`, nil), 400, "param is missing or the value is empty: status")
	})
}

// TestForceLogoutSeed: the seed's two bodies; idle agents are Offline at
// once, a busy one gets a pending sign-out the worker applies when the
// agent is free; IP selection takes CIDRs, single addresses and ranges.
func TestForceLogoutSeed(t *testing.T) {
	usersEngines(t, func(t *testing.T, r *usersRig) {
		ctx := context.Background()
		tid := r.tenant.ID
		r.db.SetPresence(ctx, tid, r.ann.ID, switchboard.StatusAvailable, false)
		r.db.SetPresence(ctx, tid, r.bob.ID, switchboard.StatusInCall, true)
		var out []map[string]any
		if r.team.ID != 1 {
			t.Fatalf("the team is %d, want the seed's 1", r.team.ID)
		}
		res := r.json("POST", "/agent_statuses/force_logout", `{ "agent_ids": [11, 12], "team_ids": [1] }`, &out)
		if res.StatusCode != 200 || len(out) != 2 {
			t.Fatalf("force logout = %d %v", res.StatusCode, out)
		}
		item := map[string]string{"agent_id": "number", "name": "string", "email": "string", "agent_number": "string",
			"previous_status": "string", "current_status": "string", "pending_logout": "boolean"}
		wantShape(t, "force logout", out[0], item)
		if out[0]["previous_status"] != "Available" || out[0]["current_status"] != "Offline" || out[0]["pending_logout"] != false {
			t.Errorf("ann = %v", out[0])
		}
		if out[1]["current_status"] != "In-Call" || out[1]["pending_logout"] != true {
			t.Errorf("bob = %v, want a pending logout", out[1])
		}
		// The worker leaves bob alone while busy and signs him out once free.
		r.api.applyPendingLogouts(ctx)
		if p, _ := r.db.Presence(ctx, tid, r.bob.ID); p.Status != switchboard.StatusInCall {
			t.Fatalf("busy bob's presence = %s", p.Status)
		}
		r.db.SetPresence(ctx, tid, r.bob.ID, switchboard.StatusAvailable, true) // the call ended
		r.api.applyPendingLogouts(ctx)
		if p, _ := r.db.Presence(ctx, tid, r.bob.ID); p.Status != switchboard.StatusOffline {
			t.Fatalf("free bob's presence = %s, want Offline", p.Status)
		}
		if pend, _ := r.db.PendingLogouts(ctx, 10); len(pend) != 0 {
			t.Fatalf("pending after the sweep = %v", pend)
		}
		// The seed's body with addresses: agents, team 1 and a CIDR.
		ou, _ := r.db.CreateUser(ctx, tid, switchboard.User{Email: "carl@example.com", FirstName: "Carl"})
		for id, addr := range map[int64]string{r.ann.ID: "10.1.1.1", r.bob.ID: "10.1.1.2", ou.ID: "34.211.11.200"} {
			r.db.SetPresence(ctx, tid, id, switchboard.StatusAvailable, false)
			r.db.RecordSignIn(ctx, tid, id, addr, switchboard.SessionPresence)
		}
		res = r.json("POST", "/agent_statuses/force_logout", `{ "agent_ids": [11, 12], "team_ids": [1], "ip_addrs": ["34.211.11.0/24"] }`, &out)
		if res.StatusCode != 200 || len(out) != 3 {
			t.Fatalf("seed body with ip_addrs = %d %v, want ann, bob and carl", res.StatusCode, out)
		}
		for _, e := range out {
			wantShape(t, "force logout", e, item)
			if e["current_status"] != "Offline" {
				t.Errorf("entry %v", e)
			}
		}
		// By address alone, with single addresses and a range.
		for id, addr := range map[int64]string{r.ann.ID: "34.211.11.7", r.bob.ID: "34.211.12.1"} {
			r.db.SetPresence(ctx, tid, id, switchboard.StatusAvailable, false)
			r.db.RecordSignIn(ctx, tid, id, addr, switchboard.SessionPresence)
		}
		res = r.json("POST", "/agent_statuses/force_logout", `{ "agent_ids": [], "team_ids": [], "ip_addrs": ["34.211.11.0/24"] }`, &out)
		if res.StatusCode != 200 || len(out) != 1 || out[0]["agent_id"] != float64(11) {
			t.Fatalf("by CIDR = %d %v, want ann only", res.StatusCode, out)
		}
		r.json("POST", "/agent_statuses/force_logout", `{"ip_addrs": ["34.211.12.0-34.211.12.9", "2001:db8::1"]}`, &out)
		if len(out) != 1 || out[0]["agent_id"] != float64(12) {
			t.Fatalf("by range = %v, want bob only", out)
		}
		r.json("POST", "/agent_statuses/force_logout", `{"ip_addrs": ["34.211.12.1"]}`, &out)
		if len(out) != 0 {
			t.Fatalf("an Offline agent logged out again: %v", out)
		}
		wantMessage(t, r.json("POST", "/agent_statuses/force_logout", `{"ip_addrs": ["34.211.11.0/99"]}`, nil), 400,
			"Invalid IP address: 34.211.11.0/99")
		wantMessage(t, r.json("POST", "/agent_statuses/force_logout", `{"ip_addrs": ["10.0.0.9-10.0.0.1"]}`, nil), 400,
			"Invalid IP address: 10.0.0.9-10.0.0.1")
		wantMessage(t, r.json("POST", "/agent_statuses/force_logout", `{}`, nil), 400, "param is missing or the value is empty: agent_ids")
	})
}

// TestForceLogoutJob: more than 100 online agents make a background job;
// the job (the seed's fourth item, by id) finishes with every agent Offline,
// and is listed under both paths.
func TestForceLogoutJob(t *testing.T) {
	r := newUsersRig(t, sqlstoretest.SQLiteURL(t))
	ctx := context.Background()
	tid := r.tenant.ID
	for i := range 110 {
		u, err := r.db.CreateUser(ctx, tid, switchboard.User{Email: fmt.Sprintf("bulk%d@example.com", i), FirstName: "Bulk",
			TeamIDs: []int64{r.team.ID}})
		if err != nil {
			t.Fatal(err)
		}
		r.db.SetPresence(ctx, tid, u.ID, switchboard.StatusAvailable, false)
	}
	var job map[string]any
	res := r.json("POST", "/agent_statuses/force_logout", fmt.Sprintf(`{ "agent_ids": [11, 12], "team_ids": [%d] }`, r.team.ID), &job)
	if res.StatusCode != 202 || job["status"] != "created" || job["total"] != float64(110) {
		t.Fatalf("large force logout = %d %v", res.StatusCode, job)
	}
	r.api.runLogoutJobs(ctx)
	var got map[string]any
	res = r.json("GET", fmt.Sprintf("/agent_statuses/force_logout/jobs/%v", job["id"]), "", &got)
	if res.StatusCode != 200 || got["status"] != "finished" || got["processed"] != float64(110) || len(got["results"].([]any)) != 110 {
		t.Fatalf("job = %d %v", res.StatusCode, got["status"])
	}
	wantShape(t, "job", got, map[string]string{"id": "number", "status": "string", "link": "string", "total": "number",
		"processed": "number", "results": "array", "created_at": "string", "updated_at": "string", "finished_at": "string"})
	online, _ := r.db.Users(ctx, tid, switchboard.UserFilter{}, switchboard.ListOptions{Limit: 1000})
	for _, u := range online.Items {
		if u.Presence.Status != switchboard.StatusOffline {
			t.Fatalf("user %d is %s after the job", u.ID, u.Presence.Status)
		}
	}
	var list []map[string]any
	for _, p := range []string{"/agent_statuses/force_logout/jobs", "/agent_statuses/jobs"} {
		if res := r.json("GET", p, "", &list); res.StatusCode != 200 || len(list) != 1 || list[0]["id"] != job["id"] {
			t.Fatalf("GET %s = %d %v", p, res.StatusCode, list)
		}
	}
	if res := r.json("GET", fmt.Sprintf("/agent_statuses/jobs/%v", job["id"]), "", &got); res.StatusCode != 200 || got["id"] != job["id"] {
		t.Fatalf("GET by the alias = %d %v", res.StatusCode, got)
	}
}

// bulkRow is a file row for tests.
func bulkRow(email, first string, extra string) string {
	return fmt.Sprintf(`{"email": %q, "first_name": %q, "last_name": "Bulk"%s}`, email, first, extra)
}

// TestBulkUsersSeed walks the seed's flow: template, upload (multipart
// file), validation by the worker (invalid rows in the scheme log with the
// seed's texts), a replaced file (PUT), proceed, and a finished job with
// each row's outcome.
func TestBulkUsersSeed(t *testing.T) {
	usersEngines(t, func(t *testing.T, r *usersRig) {
		ctx := context.Background()
		var tpl []map[string]any
		if res := r.json("GET", "/bulk/users/template", "", &tpl); res.StatusCode != 200 || len(tpl) == 0 {
			t.Fatalf("template = %d %v", res.StatusCode, tpl)
		}
		wantShape(t, "template row", tpl[0], map[string]string{"email": "string", "new_email": "string", "agent_number": "string",
			"first_name": "string", "last_name": "string", "status": "string", "location": "string", "max_chat_limit": "number",
			"max_chat_limit_enabled": "number", "roles": "array", "teams": "array"})
		if teams := tpl[0]["teams"].([]any); len(teams) != 1 || teams[0].(map[string]any)["name"] != "Support" {
			t.Errorf("template teams = %v", teams)
		}
		// The template itself is a valid file.
		tplFile, _ := json.Marshal(tpl)

		bad := "[" + strings.Join([]string{
			bulkRow("new@example.com", "New", `, "status": "Active", "location": "berlin", "roles": [{"name": "Manager", "value": 1}]`),
			bulkRow("not-an-email", "X", ""),
			bulkRow("new@example.com", "Dup", ""),
			bulkRow("a@example.com", "", `, "status": "active", "location": "Paris", "max_chat_limit": 0, "max_chat_limit_enabled": 2`),
			bulkRow("b@example.com", "B", `, "teams": [{"name": "Nope", "value": 1}], "roles": [{"name": "Agent", "value": 5}]`),
		}, ",") + "]"
		body, ct := multipartFile(t, "", []byte(bad))
		var created map[string]any
		res := r.do("POST", "/bulk/users/upload", body, ct, &created)
		if res.StatusCode != 201 {
			t.Fatalf("upload = %d %v", res.StatusCode, created)
		}
		wantShape(t, "upload", created, map[string]string{"id": "number", "status": "string", "link": "string"})
		link := fmt.Sprintf("%s/apps/api/v1/bulk/users_jobs/%v", r.srv.URL, created["id"])
		if created["status"] != "created" || created["link"] != link || res.Header.Get("Link") != "<"+link+">" {
			t.Fatalf("upload = %v, Link %q", created, res.Header.Get("Link"))
		}
		id := fmt.Sprint(created["id"])
		wantMessage(t, r.json("POST", "/bulk/users/proceed", `{"id": `+id+`}`, nil), 400,
			"Job status is created: only a job with status valid_scheme can proceed")
		r.api.runUserJobs(ctx)
		var job map[string]any
		r.json("GET", "/bulk/users/jobs/"+id, "", &job)
		if job["status"] != "invalid_scheme" || job["scheme_error_count"] != float64(4) || job["total_count"] != float64(5) {
			t.Fatalf("validated job = %v", job)
		}
		var log []map[string]any
		r.json("GET", "/bulk/users/errors/scheme/"+id, "", &log)
		got := map[string]bool{}
		for _, e := range log {
			for _, fe := range e["errors"].([]any) {
				m := fe.(map[string]any)
				got[fmt.Sprintf("%v %v: %v", e["row"], m["field"], m["message"])] = true
			}
		}
		for _, want := range []string{
			"2 email: " + msgEmail,
			"3 email: " + msgUnique,
			"4 first_name: " + msgNonEmpty,
			"4 status: " + msgStatus,
			"4 location: " + msgLocation,
			"4 max_chat_limit: Must be 1 to 50 (inclusively), or empty",
			"4 max_chat_limit_enabled: " + msgZeroOne,
			"5 teams[0].name: Must be the name of an existing team",
			"5 roles[0].value: " + msgZeroOne,
		} {
			if !got[want] {
				t.Errorf("scheme log lacks %q; has %v", want, got)
			}
		}
		if len(got) != 9 {
			t.Errorf("scheme log = %v, want exactly 9 errors", got)
		}
		// PUT a corrected file into the same job.
		good := "[" + strings.Join([]string{
			bulkRow("new@example.com", "New", `, "status": "Active", "location": "berlin", "max_chat_limit": "7", "max_chat_limit_enabled": 1, "roles": [{"name": "Manager", "value": 1}, {"name": "Agent", "value": ""}], "teams": [{"name": "support", "value": 1}]`),
			bulkRow("ANN@example.com", "Annette", `, "new_email": "annette@example.com", "status": "Inactive", "location": null, "teams": [{"name": "Support", "value": 0}]`),
			bulkRow("ghost@example.com", "Ghost", `, "new_email": "spirit@example.com"`),
		}, ",") + "]"
		body, ct = multipartFile(t, id, []byte(good))
		res = r.do("PUT", "/bulk/users/upload", body, ct, &created)
		if res.StatusCode != 200 || created["status"] != "created" || fmt.Sprint(created["id"]) != id {
			t.Fatalf("PUT upload = %d %v", res.StatusCode, created)
		}
		r.api.runUserJobs(ctx)
		r.json("GET", "/bulk/users/jobs/"+id, "", &job)
		if job["status"] != "valid_scheme" {
			t.Fatalf("job after the new file = %v", job)
		}
		// The seed's proceed body is the form field id = {{job_id}}.
		var form bytes.Buffer
		fw := multipart.NewWriter(&form)
		fw.WriteField("id", id)
		fw.Close()
		res = r.do("POST", "/bulk/users/proceed", &form, fw.FormDataContentType(), &job)
		if res.StatusCode != 200 || job["status"] != "in_progress" {
			t.Fatalf("proceed = %d %v", res.StatusCode, job)
		}
		body, ct = multipartFile(t, id, []byte(good))
		wantMessage(t, r.do("PUT", "/bulk/users/upload", body, ct, nil), 400, "Job "+id+" has already proceeded: its file can no longer be replaced")
		r.api.runUserJobs(ctx)
		r.json("GET", "/bulk/users/jobs/"+id, "", &job)
		if job["status"] != "finished" || job["created_count"] != float64(1) || job["updated_count"] != float64(1) || job["failed_count"] != float64(1) {
			t.Fatalf("finished job = %v", job)
		}
		results := job["results"].([]any)
		if len(results) != 3 || results[0].(map[string]any)["result"] != "created" || results[1].(map[string]any)["result"] != "updated" ||
			results[2].(map[string]any)["result"] != "failed" || !strings.Contains(fmt.Sprint(results[2].(map[string]any)["reason"]), "new_email") {
			t.Fatalf("results = %v", results)
		}
		nu, err := r.db.UserByEmail(ctx, r.tenant.ID, "new@example.com")
		if err != nil || nu.Location != "Berlin" || nu.MaxChats != 7 || !reflect.DeepEqual(nu.Roles, []string{"supervisor"}) ||
			!reflect.DeepEqual(nu.TeamIDs, []int64{r.team.ID}) {
			t.Fatalf("created user = %+v, %v", nu, err)
		}
		an, err := r.db.User(ctx, r.tenant.ID, r.ann.ID)
		if err != nil || an.Email != "annette@example.com" || an.FirstName != "Annette" || an.DeactivatedAt == nil || an.Location != "" ||
			len(an.TeamIDs) != 0 || an.Extension != "101" {
			t.Fatalf("updated ann = %+v, %v", an, err)
		}
		var jobs []map[string]any
		r.json("GET", "/bulk/users/jobs", "", &jobs)
		if len(jobs) != 1 || jobs[0]["results"] != nil {
			t.Fatalf("jobs = %v", jobs)
		}
		// The Link header's path answers too; the other tenant sees nothing.
		if res := r.json("GET", "/bulk/users_jobs/"+id, "", &job); res.StatusCode != 200 || job["status"] != "finished" {
			t.Fatalf("GET the Link = %d", res.StatusCode)
		}
		wantMessage(t, r.doAs(r.other.Slug, r.otherKey, "GET", "/bulk/users/jobs/"+id, nil, "", nil), 404, "Not Found")
		// The template, uploaded, validates.
		body, ct = multipartFile(t, "", tplFile)
		r.do("POST", "/bulk/users/upload", body, ct, &created)
		r.api.runUserJobs(ctx)
		r.json("GET", fmt.Sprintf("/bulk/users/jobs/%v", created["id"]), "", &job)
		if job["status"] != "valid_scheme" {
			var log []map[string]any
			r.json("GET", fmt.Sprintf("/bulk/users/errors/scheme/%v", created["id"]), "", &log)
			t.Fatalf("the template's own rows = %v: %v", job["status"], log)
		}
		// A file that is not a JSON array is one scheme error.
		body, ct = multipartFile(t, "", []byte(`{"email": "x"}`))
		r.do("POST", "/bulk/users/upload", body, ct, &created)
		r.api.runUserJobs(ctx)
		r.json("GET", fmt.Sprintf("/bulk/users/errors/scheme/%v", created["id"]), "", &log)
		if len(log) != 1 || log[0]["row"] != float64(0) {
			t.Fatalf("scheme log of a non-array = %v", log)
		}
		wantMessage(t, r.json("POST", "/bulk/users/proceed", `{}`, nil), 400, "param is missing or the value is empty: id")
		wantMessage(t, r.json("POST", "/bulk/users/proceed", `{"id": 999999}`, nil), 404, "Not Found")
	})
}

// TestBulkUsersResume: a job stopped halfway (a server that died after some
// batches) is finished by a fresh API on the same store, which applies only
// the rows not yet applied.
func TestBulkUsersResume(t *testing.T) {
	r := newUsersRig(t, sqlstoretest.SQLiteURL(t))
	ctx := context.Background()
	tid := r.tenant.ID
	var rows []string
	for i := range 600 {
		rows = append(rows, bulkRow(fmt.Sprintf("r%d@example.com", i), "Row", ""))
	}
	j, err := r.db.CreateUserJob(ctx, tid, "users.json", []byte("["+strings.Join(rows, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	r.api.runUserJobs(ctx)
	if _, err := r.db.ProceedUserJob(ctx, tid, j.ID); err != nil {
		t.Fatal(err)
	}
	// The first server applies one batch, then dies.
	first, _ := r.db.UserJobRows(ctx, tid, j.ID, switchboard.UserRowFilter{Pending: true}, switchboard.ListOptions{Limit: userJobBatch})
	var changes []switchboard.UserRowChange
	for _, row := range first.Items {
		ur, _ := parseUserRow(row.Data, &userRefs{})
		changes = append(changes, switchboard.UserRowChange{Row: row.Row, Email: ur.email, Patch: ur.patch(time.Now())})
	}
	if _, err := r.db.ApplyUserJobRows(ctx, tid, j.ID, changes); err != nil {
		t.Fatal(err)
	}
	// A new server's worker resumes it.
	fresh := New(Options{Store: r.db, Auth: r.api.opt.Auth, PublicURL: r.srv.URL, Log: r.api.opt.Log})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); fresh.Run(runCtx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, _ := r.db.UserJob(ctx, tid, j.ID)
		if got.Status == switchboard.UserJobFinished {
			if got.Created != 600 || got.Processed != 600 || got.Failed != 0 {
				t.Fatalf("resumed job = %+v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the resumed job is %+v after 20s", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	all, _ := r.db.Users(ctx, tid, switchboard.UserFilter{}, switchboard.ListOptions{Limit: 1000})
	if all.Total != 602 {
		t.Fatalf("users = %d, want 600 rows + 2", all.Total)
	}
}

// TestUsersRoutesInOpenAPI: the document lists every route of the users and
// agents group, with its method.
func TestUsersRoutesInOpenAPI(t *testing.T) {
	r := newUsersRig(t, sqlstoretest.SQLiteURL(t))
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if res := r.json("GET", "/openapi.json", "", &doc); res.StatusCode != 200 {
		t.Fatalf("openapi.json: %d", res.StatusCode)
	}
	for _, rt := range append(append(append(r.api.bulkUserRoutes(), r.api.userRoutes()...), r.api.endUserRoutes()...), r.api.agentStatusRoutes()...) {
		ops, ok := doc.Paths["/apps/api/v1"+rt.Path]
		if !ok || ops[strings.ToLower(rt.Method)] == nil {
			t.Errorf("the document lacks %s %s", rt.Method, rt.Path)
		}
	}
}

// TestUsersParseIPs: ip_addrs entries are CIDRs, single IPv4 or IPv6
// addresses, or ranges "a-b" of one family; v4-mapped addresses match as
// IPv4.
func TestUsersParseIPs(t *testing.T) {
	ms, err := parseIPs([]string{"34.211.11.0/24", " 10.0.0.5 ", "2001:db8::/32", "192.168.1.10-192.168.1.20", "fe80::1-fe80::9"})
	if err != nil {
		t.Fatal(err)
	}
	match := func(addr string) bool {
		a := netip.MustParseAddr(addr)
		for _, m := range ms {
			if m.match(a) {
				return true
			}
		}
		return false
	}
	for addr, want := range map[string]bool{
		"34.211.11.0": true, "34.211.11.255": true, "34.211.12.0": false, "::ffff:34.211.11.9": true,
		"10.0.0.5": true, "10.0.0.6": false,
		"2001:db8:1::7": true, "2001:db9::1": false,
		"192.168.1.10": true, "192.168.1.20": true, "192.168.1.21": false, "192.168.1.9": false,
		"fe80::5": true, "fe80::a": false,
	} {
		if got := match(addr); got != want {
			t.Errorf("%s matches = %v, want %v", addr, got, want)
		}
	}
	for _, bad := range []string{"", "10.0.0", "10.0.0.0/33", "10.0.0.9-10.0.0.1", "10.0.0.1-fe80::1", "host.example.com"} {
		if _, err := parseIPs([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
