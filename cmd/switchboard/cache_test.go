package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// cacheProbe reads through one dialect's credential style and checks what
// the response cache answers.
type cacheProbe struct {
	t    *testing.T
	base string
}

// read is one GET whose answer a write may change: its path (from the
// server's root) and the header carrying its key.
type read struct {
	path, header, key string
}

func (r read) String() string { return r.path }

// get sends GET r with If-None-Match inm ("" for none).
func (p cacheProbe) get(r read, inm string) (int, []byte, http.Header) {
	p.t.Helper()
	req, _ := http.NewRequest("GET", p.base+r.path, nil)
	req.Header.Set(r.header, r.key)
	if r.header == "Authorization" {
		req.Header.Set("Authorization", "Bearer "+r.key)
	}
	if inm != "" {
		req.Header.Set("If-None-Match", inm)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw, res.Header
}

// send makes a write through any dialect and returns its status and body.
func (p cacheProbe) send(method, path, header, key string, body any) (int, map[string]any) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if header == "Authorization" {
		key = "Bearer " + key
	}
	req.Header.Set(header, key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var v map[string]any
	json.Unmarshal(raw, &v)
	if res.StatusCode >= 300 {
		p.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, v
}

var strongETag = regexp.MustCompile(`^"[0-9a-f]{32}"$`)

// warm reads r twice, so that the second answer comes from the cache, and
// returns the answer with its ETag after checking the caching headers.
func (p cacheProbe) warm(r read) ([]byte, string) {
	p.t.Helper()
	var body []byte
	var etag string
	for i := range 2 {
		status, raw, h := p.get(r, "")
		if status != 200 {
			p.t.Fatalf("GET %s: %d %s", r, status, raw)
		}
		if !strongETag.MatchString(h.Get("ETag")) || h.Get("Cache-Control") != "private, no-cache" ||
			!strings.Contains(h.Get("Vary"), "Authorization") || !strings.Contains(h.Get("Vary"), "Accept") {
			p.t.Fatalf("GET %s: caching headers ETag %q, Cache-Control %q, Vary %q", r, h.Get("ETag"), h.Get("Cache-Control"), h.Get("Vary"))
		}
		if i == 1 && (h.Get("ETag") != etag || (!bytes.Equal(raw, body) && !strings.HasPrefix(r.path, "/v3/"))) {
			p.t.Fatalf("GET %s twice with nothing written between: %s (%s), then %s (%s)", r, body, etag, raw, h.Get("ETag"))
		}
		body, etag = raw, h.Get("ETag")
	}
	return body, etag
}

// check reads r after a write: its answer must contain want (unless
// empty) and not gone (unless empty), and must not be answered 304 for the
// ETag it had before the write, while its new ETag is. An eventual check
// polls for the store to have the change (the call service writes calls
// after answering), failing only if the answer never shows it.
func (p cacheProbe) check(r read, oldBody []byte, oldETag, want, gone string, eventual bool) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, raw, h := p.get(r, "")
		ok := status == 200 && (want == "" || bytes.Contains(raw, []byte(want))) && (gone == "" || !bytes.Contains(raw, []byte(gone)))
		if !ok {
			if eventual && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			p.t.Fatalf("GET %s after the write: %d %s; want %q in it and %q not", r, status, raw, want, gone)
		}
		etag := h.Get("ETag")
		if etag == oldETag {
			if !bytes.Equal(raw, oldBody) {
				p.t.Fatalf("GET %s: the ETag %s did not change with the answer", r, etag)
			}
			return // the write had shown already when the read was warmed
		}
		status, again, _ := p.get(r, oldETag)
		if status == 200 && !bytes.Equal(again, raw) && !strings.HasPrefix(r.path, "/v3/") && time.Now().Before(deadline) {
			eventual = true // the write showed; written again meanwhile (an SMS receipt): look again
			continue
		}
		if status != 200 || (!strings.HasPrefix(r.path, "/v3/") && !bytes.Equal(again, raw)) {
			p.t.Fatalf("GET %s with If-None-Match: the ETag before the write: %d %s", r, status, again)
		}
		status, empty, h2 := p.get(r, etag)
		if status == 200 && !bytes.Equal(empty, raw) && !strings.HasPrefix(r.path, "/v3/") && time.Now().Before(deadline) {
			eventual = true // the write showed; written again meanwhile (an SMS receipt): look again
			continue
		}
		if status != 304 && !strings.HasPrefix(r.path, "/v3/") {
			p.t.Fatalf("GET %s with If-None-Match: its current ETag: %d %s", r, status, empty)
		}
		if status == 304 && (len(empty) != 0 || h2.Get("ETag") != etag) {
			p.t.Fatalf("GET %s answered 304 with body %q and ETag %q", r, empty, h2.Get("ETag"))
		}
		return
	}
}

