package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// hookSink is a loopback webhook receiver keeping every request.
type hookSink struct {
	*httptest.Server
	mu  sync.Mutex
	got []sunk
}

type sunk struct {
	method string
	path   string
	header http.Header
	body   string
}

func newHookSink(t *testing.T) *hookSink {
	s := &hookSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, sunk{r.Method, r.URL.Path, r.Header.Clone(), string(b) + r.URL.RawQuery})
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *hookSink) all() []sunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sunk(nil), s.got...)
}

// waitSunk waits until s has a request matching ok.
func waitSunk(t *testing.T, s *hookSink, what string, ok func(sunk) bool) sunk {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, g := range s.all() {
			if ok(g) {
				return g
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no webhook %s arrived; got %v", what, s.all())
	return sunk{}
}

// nativeHook reads a webhook on the native API, the view every dialect's
// subscription has there.
func nativeHook(t *testing.T, c client, id any) map[string]any {
	t.Helper()
	status, w := c.do("GET", fmt.Sprintf("/v1/webhooks/%v", id), nil)
	if status != 200 {
		t.Fatalf("GET /v1/webhooks/%v: %d %v", id, status, w)
	}
	return w
}

// nativeByUUID finds a vendor subscription on the native API by its UUID.
func nativeByUUID(t *testing.T, c client, uuid string) map[string]any {
	t.Helper()
	_, page := c.do("GET", "/v1/webhooks?limit=100", nil)
	items, _ := page["data"].([]any)
	if items == nil {
		items, _ = page["items"].([]any)
	}
	for _, it := range items {
		if w := it.(map[string]any); w["uuid"] == uuid {
			return w
		}
	}
	t.Fatalf("no webhook with uuid %s in %v", uuid, page)
	return nil
}

func same(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestWebhookUpdatesEveryField walks every writable field of a subscription
// through every dialect's update path: each change is in the answer, in a
// fresh GET (in the dialect and on the native API, where the dialect's and
// the core event names must agree), leaves the other fields alone, and takes
// effect for delivery.
func TestWebhookUpdatesEveryField(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			key := newTenantKey(t, db)
			_, base, _ := startServer(t, "--db", db, "--webhook-allow-cidr", "127.0.0.0/8", "--rate-limit", "0", "--tenant-write-rate", "0")
			c := client{t: t, base: base, key: key}
			a, b := newHookSink(t), newHookSink(t)
			t.Run("native", func(t *testing.T) { nativeWalk(t, c, a, b) })
			t.Run("voxloud", func(t *testing.T) { voxloudWalk(t, c, voxClient{t: t, base: base, key: key}, a, b) })
			t.Run("voice360", func(t *testing.T) { voice360Walk(t, c, base, a, b) })
		})
	}
}

func nativeWalk(t *testing.T, c client, a, b *hookSink) {
	status, w := c.do("POST", "/v1/webhooks", map[string]any{"name": "one", "url": a.URL + "/n1", "event_types": []string{"user.created"}})
	if status != 201 {
		t.Fatalf("POST /v1/webhooks: %d %v", status, w)
	}
	id := w["id"]
	want := map[string]any{"name": "one", "url": a.URL + "/n1", "method": "POST", "dialect": "native", "event_types": []string{"user.created"},
		"dialect_types": []string{}, "max_attempts": 0, "notify_email": "", "headers": map[string]string{}, "enabled": true}
	for _, step := range []map[string]any{
		{"name": "two"},
		{"url": b.URL + "/n2"},
		{"method": "GET"},
		{"event_types": []string{"skill.created", "team.*"}},
		{"max_attempts": 2},
		{"notify_email": "ops@acme.test"},
		{"headers": map[string]string{"X-Tenant": "acme"}},
		{"enabled": false},
		{"enabled": true},
		{"dialect": "voice360", "event_types": []string{"SMS_SENT"}},
		{"dialect": "native", "event_types": []string{"skill.created"}},
		{"method": "POST", "name": "three"},
	} {
		status, got := c.do("PATCH", fmt.Sprintf("/v1/webhooks/%v", id), step)
		if status != 200 {
			t.Fatalf("PATCH %v: %d %v", step, status, got)
		}
		for k, v := range step {
			want[k] = v
		}
		want["dialect_types"] = []string{}
		if want["dialect"] == "voice360" {
			want["event_types"], want["dialect_types"] = []string{"sms.sent"}, step["event_types"]
		}
		for _, view := range []map[string]any{got, nativeHook(t, c, id)} {
			for k, v := range want {
				if !same(view[k], v) {
					t.Errorf("after PATCH %v: %s = %v, want %v", step, k, view[k], v)
				}
			}
		}
	}
	c.do("POST", "/v1/skills", map[string]any{"name": "walked"})
	got := waitSunk(t, b, "at the updated URL", func(s sunk) bool { return s.path == "/n2" })
	if got.method != "POST" || got.header.Get("X-Tenant") != "acme" || !strings.Contains(got.body, `"type":"skill.created"`) {
		t.Errorf("delivery after the walk: %s %s %v %s", got.method, got.path, got.header, got.body)
	}
	for _, s := range a.all() {
		if s.path == "/n1" {
			t.Errorf("the old URL still received %s", s.body)
		}
	}
}

