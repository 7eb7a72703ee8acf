package sqlstore

import "context"

// RunTx exposes inTx to the package's external tests: fn's exec runs a
// statement in the transaction.
func RunTx(ctx context.Context, db *DB, fn func(exec func(q string, args ...any) error) error) error {
	return db.inTx(ctx, func(t *tx) error {
		return fn(func(q string, args ...any) error {
			_, err := t.exec(ctx, q, args...)
			return err
		})
	})
}

// Retryable exposes retryable.
var Retryable = retryable
