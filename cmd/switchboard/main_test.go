package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
	"switchboard/internal/userimport"
)

// syncBuffer is a bytes.Buffer safe to read while the server writes its log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// newMain returns a Main with captured output and an environment of env only.
func newMain(env map[string]string) (*Main, *syncBuffer, *syncBuffer) {
	out, errOut := &syncBuffer{}, &syncBuffer{}
	m := NewMain(strings.NewReader(""), out, errOut)
	m.Getenv = func(k string) string { return env[k] }
	return m, out, errOut
}

// run runs one CLI command to completion and returns its stdout.
func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	m, out, errOut := newMain(nil)
	m.Stdin = strings.NewReader(stdin)
	err := m.Run(context.Background(), args)
	if err != nil {
		t.Logf("%v: stderr: %s", args, errOut.String())
	}
	return out.String(), err
}

// startServer runs "serve" with args on a free loopback port until the test ends.
func startServer(t *testing.T, args ...string) (*Main, string, *syncBuffer) {
	t.Helper()
	m, out, _ := newMain(nil)
	if err := m.Start(context.Background(), append([]string{"--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-level", "warn"}, args...)); err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m, "http://" + m.Addr(), out
}

type client struct {
	t    *testing.T
	base string
	key  string
}

func (c client) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var v map[string]any
	raw, _ := io.ReadAll(res.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			c.t.Fatalf("%s %s: body %q is not a JSON object", method, path, raw)
		}
	}
	return res.StatusCode, v
}

// TestContract exercises, on every engine, the commands and routes that outside
// checks rely on, exactly as the README documents them.
func TestContract(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			if _, err := run(t, "", "migrate", "--db", db); err != nil {
				t.Fatal(err)
			}
			out, err := run(t, "", "tenant", "create", "--db", db, "--slug", "acme", "--name", "Acme Corp")
			if err != nil {
				t.Fatal(err)
			}
			var tenant map[string]any
			if err := json.Unmarshal([]byte(out), &tenant); err != nil || strings.Count(strings.TrimSpace(out), "\n") != 0 {
				t.Fatalf("tenant create printed %q, want one JSON object", out)
			}
			if id, ok := tenant["id"].(float64); !ok || id < 1 || tenant["slug"] != "acme" {
				t.Fatalf("tenant create printed %v", tenant)
			}
			if _, err := run(t, "", "tenant", "create", "--db", db, "--slug", "acme", "--name", "Again"); err == nil {
				t.Errorf("duplicate tenant slug accepted")
			}
			secret, err := run(t, "", "key", "create", "--db", db, "--tenant", "acme", "--name", "ci")
			if err != nil {
				t.Fatal(err)
			}
			secret = strings.TrimSuffix(secret, "\n")
			if strings.ContainsAny(secret, " \n{") || !strings.HasPrefix(secret, "sbk_") {
				t.Fatalf("key create printed %q, want only the secret", secret)
			}

			srv, base, _ := startServer(t, "--db", db)
			c := client{t: t, base: base, key: secret}
			status, u := c.do("POST", "/v1/users", map[string]any{"email": "ann@acme.test", "first_name": "Ann", "last_name": "Smith", "extension": "1001", "agent_number": "7"})
			if status != 201 {
				t.Fatalf("POST /v1/users: %d %v", status, u)
			}
			uid, ok := u["id"].(float64)
			if !ok || uid < 1 {
				t.Fatalf("user id %v is not an integer", u["id"])
			}
			c.do("POST", "/v1/users", map[string]any{"email": "bob@acme.test", "first_name": "Bob"})
			if status, got := c.do("GET", fmt.Sprintf("/v1/users/%d", int64(uid)), nil); status != 200 || got["email"] != "ann@acme.test" {
				t.Fatalf("GET /v1/users/{id}: %d %v", status, got)
			}
			status, page := c.do("GET", "/v1/users?limit=1", nil)
			meta, _ := page["metadata"].(map[string]any)
			if status != 200 || meta["total"] != float64(2) || meta["next_cursor"] == "" {
				t.Fatalf("GET /v1/users?limit=1: %d %v", status, page)
			}
			status, page = c.do("GET", "/v1/users?limit=1&cursor="+meta["next_cursor"].(string), nil)
			if items, _ := page["items"].([]any); status != 200 || len(items) != 1 || items[0].(map[string]any)["email"] != "bob@acme.test" {
				t.Fatalf("second page: %d %v", status, page)
			}
			status, n := c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+390112121212", "label": "Main office", "sms_enabled": true, "user_id": uid})
			if status != 201 || n["number"] != "+390112121212" {
				t.Fatalf("POST /v1/phone_numbers: %d %v", status, n)
			}
			status, q := c.do("POST", "/v1/queues", map[string]any{"name": "Sales Queue", "extension": "8001", "strategy": "ringall"})
			if status != 201 {
				t.Fatalf("POST /v1/queues: %d %v", status, q)
			}
			status, mem := c.do("POST", fmt.Sprintf("/v1/queues/%d/members", int64(q["id"].(float64))), map[string]any{"user_id": uid, "penalty": 0})
			if status != 201 {
				t.Fatalf("POST members: %d %v", status, mem)
			}
			status, n = c.do("POST", "/v1/phone_numbers", map[string]any{"number": "+15550001234", "queue_id": q["id"]})
			if status != 201 {
				t.Fatalf("DID to queue: %d %v", status, n)
			}
			for _, p := range []string{"/healthz", "/readyz"} {
				if status, _ := c.do("GET", p, nil); status != 200 {
					t.Errorf("GET %s: %d", p, status)
				}
			}
			res, err := http.Get(base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 404 {
				t.Errorf("GET /metrics on the public listener: %s, want 404", res.Status)
			}
			res, err = http.Get("http://" + srv.MetricsAddr() + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(metrics), `switchboard_http_requests_total{code="201",dialect="native",route="POST /v1/users"} 2`) {
				t.Errorf("/metrics lacks the request counter:\n%.2000s", metrics)
			}
		})
	}
}

