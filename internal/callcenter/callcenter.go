// Package callcenter is the application service for calls and presence: the
// one implementation of switchboard.CallService that every dialect calls. It
// joins three things:
//
//   - the call engine (internal/engine), which decides, under its lock and in
//     memory, which agent rings, when a call is queued, bridged or ends;
//   - a telephony driver (the engine's ports: call control, media, devices,
//     recordings, faxes), chosen by `serve --telephony`;
//   - the store, which the engine never touches: every change of a call the
//     engine reports is handed to one batching writer (writer.go) that
//     commits the changes in order, many per transaction, off the engine's
//     lock. A slow or failing database therefore never freezes routing; the
//     writer retries, logs loudly and reports itself unhealthy (Health, which
//     /readyz shows) instead of dropping changes.
//
// Calls are numbered by the engine from blocks of ids the service reserves
// from the store ahead of need (ids.go), so a call's id is known at once and
// can never collide with another call's, whatever fails when it is saved.
//
// The data flow: API request → Service (checks: the agent, the number, the
// do-not-call list, the caller id) → engine → driver; driver events → engine
// → Observer (this service) → writer → store (call row + call.* event in one
// transaction) → event log → webhooks, streams. Configuration changes made
// through any API reach the engine the other way round: the service follows
// the event log (follow.go) and reloads queues, agents and presence.
package callcenter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/eventtail"
)

// Store is what the call service needs of the store: the domain's Store and
// what eventtail follows the log by.
type Store interface {
	switchboard.Store
	// Changes wakes the follower when events were appended; stop releases it.
	Changes() (wake <-chan struct{}, stop func())
	// EventHeads is every tenant's newest event sequence number.
	EventHeads(ctx context.Context) (map[int64]int64, error)
	ScheduledCalls(ctx context.Context) ([]switchboard.Call, error)
	RecoverCall(ctx context.Context, tenantID, id int64) error
	IsDNC(ctx context.Context, tenantID int64, number string) (bool, error)
	// CloseOrphanCallsAt and RestoreCutPresence clean up after a previous
	// run's calls, at Start.
	CloseOrphanCallsAt(ctx context.Context, cause string, at time.Time) (int, error)
	RestoreCutPresence(ctx context.Context) (int, error)
}

// Options wire a Service.
type Options struct {
	Store  Store
	Driver engine.Driver
	// Clock defaults to the wall clock; tests and simulations pass a
	// virtual one.
	Clock engine.Clock
	// Router decides among agents; nil seeds one from the clock.
	Router *engine.Router
	Log    *slog.Logger
	// IDBlock is how many call ids are reserved from the store at a time
	// (default 4096); the next block is fetched when half is used.
	IDBlock int
	// Ended, when set, is told the disposition of every call that ends here
	// (the server counts them for its metrics).
	Ended func(switchboard.Disposition)
	// Registrations says the driver's devices come and go (real phones
	// register): an agent is offered calls only while Driver.Registered
	// says their phone is, and the driver calls Engine().SetReachable as
	// registrations change.
	Registrations bool
	// OnEvent, when set, is given every event of the log after the engine
	// has applied it, in each tenant's order: the driver follows what it
	// keeps of the configuration (trunks) the same way.
	OnEvent func(ctx context.Context, e switchboard.Event)
	// ChatOfferTimeout is how long an agent has to accept an offered
	// conversation before it is offered on; 0: offers are final
	// (engine.Options).
	ChatOfferTimeout time.Duration
	// MaxChatsOnCall is how many conversations an agent may hold beside a
	// call; 0: calls and chats do not mix (engine.Options).
	MaxChatsOnCall int
}

// Service is the call service. Start loads the store into the engine; Close
// stops the engine, the driver and the writer, in that order, before the
// store may close.
type Service struct {
	registrations bool
	onEvent       func(ctx context.Context, e switchboard.Event)
	store         Store
	log           *slog.Logger
	clock         engine.Clock
	drv           engine.Driver
	eng           *engine.Engine
	ids           *idBlocks
	w             *writer
	ended         func(switchboard.Disposition)

	// tail follows the event log in commit order (follow.go); nil before
	// Start and after Close.
	tail *eventtail.Follower

	mu         sync.Mutex
	userTenant map[int64]int64 // user id → tenant id

	// slots serializes the callback-slot check with the scheduling it
	// admits (Schedule), so that two requests cannot both take a period's
	// last slot; one node at most runs call control.
	slots sync.Mutex
}

var _ switchboard.CallService = (*Service)(nil)

