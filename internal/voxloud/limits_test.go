package voxloud

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestEveryBoundIsEnforced sends, to every route with a body, what each
// top-level field's tags refuse (httpapi.Violations) through the real
// server: each answers 400 in the dialect's envelope naming the field.
func TestEveryBoundIsEnforced(t *testing.T) {
	ctx := context.Background()
	db := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{Name: "walk"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New(Options{Store: db, Auth: httpapi.NewAuthenticator(db, time.Minute, log).AcceptHeaders(KeyHeader), Limiter: httpapi.NewRateLimiter(0, 0), Log: log})
	srv := httptest.NewServer((&httpapi.Observer{Log: log, MaxBody: 1 << 20}).Wrap("voxloud", a, WriteError(log)))
	defer srv.Close()
	checked := 0
	for _, rt := range a.table.Endpoints() {
		if rt.Body == nil {
			continue
		}
		path := regexp.MustCompile(`\{[a-zA-Z_]+\}`).ReplaceAllString(rt.Path, "1")
		for _, v := range httpapi.Violations(rt.Body) {
			b, _ := json.Marshal(map[string]any{v.Field: v.Value})
			req, _ := http.NewRequest(rt.Method, srv.URL+path, bytes.NewReader(b))
			req.Header.Set("Voverc-Auth", k.Secret)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var e ErrorBody
			json.NewDecoder(res.Body).Decode(&e)
			res.Body.Close()
			named := false
			for _, fe := range e.Errors {
				named = named || fe.Field == v.Field
			}
			if res.StatusCode != http.StatusBadRequest || !named {
				t.Errorf("%s %s with %s = %.40v: %d %+v, want 400 naming %s", rt.Method, rt.Path, v.Field, v.Value, res.StatusCode, e, v.Field)
			}
			checked++
		}
	}
	t.Logf("%d bad values sent", checked)
	if checked < 30 {
		t.Errorf("only %d bad values sent; the walk missed the routes", checked)
	}
}
