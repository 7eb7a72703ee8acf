package sqlstore

import (
	"context"
	"database/sql"

	"switchboard"
)

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

// AppendEventDuring appends an event of tenantID in a transaction that runs
// during (after the append, before the commit): tests hold transactions open
// with it to commit them out of order.
func AppendEventDuring(ctx context.Context, db *DB, tenantID int64, typ string, payload any, during func(seq int64)) error {
	return db.inTx(ctx, func(t *tx) error {
		e, err := t.appendEventReturning(ctx, tenantID, typ, "test", 1, payload)
		if err != nil {
			return err
		}
		during(e.Seq)
		return nil
	})
}

// CallEventPayloads builds c's event payload n times in one transaction, as
// a batch of changes naming the same agent, queue and caller does: the first
// reads the names, the others find them remembered.
func CallEventPayloads(ctx context.Context, db *DB, c switchboard.Call, n int) error {
	return db.inTx(ctx, func(t *tx) error {
		if t.stmts == nil {
			t.stmts = map[string]*sql.Stmt{} // as in a group commit
		}
		for range n {
			if _, err := t.callEventPayload(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// EventsAfterID returns the events of every tenant with an id above afterID,
// oldest first: how the log was once followed, kept for the test that shows
// why it is no cursor (a lower id commits after a higher one was read).
func EventsAfterID(ctx context.Context, db *DB, afterID int64, limit int) ([]switchboard.Event, error) {
	rows, err := db.query(ctx, `SELECT id, tenant_id, seq, type, time, subject_type, subject_id, payload
		FROM events WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, err
	}
	return scanEvents(rows)
}

// SetExportChunk sets the rows per statement of db's EachCDR (0: the
// engine's default).
func SetExportChunk(db *DB, n int) { db.exportChunk = n }
