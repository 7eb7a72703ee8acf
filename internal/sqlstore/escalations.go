package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"switchboard"
)

// Conversation escalations (issue 17): a chat's requests for a human agent
// and the deflection the end user chose. Each write appends its event.

const escalationCols = `id, tenant_id, conversation_id, kind, reason, force_escalate, status, deflection_channel, created_at, updated_at`

func scanEscalation(s scanner) (switchboard.ConversationEscalation, error) {
	var e switchboard.ConversationEscalation
	var created, updated int64
	err := s.Scan(&e.ID, &e.TenantID, &e.ConversationID, &e.Kind, &e.Reason, &e.Force, &e.Status, &e.DeflectionChannel, &created, &updated)
	e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
	return e, err
}

// CreateEscalation implements switchboard.ConversationEscalationStore.
func (db *DB) CreateEscalation(ctx context.Context, tenantID int64, e switchboard.ConversationEscalation) (switchboard.ConversationEscalation, error) {
	e.ID, e.TenantID = 0, tenantID
	if err := e.Validate(); err != nil {
		return e, err
	}
	return inTxValue(ctx, db, e, func(t *tx) (switchboard.ConversationEscalation, error) {
		var one int
		err := t.queryRow(ctx, "SELECT 1 FROM conversations WHERE tenant_id = ? AND id = ?", tenantID, e.ConversationID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return e, notFound("conversation", e.ConversationID)
		}
		if err != nil {
			return e, fmt.Errorf("escalation: read conversation %d: %w", e.ConversationID, err)
		}
		e.CreatedAt, e.UpdatedAt = t.now, t.now
		id, err := t.insert(ctx, `INSERT INTO conversation_escalations (tenant_id, conversation_id, kind, reason, force_escalate, status,
			deflection_channel, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tenantID, e.ConversationID, e.Kind, e.Reason, e.Force, e.Status, e.DeflectionChannel, micros(t.now), micros(t.now))
		if err != nil {
			return e, fmt.Errorf("insert escalation: %w", err)
		}
		e.ID = id
		return e, t.appendEvent(ctx, tenantID, switchboard.EventConversationEscalated, "conversation_escalation", id, e)
	})
}

// Escalation implements switchboard.ConversationEscalationStore.
func (db *DB) Escalation(ctx context.Context, tenantID, id int64) (switchboard.ConversationEscalation, error) {
	return getOne(ctx, db, "conversation_escalations", escalationCols, "escalation", scanEscalation, tenantID, id)
}

// Escalations implements switchboard.ConversationEscalationStore.
func (db *DB) Escalations(ctx context.Context, tenantID, conversationID int64) ([]switchboard.ConversationEscalation, error) {
	rows, err := db.query(ctx, "SELECT "+escalationCols+" FROM conversation_escalations WHERE tenant_id = ? AND conversation_id = ? ORDER BY id",
		tenantID, conversationID)
	if err != nil {
		return nil, fmt.Errorf("list escalations: %w", err)
	}
	out, err := collect(rows, scanEscalation)
	if err != nil {
		return nil, fmt.Errorf("list escalations: %w", err)
	}
	return out, nil
}

// UpdateEscalationFunc implements switchboard.ConversationEscalationStore:
// fn may change the status, the deflection channel and the reason.
func (db *DB) UpdateEscalationFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.ConversationEscalation) error) (switchboard.ConversationEscalation, error) {
	var old switchboard.ConversationEscalation
	return modify(ctx, db, "conversation_escalations", "escalation", tenantID, id,
		func(t *tx) (switchboard.ConversationEscalation, error) {
			var err error
			old, err = getOneTx(ctx, t, "conversation_escalations", escalationCols, "escalation", scanEscalation, tenantID, id)
			return old, err
		},
		func(e *switchboard.ConversationEscalation) error {
			if err := fn(e); err != nil {
				return err
			}
			next := old
			next.Status, next.DeflectionChannel, next.Reason = e.Status, e.DeflectionChannel, e.Reason
			*e = next
			return e.Validate()
		},
		func(t *tx, e switchboard.ConversationEscalation) (switchboard.ConversationEscalation, error) {
			e.UpdatedAt = t.now
			if _, err := t.exec(ctx, "UPDATE conversation_escalations SET status = ?, deflection_channel = ?, reason = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
				e.Status, e.DeflectionChannel, e.Reason, micros(t.now), tenantID, id); err != nil {
				return e, fmt.Errorf("update escalation: %w", err)
			}
			return e, t.appendEvent(ctx, tenantID, switchboard.EventConversationEscalationUpdated, "conversation_escalation", id, e)
		})
}
