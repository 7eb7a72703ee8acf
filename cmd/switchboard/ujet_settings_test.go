package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// ujetSettingsScene is a running server with tenant acme, a native key to
// configure it and a company key (switchboard key create --tenant acme)
// for the UJET dialect, which takes it as HTTP Basic acme:key.
type ujetSettingsScene struct {
	t      *testing.T
	base   string
	native client
	key    string
}

func newUJETSettingsScene(t *testing.T) *ujetSettingsScene {
	t.Helper()
	db := "sqlite:" + filepath.Join(t.TempDir(), "sb.db")
	key := newTenantKey(t, db)
	// The tests send more than UJET's 10 requests a second.
	_, base, _ := startServer(t, "--db", db, "--ujet-rate-limit", "0")
	return &ujetSettingsScene{t: t, base: base, native: client{t: t, base: base, key: key}, key: key}
}

// ujet sends a request to the UJET dialect with Basic auth and returns the
// status, the headers and the body.
func (s *ujetSettingsScene) ujet(method, path, contentType string, body io.Reader) (int, http.Header, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+"/apps/api/v1/"+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	req.SetBasicAuth("acme", s.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, raw
}

// json sends body as JSON and wants status; it returns the decoded answer.
func (s *ujetSettingsScene) json(method, path string, body string, status int) any {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	got, _, raw := s.ujet(method, path, "application/json", rd)
	if got != status {
		s.t.Fatalf("%s %s: %d, want %d: %s", method, path, got, status, raw)
	}
	var v any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			s.t.Fatalf("%s %s: %s: %v", method, path, raw, err)
		}
	}
	return v
}

// nativeOK sends a native request and wants a 2xx answer.
func (s *ujetSettingsScene) nativeOK(method, path string, body any) map[string]any {
	s.t.Helper()
	status, out := s.native.do(method, path, body)
	if status/100 != 2 {
		s.t.Fatalf("%s %s: %d %v", method, path, status, out)
	}
	return out
}

// ujetSettingsExportDoc is an export with what differs between exports (revision,
// time) removed and lists sorted by name.
func ujetSettingsExportDoc(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("export %s: %v", raw, err)
	}
	delete(m, "revision")
	delete(m, "exported_at")
	for key, by := range map[string]string{"queues": "name", "ivr_menus": "name", "phone_numbers": "number", "contact_lists": "name"} {
		list, _ := m[key].([]any)
		slices.SortFunc(list, func(a, b any) int {
			return strings.Compare(fmt.Sprint(a.(map[string]any)[by]), fmt.Sprint(b.(map[string]any)[by]))
		})
	}
	return m
}

