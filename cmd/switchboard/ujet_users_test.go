package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/siptest"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// ujetUsersClient calls the UJET dialect as UJET's clients do: HTTP Basic with
// the tenant's slug and a key `switchboard key create --tenant` printed.
type ujetUsersClient struct {
	t          *testing.T
	base, slug string
	key        string
}

func (u ujetUsersClient) do(method, path string, body io.Reader, contentType string, out any) int {
	u.t.Helper()
	req, err := http.NewRequest(method, u.base+"/apps/api/v1"+path, body)
	if err != nil {
		u.t.Fatal(err)
	}
	req.SetBasicAuth(u.slug, u.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			u.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
	}
	return res.StatusCode
}

func (u ujetUsersClient) json(method, path string, body any, out any) int {
	u.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	return u.do(method, path, rd, "application/json", out)
}

// upload sends rows as the multipart file of a bulk user upload (POST a new
// job, or PUT into job id).
func (u ujetUsersClient) upload(method, id string, rows []map[string]any, out any) int {
	u.t.Helper()
	file, _ := json.Marshal(rows)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if id != "" {
		mw.WriteField("id", id)
	}
	fw, _ := mw.CreateFormFile("file", "users.json")
	fw.Write(file)
	mw.Close()
	return u.do(method, "/bulk/users/upload", &buf, mw.FormDataContentType(), out)
}

