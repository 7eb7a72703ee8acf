// Package billing charges calls to the tenants' prepaid balances. It is a
// reader of the event log, like the webhook dispatcher and the engine
// follower, never a hook in the call engine: the engine's batching writer
// stays as fast as it is, and a call is billed the same way whichever node
// or driver placed it.
//
// On call.connected of a billable call it sets money aside (a hold: the
// call's rate for HoldMinutes), so that the available balance reflects the
// calls in progress; on call.ended it releases the hold and charges the
// talk time by the rate table, in one transaction. A call is billable when
// its dialled number (the customer for outbound calls, the DID for inbound
// ones) is an E.164 number with a rate of the call's direction: every
// outbound number needs a rate to be charged (a catch-all rate with prefix
// "" covers the rest), and inbound calls are free unless an inbound rate
// matches. The rate is the one in effect when the call connected.
//
// Replaying events never charges twice: the store keys holds and charges by
// call id. The service keeps its position per tenant in the store
// (follower_positions, name "billing") and starts from it, so a restart replays at most
// what it had not saved; a tenant that existed before billing did starts
// at its head of that moment (migration 0018), so old calls are not
// charged.
package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard"
	"switchboard/internal/eventtail"
)

// Store is what the service reads and writes. *sqlstore.DB implements it.
type Store interface {
	eventtail.Store
	MatchRate(ctx context.Context, tenantID int64, dir switchboard.Direction, number string, at time.Time) (switchboard.Rate, bool, error)
	HoldForCall(ctx context.Context, tenantID, callID, amountCents int64, reason string) (switchboard.LedgerEntry, bool, error)
	ChargeCall(ctx context.Context, tenantID int64, c switchboard.CallCharge) (switchboard.LedgerEntry, bool, error)
	CallHeld(ctx context.Context, tenantID, callID int64) (bool, error)
	// BillingPositions and SaveBillingPositions keep where the service has
	// read each tenant's log to.
	BillingPositions(ctx context.Context) (map[int64]int64, error)
	SaveBillingPositions(ctx context.Context, pos map[int64]int64) error
}

// Options configure the service. Zero values take the documented defaults.
type Options struct {
	// HoldMinutes is how much talk time a connected call holds (default 10).
	HoldMinutes int
	// Poll is how often the log is read when nothing signals (default 1 s).
	Poll time.Duration
	// SaveEvery is how often the position is saved (default 5 s); a
	// restart replays at most this much, which charges nothing twice.
	SaveEvery time.Duration
	// Retry is the pause before a failed write is tried again (default 1 s).
	Retry time.Duration
	Log   *slog.Logger
}

// Service follows the log and bills calls until Close.
type Service struct {
	store Store
	opt   Options
	tail  *eventtail.Follower

	mu sync.Mutex
	// stuck holds, per tenant, the first event the service gave up on
	// (stopping while a write failed): positions are saved before it, so
	// the next start handles it again.
	stuck map[int64]int64
	saved map[int64]int64
	// failures counts the billing writes that failed (each retry counts).
	failures atomic.Int64

	cancel context.CancelFunc
	done   chan struct{}
}

// Start reads the saved positions and follows the log from them.
func Start(ctx context.Context, store Store, opt Options) (*Service, error) {
	if opt.HoldMinutes <= 0 {
		opt.HoldMinutes = 10
	}
	if opt.SaveEvery <= 0 {
		opt.SaveEvery = 5 * time.Second
	}
	if opt.Retry <= 0 {
		opt.Retry = time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	from, err := store.BillingPositions(ctx)
	if err != nil {
		return nil, fmt.Errorf("start billing: %w", err)
	}
	s := &Service{store: store, opt: opt, stuck: map[int64]int64{}, saved: maps.Clone(from), done: make(chan struct{})}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.tail, err = eventtail.Start(runCtx, store, func(ctx context.Context, e switchboard.Event) { s.handle(runCtx, e) },
		eventtail.Options{From: from, Poll: opt.Poll, Log: opt.Log})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("start billing: %w", err)
	}
	go s.saveLoop(runCtx)
	return s, nil
}

// CatchUp bills every call event committed before it was called.
func (s *Service) CatchUp(ctx context.Context) error { return s.tail.CatchUp(ctx) }