func voxloudWalk(t *testing.T, c client, vc voxClient, a, b *hookSink) {
	const base = "/api/v1/webhook-subscriptions"
	status, w := vc.json("POST", base, map[string]any{"callback_url": a.URL + "/v1", "event_type": "CALL_INCOMING", "notification_email": "a@acme.test"})
	if status != 200 && status != 201 {
		t.Fatalf("POST %s: %d %v", base, status, w)
	}
	uuid := w["id"].(string)
	want := map[string]any{"callback_url": a.URL + "/v1", "event_type": "CALL_INCOMING", "enabled": true, "notification_email": "a@acme.test"}
	core := map[string][]string{"CALL_INCOMING": {"call.ringing"}, "CALL_HANGUP": {"call.ended"}, "PHONE_CALL": {"call.ended"},
		"CALL_STARTED": {"call.created", "call.dialing"}}
	delay := map[string]float64{"PHONE_CALL": 2}
	i := 0
	for _, step := range []map[string]any{
		{"event_type": "CALL_HANGUP"},
		{"callback_url": b.URL + "/v2"},
		{"enabled": false},
		{"notification_email": "b@acme.test"},
		{"event_type": "PHONE_CALL", "enabled": true},
		{"event_type": "CALL_STARTED"},
	} {
		// Voxloud updates carry the whole subscription; PUT and POST both
		// update.
		body := map[string]any{"callback_url": want["callback_url"], "event_type": want["event_type"]}
		for k, v := range step {
			body[k] = v
			want[k] = v
		}
		method := []string{"PUT", "POST"}[i%2]
		i++
		status, got := vc.json(method, base+"/"+uuid, body)
		if status != 200 {
			t.Fatalf("%s %v: %d %v", method, step, status, got)
		}
		_, again := vc.json("GET", base+"/"+uuid, nil)
		for _, view := range []map[string]any{got, again} {
			for k, v := range want {
				if !same(view[k], v) {
					t.Errorf("after %s %v: %s = %v, want %v", method, step, k, view[k], v)
				}
			}
		}
		nw := nativeByUUID(t, c, uuid)
		typ := want["event_type"].(string)
		if !same(nw["dialect_types"], []string{typ}) || !same(nw["event_types"], core[typ]) || nw["url"] != want["callback_url"] ||
			nw["delay_seconds"] != delay[typ] || nw["enabled"] != want["enabled"] || nw["notify_email"] != want["notification_email"] {
			t.Errorf("after %s %v the native view disagrees: %v", method, step, nw)
		}
	}
}

