package ujet

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"switchboard/internal/sqlstore/sqlstoretest"
	"testing"
	"time"

	"switchboard"
)

// p5CampaignShape is the Manager API's campaign object, key by key.
var p5CampaignShape = map[string]string{"id": "number", "campaign_type": "string", "external_campaign_id": "null",
	"name": "string", "mode": "string", "status": "string", "queue": "object", "max_abandonment_percent": "number",
	"max_redial_count": "number", "redial_interval_minutes": "number", "overdial_adjustment_multiplier": "number",
	"target_number_to_process": "number", "created_at": "string", "starts_at": "string|null", "ends_at": "string|null",
	"updated_at": "string", "contact_stats": "object"}

// p5ContactShape is the seed's contact object (and phone), key by key.
var p5ContactShape = map[string]string{"assigned_call_id": "number|null", "assigned_participant_id": "number|null",
	"campaign_id": "number", "created_at": "string", "id": "number", "name": "string", "outbound_number": "string|null",
	"priority": "number|null", "status": "string", "unique_id": "string|null", "updated_at": "string", "phone": "string"}

// TestUJETCampaigns reads campaigns as UJET's objects and walks a contact
// through add (the seed's body), list, update and remove (the seed's
// bodies), with the refusals, on both engines.
func TestUJETCampaigns(t *testing.T) {
	p5EachEngine(t, func(t *testing.T, f *p5Fixture) {
		var list []map[string]any
		status, h, raw := f.do("GET", "/outbound_dialer/campaigns?per=10", "acme", f.key, nil)
		if status != 200 || p5Unmarshal(raw, &list) != nil || len(list) != 1 {
			t.Fatalf("list campaigns: %d %s", status, raw)
		}
		if h.Get("Total") != "1" || h.Get("Per-Page") != "10" || !strings.Contains(h.Get("Link"), `rel="last"`) {
			t.Errorf("list headers: %v", h)
		}
		var cp map[string]any
		f.json("GET", fmt.Sprintf("/outbound_dialer/campaigns/%d", f.campaign.ID), nil, 200, &cp)
		wantShape(t, "campaign", cp, p5CampaignShape)
		wantShape(t, "campaign in the list", list[0], p5CampaignShape)
		queue, _ := cp["queue"].(map[string]any)
		want := map[string]any{"id": float64(f.campaign.ID), "campaign_type": "default", "name": "Winter Renewals", "mode": "predictive",
			"status": "created", "max_abandonment_percent": 3.0, "max_redial_count": 3.0, "redial_interval_minutes": 30.0,
			"overdial_adjustment_multiplier": 1.5, "target_number_to_process": 500.0, "starts_at": "2026-12-01T09:00:00.000Z"}
		for k, v := range want {
			if cp[k] != v {
				t.Errorf("campaign.%s = %v, want %v", k, cp[k], v)
			}
		}
		if queue["id"] != float64(2*f.queue.ID) || queue["name"] != "Outbound Sales" || queue["menu_type"] != "ivr_menu" {
			t.Errorf("campaign.queue = %v, want menu %d", queue, 2*f.queue.ID)
		}
		stats := cp["contact_stats"].(map[string]any)
		if len(stats) != 21 || stats["Upcoming"] != 0.0 || stats["Do Not Call"] != 0.0 {
			t.Errorf("contact_stats = %v, want the 21 labels at 0", stats)
		}
		for _, path := range []string{fmt.Sprintf("/outbound_dialer/campaigns/%d", f.otherCampaign.ID), "/outbound_dialer/campaigns/abc"} {
			if status, _, raw := f.do("GET", path, "acme", f.key, nil); status != 404 || strings.TrimSpace(string(raw)) != `{"message":"Not Found"}` {
				t.Errorf("GET %s: %d %s, want 404 Not Found", path, status, raw)
			}
		}

		// Add: the seed's body.
		base := fmt.Sprintf("/outbound_dialer/campaigns/%d", f.campaign.ID)
		var ct map[string]any
		f.json("POST", base+"/contacts", `{ "name": "string", "email": "customer@somedomain.com", "phone_number": "+1 111-111-1111", "outbound_number": "+1 760-867-5309", "external_unique_id": "UID_123456" }`,
			201, &ct)
		wantShape(t, "contact", ct, p5ContactShape)
		wantCt := map[string]any{"campaign_id": float64(f.campaign.ID), "name": "string", "outbound_number": "+17608675309",
			"priority": nil, "status": "Upcoming", "unique_id": "UID_123456", "assigned_call_id": nil, "assigned_participant_id": nil,
			"phone": "+11111111111"}
		for k, v := range wantCt {
			if ct[k] != v {
				t.Errorf("contact.%s = %v, want %v", k, ct[k], v)
			}
		}
		id := int64(ct["id"].(float64))
		for _, k := range []string{"created_at", "updated_at"} {
			if _, err := time.Parse("2006-01-02T15:04:05.000Z", ct[k].(string)); err != nil {
				t.Errorf("contact.%s = %v: %v", k, ct[k], err)
			}
		}
		l, err := f.db.Lead(context.Background(), f.tenant.ID, id)
		if err != nil || l.Fields["email"] != "customer@somedomain.com" || l.ExternalID != "UID_123456" {
			t.Errorf("stored lead = %+v, %v", l, err)
		}

		refusals := []struct {
			body any
			text string
		}{
			{map[string]any{"name": "Again", "phone_number": "+11111111111"}, "phone_number has already been taken"},
			{map[string]any{"name": "Same id", "phone_number": "+12125550150", "external_unique_id": "UID_123456"}, "external_unique_id has already been taken"},
			{map[string]any{"name": "Police", "phone_number": "911"}, "emergency phone number is not allowed"},
			{map[string]any{"name": "Nobody", "phone_number": "call me"}, "phone_number is invalid"},
			{map[string]any{"name": "No number"}, "param is missing or the value is empty: phone_number"},
			{map[string]any{"phone_number": "+12125550151", "email": "not an email"}, "email is invalid"},
			{map[string]any{"phone_number": "+12125550152", "outbound_number": "x"}, "outbound_number is invalid"},
			{map[string]any{"phone_number": "+12125550152", "outbound_number": "+12125550999"}, "outbound_number is invalid"},
		}
		for _, r := range refusals {
			status, _, raw := f.do("POST", base+"/contacts", "acme", f.key, r.body)
			if status != 400 || strings.TrimSpace(string(raw)) != `{"message":"`+r.text+`"}` {
				t.Errorf("add %v: %d %s, want 400 %q", r.body, status, raw, r.text)
			}
		}
		if status, _, _ := f.do("POST", fmt.Sprintf("/outbound_dialer/campaigns/%d/contacts", f.otherCampaign.ID), "acme", f.key,
			map[string]any{"phone_number": "+12125550153"}); status != 404 {
			t.Errorf("add to another tenant's campaign: %d, want 404", status)
		}
		if status, _, _ := f.do("POST", base+"/contacts", "acme", f.readKey, map[string]any{"phone_number": "+12125550153"}); status != 403 {
			t.Errorf("add with a read key: %d, want 403", status)
		}
		f.json("POST", base+"/contacts", map[string]any{"name": "Second", "phone_number": "+12125550160"}, 201, &ct)
		second := int64(ct["id"].(float64))
		if ct["unique_id"] != nil || ct["outbound_number"] != nil {
			t.Errorf("a contact without ids = %v", ct)
		}

		// List: the seed's objects, paged.
		list = nil
		status, h, raw = f.do("GET", base+"/contacts?per=1&page=2", "acme", f.readKey, nil)
		if status != 200 || p5Unmarshal(raw, &list) != nil || len(list) != 1 || h.Get("Total") != "2" {
			t.Fatalf("contacts page 2: %d %s %v", status, raw, h)
		}
		wantShape(t, "listed contact", list[0], p5ContactShape)
		if list[0]["id"] != float64(second) {
			t.Errorf("page 2 = %v, want contact %d", list[0], second)
		}

		// Update: the seed's body (its contact_id that of the contact added),
		// the id also as a string of digits.
		var up map[string]any
		f.json("PATCH", base+"/contact", fmt.Sprintf(`{ "contact_id": %d, "name": "Renamed", "email": "other@somedomain.com", "phone_number": "+1 111-111-1112", "external_unique_id": "UID_123457" }`, id),
			200, &up)
		wantShape(t, "updated contact", up, p5ContactShape)
		if up["name"] != "Renamed" || up["phone"] != "+11111111112" || up["unique_id"] != "UID_123457" || up["outbound_number"] != "+17608675309" {
			t.Errorf("updated contact = %v", up)
		}
		f.json("PATCH", base+"/contact", map[string]any{"contact_id": strconv.FormatInt(id, 10), "name": "Again"}, 200, &up)
		if up["name"] != "Again" || up["phone"] != "+11111111112" {
			t.Errorf("contact after a partial update = %v", up)
		}
		for _, r := range []struct {
			body   any
			status int
			text   string
		}{
			{map[string]any{"contact_id": second, "outbound_number": "+18005550100"}, 400, "outbound_number is invalid"},
			{map[string]any{"contact_id": second, "phone_number": "+11111111112"}, 400, "phone_number has already been taken"},
			{map[string]any{"contact_id": second, "external_unique_id": "UID_123457"}, 400, "external_unique_id has already been taken"},
			{map[string]any{"name": "Who"}, 400, "param is missing or the value is empty: contact_id"},
			{map[string]any{"contact_id": "x1"}, 400, "contact_id must be an integer"},
			{map[string]any{"contact_id": 999999}, 404, "Not Found"},
		} {
			status, _, raw := f.do("PATCH", base+"/contact", "acme", f.key, r.body)
			if status != r.status || strings.TrimSpace(string(raw)) != `{"message":"`+r.text+`"}` {
				t.Errorf("PATCH %v: %d %s, want %d %q", r.body, status, raw, r.status, r.text)
			}
		}
		// A contact of the campaign is not found under another campaign.
		otherCp, err := f.db.CreateCampaign(context.Background(), f.tenant.ID, switchboard.Campaign{Name: "Other", QueueID: f.queue.ID})
		if err != nil {
			t.Fatal(err)
		}
		if status, _, _ := f.do("PATCH", fmt.Sprintf("/outbound_dialer/campaigns/%d/contact", otherCp.ID), "acme", f.key,
			map[string]any{"contact_id": id, "name": "x"}); status != 404 {
			t.Errorf("PATCH through another campaign: %d, want 404", status)
		}

		// Remove: the seed's body, then by phone number alone.
		var gone map[string]any
		f.json("DELETE", base+"/contact", fmt.Sprintf(`{ "contact_id": %d, "phone_number": "+1 111-111-1112", "external_unique_id": "UID_123457" }`, id), 200, &gone)
		if gone["id"] != float64(id) {
			t.Errorf("removed = %v", gone)
		}
		f.json("DELETE", base+"/contact", map[string]any{"phone_number": "+1 212 555 0160"}, 200, &gone)
		if gone["id"] != float64(second) {
			t.Errorf("removed by number = %v", gone)
		}
		if status, _, _ := f.do("DELETE", base+"/contact", "acme", f.key, map[string]any{"contact_id": id}); status != 404 {
			t.Errorf("removing a removed contact: %d, want 404", status)
		}
		status, h, _ = f.do("GET", base+"/contacts", "acme", f.key, nil)
		if status != 200 || h.Get("Total") != "0" {
			t.Errorf("contacts after removal: %d %v", status, h)
		}
	})
}

