package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"switchboard"
)

// Bulk loads write calls in large transactions: this many rows each, and on
// SQLite this many rows per INSERT statement (27 values a row stays under
// SQLite's 32,766 parameters).
const (
	loadTxRows   = 50_000
	loadStmtRows = 1000
)

// loadCols are the columns a bulk load writes, in the order of loadValues.
var loadCols = []string{"id", "tenant_id", "uuid", "direction", "status", "from_number", "to_number", "queue_id",
	"agent_id", "parent_id", "disposition", "hangup_by", "hangup_cause", "created_at", "queued_at", "ringing_at",
	"connected_at", "ended_at", "updated_at", "source_system", "source_account_id", "scheduled_at", "dtmf", "media",
	"fax_pages", "recorded", "hold_micros"}

func loadValues(c *switchboard.Call, updated int64) []any {
	return []any{c.ID, c.TenantID, c.UUID, string(c.Direction), string(c.Status), c.From, c.To, nullID(c.QueueID),
		nullID(c.AgentID), nullID(c.ParentID), string(c.Disposition), string(c.HangupBy), c.HangupCause, micros(c.CreatedAt),
		nullMicros(c.QueuedAt), nullMicros(c.RingingAt), nullMicros(c.ConnectedAt), nullMicros(c.EndedAt), updated,
		c.Source.System, c.Source.AccountID, nullMicros(c.ScheduledAt), c.DTMF, c.Media, c.FaxPages, c.Recorded,
		c.Hold.Microseconds()}
}

// LoadCalls bulk-loads n calls of one tenant drawn from next (which reports
// false when it has no more), numbered from the call id counter, and reports
// the rows loaded so far to progress after each transaction. It is for
// importing a history (and for seeding benchmarks): it appends no events and
// fires no webhooks, but keeps what the store derives from calls (the
// per-tenant counters, the trigram index) exact. Run Optimize afterwards so
// the planner knows the new rows.
//
// SQLite takes multi-row INSERTs through its one writer; PostgreSQL takes
// COPY, with the counters added once per transaction instead of per row.
func (db *DB) LoadCalls(ctx context.Context, tenantID int64, n int, next func(*switchboard.Call) bool, progress func(loaded int)) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	first, err := db.ReserveCallIDs(ctx, n)
	if err != nil {
		return 0, err
	}
	loaded := 0
	batch := make([]switchboard.Call, 0, loadTxRows)
	for loaded < n {
		batch = batch[:0]
		for len(batch) < loadTxRows && loaded+len(batch) < n {
			var c switchboard.Call
			if !next(&c) {
				break
			}
			if c.TenantID != tenantID {
				return loaded, fmt.Errorf("load calls: a call of tenant %d in a load of tenant %d", c.TenantID, tenantID)
			}
			if c.Media == "" {
				c.Media = switchboard.MediaVoice
			}
			c.ID = first + int64(loaded+len(batch))
			batch = append(batch, c)
		}
		if len(batch) == 0 {
			break
		}
		if db.engine == Postgres {
			err = db.copyCalls(ctx, tenantID, batch)
		} else {
			err = db.inTx(ctx, func(t *tx) error { return t.insertCalls(ctx, batch) })
		}
		if err != nil {
			return loaded, fmt.Errorf("load calls: %w", err)
		}
		loaded += len(batch)
		if progress != nil {
			progress(loaded)
		}
	}
	return loaded, nil
}

// insertCalls writes calls with multi-row INSERTs; the triggers keep the
// counters and the trigram index.
func (t *tx) insertCalls(ctx context.Context, calls []switchboard.Call) error {
	row := "(" + placeholders(len(loadCols)) + ")"
	head := "INSERT INTO calls (" + strings.Join(loadCols, ", ") + ") VALUES "
	updated := micros(t.now)
	args := make([]any, 0, loadStmtRows*len(loadCols))
	for len(calls) > 0 {
		k := min(loadStmtRows, len(calls))
		args = args[:0]
		for i := range calls[:k] {
			args = append(args, loadValues(&calls[i], updated)...)
		}
		q := head + strings.Repeat(row+", ", k-1) + row
		if _, err := t.exec(ctx, q, args...); err != nil {
			return err
		}
		calls = calls[k:]
	}
	return nil
}

// copyCalls writes calls with COPY in one transaction. The row trigger that
// keeps call_counts stands aside (switchboard.bulk_load, local to the
// transaction), and the counters are added once: a row trigger would update
// one counter row a million times in one transaction.
func (db *DB) copyCalls(ctx context.Context, tenantID int64, calls []switchboard.Call) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "SET LOCAL switchboard.bulk_load = 'on'"); err != nil {
			return err
		}
		now := micros(db.now())
		ended := 0
		rows := make([][]any, len(calls))
		for i := range calls {
			rows[i] = loadValues(&calls[i], now)
			if calls[i].EndedAt != nil {
				ended++
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"calls"}, loadCols, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO call_counts AS c (tenant_id, calls, ended) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id) DO UPDATE SET calls = c.calls + EXCLUDED.calls, ended = c.ended + EXCLUDED.ended`,
			tenantID, len(calls), ended); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

// Optimize brings the planner's statistics up to date: on SQLite PRAGMA
// optimize over every table (0x10002: it analyzes those whose statistics are
// missing or stale, with a bounded effort per index), on PostgreSQL ANALYZE.
// SQLite runs it at open and hourly (see optimizeLoop); on PostgreSQL
// autovacuum does. Bulk loads run it when they finish.
func (db *DB) Optimize(ctx context.Context) error {
	var err error
	if db.engine == Postgres {
		_, err = db.write.ExecContext(ctx, "ANALYZE")
	} else {
		err = db.inTx(ctx, func(t *tx) error {
			_, err := t.sql.ExecContext(t.ctx, "PRAGMA optimize = 0x10002")
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	return nil
}

// optimizeEvery is how often SQLite's statistics are refreshed.
const optimizeEvery = time.Hour

// optimizeLoop runs Optimize every optimizeEvery until the writer stops,
// so that a growing table keeps statistics the planner can trust.
func (db *DB) optimizeLoop() {
	t := time.NewTicker(optimizeEvery)
	defer t.Stop()
	for {
		select {
		case <-db.writerDone:
			return
		case <-t.C:
			db.Optimize(context.Background()) // a failure leaves the old statistics
		}
	}
}
