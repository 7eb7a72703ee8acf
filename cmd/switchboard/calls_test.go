package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestSimulatedCallEndToEnd drives the documented contract: an agent signs in,
// a simulated caller dials a DID routed to a queue, the agent's virtual phone
// answers after a second, and the call ends as answered with its events.
func TestSimulatedCallEndToEnd(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db)
	c := client{t: t, base: base, key: key}
	_, u := c.do("POST", "/v1/users", map[string]any{"email": "ann@acme.test", "first_name": "Ann", "extension": "1001"})
	uid := int64(u["id"].(float64))
	_, q := c.do("POST", "/v1/queues", map[string]any{"name": "Sales Queue", "extension": "8001", "strategy": "ringall"})
	qid := int64(q["id"].(float64))
	c.do("POST", fmt.Sprintf("/v1/queues/%d/members", qid), map[string]any{"user_id": uid, "penalty": 0})
	c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+390112121212", "queue_id": qid})

	// Offline agents: the queue does not take the call.
	status, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "+390112121212", "talk_seconds": 1})
	if status != 201 {
		t.Fatalf("POST /v1/sim/calls: %d %v", status, call)
	}
	waitCall(t, c, int64(call["id"].(float64)), func(v map[string]any) bool {
		return v["status"] == "failed" && v["hangup_cause"] == "no agent signed in"
	})

	if status, p := c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": "In-Call"}); status != 422 {
		t.Errorf("an agent setting In-Call: %d %v", status, p)
	}
	if status, p := c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": "Available"}); status != 200 || p["status"] != "Available" {
		t.Fatalf("sign in: %d %v", status, p)
	}
	status, call = c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "8001", "answer_after_seconds": 0, "talk_seconds": 1,
		"dtmf": "42#"})
	if status != 201 || call["id"] == nil {
		t.Fatalf("POST /v1/sim/calls: %d %v", status, call)
	}
	id := int64(call["id"].(float64))
	waitCall(t, c, id, func(v map[string]any) bool { return v["status"] == "connected" })
	if status, p := c.do("GET", fmt.Sprintf("/v1/users/%d/status", uid), nil); status != 200 {
		t.Errorf("GET status: %d %v", status, p)
	} else if live, _ := p["live"].(map[string]any); live["state"] != "in_call" || live["device_registered"] != true || live["calls_in_progress"] != float64(1) {
		t.Errorf("agent during the call: %v", p)
	}
	ended := waitCall(t, c, id, func(v map[string]any) bool { return v["status"] == "finished" })
	if ended["disposition"] != "answered" || ended["agent_id"] != float64(uid) || ended["hangup_by"] != "caller" || ended["dtmf"] != "42#" {
		t.Errorf("ended call %v", ended)
	}
	// While on the call the agent showed In-Call; afterwards Available again.
	var statuses []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, evs := c.do("GET", "/v1/events?limit=1000", nil)
		statuses = statuses[:0]
		for _, e := range evs["items"].([]any) {
			ev := e.(map[string]any)
			if ev["type"] == "agent.status_changed" {
				statuses = append(statuses, ev["payload"].(map[string]any)["status"].(string))
			}
		}
		if len(statuses) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := strings.Join(statuses, ","); got != "Available,In-Call,Available" {
		t.Errorf("agent statuses over the call: %s", got)
	}
	_, evs := c.do("GET", "/v1/events?limit=1000", nil)
	var kinds []string
	for _, e := range evs["items"].([]any) {
		ev := e.(map[string]any)
		if ev["subject_type"] == "call" && ev["subject_id"] == float64(id) {
			kinds = append(kinds, ev["type"].(string))
		}
	}
	// The queue has no wrap-up: the call's work is over as it ends.
	if got := strings.Join(kinds, ","); got != "call.created,call.queued,call.ringing,call.dtmf,call.connected,call.ended,call.wrapped_up" {
		t.Errorf("call events %s", got)
	}
	rreq, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/calls/%d/recording", base, id), nil)
	rreq.Header.Set("Authorization", "Bearer "+key)
	rres, err := http.DefaultClient.Do(rreq)
	if err != nil {
		t.Fatal(err)
	}
	wav, _ := io.ReadAll(rres.Body)
	rres.Body.Close()
	// One second of talk: 8,000 samples of 2 bytes after a 44-byte header, give or take the timing.
	if rres.StatusCode != 200 || rres.Header.Get("Content-Type") != "audio/wav" || string(wav[:4]) != "RIFF" || len(wav) < 44+2*7000 {
		t.Errorf("recording: %d %s, %d bytes", rres.StatusCode, rres.Header.Get("Content-Type"), len(wav))
	}
	status, qm := c.do("GET", fmt.Sprintf("/v1/queues/%d/metrics", qid), nil)
	if period, _ := qm["period"].(map[string]any); status != 200 || period["answered"] != float64(1) || qm["live"] == nil {
		t.Errorf("queue metrics: %d %v", status, qm)
	}
	if status, tm := c.do("GET", "/v1/metrics", nil); status != 200 || len(tm["queues"].([]any)) != 1 {
		t.Errorf("tenant metrics: %d %v", status, tm)
	}
	status, cdrs := c.do("GET", "/v1/cdrs?disposition=answered", nil)
	if items, _ := cdrs["items"].([]any); status != 200 || len(items) != 1 || items[0].(map[string]any)["talk_seconds"].(float64) < 1 {
		t.Errorf("GET /v1/cdrs: %d %v", status, cdrs)
	}
	status, steps := c.do("GET", fmt.Sprintf("/v1/cdrs/%d/events", id), nil)
	if items, _ := steps["items"].([]any); status != 200 || len(items) != 7 {
		t.Errorf("GET /v1/cdrs/{id}/events: %d %v", status, steps)
	}
	req, _ := http.NewRequest("GET", base+"/v1/cdrs/export", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(lines) != 3 || !strings.HasPrefix(lines[0], "id,uuid,direction") {
		t.Errorf("CSV export %q:\n%s", res.Header.Get("Content-Type"), body)
	}
	if status, _ := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "9999"}); status != 422 {
		t.Errorf("call to an unknown extension: %d, want 422", status)
	}
	if status, _ := c.do("PUT", fmt.Sprintf("/v1/sim/devices/%d", uid), map[string]any{"registered": true, "behavior": "reject"}); status != 200 {
		t.Errorf("PUT /v1/sim/devices: %d", status)
	}
}

