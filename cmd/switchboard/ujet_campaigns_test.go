package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// ujetClient calls the UJET dialect with HTTP Basic: the tenant's slug and
// a key printed by "switchboard key create".
type campaignsClient struct {
	t          *testing.T
	base       string
	slug, key  string
	lastHeader http.Header
}

func (u *campaignsClient) send(req *http.Request, v any) int {
	u.t.Helper()
	req.SetBasicAuth(u.slug, u.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	u.lastHeader = res.Header
	if v != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, v); err != nil {
			u.t.Fatalf("%s %s: %d %q is not JSON", req.Method, req.URL.Path, res.StatusCode, raw)
		}
	}
	return res.StatusCode
}

func (u *campaignsClient) do(method, path string, body, v any) int {
	u.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u.base+"/apps/api/v1"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	return u.send(req, v)
}

func (u *campaignsClient) upload(path, name string, file []byte, v any) int {
	u.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("file", name)
	w.Write(file)
	mw.Close()
	req, _ := http.NewRequest("POST", u.base+"/apps/api/v1"+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return u.send(req, v)
}

// TestUJETDNCCampaigns runs the UJET DNC list and campaign contacts against
// the server on the simulated telephony, on every engine: a number put on
// the list through UJET is refused by click-to-call and by a scheduled call
// of the native API, and its campaign contact ends "Do Not Call" when the
// dialer reaches it while the others are called; a CSV import with bad
// rows reports them by row; removing the number lets calls to it through.
func TestUJETDNCCampaigns(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			_, c := newCallServer(t, db)
			u := &campaignsClient{t: t, base: c.base, slug: "acme", key: c.key}
			s := newCampaignScene(t, c, 2)
			listed := "+12125550106"
			for _, n := range []string{"+12125550101", "+12125550102", "+12125550103", "+12125550104", listed} {
				s.script(t, n, "answer", 0.2, 0.5)
			}

			var added []map[string]any
			if status := u.do("POST", "/outbound_dialer/dnc", map[string]any{"contacts": []map[string]any{{"phone_number": "+1-212-555-0106"}}}, &added); status != 200 ||
				len(added) != 1 || added[0]["status"] != "created" || added[0]["phone_number"] != listed {
				t.Fatalf("add to DNC: %d %v", status, added)
			}
			var check map[string]any
			if u.do("GET", "/outbound_dialer/dnc/check?phone_number=%2B12125550106", nil, &check); check["in_dnc"] != true {
				t.Fatalf("check: %v", check)
			}
			// The native API's click-to-call and scheduled call refuse it.
			if status, p := c.do("POST", "/v1/calls", map[string]any{"user_id": s.agents[0], "phone_number": listed}); status != 403 ||
				!strings.Contains(fmt.Sprint(p), "do-not-call") {
				t.Errorf("click-to-call to a listed number: %d %v", status, p)
			}
			if status, p := c.do("POST", "/v1/scheduled_calls", map[string]any{"queue_id": s.queue, "phone_number": listed,
				"scheduled_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}); status != 403 {
				t.Errorf("scheduled call to a listed number: %d %v", status, p)
			}

			status, camp := c.do("POST", "/v1/campaigns", map[string]any{"name": "UJET outreach", "mode": "progressive", "queue_id": s.queue,
				"max_redials": 0, "schedule": map[string]any{"from": "00:00", "to": "24:00"}})
			if status != 201 {
				t.Fatalf("create campaign: %d %v", status, camp)
			}
			id := int64(camp["id"].(float64))
			base := fmt.Sprintf("/outbound_dialer/campaigns/%d", id)
			// The first contact is shown one of the tenant's numbers (its
			// outbound_number), the others the campaign's (none here).
			own := "+12125550900"
			if status, p := c.do("POST", "/v1/phone_numbers", map[string]any{"number": own, "queue_id": s.queue}); status != 201 {
				t.Fatalf("phone number: %d %v", status, p)
			}
			var ct map[string]any
			for i, n := range []string{"+1 212 555 0101", "+1 212 555 0106"} {
				body := map[string]any{"name": fmt.Sprintf("Contact %d", i), "phone_number": n, "external_unique_id": fmt.Sprintf("C%d", i)}
				if i == 0 {
					body["outbound_number"] = own
				}
				if status := u.do("POST", base+"/contacts", body, &ct); status != 201 {
					t.Fatalf("add contact %s: %d %v", n, status, ct)
				}
			}
			csv := "name,phone_number,external_unique_id\n" +
				"Two,+12125550102,C2\n" +
				"Broken,12-34,C3\n" +
				"Three,+12125550103,C4\n" +
				"Emergency,112,C5\n" +
				"Four,+12125550104,C6\n"
			var started map[string]any
			if status := u.upload(base+"/contacts/import", "contacts.csv", []byte(csv), &started); status != 200 {
				t.Fatalf("import: %d %v", status, started)
			}
			var job map[string]any
			deadline := time.Now().Add(20 * time.Second)
			for {
				u.do("GET", fmt.Sprintf("%s/contacts/jobs/%v", base, started["job_id"]), nil, &job)
				if job["status"] != "processing" || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if job["status"] != "completed" || job["success_count"] != 3.0 || job["failed_count"] != 2.0 {
				t.Fatalf("import job = %v", job)
			}
			var rows []string
			for _, e := range job["errors"].([]any) {
				m := e.(map[string]any)
				rows = append(rows, fmt.Sprintf("row %v %v: %v", m["row"], m["field"], m["message"]))
			}
			if len(rows) != 2 || !strings.HasPrefix(rows[0], "row 2 phone_number") || !strings.HasPrefix(rows[1], "row 4 phone_number: is an emergency") {
				t.Errorf("import errors = %q", rows)
			}

			if status, p := c.do("POST", fmt.Sprintf("/v1/campaigns/%d/start", id), nil); status != 200 {
				t.Fatalf("start: %d %v", status, p)
			}
			var contacts []map[string]any
			byPhone := map[string]string{}
			deadline = time.Now().Add(60 * time.Second)
			for {
				contacts = nil
				if status := u.do("GET", base+"/contacts", nil, &contacts); status != 200 {
					t.Fatalf("contacts: %d", status)
				}
				final := 0
				for _, ct := range contacts {
					byPhone[ct["phone"].(string)] = ct["status"].(string)
					switch ct["status"] {
					case "Finished", "Do Not Call":
						final++
					}
				}
				if final == len(contacts) || time.Now().After(deadline) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			if len(contacts) != 5 || byPhone[listed] != "Do Not Call" {
				t.Fatalf("contacts = %v, want the listed number's contact Do Not Call", byPhone)
			}
			for n, st := range byPhone {
				if n != listed && st != "Finished" {
					t.Errorf("contact %s = %s, want Finished", n, st)
				}
			}
			for _, ct := range contacts {
				if ct["phone"] != listed && ct["assigned_call_id"] == nil {
					t.Errorf("a called contact without its call: %v", ct)
				}
			}
			var cp map[string]any
			u.do("GET", base, nil, &cp)
			if st := cp["contact_stats"].(map[string]any); st["Do Not Call"] != 1.0 || st["Finished"] != 4.0 {
				t.Errorf("contact_stats = %v", st)
			}
			// The native ledger says why the dialer refused it.
			found := false
			for _, r := range s.ledger(t, id) {
				if r["number"] == "+12125550101" && r["caller_id"] != own {
					t.Errorf("the contact's dial showed %v, want its outbound_number %s", r["caller_id"], own)
				}
				if r["number"] == listed {
					found = true
					if r["outcome"] != "blocked" || r["checks"].(map[string]any)["dnc"] != "blocked" {
						t.Errorf("ledger row of the listed number = %v", r)
					}
				}
			}
			if !found {
				t.Error("the ledger has no row of the listed number")
			}

			// Off the list, the number is called again.
			var removed []map[string]any
			if status := u.do("POST", "/outbound_dialer/dnc/remove", map[string]any{"phone_numbers": []string{listed}}, &removed); status != 200 ||
				removed[0]["status"] != "removed" {
				t.Fatalf("remove: %d %v", status, removed)
			}
			if status, p := c.do("POST", "/v1/scheduled_calls", map[string]any{"queue_id": s.queue, "phone_number": listed,
				"scheduled_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}); status != 201 {
				t.Errorf("scheduled call after removal: %d %v", status, p)
			}
		})
	}
}
