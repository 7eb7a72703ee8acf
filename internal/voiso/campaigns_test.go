package voiso

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"switchboard"
)

// TestCampaignWrites drives a campaign through its users, leads and
// lifecycle over HTTP, each answer against its shape.
func TestCampaignWrites(t *testing.T) {
	eachEngine(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		shapes := loadShapes(t)
		manage := f.keyFor(switchboard.ScopeCampaignsManage)
		base := fmt.Sprintf("/api/v4/campaigns/%d", f.campaign.ID)
		extra, err := f.db.CreateUser(ctx, f.tenant.ID, switchboard.User{Email: "eve@example.com", FirstName: "Eve", Extension: "104"})
		if err != nil {
			t.Fatal(err)
		}

		// Users: add (one already a member is listed, not refused), remove.
		out := f.expect("POST", base+"/users", manage, map[string]any{"user_ids": []int64{extra.ID, f.agent.ID}}, 200, "")
		checkShape(t, shapes, "added campaign users", out)
		if !strings.Contains(string(out), `"eve@example.com"`) || !strings.Contains(string(out), `"ann@example.com"`) {
			t.Errorf("added %s", out)
		}
		var members usersList
		json.Unmarshal(f.expect("GET", base+"/users", f.keyFor(switchboard.ScopeCampaignsRead), nil, 200, ""), &members)
		if members.Metadata.Total != 3 {
			t.Errorf("campaign users after the add: %+v", members.Metadata)
		}
		f.expect("POST", base+"/users", manage, `{}`, 422, `{"errors":{"user_ids":["is missing"]}}`)
		f.expect("POST", base+"/users", manage, `{"user_ids": "1"}`, 422, `{"errors":{"user_ids":["must be an array"]}}`)
		f.expect("POST", base+"/users", manage, map[string]any{"user_ids": []int64{f.otherUser.ID}}, 422,
			`{"errors":{"user_ids":["must all be active users"]}}`)
		many := make([]int64, 101)
		for i := range many {
			many[i] = int64(i + 1)
		}
		f.expect("POST", base+"/users", manage, map[string]any{"user_ids": many}, 422, `{"errors":{"user_ids":["must have at most 100 items"]}}`)
		out = f.expect("DELETE", fmt.Sprintf("%s/users/%d", base, extra.ID), manage, nil, 200, "")
		checkShape(t, shapes, "removed campaign user", out)
		f.expect("DELETE", fmt.Sprintf("%s/users/%d", base, extra.ID), manage, nil, 404, `{"error":"Not found"}`)
		f.expect("DELETE", fmt.Sprintf("%s/users/%d", base, f.otherUser.ID), manage, nil, 404, `{"error":"Not found"}`)
		f.expect("POST", "/api/v4/campaigns/999999/users", manage, map[string]any{"user_ids": []int64{extra.ID}}, 404, `{"error":"Not found"}`)

		// Leads: created, duplicates (already in, or twice in the request),
		// rejected.
		out = f.expect("POST", base+"/leads", manage, `[{"phone_number": "15551234567", "name": "John Smith",
			"source": {"system": "zoho", "url": "https://crm.example.com/leads/1"}, "priority": 10, "active": true,
			"context_headers": {"X-Call-Context": "promo"}}, {"phone_number": "not a number"}, {"phone_number": "+15551234567"}]`, 200, "")
		checkShape(t, shapes, "leads import", out)
		if !sameJSON(`{"leads_import":{"created":["15551234567"],"rejected":["not a number"],"duplicates":["+15551234567"]}}`, out) {
			t.Errorf("leads import %s", out)
		}
		f.skew.Add(int64(switchboard.LeadImportCooldown)) // past the first import's cooldown
		out = f.expect("POST", base+"/leads", manage, `[{"phone_number": "15551234567"}, {"phone_number": "15557654321"}]`, 200,
			`{"leads_import":{"created":["15557654321"],"rejected":[],"duplicates":["15551234567"]}}`)
		leads, err := f.db.Leads(ctx, f.tenant.ID, switchboard.LeadTarget{CampaignID: f.campaign.ID}, switchboard.LeadFilter{}, switchboard.ListOptions{Limit: 10})
		if err != nil || leads.Total != 2 {
			t.Fatalf("leads %+v %v", leads, err)
		}
		for _, l := range leads.Items {
			if l.PhoneNumber == "+15551234567" && (l.Name != "John Smith" || l.Priority != 991 || l.Fields["source_system"] != "zoho" ||
				l.Fields["X-Call-Context"] != "promo") {
				t.Errorf("lead kept as %+v", l)
			}
		}
		f.expect("POST", base+"/leads", manage, `[{"name": "x"}, {"phone_number": 5, "priority": 0}]`, 422,
			`{"errors":{"[0].phone_number":["is missing"],"[1].phone_number":["must be a string"],"[1].priority":["must be between 1 and 1000"]}}`)
		f.expect("POST", base+"/leads", manage, `{"phone_number": "1555"}`, 400, `{"error":"Bad Request"}`)

		// Lifecycle: start, pause (unwrapped), pause again (409), start
		// resumes, stop.
		out = f.expect("POST", base+"/start", manage, nil, 200, "")
		checkShape(t, shapes, "paused campaign", out)
		if !strings.Contains(string(out), `"status":"active"`) {
			t.Errorf("started: %s", out)
		}
		f.expect("POST", base+"/start", manage, nil, 409, `{"errors":{"status":["cannot be started while active"]}}`)
		f.expect("POST", base+"/pause", manage, nil, 200,
			fmt.Sprintf(`{"id":%d,"name":"Summer Outreach","status":"paused","strategy":"predictive_ai","dial_level":1}`, f.campaign.ID))
		f.expect("POST", base+"/pause", manage, nil, 409, `{"errors":{"status":["cannot be paused while paused"]}}`)
		f.expect("POST", base+"/start", manage, nil, 200, "")
		f.expect("POST", base+"/stop", manage, nil, 200, "")
		f.expect("POST", base+"/pause", manage, nil, 409, `{"errors":{"status":["cannot be paused while stopped"]}}`)
		f.expect("POST", base+"/stop", f.keyFor(switchboard.ScopeCampaignsRead), nil, 403, `{"error":"Forbidden"}`)
		f.expect("POST", "/api/v4/campaigns/999999/pause", manage, nil, 404, `{"error":"Not found"}`)
	})
}

