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

// Conversation messages and attachments. A message's seq is its
// conversation's last_seq + 1, taken and written back in the insert's
// transaction with the conversation's row locked (PostgreSQL) or in the one
// writer (SQLite), so the numbers are gapless and never repeat however many
// senders race; UNIQUE(conversation_id, seq) backs that up.

const convMessageCols = `id, uuid, tenant_id, conversation_id, seq, direction, kind, text, attachment_id, template, agent_id, status,
	error, provider_id, client_id, created_at, updated_at, read_at`

func scanConvMessage(s scanner) (switchboard.ConversationMessage, error) {
	var m switchboard.ConversationMessage
	var direction, kind, status string
	var template sql.NullString
	var attachment, agent, read sql.NullInt64
	var created, updated int64
	if err := s.Scan(&m.ID, &m.UUID, &m.TenantID, &m.ConversationID, &m.Seq, &direction, &kind, &m.Text, &attachment, &template, &agent,
		&status, &m.Error, &m.ProviderID, &m.ClientID, &created, &updated, &read); err != nil {
		return m, err
	}
	m.Direction, m.Kind, m.Status = switchboard.Direction(direction), switchboard.MessageKind(kind), switchboard.ReceiptStatus(status)
	m.AttachmentID, m.AgentID, m.ReadAt = idPtr(attachment), idPtr(agent), timePtr(read)
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	if template.Valid && template.String != "" {
		m.Template = &switchboard.TemplateUse{}
		if err := json.Unmarshal([]byte(template.String), m.Template); err != nil {
			return m, fmt.Errorf("decode stored template use: %w", err)
		}
	}
	return m, nil
}

func validReceipt(s switchboard.ReceiptStatus) bool {
	switch s {
	case switchboard.ReceiptQueued, switchboard.ReceiptSent, switchboard.ReceiptDelivered, switchboard.ReceiptRead,
		switchboard.ReceiptFailed, switchboard.ReceiptReceived:
		return true
	}
	return false
}

// internalKind says whether a message of kind k stays inside Switchboard
// (notes, activity lines): it may be added after the end, and it neither
// reaches nor comes from the end user.
func internalKind(k switchboard.MessageKind) bool {
	return k == switchboard.KindNote || k == switchboard.KindActivity
}

// AddMessage implements switchboard.ConversationStore. Besides LastSeq, the
// message moves the conversation's LastInboundAt (an inbound message) or
// LastOutboundAt (an outbound one that reaches the end user: not a note or
// activity line), and an agent's first such message sets its
// FirstResponseAt, before fn runs.
func (db *DB) AddMessage(ctx context.Context, tenantID int64, m switchboard.ConversationMessage, fn func(*switchboard.Conversation) (switchboard.ConversationUpdate, error)) (switchboard.ConversationMessage, switchboard.Conversation, bool, error) {
	if err := m.Validate(); err != nil {
		return m, switchboard.Conversation{}, false, err
	}
	var msg switchboard.ConversationMessage
	var conv switchboard.Conversation
	var duplicate bool
	err := db.inTx(ctx, func(t *tx) error {
		duplicate = false
		if err := t.lockRow(ctx, "conversations", "conversation", tenantID, m.ConversationID); err != nil {
			return err
		}
		c, err := t.conversation(ctx, tenantID, m.ConversationID)
		if err != nil {
			return err
		}
		if m.ClientID != "" {
			stored, err := scanConvMessage(t.queryRow(ctx, "SELECT "+convMessageCols+" FROM conversation_messages WHERE conversation_id = ? AND client_id = ? AND client_id <> ''",
				c.ID, m.ClientID))
			switch {
			case err == nil:
				msg, conv, duplicate = stored, c, true
				return nil
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("find message by client id: %w", err)
			}
		}
		msg, conv, err = t.addMessage(ctx, tenantID, &c, m, fn)
		return err
	})
	if err != nil {
		return m, switchboard.Conversation{}, false, err
	}
	return msg, conv, duplicate, nil
}

