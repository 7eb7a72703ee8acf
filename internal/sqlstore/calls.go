package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"switchboard"
	"switchboard/internal/phone"
)

// SetPresence implements switchboard.Store.
func (db *DB) SetPresence(ctx context.Context, tenantID, userID int64, status string, bySystem bool) (switchboard.Presence, error) {
	var p switchboard.Presence
	err := db.inTx(ctx, func(t *tx) error {
		var err error
		p, err = t.setPresence(ctx, tenantID, userID, status, bySystem)
		return err
	})
	return p, err
}

// setPresence is SetPresence in t.
func (t *tx) setPresence(ctx context.Context, tenantID, userID int64, status string, bySystem bool) (switchboard.Presence, error) {
	p := switchboard.Presence{UserID: userID}
	err := func() error {
		// The user is locked first, so that a deactivation committing
		// meanwhile cannot be overtaken by a sign-in that read it active.
		if err := t.lockRow(ctx, "users", "user", tenantID, userID); err != nil {
			return err
		}
		var prev string
		var deactivated sql.NullInt64
		err := t.queryRow(ctx, "SELECT presence_status, deactivated_at FROM users WHERE tenant_id = ? AND id = ?", tenantID, userID).Scan(&prev, &deactivated)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user", userID)
		}
		if err != nil {
			return fmt.Errorf("get presence: %w", err)
		}
		var st switchboard.AgentStatus
		err = t.queryRow(ctx, "SELECT name, system, available FROM agent_statuses WHERE tenant_id = ? AND LOWER(name) = LOWER(?)",
			tenantID, strings.TrimSpace(status)).Scan(&st.Name, &st.System, &st.Available)
		if errors.Is(err, sql.ErrNoRows) {
			return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
				Fields: map[string]string{"status": "is not a status of this tenant; see /v1/agent_statuses"}}
		}
		if err != nil {
			return fmt.Errorf("get status: %w", err)
		}
		if !bySystem && (st.Name == switchboard.StatusInCall || st.Name == switchboard.StatusWrapUp) {
			return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
				Fields: map[string]string{"status": st.Name + " is set by the system while the agent handles a call"}}
		}
		if deactivated.Valid && st.Name != switchboard.StatusOffline {
			return &switchboard.Error{Code: switchboard.CodeConflict, Message: "the user is deactivated",
				Fields: map[string]string{"status": "a deactivated user cannot sign in"}}
		}
		p.Status, p.Since, p.Available = st.Name, t.now, st.Available
		// presence_return keeps the status to give back after a call (see
		// RestoreCutPresence): the last one that was not set by the system.
		ret := sql.NullString{}
		if isCallStatus(st.Name) {
			ret = sql.NullString{String: prev, Valid: true}
			if isCallStatus(prev) {
				if err := t.queryRow(ctx, "SELECT presence_return FROM users WHERE tenant_id = ? AND id = ?", tenantID, userID).Scan(&ret); err != nil {
					return fmt.Errorf("get presence: %w", err)
				}
			}
		}
		if _, err := t.exec(ctx, "UPDATE users SET presence_status = ?, presence_since = ?, presence_return = ? WHERE tenant_id = ? AND id = ?",
			st.Name, micros(t.now), ret, tenantID, userID); err != nil {
			return fmt.Errorf("set presence: %w", err)
		}
		return t.appendEvent(ctx, tenantID, switchboard.EventAgentStatusChanged, "user", userID, switchboard.PresenceEventPayload{
			V: switchboard.EventPayloadVersion, UserID: userID, Status: st.Name, Previous: prev, Available: st.Available, Since: t.now})
	}()
	return p, err
}

// Presence implements switchboard.Store.
func (db *DB) Presence(ctx context.Context, tenantID, userID int64) (switchboard.Presence, error) {
	p := switchboard.Presence{UserID: userID}
	var since sql.NullInt64
	err := db.queryRow(ctx, `SELECT u.presence_status, u.presence_since, COALESCE(s.available, ?) FROM users u
		LEFT JOIN agent_statuses s ON s.tenant_id = u.tenant_id AND s.name = u.presence_status
		WHERE u.tenant_id = ? AND u.id = ?`, false, tenantID, userID).Scan(&p.Status, &since, &p.Available)
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("user", userID)
	}
	if err != nil {
		return p, fmt.Errorf("get presence: %w", err)
	}
	if since.Valid {
		p.Since = fromMicros(since.Int64)
	}
	return p, nil
}

