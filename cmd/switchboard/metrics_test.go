package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// scrape GETs the metrics listener with the bearer token (none when empty).
func scrape(t *testing.T, addr, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// metricValue finds the sample of series (name and labels as Prometheus
// prints them) in a scrape.
func metricValue(text, series string) (float64, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}

// TestMetricsListener: /metrics is not on the public listener; on its own
// listener it wants --metrics-token when one is set; an empty --metrics-addr
// serves none, and an address the operator chose must be free.
func TestMetricsListener(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	m, base, _ := startServer(t, "--db", db, "--metrics-token", "s3cret")
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("public /metrics: %d, want 404", res.StatusCode)
	}
	for _, token := range []string{"", "wrong", "s3cret2", "S3CRET"} {
		if status, _ := scrape(t, m.MetricsAddr(), token); status != 401 {
			t.Errorf("metrics with token %q: %d, want 401", token, status)
		}
	}
	if status, text := scrape(t, m.MetricsAddr(), "s3cret"); status != 200 || !strings.Contains(text, "switchboard_store_commit_duration_seconds_count") {
		t.Errorf("metrics with the token: %d\n%.500s", status, text)
	}
	res, err = http.Get("http://" + m.MetricsAddr() + "/v1/users")
	if err == nil {
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("the metrics listener serves the API: %d", res.StatusCode)
		}
	}
	m.Close()

	off, _, _ := startServer(t, "--db", db, "--metrics-addr", "")
	if off.MetricsAddr() != "" {
		t.Errorf("--metrics-addr \"\" serves metrics on %s", off.MetricsAddr())
	}
	off.Close()

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken, _, _ := newMain(nil)
	err = taken.Start(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", db, "--metrics-addr", busy.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "metrics") {
		taken.Close()
		t.Errorf("a taken --metrics-addr: %v", err)
	}
}

// TestDomainMetrics scrapes the metrics listener while a call waits behind a
// busy agent, and after it and a text message are done, on every engine.
func TestDomainMetrics(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			key := newTenantKey(t, db)
			failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
			defer failing.Close()
			m, base, _ := startServer(t, "--db", db, "--sms-sim-receipt-delay", "50ms", "--webhook-poll", "50ms",
				"--webhook-allow-cidr", "127.0.0.0/8")
			c := client{t: t, base: base, key: key}
			uid, qid := agentInQueue(c)
			c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": "Available"})
			c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+15559876543", "sms_enabled": true})
			// A webhook whose receiver fails: its attempts count as http_status.
			if status, h := c.do("POST", "/v1/webhooks", map[string]any{"url": failing.URL + "/in", "event_types": []string{"sms.sent"}}); status != 201 {
				t.Fatalf("webhook: %d %v", status, h)
			}
			_, tenant := c.do("GET", "/v1/tenant", nil)
			tid := fmt.Sprint(tenant["id"])

			_, first := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550001111", "to": "8001", "answer_after_seconds": 0, "talk_seconds": 3600})
			firstID := int64(first["id"].(float64))
			waitCall(t, c, firstID, func(v map[string]any) bool { return v["status"] == "connected" })
			_, second := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+15550002222", "to": "8001", "talk_seconds": 1})
			secondID := int64(second["id"].(float64))
			waitCall(t, c, secondID, func(v map[string]any) bool { return v["status"] == "queued" })
			time.Sleep(300 * time.Millisecond)

			status, text := scrape(t, m.MetricsAddr(), "")
			if status != 200 {
				t.Fatalf("scrape: %d", status)
			}
			queue := fmt.Sprintf(`{queue_id="%d",tenant_id="%s"}`, qid, tid)
			for series, want := range map[string]func(float64) bool{
				`switchboard_calls_in_progress{status="connected"}`:        func(v float64) bool { return v == 1 },
				`switchboard_calls_in_progress{status="queued"}`:           func(v float64) bool { return v == 1 },
				`switchboard_queue_calls_waiting` + queue:                  func(v float64) bool { return v == 1 },
				`switchboard_queue_longest_wait_seconds` + queue:           func(v float64) bool { return v >= 0.2 && v < 60 },
				`switchboard_agents{state="in_call"}`:                      func(v float64) bool { return v == 1 },
				`switchboard_chats{state="waiting"}`:                       func(v float64) bool { return v == 0 },
				`switchboard_queue_chats_waiting` + queue:                  func(v float64) bool { return v == 0 },
				`switchboard_agents{state="available"}`:                    func(v float64) bool { return v == 0 },
				`switchboard_event_log_lag_events{consumer="call_engine"}`: func(v float64) bool { return v >= 0 },
				`switchboard_event_log_last_id`:                            func(v float64) bool { return v > 5 },
				`switchboard_store_commit_duration_seconds_count`:          func(v float64) bool { return v > 5 },
				`switchboard_dialer_campaigns_running`:                     func(v float64) bool { return v == 0 },
				`switchboard_dialer_dials_total`:                           func(v float64) bool { return v == 0 },
			} {
				if v, ok := metricValue(text, series); !ok || !want(v) {
					t.Errorf("while a call waits: %s = %v (present %v)", series, v, ok)
				}
			}

			c.do("POST", fmt.Sprintf("/v1/calls/%d/hangup", firstID), nil)
			waitCall(t, c, secondID, func(v map[string]any) bool { return v["status"] == "finished" })
			if status, msg := c.do("POST", "/v1/messages", map[string]any{"from": "+15559876543", "to": "+15551234567", "message": "hello"}); status != 201 && status != 202 {
				t.Fatalf("send SMS: %d %v", status, msg)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				_, text = scrape(t, m.MetricsAddr(), "")
				delivered, _ := metricValue(text, `switchboard_sms_messages{direction="outbound",status="delivered"}`)
				attempts, _ := metricValue(text, `switchboard_webhook_attempts_total{result="http_status"}`)
				if delivered == 1 && attempts >= 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no delivered SMS or failed webhook attempt in the metrics:\n%s", grepLines(text, "switchboard_"))
				}
				time.Sleep(50 * time.Millisecond)
			}
			for series, want := range map[string]float64{
				`switchboard_calls_ended_total{disposition="answered"}`: 2,
				`switchboard_calls_in_progress{status="connected"}`:     -1, // absent: no call in progress
				`switchboard_queue_calls_waiting` + queue:               0,
				`switchboard_agents{state="available"}`:                 1,
			} {
				v, ok := metricValue(text, series)
				if want == -1 {
					if ok && v != 0 {
						t.Errorf("after the calls: %s = %v, want none", series, v)
					}
					continue
				}
				if !ok || v != want {
					t.Errorf("after the calls: %s = %v (present %v), want %v", series, v, ok, want)
				}
			}
			for _, series := range []string{"switchboard_webhook_deliveries{status=", "switchboard_webhook_oldest_due_seconds ", "switchboard_webhook_deliveries_failed_total "} {
				if !strings.Contains(text, series) {
					t.Errorf("metrics lack %s", series)
				}
			}
		})
	}
}

// grepLines keeps the lines of text that start with prefix.
func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