func waitCall(t *testing.T, c client, id int64, done func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, v := c.do("GET", fmt.Sprintf("/v1/calls/%d", id), nil)
		if status == 200 && done(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %d never reached the expected state; last %d %v", id, status, v)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRestartClosesOpenCalls kills nothing but stops the server mid-call and
// starts it again: the call must not stay connected forever.
func TestRestartClosesOpenCalls(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	m, c := newCallServer(t, db)
	uid, _ := agentInQueue(c)
	c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": "Available"})
	_, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "8001", "talk_seconds": 3600})
	id := int64(call["id"].(float64))
	waitCall(t, c, id, func(v map[string]any) bool { return v["status"] == "connected" })
	m.Close()

	_, c.base, _ = startServer(t, "--db", db)
	ended := waitCall(t, c, id, func(v map[string]any) bool { return v["status"] != "connected" })
	if ended["status"] != "finished" || ended["hangup_cause"] != "system restart" || ended["ended_at"] == nil {
		t.Errorf("call after restart %v", ended)
	}
}

func TestClickToCallEndToEnd(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db)
	c := client{t: t, base: base, key: key}
	_, u := c.do("POST", "/v1/users", map[string]any{"email": "ann@acme.test", "first_name": "Ann", "extension": "1001"})
	uid := u["id"].(float64)
	c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+390112121212", "label": "Main"})
	status, body := c.do("POST", "/v1/calls", map[string]any{"user_id": uid, "phone_number": "15550002222"})
	if fields, _ := body["error"].(map[string]any)["fields"].(map[string]any); status != 422 || !strings.Contains(fmt.Sprint(fields["user_id"]), "not signed in") {
		t.Fatalf("offline agent: %d %v", status, body)
	}
	c.do("POST", fmt.Sprintf("/v1/users/%d/status", int64(uid)), map[string]any{"status": "Available"})
	if status, body := c.do("POST", "/v1/calls", map[string]any{"user_id": uid, "phone_number": "15550002222", "caller_id": "+15559999999"}); status != 422 {
		t.Errorf("a caller id that is not the tenant's: %d %v", status, body)
	}
	c.do("POST", "/v1/dnc", map[string]any{"number": "+1 555 000 3333", "reason": "asked not to be called"})
	status, body = c.do("POST", "/v1/calls", map[string]any{"user_id": uid, "phone_number": "15550003333"})
	if fields, _ := body["error"].(map[string]any)["fields"].(map[string]any); status != 403 || fields["phone_number"] == nil {
		t.Errorf("do-not-call number: %d %v", status, body)
	}
	status, call := c.do("POST", "/v1/calls", map[string]any{"user_id": uid, "phone_number": "15550002222",
		"source": map[string]any{"system": "acme-crm", "account_id": "C-42"}})
	src, _ := call["source"].(map[string]any)
	if status != 201 || call["direction"] != "outbound" || call["from"] != "+390112121212" || call["to"] != "+15550002222" ||
		src["system"] != "acme-crm" || src["account_id"] != "C-42" {
		t.Fatalf("POST /v1/calls: %d %v", status, call)
	}
	// The agent's phone answers after 1 s, the simulated customer 3 s later.
	id := int64(call["id"].(float64))
	waitCall(t, c, id, func(v map[string]any) bool { return v["status"] == "connected" })
	if status, live := c.do("GET", "/v1/calls", nil); status != 200 || live["metadata"].(map[string]any)["total"] != float64(1) {
		t.Errorf("GET /v1/calls: %d %v", status, live)
	}
	if status, held := c.do("POST", fmt.Sprintf("/v1/calls/%d/hold", id), map[string]any{"on": true}); status != 200 {
		t.Errorf("hold: %d %v", status, held)
	}
	time.Sleep(300 * time.Millisecond)
	if status, back := c.do("POST", fmt.Sprintf("/v1/calls/%d/hold", id), map[string]any{"on": false}); status != 200 || back["hold_seconds"].(float64) < 0.25 {
		t.Errorf("resume: %d %v", status, back)
	}
	status, moved := c.do("POST", fmt.Sprintf("/v1/calls/%d/transfer", id), map[string]any{"queue_id": 999})
	if status != 422 {
		t.Errorf("transfer to a missing queue: %d %v", status, moved)
	}
	status, ended := c.do("POST", fmt.Sprintf("/v1/calls/%d/hangup", id), nil)
	if status != 200 || ended["status"] != "finished" || ended["hangup_by"] != "system" {
		t.Errorf("hangup: %d %v", status, ended)
	}
	if status, _ := c.do("POST", fmt.Sprintf("/v1/calls/%d/hangup", id), nil); status != 409 {
		t.Errorf("second hangup: %d, want 409", status)
	}
	if status, live := c.do("GET", "/v1/calls", nil); status != 200 || live["metadata"].(map[string]any)["total"] != float64(0) {
		t.Errorf("GET /v1/calls after the hangup: %d %v", status, live)
	}
	c.do("PATCH", fmt.Sprintf("/v1/users/%d", int64(uid)), map[string]any{"click_to_call_disabled": true})
	if status, body := c.do("POST", "/v1/calls", map[string]any{"user_id": uid, "phone_number": "15550002222"}); status != 403 {
		t.Errorf("agent without the click-to-call permission: %d %v", status, body)
	}
}

