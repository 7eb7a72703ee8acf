package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// campaignScene is a tenant with agents signed in to a queue, on the
// simulated telephony, and a client of the native API.
type campaignScene struct {
	c      client
	queue  int64
	agents []int64
}

func newCampaignScene(t *testing.T, c client, agents int) campaignScene {
	t.Helper()
	s := campaignScene{c: c}
	_, q := c.do("POST", "/v1/queues", map[string]any{"name": "Outbound", "extension": "8100", "wrap_up_seconds": 0})
	s.queue = int64(q["id"].(float64))
	for i := range agents {
		status, u := c.do("POST", "/v1/users", map[string]any{"email": fmt.Sprintf("agent%d@acme.test", i), "first_name": "Agent",
			"extension": fmt.Sprint(1001 + i)})
		if status != 201 {
			t.Fatalf("create agent: %d %v", status, u)
		}
		uid := int64(u["id"].(float64))
		c.do("POST", fmt.Sprintf("/v1/queues/%d/members", s.queue), map[string]any{"user_id": uid})
		// Agents of a campaign answer at once: the 2 s to connect a person
		// include their phone's ringing.
		c.do("PUT", fmt.Sprintf("/v1/sim/devices/%d", uid), map[string]any{"registered": true, "behavior": "answer", "answer_after_seconds": 0})
		if status, p := c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": "Available"}); status != 200 {
			t.Fatalf("sign in: %d %v", status, p)
		}
		s.agents = append(s.agents, uid)
	}
	return s
}

// script makes number answer as behavior says, for this tenant's calls.
func (s campaignScene) script(t *testing.T, number, behavior string, answerAfter, talk float64) {
	t.Helper()
	status, p := s.c.do("PUT", "/v1/sim/numbers/"+url.PathEscape(number), map[string]any{"behavior": behavior,
		"answer_after_seconds": answerAfter, "talk_seconds": talk})
	if status != 200 {
		t.Fatalf("script %s: %d %v", number, status, p)
	}
}

// importLeads posts leads and waits for the import job to complete.
func (s campaignScene) importLeads(t *testing.T, campaign int64, leads any) map[string]any {
	t.Helper()
	status, job := s.c.do("POST", fmt.Sprintf("/v1/campaigns/%d/leads", campaign), leads)
	if status != 202 {
		t.Fatalf("import: %d %v", status, job)
	}
	return s.waitJob(t, int64(job["id"].(float64)))
}

