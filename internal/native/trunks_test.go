package native

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// fixedHealth is a TrunkHealth reporting one state for every trunk it knows.
type fixedHealth map[int64]switchboard.TrunkStatus

func (h fixedHealth) TrunkStatus(id int64) (switchboard.TrunkStatus, bool) {
	st, ok := h[id]
	return st, ok
}

// TestTrunksAPI drives /v1/trunks over real HTTP on every engine: the two
// creates of the contract exactly as written, the shape of what is
// shown (no password ever), validation naming the field, 409 on a duplicate
// name, Idempotency-Key, the default moving between trunks, PATCH keeping
// passwords, status, and delete.
func TestTrunksAPI(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			store := sqlstoretest.Open(t, mk(t), sqlstore.Options{})
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			health := fixedHealth{}
			api := New(Options{Store: store, Auth: httpapi.NewAuthenticator(store, time.Second, log),
				Limiter: httpapi.NewRateLimiter(0, 1), Log: log, TrunkHealth: health,
				Idempotency: &httpapi.Idempotency{Store: store, Log: log}})
			srv := httptest.NewServer((&httpapi.Observer{Log: log, MaxBody: 64 << 10}).Wrap("native", api, WriteError(log)))
			t.Cleanup(srv.Close)
			ta := &testAPI{api: api, store: store, url: srv.URL}
			testTrunksAPI(t, ta, health)
		})
	}
}

