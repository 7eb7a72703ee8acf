package native

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/leadimport"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// importer is the import half of a dialer, done as the dialer does it
// (leadimport.Prepare, then Run, here before answering so a test can read
// the finished job); the lifecycle and preview need the real dialer and
// are not part of it.
type importer struct {
	switchboard.Dialer
	store *sqlstore.DB
}

func (d importer) ImportLeads(ctx context.Context, tenantID int64, to switchboard.LeadTarget, format string, body []byte) (switchboard.ImportJob, error) {
	job, leads, rows, err := leadimport.Prepare(ctx, d.store, tenantID, to, format, body, "")
	if err != nil {
		return job, err
	}
	return leadimport.Run(ctx, d.store, job, leads, rows)
}

// newCampaignAPI is the native API on a real store (SQLite, or PostgreSQL
// when url says so) behind a loopback server with a 64 KiB body limit.
// importing gives it the import half of a dialer; otherwise it has none.
func newCampaignAPI(t *testing.T, url string, importing bool) *testAPI {
	t.Helper()
	store := sqlstoretest.Open(t, url, sqlstore.Options{})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opt := Options{Store: store, Auth: httpapi.NewAuthenticator(store, time.Second, log), Limiter: httpapi.NewRateLimiter(0, 1),
		AdminToken: "admin-secret", Log: log}
	if importing {
		opt.Dialer = importer{store: store}
	}
	api := New(opt)
	obs := &httpapi.Observer{Log: log, MaxBody: 64 << 10}
	srv := httptest.NewServer(obs.Wrap("native", api, WriteError(log)))
	t.Cleanup(srv.Close)
	return &testAPI{api: api, store: store, url: srv.URL}
}

// sendRaw is do with a raw body and the request's own headers.
func (ta *testAPI) sendRaw(t *testing.T, method, path, key string, body []byte, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, ta.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func wantFields(t *testing.T, res response, status int, fields ...string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d %s, want %d", res.status, res.body, status)
	}
	e := res.errorBody(t)
	for _, f := range fields {
		if e.Fields[f] == "" {
			t.Errorf("error %s does not name %s", res.body, f)
		}
	}
}