func TestDemoIsIdempotent(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	var keys []string
	for round := range 2 {
		m, base, out := startServer(t, "--db", db, "--demo")
		text := out.String()
		var key string
		for _, line := range strings.Split(text, "\n") {
			if f := strings.Fields(line); len(f) >= 5 && f[0] == "native" {
				key = f[4]
			}
		}
		if key == "" || !strings.Contains(text, "12 agents, 3 teams, 3 queues") {
			t.Fatalf("round %d: demo output:\n%s", round, text)
		}
		keys = append(keys, key)
		c := client{t: t, base: base, key: key}
		for path, want := range map[string]float64{"/v1/users": 12, "/v1/teams": 3, "/v1/queues": 3, "/v1/phone_numbers": 6} {
			status, page := c.do("GET", path, nil)
			if got := page["metadata"].(map[string]any)["total"]; status != 200 || got != want {
				t.Errorf("round %d: %s total %v, want %v", round, path, got, want)
			}
		}
		c.key = m.Config.AdminToken
		if status, _ := c.do("GET", "/v1/admin/tenants", nil); status != 200 {
			t.Errorf("round %d: the printed admin token does not work: %d", round, status)
		}
		m.Close()
	}
	// The keys stay the same from start to start (TestReadmeTour shows
	// --demo-rotate-keys replacing them).
	if keys[0] != keys[1] {
		t.Errorf("the second run printed native key %q, not the first run's %q", keys[1], keys[0])
	}
	_, base, _ := startServer(t, "--db", db)
	if status, _ := (client{t: t, base: base, key: keys[0]}).do("GET", "/v1/users", nil); status != 200 {
		t.Errorf("the demo key does not work after restarts: %d", status)
	}
}

