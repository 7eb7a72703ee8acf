package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard"
)

// Speech analytics (migration 0019): one call_analytics row per call. The
// analytics service's bookkeeping (queueing a call, deferring a failed
// attempt) writes no event, so no cached route may show the table (GET
// /v1/calls/{id}/analytics is not cached; audit_test.go lists it); the
// outcome is written with call.analytics.available or call.analytics.failed.

const analyticsCols = `id, tenant_id, call_id, call_uuid, status, language, duration, transcript, summary, score, score_parts,
	provider, attempts, error, next_attempt_at, created_at, updated_at, finished_at`

func scanAnalytics(s scanner) (switchboard.CallAnalytics, error) {
	var a switchboard.CallAnalytics
	var transcript string
	var parts sql.NullString
	var score, next, finished sql.NullInt64
	var created, updated int64
	if err := s.Scan(&a.ID, &a.TenantID, &a.CallID, &a.CallUUID, &a.Status, &a.Language, &a.Duration, &transcript, &a.Summary,
		&score, &parts, &a.Provider, &a.Attempts, &a.Error, &next, &created, &updated, &finished); err != nil {
		return a, err
	}
	if score.Valid {
		v := int(score.Int64)
		a.Score = &v
	}
	if parts.Valid {
		a.ScoreParts = new(switchboard.ScoreParts)
		if err := json.Unmarshal([]byte(parts.String), a.ScoreParts); err != nil {
			return a, fmt.Errorf("decode score parts: %w", err)
		}
	}
	a.NextAttemptAt, a.FinishedAt = timePtr(next), timePtr(finished)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, decodeList(transcript, &a.Transcript)
}

// QueueCallAnalytics implements switchboard.AnalyticsStore. The insert is
// ON CONFLICT DO NOTHING on (tenant_id, call_id), so two followers, or one
// reading the log again after a restart, file a call once.
func (db *DB) QueueCallAnalytics(ctx context.Context, tenantID, callID int64) (switchboard.CallAnalytics, bool, error) {
	var a switchboard.CallAnalytics
	created := false
	err := db.inTx(ctx, func(t *tx) error {
		var uuid string
		err := t.queryRow(ctx, "SELECT uuid FROM calls WHERE tenant_id = ? AND id = ?", tenantID, callID).Scan(&uuid)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("call", callID)
		}
		if err != nil {
			return fmt.Errorf("queue call analytics: %w", err)
		}
		now := micros(t.now)
		_, err = t.insert(ctx, `INSERT INTO call_analytics (tenant_id, call_id, call_uuid, status, next_attempt_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, call_id) DO NOTHING`,
			tenantID, callID, uuid, switchboard.AnalyticsPending, now, now, now)
		switch {
		case err == nil:
			created = true
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("queue call analytics: %w", err)
		}
		a, err = scanAnalytics(t.queryRow(ctx, "SELECT "+analyticsCols+" FROM call_analytics WHERE tenant_id = ? AND call_id = ?",
			tenantID, callID))
		if err != nil {
			return fmt.Errorf("queue call analytics: %w", err)
		}
		return nil
	})
	return a, created, err
}

// DueCallAnalytics implements switchboard.AnalyticsStore through the
// partial index call_analytics_due (the status is written out for SQLite to
// use it).
func (db *DB) DueCallAnalytics(ctx context.Context, now time.Time, limit int) ([]switchboard.CallAnalytics, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.query(ctx, "SELECT "+analyticsCols+` FROM call_analytics
		WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`, micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due call analytics: %w", err)
	}
	return collect(rows, scanAnalytics)
}

// DeferCallAnalytics implements switchboard.AnalyticsStore.
func (db *DB) DeferCallAnalytics(ctx context.Context, tenantID, id int64, reason string, next time.Time) (switchboard.CallAnalytics, error) {
	var a switchboard.CallAnalytics
	err := db.inTx(ctx, func(t *tx) error {
		var err error
		if a, err = pendingAnalytics(ctx, t, tenantID, id); err != nil {
			return err
		}
		a.Attempts++
		a.Error, a.UpdatedAt = truncate(reason, 1000), t.now
		n := next.UTC().Truncate(time.Microsecond)
		a.NextAttemptAt = &n
		if _, err := t.exec(ctx, "UPDATE call_analytics SET attempts = ?, error = ?, next_attempt_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
			a.Attempts, a.Error, micros(n), micros(t.now), tenantID, id); err != nil {
			return fmt.Errorf("defer call analytics: %w", err)
		}
		return nil
	})
	return a, err
}

