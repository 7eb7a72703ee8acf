package main

import (
	"fmt"
	"testing"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestIVRMenuThroughTheSimulator walks a menu end to end on every engine,
// through the public API only: a DID routed to a menu, a simulated caller
// keying 2 (the submenu) and then 1 (the queue) through /v1/sim/calls, the
// agent answering; and a second caller hanging up in the menu. The call's
// record and its events show the way it went.
func TestIVRMenuThroughTheSimulator(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			_, c := newCallServer(t, mk(t))
			uid, qid := agentInQueue(c)
			if status, p := c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": "Available"}); status != 200 {
				t.Fatalf("sign in: %d %v", status, p)
			}
			status, sub := c.do("POST", "/v1/ivr_menus", map[string]any{"name": "Support", "prompt": "support", "timeout_seconds": 3,
				"options": []any{map[string]any{"digit": "1", "action": "queue", "queue_id": qid}}})
			if status != 201 {
				t.Fatalf("POST submenu: %d %v", status, sub)
			}
			status, main := c.do("POST", "/v1/ivr_menus", map[string]any{"name": "Main", "prompt": "welcome", "timeout_seconds": 3,
				"max_repeats": 1, "options": []any{map[string]any{"digit": "2", "action": "menu", "menu_id": sub["id"]}}})
			if status != 201 {
				t.Fatalf("POST main menu: %d %v", status, main)
			}
			if status, n := c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+390112121299", "ivr_menu_id": main["id"]}); status != 201 {
				t.Fatalf("POST number: %d %v", status, n)
			}

			status, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "+390112121299",
				"talk_seconds": 0.5, "dtmf": "2,1", "dtmf_after_seconds": 0.3})
			if status != 201 {
				t.Fatalf("POST /v1/sim/calls: %d %v", status, call)
			}
			id := int64(call["id"].(float64))
			ended := waitCall(t, c, id, func(v map[string]any) bool { return v["ended_at"] != nil })
			if ended["disposition"] != "answered" || ended["dtmf"] != "21" || ended["queue_id"] != float64(qid) || ended["agent_id"] != float64(uid) {
				t.Errorf("the call through the menus ended %v", ended)
			}
			_, evs := c.do("GET", fmt.Sprintf("/v1/cdrs/%d/events", id), nil)
			var menus []any
			var types []string
			for _, e := range evs["items"].([]any) {
				ev := e.(map[string]any)
				types = append(types, ev["type"].(string))
				if ev["type"] == "call.menu" {
					menus = append(menus, ev["payload"].(map[string]any)["ivr_menu_id"])
				}
			}
			if len(menus) != 2 || menus[0] != main["id"] || menus[1] != sub["id"] {
				t.Errorf("call.menu events name menus %v, want main then support; events %v", menus, types)
			}

			// A caller who hangs up in the menu leaves an abandoned record.
			_, call = c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "+390112121299", "patience_seconds": 0.5})
			gone := waitCall(t, c, int64(call["id"].(float64)), func(v map[string]any) bool { return v["ended_at"] != nil })
			if gone["disposition"] != "abandoned" || gone["hangup_by"] != "caller" || gone["hangup_cause"] != "caller gave up" || gone["queue_id"] != nil {
				t.Errorf("the call hung up in the menu ended %v", gone)
			}
		})
	}
}
