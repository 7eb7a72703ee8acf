package voiso

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"switchboard"
)

// TestReadRoutesMatchTheirShapes reads every list and object of users,
// routing and campaigns over HTTP and compares each with its shape in
// shapes.json, then checks the scope, another tenant's id and bad paging.
func TestReadRoutesMatchTheirShapes(t *testing.T) {
	eachEngine(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		if _, err := f.db.SetPresence(ctx, f.tenant.ID, f.agent.ID, switchboard.StatusAvailable, false); err != nil {
			t.Fatal(err)
		}
		shapes := loadShapes(t)
		for _, tc := range []struct {
			path, scope, shape string
			// other is the path with another tenant's id, answered 404.
			other string
		}{
			{"/api/v4/users?limit=1&offset=0", switchboard.ScopeUsersRead, "users list", ""},
			{fmt.Sprintf("/api/v4/users/%d", f.agent.ID), switchboard.ScopeUsersRead, "user get", fmt.Sprintf("/api/v4/users/%d", f.otherUser.ID)},
			{"/api/v4/teams", switchboard.ScopeUsersTeamsRead, "teams list", ""},
			{fmt.Sprintf("/api/v4/teams/%d/assignments", f.team.ID), switchboard.ScopeUsersTeamsRead, "team assignments", "/api/v4/teams/999999/assignments"},
			{"/api/v4/routing/queues", switchboard.ScopeRoutingQueuesRead, "queues list", ""},
			{fmt.Sprintf("/api/v4/routing/queues/%d", f.queue.ID), switchboard.ScopeRoutingQueuesRead, "queue", fmt.Sprintf("/api/v4/routing/queues/%d", f.otherQueue.ID)},
			{fmt.Sprintf("/api/v4/routing/queues/%d/users", f.queue.ID), switchboard.ScopeRoutingQueuesRead, "queue users", fmt.Sprintf("/api/v4/routing/queues/%d/users", f.otherQueue.ID)},
			{fmt.Sprintf("/api/v4/routing/queues/%d/supervisors", f.queue.ID), switchboard.ScopeRoutingQueuesRead, "queue users", fmt.Sprintf("/api/v4/routing/queues/%d/supervisors", f.otherQueue.ID)},
			{"/api/v4/routing/skills", switchboard.ScopeRoutingSkillsRead, "skills list", ""},
			{"/api/v4/campaigns", switchboard.ScopeCampaignsRead, "campaigns list", ""},
			{fmt.Sprintf("/api/v4/campaigns/%d", f.campaign.ID), switchboard.ScopeCampaignsRead, "campaign get", "/api/v4/campaigns/999999"},
			{fmt.Sprintf("/api/v4/campaigns/%d/users", f.campaign.ID), switchboard.ScopeCampaignsRead, "campaign users", "/api/v4/campaigns/999999/users"},
		} {
			t.Run(tc.path, func(t *testing.T) {
				f.t = t
				out := f.expect("GET", tc.path, f.keyFor(tc.scope), nil, 200, "")
				checkShape(t, shapes, tc.shape, out)
				f.expect("GET", tc.path, f.keyFor(otherScope(tc.scope)), nil, 403, `{"error":"Forbidden"}`)
				f.expect("GET", tc.path, "", nil, 401, `{"error":"Unauthorized"}`)
				if cover := switchboard.ScopeCovers[tc.scope]; cover != "" {
					f.expect("GET", tc.path, f.keyFor(cover), nil, 200, "")
				}
				if tc.other != "" {
					f.expect("GET", tc.other, f.keyFor(tc.scope), nil, 404, `{"error":"Not found"}`)
				}
				u, _ := url.Parse(tc.path)
				var probe map[string]json.RawMessage
				json.Unmarshal(out, &probe)
				if _, isList := probe["metadata"]; isList && u.RawQuery == "" {
					for _, q := range []string{"limit=0", "limit=101", "limit=x", "offset=-1"} {
						f.expect("GET", tc.path+"?"+q, f.keyFor(tc.scope), nil, 400, `{"error":"Bad Request"}`)
					}
				}
			})
		}
	})
}