// New builds a call service; Start must run before it takes calls.
func New(opt Options) *Service {
	if opt.Clock == nil {
		opt.Clock = engine.RealClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.IDBlock <= 0 {
		opt.IDBlock = 4096
	}
	s := &Service{store: opt.Store, log: opt.Log, clock: opt.Clock, drv: opt.Driver, ended: opt.Ended, registrations: opt.Registrations, onEvent: opt.OnEvent,
		userTenant: map[int64]int64{}}
	s.ids = newIDBlocks(opt.Store, int64(opt.IDBlock), opt.Log)
	s.w = newWriter(opt.Store, opt.Log)
	s.eng = engine.New(engine.Options{Clock: opt.Clock, Telephony: opt.Driver, Router: opt.Router, Observer: s, IDs: s.ids, Log: opt.Log,
		ChatOfferTimeout: opt.ChatOfferTimeout, MaxChatsOnCall: opt.MaxChatsOnCall})
	return s
}

// Engine is the call engine the service runs, for the driver to report to.
func (s *Service) Engine() *engine.Engine { return s.eng }

// Start closes the calls a previous run left open (ended at lastSeen, the
// moment that run was last known alive; zero ends them now) and gives their
// agents back their status, reserves the first block of call ids, loads every
// tenant into the engine, re-arms the scheduled calls, and follows the event
// log until Close.
func (s *Service) Start(ctx context.Context, lastSeen time.Time) error {
	// Calls left open by a previous run have no driver holding them any
	// more: end them, so none stays "connected" forever. (With several nodes
	// this must only close the calls of this node; calls carry no node yet,
	// which is why one node at most runs call control.)
	n, err := s.store.CloseOrphanCallsAt(ctx, "system restart", lastSeen)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Warn("closed calls left open by the previous run", "calls", n, "ended_at", lastSeen)
	}
	if n, err = s.store.RestoreCutPresence(ctx); err != nil {
		return err
	}
	if n > 0 {
		s.log.Warn("agents left In-Call or Wrap-Up by the previous run got their status back", "agents", n)
	}
	if err := s.ids.start(ctx); err != nil {
		return err
	}
	s.w.start()
	heads, err := s.loadAll(ctx)
	if err != nil {
		return err
	}
	if err := s.restoreScheduled(ctx); err != nil {
		return err
	}
	return s.follow(ctx, heads)
}

// Close stops following the log, stops the engine's and the driver's timers,
// and then drains the writer (within ctx), so that every change the engine
// made is in the store before the store closes.
func (s *Service) Close(ctx context.Context) error {
	if s.tail != nil {
		s.tail.Close()
		s.tail = nil
	}
	s.eng.Close()
	err := s.drv.Close()
	s.ids.close()
	return errors.Join(err, s.w.close(ctx))
}

// Health reports why the service cannot keep the store current, or nil: the
// writer has failed for a while, or its backlog is large.
func (s *Service) Health() error { return s.w.health() }

// Stats is the engine's state for the metrics.
func (s *Service) Stats() engine.Stats { return s.eng.Stats() }

// Behind is how many committed events the engine has not applied yet.
func (s *Service) Behind(ctx context.Context) (int64, error) {
	if s.tail == nil {
		return 0, nil
	}
	return s.tail.Behind(ctx)
}

// Backlog is how many engine changes wait for the writer.
func (s *Service) Backlog() int { return s.w.backlog() }

// CallChanged implements engine.Observer: the change joins the writer's
// queue. It runs under the engine's lock, so it only copies.
func (s *Service) CallChanged(c *switchboard.Call, what string) {
	if c.TenantID == 0 {
		return // a call nothing answered to belongs to no tenant
	}
	if c.UUID == "" {
		c.UUID = uuid.NewString() // the engine's copy keeps it for every later change
	}
	s.w.enqueue(switchboard.CallChange{Call: c.Clone(), What: what})
	if what == "ended" && s.ended != nil {
		s.ended(c.Disposition)
	}
	if what == "connected" && c.ParentID != nil {
		// A callback that reaches the customer recovers the call it follows.
		s.w.enqueue(switchboard.CallChange{Recover: &switchboard.CallRef{TenantID: c.TenantID, CallID: *c.ParentID}})
	}
}

// CallWrappedUp implements engine.WrapUpObserver: call.wrapped_up joins the
// writer's queue after the call's end, in the engine's order.
func (s *Service) CallWrappedUp(c *switchboard.Call) {
	if c.TenantID == 0 {
		return
	}
	s.w.enqueue(switchboard.CallChange{Call: c.Clone(), What: switchboard.CallWrappedUp})
}

// AgentChanged implements engine.AgentObserver: the agent's shown presence
// follows their calls (In-Call, Wrap-Up, then back), written by the writer in
// order with the calls' changes.
func (s *Service) AgentChanged(userID int64, st engine.AgentState) {
	s.mu.Lock()
	tenantID, ok := s.userTenant[userID]
	s.mu.Unlock()
	if !ok {
		s.log.Error("agent presence: the user is not known to the call engine", "user_id", userID)
		return
	}
	s.w.enqueue(switchboard.CallChange{Agent: &switchboard.AgentCallState{TenantID: tenantID, UserID: userID, State: phases[st]}})
}

// phases names the engine's agent states in the domain's words.
var phases = map[engine.AgentState]switchboard.AgentPhase{
	engine.AgentInCall: switchboard.PhaseInCall,
	engine.AgentWrapUp: switchboard.PhaseWrapUp,
	engine.AgentFree:   switchboard.PhaseFree,
}

// sync waits until every change the engine has made so far is in the store,
// so that what an API call returns includes it.
func (s *Service) sync(ctx context.Context) error {
	if err := s.w.sync(ctx); err != nil {
		return fmt.Errorf("wait for the call to be recorded: %w", err)
	}
	return nil
}
