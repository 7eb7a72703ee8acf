package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard"
)

// The do-not-call list's batch methods (switchboard.DNCStore): one
// transaction per batch, one event per entry changed. The single-number
// methods of Store are in calls.go.

// PutDNC implements switchboard.Store. A number is looked up first and
// inserted when absent; the insert does nothing on a conflict, so that a
// concurrent put of the same number turns this one into a refresh rather
// than a failure.
func (db *DB) PutDNC(ctx context.Context, tenantID int64, entries []switchboard.DNCPut) ([]switchboard.DNCPutResult, error) {
	out := make([]switchboard.DNCPutResult, len(entries))
	for i, e := range entries {
		if !switchboard.IsE164(e.Number) {
			return nil, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
				Fields: map[string]string{fmt.Sprintf("entries[%d].number", i): "must be an E.164 number"}}
		}
		if len(e.Reason) > 500 {
			return nil, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
				Fields: map[string]string{fmt.Sprintf("entries[%d].reason", i): "must be at most 500 characters"}}
		}
	}
	err := db.inTx(ctx, func(t *tx) error {
		for i, e := range entries {
			d := switchboard.DNCNumber{TenantID: tenantID, Number: e.Number, Reason: strings.TrimSpace(e.Reason), CreatedAt: t.now}
			var expires any
			if e.ExpiresAt != nil {
				if !e.ExpiresAt.After(t.now) {
					return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
						Fields: map[string]string{fmt.Sprintf("entries[%d].expires_at", i): "must be in the future"}}
				}
				at := e.ExpiresAt.UTC().Truncate(time.Microsecond)
				d.ExpiresAt, expires = &at, micros(at)
			}
			old, err := scanDNC(t.queryRow(ctx, "SELECT "+dncCols+" FROM dnc_numbers WHERE tenant_id = ? AND number = ?", tenantID, e.Number))
			switch {
			case errors.Is(err, sql.ErrNoRows):
				id, err := t.insert(ctx, `INSERT INTO dnc_numbers (tenant_id, number, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT (tenant_id, number) DO NOTHING`, tenantID, d.Number, d.Reason, micros(t.now), expires)
				if err == nil {
					d.ID = id
					out[i] = switchboard.DNCPutResult{Entry: d, Created: true}
					if err := t.appendEvent(ctx, tenantID, switchboard.EventDNCAdded, "dnc", id, d); err != nil {
						return err
					}
					continue
				}
				if !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("add do-not-call number: %w", err)
				}
				// Another transaction listed it meanwhile: refresh that entry.
				if old, err = scanDNC(t.queryRow(ctx, "SELECT "+dncCols+" FROM dnc_numbers WHERE tenant_id = ? AND number = ?",
					tenantID, e.Number)); err != nil {
					return fmt.Errorf("read do-not-call number: %w", err)
				}
			case err != nil:
				return fmt.Errorf("read do-not-call number: %w", err)
			}
			// An entry that had expired no longer blocked anything: the put
			// lists the number anew.
			lapsed := old.ExpiresAt != nil && !old.ExpiresAt.After(t.now)
			d.ID = old.ID
			if !lapsed {
				d.CreatedAt = old.CreatedAt
			}
			if _, err := t.exec(ctx, "UPDATE dnc_numbers SET reason = ?, created_at = ?, expires_at = ? WHERE tenant_id = ? AND id = ?",
				d.Reason, micros(d.CreatedAt), expires, tenantID, d.ID); err != nil {
				return fmt.Errorf("refresh do-not-call number: %w", err)
			}
			out[i] = switchboard.DNCPutResult{Entry: d, Created: lapsed}
			if err := t.appendEvent(ctx, tenantID, switchboard.EventDNCAdded, "dnc", d.ID, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveDNCNumbers implements switchboard.Store.
func (db *DB) RemoveDNCNumbers(ctx context.Context, tenantID int64, numbers []string) ([]bool, error) {
	out := make([]bool, len(numbers))
	err := db.inTx(ctx, func(t *tx) error {
		for i, n := range numbers {
			d, err := scanDNC(t.queryRow(ctx, "SELECT "+dncCols+" FROM dnc_numbers WHERE tenant_id = ? AND number = ?", tenantID, n))
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("read do-not-call number: %w", err)
			}
			if _, err := t.exec(ctx, "DELETE FROM dnc_numbers WHERE tenant_id = ? AND id = ?", tenantID, d.ID); err != nil {
				return fmt.Errorf("remove do-not-call number: %w", err)
			}
			out[i] = true
			if err := t.appendEvent(ctx, tenantID, switchboard.EventDNCRemoved, "dnc", d.ID, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DNCByNumber implements switchboard.Store.
func (db *DB) DNCByNumber(ctx context.Context, tenantID int64, number string) (switchboard.DNCNumber, error) {
	d, err := scanDNC(db.queryRow(ctx, "SELECT "+dncCols+" FROM dnc_numbers WHERE tenant_id = ? AND number = ?", tenantID, number))
	if errors.Is(err, sql.ErrNoRows) {
		return d, &switchboard.Error{Code: switchboard.CodeNotFound, Message: "the number is not on the do-not-call list"}
	}
	if err != nil {
		return d, fmt.Errorf("read do-not-call number: %w", err)
	}
	return d, nil
}

// LeadCounts implements switchboard.Store: the leads_campaign_status index
// serves the grouping by status; the outcome is read from the rows.
func (db *DB) LeadCounts(ctx context.Context, tenantID, campaignID int64) ([]switchboard.LeadCount, error) {
	if err := db.exists(ctx, "campaigns", "campaign", tenantID, campaignID); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, `SELECT status, last_outcome, COUNT(*) FROM leads WHERE campaign_id = ? AND tenant_id = ?
		GROUP BY status, last_outcome ORDER BY status, last_outcome`, campaignID, tenantID)
	if err != nil {
		return nil, fmt.Errorf("lead counts: %w", err)
	}
	defer rows.Close()
	out := []switchboard.LeadCount{}
	for rows.Next() {
		var c switchboard.LeadCount
		var status, outcome string
		if err := rows.Scan(&status, &outcome, &c.Count); err != nil {
			return nil, fmt.Errorf("lead counts: %w", err)
		}
		c.Status, c.Outcome = switchboard.LeadStatus(status), switchboard.DialOutcome(outcome)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lead counts: %w", err)
	}
	return out, nil
}