func TestCampaignCRUD(t *testing.T) {
	for name, url := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ta := newCampaignAPI(t, url(t), false)
			a := newFixture(t, ta.store, "acme")
			b := newFixture(t, ta.store, "beta")

			// The contract: name, mode and queue suffice; the rest defaults.
			var c switchboard.Campaign
			res := ta.do(t, "POST", "/v1/campaigns", a.key, map[string]any{"name": "Winback", "mode": "predictive", "queue_id": a.queue})
			if res.status != 201 {
				t.Fatalf("create: %d %s", res.status, res.body)
			}
			res.decode(t, &c)
			if c.ID == 0 || c.Status != switchboard.CampaignCreated || c.Mode != switchboard.ModePredictive || c.MaxAbandonPercent != 3 ||
				c.RingSeconds != switchboard.DefaultRingSeconds || c.MaxRedials != switchboard.DefaultMaxRedials || len(c.RetryRules) == 0 || c.Schedule.From != "08:00" {
				t.Fatalf("created %s", res.body)
			}

			// Every setting is writable; numbers are stored in E.164.
			res = ta.do(t, "POST", "/v1/campaigns", a.key, map[string]any{"name": "Full", "mode": "preview", "queue_id": a.queue,
				"caller_id": "+1 (212) 555-0199", "caller_id_pool": []string{"+442079460000"}, "max_abandon_percent": 2.5,
				"max_redials": 4, "redial_interval_seconds": 600, "retry_rules": []map[string]any{{"outcome": "busy", "retry": true, "after_seconds": 120}},
				"overdial_adjustment": 1.5, "target_to_process": 100, "ring_seconds": 30, "machine_action": "message",
				"machine_prompt": "vm-1", "abandon_prompt": "sorry", "require_consent": true, "preview_seconds": 60,
				"preview_timeout_action": "skip", "schedule": map[string]any{"days": []string{"Mon", "tue"}, "from": "09:00", "to": "17:30"}})
			if res.status != 201 {
				t.Fatalf("create with every setting: %d %s", res.status, res.body)
			}
			var full switchboard.Campaign
			res.decode(t, &full)
			if full.CallerID != "+12125550199" || full.MaxRedials != 4 || len(full.RetryRules) != 1 || full.RetryRules[0].AfterSeconds != 120 ||
				fmt.Sprint(full.Schedule.Days) != "[mon tue]" || full.PreviewTimeoutAction != "skip" || !full.RequireConsent {
				t.Errorf("created %s", res.body)
			}

			// Validation names every bad field.
			wantFields(t, ta.do(t, "POST", "/v1/campaigns", a.key, map[string]any{"mode": "loud"}), 422, "name", "mode", "queue_id")
			wantFields(t, ta.do(t, "POST", "/v1/campaigns", a.key, map[string]any{"name": "X", "queue_id": a.queue, "ring_seconds": 10,
				"caller_id": "nope", "schedule": map[string]any{"from": "18:00", "to": "09:00"},
				"retry_rules": []map[string]any{{"outcome": "connected"}}}), 422, "ring_seconds", "caller_id", "schedule.to", "retry_rules[0].outcome")
			wantFields(t, ta.do(t, "POST", "/v1/campaigns", a.key, map[string]any{"name": "X", "queue_id": a.queue, "max_abandon_percent": 101}),
				422, "max_abandon_percent")
			wantFields(t, ta.do(t, "POST", "/v1/campaigns", a.key, map[string]any{"name": "X", "queue_id": b.queue}), 422, "queue_id")
			wantFields(t, ta.do(t, "POST", "/v1/campaigns", a.key, map[string]any{"name": "X", "queue_id": a.queue, "status": "started"}), 400, "status")

			// GET shows the status and the stats; the stored figures without
			// a dialer.
			var view struct {
				switchboard.Campaign
				Stats *switchboard.CampaignStats `json:"stats"`
			}
			res = ta.do(t, "GET", fmt.Sprintf("/v1/campaigns/%d", a.campaign), a.key, nil)
			res.decode(t, &view)
			if res.status != 200 || view.Status != switchboard.CampaignCreated || view.Stats == nil || view.Stats.LeadsTotal != 1 ||
				view.Stats.Leads[switchboard.LeadUpcoming] != 1 {
				t.Fatalf("get: %d %s", res.status, res.body)
			}
			etag := res.header.Get("ETag")

			// PATCH keeps what it leaves out, honours If-Match from the GET,
			// and refuses a stale one.
			res = ta.sendRaw(t, "PATCH", fmt.Sprintf("/v1/campaigns/%d", a.campaign), a.key, []byte(`{"max_redials":5}`),
				map[string]string{"Content-Type": "application/json", "If-Match": etag})
			var patched switchboard.Campaign
			res.decode(t, &patched)
			if res.status != 200 || patched.MaxRedials != 5 || patched.Name != "Renewals" || patched.QueueID != a.queue {
				t.Fatalf("patch: %d %s", res.status, res.body)
			}
			res = ta.sendRaw(t, "PATCH", fmt.Sprintf("/v1/campaigns/%d", a.campaign), a.key, []byte(`{"max_redials":6}`),
				map[string]string{"Content-Type": "application/json", "If-Match": etag})
			if res.status != http.StatusPreconditionFailed {
				t.Errorf("stale If-Match: %d %s", res.status, res.body)
			}
			wantFields(t, ta.do(t, "PATCH", fmt.Sprintf("/v1/campaigns/%d", a.campaign), a.key, map[string]any{"mode": "turbo"}), 422, "mode")
			wantFields(t, ta.do(t, "PATCH", fmt.Sprintf("/v1/campaigns/%d", a.campaign), a.key, map[string]any{"status": "started"}), 400, "status")

			// Paging, and only the tenant's campaigns.
			var page listBody[switchboard.Campaign]
			ta.do(t, "GET", "/v1/campaigns?limit=2", a.key, nil).decode(t, &page)
			if page.Metadata.Total != 3 || len(page.Items) != 2 || page.Metadata.NextCursor == "" {
				t.Fatalf("first page %+v", page.Metadata)
			}
			ta.do(t, "GET", "/v1/campaigns?limit=2&cursor="+page.Metadata.NextCursor, a.key, nil).decode(t, &page)
			if len(page.Items) != 1 || page.Metadata.NextCursor != "" {
				t.Errorf("second page %+v", page)
			}
			ta.do(t, "GET", "/v1/campaigns", b.key, nil).decode(t, &page)
			if page.Metadata.Total != 1 || page.Items[0].TenantID != b.tenant.ID {
				t.Errorf("tenant b's campaigns: %+v", page.Items)
			}

			// The lifecycle and the import need the dialer: 503 without it,
			// after the campaign is found.
			for _, verb := range []string{"start", "pause", "resume", "stop"} {
				res := ta.do(t, "POST", fmt.Sprintf("/v1/campaigns/%d/%s", a.campaign, verb), a.key, nil)
				if e := res.errorBody(t); res.status != 503 || !strings.Contains(e.Message, "dialer is not running") {
					t.Errorf("%s without a dialer: %d %s", verb, res.status, res.body)
				}
				if res := ta.do(t, "POST", fmt.Sprintf("/v1/campaigns/99999/%s", verb), a.key, nil); res.status != 404 {
					t.Errorf("%s of no campaign: %d %s", verb, res.status, res.body)
				}
			}
			if res := ta.do(t, "POST", fmt.Sprintf("/v1/campaigns/%d/leads", a.campaign), a.key, `[{"phone_number":"+12125550111"}]`); res.status != 503 {
				t.Errorf("import without a dialer: %d %s", res.status, res.body)
			}

			// DELETE, then it is gone.
			if res := ta.do(t, "DELETE", fmt.Sprintf("/v1/campaigns/%d", c.ID), a.key, nil); res.status != 204 {
				t.Fatalf("delete: %d %s", res.status, res.body)
			}
			if res := ta.do(t, "GET", fmt.Sprintf("/v1/campaigns/%d", c.ID), a.key, nil); res.status != 404 {
				t.Errorf("deleted campaign: %d", res.status)
			}
		})
	}
}

