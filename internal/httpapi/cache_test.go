package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// cacheRig is a table with one cached route over a real store, served over
// loopback HTTP, counting how often its handler runs.
type cacheRig struct {
	t       *testing.T
	store   *sqlstore.DB
	tenant  switchboard.Tenant
	keys    []string
	url     string
	cache   *httpapi.ResponseCache
	handled atomic.Int64
	epoch   atomic.Int64
}

func newCacheRig(t *testing.T, maxBytes int64, withEpoch bool) *cacheRig {
	ctx := context.Background()
	store := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	tn, err := store.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	rig := &cacheRig{t: t, store: store, tenant: tn}
	for _, name := range []string{"one", "two"} {
		k, err := store.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		rig.keys = append(rig.keys, k.Secret)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	auth := httpapi.NewAuthenticator(store, 0, log)
	rig.cache = httpapi.NewResponseCache(store.EventHead, maxBytes)
	tb := &httpapi.Table[httpapi.Principal, struct{}]{
		Admit: func(w http.ResponseWriter, r *http.Request, e *httpapi.Endpoint[struct{}]) (httpapi.Principal, error) {
			return httpapi.Admit(w, r, auth, httpapi.NewRateLimiter(0, 1), e.Scope)
		},
		Errors: func(w http.ResponseWriter, r *http.Request, err error) { http.Error(w, err.Error(), 400) },
		Cache:  rig.cache,
	}
	if withEpoch {
		tb.CacheEpoch = rig.epoch.Load
	}
	httpapi.Handle(tb, httpapi.Endpoint[struct{}]{Route: httpapi.Route{Method: "GET", Path: "/teams", Scope: switchboard.ScopeRoutingRead}},
		func(ctx context.Context, p httpapi.Principal, _ *httpapi.NoBody) ([]string, error) {
			rig.handled.Add(1)
			teams, err := switchboard.All(ctx, store.Teams, p.Tenant.ID)
			names := []string{fmt.Sprint(rig.epoch.Load())}
			for _, tm := range teams {
				names = append(names, tm.Name)
			}
			return names, err
		})
	httpapi.Handle(tb, httpapi.Endpoint[struct{}]{Route: httpapi.Route{Method: "GET", Path: "/missing", Scope: switchboard.ScopeRoutingRead}},
		func(ctx context.Context, p httpapi.Principal, _ *httpapi.NoBody) ([]string, error) {
			rig.handled.Add(1)
			return nil, switchboard.Errorf(switchboard.CodeNotFound, "nothing here")
		})
	tb.CacheRoutes("GET /teams", "GET /missing")
	obs := &httpapi.Observer{Log: log}
	srv := httptest.NewServer(obs.Wrap("test", tb, tb.Errors))
	t.Cleanup(srv.Close)
	rig.url = srv.URL
	return rig
}

func (rig *cacheRig) get(path string, key int, inm string) (int, string, http.Header) {
	rig.t.Helper()
	req, _ := http.NewRequest("GET", rig.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+rig.keys[key])
	if inm != "" {
		req.Header.Set("If-None-Match", inm)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		rig.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func (rig *cacheRig) team(name string) {
	rig.t.Helper()
	if _, err := rig.store.CreateTeam(context.Background(), rig.tenant.ID, switchboard.Team{Name: name}); err != nil {
		rig.t.Fatal(err)
	}
}

func TestResponseCacheServesUnchangedDataFromMemory(t *testing.T) {
	rig := newCacheRig(t, 1<<20, false)
	rig.team("Sales")
	status, body, h := rig.get("/teams", 0, "")
	if status != 200 || !strings.Contains(body, "Sales") || rig.handled.Load() != 1 {
		t.Fatalf("first GET: %d %s, handled %d", status, body, rig.handled.Load())
	}
	etag := h.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || h.Get("Cache-Control") != "private, no-cache" || h.Get("Vary") != "Authorization, Accept" ||
		h.Get("X-Request-Id") == "" {
		t.Errorf("headers %v", h)
	}
	// Unchanged data: from memory, with the same bytes and ETag, and a new
	// request id (never one stored with the answer).
	status, again, h2 := rig.get("/teams", 0, "")
	if status != 200 || again != body || h2.Get("ETag") != etag || rig.handled.Load() != 1 || h2.Get("X-Request-Id") == h.Get("X-Request-Id") {
		t.Errorf("second GET: %d %s (ETag %s, request id %s), handled %d", status, again, h2.Get("ETag"), h2.Get("X-Request-Id"), rig.handled.Load())
	}
	// If-None-Match with the ETag (among others, or weak): 304, no body.
	for _, inm := range []string{etag, `"x", ` + etag, "W/" + etag, "*"} {
		status, empty, h3 := rig.get("/teams", 0, inm)
		if status != 304 || empty != "" || h3.Get("ETag") != etag || h3.Get("Content-Type") != "" {
			t.Errorf("If-None-Match %s: %d %q %v", inm, status, empty, h3)
		}
	}
	if status, _, _ := rig.get("/teams", 0, `"other"`); status != 200 {
		t.Errorf("If-None-Match another tag: %d", status)
	}
	// Another key of the tenant has entries of its own.
	rig.get("/teams", 1, "")
	if rig.handled.Load() != 2 {
		t.Errorf("a second key was served another key's entry (handled %d)", rig.handled.Load())
	}
	// A write moves the sequence: the next read runs the handler, and the old
	// ETag no longer matches.
	rig.team("Support")
	status, body, h = rig.get("/teams", 0, etag)
	if status != 200 || !strings.Contains(body, "Support") || h.Get("ETag") == etag || rig.handled.Load() != 3 {
		t.Errorf("after a write: %d %s (ETag %s), handled %d", status, body, h.Get("ETag"), rig.handled.Load())
	}
	// Errors are passed on and never stored.
	for range 2 {
		if status, body, _ := rig.get("/missing", 0, ""); status != 400 || !strings.Contains(body, "nothing here") {
			t.Errorf("GET /missing: %d %s", status, body)
		}
	}
	if rig.handled.Load() != 5 {
		t.Errorf("errors were stored: handled %d", rig.handled.Load())
	}
	st := rig.cache.Stats()
	if st.Hits != 6 || st.NotModified != 4 || st.Entries != 2 {
		t.Errorf("stats %+v", st)
	}
	m := httpapi.NewMetrics()
	m.ObserveCache(rig.cache)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{"switchboard_http_cache_hits_total 6", "switchboard_http_cache_not_modified_total 4",
		"switchboard_http_cache_misses_total 5"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestResponseCacheKeepsToItsBound(t *testing.T) {
	rig := newCacheRig(t, 64<<10, false)
	for i := range 20 {
		rig.team(fmt.Sprintf("team %03d %s", i, strings.Repeat("x", 100)))
	}
	for i := range 100 {
		rig.get(fmt.Sprintf("/teams?page=%d", i), 0, "")
	}
	if st := rig.cache.Stats(); st.Bytes > 64<<10 || st.Entries == 0 || st.Entries >= 100 {
		t.Errorf("stats %+v: want at most 64 KiB in fewer than 100 entries", st)
	}
	// The most recent entry is still there.
	before := rig.handled.Load()
	rig.get("/teams?page=99", 0, "")
	if rig.handled.Load() != before {
		t.Error("the most recently used entry was evicted")
	}
}

func TestResponseCacheEpoch(t *testing.T) {
	rig := newCacheRig(t, 1<<20, true)
	rig.epoch.Store(1)
	_, body, _ := rig.get("/teams", 0, "")
	rig.get("/teams", 0, "")
	if rig.handled.Load() != 1 {
		t.Fatalf("same epoch: handled %d", rig.handled.Load())
	}
	rig.epoch.Store(2)
	_, later, _ := rig.get("/teams", 0, "")
	if rig.handled.Load() != 2 || later == body || !strings.HasPrefix(later, `["2"`) {
		t.Errorf("next epoch served %s (handled %d)", later, rig.handled.Load())
	}
}

func TestResponseCacheSkipsHugeKeys(t *testing.T) {
	rig := newCacheRig(t, 1<<20, false)
	long := "/teams?q=" + strings.Repeat("a", 3000)
	for range 2 {
		if status, _, h := rig.get(long, 0, ""); status != 200 || h.Get("ETag") != "" {
			t.Fatalf("GET with a huge query: %d, ETag %q", status, h.Get("ETag"))
		}
	}
	if rig.handled.Load() != 2 || rig.cache.Stats().Entries != 0 {
		t.Errorf("a huge key was cached: handled %d, stats %+v", rig.handled.Load(), rig.cache.Stats())
	}
}
