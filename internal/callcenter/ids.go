package callcenter

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// idBlocks numbers calls for the engine from blocks of ids reserved in the
// store (Store.ReserveCallIDs). NextCallID answers from memory under the
// engine's lock; the next block is fetched in the background once half of
// the current one is used, so the store is never waited on. Ids left in a
// block at shutdown are never used: ids have gaps, never repeats.
type idBlocks struct {
	store Store
	size  int64
	log   *slog.Logger

	mu        sync.Mutex
	next, end int64 // the current block: next … end-1
	spare     [2]int64
	hasSpare  bool
	fetching  bool
	ctx       context.Context
	cancel    context.CancelFunc
}

func newIDBlocks(store Store, size int64, log *slog.Logger) *idBlocks {
	ctx, cancel := context.WithCancel(context.Background())
	return &idBlocks{store: store, size: size, log: log, ctx: ctx, cancel: cancel}
}

// start reserves the first block, and the spare behind it.
func (b *idBlocks) start(ctx context.Context) error {
	first, err := b.store.ReserveCallIDs(ctx, int(b.size))
	if err != nil {
		return fmt.Errorf("reserve call ids: %w", err)
	}
	b.mu.Lock()
	b.next, b.end = first, first+b.size
	b.fetch()
	b.mu.Unlock()
	return nil
}

func (b *idBlocks) close() { b.cancel() }

// NextCallID implements engine.CallIDs.
func (b *idBlocks) NextCallID() (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.next >= b.end {
		if !b.hasSpare {
			b.fetch()
			return 0, false
		}
		b.next, b.end, b.hasSpare = b.spare[0], b.spare[1], false
	}
	id := b.next
	b.next++
	if !b.hasSpare && b.end-b.next < b.size/2 {
		b.fetch()
	}
	return id, true
}

// fetch reserves the spare block in the background, retrying until the
// store answers; b.mu is held.
func (b *idBlocks) fetch() {
	if b.fetching || b.hasSpare {
		return
	}
	b.fetching = true
	go func() {
		// Ends once a block is reserved, or at close.
		backoff := retryFirst
		for {
			ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
			first, err := b.store.ReserveCallIDs(ctx, int(b.size))
			cancel()
			if err == nil {
				b.mu.Lock()
				b.spare, b.hasSpare, b.fetching = [2]int64{first, first + b.size}, true, false
				b.mu.Unlock()
				return
			}
			if b.ctx.Err() != nil {
				b.mu.Lock()
				b.fetching = false
				b.mu.Unlock()
				return
			}
			b.log.Error("reserve call ids: the store fails; new calls are refused once the ids at hand run out", "err", err)
			select {
			case <-time.After(backoff):
			case <-b.ctx.Done():
			}
			backoff = min(2*backoff, retryMax)
		}
	}()
}
