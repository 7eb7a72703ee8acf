package native

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestIVRMenusOverHTTP covers /v1/ivr_menus on every engine: create with
// defaults, read, patch, list, numbers routed to a menu, validation naming
// the field, and the 409 for a menu something still leads to.
func TestIVRMenusOverHTTP(t *testing.T) {
	forEachEngineAPI(t, func(t *testing.T, ta *testAPI) {
		f := newFixture(t, ta.store, "acme")
		other := newFixture(t, ta.store, "beta")
		res := ta.do(t, "POST", "/v1/ivr_menus", f.key, map[string]any{"name": "Support"})
		if res.status != http.StatusCreated {
			t.Fatalf("POST /v1/ivr_menus: %d %s", res.status, res.body)
		}
		var sub map[string]any
		res.decode(t, &sub)
		subID := int64(sub["id"].(float64))
		if sub["prompt"] != "default" || sub["timeout_seconds"] != float64(10) || sub["max_repeats"] != float64(0) ||
			sub["timeout_action"].(map[string]any)["action"] != "repeat" || sub["final_action"].(map[string]any)["action"] != "hangup" {
			t.Errorf("defaults: %s", res.body)
		}

		body := map[string]any{"name": "Main", "prompt": "welcome", "timeout_seconds": 5, "max_repeats": 1,
			"options": []any{
				map[string]any{"digit": "1", "action": "queue", "queue_id": f.queue},
				map[string]any{"digit": "2", "action": "menu", "menu_id": subID},
				map[string]any{"digit": "0", "action": "user", "user_id": f.user},
			},
			"invalid_action": map[string]any{"action": "repeat"},
			"final_action":   map[string]any{"action": "queue", "queue_id": f.queue}}
		res = ta.do(t, "POST", "/v1/ivr_menus", f.key, body)
		if res.status != http.StatusCreated {
			t.Fatalf("POST /v1/ivr_menus: %d %s", res.status, res.body)
		}
		var main map[string]any
		res.decode(t, &main)
		mainID := int64(main["id"].(float64))
		opts := main["options"].([]any)
		if len(opts) != 3 || opts[1].(map[string]any)["menu_id"] != float64(subID) || opts[0].(map[string]any)["user_id"] != nil {
			t.Errorf("options: %s", res.body)
		}

		path := fmt.Sprintf("/v1/ivr_menus/%d", mainID)
		res = ta.do(t, "PATCH", path, f.key, map[string]any{"name": "Main line", "timeout_seconds": 8})
		if res.status != http.StatusOK || !strings.Contains(string(res.body), `"Main line"`) || !strings.Contains(string(res.body), `"timeout_seconds":8`) {
			t.Fatalf("PATCH: %d %s", res.status, res.body)
		}
		if res = ta.do(t, "GET", path, f.key, nil); res.status != http.StatusOK || !strings.Contains(string(res.body), `"welcome"`) {
			t.Errorf("GET after PATCH: %d %s", res.status, res.body)
		}
		var list struct{ Items []map[string]any }
		ta.do(t, "GET", "/v1/ivr_menus", f.key, nil).decode(t, &list)
		if len(list.Items) != 3 { // the fixture's menu, Support, Main
			t.Errorf("list has %d menus, want 3", len(list.Items))
		}

		for name, c := range map[string]struct {
			body  map[string]any
			field string
		}{
			"bad digit":     {map[string]any{"name": "x", "options": []any{map[string]any{"digit": "x", "action": "hangup"}}}, "options"},
			"no target":     {map[string]any{"name": "x", "timeout_action": map[string]any{"action": "queue"}}, "timeout_action"},
			"foreign queue": {map[string]any{"name": "x", "final_action": map[string]any{"action": "queue", "queue_id": other.queue}}, "queue_id"},
			"bad prompt":    {map[string]any{"name": "x", "prompt": "a/b"}, "prompt"},
			"long timeout":  {map[string]any{"name": "x", "timeout_seconds": 61}, "timeout_seconds"},
		} {
			res := ta.do(t, "POST", "/v1/ivr_menus", f.key, c.body)
			if res.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d %s, want 422", name, res.status, res.body)
				continue
			}
			if e := res.errorBody(t); e.Fields[c.field] == "" {
				t.Errorf("%s: error %+v does not name %s", name, e, c.field)
			}
		}

		// A number routes to the menu, to one target only.
		res = ta.do(t, "POST", "/v1/phone_numbers", f.key, map[string]any{"number": "+15557770100", "ivr_menu_id": mainID})
		if res.status != http.StatusCreated || !strings.Contains(string(res.body), fmt.Sprintf(`"ivr_menu_id":%d`, mainID)) {
			t.Fatalf("POST /v1/phone_numbers to a menu: %d %s", res.status, res.body)
		}
		res = ta.do(t, "POST", "/v1/phone_numbers", f.key, map[string]any{"number": "+15557770101", "ivr_menu_id": mainID, "queue_id": f.queue})
		if res.status != http.StatusUnprocessableEntity || res.errorBody(t).Fields["ivr_menu_id"] == "" {
			t.Errorf("a number to a menu and a queue: %d %s", res.status, res.body)
		}

		// What a number or a menu leads to cannot be deleted.
		for _, p := range []string{path, fmt.Sprintf("/v1/ivr_menus/%d", subID), fmt.Sprintf("/v1/queues/%d", f.queue)} {
			res = ta.do(t, "DELETE", p, f.key, nil)
			if res.status != http.StatusConflict || !strings.Contains(res.errorBody(t).Message, "in use") {
				t.Errorf("DELETE %s: %d %s, want 409 in use", p, res.status, res.body)
			}
		}
		if res = ta.do(t, "GET", path, other.key, nil); res.status != http.StatusNotFound {
			t.Errorf("another tenant's GET: %d", res.status)
		}
	})
}
