package main

// The UJET dialect's golden replay: every request of seed 004
// (internal/ujet/testdata/seed_examples.json) sent over HTTP Basic (tenant
// slug : a key of `switchboard key create --tenant acme`) to a running
// server on SQLite and the simulated telephony, each answer checked for its
// documented status and against its shape (shapes.json) type by type.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"switchboard"
	"switchboard/internal/golden"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore/sqlstoretest"
	"switchboard/internal/ujet"
)

// The UJET dialect's fixtures, shared with internal/ujet's own tests.
const (
	ujetTestdata = "../../internal/ujet/testdata/"
	ujetExamples = ujetTestdata + "seed_examples.json"
	ujetShapes   = ujetTestdata + "shapes.json"
	ujetErrors   = ujetTestdata + "error_texts.json"
	ujetPrefix   = "/apps/api/v1/"
)

// ujetExample is one example of seed 004 as the replay reads it.
type ujetExample struct {
	golden.Case
	Group    string                     `json:"group"`
	Item     int                        `json:"item"`
	Kind     string                     `json:"kind"`
	Set      map[string]json.RawMessage `json:"set"`
	Form     map[string]string          `json:"form"`
	Capture  map[string]string          `json:"capture"`
	RefShape string                     `json:"ref_shape"`
	List     bool                       `json:"list"`
	Paged    bool                       `json:"paged"`
	Message  string                     `json:"message"`
	Step     int                        `json:"step"`
	// As "other" sends the other tenant's credential; ItemError is the
	// error an item of a 200 list must carry (error_texts.json).
	As        string `json:"as"`
	ItemError string `json:"item_error"`
}

// ujetShape is one shape of shapes.json: its fields' JSON types, the fields
// an answer may leave out (Optional) and those it may add (Extra: a path,
// "a.*" for any under a, "*" for any).
type ujetShape struct {
	golden.Case
	Fields map[string]struct {
		Type string `json:"type"`
	} `json:"fields"`
}

// check compares one answer object with the shape, as internal/ujet's
// checkShapeFields does.
func (s ujetShape) check(raw []byte) []string {
	fields := map[string]string{}
	for p, f := range s.Fields {
		fields[p] = f.Type
	}
	var out []string
	for _, d := range golden.CheckTypes(fields, raw) {
		path, rest, _ := strings.Cut(d, ": ")
		switch {
		case rest == "missing from the answer" && slices.Contains(s.Optional, path):
		case rest == "not in the shape" && slices.ContainsFunc(s.Extra, func(e string) bool {
			return e == "*" || e == path || strings.HasSuffix(e, ".*") && strings.HasPrefix(path, strings.TrimSuffix(e, "*"))
		}):
		default:
			out = append(out, d)
		}
	}
	return out
}

// ujetWorld is a running server whose tenant acme holds what the seed's
// examples need: agents signed in (Ann, Bob, Cy) and a team of 120 for a
// force-logout job, a voice queue (an IVR menu), a mobile queue and a chat
// queue, the seed's own numbers (+1 760-867-5309, and +1 628-555-0199 for
// SMS), a campaign, the company secret that signs custom data; and another
// tenant whose key must never see acme's objects.
type ujetWorld struct {
	t      *testing.T
	m      *Main
	base   string
	slug   string
	key    string // printed by switchboard key create --tenant acme
	tenant switchboard.Tenant
	native client
	// otherSlug and otherKey are the other tenant's credential.
	otherSlug, otherKey string
	secret              string
	vars                map[string]any
	// markers are strings only acme's objects carry.
	markers []string
	shapes  map[string]ujetShape
	// routes are the dialect's routes, for telling an unserved path from an
	// unknown object.
	routes []httpapi.Route
	// setupFaults are the setup steps that failed; the replay reports them.
	setupFaults []string
}

func newUJETWorld(t *testing.T, args ...string) *ujetWorld {
	t.Helper()
	return newUJETWorldLimited(t, false, args...)
}

