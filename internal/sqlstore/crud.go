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