func voice360Walk(t *testing.T, c client, base string, a, b *hookSink) {
	_, dev := c.do("POST", "/v1/api_keys", map[string]any{"name": "voice360 walk", "secret_prefix": "v360_dev_"})
	_, tn := c.do("GET", "/v1/tenant", nil)
	v := &v360{t: t, native: c, base: base, account: int64(tn["id"].(float64)), devKey: dev["secret"].(string)}
	call := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		var raw []byte
		if body != nil {
			raw, _ = json.Marshal(body)
		}
		status, out, _ := v.do(method, path, v.devKey, raw)
		var env map[string]any
		json.Unmarshal(out, &env)
		data, _ := env["result"].(map[string]any)
		if data == nil {
			data = env
		}
		return status, data
	}
	status, w := call("POST", "/webhooks", map[string]any{"name": "sms in", "url": a.URL + "/w1", "event_type": "SMS_RECEIVED"})
	if status != 200 && status != 201 {
		t.Fatalf("POST /webhooks: %d %v", status, w)
	}
	id := w["id"]
	want := map[string]any{"name": "sms in", "url": a.URL + "/w1", "event_type": "SMS_RECEIVED", "http_method": "POST", "retries": 3.0, "enabled": true}
	core := map[string]string{"SMS_RECEIVED": "sms.received", "SMS_SENT": "sms.sent", "CALL_ENDED": "call.ended"}
	for _, step := range []map[string]any{
		{"name": "sms out"},
		{"url": b.URL + "/w2"},
		{"event_type": "CALL_ENDED"},
		{"http_method": "GET"},
		{"retries": 5.0},
		{"enabled": false},
		{"enabled": true, "event_type": "SMS_SENT", "http_method": "POST"},
	} {
		body := map[string]any{}
		for k, v := range want {
			body[k] = v
		}
		for k, v := range step {
			body[k], want[k] = v, v
		}
		status, got := call("PUT", fmt.Sprintf("/webhooks/%v", id), body)
		if status != 200 {
			t.Fatalf("PUT %v: %d %v", step, status, got)
		}
		_, again := call("GET", fmt.Sprintf("/webhooks/%v", id), nil)
		for _, view := range []map[string]any{got, again} {
			for k, v := range want {
				if !same(view[k], v) {
					t.Errorf("after PUT %v: %s = %v, want %v", step, k, view[k], v)
				}
			}
		}
		nw := nativeHook(t, c, id)
		typ := want["event_type"].(string)
		if !same(nw["dialect_types"], []string{typ}) || !same(nw["event_types"], []string{core[typ]}) || nw["name"] != want["name"] ||
			nw["url"] != want["url"] || nw["method"] != want["http_method"] || nw["max_attempts"] != want["retries"] || nw["enabled"] != want["enabled"] {
			t.Errorf("after PUT %v the native view disagrees: %v", step, nw)
		}
	}
	// The updated subscription takes SMS_SENT at its new URL.
	if status, n := c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+15550001111", "label": "walk", "sms_enabled": true}); status != 201 {
		t.Fatalf("POST /v1/phone_numbers: %d %v", status, n)
	}
	if status, m := c.do("POST", "/v1/messages", map[string]any{"from": "+15550001111", "to": "+15550002222", "message": "hello"}); status >= 300 {
		t.Fatalf("POST /v1/messages: %d %v", status, m)
	}
	got := waitSunk(t, b, "SMS_SENT at the updated URL", func(s sunk) bool { return s.path == "/w2" })
	if !strings.Contains(got.body, `"event_name":"SMS_SENT"`) {
		t.Errorf("delivery after the walk: %s", got.body)
	}
}

