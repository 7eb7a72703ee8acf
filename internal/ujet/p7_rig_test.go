package ujet

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
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

// p7Rig is the dialect over HTTP on loopback with a real store, a tenant
// with company keys (one per scope the contact-list and queue-settings
// routes take, and one with every scope), and a second tenant.
type p7Rig struct {
	t        testing.TB
	db       *sqlstore.DB
	srv      *httptest.Server
	tenant   switchboard.Tenant
	other    switchboard.Tenant
	keys     map[string]string
	otherKey string
}

// p7Engines runs test on a rig over each engine: SQLite always, PostgreSQL
// when sqlstoretest.PostgresEnv is set.
func p7Engines(t *testing.T, test func(t *testing.T, r *p7Rig)) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) { test(t, newP7Rig(t, mk(t))) })
	}
}

func newP7Rig(t testing.TB, dbURL string) *p7Rig {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	r := &p7Rig{t: t, keys: map[string]string{}}
	r.db = sqlstoretest.Open(t, dbURL, sqlstore.Options{Logger: log})
	var err error
	if r.tenant, err = r.db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if r.other, err = r.db.CreateTenant(ctx, switchboard.Tenant{Slug: "rival", Name: "Rival"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{switchboard.ScopeAll, switchboard.ScopeContactsRead, switchboard.ScopeContactsManage,
		switchboard.ScopeRoutingRead, switchboard.ScopeRoutingManage} {
		k, err := r.db.CreateAPIKey(ctx, r.tenant.ID, switchboard.APIKey{Name: s, Scopes: []string{s}})
		if err != nil {
			t.Fatal(err)
		}
		r.keys[s] = k.Secret
	}
	k, err := r.db.CreateAPIKey(ctx, r.other.ID, switchboard.APIKey{Name: "rival", Scopes: []string{switchboard.ScopeAll}})
	if err != nil {
		t.Fatal(err)
	}
	r.otherKey = k.Secret
	api := New(Options{Store: r.db, Auth: httpapi.NewAuthenticator(r.db, time.Minute, log), Limiter: httpapi.NewRateLimiter(0, 0),
		PublicURL: "https://acme.example.test", Log: log})
	r.srv = httptest.NewServer(api)
	t.Cleanup(r.srv.Close)
	return r
}

// p7Resp is one answer.
type p7Resp struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v, failing the test when it is not JSON.
func (a p7Resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("body %s: %v", a.body, err)
	}
}

// object is the body as a JSON object.
func (a p7Resp) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	a.json(t, &m)
	return m
}

// send sends a request with Basic auth (slug : key) and a body of
// contentType.
func (r *p7Rig) send(method, path, slug, key, contentType string, body io.Reader) p7Resp {
	r.t.Helper()
	req, err := http.NewRequest(method, r.srv.URL+"/apps/api/v1/"+strings.TrimPrefix(path, "/"), body)
	if err != nil {
		r.t.Fatal(err)
	}
	if key != "" {
		req.SetBasicAuth(slug, key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := r.srv.Client().Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return p7Resp{status: res.StatusCode, header: res.Header, body: b}
}

// do sends body (a string as is, else as JSON; nil for none) with the key of
// scope.
func (r *p7Rig) do(method, path, scope string, body any) p7Resp {
	r.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	return r.send(method, path, "acme", r.keys[scope], "application/json", rd)
}

// upload posts a multipart form: file (named name, holding content) and
// the other fields.
func (r *p7Rig) upload(path, name string, content []byte, fields map[string]string) p7Resp {
	r.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if name != "" {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			r.t.Fatal(err)
		}
		fw.Write(content)
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	return r.send("POST", path, "acme", r.keys[switchboard.ScopeRoutingManage], mw.FormDataContentType(), &buf)
}

// want fails unless the answer has status; for an error it also checks the
// {"message": text} body when text is not empty.
func (a p7Resp) want(t testing.TB, status int, text string) p7Resp {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	if text != "" {
		var e struct {
			Message string `json:"message"`
		}
		a.json(t, &e)
		if e.Message != text {
			t.Fatalf("message %q, want %q", e.Message, text)
		}
	}
	return a
}

// p7WantTypes checks that obj has exactly the keys of types with values of
// those JSON types: "string", "number", "boolean", "array", "object",
// "null", or "string|null" for a nullable one.
func p7WantTypes(t *testing.T, what string, obj map[string]any, types map[string]string) {
	t.Helper()
	for k, typ := range types {
		v, ok := obj[k]
		if !ok {
			t.Errorf("%s: no key %q in %v", what, k, obj)
			continue
		}
		got := "null"
		switch v.(type) {
		case string:
			got = "string"
		case float64:
			got = "number"
		case bool:
			got = "boolean"
		case []any:
			got = "array"
		case map[string]any:
			got = "object"
		}
		if !strings.Contains("|"+typ+"|", "|"+got+"|") {
			t.Errorf("%s: %s is %s (%v), want %s", what, k, got, v, typ)
		}
	}
	for k := range obj {
		if _, ok := types[k]; !ok {
			t.Errorf("%s: unexpected key %q", what, k)
		}
	}
}