// TestUserObject checks what the user object says of the fixture's users.
func TestUserObject(t *testing.T) {
	eachEngine(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		if _, err := f.db.SetPresence(ctx, f.tenant.ID, f.agent.ID, switchboard.StatusAvailable, false); err != nil {
			t.Fatal(err)
		}
		key := f.keyFor(switchboard.ScopeUsersRead)
		var got userGet
		if err := json.Unmarshal(f.expect("GET", fmt.Sprintf("/api/v4/users/%d", f.agent.ID), key, nil, 200, ""), &got); err != nil {
			t.Fatal(err)
		}
		u := got.User
		if u.ID != f.agent.ID || u.Name != "Ann Agent" || *u.SIPAccount != "101@switchboard" || *u.CallerID != "18885658889" ||
			u.Timezone != "Europe/Berlin" || u.Status != "available" || u.SecurityAccessGroup.ID != 1 ||
			len(u.Teams) != 1 || u.Teams[0].Name != "Sales" || len(u.Queues) != 1 || u.Queues[0].ID != f.queue.ID ||
			len(u.SupervisedTeams) != 0 || len(u.Skills) != 1 || u.Skills[0].Skill.Name != "Spanish" || u.Skills[0].Value != 4 {
			t.Errorf("agent rendered as %+v", u)
		}
		if err := json.Unmarshal(f.expect("GET", fmt.Sprintf("/api/v4/users/%d", f.supervisor.ID), key, nil, 200, ""), &got); err != nil {
			t.Fatal(err)
		}
		if s := got.User; s.SecurityAccessGroup.ID != 2 || len(s.SupervisedTeams) != 1 || len(s.SupervisedQueues) != 1 || s.Status != "offline" {
			t.Errorf("supervisor rendered as %+v", s)
		}

		// Filters: each narrows the list to the users it names.
		for q, want := range map[string][]int64{
			"":                            {f.agent.ID, f.supervisor.ID},
			"name=ANN":                    {f.agent.ID},
			"email=sam@example.com":       {f.supervisor.ID},
			"extension=102":               {f.supervisor.ID},
			"sip_account=101@switchboard": {f.agent.ID},
			"sip_account=101@elsewhere":   {},
			"caller_id=18885658889":       {f.agent.ID},
			"timezone=Europe/Berlin":      {f.agent.ID},
			"security_access_group_id=2":  {f.supervisor.ID},
			"security_access_group_id=9":  {},
			"limit=1&offset=1":            {f.supervisor.ID},
			"name=nobody&extension=101":   {},
			"unknown_filter=1":            {f.agent.ID, f.supervisor.ID},
		} {
			var list usersList
			if err := json.Unmarshal(f.expect("GET", "/api/v4/users?"+q, key, nil, 200, ""), &list); err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, u := range list.Users {
				ids = append(ids, u.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(want) && !(len(ids) == 0 && len(want) == 0) {
				t.Errorf("users?%s = %v, want %v", q, ids, want)
			}
		}
		f.expect("GET", "/api/v4/users?security_access_group_id=x", key, nil, 400, `{"error":"Bad Request"}`)

		// Supervisors of the queue: members holding the role.
		var sup usersList
		if err := json.Unmarshal(f.expect("GET", fmt.Sprintf("/api/v4/routing/queues/%d/supervisors", f.queue.ID),
			f.keyFor(switchboard.ScopeRoutingQueuesRead), nil, 200, ""), &sup); err != nil {
			t.Fatal(err)
		}
		if len(sup.Users) != 1 || sup.Users[0].ID != f.supervisor.ID || sup.Metadata.Total != 1 {
			t.Errorf("supervisors %+v", sup)
		}
		var as assignmentsList
		if err := json.Unmarshal(f.expect("GET", fmt.Sprintf("/api/v4/teams/%d/assignments", f.team.ID),
			f.keyFor(switchboard.ScopeUsersTeamsRead), nil, 200, ""), &as); err != nil {
			t.Fatal(err)
		}
		if len(as.Assignments) != 2 || as.Assignments[0].Role != "member" || as.Assignments[1].Role != "supervisor" {
			t.Errorf("assignments %+v", as)
		}
	})
}