// addMessage stores m in c, whose row t has locked (or just inserted), and
// writes c back with fn's changes and their events. m has been validated.
func (t *tx) addMessage(ctx context.Context, tenantID int64, c *switchboard.Conversation, m switchboard.ConversationMessage, fn func(*switchboard.Conversation) (switchboard.ConversationUpdate, error)) (switchboard.ConversationMessage, switchboard.Conversation, error) {
	if c.Status.Ended() && !internalKind(m.Kind) {
		return m, *c, switchboard.Errorf(switchboard.CodeConflict, "conversation %d is %s", c.ID, c.Status)
	}
	if m.Status == "" {
		switch {
		case internalKind(m.Kind):
			m.Status = switchboard.ReceiptSent
		case m.Direction == switchboard.Inbound:
			m.Status = switchboard.ReceiptReceived
		default:
			m.Status = switchboard.ReceiptQueued
		}
	}
	if !validReceipt(m.Status) {
		return m, *c, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"status": "must be queued, sent, delivered, read, failed or received"}}
	}
	if m.AgentID != nil {
		if err := t.checkOwned(ctx, tenantID, "users", "agent_id", []int64{*m.AgentID}); err != nil {
			return m, *c, err
		}
	}
	if m.AttachmentID != nil {
		if err := t.checkOwned(ctx, tenantID, "attachments", "attachment_id", []int64{*m.AttachmentID}); err != nil {
			return m, *c, err
		}
	}
	var template any
	if m.Template != nil {
		if err := t.checkOwned(ctx, tenantID, "message_templates", "template.template_id", []int64{m.Template.TemplateID}); err != nil {
			return m, *c, err
		}
		b, err := json.Marshal(m.Template)
		if err != nil {
			return m, *c, fmt.Errorf("encode template use: %w", err)
		}
		template = string(b)
	}
	m.ID, m.UUID, m.TenantID, m.ConversationID, m.Seq = 0, uuid.NewString(), tenantID, c.ID, c.LastSeq+1
	m.CreatedAt, m.UpdatedAt, m.ReadAt = t.now, t.now, nil
	if m.Status == switchboard.ReceiptRead {
		now := t.now
		m.ReadAt = &now
	}
	id, err := t.insert(ctx, `INSERT INTO conversation_messages (uuid, tenant_id, conversation_id, seq, direction, kind, text,
		attachment_id, template, agent_id, status, error, provider_id, client_id, created_at, updated_at, read_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.UUID, tenantID, c.ID, m.Seq, string(m.Direction), string(m.Kind),
		m.Text, nullID(m.AttachmentID), template, nullID(m.AgentID), string(m.Status), m.Error, m.ProviderID, m.ClientID,
		micros(t.now), micros(t.now), nullMicros(m.ReadAt))
	if err != nil {
		return m, *c, fmt.Errorf("insert conversation message: %w", err)
	}
	m.ID = id

	// The conversation as the message leaves it, then as fn does.
	base := *c
	base.LastSeq = m.Seq
	next := base
	now := t.now
	if !internalKind(m.Kind) {
		if m.Direction == switchboard.Inbound {
			next.LastInboundAt = &now
		} else {
			next.LastOutboundAt = &now
			if m.AgentID != nil && next.FirstResponseAt == nil {
				next.FirstResponseAt = &now
			}
		}
	}
	var upd switchboard.ConversationUpdate
	if fn != nil {
		if upd, err = fn(&next); err != nil {
			return m, *c, err
		}
	}
	if err := t.writeConversation(ctx, &base, &next); err != nil {
		return m, *c, err
	}
	if err := t.messageEvent(ctx, m, next); err != nil {
		return m, *c, err
	}
	if upd.Event != "" {
		if err := t.conversationEvent(ctx, upd.Event, next); err != nil {
			return m, *c, err
		}
	}
	return m, next, nil
}

// messageEvent appends message.<status> for m of conversation c, with the
// conversation's agent, the message's sender, the end user and the channel
// profile named as they are now.
func (t *tx) messageEvent(ctx context.Context, m switchboard.ConversationMessage, c switchboard.Conversation) error {
	typ := switchboard.ConversationMessageEvent(m.Status)
	end := switchboard.NewEndUserRef(c)
	p := switchboard.ConversationMessagePayload{V: switchboard.EventPayloadVersion, Message: m, ConversationID: c.ID,
		Channel: c.Channel, QueueID: c.QueueID, AgentID: c.AgentID, EndUserID: c.EndUser.ID, ConversationUUID: c.UUID, EndUser: &end}
	var err error
	if p.Agent, err = t.userRef(ctx, c.TenantID, c.AgentID); err != nil {
		return fmt.Errorf("event %s: %w", typ, err)
	}
	if p.Sender, err = t.userRef(ctx, c.TenantID, m.AgentID); err != nil {
		return fmt.Errorf("event %s: %w", typ, err)
	}
	if p.Profile, err = t.profileRef(ctx, c.TenantID, c.ProfileID); err != nil {
		return fmt.Errorf("event %s: %w", typ, err)
	}
	return t.appendEvent(ctx, m.TenantID, typ, "conversation_message", m.ID, p)
}

// ConversationMessage implements switchboard.ConversationStore.
func (db *DB) ConversationMessage(ctx context.Context, tenantID, id int64) (switchboard.ConversationMessage, error) {
	return getOne(ctx, db, "conversation_messages", convMessageCols, "message", scanConvMessage, tenantID, id)
}

// MaxMessagesPage bounds a page of ConversationMessages.
const MaxMessagesPage = 1000

// ConversationMessages implements switchboard.ConversationStore.
func (db *DB) ConversationMessages(ctx context.Context, tenantID, conversationID, afterSeq int64, limit int) ([]switchboard.ConversationMessage, error) {
	if limit < 1 || limit > MaxMessagesPage {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"limit": "must be between 1 and 1000"}}
	}
	rows, err := db.query(ctx, "SELECT "+convMessageCols+` FROM conversation_messages
		WHERE tenant_id = ? AND conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?`, tenantID, conversationID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("conversation messages: %w", err)
	}
	out, err := collect(rows, scanConvMessage)
	if err != nil {
		return nil, fmt.Errorf("conversation messages: %w", err)
	}
	if len(out) == 0 {
		// None: tell an empty page of a conversation from a missing one.
		var id int64
		err := db.queryRow(ctx, "SELECT id FROM conversations WHERE tenant_id = ? AND id = ?", tenantID, conversationID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("conversation", conversationID)
		}
		if err != nil {
			return nil, fmt.Errorf("conversation messages: %w", err)
		}
		return []switchboard.ConversationMessage{}, nil
	}
	return out, nil
}

// MessageByProvider implements switchboard.ConversationStore. Should a
// provider reuse an id, the newest message with it is the one.
func (db *DB) MessageByProvider(ctx context.Context, tenantID int64, providerID string) (switchboard.ConversationMessage, error) {
	m, err := scanConvMessage(db.queryRow(ctx, "SELECT "+convMessageCols+` FROM conversation_messages
		WHERE tenant_id = ? AND provider_id = ? AND provider_id <> '' AND direction = 'outbound' ORDER BY id DESC LIMIT 1`, tenantID, providerID))
	if errors.Is(err, sql.ErrNoRows) {
		return m, switchboard.Errorf(switchboard.CodeNotFound, "no message with provider id %s", switchboard.Echo(providerID))
	}
	if err != nil {
		return m, fmt.Errorf("get message by provider id: %w", err)
	}
	return m, nil
}

// SetMessageStatus implements switchboard.ConversationStore.
func (db *DB) SetMessageStatus(ctx context.Context, tenantID, id int64, status switchboard.ReceiptStatus, providerID, errText string) (switchboard.ConversationMessage, error) {
	if !validReceipt(status) {
		return switchboard.ConversationMessage{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"status": "must be queued, sent, delivered, read, failed or received"}}
	}
	return inTxValue(ctx, db, switchboard.ConversationMessage{}, func(t *tx) (switchboard.ConversationMessage, error) {
		if err := t.lockRow(ctx, "conversation_messages", "message", tenantID, id); err != nil {
			return switchboard.ConversationMessage{}, err
		}
		m, err := getOneTx(ctx, t, "conversation_messages", convMessageCols, "message", scanConvMessage, tenantID, id)
		if err != nil || !m.Status.Advances(status) {
			return m, err
		}
		m.Status, m.UpdatedAt = status, t.now
		if providerID != "" {
			m.ProviderID = providerID
		}
		if errText != "" {
			m.Error = errText
		}
		if status == switchboard.ReceiptRead {
			now := t.now
			m.ReadAt = &now
		}
		if _, err := t.exec(ctx, `UPDATE conversation_messages SET status = ?, provider_id = ?, error = ?, read_at = ?, updated_at = ?
			WHERE tenant_id = ? AND id = ?`, string(m.Status), m.ProviderID, m.Error, nullMicros(m.ReadAt), micros(t.now),
			tenantID, id); err != nil {
			return m, fmt.Errorf("update message status: %w", err)
		}
		c, err := t.conversation(ctx, tenantID, m.ConversationID)
		if err != nil {
			return m, err
		}
		return m, t.messageEvent(ctx, m, c)
	})
}

const attachmentCols = `id, tenant_id, uuid, conversation_id, kind, content_type, name, size, sha256, status, blob_key, token_hash,
	expires_at, created_at, ready_at`

func scanAttachment(s scanner) (switchboard.Attachment, error) {
	var a switchboard.Attachment
	var kind string
	var expires, created int64
	var ready sql.NullInt64
	err := s.Scan(&a.ID, &a.TenantID, &a.UUID, &a.ConversationID, &kind, &a.ContentType, &a.Name, &a.Size, &a.SHA256, &a.Status,
		&a.Key, &a.TokenHash, &expires, &created, &ready)
	a.Kind, a.ExpiresAt, a.CreatedAt, a.ReadyAt = switchboard.MessageKind(kind), fromMicros(expires), fromMicros(created), timePtr(ready)
	return a, err
}

// CreateAttachment implements switchboard.ConversationStore. Attachments are
// written without events: no cached route shows them, and the message that
// sends one has its own.
func (db *DB) CreateAttachment(ctx context.Context, tenantID int64, a switchboard.Attachment) (switchboard.Attachment, error) {
	p := switchboard.Problems{}
	if _, ok := switchboard.AttachmentLimits[a.Kind]; !ok {
		p.Add("kind", "must be photo, video or file")
	}
	if len(a.TokenHash) == 0 {
		p.Add("token_hash", "is required")
	}
	if a.ExpiresAt.IsZero() {
		p.Add("expires_at", "is required")
	}
	if len(a.Name) > 255 {
		p.Add("name", "must be at most 255 characters")
	}
	if len(a.ContentType) > 255 {
		p.Add("content_type", "must be at most 255 characters")
	}
	if err := p.Err(); err != nil {
		return a, err
	}
	a.ID, a.TenantID, a.UUID, a.Status, a.Size, a.SHA256, a.ReadyAt = 0, tenantID, uuid.NewString(), switchboard.AttachmentPending, 0, "", nil
	return inTxValue(ctx, db, a, func(t *tx) (switchboard.Attachment, error) {
		a := a
		if err := t.lockRow(ctx, "conversations", "conversation", tenantID, a.ConversationID); err != nil {
			return a, err
		}
		a.CreatedAt = t.now
		id, err := t.insert(ctx, `INSERT INTO attachments (tenant_id, uuid, conversation_id, kind, content_type, name, size, sha256,
			status, blob_key, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, '', ?, ?, ?, ?, ?)`,
			tenantID, a.UUID, a.ConversationID, string(a.Kind), a.ContentType, a.Name, a.Status, a.Key, a.TokenHash,
			micros(a.ExpiresAt), micros(t.now))
		if err != nil {
			return a, fmt.Errorf("insert attachment: %w", err)
		}
		a.ID = id
		a.ExpiresAt = fromMicros(micros(a.ExpiresAt))
		return a, nil
	})
}

// Attachment implements switchboard.ConversationStore.
func (db *DB) Attachment(ctx context.Context, tenantID, id int64) (switchboard.Attachment, error) {
	return getOne(ctx, db, "attachments", attachmentCols, "attachment", scanAttachment, tenantID, id)
}

// AttachmentByToken implements switchboard.ConversationStore. It finds the
// attachment whatever its status and expiry; the caller judges those.
func (db *DB) AttachmentByToken(ctx context.Context, tokenHash []byte) (switchboard.Attachment, error) {
	a, err := scanAttachment(db.queryRow(ctx, "SELECT "+attachmentCols+" FROM attachments WHERE token_hash = ?", tokenHash))
	if errors.Is(err, sql.ErrNoRows) || len(tokenHash) == 0 {
		return a, &switchboard.Error{Code: switchboard.CodeNotFound, Message: "no attachment has this upload token"}
	}
	if err != nil {
		return a, fmt.Errorf("get attachment by token: %w", err)
	}
	return a, nil
}

// CompleteAttachment implements switchboard.ConversationStore. Only a pending
// attachment completes: a second upload answers CodeConflict, so two racing
// uploads of one token cannot both win.
func (db *DB) CompleteAttachment(ctx context.Context, tenantID, id int64, size int64, sha256, key string) (switchboard.Attachment, error) {
	return inTxValue(ctx, db, switchboard.Attachment{}, func(t *tx) (switchboard.Attachment, error) {
		res, err := t.exec(ctx, `UPDATE attachments SET status = ?, size = ?, sha256 = ?, blob_key = ?, ready_at = ?
			WHERE tenant_id = ? AND id = ? AND status = ?`, switchboard.AttachmentReady, size, sha256, key, micros(t.now),
			tenantID, id, switchboard.AttachmentPending)
		if err != nil {
			return switchboard.Attachment{}, fmt.Errorf("complete attachment: %w", err)
		}
		a, err := getOneTx(ctx, t, "attachments", attachmentCols, "attachment", scanAttachment, tenantID, id)
		if err != nil {
			return a, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return a, switchboard.Errorf(switchboard.CodeConflict, "attachment %d is already uploaded", id)
		}
		return a, nil
	})
}
