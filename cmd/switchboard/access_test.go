package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/native"
	"switchboard/internal/sqlstore/sqlstoretest"
	"switchboard/internal/ujet"
	"switchboard/internal/voice360"
	"switchboard/internal/voiso"
	"switchboard/internal/voxloud"
)

// publicRoutes are the only routes that answer without a key. A route that
// does so and is not listed here fails TestEveryRouteChecksItsScope, so that
// opening one is a decision someone wrote down.
var publicRoutes = []string{
	"GET /v1/openapi.json",
	"GET /api/v1/openapi.json",
	"GET /v3/voice/openapi.json",
	"GET /api/v4/openapi.json",
	"GET /apps/api/v1/openapi.json",
	// UJET's presigned chat media uploads: the form's token is the
	// credential (internal/ujet chat_media.go).
	"POST /apps/api/v1/chat_uploads",
	"GET /v3/voice/{account_id}/public/availability",
	"GET /v3/voice/{account_id}/public/queues",
	"GET /v3/voice/{account_id}/public/availability/queues",
	// The web-chat end-user API and attachment uploads: the end user's
	// token or the upload URL's token is the credential (internal/native).
	"POST /v1/webchat/{profile_uuid}/conversations",
	"GET /v1/webchat/conversations/{uuid}",
	"GET /v1/webchat/conversations/{uuid}/messages",
	"GET /v1/webchat/conversations/{uuid}/events",
	"POST /v1/webchat/conversations/{uuid}/messages",
	"POST /v1/webchat/conversations/{uuid}/uploads",
	"GET /v1/webchat/conversations/{uuid}/attachments/{id}/content",
	"POST /v1/webchat/conversations/{uuid}/end",
	"PUT /v1/uploads/{token}",
}

// accessDialect is one API dialect as the access tests see it: its route
// table, how its clients present a key, and what its 403 looks like.
type accessDialect struct {
	name      string
	routes    []httpapi.Route
	header    string // the credential header, with the secret appended
	forbidden func(status int, body []byte) bool
}

func accessDialects(store switchboard.Store) []accessDialect {
	field := func(body []byte, name string) any {
		var v map[string]any
		json.Unmarshal(body, &v)
		return v[name]
	}
	return []accessDialect{
		{"native", native.New(native.Options{Store: store}).Routes(), "Authorization: Bearer ", func(status int, body []byte) bool {
			e, _ := field(body, "error").(map[string]any)
			return status == 403 && e["code"] == string(switchboard.CodeForbidden)
		}},
		{"voxloud", voxloud.New(voxloud.Options{Store: store}).Routes(), "Voverc-Auth: ", func(status int, body []byte) bool {
			return status == 403 && field(body, "status") == float64(403) && field(body, "error") == "Forbidden"
		}},
		{"voice360", voice360.New(voice360.Options{Store: store}).Routes(), "X-API-Key: ", func(status int, body []byte) bool {
			return status == 403 && field(body, "error_code") == "AUTH_INVALID" && field(body, "error") == true
		}},
		{"voiso", voiso.New(voiso.Options{Store: store}).Routes(), "Authorization: Bearer ", func(status int, body []byte) bool {
			return status == 403 && string(bytes.TrimSpace(body)) == `{"error":"Forbidden"}`
		}},
		// UJET's clients send HTTP Basic (TestUJETAuthMatrix walks it);
		// a bearer key works there too.
		{"ujet", ujet.New(ujet.Options{Store: store}).Routes(), "Authorization: Bearer ", func(status int, body []byte) bool {
			m, _ := field(body, "message").(string)
			return status == 403 && m != "" && ujetRefusal(body) == ""
		}},
	}
}

// accessServer is a running server with a tenant, two users with phones and
// a way to mint keys straight in its store.
type accessServer struct {
	t        *testing.T
	m        *Main
	base     string
	tenant   switchboard.Tenant
	ann, bob switchboard.User
	admin    string // a tenant key with every scope
}

