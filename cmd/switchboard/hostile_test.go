package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// hostile is a server with two tenants, for tests that attack it as an
// outsider would.
type hostile struct {
	t              *testing.T
	base           string
	key, otherKey  string // native keys of acme and of other
	devKey         string // a Voice360 developer key of acme
	account, other int64  // the tenants' ids
}

func newHostile(t *testing.T, db string) *hostile {
	t.Helper()
	if _, err := run(t, "", "migrate", "--db", db); err != nil {
		t.Fatal(err)
	}
	h := &hostile{t: t}
	for _, tn := range []struct {
		slug string
		key  *string
	}{{"acme", &h.key}, {"other", &h.otherKey}} {
		if _, err := run(t, "", "tenant", "create", "--db", db, "--slug", tn.slug, "--name", tn.slug); err != nil {
			t.Fatal(err)
		}
		k, err := run(t, "", "key", "create", "--db", db, "--tenant", tn.slug)
		if err != nil {
			t.Fatal(err)
		}
		*tn.key = strings.TrimSpace(k)
	}
	_, h.base, _ = startServer(t, "--db", db, "--rate-limit", "0", "--tenant-write-rate", "0")
	_, tn := h.native(h.key).do("GET", "/v1/tenant", nil)
	h.account = int64(tn["id"].(float64))
	_, tn = h.native(h.otherKey).do("GET", "/v1/tenant", nil)
	h.other = int64(tn["id"].(float64))
	_, dev := h.native(h.key).do("POST", "/v1/api_keys", map[string]any{"name": "v360", "secret_prefix": "v360_dev_"})
	h.devKey, _ = dev["secret"].(string)
	return h
}

func (h *hostile) native(key string) client { return client{t: h.t, base: h.base, key: key} }

// raw sends body as it is (no JSON encoding) to path, which may hold any
// percent-escapes, with the credential header each dialect uses.
func (h *hostile) raw(method, path, body string, header ...string) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		h.t.Fatalf("%s %.80s: %v", method, path, err)
	}
	switch {
	case strings.HasPrefix(path, "/v1/"):
		req.Header.Set("Authorization", "Bearer "+h.key)
	case strings.HasPrefix(path, "/api/"):
		req.Header.Set("Voverc-Auth", h.key)
	case strings.HasPrefix(path, "/v3/"):
		req.Header.Set("X-API-Key", h.devKey)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// fieldsOf collects the field names an error body names, in any dialect's
// envelope: native {"error":{"fields":{…}}}, Voxloud {"errors":[{"field"}]},
// Voice360 {"details":{"fields":{…}}}.
func fieldsOf(body []byte) map[string]string {
	var v struct {
		Error struct {
			Fields map[string]string `json:"fields"`
		} `json:"error"`
		Errors []struct {
			Field, Message string
		} `json:"errors"`
		Details struct {
			Fields map[string]string `json:"fields"`
		} `json:"details"`
	}
	json.Unmarshal(body, &v)
	out := map[string]string{}
	for k, r := range v.Error.Fields {
		out[k] = r
	}
	for _, e := range v.Errors {
		out[e.Field] = e.Message
	}
	for k, r := range v.Details.Fields {
		out[k] = r
	}
	return out
}

// messageOf is the message of an error body in any dialect's envelope.
func messageOf(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	json.Unmarshal(body, &v)
	var native struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(v.Error, &native) == nil && native.Message != "" {
		return native.Message
	}
	return v.Message
}

// TestHostileText sends text no store can keep (NUL characters in JSON
// strings, invalid UTF-8 in bodies, paths and query parameters) to every
// dialect on both engines: each is a 400 naming the field, never a 500.
func TestHostileText(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			h := newHostile(t, mk(t))
			v3 := fmt.Sprintf("/v3/voice/%d", h.account)
			for _, tc := range []struct {
				method, path, body, field string
			}{
				{"POST", "/v1/users", `{"email":"a@acme.test","first_name":"A\u0000B"}`, "first_name"},
				{"POST", "/v1/users", "{\"email\":\"a@acme.test\",\"first_name\":\"\xff\xfe\"}", "first_name"},
				{"POST", "/v1/contacts", `{"first_name":"A","primary_phone":"+390312345678","phones":["+39\u0000"]}`, "phones[0]"},
				{"POST", "/v1/queues", `{"name":"Q","music_on_hold":"\u0000"}`, "music_on_hold"},
				{"POST", "/v1/teams", `{"name":"\u0000"}`, "name"},
				{"POST", "/v1/webhooks", `{"url":"http://example.com/","headers":{"X-A":"\u0000"}}`, "headers.X-A"},
				{"GET", "/v1/users/%FF", "", "path"},
				{"GET", "/v1/users/1%00", "", "path"},
				{"GET", "/v1/contacts/%C0%80", "", "path"},
				{"GET", "/v1/users?email=%FF", "", "email"},
				{"GET", "/v1/cdrs?number_prefix=%00", "", "number_prefix"},
				{"GET", "/v1/events?types=user.%00", "", "types"},
				{"POST", "/api/v1/contacts", `{"first_name":"A\u0000","primary_phone":"+390312345678"}`, "first_name"},
				{"GET", "/api/v1/contacts/%FF%FE", "", "path"},
				{"GET", "/api/v1/contacts?first_name=%00", "", "first_name"},
				{"POST", "/api/v1/telephony-events", `{"number":"\u0000"}`, "number"},
				{"POST", v3 + "/sms/send", `{"from":"+15551230000","to":"\u0000","message":"hi"}`, "to"},
				{"GET", v3 + "/queues/%FF", "", "path"},
				{"GET", "/v3/voice/%00/queues", "", "path"},
			} {
				status, body := h.raw(tc.method, tc.path, tc.body)
				if status != 400 {
					t.Errorf("%s %q %q: %d %s, want 400", tc.method, tc.path, tc.body, status, body)
					continue
				}
				if _, ok := fieldsOf(body)[tc.field]; !ok {
					t.Errorf("%s %q %q: %s does not name %s", tc.method, tc.path, tc.body, body, tc.field)
				}
			}
		})
	}
}