// newUJETWorldLimited is newUJETWorld with the dialect's rate limit left as
// args set it (the default when they do not) when limited, and off
// otherwise, as every other test has it.
func newUJETWorldLimited(t *testing.T, limited bool, args ...string) *ujetWorld {
	t.Helper()
	db := sqlstoretest.SQLiteURL(t)
	w := &ujetWorld{t: t, slug: "acme", otherSlug: "other", secret: "acme-company-secret-0123456789abcdef", vars: map[string]any{}}
	for _, slug := range []string{"acme", "other"} {
		if _, err := run(t, "", "tenant", "create", "--db", db, "--slug", slug, "--name", strings.ToUpper(slug[:1])+slug[1:]); err != nil {
			t.Fatal(err)
		}
		key, err := run(t, "", "key", "create", "--db", db, "--tenant", slug)
		if err != nil {
			t.Fatal(err)
		}
		if slug == "acme" {
			w.key = strings.TrimSpace(key)
		} else {
			w.otherKey = strings.TrimSpace(key)
		}
	}
	flags := []string{"--db", db, "--rate-limit", "0", "--webhook-allow-cidr", "127.0.0.0/8"}
	if !limited {
		flags = append(flags, "--ujet-rate-limit", "0")
	}
	w.m, w.base, _ = startServer(t, append(flags, args...)...)
	w.native = client{t: t, base: w.base, key: w.key}
	w.routes = ujet.New(ujet.Options{Store: w.m.store}).Routes()
	loaded := map[string]ujetShape{}
	for _, s := range loadJSON[[]ujetShape](t, ujetShapes) {
		loaded[s.Name] = s
	}
	w.shapes = loaded

	ctx := context.Background()
	st := w.m.store
	var err error
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("setup: %s: %v", what, err)
		}
	}
	w.tenant, err = st.TenantBySlug(ctx, "acme")
	must("tenant", err)
	tid := w.tenant.ID
	team, err := st.CreateTeam(ctx, tid, switchboard.Team{Name: "Acme Sales"})
	must("team", err)
	floor, err := st.CreateTeam(ctx, tid, switchboard.Team{Name: "Acme Floor"})
	must("team", err)
	mkUser := func(email, first, last, ext string, teams ...int64) switchboard.User {
		t.Helper()
		u, err := st.CreateUser(ctx, tid, switchboard.User{Email: email, FirstName: first, LastName: last, Extension: ext, TeamIDs: teams})
		must("user "+email, err)
		_, err = st.SetPresence(ctx, tid, u.ID, switchboard.StatusAvailable, false)
		must("presence "+email, err)
		return u
	}
	ann := mkUser("ann@acme.test", "Ann", "Acme", "1001", team.ID)
	bob := mkUser("bob@acme.test", "Bob", "Acme", "1002", team.ID)
	cy := mkUser("cy@acme.test", "Cy", "Acme", "1003")
	// An agent who is not signed in, and one without click-to-call.
	dee, err := st.CreateUser(ctx, tid, switchboard.User{Email: "dee@acme.test", FirstName: "Dee", LastName: "Acme", Extension: "1004"})
	must("user dee", err)
	eve, err := st.CreateUser(ctx, tid, switchboard.User{Email: "eve@acme.test", FirstName: "Eve", LastName: "Acme", Extension: "1005", ClickToCallDisabled: true})
	must("user eve", err)
	_, err = st.SetPresence(ctx, tid, eve.ID, switchboard.StatusAvailable, false)
	must("presence eve", err)
	// A selection large enough for a force-logout background job.
	for i := range 120 {
		mkUser(fmt.Sprintf("floor%03d@acme.test", i), "Floor", fmt.Sprintf("Agent %d", i), fmt.Sprint(2000+i), floor.ID)
	}
	mkQueue := func(q switchboard.Queue, members ...int64) switchboard.Queue {
		t.Helper()
		q, err := st.CreateQueue(ctx, tid, q)
		must("queue "+q.Name, err)
		for _, u := range members {
			_, err := st.AddQueueMember(ctx, tid, switchboard.QueueMember{QueueID: q.ID, UserID: u})
			must("member", err)
		}
		return q
	}
	voice := mkQueue(switchboard.Queue{Name: "Acme Support", Extension: "700", JoinEmpty: true, Language: "en", MenuType: "ivr_menu"}, ann.ID, bob.ID)
	mobile := mkQueue(switchboard.Queue{Name: "Acme Mobile", Extension: "701", JoinEmpty: true, Language: "en", MenuType: "mobile_menu"}, ann.ID)
	chat := mkQueue(switchboard.Queue{Name: "Acme Chat", Channel: switchboard.ChannelChat, JoinEmpty: true, Language: "en", MenuType: "web_menu"}, ann.ID, bob.ID)
	// A queue closed by its hours, without voicemail: after hours.
	day := func(d int) switchboard.Holiday {
		return switchboard.Holiday{Date: time.Now().UTC().AddDate(0, 0, d).Format(time.DateOnly), Name: "Closed"}
	}
	night := mkQueue(switchboard.Queue{Name: "Acme Night", Extension: "702", JoinEmpty: true, Language: "en", MenuType: "ivr_menu",
		Hours: &switchboard.OperatingHours{TimeZone: "UTC", Holidays: []switchboard.Holiday{day(-1), day(0), day(1)}}}, bob.ID)
	_, err = st.CreatePhoneNumber(ctx, tid, switchboard.PhoneNumber{Number: "+17608675309", QueueID: &voice.ID})
	must("number", err)
	_, err = st.CreatePhoneNumber(ctx, tid, switchboard.PhoneNumber{Number: "+16285550199", SMSEnabled: true, QueueID: &chat.ID})
	must("SMS number", err)
	campaign, err := st.CreateCampaign(ctx, tid, switchboard.Campaign{Name: "Acme Outreach", Mode: switchboard.ModePreview,
		QueueID: voice.ID, CallerID: "+17608675309", MachineAction: switchboard.MachineHangup})
	must("campaign", err)

	// The company secret that signs custom data, and the channels chats
	// and SMS arrive on; made through the native API as a tenant would.
	for _, step := range []struct {
		method, path string
		body         map[string]any
	}{
		{"PATCH", "/v1/tenant", map[string]any{"company_secret": w.secret}},
		{"POST", "/v1/channel_profiles", map[string]any{"channel": "web_chat", "name": "Acme site", "queue_id": chat.ID, "signing_secret": w.secret}},
		{"POST", "/v1/channel_profiles", map[string]any{"channel": "sms", "name": "Acme SMS", "identifier": "+16285550199", "queue_id": chat.ID}},
	} {
		if status, body := w.native.do(step.method, step.path, step.body); status >= 300 {
			w.setupFaults = append(w.setupFaults, fmt.Sprintf("%s %s: %d %v", step.method, step.path, status, body))
		}
	}

	now := time.Now().UTC()
	ids := make([]string, 1001)
	for i := range ids {
		ids[i] = fmt.Sprintf("id[]=%d", i+1)
	}
	w.vars["ids_1001"] = strings.Join(ids, "&")
	for k, v := range map[string]any{
		"agent_email": ann.Email, "agent_id": ann.ID, "agent2_id": bob.ID, "agent3_id": cy.ID, "team_id": team.ID,
		"logout_team_id": team.ID, "tenant_slug": w.slug, "big_team_id": floor.ID, "admin_email": ann.Email,
		"voice_menu": 2 * voice.ID, "mobile_menu": 2 * mobile.ID, "chat_menu": 2 * chat.ID, "night_menu": 2 * night.ID,
		"agent2_email": bob.Email, "offline_agent_email": dee.Email, "no_c2c_agent_email": eve.Email,
		"outbound_number": "+17608675309", "end_user_number": "+14155550123", "end_user_number2": "+14155550124",
		"end_user_number3": "+14155550125", "end_user_identifier": "acme-customer-42", "campaign_id": campaign.ID,
		"scheduled_at":   now.Add(time.Hour).Format("2006-01-02T15:04:05.000Z"),
		"dnc_expires_at": now.Add(30*24*time.Hour).Format("2006-01-02") + " 00:00:00 UTC",
	} {
		w.vars[k] = v
	}
	w.markers = []string{"ann@acme.test", "bob@acme.test", "Acme Support", "Acme Mobile", "Acme Chat", "Acme Outreach",
		"Acme Sales", "acme-customer-42", "7608675309"}
	return w
}

