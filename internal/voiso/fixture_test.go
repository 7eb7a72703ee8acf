package voiso

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/callcenter"
	"switchboard/internal/engine"
	"switchboard/internal/golden"
	"switchboard/internal/httpapi"
	"switchboard/internal/sim"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// fixture is a server of this dialect over HTTP on loopback, with a real
// store and a call center on the simulated driver, and a tenant holding one
// of everything the routes render, plus a second tenant whose objects the
// first must never see.
type fixture struct {
	t      *testing.T
	db     *sqlstore.DB
	srv    *httptest.Server
	calls  *callcenter.Service
	tenant switchboard.Tenant
	other  switchboard.Tenant
	// keys by scope: each key holds exactly that scope.
	keys map[string]string
	// otherKey is a * key of the other tenant.
	otherKey string

	agent, supervisor, deactivated switchboard.User
	team                           switchboard.Team
	skill                          switchboard.Skill
	queue                          switchboard.Queue
	number                         string
	// otherUser and otherQueue belong to the other tenant.
	otherUser  switchboard.User
	otherQueue switchboard.Queue
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	db := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{Logger: log})
	f := &fixture{t: t, db: db, keys: map[string]string{}, number: "+18885658889"}
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
	f.team, err = db.CreateTeam(ctx, tid, switchboard.Team{Name: "Sales"})
	must(err)
	f.skill, err = db.CreateSkill(ctx, tid, switchboard.Skill{Name: "Spanish"})
	must(err)
	f.queue, err = db.CreateQueue(ctx, tid, switchboard.Queue{Name: "Support", Extension: "700", JoinEmpty: true})
	must(err)
	f.agent, err = db.CreateUser(ctx, tid, switchboard.User{Email: "ann@example.com", FirstName: "Ann", LastName: "Agent",
		Extension: "101", TeamIDs: []int64{f.team.ID}, Skills: []switchboard.UserSkill{{SkillID: f.skill.ID, Proficiency: 4}},
		TimeZone: "Europe/Berlin", OutboundNumber: f.number})
	must(err)
	f.supervisor, err = db.CreateUser(ctx, tid, switchboard.User{Email: "sam@example.com", FirstName: "Sam", LastName: "Super",
		Extension: "102", Roles: []string{switchboard.RoleAgent, switchboard.RoleSupervisor}, TeamIDs: []int64{f.team.ID}})
	must(err)
	f.deactivated, err = db.CreateUser(ctx, tid, switchboard.User{Email: "gone@example.com", FirstName: "Gone", Extension: "103"})
	must(err)
	_, err = db.UpdateUserFunc(ctx, tid, f.deactivated.ID, func(u *switchboard.User) error {
		now := time.Now()
		u.DeactivatedAt = &now
		return nil
	})
	must(err)
	for _, u := range []int64{f.agent.ID, f.supervisor.ID} {
		_, err = db.AddQueueMember(ctx, tid, switchboard.QueueMember{QueueID: f.queue.ID, UserID: u})
		must(err)
	}
	_, err = db.CreatePhoneNumber(ctx, tid, switchboard.PhoneNumber{Number: f.number, QueueID: &f.queue.ID})
	must(err)
	f.otherUser, err = db.CreateUser(ctx, f.other.ID, switchboard.User{Email: "olga@other.example.com", FirstName: "Olga", Extension: "101"})
	must(err)
	f.otherQueue, err = db.CreateQueue(ctx, f.other.ID, switchboard.Queue{Name: "Theirs"})
	must(err)

	for _, s := range append(scopeNames(), switchboard.ScopeAll, switchboard.ScopeCallsManage, switchboard.ScopeRoutingRead) {
		k, err := db.CreateAPIKey(ctx, tid, switchboard.APIKey{Name: s, Scopes: []string{s}})
		must(err)
		f.keys[s] = k.Secret
	}
	k, err := db.CreateAPIKey(ctx, f.other.ID, switchboard.APIKey{Name: "other", Scopes: []string{switchboard.ScopeAll}})
	must(err)
	f.otherKey = k.Secret

	clock := engine.NewVirtualClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	drv := sim.New(clock)
	f.calls = callcenter.New(callcenter.Options{Store: db, Driver: drv, Clock: clock, IDBlock: 64,
		Router: engine.NewRouter(rand.New(rand.NewPCG(7, 11))), Log: log})
	drv.SetEngine(f.calls.Engine())
	must(f.calls.Start(ctx, time.Time{}))
	t.Cleanup(func() { f.calls.Close(context.Background()) })

	api := New(Options{Store: db, Auth: httpapi.NewAuthenticator(db, time.Minute, log), Limiter: httpapi.NewRateLimiter(0, 0),
		Calls: f.calls, Log: log})
	f.srv = httptest.NewServer(api)
	t.Cleanup(f.srv.Close)
	return f
}

// scopeNames is every Voiso scope of Scopes.
func scopeNames() []string {
	var out []string
	for _, s := range Scopes {
		out = append(out, s.Name)
	}
	return out
}

// do sends method path with body (nil for none) under key ("" for none) and
// returns the status and the body.
func (f *fixture) do(method, path, key string, body any) (int, []byte) {
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
		rd = strings.NewReader(string(raw))
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// expect sends the request and fails unless it answers status and, when
// want is not "", exactly the JSON want.
func (f *fixture) expect(method, path, key string, body any, status int, want string) []byte {
	f.t.Helper()
	got, out := f.do(method, path, key, body)
	if got != status {
		f.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, status, out)
	}
	if want != "" && !sameJSON(want, out) {
		f.t.Fatalf("%s %s: body %s, want %s", method, path, out, want)
	}
	return out
}

func sameJSON(a string, b []byte) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// checkShape compares an answer with the shape of shapes.json named name:
// the same keys and nesting as its example, each value of a type its field
// admits (a field declared string|null may be either).
func checkShape(t *testing.T, shapes map[string]shape, name string, got []byte) {
	t.Helper()
	s, ok := shapes[name]
	if !ok {
		t.Fatalf("no shape %q in %s", name, shapesFile)
	}
	var diffs []string
	for _, d := range golden.Compare(s.Response, got, nil, nil) {
		path, rest, _ := strings.Cut(d, ": ")
		var w, g string
		if n, _ := fmt.Sscanf(rest, "%s in the example, %s in the answer", &w, &g); n == 2 {
			if f, ok := s.Fields[path]; ok && admits(f.Type, g) {
				continue
			}
		}
		diffs = append(diffs, d)
	}
	if len(diffs) > 0 {
		t.Errorf("%s: the answer %s differs from the shape:\n%s", name, got, strings.Join(diffs, "\n"))
	}
}

// admits reports whether a field declared declared (string|null) may hold a
// value golden names kind (number, string, null, …).
func admits(declared, kind string) bool {
	for _, d := range strings.Split(declared, "|") {
		if d == kind || d == "integer" && kind == "number" || d == "number" && kind == "integer" {
			return true
		}
	}
	return false
}

// keyFor is a key holding exactly scope.
func (f *fixture) keyFor(scope string) string {
	f.t.Helper()
	k, ok := f.keys[scope]
	if !ok {
		f.t.Fatalf("no key for %s", scope)
	}
	return k
}

// otherScope is a scope of Scopes that is not scope and does not share its
// native cover, for the 403 checks.
func otherScope(scope string) string {
	names := scopeNames()
	i := slices.Index(names, scope)
	return names[(i+len(names)/2)%len(names)]
}
