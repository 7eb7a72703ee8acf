package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/internal/golden"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// voxClient calls the Voxloud dialect with the Voverc-Auth header.
type voxClient struct {
	t    *testing.T
	base string
	key  string
}

func (c voxClient) do(method, path string, body []byte, header ...string) (int, []byte, http.Header) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if c.key != "" {
		req.Header.Set("Voverc-Auth", c.key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw, res.Header
}

func (c voxClient) json(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	status, raw, _ := c.do(method, path, b)
	var v map[string]any
	json.Unmarshal(raw, &v)
	return status, v
}

// receiver is a loopback webhook receiver that keeps what it is sent.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// wait returns the bodies once n have arrived.
func (r *receiver) wait(t *testing.T, n int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r.mu.Lock()
		got := append([][]byte(nil), r.bodies...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d webhooks arrived: %s", len(got), n, bytes.Join(got, []byte("\n")))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// voxTenant starts a server and gives the tenant two users (John Smith, 101,
// in queue Support 8001; Federico Support, 102), the seed's numbers and a
// contact for the caller the tests use.
func voxTenant(t *testing.T) (client, voxClient, map[string]int64) {
	t.Helper()
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db, "--webhook-allow-cidr", "127.0.0.0/8", "--rate-limit", "0", "--tenant-write-rate", "0")
	c := client{t: t, base: base, key: key}
	ids := map[string]int64{}
	_, u := c.do("POST", "/v1/users", map[string]any{"email": "john@acme.test", "first_name": "John", "last_name": "Smith", "extension": "101"})
	ids["john"] = int64(u["id"].(float64))
	_, u = c.do("POST", "/v1/users", map[string]any{"email": "federico@acme.test", "first_name": "Federico", "last_name": "Support", "extension": "102"})
	ids["federico"] = int64(u["id"].(float64))
	_, q := c.do("POST", "/v1/queues", map[string]any{"name": "Support", "extension": "8001", "strategy": "ringall"})
	ids["queue"] = int64(q["id"].(float64))
	c.do("POST", fmt.Sprintf("/v1/queues/%d/members", ids["queue"]), map[string]any{"user_id": ids["john"]})
	for _, n := range []map[string]any{
		{"number": "+390112121212", "label": "Main office", "queue_id": ids["queue"]},
		{"number": "+390660786731", "label": "Customer support"},
		{"number": "+390224213212", "label": "Federico's line", "user_id": ids["federico"]},
	} {
		if status, body := c.do("POST", "/v1/phone_numbers", n); status != 201 {
			t.Fatalf("POST /v1/phone_numbers: %d %v", status, body)
		}
	}
	c.do("PATCH", fmt.Sprintf("/v1/users/%d", ids["john"]), map[string]any{"outbound_number": "+390112121212"})
	return c, voxClient{t: t, base: base, key: key}, ids
}

// TestVoxloudGolden replays every request example of the Voxloud document
// against the real server and checks each answer's shape against the
// document's answer.
func TestVoxloudGolden(t *testing.T) {
	c, vc, ids := voxTenant(t)
	recv, started := newReceiver(t), newReceiver(t)
	payloads := map[string]golden.Case{}
	for _, p := range golden.Load(t, "../../internal/voxloud/testdata/payloads.json") {
		payloads[p.Name] = p
	}

	// A finished inbound call, so that there is a telephony event to read.
	c.do("POST", fmt.Sprintf("/v1/users/%d/status", ids["john"]), map[string]any{"status": "Available"})
	_, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+393331234567", "to": "+390112121212", "answer_after_seconds": 0, "talk_seconds": 1})
	callID := int64(call["id"].(float64))
	ended := waitCall(t, c, callID, func(v map[string]any) bool { return v["status"] == "finished" })
	// And a fax from the same number, so that the query's page mixes both.
	_, fax := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+393331234567", "to": "+390112121212", "fax_pages": 2, "talk_seconds": 1})
	waitCall(t, c, int64(fax["id"].(float64)), func(v map[string]any) bool { return v["status"] == "finished" })

	vars := map[string]string{"callback_url": recv.URL + "/voxloud", "event_id": fmt.Sprint(callID), "call_id": ended["uuid"].(string),
		"from": time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"), "to": time.Now().Add(time.Hour).Format(time.RFC3339),
		"number": "3331234567"}
	for _, tc := range golden.Load(t, "../../internal/voxloud/testdata/golden.json") {
		if tc.Name == "search contacts" {
			// Enough matches that offset=350 holds the two the example shows.
			for i := range 351 {
				status, body := vc.json("POST", "/api/v1/contacts", map[string]any{"first_name": "Johnny", "last_name": "Doerr",
					"primary_phone": fmt.Sprintf("+3903%04d678", i), "primary_email": fmt.Sprintf("j.doe0%d@example.com", i)})
				if status != 200 {
					t.Fatalf("filing contact %d: %d %v", i, status, body)
				}
			}
		}
		if tc.Name == "connect click-to-call" {
			c.do("POST", fmt.Sprintf("/v1/users/%d/status", ids["john"]), map[string]any{"status": "Available"})
			if status, body := vc.json("POST", "/api/v1/webhook-subscriptions", map[string]any{"callback_url": started.URL, "event_type": "CALL_STARTED"}); status != 200 {
				t.Fatalf("subscribe CALL_STARTED: %d %v", status, body)
			}
		}
		body := []byte(golden.Replace(string(tc.Body), vars))
		// The document's addresses are mangled ("[email protected]"); the test
		// files real ones.
		body = bytes.ReplaceAll(body, []byte("[email protected]"), []byte("j.doe01@example.com"))
		if len(tc.Body) == 0 {
			body = nil
		}
		status, raw, _ := vc.do(tc.Method, golden.Replace(tc.Path, vars), body)
		if status != tc.Status {
			t.Errorf("%s: %s %s = %d %s, want %d", tc.Name, tc.Method, tc.Path, status, raw, tc.Status)
			continue
		}
		want, optional, extra := tc.Response, tc.Optional, tc.Extra
		if tc.Ref != "" {
			want, optional, extra = payloads[tc.Ref].Response, payloads[tc.Ref].Optional, payloads[tc.Ref].Extra
		}
		if len(want) > 0 {
			for _, d := range golden.Compare(want, raw, optional, extra) {
				t.Errorf("%s: %s", tc.Name, d)
			}
		}
		var v map[string]any
		json.Unmarshal(raw, &v)
		switch tc.Name {
		case "create contact":
			vars["contact_id"] = v["id"].(string)
			if v["company_name"] != "John&Associates" || v["crm_name"] != "Voxloud" {
				t.Errorf("created contact %s", raw)
			}
		case "create webhook subscription":
			vars["subscription_id"] = v["id"].(string)
		case "create click-to-call":
			vars["ctc_id"] = v["id"].(string)
		case "search contacts":
			if data, _ := v["data"].([]any); len(data) != 2 || v["has_next"] != false {
				t.Errorf("page at offset 350: %s", raw)
			}
		case "query telephony events":
			content, _ := v["content"].([]any)
			if len(content) != 2 || content[0].(map[string]any)["type"] != "FAX_CALL" || content[1].(map[string]any)["id"] != float64(callID) {
				t.Errorf("telephony query, newest first: %s", raw)
			}
		case "connect click-to-call":
			if v["contact"] != "+393287035654" {
				t.Errorf("connect answered %s", raw)
			}
		}
	}

	// The click-to-call dials the contact first (the simulator answers after
	// 3 s), then rings John, who answers; the test hangs up. Its record is a
	// CLICK_TO_CALL event of type CONTACT.
	deadline := time.Now().Add(15 * time.Second)
	for hungUp := false; !hungUp; {
		_, live := c.do("GET", "/v1/calls", nil)
		for _, it := range live["items"].([]any) {
			if lc := it.(map[string]any); lc["status"] == "connected" && lc["to"] == "+393287035654" {
				if status, body := c.do("POST", fmt.Sprintf("/v1/calls/%v/hangup", lc["id"]), nil); status != 200 {
					t.Fatalf("hang up the click-to-call: %d %v", status, body)
				}
				hungUp = true
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the click-to-call never connected: %v", live)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var ctc map[string]any
	for ctc == nil {
		_, page := vc.json("POST", "/api/v1/telephony-events?sort=id,desc&size=1", map[string]any{"number": "+393287035654"})
		if content, _ := page["content"].([]any); len(content) == 1 {
			ctc = content[0].(map[string]any)
		} else if time.Now().After(deadline) {
			_, calls := c.do("GET", "/v1/cdrs?open=true&limit=10", nil)
			t.Fatalf("the click-to-call left no record: %v\ncalls: %v", page, calls)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ctc["type"] != "CLICK_TO_CALL" || ctc["clickToCallType"] != "CONTACT" || ctc["direction"] != "OUTBOUND" || ctc["originatorName"] != "John Smith" {
		t.Errorf("click-to-call record %v", ctc)
	}
	// CALL_STARTED came when the contact was dialled, about John, in the
	// envelope example's shape (which is a CALL_STARTED).
	first := started.wait(t, 1)[0]
	for _, d := range golden.Compare(payloads["envelope"].Response, first, nil, nil) {
		t.Errorf("CALL_STARTED: %s", d)
	}
	if !bytes.Contains(first, []byte(`"type":"STARTED"`)) || !bytes.Contains(first, []byte(`"userEmail":"john@acme.test"`)) ||
		!bytes.Contains(first, []byte(`"destinationNumber":"+393287035654"`)) {
		t.Errorf("CALL_STARTED %s", first)
	}
	raw, _ := json.Marshal(ctc)
	_, one, _ := vc.do("GET", fmt.Sprintf("/api/v1/telephony-events/%v", ctc["id"]), nil)
	for _, d := range golden.Compare(payloads["click to call payload"].Response, one, payloads["click to call payload"].Optional, nil) {
		t.Errorf("click-to-call event: %s (%s)", d, raw)
	}
}

// TestVoxloudErrors checks the error table of the document.
func TestVoxloudErrors(t *testing.T) {
	_, vc, _ := voxTenant(t)
	noKey := vc
	noKey.key = ""
	status, raw, _ := noKey.do("POST", "/api/v1/validate-auth", nil)
	if status != 401 {
		t.Errorf("no key: %d %s", status, raw)
	}
	wrong := vc
	wrong.key = "sk_wrong"
	if status, raw, _ = wrong.do("POST", "/api/v1/validate-auth", nil); status != 401 {
		t.Errorf("wrong key: %d %s", status, raw)
	}
	var e map[string]any
	json.Unmarshal(raw, &e)
	for _, k := range []string{"timestamp", "status", "error", "message", "path"} {
		if e[k] == nil {
			t.Errorf("error body lacks %s: %s", k, raw)
		}
	}
	status, _, h := vc.do("PATCH", "/api/v1/contacts", nil)
	if status != 405 || h.Get("Allow") != "POST, GET" {
		t.Errorf("PATCH /api/v1/contacts: %d Allow %q", status, h.Get("Allow"))
	}
	if status, raw, _ = vc.do("GET", "/api/v2/users", nil, "Accept", "application/xml"); status != 406 {
		t.Errorf("Accept: application/xml: %d %s", status, raw)
	}
	if status, raw, _ = vc.do("POST", "/api/v1/telephony-events", nil, "Accept", "text/csv"); status != 200 {
		t.Errorf("CSV export: %d %s", status, raw)
	}
	if status, raw, _ = vc.do("GET", "/api/v2/users", nil, "Accept", "text/csv"); status != 406 {
		t.Errorf("CSV where only JSON is served: %d %s", status, raw)
	}
	status, body := vc.json("POST", "/api/v1/contacts", map[string]any{"first_name": "X", "primary_phone": "0312345678"})
	if errs, _ := body["errors"].([]any); status != 400 || len(errs) != 1 || errs[0].(map[string]any)["field"] != "primary_phone" {
		t.Errorf("national number: %d %v", status, body)
	}
	if status, body = vc.json("GET", "/api/v1/contacts?limit=101", nil); status != 400 {
		t.Errorf("limit=101: %d %v", status, body)
	}
	if status, body = vc.json("GET", "/api/v1/contacts?offset=-1", nil); status != 400 {
		t.Errorf("offset=-1: %d %v", status, body)
	}
	if status, body = vc.json("POST", "/api/v1/contacts", map[string]any{"first_name": 7}); status != 400 {
		t.Errorf("a number for a string: %d %v", status, body)
	}
	if status, body = vc.json("GET", "/api/v1/contacts/00000000-0000-0000-0000-000000000000", nil); status != 404 {
		t.Errorf("unknown contact: %d %v", status, body)
	}
	status, body = vc.json("POST", "/api/v1/webhook-subscriptions", map[string]any{"callback_url": "http://127.0.0.1:1/x", "event_type": "SMS_RECEIVED"})
	if status != 400 || !strings.Contains(fmt.Sprint(body["errors"]), "event_type") {
		t.Errorf("unknown event type: %d %v", status, body)
	}
	status, body = vc.json("POST", "/api/v1/click-to-call", map[string]any{"name": "x", "extension": "101", "outboundNumber": "+15550001111"})
	if status != 400 || !strings.Contains(fmt.Sprint(body["errors"]), "outboundNumber") {
		t.Errorf("a number the tenant does not own: %d %v", status, body)
	}
	// Two users and one queue: three links, and a clear error for the fourth.
	for i := range 4 {
		status, body = vc.json("POST", "/api/v1/click-to-call", map[string]any{"name": fmt.Sprint("ctc", i), "extension": "101", "outboundNumber": "+390660786731"})
		if (i < 3) != (status == 200) {
			t.Errorf("link %d: %d %v", i, status, body)
		}
	}
	if !strings.Contains(fmt.Sprint(body["message"]), "limit") {
		t.Errorf("the limit's error does not say so: %v", body)
	}
	if status, raw, _ = vc.do("GET", "/api/v1/openapi.json", nil); status != 200 || !bytes.Contains(raw, []byte(`"/api/v1/telephony-events"`)) {
		t.Errorf("OpenAPI: %d", status)
	}
}

// TestVoxloudWebhooksEndToEnd subscribes to the real-time call events and the
// call record, sends an inbound call through the simulator, and checks what
// the receiver gets: INCOMING, ANSWERED, HANGUP in order, then PHONE_CALL
// matching the call, each in the document's shape.
func TestVoxloudWebhooksEndToEnd(t *testing.T) {
	c, vc, ids := voxTenant(t)
	recv := newReceiver(t)
	payloads := map[string]golden.Case{}
	for _, p := range golden.Load(t, "../../internal/voxloud/testdata/payloads.json") {
		payloads[p.Name] = p
	}
	for _, typ := range []string{"CALL_INCOMING", "CALL_ANSWERED", "CALL_HANGUP", "PHONE_CALL"} {
		if status, body := vc.json("POST", "/api/v1/webhook-subscriptions", map[string]any{"callback_url": recv.URL, "event_type": typ}); status != 200 {
			t.Fatalf("subscribe %s: %d %v", typ, status, body)
		}
	}
	vc.json("POST", "/api/v1/contacts", map[string]any{"first_name": "Maria", "last_name": "Rosi", "primary_phone": "+393331234567",
		"crm_name": "Hubspot", "crm_contact_url": "https://crm.example/contacts/2"})
	c.do("POST", fmt.Sprintf("/v1/users/%d/status", ids["john"]), map[string]any{"status": "Available"})
	_, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+393331234567", "to": "+390112121212", "answer_after_seconds": 1, "talk_seconds": 1})
	id := int64(call["id"].(float64))
	ended := waitCall(t, c, id, func(v map[string]any) bool { return v["status"] == "finished" })

	bodies := recv.wait(t, 4)
	time.Sleep(300 * time.Millisecond)
	if more := recv.wait(t, 4); len(more) != 4 {
		t.Errorf("%d webhooks, want 4: %s", len(more), bytes.Join(more, []byte("\n")))
	}
	var order []string
	for i, b := range bodies {
		var env struct {
			Timestamp int64           `json:"timestamp"`
			Type      string          `json:"type"`
			Data      json.RawMessage `json:"data"`
			PBXID     int64           `json:"pbx_id"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatalf("webhook %d: %v", i, err)
		}
		order = append(order, env.Type)
		for _, d := range golden.Compare(payloads["envelope"].Response, b, nil, nil) {
			if !strings.HasPrefix(d, "data.") {
				t.Errorf("envelope of %s: %s", env.Type, d)
			}
		}
		var data map[string]any
		json.Unmarshal(env.Data, &data)
		if data["callId"] != ended["uuid"] {
			t.Errorf("%s: callId %v, want %v", env.Type, data["callId"], ended["uuid"])
		}
		if env.Type == "PHONE_CALL" {
			p := payloads["phone call payload"]
			for _, d := range golden.Compare(p.Response, env.Data, p.Optional, nil) {
				t.Errorf("PHONE_CALL: %s", d)
			}
			want := map[string]any{"id": float64(id), "direction": "INBOUND", "originatorNumber": "+393331234567", "originatorName": "Maria Rosi",
				"destinationNumber": "+390112121212", "answererName": "John Smith", "answererNumber": "101", "lastEvent": "CALL_TERMINATED",
				"recorded": true, "voicemail": false, "contactCrm": "Hubspot", "contactCrmUrl": "https://crm.example/contacts/2"}
			for k, v := range want {
				if data[k] != v {
					t.Errorf("PHONE_CALL %s = %v, want %v", k, data[k], v)
				}
			}
			if d := data["duration"].(float64); d < 2 || d > 4 {
				t.Errorf("PHONE_CALL duration %v, want about 2 s (1 s ringing, 1 s talking)", d)
			}
			continue
		}
		p := payloads["phone call event"]
		for _, d := range golden.Compare(p.Response, env.Data, p.Optional, nil) {
			t.Errorf("%s: %s", env.Type, d)
		}
		if data["userEmail"] != "john@acme.test" || data["userExtension"] != float64(101) || data["sipUsername"] != "101" ||
			data["originatorName"] != "Maria Rosi" {
			t.Errorf("%s data %v", env.Type, data)
		}
	}
	if got := strings.Join(order, ","); got != "CALL_INCOMING,CALL_ANSWERED,CALL_HANGUP,PHONE_CALL" {
		t.Errorf("webhooks arrived as %s", got)
	}

	// The same record as CSV.
	status, raw, h := vc.do("POST", "/api/v1/telephony-events", nil, "Accept", "text/csv")
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if status != 200 || err != nil || len(rows) != 2 || rows[1][0] != fmt.Sprint(id) || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Errorf("CSV: %d %v %q", status, err, raw)
	}
}

// TestVoxloudFax sends a fax through the simulator: a FAX_CALL subscription
// gets it in the document's shape, a PHONE_CALL one does not, and its
// attachment is a PDF of the pages sent.
func TestVoxloudFax(t *testing.T) {
	c, vc, _ := voxTenant(t)
	recv := newReceiver(t)
	for _, typ := range []string{"PHONE_CALL", "FAX_CALL"} {
		if status, body := vc.json("POST", "/api/v1/webhook-subscriptions", map[string]any{"callback_url": recv.URL, "event_type": typ}); status != 200 {
			t.Fatalf("subscribe %s: %d %v", typ, status, body)
		}
	}
	_, fax := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+390687654321", "to": "+390112121212", "fax_pages": 3, "talk_seconds": 1})
	id := int64(fax["id"].(float64))
	ended := waitCall(t, c, id, func(v map[string]any) bool { return v["status"] == "finished" })
	if ended["media"] != "fax" || ended["fax_pages"] != float64(3) || ended["agent_id"] != nil {
		t.Errorf("fax call %v", ended)
	}
	body := recv.wait(t, 1)[0]
	time.Sleep(2500 * time.Millisecond) // the PHONE_CALL delay, had it been sent
	if n := len(recv.wait(t, 1)); n != 1 {
		t.Errorf("%d webhooks for one fax", n)
	}
	var env struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	json.Unmarshal(body, &env)
	p := golden.Load(t, "../../internal/voxloud/testdata/payloads.json")
	for _, want := range p {
		if want.Name == "fax payload" {
			for _, d := range golden.Compare(want.Response, env.Data, want.Optional, nil) {
				t.Errorf("FAX_CALL: %s", d)
			}
		}
	}
	var data map[string]any
	json.Unmarshal(env.Data, &data)
	if env.Type != "FAX_CALL" || data["id"] != float64(id) || data["total_pages"] != float64(3) || data["direction"] != "inbound" ||
		data["sender"] != "+390687654321" || data["recipient"] != "+390112121212" {
		t.Errorf("FAX_CALL webhook %s", body)
	}
	url, _ := data["attachment_url"].(string)
	path := url[strings.Index(url, "/api/"):]
	status, pdf, h := vc.do("GET", path, nil)
	if status != 200 || h.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) || bytes.Count(pdf, []byte("/Type /Page ")) != 3 {
		t.Errorf("attachment %s: %d %s, %d bytes", path, status, h.Get("Content-Type"), len(pdf))
	}
	status, ev, _ := vc.do("GET", fmt.Sprintf("/api/v1/telephony-events/%d", id), nil)
	if status != 200 || !bytes.Contains(ev, []byte(`"type":"FAX_CALL"`)) {
		t.Errorf("GET the fax's telephony event: %d %s", status, ev)
	}
}
