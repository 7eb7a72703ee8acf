package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/internal/golden"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// v360 is a tenant set up for the Voice360 tests: John Smith (1001) and Jane
// Doe (1002) signed in, queue Sales (8001) with John, John's two numbers,
// a developer key and John's user key.
type v360 struct {
	t               *testing.T
	native          client
	base            string // http://host
	account, queue  int64
	john, jane      int64
	devKey, userKey string
}

func newV360(t *testing.T, args ...string) *v360 {
	t.Helper()
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, append([]string{"--db", db, "--webhook-allow-cidr", "127.0.0.0/8", "--rate-limit", "0", "--tenant-write-rate", "0",
		"--sms-sim-receipt-delay", "100ms"}, args...)...)
	c := client{t: t, base: base, key: key}
	v := &v360{t: t, native: c, base: base}
	_, tn := c.do("GET", "/v1/tenant", nil)
	v.account = int64(tn["id"].(float64))
	mk := func(body map[string]any) int64 {
		status, u := c.do("POST", "/v1/users", body)
		if status != 201 {
			t.Fatalf("POST /v1/users: %d %v", status, u)
		}
		return int64(u["id"].(float64))
	}
	v.john = mk(map[string]any{"email": "john.smith@company.com", "first_name": "John", "last_name": "Smith", "extension": "1001",
		"time_zone": "America/New_York", "voicemail_enabled": true})
	v.jane = mk(map[string]any{"email": "jane.doe@company.com", "first_name": "Jane", "last_name": "Doe", "extension": "1002"})
	_, q := c.do("POST", "/v1/queues", map[string]any{"name": "Sales Queue", "extension": "8001", "strategy": "ringall", "join_empty": true})
	v.queue = int64(q["id"].(float64))
	c.do("POST", fmt.Sprintf("/v1/queues/%d/members", v.queue), map[string]any{"user_id": v.john})
	for _, n := range []map[string]any{
		{"number": "+15551230000", "label": "Main Business Line", "sms_enabled": true, "mms_enabled": true, "user_id": v.john},
		{"number": "+15559876543", "label": "Support Line", "sms_enabled": true, "user_id": v.john},
		{"number": "+15557770000", "label": "Sales line", "queue_id": v.queue},
	} {
		if status, body := c.do("POST", "/v1/phone_numbers", n); status != 201 {
			t.Fatalf("POST /v1/phone_numbers: %d %v", status, body)
		}
	}
	for _, u := range []int64{v.john, v.jane} {
		c.do("POST", fmt.Sprintf("/v1/users/%d/status", u), map[string]any{"status": "Available"})
	}
	_, dev := c.do("POST", "/v1/api_keys", map[string]any{"name": "voice360 developer", "secret_prefix": "v360_dev_"})
	_, usr := c.do("POST", "/v1/api_keys", map[string]any{"name": "john", "user_id": v.john})
	v.devKey, v.userKey = dev["secret"].(string), usr["secret"].(string)
	if !strings.HasPrefix(v.devKey, "v360_dev_") {
		t.Fatalf("developer key %q", v.devKey)
	}
	return v
}

// do calls the dialect at /v3/voice/{account}+path with key ("" for none).
func (v *v360) do(method, path, key string, body []byte) (int, []byte, http.Header) {
	v.t.Helper()
	return v.doAccount(v.account, method, path, key, body)
}

func (v *v360) doAccount(account int64, method, path, key string, body []byte) (int, []byte, http.Header) {
	v.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, fmt.Sprintf("%s/v3/voice/%d%s", v.base, account, path), rd)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw, res.Header
}

