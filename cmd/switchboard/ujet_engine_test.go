package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/siptest"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// The engine's part of the UJET dialect end to end, on every store engine
// and the simulated telephony: a caller leaves a voicemail after hours (the
// call walks voicemail → voicemail_received → voicemail_read), a queue
// without voicemail refuses the closed case, and the seed's PDS webhook
// starts and finishes an action-only call of an agent.

// pdsSeedBody is seed 004's PDS webhook body, verbatim.
const pdsSeedBody = `{ "call_id" : "1917", "agent_id" : "1", "lcm_key" : "2922|1|2|39|2|0|1", "dnis" : "8001992999", "org_id" : "tenant1", "contact" : { "first_name" : "Alex", "last_name" : "Phil", "account_no" : "10002-2989", "crm_id" : "220-39307-92", "address" : "", "city" : "", "loan_type" : "", "due_date" : "" }, "pacing_mode" : "Predictive", "call_type" : "OB_Regular" }`

// ujetDo sends a raw body to the UJET dialect with Basic auth slug:key.
func ujetDo(t *testing.T, base, slug, key, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, base+"/apps/api/v1"+path, strings.NewReader(body))
	req.SetBasicAuth(slug, key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var v map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s: %q is not a JSON object", method, path, raw)
		}
	}
	return res.StatusCode, v
}