// TestCampaignLeadUpdates adds leads, some inactive, updates them by
// number, and checks that a second import while one is fresh is 409.
func TestCampaignLeadUpdates(t *testing.T) {
	eachEngine(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		shapes := loadShapes(t)
		manage := f.keyFor(switchboard.ScopeCampaignsManage)
		base := fmt.Sprintf("/api/v4/campaigns/%d", f.campaign.ID)
		f.expect("POST", base+"/leads", manage, `[{"phone_number": "15551230001", "active": false}, {"phone_number": "15551230002", "name": "Bo"}]`,
			200, `{"leads_import":{"created":["15551230001","15551230002"],"rejected":[],"duplicates":[]}}`)
		// The campaign's import is fresh: another within 2 s is refused.
		f.expect("POST", base+"/leads", manage, `[{"phone_number": "15551230003"}]`, 409,
			`{"errors":{"campaign_id":["is importing leads: try again in a few seconds"]}}`)
		f.skew.Add(int64(switchboard.LeadImportCooldown))
		f.expect("POST", base+"/leads", manage, `[{"phone_number": "15551230003"}]`, 200, "")
		lead := func(number string) switchboard.Lead {
			t.Helper()
			p, err := f.db.Leads(ctx, f.tenant.ID, switchboard.LeadTarget{CampaignID: f.campaign.ID}, switchboard.LeadFilter{Number: number},
				switchboard.ListOptions{Limit: 10})
			if err != nil || len(p.Items) != 1 {
				t.Fatalf("lead %s: %+v %v", number, p, err)
			}
			return p.Items[0]
		}
		if l := lead("+15551230001"); l.Status != switchboard.LeadSkipped {
			t.Errorf("inactive lead added as %s", l.Status)
		}
		out := f.expect("PATCH", base+"/leads", manage, `[{"phone_number": "15551230001", "active": true, "name": "Al", "priority": 1},
			{"phone_number": "+15551230002", "active": false, "source": {"system": "zoho", "url": "https://crm.example.com/2"}},
			{"phone_number": "15559999999", "name": "Nobody"}, {"phone_number": "nope"}]`, 200,
			`{"leads_update":{"updated":["15551230001","+15551230002"],"not_found":["15559999999"],"rejected":["nope"]}}`)
		checkShape(t, shapes, "leads update", out)
		if l := lead("+15551230001"); l.Status != switchboard.LeadUpcoming || l.Name != "Al" || l.Priority != 1000 {
			t.Errorf("lead 1 after the update: %+v", l)
		}
		if l := lead("+15551230002"); l.Status != switchboard.LeadSkipped || l.Name != "Bo" || l.Fields["source_system"] != "zoho" ||
			l.Fields["source_url"] != "https://crm.example.com/2" {
			t.Errorf("lead 2 after the update: %+v", l)
		}
		f.expect("PATCH", base+"/leads", manage, `[{"name": "x"}]`, 422, `{"errors":{"[0].phone_number":["is missing"]}}`)
		f.expect("PATCH", base+"/leads", f.keyFor(switchboard.ScopeCampaignsRead), `[]`, 403, `{"error":"Forbidden"}`)
		f.expect("PATCH", "/api/v4/campaigns/999999/leads", manage, `[]`, 404, `{"error":"Not found"}`)
	})
}