// TestWebhookLimits: a subscription lists at most --webhook-max-event-types
// event types and a tenant has at most --webhook-max-per-tenant
// subscriptions, through every dialect and under concurrent creation; the
// refusal names the field in each dialect's envelope.
func TestWebhookLimits(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			key := newTenantKey(t, db)
			_, base, _ := startServer(t, "--db", db, "--webhook-allow-cidr", "127.0.0.0/8", "--rate-limit", "0", "--tenant-write-rate", "0",
				"--webhook-max-per-tenant", "4", "--webhook-max-event-types", "5")
			c := client{t: t, base: base, key: key}
			sink := newHookSink(t)
			fieldOf := func(body map[string]any) map[string]any {
				f, _ := body["error"].(map[string]any)["fields"].(map[string]any)
				return f
			}
			types := func(n int) []string {
				out := make([]string, n)
				for i := range out {
					out[i] = fmt.Sprintf("custom.t%d", i)
				}
				return out
			}
			status, body := c.do("POST", "/v1/webhooks", map[string]any{"url": sink.URL, "event_types": types(6)})
			if f := fieldOf(body); status != 422 || !strings.Contains(fmt.Sprint(f["event_types"]), "5") {
				t.Errorf("6 event types: %d %v", status, body)
			}
			start := time.Now()
			status, body = c.do("POST", "/v1/webhooks", map[string]any{"url": sink.URL, "event_types": types(40000)})
			if status != 422 || fieldOf(body)["event_types"] == nil || time.Since(start) > 5*time.Second {
				t.Errorf("40,000 event types: %d after %v", status, time.Since(start))
			}
			status, body = c.do("POST", "/v1/webhooks", map[string]any{"url": sink.URL, "dialect": "voice360",
				"event_types": []string{"SMS_RECEIVED", "SMS_SENT", "SMS_DELIVERED", "CALL_ENDED", "USER_DIAL", "USER_ANSWER"}})
			if status != 422 || fieldOf(body)["event_types"] == nil {
				t.Errorf("6 Voice360 event types on the native API: %d %v", status, body)
			}
			status, w := c.do("POST", "/v1/webhooks", map[string]any{"url": sink.URL, "event_types": types(5)})
			if status != 201 {
				t.Fatalf("5 event types: %d %v", status, w)
			}
			status, body = c.do("PATCH", fmt.Sprintf("/v1/webhooks/%v", w["id"]), map[string]any{"event_types": types(6)})
			if status != 422 || fieldOf(body)["event_types"] == nil {
				t.Errorf("PATCH to 6 event types: %d %v", status, body)
			}
			if got := nativeHook(t, c, w["id"]); !same(got["event_types"], types(5)) {
				t.Errorf("a refused PATCH changed the event types to %v", got["event_types"])
			}

			// Concurrent creations stop at the bound: one exists, three more fit.
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{}
			for range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					status, body := c.do("POST", "/v1/webhooks", map[string]any{"url": sink.URL, "event_types": []string{"user.*"}})
					if status == 422 && fieldOf(body)["webhooks"] == nil {
						t.Errorf("refusal without the webhooks field: %v", body)
					}
					mu.Lock()
					codes[status]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if codes[201] != 3 || codes[422] != 9 {
				t.Errorf("12 concurrent creations with 3 free: %v", codes)
			}
			vc := voxClient{t: t, base: base, key: key}
			status, raw, _ := vc.do("POST", "/api/v1/webhook-subscriptions", []byte(`{"callback_url":"`+sink.URL+`","event_type":"CALL_HANGUP"}`))
			if status != 400 || !strings.Contains(string(raw), `"field":"webhooks"`) {
				t.Errorf("Voxloud creation past the bound: %d %s", status, raw)
			}
			_, dev := c.do("POST", "/v1/api_keys", map[string]any{"name": "voice360", "secret_prefix": "v360_dev_"})
			_, tn := c.do("GET", "/v1/tenant", nil)
			v := &v360{t: t, base: base, account: int64(tn["id"].(float64))}
			status, raw, _ = v.do("POST", "/webhooks", dev["secret"].(string), []byte(`{"name":"x","url":"`+sink.URL+`","event_type":"SMS_SENT"}`))
			if status != 400 || !strings.Contains(string(raw), `"webhooks"`) {
				t.Errorf("Voice360 creation past the bound: %d %s", status, raw)
			}
			// Deleting one makes room again.
			if status, _ := c.do("DELETE", fmt.Sprintf("/v1/webhooks/%v", w["id"]), nil); status != 204 {
				t.Fatalf("DELETE: %d", status)
			}
			if status, body := c.do("POST", "/v1/webhooks", map[string]any{"url": sink.URL}); status != 201 {
				t.Errorf("creation after a deletion: %d %v", status, body)
			}
		})
	}
}