// TestNoStaleReadAfterWrite makes, on every engine, through real HTTP, each
// kind of write the native, Voxloud and Voice360 dialects offer on the data
// the cached routes show, and checks that every read it affects (warmed in
// the response cache first, asked with and without If-None-Match) shows
// the write at once; calls, which the call service writes after answering,
// must show up while the reader polls.
func TestNoStaleReadAfterWrite(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			key := newTenantKey(t, db)
			m, base, _ := startServer(t, "--db", db, "--rate-limit", "0", "--tenant-write-rate", "0", "--sms-sim-receipt-delay", "50ms")
			p := cacheProbe{t: t, base: base}
			nat := func(path string) read { return read{path: path, header: "Authorization", key: key} }
			vox := func(path string) read { return read{path: path, header: "Voverc-Auth", key: key} }
			_, tn := p.send("GET", "/v1/tenant", "Authorization", key, nil)
			account := int64(tn["id"].(float64))
			_, dev := p.send("POST", "/v1/api_keys", "Authorization", key, map[string]any{"name": "v360", "secret_prefix": "v360_dev_"})
			devKey := dev["secret"].(string)
			v360 := func(path, key string) read {
				return read{path: fmt.Sprintf("/v3/voice/%d%s", account, path), header: "X-API-Key", key: key}
			}
			post := func(path string, body any) map[string]any {
				_, v := p.send("POST", path, "Authorization", key, body)
				return v
			}
			patch := func(path string, body any) { p.send("PATCH", path, "Authorization", key, body) }
			del := func(path string) { p.send("DELETE", path, "Authorization", key, nil) }
			id := func(v map[string]any) int64 { return int64(v["id"].(float64)) }

			// Fixtures the steps refer to.
			ann := post("/v1/users", map[string]any{"email": "ann@acme.test", "first_name": "Ann", "extension": "1001"})
			annID := id(ann)
			_, uk := p.send("POST", "/v1/api_keys", "Authorization", key, map[string]any{"name": "ann", "user_id": annID})
			annKey := uk["secret"].(string)
			queue := post("/v1/queues", map[string]any{"name": "Sales", "extension": "8001", "strategy": "ringall"})
			qID := id(queue)
			number := post("/v1/phone_numbers", map[string]any{"number": "+15551230000", "label": "Main", "sms_enabled": true, "user_id": annID})
			numberID := id(number)
			var teamID, skillID, statusID, contactID, dncID, userID, newNumberID, trunkID, trunk2ID, rateID int64
			var contactUUID, linkKey string

			type step struct {
				name     string
				write    func()
				reads    func() []read
				want     func() string
				gone     string
				eventual bool
			}
			steps := []step{
				{name: "native: create user", write: func() {
					userID = id(post("/v1/users", map[string]any{"email": "bob@acme.test", "first_name": "Bob", "last_name": "Created", "extension": "1002"}))
				}, reads: func() []read {
					return []read{nat("/v1/users"), nat("/v1/users?limit=1&offset=1"), vox("/api/v2/users"), nat("/api/v4/users")}
				}, want: func() string { return "Created" }},
				{name: "native: update user", write: func() { patch(fmt.Sprintf("/v1/users/%d", userID), map[string]any{"last_name": "Patched"}) },
					reads: func() []read {
						return []read{nat("/v1/users"), nat(fmt.Sprintf("/v1/users/%d", userID)), vox("/api/v2/users"), nat("/api/v4/users"),
							nat(fmt.Sprintf("/api/v4/users/%d", userID))}
					}, want: func() string { return "Patched" }, gone: "Created"},
				{name: "native: update the user behind a user key", write: func() { patch(fmt.Sprintf("/v1/users/%d", annID), map[string]any{"last_name": "Renamed"}) },
					reads: func() []read { return []read{v360("/user/profile", annKey), nat(fmt.Sprintf("/v1/users/%d", annID))} },
					want:  func() string { return "Renamed" }},
				{name: "native: deactivate user", write: func() { del(fmt.Sprintf("/v1/users/%d", userID)) },
					reads: func() []read { return []read{nat("/v1/users"), vox("/api/v2/users"), nat("/api/v4/users")} }, gone: "Patched"},
				{name: "native: create team", write: func() { teamID = id(post("/v1/teams", map[string]any{"name": "Team Alpha"})) },
					reads: func() []read { return []read{nat("/v1/teams"), nat("/api/v4/teams")} }, want: func() string { return "Team Alpha" }},
				{name: "native: update team", write: func() { patch(fmt.Sprintf("/v1/teams/%d", teamID), map[string]any{"name": "Team Beta"}) },
					reads: func() []read {
						return []read{nat("/v1/teams"), nat(fmt.Sprintf("/v1/teams/%d", teamID)), nat("/api/v4/teams")}
					},
					want: func() string { return "Team Beta" }},
				{name: "native: put user in team", write: func() { patch(fmt.Sprintf("/v1/users/%d", annID), map[string]any{"team_ids": []int64{teamID}}) },
					reads: func() []read { return []read{nat(fmt.Sprintf("/v1/users?team_id=%d", teamID))} }, want: func() string { return "ann@acme.test" }},
				{name: "native: delete team", write: func() { del(fmt.Sprintf("/v1/teams/%d", teamID)) },
					reads: func() []read {
						return []read{nat("/v1/teams"), nat(fmt.Sprintf("/v1/users/%d", annID)), nat("/api/v4/teams"), nat(fmt.Sprintf("/api/v4/users/%d", annID))}
					}, gone: "Team Beta"},
				{name: "native: create skill", write: func() { skillID = id(post("/v1/skills", map[string]any{"name": "Klingon"})) },
					reads: func() []read { return []read{nat("/v1/skills"), nat("/api/v4/routing/skills")} }, want: func() string { return "Klingon" }},
				{name: "native: update skill", write: func() { patch(fmt.Sprintf("/v1/skills/%d", skillID), map[string]any{"name": "Vulcan"}) },
					reads: func() []read {
						return []read{nat("/v1/skills"), nat(fmt.Sprintf("/v1/skills/%d", skillID)), nat("/api/v4/routing/skills")}
					},
					want: func() string { return "Vulcan" }},
				{name: "native: delete skill", write: func() { del(fmt.Sprintf("/v1/skills/%d", skillID)) },
					reads: func() []read { return []read{nat("/v1/skills"), nat("/api/v4/routing/skills")} }, gone: "Vulcan"},
				{name: "native: create status", write: func() { statusID = id(post("/v1/agent_statuses", map[string]any{"name": "Lunch"})) },
					reads: func() []read { return []read{nat("/v1/agent_statuses")} }, want: func() string { return "Lunch" }},
				{name: "native: update status", write: func() { patch(fmt.Sprintf("/v1/agent_statuses/%d", statusID), map[string]any{"name": "Coffee"}) },
					reads: func() []read {
						return []read{nat("/v1/agent_statuses"), nat(fmt.Sprintf("/v1/agent_statuses/%d", statusID))}
					}, want: func() string { return "Coffee" }},
				{name: "native: delete status", write: func() { del(fmt.Sprintf("/v1/agent_statuses/%d", statusID)) },
					reads: func() []read { return []read{nat("/v1/agent_statuses")} }, gone: "Coffee"},
				{name: "native: update queue", write: func() { patch(fmt.Sprintf("/v1/queues/%d", qID), map[string]any{"name": "Support"}) },
					reads: func() []read {
						return []read{nat("/v1/queues"), nat(fmt.Sprintf("/v1/queues/%d", qID)), v360("/queues", devKey), v360(fmt.Sprintf("/queues/%d", qID), devKey),
							nat("/api/v4/routing/queues"), nat(fmt.Sprintf("/api/v4/routing/queues/%d", qID))}
					}, want: func() string { return "Support" }},
				{name: "native: add queue member", write: func() {
					post(fmt.Sprintf("/v1/queues/%d/members", qID), map[string]any{"user_id": annID, "penalty": 3})
				},
					reads: func() []read {
						return []read{nat(fmt.Sprintf("/v1/queues/%d/members", qID)), v360(fmt.Sprintf("/queues/%d", qID), devKey)}
					}, want: func() string { return `"penalty":3` }},
				{name: "native: update queue member", write: func() { patch(fmt.Sprintf("/v1/queues/%d/members/%d", qID, annID), map[string]any{"penalty": 7}) },
					reads: func() []read {
						return []read{nat(fmt.Sprintf("/v1/queues/%d/members", qID)), v360(fmt.Sprintf("/queues/%d", qID), devKey)}
					}, want: func() string { return `"penalty":7` }},
				{name: "native: remove queue member", write: func() { del(fmt.Sprintf("/v1/queues/%d/members/%d", qID, annID)) },
					reads: func() []read {
						return []read{nat(fmt.Sprintf("/v1/queues/%d/members", qID)), v360(fmt.Sprintf("/queues/%d", qID), devKey)}
					}, gone: `"penalty":7`},
				// Voiso shows a queue's members as users, and each user with
				// the queues they are in.
				{name: "voiso: queue member", write: func() {
					post(fmt.Sprintf("/v1/queues/%d/members", qID), map[string]any{"user_id": annID})
				},
					reads: func() []read {
						return []read{nat(fmt.Sprintf("/api/v4/routing/queues/%d/users", qID)), nat(fmt.Sprintf("/api/v4/users/%d", annID))}
					}, want: func() string { return `"name":"Support"` }},
				{name: "voiso: queue member removed", write: func() { del(fmt.Sprintf("/v1/queues/%d/members/%d", qID, annID)) },
					reads: func() []read {
						return []read{nat(fmt.Sprintf("/api/v4/routing/queues/%d/users", qID)), nat(fmt.Sprintf("/api/v4/users/%d", annID))}
					}, gone: `"name":"Support"`},
				{name: "native: create number", write: func() {
					newNumberID = id(post("/v1/phone_numbers", map[string]any{"number": "+15557770000", "label": "Shared line"}))
				}, reads: func() []read { return []read{nat("/v1/phone_numbers"), vox("/api/v2/users")} }, want: func() string { return "Shared line" }},
				{name: "native: update number", write: func() { patch(fmt.Sprintf("/v1/phone_numbers/%d", numberID), map[string]any{"label": "Ann's own"}) },
					reads: func() []read {
						return []read{nat("/v1/phone_numbers"), nat(fmt.Sprintf("/v1/phone_numbers/%d", numberID)), v360("/user/numbers", annKey), vox("/api/v2/users")}
					}, want: func() string { return "own" }},
				{name: "native: delete number", write: func() { del(fmt.Sprintf("/v1/phone_numbers/%d", newNumberID)) },
					reads: func() []read { return []read{nat("/v1/phone_numbers"), vox("/api/v2/users")} }, gone: "Shared line"},
				{name: "native: create trunk", write: func() {
					trunkID = id(post("/v1/trunks", map[string]any{"name": "Carrier One", "outbound_uri": "sip:192.0.2.1", "default_outbound": true}))
				}, reads: func() []read { return []read{nat("/v1/trunks")} }, want: func() string { return "Carrier One" }},
				{name: "native: update trunk", write: func() { patch(fmt.Sprintf("/v1/trunks/%d", trunkID), map[string]any{"prefix": "0099"}) },
					reads: func() []read { return []read{nat("/v1/trunks"), nat(fmt.Sprintf("/v1/trunks/%d", trunkID))} },
					want:  func() string { return `"prefix":"0099"` }},
				{name: "native: a new default trunk clears the old one's flag", write: func() {
					trunk2ID = id(post("/v1/trunks", map[string]any{"name": "Carrier Two", "outbound_uri": "sip:192.0.2.2", "default_outbound": true}))
				}, reads: func() []read { return []read{nat(fmt.Sprintf("/v1/trunks/%d", trunkID))} },
					want: func() string { return `"default_outbound":false` }, gone: `"default_outbound":true`},
				{name: "native: delete trunk", write: func() { del(fmt.Sprintf("/v1/trunks/%d", trunk2ID)) },
					reads: func() []read { return []read{nat("/v1/trunks")} }, gone: "Carrier Two"},
				{name: "native: create contact", write: func() {
					c := post("/v1/contacts", map[string]any{"first_name": "Maria", "last_name": "Rossi", "primary_phone": "+393331234567"})
					contactID, contactUUID = id(c), c["uuid"].(string)
				}, reads: func() []read {
					return []read{nat("/v1/contacts"), vox("/api/v1/contacts"), vox("/api/v1/contacts?last_name=ros")}
				},
					want: func() string { return "Rossi" }},
				{name: "native: update contact", write: func() { patch(fmt.Sprintf("/v1/contacts/%d", contactID), map[string]any{"last_name": "Bianchi"}) },
					reads: func() []read {
						return []read{nat("/v1/contacts"), nat(fmt.Sprintf("/v1/contacts/%d", contactID)), vox("/api/v1/contacts/" + contactUUID)}
					}, want: func() string { return "Bianchi" }},
				{name: "voxloud: update contact", write: func() {
					p.send("PUT", "/api/v1/contacts/"+contactUUID, "Voverc-Auth", key, map[string]any{"first_name": "Maria", "last_name": "Verdi", "primary_phone": "+393331234567"})
				}, reads: func() []read {
					return []read{nat("/v1/contacts"), nat(fmt.Sprintf("/v1/contacts/%d", contactID)), vox("/api/v1/contacts/" + contactUUID), vox("/api/v1/contacts")}
				}, want: func() string { return "Verdi" }},
				{name: "voxloud: create contact", write: func() {
					p.send("POST", "/api/v1/contacts", "Voverc-Auth", key, map[string]any{"first_name": "Luca", "last_name": "Neri", "primary_phone": "+393337654321"})
				}, reads: func() []read { return []read{nat("/v1/contacts"), vox("/api/v1/contacts")} }, want: func() string { return "Neri" }},
				{name: "voxloud: delete contact", write: func() { p.send("DELETE", "/api/v1/contacts/"+contactUUID, "Voverc-Auth", key, nil) },
					reads: func() []read { return []read{nat("/v1/contacts"), vox("/api/v1/contacts")} }, gone: "Verdi"},
				{name: "voxloud: create click-to-call link", write: func() {
					_, l := p.send("POST", "/api/v1/click-to-call", "Voverc-Auth", key, map[string]any{"name": "Call us", "extension": "8001", "outboundNumber": "+15551230000"})
					linkKey, _ = l["key"].(string)
					if linkKey == "" {
						linkKey, _ = l["id"].(string)
					}
				}, reads: func() []read { return []read{vox("/api/v1/click-to-call")} }, want: func() string { return "Call us" }},
				{name: "voxloud: delete click-to-call link", write: func() { p.send("DELETE", "/api/v1/click-to-call/"+linkKey, "Voverc-Auth", key, nil) },
					reads: func() []read { return []read{vox("/api/v1/click-to-call")} }, gone: "Call us"},
				{name: "native: add to DNC", write: func() { dncID = id(post("/v1/dnc", map[string]any{"number": "+15550009999", "reason": "asked"})) },
					reads: func() []read { return []read{nat("/v1/dnc")} }, want: func() string { return "+15550009999" }},
				{name: "native: remove from DNC", write: func() { del(fmt.Sprintf("/v1/dnc/%d", dncID)) },
					reads: func() []read { return []read{nat("/v1/dnc")} }, gone: "+15550009999"},
				{name: "native: tenant settings", write: func() { patch("/v1/tenant", map[string]any{"name": "Acme Renamed"}) },
					reads: func() []read { return []read{nat("/v1/tenant")} }, want: func() string { return "Acme Renamed" }},
				{name: "native: top up the balance", write: func() { post("/v1/billing/credits", map[string]any{"amount_cents": 4321}) },
					reads: func() []read { return []read{nat("/v1/billing/balance"), nat("/v1/billing/ledger"), nat("/v1/tenant")} },
					want:  func() string { return "4321" }},
				{name: "native: create rate", write: func() {
					rateID = id(post("/v1/billing/rates", map[string]any{"prefix": "39", "per_minute_milli": 7777}))
				}, reads: func() []read { return []read{nat("/v1/billing/rates")} }, want: func() string { return "7777" }},
				{name: "native: update rate", write: func() { patch(fmt.Sprintf("/v1/billing/rates/%d", rateID), map[string]any{"per_minute_milli": 8888}) },
					reads: func() []read {
						return []read{nat("/v1/billing/rates"), nat(fmt.Sprintf("/v1/billing/rates/%d", rateID))}
					},
					want: func() string { return "8888" }, gone: "7777"},
				{name: "native: delete rate", write: func() { del(fmt.Sprintf("/v1/billing/rates/%d", rateID)) },
					reads: func() []read { return []read{nat("/v1/billing/rates")} }, gone: "8888"},
				{name: "voice360: send SMS", write: func() {
					p.send("POST", fmt.Sprintf("/v3/voice/%d/sms/send", account), "X-API-Key", devKey,
						map[string]any{"from": "+15551230000", "to": "+15551234567", "message": "hello cache"})
				}, reads: func() []read { return []read{nat("/v1/messages")} }, want: func() string { return "hello cache" }},
				{name: "SMS receipt (the messaging service)", write: func() {},
					reads: func() []read { return []read{nat("/v1/messages")} }, want: func() string { return `"delivered"` }, eventual: true},
				{name: "native: simulated call (the call service)", write: func() {
					post("/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "8001", "talk_seconds": 1})
				}, reads: func() []read { return []read{nat("/v1/cdrs"), nat("/v1/cdrs?limit=1")} }, want: func() string { return "+15550001111" }, eventual: true},
				{name: "the call ends (the call service)", write: func() {},
					reads: func() []read { return []read{nat("/v1/cdrs")} }, want: func() string { return `"hangup_cause":"no agent signed in"` }, eventual: true},
			}
			for _, s := range steps {
				reads := s.reads()
				before, bodies := make([]string, len(reads)), make([][]byte, len(reads))
				for i, r := range reads {
					bodies[i], before[i] = p.warm(r)
				}
				s.write()
				want := ""
				if s.want != nil {
					want = s.want()
				}
				for i, r := range reads {
					p.check(r, bodies[i], before[i], want, s.gone, s.eventual)
				}
				if t.Failed() {
					t.Fatalf("step %q", s.name)
				}
			}
			if st := m.responseCache.Stats(); st.Hits < int64(len(steps)) || st.NotModified < int64(len(steps)) {
				t.Errorf("cache stats %+v: the reads did not go through the cache", st)
			}
		})
	}
}

