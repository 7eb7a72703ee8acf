package voiso

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"switchboard"
)

// TestStartCall replays seed 001: both examples answer {"call":{"id"}} with
// the call's UUID and the call keeps its source; every prerequisite answers
// the status doc.go names.
func TestStartCall(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	key := f.keyFor(switchboard.ScopeVoiceCallManage)
	// Not signed in / not Available: 422 naming user_id.
	f.expect("POST", "/api/v4/voice/calls", key, map[string]any{"user_id": fmt.Sprint(f.agent.ID), "phone_number": "15550002000"},
		422, "")
	if _, err := f.db.SetPresence(ctx, f.tenant.ID, f.agent.ID, switchboard.StatusAvailable, false); err != nil {
		t.Fatal(err)
	}
	out := f.expect("POST", "/api/v4/voice/calls", key, fmt.Sprintf(`{"user_id": "%d", "phone_number": "15550002000",
		"caller_id": "18885658889", "source": {"account_id": "123321", "system": "zoho"}, "unknown": 1}`, f.agent.ID), 200, "")
	var got startCallOut
	if err := json.Unmarshal(out, &got); err != nil || got.Call.ID == "" {
		t.Fatalf("answer %s", out)
	}
	c, err := f.db.CallByUUID(ctx, f.tenant.ID, got.Call.ID)
	if err != nil {
		t.Fatalf("the answered id is not the call's UUID: %v", err)
	}
	if c.Source.System != "zoho" || c.Source.AccountID != "123321" || c.To != "+15550002000" || c.From != f.number {
		t.Errorf("call %+v: source, number or caller id not kept", c)
	}
	shapes := loadShapes(t)
	checkShape(t, shapes, "start call", out)

	for _, tc := range []struct {
		name   string
		key    string
		body   string
		status int
		want   string
	}{
		{"the seed's validation", key, `{"phone_number": 18885658889}`, 422,
			`{"errors":{"user_id":["is missing"],"phone_number":["must be a string"]}}`},
		{"user_id not a number", key, `{"user_id": "12a", "phone_number": "15550002000"}`, 422,
			`{"errors":{"user_id":["must be an integer"]}}`},
		{"unknown user", key, `{"user_id": 999999, "phone_number": "15550002000"}`, 422,
			`{"errors":{"user_id":["does not match an existing agent"]}}`},
		{"another tenant's user", key, fmt.Sprintf(`{"user_id": %d, "phone_number": "15550002000"}`, f.otherUser.ID), 422,
			`{"errors":{"user_id":["does not match an existing agent"]}}`},
		{"deactivated user", key, fmt.Sprintf(`{"user_id": %d, "phone_number": "15550002000"}`, f.deactivated.ID), 422,
			`{"errors":{"user_id":["the user is deactivated"]}}`},
		{"source not an object", key, fmt.Sprintf(`{"user_id": %d, "phone_number": "1555", "source": "zoho"}`, f.agent.ID), 422,
			`{"errors":{"source":["must be an object"]}}`},
		{"source field not a string", key, fmt.Sprintf(`{"user_id": %d, "phone_number": "1555", "source": {"account_id": 5}}`, f.agent.ID), 422,
			`{"errors":{"source.account_id":["must be a string"]}}`},
		{"caller id not the tenant's", key, fmt.Sprintf(`{"user_id": %d, "phone_number": "15550002000", "caller_id": "15559999999"}`, f.agent.ID), 422,
			`{"errors":{"caller_id":["is not one of this tenant's numbers"]}}`},
		{"malformed JSON", key, `{"user_id": `, 400, `{"error":"Bad Request"}`},
		{"not an object", key, `[1]`, 400, `{"error":"Bad Request"}`},
		{"no key", "", `{"user_id": 1, "phone_number": "1555"}`, 401, `{"error":"Unauthorized"}`},
		{"unknown key", "sk_nope", `{"user_id": 1, "phone_number": "1555"}`, 401, `{"error":"Unauthorized"}`},
		{"wrong scope", f.keyFor(switchboard.ScopeUsersRead), `{"user_id": 1, "phone_number": "1555"}`, 403, `{"error":"Forbidden"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.t = t
			f.expect("POST", "/api/v4/voice/calls", tc.key, tc.body, tc.status, tc.want)
		})
	}
	f.t = t
	// The covering native scope admits the route.
	if _, err := f.db.SetPresence(ctx, f.tenant.ID, f.supervisor.ID, switchboard.StatusAvailable, false); err != nil {
		t.Fatal(err)
	}
	f.expect("POST", "/api/v4/voice/calls", f.keyFor(switchboard.ScopeCallsManage),
		map[string]any{"user_id": f.supervisor.ID, "phone_number": "+15550003000"}, 200, "")
	// Click-to-call withheld: 403.
	if _, err := f.db.UpdateUserFunc(ctx, f.tenant.ID, f.agent.ID, func(u *switchboard.User) error {
		u.ClickToCallDisabled = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.expect("POST", "/api/v4/voice/calls", key, map[string]any{"user_id": f.agent.ID, "phone_number": "15550002000"},
		403, `{"error":"Forbidden"}`)
}

// TestErrorsOutsideRoutes checks the 404 of unknown paths and of a known
// path's other methods, and that no Allow header leaks a 405.
func TestErrorsOutsideRoutes(t *testing.T) {
	f := newFixture(t)
	key := f.keyFor(switchboard.ScopeAll)
	for _, tc := range [][2]string{{"GET", "/api/v4/nothing"}, {"GET", "/api/v4/voice/calls"}, {"DELETE", "/api/v4/voice/calls"},
		{"GET", "/api/v4/"}} {
		f.expect(tc[0], tc[1], key, nil, 404, `{"error":"Not found"}`)
	}
	f.expect("GET", "/api/v4/openapi.json", "", nil, 200, "")
}