// TestHostileEchoAndTenants sends 100 KB inputs where errors used to quote
// them whole, and probes for other tenants' numbers: errors quote at most a
// short prefix, and another tenant's number answers exactly as any taken or
// unknown number does.
func TestHostileEchoAndTenants(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			h := newHostile(t, mk(t))
			long := strings.Repeat("2026", 25000) + "x"
			for _, tc := range []struct{ method, path, body string }{
				{"GET", "/v1/cdrs?since=" + long, ""},
				{"GET", "/v1/users/" + long, ""},
				{"GET", "/v1/users?limit=" + long, ""},
				{"GET", "/v1/" + long, ""},
				{"POST", "/v1/scheduled_calls", `{"queue_id":1,"phone_number":"+15550001111","scheduled_at":"` + long + `"}`},
				{"POST", "/v1/users", `{"email":"a@acme.test","first_name":"A","` + long + `":1}`},
				{"POST", "/v1/users", `{"email":"a@acme.test","first_name":"A","max_chats":1` + strings.Repeat("0", 100000) + `}`},
				{"POST", "/v1/users", `{"email":"` + long + `@acme.test","first_name":"A"}`},
				{"POST", "/v1/users", `{"email":"a@acme.test","phone_numbers":["` + long[:60] + `"]}`},
				{"POST", "/v1/api_keys", `{"name":"k","scopes":["` + long + `"]}`},
				{"GET", "/api/v1/contacts/" + long, ""},
				{"GET", "/api/v1/contacts?limit=" + long, ""},
				{"POST", "/api/v1/telephony-events", `{"date_time_from":"` + long + `"}`},
				{"GET", "/api/v1/telephony-events/" + long, ""},
				{"GET", "/v3/voice/" + long + "/queues", ""},
				{"GET", fmt.Sprintf("/v3/voice/%d/users/%s", h.account, long), ""},
			} {
				status, body := h.raw(tc.method, tc.path, tc.body)
				// The message and the field reasons quote at most 40 characters
				// of an input; a path, prefix included, at most 100.
				quoted := messageOf(body)
				for k, v := range fieldsOf(body) {
					quoted += " " + k + " " + v
				}
				if status < 400 || status >= 500 || len(body) > 1500 || bytes.Contains(body, []byte(long[:100])) ||
					strings.Contains(quoted, long[:48]) {
					t.Errorf("%s %.60s… %.60s…: %d, %d bytes: %.300s", tc.method, tc.path, tc.body, status, len(body), body)
				}
			}

			if status, body := h.raw("POST", "/v1/users", `{"email":"a@acme.test"}`, "Content-Type", long); status != 400 || len(body) > 1500 {
				t.Errorf("a long Content-Type: %d, %d bytes: %.300s", status, len(body), body)
			}

			acme, other := h.native(h.key), h.native(h.otherKey)
			if status, n := acme.do("POST", "/v1/phone_numbers", map[string]any{"number": "+390112121212", "sms_enabled": true}); status != 201 {
				t.Fatalf("POST /v1/phone_numbers: %d %v", status, n)
			}
			answer := func(c client, method, path string, body any) string {
				status, v := c.do(method, path, body)
				if e, ok := v["error"].(map[string]any); ok {
					delete(e, "request_id")
				}
				b, _ := json.Marshal(v)
				if strings.Contains(strings.ToLower(string(b)), "another tenant") || strings.Contains(strings.ToLower(string(b)), "other tenant") {
					t.Errorf("%s %s speaks of other tenants: %s", method, path, b)
				}
				return fmt.Sprintf("%d %s", status, b)
			}
			// Taking a number: another tenant's answers as one's own duplicate.
			own := answer(acme, "POST", "/v1/phone_numbers", map[string]any{"number": "+390112121212"})
			theirs := answer(other, "POST", "/v1/phone_numbers", map[string]any{"number": "+390112121212"})
			if own != theirs || !strings.HasPrefix(own, "409") {
				t.Errorf("duplicate number: own tenant %s, other tenant %s; want the same 409", own, theirs)
			}
			// Handing in a message: another tenant's number answers as a number
			// nobody has.
			theirs = answer(other, "POST", "/v1/messages/inbound", map[string]any{"from": "+15550001111", "to": "+390112121212", "message": "hi"})
			nobody := answer(other, "POST", "/v1/messages/inbound", map[string]any{"from": "+15550001111", "to": "+390112129999", "message": "hi"})
			if theirs != nobody || !strings.HasPrefix(theirs, "422") {
				t.Errorf("inbound message: to another tenant's number %s, to nobody's %s; want the same 422", theirs, nobody)
			}
			// Sending from it, on both dialects that send.
			theirs = answer(other, "POST", "/v1/messages", map[string]any{"from": "+390112121212", "to": "+15550001111", "message": "hi"})
			nobody = answer(other, "POST", "/v1/messages", map[string]any{"from": "+390112129999", "to": "+15550001111", "message": "hi"})
			if theirs != nobody {
				t.Errorf("sending from another tenant's number %s, from nobody's %s; want the same", theirs, nobody)
			}
		})
	}
}

