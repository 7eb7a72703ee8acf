package callcenter

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"switchboard"
)

// The batching writer: the engine's changes, in the order it made them,
// committed many to a transaction by one goroutine. The engine only appends
// to the queue (under its lock, no I/O); the store's speed decides how many
// changes share a commit, never how fast calls are routed.

// op is one queued change: a call's change, an agent's presence following
// their calls, or a call recovered by its callback.
type op = switchboard.CallChange

// Writer tuning.
const (
	// maxBatch bounds the changes in one transaction.
	maxBatch = 2048
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

	stopped chan struct{}
}

func newWriter(store Store, log *slog.Logger) *writer {
	w := &writer{store: store, log: log, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
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

// write commits batch, in order, in one transaction. When that fails, the
// changes are written one by one, in order, up to the one at fault; the rest
// go on as a batch. A change that fails alone while the store answers is
// retried a few times and then logged as lost; while the store fails as a
// whole the writer backs off and retries, for as long as it takes. Changes
// are never reordered: a later change of a call never lands before an
// earlier one.
func (w *writer) write(batch []op) {
	backoff, headFailures := retryFirst, 0
	for len(batch) > 0 {
		err := w.attempt(func(ctx context.Context) error { return w.store.SaveCalls(ctx, batch) })
		if err == nil {
			w.recovered()
			return
		}
		w.failing(err)
		n, err := w.prefix(batch)
		batch = batch[n:]
		switch {
		case len(batch) == 0:
			w.recovered()
			return
		case n > 0:
			headFailures = 0
			continue
		}
		headFailures++
		if headFailures >= itemAttempts && w.ping() == nil {
			w.lose(batch[0], err)
			batch, headFailures = batch[1:], 0
			continue
		}
		w.log.Warn("recording call changes failed; retrying", "changes", len(batch), "in", backoff, "err", err)
		time.Sleep(backoff)
		backoff = min(2*backoff, retryMax)
	}
}

// prefix writes ops one at a time, in order, until one fails, and returns how
// many it wrote and that failure.
func (w *writer) prefix(ops []op) (int, error) {
	for i, o := range ops {
		if err := w.attempt(func(ctx context.Context) error { return w.store.SaveCalls(ctx, []op{o}) }); err != nil {
			return i, err
		}
	}
	return len(ops), nil
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
	case o.Agent != nil:
		w.log.Error("agent presence change lost: the store refused it", "user_id", o.Agent.UserID, "tenant_id", o.Agent.TenantID,
			"state", o.Agent.State, "err", err)
	case o.Recover != nil:
		w.log.Error("call recovery lost: the store refused it", "call_id", o.Recover.CallID, "tenant_id", o.Recover.TenantID, "err", err)
	default:
		c := o.Call
		w.log.Error("call change lost: the store refused it", "call_id", c.ID, "tenant_id", c.TenantID, "change", o.What,
			"status", c.Status, "err", err)
	}
}

// Lost is how many changes the store refused on their own (each logged).
func (w *writer) Lost() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lost
}
