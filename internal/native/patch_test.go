package native

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// forEachEngineAPI runs fn against the native API on a fresh store of every
// engine available, behind a real loopback HTTP server.
func forEachEngineAPI(t *testing.T, fn func(t *testing.T, ta *testAPI)) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			store := sqlstoretest.Open(t, mk(t), sqlstore.Options{})
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			api := New(Options{Store: store, Auth: httpapi.NewAuthenticator(store, time.Second, log),
				Limiter: httpapi.NewRateLimiter(0, 1), AdminToken: "admin-secret", Conversations: newConversations(t, store).svc, Log: log})
			srv := httptest.NewServer((&httpapi.Observer{Log: log, MaxBody: 64 << 10}).Wrap("native", api, WriteError(log)))
			t.Cleanup(srv.Close)
			fn(t, &testAPI{api: api, store: store, url: srv.URL})
		})
	}
}

// send is a request that may run on any goroutine: it reports failures
// instead of stopping the test.
func (ta *testAPI) send(method, path, key string, body any, header map[string]string) (response, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, ta.url+path, rd)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}, err
}

// patchRace sends n concurrent PATCHes of path, the i-th setting only field
// i%len(fields) to its value, and fails unless every one answers 200.
func patchRace(t *testing.T, ta *testAPI, key, path string, n int, fields []string, value func(field string) any) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := fields[i%len(fields)]
			res, err := ta.send("PATCH", path, key, map[string]any{f: value(f)}, nil)
			if err == nil && res.status != http.StatusOK {
				err = fmt.Errorf("PATCH %s {%s} = %d %s", path, f, res.status, res.body)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestConcurrentPatchesKeepEveryField is the lost-update race of PATCH: in
// each round 50 PATCHes of one object run at once, each changing one field,
// and afterwards every field must hold its round's value (before, each PATCH
// wrote back the whole object as it had read it, undoing the others). It runs
// on users, which have the most fields, and on contacts and queues.
func TestConcurrentPatchesKeepEveryField(t *testing.T) {
	forEachEngineAPI(t, func(t *testing.T, ta *testAPI) {
		f := newFixture(t, ta.store, "acme")
		zones := []string{"Europe/Rome", "America/New_York", "Asia/Tokyo"}
		for round := range 3 {
			userValues := map[string]any{
				"first_name": fmt.Sprintf("First%d", round), "last_name": fmt.Sprintf("Last%d", round),
				"location": fmt.Sprintf("Floor %d", round), "time_zone": zones[round],
				"agent_number": fmt.Sprintf("A%d", round), "extension": fmt.Sprintf("70%d", round),
				"max_chats": round + 3, "outbound_number": fmt.Sprintf("+39061234500%d", round),
				"forward_number": fmt.Sprintf("+39061234600%d", round), "sip_username": fmt.Sprintf("sip%d", round),
				"click_to_call_disabled": round%2 == 0, "voicemail_enabled": round%2 == 0,
				"email": fmt.Sprintf("ann%d@acme.test", round), "phone_numbers": []string{fmt.Sprintf("+39061234700%d", round)},
			}
			fields := make([]string, 0, len(userValues))
			for k := range userValues {
				fields = append(fields, k)
			}
			path := fmt.Sprintf("/v1/users/%d", f.user)
			patchRace(t, ta, f.key, path, 50, fields, func(k string) any { return userValues[k] })
			res := ta.do(t, "GET", path, f.key, nil)
			var got map[string]any
			res.decode(t, &got)
			for _, k := range fields {
				want, _ := json.Marshal(userValues[k])
				have, _ := json.Marshal(got[k])
				if !bytes.Equal(want, have) {
					t.Errorf("round %d: user %s = %s, want %s (a concurrent PATCH undid it)", round, k, have, want)
				}
			}

			contactValues := map[string]any{"first_name": fmt.Sprintf("C%d", round), "last_name": fmt.Sprintf("D%d", round),
				"company_name": fmt.Sprintf("Co%d", round), "job_title": fmt.Sprintf("Job%d", round), "crm_name": fmt.Sprintf("crm%d", round)}
			cfields := []string{"first_name", "last_name", "company_name", "job_title", "crm_name"}
			cpath := fmt.Sprintf("/v1/contacts/%d", f.contact)
			patchRace(t, ta, f.key, cpath, 50, cfields, func(k string) any { return contactValues[k] })
			res = ta.do(t, "GET", cpath, f.key, nil)
			got = nil
			res.decode(t, &got)
			for _, k := range cfields {
				if got[k] != contactValues[k] {
					t.Errorf("round %d: contact %s = %v, want %v", round, k, got[k], contactValues[k])
				}
			}

			// Webhooks vet a merged URL before the transaction (the policy
			// resolves names) and start over when it changed meanwhile.
			hookValues := map[string]any{"name": fmt.Sprintf("hook %d", round), "url": fmt.Sprintf("http://127.0.0.1:9/r%d", round),
				"max_attempts": round + 2, "notify_email": fmt.Sprintf("ops%d@acme.test", round), "method": []string{"GET", "POST", "GET"}[round]}
			hfields := []string{"name", "url", "max_attempts", "notify_email", "method"}
			hpath := fmt.Sprintf("/v1/webhooks/%d", f.webhook)
			patchRace(t, ta, f.key, hpath, 50, hfields, func(k string) any { return hookValues[k] })
			res = ta.do(t, "GET", hpath, f.key, nil)
			got = nil
			res.decode(t, &got)
			for _, k := range hfields {
				want, _ := json.Marshal(hookValues[k])
				have, _ := json.Marshal(got[k])
				if !bytes.Equal(want, have) {
					t.Errorf("round %d: webhook %s = %s, want %s", round, k, have, want)
				}
			}

			queueValues := map[string]any{"name": fmt.Sprintf("Queue %d", round), "extension": fmt.Sprintf("80%d", round),
				"timeout_seconds": 20 + round, "wrap_up_seconds": 5 + round, "max_length": 10 + round, "music_on_hold": fmt.Sprintf("moh%d", round)}
			qfields := []string{"name", "extension", "timeout_seconds", "wrap_up_seconds", "max_length", "music_on_hold"}
			qpath := fmt.Sprintf("/v1/queues/%d", f.queue)
			patchRace(t, ta, f.key, qpath, 50, qfields, func(k string) any { return queueValues[k] })
			res = ta.do(t, "GET", qpath, f.key, nil)
			got = nil
			res.decode(t, &got)
			for _, k := range qfields {
				want, _ := json.Marshal(queueValues[k])
				have, _ := json.Marshal(got[k])
				if !bytes.Equal(want, have) {
					t.Errorf("round %d: queue %s = %s, want %s", round, k, have, want)
				}
			}
		}
	})
}

// TestPatchIfMatch covers ETag and If-Match: the ETag of a GET is accepted
// once, a stale one gets 412 in the native envelope and changes nothing, "*"
// matches any version, weak tags never match, and If-None-Match gives 304.
// Every object with a PATCH sends its ETag.
func TestPatchIfMatch(t *testing.T) {
	forEachEngineAPI(t, func(t *testing.T, ta *testAPI) {
		f := newFixture(t, ta.store, "acme")
		for _, rt := range ta.api.table.Endpoints() {
			if rt.Method != "PATCH" || !rt.X.etag {
				continue // PATCH /v1/queues/{id}/members/{user_id} changes a link, not an object
			}
			path := f.path(rt)
			if rt.Admin {
				continue // the admin routes take the operator's token, tested below on the tenant
			}
			res := ta.do(t, "GET", path, f.key, nil)
			if res.status != http.StatusOK || res.header.Get("ETag") == "" {
				t.Errorf("GET %s = %d, ETag %q; want 200 with an ETag", path, res.status, res.header.Get("ETag"))
			}
		}
		// Single objects without a PATCH have one too.
		for _, path := range []string{fmt.Sprintf("/v1/calls/%d", f.call), fmt.Sprintf("/v1/webhook_deliveries/%d", f.delivery),
			fmt.Sprintf("/v1/api_keys/%d", f.apiKey), "/v1/tenant"} {
			if res := ta.do(t, "GET", path, f.key, nil); res.status != http.StatusOK || res.header.Get("ETag") == "" {
				t.Errorf("GET %s = %d, ETag %q; want 200 with an ETag", path, res.status, res.header.Get("ETag"))
			}
		}

		path := fmt.Sprintf("/v1/users/%d", f.user)
		get := func() response {
			res := ta.do(t, "GET", path, f.key, nil)
			if res.status != http.StatusOK {
				t.Fatalf("GET %s = %d %s", path, res.status, res.body)
			}
			return res
		}
		first := get().header.Get("ETag")
		if len(first) < 3 || first[0] != '"' {
			t.Fatalf("ETag %q is not a strong entity tag", first)
		}
		patch := func(ifMatch string, body map[string]any) response {
			t.Helper()
			res, err := ta.send("PATCH", path, f.key, body, map[string]string{"If-Match": ifMatch})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		res := patch(first, map[string]any{"first_name": "Anna"})
		if res.status != http.StatusOK {
			t.Fatalf("PATCH with the current ETag = %d %s", res.status, res.body)
		}
		second := res.header.Get("ETag")
		if second == "" || second == first || second != get().header.Get("ETag") {
			t.Errorf("ETag after PATCH = %q (was %q); a GET says %q", second, first, get().header.Get("ETag"))
		}
		for _, stale := range []string{first, "W/" + second, `"nonsense"`, first + ", " + `"other"`} {
			res = patch(stale, map[string]any{"first_name": "Overwritten"})
			if res.status != http.StatusPreconditionFailed {
				t.Errorf("PATCH with If-Match %s = %d %s, want 412", stale, res.status, res.body)
				continue
			}
			if e := res.errorBody(t); e.Code != switchboard.CodePreconditionFailed || e.Message == "" || e.RequestID == "" {
				t.Errorf("412 body = %+v", e)
			}
		}
		if got := get(); got.header.Get("ETag") != second {
			t.Errorf("a refused PATCH changed the user: ETag %q, want %q", got.header.Get("ETag"), second)
		}
		res = patch(`"nonsense", `+second, map[string]any{"last_name": "Rossi"})
		if res.status != http.StatusOK {
			t.Errorf("PATCH with a list holding the current ETag = %d %s", res.status, res.body)
		}
		res = patch("*", map[string]any{"location": "Rome"})
		if res.status != http.StatusOK {
			t.Errorf("PATCH with If-Match * = %d %s", res.status, res.body)
		}
		current := get().header.Get("ETag")
		res, err := ta.send("GET", path, f.key, nil, map[string]string{"If-None-Match": current})
		if err != nil || res.status != http.StatusNotModified {
			t.Errorf("GET with If-None-Match of the current ETag = %d, %v; want 304", res.status, err)
		}

		// The admin tenant route takes the operator's token.
		tpath := fmt.Sprintf("/v1/admin/tenants/%d", f.tenant.ID)
		tres, err := ta.send("GET", tpath, "admin-secret", nil, nil)
		if err != nil || tres.header.Get("ETag") == "" {
			t.Fatalf("GET %s: ETag %q, %v", tpath, tres.header.Get("ETag"), err)
		}
		tag := tres.header.Get("ETag")
		if tres, _ = ta.send("PATCH", tpath, "admin-secret", map[string]any{"name": "Acme"}, map[string]string{"If-Match": tag}); tres.status != http.StatusOK {
			t.Errorf("admin PATCH with the current ETag = %d %s", tres.status, tres.body)
		}
		if tres, _ = ta.send("PATCH", tpath, "admin-secret", map[string]any{"name": "Stale"}, map[string]string{"If-Match": tag}); tres.status != http.StatusPreconditionFailed {
			t.Errorf("admin PATCH with a stale ETag = %d %s", tres.status, tres.body)
		}
	})
}