const callCols = `id, tenant_id, uuid, direction, status, from_number, to_number, queue_id, agent_id, parent_id, disposition,
	hangup_by, hangup_cause, created_at, queued_at, ringing_at, connected_at, ended_at, source_system, source_account_id,
	scheduled_at, dtmf, hold_micros, media, fax_pages, recorded, campaign_id, voicemail_reason, voicemail_read_at, voicemail_read_by`

func scanCall(s scanner) (switchboard.Call, error) {
	var c switchboard.Call
	var queue, agent, parent, queued, ringing, connected, ended, scheduled, campaign, vmReadAt, vmReadBy sql.NullInt64
	var holdMicros int64
	var created int64
	// The named string types are scanned as plain strings: database/sql
	// converts into *string directly but into a named type by reflection,
	// which a walk over a million records pays per column.
	var direction, status, disposition, hangupBy string
	err := s.Scan(&c.ID, &c.TenantID, &c.UUID, &direction, &status, &c.From, &c.To, &queue, &agent, &parent, &disposition,
		&hangupBy, &c.HangupCause, &created, &queued, &ringing, &connected, &ended, &c.Source.System, &c.Source.AccountID,
		&scheduled, &c.DTMF, &holdMicros, &c.Media, &c.FaxPages, &c.Recorded, &campaign, &c.VoicemailReason, &vmReadAt, &vmReadBy)
	c.VoicemailReadAt, c.VoicemailReadBy = timePtr(vmReadAt), idPtr(vmReadBy)
	c.Direction, c.Status, c.Disposition = switchboard.Direction(direction), switchboard.CallStatus(status), switchboard.Disposition(disposition)
	c.HangupBy = switchboard.Side(hangupBy)
	c.ScheduledAt, c.CampaignID = timePtr(scheduled), idPtr(campaign)
	c.Hold = time.Duration(holdMicros) * time.Microsecond
	c.HoldSeconds = c.Hold.Seconds()
	c.QueueID, c.AgentID, c.ParentID, c.CreatedAt = idPtr(queue), idPtr(agent), idPtr(parent), fromMicros(created)
	c.QueuedAt, c.RingingAt, c.ConnectedAt, c.EndedAt = timePtr(queued), timePtr(ringing), timePtr(connected), timePtr(ended)
	return c, err
}

// SaveCall implements switchboard.Store. A call without an id is numbered
// from the same reserved range the call engine draws on (ReserveCallIDs), so
// no two calls can ever share an id.
func (db *DB) SaveCall(ctx context.Context, c switchboard.Call, what string) (switchboard.Call, error) {
	if _, ok := switchboard.CallEventType(what); c.TenantID == 0 || !ok {
		return c, fmt.Errorf("save call: tenant and a known change are required, not %d and %q", c.TenantID, what)
	}
	assigned := c.ID != 0
	err := db.inTx(ctx, func(t *tx) error {
		if !assigned {
			first, err := t.reserveCallIDs(ctx, 1)
			if err != nil {
				return err
			}
			c.ID = first
		}
		return t.saveCall(ctx, &c, what)
	})
	return c, err
}

