package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestReplayedWebhooksRenderTheSameBytes delivers a call's webhooks in every
// dialect (native, Voxloud, Voice360), then renames the agent, the queue and
// the caller's contact, replays every subscription, and requires the replayed
// bodies to be byte for byte those of the first delivery: renderers render
// from the event's own payload, never from today's names.
func TestReplayedWebhooksRenderTheSameBytes(t *testing.T) {
	var mu sync.Mutex
	got := map[string][][]byte{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.URL.Path] = append(got[r.URL.Path], b)
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	bodies := func(path string) [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got[path])
	}

	c, _, ids := voxTenant(t)
	start := time.Now().Add(-time.Minute)
	hooks := map[string]int64{}
	for path, body := range map[string]map[string]any{
		"/native":   {"event_types": []string{"call.*"}},
		"/voxloud":  {"dialect": "voxloud", "event_types": []string{"CALL_INCOMING", "CALL_ANSWERED", "CALL_HANGUP"}},
		"/record":   {"dialect": "voxloud", "event_types": []string{"PHONE_CALL"}},
		"/voice360": {"dialect": "voice360", "event_types": []string{"INCOMING_EXTERNAL_CALL", "USER_ANSWER", "CALL_ENDED"}},
	} {
		body["url"] = recv.URL + path
		status, hook := c.do("POST", "/v1/webhooks", body)
		if status != 201 {
			t.Fatalf("POST /v1/webhooks %s: %d %v", path, status, hook)
		}
		hooks[path] = int64(hook["id"].(float64))
	}
	_, contact := c.do("POST", "/v1/contacts", map[string]any{"first_name": "Maria", "last_name": "Rosi", "primary_phone": "+393331234567",
		"crm_name": "Hubspot", "crm_contact_url": "https://crm.example/contacts/2"})
	c.do("POST", fmt.Sprintf("/v1/users/%d/status", ids["john"]), map[string]any{"status": "Available"})
	_, call := c.do("POST", "/v1/sim/calls", map[string]any{"from": "+393331234567", "to": "+390112121212", "answer_after_seconds": 0.2,
		"talk_seconds": 0.3})
	waitCall(t, c, int64(call["id"].(float64)), func(v map[string]any) bool { return v["status"] == "finished" })

	// Every subscription's first deliveries, once they stop coming.
	// call.* takes call.wrapped_up too; the vendor dialects' names do not.
	want := map[string]int{"/native": 6, "/voxloud": 3, "/record": 1, "/voice360": 3}
	settle := func(n func(path string) int) map[string][][]byte {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			ok := true
			for path, k := range want {
				ok = ok && len(bodies(path)) >= n(path)+k
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("webhooks did not arrive: native %d, voxloud %d, voice360 %d", len(bodies("/native")), len(bodies("/voxloud")),
					len(bodies("/voice360")))
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		out := map[string][][]byte{}
		for path := range want {
			out[path] = bodies(path)[n(path):]
			if len(out[path]) != want[path] {
				t.Fatalf("%s: %d webhooks, want %d:\n%s", path, len(out[path]), want[path], bytes.Join(out[path], []byte("\n")))
			}
		}
		return out
	}
	first := settle(func(string) int { return 0 })
	for _, path := range []string{"/voxloud", "/record", "/voice360"} {
		b := bytes.Join(first[path], nil)
		if !bytes.Contains(b, []byte("John Smith")) || (path != "/voice360" && !bytes.Contains(b, []byte("Maria Rosi"))) ||
			(path == "/voice360" && !bytes.Contains(b, []byte("Support"))) {
			t.Fatalf("%s: the first webhooks do not name the agent, the contact and the queue: %s", path, b)
		}
	}

	for path, body := range map[string]map[string]any{
		fmt.Sprintf("/v1/users/%d", ids["john"]):                       {"first_name": "Jonathan", "last_name": "Smythe", "email": "jon@acme.test", "extension": "109"},
		fmt.Sprintf("/v1/queues/%d", ids["queue"]):                     {"name": "Renamed queue"},
		fmt.Sprintf("/v1/contacts/%d", int64(contact["id"].(float64))): {"first_name": "Mary", "crm_name": "Salesforce"},
	} {
		if status, res := c.do("PATCH", path, body); status != 200 {
			t.Fatalf("PATCH %s: %d %v", path, status, res)
		}
	}
	for path, id := range hooks {
		if status, res := c.do("POST", fmt.Sprintf("/v1/webhooks/%d/replay", id), map[string]any{"since": start,
			"until": time.Now().Add(time.Minute)}); status != 202 {
			t.Fatalf("replay %s: %d %v", path, status, res)
		}
	}
	again := settle(func(path string) int { return len(first[path]) })
	for path := range want {
		a, b := first[path], again[path]
		slices.SortFunc(a, bytes.Compare)
		slices.SortFunc(b, bytes.Compare)
		for i := range a {
			if !bytes.Equal(a[i], b[i]) {
				t.Errorf("%s: a replayed webhook differs from the first delivery:\nfirst  %s\nreplay %s", path, a[i], b[i])
			}
		}
	}
}