// FinishCallAnalytics implements switchboard.AnalyticsStore: the outcome
// and its event, in one transaction.
func (db *DB) FinishCallAnalytics(ctx context.Context, in switchboard.CallAnalytics) (switchboard.CallAnalytics, error) {
	if err := in.Validate(); err != nil {
		return in, err
	}
	var a switchboard.CallAnalytics
	err := db.inTx(ctx, func(t *tx) error {
		var err error
		if a, err = pendingAnalytics(ctx, t, in.TenantID, in.ID); err != nil {
			return err
		}
		a.Status, a.Language, a.Duration, a.Transcript = in.Status, in.Language, in.Duration, in.Transcript
		a.Summary, a.Score, a.ScoreParts, a.Provider = in.Summary, in.Score, in.ScoreParts, in.Provider
		a.Attempts++
		a.Error, a.NextAttemptAt, a.UpdatedAt = truncate(in.Error, 1000), nil, t.now
		finished := t.now
		a.FinishedAt = &finished
		if a.Transcript == nil {
			a.Transcript = []switchboard.TranscriptSegment{}
		}
		transcript, err := json.Marshal(a.Transcript)
		if err != nil {
			return fmt.Errorf("encode transcript: %w", err)
		}
		var score, parts any
		if a.Score != nil {
			score = *a.Score
		}
		if a.ScoreParts != nil {
			b, err := json.Marshal(a.ScoreParts)
			if err != nil {
				return fmt.Errorf("encode score parts: %w", err)
			}
			parts = string(b)
		}
		if _, err := t.exec(ctx, `UPDATE call_analytics SET status = ?, language = ?, duration = ?, transcript = ?, summary = ?,
			score = ?, score_parts = ?, provider = ?, attempts = ?, error = ?, next_attempt_at = NULL, updated_at = ?, finished_at = ?
			WHERE tenant_id = ? AND id = ?`, a.Status, a.Language, a.Duration, string(transcript), a.Summary, score, parts,
			a.Provider, a.Attempts, a.Error, micros(t.now), micros(t.now), a.TenantID, a.ID); err != nil {
			return fmt.Errorf("finish call analytics: %w", err)
		}
		typ := switchboard.EventCallAnalyticsAvailable
		if a.Status == switchboard.AnalyticsFailed {
			typ = switchboard.EventCallAnalyticsFailed
		}
		return t.appendEvent(ctx, a.TenantID, typ, "call_analytics", a.ID, switchboard.NewAnalyticsEventPayload(a))
	})
	return a, err
}

// pendingAnalytics locks and reads analysis id of the tenant, which must
// still be pending.
func pendingAnalytics(ctx context.Context, t *tx, tenantID, id int64) (switchboard.CallAnalytics, error) {
	if err := t.lockRow(ctx, "call_analytics", "call analytics", tenantID, id); err != nil {
		return switchboard.CallAnalytics{}, err
	}
	a, err := getOneTx(ctx, t, "call_analytics", analyticsCols, "call analytics", scanAnalytics, tenantID, id)
	if err != nil {
		return a, err
	}
	if a.Status != switchboard.AnalyticsPending {
		return a, switchboard.Errorf(switchboard.CodeConflict, "call analytics %d is already %s", id, a.Status)
	}
	return a, nil
}

// CallAnalytics implements switchboard.AnalyticsStore.
func (db *DB) CallAnalytics(ctx context.Context, tenantID, callID int64) (switchboard.CallAnalytics, error) {
	a, err := scanAnalytics(db.queryRow(ctx, "SELECT "+analyticsCols+" FROM call_analytics WHERE tenant_id = ? AND call_id = ?",
		tenantID, callID))
	if errors.Is(err, sql.ErrNoRows) {
		return a, switchboard.Errorf(switchboard.CodeNotFound, "call %d has no analytics", callID)
	}
	if err != nil {
		return a, fmt.Errorf("get call analytics: %w", err)
	}
	return a, nil
}

// FollowerPositions returns where the reader of the event log called name
// stopped, by tenant (the sequence number of the last event it handled), or
// nil when it has never saved a position.
func (db *DB) FollowerPositions(ctx context.Context, name string) (map[int64]int64, error) {
	rows, err := db.query(ctx, "SELECT tenant_id, seq FROM follower_positions WHERE name = ?", name)
	if err != nil {
		return nil, fmt.Errorf("follower positions: %w", err)
	}
	defer rows.Close()
	var pos map[int64]int64
	for rows.Next() {
		var tenantID, seq int64
		if err := rows.Scan(&tenantID, &seq); err != nil {
			return nil, fmt.Errorf("follower positions: %w", err)
		}
		if pos == nil {
			pos = map[int64]int64{}
		}
		if tenantID != 0 {
			pos[tenantID] = seq
		}
	}
	return pos, rows.Err()
}

// SaveFollowerPositions records where the reader called name stands, by
// tenant, in one transaction (with the mark of tenant 0 that says it has
// started). A position never moves back, so a slow save cannot undo a later
// one. It writes no event: no route shows positions.
func (db *DB) SaveFollowerPositions(ctx context.Context, name string, pos map[int64]int64) error {
	return db.inTx(ctx, func(t *tx) error {
		for tenantID, seq := range pos {
			if err := savePosition(ctx, t, name, tenantID, seq); err != nil {
				return err
			}
		}
		return savePosition(ctx, t, name, 0, 0)
	})
}

func savePosition(ctx context.Context, t *tx, name string, tenantID, seq int64) error {
	if _, err := t.exec(ctx, `INSERT INTO follower_positions (name, tenant_id, seq) VALUES (?, ?, ?)
		ON CONFLICT (name, tenant_id) DO UPDATE SET seq = excluded.seq WHERE follower_positions.seq < excluded.seq`, name, tenantID, seq); err != nil {
		return fmt.Errorf("save follower position: %w", err)
	}
	return nil
}

// truncate cuts s to at most n bytes, dropping a rune cut in two.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
