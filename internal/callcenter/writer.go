package callcenter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"switchboard"
	"switchboard/internal/engine"
)

// The batching writer: the engine's changes, in the order it made them,
// committed many to a transaction by one goroutine. The engine only appends
// to the queue (under its lock, no I/O); the store's speed decides how many
// changes share a commit, never how fast calls are routed.

// op is one queued change: a call's change, an agent's presence following
// their calls, or a call recovered by its callback.
type op struct {
	change   *switchboard.CallChange
	presence *presenceOp
	recover  *recoverOp
}

type recoverOp struct{ tenantID, callID int64 }

// Writer tuning.
const (
	// maxBatch bounds the changes in one transaction.
	maxBatch = 512
	// retryFirst and retryMax bound the backoff while the store fails.
	retryFirst = 50 * time.Millisecond
	retryMax   = 5 * time.Second
	// itemAttempts is how often a change that fails on its own (the store
	// takes the others) is tried before it is logged as lost.
	itemAttempts = 3
	// unhealthyAfter is how long the store may fail before Health says so;
	// unhealthyBacklog how many changes may wait.
	unhealthyAfter   = 5 * time.Second
	unhealthyBacklog = 100_000
)

type writer struct {
	store Store
	log   *slog.Logger

	mu        sync.Mutex
	queue     []op
	enqueued  uint64 // changes ever queued
	done      uint64 // changes written (or given up on)
	wake      chan struct{}
	progress  *sync.Cond // broadcast when done moves
	closing   bool
	failSince time.Time // when the store began failing; zero when it works
	lastErr   error
	lost      int64 // changes given up on, each logged

	// returnTo is the status to give an agent back after a call; only the
	// writer's goroutine uses it.
	returnTo map[int64]string

	stopped chan struct{}
}

func newWriter(store Store, log *slog.Logger) *writer {
	w := &writer{store: store, log: log, wake: make(chan struct{}, 1), returnTo: map[int64]string{}, stopped: make(chan struct{})}
	w.progress = sync.NewCond(&w.mu)
	return w
}

func (w *writer) start() {
	go func() {
		// Runs until close has drained the queue.
		defer close(w.stopped)
		w.run()
	}()
}

// enqueue appends o; it never blocks and never does I/O.
func (w *writer) enqueue(o op) {
	w.mu.Lock()
	w.queue = append(w.queue, o)
	w.enqueued++
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// sync waits until every change queued before it was called is written.
func (w *writer) sync(ctx context.Context) error {
	w.mu.Lock()
	target := w.enqueued
	w.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.progress.Broadcast()
		w.mu.Unlock()
	})
	defer stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.done < target {
		if err := ctx.Err(); err != nil {
			if w.lastErr != nil {
				return fmt.Errorf("%w (the store fails: %v)", err, w.lastErr)
			}
			return err
		}
		w.progress.Wait()
	}
	return nil
}

func (w *writer) backlog() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

func (w *writer) health() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case !w.failSince.IsZero() && time.Since(w.failSince) > unhealthyAfter:
		return fmt.Errorf("call changes cannot be recorded since %s: %v (%d waiting)",
			w.failSince.UTC().Format(time.RFC3339), w.lastErr, len(w.queue))
	case len(w.queue) > unhealthyBacklog:
		return fmt.Errorf("%d call changes wait to be recorded", len(w.queue))
	}
	return nil
}

// close lets the writer drain what is queued, within ctx, and stops it.
// Changes still queued when ctx ends are logged as lost.
func (w *writer) close(ctx context.Context) error {
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		return nil
	}
	w.closing = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.stopped:
	case <-ctx.Done():
		w.mu.Lock()
		n := len(w.queue)
		w.mu.Unlock()
		w.log.Error("call changes not recorded at shutdown: the store did not take them in time", "changes", n, "err", w.lastErr)
		return fmt.Errorf("%d call changes not recorded at shutdown: %w", n, ctx.Err())
	}
	return nil
}

func (w *writer) run() {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			closing := w.closing
			w.mu.Unlock()
			if closing {
				return
			}
			<-w.wake
			continue
		}
		n := min(len(w.queue), maxBatch)
		batch := append([]op(nil), w.queue[:n]...)
		w.mu.Unlock()

		w.write(batch)

		w.mu.Lock()
		w.queue = w.queue[n:]
		if len(w.queue) == 0 {
			w.queue = nil // let the array go
		}
		w.done += uint64(n)
		w.progress.Broadcast()
		w.mu.Unlock()
	}
}

// write commits batch in order: runs of call changes in one transaction
// each, presence and recovery one by one. It returns once every op is
// written or, having failed alone, logged as lost; while the store fails as
// a whole it waits and retries, for as long as it takes.
func (w *writer) write(batch []op) {
	for len(batch) > 0 {
		if batch[0].change == nil {
			w.retry(func(ctx context.Context) error { return w.apply(ctx, batch[0]) }, batch[:1])
			batch = batch[1:]
			continue
		}
		n := 1
		for n < len(batch) && batch[n].change != nil {
			n++
		}
		run := batch[:n]
		changes := make([]switchboard.CallChange, n)
		for i, o := range run {
			changes[i] = *o.change
		}
		w.retry(func(ctx context.Context) error { return w.store.SaveCalls(ctx, changes) }, run)
		batch = batch[n:]
	}
}