// SaveCalls implements switchboard.Store: the call engine's changes, in
// order, in one transaction (the batching writer's group commit).
func (db *DB) SaveCalls(ctx context.Context, changes []switchboard.CallChange) error {
	for _, ch := range changes {
		if ch.Agent == nil && ch.Recover == nil && (ch.Call.TenantID == 0 || ch.Call.ID == 0 || !knownChange(ch.What)) {
			return fmt.Errorf("save calls: call %d: tenant, id and change are required", ch.Call.ID)
		}
	}
	// A call changed several times in the batch has its row written once,
	// at its last change that writes it; every change still has its event.
	last := map[int64]int{}
	for i, ch := range changes {
		if ch.Agent == nil && ch.Recover == nil && ch.What != switchboard.CallWrappedUp {
			last[ch.Call.ID] = i
		}
	}
	return db.inTx(ctx, func(t *tx) error {
		t.batch = &eventBatch{}
		for i, ch := range changes {
			var err error
			switch {
			case ch.Agent != nil:
				err = t.agentCallState(ctx, *ch.Agent)
			case ch.Recover != nil:
				err = t.recoverCall(ctx, ch.Recover.TenantID, ch.Recover.CallID)
			default:
				c := ch.Call
				err = t.saveCallChange(ctx, &c, ch.What, last[c.ID] == i)
			}
			if err != nil {
				return err
			}
		}
		return t.flushEvents(ctx)
	})
}

func knownChange(what string) bool {
	_, ok := switchboard.CallEventType(what)
	return ok
}

// agentCallState shows In-Call and Wrap-Up as the agent's presence while they
// handle a call, and gives them back the status they had before (kept in
// presence_return, as setPresence keeps it) when they are free again, unless
// they chose another status meanwhile. It is setPresence's rules on the
// batched path: one read of the user, the tenant's statuses read once per
// transaction.
func (t *tx) agentCallState(ctx context.Context, a switchboard.AgentCallState) error {
	var cur string
	var ret sql.NullString
	var deactivated sql.NullInt64
	err := t.queryRow(ctx, "SELECT presence_status, presence_return, deactivated_at FROM users WHERE tenant_id = ? AND id = ?",
		a.TenantID, a.UserID).Scan(&cur, &ret, &deactivated)
	if errors.Is(err, sql.ErrNoRows) || deactivated.Valid {
		return nil // the user is gone or signed out for good: nothing to show
	}
	if err != nil {
		return fmt.Errorf("agent call state: %w", err)
	}
	system := isCallStatus(cur)
	var next string
	switch a.State {
	case switchboard.PhaseInCall:
		next = switchboard.StatusInCall
	case switchboard.PhaseWrapUp:
		if !system {
			return nil // the agent chose a status during the call; keep it
		}
		next = switchboard.StatusWrapUp
	case switchboard.PhaseFree:
		if !system {
			return nil
		}
		next = ret.String
		if next == "" {
			next = switchboard.StatusAvailable
		}
	default:
		return fmt.Errorf("agent call state %q is not one the engine reports", a.State)
	}
	if next == cur {
		return nil
	}
	st, ok, err := t.status(ctx, a.TenantID, next)
	if err != nil {
		return err
	}
	if !ok && a.State == switchboard.PhaseFree {
		// The status they had is gone: Available stands in for it.
		st, ok, err = t.status(ctx, a.TenantID, switchboard.StatusAvailable)
		if err != nil {
			return err
		}
	}
	if !ok {
		return fmt.Errorf("agent call state: tenant %d has no status %q", a.TenantID, next)
	}
	// presence_return keeps the last status not set by the system.
	newRet := sql.NullString{}
	if isCallStatus(st.Name) {
		newRet = sql.NullString{String: cur, Valid: true}
		if system {
			newRet = ret
		}
	}
	if _, err := t.exec(ctx, "UPDATE users SET presence_status = ?, presence_since = ?, presence_return = ? WHERE tenant_id = ? AND id = ?",
		st.Name, micros(t.now), newRet, a.TenantID, a.UserID); err != nil {
		return fmt.Errorf("agent call state: %w", err)
	}
	return t.appendEvent(ctx, a.TenantID, switchboard.EventAgentStatusChanged, "user", a.UserID, switchboard.PresenceEventPayload{
		V: switchboard.EventPayloadVersion, UserID: a.UserID, Status: st.Name, Previous: cur, Available: st.Available, Since: t.now})
}

