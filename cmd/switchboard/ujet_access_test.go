package main

// The UJET dialect's auth matrix: every /apps/api/v1 route, as the
// dialect's route table lists it, walked with each credential UJET's
// clients may present, and the per-tenant rate limit.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
)

// ujetRefusal reports what is wrong with a refusal's body, which must be
// UJET's {"message": text} and nothing else.
func ujetRefusal(raw []byte) string {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Sprintf("not JSON: %.200s", raw)
	}
	if s, ok := m["message"].(string); !ok || s == "" || len(m) != 1 {
		return fmt.Sprintf("not {\"message\": text}: %.200s", raw)
	}
	return ""
}

// ujetPublic are the dialect's routes that take no key, and why.
var ujetPublic = map[string]string{
	"GET " + ujetPrefix + "openapi.json":  "the document",
	"POST " + ujetPrefix + "chat_uploads": "the target of presigned chat media uploads: the form's token is the credential",
}

// ujetRouteIDs names the value of the world that fills a route's path
// parameter, by the path segment before it.
func (w *ujetWorld) routePath(pattern string) (path string, ids bool) {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, "{") {
			continue
		}
		prev := ""
		if i > 0 {
			prev = parts[i-1]
		}
		name := map[string]string{"calls": "call_id", "chats": "chat_id", "campaigns": "campaign_id", "contact_lists": "contact_list_id",
			"entries": "entry_id", "escalations": "escalation_id", "media": "media_id", "version_histories": "version_id",
			"menu": "voice_menu", "menus": "voice_menu", "users": "agent_id", "end_users": "end_user_id", "scheme": "bulk_job_id"}[prev]
		if prev == "jobs" {
			switch {
			case strings.Contains(pattern, "/bulk/"):
				name = "bulk_job_id"
			case strings.Contains(pattern, "/agent_statuses/"):
				name = "logout_job_id"
			case strings.Contains(pattern, "/contacts/"):
				name = "contact_job_id"
			}
		}
		if v, ok := w.vars[name]; ok && name != "" {
			parts[i] = fmt.Sprint(v)
			ids = true
		} else {
			parts[i] = "999999"
		}
	}
	return strings.Join(parts, "/"), ids
}