// retry runs fn until it succeeds. When it fails and holds several changes,
// they are tried one by one: if some succeed the store works, and the ones
// failing alone are retried a few times and then logged as lost; if all fail
// the store is down, and the writer backs off and tries again.
func (w *writer) retry(fn func(context.Context) error, ops []op) {
	backoff := retryFirst
	for attempt := 1; ; attempt++ {
		err := w.attempt(fn)
		if err == nil {
			w.recovered()
			return
		}
		w.failing(err)
		if len(ops) > 1 || attempt >= itemAttempts {
			if w.oneByOne(ops) {
				w.recovered()
				return
			}
		}
		w.log.Warn("recording call changes failed; retrying", "changes", len(ops), "attempt", attempt, "in", backoff, "err", err)
		time.Sleep(backoff)
		backoff = min(2*backoff, retryMax)
	}
}

// oneByOne writes ops one at a time. It reports false, having written none,
// when every one failed (the store is down, not the changes); otherwise each
// failing op is retried alone and, failing still, logged as lost.
func (w *writer) oneByOne(ops []op) bool {
	failed := make([]error, len(ops))
	wrote := false
	for i, o := range ops {
		failed[i] = w.attempt(func(ctx context.Context) error { return w.apply(ctx, o) })
		wrote = wrote || failed[i] == nil
	}
	if !wrote && len(ops) > 1 {
		return false
	}
	if !wrote && len(ops) == 1 {
		// A lone op failing its every attempt while the store answers other
		// requests is lost; one failing because the store is down is not.
		if pingErr := w.ping(); pingErr != nil {
			return false
		}
	}
	for i, o := range ops {
		err := failed[i]
		for try := 1; err != nil && try < itemAttempts; try++ {
			time.Sleep(retryFirst)
			err = w.attempt(func(ctx context.Context) error { return w.apply(ctx, o) })
		}
		if err != nil {
			w.lose(o, err)
		}
	}
	return true
}

func (w *writer) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := w.store.Tenants(ctx, switchboard.ListOptions{Limit: 1})
	return err
}

// attempt runs fn with a deadline, so that a hung store is retried.
func (w *writer) attempt(fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return fn(ctx)
}

func (w *writer) failing(err error) {
	w.mu.Lock()
	if w.failSince.IsZero() {
		w.failSince = time.Now()
	}
	w.lastErr = err
	w.mu.Unlock()
}

func (w *writer) recovered() {
	w.mu.Lock()
	if !w.failSince.IsZero() {
		w.log.Info("recording call changes works again", "failed_for", time.Since(w.failSince).Round(time.Millisecond))
	}
	w.failSince, w.lastErr = time.Time{}, nil
	w.mu.Unlock()
}

// lose logs a change the store refused on its own, with all it held, so that
// an operator can see and replay it.
func (w *writer) lose(o op, err error) {
	w.mu.Lock()
	w.lost++
	w.mu.Unlock()
	switch {
	case o.change != nil:
		c := o.change.Call
		w.log.Error("call change lost: the store refused it", "call_id", c.ID, "tenant_id", c.TenantID, "change", o.change.What,
			"status", c.Status, "err", err)
	case o.presence != nil:
		w.log.Error("agent presence change lost: the store refused it", "user_id", o.presence.userID, "tenant_id", o.presence.tenantID,
			"state", o.presence.state, "err", err)
	case o.recover != nil:
		w.log.Error("call recovery lost: the store refused it", "call_id", o.recover.callID, "tenant_id", o.recover.tenantID, "err", err)
	}
}

// Lost is how many changes the store refused on their own (each logged).
func (w *writer) Lost() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lost
}

// apply writes one op.
func (w *writer) apply(ctx context.Context, o op) error {
	switch {
	case o.change != nil:
		return w.store.SaveCalls(ctx, []switchboard.CallChange{*o.change})
	case o.recover != nil:
		return w.store.RecoverCall(ctx, o.recover.tenantID, o.recover.callID)
	case o.presence != nil:
		return w.presence(ctx, *o.presence)
	}
	return errors.New("empty writer op")
}

// presenceOp is an agent starting a call, wrapping up or being free again.
type presenceOp struct {
	tenantID, userID int64
	state            engine.AgentState
}

// presence shows In-Call and Wrap-Up as the agent's presence while the engine
// has them busy, and restores the status they had before when they are free
// again, unless they chose another since.
func (w *writer) presence(ctx context.Context, p presenceOp) error {
	cur, err := w.store.Presence(ctx, p.tenantID, p.userID)
	if err != nil {
		return err
	}
	system := cur.Status == switchboard.StatusInCall || cur.Status == switchboard.StatusWrapUp
	var next string
	switch p.state {
	case engine.AgentInCall:
		if !system {
			w.returnTo[p.userID] = cur.Status
		}
		next = switchboard.StatusInCall
	case engine.AgentWrapUp:
		if !system {
			return nil // the agent chose a status during the call; keep it
		}
		next = switchboard.StatusWrapUp
	case engine.AgentFree:
		if !system {
			return nil
		}
		next = w.returnTo[p.userID]
		if next == "" {
			next = switchboard.StatusAvailable
		}
	}
	if _, err := w.store.SetPresence(ctx, p.tenantID, p.userID, next, true); err != nil {
		return err
	}
	if p.state == engine.AgentFree {
		delete(w.returnTo, p.userID)
	}
	return nil
}