// TestUJETSettingsRestore is the acceptance check: configured
// through the native API, a queue with members, skills, hours and settings,
// which a menu and a number lead to, is exported through the UJET dialect,
// deleted, and brought back by restoring the export's version by its
// revision: a new id, its members, hours and settings, and the menu and the
// number leading to it again, so that a fresh export equals the first.
func TestUJETSettingsRestore(t *testing.T) {
	s := newUJETSettingsScene(t)
	ann := s.nativeOK("POST", "/v1/users", map[string]any{"email": "ann@acme.test", "first_name": "Ann"})
	bob := s.nativeOK("POST", "/v1/users", map[string]any{"email": "bob@acme.test", "first_name": "Bob"})
	skill := s.nativeOK("POST", "/v1/skills", map[string]any{"name": "Spanish"})
	hours := map[string]any{"time_zone": "America/New_York", "weekly": []any{map[string]any{"day": 1, "open": "09:00", "close": "17:00"}},
		"holidays": []any{map[string]any{"date": "2026-12-25", "name": "Christmas", "open": "", "close": ""}}}
	sales := s.nativeOK("POST", "/v1/queues", map[string]any{"name": "Sales", "strategy": "linear", "max_wait_seconds": 300,
		"wrap_up_seconds": 20, "language": "es", "hours": hours, "voicemail_enabled": true, "menu_type": "web_menu",
		"callback_slot_minutes": 30, "callback_slot_capacity": 4, "required_skills": []any{map[string]any{"skill_id": skill["id"], "min_proficiency": 3}}})
	salesID := sales["id"].(float64)
	s.nativeOK("POST", fmt.Sprintf("/v1/queues/%v/members", salesID), map[string]any{"user_id": bob["id"], "penalty": 2})
	s.nativeOK("POST", fmt.Sprintf("/v1/queues/%v/members", salesID), map[string]any{"user_id": ann["id"]})
	menu := s.nativeOK("POST", "/v1/ivr_menus", map[string]any{"name": "Main", "options": []any{
		map[string]any{"digit": "1", "action": "queue", "queue_id": salesID},
		map[string]any{"digit": "0", "action": "user", "user_id": ann["id"]}}})
	number := s.nativeOK("POST", "/v1/phone_numbers", map[string]any{"number": "+18885550101", "queue_id": salesID})

	status, h, exported := s.ujet("GET", "queue_settings/export?export_audio_files=false&export_attached_files=false", "", nil)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v %s", status, h, exported)
	}
	var doc struct {
		Revision string `json:"revision"`
	}
	json.Unmarshal(exported, &doc)

	// Delete the queue: the menu option and the number must let go of it
	// first, as the store requires.
	s.nativeOK("PATCH", fmt.Sprintf("/v1/ivr_menus/%v", menu["id"]), map[string]any{"options": []any{
		map[string]any{"digit": "0", "action": "user", "user_id": ann["id"], "queue_id": nil}}})
	s.nativeOK("PATCH", fmt.Sprintf("/v1/phone_numbers/%v", number["id"]), map[string]any{"queue_id": nil})
	if status, out := s.native.do("DELETE", fmt.Sprintf("/v1/queues/%v", salesID), nil); status != 204 && status != 200 {
		t.Fatalf("delete queue: %d %v", status, out)
	}
	if status, _ := s.native.do("GET", fmt.Sprintf("/v1/queues/%v", salesID), nil); status != 404 {
		t.Fatalf("the deleted queue answers %d", status)
	}

	versions := s.json("GET", "queue_settings/version_histories", "", 200).([]any)
	if len(versions) != 1 || versions[0].(map[string]any)["revision"] != doc.Revision {
		t.Fatalf("versions %v", versions)
	}
	id := versions[0].(map[string]any)["id"]
	res := s.json("POST", fmt.Sprintf("queue_settings/version_histories/%v/restore", id), "{}", 400).(map[string]any)
	if res["message"] != "param is missing or the value is empty: email" {
		t.Fatalf("restore without email: %v", res)
	}
	res = s.json("POST", fmt.Sprintf("queue_settings/version_histories/%v/restore", id),
		fmt.Sprintf(`{"id": %v, "email": "ann@acme.test", "revision": %q}`, id, doc.Revision), 200).(map[string]any)
	if sum := res["summary"].(map[string]any); sum["queues_created"] != float64(1) || sum["phone_numbers_routed"] != float64(1) {
		t.Fatalf("restore: %v", res)
	}

	list := s.nativeOK("GET", "/v1/queues", nil)
	var back map[string]any
	for _, q := range list["items"].([]any) {
		if q := q.(map[string]any); q["name"] == "Sales" {
			back = q
		}
	}
	if back == nil || back["id"] == salesID || back["max_wait_seconds"] != float64(300) || back["strategy"] != "linear" ||
		back["voicemail_enabled"] != true || back["menu_type"] != "web_menu" || back["callback_slot_capacity"] != float64(4) {
		t.Fatalf("restored queue %v", back)
	}
	if got, want := back["hours"], sales["hours"]; !reflect.DeepEqual(got, want) || got == nil {
		t.Fatalf("restored hours %v, want %v", got, want)
	}
	newID := back["id"].(float64)
	_, members := s.native.do("GET", fmt.Sprintf("/v1/queues/%v/members", newID), nil)
	raw, _ := json.Marshal(members)
	if !strings.Contains(string(raw), fmt.Sprintf(`"user_id":%v`, bob["id"])) || !strings.Contains(string(raw), fmt.Sprintf(`"user_id":%v`, ann["id"])) {
		t.Fatalf("restored members %s", raw)
	}
	_, m := s.native.do("GET", fmt.Sprintf("/v1/ivr_menus/%v", menu["id"]), nil)
	_, n := s.native.do("GET", fmt.Sprintf("/v1/phone_numbers/%v", number["id"]), nil)
	opts, _ := json.Marshal(m["options"])
	if !strings.Contains(string(opts), fmt.Sprintf(`"queue_id":%v`, newID)) || n["queue_id"] != newID {
		t.Fatalf("not re-linked: menu options %s, number %v", opts, n)
	}
	_, _, again := s.ujet("GET", "queue_settings/export?export_audio_files=false&export_attached_files=false", "", nil)
	if before, after := ujetSettingsExportDoc(t, exported), ujetSettingsExportDoc(t, again); !reflect.DeepEqual(before, after) {
		t.Fatalf("the configuration after the restore differs from the exported one:\nbefore %s\nafter  %s", exported, again)
	}

	// The export's file imports as is: nothing to create or change (the
	// restore put it all back), and the state before saved.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "import.json")
	fw.Write(exported)
	mw.WriteField("email", "bob@acme.test")
	mw.Close()
	status, _, raw = s.ujet("POST", "queue_settings/import", mw.FormDataContentType(), &buf)
	var imp map[string]any
	json.Unmarshal(raw, &imp)
	if sum, _ := imp["summary"].(map[string]any); status != 200 || sum["queues_created"] != float64(0) || sum["queues_unchanged"] != float64(1) ||
		sum["ivr_menus_unchanged"] != float64(1) ||
		imp["version_history"].(map[string]any)["version_type"] != "imported" {
		t.Fatalf("import: %d %s", status, raw)
	}
}

