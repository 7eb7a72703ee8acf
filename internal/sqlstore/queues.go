package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"switchboard"
)

const queueBaseCols = `id, tenant_id, uuid, name, extension, strategy, timeout_seconds, retry_seconds, wrap_up_seconds,
	max_length, join_empty, leave_when_empty, ring_in_use, music_on_hold, service_level_seconds, channel, language,
	parent_id, created_at, updated_at, overflow_callback, max_wait_seconds, menu_type, hours, voicemail_enabled,
	callback_slot_minutes, callback_slot_capacity`

func scanQueue(s scanner) (switchboard.Queue, error) {
	var q switchboard.Queue
	var parent sql.NullInt64
	var created, updated int64
	var skills string
	var hours sql.NullString
	err := s.Scan(&q.ID, &q.TenantID, &q.UUID, &q.Name, &q.Extension, &q.Strategy, &q.TimeoutSeconds, &q.RetrySeconds,
		&q.WrapUpSeconds, &q.MaxLength, &q.JoinEmpty, &q.LeaveWhenEmpty, &q.RingInUse, &q.MusicOnHold,
		&q.ServiceLevelSeconds, &q.Channel, &q.Language, &parent, &created, &updated, &q.OverflowToCallback, &q.MaxWaitSeconds,
		&q.MenuType, &hours, &q.VoicemailEnabled, &q.CallbackSlotMinutes, &q.CallbackSlotCapacity, &skills)
	if err != nil {
		return q, err
	}
	if hours.Valid && hours.String != "" {
		q.Hours = new(switchboard.OperatingHours)
		if err := json.Unmarshal([]byte(hours.String), q.Hours); err != nil {
			return q, fmt.Errorf("queue %d hours: %w", q.ID, err)
		}
	}
	q.ParentID, q.CreatedAt, q.UpdatedAt = idPtr(parent), fromMicros(created), fromMicros(updated)
	if err := decodeList(skills, &q.RequiredSkills); err != nil {
		return q, fmt.Errorf("queue %d skills: %w", q.ID, err)
	}
	return q, nil
}

// queueHours is the hours column of a queue: its OperatingHours as JSON, or
// NULL when the queue is always open.
func queueHours(h *switchboard.OperatingHours) (any, error) {
	if h == nil {
		return nil, nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("queue hours: %w", err)
	}
	return string(b), nil
}

// checkQueueRefs keeps a queue's parent, skills and extension inside its tenant
// and its menu tree free of loops.
func (t *tx) checkQueueRefs(ctx context.Context, tenantID int64, q *switchboard.Queue) error {
	ids := make([]int64, len(q.RequiredSkills))
	for i, s := range q.RequiredSkills {
		ids[i] = s.SkillID
	}
	if err := t.checkOwned(ctx, tenantID, "skills", "required_skills", ids); err != nil {
		return err
	}
	if err := t.checkExtensionFree(ctx, tenantID, q.Extension, "queues", q.ID); err != nil {
		return err
	}
	return t.checkParent(ctx, tenantID, "queues", "queue", q.ID, q.ParentID)
}

func (t *tx) writeQueueSkills(ctx context.Context, q *switchboard.Queue) error {
	if _, err := t.exec(ctx, "DELETE FROM queue_skills WHERE queue_id = ?", q.ID); err != nil {
		return fmt.Errorf("clear queue skills: %w", err)
	}
	for _, s := range q.RequiredSkills {
		if _, err := t.exec(ctx, "INSERT INTO queue_skills (queue_id, skill_id, min_proficiency) VALUES (?, ?, ?)",
			q.ID, s.SkillID, s.MinProficiency); err != nil {
			return fmt.Errorf("add queue skill: %w", err)
		}
	}
	return nil
}

