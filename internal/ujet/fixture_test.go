package ujet

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// ujetFixture is the dialect served over HTTP on loopback from a real
// SQLite store, with a tenant (slug acme) holding a company key of every
// scope and a second tenant whose objects acme must never see. It carries no
// call center: checks of the route table and the document need none, and
// the end-to-end replays run on the whole server (cmd/switchboard).
type ujetFixture struct {
	t      *testing.T
	db     *sqlstore.DB
	api    *API
	srv    *httptest.Server
	tenant switchboard.Tenant
	other  switchboard.Tenant
	// key is acme's company key with every scope.
	key string
}

func newUJETFixture(t *testing.T) *ujetFixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	f := &ujetFixture{t: t}
	f.db = sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{Logger: log})
	var err error
	if f.tenant, err = f.db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme", AdminEmail: "ops@example.com"}); err != nil {
		t.Fatal(err)
	}
	if f.other, err = f.db.CreateTenant(ctx, switchboard.Tenant{Slug: "other", Name: "Other", AdminEmail: "ops@other.example.com"}); err != nil {
		t.Fatal(err)
	}
	k, err := f.db.CreateAPIKey(ctx, f.tenant.ID, switchboard.APIKey{Name: "company"})
	if err != nil {
		t.Fatal(err)
	}
	f.key = k.Secret
	f.api = New(Options{Store: f.db, Auth: httpapi.NewAuthenticator(f.db, time.Minute, log), Log: log})
	f.srv = httptest.NewServer(f.api)
	t.Cleanup(f.srv.Close)
	return f
}

// basic is the Authorization header UJET's clients send: HTTP Basic with
// the tenant's slug as the user and the key as the password.
func basic(slug, key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(slug+":"+key))
}

// do sends method path with a JSON body ("" for none) as acme's company key
// and returns the status and the body.
func (f *ujetFixture) do(method, path, body string) (int, []byte) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", basic(f.tenant.Slug, f.key))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return res.StatusCode, out
}