// TestUJETSettingsContactLists runs contact-list CRUD with entries through
// the running server, whose key works with its tenant's slug only: the global list is there from the first read, a
// custom list is created, renamed and deleted, and entries are added,
// edited and deleted in it and in the global list.
func TestUJETSettingsContactLists(t *testing.T) {
	s := newUJETSettingsScene(t)
	for _, path := range []string{"contact_lists", "queue_settings/version_histories"} {
		req, _ := http.NewRequest("GET", s.base+"/apps/api/v1/"+path, nil)
		req.SetBasicAuth("rival", s.key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Fatalf("GET %s with another slug: %d, want 401", path, res.StatusCode)
		}
	}
	lists := s.json("GET", "contact_lists", "", 200).([]any)
	if len(lists) != 1 || lists[0].(map[string]any)["list_type"] != "global" {
		t.Fatalf("lists %v", lists)
	}
	global := lists[0].(map[string]any)["id"]
	vendors := s.json("POST", "contact_lists", `{"name":"Vendors"}`, 201).(map[string]any)
	id := vendors["id"]
	if got := s.json("PATCH", fmt.Sprintf("contact_lists/%v", id), `{"name":"Suppliers","description":"who we buy from"}`, 200).(map[string]any); got["name"] != "Suppliers" {
		t.Fatalf("renamed %v", got)
	}
	entry := s.json("POST", fmt.Sprintf("contact_lists/%v/entries", id), `{"name":"Acme Support","phone_numbers":[{"label":"office","number":"+14155550100"}]}`, 201).(map[string]any)
	s.json("POST", fmt.Sprintf("contact_lists/%v/entries", global), `{"name":"Front desk","email":"desk@acme.test"}`, 201)
	edited := s.json("PATCH", fmt.Sprintf("contact_lists/%v/entries/%v", id, entry["id"]), `{"email":"help@acme.test","notes":"24/7"}`, 200).(map[string]any)
	if edited["email"] != "help@acme.test" || len(edited["phone_numbers"].([]any)) != 1 {
		t.Fatalf("edited %v", edited)
	}
	entries := s.json("GET", fmt.Sprintf("contact_lists/%v/entries", id), "", 200).([]any)
	if len(entries) != 1 || entries[0].(map[string]any)["notes"] != "24/7" {
		t.Fatalf("entries %v", entries)
	}
	s.json("DELETE", fmt.Sprintf("contact_lists/%v/entries/%v", id, entry["id"]), "", 200)
	if got := s.json("GET", fmt.Sprintf("contact_lists/%v", id), "", 200).(map[string]any); got["entries_count"] != float64(0) {
		t.Fatalf("after the entry's delete %v", got)
	}
	s.json("DELETE", fmt.Sprintf("contact_lists/%v", id), "", 200)
	if got := s.json("GET", fmt.Sprintf("contact_lists/%v", id), "", 404).(map[string]any); got["message"] != "Not Found" {
		t.Fatalf("deleted list answers %v", got)
	}
	if got := s.json("DELETE", fmt.Sprintf("contact_lists/%v", global), "", 400).(map[string]any); !strings.Contains(got["message"].(string), "custom") {
		t.Fatalf("deleting the global list: %v", got)
	}
	if got := s.json("GET", fmt.Sprintf("contact_lists/%v", global), "", 200).(map[string]any); got["entries_count"] != float64(1) {
		t.Fatalf("global list %v", got)
	}
}