func (s campaignScene) waitJob(t *testing.T, id int64) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, job := s.c.do("GET", fmt.Sprintf("/v1/lead_imports/%d", id), nil)
		if job["status"] != "running" {
			if job["status"] != "completed" {
				t.Fatalf("import job %v", job)
			}
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("import job still running: %v", job)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitCampaign polls the campaign until done says so.
func (s campaignScene) waitCampaign(t *testing.T, id int64, within time.Duration, done func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, c := s.c.do("GET", fmt.Sprintf("/v1/campaigns/%d", id), nil)
		if done(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign never got there: %v", c)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s campaignScene) ledger(t *testing.T, id int64) []map[string]any {
	t.Helper()
	status, page := s.c.do("GET", fmt.Sprintf("/v1/campaigns/%d/ledger?limit=1000", id), nil)
	if status != 200 {
		t.Fatalf("ledger: %d %v", status, page)
	}
	var rows []map[string]any
	for _, r := range page["items"].([]any) {
		rows = append(rows, r.(map[string]any))
	}
	return rows
}

// TestCampaignEndToEnd runs a progressive campaign on the simulator through
// the native API: import (JSON, then CSV with duplicates and a bad row),
// start, pause, resume, finish, stats, the ledger as JSON and CSV, events.
func TestCampaignEndToEnd(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			m, c := newCallServer(t, db)
			s := newCampaignScene(t, c, 2)
			for i := 1; i <= 4; i++ {
				s.script(t, fmt.Sprintf("+1212555010%d", i), "answer", 0.2, 1)
			}
			s.script(t, "+12125550105", "reject", 0.1, 0)
			s.script(t, "+12125550107", "invalid", 0.1, 0)
			if status, p := c.do("POST", "/v1/dnc", map[string]any{"number": "+12125550106", "reason": "asked not to be called"}); status != 201 {
				t.Fatalf("dnc: %d %v", status, p)
			}

			status, camp := c.do("POST", "/v1/campaigns", map[string]any{"name": "Spring renewals", "mode": "progressive", "queue_id": s.queue,
				"max_redials": 0, "schedule": map[string]any{"from": "00:00", "to": "24:00"}})
			if status != 201 || camp["status"] != "created" {
				t.Fatalf("create campaign: %d %v", status, camp)
			}
			id := int64(camp["id"].(float64))
			if status, p := c.do("POST", "/v1/campaigns", map[string]any{"name": "", "mode": "sideways", "queue_id": s.queue}); status != 422 ||
				!strings.Contains(fmt.Sprint(p), "mode") || !strings.Contains(fmt.Sprint(p), "name") {
				t.Errorf("a bad campaign: %d %v", status, p)
			}

			var leads []map[string]any
			for i := 1; i <= 7; i++ {
				leads = append(leads, map[string]any{"name": fmt.Sprintf("Lead %d", i), "phone_number": fmt.Sprintf("+1212555010%d", i)})
			}
			if job := s.importLeads(t, id, leads); job["imported"] != float64(7) || job["duplicates"] != float64(0) {
				t.Fatalf("import: %v", job)
			}
			// The same leads again as CSV, with a bad number: all duplicates.
			csv := "name,phone_number\nLead 1,+12125550101\nLead 2,+12125550102\nBroken,not-a-number\n"
			req, _ := http.NewRequest("POST", s.c.base+fmt.Sprintf("/v1/campaigns/%d/leads", id), strings.NewReader(csv))
			req.Header.Set("Authorization", "Bearer "+c.key)
			req.Header.Set("Content-Type", "text/csv")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 202 || res.Header.Get("Location") == "" {
				t.Fatalf("CSV import: %d %s", res.StatusCode, body)
			}
			var jobID int64
			fmt.Sscanf(res.Header.Get("Location"), "/v1/lead_imports/%d", &jobID)
			if job := s.waitJob(t, jobID); job["imported"] != float64(0) || job["duplicates"] != float64(2) || job["rejected"] != float64(1) {
				t.Fatalf("CSV import of duplicates: %v", job)
			}

			if status, p := c.do("POST", fmt.Sprintf("/v1/campaigns/%d/pause", id), nil); status != 409 {
				t.Errorf("pausing a campaign never started: %d %v", status, p)
			}
			if status, p := c.do("POST", fmt.Sprintf("/v1/campaigns/%d/start", id), nil); status != 200 || p["status"] != "started" {
				t.Fatalf("start: %d %v", status, p)
			}
			if status, p := c.do("POST", fmt.Sprintf("/v1/campaigns/%d/pause", id), nil); status != 200 || p["status"] != "paused" {
				t.Fatalf("pause: %d %v", status, p)
			}
			// Paused: the dials in flight end, and no new one starts.
			time.Sleep(2 * time.Second)
			before := len(s.ledger(t, id))
			time.Sleep(1500 * time.Millisecond)
			if after := len(s.ledger(t, id)); after != before || before >= 7 {
				t.Fatalf("while paused the ledger went from %d to %d rows", before, after)
			}
			if status, p := c.do("POST", fmt.Sprintf("/v1/campaigns/%d/resume", id), nil); status != 200 || p["status"] != "started" {
				t.Fatalf("resume: %d %v", status, p)
			}
			done := s.waitCampaign(t, id, 60*time.Second, func(c map[string]any) bool { return c["status"] == "finished" })

			stats := done["stats"].(map[string]any)
			byStatus := stats["leads"].(map[string]any)
			for st, n := range map[string]float64{"finished": 4, "not_picked_up": 1, "do_not_call": 1, "invalid_number": 1, "upcoming": 0} {
				if byStatus[st] != n {
					t.Errorf("leads %s = %v, want %v (%v)", st, byStatus[st], n, byStatus)
				}
			}
			for k, n := range map[string]float64{"dials": 6, "connects": 4, "busy": 1, "blocked": 1, "abandons": 0, "leads_total": 7} {
				if stats[k] != n {
					t.Errorf("stats %s = %v, want %v (%v)", k, stats[k], n, stats)
				}
			}

			rows := s.ledger(t, id)
			if len(rows) != 7 {
				t.Fatalf("ledger has %d rows, want 7", len(rows))
			}
			dials := map[string]int{}
			for _, r := range rows {
				checks := r["checks"].(map[string]any)
				if r["number"] == "+12125550106" {
					if r["outcome"] != "blocked" || checks["dnc"] != "blocked" {
						t.Errorf("the DNC lead's row: %v", r)
					}
					continue
				}
				dials[r["number"].(string)]++
				if checks["dnc"] != "pass" || checks["calling_hours"] != "pass" || r["time_zone"] != "America/New_York" || r["local_time"] == "" || r["call_id"] == nil {
					t.Errorf("a dial's row: %v", r)
					continue
				}
				// The call knows the campaign that placed it.
				if status, call := c.do("GET", fmt.Sprintf("/v1/calls/%d", int64(r["call_id"].(float64))), nil); status != 200 ||
					call["campaign_id"] != float64(id) {
					t.Errorf("the call of %s: %d %v", r["number"], status, call)
				}
			}
			for n, k := range dials {
				if k != 1 {
					t.Errorf("%s dialled %d times", n, k)
				}
			}

			req, _ = http.NewRequest("GET", s.c.base+fmt.Sprintf("/v1/campaigns/%d/ledger", id), nil)
			req.Header.Set("Authorization", "Bearer "+c.key)
			req.Header.Set("Accept", "text/csv")
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			lines := strings.Split(strings.TrimSpace(string(body)), "\n")
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || len(lines) != 8 ||
				!strings.Contains(lines[0], "calling_hours") {
				t.Errorf("ledger CSV: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
			}

			if status, text := scrape(t, m.MetricsAddr(), ""); status != 200 {
				t.Errorf("scrape: %d", status)
			} else {
				for series, want := range map[string]float64{`switchboard_dialer_dials_total`: 6, `switchboard_dialer_blocked_total`: 1,
					`switchboard_dialer_outcomes_total{outcome="connected"}`: 4, `switchboard_dialer_outcomes_total{outcome="busy"}`: 1} {
					if v, ok := metricValue(text, series); !ok || v != want {
						t.Errorf("metric %s = %v (present %v), want %v", series, v, ok, want)
					}
				}
			}

			_, evs := c.do("GET", "/v1/events?limit=1000", nil)
			seen := map[string]int{}
			for _, e := range evs["items"].([]any) {
				e := e.(map[string]any)
				typ := e["type"].(string)
				seen[typ]++
				// Every call event names the campaign as it was then.
				if strings.HasPrefix(typ, "call.") {
					if camp, _ := e["payload"].(map[string]any)["campaign"].(map[string]any); camp == nil ||
						camp["id"] != float64(id) || camp["name"] != "Spring renewals" {
						t.Errorf("%s names campaign %v", typ, camp)
					}
				}
			}
			for _, typ := range []string{"campaign.created", "campaign.started", "campaign.paused", "campaign.resumed", "campaign.finished", "leads.imported"} {
				if seen[typ] == 0 {
					t.Errorf("no %s event (%v)", typ, seen)
				}
			}
			if seen["campaign.attempt"] < 7 {
				t.Errorf("%d campaign.attempt events, want one per ledger row", seen["campaign.attempt"])
			}
		})
	}
}

