package conversation

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/blobdir"
	"switchboard/internal/engine"
	"switchboard/internal/sms"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

var (
	_ Router = (*engine.Engine)(nil)
	_ Store  = (*sqlstore.DB)(nil)
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixture is a tenant with two queues (sales, support) whose members are
// the agents, a number routed to sales, on a real SQLite store and a real
// engine on a virtual clock, with the service over them.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	db     *sqlstore.DB
	dbURL  string
	clock  *engine.VirtualClock
	eng    *engine.Engine
	svc    *Service
	sms    *sms.Sim
	wa     *SimProvider
	blobs  *blobdir.Dir
	tenant int64
	sales  switchboard.Queue
	supp   switchboard.Queue
	agents []int64
	number string
	// skew moves the service's clock (upload expiry, the WhatsApp window).
	skew atomic.Int64
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newFixture(t *testing.T, agents int) *fixture {
	t.Helper()
	return newFixtureOn(t, sqlstoretest.SQLiteURL(t), agents)
}

// onEveryEngine runs test on SQLite and, when the test server is
// configured, PostgreSQL.
func onEveryEngine(t *testing.T, test func(t *testing.T, dbURL string)) {
	for name, url := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) { test(t, url(t)) })
	}
}

func newFixtureOn(t *testing.T, dbURL string, agents int) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), number: "+15550001000"}
	f.dbURL = dbURL
	f.db = sqlstoretest.Open(t, f.dbURL, sqlstore.Options{})
	ctx := f.ctx
	ten, err := f.db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme", AdminEmail: "ops@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	f.tenant = ten.ID
	for i, name := range []string{"Sales", "Support"} {
		q, err := f.db.CreateQueue(ctx, ten.ID, switchboard.Queue{Name: name, Strategy: switchboard.StrategyLeastRecent,
			TimeoutSeconds: 15, RetrySeconds: 5, WrapUpSeconds: 30, JoinEmpty: true})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			f.sales = q
		} else {
			f.supp = q
		}
	}
	for i := range agents {
		u, err := f.db.CreateUser(ctx, ten.ID, switchboard.User{Email: fmt.Sprintf("a%d@example.com", i), FirstName: "Agent",
			LastName: fmt.Sprint(i), Extension: fmt.Sprint(100 + i), MaxChats: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []switchboard.Queue{f.sales, f.supp} {
			if _, err := f.db.AddQueueMember(ctx, ten.ID, switchboard.QueueMember{QueueID: q.ID, UserID: u.ID}); err != nil {
				t.Fatal(err)
			}
		}
		f.agents = append(f.agents, u.ID)
	}
	if _, err := f.db.CreatePhoneNumber(ctx, ten.ID, switchboard.PhoneNumber{Number: f.number, QueueID: &f.sales.ID, SMSEnabled: true}); err != nil {
		t.Fatal(err)
	}
	f.blobs, err = blobdir.New(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	f.boot()
	return f
}

// boot starts an engine that knows the queues and agents (all available)
// and a service over it, as a server start does.
func (f *fixture) boot() {
	t := f.t
	f.clock = engine.NewVirtualClock(t0)
	f.eng = engine.New(engine.Options{Clock: f.clock, Router: engine.NewRouter(rand.New(rand.NewPCG(1, 2))), Log: quiet()})
	t.Cleanup(f.eng.Close)
	for _, q := range []switchboard.Queue{f.sales, f.supp} {
		members, err := f.db.QueueMembers(f.ctx, f.tenant, q.ID, switchboard.ListOptions{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		f.eng.SetQueue(q, members.Items)
	}
	for _, a := range f.agents {
		f.eng.SetAgent(a, fmt.Sprintf("dev%d", a))
		f.eng.SetMaxChats(a, 3)
		f.eng.SetStatus(a, switchboard.StatusAvailable, true)
	}
	f.sms = &sms.Sim{ReceiptDelay: -1}
	smsSvc := sms.NewService(f.db, f.sms, quiet())
	f.wa = &SimProvider{DeliveredAfter: -1}
	f.svc = New(Options{Store: f.db, Router: f.eng, SMS: smsSvc, Blobs: f.blobs, Log: quiet(),
		Providers: map[switchboard.ConversationChannel]Provider{switchboard.ChannelWhatsApp: f.wa},
		Now:       func() time.Time { return time.Now().Add(time.Duration(f.skew.Load())) }})
	f.wa.Attach(f.svc)
	if err := f.svc.Open(f.ctx); err != nil {
		t.Fatal(err)
	}
	svc := f.svc
	t.Cleanup(func() { svc.Close(context.Background()) })
}

// status sets an agent's presence in the engine.
func (f *fixture) status(agent int64, status string, available bool) {
	f.eng.SetStatus(agent, status, available)
}

// webChat starts a web chat in q with a first message.
func (f *fixture) webChat(q switchboard.Queue, who string) (switchboard.Conversation, string) {
	f.t.Helper()
	c, tok, err := f.svc.Start(f.ctx, f.tenant, switchboard.Conversation{Channel: switchboard.ChannelWebChat, QueueID: &q.ID,
		EndUser: switchboard.EndUser{Identifier: who, Name: who}}, "", &switchboard.ConversationMessage{Text: "hello from " + who})
	if err != nil {
		f.t.Fatalf("start %s: %v", who, err)
	}
	return c, tok
}

// get reads a conversation after every routing decision so far is recorded.
func (f *fixture) get(id int64) switchboard.Conversation {
	f.t.Helper()
	if err := f.svc.Sync(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	c, err := f.svc.Conversation(f.ctx, f.tenant, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) wantStatus(id int64, st switchboard.ConversationStatus, agent int64) switchboard.Conversation {
	f.t.Helper()
	c := f.get(id)
	got := int64(0)
	if c.AgentID != nil {
		got = *c.AgentID
	}
	if c.Status != st || got != agent {
		f.t.Fatalf("conversation %d is %s with agent %d, want %s with agent %d", id, c.Status, got, st, agent)
	}
	return c
}

// say is the agent writing text.
func (f *fixture) say(id, agent int64, text string) (switchboard.ConversationMessage, error) {
	return f.svc.Send(f.ctx, f.tenant, id, switchboard.ConversationMessage{Direction: switchboard.Outbound, AgentID: &agent, Text: text})
}

// write is the end user writing text.
func (f *fixture) write(id int64, text string) (switchboard.ConversationMessage, error) {
	return f.svc.Send(f.ctx, f.tenant, id, switchboard.ConversationMessage{Direction: switchboard.Inbound, Text: text})
}

// events lists the conversation's event types in order.
func (f *fixture) events(id int64) []string {
	f.t.Helper()
	evs, err := f.db.SubjectEvents(f.ctx, f.tenant, "conversation", id)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func (f *fixture) holds(agent int64) []int64 { return f.eng.AgentChats(agent) }

func wantCode(t *testing.T, err error, code switchboard.Code) {
	t.Helper()
	if switchboard.ErrorCode(err) != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

func contains(list []int64, id int64) bool { return slices.Contains(list, id) }

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

var _ io.Reader = zeros{}