// TestVoice360Golden replays the document's examples and checks the shape
// of every answer.
func TestVoice360Golden(t *testing.T) {
	v := newV360(t)
	keys := map[string]string{"developer": v.devKey, "user": v.userKey, "invalid": "partial_key_xxx_not_a_key"}
	vars := map[string]string{"queue_id": fmt.Sprint(v.queue)}
	for _, tc := range golden.Load(t, "../../internal/voice360/testdata/golden.json") {
		var body []byte
		if len(tc.Body) > 0 {
			body = tc.Body
		}
		status, raw, h := v.do(tc.Method, golden.Replace(tc.Path, vars), keys[tc.Key], body)
		if status != tc.Status {
			t.Errorf("%s: %s %s = %d %s, want %d", tc.Name, tc.Method, tc.Path, status, raw, tc.Status)
			continue
		}
		for _, d := range golden.Compare(tc.Response, raw, tc.Optional, tc.Extra) {
			t.Errorf("%s: %s", tc.Name, d)
		}
		if tc.Key != "invalid" && (h.Get("X-RateLimit-Limit") != "1000" || h.Get("X-RateLimit-Remaining") == "") {
			t.Errorf("%s: rate-limit headers %v", tc.Name, h)
		}
		var env map[string]any
		json.Unmarshal(raw, &env)
		switch tc.Name {
		case "user availability":
			if r, _ := env["result"].([]any); len(r) != 2 || r[0].(map[string]any)["devices_registered"] != true {
				t.Errorf("availability %s", raw)
			}
		case "initiate an outbound call":
			if r, _ := env["result"].(map[string]any); r["status"] != "initiating" || r["call_id"] == "" {
				t.Errorf("outbound call %s", raw)
			}
		case "user profile":
			if r, _ := env["result"].(map[string]any); r["pk"] != float64(v.john) || r["email"] != "john.smith@company.com" ||
				r["voicemail_enabled"] != true || r["time_zone"] != "America/New_York" || r["asterisk_user_id"] != float64(1001) {
				t.Errorf("profile %s", raw)
			}
		case "user numbers":
			if r, _ := env["result"].([]any); len(r) != 2 {
				t.Errorf("numbers %s", raw)
			}
		case "an invalid key (the overview's error)":
			if d, _ := env["details"].(map[string]any); d["provided_key"] != "partial_..." {
				t.Errorf("the key is not masked: %s", raw)
			}
		}
	}
	// The call placed above was asked to record; one without recording is not.
	_, raw, _ := v.do("POST", "/call/outbound", v.devKey, []byte(`{"from":"1002","to":"+15551234568"}`))
	var env struct {
		Result struct {
			CallID string `json:"call_id"`
		} `json:"result"`
	}
	json.Unmarshal(raw, &env)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, live := v.native.do("GET", "/v1/calls", nil)
		var recorded []bool
		for _, it := range live["items"].([]any) {
			if c := it.(map[string]any); c["status"] == "connected" {
				recorded = append(recorded, c["recorded"].(bool))
			}
		}
		if len(recorded) == 2 {
			if recorded[0] == recorded[1] {
				t.Errorf("recording: with and without both %v", recorded)
			}
			// Both callers now show their call as a channel.
			_, raw, _ := v.do("GET", "/availability", v.devKey, nil)
			for _, d := range golden.Compare(availabilityExample(t), raw, nil, []string{"timestamp"}) {
				t.Errorf("availability during calls: %s", d)
			}
			if !bytes.Contains(raw, []byte(`"from":"1001","call_seconds"`)) && !bytes.Contains(raw, []byte(`"to":"+15551234567","from":"1001"`)) {
				t.Errorf("John's channel is missing: %s", raw)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the two calls never connected: %v", live)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// anotherAccount is what a key of another account gets: refused, or for a
// public route of an account that does not exist, the same 401 as "off".
func anotherAccount(path string) keyWant {
	if strings.HasPrefix(path, "/public/") {
		return keyWant{401, "AUTH_REQUIRED"}
	}
	return keyWant{403, "AUTH_INVALID"}
}

// keyWant is the status and error_code a call should get.
type keyWant struct {
	status int
	code   string
}

func availabilityExample(t *testing.T) json.RawMessage {
	for _, c := range golden.Load(t, "../../internal/voice360/testdata/golden.json") {
		if c.Name == "user availability" {
			return c.Response
		}
	}
	t.Fatal("no availability example")
	return nil
}

// TestVoice360KeyMatrix calls every endpoint with a developer key, a user
// key, a key of another account and no key, and checks each answer's status
// and error_code against the document's comparison table.
func TestVoice360KeyMatrix(t *testing.T) {
	v := newV360(t)
	q := fmt.Sprint(v.queue)
	type want = keyWant
	ok, empty := want{200, ""}, want{400, "BAD_REQUEST"} // POSTs are sent empty: admitted, then refused for their body
	noUser, noDev, off := want{403, "AUTH_INVALID"}, want{403, "AUTH_INVALID"}, want{401, "AUTH_REQUIRED"}
	_, raw, _ := v.do("POST", "/webhooks", v.devKey, []byte(`{"name":"n","url":"http://127.0.0.1:9/x","event_type":"CALL_ENDED"}`))
	var created struct {
		Result struct {
			ID int64 `json:"id"`
		} `json:"result"`
	}
	json.Unmarshal(raw, &created)
	hook := fmt.Sprint(created.Result.ID)
	for _, r := range []struct {
		method, path string
		dev, user    want
	}{
		{"GET", "/availability", ok, noDev},
		{"GET", "/queues", ok, noDev},
		{"GET", "/queues/" + q, ok, noDev},
		{"GET", "/availability/queues", ok, noDev},
		{"GET", "/availability/queues/" + q, ok, noDev},
		{"POST", "/call/outbound", empty, empty},
		{"POST", "/sms/send", empty, empty},
		{"GET", "/user/profile", noUser, ok},
		{"GET", "/user/numbers", noUser, ok},
		{"GET", "/webhooks", ok, noDev},
		{"GET", "/webhooks/" + hook, ok, noDev},
		// Public routes take no key, and answer nobody while public status is off.
		{"GET", "/public/availability", off, off},
		{"GET", "/public/queues", off, off},
		{"GET", "/public/availability/queues", off, off},
	} {
		var body []byte
		if r.method == "POST" {
			body = []byte(`{}`)
		}
		for _, k := range []struct {
			who     string
			account int64
			key     string
			want    want
		}{
			{"developer key", v.account, v.devKey, r.dev},
			{"user key", v.account, v.userKey, r.user},
			{"another account", v.account + 1, v.devKey, anotherAccount(r.path)},
			{"no key", v.account, "", want{401, "AUTH_REQUIRED"}},
		} {
			status, raw, _ := v.doAccount(k.account, r.method, r.path, k.key, body)
			var env struct {
				Error     bool   `json:"error"`
				ErrorCode string `json:"error_code"`
			}
			json.Unmarshal(raw, &env)
			if status != k.want.status || env.ErrorCode != k.want.code || env.Error != (k.want.code != "") {
				t.Errorf("%s %s with %s: %d %s, want %d %s", r.method, r.path, k.who, status, env.ErrorCode, k.want.status, k.want.code)
			}
		}
	}
	if status, raw, _ := v.do("GET", "/nowhere", v.devKey, nil); status != 404 || !bytes.Contains(raw, []byte(`"NOT_FOUND"`)) {
		t.Errorf("unknown path: %d %s", status, raw)
	}
	if status, _, h := v.do("DELETE", "/queues", v.devKey, nil); status != 405 || h.Get("Allow") != "GET" {
		t.Errorf("DELETE /queues: %d Allow %q", status, h.Get("Allow"))
	}
	if status, raw, _ := v.do("POST", "/sms/send", v.devKey, []byte(`{"from":"+15559876543","to":"+15551234567","message":"`+strings.Repeat("x", 161)+`"}`)); status != 400 ||
		!bytes.Contains(raw, []byte(`"message":"must be at most 160 characters"`)) {
		t.Errorf("a 161-character SMS: %d %s", status, raw)
	}
	if status, raw, _ := v.do("POST", "/call/outbound", v.userKey, []byte(`{"from":"1002","to":"+15551234567"}`)); status != 403 ||
		!bytes.Contains(raw, []byte("own extension")) {
		t.Errorf("a user key calling from another extension: %d %s", status, raw)
	}
	if status, raw, _ := v.doAccount(0, "GET", "/queues", v.devKey, nil); status != 400 {
		t.Errorf("account 0: %d %s", status, raw)
	}
}

// TestVoice360RateLimit shows the headers counting down, a 429 after the
// limit, and recovery.
func TestVoice360RateLimit(t *testing.T) {
	v := newV360(t, "--voice360-rate-limit", "120", "--voice360-public-rate-limit", "4")
	var remaining []int
	for range 120 {
		status, _, h := v.do("GET", "/queues", v.devKey, nil)
		if status != 200 || h.Get("X-RateLimit-Limit") != "120" {
			t.Fatalf("within the limit: %d %v", status, h)
		}
		n, _ := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
		remaining = append(remaining, n)
	}
	for i := 1; i < len(remaining); i++ {
		if remaining[i] > remaining[i-1] {
			t.Fatalf("remaining went up: %v", remaining)
		}
	}
	if remaining[0] != 119 || remaining[len(remaining)-1] > 2 {
		t.Errorf("remaining counts %d … %d", remaining[0], remaining[len(remaining)-1])
	}
	status, raw, h := v.do("GET", "/queues", v.devKey, nil)
	for status == 200 { // a token may have come back meanwhile
		status, raw, h = v.do("GET", "/queues", v.devKey, nil)
	}
	retry, _ := strconv.Atoi(h.Get("Retry-After"))
	if status != 429 || !bytes.Contains(raw, []byte(`"RATE_LIMITED"`)) || retry < 1 || h.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("over the limit: %d %s Retry-After %q", status, raw, h.Get("Retry-After"))
	}
	// Another key is not affected.
	if status, _, _ := v.do("GET", "/user/profile", v.userKey, nil); status != 200 {
		t.Errorf("the user key was throttled with the developer key: %d", status)
	}
	time.Sleep(time.Duration(retry) * time.Second)
	if status, raw, _ := v.do("GET", "/queues", v.devKey, nil); status != 200 {
		t.Errorf("after Retry-After: %d %s", status, raw)
	}

	// Public routes: off until the tenant enables them; 4 a minute per address
	// (the refused one counts).
	if status, raw, _ := v.do("GET", "/public/queues", "", nil); status != 401 {
		t.Errorf("public status while off: %d %s", status, raw)
	}
	v.native.do("PATCH", "/v1/tenant", map[string]any{"public_status": true})
	for i := range 2 {
		status, raw, _ := v.do("GET", []string{"/public/availability", "/public/availability/queues"}[i], "", nil)
		if status != 200 || !bytes.Contains(raw, []byte(`"error":false`)) {
			t.Errorf("public route %d: %d %s", i, status, raw)
		}
		if i == 0 && (!bytes.Contains(raw, []byte(`"status":"online"`)) || bytes.Contains(raw, []byte("email"))) {
			t.Errorf("public availability shows more than online/offline: %s", raw)
		}
	}
	if status, _, _ := v.do("GET", "/public/queues", "", nil); status != 200 {
		t.Errorf("third public request: %d", status)
	}
	if status, raw, _ := v.do("GET", "/public/queues", "", nil); status != 429 {
		t.Errorf("fourth public request in a minute: %d %s", status, raw)
	}
}

// TestVoice360Clients runs the document's JavaScript client (with node) and
// its curl script (with bash and curl) against the server, changed only in
// their base URL, key and account id.
func TestVoice360Clients(t *testing.T) {
	v := newV360(t)
	dir := t.TempDir()
	subst := func(s string) string {
		s = strings.ReplaceAll(s, "https://api.voice360.app/v3/voice", v.base+"/v3/voice")
		s = strings.ReplaceAll(s, "your_api_key", v.devKey)
		s = strings.ReplaceAll(s, "new Voice360API('"+v.devKey+"', 61)", fmt.Sprintf("new Voice360API('%s', %d)", v.devKey, v.account))
		return strings.ReplaceAll(s, `ACCOUNT_ID="61"`, fmt.Sprintf(`ACCOUNT_ID="%d"`, v.account))
	}
	run := func(name string, args ...string) (string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %v: %v\n%s%s", name, args, err, out.String(), errOut.String())
		}
		return out.String(), errOut.String()
	}

	for _, tool := range []string{"node", "curl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			// CI installs them and sets SWITCHBOARD_TEST_REQUIRE_CLIENTS, so
			// there a missing tool fails the test rather than skipping it.
			if os.Getenv("SWITCHBOARD_TEST_REQUIRE_CLIENTS") != "" {
				t.Fatalf("%s is not installed: the document's clients cannot be run", tool)
			}
			t.Skipf("%s is not installed: skipping the document's clients (set SWITCHBOARD_TEST_REQUIRE_CLIENTS to make this fail)", tool)
		}
	}
	{
		src, err := os.ReadFile("../../internal/voice360/testdata/client.js")
		if err != nil {
			t.Fatal(err)
		}
		// The document's main() as it is, then every other method of the class.
		js := strings.Replace(subst(string(src)), "\nmain();", "\nawait main();\nawait rest();", 1) + fmt.Sprintf(`
async function rest() {
  const api = new Voice360API(%q, %d);
  const out = {};
  out.queues = await api.getQueues();
  out.details = await api.getQueueDetails(%d);
  out.one = await api.getQueueAvailability(%d);
  out.call = await api.initiateCall('1002', '+15551234599');
  out.sms = await api.sendSMS('+15559876543', '+15551234567', 'Hello from Voice360!');
  console.log(JSON.stringify(out));
}
`, v.devKey, v.account, v.queue, v.queue)
		file := filepath.Join(dir, "client.mjs")
		os.WriteFile(file, []byte(js), 0o644)
		out, errOut := run("node", file)
		if strings.Contains(errOut, "API Error") || !strings.Contains(out, "2 users online") || !strings.Contains(out, "1 queues have agents available") ||
			!strings.Contains(out, "Call initiated: ") || strings.Contains(out, "Call initiated: undefined") {
			t.Errorf("the JavaScript client's main():\n%s%s", out, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var rest map[string]struct {
			Error   bool   `json:"error"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rest); err != nil || len(rest) != 5 {
			t.Fatalf("the client's other methods: %v\n%s", err, out)
		}
		for name, r := range rest {
			if r.Error {
				t.Errorf("%s: %+v", name, r)
			}
		}
	}

	src, err := os.ReadFile("../../internal/voice360/testdata/client.sh")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "client.sh")
	// The script's call from 1001 needs John free: hang up what the JavaScript client placed.
	_, live := v.native.do("GET", "/v1/calls", nil)
	for _, it := range live["items"].([]any) {
		v.native.do("POST", fmt.Sprintf("/v1/calls/%v/hangup", it.(map[string]any)["id"]), nil)
	}
	time.Sleep(200 * time.Millisecond)
	os.WriteFile(file, []byte(subst(string(src))), 0o644)
	out, _ := run("bash", file)
	if n := strings.Count(out, `"error":false`); n != 4 || !strings.Contains(out, `"status":"initiating"`) {
		t.Errorf("the curl script: %d of 4 calls succeeded:\n%s", n, out)
	}
}

// TestVoice360Webhooks subscribes through the /webhooks extension to SMS and
// call events and checks what arrives: the document's payload shape, the
// metadata each event needs, and GET subscriptions getting query fields.
func TestVoice360Webhooks(t *testing.T) {
	v := newV360(t)
	recv, get := newReceiver(t), newReceiver(t)
	var gotQuery url.Values
	get.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		get.mu.Lock()
		gotQuery = r.URL.Query()
		get.bodies = append(get.bodies, []byte(r.Method))
		get.mu.Unlock()
	})
	sub := func(typ, url, method string) {
		status, raw, _ := v.do("POST", "/webhooks", v.devKey, []byte(fmt.Sprintf(`{"name":%q,"url":%q,"event_type":%q,"http_method":%q,"retries":2}`, typ, url, typ, method)))
		if status != 200 {
			t.Fatalf("subscribe %s: %d %s", typ, status, raw)
		}
	}
	for _, typ := range []string{"SMS_SENT", "SMS_DELIVERED", "SMS_RECEIVED", "INCOMING_EXTERNAL_CALL", "USER_ANSWER", "CALL_ENDED", "QUEUE_HANGUP_TIMEOUT"} {
		sub(typ, recv.URL, "POST")
	}
	sub("SMS_RECEIVED", get.URL+"/hook?token=abc", "GET")
	if status, raw, _ := v.do("POST", "/webhooks", v.devKey, []byte(`{"url":"http://127.0.0.1:1/x","event_type":"CALL_STARTED"}`)); status != 400 {
		t.Errorf("an unknown event type: %d %s", status, raw)
	}
	if status, raw, _ := v.do("POST", "/webhooks", v.devKey, []byte(`{"url":"http://127.0.0.1:1/x","event_type":"CALL_ENDED","retries":6}`)); status != 400 {
		t.Errorf("retries 6: %d %s", status, raw)
	}

	if status, raw, _ := v.do("POST", "/sms/send", v.userKey, []byte(`{"from":"+15559876543","to":"+15551234567","message":"Hello from Voice360!"}`)); status != 200 {
		t.Fatalf("send: %d %s", status, raw)
	}
	if status, body := v.native.do("POST", "/v1/messages/inbound", map[string]any{"from": "+15551234567", "to": "+15559876543",
		"message": "Hello, this is a test message", "provider_id": "gw-1"}); status != 201 {
		t.Fatalf("inbound: %d %v", status, body)
	}
	// A caller who waits in a queue nobody answers, for the queue's limit.
	v.native.do("PATCH", fmt.Sprintf("/v1/queues/%d", v.queue), map[string]any{"max_wait_seconds": 1})
	v.native.do("PUT", fmt.Sprintf("/v1/sim/devices/%d", v.john), map[string]any{"registered": true, "behavior": "ignore"})
	_, call := v.native.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "+15557770000"})
	id := int64(call["id"].(float64))
	waitCall(t, v.native, id, func(c map[string]any) bool { return c["hangup_cause"] == "queue timeout" })

	payloads := golden.Load(t, "../../internal/voice360/testdata/payloads.json")
	bodies := recv.wait(t, 6)
	time.Sleep(300 * time.Millisecond)
	bodies = recv.wait(t, 6)
	seen := map[string]map[string]any{}
	for _, b := range bodies {
		for _, d := range golden.Compare(payloads[0].Response, b, nil, nil) {
			if !strings.HasPrefix(d, "metadata.") {
				t.Errorf("payload %s: %s", b, d)
			}
		}
		var p struct {
			EventName string         `json:"event_name"`
			AccountID string         `json:"account_id"`
			Timestamp int64          `json:"timestamp"`
			Metadata  map[string]any `json:"metadata"`
		}
		json.Unmarshal(b, &p)
		if p.AccountID != fmt.Sprint(v.account) || p.Timestamp < time.Now().Add(-time.Minute).Unix() || p.Timestamp > time.Now().Unix()+1 {
			t.Errorf("payload %s", b)
		}
		seen[p.EventName] = p.Metadata
	}
	if m := seen["SMS_RECEIVED"]; m == nil || m["body"] != "Hello, this is a test message" || m["from_number"] != "+15551234567" {
		t.Errorf("SMS_RECEIVED %v", m)
	} else {
		for _, d := range golden.Compare(payloads[0].Response, mustJSON(map[string]any{"event_name": "SMS_RECEIVED", "account_id": "1", "timestamp": 1, "metadata": m}), nil, nil) {
			t.Errorf("SMS_RECEIVED: %s", d)
		}
	}
	if m := seen["SMS_SENT"]; m == nil || m["to_number"] != "+15551234567" || m["body"] != "Hello from Voice360!" {
		t.Errorf("SMS_SENT %v", m)
	}
	if m := seen["SMS_DELIVERED"]; m == nil || m["delivered_at"] == nil {
		t.Errorf("SMS_DELIVERED %v", m)
	}
	if m := seen["INCOMING_EXTERNAL_CALL"]; m == nil || m["from_number"] != "+15550001111" {
		t.Errorf("INCOMING_EXTERNAL_CALL %v", m)
	}
	if m := seen["QUEUE_HANGUP_TIMEOUT"]; m == nil || m["queue_id"] != float64(v.queue) || m["queue_name"] != "Sales Queue" {
		t.Errorf("QUEUE_HANGUP_TIMEOUT %v", m)
	}
	if m := seen["CALL_ENDED"]; m == nil || m["disposition"] != "no_answer" {
		t.Errorf("CALL_ENDED %v", m)
	}
	if _, answered := seen["USER_ANSWER"]; answered {
		t.Errorf("USER_ANSWER for a call nobody answered")
	}
	get.wait(t, 1)
	get.mu.Lock()
	defer get.mu.Unlock()
	if gotQuery.Get("event_name") != "SMS_RECEIVED" || gotQuery.Get("metadata[body]") != "Hello, this is a test message" || gotQuery.Get("token") != "abc" {
		t.Errorf("GET webhook query %v", gotQuery)
	}
	_, raw, _ := v.do("GET", "/webhooks", v.devKey, nil)
	if !bytes.Contains(raw, []byte(`"http_method":"GET"`)) || bytes.Count(raw, []byte(`"event_type"`)) != 8 {
		t.Errorf("GET /webhooks: %s", raw)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestVoice360WebhookOnNativeAPI subscribes through the native API with
// dialect voice360, naming Voice360 events, as the issue asks.
func TestVoice360WebhookOnNativeAPI(t *testing.T) {
	v := newV360(t)
	recv := newReceiver(t)
	status, body := v.native.do("POST", "/v1/webhooks", map[string]any{"url": recv.URL, "dialect": "voice360", "event_types": []string{"SMS_RECEIVED", "SMS_DELIVERED"}})
	if status != 201 || fmt.Sprint(body["dialect_types"]) != "[SMS_RECEIVED SMS_DELIVERED]" {
		t.Fatalf("POST /v1/webhooks (voice360): %d %v", status, body)
	}
	if status, body := v.native.do("POST", "/v1/webhooks", map[string]any{"url": recv.URL, "dialect": "voice360", "event_types": []string{"sms.received"}}); status != 422 ||
		!strings.Contains(fmt.Sprint(body), "SMS_RECEIVED") {
		t.Errorf("core names on a voice360 subscription: %d %v", status, body)
	}
	v.native.do("POST", "/v1/messages", map[string]any{"from": "+15559876543", "to": "+15551234567", "message": "native send"})
	v.native.do("POST", "/v1/messages/inbound", map[string]any{"from": "+15551234567", "to": "+15559876543", "message": "reply"})
	bodies := recv.wait(t, 2)
	time.Sleep(300 * time.Millisecond)
	names := map[string]bool{}
	for _, b := range recv.wait(t, 2) {
		var p Payload360
		json.Unmarshal(b, &p)
		names[p.EventName] = true
	}
	if len(bodies) < 2 || !names["SMS_RECEIVED"] || !names["SMS_DELIVERED"] || len(names) != 2 {
		t.Errorf("got %v", names)
	}
}

// Payload360 is the Voice360 webhook body, as a receiver decodes it.
type Payload360 struct {
	EventName string         `json:"event_name"`
	AccountID string         `json:"account_id"`
	Timestamp int64          `json:"timestamp"`
	Metadata  map[string]any `json:"metadata"`
}
