package voxloud

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// insertCalls is a test and benchmark fixture: it writes n calls, the i-th
// made by gen, straight into the calls table of the database at dbURL, many
// rows to an INSERT, with ids reserved from the store. Only rows are written
// (no events): enough for reads of call records, and fast enough to seed a
// million of them in seconds.
func insertCalls(tb testing.TB, db *sqlstore.DB, dbURL string, n int, gen func(i int) switchboard.Call) {
	tb.Helper()
	ctx := context.Background()
	engine, dsn, err := sqlstore.ParseURL(dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	driver := "sqlite"
	if engine == sqlstore.Postgres {
		driver = "pgx"
	} else {
		dsn = "file:" + dsn + "?_pragma=busy_timeout(10000)"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	first, err := db.ReserveCallIDs(ctx, n)
	if err != nil {
		tb.Fatal(err)
	}
	const cols = 27
	const perInsert = 500
	nullMicros := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return t.UnixMicro()
	}
	nullID := func(id *int64) any {
		if id == nil {
			return nil
		}
		return *id
	}
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	args := make([]any, 0, cols*perInsert)
	for start := 0; start < n; start += perInsert {
		var q strings.Builder
		q.WriteString(`INSERT INTO calls (id, tenant_id, uuid, direction, status, from_number, to_number, queue_id, agent_id,
			parent_id, disposition, hangup_by, hangup_cause, created_at, queued_at, ringing_at, connected_at, ended_at, updated_at,
			source_system, source_account_id, scheduled_at, dtmf, media, fax_pages, recorded, hold_micros) VALUES `)
		args = args[:0]
		for i := range min(perInsert, n-start) {
			c := gen(start + i)
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(")
			for j := range cols {
				if j > 0 {
					q.WriteString(", ")
				}
				if engine == sqlstore.Postgres {
					fmt.Fprintf(&q, "$%d", len(args)+j+1)
				} else {
					q.WriteString("?")
				}
			}
			q.WriteString(")")
			id := first + int64(start+i)
			if c.UUID == "" {
				c.UUID = fmt.Sprintf("00000000-0000-4000-8000-%012d", id)
			}
			if c.Media == "" {
				c.Media = switchboard.MediaVoice
			}
			args = append(args, id, c.TenantID, c.UUID, string(c.Direction), string(c.Status), c.From, c.To, nullID(c.QueueID),
				nullID(c.AgentID), nullID(c.ParentID), string(c.Disposition), string(c.HangupBy), c.HangupCause,
				c.CreatedAt.UnixMicro(), nullMicros(c.QueuedAt), nullMicros(c.RingingAt), nullMicros(c.ConnectedAt),
				nullMicros(c.EndedAt), c.CreatedAt.UnixMicro(), c.Source.System, c.Source.AccountID, nullMicros(c.ScheduledAt),
				c.DTMF, c.Media, c.FaxPages, c.Recorded, c.Hold.Microseconds())
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			tx.Rollback()
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	if engine == sqlstore.Postgres {
		if _, err := raw.ExecContext(ctx, "ANALYZE calls"); err != nil {
			tb.Fatal(err)
		}
	}
}