func TestUJETEngine(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			if _, err := run(t, "", "migrate", "--db", db); err != nil {
				t.Fatal(err)
			}
			// The seed's org_id is tenant1: the company the key belongs to.
			if _, err := run(t, "", "tenant", "create", "--db", db, "--slug", "tenant1", "--name", "Tenant One"); err != nil {
				t.Fatal(err)
			}
			key, err := run(t, "", "key", "create", "--db", db, "--tenant", "tenant1")
			if err != nil {
				t.Fatal(err)
			}
			key = strings.TrimSpace(key)
			_, base, _ := startServer(t, "--db", db)
			c := client{t: t, base: base, key: key}
			// The seed's agent_id is "1": the first user.
			_, ann := c.do("POST", "/v1/users", map[string]any{"email": "ann@t1.test", "first_name": "Ann", "extension": "1001"})
			_, bob := c.do("POST", "/v1/users", map[string]any{"email": "bob@t1.test", "first_name": "Bob", "extension": "1002"})
			if ann["id"] != float64(1) {
				t.Fatalf("the seed's agent must be user 1: %v", ann)
			}
			annID, bobID := int64(1), int64(bob["id"].(float64))
			closed := map[string]any{"time_zone": "UTC", "weekly": []any{}} // never open
			status, q := c.do("POST", "/v1/queues", map[string]any{"name": "After hours", "extension": "8001", "hours": closed, "voicemail_enabled": true})
			if status != 201 || q["voicemail_enabled"] != true {
				t.Fatalf("queue: %d %v", status, q)
			}
			c.do("POST", fmt.Sprintf("/v1/queues/%d/members", int64(q["id"].(float64))), map[string]any{"user_id": annID})
			if status, q := c.do("POST", "/v1/queues", map[string]any{"name": "Closed", "extension": "8002", "hours": closed}); status != 201 {
				t.Fatalf("queue: %d %v", status, q)
			}
			if status, p := c.do("POST", "/v1/users/1/status", map[string]any{"status": "Available"}); status != 200 {
				t.Fatalf("sign in: %d %v", status, p)
			}

			t.Run("voicemail after hours", func(t *testing.T) {
				status, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "8001", "message_seconds": 1})
				if status != 201 {
					t.Fatalf("sim call: %d %v", status, call)
				}
				id := int64(call["id"].(float64))
				leaving := waitCall(t, c, id, func(v map[string]any) bool { return v["status"] != "selecting" })
				if leaving["status"] != "voicemail" && leaving["status"] != "voicemail_received" {
					t.Fatalf("the caller is not leaving a voicemail: %v", leaving)
				}
				got := waitCall(t, c, id, func(v map[string]any) bool { return v["status"] == "voicemail_received" })
				if got["voicemail_reason"] != "after_hours" || got["recorded"] != true || got["disposition"] != "rejected" ||
					got["hangup_by"] != "caller" || got["agent_id"] != nil || got["voicemail_read_at"] != nil {
					t.Fatalf("voicemail %v", got)
				}
				res, err := http.DefaultClient.Do(authed(t, key, "GET", base+fmt.Sprintf("/v1/calls/%d/recording", id)))
				if err != nil {
					t.Fatal(err)
				}
				audio, _ := io.ReadAll(res.Body)
				res.Body.Close()
				// The 1 s message at 8 kHz, 16 bits, after a 44-byte header (the
				// simulator's timers run on the wall clock: allow some slack).
				if secs := float64(len(audio)-44) / 16000; res.StatusCode != 200 || !bytes.HasPrefix(audio, []byte("RIFF")) || secs < 0.9 || secs > 1.5 {
					t.Fatalf("recording: %d, %d bytes (%.2f s)", res.StatusCode, len(audio), secs)
				}
				path := fmt.Sprintf("/v1/calls/%d/voicemail/read", id)
				status, read := c.do("POST", path, map[string]any{"user_id": annID})
				if status != 200 || read["status"] != "voicemail_read" || read["voicemail_read_by"] != float64(annID) || read["voicemail_read_at"] == nil {
					t.Fatalf("read: %d %v", status, read)
				}
				// The first reader stays.
				if status, again := c.do("POST", path, map[string]any{"user_id": bobID}); status != 200 || again["voicemail_read_by"] != float64(annID) ||
					again["voicemail_read_at"] != read["voicemail_read_at"] {
					t.Fatalf("second read: %d %v", status, again)
				}
				if status, v := c.do("POST", path, map[string]any{}); status != 422 {
					t.Errorf("read without a reader: %d %v", status, v)
				}
				if status, v := c.do("GET", fmt.Sprintf("/v1/calls/%d", id), nil); status != 200 || v["status"] != "voicemail_read" {
					t.Errorf("the call after the read: %d %v", status, v)
				}
				var steps struct {
					Items []struct {
						Type string `json:"type"`
					} `json:"items"`
				}
				_, evs := c.do("GET", fmt.Sprintf("/v1/cdrs/%d/events", id), nil)
				b, _ := json.Marshal(evs)
				json.Unmarshal(b, &steps)
				var types []string
				for _, e := range steps.Items {
					types = append(types, e.Type)
				}
				want := []string{switchboard.EventCallCreated, switchboard.EventCallVoicemailStarted, switchboard.EventCallEnded,
					switchboard.EventCallWrappedUp, switchboard.EventCallVoicemailRead}
				if strings.Join(types, ",") != strings.Join(want, ",") {
					t.Errorf("the call's steps %v, want %v", types, want)
				}
			})

			t.Run("closed without voicemail", func(t *testing.T) {
				_, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001112", "to": "8002", "message_seconds": 1})
				id := int64(call["id"].(float64))
				got := waitCall(t, c, id, func(v map[string]any) bool { return v["ended_at"] != nil })
				if got["status"] != "failed" || got["disposition"] != "rejected" || got["hangup_cause"] != switchboard.CauseAfterHours ||
					got["voicemail_reason"] != "" || got["recorded"] != false {
					t.Fatalf("call %v", got)
				}
				if status, v := c.do("POST", fmt.Sprintf("/v1/calls/%d/voicemail/read", id), map[string]any{"user_id": annID}); status != 409 {
					t.Errorf("reading a call without voicemail: %d %v", status, v)
				}
			})

			t.Run("PDS action-only call", func(t *testing.T) {
				status, got := ujetDo(t, base, "tenant1", key, "POST", "/pds/calls", pdsSeedBody)
				if status != 201 {
					t.Fatalf("PDS webhook: %d %v", status, got)
				}
				id, ok := got["id"].(float64)
				created, _ := got["created_at"].(string)
				if _, err := time.Parse("2006-01-02T15:04:05.000Z", created); !ok || id < 1 || got["status"] != "action_only" ||
					got["call_id"] != "1917" || got["agent_id"] != float64(1) || err != nil || got["ended_at"] != nil || len(got) != 6 {
					t.Fatalf("PDS answer %v", got)
				}
				callID := int64(id)
				// The agent is busy with it.
				if _, p := c.do("GET", "/v1/users/1/status", nil); p["live"].(map[string]any)["state"] != "in_call" {
					t.Errorf("agent during the PDS call: %v", p)
				}
				// A retried webhook starts nothing twice.
				if status, again := ujetDo(t, base, "tenant1", key, "POST", "/pds/calls", pdsSeedBody); status != 200 || again["id"] != got["id"] {
					t.Errorf("repeated webhook: %d %v", status, again)
				}
				other := strings.Replace(pdsSeedBody, `"1917"`, `"1918"`, 1)
				if status, v := ujetDo(t, base, "tenant1", key, "POST", "/pds/calls", other); status != 400 || !strings.Contains(v["message"].(string), "already on a call") {
					t.Errorf("a second call for the busy agent: %d %v", status, v)
				}
				for body, want := range map[string]string{
					strings.Replace(pdsSeedBody, `"tenant1"`, `"tenant2"`, 1): "org_id is not this company",
					`{"agent_id": 1}`: "call_id is missing",
					`{"call_id": 77}`: "agent_id is missing",
					strings.Replace(pdsSeedBody, `"agent_id" : "1"`, `"agent_id" : 999`, 1): "agent_id is not an agent of this company",
				} {
					if status, v := ujetDo(t, base, "tenant1", key, "POST", "/pds/calls", body); status != 400 || v["message"] != want {
						t.Errorf("%s: %d %v, want 400 %q", body, status, v, want)
					}
				}
				store, err := sqlstore.Open(context.Background(), db, sqlstore.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer store.Close()
				tenantID := int64(1)
				data, err := store.CallData(context.Background(), tenantID, callID)
				if err != nil {
					t.Fatal(err)
				}
				var contact map[string]string
				json.Unmarshal(data.CustomData["contact"].Value, &contact)
				if data.CallType != "OB_Regular" || string(data.CustomData["lcm_key"].Value) != `"2922|1|2|39|2|0|1"` ||
					string(data.CustomData["pacing_mode"].Value) != `"Predictive"` || contact["crm_id"] != "220-39307-92" {
					t.Errorf("call data %+v", data)
				}
				status, fin := ujetDo(t, base, "tenant1", key, "POST", "/pds/calls/1917/finish", `{"disconnected_by": "end_user"}`)
				if status != 200 || fin["status"] != "action_only_finished" || fin["ended_at"] == nil || fin["id"] != got["id"] {
					t.Fatalf("finish: %d %v", status, fin)
				}
				if status, v := ujetDo(t, base, "tenant1", key, "POST", "/pds/calls/1917/finish", ""); status != 400 || v["message"] != "Call is already ended" {
					t.Errorf("finish again: %d %v", status, v)
				}
				if status, v := ujetDo(t, base, "tenant1", key, "POST", "/pds/calls/nope/finish", ""); status != 404 {
					t.Errorf("finish an unknown call: %d %v", status, v)
				}
				_, call := c.do("GET", fmt.Sprintf("/v1/calls/%d", callID), nil)
				src, _ := call["source"].(map[string]any)
				if call["status"] != "action_only_finished" || call["hangup_by"] != "caller" || call["direction"] != "outbound" ||
					src["system"] != "ujet_pds" || src["account_id"] != "1917" || call["connected_at"] == nil {
					t.Errorf("the call %v", call)
				}
				// Free again (no wrap-up in a call without a queue).
				deadline := time.Now().Add(5 * time.Second)
				for {
					_, p := c.do("GET", "/v1/users/1/status", nil)
					if p["status"] == "Available" && p["live"].(map[string]any)["state"] == "idle" {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("the agent is not free after the PDS call: %v", p)
					}
					time.Sleep(50 * time.Millisecond)
				}
				if status, v := ujetDo(t, base, "tenant1", "wrong", "POST", "/pds/calls", pdsSeedBody); status != 401 {
					t.Errorf("wrong key: %d %v", status, v)
				}
			})
		})
	}
}