// signedData is the seed's signed custom data re-signed for this tenant:
// the claims of the seed's JWT (custom_data with the reserved_* flags) with
// a fresh iat and exp, HS256 with the company secret.
func (w *ujetWorld) signedData(seedJWT string) string {
	w.t.Helper()
	parts := strings.Split(seedJWT, ".")
	if len(parts) != 3 {
		w.t.Fatalf("the seed's signed_data is not a JWT: %s", seedJWT)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		w.t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if err := json.Unmarshal(raw, &claims); err != nil {
		w.t.Fatal(err)
	}
	if _, ok := claims["custom_data"]; !ok {
		w.t.Fatalf("the seed's JWT carries no custom_data: %s", raw)
	}
	claims["iat"] = time.Now().Unix()
	claims["exp"] = time.Now().Add(time.Hour).Unix()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(w.secret))
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

var ujetVarRE = regexp.MustCompile(`\{([a-z0-9_]+)\}`)

// fill replaces {name} in s with the world's values; missing names the
// ones it does not have.
func (w *ujetWorld) fill(s string) (out string, missing []string) {
	out = ujetVarRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := w.vars[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return fmt.Sprint(v)
	})
	return out, missing
}

// value is a Set value with the world's values in: "{name}" alone becomes
// the value itself (a number stays a number), inside a longer string its
// text.
func (w *ujetWorld) value(v any, missing *[]string) any {
	switch x := v.(type) {
	case string:
		if m := ujetVarRE.FindStringSubmatch(x); m != nil && m[0] == x {
			if val, ok := w.vars[m[1]]; ok {
				return val
			}
			*missing = append(*missing, m[1])
			return x
		}
		s, miss := w.fill(x)
		*missing = append(*missing, miss...)
		return s
	case []any:
		out := make([]any, len(x))
		for i, c := range x {
			out[i] = w.value(c, missing)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, c := range x {
			out[k] = w.value(c, missing)
		}
		return out
	}
	return v
}

// body is the example's body with its Set applied.
func (w *ujetWorld) body(ex ujetExample) (raw []byte, missing []string) {
	if ex.Body == nil {
		return nil, nil
	}
	var body map[string]any
	if err := json.Unmarshal(ex.Body, &body); err != nil {
		w.t.Fatalf("%s: body: %v", ex.Name, err)
	}
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range ex.Set {
			if !yield(p) {
				return
			}
		}
	})
	for _, p := range paths {
		var v any
		if err := json.Unmarshal(ex.Set[p], &v); err != nil {
			w.t.Fatalf("%s: set %s: %v", ex.Name, p, err)
		}
		keys := strings.Split(p, ".")
		parent := body
		for _, k := range keys[:len(keys)-1] {
			next, ok := parent[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				parent[k] = next
			}
			parent = next
		}
		last := keys[len(keys)-1]
		switch {
		case v == nil:
			delete(parent, last)
		case last == "signed_data":
			parent[last] = w.signedData(parent[last].(string))
		default:
			parent[last] = w.value(v, &missing)
		}
	}
	// Bodies written for this dialect (error_texts.json) name the
	// world's values in place.
	raw, _ = json.Marshal(w.value(body, &missing))
	return raw, missing
}

