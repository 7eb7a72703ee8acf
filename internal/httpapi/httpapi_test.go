package httpapi_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

func TestExtractCredential(t *testing.T) {
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name    string
		headers map[string]string
		want    httpapi.Credential
		wantErr bool
	}{
		{"bearer", map[string]string{"Authorization": "Bearer k1"}, httpapi.Credential{Style: httpapi.StyleBearer, Secret: "k1"}, false},
		{"bearer any case", map[string]string{"Authorization": "bearer  k1 "}, httpapi.Credential{Style: httpapi.StyleBearer, Secret: "k1"}, false},
		{"first header", map[string]string{"X-Vendor-Auth": "k2", "X-Other-Key": "k3", "Authorization": "Bearer k1"},
			httpapi.Credential{Style: httpapi.StyleHeader, Header: "X-Vendor-Auth", Secret: "k2"}, false},
		{"second header", map[string]string{"X-Other-Key": "k3"}, httpapi.Credential{Style: httpapi.StyleHeader, Header: "X-Other-Key", Secret: "k3"}, false},
		{"unregistered header", map[string]string{"X-Unknown-Key": "k3"}, httpapi.Credential{}, true},
		{"basic", map[string]string{"Authorization": basic("acme:k4")}, httpapi.Credential{Style: httpapi.StyleBasic, Secret: "k4", Slug: "acme"}, false},
		{"basic with colon in key", map[string]string{"Authorization": basic("acme:k:5")}, httpapi.Credential{Style: httpapi.StyleBasic, Secret: "k:5", Slug: "acme"}, false},
		{"basic without slug", map[string]string{"Authorization": basic("k4")}, httpapi.Credential{}, true},
		{"basic not base64", map[string]string{"Authorization": "Basic !!!"}, httpapi.Credential{}, true},
		{"none", nil, httpapi.Credential{}, true},
		{"digest", map[string]string{"Authorization": "Digest x"}, httpapi.Credential{}, true},
		{"empty bearer", map[string]string{"Authorization": "Bearer"}, httpapi.Credential{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			got, err := httpapi.ExtractCredential(r, "X-Vendor-Auth", "X-Other-Key")
			if (err != nil) != tt.wantErr {
				t.Fatalf("ExtractCredential() error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && switchboard.ErrorCode(err) != switchboard.CodeUnauthorized {
				t.Errorf("error code %q, want unauthorized", switchboard.ErrorCode(err))
			}
			if got != tt.want {
				t.Errorf("ExtractCredential() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAuthenticatorStylesAndCache(t *testing.T) {
	ctx := context.Background()
	store := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	tn, _ := store.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	k, err := store.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{})
	if err != nil {
		t.Fatal(err)
	}
	auth := httpapi.NewAuthenticator(store, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil))).AcceptHeaders("X-Vendor-Auth", "X-Other-Key")
	req := func(h, v string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set(h, v)
		return r
	}
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, r := range []*http.Request{
		req("Authorization", "Bearer "+k.Secret), req("X-Vendor-Auth", k.Secret), req("X-Other-Key", k.Secret),
		req("Authorization", basic("acme:"+k.Secret)),
	} {
		p, err := auth.Authenticate(r)
		if err != nil || p.Tenant.ID != tn.ID || p.Key.ID != k.ID {
			t.Errorf("Authenticate(%v) = %+v, %v", r.Header, p, err)
		}
	}
	if _, err := auth.Authenticate(req("Authorization", basic("other:"+k.Secret))); switchboard.ErrorCode(err) != switchboard.CodeUnauthorized {
		t.Errorf("Basic with another tenant's slug: %v, want unauthorized", err)
	}
	if got, _ := store.APIKey(ctx, tn.ID, k.ID); got.LastUsedAt == nil {
		t.Errorf("key use was not recorded")
	}
	// Revoked in the store: the cache still trusts it until Forget.
	if _, err := store.RevokeAPIKey(ctx, tn.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	auth.Forget(k.ID)
	if _, err := auth.Authenticate(req("Authorization", "Bearer "+k.Secret)); switchboard.ErrorCode(err) != switchboard.CodeUnauthorized {
		t.Errorf("revoked and forgotten key: %v, want unauthorized", err)
	}
}

func TestRateLimiter(t *testing.T) {
	l := httpapi.NewRateLimiter(2, 2)
	for i := range 2 {
		if ok, _, _ := l.Allow(1); !ok {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	ok, retry, _ := l.Allow(1)
	if ok || retry <= 0 || retry > time.Second {
		t.Fatalf("third request: ok %v retry %v, want refusal with a retry under 1s", ok, retry)
	}
	if ok, _, _ := l.Allow(2); !ok {
		t.Errorf("another key shares the bucket")
	}
	if ok, _, _ := httpapi.NewRateLimiter(0, 1).Allow(1); !ok {
		t.Errorf("a zero rate must disable limiting")
	}
	h := http.Header{}
	httpapi.SetRetryAfter(h, 1500*time.Millisecond)
	if h.Get("Retry-After") != "2" {
		t.Errorf("Retry-After = %q, want 2 (rounded up)", h.Get("Retry-After"))
	}
}

func TestObserverRecoversAndMeasures(t *testing.T) {
	m := httpapi.NewMetrics()
	obs := &httpapi.Observer{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: m, MaxBody: 10}
	var gotErr error
	h := obs.Wrap("native", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.InfoFrom(r.Context()).Route = "POST /boom"
		if r.URL.Path == "/big" {
			var v map[string]any
			gotErr = httpapi.DecodeJSON(r, &v, true)
			return
		}
		panic("boom")
	}), func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(599)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Post(srv.URL+"/boom", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 599 || res.Header.Get("X-Request-Id") == "" {
		t.Errorf("panic: status %d request id %q", res.StatusCode, res.Header.Get("X-Request-Id"))
	}
	res, err = http.Post(srv.URL+"/big", "application/json", strings.NewReader(`{"a":"0123456789"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if switchboard.ErrorCode(gotErr) != switchboard.CodeTooLarge {
		t.Errorf("oversized body: %v, want too_large", gotErr)
	}
	mres := httptest.NewRecorder()
	m.Handler().ServeHTTP(mres, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(mres.Body.String(), `switchboard_http_requests_total{code="599",dialect="native",route="POST /boom"} 1`) {
		t.Errorf("metrics do not count the requests:\n%s", mres.Body.String())
	}
}

func TestAllowed(t *testing.T) {
	routes := [][2]string{{"GET", "/v1/users"}, {"POST", "/v1/users"}, {"GET", "/v1/users/{id}"}, {"PATCH", "/v1/users/{id}"}, {"GET", "/v1/users"}}
	for path, want := range map[string]string{"/v1/users": "GET,POST", "/v1/users/7": "GET,PATCH", "/v1/users/": "", "/v1/users/7/x": ""} {
		if got := strings.Join(httpapi.Allowed(routes, path), ","); got != want {
			t.Errorf("Allowed(%s) = %q, want %q", path, got, want)
		}
	}
}

// TestAuthenticatorReflectsRevocationAndDeactivation shows what a caller that
// re-runs Authenticate (an open event stream) sees: a key revoked or a user
// deactivated on another node stops within the cache lifetime, and at once
// when this node forgets it; on both engines.
func TestAuthenticatorReflectsRevocationAndDeactivation(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := sqlstoretest.Open(t, mk(t), sqlstore.Options{})
			tn, _ := store.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
			ann, _ := store.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
			bob, _ := store.CreateUser(ctx, tn.ID, switchboard.User{Email: "bob@acme.test", FirstName: "Bob"})
			annKey, err := store.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{UserID: &ann.ID})
			if err != nil {
				t.Fatal(err)
			}
			bobKey, _ := store.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{UserID: &bob.ID})
			tenantKey, _ := store.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{})
			const ttl = 300 * time.Millisecond
			auth := httpapi.NewAuthenticator(store, ttl, slog.New(slog.NewTextHandler(io.Discard, nil)))
			works := func(secret string) bool {
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("Authorization", "Bearer "+secret)
				_, err := auth.Authenticate(r)
				if err != nil && switchboard.ErrorCode(err) != switchboard.CodeUnauthorized {
					t.Fatalf("Authenticate: %v", err)
				}
				return err == nil
			}
			for _, s := range []string{annKey.Secret, bobKey.Secret, tenantKey.Secret} {
				if !works(s) {
					t.Fatalf("a fresh key does not authenticate")
				}
			}
			deactivate := func(u switchboard.User) {
				t.Helper()
				now := time.Now()
				u.DeactivatedAt = &now
				if _, err := store.UpdateUser(ctx, tn.ID, u); err != nil {
					t.Fatal(err)
				}
			}
			// Another node deactivates Ann and revokes the tenant key: this
			// node's cache trusts them for at most ttl.
			deactivate(ann)
			if _, err := store.RevokeAPIKey(ctx, tn.ID, tenantKey.ID); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for works(annKey.Secret) || works(tenantKey.Secret) {
				if time.Since(start) > ttl+time.Second {
					t.Fatalf("a deactivated user's key or a revoked key still works %v after the change (cache ttl %v)", time.Since(start), ttl)
				}
				time.Sleep(20 * time.Millisecond)
			}
			// This node deactivates Bob: his key stops on the next request.
			deactivate(bob)
			auth.ForgetUser(tn.ID, bob.ID)
			if works(bobKey.Secret) {
				t.Errorf("a deactivated and forgotten user's key still works")
			}
			// Reactivated, Ann's key works again.
			ann, _ = store.User(ctx, tn.ID, ann.ID)
			ann.DeactivatedAt = nil
			if _, err := store.UpdateUser(ctx, tn.ID, ann); err != nil {
				t.Fatal(err)
			}
			if !works(annKey.Secret) {
				t.Errorf("a reactivated user's key does not work")
			}
		})
	}
}

// TestReady: /readyz answers 200 while the database answers and 503 without
// the reason once it is closed; /healthz answers 200 either way.
func TestReady(t *testing.T) {
	db := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	mux := http.NewServeMux()
	var stalled atomic.Bool
	mux.Handle("GET /readyz", httpapi.Ready(slog.New(slog.DiscardHandler), httpapi.ReadyCheck{Reason: "database does not answer", Check: db.Ping},
		httpapi.ReadyCheck{Reason: "calls stalled", Check: func(context.Context) error {
			if stalled.Load() {
				return errors.New("writer down")
			}
			return nil
		}}))
	mux.Handle("GET /healthz", httpapi.Health("1.2.3"))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if status, body := get("/readyz"); status != 200 || !strings.Contains(body, `"ready"`) {
		t.Errorf("ready: %d %s", status, body)
	}
	stalled.Store(true)
	if status, body := get("/readyz"); status != 503 || !strings.Contains(body, "calls stalled") || strings.Contains(body, "writer down") {
		t.Errorf("second check failing: %d %s", status, body)
	}
	stalled.Store(false)
	db.Close()
	if status, body := get("/readyz"); status != 503 || !strings.Contains(body, "database does not answer") || strings.Contains(body, "closed") {
		t.Errorf("database closed: %d %s", status, body)
	}
	if status, body := get("/healthz"); status != 200 || !strings.Contains(body, "1.2.3") {
		t.Errorf("healthz: %d %s", status, body)
	}
}