// TestCallbackRecoversAFailedCall schedules a callback for a call that failed,
// sees it dial the customer, queue them and connect, and the failed call turn
// recovered; a callback for later survives a restart.
func TestCallbackRecoversAFailedCall(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	m, c := newCallServer(t, db)
	uid, qid := agentInQueue(c)
	c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+390112121212", "queue_id": qid})
	_, first := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550002222", "to": "8001"})
	parent := int64(first["id"].(float64))
	waitCall(t, c, parent, func(v map[string]any) bool { return v["status"] == "failed" }) // nobody signed in

	c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": "Available"})
	if status, body := c.do("POST", "/v1/scheduled_calls", map[string]any{"queue_id": qid, "phone_number": "15550002222",
		"scheduled_at": time.Now().Add(-time.Hour).Format(time.RFC3339)}); status != 422 {
		t.Errorf("a callback in the past: %d %v", status, body)
	}
	status, cb := c.do("POST", "/v1/scheduled_calls", map[string]any{"queue_id": qid, "phone_number": "15550002222",
		"scheduled_at": time.Now().Add(time.Second).Format(time.RFC3339Nano), "parent_id": parent})
	if status != 201 || cb["status"] != "scheduled" || cb["from"] != "+390112121212" {
		t.Fatalf("POST /v1/scheduled_calls: %d %v", status, cb)
	}
	// Dialled after 1 s, the simulated customer answers 3 s later, the agent 1 s after that.
	waitCall(t, c, int64(cb["id"].(float64)), func(v map[string]any) bool { return v["status"] == "connected" })
	waitCall(t, c, parent, func(v map[string]any) bool { return v["status"] == "recovered" })

	_, later := c.do("POST", "/v1/scheduled_calls", map[string]any{"queue_id": qid, "phone_number": "15550002222",
		"scheduled_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
	laterID := int64(later["id"].(float64))
	m.Close()
	_, c.base, _ = startServer(t, "--db", db)
	if status, v := c.do("GET", fmt.Sprintf("/v1/calls/%d", laterID), nil); status != 200 || v["status"] != "scheduled" {
		t.Errorf("a callback for later after a restart: %d %v", status, v)
	}
	if status, v := c.do("POST", fmt.Sprintf("/v1/calls/%d/hangup", laterID), nil); status != 200 || v["status"] != "failed" {
		t.Errorf("cancelling the restored callback: %d %v", status, v)
	}
}

// TestSkillsRouteUnderServe checks that agents' skills from the API reach the
// engine: a queue requiring a skill gets its call answered by the skilled agent.
func TestSkillsRouteUnderServe(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db)
	c := client{t: t, base: base, key: key}
	_, sk := c.do("POST", "/v1/skills", map[string]any{"name": "Italian"})
	skill := sk["id"].(float64)
	_, plain := c.do("POST", "/v1/users", map[string]any{"email": "bob@acme.test", "first_name": "Bob", "extension": "1002"})
	_, fluent := c.do("POST", "/v1/users", map[string]any{"email": "ann@acme.test", "first_name": "Ann", "extension": "1001",
		"skills": []map[string]any{{"skill_id": skill, "proficiency": 4}}})
	_, q := c.do("POST", "/v1/queues", map[string]any{"name": "Italiano", "extension": "8001", "strategy": "linear",
		"required_skills": []map[string]any{{"skill_id": skill, "min_proficiency": 2}}})
	qid := int64(q["id"].(float64))
	for _, u := range []map[string]any{plain, fluent} {
		c.do("POST", fmt.Sprintf("/v1/queues/%d/members", qid), map[string]any{"user_id": u["id"]})
		c.do("POST", fmt.Sprintf("/v1/users/%d/status", int64(u["id"].(float64))), map[string]any{"status": "Available"})
	}
	_, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "8001", "talk_seconds": 1})
	done := waitCall(t, c, int64(call["id"].(float64)), func(v map[string]any) bool { return v["status"] == "finished" })
	if done["agent_id"] != fluent["id"] {
		t.Errorf("the call went to %v, want the agent with the skill (%v)", done["agent_id"], fluent["id"])
	}
}