func newAccessServer(t *testing.T, db string, args ...string) *accessServer {
	t.Helper()
	m, base, _ := startServer(t, append([]string{"--db", db, "--rate-limit", "0", "--voice360-rate-limit", "100000", "--ujet-rate-limit", "0"}, args...)...)
	ctx := context.Background()
	tn, err := m.store.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme", Timezone: "UTC", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	s := &accessServer{t: t, m: m, base: base, tenant: tn}
	if s.ann, err = m.store.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", Extension: "1001"}); err != nil {
		t.Fatal(err)
	}
	if s.bob, err = m.store.CreateUser(ctx, tn.ID, switchboard.User{Email: "bob@acme.test", FirstName: "Bob", Extension: "1002"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []switchboard.User{s.ann, s.bob} {
		if _, err := m.store.SetPresence(ctx, tn.ID, u.ID, switchboard.StatusAvailable, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.store.CreatePhoneNumber(ctx, tn.ID, switchboard.PhoneNumber{Number: "+14155550100", SMSEnabled: true}); err != nil {
		t.Fatal(err)
	}
	s.admin = s.key(switchboard.APIKey{})
	return s
}

// key mints k in the tenant and returns its secret.
func (s *accessServer) key(k switchboard.APIKey) string {
	s.t.Helper()
	nk, err := s.m.store.CreateAPIKey(context.Background(), s.tenant.ID, k)
	if err != nil {
		s.t.Fatalf("create key %+v: %v", k, err)
	}
	return nk.Secret
}

// path fills a route pattern: the tenant's account and id for every {…}.
func (s *accessServer) path(pattern string, id int64) string {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		switch {
		case p == "{account_id}":
			parts[i] = fmt.Sprint(s.tenant.ID)
		case strings.HasPrefix(p, "{"):
			parts[i] = fmt.Sprint(id)
		}
	}
	return strings.Join(parts, "/")
}

// do sends one request with header (e.g. "X-API-Key: secret", "" for none)
// and a JSON body; streams are cut once their status is in.
func (s *accessServer) do(method, path, header string, body any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if name, value, ok := strings.Cut(header, ": "); ok {
		req.Header.Set(name, value)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return res.StatusCode, nil
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, raw
}

func bodyFor(method string) any {
	if method == "POST" || method == "PUT" || method == "PATCH" {
		return map[string]any{}
	}
	return nil
}

// without returns scopes less drop.
func without(scopes []string, drop string) []string {
	// The native scope covering drop (switchboard.ScopeCovers) would admit
	// the route too.
	return slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return s == drop || s == switchboard.ScopeCovers[drop] })
}

// TestEveryRouteChecksItsScope walks every route of every dialect, as the
// dialects' own route tables list them (a route added later is walked too):
// a key holding every scope but the route's gets the dialect's 403, and a key
// holding only the route's scope gets past it. Routes that user keys only may
// call are walked with user keys; public routes must be listed in
// publicRoutes, and admin routes refuse tenant keys.
func TestEveryRouteChecksItsScope(t *testing.T) {
	s := newAccessServer(t, sqlstoretest.SQLiteURL(t))
	keys := map[string]string{}
	keyFor := func(user bool, scopes []string) string {
		name := fmt.Sprint(user, scopes)
		if keys[name] == "" {
			k := switchboard.APIKey{Name: "walk", Scopes: scopes}
			if user {
				k.UserID = &s.ann.ID
			}
			keys[name] = s.key(k)
		}
		return keys[name]
	}
	seenPublic := map[string]bool{}
	walked := 0
	for _, d := range accessDialects(s.m.store) {
		if len(d.routes) < 5 {
			t.Fatalf("%s lists %d routes", d.name, len(d.routes))
		}
		for _, rt := range d.routes {
			name := rt.Method + " " + rt.Path
			switch {
			case rt.Public:
				if !slices.Contains(publicRoutes, name) {
					t.Errorf("%s answers without a key but is not one of the listed public routes", name)
				}
				seenPublic[name] = true
				continue
			case rt.Admin:
				if status, raw := s.do(rt.Method, s.path(rt.Path, 999999), d.header+s.admin, bodyFor(rt.Method)); status != 401 && status != 403 {
					t.Errorf("admin route %s with a tenant key: %d %.200s", name, status, raw)
				}
				continue
			case !slices.Contains(switchboard.Scopes[1:], rt.Scope):
				t.Errorf("%s %s needs scope %q, which is not a scope", d.name, name, rt.Scope)
				continue
			}
			walked++
			all := switchboard.Scopes[1:]
			user := !rt.TenantKeys
			if user {
				all = switchboard.UserKeyScopes
			}
			path := s.path(rt.Path, 999999)
			lacking := keyFor(user, without(all, rt.Scope))
			status, raw := s.do(rt.Method, path, d.header+lacking, bodyFor(rt.Method))
			if !d.forbidden(status, raw) {
				t.Errorf("%s %s with every scope but %s: %d %.300s; want the dialect's 403", d.name, name, rt.Scope, status, raw)
			}
			only := keyFor(user, []string{rt.Scope})
			status, raw = s.do(rt.Method, path, d.header+only, bodyFor(rt.Method))
			if status == 401 || status == 403 {
				t.Errorf("%s %s with only %s: %d %.300s; want it let through", d.name, name, rt.Scope, status, raw)
			}
		}
	}
	for _, p := range publicRoutes {
		if !seenPublic[p] {
			t.Errorf("listed public route %s is not served any more: drop it from the list", p)
		}
	}
	if walked < 100 {
		t.Errorf("walked %d keyed routes; expected every dialect's", walked)
	}
}

// TestUserKeysReachOnlyTheirOwn walks every route with a user key holding
// every scope a user key may: only the routes of its own user let it
// through, and no key creates a key with more than it holds.
func TestUserKeysReachOnlyTheirOwn(t *testing.T) {
	s := newAccessServer(t, sqlstoretest.SQLiteURL(t))
	native := func(key string) client { return client{t: t, base: s.base, key: key} }
	admin := native(s.admin)

	// A user key made without scopes gets the user-key scopes, not *.
	status, created := admin.do("POST", "/v1/api_keys", map[string]any{"name": "ann", "user_id": s.ann.ID})
	if status != 201 || fmt.Sprint(created["scopes"]) != fmt.Sprint(switchboard.UserKeyScopes) {
		t.Fatalf("user key: %d %v; want scopes %v", status, created, switchboard.UserKeyScopes)
	}
	ann := created["secret"].(string)

	for _, d := range accessDialects(s.m.store) {
		for _, rt := range d.routes {
			if rt.Public || rt.Admin {
				continue
			}
			name := rt.Method + " " + rt.Path
			status, raw := s.do(rt.Method, s.path(rt.Path, s.ann.ID), d.header+ann, bodyFor(rt.Method))
			switch {
			case !rt.UserKeys && !d.forbidden(status, raw):
				t.Errorf("%s %s with a user key: %d %.300s; want the dialect's 403", d.name, name, status, raw)
			case rt.UserKeys && (status == 401 || status == 403):
				t.Errorf("%s %s with a user key on its own user: %d %.300s; want it let through", d.name, name, status, raw)
			}
		}
	}

	// Its own user, status and calls, never another's.
	c := native(ann)
	for _, p := range []string{"/v1/users/%d", "/v1/users/%d/status"} {
		if status, body := c.do("GET", fmt.Sprintf(p, s.ann.ID), nil); status != 200 {
			t.Errorf("GET %s of its own user: %d %v", p, status, body)
		}
		if status, body := c.do("GET", fmt.Sprintf(p, s.bob.ID), nil); status != 403 {
			t.Errorf("GET %s of another user: %d %v", p, status, body)
		}
	}
	if status, body := c.do("POST", fmt.Sprintf("/v1/users/%d/status", s.bob.ID), map[string]any{"status": "Available"}); status != 403 {
		t.Errorf("setting another user's status: %d %v", status, body)
	}
	if status, body := c.do("POST", "/v1/calls", map[string]any{"user_id": s.bob.ID, "phone_number": "+15550001111"}); status != 403 ||
		body["error"].(map[string]any)["fields"].(map[string]any)["user_id"] == nil {
		t.Errorf("click-to-call from another user's phone: %d %v", status, body)
	}
	status, own := c.do("POST", "/v1/calls", map[string]any{"user_id": s.ann.ID, "phone_number": "+15550001111"})
	if status != 201 {
		t.Fatalf("click-to-call from its own phone: %d %v", status, own)
	}
	status, bobs := admin.do("POST", "/v1/calls", map[string]any{"user_id": s.bob.ID, "phone_number": "+15550002222"})
	if status != 201 {
		t.Fatalf("click-to-call for bob: %d %v", status, bobs)
	}
	if status, body := c.do("GET", fmt.Sprintf("/v1/calls/%v", own["id"]), nil); status != 200 {
		t.Errorf("its own call: %d %v", status, body)
	}
	for _, p := range []string{"/v1/calls/%v", "/v1/calls/%v/hangup"} {
		method := map[bool]string{true: "GET", false: "POST"}[!strings.HasSuffix(p, "hangup")]
		if status, body := c.do(method, fmt.Sprintf(p, bobs["id"]), nil); status != 403 {
			t.Errorf("%s %s of another user's call: %d %v", method, p, status, body)
		}
	}

	// No key creates a key with more than it holds.
	soon := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	keysOnly := native(s.key(switchboard.APIKey{Scopes: []string{switchboard.ScopeKeysManage}}))
	keysAndRead := native(s.key(switchboard.APIKey{Scopes: []string{switchboard.ScopeKeysManage, switchboard.ScopeUsersRead}}))
	expiring := native(s.key(switchboard.APIKey{ExpiresAt: &soon}))
	for _, tc := range []struct {
		name   string
		c      client
		body   map[string]any
		status int
		field  string // the field a refusal names, or the scopes a success has
	}{
		{"a user key minting a key", c, map[string]any{"scopes": []string{"users.read"}}, 403, ""},
		{"a user key minting a user key", c, map[string]any{"user_id": s.ann.ID}, 403, ""},
		{"keys.manage granting users.manage", keysOnly, map[string]any{"scopes": []string{"users.manage"}}, 403, "scopes"},
		{"keys.manage granting *", keysOnly, map[string]any{"scopes": []string{"*"}}, 403, "scopes"},
		{"keys.manage minting a user key", keysOnly, map[string]any{"user_id": s.ann.ID}, 403, "scopes"},
		{"keys.manage minting its like", keysOnly, map[string]any{}, 201, "[keys.manage]"},
		{"a user key from keys.manage and users.read", keysAndRead, map[string]any{"user_id": s.ann.ID}, 201, "[users.read]"},
		{"a user key with *", admin, map[string]any{"user_id": s.ann.ID, "scopes": []string{"*"}}, 422, "scopes"},
		{"a user key with keys.manage", admin, map[string]any{"user_id": s.ann.ID, "scopes": []string{"keys.manage"}}, 422, "scopes"},
		{"an expiring key minting a lasting one", expiring, map[string]any{"expires_at": soon.Add(time.Hour)}, 403, "expires_at"},
		{"an expiring key minting a key", expiring, map[string]any{}, 201, "[*]"},
	} {
		status, body := tc.c.do("POST", "/v1/api_keys", tc.body)
		if status != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.name, status, body, tc.status)
			continue
		}
		if status == 201 {
			if got := fmt.Sprint(body["scopes"]); got != tc.field {
				t.Errorf("%s: scopes %s, want %s", tc.name, got, tc.field)
			}
			if tc.c == expiring && body["expires_at"] != soon.Format(time.RFC3339) {
				t.Errorf("%s: expires_at %v, want the creator's %v", tc.name, body["expires_at"], soon)
			}
		} else if tc.field != "" {
			if e, _ := body["error"].(map[string]any); e == nil || e["fields"].(map[string]any)[tc.field] == nil {
				t.Errorf("%s: %v does not name %s", tc.name, body, tc.field)
			}
		}
	}
}