// TestUJETCampaignImport imports a CSV file with bad rows and a JSON file
// as background jobs and reads the jobs, on both engines; the statuses the
// dialer leaves show as UJET's labels in the list and the stats.
func TestUJETCampaignImport(t *testing.T) {
	p5EachEngine(t, func(t *testing.T, f *p5Fixture) {
		base := fmt.Sprintf("/outbound_dialer/campaigns/%d", f.campaign.ID)
		csv := "name,phone_number,email,external_unique_id,outbound_number\n" +
			"Ann,+12125550101,ann@example.com,U1,+17608675309\n" +
			"Bad number,not-a-number,,U2,\n" +
			"Police,911,,U3,\n" +
			"Dee,+12125550104,,U4,\n" +
			"Ann again,+12125550199,,U1,\n" +
			"Ann's number,+1 212 555 0101,,U9,\n"
		status, raw := f.upload(base+"/contacts/import", "multi_contacts.csv", "text/csv", []byte(csv))
		var started map[string]any
		if status != 200 || p5Unmarshal(raw, &started) != nil {
			t.Fatalf("import: %d %s", status, raw)
		}
		wantShape(t, "import", started, map[string]string{"job_id": "number", "status": "string"})
		job := p5WaitJob(t, f, base, int64(started["job_id"].(float64)))
		wantShape(t, "job", job, map[string]string{"id": "number", "campaign_id": "number", "status": "string", "file_format": "string",
			"total_count": "number", "processed_count": "number", "success_count": "number", "duplicate_count": "number",
			"failed_count": "number", "errors": "array", "error": "null", "created_at": "string", "finished_at": "string"})
		if job["status"] != "completed" || job["file_format"] != "csv" || job["total_count"] != 6.0 || job["success_count"] != 2.0 ||
			job["failed_count"] != 2.0 || job["duplicate_count"] != 2.0 || job["processed_count"] != 6.0 {
			t.Errorf("job = %v", job)
		}
		var rows []string
		for _, e := range job["errors"].([]any) {
			m := e.(map[string]any)
			rows = append(rows, fmt.Sprintf("%v:%v", m["row"], m["field"]))
		}
		if fmt.Sprint(rows) != "[2:phone_number 3:phone_number 5:external_unique_id 6:phone_number]" {
			t.Errorf("job errors = %v", job["errors"])
		}

		// JSON, by content, without a telling name.
		status, raw = f.upload(base+"/contacts/import", "upload", "", []byte(`[{"name":"Eve","phone_number":"+12125550105","external_unique_id":"U5"},{"name":"Fay","phone_number":"+1 212 555 0106"}]`))
		if status != 200 || p5Unmarshal(raw, &started) != nil {
			t.Fatalf("JSON import: %d %s", status, raw)
		}
		job = p5WaitJob(t, f, base, int64(started["job_id"].(float64)))
		if job["file_format"] != "json" || job["success_count"] != 2.0 || job["failed_count"] != 0.0 {
			t.Errorf("JSON job = %v", job)
		}
		if status, raw := f.upload(base+"/contacts/import", "x.json", "", []byte(`{"not":"an array"}`)); status != 400 {
			t.Errorf("import of a JSON object: %d %s, want 400", status, raw)
		}
		if status, _, raw := f.do("POST", base+"/contacts/import", "acme", f.key, "{}"); status != 400 {
			t.Errorf("import without multipart: %d %s, want 400", status, raw)
		}
		if status, _, _ := f.do("GET", fmt.Sprintf("/outbound_dialer/campaigns/%d/contacts/jobs/%v", f.otherCampaign.ID, job["id"]), "acme", f.key, nil); status != 404 {
			t.Errorf("a job under another tenant's campaign: %d, want 404", status)
		}
		if status, _, _ := f.do("GET", fmt.Sprintf("%s/contacts/jobs/%v", base, job["id"]), "other", f.otherKey, nil); status != 404 {
			t.Errorf("the job as the other tenant: %d, want 404", status)
		}

		// What the dialer leaves shows as UJET's labels.
		ctx := context.Background()
		page, err := f.db.Leads(ctx, f.tenant.ID, switchboard.LeadTarget{CampaignID: f.campaign.ID}, switchboard.LeadFilter{}, switchboard.ListOptions{Limit: 10})
		if err != nil || len(page.Items) != 4 {
			t.Fatalf("leads = %v, %v", page.Items, err)
		}
		leads := page.Items
		at := time.Now().UTC()
		set := []struct {
			status  switchboard.LeadStatus
			outcome switchboard.DialOutcome
		}{{switchboard.LeadDoNotCall, switchboard.DialBlocked}, {switchboard.LeadAbandoned, switchboard.DialAbandoned}, {switchboard.LeadNotPickedUp, switchboard.DialBusy}}
		var attempts []switchboard.DialAttempt
		for i, s := range set {
			leads[i].Status, leads[i].LastOutcome, leads[i].Attempts = s.status, s.outcome, 1
			attempts = append(attempts, switchboard.DialAttempt{CampaignID: f.campaign.ID, LeadID: leads[i].ID, Number: leads[i].PhoneNumber, At: at, Outcome: s.outcome})
		}
		// The fourth reached an agent, who transferred the call; the call
		// it goes on as is up.
		parent, err := f.db.SaveCall(ctx, switchboard.Call{TenantID: f.tenant.ID, Direction: switchboard.Outbound, Status: switchboard.CallFinished,
			From: "+18885658889", To: leads[3].PhoneNumber, CreatedAt: at, EndedAt: &at, HangupCause: "transferred", CampaignID: &f.campaign.ID}, "ended")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.SaveCall(ctx, switchboard.Call{TenantID: f.tenant.ID, Direction: switchboard.Outbound, Status: switchboard.CallQueued,
			From: "+18885658889", To: leads[3].PhoneNumber, CreatedAt: at, ParentID: &parent.ID}, "created"); err != nil {
			t.Fatal(err)
		}
		leads[3].Status, leads[3].LastOutcome, leads[3].Attempts, leads[3].LastCallID = switchboard.LeadFinished, switchboard.DialConnected, 1, &parent.ID
		attempts = append(attempts, switchboard.DialAttempt{CampaignID: f.campaign.ID, LeadID: leads[3].ID, Number: leads[3].PhoneNumber, At: at,
			Outcome: switchboard.DialConnected, CallID: &parent.ID})
		if _, err := f.db.SaveDialProgress(ctx, f.tenant.ID, leads, attempts); err != nil {
			t.Fatal(err)
		}
		var list []map[string]any
		f.json("GET", base+"/contacts", nil, 200, &list)
		var labels []string
		for _, c := range list {
			labels = append(labels, c["status"].(string))
		}
		if fmt.Sprint(labels) != "[Do Not Call Abandoned by Dialer Not Reached to Contact Transferred]" {
			t.Errorf("labels = %q", labels)
		}
		var cp map[string]any
		f.json("GET", base, nil, 200, &cp)
		stats := cp["contact_stats"].(map[string]any)
		if stats["Do Not Call"] != 1.0 || stats["Abandoned by Dialer"] != 1.0 || stats["Not Reached to Contact"] != 1.0 || stats["Transferred"] != 1.0 ||
			stats["Upcoming"] != 0.0 {
			t.Errorf("contact_stats = %v", stats)
		}
	})
}

