package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"

	"switchboard"
)

// Agent sessions (issue 17): sign-ins, pending sign-outs and force logout
// jobs. They are written without events (no cached route reads them); the
// presence a logout changes has its agent.status_changed event.

// RecordSignIn implements switchboard.Store.
func (db *DB) RecordSignIn(ctx context.Context, tenantID, userID int64, remoteAddr, source string) (switchboard.AgentSession, error) {
	s := switchboard.AgentSession{TenantID: tenantID, UserID: userID, Source: source}
	addr, err := netip.ParseAddr(remoteAddr)
	if err != nil {
		return s, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"remote_addr": "must be an IP address"}}
	}
	s.RemoteAddr = addr.Unmap().String()
	if source != switchboard.SessionPresence && source != switchboard.SessionSIP {
		return s, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"source": "must be presence or sip"}}
	}
	err = db.inTx(ctx, func(t *tx) error {
		if err := t.lockRow(ctx, "users", "user", tenantID, userID); err != nil {
			return err
		}
		s.At = t.now
		var err error
		s.ID, err = t.insert(ctx, "INSERT INTO agent_sessions (tenant_id, user_id, at, remote_addr, source) VALUES (?, ?, ?, ?, ?)",
			tenantID, userID, micros(t.now), s.RemoteAddr, source)
		if err != nil {
			return fmt.Errorf("record sign-in: %w", err)
		}
		return nil
	})
	return s, err
}

// LastSignIns implements switchboard.Store: the newest session (highest id)
// of each user, read in one query over the tenant's index.
func (db *DB) LastSignIns(ctx context.Context, tenantID int64, userIDs []int64) (map[int64]switchboard.AgentSession, error) {
	rows, err := db.query(ctx, `SELECT id, tenant_id, user_id, at, remote_addr, source FROM agent_sessions
		WHERE tenant_id = ? AND id IN (SELECT MAX(id) FROM agent_sessions WHERE tenant_id = ? GROUP BY user_id)`, tenantID, tenantID)
	if err != nil {
		return nil, fmt.Errorf("last sign-ins: %w", err)
	}
	defer rows.Close()
	out := map[int64]switchboard.AgentSession{}
	for rows.Next() {
		var s switchboard.AgentSession
		var at int64
		if err := rows.Scan(&s.ID, &s.TenantID, &s.UserID, &at, &s.RemoteAddr, &s.Source); err != nil {
			return nil, fmt.Errorf("last sign-ins: %w", err)
		}
		s.At = fromMicros(at)
		if userIDs == nil || slices.Contains(userIDs, s.UserID) {
			out[s.UserID] = s
		}
	}
	return out, rows.Err()
}