// CreateQueue implements switchboard.Store.
func (db *DB) CreateQueue(ctx context.Context, tenantID int64, q switchboard.Queue) (switchboard.Queue, error) {
	q.ID = 0
	q.Normalize()
	if err := q.Validate(); err != nil {
		return q, err
	}
	hours, err := queueHours(q.Hours)
	if err != nil {
		return q, err
	}
	err = db.inTx(ctx, func(t *tx) error {
		if err := t.checkQueueRefs(ctx, tenantID, &q); err != nil {
			return err
		}
		q.TenantID, q.UUID, q.CreatedAt, q.UpdatedAt = tenantID, uuid.NewString(), t.now, t.now
		id, err := t.insert(ctx, `INSERT INTO queues (tenant_id, uuid, name, extension, strategy, timeout_seconds,
			retry_seconds, wrap_up_seconds, max_length, join_empty, leave_when_empty, ring_in_use, music_on_hold,
			service_level_seconds, channel, language, parent_id, created_at, updated_at, overflow_callback, max_wait_seconds,
			menu_type, hours, voicemail_enabled, callback_slot_minutes, callback_slot_capacity)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tenantID, q.UUID, q.Name, q.Extension, q.Strategy, q.TimeoutSeconds, q.RetrySeconds, q.WrapUpSeconds,
			q.MaxLength, q.JoinEmpty, q.LeaveWhenEmpty, q.RingInUse, q.MusicOnHold, q.ServiceLevelSeconds, q.Channel,
			q.Language, nullID(q.ParentID), micros(t.now), micros(t.now), q.OverflowToCallback, q.MaxWaitSeconds,
			q.MenuType, hours, q.VoicemailEnabled, q.CallbackSlotMinutes, q.CallbackSlotCapacity)
		if err != nil {
			return fmt.Errorf("insert queue: %w", err)
		}
		q.ID = id
		if err := t.writeQueueSkills(ctx, &q); err != nil {
			return err
		}
		return t.appendEvent(ctx, tenantID, switchboard.EventQueueCreated, "queue", id, q)
	})
	return q, err
}

// Queue implements switchboard.Store.
func (db *DB) Queue(ctx context.Context, tenantID, id int64) (switchboard.Queue, error) {
	return getOne(ctx, db, "queues", db.queueCols, "queue", scanQueue, tenantID, id)
}

// Queues implements switchboard.Store.
func (db *DB) Queues(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.Queue], error) {
	return listAll(ctx, db, "queues", db.queueCols, scanQueue, func(q switchboard.Queue) int64 { return q.ID }, tenantID, opt)
}

// UpdateQueue implements switchboard.Store.
func (db *DB) UpdateQueue(ctx context.Context, tenantID int64, q switchboard.Queue) (switchboard.Queue, error) {
	return inTxValue(ctx, db, q, func(t *tx) (switchboard.Queue, error) { return t.updateQueue(ctx, tenantID, q) })
}

// UpdateQueueFunc implements switchboard.Store (see UpdateUserFunc).
func (db *DB) UpdateQueueFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.Queue) error) (switchboard.Queue, error) {
	return modify(ctx, db, "queues", "queue", tenantID, id,
		func(t *tx) (switchboard.Queue, error) {
			return getOneTx(ctx, t, "queues", db.queueCols, "queue", scanQueue, tenantID, id)
		}, fn,
		func(t *tx, q switchboard.Queue) (switchboard.Queue, error) {
			q.ID = id
			return t.updateQueue(ctx, tenantID, q)
		})
}

func (t *tx) updateQueue(ctx context.Context, tenantID int64, q switchboard.Queue) (switchboard.Queue, error) {
	q.Normalize()
	if err := q.Validate(); err != nil {
		return q, err
	}
	old, err := getOneTx(ctx, t, "queues", t.db.queueCols, "queue", scanQueue, tenantID, q.ID)
	if err != nil {
		return q, err
	}
	if err := t.checkQueueRefs(ctx, tenantID, &q); err != nil {
		return q, err
	}
	hours, err := queueHours(q.Hours)
	if err != nil {
		return q, err
	}
	q.TenantID, q.UUID, q.CreatedAt, q.UpdatedAt = tenantID, old.UUID, old.CreatedAt, t.now
	if _, err := t.exec(ctx, `UPDATE queues SET name = ?, extension = ?, strategy = ?, timeout_seconds = ?,
		retry_seconds = ?, wrap_up_seconds = ?, max_length = ?, join_empty = ?, leave_when_empty = ?, ring_in_use = ?,
		music_on_hold = ?, service_level_seconds = ?, channel = ?, language = ?, parent_id = ?, updated_at = ?,
		overflow_callback = ?, max_wait_seconds = ?, menu_type = ?, hours = ?, voicemail_enabled = ?,
		callback_slot_minutes = ?, callback_slot_capacity = ? WHERE tenant_id = ? AND id = ?`,
		q.Name, q.Extension, q.Strategy, q.TimeoutSeconds, q.RetrySeconds, q.WrapUpSeconds, q.MaxLength, q.JoinEmpty,
		q.LeaveWhenEmpty, q.RingInUse, q.MusicOnHold, q.ServiceLevelSeconds, q.Channel, q.Language,
		nullID(q.ParentID), micros(t.now), q.OverflowToCallback, q.MaxWaitSeconds, q.MenuType, hours, q.VoicemailEnabled,
		q.CallbackSlotMinutes, q.CallbackSlotCapacity, tenantID, q.ID); err != nil {
		return q, fmt.Errorf("update queue: %w", err)
	}
	if err := t.writeQueueSkills(ctx, &q); err != nil {
		return q, err
	}
	return q, t.appendEvent(ctx, tenantID, switchboard.EventQueueUpdated, "queue", q.ID, q)
}

// DeleteQueue implements switchboard.Store. Its members and skills go with it;
// numbers that pointed at it are left unassigned. A queue an IVR menu leads
// to, or a campaign dials for, is not deleted (CodeConflict naming them).
func (db *DB) DeleteQueue(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "queues", "queue", switchboard.EventQueueDeleted, func(t *tx) (any, error) {
		q, err := getOneTx(ctx, t, "queues", db.queueCols, "queue", scanQueue, tenantID, id)
		if err != nil {
			return q, err
		}
		if err := t.checkQueueCampaigns(ctx, tenantID, id); err != nil {
			return q, err
		}
		return q, t.checkQueueUnreferenced(ctx, tenantID, id)
	})
}

const memberCols = "m.queue_id, m.user_id, m.penalty, m.created_at, m.position"

func scanMember(s scanner) (switchboard.QueueMember, error) {
	var m switchboard.QueueMember
	var created int64
	err := s.Scan(&m.QueueID, &m.UserID, &m.Penalty, &created, &m.Position)
	m.CreatedAt = fromMicros(created)
	return m, err
}

// AddQueueMember implements switchboard.Store. Adding a user twice is a
// CodeConflict; deactivated users cannot join.
func (db *DB) AddQueueMember(ctx context.Context, tenantID int64, m switchboard.QueueMember) (switchboard.QueueMember, error) {
	err := db.inTx(ctx, func(t *tx) error {
		// The queue is checked before the input, so that a caller probing
		// another tenant's queue learns nothing but "not found"; it is
		// locked so that members added together get distinct positions.
		if err := t.lockRow(ctx, "queues", "queue", tenantID, m.QueueID); err != nil {
			return err
		}
		if err := m.Validate(); err != nil {
			return err
		}
		if err := t.checkOwned(ctx, tenantID, "users", "user_id", []int64{m.UserID}); err != nil {
			return err
		}
		var pos int64
		if err := t.queryRow(ctx, "SELECT COALESCE(MAX(position), 0) + 1 FROM queue_members WHERE queue_id = ?", m.QueueID).Scan(&pos); err != nil {
			return fmt.Errorf("member position: %w", err)
		}
		m.CreatedAt, m.Position = t.now, int(pos)
		if _, err := t.exec(ctx, "INSERT INTO queue_members (queue_id, user_id, penalty, position, created_at) VALUES (?, ?, ?, ?, ?)",
			m.QueueID, m.UserID, m.Penalty, pos, micros(t.now)); err != nil {
			if _, dup := uniqueViolation(err); dup {
				return &switchboard.Error{Code: switchboard.CodeConflict, Message: "user is already a member of the queue",
					Fields: map[string]string{"user_id": "is already a member of this queue"}}
			}
			return fmt.Errorf("add member: %w", err)
		}
		return t.appendEvent(ctx, tenantID, switchboard.EventQueueMemberAdded, "queue", m.QueueID, m)
	})
	return m, err
}

func (t *tx) member(ctx context.Context, tenantID, queueID, userID int64) (switchboard.QueueMember, error) {
	m, err := scanMember(t.queryRow(ctx, "SELECT "+memberCols+` FROM queue_members m JOIN queues q ON q.id = m.queue_id
		WHERE q.tenant_id = ? AND m.queue_id = ? AND m.user_id = ?`, tenantID, queueID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return m, switchboard.Errorf(switchboard.CodeNotFound, "user %d is not a member of queue %d", userID, queueID)
	}
	if err != nil {
		return m, fmt.Errorf("get member: %w", err)
	}
	return m, nil
}

// UpdateQueueMember implements switchboard.Store; only the penalty changes.
func (db *DB) UpdateQueueMember(ctx context.Context, tenantID int64, m switchboard.QueueMember) (switchboard.QueueMember, error) {
	if err := m.Validate(); err != nil {
		return m, err
	}
	err := db.inTx(ctx, func(t *tx) error {
		old, err := t.member(ctx, tenantID, m.QueueID, m.UserID)
		if err != nil {
			return err
		}
		m.CreatedAt, m.Position = old.CreatedAt, old.Position
		if _, err := t.exec(ctx, "UPDATE queue_members SET penalty = ? WHERE queue_id = ? AND user_id = ?",
			m.Penalty, m.QueueID, m.UserID); err != nil {
			return fmt.Errorf("update member: %w", err)
		}
		return t.appendEvent(ctx, tenantID, switchboard.EventQueueMemberUpdated, "queue", m.QueueID, m)
	})
	return m, err
}

// RemoveQueueMember implements switchboard.Store.
func (db *DB) RemoveQueueMember(ctx context.Context, tenantID, queueID, userID int64) error {
	return db.inTx(ctx, func(t *tx) error {
		m, err := t.member(ctx, tenantID, queueID, userID)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, "DELETE FROM queue_members WHERE queue_id = ? AND user_id = ?", queueID, userID); err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		return t.appendEvent(ctx, tenantID, switchboard.EventQueueMemberRemoved, "queue", queueID, m)
	})
}

// QueueMembers implements switchboard.Store, listing members in the order they
// joined.
func (db *DB) QueueMembers(ctx context.Context, tenantID, queueID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.QueueMember], error) {
	if _, err := getOne(ctx, db, "queues", "id", "queue", func(s scanner) (int64, error) {
		var id int64
		return id, s.Scan(&id)
	}, tenantID, queueID); err != nil {
		return switchboard.Page[switchboard.QueueMember]{}, err
	}
	q := listQuery{cols: memberCols, from: "FROM queue_members m WHERE m.queue_id = ?", args: []any{queueID}, key: "m.position"}
	return listPage(ctx, db, q, opt, scanMember, func(m switchboard.QueueMember) int64 { return int64(m.Position) })
}