// TestCachedReadSeesAnotherProcess writes, on every engine, through a
// second store on the same database (as another node or a CLI command
// would: its own connections, its own writer), and checks that reads the
// server has cached show the write at once.
func TestCachedReadSeesAnotherProcess(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			key := newTenantKey(t, db)
			m, base, _ := startServer(t, "--db", db, "--rate-limit", "0")
			p := cacheProbe{t: t, base: base}
			ctx := context.Background()
			other, err := sqlstore.Open(ctx, db, sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			_, tn := p.send("GET", "/v1/tenant", "Authorization", key, nil)
			tenantID := int64(tn["id"].(float64))
			users := read{path: "/v1/users", header: "Authorization", key: key}
			for i := range 3 {
				body, etag := p.warm(users)
				email := fmt.Sprintf("other%d@acme.test", i)
				if _, err := other.CreateUser(ctx, tenantID, switchboard.User{Email: email, FirstName: "Other"}); err != nil {
					t.Fatal(err)
				}
				p.check(users, body, etag, email, "", false)
			}
			if st := m.responseCache.Stats(); st.Hits == 0 || st.Misses == 0 {
				t.Errorf("cache stats %+v: the reads did not go through the cache", st)
			}
		})
	}
}

// TestVoice360CacheKeepsItsTimestamp checks that a cached Voice360 answer,
// whose envelope is stamped with the second it was made, is not served in a
// later second.
func TestVoice360CacheKeepsItsTimestamp(t *testing.T) {
	v := newV360(t)
	stamp := func() string {
		status, raw, _ := v.do("GET", "/queues", v.devKey, nil)
		var env struct{ Timestamp string }
		if status != 200 || json.Unmarshal(raw, &env) != nil {
			t.Fatalf("GET /queues: %d %s", status, raw)
		}
		return env.Timestamp
	}
	first := stamp()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		now := time.Now().UTC().Format(time.RFC3339)
		if got := stamp(); got != now && got != time.Now().UTC().Format(time.RFC3339) {
			t.Fatalf("GET /queues at %s stamped %s (first %s)", now, got, first)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