// authed is a request with the native API's bearer key.
func authed(t *testing.T, key, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	return req
}

// TestUJETEngineSIPVoicemail has a carrier's caller (sipp, a SIP stack we
// did not write) dial a closed queue that takes voicemail through the SIP
// driver: the driver answers, plays the greeting (the default beep, 1 s),
// then records what the caller says until they hang up. The call ends
// voicemail_received, and its recording is the caller's tone, as long as
// the call lasted after the greeting.
func TestUJETEngineSIPVoicemail(t *testing.T) {
	e := startSIPServer(t, 60*time.Second)
	e.carrierTrunk()
	ann := e.agents(1)[0]
	status, q := e.c.do("POST", "/v1/queues", map[string]any{"name": "Closed", "extension": "8001", "join_empty": true,
		"hours": map[string]any{"time_zone": "UTC", "weekly": []any{}}, "voicemail_enabled": true})
	if status != 201 {
		t.Fatalf("POST /v1/queues: %d %v", status, q)
	}
	qid := int64(q["id"].(float64))
	e.c.do("POST", fmt.Sprintf("/v1/queues/%d/members", qid), map[string]any{"user_id": ann.id})
	if status, n := e.c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+15550001234", "queue_id": qid}); status != 201 {
		t.Fatalf("POST /v1/phone_numbers: %d %v", status, n)
	}
	const talk = 4 * time.Second
	carrier := siptest.Sipp{Scenario: siptest.ScenarioCaller, Remote: e.sip, Service: "+15550001234", Calls: 1,
		Audio: &siptest.Audio{Codec: siptest.PCMU, ToneHz: callerHz, Tone: talk, SSRC: 5},
		Vars:  map[string]string{"talk_ms": fmt.Sprint(talk.Milliseconds()), "pt": "0"}, Timeout: 30 * time.Second}.Start(e.ctx, t)
	if res := carrier.Wait(); res.ExitCode != 0 || res.Successful != 1 {
		t.Fatalf("the caller's call failed: %v", res)
	}
	c := e.cdrs(1, 10*time.Second)
	if len(c) != 1 || c[0]["status"] != "voicemail_received" || c[0]["voicemail_reason"] != "after_hours" || c[0]["hangup_by"] != "caller" ||
		c[0]["recorded"] != true || c[0]["agent_id"] != nil {
		t.Fatalf("CDR %v", c)
	}
	w, err := e.recording(int64(num(c[0]["id"])))
	if err != nil {
		t.Fatal(err)
	}
	// The call lasted the caller's talk time; the greeting took its first
	// second, and the message is the rest.
	total := num(c[0]["total_seconds"])
	t.Logf("call %.2f s, message %.2f s", total, w.Duration().Seconds())
	if d := w.Duration().Seconds(); d < total-1.6 || d > total-0.6 {
		t.Errorf("the message lasts %.2f s of a %.2f s call, want the call less the 1 s greeting", d, total)
	}
	if l := w.ToneLevelWindowed(0, callerHz, siptest.Span{}, 100*time.Millisecond); l < 0.05 {
		t.Errorf("the message lacks the caller's %.0f Hz tone (level %.4f, loudest near %.0f Hz)", callerHz, l,
			w.DominantHz(0, siptest.Span{Length: time.Second}))
	}
	// Nothing but the caller is recorded: no greeting beep (880 Hz) in it.
	if l := w.ToneLevelWindowed(0, 880, siptest.Span{}, 100*time.Millisecond); l > 0.05 {
		t.Errorf("the greeting's beep is in the message (level %.4f)", l)
	}
	if w.Channels == 2 && w.RMS(1, siptest.Span{}) > 0.01 {
		t.Errorf("the right channel holds %.4f RMS: nobody was bridged", w.RMS(1, siptest.Span{}))
	}
}