// status finds a tenant's status by name (any case), reading the tenant's
// statuses once per transaction.
func (t *tx) status(ctx context.Context, tenantID int64, name string) (switchboard.AgentStatus, bool, error) {
	if t.statuses == nil {
		t.statuses = map[int64]map[string]switchboard.AgentStatus{}
	}
	byName, ok := t.statuses[tenantID]
	if !ok {
		rows, err := t.query(ctx, "SELECT name, system, available FROM agent_statuses WHERE tenant_id = ?", tenantID)
		if err != nil {
			return switchboard.AgentStatus{}, false, fmt.Errorf("get statuses: %w", err)
		}
		byName = map[string]switchboard.AgentStatus{}
		for rows.Next() {
			var st switchboard.AgentStatus
			if err := rows.Scan(&st.Name, &st.System, &st.Available); err != nil {
				rows.Close()
				return switchboard.AgentStatus{}, false, fmt.Errorf("get statuses: %w", err)
			}
			byName[strings.ToLower(st.Name)] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return switchboard.AgentStatus{}, false, fmt.Errorf("get statuses: %w", err)
		}
		t.statuses[tenantID] = byName
	}
	st, ok := byName[strings.ToLower(strings.TrimSpace(name))]
	return st, ok, nil
}

// ReserveCallIDs implements switchboard.Store.
func (db *DB) ReserveCallIDs(ctx context.Context, n int) (int64, error) {
	if n < 1 {
		return 0, fmt.Errorf("reserve call ids: %d is not a positive count", n)
	}
	var first int64
	err := db.inTx(ctx, func(t *tx) error {
		var err error
		first, err = t.reserveCallIDs(ctx, n)
		return err
	})
	return first, err
}

// reserveCallIDs takes the next n call ids and returns the first.
func (t *tx) reserveCallIDs(ctx context.Context, n int) (int64, error) {
	var next int64
	if err := t.queryRow(ctx, "UPDATE id_blocks SET next_id = next_id + ? WHERE name = 'calls' RETURNING next_id", n).Scan(&next); err != nil {
		return 0, fmt.Errorf("reserve call ids: %w", err)
	}
	return next - int64(n), nil
}

// saveCall writes one change of a call the engine numbered: the row is
// inserted the first time and updated after (an upsert, so that a change whose
// "created" save was lost still lands), with its call.<what> event.
func (t *tx) saveCall(ctx context.Context, c *switchboard.Call, what string) error {
	return t.saveCallChange(ctx, c, what, true)
}

