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

// Bulk loads read calls this many at a time (a transaction each on
// PostgreSQL), and write this many rows per INSERT statement on SQLite (31
// values a row stays under SQLite's 32,766 parameters).
const (
	loadTxRows   = 50_000
	loadStmtRows = 1000
)

// loadCols are the columns a bulk load writes, in the order of loadValues.
var loadCols = []string{"id", "tenant_id", "uuid", "direction", "status", "from_number", "to_number", "queue_id",
	"agent_id", "parent_id", "disposition", "hangup_by", "hangup_cause", "created_at", "queued_at", "ringing_at",
	"connected_at", "ended_at", "updated_at", "source_system", "source_account_id", "scheduled_at", "dtmf", "media",
	"fax_pages", "recorded", "hold_micros", "campaign_id", "voicemail_reason", "voicemail_read_at", "voicemail_read_by"}

func loadValues(c *switchboard.Call, updated int64) []any {
	return []any{c.ID, c.TenantID, c.UUID, string(c.Direction), string(c.Status), c.From, c.To, nullID(c.QueueID),
		nullID(c.AgentID), nullID(c.ParentID), string(c.Disposition), string(c.HangupBy), c.HangupCause, micros(c.CreatedAt),
		nullMicros(c.QueuedAt), nullMicros(c.RingingAt), nullMicros(c.ConnectedAt), nullMicros(c.EndedAt), updated,
		c.Source.System, c.Source.AccountID, nullMicros(c.ScheduledAt), c.DTMF, c.Media, c.FaxPages, c.Recorded,
		c.Hold.Microseconds(), nullID(c.CampaignID), c.VoicemailReason, nullMicros(c.VoicemailReadAt), nullID(c.VoicemailReadBy)}
}

