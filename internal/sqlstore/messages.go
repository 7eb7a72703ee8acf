package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"switchboard"
)

const messageCols = `id, tenant_id, uuid, direction, from_number, to_number, body, status, user_id, provider_id, error,
	created_at, sent_at, delivered_at`

func scanMessage(s scanner) (switchboard.Message, error) {
	var m switchboard.Message
	var user, sent, delivered sql.NullInt64
	var created int64
	err := s.Scan(&m.ID, &m.TenantID, &m.UUID, &m.Direction, &m.From, &m.To, &m.Body, &m.Status, &user, &m.ProviderID,
		&m.Error, &created, &sent, &delivered)
	m.UserID, m.CreatedAt, m.SentAt, m.DeliveredAt = idPtr(user), fromMicros(created), timePtr(sent), timePtr(delivered)
	return m, err
}

// messageEvent is the event of a message in status st.
// CreateMessage implements switchboard.Store.
func (db *DB) CreateMessage(ctx context.Context, m switchboard.Message) (switchboard.Message, error) {
	if err := m.Validate(); err != nil {
		return m, err
	}
	if m.TenantID == 0 {
		return m, errors.New("create message: tenant is required")
	}
	m.UUID = uuid.NewString()
	err := db.inTx(ctx, func(t *tx) error {
		if m.UserID != nil {
			if err := t.checkOwned(ctx, m.TenantID, "users", "user_id", []int64{*m.UserID}); err != nil {
				return err
			}
		}
		if m.Direction == switchboard.Outbound {
			if err := t.checkSMSLimits(ctx, m); err != nil {
				return err
			}
		}
		m.CreatedAt = t.now
		id, err := t.insert(ctx, `INSERT INTO messages (tenant_id, uuid, direction, from_number, to_number, body, status, user_id,
			provider_id, error, created_at, sent_at, delivered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.TenantID, m.UUID, m.Direction, m.From, m.To, m.Body, m.Status, nullID(m.UserID), m.ProviderID, m.Error,
			micros(t.now), nullMicros(m.SentAt), nullMicros(m.DeliveredAt), micros(t.now))
		if err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		m.ID = id
		return t.appendEvent(ctx, m.TenantID, switchboard.MessageEventType(m.Status), "message", id, switchboard.NewMessageEventPayload(m))
	})
	return m, err
}

// DuplicateSMSWindow is how long an identical SMS (same sender number,
// recipient, agent and text) is refused after the last: Voiso's rule against
// a double-clicked send.
const DuplicateSMSWindow = 2 * time.Second

// checkSMSLimits refuses an agent's outbound SMS m, with CodeRateLimited
// naming "to", when an identical one was stored within DuplicateSMSWindow,
// or when the agent has sent the tenant's daily cap
// (Tenant.SMSDailyPerRecipient) to the same number since midnight in the
// tenant's time zone. Both are Voiso's rules for agents: a message without
// one (an integration's, which may well repeat itself) is not checked, so
// the dialects that send so behave as before. Messages that failed count
// for neither: they reached no one. It runs in the transaction that inserts
// m, serialized per (tenant, agent, recipient), so two sends racing cannot
// both pass: SQLite's single writer does that by itself, PostgreSQL takes an
// advisory lock held until the commit.
func (t *tx) checkSMSLimits(ctx context.Context, m switchboard.Message) error {
	if m.UserID == nil {
		return nil
	}
	user := *m.UserID
	if err := t.serialize(ctx, fmt.Sprintf("sms/%d/%s", user, m.To), m.TenantID); err != nil {
		return err
	}
	var dup int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM messages WHERE tenant_id = ? AND user_id = ? AND to_number = ?
		AND created_at > ? AND direction = ? AND status <> ? AND from_number = ? AND body = ?`,
		m.TenantID, user, m.To, micros(t.now.Add(-DuplicateSMSWindow)), string(switchboard.Outbound), string(switchboard.MessageFailed),
		m.From, m.Body).Scan(&dup); err != nil {
		return fmt.Errorf("check duplicate SMS: %w", err)
	}
	if dup > 0 {
		return &switchboard.Error{Code: switchboard.CodeRateLimited, Message: "the same message was just sent to this number",
			Fields: map[string]string{"to": "was sent the same message less than 2 seconds ago"}}
	}
	var limit int
	var zone string
	if err := t.queryRow(ctx, "SELECT sms_daily_per_recipient, timezone FROM tenants WHERE id = ?", m.TenantID).Scan(&limit, &zone); err != nil {
		return fmt.Errorf("check SMS daily cap: %w", err)
	}
	if limit == 0 {
		return nil
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC // Validate admits only zones that load; a zone the system lost counts in UTC
	}
	local := t.now.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	var sent int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM messages WHERE tenant_id = ? AND user_id = ? AND to_number = ?
		AND created_at >= ? AND direction = ? AND status <> ?`,
		m.TenantID, user, m.To, micros(midnight), string(switchboard.Outbound), string(switchboard.MessageFailed)).Scan(&sent); err != nil {
		return fmt.Errorf("check SMS daily cap: %w", err)
	}
	if sent >= limit {
		return &switchboard.Error{Code: switchboard.CodeRateLimited,
			Message: fmt.Sprintf("this agent has sent the %d messages a day allowed to this number", limit),
			Fields:  map[string]string{"to": fmt.Sprintf("has had %d messages from this agent today, the daily limit", sent)}}
	}
	return nil
}

// UpdateMessage implements switchboard.Store.
func (db *DB) UpdateMessage(ctx context.Context, m switchboard.Message) (switchboard.Message, error) {
	err := db.inTx(ctx, func(t *tx) error {
		old, err := getOneTx(ctx, t, "messages", messageCols, "message", scanMessage, m.TenantID, m.ID)
		if err != nil {
			return err
		}
		old.Status, old.ProviderID, old.Error, old.SentAt, old.DeliveredAt = m.Status, m.ProviderID, m.Error, m.SentAt, m.DeliveredAt
		if _, err := t.exec(ctx, `UPDATE messages SET status = ?, provider_id = ?, error = ?, sent_at = ?, delivered_at = ?,
			updated_at = ? WHERE tenant_id = ? AND id = ?`, old.Status, old.ProviderID, old.Error, nullMicros(old.SentAt),
			nullMicros(old.DeliveredAt), micros(t.now), m.TenantID, m.ID); err != nil {
			return fmt.Errorf("update message: %w", err)
		}
		m = old
		return t.appendEvent(ctx, m.TenantID, switchboard.MessageEventType(m.Status), "message", m.ID, switchboard.NewMessageEventPayload(m))
	})
	return m, err
}

// Message implements switchboard.Store.
func (db *DB) Message(ctx context.Context, tenantID, id int64) (switchboard.Message, error) {
	return getOne(ctx, db, "messages", messageCols, "message", scanMessage, tenantID, id)
}

// MessageByUUID implements switchboard.RecordStore.
func (db *DB) MessageByUUID(ctx context.Context, tenantID int64, id string) (switchboard.Message, error) {
	m, err := scanMessage(db.queryRow(ctx, "SELECT "+messageCols+" FROM messages WHERE tenant_id = ? AND uuid = ?", tenantID, id))
	if errors.Is(err, sql.ErrNoRows) || id == "" {
		return switchboard.Message{}, switchboard.Errorf(switchboard.CodeNotFound, "message %s not found", switchboard.Echo(id))
	}
	if err != nil {
		return m, fmt.Errorf("get message: %w", err)
	}
	return m, nil
}

// MessageByProviderID implements switchboard.Store.
func (db *DB) MessageByProviderID(ctx context.Context, tenantID int64, providerID string) (switchboard.Message, error) {
	m, err := scanMessage(db.queryRow(ctx, "SELECT "+messageCols+" FROM messages WHERE tenant_id = ? AND provider_id = ?", tenantID, providerID))
	if errors.Is(err, sql.ErrNoRows) || providerID == "" {
		return m, switchboard.Errorf(switchboard.CodeNotFound, "no message with provider id %q", providerID)
	}
	if err != nil {
		return m, fmt.Errorf("get message: %w", err)
	}
	return m, nil
}

// Messages implements switchboard.Store.
func (db *DB) Messages(ctx context.Context, tenantID int64, f switchboard.MessageFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.Message], error) {
	q := listQuery{cols: messageCols, from: "FROM messages WHERE tenant_id = ?", args: []any{tenantID}, key: "id", desc: true}
	if f.Direction != "" {
		q.from += " AND direction = ?"
		q.args = append(q.args, f.Direction)
	}
	if f.Status != "" {
		q.from += " AND status = ?"
		q.args = append(q.args, f.Status)
	}
	if f.UserID != 0 {
		q.from += " AND user_id = ?"
		q.args = append(q.args, f.UserID)
	}
	if f.Number != "" {
		q.from += " AND (from_number = ? OR to_number = ?)"
		q.args = append(q.args, f.Number, f.Number)
	}
	return listPage(ctx, db, q, opt, scanMessage, func(m switchboard.Message) int64 { return m.ID })
}

// NumberOwner implements switchboard.Store. Like AuthenticateKey it is not
// scoped by tenant: the number is what tells the tenant.
func (db *DB) NumberOwner(ctx context.Context, number string) (switchboard.PhoneNumber, error) {
	n, err := scanNumber(db.queryRow(ctx, "SELECT "+numberCols+" FROM phone_numbers WHERE number = ?", number))
	if errors.Is(err, sql.ErrNoRows) {
		return n, switchboard.Errorf(switchboard.CodeNotFound, "no tenant has the number %s", switchboard.Echo(number))
	}
	if err != nil {
		return n, fmt.Errorf("number owner: %w", err)
	}
	return n, nil
}