// saveCallChange is saveCall that writes the row only when write is set (a
// later change of the same call in the batch writes it).
func (t *tx) saveCallChange(ctx context.Context, c *switchboard.Call, what string, write bool) error {
	typ, ok := switchboard.CallEventType(what)
	if !ok {
		return fmt.Errorf("save call %d: %q is no change of a call", c.ID, what)
	}
	if !write || what == switchboard.CallWrappedUp {
		// The row is written by another change (wrapped_up follows the
		// call's end, which wrote it).
		return t.appendCallEvent(ctx, *c, typ)
	}
	if c.Media == "" {
		c.Media = switchboard.MediaVoice
	}
	if c.UUID == "" {
		c.UUID = uuid.NewString() // kept only when this inserts the row
	}
	res, err := t.exec(ctx, `INSERT INTO calls (id, tenant_id, uuid, direction, status, from_number, to_number, queue_id,
		agent_id, parent_id, disposition, hangup_by, hangup_cause, created_at, queued_at, ringing_at, connected_at, ended_at,
		updated_at, source_system, source_account_id, scheduled_at, dtmf, media, fax_pages, recorded, hold_micros, campaign_id,
		voicemail_reason, voicemail_read_at, voicemail_read_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, queue_id = excluded.queue_id, agent_id = excluded.agent_id,
		disposition = excluded.disposition, hangup_by = excluded.hangup_by, hangup_cause = excluded.hangup_cause,
		queued_at = excluded.queued_at, ringing_at = excluded.ringing_at, connected_at = excluded.connected_at,
		ended_at = excluded.ended_at, updated_at = excluded.updated_at, dtmf = excluded.dtmf, hold_micros = excluded.hold_micros,
		media = excluded.media, fax_pages = excluded.fax_pages, recorded = excluded.recorded,
		voicemail_reason = excluded.voicemail_reason, voicemail_read_at = excluded.voicemail_read_at,
		voicemail_read_by = excluded.voicemail_read_by
		WHERE calls.tenant_id = excluded.tenant_id`,
		c.ID, c.TenantID, c.UUID, c.Direction, c.Status, c.From, c.To, nullID(c.QueueID), nullID(c.AgentID), nullID(c.ParentID), c.Disposition,
		c.HangupBy, c.HangupCause, micros(c.CreatedAt), nullMicros(c.QueuedAt), nullMicros(c.RingingAt),
		nullMicros(c.ConnectedAt), nullMicros(c.EndedAt), micros(t.now), c.Source.System, c.Source.AccountID,
		nullMicros(c.ScheduledAt), c.DTMF, c.Media, c.FaxPages, c.Recorded, c.Hold.Microseconds(), nullID(c.CampaignID),
		c.VoicemailReason, nullMicros(c.VoicemailReadAt), nullID(c.VoicemailReadBy))
	if err != nil {
		return fmt.Errorf("save call %d: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// The id belongs to another tenant's call: never overwrite it.
		return fmt.Errorf("save call %d: the id is another tenant's call", c.ID)
	}
	return t.appendCallEvent(ctx, *c, typ)
}

// Call implements switchboard.Store.
func (db *DB) Call(ctx context.Context, tenantID, id int64) (switchboard.Call, error) {
	return getOne(ctx, db, "calls", callCols, "call", scanCall, tenantID, id)
}

// CloseOrphanCalls ends every call still open in the store but for scheduled
// ones (which wait in the store, see ScheduledCalls): calls held by a driver
// that is gone (this node restarted, or crashed). Calls that had been
// connected finish as answered; the others fail; each ends with cause and its
// call.ended event, followed by call.wrapped_up (no agent wraps up a call
// the engine no longer holds). It returns how many it closed.
func (db *DB) CloseOrphanCalls(ctx context.Context, cause string) (int, error) {
	return db.CloseOrphanCallsAt(ctx, cause, time.Time{})
}

// CloseOrphanCallsAt is CloseOrphanCalls with the calls ending at the moment
// the process holding them was last known alive (its heartbeat) rather than
// now, so that the time the server was down does not count as talk or wait
// time. A call that began after at (the heartbeat lagged) ends at its own
// latest recorded moment instead; a zero at means now.
func (db *DB) CloseOrphanCallsAt(ctx context.Context, cause string, at time.Time) (int, error) {
	rows, err := db.read.QueryContext(ctx, db.rebind("SELECT "+callCols+" FROM calls WHERE ended_at IS NULL AND status <> ? ORDER BY id"),
		switchboard.CallScheduled)
	if err != nil {
		return 0, fmt.Errorf("find open calls: %w", err)
	}
	var open []switchboard.Call
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("find open calls: %w", err)
		}
		open = append(open, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, c := range open {
		end := db.now().UTC().Truncate(time.Microsecond)
		if !at.IsZero() && at.Before(end) {
			end = at.UTC().Truncate(time.Microsecond)
			for _, t := range []*time.Time{&c.CreatedAt, c.QueuedAt, c.RingingAt, c.ConnectedAt} {
				if t != nil && t.After(end) {
					end = *t
				}
			}
		}
		c.EndedAt, c.HangupBy, c.HangupCause = &end, switchboard.SideSystem, cause
		switch {
		case c.Status == switchboard.CallActionOnly:
			// The outside dialer's call may go on, but our record of it ends.
			c.Status, c.Disposition = switchboard.CallActionOnlyFinished, switchboard.DispositionAnswered
		case c.Status == switchboard.CallVoicemail && c.VoicemailReason != "":
			// A caller's message as far as it was recorded is the voicemail
			// (an outbound call's answering machine has no reason).
			c.Status = switchboard.CallVoicemailReceived
			switch {
			case c.VoicemailReason != switchboard.VoicemailNoAnswer:
				c.Disposition = switchboard.DispositionRejected
			case c.QueueID == nil: // a user's missed call
				c.Disposition = switchboard.DispositionMissed
			default:
				c.Disposition = switchboard.DispositionNoAnswer
			}
		case c.ConnectedAt != nil:
			c.Status, c.Disposition = switchboard.CallFinished, switchboard.DispositionAnswered
		default:
			c.Status = switchboard.CallFailed
			if c.RingingAt != nil {
				c.Disposition = switchboard.DispositionMissed
			} else {
				c.Disposition = switchboard.DispositionFailed
			}
		}
		// Nobody wraps up a call cut by a restart: its work is over as it
		// ends.
		err := db.inTx(ctx, func(t *tx) error {
			if err := t.saveCall(ctx, &c, "ended"); err != nil {
				return err
			}
			return t.saveCall(ctx, &c, switchboard.CallWrappedUp)
		})
		if err != nil {
			return 0, err
		}
	}
	return len(open), nil
}

// SubjectEvents implements switchboard.Store.
func (db *DB) SubjectEvents(ctx context.Context, tenantID int64, subjectType string, subjectID int64) ([]switchboard.Event, error) {
	rows, err := db.query(ctx, `SELECT id, tenant_id, seq, type, time, subject_type, subject_id, payload
		FROM events WHERE tenant_id = ? AND subject_type = ? AND subject_id = ? ORDER BY seq`, tenantID, subjectType, subjectID)
	if err != nil {
		return nil, fmt.Errorf("subject events: %w", err)
	}
	return scanEvents(rows)
}

// CallStats implements switchboard.Store. Handle time is talk time: wrap-up
// is the agent's, not the call's, and is not recorded per call yet.
func (db *DB) CallStats(ctx context.Context, tenantID, queueID int64, since, until time.Time, sl time.Duration) (switchboard.CallStats, error) {
	s := switchboard.CallStats{ServiceLevelSeconds: int(sl.Seconds())}
	q := `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN connected_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN disposition = ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN connected_at IS NOT NULL AND connected_at - COALESCE(queued_at, created_at) <= ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN connected_at IS NOT NULL THEN connected_at - COALESCE(queued_at, created_at) ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN connected_at IS NOT NULL THEN ended_at - connected_at ELSE 0 END), 0)
		FROM calls WHERE tenant_id = ? AND ended_at IS NOT NULL AND created_at >= ? AND created_at < ?`
	args := []any{switchboard.DispositionAbandoned, sl.Microseconds(), tenantID, micros(since), micros(until)}
	if queueID != 0 {
		q += " AND queue_id = ?"
		args = append(args, queueID)
	}
	var waitMicros, talkMicros int64
	if err := db.queryRow(ctx, q, args...).Scan(&s.Offered, &s.Answered, &s.Abandoned, &s.AnsweredInSL, &waitMicros, &talkMicros); err != nil {
		return s, fmt.Errorf("call stats: %w", err)
	}
	s.ServiceLevel = 1
	if s.Answered > 0 {
		s.ServiceLevel = float64(s.AnsweredInSL) / float64(s.Answered)
		s.ASASeconds = float64(waitMicros) / 1e6 / float64(s.Answered)
		s.AHTSeconds = float64(talkMicros) / 1e6 / float64(s.Answered)
	}
	if s.Offered > 0 {
		s.AbandonRate = float64(s.Abandoned) / float64(s.Offered)
	}
	return s, nil
}

// AddDNC implements switchboard.Store. Adding a number twice is a conflict.
func (db *DB) AddDNC(ctx context.Context, tenantID int64, number, reason string, expiresAt *time.Time) (switchboard.DNCNumber, error) {
	e164, err := phone.Normalize(number, "")
	if err != nil {
		return switchboard.DNCNumber{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"number": "is not a valid phone number"}}
	}
	if len(reason) > 500 {
		return switchboard.DNCNumber{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"reason": "must be at most 500 characters"}}
	}
	d := switchboard.DNCNumber{TenantID: tenantID, Number: e164, Reason: strings.TrimSpace(reason), ExpiresAt: expiresAt}
	err = db.inTx(ctx, func(t *tx) error {
		d.CreatedAt = t.now
		var expires any
		if expiresAt != nil {
			if !expiresAt.After(t.now) {
				return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"expires_at": "must be in the future"}}
			}
			at := expiresAt.UTC().Truncate(time.Microsecond)
			d.ExpiresAt, expires = &at, micros(at)
		}
		id, err := t.insert(ctx, "INSERT INTO dnc_numbers (tenant_id, number, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			tenantID, d.Number, d.Reason, micros(t.now), expires)
		if err != nil {
			return fmt.Errorf("add do-not-call number: %w", err)
		}
		d.ID = id
		return t.appendEvent(ctx, tenantID, switchboard.EventDNCAdded, "dnc", id, d)
	})
	return d, err
}