// carrier503 is a carrier that refuses every INVITE with 503 Service
// Unavailable (a trunk failing while the call connects), as a sipp UAS.
const carrier503 = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="uas_503">
  <recv request="INVITE"/>
  <send><![CDATA[
SIP/2.0 503 Service Unavailable
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag09[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <recv request="ACK"/>
</scenario>
`

// TestUJETEngineSIPSwitching places a click-to-call whose customer leg
// leaves through the tenant's default trunk, a carrier (sipp) that answers
// 503: the call goes switching and is placed again through the tenant's
// other trunk (sipp, with digest), where the customer answers and the call
// connects.
func TestUJETEngineSIPSwitching(t *testing.T) {
	siptest.Require(t, siptest.BaresipBinary)
	e := startSIPServer(t, 90*time.Second)
	ann := e.agents(1)[0]
	if status, n := e.c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+15550001234", "user_id": ann.id}); status != 201 {
		t.Fatalf("POST /v1/phone_numbers: %d %v", status, n)
	}
	dir := t.TempDir()
	scenario := filepath.Join(dir, "uas_503.xml")
	if err := os.WriteFile(scenario, []byte(carrier503), 0o644); err != nil {
		t.Fatal(err)
	}
	failingPort := siptest.FreeUDPPort(t)
	failing := exec.CommandContext(e.ctx, "sipp", "-sf", scenario, "-i", "127.0.0.1", "-p", fmt.Sprint(failingPort),
		"-m", "1", "-nostdin", "-timeout", "60s", "-timeout_error")
	var failingOut bytes.Buffer
	failing.Stdout, failing.Stderr = &failingOut, &failingOut
	if err := failing.Start(); err != nil {
		t.Fatal(err)
	}
	failed := make(chan struct{})
	var failingErr error
	go func() {
		failingErr = failing.Wait()
		close(failed)
	}()
	t.Cleanup(func() {
		failing.Process.Kill()
		<-failed
	})
	backup := siptest.Sipp{Scenario: siptest.ScenarioAuthUAS, Calls: 1, Timeout: 40 * time.Second,
		Audio: &siptest.Audio{Codec: siptest.PCMA, ToneHz: customerHz, Tone: 3 * time.Second, SSRC: 11},
		Vars:  map[string]string{"username": "u", "password": "p", "ring_ms": "300"}}.Start(e.ctx, t)
	for _, tr := range []map[string]any{
		{"name": "primary", "outbound_uri": fmt.Sprintf("sip:127.0.0.1:%d", failingPort), "default_outbound": true},
		{"name": "backup", "outbound_uri": fmt.Sprintf("sip:127.0.0.1:%d", backup.Port()), "username": "u", "password": "p"},
	} {
		if status, got := e.c.do("POST", "/v1/trunks", tr); status != 201 {
			t.Fatalf("POST /v1/trunks: %d %v", status, got)
		}
	}
	trunkSettles()
	phone := siptest.StartBaresip(e.ctx, t, siptest.BaresipConfig{User: ann.ext, Password: ann.password, Registrar: e.sip,
		RegisterSeconds: 60, AutoAnswer: true})
	if err := phone.WaitRegistered(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.registered(true, ann)
	status, call := e.c.do("POST", "/v1/calls", map[string]any{"user_id": ann.id, "phone_number": "+390112121212"})
	if status != 201 {
		t.Fatalf("POST /v1/calls: %d %v", status, call)
	}
	id := int64(num(call["id"]))
	waitCall(t, e.c, id, func(v map[string]any) bool { return v["status"] == "connected" })
	select {
	case <-failed:
		if failingErr != nil {
			t.Errorf("the failing carrier's sipp: %v\n%s", failingErr, tail(failingOut.String(), 2000))
		}
	case <-time.After(5 * time.Second):
		t.Error("the failing carrier never saw the INVITE through")
	}
	time.Sleep(time.Second)
	if status, p := e.c.do("POST", fmt.Sprintf("/v1/calls/%d/hangup", id), nil); status != 200 {
		t.Fatalf("hangup: %d %v", status, p)
	}
	if res := backup.Wait(); res.ExitCode != 0 || res.Successful != 1 {
		t.Errorf("the backup trunk: %v", res)
	}
	var steps struct {
		Items []struct {
			Type    string `json:"type"`
			Payload struct {
				Status string `json:"status"`
			} `json:"payload"`
		} `json:"items"`
	}
	_, evs := e.c.do("GET", fmt.Sprintf("/v1/cdrs/%d/events", id), nil)
	b, _ := json.Marshal(evs)
	json.Unmarshal(b, &steps)
	var types []string
	for _, s := range steps.Items {
		types = append(types, s.Type+"/"+s.Payload.Status)
	}
	sw := slices.Index(types, switchboard.EventCallSwitching+"/switching")
	conn := slices.Index(types, switchboard.EventCallConnected+"/connected")
	if sw < 0 || conn < sw {
		t.Errorf("the call's steps %v: want switching, then connected", types)
	}
}