// form is the example's multipart body: "@file" a file of the fixtures,
// "{name}" a value of the world (an earlier answer's bytes included).
func (w *ujetWorld) form(ex ujetExample) (raw []byte, contentType string, missing []string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range ex.Form {
			if !yield(k) {
				return
			}
		}
	}) {
		v := ex.Form[k]
		switch {
		case strings.HasPrefix(v, "@"):
			content, err := os.ReadFile(ujetTestdata + v[1:])
			if err != nil {
				w.t.Fatal(err)
			}
			fw, _ := mw.CreateFormFile(k, v[1:])
			fw.Write(content)
		case k == "file":
			name := strings.Trim(v, "{}")
			content, ok := w.vars[name].([]byte)
			if !ok {
				missing = append(missing, name)
			}
			fw, _ := mw.CreateFormFile(k, name+".json")
			fw.Write(content)
		default:
			s, miss := w.fill(v)
			missing = append(missing, miss...)
			mw.WriteField(k, s)
		}
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType(), missing
}

// send makes one request of the dialect with HTTP Basic slug:key.
func (w *ujetWorld) send(method, path, slug, key string, header map[string]string, body []byte, contentType string) (int, http.Header, []byte) {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, w.base+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if slug != "" || key != "" {
		req.SetBasicAuth(slug, key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	return res.StatusCode, res.Header, raw
}

// served reports whether the dialect has a route for method path (a path
// with its query).
func (w *ujetWorld) served(method, path string) bool {
	path, _, _ = strings.Cut(path, "?")
	for _, r := range w.routes {
		if r.Method == method && patternMatches(r.Path, path) {
			return true
		}
	}
	return false
}

// patternMatches reports whether a mux pattern (/a/{id}/b) matches path.
func patternMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if !strings.HasPrefix(ps[i], "{") && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// capture stores the answer's values the example names: a dotted path
// ([0] an array's first item), "." the whole answer's bytes.
func (w *ujetWorld) capture(ex ujetExample, raw []byte) []string {
	var faults []string
	var v any
	json.Unmarshal(raw, &v)
	for name, path := range ex.Capture {
		if path == "." {
			w.vars[name] = raw
			continue
		}
		cur := v
		for _, k := range strings.Split(path, ".") {
			if k == "[0]" {
				arr, _ := cur.([]any)
				if len(arr) == 0 {
					cur = nil
					break
				}
				cur = arr[0]
				continue
			}
			m, _ := cur.(map[string]any)
			cur = m[k]
		}
		switch x := cur.(type) {
		case nil:
			faults = append(faults, fmt.Sprintf("the answer has no %s to capture as %s: %.300s", path, name, raw))
		case float64:
			w.vars[name] = int64(x)
		default:
			w.vars[name] = x
		}
	}
	return faults
}

// upload sends a small file to a presigned upload answer {url, fields} as
// a browser posts to storage: the fields, then the file.
func (w *ujetWorld) upload(raw []byte, name string, content []byte) error {
	var ans struct {
		URL    string            `json:"url"`
		Fields map[string]string `json:"fields"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.URL == "" {
		return fmt.Errorf("no upload url in %.300s", raw)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range ans.Fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	url := ans.URL
	if strings.HasPrefix(url, "/") {
		url = w.base + url
	}
	res, err := http.Post(url, mw.FormDataContentType(), &buf)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("upload to %s: %d %.300s", url, res.StatusCode, b)
	}
	return nil
}

// A tiny JPEG (SOI, JFIF APP0, EOI) and MP4 (an ftyp box): enough for a
// content sniffer to name their types.
var (
	tinyJPEG = []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xD9}
	tinyMP4  = []byte{0x00, 0x00, 0x00, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0x00, 0x00, 0x02, 0x00, 'i', 's', 'o', 'm', 'i', 's', 'o', '2'}
)

// waitJob polls a job until its status is one of want.
func (w *ujetWorld) waitJob(path string, want ...string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _, raw := w.send("GET", path, w.slug, w.key, nil, nil, "")
		var job struct{ Status string }
		json.Unmarshal(raw, &job)
		if status == 200 && slices.Contains(want, job.Status) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("GET %s: %d %.300s; want status %v", path, status, raw, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ujetResult is what one example's replay found.
type ujetResult struct {
	name    string
	missing bool     // the dialect serves no such route
	faults  []string // everything else that went wrong
}

// replay sends every exchange of the seed in step order and checks each
// answer.
func (w *ujetWorld) replay() []ujetResult {
	examples := loadJSON[[]ujetExample](w.t, ujetExamples)
	sort.SliceStable(examples, func(i, j int) bool { return examples[i].Step < examples[j].Step })
	var results []ujetResult
	for _, ex := range examples {
		if ex.Kind != "exchange" && ex.Kind != "extra" {
			continue
		}
		results = append(results, w.replayOne(ex))
	}
	return results
}

func (w *ujetWorld) replayOne(ex ujetExample) ujetResult {
	res := ujetResult{name: ex.Name}
	fault := func(format string, args ...any) { res.faults = append(res.faults, fmt.Sprintf(format, args...)) }
	path, missing := w.fill(ex.Path)
	native := strings.HasPrefix(path, "/v1/")
	if !native && ex.Status != 404 && !w.served(ex.Method, path) {
		res.missing = true
		return res
	}
	var body []byte
	var contentType string
	switch {
	case ex.Form != nil:
		var miss []string
		body, contentType, miss = w.form(ex)
		missing = append(missing, miss...)
	case ex.Body != nil && ex.Method != "GET":
		var miss []string
		body, miss = w.body(ex)
		missing = append(missing, miss...)
		contentType = "application/json"
	}
	if len(missing) > 0 {
		fault("needs %v, which the setup or an earlier example did not give", missing)
		return res
	}
	// Steps the seed leaves to the client: a bulk upload is validated
	// before it may proceed.
	switch ex.Name {
	case "bulk users proceed":
		if err := w.waitJob(fmt.Sprintf("%sbulk/users/jobs/%v", ujetPrefix, w.vars["bulk_job_id"]), "valid_scheme"); err != nil {
			fault("before proceeding: %v", err)
		}
	case "bulk users scheme errors":
		if err := w.waitJob(fmt.Sprintf("%sbulk/users/jobs/%v", ujetPrefix, w.vars["bulk_bad_job_id"]), "invalid_scheme"); err != nil {
			fault("before reading the scheme errors: %v", err)
		}
	}
	header := map[string]string{}
	for k, v := range ex.Header {
		if k != "Content-Type" {
			header[k] = v
		}
	}
	slug, key := w.slug, w.key
	if ex.As == "other" {
		slug, key = w.otherSlug, w.otherKey
	}
	var status int
	var hdr http.Header
	var raw []byte
	if native {
		// Setup through the native API, as a tenant's own tools would.
		var out map[string]any
		status, out = w.native.do(ex.Method, path, nil)
		raw, _ = json.Marshal(out)
	} else {
		status, hdr, raw = w.send(ex.Method, path, slug, key, header, body, contentType)
	}
	if status != ex.Status {
		fault("%s %s = %d %.600s; want %d", ex.Method, path, status, raw, ex.Status)
		return res
	}
	if ex.Message != "" {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil || len(m) != 1 || m["message"] != ex.Message {
			fault("answer %s, want {\"message\": %q}", raw, ex.Message)
		}
	}
	if ex.ItemError != "" {
		var items []map[string]any
		json.Unmarshal(raw, &items)
		if !slices.ContainsFunc(items, func(it map[string]any) bool { return it["error"] == ex.ItemError && it["status"] == "failed" }) {
			fault("no item failed with %q: %.300s", ex.ItemError, raw)
		}
		ex.List = true
	}
	if ex.RefShape != "" && hdr != nil && !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		fault("Content-Type %q, want application/json", hdr.Get("Content-Type"))
	}
	if ex.RefShape != "" {
		s, ok := w.shapes[ex.RefShape]
		if !ok {
			fault("no shape %q", ex.RefShape)
			return res
		}
		items := []json.RawMessage{raw}
		if ex.List {
			items = nil
			if err := json.Unmarshal(raw, &items); err != nil {
				fault("the answer is not a JSON array: %.300s", raw)
			} else if len(items) == 0 {
				fault("the answer is an empty list: its items' shape %s went unchecked", ex.RefShape)
			}
			if ex.Paged {
				if n, err := strconv.Atoi(hdr.Get("Total")); err != nil || n < len(items) || hdr.Get("Per-Page") == "" ||
					!strings.Contains(hdr.Get("Link"), `rel="first"`) {
					fault("list headers Total %q, Per-Page %q, Link %q for %d items", hdr.Get("Total"), hdr.Get("Per-Page"), hdr.Get("Link"), len(items))
				}
			}
		}
		for _, it := range items {
			for _, d := range s.check(it) {
				fault("shape %s: %s", ex.RefShape, d)
			}
		}
	}
	res.faults = append(res.faults, w.capture(ex, raw)...)
	// Presigned uploads are followed by the upload itself, which the
	// attach examples then name by key.
	switch ex.Name {
	case "photo upload URL":
		if err := w.upload(raw, "photo.jpg", tinyJPEG); err != nil {
			fault("%v", err)
		}
	case "video upload URL":
		if err := w.upload(raw, "video.mp4", tinyMP4); err != nil {
			fault("%v", err)
		}
	}
	return res
}

// TestUJETSeedExamples replays every request of seed 004 against a running
// server and checks each answer's status and shape. Routes the dialect does
// not serve yet are listed together, and fail.
func TestUJETSeedExamples(t *testing.T) {
	w := newUJETWorld(t)
	for _, f := range w.setupFaults {
		t.Errorf("setup: %s", f)
	}
	results := w.replay()
	if len(results) < 69 {
		t.Fatalf("replayed %d examples; seed 004 has 69 requests", len(results))
	}
	var missing []string
	for _, r := range results {
		if r.missing {
			missing = append(missing, r.name)
			continue
		}
		for _, f := range r.faults {
			t.Errorf("%s: %s", r.name, f)
		}
	}
	if len(missing) > 0 {
		examples := loadJSON[[]ujetExample](t, ujetExamples)
		var lines []string
		for _, name := range missing {
			i := slices.IndexFunc(examples, func(e ujetExample) bool { return e.Name == name })
			lines = append(lines, fmt.Sprintf("  %-45s %s %s", name, examples[i].Method, examples[i].Path))
		}
		t.Errorf("%d of %d seed requests have no route in the dialect:\n%s", len(missing), len(results), strings.Join(lines, "\n"))
	}
}

// TestUJETErrorTexts sends the request of every documented error text
// (error_texts.json) and checks that the dialect answers that very text.
func TestUJETErrorTexts(t *testing.T) {
	w := newUJETWorld(t)
	for _, f := range w.setupFaults {
		t.Errorf("setup: %s", f)
	}
	examples := loadJSON[[]ujetExample](t, ujetErrors)
	sort.SliceStable(examples, func(i, j int) bool { return examples[i].Step < examples[j].Step })
	// The end user of the chat whose updates are refused once it ended.
	status, _, raw := w.send("POST", ujetPrefix+"end_users", w.slug, w.key, nil, []byte(`{"identifier":"acme-errors-1"}`), "application/json")
	var eu struct{ ID int64 }
	if json.Unmarshal(raw, &eu) != nil || status != 200 || eu.ID == 0 {
		t.Errorf("setup: POST /end_users: %d %s", status, raw)
	}
	w.vars["err_end_user_id"] = eu.ID
	var missing []string
	for _, ex := range examples {
		r := w.replayOne(ex)
		if r.missing {
			missing = append(missing, fmt.Sprintf("  %-45s %s %s", ex.Name, ex.Method, ex.Path))
		}
		for _, f := range r.faults {
			t.Errorf("%s: %s", r.name, f)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d error texts' requests have no route in the dialect:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}
