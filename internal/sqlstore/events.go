package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard"
)

// appendEvent writes one event inside t. The tenant row's counter hands out the
// sequence number; its row lock (PostgreSQL) or the single writer (SQLite) makes
// the numbers gapless and in commit order.
func (t *tx) appendEvent(ctx context.Context, tenantID int64, typ, subjectType string, subjectID int64, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("event %s: encode payload: %w", typ, err)
	}
	var seq int64
	if err := t.queryRow(ctx, "UPDATE tenants SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq", tenantID).Scan(&seq); err != nil {
		return fmt.Errorf("event %s: next sequence: %w", typ, err)
	}
	if _, err := t.exec(ctx, `INSERT INTO events (tenant_id, seq, type, time, subject_type, subject_id, payload)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, tenantID, seq, typ, micros(t.now), subjectType, subjectID, string(body)); err != nil {
		return fmt.Errorf("event %s: insert: %w", typ, err)
	}
	return nil
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
	defer rows.Close()
	var out []switchboard.Event
	for rows.Next() {
		var e switchboard.Event
		var at int64
		var payload string
		if err := rows.Scan(&e.ID, &e.TenantID, &e.Seq, &e.Type, &at, &e.SubjectType, &e.SubjectID, &payload); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		e.Time = fromMicros(at)
		e.Payload = json.RawMessage(payload)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}
