package httpapi_test

import (
	"context"
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

// TestIdempotencyRules drives the kit's Idempotency-Key over real HTTP on a
// real store: a 5xx is not kept (the retry acts), a malformed key is 400,
// answers are kept per credential, and a key is free again after its TTL.
func TestIdempotencyRules(t *testing.T) {
	db := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	idem := &httpapi.Idempotency{Store: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }}
	var calls atomic.Int64
	fail := atomic.Bool{}
	tb := &httpapi.Table[int64, struct{}]{
		Admit: func(w http.ResponseWriter, r *http.Request, e *httpapi.Endpoint[struct{}]) (int64, error) {
			info := httpapi.InfoFrom(r.Context())
			info.TenantID, info.KeyID = 1, 1
			if r.Header.Get("X-Key") == "two" {
				info.KeyID = 2
			}
			return info.KeyID, nil
		},
		Errors: func(w http.ResponseWriter, r *http.Request, err error) {
			status := map[switchboard.Code]int{switchboard.CodeBadRequest: 400, switchboard.CodeInternal: 500}[switchboard.ErrorCode(err)]
			httpapi.WriteJSON(w, status, map[string]string{"code": string(switchboard.ErrorCode(err))})
		},
		Idempotency: idem,
	}
	httpapi.Handle(tb, httpapi.Endpoint[struct{}]{Route: httpapi.Route{Method: "POST", Path: "/things", Scope: "s"}, Status: 201},
		func(ctx context.Context, key int64, in *struct {
			Name string `json:"name" limit:"20"`
		}) (map[string]any, error) {
			n := calls.Add(1)
			if fail.Load() {
				return nil, switchboard.Errorf(switchboard.CodeInternal, "down")
			}
			return map[string]any{"n": n, "name": in.Name, "key": key}, nil
		})
	srv := httptest.NewServer(tb)
	defer srv.Close()
	post := func(idemKey, credential string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/things", strings.NewReader(`{"name":"a"}`))
		req.Header.Set("Idempotency-Key", idemKey)
		req.Header.Set("X-Key", credential)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(b)), res.Header.Get("Idempotent-Replayed")
	}

	fail.Store(true)
	if status, _, _ := post("k", "one"); status != 500 {
		t.Fatalf("failing first try: %d", status)
	}
	fail.Store(false)
	status, body, replayed := post("k", "one")
	if status != 201 || replayed != "" || calls.Load() != 2 {
		t.Fatalf("retry after a 5xx: %d %s replayed %q after %d calls; want it served afresh", status, body, replayed, calls.Load())
	}
	if s2, b2, r2 := post("k", "one"); s2 != 201 || b2 != body || r2 != "true" || calls.Load() != 2 {
		t.Errorf("retry: %d %s replayed %q after %d calls; want the first answer replayed", s2, b2, r2, calls.Load())
	}
	if s3, b3, r3 := post("k", "two"); s3 != 201 || r3 != "" || b3 == body {
		t.Errorf("the same key from another credential: %d %s replayed %q; want its own answer", s3, b3, r3)
	}
	for _, bad := range []string{strings.Repeat("x", 256), "caf\u00e9", "tab\there"} {
		if s, b, _ := post(bad, "one"); s != 400 || !strings.Contains(b, "bad_request") {
			t.Errorf("key %q: %d %s, want 400", bad, s, b)
		}
	}
	before := calls.Load()
	now = now.Add(24*time.Hour + time.Second)
	if s, _, r := post("k", "one"); s != 201 || r != "" || calls.Load() != before+1 {
		t.Errorf("after 24 h: %d replayed %q; want the key free again", s, r)
	}
}
