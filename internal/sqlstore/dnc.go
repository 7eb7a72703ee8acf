package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
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

// transferState is, for a call p an agent transferred, the state of the
// calls continuing it (calls_parent finds them): switchboard.TransferOpen,
// TransferEnded, or "" when none does.
const transferState = `CASE
	WHEN EXISTS (SELECT 1 FROM calls ch WHERE ch.parent_id = p.id AND ch.tenant_id = p.tenant_id AND ch.ended_at IS NULL) THEN 'open'
	WHEN EXISTS (SELECT 1 FROM calls ch WHERE ch.parent_id = p.id AND ch.tenant_id = p.tenant_id) THEN 'ended'
	ELSE '' END`

// LeadCounts implements switchboard.Store. The leads are grouped by status
// and outcome alone (the leads_campaign_status index serves it); then the
// campaign's transferred calls, which calls_transferred holds apart (few:
// a transfer is rare), are matched to the leads that reached an agent, and
// those leads move to their transfer's group.
func (db *DB) LeadCounts(ctx context.Context, tenantID, campaignID int64) ([]switchboard.LeadCount, error) {
	if err := db.exists(ctx, "campaigns", "campaign", tenantID, campaignID); err != nil {
		return nil, err
	}
	type key struct {
		status, outcome, transfer string
	}
	counts := map[key]int{}
	err := db.campaignCountRows(ctx, func(rows *sql.Rows) error {
		var k key
		var n int
		if err := rows.Scan(&k.status, &k.outcome, &n); err != nil {
			return err
		}
		counts[k] += n
		return nil
	}, `SELECT status, last_outcome, COUNT(*) FROM leads WHERE campaign_id = ? AND tenant_id = ? GROUP BY status, last_outcome`,
		campaignID, tenantID)
	if err != nil {
		return nil, fmt.Errorf("lead counts: %w", err)
	}
	transferred := map[int64]string{}
	err = db.campaignCountRows(ctx, func(rows *sql.Rows) error {
		var id int64
		var state string
		if err := rows.Scan(&id, &state); err != nil {
			return err
		}
		if state != "" {
			transferred[id] = state
		}
		return nil
	}, `SELECT p.id, `+transferState+` FROM calls p WHERE p.tenant_id = ? AND p.campaign_id = ? AND p.hangup_cause = 'transferred'`,
		tenantID, campaignID)
	if err != nil {
		return nil, fmt.Errorf("lead counts: %w", err)
	}
	ids := make([]int64, 0, len(transferred))
	for id := range transferred {
		ids = append(ids, id)
	}
	for start := 0; start < len(ids); start += leadInsertRows {
		chunk := ids[start:min(start+leadInsertRows, len(ids))]
		args := []any{campaignID, tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		err = db.campaignCountRows(ctx, func(rows *sql.Rows) error {
			var k key
			var call int64
			if err := rows.Scan(&k.status, &k.outcome, &call); err != nil {
				return err
			}
			counts[k]--
			k.transfer = transferred[call]
			counts[k]++
			return nil
		}, `SELECT status, last_outcome, last_call_id FROM leads WHERE campaign_id = ? AND tenant_id = ?
			AND status IN ('finished', 'connected') AND last_call_id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("lead counts: %w", err)
		}
	}
	out := make([]switchboard.LeadCount, 0, len(counts))
	for k, n := range counts {
		if n > 0 {
			out = append(out, switchboard.LeadCount{Status: switchboard.LeadStatus(k.status), Outcome: switchboard.DialOutcome(k.outcome),
				Transfer: k.transfer, Count: n})
		}
	}
	slices.SortFunc(out, func(a, b switchboard.LeadCount) int {
		return cmp.Or(cmp.Compare(a.Status, b.Status), cmp.Compare(a.Outcome, b.Outcome), cmp.Compare(a.Transfer, b.Transfer))
	})
	return out, nil
}

// campaignCountRows runs q on the read pool and hands each row to fn.
func (db *DB) campaignCountRows(ctx context.Context, fn func(*sql.Rows) error, q string, args ...any) error {
	rows, err := db.read.QueryContext(ctx, db.rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
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