func testTrunksAPI(t *testing.T, ta *testAPI, health fixedHealth) {
	ctx := context.Background()
	f := newFixture(t, ta.store, "acme")
	other := newFixture(t, ta.store, "beta")
	post := func(body string, header map[string]string) response {
		t.Helper()
		var raw json.RawMessage = []byte(body)
		res, err := ta.send("POST", "/v1/trunks", f.key, raw, header)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	res := post(`{"name":"inbound carrier","inbound_addresses":["127.0.0.1/32"]}`, nil)
	if res.status != http.StatusCreated {
		t.Fatalf("POST inbound trunk = %d %s", res.status, res.body)
	}
	var in map[string]any
	res.decode(t, &in)
	wantKeys := []string{"id", "tenant_id", "name", "inbound_addresses", "inbound_username", "outbound_uri", "username",
		"register", "default_outbound", "caller_id", "strip_plus", "prefix", "max_concurrent_calls", "calls_per_second",
		"options_interval_seconds", "enabled", "password_set", "inbound_password_set", "created_at", "updated_at"}
	var keys []string
	for k := range in {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("trunk fields = %v, want %v", keys, wantKeys)
	}
	if in["id"].(float64) <= 0 || in["enabled"] != true || in["caller_id"] != "from_call" || in["tenant_id"] != float64(f.tenant.ID) {
		t.Errorf("created inbound trunk = %s", res.body)
	}

	// The outbound create of the contract, with an Idempotency-Key: a retry
	// is answered byte for byte and creates nothing.
	outBody := `{"name":"out","outbound_uri":"sip:127.0.0.1:5099","username":"u","password":"p","default_outbound":true}`
	idem := map[string]string{"Idempotency-Key": "trunk-out-1"}
	res = post(outBody, idem)
	if res.status != http.StatusCreated {
		t.Fatalf("POST outbound trunk = %d %s", res.status, res.body)
	}
	if strings.Contains(string(res.body), `"p"`) || strings.Contains(string(res.body), `"password":`) {
		t.Errorf("the password is shown: %s", res.body)
	}
	again := post(outBody, idem)
	if again.status != http.StatusCreated || string(again.body) != string(res.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry = %d %s, want the first answer replayed", again.status, again.body)
	}
	var out switchboard.Trunk
	res.decode(t, &out)
	if !out.DefaultOutbound || !out.PasswordSet || out.Username != "u" {
		t.Errorf("created outbound trunk = %s", res.body)
	}
	stored, err := ta.store.Trunk(ctx, f.tenant.ID, out.ID)
	if err != nil || stored.Password != "p" {
		t.Fatalf("stored password = %q, %v", stored.Password, err)
	}

	// Errors name the field: 422 for what is invalid, 409 for a taken name.
	for _, c := range []struct {
		body, field string
		status      int
	}{
		{`{"name":"x","inbound_addresses":["127.0.0.300/32"]}`, "inbound_addresses", 422},
		{`{"name":"x","inbound_addresses":["10.1.2.3/8"]}`, "inbound_addresses", 422},
		{`{"name":"x","outbound_uri":"tel:+390612345678"}`, "outbound_uri", 422},
		{`{"name":"x","outbound_uri":"sip:carrier.example.com:0"}`, "outbound_uri", 422},
		{`{"name":"x"}`, "outbound_uri", 422},
		{`{"name":"x","outbound_uri":"sip:h","calls_per_second":20000}`, "calls_per_second", 422},
		{`{"name":"x","outbound_uri":"sip:h","caller_id":"12"}`, "caller_id", 422},
		{`{"name":"x","outbound_uri":"sip:h","register":true}`, "register", 422},
		{`{"name":"x","inbound_username":"carrier"}`, "inbound_password", 422},
		{`{"name":"inbound carrier","inbound_addresses":["10.0.0.0/8"]}`, "name", 409},
	} {
		res := post(c.body, nil)
		if res.status != c.status {
			t.Errorf("POST %s = %d %s, want %d", c.body, res.status, res.body, c.status)
			continue
		}
		if e := res.errorBody(t); e.Fields[c.field] == "" {
			t.Errorf("POST %s: error %+v does not name %s", c.body, e, c.field)
		}
	}
	// Another tenant may use the same name.
	if res, _ := ta.send("POST", "/v1/trunks", other.key, map[string]any{"name": "inbound carrier", "inbound_addresses": []string{"127.0.0.1"}}, nil); res.status != http.StatusCreated {
		t.Errorf("same name in another tenant = %d %s", res.status, res.body)
	}

	// A second default takes the flag; PATCH without a password keeps it.
	res = post(`{"name":"backup","outbound_uri":"sips:sip.carrier.example;transport=tls","default_outbound":true,"caller_id":"+39 06 1234 5678","strip_plus":true,"prefix":"00","max_concurrent_calls":30,"calls_per_second":5,"options_interval_seconds":30}`, nil)
	if res.status != http.StatusCreated {
		t.Fatalf("POST backup = %d %s", res.status, res.body)
	}
	var backup switchboard.Trunk
	res.decode(t, &backup)
	if backup.CallerID != "+390612345678" {
		t.Errorf("caller_id = %q, want E.164", backup.CallerID)
	}
	path := fmt.Sprintf("/v1/trunks/%d", out.ID)
	res = ta.do(t, "GET", path, f.key, nil)
	res.decode(t, &out)
	if out.DefaultOutbound {
		t.Errorf("the first default kept default_outbound after another took it")
	}
	res = ta.do(t, "PATCH", path, f.key, map[string]any{"default_outbound": true, "enabled": false})
	if res.status != http.StatusOK {
		t.Fatalf("PATCH = %d %s", res.status, res.body)
	}
	res.decode(t, &out)
	if !out.DefaultOutbound || out.Enabled || !out.PasswordSet {
		t.Errorf("patched = %s", res.body)
	}
	if stored, _ := ta.store.Trunk(ctx, f.tenant.ID, out.ID); stored.Password != "p" {
		t.Errorf("PATCH without a password changed it to %q", stored.Password)
	}
	if b, _ := ta.store.Trunk(ctx, f.tenant.ID, backup.ID); b.DefaultOutbound {
		t.Errorf("backup kept default_outbound")
	}

	// Status: the driver's view; disabled trunks say so; unknown without one.
	statusOf := func(id int64) switchboard.TrunkStatus {
		t.Helper()
		res := ta.do(t, "GET", fmt.Sprintf("/v1/trunks/%d/status", id), f.key, nil)
		if res.status != http.StatusOK {
			t.Fatalf("GET status = %d %s", res.status, res.body)
		}
		var st switchboard.TrunkStatus
		res.decode(t, &st)
		return st
	}
	health[backup.ID] = switchboard.TrunkStatus{State: switchboard.TrunkDown, LastError: "OPTIONS: no answer"}
	if st := statusOf(backup.ID); st.State != switchboard.TrunkDown || st.LastError != "OPTIONS: no answer" {
		t.Errorf("status = %+v", st)
	}
	if st := statusOf(out.ID); st.State != switchboard.TrunkDisabled {
		t.Errorf("disabled trunk's status = %+v", st)
	}
	if st := statusOf(int64(in["id"].(float64))); st.State != switchboard.TrunkUnknown {
		t.Errorf("unchecked trunk's status = %+v", st)
	}

	// List, then delete.
	res = ta.do(t, "GET", "/v1/trunks", f.key, nil)
	var list struct {
		Items []switchboard.Trunk `json:"items"`
	}
	res.decode(t, &list)
	if len(list.Items) != 4 {
		t.Errorf("GET /v1/trunks = %s, want 4 trunks", res.body)
	}
	if res := ta.do(t, "DELETE", path, f.key, nil); res.status != http.StatusNoContent {
		t.Errorf("DELETE = %d %s", res.status, res.body)
	}
	if res := ta.do(t, "GET", path, f.key, nil); res.status != http.StatusNotFound {
		t.Errorf("GET after DELETE = %d", res.status)
	}
}
