package callcenter_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/callcenter"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
	"switchboard/internal/sqlstore"
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// slowStore is a real store whose call commits take delay, or fail while
// fail says so.
type slowStore struct {
	*sqlstore.DB
	delay time.Duration
	// failCreated makes the first n saves that hold a "created" change fail.
	failCreated atomic.Int64
	failed      atomic.Int64
	// down makes every call commit and every read of tenants fail, as a
	// database that is unreachable.
	down atomic.Bool
}

func (s *slowStore) Tenants(ctx context.Context, opt switchboard.ListOptions) (switchboard.Page[switchboard.Tenant], error) {
	if s.down.Load() {
		return switchboard.Page[switchboard.Tenant]{}, errors.New("injected outage")
	}
	return s.DB.Tenants(ctx, opt)
}

func (s *slowStore) SaveCalls(ctx context.Context, changes []switchboard.CallChange) error {
	if s.down.Load() {
		return errors.New("injected outage")
	}
	if s.failCreated.Load() > 0 {
		for _, ch := range changes {
			if ch.What == "created" && s.failCreated.Add(-1) >= 0 {
				s.failed.Add(1)
				return errors.New("injected failure of a created save")
			}
		}
	}
	time.Sleep(s.delay)
	return s.DB.SaveCalls(ctx, changes)
}

// world is a tenant with agents in one queue behind a number, on a fresh
// SQLite store, run by a call service on a virtual clock.
type world struct {
	store  *slowStore
	clock  *engine.VirtualClock
	drv    *sim.Driver
	svc    *callcenter.Service
	tenant int64
	agents []int64
	number string
}

