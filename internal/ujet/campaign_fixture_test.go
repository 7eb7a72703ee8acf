package ujet

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/callcenter"
	"switchboard/internal/dialer"
	"switchboard/internal/engine"
	"switchboard/internal/httpapi"
	"switchboard/internal/sim"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// p5Fixture is the dialect over HTTP on loopback for the DNC and campaign
// routes: a real store, a call center on the simulated driver, the dialer,
// a tenant with a queue, an agent and a campaign, and a second tenant whose
// objects the first must never see.
type p5Fixture struct {
	t        testing.TB
	db       *sqlstore.DB
	srv      *httptest.Server
	calls    *callcenter.Service
	tenant   switchboard.Tenant
	other    switchboard.Tenant
	queue    switchboard.Queue
	agent    switchboard.User
	campaign switchboard.Campaign
	// otherCampaign is the other tenant's.
	otherCampaign switchboard.Campaign
	// key holds every scope; readKey only the read scopes of these
	// routes; otherKey is the other tenant's.
	key, readKey, otherKey string
	// skew moves the dialect's clock ahead (nanoseconds).
	skew atomic.Int64
}

// p5EachEngine runs test on a fixture over each engine: SQLite always,
// PostgreSQL when sqlstoretest.PostgresEnv is set.
func p5EachEngine(t *testing.T, test func(t *testing.T, f *p5Fixture)) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) { test(t, newP5Fixture(t, mk(t))) })
	}
}

func newP5Fixture(t testing.TB, dbURL string) *p5Fixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	f := &p5Fixture{t: t}
	db := sqlstoretest.Open(t, dbURL, sqlstore.Options{Logger: log})
	f.db = db
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	f.tenant, err = db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme", AdminEmail: "ops@example.com"})
	must(err)
	f.other, err = db.CreateTenant(ctx, switchboard.Tenant{Slug: "other", Name: "Other", AdminEmail: "ops@other.example.com"})
	must(err)
	tid := f.tenant.ID
	f.queue, err = db.CreateQueue(ctx, tid, switchboard.Queue{Name: "Outbound Sales", Extension: "700", JoinEmpty: true, Language: "en"})
	must(err)
	f.agent, err = db.CreateUser(ctx, tid, switchboard.User{Email: "ann@example.com", FirstName: "Ann", LastName: "Agent", Extension: "101"})
	must(err)
	_, err = db.AddQueueMember(ctx, tid, switchboard.QueueMember{QueueID: f.queue.ID, UserID: f.agent.ID})
	must(err)
	_, err = db.CreatePhoneNumber(ctx, tid, switchboard.PhoneNumber{Number: "+18885658889", QueueID: &f.queue.ID})
	must(err)
	// The seed's contact shows this number (outbound_number) to the person.
	_, err = db.CreatePhoneNumber(ctx, tid, switchboard.PhoneNumber{Number: "+17608675309"})
	must(err)
	starts := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	f.campaign, err = db.CreateCampaign(ctx, tid, switchboard.Campaign{Name: "Winter Renewals", Mode: switchboard.ModePredictive,
		QueueID: f.queue.ID, MaxRedials: 3, RedialIntervalSeconds: 1800, OverdialAdjustment: 1.5, TargetToProcess: 500,
		Schedule: switchboard.CampaignSchedule{StartsAt: &starts}})
	must(err)
	oq, err := db.CreateQueue(ctx, f.other.ID, switchboard.Queue{Name: "Theirs"})
	must(err)
	f.otherCampaign, err = db.CreateCampaign(ctx, f.other.ID, switchboard.Campaign{Name: "Theirs", QueueID: oq.ID})
	must(err)

	mkKey := func(tenant int64, scopes ...string) string {
		k, err := db.CreateAPIKey(ctx, tenant, switchboard.APIKey{Name: strings.Join(scopes, " "), Scopes: scopes})
		must(err)
		return k.Secret
	}
	f.key = mkKey(tid, switchboard.ScopeAll)
	f.readKey = mkKey(tid, switchboard.ScopeCallsRead, switchboard.ScopeCampaignsRead)
	f.otherKey = mkKey(f.other.ID, switchboard.ScopeAll)

	clock := engine.NewVirtualClock(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
	drv := sim.New(clock)
	f.calls = callcenter.New(callcenter.Options{Store: db, Driver: drv, Clock: clock, IDBlock: 64,
		Router: engine.NewRouter(rand.New(rand.NewPCG(7, 11))), Log: log})
	drv.SetEngine(f.calls.Engine())
	must(f.calls.Start(ctx, time.Time{}))
	t.Cleanup(func() { f.calls.Close(context.Background()) })
	dial := dialer.NewService(dialer.ServiceOptions{Store: db, Engine: f.calls.Engine(), Clock: clock, Log: log})
	must(dial.Start(ctx))
	t.Cleanup(func() { dial.Close(context.Background()) })

	api := New(Options{Store: db, Auth: httpapi.NewAuthenticator(db, time.Minute, log), Calls: f.calls, Dialer: dial, Log: log,
		PublicURL: "https://acme.example.com", Now: func() time.Time { return time.Now().Add(time.Duration(f.skew.Load())) }})
	f.srv = httptest.NewServer(api)
	t.Cleanup(f.srv.Close)
	return f
}

// do sends method path (under /apps/api/v1) with a JSON body (nil for
// none, a string as is) under HTTP Basic slug:key, and returns the status,
// the headers and the body.
func (f *p5Fixture) do(method, path, slug, key string, body any) (int, http.Header, []byte) {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, f.srv.URL+"/apps/api/v1"+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(slug, key)
	return f.send(req)
}

func (f *p5Fixture) send(req *http.Request) (int, http.Header, []byte) {
	f.t.Helper()
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

// json does method path as the tenant with every scope, wants status, and
// decodes the answer into v (when not nil).
func (f *p5Fixture) json(method, path string, body any, status int, v any) {
	f.t.Helper()
	got, _, raw := f.do(method, path, "acme", f.key, body)
	if got != status {
		f.t.Fatalf("%s %s: %d %s, want %d", method, path, got, raw, status)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			f.t.Fatalf("%s %s: %s: %v", method, path, raw, err)
		}
	}
}

// upload posts file (named name) as the multipart part "file" to path.
func (f *p5Fixture) upload(path, name, contentType string, file []byte) (int, []byte) {
	f.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{`form-data; name="file"; filename="` + name + `"`}
	if contentType != "" {
		h["Content-Type"] = []string{contentType}
	}
	pw, err := mw.CreatePart(h)
	if err != nil {
		f.t.Fatal(err)
	}
	pw.Write(file)
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/apps/api/v1"+path, &buf)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.SetBasicAuth("acme", f.key)
	status, _, raw := f.send(req)
	return status, raw
}

func p5Unmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }
