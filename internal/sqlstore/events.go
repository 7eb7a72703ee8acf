package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"switchboard"
)

// appendEvent writes one event inside t, together with a pending delivery for
// every enabled webhook of the tenant that wants it: the outbox that lets the
// dispatcher neither miss an event nor deliver one that rolled back. The tenant
// row's counter hands out the sequence number; its row lock (PostgreSQL) or the
// single writer (SQLite) makes the numbers gapless and in commit order.
func (t *tx) appendEvent(ctx context.Context, tenantID int64, typ, subjectType string, subjectID int64, payload any) error {
	_, err := t.appendEventReturning(ctx, tenantID, typ, subjectType, subjectID, payload)
	return err
}

func (t *tx) appendEventReturning(ctx context.Context, tenantID int64, typ, subjectType string, subjectID int64, payload any) (switchboard.Event, error) {
	e := switchboard.Event{TenantID: tenantID, Type: typ, Time: t.now, SubjectType: subjectType, SubjectID: subjectID}
	body, err := versioned(payload)
	if err != nil {
		return e, fmt.Errorf("event %s: encode payload: %w", typ, err)
	}
	e.Payload = body
	if t.batch != nil {
		t.batch.add(e) // written, numbered, by flushEvents
		return e, nil
	}
	if err := t.queryRow(ctx, "UPDATE tenants SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq", tenantID).Scan(&e.Seq); err != nil {
		return e, fmt.Errorf("event %s: next sequence: %w", typ, err)
	}
	e.ID, err = t.insert(ctx, `INSERT INTO events (tenant_id, seq, type, time, subject_type, subject_id, payload)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, tenantID, e.Seq, typ, micros(t.now), subjectType, subjectID, string(body))
	if err != nil {
		return e, fmt.Errorf("event %s: insert: %w", typ, err)
	}
	if !switchboard.EventDeliverable(typ) {
		t.appended++
		return e, nil
	}
	rows, err := t.query(ctx, "SELECT id, event_types, delay_seconds FROM webhooks WHERE tenant_id = ? AND enabled = ?", tenantID, true)
	if err != nil {
		return e, fmt.Errorf("event %s: find webhooks: %w", typ, err)
	}
	type target struct{ id, delay int64 }
	var targets []target
	for rows.Next() {
		var w switchboard.Webhook
		var types string
		if err := rows.Scan(&w.ID, &types, &w.DelaySeconds); err != nil {
			rows.Close()
			return e, fmt.Errorf("event %s: find webhooks: %w", typ, err)
		}
		if err := decodeList(types, &w.EventTypes); err != nil {
			rows.Close()
			return e, err
		}
		if w.Matches(typ) {
			targets = append(targets, target{w.ID, int64(w.DelaySeconds)})
		}
	}
	rows.Close()
	for _, w := range targets {
		due := micros(t.now) + w.delay*1e6
		if _, err := t.exec(ctx, `INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, status, next_attempt_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, tenantID, w.id, e.ID, switchboard.DeliveryPending, due, micros(t.now), micros(t.now)); err != nil {
			return e, fmt.Errorf("event %s: queue delivery: %w", typ, err)
		}
	}
	t.appended++
	return e, nil
}

// versioned encodes an event's payload as a JSON object whose first field is
// its version, "v". The payload types of the root package carry V as their
// first field; any other object (a configuration object as the native API
// shows it) gets "v": switchboard.EventPayloadVersion put in front, and any
// other value is wrapped as {"v": …, "data": value}.
func versioned(payload any) ([]byte, error) {
	body, err := json.Marshal(payload)
	if err != nil || bytes.HasPrefix(body, []byte(`{"v":`)) {
		return body, err
	}
	head := `{"v":` + strconv.Itoa(switchboard.EventPayloadVersion)
	switch {
	case bytes.Equal(body, []byte("{}")):
		return []byte(head + "}"), nil
	case len(body) > 0 && body[0] == '{':
		return append([]byte(head+","), body[1:]...), nil
	}
	return []byte(head + `,"data":` + string(body) + "}"), nil
}

// AppendEvent records an event that is not the side effect of another store
// change (the call engine's own events, tests and benchmarks).
func (db *DB) AppendEvent(ctx context.Context, tenantID int64, typ, subjectType string, subjectID int64, payload any) (switchboard.Event, error) {
	var e switchboard.Event
	if typ == "" {
		return e, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed", Fields: map[string]string{"type": "is required"}}
	}
	err := db.inTx(ctx, func(t *tx) error {
		var err error
		e, err = t.appendEventReturning(ctx, tenantID, typ, subjectType, subjectID, payload)
		return err
	})
	return e, err
}

// EventsBetween returns a tenant's events with times in [since, until), oldest
// first, at most limit of them after afterSeq and, like Events, no more than
// switchboard.MaxEventPageBytes of payloads (at least one event).
func (db *DB) EventsBetween(ctx context.Context, tenantID int64, since, until time.Time, afterSeq int64, limit int) ([]switchboard.Event, error) {
	rows, err := db.query(ctx, `SELECT id, tenant_id, seq, type, time, subject_type, subject_id, payload
		FROM events WHERE tenant_id = ? AND time >= ? AND time < ? AND seq > ? ORDER BY seq LIMIT ?`,
		tenantID, micros(since), micros(until), afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return scanEventPage(rows, switchboard.MaxEventPageBytes)
}

// Events implements switchboard.Store.
func (db *DB) Events(ctx context.Context, tenantID, afterSeq int64, limit int) ([]switchboard.Event, error) {
	if limit <= 0 || limit > switchboard.MaxPageLimit {
		limit = switchboard.MaxPageLimit
	}
	rows, err := db.query(ctx, `SELECT id, tenant_id, seq, type, time, subject_type, subject_id, payload
		FROM events WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`, tenantID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return scanEventPage(rows, switchboard.MaxEventPageBytes)
}

// EventHead implements switchboard.Store. The tenant's counter is only ever
// raised by a commit that also writes the event, so every sequence number up
// to the value read here is in the log.
func (db *DB) EventHead(ctx context.Context, tenantID int64) (int64, error) {
	var seq int64
	err := db.queryRow(ctx, "SELECT event_seq FROM tenants WHERE id = ?", tenantID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, switchboard.Errorf(switchboard.CodeNotFound, "tenant %d not found", tenantID)
	}
	if err != nil {
		return 0, fmt.Errorf("event head: %w", err)
	}
	return seq, nil
}

func scanEvents(rows *sql.Rows) ([]switchboard.Event, error) { return scanEventPage(rows, 0) }

// scanEventPage reads events until rows end or, when maxBytes > 0, until the
// next payload would take the page past maxBytes. The first event is always
// taken, so a reader paging by sequence number never stalls on a large one.
// Leaving rows early costs the rest of the result only on the wire: rows
// already read are not held.
func scanEventPage(rows *sql.Rows, maxBytes int) ([]switchboard.Event, error) {
	defer rows.Close()
	var out []switchboard.Event
	size := 0
	for rows.Next() {
		var e switchboard.Event
		var at int64
		var payload string
		if err := rows.Scan(&e.ID, &e.TenantID, &e.Seq, &e.Type, &at, &e.SubjectType, &e.SubjectID, &payload); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		if maxBytes > 0 && len(out) > 0 && size+len(payload) > maxBytes {
			break
		}
		size += len(payload)
		e.Time = fromMicros(at)
		e.Payload = json.RawMessage(payload)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// EventHeads returns every tenant's newest sequence number, by tenant id:
// one cheap read that tells a follower of the log which tenants moved. Each
// head only ever rises in a commit that also writes that event, so every
// event up to it can be read.
func (db *DB) EventHeads(ctx context.Context) (map[int64]int64, error) {
	rows, err := db.query(ctx, "SELECT id, event_seq FROM tenants")
	if err != nil {
		return nil, fmt.Errorf("event heads: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, fmt.Errorf("event heads: %w", err)
		}
		out[id] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("event heads: %w", err)
	}
	return out, nil
}

// LastEventID returns the id of the newest event of any tenant (0 when none):
// a gauge of the log's size for monitoring, not a position to follow from.
// Ids are taken at insert and visible at commit, so on PostgreSQL a lower id
// can commit after a higher one was read; the log is followed by per-tenant
// sequence numbers (eventtail) instead.
func (db *DB) LastEventID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	if err := db.queryRow(ctx, "SELECT MAX(id) FROM events").Scan(&id); err != nil {
		return 0, fmt.Errorf("last event: %w", err)
	}
	return id.Int64, nil
}