// TestUJETCampaignContactStatuses checks that every lead status with every
// outcome shows as one of the seed's 21 labels, and which labels the core
// can reach.
func TestUJETCampaignContactStatuses(t *testing.T) {
	if len(campaignContactStatuses) != 21 {
		t.Fatalf("%d labels, the seed lists 21", len(campaignContactStatuses))
	}
	outcomes := []switchboard.DialOutcome{"", switchboard.DialConnected, switchboard.DialAbandoned, switchboard.DialMachine,
		switchboard.DialNoAnswer, switchboard.DialBusy, switchboard.DialInvalid, switchboard.DialFailed, switchboard.DialHungUp,
		switchboard.DialBlocked, switchboard.DialSkipped, switchboard.DialInterrupt}
	reached := map[string]bool{}
	for _, s := range switchboard.LeadStatuses {
		for _, o := range outcomes {
			for _, tr := range []string{"", switchboard.TransferOpen, switchboard.TransferEnded} {
				label := campaignContactStatus(s, o, tr)
				if !slices.Contains(campaignContactStatuses, label) {
					t.Errorf("%s/%s/%s shows as %q, not a seed label", s, o, tr, label)
				}
				reached[label] = true
			}
		}
	}
	var unreached []string
	for _, l := range campaignContactStatuses {
		if !reached[l] {
			unreached = append(unreached, l)
		}
	}
	if want := "[Skipped Invalid Outbound Number]"; fmt.Sprint(unreached) != want {
		t.Errorf("labels the core cannot reach = %v, want %s (the package doc says so)", unreached, want)
	}
	if got := campaignContactStatus(switchboard.LeadFinished, switchboard.DialConnected, switchboard.TransferOpen); got != "Transferred" {
		t.Errorf("a finished lead whose call was transferred, the transfer going on = %q", got)
	}
	if got := campaignContactStatus(switchboard.LeadFinished, switchboard.DialConnected, switchboard.TransferEnded); got != "Transferred and Finished" {
		t.Errorf("a finished lead whose call was transferred, the transfer ended = %q", got)
	}
	for _, c := range []struct {
		s    switchboard.LeadStatus
		o    switchboard.DialOutcome
		want string
	}{
		{switchboard.LeadDoNotCall, switchboard.DialBlocked, "Do Not Call"},
		{switchboard.LeadNotPickedUp, switchboard.DialHungUp, "Abandoned by Contact"},
		{switchboard.LeadInvalidNumber, switchboard.DialBlocked, "Blocked Phone Number"},
		{switchboard.LeadInvalidNumber, switchboard.DialInvalid, "Invalid Number"},
		{switchboard.LeadFailed, switchboard.DialFailed, "Carrier Error"},
		{switchboard.LeadFailed, switchboard.DialInterrupt, "Dialer General Error"},
		{switchboard.LeadSkipped, switchboard.DialSkipped, "Skipped & Closed"},
		{switchboard.LeadPreviewing, "", "Upcoming"},
	} {
		if got := campaignContactStatus(c.s, c.o, ""); got != c.want {
			t.Errorf("%s/%s = %q, want %q", c.s, c.o, got, c.want)
		}
	}
}

