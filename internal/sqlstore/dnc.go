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

// transferState is, for a lead l joined to its last call p when an agent
// transferred it, the state of the calls continuing p (calls_parent finds
// them): switchboard.TransferOpen, TransferEnded, or "".
const transferState = `CASE WHEN p.id IS NULL THEN ''
	WHEN EXISTS (SELECT 1 FROM calls ch WHERE ch.parent_id = p.id AND ch.tenant_id = p.tenant_id AND ch.ended_at IS NULL) THEN 'open'
	WHEN EXISTS (SELECT 1 FROM calls ch WHERE ch.parent_id = p.id AND ch.tenant_id = p.tenant_id) THEN 'ended'
	ELSE '' END`

// LeadCounts implements switchboard.Store: the leads_campaign_status index
// serves the grouping by status; the outcome is read from the rows, and a
// transfer from the lead's last call and the calls continuing it.
func (db *DB) LeadCounts(ctx context.Context, tenantID, campaignID int64) ([]switchboard.LeadCount, error) {
	if err := db.exists(ctx, "campaigns", "campaign", tenantID, campaignID); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, `SELECT l.status, l.last_outcome, `+transferState+` AS transfer, COUNT(*)
		FROM leads l LEFT JOIN calls p ON p.id = l.last_call_id AND p.tenant_id = l.tenant_id AND p.hangup_cause = 'transferred'
		WHERE l.campaign_id = ? AND l.tenant_id = ?
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, campaignID, tenantID)
	if err != nil {
		return nil, fmt.Errorf("lead counts: %w", err)
	}
	defer rows.Close()
	out := []switchboard.LeadCount{}
	for rows.Next() {
		var c switchboard.LeadCount
		var status, outcome string
		if err := rows.Scan(&status, &outcome, &c.Transfer, &c.Count); err != nil {
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

// LeadTransfers implements switchboard.Store.
func (db *DB) LeadTransfers(ctx context.Context, tenantID int64, callIDs []int64) (map[int64]string, error) {
	out := map[int64]string{}
	for start := 0; start < len(callIDs); start += leadInsertRows {
		chunk := callIDs[start:min(start+leadInsertRows, len(callIDs))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, tenantID)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT p.id, `+transferState+` FROM calls p
			WHERE p.tenant_id = ? AND p.hangup_cause = 'transferred' AND p.id IN (`+placeholders(len(chunk))+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("lead transfers: %w", err)
		}
		for rows.Next() {
			var id int64
			var state string
			if err := rows.Scan(&id, &state); err != nil {
				rows.Close()
				return nil, fmt.Errorf("lead transfers: %w", err)
			}
			if state != "" {
				out[id] = state
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("lead transfers: %w", err)
		}
	}
	return out, nil
}
