package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// ujetCalls is a running server (SQLite, the simulated telephony) with a
// tenant whose key the CLI printed, spoken to as UJET's clients do: HTTP
// Basic, the tenant's slug as the user and the key as the password.
type ujetCalls struct {
	t      *testing.T
	base   string
	key    string
	native client
}

// do sends a UJET request and returns the status and the raw answer.
func (u *ujetCalls) do(method, path string, body any) (int, []byte) {
	u.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, u.base+"/apps/api/v1"+path, rd)
	req.SetBasicAuth("acme", u.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		u.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// call reads a call object.
func (u *ujetCalls) call(id int64) map[string]any {
	u.t.Helper()
	status, raw := u.do("GET", fmt.Sprintf("/calls/%d", id), nil)
	var o map[string]any
	if status != 200 || json.Unmarshal(raw, &o) != nil {
		u.t.Fatalf("GET /calls/%d: %d %s", id, status, raw)
	}
	return o
}

// walk polls the call object until done says so, and returns the statuses
// it went through, in order, each once.
func (u *ujetCalls) walk(id int64, done func(map[string]any) bool) ([]string, map[string]any) {
	u.t.Helper()
	var seen []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		o := u.call(id)
		if s := o["status"].(string); len(seen) == 0 || seen[len(seen)-1] != s {
			seen = append(seen, s)
		}
		if done(o) {
			return seen, o
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("call %d: statuses %v, last %v", id, seen, o)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

// create posts a call and returns its id, failing unless it is 201.
func (u *ujetCalls) create(body map[string]any) (int64, map[string]any) {
	u.t.Helper()
	status, raw := u.do("POST", "/calls", body)
	var o map[string]any
	if status != 201 || json.Unmarshal(raw, &o) != nil {
		u.t.Fatalf("POST /calls %v: %d %s", body, status, raw)
	}
	return int64(o["id"].(float64)), o
}

// subsequence says whether want appears in got in order.
func subsequence(got, want []string) bool {
	i := 0
	for _, s := range got {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}

// documentedStatuses are the seed's call statuses.
var documentedStatuses = []string{"selecting", "queued", "assigned", "connecting", "connected", "finished", "failed", "switching",
	"recovered", "scheduled", "action_only", "action_only_finished", "deflected", "voicemail", "voicemail_received", "voicemail_read"}

// TestUJETCallsEndToEnd drives the acceptance for calls through a
// real server: an API outbound call rings the agent, then the end user, and
// its call object walks the documented statuses; an inbound API call queues
// under its menu; a scheduled call fires at its time; a number on the
// do-not-call list is refused; signed custom data verifies with the company
// secret set through PATCH /v1/tenant.
func TestUJETCallsEndToEnd(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) { ujetCallsEndToEnd(t, mk(t)) })
	}
}

func ujetCallsEndToEnd(t *testing.T, db string) {
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db, "--ujet-rate-limit", "0")
	c := client{t: t, base: base, key: key}
	u := &ujetCalls{t: t, base: base, key: key, native: c}

	status, agent := c.do("POST", "/v1/users", map[string]any{"email": "ann@acme.test", "first_name": "Ann", "last_name": "Agent",
		"extension": "1001"})
	if status != 201 {
		t.Fatalf("user: %d %v", status, agent)
	}
	aid := int64(agent["id"].(float64))
	queue := func(name, menuType string) int64 {
		status, q := c.do("POST", "/v1/queues", map[string]any{"name": name, "strategy": "ringall", "join_empty": true, "menu_type": menuType})
		if status != 201 {
			t.Fatalf("queue %s: %d %v", name, status, q)
		}
		id := int64(q["id"].(float64))
		if status, m := c.do("POST", fmt.Sprintf("/v1/queues/%d/members", id), map[string]any{"user_id": aid}); status != 201 {
			t.Fatalf("member: %d %v", status, m)
		}
		return id
	}
	voice, mobile := queue("Support", ""), queue("App", "mobile_menu")
	if status, p := c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+390112121212", "queue_id": voice}); status != 201 {
		t.Fatalf("number: %d %v", status, p)
	}
	// The end users answer after half a second and talk for two.
	for _, n := range []string{"+15550002000", "+15550003000", "+15550004000"} {
		if status, p := c.do("PUT", "/v1/sim/numbers/"+url.PathEscape(n), map[string]any{"behavior": "answer", "answer_after_seconds": 0.5,
			"talk_seconds": 2}); status != 200 {
			t.Fatalf("sim number: %d %v", status, p)
		}
	}
	signIn := func(s string) {
		t.Helper()
		if status, p := c.do("POST", fmt.Sprintf("/v1/users/%d/status", aid), map[string]any{"status": s}); status != 200 {
			t.Fatalf("status %s: %d %v", s, status, p)
		}
	}

	// Outbound: the agent's phone rings first (assigned, agent_info set),
	// then the end user is dialled; connected; finished when they hang up.
	signIn("Available")
	id, o := u.create(map[string]any{"call_type": "Voice Outbound (API)", "agent_email": "ann@acme.test", "end_user_number": "+1 555-000-2000",
		"outbound_number": "+390112121212", "menu_id": 2 * voice, "lang": "en"})
	if o["call_type"] != "Voice Outbound (API)" || o["agent_info"].(map[string]any)["id"] != float64(aid) {
		t.Errorf("outbound call object %v", o)
	}
	seen, last := u.walk(id, func(o map[string]any) bool { return o["status"] == "finished" })
	for _, s := range seen {
		if !slices.Contains(documentedStatuses, s) {
			t.Errorf("status %q is not one of the seed's", s)
		}
	}
	t.Logf("outbound statuses %v", seen)
	if !subsequence(seen, []string{"assigned", "connected", "finished"}) {
		t.Errorf("outbound statuses %v, want assigned → connected → finished", seen)
	}
	if last["connected_at"] == nil || last["ends_at"] == nil || last["call_duration"].(float64) < 1 || last["fail_reason"] != "nothing" ||
		last["disconnected_by"] != "disconnected_by_end_user" || last["outbound_number"] != "+390112121212" ||
		last["selected_menu"].(map[string]any)["id"] != float64(2*voice) {
		t.Errorf("finished outbound call %v", last)
	}
	// The recording the object names is served.
	if rec, _ := last["recording_url"].(string); rec != "" {
		ru, _ := url.Parse(rec)
		req, _ := http.NewRequest("GET", base+ru.Path, nil)
		req.SetBasicAuth("acme", key)
		if res, err := http.DefaultClient.Do(req); err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || string(body[:4]) != "RIFF" {
				t.Errorf("recording %s: %d", rec, res.StatusCode)
			}
		}
	} else {
		t.Errorf("a recorded call has no recording_url: %v", last)
	}
	u.walk(id, func(map[string]any) bool {
		_, st := c.do("GET", fmt.Sprintf("/v1/users/%d/status", aid), nil)
		live, _ := st["live"].(map[string]any)
		return live["state"] == "idle"
	})

	// Inbound: with the agent signed out the end user, once reached, waits
	// queued under the menu; signed in, the agent takes the call.
	signIn("Offline")
	id, o = u.create(map[string]any{"call_type": "Voice Inbound (API)", "menu_id": 2 * voice, "end_user_number": "+15550003000",
		"ticket_id": "76517", "recording_permission": "recording_permission_granted", "lang": "en"})
	t.Logf("inbound call created with status %v", o["status"])
	if o["call_type"] != "Voice Inbound (API)" || o["out_ticket_id"] != "76517" || o["recording_permission"] != "granted" {
		t.Errorf("inbound call object %v", o)
	}
	_, last = u.walk(id, func(o map[string]any) bool { return o["status"] == "queued" })
	if m := last["selected_menu"].(map[string]any); m["id"] != float64(2*voice) || m["menu_type"] != "ivr_menu" || last["queued_at"] == nil ||
		last["menu_path"].(map[string]any)["materialized_path"] != fmt.Sprint(2*voice) {
		t.Errorf("queued inbound call %v", last)
	}
	signIn("Available")
	seen, _ = u.walk(id, func(o map[string]any) bool { return o["status"] == "finished" })
	t.Logf("inbound statuses %v", seen)
	if !subsequence(seen, []string{"queued", "connected", "finished"}) {
		t.Errorf("inbound statuses %v", seen)
	}
	// The ticket now resolves to the end user's number.
	u.walk(id, func(map[string]any) bool {
		_, st := c.do("GET", fmt.Sprintf("/v1/users/%d/status", aid), nil)
		live, _ := st["live"].(map[string]any)
		return live["state"] == "idle"
	})
	id2, _ := u.create(map[string]any{"call_type": "OutboundCall", "agent_email": "ann@acme.test", "ticket_id": "76517"})
	if status, raw := c.do("GET", fmt.Sprintf("/v1/calls/%d", id2), nil); status != 200 || raw["to"] != "+15550003000" {
		t.Errorf("outbound by ticket dialled %v", raw)
	}
	u.walk(id2, func(o map[string]any) bool { return o["status"] == "finished" })
	u.walk(id2, func(map[string]any) bool {
		_, st := c.do("GET", fmt.Sprintf("/v1/users/%d/status", aid), nil)
		live, _ := st["live"].(map[string]any)
		return live["state"] == "idle"
	})

	// Scheduled: a few seconds ahead under the mobile queue; it waits
	// scheduled, then fires at its time.
	at := time.Now().Add(3 * time.Second).UTC()
	id, o = u.create(map[string]any{"call_type": "Voice Scheduled (API)", "menu_id": 2 * mobile, "end_user_number": "+15550004000",
		"scheduled_at": at.Format("2006-01-02T15:04:05.000Z"), "call_id": id})
	if o["status"] != "scheduled" || o["selected_menu"].(map[string]any)["menu_type"] != "mobile_menu" {
		t.Errorf("scheduled call object %v", o)
	}
	if c := u.call(id); c["status"] != "scheduled" || time.Now().After(at) {
		t.Errorf("the call left scheduled before its time: %v", c)
	}
	seen, last = u.walk(id, func(o map[string]any) bool { return o["status"] == "connected" })
	t.Logf("scheduled statuses %v", seen)
	if !subsequence(seen, []string{"scheduled", "connected"}) {
		t.Errorf("scheduled statuses %v", seen)
	}
	if fired, _ := time.Parse(time.RFC3339, last["queued_at"].(string)); fired.Before(at) {
		t.Errorf("the scheduled call was queued at %v, before its time %v", fired, at)
	}

	// A number on the do-not-call list is refused, outbound and inbound.
	if status, p := c.do("POST", "/v1/dnc", map[string]any{"number": "+15550009999", "reason": "asked"}); status != 201 {
		t.Fatalf("dnc: %d %v", status, p)
	}
	for _, body := range []map[string]any{
		{"call_type": "Voice Outbound (API)", "agent_email": "ann@acme.test", "end_user_number": "+15550009999"},
		{"call_type": "Voice Inbound (API)", "menu_id": 2 * voice, "end_user_number": "+1 555 000 9999"},
	} {
		if status, raw := u.do("POST", "/calls", body); status != 400 || !strings.Contains(string(raw), "Do Not Call") {
			t.Errorf("a DNC number: %d %s", status, raw)
		}
	}

	// Signed custom data: the company secret set through the native API.
	if status, p := c.do("PATCH", "/v1/tenant", map[string]any{"company_secret": "acme-secret"}); status != 200 || p["company_secret"] != nil {
		t.Fatalf("PATCH /v1/tenant: %d %v", status, p)
	}
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"custom_data": map[string]any{
		"reserved_bad_actor": map[string]any{"value": true}, "plan": map[string]any{"label": "Plan", "value": "gold"}},
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}).SignedString([]byte("acme-secret"))
	if status, raw := u.do("POST", fmt.Sprintf("/calls/%d/custom_data", id), map[string]any{"signed": true, "signed_data": tok}); status != 200 ||
		!strings.Contains(string(raw), `"bad_actor":true`) || !strings.Contains(string(raw), `"gold"`) {
		t.Errorf("signed custom data: %d %s", status, raw)
	}
	bad, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"custom_data": map[string]any{}}).SignedString([]byte("other"))
	if status, raw := u.do("POST", fmt.Sprintf("/calls/%d/custom_data", id), map[string]any{"signed": true, "signed_data": bad}); status != 400 {
		t.Errorf("a token of another secret: %d %s", status, raw)
	}
	if status, raw := u.do("GET", fmt.Sprintf("/calls/%d/customer_flag", id), nil); status != 200 ||
		string(bytes.TrimSpace(raw)) != `{"verified_customer":false,"bad_actor":true,"repeat_customer":false}` {
		t.Errorf("flags: %d %s", status, raw)
	}
	// The list: every call, newest first, with UJET's headers.
	status, raw := u.do("GET", "/calls?per=2", nil)
	var page []map[string]any
	if status != 200 || json.Unmarshal(raw, &page) != nil || len(page) != 2 || page[0]["id"].(float64) < page[1]["id"].(float64) {
		t.Errorf("GET /calls: %d %s", status, raw)
	}
	if status, c := c.do("POST", fmt.Sprintf("/v1/calls/%d/hangup", id), nil); status != 200 {
		t.Errorf("hangup: %d %v", status, c)
	}
}