func newWorld(t *testing.T, agents int, delay time.Duration, failCreated int64) *world {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "cc.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &world{store: &slowStore{DB: db, delay: delay}, clock: engine.NewVirtualClock(start), number: "+15550001000"}
	w.store.failCreated.Store(failCreated)
	ten, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme", AdminEmail: "ops@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	w.tenant = ten.ID
	q, err := db.CreateQueue(ctx, ten.ID, switchboard.Queue{Name: "Sales", Strategy: switchboard.StrategyLeastRecent, TimeoutSeconds: 15,
		RetrySeconds: 5, WrapUpSeconds: 10, JoinEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range agents {
		u, err := db.CreateUser(ctx, ten.ID, switchboard.User{Email: fmt.Sprintf("a%d@example.com", i), FirstName: "Agent",
			LastName: fmt.Sprint(i), Extension: fmt.Sprint(100 + i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddQueueMember(ctx, ten.ID, switchboard.QueueMember{QueueID: q.ID, UserID: u.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetPresence(ctx, ten.ID, u.ID, switchboard.StatusAvailable, false); err != nil {
			t.Fatal(err)
		}
		w.agents = append(w.agents, u.ID)
	}
	if _, err := db.CreatePhoneNumber(ctx, ten.ID, switchboard.PhoneNumber{Number: w.number, QueueID: &q.ID}); err != nil {
		t.Fatal(err)
	}
	w.drv = sim.New(w.clock)
	w.svc = callcenter.New(callcenter.Options{Store: w.store, Driver: w.drv, Clock: w.clock, IDBlock: 64,
		Router: engine.NewRouter(rand.New(rand.NewPCG(7, 11))), Log: slog.New(slog.DiscardHandler)})
	w.drv.SetEngine(w.svc.Engine())
	if err := w.svc.Start(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.svc.Close(context.Background()) })
	return w
}

// routed is what routing decided for a call, in virtual time.
type routed struct {
	From        string
	Agent       int64
	Connected   time.Duration // since start; -1 never
	Ended       time.Duration
	Disposition switchboard.Disposition
}

// run places calls callers at fixed virtual times, lets the clock run, and
// returns what became of each call, read back from the store.
func (w *world) run(t *testing.T, callers int) []routed {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var ids []int64
	for i := range callers {
		talk := time.Duration(20+r.IntN(100)) * time.Second
		patience := time.Duration(30+r.IntN(120)) * time.Second
		_, id, err := w.drv.Call(fmt.Sprintf("+1555100%04d", i), w.number, sim.Script{Talk: talk, Patience: patience})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		w.clock.Advance(time.Duration(1+r.IntN(8)) * time.Second)
	}
	for range 60 {
		w.clock.Advance(10 * time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := w.svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var out []routed
	for _, id := range ids {
		c, err := w.store.Call(ctx, w.tenant, id)
		if err != nil {
			t.Fatalf("call %d: %v", id, err)
		}
		x := routed{From: c.From, Connected: -1, Disposition: c.Disposition}
		if c.AgentID != nil {
			x.Agent = int64(slices.Index(w.agents, *c.AgentID) + 1)
		}
		if c.ConnectedAt != nil {
			x.Connected = c.ConnectedAt.Sub(start)
		}
		if c.EndedAt != nil {
			x.Ended = c.EndedAt.Sub(start)
		}
		out = append(out, x)
	}
	return out
}

// TestSlowStoreRoutesTheSame shows that routing never waits for the store:
// with every commit taking 50 ms, the same calls reach the same agents at the
// same virtual times as with a fast store.
func TestSlowStoreRoutesTheSame(t *testing.T) {
	fast := newWorld(t, 4, 0, 0).run(t, 40)
	slow := newWorld(t, 4, 50*time.Millisecond, 0).run(t, 40)
	connected := 0
	for i := range fast {
		if fast[i] != slow[i] {
			t.Errorf("call %d: fast store %+v, slow store %+v", i, fast[i], slow[i])
		}
		if fast[i].Connected >= 0 {
			connected++
		}
	}
	if connected < 10 || connected == len(fast) {
		t.Errorf("%d of %d calls connected: the scenario should both connect and abandon calls", connected, len(fast))
	}
}

// TestFailedCreatedSaveOverwritesNoCall provokes failed saves of new calls and
// shows that every call keeps its own row: ids come from reserved blocks, not
// from a save that may fail.
func TestFailedCreatedSaveOverwritesNoCall(t *testing.T) {
	w := newWorld(t, 3, 0, 3)
	got := w.run(t, 20)
	if w.store.failed.Load() == 0 {
		t.Fatal("no save failed: the test did not provoke what it is about")
	}
	seen := map[string]bool{}
	for i, c := range got {
		want := fmt.Sprintf("+1555100%04d", i)
		if c.From != want {
			t.Errorf("call %d was overwritten: from %s, want %s", i, c.From, want)
		}
		if seen[c.From] {
			t.Errorf("two calls from %s", c.From)
		}
		seen[c.From] = true
		if c.Ended <= 0 {
			t.Errorf("call %d never ended in the store: %+v", i, c)
		}
	}
	n, err := w.store.CDRs(context.Background(), w.tenant, switchboard.CDRFilter{}, switchboard.ListOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Items) != len(got) {
		t.Errorf("%d calls in the store, want %d", len(n.Items), len(got))
	}
}

// TestCloseStopsTimersBeforeTheStore closes the service in the middle of
// traffic: nothing the engine does afterwards reaches the store, and every
// change made before is written.
func TestCloseStopsTimersBeforeTheStore(t *testing.T) {
	w := newWorld(t, 2, 5*time.Millisecond, 0)
	for i := range 5 {
		if _, _, err := w.drv.Call(fmt.Sprintf("+1555200%04d", i), w.number, sim.Script{Talk: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	w.clock.Advance(3 * time.Second)
	ctx := context.Background()
	if err := w.svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	head, err := w.store.EventHead(ctx, w.tenant)
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(10 * time.Minute) // timers that still ran would change calls now
	if _, _, err := w.drv.Call("+15553000000", w.number, sim.Script{}); err == nil {
		t.Error("the closed driver took a call")
	}
	time.Sleep(50 * time.Millisecond)
	after, err := w.store.EventHead(ctx, w.tenant)
	if err != nil {
		t.Fatal(err)
	}
	if after != head {
		t.Errorf("%d events were written after Close", after-head)
	}
	evs, err := w.store.Events(ctx, w.tenant, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	connected := 0
	for _, e := range evs {
		if e.Type == switchboard.EventCallConnected {
			connected++
		}
	}
	if connected != 2 {
		t.Errorf("%d calls connected before Close, want 2 (one per agent)", connected)
	}
}

// TestStoreOutageLosesNothing takes the store away while calls are routed:
// routing goes on, the writer holds the changes and retries, and once the
// store is back every change lands, none lost.
func TestStoreOutageLosesNothing(t *testing.T) {
	want := newWorld(t, 4, 0, 0).run(t, 30)
	w := newWorld(t, 4, 0, 0)
	w.store.down.Store(true)
	time.AfterFunc(1500*time.Millisecond, func() { w.store.down.Store(false) })
	got := w.run(t, 30)
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("call %d: %+v with the store up, %+v across an outage", i, want[i], got[i])
		}
	}
}
