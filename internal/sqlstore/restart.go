package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"switchboard"
)

// isCallStatus reports whether status is one the system sets while an agent
// handles a call.
func isCallStatus(status string) bool {
	return status == switchboard.StatusInCall || status == switchboard.StatusWrapUp
}

// Heartbeat records that node is alive now. The call-control node writes it
// every few seconds, so that after a crash the next start knows when the
// calls it held were cut (see LastHeartbeat).
func (db *DB) Heartbeat(ctx context.Context, node string) error {
	return db.inTx(ctx, func(t *tx) error {
		_, err := t.exec(ctx, `INSERT INTO node_heartbeats (node, last_seen) VALUES (?, ?)
			ON CONFLICT (node) DO UPDATE SET last_seen = excluded.last_seen`, node, micros(t.now))
		if err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		return nil
	})
}

// LastHeartbeat returns when node was last known alive; ok is false when it
// never wrote a heartbeat.
func (db *DB) LastHeartbeat(ctx context.Context, node string) (at time.Time, ok bool, err error) {
	var v int64
	err = db.read.QueryRowContext(ctx, db.rebind("SELECT last_seen FROM node_heartbeats WHERE node = ?"), node).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last heartbeat: %w", err)
	}
	return fromMicros(v), true, nil
}

// RestoreCutPresence gives every agent the system left In-Call or Wrap-Up the
// status they had before that call: after a restart no call is in progress, so
// no agent can still be on one. A status that no longer exists falls back to
// Available, and a deactivated user goes Offline. Each change is an ordinary
// presence change with its agent.status_changed event. An agent cut in
// Wrap-Up is done with their last call: it gets the call.wrapped_up the
// engine could not write (unless it has one). It returns how many agents it
// changed.
func (db *DB) RestoreCutPresence(ctx context.Context) (int, error) {
	type agent struct {
		tenantID, userID int64
		status           string
		ret              sql.NullString
		deactivated      bool
	}
	rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT tenant_id, id, presence_status, presence_return, deactivated_at IS NOT NULL FROM users
		WHERE presence_status IN (?, ?) ORDER BY id`), switchboard.StatusInCall, switchboard.StatusWrapUp)
	if err != nil {
		return 0, fmt.Errorf("find agents on cut calls: %w", err)
	}
	var agents []agent
	for rows.Next() {
		var a agent
		if err := rows.Scan(&a.tenantID, &a.userID, &a.status, &a.ret, &a.deactivated); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find agents on cut calls: %w", err)
		}
		agents = append(agents, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find agents on cut calls: %w", err)
	}
	for _, a := range agents {
		if a.status == switchboard.StatusWrapUp {
			if err := db.inTx(ctx, func(t *tx) error { return t.endCutWrapUp(ctx, a.tenantID, a.userID) }); err != nil {
				return 0, fmt.Errorf("end the wrap-up of user %d: %w", a.userID, err)
			}
		}
		status := a.ret.String
		switch {
		case a.deactivated:
			status = switchboard.StatusOffline
		case status == "" || isCallStatus(status):
			status = switchboard.StatusAvailable
		}
		_, err := db.SetPresence(ctx, a.tenantID, a.userID, status, true)
		if switchboard.ErrorCode(err) == switchboard.CodeInvalid && status != switchboard.StatusAvailable {
			// The status they had was deleted meanwhile.
			_, err = db.SetPresence(ctx, a.tenantID, a.userID, switchboard.StatusAvailable, true)
		}
		if err != nil {
			return 0, fmt.Errorf("restore presence of user %d: %w", a.userID, err)
		}
	}
	return len(agents), nil
}

// endCutWrapUp appends call.wrapped_up for the last call agent userID ended,
// unless it has one: their wrap-up was cut by a restart. The newest ended
// calls are read first (calls_tenant_ended backwards), and an agent in
// Wrap-Up ended theirs within a wrap-up's length of the cut, so the read
// stops early.
func (t *tx) endCutWrapUp(ctx context.Context, tenantID, userID int64) error {
	c, err := scanCall(t.queryRow(ctx, "SELECT "+callCols+` FROM calls WHERE tenant_id = ? AND ended_at IS NOT NULL AND agent_id = ?
		ORDER BY ended_at DESC, id DESC LIMIT 1`, tenantID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("last call: %w", err)
	}
	var n int
	if err := t.queryRow(ctx, "SELECT COUNT(*) FROM events WHERE tenant_id = ? AND subject_type = 'call' AND subject_id = ? AND type = ?",
		tenantID, c.ID, switchboard.EventCallWrappedUp).Scan(&n); err != nil {
		return fmt.Errorf("wrap-up of call %d: %w", c.ID, err)
	}
	if n > 0 {
		return nil
	}
	return t.appendCallEvent(ctx, c, switchboard.EventCallWrappedUp)
}