// TestUJETAuthMatrix walks every route of the dialect with HTTP Basic:
// acme's slug and key get past authentication; a wrong slug, a revoked key
// and another tenant's key under acme's slug are 401; a user-bound key and a
// key lacking the route's scope are 403, each refusal {"message": text}; and
// another tenant's own slug and key never see acme's objects (404 for them,
// or answers holding nothing of acme's).
func TestUJETAuthMatrix(t *testing.T) {
	w := newUJETWorld(t)
	// The replay makes one of each object the routes name (a call, a chat,
	// a contact list …), so that their ids are real; its own checks are
	// TestUJETSeedExamples'.
	w.replay()
	ctx := context.Background()
	st := w.m.store
	mint := func(k switchboard.APIKey) string {
		t.Helper()
		nk, err := st.CreateAPIKey(ctx, w.tenant.ID, k)
		if err != nil {
			t.Fatalf("key %+v: %v", k, err)
		}
		return nk.Secret
	}
	revoked, err := st.CreateAPIKey(ctx, w.tenant.ID, switchboard.APIKey{Name: "revoked"})
	if err != nil {
		t.Fatal(err)
	}
	// Revoked before any use, so that no cache holds it.
	if _, err := st.RevokeAPIKey(ctx, w.tenant.ID, revoked.ID); err != nil {
		t.Fatal(err)
	}
	ann, err := st.UserByEmail(ctx, w.tenant.ID, "ann@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	userKey := mint(switchboard.APIKey{Name: "ann", UserID: &ann.ID, Scopes: switchboard.UserKeyScopes})
	lacking := map[string]string{}

	routes := 0
	var deletes []func()
	for _, rt := range w.routes {
		name := rt.Method + " " + rt.Path
		if rt.Public {
			if ujetPublic[name] == "" {
				t.Errorf("%s answers without a key, and is not one of the listed public routes", name)
			}
			if rt.Method != "GET" {
				// Without the credential its form carries, it is refused.
				status, _, raw := w.send(rt.Method, rt.Path, "", "", nil, []byte("{}"), "application/json")
				if status < 400 || status >= 500 || ujetRefusal(raw) != "" {
					t.Errorf("%s without its token: %d %.200s; want a 4xx {\"message\": text}", name, status, raw)
				}
			}
			continue
		}
		if !strings.HasPrefix(rt.Path, ujetPrefix) {
			t.Errorf("%s is not under %s", name, ujetPrefix)
		}
		if rt.Admin || rt.UserKeys || !rt.TenantKeys {
			t.Errorf("%s: admin %v, user keys %v, tenant keys %v; UJET routes take company keys", name, rt.Admin, rt.UserKeys, rt.TenantKeys)
		}
		routes++
		path, hasIDs := w.routePath(rt.Path)
		var body []byte
		contentType := ""
		if rt.Body != nil || rt.Method == "POST" || rt.Method == "PATCH" || rt.Method == "PUT" {
			body, contentType = []byte("{}"), "application/json"
		}
		send := func(slug, key string) (int, []byte) {
			status, _, raw := w.send(rt.Method, path, slug, key, nil, body, contentType)
			return status, raw
		}
		refused := func(what string, want int, slug, key string) {
			t.Helper()
			status, raw := send(slug, key)
			if status != want {
				t.Errorf("%s with %s: %d %.200s; want %d", name, what, status, raw, want)
			} else if why := ujetRefusal(raw); why != "" {
				t.Errorf("%s with %s: %s", name, what, why)
			}
		}
		refused("a wrong slug", 401, "acme-nope", w.key)
		refused("a revoked key", 401, w.slug, revoked.Secret)
		refused("another tenant's key under acme's slug", 401, w.slug, w.otherKey)
		refused("no credential", 401, "", "")
		refused("a user-bound key", 403, w.slug, userKey)
		if lacking[rt.Scope] == "" {
			lacking[rt.Scope] = mint(switchboard.APIKey{Name: "lacking " + rt.Scope, Scopes: without(switchboard.Scopes[1:], rt.Scope)})
		}
		refused("a key lacking "+rt.Scope, 403, w.slug, lacking[rt.Scope])

		// Another tenant's own credential reaches its own objects only.
		status, raw := send(w.otherSlug, w.otherKey)
		switch {
		case status == 401 || status == 403:
			t.Errorf("%s with another tenant's own credential: %d %.200s; a company key passes", name, status, raw)
		case hasIDs && body == nil && status != 404:
			t.Errorf("%s with acme's ids under another tenant: %d %.300s; want 404", name, status, raw)
		case hasIDs && status != 404 && status != 400:
			// A body is validated before the object is looked up.
			t.Errorf("%s with acme's ids under another tenant: %d %.300s; want 404 (or 400 for the empty body)", name, status, raw)
		}
		for _, m := range w.markers {
			if strings.Contains(string(raw), m) {
				t.Errorf("%s under another tenant shows acme's %q: %.300s", name, m, raw)
			}
		}

		// Acme's own slug and key (the CLI's) get past authentication;
		// deletions run last, not to take objects from the other routes.
		right := func() {
			if status, raw := send(w.slug, w.key); status == 401 || status == 403 {
				t.Errorf("%s with acme's slug and key: %d %.300s", name, status, raw)
			}
		}
		if rt.Method == "DELETE" {
			deletes = append(deletes, right)
		} else {
			right()
		}
	}
	for _, d := range deletes {
		d()
	}
	if routes < 60 {
		t.Errorf("walked %d routes; the dialect serves every seed request (69)", routes)
	}
}

// TestUJETRateLimit: the dialect limits each tenant; --ujet-rate-limit 1
// (the seed's limit) refuses a second immediate request with 429,
// Retry-After and {"message": …}, and by default 10 a second pass.
func TestUJETRateLimit(t *testing.T) {
	probe := func(t *testing.T, w *ujetWorld) (method, path string) {
		t.Helper()
		for _, rt := range w.routes {
			if !rt.Public && rt.Method == "GET" && !strings.Contains(rt.Path, "{") {
				return rt.Method, rt.Path
			}
		}
		t.Fatal("the dialect serves no GET route without parameters to probe the limit with")
		return "", ""
	}
	t.Run("seed 1 per second", func(t *testing.T) {
		w := newUJETWorldLimited(t, true, "--ujet-rate-limit", "1")
		method, path := probe(t, w)
		if status, _, raw := w.send(method, path, w.slug, w.key, nil, nil, ""); status == 429 {
			t.Fatalf("the first request is refused: %s", raw)
		}
		status, hdr, raw := w.send(method, path, w.slug, w.key, nil, nil, "")
		if status != 429 || hdr.Get("Retry-After") == "" {
			t.Fatalf("the second immediate request: %d, Retry-After %q, %s; want 429 with Retry-After", status, hdr.Get("Retry-After"), raw)
		}
		if why := ujetRefusal(raw); why != "" {
			t.Error(why)
		}
		// Another tenant has its own budget.
		if status, _, raw := w.send(method, path, w.otherSlug, w.otherKey, nil, nil, ""); status == 429 {
			t.Errorf("another tenant is limited by acme's requests: %s", raw)
		}
	})
	t.Run("default 10 per second", func(t *testing.T) {
		// No --ujet-rate-limit: the operator left it unset.
		w := newUJETWorldLimited(t, true)
		method, path := probe(t, w)
		const n = 30
		var wg sync.WaitGroup
		var mu sync.Mutex
		admitted := 0
		start := time.Now()
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if status, _, _ := w.send(method, path, w.slug, w.key, nil, nil, ""); status != 429 {
					mu.Lock()
					admitted++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		// A burst of 10, then 10 a second.
		if most := 10 + int(elapsed.Seconds()*10) + 1; admitted < 10 || admitted > most {
			t.Errorf("%d of %d requests in %v admitted; want 10 to %d", admitted, n, elapsed, most)
		}
	})
}