// RequestLogout implements switchboard.Store.
func (db *DB) RequestLogout(ctx context.Context, tenantID, userID int64) error {
	return db.inTx(ctx, func(t *tx) error {
		if err := t.lockRow(ctx, "users", "user", tenantID, userID); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO pending_logouts (tenant_id, user_id, requested_at) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id, user_id) DO NOTHING`, tenantID, userID, micros(t.now)); err != nil {
			return fmt.Errorf("request logout: %w", err)
		}
		return nil
	})
}

// PendingLogouts implements switchboard.Store.
func (db *DB) PendingLogouts(ctx context.Context, limit int) ([]switchboard.PendingLogout, error) {
	rows, err := db.query(ctx, "SELECT tenant_id, user_id, requested_at FROM pending_logouts ORDER BY requested_at, user_id LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("pending logouts: %w", err)
	}
	defer rows.Close()
	var out []switchboard.PendingLogout
	for rows.Next() {
		var p switchboard.PendingLogout
		var at int64
		if err := rows.Scan(&p.TenantID, &p.UserID, &at); err != nil {
			return nil, fmt.Errorf("pending logouts: %w", err)
		}
		p.RequestedAt = fromMicros(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// CompleteLogout implements switchboard.Store: setPresence's rules (and its
// event) with the pending row cleared in the same transaction, so that a
// sign-out is neither lost nor applied twice.
func (db *DB) CompleteLogout(ctx context.Context, tenantID, userID int64) (switchboard.Presence, error) {
	var prev switchboard.Presence
	err := db.inTx(ctx, func(t *tx) error {
		if err := t.lockRow(ctx, "users", "user", tenantID, userID); err != nil {
			return err
		}
		var since sql.NullInt64
		if err := t.queryRow(ctx, "SELECT presence_status, presence_since FROM users WHERE tenant_id = ? AND id = ?",
			tenantID, userID).Scan(&prev.Status, &since); err != nil {
			return fmt.Errorf("get presence: %w", err)
		}
		prev.UserID = userID
		if since.Valid {
			prev.Since = fromMicros(since.Int64)
		}
		if _, err := t.exec(ctx, "DELETE FROM pending_logouts WHERE tenant_id = ? AND user_id = ?", tenantID, userID); err != nil {
			return fmt.Errorf("clear pending logout: %w", err)
		}
		if prev.Status == switchboard.StatusOffline {
			return nil
		}
		_, err := t.setPresence(ctx, tenantID, userID, switchboard.StatusOffline, true)
		return err
	})
	return prev, err
}

// CancelLogout implements switchboard.Store.
func (db *DB) CancelLogout(ctx context.Context, tenantID, userID int64) error {
	return db.inTx(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, "DELETE FROM pending_logouts WHERE tenant_id = ? AND user_id = ?", tenantID, userID); err != nil {
			return fmt.Errorf("cancel logout: %w", err)
		}
		return nil
	})
}

const logoutJobCols = "id, tenant_id, status, agent_ids, processed, results, created_at, updated_at, finished_at"

func scanLogoutJob(s scanner) (switchboard.ForceLogoutJob, error) {
	var j switchboard.ForceLogoutJob
	var ids, results string
	var created, updated int64
	var finished sql.NullInt64
	if err := s.Scan(&j.ID, &j.TenantID, &j.Status, &ids, &j.Processed, &results, &created, &updated, &finished); err != nil {
		return j, err
	}
	var err error
	if j.AgentIDs, err = decodeIDs(ids); err != nil {
		return j, err
	}
	if err := decodeList(results, &j.Results); err != nil {
		return j, err
	}
	j.CreatedAt, j.UpdatedAt, j.FinishedAt = fromMicros(created), fromMicros(updated), timePtr(finished)
	return j, nil
}

// CreateForceLogoutJob implements switchboard.Store.
func (db *DB) CreateForceLogoutJob(ctx context.Context, tenantID int64, j switchboard.ForceLogoutJob) (switchboard.ForceLogoutJob, error) {
	if len(j.AgentIDs) == 0 || len(j.AgentIDs) > switchboard.MaxLogoutJobAgents {
		return j, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"agent_ids": fmt.Sprintf("must hold 1 to %d agents", switchboard.MaxLogoutJobAgents)}}
	}
	j.ID, j.TenantID, j.Status, j.Processed, j.Results, j.FinishedAt = 0, tenantID, switchboard.LogoutJobCreated, 0, []switchboard.ForceLogoutResult{}, nil
	ids, _ := json.Marshal(j.AgentIDs)
	err := db.inTx(ctx, func(t *tx) error {
		j.CreatedAt, j.UpdatedAt = t.now, t.now
		var err error
		j.ID, err = t.insert(ctx, `INSERT INTO force_logout_jobs (tenant_id, status, agent_ids, processed, results, created_at, updated_at)
			VALUES (?, ?, ?, 0, '[]', ?, ?)`, tenantID, j.Status, string(ids), micros(t.now), micros(t.now))
		if err != nil {
			return fmt.Errorf("create force logout job: %w", err)
		}
		return nil
	})
	return j, err
}

// UpdateForceLogoutJob implements switchboard.Store.
func (db *DB) UpdateForceLogoutJob(ctx context.Context, j switchboard.ForceLogoutJob) (switchboard.ForceLogoutJob, error) {
	switch j.Status {
	case switchboard.LogoutJobCreated, switchboard.LogoutJobInProgress, switchboard.LogoutJobFinished:
	default:
		return j, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"status": "must be created, in_progress or finished"}}
	}
	if j.Results == nil {
		j.Results = []switchboard.ForceLogoutResult{}
	}
	results, _ := json.Marshal(j.Results)
	err := db.inTx(ctx, func(t *tx) error {
		j.UpdatedAt = t.now
		if j.Status == switchboard.LogoutJobFinished && j.FinishedAt == nil {
			now := t.now
			j.FinishedAt = &now
		}
		res, err := t.exec(ctx, `UPDATE force_logout_jobs SET status = ?, processed = ?, results = ?, updated_at = ?, finished_at = ?
			WHERE tenant_id = ? AND id = ?`, j.Status, j.Processed, string(results), micros(t.now), nullMicros(j.FinishedAt), j.TenantID, j.ID)
		if err != nil {
			return fmt.Errorf("update force logout job: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("force logout job", j.ID)
		}
		return nil
	})
	return j, err
}

// ForceLogoutJob implements switchboard.Store.
func (db *DB) ForceLogoutJob(ctx context.Context, tenantID, id int64) (switchboard.ForceLogoutJob, error) {
	return getOne(ctx, db, "force_logout_jobs", logoutJobCols, "force logout job", scanLogoutJob, tenantID, id)
}

// ForceLogoutJobs implements switchboard.Store.
func (db *DB) ForceLogoutJobs(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.ForceLogoutJob], error) {
	q := listQuery{cols: logoutJobCols, from: "FROM force_logout_jobs WHERE tenant_id = ?", args: []any{tenantID}, key: "id", desc: true}
	return listPage(ctx, db, q, opt, scanLogoutJob, func(j switchboard.ForceLogoutJob) int64 { return j.ID })
}

// UnfinishedForceLogoutJobs implements switchboard.Store.
func (db *DB) UnfinishedForceLogoutJobs(ctx context.Context) ([]switchboard.ForceLogoutJob, error) {
	rows, err := db.query(ctx, "SELECT "+logoutJobCols+" FROM force_logout_jobs WHERE status <> 'finished' ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("unfinished force logout jobs: %w", err)
	}
	defer rows.Close()
	var out []switchboard.ForceLogoutJob
	for rows.Next() {
		j, err := scanLogoutJob(rows)
		if err != nil {
			return nil, fmt.Errorf("unfinished force logout jobs: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