// waitJob polls a bulk user job until its status is one of want.
func (u ujetUsersClient) waitJob(id string, within time.Duration, want ...string) map[string]any {
	u.t.Helper()
	deadline := time.Now().Add(within)
	for {
		var job map[string]any
		u.json("GET", "/bulk/users/jobs/"+id, nil, &job)
		for _, w := range want {
			if job["status"] == w {
				return job
			}
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("job %s is %v after %s, want %v", id, job["status"], within, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestUJETUsersBulkUpload5000 uploads 5,000 users over the UJET dialect of a
// running server: a first file with invalid rows is refused row by row in
// the scheme log; the corrected file, put into the same job, validates,
// proceeds and finishes with 200 updates, the new users created, and a
// failure with its reason for each row the user model refuses (an agent
// number over 32 characters, a new_email for a user who does not exist).
func TestUJETUsersBulkUpload5000(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			key := newTenantKey(t, db)
			m, base, _ := startServer(t, "--db", db, "--metrics-addr", "", "--ujet-rate-limit", "0")
			ctx := context.Background()
			tn, err := m.store.TenantBySlug(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.store.CreateTeam(ctx, tn.ID, switchboard.Team{Name: "Support"}); err != nil {
				t.Fatal(err)
			}
			if _, err := m.store.CreateUser(ctx, tn.ID, switchboard.User{Email: "lead@acme.test", FirstName: "Lead", Location: "Berlin"}); err != nil {
				t.Fatal(err)
			}
			const existing, total = 200, 5000
			for i := 1; i <= existing; i++ {
				if _, err := m.store.CreateUser(ctx, tn.ID, switchboard.User{Email: fmt.Sprintf("user%d@acme.test", i), FirstName: "Old"}); err != nil {
					t.Fatal(err)
				}
			}
			u := ujetUsersClient{t: t, base: base, slug: "acme", key: key}
			row := func(i int) map[string]any {
				return map[string]any{"email": fmt.Sprintf("user%d@acme.test", i), "first_name": "User", "last_name": fmt.Sprint(i),
					"agent_number": fmt.Sprint(10000 + i), "status": "Active", "location": "berlin", "max_chat_limit": 4,
					"max_chat_limit_enabled": 1, "roles": []map[string]any{{"name": "Agent", "value": 1}},
					"teams": []map[string]any{{"name": "Support", "value": 1}}}
			}
			// The first file: every 500th row has no valid e-mail.
			rows := make([]map[string]any, total)
			schemeBad := map[int]bool{}
			for i := 1; i <= total; i++ {
				rows[i-1] = row(i)
				if i%500 == 0 {
					rows[i-1]["email"] = fmt.Sprintf("user%d-at-acme.test", i)
					schemeBad[i] = true
				}
			}
			var created map[string]any
			if status := u.upload("POST", "", rows, &created); status != 201 || created["status"] != "created" {
				t.Fatalf("upload: %d %v", status, created)
			}
			id := fmt.Sprint(created["id"])
			job := u.waitJob(id, 60*time.Second, "invalid_scheme", "valid_scheme")
			if job["status"] != "invalid_scheme" || job["scheme_error_count"] != float64(len(schemeBad)) {
				t.Fatalf("first file: %v", job)
			}
			var log []map[string]any
			u.json("GET", "/bulk/users/errors/scheme/"+id, nil, &log)
			if len(log) != len(schemeBad) {
				t.Fatalf("scheme log has %d rows, want %d", len(log), len(schemeBad))
			}
			for _, e := range log {
				errs := e["errors"].([]any)
				if !schemeBad[int(e["row"].(float64))] || len(errs) != 1 || errs[0].(map[string]any)["message"] != "Must be a valid email" {
					t.Fatalf("scheme log entry %v", e)
				}
			}

			// The corrected file: the scheme holds, but the user model
			// refuses some rows when they are applied.
			failing := map[int]string{}
			for i := 1; i <= total; i++ {
				rows[i-1] = row(i)
				switch {
				case i > existing && i%100 == 50:
					rows[i-1]["agent_number"] = strings.Repeat("9", 40)
					failing[i] = "agent_number"
				case i > existing && i%250 == 125:
					rows[i-1]["new_email"] = fmt.Sprintf("renamed%d@acme.test", i)
					failing[i] = "new_email"
				}
			}
			validating := time.Now()
			if status := u.upload("PUT", id, rows, &created); status != 200 || created["status"] != "created" {
				t.Fatalf("PUT upload: %d %v", status, created)
			}
			job = u.waitJob(id, 60*time.Second, "invalid_scheme", "valid_scheme")
			if job["status"] != "valid_scheme" {
				t.Fatalf("corrected file: %v", job)
			}
			t.Logf("%s: %d rows uploaded and validated in %s", name, total, time.Since(validating).Round(time.Millisecond))
			start := time.Now()
			if status := u.json("POST", "/bulk/users/proceed", map[string]any{"id": created["id"]}, &job); status != 200 {
				t.Fatalf("proceed: %d %v", status, job)
			}
			job = u.waitJob(id, 120*time.Second, "finished")
			took := time.Since(start)
			t.Logf("%s: %d rows applied in %s (%.0f rows/s)", name, total, took.Round(time.Millisecond), float64(total)/took.Seconds())
			wantCreated := total - existing - len(failing)
			if job["created_count"] != float64(wantCreated) || job["updated_count"] != float64(existing) ||
				job["failed_count"] != float64(len(failing)) || job["processed_count"] != float64(total) {
				t.Fatalf("finished job: created %v updated %v failed %v processed %v; want %d, %d, %d", job["created_count"],
					job["updated_count"], job["failed_count"], job["processed_count"], wantCreated, existing, len(failing))
			}
			results := job["results"].([]any)
			if len(results) != total {
				t.Fatalf("%d results, want %d", len(results), total)
			}
			for _, r := range results {
				res := r.(map[string]any)
				i := int(res["row"].(float64))
				field, bad := failing[i]
				switch {
				case bad && (res["result"] != "failed" || !strings.Contains(fmt.Sprint(res["reason"]), field)):
					t.Fatalf("row %d (bad %s): %v", i, field, res)
				case !bad && i <= existing && res["result"] != "updated":
					t.Fatalf("row %d: %v, want updated", i, res)
				case !bad && i > existing && res["result"] != "created":
					t.Fatalf("row %d: %v, want created", i, res)
				}
			}
			if took > 60*time.Second { // a shared, loaded machine still makes it in seconds
				t.Errorf("5,000 rows took %s", took)
			}
			// The users are there, as the rows say.
			var users []map[string]any
			u.json("GET", "/users?agent_number[]=10300&agent_number[]=10007", nil, &users)
			if len(users) != 2 {
				t.Fatalf("users by agent number: %v", users)
			}
			for _, us := range users {
				if us["location"] != "Berlin" || us["max_chat_limit"] != float64(4) || us["last_name"] == "" ||
					fmt.Sprint(us["teams"]) != "[map[name:Support]]" || fmt.Sprint(us["roles"]) != "[map[name:Agent]]" {
					t.Fatalf("user %v", us)
				}
			}
			var page []map[string]any
			req, _ := http.NewRequest("GET", base+"/apps/api/v1/users?per=1", nil)
			req.SetBasicAuth("acme", key)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			json.NewDecoder(res.Body).Decode(&page)
			res.Body.Close()
			if want := fmt.Sprint(1 + existing + wantCreated); res.Header.Get("Total") != want {
				t.Fatalf("Total users %q, want %s", res.Header.Get("Total"), want)
			}
		})
	}
}

// loopbackClient is an HTTP client whose connections come from the local
// address ip (127.0.0.1, 127.0.0.2 …: all of 127/8 is this host's).
func loopbackClient(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestUJETUsersForceLogoutCIDR: six agents sign in with their own keys
// through the native presence route, three from 127.0.0.1 and three from
// 127.0.0.2 (the server records each sign-in's address; it trusts no
// forwarding header). One of the first three is on a call. A UJET force
// logout of 127.0.0.1/32 logs out exactly the first three: the two idle at
// once, the busy one when the call ends (it is hung up a while after the
// logout); the other three stay Available.
func TestUJETUsersForceLogoutCIDR(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			key := newTenantKey(t, db)
			m, base, _ := startServer(t, "--db", db, "--metrics-addr", "", "--ujet-rate-limit", "0")
			ctx := context.Background()
			c := client{t: t, base: base, key: key}
			_, q := c.do("POST", "/v1/queues", map[string]any{"name": "Q", "extension": "8001"})
			qid := int64(q["id"].(float64))
			tn, err := m.store.TenantBySlug(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			from := map[int64]string{}
			for i := range 6 {
				status, u := c.do("POST", "/v1/users", map[string]any{"email": fmt.Sprintf("agent%d@acme.test", i), "first_name": "Agent",
					"last_name": fmt.Sprint(i), "extension": fmt.Sprint(1001 + i)})
				if status != 201 {
					t.Fatalf("create user: %d %v", status, u)
				}
				id := int64(u["id"].(float64))
				ids = append(ids, id)
				uk, err := m.store.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{Name: "agent", UserID: &id})
				if err != nil {
					t.Fatal(err)
				}
				ip := "127.0.0.1"
				if i >= 3 {
					ip = "127.0.0.2"
				}
				from[id] = ip
				req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/users/%d/status", base, id), strings.NewReader(`{"status": "Available"}`))
				req.Header.Set("Authorization", "Bearer "+uk.Secret)
				req.Header.Set("Content-Type", "application/json")
				res, err := loopbackClient(ip).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Fatalf("agent %d signs in from %s: %d", id, ip, res.StatusCode)
				}
			}
			// The sign-ins are recorded with their addresses.
			last, err := m.store.LastSignIns(ctx, tn.ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if last[id].RemoteAddr != from[id] || last[id].Source != switchboard.SessionPresence {
					t.Fatalf("agent %d's sign-in %+v, want from %s", id, last[id], from[id])
				}
			}
			// The first agent takes a call.
			busy := ids[0]
			c.do("POST", fmt.Sprintf("/v1/queues/%d/members", qid), map[string]any{"user_id": busy})
			_, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "8001", "answer_after_seconds": 0, "talk_seconds": 3600})
			callID := int64(call["id"].(float64))
			waitCall(t, c, callID, func(v map[string]any) bool { return v["status"] == "connected" })

			u := ujetUsersClient{t: t, base: base, slug: "acme", key: key}
			var out []map[string]any
			if status := u.json("POST", "/agent_statuses/force_logout", map[string]any{"agent_ids": []int64{}, "team_ids": []int64{},
				"ip_addrs": []string{"127.0.0.1/32"}}, &out); status != 200 {
				t.Fatalf("force logout: %d %v", status, out)
			}
			got := map[int64]map[string]any{}
			for _, e := range out {
				got[int64(e["agent_id"].(float64))] = e
			}
			if len(got) != 3 {
				t.Fatalf("force logout answered %v, want exactly the three agents of 127.0.0.1", out)
			}
			for _, id := range ids[:3] {
				e := got[id]
				if id == busy {
					if e["pending_logout"] != true || e["current_status"] != "In-Call" {
						t.Fatalf("busy agent: %v", e)
					}
					continue
				}
				if e["pending_logout"] != false || e["current_status"] != "Offline" || e["previous_status"] != "Available" {
					t.Fatalf("idle agent: %v", e)
				}
			}
			presence := func(id int64) string {
				p, err := m.store.Presence(ctx, tn.ID, id)
				if err != nil {
					t.Fatal(err)
				}
				return p.Status
			}
			if p := presence(busy); p != "In-Call" {
				t.Fatalf("the busy agent is %s during the call", p)
			}
			// The agent is still busy a while later; then the call ends.
			time.Sleep(300 * time.Millisecond)
			if p := presence(busy); p != "In-Call" {
				t.Fatalf("the busy agent is %s before the call ends", p)
			}
			if status, v := c.do("POST", fmt.Sprintf("/v1/calls/%d/hangup", callID), nil); status != 200 {
				t.Fatalf("hang up: %d %v", status, v)
			}
			deadline := time.Now().Add(15 * time.Second)
			for presence(busy) != "Offline" {
				if time.Now().After(deadline) {
					t.Fatalf("the busy agent is %s after the call ended", presence(busy))
				}
				time.Sleep(50 * time.Millisecond)
			}
			var online []map[string]any
			u.json("GET", "/users?online[]=true", nil, &online)
			var onlineIDs []int64
			for _, e := range online {
				onlineIDs = append(onlineIDs, int64(e["id"].(float64)))
			}
			sort.Slice(onlineIDs, func(i, j int) bool { return onlineIDs[i] < onlineIDs[j] })
			if fmt.Sprint(onlineIDs) != fmt.Sprint(ids[3:]) {
				t.Fatalf("online after the logout: %v, want %v (the agents of 127.0.0.2)", onlineIDs, ids[3:])
			}
			for _, id := range ids[3:] {
				if p := presence(id); p != "Available" {
					t.Fatalf("agent %d of 127.0.0.2 is %s", id, p)
				}
			}
		})
	}
}

