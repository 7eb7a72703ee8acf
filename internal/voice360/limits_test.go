package voice360

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	u, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", Extension: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{Name: "dev", SecretPrefix: SecretPrefix})
	if err != nil {
		t.Fatal(err)
	}
	usr, err := db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{Name: "ann", UserID: &u.ID})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New(Options{Store: db, Auth: httpapi.NewAuthenticator(db, time.Minute, log).AcceptHeaders(KeyHeader), Log: log})
	srv := httptest.NewServer((&httpapi.Observer{Log: log, MaxBody: 1 << 20}).Wrap("voice360", a, WriteError(log, time.Now)))
	defer srv.Close()
	checked := 0
	for _, rt := range a.table.Endpoints() {
		if rt.Body == nil {
			continue
		}
		key := dev.Secret
		if rt.X.Access == userKey {
			key = usr.Secret
		}
		path := fmt.Sprintf("%s/%d%s", Base, tn.ID, regexp.MustCompile(`\{[a-zA-Z_]+\}`).ReplaceAllString(rt.X.Path, "1"))
		for _, v := range httpapi.Violations(rt.Body) {
			b, _ := json.Marshal(map[string]any{v.Field: v.Value})
			req, _ := http.NewRequest(rt.Method, srv.URL+path, bytes.NewReader(b))
			req.Header.Set("X-API-Key", key)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var e struct {
				Details struct {
					Fields map[string]string `json:"fields"`
				} `json:"details"`
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			json.Unmarshal(raw, &e)
			if res.StatusCode != http.StatusBadRequest || e.Details.Fields[v.Field] == "" {
				t.Errorf("%s %s with %s = %.40v: %d %.300s, want 400 naming %s", rt.Method, rt.Path, v.Field, v.Value, res.StatusCode, raw, v.Field)
			}
			checked++
		}
	}
	t.Logf("%d bad values sent", checked)
	if checked < 20 {
		t.Errorf("only %d bad values sent; the walk missed the routes", checked)
	}
}