// TestCampaignResumesAfterRestart stops the server in the middle of a
// campaign and starts another on the same database: the campaign goes on
// by itself, and no lead is dialled twice.
func TestCampaignResumesAfterRestart(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	m, base, _ := startServer(t, "--db", db)
	c := client{t: t, base: base, key: key}
	s := newCampaignScene(t, c, 1)
	var leads []map[string]any
	for i := range 10 {
		n := fmt.Sprintf("+4420790%05d", i)
		s.script(t, n, "answer", 0.1, 1)
		leads = append(leads, map[string]any{"name": n, "phone_number": n})
	}
	_, camp := c.do("POST", "/v1/campaigns", map[string]any{"name": "Restart", "mode": "progressive", "queue_id": s.queue,
		"schedule": map[string]any{"from": "00:00", "to": "24:00"}})
	id := int64(camp["id"].(float64))
	s.importLeads(t, id, leads)
	c.do("POST", fmt.Sprintf("/v1/campaigns/%d/start", id), nil)
	// Stop the server while a lead talks to the agent (connected, not
	// ended), a few leads into the campaign: that lead is done, not
	// dialled again, and nothing stays open.
	deadline := time.Now().Add(30 * time.Second)
	var talking float64
	for talking == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no lead was connected")
		}
		rows := s.ledger(t, id)
		for _, r := range rows {
			if len(rows) >= 3 && r["outcome"] == "connected" && r["ended_at"] == nil {
				talking = r["lead_id"].(float64)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m2, base2, _ := startServer(t, "--db", db)
	defer m2.Close()
	c2 := client{t: t, base: base2, key: key}
	s2 := campaignScene{c: c2, queue: s.queue, agents: s.agents}
	// The simulator's scripts and the agent's status are the new server's
	// to set again (the scripts live in the simulator's memory).
	for i := range 10 {
		s2.script(t, fmt.Sprintf("+4420790%05d", i), "answer", 0.1, 1)
	}
	c2.do("PUT", fmt.Sprintf("/v1/sim/devices/%d", s.agents[0]), map[string]any{"registered": true, "behavior": "answer", "answer_after_seconds": 0})
	c2.do("POST", fmt.Sprintf("/v1/users/%d/status", s.agents[0]), map[string]any{"status": "Available"})
	done := s2.waitCampaign(t, id, 60*time.Second, func(c map[string]any) bool { return c["status"] == "finished" })
	dials := map[float64]int{}
	for _, r := range s2.ledger(t, id) {
		if r["outcome"] != "blocked" {
			dials[r["lead_id"].(float64)]++
		}
	}
	if len(dials) != 10 {
		t.Errorf("%d of 10 leads dialled: %v", len(dials), dials)
	}
	for lead, n := range dials {
		if n != 1 {
			t.Errorf("lead %v dialled %d times", lead, n)
		}
	}
	if st := done["stats"].(map[string]any)["leads"].(map[string]any); st["upcoming"] != float64(0) || st["dialing"] != float64(0) ||
		st["connected"] != float64(0) || st["finished"] != float64(10) {
		t.Errorf("leads after the restart: %v", st)
	}
	if _, l := c2.do("GET", fmt.Sprintf("/v1/leads/%d", int64(talking)), nil); l["status"] != "finished" || l["last_outcome"] != "connected" {
		t.Errorf("the lead talking at the stop: %v", l)
	}
}

// TestPreviewCampaign: in preview the agent is offered a lead with its data,
// skips one (final: skipped, in the ledger) and accepts the next, which rings
// their phone and then the lead.
func TestPreviewCampaign(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	_, c := newCallServer(t, db)
	s := newCampaignScene(t, c, 1)
	agent := s.agents[0]
	s.script(t, "+12125550201", "answer", 0.2, 1)
	s.script(t, "+12125550202", "answer", 0.2, 1)
	_, camp := c.do("POST", "/v1/campaigns", map[string]any{"name": "Preview", "mode": "preview", "queue_id": s.queue,
		"preview_seconds": 60, "schedule": map[string]any{"from": "00:00", "to": "24:00"}})
	id := int64(camp["id"].(float64))
	s.importLeads(t, id, []map[string]any{
		{"name": "First", "phone_number": "+12125550201", "priority": 5, "fields": map[string]any{"plan": "gold"}},
		{"name": "Second", "phone_number": "+12125550202"},
	})
	if status, p := c.do("GET", fmt.Sprintf("/v1/agents/%d/preview", agent), nil); status != 204 {
		t.Fatalf("an offer before the start: %d %v", status, p)
	}
	c.do("POST", fmt.Sprintf("/v1/campaigns/%d/start", id), nil)
	offer := func() map[string]any {
		deadline := time.Now().Add(10 * time.Second)
		for {
			status, o := c.do("GET", fmt.Sprintf("/v1/agents/%d/preview", agent), nil)
			if status == 200 {
				return o
			}
			if time.Now().After(deadline) {
				t.Fatalf("no offer: %d %v", status, o)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	first := offer()
	lead := first["lead"].(map[string]any)
	if lead["name"] != "First" || lead["status"] != "previewing" || lead["fields"].(map[string]any)["plan"] != "gold" || first["timeout_action"] != "dial" {
		t.Fatalf("first offer: %v", first)
	}
	if status, p := c.do("POST", fmt.Sprintf("/v1/agents/%d/preview/skip", agent), map[string]any{"lead_id": lead["id"]}); status != 204 && status != 200 {
		t.Fatalf("skip: %d %v", status, p)
	}
	second := offer()
	lead2 := second["lead"].(map[string]any)
	if lead2["name"] != "Second" {
		t.Fatalf("second offer: %v", second)
	}
	status, accepted := c.do("POST", fmt.Sprintf("/v1/agents/%d/preview/accept", agent), map[string]any{"lead_id": lead2["id"]})
	if status != 200 || accepted["call_id"] == nil {
		t.Fatalf("accept: %d %v", status, accepted)
	}
	call := waitCall(t, c, int64(accepted["call_id"].(float64)), func(v map[string]any) bool { return v["status"] == "finished" })
	if call["agent_id"] != float64(agent) || call["to"] != "+12125550202" || call["disposition"] != "answered" {
		t.Errorf("the preview call: %v", call)
	}
	done := s.waitCampaign(t, id, 30*time.Second, func(c map[string]any) bool { return c["status"] == "finished" })
	leads := done["stats"].(map[string]any)["leads"].(map[string]any)
	if leads["skipped"] != float64(1) || leads["finished"] != float64(1) {
		t.Errorf("leads: %v", leads)
	}
	outcomes := map[string]string{}
	for _, r := range s.ledger(t, id) {
		outcomes[r["number"].(string)] = r["outcome"].(string)
	}
	if outcomes["+12125550201"] != "skipped" || outcomes["+12125550202"] != "connected" {
		t.Errorf("ledger outcomes: %v", outcomes)
	}
	// The agent's desktop hears of each offer and its end on the event log.
	_, evs := c.do("GET", "/v1/events?limit=1000", nil)
	var preview []string
	for _, e := range evs["items"].([]any) {
		ev := e.(map[string]any)
		if typ := ev["type"].(string); strings.HasPrefix(typ, "campaign.preview_") {
			p := ev["payload"].(map[string]any)
			offer := p["offer"].(map[string]any)
			if ev["subject_type"] != "user" || ev["subject_id"] != float64(agent) || offer["agent_id"] != float64(agent) {
				t.Errorf("preview event %v", ev)
			}
			preview = append(preview, typ+":"+fmt.Sprint(p["ending"])+":"+offer["lead"].(map[string]any)["name"].(string))
		}
	}
	if got := strings.Join(preview, ","); got != "campaign.preview_offered:<nil>:First,campaign.preview_ended:skipped:First,"+
		"campaign.preview_offered:<nil>:Second,campaign.preview_ended:accepted:Second" {
		t.Errorf("preview events: %s", got)
	}
}