func scanDNC(s scanner) (switchboard.DNCNumber, error) {
	var d switchboard.DNCNumber
	var created int64
	var expires sql.NullInt64
	err := s.Scan(&d.ID, &d.TenantID, &d.Number, &d.Reason, &created, &expires)
	d.CreatedAt = fromMicros(created)
	if expires.Valid {
		at := fromMicros(expires.Int64)
		d.ExpiresAt = &at
	}
	return d, err
}

const dncCols = "id, tenant_id, number, reason, created_at, expires_at"

// DNCNumbers implements switchboard.Store.
func (db *DB) DNCNumbers(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.DNCNumber], error) {
	return listAll(ctx, db, "dnc_numbers", dncCols, scanDNC, func(d switchboard.DNCNumber) int64 { return d.ID }, tenantID, opt)
}

// RemoveDNC implements switchboard.Store.
func (db *DB) RemoveDNC(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "dnc_numbers", "dnc", switchboard.EventDNCRemoved, func(t *tx) (any, error) {
		return getOneTx(ctx, t, "dnc_numbers", dncCols, "dnc", scanDNC, tenantID, id)
	})
}

// IsDNC implements switchboard.Store.
func (db *DB) IsDNC(ctx context.Context, tenantID int64, number string) (bool, error) {
	var n int
	if err := db.queryRow(ctx, "SELECT COUNT(*) FROM dnc_numbers WHERE tenant_id = ? AND number = ? AND (expires_at IS NULL OR expires_at > ?)",
		tenantID, number, micros(time.Now())).Scan(&n); err != nil {
		return false, fmt.Errorf("check do-not-call list: %w", err)
	}
	return n > 0, nil
}

