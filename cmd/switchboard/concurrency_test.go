package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// rawRequest is a request that may run on any goroutine: it returns the
// status and body instead of stopping the test.
func rawRequest(method, url string, header map[string]string, body any) (int, []byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// TestConcurrentDialectsKeepEachOthersChanges races, over real HTTP on both
// engines, the vendor dialects' updates against native PATCHes of the same
// webhook (a Voxloud or Voice360 update that read the subscription before a
// native PATCH of its name must not write the old name back), and Voxloud
// click-to-call creations against the link limit.
func TestConcurrentDialectsKeepEachOthersChanges(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			key := newTenantKey(t, db)
			_, base, _ := startServer(t, "--db", db, "--webhook-allow-cidr", "127.0.0.0/8", "--rate-limit", "0", "--tenant-write-rate", "0")
			c := client{t: t, base: base, key: key}
			vc := voxClient{t: t, base: base, key: key}
			status, sub := vc.json("POST", "/api/v1/webhook-subscriptions", map[string]any{"callback_url": "http://127.0.0.1:9/v0", "event_type": "CALL_INCOMING"})
			if status != 200 && status != 201 {
				t.Fatalf("create Voxloud subscription: %d %v", status, sub)
			}
			uuid, _ := sub["id"].(string)
			_, list := c.do("GET", "/v1/webhooks", nil)
			items, _ := list["items"].([]any)
			if len(items) != 1 {
				t.Fatalf("GET /v1/webhooks: %v", list)
			}
			id := int64(items[0].(map[string]any)["id"].(float64))
			native := fmt.Sprintf("%s/v1/webhooks/%d", base, id)
			vendor := base + "/api/v1/webhook-subscriptions/" + uuid
			events := []string{"CALL_HANGUP", "CALL_STARTED", "CALL_INCOMING", "CALL_ANSWERED"}
			for round := range 4 {
				hookName, url, event := fmt.Sprintf("named %d", round), fmt.Sprintf("http://127.0.0.1:9/v%d", round+1), events[round]
				var wg sync.WaitGroup
				errs := make(chan string, 40)
				for i := range 40 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var status int
						var body []byte
						var err error
						if i%2 == 0 {
							status, body, err = rawRequest("PATCH", native, map[string]string{"Authorization": "Bearer " + key}, map[string]any{"name": hookName})
						} else {
							status, body, err = rawRequest("PUT", vendor, map[string]string{"Voverc-Auth": key},
								map[string]any{"callback_url": url, "event_type": event})
						}
						if err != nil || status != 200 {
							errs <- fmt.Sprintf("request %d: %d %s %v", i, status, body, err)
						}
					}()
				}
				wg.Wait()
				close(errs)
				for e := range errs {
					t.Error(e)
				}
				_, w := c.do("GET", fmt.Sprintf("/v1/webhooks/%d", id), nil)
				if w["name"] != hookName || w["url"] != url {
					t.Errorf("round %d: webhook name %v, url %v; want %q and %q (a concurrent update undid one)", round, w["name"], w["url"], hookName, url)
				}
				if _, s := vc.json("GET", "/api/v1/webhook-subscriptions/"+uuid, nil); s["event_type"] != event {
					t.Errorf("round %d: Voxloud event_type %v, want %s", round, s["event_type"], event)
				}
			}

			// Click-to-call links: at most as many as users plus queues.
			for i := range 3 {
				if status, u := c.do("POST", "/v1/users", map[string]any{"email": fmt.Sprintf("c%d@acme.test", i), "first_name": "C", "extension": fmt.Sprintf("20%d", i)}); status != 201 {
					t.Fatalf("POST /v1/users: %d %v", status, u)
				}
			}
			if status, q := c.do("POST", "/v1/queues", map[string]any{"name": "Sales", "extension": "8001"}); status != 201 {
				t.Fatalf("POST /v1/queues: %d %v", status, q)
			}
			if status, n := c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+390112121299"}); status != 201 {
				t.Fatalf("POST /v1/phone_numbers: %d %v", status, n)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			created := 0
			for i := range 24 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					status, body, err := rawRequest("POST", base+"/api/v1/click-to-call", map[string]string{"Voverc-Auth": key},
						map[string]any{"name": fmt.Sprintf("link %d", i), "extension": "200", "outboundNumber": "+390112121299"})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil || status >= 500:
						t.Errorf("click-to-call %d: %d %s %v", i, status, body, err)
					case status < 300:
						created++
					}
				}()
			}
			wg.Wait()
			if created != 4 {
				t.Errorf("%d of 24 racing click-to-call creations succeeded; the limit is 4 (3 users + 1 queue)", created)
			}
		})
	}
}