// TestHostileBounds sends fields over their limits and numbers out of their
// ranges to every dialect on both engines: a 422 (400 on the vendor
// dialects, as they answer validation errors) naming the field, never a 500.
func TestHostileBounds(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			h := newHostile(t, mk(t))
			acme := h.native(h.key)
			_, q := acme.do("POST", "/v1/queues", map[string]any{"name": "Q", "extension": "8001"})
			teams := make([]int64, 40000)
			for i := range teams {
				teams[i] = int64(i + 1)
			}
			many := func(n int) []string {
				out := make([]string, n)
				for i := range out {
					out[i] = fmt.Sprintf("+3901121%05d", i)
				}
				return out
			}
			big := strings.Repeat("é", 201)
			v3 := fmt.Sprintf("/v3/voice/%d", h.account)
			enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
			user := func(k string, v any) string {
				return enc(map[string]any{"email": "a@acme.test", "first_name": "A", k: v})
			}
			for _, tc := range []struct {
				method, path, body, field string
				status                    int
			}{
				{"POST", "/v1/users", user("team_ids", teams), "team_ids", 422},
				{"POST", "/v1/users", user("skills", make([]map[string]int, 101)), "skills", 422},
				{"POST", "/v1/users", user("phone_numbers", many(21)), "phone_numbers", 422},
				{"POST", "/v1/users", user("roles", []string{"agent", "agent", "agent", "agent"}), "roles", 422},
				{"POST", "/v1/users", user("last_name", big), "last_name", 422},
				{"POST", "/v1/users", user("location", big), "location", 422},
				{"POST", "/v1/users", user("max_chats", 51), "max_chats", 422},
				{"POST", "/v1/users", user("max_chats", -9.2e18), "max_chats", 422},
				{"POST", "/v1/users", user("max_chats", 1e19), "max_chats", 400},
				{"POST", "/v1/users", user("skills", []map[string]any{{"skill_id": 1, "proficiency": 99}}), "skills[0].proficiency", 422},
				{"POST", "/v1/users", user("email", strings.Repeat("a", 250)+"@acme.test"), "email", 422},
				{"POST", "/v1/queues", enc(map[string]any{"name": big}), "name", 422},
				{"POST", "/v1/queues", enc(map[string]any{"name": "Q2", "music_on_hold": big}), "music_on_hold", 422},
				{"POST", "/v1/queues", enc(map[string]any{"name": "Q2", "timeout_seconds": 1 << 40}), "timeout_seconds", 422},
				{"POST", "/v1/queues", enc(map[string]any{"name": "Q2", "max_wait_seconds": -1}), "max_wait_seconds", 422},
				{"POST", fmt.Sprintf("/v1/queues/%v/members", q["id"]), enc(map[string]any{"user_id": 1, "penalty": 1 << 40}), "penalty", 422},
				{"POST", "/v1/sim/calls", enc(map[string]any{"from": "+15550001111", "to": "8001", "dtmf_after_seconds": 9.2e18}), "dtmf_after_seconds", 422},
				{"POST", "/v1/sim/calls", enc(map[string]any{"from": "+15550001111", "to": "8001", "dtmf_after_seconds": -9.2e18}), "dtmf_after_seconds", 422},
				{"POST", "/v1/sim/calls", enc(map[string]any{"from": "+15550001111", "to": "8001", "talk_seconds": 1e300}), "talk_seconds", 422},
				{"POST", "/v1/sim/calls", enc(map[string]any{"from": "+15550001111", "to": "8001", "fax_pages": 201}), "fax_pages", 422},
				{"POST", "/v1/contacts", enc(map[string]any{"first_name": "A", "primary_phone": "+390312345678", "company_name": big}), "company_name", 422},
				{"POST", "/v1/contacts", enc(map[string]any{"first_name": "A", "primary_phone": "+390312345678", "phones": many(21)}), "phones", 422},
				{"POST", "/v1/contacts", enc(map[string]any{"first_name": "A", "primary_phone": "+390312345678", "website": strings.Repeat("w", 2001)}), "website", 422},
				{"POST", "/v1/phone_numbers", enc(map[string]any{"number": "+390112121299", "label": big}), "label", 422},
				{"POST", "/v1/webhooks", enc(map[string]any{"url": "https://example.com/", "headers": func() map[string]string {
					m := map[string]string{}
					for i := range 21 {
						m[fmt.Sprintf("X-H%d", i)] = "v"
					}
					return m
				}()}), "headers", 422},
				{"POST", "/v1/dnc", enc(map[string]any{"number": "+15550001111", "reason": big}), "reason", 422},
				{"POST", "/v1/calls", enc(map[string]any{"user_id": 1, "phone_number": "+15550002222", "source": map[string]any{"system": big}}), "source.system", 422},
				{"POST", "/v1/messages/receipts", enc(map[string]any{"provider_id": "x", "status": "failed", "error": strings.Repeat("e", 1001)}), "error", 422},
				{"GET", "/v1/users?offset=9223372036854775807", "", "offset", 422},
				{"GET", "/v1/cdrs?min_duration=9223372036854775807", "", "min_duration", 400},
				{"GET", "/v1/cdrs?max_duration=-1", "", "max_duration", 400},
				{"GET", "/v1/users?limit=1001", "", "limit", 422},
				{"GET", "/v1/users?limit=99999999999999999999", "", "limit", 400},
				{"GET", "/v1/events?after_seq=-1", "", "after_seq", 400},
				{"GET", "/api/v1/contacts?limit=101", "", "limit", 400},
				{"POST", "/api/v1/telephony-events?size=1001", "{}", "size", 400},
				{"POST", "/api/v1/telephony-events?page=-1", "{}", "page", 400},
				{"POST", "/api/v1/contacts", enc(map[string]any{"first_name": big, "primary_phone": "+390312345678"}), "first_name", 400},
				{"POST", "/api/v1/contacts", enc(map[string]any{"first_name": "A", "primary_phone": "+390312345678", "emails": make([]string, 21)}), "emails", 400},
				{"POST", "/api/v1/click-to-call", enc(map[string]any{"name": big, "extension": "8001", "outboundNumber": "+390112121212"}), "name", 400},
				{"POST", v3 + "/webhooks", enc(map[string]any{"name": "w", "url": "https://example.com/", "event_type": "CALL_ENDED", "retries": 1 << 40}), "retries", 400},
				{"POST", v3 + "/sms/send", enc(map[string]any{"from": "+15551230000", "to": "+15550001111", "message": strings.Repeat("m", 161)}), "message", 400},
			} {
				status, body := h.raw(tc.method, tc.path, tc.body)
				if status != tc.status {
					t.Errorf("%s %s %.100s: %d %.300s, want %d", tc.method, tc.path, tc.body, status, body, tc.status)
					continue
				}
				if _, ok := fieldsOf(body)[tc.field]; !ok {
					t.Errorf("%s %s %.100s: %.300s does not name %s", tc.method, tc.path, tc.body, body, tc.field)
				}
			}
		})
	}
}