// ScheduledCalls returns every call still waiting for its scheduled time, of
// every tenant, for the engine to arm at start.
func (db *DB) ScheduledCalls(ctx context.Context) ([]switchboard.Call, error) {
	rows, err := db.read.QueryContext(ctx, db.rebind("SELECT "+callCols+" FROM calls WHERE ended_at IS NULL AND status = ? ORDER BY id"),
		switchboard.CallScheduled)
	if err != nil {
		return nil, fmt.Errorf("scheduled calls: %w", err)
	}
	defer rows.Close()
	var out []switchboard.Call
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("scheduled calls: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RecoverCall marks a failed call as recovered, because a callback it led to
// reached the customer, with its call.recovered event. Other calls are left
// as they are.
func (db *DB) RecoverCall(ctx context.Context, tenantID, id int64) error {
	return db.inTx(ctx, func(t *tx) error { return t.recoverCall(ctx, tenantID, id) })
}

// recoverCall is RecoverCall in t.
func (t *tx) recoverCall(ctx context.Context, tenantID, id int64) error {
	c, err := getOneTx(ctx, t, "calls", callCols, "call", scanCall, tenantID, id)
	if err != nil || c.Status != switchboard.CallFailed {
		return err
	}
	c.Status = switchboard.CallRecovered
	if _, err := t.exec(ctx, "UPDATE calls SET status = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
		c.Status, micros(t.now), tenantID, id); err != nil {
		return fmt.Errorf("recover call: %w", err)
	}
	return t.appendCallEvent(ctx, c, switchboard.EventCallRecovered)
}