// p5WaitJob polls an import job until it is no longer processing.
func p5WaitJob(t *testing.T, f *p5Fixture, base string, id int64) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var job map[string]any
		f.json("GET", fmt.Sprintf("%s/contacts/jobs/%d", base, id), nil, 200, &job)
		if job["status"] != "processing" {
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still processing: %v", job)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUJETCampaignDNCOpenAPI checks that the dialect's document lists every
// DNC and campaign operation with its method.
func TestUJETCampaignDNCOpenAPI(t *testing.T) {
	f := newP5Fixture(t, sqlstoretest.SQLiteURL(t))
	status, _, raw := f.do("GET", "/openapi.json", "acme", f.key, nil)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if status != 200 || p5Unmarshal(raw, &doc) != nil {
		t.Fatalf("openapi.json: %d %.200s", status, raw)
	}
	for path, methods := range map[string][]string{
		"/outbound_dialer/dnc":                                            {"post", "delete"},
		"/outbound_dialer/dnc/remove":                                     {"post", "delete"},
		"/outbound_dialer/dnc/check":                                      {"get"},
		"/outbound_dialer/campaigns":                                      {"get"},
		"/outbound_dialer/campaigns/{id}":                                 {"get"},
		"/outbound_dialer/campaigns/{campaign_id}/contacts":               {"get", "post"},
		"/outbound_dialer/campaigns/{campaign_id}/contact":                {"patch", "delete"},
		"/outbound_dialer/campaigns/{campaign_id}/contacts/import":        {"post"},
		"/outbound_dialer/campaigns/{campaign_id}/contacts/jobs/{job_id}": {"get"},
	} {
		for _, m := range methods {
			if _, ok := doc.Paths["/apps/api/v1"+path][m]; !ok {
				t.Errorf("the document has no %s %s", m, path)
			}
		}
	}
}

// BenchmarkUJETContactImport imports 10,000 CSV contacts into a new
// campaign through POST …/contacts/import and waits for the job (numbers
// unique by phone, UJET's rule, checked in the insert's transaction).
func BenchmarkUJETContactImport(b *testing.B) {
	var csv strings.Builder
	csv.WriteString("name,phone_number,external_unique_id\n")
	for i := range 10000 {
		fmt.Fprintf(&csv, "Contact %d,+1212%07d,U%d\n", i, 5000000+i, i)
	}
	for name, mk := range sqlstoretest.Engines(b) {
		b.Run(name, func(b *testing.B) {
			f := newP5Fixture(b, mk(b))
			for b.Loop() {
				cp, err := f.db.CreateCampaign(context.Background(), f.tenant.ID, switchboard.Campaign{Name: "Bench", QueueID: f.queue.ID})
				if err != nil {
					b.Fatal(err)
				}
				base := fmt.Sprintf("/outbound_dialer/campaigns/%d", cp.ID)
				status, raw := f.upload(base+"/contacts/import", "contacts.csv", "text/csv", []byte(csv.String()))
				var started map[string]any
				if status != 200 || p5Unmarshal(raw, &started) != nil {
					b.Fatalf("import: %d %s", status, raw)
				}
				for {
					var job map[string]any
					f.json("GET", fmt.Sprintf("%s/contacts/jobs/%v", base, started["job_id"]), nil, 200, &job)
					if job["status"] != "processing" {
						if job["success_count"] != 10000.0 {
							b.Fatalf("job = %v", job)
						}
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
}

// BenchmarkUJETCampaignGet reads a campaign of 100,000 contacts, 20,000 of
// them finished with a call, through GET /outbound_dialer/campaigns/{id}:
// its contact_stats count every contact by label, transfers included.
func BenchmarkUJETCampaignGet(b *testing.B) {
	for name, mk := range sqlstoretest.Engines(b) {
		b.Run(name, func(b *testing.B) {
			f := newP5Fixture(b, mk(b))
			ctx := context.Background()
			to := switchboard.LeadTarget{CampaignID: f.campaign.ID}
			for batch := range 10 {
				leads := make([]switchboard.Lead, 10000)
				for i := range leads {
					leads[i] = switchboard.Lead{Name: "Contact", PhoneNumber: fmt.Sprintf("+1212%07d", batch*10000+i), TimeZone: "America/New_York"}
				}
				if _, err := f.db.InsertLeads(ctx, f.tenant.ID, to, leads); err != nil {
					b.Fatal(err)
				}
			}
			page, err := f.db.Leads(ctx, f.tenant.ID, to, switchboard.LeadFilter{}, switchboard.ListOptions{Limit: 1000, SkipTotal: true})
			if err != nil {
				b.Fatal(err)
			}
			at := time.Now().UTC()
			for round := range 20 {
				var leads []switchboard.Lead
				if round > 0 {
					if page, err = f.db.Leads(ctx, f.tenant.ID, to, switchboard.LeadFilter{}, switchboard.ListOptions{Limit: 1000, Offset: round * 1000, SkipTotal: true}); err != nil {
						b.Fatal(err)
					}
				}
				var attempts []switchboard.DialAttempt
				for _, l := range page.Items {
					c, err := f.db.SaveCall(ctx, switchboard.Call{TenantID: f.tenant.ID, Direction: switchboard.Outbound, Status: switchboard.CallFinished,
						From: "+18885658889", To: l.PhoneNumber, CreatedAt: at, EndedAt: &at}, "ended")
					if err != nil {
						b.Fatal(err)
					}
					l.Status, l.LastOutcome, l.Attempts, l.LastCallID = switchboard.LeadFinished, switchboard.DialConnected, 1, &c.ID
					leads = append(leads, l)
					attempts = append(attempts, switchboard.DialAttempt{CampaignID: f.campaign.ID, LeadID: l.ID, Number: l.PhoneNumber, At: at,
						Outcome: switchboard.DialConnected, CallID: &c.ID})
				}
				if _, err := f.db.SaveDialProgress(ctx, f.tenant.ID, leads, attempts); err != nil {
					b.Fatal(err)
				}
			}
			path := fmt.Sprintf("/outbound_dialer/campaigns/%d", f.campaign.ID)
			for b.Loop() {
				var cp map[string]any
				f.json("GET", path, nil, 200, &cp)
				if st := cp["contact_stats"].(map[string]any); st["Finished"] != 20000.0 || st["Upcoming"] != 80000.0 {
					b.Fatalf("contact_stats = %v", st)
				}
			}
		})
	}
}