// TestUJETUsersSIPSignIn: an agent's phone registering with the server's
// registrar is a sign-in from the REGISTER's address: GET /users finds the
// agent by last_login_time, and a force logout of that address logs them
// out; a refresh of the registration is not a new sign-in.
func TestUJETUsersSIPSignIn(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	port := siptest.FreeUDPPort(t)
	lo := siptest.FreeUDPRange(t, 20)
	m, base, _ := startServer(t, "--db", db, "--metrics-addr", "", "--ujet-rate-limit", "0", "--telephony", "sip",
		"--sip-listen", fmt.Sprintf("udp:127.0.0.1:%d", port), "--rtp-ports", fmt.Sprintf("%d-%d", lo, lo+19))
	c := client{t: t, base: base, key: key}
	status, u := c.do("POST", "/v1/users", map[string]any{"email": "phone@acme.test", "first_name": "Phone", "extension": "1001",
		"sip_password": "pw-1001-x9"})
	if status != 201 {
		t.Fatalf("create user: %d %v", status, u)
	}
	id := int64(u["id"].(float64))
	// Signed in by an admin (a company key): no sign-in of the agent's own.
	if status, p := c.do("POST", fmt.Sprintf("/v1/users/%d/status", id), map[string]any{"status": "Available"}); status != 200 {
		t.Fatalf("status: %d %v", status, p)
	}
	ctx := context.Background()
	tn, _ := m.store.TenantBySlug(ctx, "acme")
	if last, _ := m.store.LastSignIns(ctx, tn.ID, nil); len(last) != 0 {
		t.Fatalf("sign-ins before the phone registers: %v", last)
	}
	before := time.Now().UTC().Add(-time.Second).Format(time.RFC3339)
	server := fmt.Sprintf("127.0.0.1:%d", port)
	for range 2 { // the second is a refresh
		if res := register(ctx, t, server, "1001", "pw-1001-x9"); res.Status != 200 {
			t.Fatalf("REGISTER: %d", res.Status)
		}
	}
	var sessions int
	deadline := time.Now().Add(5 * time.Second)
	for {
		last, err := m.store.LastSignIns(ctx, tn.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := last[id]; ok {
			if s.RemoteAddr != "127.0.0.1" || s.Source != switchboard.SessionSIP {
				t.Fatalf("sign-in %+v", s)
			}
			sessions = int(s.ID)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the registration was not recorded as a sign-in")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if sessions != 1 {
		t.Fatalf("the refresh was recorded as another sign-in (session %d)", sessions)
	}
	uj := ujetUsersClient{t: t, base: base, slug: "acme", key: key}
	var users []map[string]any
	uj.json("GET", "/users?last_login_time[from]="+before, nil, &users)
	if len(users) != 1 || users[0]["id"] != float64(id) {
		t.Fatalf("users by last_login_time: %v", users)
	}
	var out []map[string]any
	if status := uj.json("POST", "/agent_statuses/force_logout", map[string]any{"ip_addrs": []string{"127.0.0.1"}}, &out); status != 200 ||
		len(out) != 1 || out[0]["current_status"] != "Offline" {
		t.Fatalf("force logout: %d %v", status, out)
	}
}