// Failures returns how many billing writes have failed since Start, each
// retry counted: a gauge for the metrics, and how tests see the service
// wait for the store.
func (s *Service) Failures() int64 { return s.failures.Load() }

// Close stops following and saves the position reached.
func (s *Service) Close() error {
	s.cancel()
	<-s.done
	err := s.tail.Close()
	if serr := s.save(context.Background()); serr != nil {
		return serr
	}
	return err
}

func (s *Service) saveLoop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.opt.SaveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.save(ctx); err != nil && ctx.Err() == nil {
				s.opt.Log.Error("save the billing position", "err", err)
			}
		}
	}
}

// save writes the positions that moved since the last save.
func (s *Service) save(ctx context.Context) error {
	pos := s.tail.Position()
	s.mu.Lock()
	changed := map[int64]int64{}
	for id, seq := range pos {
		if st, ok := s.stuck[id]; ok && seq >= st {
			seq = st - 1
		}
		if seq > s.saved[id] {
			changed[id] = seq
		}
	}
	s.mu.Unlock()
	if err := s.store.SaveBillingPositions(ctx, changed); err != nil {
		return err
	}
	s.mu.Lock()
	maps.Copy(s.saved, changed)
	s.mu.Unlock()
	return nil
}

// handle bills one event, retrying a failed write until it succeeds or the
// service stops (then the event is left for the next start).
func (s *Service) handle(ctx context.Context, e switchboard.Event) {
	if e.Type != switchboard.EventCallConnected && e.Type != switchboard.EventCallEnded {
		return
	}
	for {
		err := s.bill(ctx, e)
		if err == nil {
			return
		}
		if switchboard.ErrorCode(err) == switchboard.CodeInvalid {
			// The store refused what it was given (an amount out of
			// range): trying again would refuse it again.
			s.opt.Log.Error("bill a call: refused", "tenant", e.TenantID, "seq", e.Seq, "type", e.Type, "err", err)
			return
		}
		s.failures.Add(1)
		s.opt.Log.Error("bill a call", "tenant", e.TenantID, "seq", e.Seq, "type", e.Type, "err", err)
		select {
		case <-ctx.Done():
			s.mu.Lock()
			if _, ok := s.stuck[e.TenantID]; !ok {
				s.stuck[e.TenantID] = e.Seq
			}
			s.mu.Unlock()
			return
		case <-time.After(s.opt.Retry):
		}
	}
}

// bill applies one call.connected or call.ended.
func (s *Service) bill(ctx context.Context, e switchboard.Event) error {
	var p switchboard.CallEventPayload
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		s.opt.Log.Error("bill a call: unreadable payload", "tenant", e.TenantID, "seq", e.Seq, "err", err)
		return nil // retrying cannot help
	}
	if p.ConnectedAt == nil || !strings.HasPrefix(p.To, "+") {
		return nil // never talked, or not a telephone number (an extension): nothing to bill
	}
	rate, ok, err := s.store.MatchRate(ctx, e.TenantID, p.Direction, p.To, *p.ConnectedAt)
	if err != nil {
		return err
	}
	switch e.Type {
	case switchboard.EventCallConnected:
		if !ok {
			return nil
		}
		amount := rate.Cost(s.opt.HoldMinutes * 60)
		_, _, err := s.store.HoldForCall(ctx, e.TenantID, p.ID, amount,
			fmt.Sprintf("%d minutes of %s to %s", s.opt.HoldMinutes, p.Direction, p.To))
		return err
	default: // ended
		if !ok {
			// A free call writes nothing, unless it holds money (its rate
			// was removed while it ran): the release must still be written.
			held, err := s.store.CallHeld(ctx, e.TenantID, p.ID)
			if err != nil || !held {
				return err
			}
		}
		c := switchboard.CallCharge{CallID: p.ID, Reason: fmt.Sprintf("%s call to %s", p.Direction, p.To)}
		if ok && p.EndedAt != nil {
			talk := int(math.Ceil(p.EndedAt.Sub(*p.ConnectedAt).Seconds()))
			c.RateID, c.BilledSeconds, c.AmountCents = &rate.ID, rate.BilledSeconds(talk), rate.Cost(talk)
		}
		_, _, err := s.store.ChargeCall(ctx, e.TenantID, c)
		return err
	}
}
