package sqlstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestTransactionsRetryDeadlockVictims makes two transactions lock two rows
// in opposite orders, the textbook deadlock. PostgreSQL aborts one with
// 40P01; the store runs it again, and both callers see success.
func TestTransactionsRetryDeadlockVictims(t *testing.T) {
	db := sqlstoretest.Open(t, sqlstoretest.PostgresURL(t), sqlstore.Options{})
	ctx := context.Background()
	var ids [2]int64
	for i, slug := range []string{"one", "two"} {
		ids[i] = mustTenant(t, db, slug).ID
	}
	var arrived sync.WaitGroup
	arrived.Add(2)
	both := make(chan struct{})
	go func() { arrived.Wait(); close(both) }()
	var runs atomic.Int32
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, second := ids[g], ids[1-g]
			var once sync.Once
			errs[g] = sqlstore.RunTx(ctx, db, func(exec func(string, ...any) error) error {
				runs.Add(1)
				if err := exec("UPDATE tenants SET name = name WHERE id = ?", first); err != nil {
					return err
				}
				once.Do(func() { arrived.Done(); <-both }) // only the first attempt waits for the other
				return exec("UPDATE tenants SET name = name WHERE id = ?", second)
			})
		}()
	}
	wg.Wait()
	for g, err := range errs {
		if err != nil {
			t.Errorf("transaction %d: %v (code %s)", g, err, switchboard.ErrorCode(err))
		}
	}
	if n := runs.Load(); n < 3 {
		t.Errorf("%d runs: no transaction was retried, so no deadlock was provoked", n)
	}
	if sqlstore.Retryable(switchboard.Errorf(switchboard.CodeConflict, "x")) {
		t.Error("a domain error counts as retryable")
	}
}
