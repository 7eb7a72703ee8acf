// Package eventtail follows the event log in commit order: every event,
// exactly once, each tenant's in sequence order, whichever engine and however
// many writers commit at once.
//
// Event ids are global but taken at insert and visible at commit, so on
// PostgreSQL a lower id can commit after a higher one was read: a reader that
// keeps "the last id seen" skips it. A tenant's sequence numbers do not have
// that flaw: the store hands them out under the tenant row's lock (the single
// writer on SQLite), so seq n+1 cannot commit before seq n. A Follower
// therefore keeps a position per tenant, learns which tenants moved from
// their heads (tenants.event_seq, one cheap read), and reads seq > position
// for those. It reads when the store signals a local commit and on a poll,
// which is what brings in the commits of other nodes.
//
// Its tests run against the real store on both engines, where transactions
// can be held open: internal/sqlstore/tail_test.go.
package eventtail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"switchboard"
)

// Store is what a Follower reads. *sqlstore.DB implements it.
type Store interface {
	// EventHeads returns every tenant's newest sequence number.
	EventHeads(ctx context.Context) (map[int64]int64, error)
	// Events returns a tenant's events after afterSeq, in order.
	Events(ctx context.Context, tenantID, afterSeq int64, limit int) ([]switchboard.Event, error)
	// Changes signals commits made through this store.
	Changes() (<-chan struct{}, func())
}

// Handler receives each event once, a tenant's in sequence order. It runs on
// the Follower's goroutine, or on the caller's under CatchUp, never on two at
// once; the next event waits for it to return.
type Handler func(ctx context.Context, e switchboard.Event)

// Options configure a Follower. Zero values take the documented defaults.
type Options struct {
	// From is where each tenant starts: the sequence number of its last event
	// already handled. Nil starts from now (every tenant's head when the
	// Follower starts). A tenant missing from a non-nil From, or born later,
	// starts at its first event.
	From map[int64]int64
	// Poll is how often the heads are read when nothing signals (default
	// 1 s); it bounds how late a commit made through another process shows.
	Poll time.Duration
	// Page is how many events one read takes (default 500).
	Page int
	// Log reports failed reads, which are retried on the next wake.
	Log *slog.Logger
}

// Follower delivers the log to a Handler until Close.
type Follower struct {
	store  Store
	handle Handler
	opt    Options

	mu  sync.Mutex // serializes reading and handling
	pos map[int64]int64

	cancel context.CancelFunc
	done   chan struct{}
}

// Start returns a Follower that delivers every event after opt.From to
// handle, from its own goroutine, until Close. It subscribes to the store's
// changes before it reads the heads, so no commit falls in between.
func Start(ctx context.Context, store Store, handle Handler, opt Options) (*Follower, error) {
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Page <= 0 {
		opt.Page = 500
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	wake, stop := store.Changes()
	f := &Follower{store: store, handle: handle, opt: opt, pos: maps.Clone(opt.From), done: make(chan struct{})}
	if f.pos == nil {
		heads, err := store.EventHeads(ctx)
		if err != nil {
			stop()
			return nil, fmt.Errorf("follow the event log: %w", err)
		}
		f.pos = heads
	}
	ctx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go f.run(ctx, wake, stop)
	return f, nil
}

func (f *Follower) run(ctx context.Context, wake <-chan struct{}, stop func()) {
	defer close(f.done)
	defer stop()
	poll := time.NewTicker(f.opt.Poll)
	defer poll.Stop()
	for {
		if err := f.CatchUp(ctx); err != nil && ctx.Err() == nil {
			f.opt.Log.Error("follow the event log", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-poll.C:
		}
	}
}

// CatchUp delivers every event committed before it was called and returns
// when they have been handled: a caller that just changed the store and
// calls CatchUp finds its change handled (read-your-writes). It may run
// beside the Follower's own goroutine; the two take turns.
func (f *Follower) CatchUp(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	heads, err := f.store.EventHeads(ctx)
	if err != nil {
		return fmt.Errorf("read the event heads: %w", err)
	}
	var errs []error
	for _, tenantID := range slices.Sorted(maps.Keys(heads)) {
		if err := f.catchUpTenant(ctx, tenantID, heads[tenantID]); err != nil {
			errs = append(errs, fmt.Errorf("tenant %d: %w", tenantID, err))
		}
	}
	return errors.Join(errs...)
}

// catchUpTenant delivers a tenant's events up to head at least.
func (f *Follower) catchUpTenant(ctx context.Context, tenantID, head int64) error {
	for f.pos[tenantID] < head {
		evs, err := f.store.Events(ctx, tenantID, f.pos[tenantID], f.opt.Page)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			// The head rises only in the commit that writes its event, so
			// this means events were removed from the log.
			return fmt.Errorf("the log ends at %d, before its head %d", f.pos[tenantID], head)
		}
		for _, e := range evs {
			f.handle(ctx, e)
			f.pos[tenantID] = e.Seq
		}
	}
	return nil
}

// Position returns the sequence number of the last event handled, by tenant.
func (f *Follower) Position() map[int64]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.pos)
}

// Behind returns how many committed events are not handled yet, over all
// tenants: a gauge of the Follower's lag.
func (f *Follower) Behind(ctx context.Context) (int64, error) {
	heads, err := f.store.EventHeads(ctx)
	if err != nil {
		return 0, err
	}
	pos := f.Position()
	var n int64
	for id, head := range heads {
		n += max(0, head-pos[id])
	}
	return n, nil
}

// Close stops the Follower and waits for the event being handled, if any.
func (f *Follower) Close() error {
	f.cancel()
	<-f.done
	return nil
}
