package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// idemCase is one dialect's create route, as a client of that dialect calls it.
type idemCase struct {
	name   string
	path   string
	header func(key string) (string, string)
	body   string
	other  string
	// fresh is a body format (%d) for distinct objects.
	fresh string
	// count is the native list that shows the objects the route creates.
	count string
	// envelope reports whether an error answer is in the dialect's envelope.
	envelope func(v map[string]any) bool
}

// TestIdempotencyKey shows, over real HTTP on every dialect, that a create
// sent with an Idempotency-Key is done once: a retry gets the first answer
// byte for byte (also after a restart), the same key with another body 422 in
// the dialect's envelope, a retry while the first still runs 409, and
// without the header every request acts.
func TestIdempotencyKey(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	args := []string{"--db", db, "--webhook-allow-cidr", "127.0.0.0/8", "--rate-limit", "0", "--tenant-write-rate", "0"}
	m, base, _ := startServer(t, args...)
	ctx := context.Background()
	apiKey, err := m.store.AuthenticateKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	c := client{t: t, base: base, key: key}
	cases := []idemCase{
		{name: "native", path: "/v1/contacts", header: func(k string) (string, string) { return "Authorization", "Bearer " + k },
			body: `{"first_name":"Ann","primary_phone":"+390612345678"}`, other: `{"first_name":"Bob","primary_phone":"+390612345679"}`,
			fresh: `{"first_name":"Eve","primary_phone":"+39061234%04d"}`,
			count: "/v1/contacts", envelope: func(v map[string]any) bool {
				e, _ := v["error"].(map[string]any)
				return e["code"] == string(httpapi.CodeIdempotencyReused) && e["request_id"] != ""
			}},
		{name: "voxloud", path: "/api/v1/contacts", header: func(k string) (string, string) { return "Voverc-Auth", k },
			body: `{"first_name":"Cid","primary_phone":"+390612345670"}`, other: `{"first_name":"Dan","primary_phone":"+390612345671"}`,
			fresh: `{"first_name":"Fay","primary_phone":"+39061235%04d"}`,
			count: "/v1/contacts", envelope: func(v map[string]any) bool {
				return v["status"] == float64(422) && v["error"] == "Unprocessable Entity" && v["path"] == "/api/v1/contacts"
			}},
		{name: "voice360", path: fmt.Sprintf("/v3/voice/%d/webhooks", apiKey.TenantID), header: func(k string) (string, string) { return "X-API-Key", k },
			body:  `{"name":"calls","url":"http://127.0.0.1:9/hook","event_type":"CALL_ENDED","http_method":"POST"}`,
			other: `{"name":"texts","url":"http://127.0.0.1:9/hook","event_type":"SMS_SENT","http_method":"POST"}`,
			fresh: `{"name":"n%d","url":"http://127.0.0.1:9/hook","event_type":"SMS_SENT","http_method":"POST"}`,
			count: "/v1/webhooks", envelope: func(v map[string]any) bool {
				return v["error"] == true && v["error_code"] == "BAD_REQUEST" && v["timestamp"] != ""
			}},
	}
	send := func(tc idemCase, base, idem, body string) (int, []byte, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+tc.path, bytes.NewReader([]byte(body)))
		req.Header.Set(tc.header(key))
		req.Header.Set("Content-Type", "application/json")
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, raw, res.Header
	}
	total := func(path string) int {
		t.Helper()
		status, v := c.do("GET", path, nil)
		if status != 200 {
			t.Fatalf("GET %s: %d %v", path, status, v)
		}
		return int(v["metadata"].(map[string]any)["total"].(float64))
	}
	first := map[string][]byte{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := total(tc.count)
			idem := "retry-me-" + tc.name
			status, raw, h := send(tc, base, idem, tc.body)
			if status >= 300 || h.Get("Idempotent-Replayed") != "" {
				t.Fatalf("first request: %d %s (replayed %q)", status, raw, h.Get("Idempotent-Replayed"))
			}
			first[tc.name] = raw
			for range 2 {
				again, raw2, h2 := send(tc, base, idem, tc.body)
				if again != status || !bytes.Equal(raw2, raw) || h2.Get("Idempotent-Replayed") != "true" {
					t.Errorf("retry: %d %s (replayed %q), want %d %s replayed", again, raw2, h2.Get("Idempotent-Replayed"), status, raw)
				}
			}
			if n := total(tc.count); n != before+1 {
				t.Errorf("%d objects after a create and two retries, want %d", n, before+1)
			}

			// The same key with another body acts not, and says why.
			status, raw, _ = send(tc, base, idem, tc.other)
			var v map[string]any
			json.Unmarshal(raw, &v)
			if status != http.StatusUnprocessableEntity || !tc.envelope(v) {
				t.Errorf("same key, other body: %d %s, want 422 in the dialect's envelope", status, raw)
			}

			// A retry while the first request is running: hold the key as
			// the first request does while it is served.
			running := "running-" + tc.name
			hk := switchboard.IdempotencyKey{TenantID: apiKey.TenantID, APIKeyID: apiKey.ID, Key: running,
				RequestHash: httpapi.RequestHash("POST", tc.path, []byte(tc.body))}
			now := time.Now()
			if _, ok, err := m.store.ClaimIdempotencyKey(ctx, hk, now, now.Add(-24*time.Hour), now.Add(-time.Minute)); err != nil || !ok {
				t.Fatalf("hold the key: %v %v", ok, err)
			}
			status, raw, h = send(tc, base, running, tc.body)
			if status != http.StatusConflict || h.Get("Retry-After") == "" {
				t.Errorf("retry while running: %d %s, want 409 with Retry-After", status, raw)
			}

			// Without the header every request acts.
			mid := total(tc.count)
			for i := range 2 {
				status, raw, h := send(tc, base, "", fmt.Sprintf(tc.fresh, i))
				if status >= 300 || h.Get("Idempotent-Replayed") != "" {
					t.Errorf("without a key: %d %s (replayed %q)", status, raw, h.Get("Idempotent-Replayed"))
				}
			}
			if n := total(tc.count); n != mid+2 {
				t.Errorf("%d objects after two creates without a key, want %d", n, mid+2)
			}
		})
	}

	// Concurrent duplicates: one acts, the others wait their turn (409) or
	// get its answer.
	t.Run("concurrent", func(t *testing.T) {
		tc := cases[2]
		tc.body = `{"name":"burst","url":"http://127.0.0.1:9/burst","event_type":"USER_DIAL","http_method":"POST"}`
		before := total(tc.count)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var bodies [][]byte
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, raw, _ := send(tc, base, "burst", tc.body)
				if status == http.StatusConflict {
					return
				}
				if status >= 300 {
					t.Errorf("burst: %d %s", status, raw)
				}
				mu.Lock()
				bodies = append(bodies, raw)
				mu.Unlock()
			}()
		}
		wg.Wait()
		for _, b := range bodies[1:] {
			if !bytes.Equal(b, bodies[0]) {
				t.Errorf("burst answers differ: %s and %s", b, bodies[0])
			}
		}
		if n := total(tc.count); n != before+1 {
			t.Errorf("%d objects after 8 concurrent duplicates, want %d", n, before+1)
		}
	})

	// A replay survives a restart.
	m.Close()
	_, base2, _ := startServer(t, args...)
	for _, tc := range cases {
		status, raw, h := send(tc, base2, "retry-me-"+tc.name, tc.body)
		if status >= 300 || !bytes.Equal(raw, first[tc.name]) || h.Get("Idempotent-Replayed") != "true" {
			t.Errorf("%s after a restart: %d %s, want the first answer replayed", tc.name, status, raw)
		}
	}
}