// LoadCalls bulk-loads n calls of one tenant drawn from next (which reports
// false when it has no more), numbered from the call id counter, and reports
// the rows loaded so far to progress as it goes. It is for importing a
// history (and for seeding benchmarks): it appends no events and fires no
// webhooks, but keeps what the store derives from calls (the per-tenant
// counters, the number index) exact. It runs Optimize when it is done.
//
// On SQLite the load is one transaction through the one writer (other
// writes wait for it): multi-row INSERTs, and when the load is at least as
// large as the table, the secondary indexes and the number index dropped
// first and built after the rows, which sorts once instead of inserting at
// random places ten million times. On PostgreSQL it is COPY in transactions
// of loadTxRows rows, with the counters added once per transaction.
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
	// fill reads the next batch from next.
	fill := func() error {
		batch = batch[:0]
		for len(batch) < loadTxRows && loaded+len(batch) < n {
			var c switchboard.Call
			if !next(&c) {
				break
			}
			if c.TenantID != tenantID {
				return fmt.Errorf("load calls: a call of tenant %d in a load of tenant %d", c.TenantID, tenantID)
			}
			if c.Media == "" {
				c.Media = switchboard.MediaVoice
			}
			c.ID = first + int64(loaded+len(batch))
			batch = append(batch, c)
		}
		return nil
	}
	if db.engine == Postgres {
		for loaded < n {
			if err := fill(); err != nil || len(batch) == 0 {
				return loaded, err
			}
			if err := db.copyCalls(ctx, tenantID, batch); err != nil {
				return loaded, fmt.Errorf("load calls: %w", err)
			}
			loaded += len(batch)
			if progress != nil {
				progress(loaded)
			}
		}
		// COPY runs outside the store's transactions, so the load's event
		// follows the last batch in a transaction of its own.
		if err := db.inTx(ctx, func(t *tx) error { return t.appendCallsLoaded(ctx, tenantID, loaded, first) }); err != nil {
			return loaded, fmt.Errorf("load calls: %w", err)
		}
	} else {
		err = db.inTx(ctx, func(t *tx) error {
			var existing int64
			if err := t.queryRow(ctx, "SELECT COALESCE(SUM(calls), 0) FROM call_counts").Scan(&existing); err != nil {
				return err
			}
			// The number indexes take rows in no order: a page cache of
			// 1 GiB keeps their pages in memory for the load, instead of
			// the writer's usual 64 MiB.
			if _, err := t.sql.ExecContext(t.ctx, "PRAGMA cache_size = -1048576"); err != nil {
				return err
			}
			defer t.sql.ExecContext(t.ctx, "PRAGMA cache_size = -65536")
			var rebuild []string
			if int64(n) >= existing {
				var err error
				if rebuild, err = t.dropForLoad(); err != nil {
					return err
				}
			}
			ended := 0
			for loaded < n {
				if err := fill(); err != nil {
					return err
				}
				if len(batch) == 0 {
					break
				}
				if err := t.insertCalls(ctx, batch); err != nil {
					return err
				}
				for i := range batch {
					if batch[i].EndedAt != nil {
						ended++
					}
				}
				loaded += len(batch)
				if progress != nil {
					progress(loaded)
				}
			}
			if err := t.appendCallsLoaded(ctx, tenantID, loaded, first); err != nil {
				return err
			}
			if rebuild == nil {
				return nil // the triggers kept the counters and the index
			}
			for _, ddl := range rebuild {
				if _, err := t.sql.ExecContext(t.ctx, ddl); err != nil {
					return fmt.Errorf("rebuild %.60q: %w", ddl, err)
				}
			}
			if _, err := t.exec(ctx, "INSERT INTO calls_numbers (rowid, grams) SELECT id, "+numberGramsSQL("calls")+
				" FROM calls WHERE id >= ? AND id < ?", first, first+int64(loaded)); err != nil {
				return err
			}
			// One segment instead of the levels incremental inserts leave.
			if _, err := t.exec(ctx, "INSERT INTO calls_numbers (calls_numbers) VALUES ('optimize')"); err != nil {
				return err
			}
			_, err := t.exec(ctx, `INSERT INTO call_counts (tenant_id, calls, ended) VALUES (?, ?, ?)
				ON CONFLICT (tenant_id) DO UPDATE SET calls = calls + excluded.calls, ended = ended + excluded.ended`,
				tenantID, loaded, ended)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("load calls: %w", err)
		}
	}
	if err := db.Optimize(ctx); err != nil {
		return loaded, err
	}
	return loaded, nil
}

// loadDropped are the secondary indexes of calls a large SQLite load drops
// and builds again after its rows, and the trigger it stands in for (the
// load adds the counters and the trigram entries itself). The uuid index
// stays (it guards uniqueness), and so do the (tenant_id, id) index and the
// index of open calls, which the load appends to or barely touches.
var loadDropped = []string{"calls_tenant_created", "calls_tenant_from", "calls_tenant_to", "calls_tenant_agent", "calls_source_account", "calls_insert"}

// dropForLoad drops loadDropped and returns the statements that create them
// again, as the schema holds them.
func (t *tx) dropForLoad() ([]string, error) {
	var ddl []string
	for _, name := range loadDropped {
		var typ, sqlText string
		if err := t.sql.QueryRowContext(t.ctx, "SELECT type, sql FROM sqlite_master WHERE name = ?", name).Scan(&typ, &sqlText); err != nil {
			return nil, fmt.Errorf("schema of %s: %w", name, err)
		}
		if _, err := t.sql.ExecContext(t.ctx, "DROP "+strings.ToUpper(typ)+" "+name); err != nil {
			return nil, err
		}
		ddl = append(ddl, sqlText)
	}
	return ddl, nil
}

// insertCalls writes calls with multi-row INSERTs; the triggers keep the
// counters and the number index.
// appendCallsLoaded appends the event of a bulk load of n calls from id first.
func (t *tx) appendCallsLoaded(ctx context.Context, tenantID int64, n int, first int64) error {
	return t.appendEvent(ctx, tenantID, switchboard.EventCallsLoaded, "tenant", tenantID,
		switchboard.CallsLoadedPayload{V: 1, Calls: n, FirstID: first})
}

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