// TestHostileCSV gives a caller and a contact formula names and checks both
// CSV exports (native CDRs, Voxloud telephony events as text/csv): no cell
// starts a formula, and the hostile values come out quoted, not dropped.
func TestHostileCSV(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			h := newHostile(t, mk(t))
			c := h.native(h.key)
			_, u := c.do("POST", "/v1/users", map[string]any{"email": "ann@acme.test", "first_name": "=HYPERLINK(\"http://evil.example\",\"x\")",
				"last_name": "@SUM(1+1)", "extension": "1001"})
			_, q := c.do("POST", "/v1/queues", map[string]any{"name": "Q", "extension": "8001"})
			c.do("POST", fmt.Sprintf("/v1/queues/%v/members", q["id"]), map[string]any{"user_id": u["id"]})
			c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+390112121212", "queue_id": q["id"]})
			if status, v := c.do("POST", "/v1/contacts", map[string]any{"first_name": "-2+3+cmd|' /C calc'!A0", "last_name": "\tTab",
				"primary_phone": "+15550001111", "crm_name": "+Evil", "crm_contact_url": "https://crm.example/1"}); status != 201 {
				t.Fatalf("POST /v1/contacts: %d %v", status, v)
			}
			c.do("POST", fmt.Sprintf("/v1/users/%v/status", u["id"]), map[string]any{"status": "Available"})
			for _, from := range []string{"+15550001111", "=1+1", "@cmd"} {
				status, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": from, "to": "+390112121212", "answer_after_seconds": 0, "talk_seconds": 0.2})
				if status != 201 {
					t.Fatalf("POST /v1/sim/calls from %q: %d %v", from, status, call)
				}
				waitCall(t, c, int64(call["id"].(float64)), func(v map[string]any) bool { return v["status"] == "finished" || v["status"] == "failed" })
			}
			check := func(what string, body []byte, want ...string) {
				rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
				if err != nil || len(rows) < 4 {
					t.Fatalf("%s: %v, %d rows:\n%s", what, err, len(rows), body)
				}
				cells := map[string]bool{}
				for _, row := range rows {
					for _, cell := range row {
						cells[cell] = true
						if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !numberLike(cell) {
							t.Errorf("%s: cell %q starts a formula", what, cell)
						}
					}
				}
				for _, w := range want {
					if !cells[w] {
						t.Errorf("%s: no cell %q in\n%s", what, w, body)
					}
				}
			}
			_, body := h.raw("GET", "/v1/cdrs/export", "")
			check("native CDR export", body, "'=1+1", "'@cmd", "+15550001111")
			_, body = h.raw("POST", "/api/v1/telephony-events", "{}", "Accept", "text/csv")
			check("Voxloud CSV", body, "'=1+1", "'@cmd", "+15550001111", "'-2+3+cmd|' /C calc'!A0 Tab", "'+Evil")
		})
	}
}

// numberLike is the csvsafe rule's exception, restated: a sign, a digit,
// then only digits, spaces, dots, parentheses and hyphens.
func numberLike(s string) bool {
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') || s[1] < '0' || s[1] > '9' {
		return false
	}
	return strings.Trim(s[1:], "0123456789 .()-") == ""
}
