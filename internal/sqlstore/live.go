package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"switchboard"
)

// Live implements switchboard.Store. The view and the tenant's event head are
// read in one snapshot (a SQLite read transaction, a PostgreSQL REPEATABLE
// READ one): every change is written with its event, so the view is exactly
// the state after event Seq and not a change more or less.
func (db *DB) Live(ctx context.Context, tenantID int64) (switchboard.LiveView, error) {
	var v switchboard.LiveView
	var opts *sql.TxOptions
	if db.engine == Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	rtx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return v, fmt.Errorf("live view: %w", err)
	}
	defer rtx.Rollback() // read only: nothing to commit
	query := func(q string, args ...any) (*sql.Rows, error) { return rtx.QueryContext(ctx, db.rebind(q), args...) }

	err = rtx.QueryRowContext(ctx, db.rebind("SELECT event_seq FROM tenants WHERE id = ?"), tenantID).Scan(&v.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return v, switchboard.Errorf(switchboard.CodeNotFound, "tenant %d not found", tenantID)
	}
	if err != nil {
		return v, fmt.Errorf("live view: %w", err)
	}

	rows, err := query(`SELECT id, first_name, last_name, extension, deactivated_at IS NULL, presence_status, presence_since
		FROM users WHERE tenant_id = ? ORDER BY id`, tenantID)
	if err != nil {
		return v, fmt.Errorf("live view: agents: %w", err)
	}
	for rows.Next() {
		var a switchboard.LiveAgent
		var first, last string
		var since sql.NullInt64
		if err := rows.Scan(&a.UserID, &first, &last, &a.Extension, &a.Active, &a.Status, &since); err != nil {
			rows.Close()
			return v, fmt.Errorf("live view: agents: %w", err)
		}
		a.Name, a.Since = (&switchboard.User{FirstName: first, LastName: last}).Name(), timePtr(since)
		v.Agents = append(v.Agents, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("live view: agents: %w", err)
	}

	if rows, err = query("SELECT id, name FROM queues WHERE tenant_id = ? ORDER BY id", tenantID); err != nil {
		return v, fmt.Errorf("live view: queues: %w", err)
	}
	for rows.Next() {
		var q switchboard.LiveQueue
		if err := rows.Scan(&q.ID, &q.Name); err != nil {
			rows.Close()
			return v, fmt.Errorf("live view: queues: %w", err)
		}
		v.Queues = append(v.Queues, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("live view: queues: %w", err)
	}

	if rows, err = query("SELECT "+callCols+" FROM calls WHERE tenant_id = ? AND ended_at IS NULL AND status <> ? ORDER BY id",
		tenantID, switchboard.CallScheduled); err != nil {
		return v, fmt.Errorf("live view: calls: %w", err)
	}
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			rows.Close()
			return v, fmt.Errorf("live view: calls: %w", err)
		}
		v.Calls = append(v.Calls, switchboard.NewLiveCall(c))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("live view: calls: %w", err)
	}
	v.Index()
	return v, nil
}
