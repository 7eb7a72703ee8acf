package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"strings"
	"time"

	"switchboard"
)

// sqliteExportChunk is how many rows one statement of a SQLite export reads
// before it is reset and the next one continues after the last id. A WAL
// reader pins the snapshot it started on, and no checkpoint can pass it
// while its statement runs, so an export of ten million rows in one
// statement would let the WAL grow for its whole length; a chunk takes a
// tenth of a second or so, and the restart costs one index seek.
const sqliteExportChunk = 50_000

// cdrRow holds the scan targets of one streamed record and the record they
// fill, reused from row to row so that a long export allocates only what the
// driver does.
type cdrRow struct {
	cdr                         switchboard.CDR
	dest                        []any
	created                     int64
	uuid, dir, status, from, to string
	disp, hangupBy, cause       string
	system, account, dtmf       string
	media                       string
	hold, fax                   int64
	recorded                    bool
	queue, agent, parent        sql.NullInt64
	queued, ringing, connected  sql.NullInt64
	ended, scheduled            sql.NullInt64
	times                       [5]time.Time
}

// columns returns the select list of cols and points r.dest at the targets
// of each of its columns, in that order.
func (r *cdrRow) columns(cols switchboard.CallColumns) string {
	sel := []string{"id", "created_at"}
	r.dest = []any{&r.cdr.ID, &r.created}
	for _, c := range []struct {
		col  switchboard.CallColumns
		name string
		dest []any
	}{
		{switchboard.ColUUID, "uuid", []any{&r.uuid}},
		{switchboard.ColDirection, "direction", []any{&r.dir}},
		{switchboard.ColStatus, "status", []any{&r.status}},
		{switchboard.ColNumbers, "from_number, to_number", []any{&r.from, &r.to}},
		{switchboard.ColQueue, "queue_id", []any{&r.queue}},
		{switchboard.ColAgent, "agent_id", []any{&r.agent}},
		{switchboard.ColParent, "parent_id", []any{&r.parent}},
		{switchboard.ColDisposition, "disposition", []any{&r.disp}},
		{switchboard.ColHangupBy, "hangup_by", []any{&r.hangupBy}},
		{switchboard.ColHangupCause, "hangup_cause", []any{&r.cause}},
		{switchboard.ColQueuedAt, "queued_at", []any{&r.queued}},
		{switchboard.ColRingingAt, "ringing_at", []any{&r.ringing}},
		{switchboard.ColConnectedAt, "connected_at", []any{&r.connected}},
		{switchboard.ColEndedAt, "ended_at", []any{&r.ended}},
		{switchboard.ColSourceSystem, "source_system", []any{&r.system}},
		{switchboard.ColSourceAccount, "source_account_id", []any{&r.account}},
		{switchboard.ColScheduledAt, "scheduled_at", []any{&r.scheduled}},
		{switchboard.ColDTMF, "dtmf", []any{&r.dtmf}},
		{switchboard.ColHold, "hold_micros", []any{&r.hold}},
		{switchboard.ColMedia, "media", []any{&r.media}},
		{switchboard.ColFaxPages, "fax_pages", []any{&r.fax}},
		{switchboard.ColRecorded, "recorded", []any{&r.recorded}},
	} {
		if cols&c.col != 0 {
			sel = append(sel, c.name)
			r.dest = append(r.dest, c.dest...)
		}
	}
	return strings.Join(sel, ", ")
}

// fill turns the scanned values into the record: the call's fields (strings
// are scanned as plain strings, since database/sql converts to named string
// types by reflection) and the durations NewCDR derives.
func (r *cdrRow) fill(tenantID int64) {
	c := &r.cdr.Call
	*c = switchboard.Call{ID: c.ID, TenantID: tenantID, CreatedAt: fromMicros(r.created), UUID: r.uuid,
		Direction: switchboard.Direction(r.dir), Status: switchboard.CallStatus(r.status), From: r.from, To: r.to,
		Disposition: switchboard.Disposition(r.disp), HangupBy: switchboard.Side(r.hangupBy), HangupCause: r.cause,
		Source: switchboard.CallSource{System: r.system, AccountID: r.account}, DTMF: r.dtmf,
		Hold: time.Duration(r.hold) * time.Microsecond, Media: r.media, FaxPages: int(r.fax), Recorded: r.recorded}
	c.HoldSeconds = c.Hold.Seconds()
	if r.queue.Valid {
		c.QueueID = &r.queue.Int64
	}
	if r.agent.Valid {
		c.AgentID = &r.agent.Int64
	}
	if r.parent.Valid {
		c.ParentID = &r.parent.Int64
	}
	for i, t := range []struct {
		v   sql.NullInt64
		dst **time.Time
	}{{r.queued, &c.QueuedAt}, {r.ringing, &c.RingingAt}, {r.connected, &c.ConnectedAt}, {r.ended, &c.EndedAt}, {r.scheduled, &c.ScheduledAt}} {
		if t.v.Valid {
			r.times[i] = fromMicros(t.v.Int64)
			*t.dst = &r.times[i]
		}
	}
	r.cdr = switchboard.NewCDR(*c)
}

