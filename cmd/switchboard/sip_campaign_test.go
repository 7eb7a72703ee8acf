package main

import (
	"fmt"
	"testing"
	"time"

	"switchboard/internal/siptest"
)

// TestSIPProgressiveCampaign runs a campaign, unchanged, on real telephony:
// the dialer dials two leads through the tenant's outbound trunk (a sipp
// carrier that answers), and each person who answers is put through to the
// agent's baresip phone, which answers at once; the test ends each call
// through the API, and the campaign finishes with both leads connected.
func TestSIPProgressiveCampaign(t *testing.T) {
	siptest.Require(t, siptest.BaresipBinary)
	e := startSIPServer(t, 90*time.Second)
	ann := e.agents(1)[0]
	qid := e.queue("8200", "", "ringall", []sipAgent{ann})
	carrier := siptest.Sipp{Scenario: siptest.ScenarioAgent, Calls: 2, Timeout: 60 * time.Second,
		Vars: map[string]string{"ring_ms": "300"}}.Start(e.ctx, t)
	if status, tr := e.c.do("POST", "/v1/trunks", map[string]any{"name": "out", "outbound_uri": fmt.Sprintf("sip:127.0.0.1:%d", carrier.Port()),
		"default_outbound": true}); status != 201 {
		t.Fatalf("POST /v1/trunks: %d %v", status, tr)
	}
	trunkSettles()
	phone := siptest.StartBaresip(e.ctx, t, siptest.BaresipConfig{User: ann.ext, Password: ann.password, Registrar: e.sip,
		RegisterSeconds: 60, AutoAnswer: true})
	if err := phone.WaitRegistered(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.registered(true, ann)

	s := campaignScene{c: e.c, queue: qid}
	status, camp := e.c.do("POST", "/v1/campaigns", map[string]any{"name": "SIP", "mode": "progressive", "queue_id": qid,
		"caller_id": "+390112121212", "max_redials": 0, "schedule": map[string]any{"from": "00:00", "to": "24:00"}})
	if status != 201 {
		t.Fatalf("POST /v1/campaigns: %d %v", status, camp)
	}
	id := int64(camp["id"].(float64))
	s.importLeads(t, id, []map[string]any{{"name": "One", "phone_number": "+442079460001"}, {"name": "Two", "phone_number": "+442079460002"}})
	e.c.do("POST", fmt.Sprintf("/v1/campaigns/%d/start", id), nil)

	ended := map[float64]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for len(ended) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("calls ended: %v; ledger %v", ended, s.ledger(t, id))
		}
		for _, r := range s.ledger(t, id) {
			callID, ok := r["call_id"].(float64)
			if !ok || ended[callID] {
				continue
			}
			_, call := e.c.do("GET", fmt.Sprintf("/v1/calls/%d", int64(callID)), nil)
			switch {
			case call["status"] == "connected":
				time.Sleep(time.Second) // a second of talk
				if status, p := e.c.do("POST", fmt.Sprintf("/v1/calls/%d/hangup", int64(callID)), nil); status != 200 {
					t.Fatalf("hangup: %d %v", status, p)
				}
				ended[callID] = true
			case call["ended_at"] != nil:
				t.Fatalf("a campaign call ended without being connected: %v (ledger row %v)", call, r)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	done := s.waitCampaign(t, id, 30*time.Second, func(c map[string]any) bool { return c["status"] == "finished" })
	stats := done["stats"].(map[string]any)
	if stats["connects"] != float64(2) || stats["abandons"] != float64(0) {
		t.Errorf("stats %v", stats)
	}
	for _, r := range s.ledger(t, id) {
		if r["outcome"] != "connected" || r["agent_id"] != float64(ann.id) {
			t.Errorf("ledger row %v", r)
		}
	}
	if res := carrier.Wait(); res.ExitCode != 0 || res.Successful != 2 {
		t.Errorf("carrier: %v", res)
	}
}
