package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"switchboard"
)

// getOne reads the row id of table in tenantID, or fails with CodeNotFound.
func getOne[T any](ctx context.Context, db *DB, table, cols, what string, scan func(scanner) (T, error), tenantID, id int64) (T, error) {
	v, err := scan(db.queryRow(ctx, "SELECT "+cols+" FROM "+table+" WHERE tenant_id = ? AND id = ?", tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound(what, id)
	}
	if err != nil {
		return v, fmt.Errorf("get %s: %w", what, err)
	}
	return v, nil
}

// getOneTx is getOne inside a write transaction, for read-modify-write updates.
func getOneTx[T any](ctx context.Context, t *tx, table, cols, what string, scan func(scanner) (T, error), tenantID, id int64) (T, error) {
	v, err := scan(t.queryRow(ctx, "SELECT "+cols+" FROM "+table+" WHERE tenant_id = ? AND id = ?", tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound(what, id)
	}
	if err != nil {
		return v, fmt.Errorf("get %s: %w", what, err)
	}
	return v, nil
}

// deleteOne removes the row id of table in tenantID and records event, whose
// payload is the object as it was.
func (db *DB) deleteOne(ctx context.Context, tenantID, id int64, table, what, event string, before func(*tx) (any, error)) error {
	return db.inTx(ctx, func(t *tx) error {
		payload, err := before(t)
		if err != nil {
			return err
		}
		res, err := t.exec(ctx, "DELETE FROM "+table+" WHERE tenant_id = ? AND id = ?", tenantID, id)
		if err != nil {
			return fmt.Errorf("delete %s: %w", what, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound(what, id)
		}
		return t.appendEvent(ctx, tenantID, event, what, id, payload)
	})
}

// listAll is listPage over the rows of table in tenantID, ordered by id.
func listAll[T any](ctx context.Context, db *DB, table, cols string, scan func(scanner) (T, error), keyOf func(T) int64, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[T], error) {
	return listPage(ctx, db, listQuery{cols: cols, from: "FROM " + table + " WHERE tenant_id = ?", args: []any{tenantID}, key: "id"}, opt, scan, keyOf)
}

// modify is the read-modify-write of one object: inside one transaction it
// locks the row (see lockRow), reads it with get, lets change alter it, stores
// the result with write and reads it back, so that what the caller gets is
// exactly what a later read returns. Nothing another writer commits between
// the read and the write can be lost, because nothing can commit to the row
// in between.
//
// change runs inside the transaction, on SQLite in the single writer's
// goroutine: it must be quick, must not call the store, and may run more than
// once (inTx retries deadlock victims), so it may only change its argument.
func modify[T any](ctx context.Context, db *DB, table, what string, tenantID, id int64, get func(*tx) (T, error), change func(*T) error, write func(*tx, T) (T, error)) (T, error) {
	var out T
	err := db.inTx(ctx, func(t *tx) error {
		if err := t.lockRow(ctx, table, what, tenantID, id); err != nil {
			return err
		}
		cur, err := get(t)
		if err != nil {
			return err
		}
		if err := change(&cur); err != nil {
			return err
		}
		if _, err := write(t, cur); err != nil {
			return err
		}
		out, err = get(t)
		return err
	})
	return out, err
}

// inTxValue runs fn in a write transaction and returns its value, or zero
// (the caller's input, for methods that return it on failure) when it fails.
func inTxValue[T any](ctx context.Context, db *DB, zero T, fn func(*tx) (T, error)) (T, error) {
	out := zero
	err := db.inTx(ctx, func(t *tx) error {
		v, err := fn(t)
		if err == nil {
			out = v
		}
		return err
	})
	return out, err
}
