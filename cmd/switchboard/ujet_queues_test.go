package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// queuesUJETGet sends GET path under /apps/api/v1 with UJET's credential (HTTP
// Basic: the tenant's slug and a company key) and decodes the answer into
// out; it returns the status and the body.
func queuesUJETGet(t *testing.T, base, slug, key, path string, out any) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/apps/api/v1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(slug, key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode == 200 {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return res.StatusCode, body
}

// TestUJETQueuesEndToEnd runs the server on simulated telephony with two
// agents signed in to a queue and callers arriving, and reads UJET's wait
// times, operation statuses, queue status and menus with the key the CLI
// printed: the agent counts and estimated wait follow the calls, a closed
// queue is after hours, and a full callback period refuses the next
// callback and shows as taken.
func TestUJETQueuesEndToEnd(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db)
	c := client{t: t, base: base, key: key}
	get := func(path string, out any) {
		t.Helper()
		if status, body := queuesUJETGet(t, base, "acme", key, path, out); status != 200 {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
	}

	allWeek := []any{}
	for d := range 7 {
		allWeek = append(allWeek, map[string]any{"day": d, "open": "00:00", "close": "24:00"})
	}
	status, sup := c.do("POST", "/v1/queues", map[string]any{"name": "Support", "extension": "8001", "join_empty": true,
		"language": "en", "callback_slot_minutes": 15, "callback_slot_capacity": 1,
		"hours": map[string]any{"time_zone": "UTC", "weekly": allWeek}})
	if status != 201 {
		t.Fatalf("queue: %d %v", status, sup)
	}
	status, closed := c.do("POST", "/v1/queues", map[string]any{"name": "Night", "extension": "8002", "language": "en",
		"hours": map[string]any{"time_zone": "UTC", "weekly": []any{}}})
	if status != 201 {
		t.Fatalf("closed queue: %d %v", status, closed)
	}
	supID, closedID := int64(sup["id"].(float64)), int64(closed["id"].(float64))
	supMenu, closedMenu := 2*supID, 2*closedID
	if status, n := c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+390112121212", "label": "Main", "queue_id": supID}); status != 201 {
		t.Fatalf("number: %d %v", status, n)
	}
	for i, name := range []string{"Ann", "Bob"} {
		status, u := c.do("POST", "/v1/users", map[string]any{"email": strings.ToLower(name) + "@acme.test", "first_name": name,
			"extension": fmt.Sprint(1001 + i)})
		if status != 201 {
			t.Fatalf("user: %d %v", status, u)
		}
		uid := int64(u["id"].(float64))
		c.do("POST", fmt.Sprintf("/v1/queues/%d/members", supID), map[string]any{"user_id": uid})
		if status, p := c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": "Available"}); status != 200 {
			t.Fatalf("sign in: %d %v", status, p)
		}
	}

	type waitTime struct {
		MenuID             int64  `json:"menu_id"`
		MenuType           string `json:"menu_type"`
		VoiceCall          *int   `json:"voice_call"`
		Chat               *int   `json:"chat"`
		MaterializedPath   string `json:"materialized_path"`
		LoggedInAgents     int    `json:"logged_in_agents"`
		AvailableAgents    int    `json:"available_agents"`
		BreakthroughAgents int    `json:"breakthrough_agents"`
	}
	support := func() waitTime {
		t.Helper()
		var got []waitTime
		get(fmt.Sprintf("/wait_times?lang=en&menu_id=%d", supMenu), &got)
		if len(got) != 1 {
			t.Fatalf("wait times of Support: %+v", got)
		}
		return got[0]
	}
	if w := support(); w.MenuID != supMenu || w.MenuType != "ivr_menu" || w.MaterializedPath != "Support" || w.VoiceCall == nil ||
		*w.VoiceCall != 0 || w.Chat != nil || w.LoggedInAgents != 2 || w.AvailableAgents != 2 {
		t.Fatalf("Support with both agents free: %+v", w)
	}

	// Three callers for two agents: both agents talk, one caller waits.
	for i := range 3 {
		if status, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": fmt.Sprintf("+1555000100%d", i), "to": "8001",
			"talk_seconds": 120}); status != 201 {
			t.Fatalf("caller %d: %d %v", i, status, call)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	w := support()
	for w.AvailableAgents != 0 || w.VoiceCall == nil || *w.VoiceCall == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Support never showed both agents busy and a wait: %+v", w)
		}
		time.Sleep(50 * time.Millisecond)
		w = support()
	}
	// One caller waits for two agents with the default three-minute handle
	// time: a position-2 wait over 2 agents, under the ceiling.
	if w.LoggedInAgents != 2 || *w.VoiceCall <= 0 || *w.VoiceCall >= 18000 || w.BreakthroughAgents != 0 {
		t.Fatalf("Support busy: %+v", w)
	}

	type opStatus struct {
		MenuID       int64  `json:"menu_id"`
		ChannelType  string `json:"channel_type"`
		AfterHour    bool   `json:"after_hour"`
		Overcapacity bool   `json:"overcapacity"`
	}
	var op opStatus
	get(fmt.Sprintf("/queue_operation_statuses?menu_id=%d&lang=en&channel_type=call", supMenu), &op)
	if op.MenuID != supMenu || op.ChannelType != "call" || op.AfterHour || op.Overcapacity {
		t.Fatalf("Support: %+v", op)
	}
	get(fmt.Sprintf("/queue_operation_statuses?menu_id=%d&lang=en&channel_type=call", closedMenu), &op)
	if !op.AfterHour || !op.Overcapacity {
		t.Fatalf("Night (closed, nobody signed in, no joining empty): %+v", op)
	}

	// A callback in an hour takes the period's one slot; the next is
	// refused, and the queue status shows the period taken.
	at := time.Now().UTC().Add(time.Hour).Truncate(15 * time.Minute).Add(5 * time.Minute)
	if status, call := c.do("POST", "/v1/scheduled_calls", map[string]any{"queue_id": supID, "phone_number": "+15550003000",
		"scheduled_at": at}); status != 201 {
		t.Fatalf("callback: %d %v", status, call)
	}
	status, refused := c.do("POST", "/v1/scheduled_calls", map[string]any{"queue_id": supID, "phone_number": "+15550003001",
		"scheduled_at": at.Add(time.Minute)})
	if fields, _ := refused["error"].(map[string]any)["fields"].(map[string]any); status != 422 ||
		!strings.Contains(fmt.Sprint(fields["scheduled_at"]), "is full (1 of 1 slots taken)") {
		t.Fatalf("second callback in the period: %d %v", status, refused)
	}
	var qs struct {
		Queues []struct {
			MenuID          int64 `json:"menu_id"`
			CurrentQueueEWT int   `json:"current_queue_ewt"`
			LoggedInAgents  int   `json:"logged_in_agents"`
			AfterHour       bool  `json:"after_hour"`
			CallbackPeriods []struct {
				Date           string `json:"date"`
				StartTime      string `json:"start_time"`
				EndTime        string `json:"end_time"`
				ScheduledCalls int    `json:"scheduled_calls"`
				MaxSlots       int    `json:"max_slots"`
			} `json:"callback_periods"`
		} `json:"queues"`
	}
	get(fmt.Sprintf("/queues/status?lang=en&menu_id[]=%d&menu_id[]=%d&callback_period_hours=2", supMenu, closedMenu), &qs)
	if len(qs.Queues) != 2 {
		t.Fatalf("queue status: %+v", qs)
	}
	for _, q := range qs.Queues {
		switch q.MenuID {
		case closedMenu:
			if !q.AfterHour || len(q.CallbackPeriods) != 0 || q.CurrentQueueEWT != 18000 {
				t.Fatalf("Night: %+v", q)
			}
		case supMenu:
			taken := 0
			for _, p := range q.CallbackPeriods {
				if p.MaxSlots != 1 {
					t.Fatalf("period %+v", p)
				}
				if p.ScheduledCalls > 0 {
					taken++
					if p.Date != at.Format("20060102") || p.StartTime != at.Add(-5*time.Minute).Format("15:04") || p.ScheduledCalls != 1 {
						t.Fatalf("the taken period %+v, callback at %s", p, at)
					}
				}
			}
			if taken != 1 || len(q.CallbackPeriods) < 8 || q.AfterHour || q.LoggedInAgents != 2 || q.CurrentQueueEWT <= 0 {
				t.Fatalf("Support: %+v", q)
			}
		default:
			t.Fatalf("unexpected queue %+v", q)
		}
	}

	var menus []map[string]any
	get("/menus", &menus)
	if len(menus) != 2 || menus[0]["id"] != float64(supMenu) || menus[0]["name"] != "Support" || menus[0]["parent_id"] != nil {
		t.Fatalf("menus: %v", menus)
	}
	if status, body := queuesUJETGet(t, base, "other", key, "/menus", nil); status != 401 {
		t.Fatalf("another slug with acme's key: %d %s", status, body)
	}
}