func TestUserCommands(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	if _, err := run(t, "", "tenant", "create", "--db", db, "--slug", "acme", "--name", "Acme"); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "user", "create", "--db", db, "--tenant", "acme", "--email", "Ann@Acme.test", "--first-name", "Ann", "--extension", "1001")
	if err != nil {
		t.Fatal(err)
	}
	var u map[string]any
	if json.Unmarshal([]byte(out), &u); u["email"] != "ann@acme.test" {
		t.Fatalf("user create printed %q", out)
	}
	if _, err := run(t, "", "user", "create", "--db", db, "--tenant", "acme", "--email", "x@acme.test", "--teams", "Nope"); err == nil || !strings.Contains(err.Error(), `team "Nope"`) {
		t.Errorf("unknown team: %v", err)
	}

	csv := "email,first_name,last_name,extension,roles,phone_numbers\n" +
		"bob@acme.test,Bob,Rossi,1002,agent;supervisor,+39 011 2121212\n" +
		"ann@acme.test,Dup,Licate,1003,,\n" +
		"carl@acme.test,Carl,,1001,,\n" +
		"dina@acme.test,Dina,Verdi,1004,agent,not-a-number\n" +
		"eve@acme.test,Eve,,1005,,\n"
	path := filepath.Join(t.TempDir(), "agents.csv")
	os.WriteFile(path, []byte(csv), 0o644)
	m, stdout, stderr := newMain(nil)
	err = m.Run(context.Background(), []string{"user", "import", "--db", db, "--tenant", "acme", path})
	if err == nil {
		t.Fatalf("an import with bad rows must fail")
	}
	var res userimport.Result
	if err := json.Unmarshal([]byte(stdout.String()), &res); err != nil {
		t.Fatalf("import printed %q", stdout.String())
	}
	if res.Created != 2 || res.Failed != 3 || len(res.Errors) != 3 {
		t.Fatalf("import result %+v", res)
	}
	wantRows := map[int]string{2: "email", 3: "extension", 4: "phone_numbers"}
	for _, e := range res.Errors {
		if !strings.Contains(e.Error, wantRows[e.Row]) {
			t.Errorf("row %d error %q does not name %s", e.Row, e.Error, wantRows[e.Row])
		}
	}
	if !strings.Contains(stderr.String(), "progress: 5/5 rows, 2 created, 3 failed") {
		t.Errorf("no progress on stderr:\n%s", stderr.String())
	}

	m, stdout, _ = newMain(nil)
	m.Stdin = strings.NewReader(`[{"email":"fay@acme.test","first_name":"Fay","roles":["agent"]},{"email":"gil@acme.test","nick":"g"}]`)
	err = m.Run(context.Background(), []string{"user", "import", "--db", db, "--tenant", "acme", "--quiet", "-"})
	json.Unmarshal([]byte(stdout.String()), &res)
	if err == nil || res.Created != 1 || res.Failed != 1 || !strings.Contains(res.Errors[0].Error, "nick") {
		t.Fatalf("JSON import: %v, %+v", err, res)
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.json")
	os.WriteFile(file, []byte(`{"rate_limit": 5, "rate_burst": 7, "log_level": "debug", "db": "sqlite:from-file.db"}`), 0o644)
	env := map[string]string{"SWITCHBOARD_CONFIG": file, "SWITCHBOARD_RATE_BURST": "9", "SWITCHBOARD_DB": "sqlite:from-env.db"}
	var c Config = defaultConfig()
	m, _, _ := newMain(env)
	if err := c.load(flag.NewFlagSet("test", flag.ContinueOnError), []string{"--db", "sqlite:from-flag.db"}, false, m.Getenv); err != nil {
		t.Fatal(err)
	}
	if c.RateLimit != 5 || c.RateBurst != 9 || c.LogLevel != "debug" || c.DB != "sqlite:from-flag.db" || c.Addr != "127.0.0.1:8080" {
		t.Errorf("config = %+v; want rate 5 (file), burst 9 (env), level debug (file), db from flag, default addr", c)
	}
	os.WriteFile(file, []byte(`{"rate_limt": 5}`), 0o644)
	c = defaultConfig()
	if err := c.load(flag.NewFlagSet("test", flag.ContinueOnError), nil, false, m.Getenv); err == nil || !strings.Contains(err.Error(), "rate_limt") {
		t.Errorf("misspelt file key: %v", err)
	}
	c = defaultConfig()
	if err := c.load(flag.NewFlagSet("test", flag.ContinueOnError), []string{"--log-format", "xml", "--rate-burst", "0"}, false, func(string) string { return "" }); err == nil ||
		!strings.Contains(err.Error(), "log-format") || !strings.Contains(err.Error(), "rate-burst") {
		t.Errorf("bad values: %v", err)
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	m, _, stderr := newMain(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", sqlstoretest.SQLiteURL(t)})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "switchboard listening") {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	if _, err := run(t, "", "frobnicate"); err == nil || exitCode(err) != 2 {
		t.Errorf("unknown command: %v", err)
	}
}

func TestSimulateCommand(t *testing.T) {
	out, err := run(t, "", "simulate", "--agents", "8", "--arrival-rate", "100", "--aht", "180", "--hours", "200",
		"--sl-threshold", "20", "--seed", "3", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("simulate --json printed %q", out)
	}
	for _, k := range []string{"p_wait", "asa_seconds", "service_level", "occupancy", "calls"} {
		if _, ok := res[k].(float64); !ok {
			t.Errorf("simulate --json lacks %s: %v", k, res)
		}
	}
	if calls := res["calls"].(float64); calls < 15000 || calls > 25000 {
		t.Errorf("200 h at 100 calls/h simulated %v calls", calls)
	}
	again, _ := run(t, "", "simulate", "--agents", "8", "--arrival-rate", "100", "--aht", "180", "--hours", "200", "--seed", "3", "--json")
	strip := func(s string) string { return s[:strings.Index(s, `"wall_seconds"`)] }
	if strip(again) != strip(out) {
		t.Errorf("the same seed gave different results:\n%s\n%s", out, again)
	}
	table, err := run(t, "", "simulate", "--agents", "5", "--arrival-rate", "100", "--aht", "180", "--hours", "20")
	if err != nil || !strings.Contains(table, "no steady state") {
		t.Errorf("overloaded table: %v\n%s", err, table)
	}
	if _, err := run(t, "", "simulate", "--agents", "0"); exitCode(err) != 2 {
		t.Errorf("--agents 0: %v, want a usage error", err)
	}
}

func TestSimulateChatCommand(t *testing.T) {
	args := []string{"simulate-chat", "--agents", "100", "--max-chats", "3", "--conversations", "1000", "--seed", "1", "--json"}
	out, err := run(t, "", args...)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]float64
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("simulate-chat --json printed %q", out)
	}
	for _, k := range []string{"conversations", "handled", "abandoned", "mean_wait_seconds", "max_wait_seconds", "slot_occupancy", "max_chats_held", "wall_seconds"} {
		if _, ok := res[k]; !ok {
			t.Errorf("simulate-chat --json lacks %s: %v", k, res)
		}
	}
	if res["conversations"] != 1000 || res["handled"]+res["abandoned"] != 1000 || res["max_chats_held"] != 3 || res["slot_occupancy"] <= 0 {
		t.Errorf("simulate-chat: %v", res)
	}
	again, _ := run(t, "", args...)
	strip := func(s string) string { return s[:strings.Index(s, `"wall_seconds"`)] }
	if strip(again) != strip(out) {
		t.Errorf("the same seed gave different results:\n%s\n%s", out, again)
	}
	if table, err := run(t, "", "simulate-chat", "--agents", "5", "--conversations", "20"); err != nil || !strings.Contains(table, "max chats held by an agent") {
		t.Errorf("table: %v\n%s", err, table)
	}
	if _, err := run(t, "", "simulate-chat", "--max-chats", "0"); exitCode(err) != 2 {
		t.Errorf("--max-chats 0: %v, want a usage error", err)
	}
}

func TestSimulateScenario(t *testing.T) {
	out, err := run(t, "", "simulate", "--scenario", "../../examples/scenario.json", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Queues []struct {
			Name    string
			Offered int
		}
		Occupancy float64
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Queues) != 2 || res.Queues[0].Name != "Sales" || res.Queues[0].Offered < 15000 {
		t.Fatalf("simulate --scenario printed %q (%v)", out, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"hours": 1, "queues": [], "agents": []}`), 0o644)
	if _, err := run(t, "", "simulate", "--scenario", bad); exitCode(err) != 2 || !strings.Contains(err.Error(), "queues") {
		t.Errorf("bad scenario: %v", err)
	}
}