// TestKeyCreateUserCommand shows the CLI's user keys following the rule of
// every user key.
func TestKeyCreateUserCommand(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	if _, err := run(t, "", "tenant", "create", "--db", db, "--slug", "acme", "--name", "Acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "user", "create", "--db", db, "--tenant", "acme", "--email", "ann@acme.test", "--first-name", "Ann"); err != nil {
		t.Fatal(err)
	}
	secret, err := run(t, "", "key", "create", "--db", db, "--tenant", "acme", "--user", "ann@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	for _, scopes := range []string{"*", "keys.manage", "users.read,webhooks.manage"} {
		if _, err := run(t, "", "key", "create", "--db", db, "--tenant", "acme", "--user", "ann@acme.test", "--scopes", scopes); err == nil ||
			!strings.Contains(err.Error(), "scopes") {
			t.Errorf("key create --user --scopes %s: %v, want a refusal naming scopes", scopes, err)
		}
	}
	m, base, _ := startServer(t, "--db", db)
	k, err := m.store.AuthenticateKey(context.Background(), strings.TrimSpace(secret))
	if err != nil || !slices.Equal(k.Scopes, switchboard.UserKeyScopes) {
		t.Fatalf("key create --user made %v (%v), want scopes %v", k.Scopes, err, switchboard.UserKeyScopes)
	}
	if status, body := (client{t: t, base: base, key: strings.TrimSpace(secret)}).do("GET", "/v1/api_keys", nil); status != 403 {
		t.Errorf("the CLI's user key lists keys: %d %v", status, body)
	}
}