func TestLeadsAPI(t *testing.T) {
	ta := newCampaignAPI(t, sqlstoretest.SQLiteURL(t), false)
	a := newFixture(t, ta.store, "acme")
	ctx := context.Background()
	to := switchboard.LeadTarget{CampaignID: a.campaign}
	leads, _, _, err := leadimport.Parse("json", []byte(`[{"name":"Ann","phone_number":"+12125550101","priority":5},
		{"name":"Bob","phone_number":"+442079460000"},{"name":"Cy","phone_number":"+390112121212"}]`), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ta.store.InsertLeads(ctx, a.tenant.ID, to, leads); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/v1/campaigns/%d/leads", a.campaign)
	var page listBody[switchboard.Lead]
	ta.do(t, "GET", path+"?limit=2", a.key, nil).decode(t, &page)
	if page.Metadata.Total != 4 || len(page.Items) != 2 || page.Items[1].Name != "Ann" || page.Items[1].Priority != 5 || page.Metadata.NextCursor == "" {
		t.Fatalf("leads page %+v", page)
	}
	wantFields(t, ta.do(t, "GET", path+"?status=lost", a.key, nil), 400, "status")

	var bob switchboard.Lead
	for _, l := range append(page.Items, ta.leadsAfter(t, path, a.key, page.Metadata.NextCursor)...) {
		if l.Name == "Bob" {
			bob = l
		}
	}
	if bob.TimeZone != "Europe/London" {
		t.Fatalf("bob %+v", bob)
	}
	lead := fmt.Sprintf("/v1/leads/%d", bob.ID)
	res := ta.do(t, "PATCH", lead, a.key, map[string]any{"phone_number": "+44 20 7946 0001", "fields": map[string]string{"plan": "gold"}})
	var got switchboard.Lead
	res.decode(t, &got)
	if res.status != 200 || got.PhoneNumber != "+442079460001" || fmt.Sprint(got.PhoneNumbers) != "[+442079460001]" ||
		got.Fields["plan"] != "gold" || got.Name != "Bob" {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	wantFields(t, ta.do(t, "PATCH", lead, a.key, map[string]any{"phone_number": "999"}), 422, "phone_number")
	wantFields(t, ta.do(t, "PATCH", lead, a.key, map[string]any{"phone_numbers": []string{"+442079460001", "x"}}), 422, "phone_numbers[1]")
	wantFields(t, ta.do(t, "PATCH", lead, a.key, map[string]any{"time_zone": "Moon/Base"}), 422, "time_zone")
	wantFields(t, ta.do(t, "PATCH", lead, a.key, map[string]any{"status": "finished"}), 422, "status")
	wantFields(t, ta.do(t, "PATCH", lead, a.key, map[string]any{"attempts": 3}), 400, "attempts")
	res = ta.do(t, "PATCH", lead, a.key, map[string]any{"status": "skipped"})
	if res.decode(t, &got); res.status != 200 || got.Status != switchboard.LeadSkipped {
		t.Errorf("skip: %d %s", res.status, res.body)
	}
	ta.do(t, "GET", path+"?status=skipped", a.key, nil).decode(t, &page)
	if page.Metadata.Total != 1 || page.Items[0].ID != bob.ID {
		t.Errorf("skipped leads %+v", page)
	}
	if res := ta.do(t, "DELETE", lead, a.key, nil); res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	if res := ta.do(t, "GET", lead, a.key, nil); res.status != 404 {
		t.Errorf("deleted lead: %d", res.status)
	}
}

func (ta *testAPI) leadsAfter(t *testing.T, path, key, cursor string) []switchboard.Lead {
	t.Helper()
	var page listBody[switchboard.Lead]
	ta.do(t, "GET", path+"?cursor="+cursor, key, nil).decode(t, &page)
	return page.Items
}

// TestLeadImportAPI sends JSON and CSV bodies through the import route (with
// the import half of a dialer) and follows the jobs.
func TestLeadImportAPI(t *testing.T) {
	ta := newCampaignAPI(t, sqlstoretest.SQLiteURL(t), true)
	a := newFixture(t, ta.store, "acme")
	path := fmt.Sprintf("/v1/campaigns/%d/leads", a.campaign)

	// A JSON array of one is the single add.
	res := ta.do(t, "POST", path, a.key, `[{"name":"Ann","phone_number":"+1 212 555 0102"}]`)
	var job switchboard.ImportJob
	res.decode(t, &job)
	if res.status != 202 || res.header.Get("Location") != fmt.Sprintf("/v1/lead_imports/%d", job.ID) || job.Imported != 1 {
		t.Fatalf("single add: %d %s %v", res.status, res.body, res.header)
	}

	// A CSV larger than the server's 64 KiB limit, with bad and duplicate
	// rows.
	var b strings.Builder
	b.WriteString("name,phone,external_unique_id,region\n")
	for i := range 3000 {
		switch i {
		case 10:
			b.WriteString("Bad,not a number,,north\n")
		case 20:
			b.WriteString("Help,112,,north\n")
		case 30:
			b.WriteString("Dup,+12125551000,x-5,north\n")
		default:
			fmt.Fprintf(&b, "Lead %d,+1212555%04d,x-%d,north\n", i, 1000+i, i)
		}
	}
	if b.Len() <= 64<<10 {
		t.Fatalf("the CSV is only %d bytes", b.Len())
	}
	res = ta.sendRaw(t, "POST", path, a.key, []byte(b.String()), map[string]string{"Content-Type": "text/csv; charset=utf-8"})
	if res.status != 202 {
		t.Fatalf("CSV import: %d %.300s", res.status, res.body)
	}
	res.decode(t, &job)
	res = ta.do(t, "GET", fmt.Sprintf("/v1/lead_imports/%d", job.ID), a.key, nil)
	res.decode(t, &job)
	if res.status != 200 || job.Status != switchboard.ImportCompleted || job.Format != "csv" || job.Total != 3000 || job.Processed != 3000 ||
		job.Imported != 2997 || job.Rejected != 2 || job.Duplicates != 1 {
		t.Fatalf("job %d %+v", res.status, job)
	}
	var rows []string
	for _, e := range job.Errors {
		rows = append(rows, fmt.Sprintf("%d %s %s", e.Row, e.Field, e.Message))
	}
	want := "[11 phone is not a valid phone number (give it in E.164, +country code and number) 21 phone is an emergency number 31 external_id duplicate of a lead already in the campaign]"
	if fmt.Sprint(rows) != want {
		t.Errorf("errors %v\nwant %s", rows, want)
	}
	var lead switchboard.Lead
	var page listBody[switchboard.Lead]
	ta.do(t, "GET", path+"?limit=1000", a.key, nil).decode(t, &page)
	for _, l := range page.Items {
		if l.ExternalID == "x-0" {
			lead = l
		}
	}
	if lead.Fields["region"] != "north" || lead.TimeZone != "America/New_York" {
		t.Errorf("imported lead %+v", lead)
	}

	// Bodies that cannot be read, and a body over 32 MiB.
	wantFields(t, ta.sendRaw(t, "POST", path, a.key, []byte(`<leads/>`), map[string]string{"Content-Type": "application/xml"}), 400, "Content-Type")
	if res := ta.do(t, "POST", path, a.key, `{"phone_number":"+12125550100"}`); res.status != 422 || !strings.Contains(res.errorBody(t).Message, "JSON array") {
		t.Errorf("an object: %d %s", res.status, res.body)
	}
	if res := ta.sendRaw(t, "POST", path, a.key, []byte("name\nAnn\n"), map[string]string{"Content-Type": "text/csv"}); res.status != 422 {
		t.Errorf("CSV without a number column: %d %s", res.status, res.body)
	}
	huge := bytes.Repeat([]byte("+12125550100\n"), leadimport.MaxBodyBytes/13+1)
	if res := ta.sendRaw(t, "POST", path, a.key, append([]byte("phone\n"), huge...), map[string]string{"Content-Type": "text/csv"}); res.status != 413 {
		t.Errorf("33 MiB: %d %.200s", res.status, res.body)
	}
	// Every other route keeps the server's limit.
	if res := ta.do(t, "POST", "/v1/contact_lists", a.key, `{"name":"`+strings.Repeat("x", 70<<10)+`"}`); res.status != 413 {
		t.Errorf("a large body elsewhere: %d", res.status)
	}
}

func TestLedgerAPI(t *testing.T) {
	for name, url := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ta := newCampaignAPI(t, url(t), false)
			a := newFixture(t, ta.store, "acme")
			ctx := context.Background()
			lead, err := ta.store.Lead(ctx, a.tenant.ID, a.lead)
			if err != nil {
				t.Fatal(err)
			}
			base := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
			checks := switchboard.DialChecks{Emergency: "pass", DNC: "pass", CallingHours: "pass", Consent: "n/a", AbandonBudget: "pass"}
			var attempts []switchboard.DialAttempt
			for i := range 3 {
				at := base.Add(time.Duration(i) * time.Hour)
				ended := at.Add(40 * time.Second)
				attempts = append(attempts, switchboard.DialAttempt{TenantID: a.tenant.ID, CampaignID: a.campaign, LeadID: lead.ID,
					Number: lead.PhoneNumber, CallerID: "+12125550199", Mode: "progressive", At: at, TimeZone: "America/New_York",
					LocalTime: at.In(mustZone(t, "America/New_York")).Format(time.RFC3339), Checks: checks,
					Outcome: switchboard.DialNoAnswer, EndedAt: &ended, AbandonRate: 1.25})
			}
			attempts[2].Checks.DNC, attempts[2].Outcome, attempts[2].Reason = "blocked", switchboard.DialBlocked, "=HYPERLINK(\"x\") on the DNC list"
			attempts[2].EndedAt = nil
			lead.Status, lead.Attempts = switchboard.LeadDoNotCall, 3
			if _, err := ta.store.SaveDialProgress(ctx, a.tenant.ID, []switchboard.Lead{lead}, attempts); err != nil {
				t.Fatal(err)
			}
			path := fmt.Sprintf("/v1/campaigns/%d/ledger", a.campaign)

			var page listBody[switchboard.DialAttempt]
			res := ta.do(t, "GET", path+"?limit=2", a.key, nil)
			res.decode(t, &page)
			if res.status != 200 || page.Metadata.Total != 3 || len(page.Items) != 2 || !page.Items[0].At.Equal(base) ||
				page.Items[0].Checks != checks || page.Metadata.NextCursor == "" {
				t.Fatalf("ledger page: %d %s", res.status, res.body)
			}
			ta.do(t, "GET", path+"?since=2026-11-27T15:00:00Z&until=2026-11-27T16:00:00Z", a.key, nil).decode(t, &page)
			if len(page.Items) != 1 || !page.Items[0].At.Equal(base.Add(time.Hour)) {
				t.Errorf("since/until: %+v", page.Items)
			}
			ta.do(t, "GET", fmt.Sprintf("%s?lead_id=%d", path, lead.ID+1000), a.key, nil).decode(t, &page)
			if len(page.Items) != 0 {
				t.Errorf("another lead's attempts: %+v", page.Items)
			}
			wantFields(t, ta.do(t, "GET", path+"?since=yesterday", a.key, nil), 400, "since")
			wantFields(t, ta.do(t, "GET", path+"?until=2026-13-01", a.key, nil), 400, "until")
			wantFields(t, ta.do(t, "GET", path+"?lead_id=first", a.key, nil), 400, "lead_id")
			if res := ta.do(t, "GET", "/v1/campaigns/99999/ledger", a.key, nil); res.status != 404 {
				t.Errorf("no campaign: %d", res.status)
			}

			// CSV: the whole selection, every column, formulas neutralised.
			res = ta.sendRaw(t, "GET", path+"?since=2026-11-27T15:00:00Z", a.key, nil, map[string]string{"Accept": "text/csv"})
			if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") ||
				!strings.Contains(res.header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("CSV: %d %v %s", res.status, res.header, res.body)
			}
			recs, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 3 || strings.Join(recs[0], ",") != strings.Join(ledgerColumns, ",") {
				t.Fatalf("CSV %q", recs)
			}
			row := map[string]string{}
			for i, col := range recs[0] {
				row[col] = recs[2][i]
			}
			if row["dnc"] != "blocked" || row["outcome"] != "blocked" || row["reason"] != "'=HYPERLINK(\"x\") on the DNC list" ||
				row["number"] != "+12125550100" || row["lead_id"] != fmt.Sprint(lead.ID) || row["abandon_rate"] != "1.25" ||
				row["at"] != "2026-11-27T16:00:00Z" || row["local_time"] != "2026-11-27T11:00:00-05:00" || row["ended_at"] != "" {
				t.Errorf("CSV row %v", row)
			}
			if res := ta.sendRaw(t, "GET", path+"?since=bad", a.key, nil, map[string]string{"Accept": "text/csv"}); res.status != 400 {
				t.Errorf("CSV with a bad parameter: %d", res.status)
			}
		})
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestContactListsAPI(t *testing.T) {
	ta := newCampaignAPI(t, sqlstoretest.SQLiteURL(t), true)
	a := newFixture(t, ta.store, "acme")
	b := newFixture(t, ta.store, "beta")
	var l switchboard.ContactList
	res := ta.do(t, "POST", "/v1/contact_lists", a.key, map[string]any{"name": "Trade fair", "description": "met at the fair"})
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	res.decode(t, &l)
	wantFields(t, ta.do(t, "POST", "/v1/contact_lists", a.key, map[string]any{"description": "no name"}), 422, "name")
	res = ta.do(t, "PATCH", fmt.Sprintf("/v1/contact_lists/%d", l.ID), a.key, map[string]any{"name": "Trade fair 2026"})
	if res.decode(t, &l); res.status != 200 || l.Name != "Trade fair 2026" || l.Description != "met at the fair" {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	res = ta.sendRaw(t, "POST", fmt.Sprintf("/v1/contact_lists/%d/leads", l.ID), a.key,
		[]byte("name,phone_number\nAnn,+12125550101\nBob,+12125550102\nLia,+12125550100\n"), map[string]string{"Content-Type": "text/csv"})
	var job switchboard.ImportJob
	if res.decode(t, &job); res.status != 202 || job.Imported != 3 || job.ContactListID == nil || *job.ContactListID != l.ID {
		t.Fatalf("import into the list: %d %s", res.status, res.body)
	}
	var leads listBody[switchboard.Lead]
	ta.do(t, "GET", fmt.Sprintf("/v1/contact_lists/%d/leads", l.ID), a.key, nil).decode(t, &leads)
	if leads.Metadata.Total != 3 {
		t.Errorf("list leads %+v", leads.Metadata)
	}
	var lists listBody[switchboard.ContactList]
	ta.do(t, "GET", "/v1/contact_lists", a.key, nil).decode(t, &lists)
	if lists.Metadata.Total != 2 {
		t.Errorf("lists %+v", lists)
	}

	// Copy into the campaign: Lia (+12125550100) is there already.
	copyPath := fmt.Sprintf("/v1/campaigns/%d/contact_lists", a.campaign)
	var copied copiedBody
	res = ta.do(t, "POST", copyPath, a.key, map[string]any{"contact_list_id": l.ID})
	if res.decode(t, &copied); res.status != 200 || copied.Copied != 2 {
		t.Fatalf("copy: %d %s", res.status, res.body)
	}
	res = ta.do(t, "POST", copyPath, a.key, map[string]any{"contact_list_id": l.ID})
	if res.decode(t, &copied); copied.Copied != 0 {
		t.Errorf("second copy: %s", res.body)
	}
	wantFields(t, ta.do(t, "POST", copyPath, a.key, map[string]any{}), 422, "contact_list_id")
	if res := ta.do(t, "POST", copyPath, a.key, map[string]any{"contact_list_id": b.list}); res.status != 404 {
		t.Errorf("another tenant's list: %d %s", res.status, res.body)
	}
	ta.do(t, "GET", fmt.Sprintf("/v1/campaigns/%d/leads", a.campaign), a.key, nil).decode(t, &leads)
	if leads.Metadata.Total != 3 {
		t.Errorf("campaign leads after the copy: %d", leads.Metadata.Total)
	}

	// Tenant b sees none of it.
	ta.do(t, "GET", "/v1/contact_lists", b.key, nil).decode(t, &lists)
	for _, x := range lists.Items {
		if x.TenantID != b.tenant.ID {
			t.Errorf("tenant b lists %+v", x)
		}
	}
	if res := ta.do(t, "DELETE", fmt.Sprintf("/v1/contact_lists/%d", l.ID), a.key, nil); res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	if res := ta.do(t, "GET", fmt.Sprintf("/v1/contact_lists/%d/leads", l.ID), a.key, nil); res.status != 404 {
		t.Errorf("leads of a deleted list: %d", res.status)
	}
}

// TestPreviewAPI: the agent's preview routes check the agent (a user key
// reaches only its own) before they need the dialer.
func TestPreviewAPI(t *testing.T) {
	ta := newCampaignAPI(t, sqlstoretest.SQLiteURL(t), false)
	a := newFixture(t, ta.store, "acme")
	k, err := ta.store.CreateAPIKey(context.Background(), a.tenant.ID, switchboard.APIKey{UserID: &a.user})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		method, path, key string
		body              any
		status            int
	}{
		{"GET", fmt.Sprintf("/v1/agents/%d/preview", a.user), a.key, nil, 503},
		{"GET", fmt.Sprintf("/v1/agents/%d/preview", a.user), k.Secret, nil, 503},
		{"GET", fmt.Sprintf("/v1/agents/%d/preview", a.user2), k.Secret, nil, 403},
		{"GET", "/v1/agents/99999/preview", a.key, nil, 404},
		{"POST", fmt.Sprintf("/v1/agents/%d/preview/accept", a.user), k.Secret, map[string]any{"lead_id": a.lead}, 503},
		{"POST", fmt.Sprintf("/v1/agents/%d/preview/skip", a.user2), k.Secret, map[string]any{"lead_id": a.lead}, 403},
		{"POST", fmt.Sprintf("/v1/agents/%d/preview/skip", a.user), a.key, map[string]any{"lead_id": a.lead}, 503},
	} {
		if res := ta.do(t, tt.method, tt.path, tt.key, tt.body); res.status != tt.status {
			t.Errorf("%s %s: %d %s, want %d", tt.method, tt.path, res.status, res.body, tt.status)
		}
	}
}