// EachCDR implements switchboard.Store. PostgreSQL streams the whole export
// from one query (database/sql reads pgx's rows as they arrive); SQLite reads
// it from the read pool, never holding the writer, in statements of
// sqliteExportChunk rows (see there), so its read snapshot, like the paged
// list's, moves on between chunks. Each read holds a connection while fn
// runs, and fn may read the store too (exports look up names), so at most
// half the pool's connections serve these reads at once; more wait their
// turn.
func (db *DB) EachCDR(ctx context.Context, tenantID int64, f switchboard.CDRFilter, cols switchboard.CallColumns, fn func(*switchboard.CDR) error) error {
	select {
	case db.exports <- struct{}{}:
		defer func() { <-db.exports }()
	case <-ctx.Done():
		return fmt.Errorf("export call records: %w", ctx.Err())
	}
	lq, err := db.cdrQuery(ctx, tenantID, f)
	if err != nil {
		return fmt.Errorf("export call records: %w", err)
	}
	from, args := lq.from, lq.args
	r := &cdrRow{}
	sel := "SELECT " + r.columns(cols) + " " + from
	cmp, order := " > ?", " ORDER BY id"
	if f.Newest {
		cmp, order = " < ?", " ORDER BY id DESC"
	}
	chunk := db.exportChunk
	if chunk == 0 && db.engine == SQLite {
		chunk = sqliteExportChunk
	}
	resume := false
	for {
		q, a := sel, append(make([]any, 0, len(args)+2), args...)
		if resume {
			q += " AND id" + cmp
			a = append(a, r.cdr.ID)
		}
		q += order
		if chunk > 0 {
			q += " LIMIT ?"
			a = append(a, chunk)
		}
		n, err := db.eachRow(ctx, q, a, r, tenantID, fn)
		if err != nil || chunk == 0 || n < chunk {
			return err
		}
		resume = true
	}
}

// eachRow runs one statement of EachCDR and returns how many rows it read.
// It reads the driver's rows directly (sql.Conn.Raw) rather than through
// database/sql's Rows and Scan, whose locking and conversions cost as much
// per row as the driver itself (BenchmarkCDRScan: about a third of a row's
// time on SQLite).
func (db *DB) eachRow(ctx context.Context, q string, args []any, r *cdrRow, tenantID int64, fn func(*switchboard.CDR) error) (int, error) {
	for i, a := range args {
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			return 0, fmt.Errorf("export call records: argument %d: %w", i+1, err)
		}
		args[i] = v
	}
	if db.engine == Postgres {
		return db.eachRowPG(ctx, q, args, r, tenantID, fn)
	}
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("export call records: %w", err)
	}
	defer conn.Close()
	n := 0
	var fnErr error
	err = conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("the %T driver cannot query", dc)
		}
		rows, err := qc.QueryContext(ctx, db.rebind(q), named)
		if err != nil {
			return err
		}
		defer rows.Close()
		values := make([]driver.Value, len(r.dest))
		for {
			if err := rows.Next(values); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
			for i, v := range values {
				if err := assign(r.dest[i], v); err != nil {
					return fmt.Errorf("column %d: %w", i, err)
				}
			}
			r.fill(tenantID)
			n++
			if fnErr = fn(&r.cdr); fnErr != nil {
				return fnErr
			}
		}
	})
	if err != nil && (fnErr == nil || err != fnErr) {
		return n, fmt.Errorf("export call records: %w", err)
	}
	return n, err
}

// assign stores a value the driver read into dst, one of the scan targets of
// cdrRow: what database/sql's Scan would do for these few types, without
// its reflection.
func assign(dst any, v driver.Value) error {
	switch d := dst.(type) {
	case *int64:
		if x, ok := v.(int64); ok {
			*d = x
			return nil
		}
	case *string:
		switch x := v.(type) {
		case string:
			*d = x
			return nil
		case []byte:
			*d = string(x)
			return nil
		}
	case *sql.NullInt64:
		switch x := v.(type) {
		case nil:
			d.Valid = false
			return nil
		case int64:
			d.Int64, d.Valid = x, true
			return nil
		}
	case *bool:
		switch x := v.(type) {
		case bool:
			*d = x
			return nil
		case int64:
			*d = x != 0
			return nil
		}
	}
	return fmt.Errorf("cannot store %T into %T", v, dst)
}