// TestDeactivatedUserKeysStop deactivates users both ways the API offers
// while their keys are warm in the authentication cache: the keys stop on
// the next request, on every dialect, and work again on reactivation.
func TestDeactivatedUserKeysStop(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			s := newAccessServer(t, mk(t), "--auth-cache-ttl", "1h") // only Forget can make them stop
			admin := client{t: t, base: s.base, key: s.admin}
			annKey := s.key(switchboard.APIKey{UserID: &s.ann.ID})
			bobKey := s.key(switchboard.APIKey{UserID: &s.bob.ID})
			works := func(key string, u switchboard.User) bool {
				t.Helper()
				nat, _ := s.do("GET", fmt.Sprintf("/v1/users/%d", u.ID), "Authorization: Bearer "+key, nil)
				v360, _ := s.do("GET", fmt.Sprintf("/v3/voice/%d/user/profile", s.tenant.ID), "X-API-Key: "+key, nil)
				switch {
				case nat == 200 && v360 == 200:
					return true
				case nat == 401 && v360 == 403:
					return false
				}
				t.Fatalf("user key of %s: native %d, voice360 %d", u.Email, nat, v360)
				return false
			}
			if !works(annKey, s.ann) || !works(bobKey, s.bob) {
				t.Fatal("fresh user keys do not work")
			}
			if status, body := admin.do("PATCH", fmt.Sprintf("/v1/users/%d", s.ann.ID), map[string]any{"deactivated": true}); status != 200 {
				t.Fatalf("deactivate: %d %v", status, body)
			}
			if works(annKey, s.ann) {
				t.Errorf("a user deactivated with PATCH keeps a working key")
			}
			if status, body := admin.do("DELETE", fmt.Sprintf("/v1/users/%d", s.bob.ID), nil); status != 204 {
				t.Fatalf("delete: %d %v", status, body)
			}
			if works(bobKey, s.bob) {
				t.Errorf("a user deactivated with DELETE keeps a working key")
			}
			if status, body := admin.do("POST", "/v1/api_keys", map[string]any{"user_id": s.bob.ID}); status != 422 {
				t.Errorf("a key for a deactivated user: %d %v, want 422", status, body)
			}
			if status, body := admin.do("PATCH", fmt.Sprintf("/v1/users/%d", s.ann.ID), map[string]any{"deactivated": false}); status != 200 {
				t.Fatalf("reactivate: %d %v", status, body)
			}
			if !works(annKey, s.ann) {
				t.Errorf("a reactivated user's key does not work")
			}
		})
	}
}