func TestNumberRoutedToUserUnderServe(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db)
	c := client{t: t, base: base, key: key}
	_, u := c.do("POST", "/v1/users", map[string]any{"email": "ann@acme.test", "first_name": "Ann", "extension": "1001"})
	c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+390112121212", "label": "Ann direct", "user_id": u["id"]})
	c.do("POST", fmt.Sprintf("/v1/users/%d/status", int64(u["id"].(float64))), map[string]any{"status": "Available"})
	status, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "+390112121212", "talk_seconds": 1})
	if status != 201 {
		t.Fatalf("call to a user's number: %d %v", status, call)
	}
	done := waitCall(t, c, int64(call["id"].(float64)), func(v map[string]any) bool { return v["status"] == "finished" })
	if done["agent_id"] != u["id"] || done["queue_id"] != nil {
		t.Errorf("direct call %v", done)
	}
}

// newCallServer starts a server on db with a tenant and a key, and a client.
func newCallServer(t *testing.T, db string) (*Main, client) {
	t.Helper()
	key := newTenantKey(t, db)
	m, base, _ := startServer(t, "--db", db)
	return m, client{t: t, base: base, key: key}
}

// agentInQueue creates agent Ann (extension 1001) in queue Q (extension 8001)
// and returns their ids. Ann starts Offline.
func agentInQueue(c client) (uid, qid int64) {
	_, u := c.do("POST", "/v1/users", map[string]any{"email": "ann@acme.test", "first_name": "Ann", "extension": "1001"})
	_, q := c.do("POST", "/v1/queues", map[string]any{"name": "Q", "extension": "8001"})
	uid, qid = int64(u["id"].(float64)), int64(q["id"].(float64))
	c.do("POST", fmt.Sprintf("/v1/queues/%d/members", qid), map[string]any{"user_id": uid})
	return uid, qid
}
