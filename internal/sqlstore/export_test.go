package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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

// ScanCallIDs returns the ids of tenantID's calls whose from or to number
// contains part, by a plain LIKE over every call (the query the trigram index
// replaced), in id order; ended limits it to ended calls.
func ScanCallIDs(ctx context.Context, db *DB, tenantID int64, part string, ended bool) ([]int64, error) {
	p := "%" + likeEscape(part) + "%"
	q := "SELECT id FROM calls WHERE tenant_id = ? AND (from_number LIKE ?" + db.likeEscapeClause() +
		" OR to_number LIKE ?" + db.likeEscapeClause() + ")"
	if ended {
		q += " AND ended_at IS NOT NULL"
	}
	rows, err := db.read.QueryContext(ctx, db.rebind(q+" ORDER BY id"), tenantID, p, p)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// CountCalls counts tenantID's calls by a scan: all of them, and the ended.
func CountCalls(ctx context.Context, db *DB, tenantID int64) (all, ended int, err error) {
	err = db.read.QueryRowContext(ctx, db.rebind("SELECT COUNT(*), COUNT(ended_at) FROM calls WHERE tenant_id = ?"), tenantID).Scan(&all, &ended)
	return all, ended, err
}

// CDRPlan returns the engine's plan of the page query CDRs runs for f.
func CDRPlan(ctx context.Context, db *DB, tenantID int64, f switchboard.CDRFilter) (string, error) {
	q, err := db.cdrQuery(ctx, tenantID, f)
	if err != nil {
		return "", err
	}
	explain := "EXPLAIN QUERY PLAN "
	if db.engine == Postgres {
		explain = "EXPLAIN "
	}
	order := " ORDER BY id"
	if q.desc {
		order += " DESC"
	}
	rows, err := db.read.QueryContext(ctx, db.rebind(explain+"SELECT "+q.cols+" "+q.from+order+" LIMIT 51"), q.args...)
	if err != nil {
		return "", err
	}
	return lastColumns(rows)
}

// LegacyCDRs is CDRs as it was before issue 12 (one query over the tenant's
// calls with the number filters as conditions, a COUNT(*) for every total),
// kept for the benchmarks that set the new queries beside it.
func LegacyCDRs(db *DB, ctx context.Context, tenantID int64, f switchboard.CDRFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.CDR], error) {
	q := listQuery{cols: callCols, from: "FROM calls WHERE tenant_id = ?", args: []any{tenantID}, key: "id"}
	add := func(cond string, args ...any) {
		q.from += " AND " + cond
		q.args = append(q.args, args...)
	}
	switch {
	case f.OnlyOpen:
		add("ended_at IS NULL")
	case !f.Open:
		add("ended_at IS NOT NULL")
	}
	if f.Since != nil {
		add("created_at >= ?", micros(*f.Since))
	}
	if f.Until != nil {
		add("created_at < ?", micros(*f.Until))
	}
	if f.Direction != "" {
		add("direction = ?", f.Direction)
	}
	if f.Disposition != "" {
		add("disposition = ?", f.Disposition)
	}
	if f.AgentID != 0 {
		add("agent_id = ?", f.AgentID)
	}
	if f.TeamID != 0 {
		add("agent_id IN (SELECT user_id FROM user_teams WHERE team_id = ?)", f.TeamID)
	}
	if f.QueueID != 0 {
		add("queue_id = ?", f.QueueID)
	}
	if f.Number != "" {
		// Written as a set of ids so that both engines find the party's calls
		// through the number indexes even without statistics.
		add("id IN (SELECT id FROM calls WHERE tenant_id = ? AND from_number = ? UNION ALL SELECT id FROM calls WHERE tenant_id = ? AND to_number = ?)",
			tenantID, f.Number, tenantID, f.Number)
	}
	if f.NumberPrefix != "" {
		p := likeEscape(f.NumberPrefix) + "%"
		add("(from_number LIKE ? ESCAPE '\\' OR to_number LIKE ? ESCAPE '\\')", p, p)
	}
	if f.NumberContains != "" {
		p := "%" + likeEscape(f.NumberContains) + "%"
		add("(from_number LIKE ? ESCAPE '\\' OR to_number LIKE ? ESCAPE '\\')", p, p)
	}
	talk := "(COALESCE(ended_at, 0) - COALESCE(connected_at, COALESCE(ended_at, 0)))"
	if f.MinDuration != nil {
		add(talk+" >= ?", f.MinDuration.Microseconds())
	}
	if f.MaxDuration != nil {
		add(talk+" <= ?", f.MaxDuration.Microseconds())
	}
	q.desc = f.Newest
	page, err := listPage(ctx, db, q, opt, scanCall, func(c switchboard.Call) int64 { return c.ID })
	out := switchboard.Page[switchboard.CDR]{Total: page.Total, NextCursor: page.NextCursor, Items: make([]switchboard.CDR, len(page.Items))}
	for i, c := range page.Items {
		out.Items[i] = switchboard.NewCDR(c)
	}
	return out, err
}

// SetMaxIndexedIDs changes how many ids a search takes from SQLite's number
// index before it falls back to LIKE, until the returned function restores it.
func SetMaxIndexedIDs(n int) (restore func()) {
	old := maxIndexedIDs
	maxIndexedIDs = n
	return func() { maxIndexedIDs = old }
}

// PendingNumbers counts SQLite's calls waiting to enter the number index
// (always 0 on PostgreSQL, which has no such table).
func PendingNumbers(ctx context.Context, db *DB) (int, error) {
	if db.engine != SQLite {
		return 0, nil
	}
	var n int
	err := db.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM calls_numbers_pending").Scan(&n)
	return n, err
}

// DialablePlan returns the engine's plan of DialableLeads' query.
func DialablePlan(ctx context.Context, db *DB, tenantID, campaignID int64, now time.Time) (string, error) {
	explain := "EXPLAIN QUERY PLAN "
	if db.engine == Postgres {
		explain = "EXPLAIN "
	}
	rows, err := db.read.QueryContext(ctx, db.rebind(explain+"SELECT "+leadCols+dialableFrom), campaignID, tenantID, micros(now), 100)
	if err != nil {
		return "", err
	}
	return lastColumns(rows)
}

// lastColumns reads rows to their end and gives each row's last column, a
// line each: the plan text of EXPLAIN (QUERY PLAN) on either engine.
func lastColumns(rows *sql.Rows) (string, error) {
	defer rows.Close()
	cols, _ := rows.Columns()
	var b []byte
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		b = fmt.Appendf(b, "%v\n", vals[len(vals)-1])
	}
	return string(b), rows.Err()
}