// TestWebhookSSRFEveryDialect: every dialect's create and update paths run
// the same guard, so each spelling of a forbidden target is refused on all
// six, with the url field named in the dialect's envelope, and nothing is
// stored.
func TestWebhookSSRFEveryDialect(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db, "--webhook-allow-cidr", "127.0.0.0/8", "--rate-limit", "0", "--tenant-write-rate", "0")
	c := client{t: t, base: base, key: key}
	vc := voxClient{t: t, base: base, key: key}
	_, dev := c.do("POST", "/v1/api_keys", map[string]any{"name": "voice360", "secret_prefix": "v360_dev_"})
	_, tn := c.do("GET", "/v1/tenant", nil)
	v := &v360{t: t, base: base, account: int64(tn["id"].(float64)), devKey: dev["secret"].(string)}
	sink := newHookSink(t)

	// One subscription per dialect to update.
	_, nw := c.do("POST", "/v1/webhooks", map[string]any{"url": sink.URL + "/n"})
	_, vw := vc.json("POST", "/api/v1/webhook-subscriptions", map[string]any{"callback_url": sink.URL + "/v", "event_type": "CALL_HANGUP"})
	_, raw, _ := v.do("POST", "/webhooks", v.devKey, []byte(`{"name":"x","url":"`+sink.URL+`/w","event_type":"SMS_SENT"}`))
	var env struct {
		Result struct {
			ID int64 `json:"id"`
		} `json:"result"`
	}
	json.Unmarshal(raw, &env)
	if nw["id"] == nil || vw["id"] == nil || env.Result.ID == 0 {
		t.Fatalf("setup: %v %v %s", nw, vw, raw)
	}
	_, port, _ := strings.Cut(strings.TrimPrefix(sink.URL, "http://"), ":")
	for _, target := range []string{
		"http://[::1%25lo]:" + port + "/x", "http://[fe80::1%25lo]/", "http://[::127.0.0.1]:" + port + "/", "http://[::1]:" + port + "/",
		"http://[0:0:0:0:0:0:0:1]/", "http://[::]/", "http://0.0.0.0:" + port + "/", "http://127.1:" + port + "/", "http://2130706433:" + port + "/",
		"http://0177.0.0.1/", "http://0x7f.0.0.1/", "http://[fd00:ec2::254]/", "http://169.254.169.254/", "http://[::ffff:169.254.169.254]/",
		"http://[fec0::1]/", "http://100.64.0.1/", "http://localhost:" + port + "/", "http://localhost./",
		"http://public.example@127.0.0.1:" + port + "/", "ftp://127.0.0.1/", "file:///etc/passwd",
	} {
		status, body := c.do("POST", "/v1/webhooks", map[string]any{"url": target})
		if f, _ := body["error"].(map[string]any)["fields"].(map[string]any); status != 422 || f["url"] == nil {
			t.Errorf("native POST %s: %d %v", target, status, body)
		}
		status, body = c.do("PATCH", fmt.Sprintf("/v1/webhooks/%v", nw["id"]), map[string]any{"url": target})
		if f, _ := body["error"].(map[string]any)["fields"].(map[string]any); status != 422 || f["url"] == nil {
			t.Errorf("native PATCH %s: %d %v", target, status, body)
		}
		sub, _ := json.Marshal(map[string]any{"callback_url": target, "event_type": "CALL_HANGUP"})
		for _, m := range []string{"POST", "PUT"} {
			path := "/api/v1/webhook-subscriptions"
			if m == "PUT" {
				path += "/" + vw["id"].(string)
			}
			status, raw, _ := vc.do(m, path, sub)
			if status != 400 || !strings.Contains(string(raw), `"field":"callback_url"`) {
				t.Errorf("Voxloud %s %s: %d %s", m, target, status, raw)
			}
		}
		sub, _ = json.Marshal(map[string]any{"name": "x", "url": target, "event_type": "SMS_SENT"})
		for _, m := range []string{"POST", "PUT"} {
			path := "/webhooks"
			if m == "PUT" {
				path += fmt.Sprintf("/%d", env.Result.ID)
			}
			status, raw, _ := v.do(m, path, v.devKey, sub)
			if status != 400 || !strings.Contains(string(raw), `"url"`) {
				t.Errorf("Voice360 %s %s: %d %s", m, target, status, raw)
			}
		}
	}
	_, page := c.do("GET", "/v1/webhooks", nil)
	if items, _ := page["items"].([]any); len(items) != 3 || strings.Count(toJSON(page), sink.URL) != 3 {
		t.Errorf("refused requests changed the subscriptions: %v", page)
	}
}

// TestWebhookCreatedDisabled: enabled false at creation is honoured by every
// dialect, and a disabled subscription receives nothing.
func TestWebhookCreatedDisabled(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			key := newTenantKey(t, db)
			_, base, _ := startServer(t, "--db", db, "--webhook-allow-cidr", "127.0.0.0/8", "--rate-limit", "0", "--tenant-write-rate", "0")
			c := client{t: t, base: base, key: key}
			sink := newHookSink(t)
			status, nw := c.do("POST", "/v1/webhooks", map[string]any{"url": sink.URL + "/n", "event_types": []string{"skill.*"}, "enabled": false})
			if status != 201 || nw["enabled"] != false || nativeHook(t, c, nw["id"])["enabled"] != false {
				t.Errorf("native creation with enabled false: %d %v", status, nw)
			}
			vc := voxClient{t: t, base: base, key: key}
			_, vw := vc.json("POST", "/api/v1/webhook-subscriptions", map[string]any{"callback_url": sink.URL + "/v", "event_type": "CALL_HANGUP", "enabled": false})
			if vw["enabled"] != false || nativeByUUID(t, c, fmt.Sprint(vw["id"]))["enabled"] != false {
				t.Errorf("Voxloud creation with enabled false: %v", vw)
			}
			_, dev := c.do("POST", "/v1/api_keys", map[string]any{"name": "voice360", "secret_prefix": "v360_dev_"})
			_, tn := c.do("GET", "/v1/tenant", nil)
			v := &v360{t: t, base: base, account: int64(tn["id"].(float64))}
			_, raw, _ := v.do("POST", "/webhooks", dev["secret"].(string), []byte(`{"name":"x","url":"`+sink.URL+`/w","event_type":"SMS_SENT","enabled":false}`))
			if !strings.Contains(string(raw), `"enabled":false`) {
				t.Errorf("Voice360 creation with enabled false: %s", raw)
			}
			c.do("POST", "/v1/skills", map[string]any{"name": "quiet"})
			time.Sleep(300 * time.Millisecond)
			if got := sink.all(); len(got) != 0 {
				t.Errorf("a subscription created disabled received %v", got)
			}
		})
	}
}
