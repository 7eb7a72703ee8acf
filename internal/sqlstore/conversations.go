package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"switchboard"
)

// Conversations (issue 15): one row each, joined to its end user on every
// read; context, flags and transfers are JSON. A partial unique index keeps
// one conversation not ended per address and profile of a channel, and the
// row's last_seq hands out its messages' gapless sequence numbers
// (convmessages.go). Every change writes its conversation.* event, whose
// payload is the conversation as it stands after the change.

// endedStatuses is the SQL list of the statuses ConversationStatus.Ended
// reports; it must match the partial indexes of migration 0017 word for word,
// or the planners will not use them.
const endedStatuses = "('finished', 'abandoned', 'deflected')"

const endUserCols = "id, tenant_id, identifier, name, phone, email, language, contact_id, created_at, updated_at"

func scanEndUser(s scanner) (switchboard.EndUser, error) {
	var u switchboard.EndUser
	var contact sql.NullInt64
	var created, updated int64
	err := s.Scan(&u.ID, &u.TenantID, &u.Identifier, &u.Name, &u.Phone, &u.Email, &u.Language, &contact, &created, &updated)
	u.ContactID, u.CreatedAt, u.UpdatedAt = idPtr(contact), fromMicros(created), fromMicros(updated)
	return u, err
}

// conversationSelect reads conversations (c) with their end users (u); the
// caller adds the WHERE clause.
const conversationSelect = `SELECT c.id, c.tenant_id, c.uuid, c.channel, c.status, c.queue_id, c.agent_id, c.address, c.via,
	c.language, c.profile_id, c.context, c.flags, c.ended_by, c.end_reason, c.deflection, c.transfers, c.previous_id, c.last_seq,
	c.token_hash, c.created_at, c.queued_at, c.assigned_at, c.first_response_at, c.last_inbound_at, c.last_outbound_at,
	c.ended_at, c.updated_at, u.id, u.tenant_id, u.identifier, u.name, u.phone, u.email, u.language, u.contact_id,
	u.created_at, u.updated_at
	FROM conversations c JOIN end_users u ON u.id = c.end_user_id`

// conversationListCols and conversationListFrom split conversationSelect
// for listPage.
var (
	conversationListCols = strings.TrimPrefix(conversationSelect[:strings.Index(conversationSelect, "\n\tFROM")], "SELECT ")
	conversationListFrom = strings.TrimSpace(conversationSelect[strings.Index(conversationSelect, "\n\tFROM"):])
)

func scanConversation(s scanner) (switchboard.Conversation, error) {
	var c switchboard.Conversation
	var channel, status, ctxJSON, flags, transfers string
	var queue, agent, profile, previous, contact sql.NullInt64
	var queued, assigned, first, inbound, outbound, ended sql.NullInt64
	var created, updated, uCreated, uUpdated int64
	u := &c.EndUser
	if err := s.Scan(&c.ID, &c.TenantID, &c.UUID, &channel, &status, &queue, &agent, &c.Address, &c.Via, &c.Language,
		&profile, &ctxJSON, &flags, &c.EndedBy, &c.EndReason, &c.Deflection, &transfers, &previous, &c.LastSeq, &c.TokenHash,
		&created, &queued, &assigned, &first, &inbound, &outbound, &ended, &updated,
		&u.ID, &u.TenantID, &u.Identifier, &u.Name, &u.Phone, &u.Email, &u.Language, &contact, &uCreated, &uUpdated); err != nil {
		return c, err
	}
	c.Channel, c.Status = switchboard.ConversationChannel(channel), switchboard.ConversationStatus(status)
	c.QueueID, c.AgentID, c.ProfileID, c.PreviousID = idPtr(queue), idPtr(agent), idPtr(profile), idPtr(previous)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	c.QueuedAt, c.AssignedAt, c.FirstResponseAt = timePtr(queued), timePtr(assigned), timePtr(first)
	c.LastInboundAt, c.LastOutboundAt, c.EndedAt = timePtr(inbound), timePtr(outbound), timePtr(ended)
	u.ContactID, u.CreatedAt, u.UpdatedAt = idPtr(contact), fromMicros(uCreated), fromMicros(uUpdated)
	if len(c.TokenHash) == 0 {
		c.TokenHash = nil
	}
	if err := json.Unmarshal([]byte(ctxJSON), &c.Context); err != nil {
		return c, fmt.Errorf("decode stored context: %w", err)
	}
	if err := decodeList(flags, &c.Flags); err != nil {
		return c, err
	}
	return c, decodeList(transfers, &c.Transfers)
}

// conversationJSON encodes the JSON columns of c: context, flags, transfers.
func conversationJSON(c *switchboard.Conversation) (ctxJSON, flags, transfers string, err error) {
	b, err := json.Marshal(c.Context)
	if err != nil {
		return "", "", "", fmt.Errorf("encode context: %w", err)
	}
	f, _ := json.Marshal(c.Flags)
	if c.Flags == nil {
		f = []byte("[]")
	}
	tr, _ := json.Marshal(c.Transfers)
	if c.Transfers == nil {
		tr = []byte("[]")
	}
	return string(b), string(f), string(tr), nil
}

// validateConversation reports every invalid field of c that the store can
// judge; the rules of the lifecycle are the service's.
func validateConversation(c *switchboard.Conversation) error {
	p := switchboard.Problems{}
	if !switchboard.ValidConversationChannel(c.Channel) {
		p.Add("channel", "must be web_chat, sms, whatsapp or another lowercase channel name")
	}
	switch c.Status {
	case switchboard.ConversationQueued, switchboard.ConversationAssigned, switchboard.ConversationInProgress,
		switchboard.ConversationDismissed, switchboard.ConversationFinished, switchboard.ConversationAbandoned,
		switchboard.ConversationDeflected:
	default:
		p.Add("status", "must be queued, assigned, in_progress, dismissed, finished, abandoned or deflected")
	}
	c.Address = strings.TrimSpace(c.Address)
	if c.Address == "" {
		p.Add("address", "is required: the end user's number or identifier")
	}
	for field, v := range map[string]struct {
		s   string
		max int
	}{"address": {c.Address, 200}, "via": {c.Via, 200}, "language": {c.Language, 35}, "end_reason": {c.EndReason, 200},
		"deflection": {c.Deflection, 32}} {
		if len(v.s) > v.max {
			p.Add(field, fmt.Sprintf("must be at most %d characters", v.max))
		}
	}
	for _, f := range c.Flags {
		if strings.TrimSpace(f) == "" || len(f) > 64 {
			p.Add("customer_flags", "must be non-empty words of at most 64 characters")
			break
		}
	}
	if err := c.EndUser.Validate(); err != nil {
		var se *switchboard.Error
		if errors.As(err, &se) {
			for k, v := range se.Fields {
				p.Add(k, v)
			}
		}
	}
	return p.Err()
}

// upsertEndUser creates the tenant's end user with u.Identifier or updates
// the non-empty fields of the one that exists; changed says whether the row
// was created or changed. The row stays locked until t ends.
func (t *tx) upsertEndUser(ctx context.Context, tenantID int64, u switchboard.EndUser) (out switchboard.EndUser, changed bool, err error) {
	if err := u.Validate(); err != nil {
		return u, false, err
	}
	if u.ContactID != nil {
		if err := t.checkOwned(ctx, tenantID, "contacts", "end_user.contact_id", []int64{*u.ContactID}); err != nil {
			return u, false, err
		}
	}
	q := "SELECT " + endUserCols + " FROM end_users WHERE tenant_id = ? AND identifier = ?"
	if t.db.engine == Postgres {
		q += " FOR NO KEY UPDATE"
	}
	old, err := scanEndUser(t.queryRow(ctx, q, tenantID, u.Identifier))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// A concurrent creation of the same identifier (PostgreSQL) is
		// merged into, as an update, by the ON CONFLICT clause instead of
		// failing.
		out, err = scanEndUser(t.queryRow(ctx, `INSERT INTO end_users (tenant_id, identifier, name, phone, email, language,
			contact_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, identifier) DO UPDATE SET
			name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE end_users.name END,
			phone = CASE WHEN excluded.phone <> '' THEN excluded.phone ELSE end_users.phone END,
			email = CASE WHEN excluded.email <> '' THEN excluded.email ELSE end_users.email END,
			language = CASE WHEN excluded.language <> '' THEN excluded.language ELSE end_users.language END,
			contact_id = COALESCE(excluded.contact_id, end_users.contact_id), updated_at = excluded.updated_at
			RETURNING `+endUserCols, tenantID, u.Identifier, u.Name, u.Phone, u.Email, u.Language, nullID(u.ContactID),
			micros(t.now), micros(t.now)))
		if err != nil {
			return u, false, fmt.Errorf("insert end user: %w", err)
		}
		return out, true, nil
	case err != nil:
		return u, false, fmt.Errorf("get end user: %w", err)
	}
	merged := old
	for _, f := range []struct {
		dst *string
		src string
	}{{&merged.Name, u.Name}, {&merged.Phone, u.Phone},
		{&merged.Email, u.Email}, {&merged.Language, u.Language}} {
		if f.src != "" {
			*f.dst = f.src
		}
	}
	if u.ContactID != nil {
		merged.ContactID = u.ContactID
	}
	if endUserEqual(merged, old) {
		return old, false, nil
	}
	merged.UpdatedAt = t.now
	if _, err := t.exec(ctx, `UPDATE end_users SET name = ?, phone = ?, email = ?, language = ?, contact_id = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`, merged.Name, merged.Phone, merged.Email, merged.Language, nullID(merged.ContactID),
		micros(t.now), tenantID, merged.ID); err != nil {
		return old, false, fmt.Errorf("update end user: %w", err)
	}
	return merged, true, nil
}

func endUserEqual(a, b switchboard.EndUser) bool {
	return a.Name == b.Name && a.Phone == b.Phone && a.Email == b.Email && a.Language == b.Language &&
		((a.ContactID == nil && b.ContactID == nil) || (a.ContactID != nil && b.ContactID != nil && *a.ContactID == *b.ContactID))
}

// UpsertEndUser implements switchboard.ConversationStore. End users show only
// through their conversations, so a change is written with
// conversation.updated for each of the end user's conversations not ended,
// or else for their newest; an end user with no conversation yet has no
// event (nothing shows them).
func (db *DB) UpsertEndUser(ctx context.Context, tenantID int64, u switchboard.EndUser) (switchboard.EndUser, error) {
	return inTxValue(ctx, db, u, func(t *tx) (switchboard.EndUser, error) {
		out, changed, err := t.upsertEndUser(ctx, tenantID, u)
		if err != nil || !changed {
			return out, err
		}
		rows, err := t.query(ctx, conversationSelect+" WHERE c.tenant_id = ? AND c.end_user_id = ? AND c.status NOT IN "+
			endedStatuses+" ORDER BY c.id", tenantID, out.ID)
		if err != nil {
			return out, fmt.Errorf("end user's conversations: %w", err)
		}
		convs, err := collect(rows, scanConversation)
		if err != nil {
			return out, fmt.Errorf("end user's conversations: %w", err)
		}
		if len(convs) == 0 {
			c, err := scanConversation(t.queryRow(ctx, conversationSelect+" WHERE c.tenant_id = ? AND c.end_user_id = ? ORDER BY c.id DESC LIMIT 1",
				tenantID, out.ID))
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return out, fmt.Errorf("end user's conversations: %w", err)
			default:
				convs = append(convs, c)
			}
		}
		for _, c := range convs {
			if err := t.conversationEvent(ctx, switchboard.EventConversationUpdated, c); err != nil {
				return out, err
			}
		}
		return out, nil
	})
}

// collect scans every row of rows and closes them.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// EndUser implements switchboard.ConversationStore.
func (db *DB) EndUser(ctx context.Context, tenantID, id int64) (switchboard.EndUser, error) {
	return getOne(ctx, db, "end_users", endUserCols, "end user", scanEndUser, tenantID, id)
}

// EndUserByIdentifier implements switchboard.ConversationStore.
func (db *DB) EndUserByIdentifier(ctx context.Context, tenantID int64, identifier string) (switchboard.EndUser, error) {
	u, err := scanEndUser(db.queryRow(ctx, "SELECT "+endUserCols+" FROM end_users WHERE tenant_id = ? AND identifier = ?", tenantID, identifier))
	if errors.Is(err, sql.ErrNoRows) {
		return u, switchboard.Errorf(switchboard.CodeNotFound, "no end user with identifier %s", switchboard.Echo(identifier))
	}
	if err != nil {
		return u, fmt.Errorf("get end user: %w", err)
	}
	return u, nil
}

// checkConversationRefs checks that the queue, agent, profile and previous
// conversation c names are the tenant's.
func (t *tx) checkConversationRefs(ctx context.Context, tenantID int64, c, old *switchboard.Conversation) error {
	for _, r := range []struct {
		id, was      *int64
		table, field string
	}{{c.QueueID, nil, "queues", "queue_id"}, {c.AgentID, nil, "users", "agent_id"},
		{c.ProfileID, nil, "channel_profiles", "channel_profile_id"}, {c.PreviousID, nil, "conversations", "previous_id"}} {
		if r.id == nil {
			continue
		}
		if old != nil {
			switch r.field {
			case "queue_id":
				r.was = old.QueueID
			case "agent_id":
				r.was = old.AgentID
			case "channel_profile_id":
				r.was = old.ProfileID
			case "previous_id":
				r.was = old.PreviousID
			}
			if r.was != nil && *r.was == *r.id {
				continue // unchanged: checked when it was set
			}
		}
		if err := t.checkOwned(ctx, tenantID, r.table, r.field, []int64{*r.id}); err != nil {
			return err
		}
	}
	return nil
}

// openConversationID is the id of the conversation not ended of address on
// the profile (0: none) of channel, or 0.
func (t *tx) openConversationID(ctx context.Context, tenantID int64, channel switchboard.ConversationChannel, profileID int64, address string) (int64, error) {
	var id int64
	err := t.queryRow(ctx, "SELECT id FROM conversations WHERE tenant_id = ? AND channel = ? AND COALESCE(profile_id, 0) = ? AND address = ? AND status NOT IN "+
		endedStatuses, tenantID, string(channel), profileID, address).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find open conversation: %w", err)
	}
	return id, nil
}

func openConflict(id int64) error {
	return switchboard.Errorf(switchboard.CodeConflict, "the end user already has an open conversation on this channel (id %d)", id)
}

func profileKey(c *switchboard.Conversation) int64 {
	if c.ProfileID == nil {
		return 0
	}
	return *c.ProfileID
}

// CreateConversation implements switchboard.ConversationStore.
func (db *DB) CreateConversation(ctx context.Context, tenantID int64, c switchboard.Conversation, first *switchboard.ConversationMessage) (switchboard.Conversation, *switchboard.ConversationMessage, error) {
	c.ID, c.TenantID, c.LastSeq = 0, tenantID, 0
	if c.Status == "" {
		c.Status = switchboard.ConversationQueued
	}
	if err := validateConversation(&c); err != nil {
		return c, nil, err
	}
	if first != nil {
		if err := first.Validate(); err != nil {
			return c, nil, err
		}
	}
	c.UUID = uuid.NewString()
	// As a read returns them: empty lists, not null.
	if c.Flags == nil {
		c.Flags = []string{}
	}
	if c.Transfers == nil {
		c.Transfers = []switchboard.ConversationTransfer{}
	}
	var msg *switchboard.ConversationMessage
	out, err := inTxValue(ctx, db, c, func(t *tx) (switchboard.Conversation, error) {
		c := c
		if err := t.checkConversationRefs(ctx, tenantID, &c, nil); err != nil {
			return c, err
		}
		u, _, err := t.upsertEndUser(ctx, tenantID, c.EndUser)
		if err != nil {
			return c, err
		}
		c.EndUser = u
		c.CreatedAt, c.UpdatedAt = t.now, t.now
		if c.Status == switchboard.ConversationQueued && c.QueuedAt == nil {
			now := t.now
			c.QueuedAt = &now
		}
		ctxJSON, flags, transfers, err := conversationJSON(&c)
		if err != nil {
			return c, err
		}
		// DO NOTHING on the open-address index: a conversation opened
		// concurrently for the same address is reported as the conflict it
		// is, with its id, on both engines (PostgreSQL waits for the other
		// transaction to decide).
		id, err := t.insert(ctx, `INSERT INTO conversations (tenant_id, uuid, channel, status, queue_id, agent_id, end_user_id,
			address, via, language, profile_id, context, flags, ended_by, end_reason, deflection, transfers, previous_id,
			last_seq, token_hash, created_at, queued_at, assigned_at, first_response_at, last_inbound_at, last_outbound_at,
			ended_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`,
			tenantID, c.UUID, string(c.Channel), string(c.Status), nullID(c.QueueID), nullID(c.AgentID), u.ID, c.Address, c.Via,
			c.Language, nullID(c.ProfileID), ctxJSON, flags, string(c.EndedBy), c.EndReason, c.Deflection, transfers,
			nullID(c.PreviousID), 0, nullBytes(c.TokenHash), micros(t.now), nullMicros(c.QueuedAt), nullMicros(c.AssignedAt),
			nullMicros(c.FirstResponseAt), nullMicros(c.LastInboundAt), nullMicros(c.LastOutboundAt), nullMicros(c.EndedAt),
			micros(t.now))
		if errors.Is(err, sql.ErrNoRows) {
			open, ferr := t.openConversationID(ctx, tenantID, c.Channel, profileKey(&c), c.Address)
			if ferr != nil {
				return c, ferr
			}
			return c, openConflict(open)
		}
		if err != nil {
			return c, fmt.Errorf("insert conversation: %w", err)
		}
		c.ID = id
		if err := t.conversationEvent(ctx, switchboard.EventConversationCreated, c); err != nil {
			return c, err
		}
		if c.Status == switchboard.ConversationQueued {
			if err := t.conversationEvent(ctx, switchboard.EventConversationQueued, c); err != nil {
				return c, err
			}
		}
		if first == nil {
			return c, nil
		}
		m := *first
		m.ConversationID = c.ID
		stored, after, err := t.addMessage(ctx, tenantID, &c, m, nil)
		if err != nil {
			return c, err
		}
		msg = &stored
		return after, nil
	})
	if err != nil {
		return out, nil, err
	}
	return out, msg, nil
}

// sameConversation says whether a and b would be stored alike.
func sameConversation(a, b *switchboard.Conversation) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb) && string(a.TokenHash) == string(b.TokenHash)
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// conversationEvent appends event typ about c, its payload the conversation
// with its agent and channel profile named as they are now.
func (t *tx) conversationEvent(ctx context.Context, typ string, c switchboard.Conversation) error {
	p := switchboard.ConversationEventPayload{V: switchboard.EventPayloadVersion, Conversation: c}
	var err error
	if p.Agent, err = t.userRef(ctx, c.TenantID, c.AgentID); err != nil {
		return fmt.Errorf("event %s: %w", typ, err)
	}
	if p.Profile, err = t.profileRef(ctx, c.TenantID, c.ProfileID); err != nil {
		return fmt.Errorf("event %s: %w", typ, err)
	}
	return t.appendEvent(ctx, c.TenantID, typ, "conversation", c.ID, p)
}

// userRef names user id of the tenant for an event: nil for no id or a user
// the store does not know. The ref is the event's own copy.
func (t *tx) userRef(ctx context.Context, tenantID int64, id *int64) (*switchboard.UserRef, error) {
	if id == nil {
		return nil, nil
	}
	u, err := t.names().user(ctx, t, tenantID, *id)
	if u == nil || err != nil {
		return nil, err
	}
	ref := *u
	return &ref, nil
}

// profileRef names channel profile id of the tenant for an event: nil for
// no id, a ref with its id alone for a profile that is gone.
func (t *tx) profileRef(ctx context.Context, tenantID int64, id *int64) (*switchboard.ChannelProfileRef, error) {
	if id == nil {
		return nil, nil
	}
	p := &switchboard.ChannelProfileRef{ID: *id}
	var channel string
	err := t.queryRow(ctx, "SELECT uuid, channel, name, identifier FROM channel_profiles WHERE tenant_id = ? AND id = ?",
		tenantID, *id).Scan(&p.UUID, &channel, &p.Name, &p.Identifier)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("channel profile %d: %w", *id, err)
	}
	p.Channel = switchboard.ConversationChannel(channel)
	return p, nil
}

// Conversation implements switchboard.ConversationStore.
func (db *DB) Conversation(ctx context.Context, tenantID, id int64) (switchboard.Conversation, error) {
	c, err := scanConversation(db.queryRow(ctx, conversationSelect+" WHERE c.tenant_id = ? AND c.id = ?", tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("conversation", id)
	}
	if err != nil {
		return c, fmt.Errorf("get conversation: %w", err)
	}
	return c, nil
}

// conversation reads the conversation inside t.
func (t *tx) conversation(ctx context.Context, tenantID, id int64) (switchboard.Conversation, error) {
	c, err := scanConversation(t.queryRow(ctx, conversationSelect+" WHERE c.tenant_id = ? AND c.id = ?", tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("conversation", id)
	}
	if err != nil {
		return c, fmt.Errorf("get conversation: %w", err)
	}
	return c, nil
}

// ConversationByUUID implements switchboard.ConversationStore.
func (db *DB) ConversationByUUID(ctx context.Context, tenantID int64, id string) (switchboard.Conversation, error) {
	q, args := conversationSelect+" WHERE c.uuid = ?", []any{id}
	if tenantID != 0 {
		q, args = conversationSelect+" WHERE c.uuid = ? AND c.tenant_id = ?", []any{id, tenantID}
	}
	return db.oneConversation(ctx, q, args, "no conversation with uuid "+switchboard.Echo(id))
}

func (db *DB) oneConversation(ctx context.Context, q string, args []any, missing string) (switchboard.Conversation, error) {
	c, err := scanConversation(db.queryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return c, &switchboard.Error{Code: switchboard.CodeNotFound, Message: missing}
	}
	if err != nil {
		return c, fmt.Errorf("get conversation: %w", err)
	}
	return c, nil
}

// OpenConversation implements switchboard.ConversationStore.
func (db *DB) OpenConversation(ctx context.Context, tenantID int64, channel switchboard.ConversationChannel, profileID int64, address string) (switchboard.Conversation, error) {
	return db.oneConversation(ctx, conversationSelect+" WHERE c.tenant_id = ? AND c.channel = ? AND COALESCE(c.profile_id, 0) = ? AND c.address = ? AND c.status NOT IN "+endedStatuses,
		[]any{tenantID, string(channel), profileID, address}, "no open conversation of "+switchboard.Echo(address)+" on "+string(channel))
}

// LastConversation implements switchboard.ConversationStore.
func (db *DB) LastConversation(ctx context.Context, tenantID int64, channel switchboard.ConversationChannel, address string) (switchboard.Conversation, error) {
	return db.oneConversation(ctx, conversationSelect+" WHERE c.tenant_id = ? AND c.channel = ? AND c.address = ? ORDER BY c.id DESC LIMIT 1",
		[]any{tenantID, string(channel), address}, "no conversation of "+switchboard.Echo(address)+" on "+string(channel))
}

// Conversations implements switchboard.ConversationStore.
func (db *DB) Conversations(ctx context.Context, tenantID int64, f switchboard.ConversationFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.Conversation], error) {
	q := listQuery{cols: conversationListCols, from: conversationListFrom + " WHERE c.tenant_id = ?", args: []any{tenantID}, key: "c.id", desc: true}
	add := func(cond string, args ...any) {
		q.from += " AND " + cond
		q.args = append(q.args, args...)
	}
	if f.Channel != "" {
		add("c.channel = ?", string(f.Channel))
	}
	if f.ExcludeChannel != "" {
		add("c.channel <> ?", string(f.ExcludeChannel))
	}
	if f.Status != "" {
		add("c.status = ?", string(f.Status))
	}
	if f.Open {
		add("c.status NOT IN " + endedStatuses)
	}
	if f.Ended {
		add("c.status IN " + endedStatuses)
	}
	if f.QueueID != 0 {
		add("c.queue_id = ?", f.QueueID)
	}
	if f.AgentID != 0 {
		add("c.agent_id = ?", f.AgentID)
	}
	if f.EndUserID != 0 {
		add("c.end_user_id = ?", f.EndUserID)
	}
	if f.Address != "" {
		add("c.address = ?", f.Address)
	}
	if f.ProfileID != 0 {
		add("c.profile_id = ?", f.ProfileID)
	}
	if f.Text != "" {
		op := "LIKE"
		if db.engine == Postgres {
			op = "ILIKE"
		}
		add("EXISTS (SELECT 1 FROM conversation_messages m WHERE m.conversation_id = c.id AND m.text "+op+" ?"+db.likeEscapeClause()+")",
			"%"+likeEscape(f.Text)+"%")
	}
	if !f.Since.IsZero() {
		add("c.created_at >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("c.created_at < ?", micros(f.Until))
	}
	return listPage(ctx, db, q, opt, scanConversation, func(c switchboard.Conversation) int64 { return c.ID })
}

// OpenConversations implements switchboard.ConversationStore.
func (db *DB) OpenConversations(ctx context.Context) ([]switchboard.Conversation, error) {
	rows, err := db.query(ctx, conversationSelect+" WHERE c.status NOT IN "+endedStatuses+" ORDER BY c.id")
	if err != nil {
		return nil, fmt.Errorf("open conversations: %w", err)
	}
	out, err := collect(rows, scanConversation)
	if err != nil {
		return nil, fmt.Errorf("open conversations: %w", err)
	}
	return out, nil
}

// UpdateConversationFunc implements switchboard.ConversationStore. What fn
// changes in the end user (name, phone, email, language, contact) is written
// to the end user, with the same event. A change for which fn names no
// event is written with conversation.updated (every change has its event);
// when fn changes nothing, nothing is written.
func (db *DB) UpdateConversationFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.Conversation) (switchboard.ConversationUpdate, error)) (switchboard.Conversation, error) {
	return inTxValue(ctx, db, switchboard.Conversation{}, func(t *tx) (switchboard.Conversation, error) {
		if err := t.lockRow(ctx, "conversations", "conversation", tenantID, id); err != nil {
			return switchboard.Conversation{}, err
		}
		old, err := t.conversation(ctx, tenantID, id)
		if err != nil {
			return old, err
		}
		c := old
		upd, err := fn(&c)
		if err != nil {
			return old, err
		}
		if upd.Event == "" && sameConversation(&old, &c) {
			return old, nil // nothing to write
		}
		if err := t.writeConversation(ctx, &old, &c); err != nil {
			return old, err
		}
		if upd.Event == "" {
			// Every change has its event: cached answers and the live
			// stream must see it.
			upd.Event = switchboard.EventConversationUpdated
		}
		if err := t.conversationEvent(ctx, upd.Event, c); err != nil {
			return old, err
		}
		return c, nil
	})
}

// writeConversation stores c, as fn left it, over old: what no update may
// change is put back first, the rest validated and written (with the end
// user's changeable fields).
func (t *tx) writeConversation(ctx context.Context, old, c *switchboard.Conversation) error {
	c.ID, c.TenantID, c.UUID, c.CreatedAt, c.LastSeq = old.ID, old.TenantID, old.UUID, old.CreatedAt, old.LastSeq
	c.EndUser.ID, c.EndUser.TenantID, c.EndUser.Identifier = old.EndUser.ID, old.EndUser.TenantID, old.EndUser.Identifier
	c.EndUser.CreatedAt, c.EndUser.UpdatedAt = old.EndUser.CreatedAt, old.EndUser.UpdatedAt
	if err := validateConversation(c); err != nil {
		return err
	}
	if err := t.checkConversationRefs(ctx, c.TenantID, c, old); err != nil {
		return err
	}
	if !endUserEqual(c.EndUser, old.EndUser) {
		if c.EndUser.ContactID != nil && (old.EndUser.ContactID == nil || *old.EndUser.ContactID != *c.EndUser.ContactID) {
			if err := t.checkOwned(ctx, c.TenantID, "contacts", "end_user.contact_id", []int64{*c.EndUser.ContactID}); err != nil {
				return err
			}
		}
		c.EndUser.UpdatedAt = t.now
		u := c.EndUser
		if _, err := t.exec(ctx, `UPDATE end_users SET name = ?, phone = ?, email = ?, language = ?, contact_id = ?, updated_at = ?
			WHERE tenant_id = ? AND id = ?`, u.Name, u.Phone, u.Email, u.Language, nullID(u.ContactID), micros(t.now),
			u.TenantID, u.ID); err != nil {
			return fmt.Errorf("update end user: %w", err)
		}
	}
	ctxJSON, flags, transfers, err := conversationJSON(c)
	if err != nil {
		return err
	}
	if c.Flags == nil {
		c.Flags = []string{}
	}
	if c.Transfers == nil {
		c.Transfers = []switchboard.ConversationTransfer{}
	}
	// Reopening an ended conversation while its address has another open
	// one would break the open-address index: say so before PostgreSQL
	// aborts the transaction on it.
	if !c.Status.Ended() && (old.Status.Ended() || c.Channel != old.Channel || c.Address != old.Address || profileKey(c) != profileKey(old)) {
		open, err := t.openConversationID(ctx, c.TenantID, c.Channel, profileKey(c), c.Address)
		if err != nil {
			return err
		}
		if open != 0 && open != c.ID {
			return openConflict(open)
		}
	}
	c.UpdatedAt = t.now
	if _, err := t.exec(ctx, `UPDATE conversations SET channel = ?, status = ?, queue_id = ?, agent_id = ?, address = ?, via = ?,
		language = ?, profile_id = ?, context = ?, flags = ?, ended_by = ?, end_reason = ?, deflection = ?, transfers = ?,
		previous_id = ?, last_seq = ?, token_hash = ?, queued_at = ?, assigned_at = ?, first_response_at = ?,
		last_inbound_at = ?, last_outbound_at = ?, ended_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		string(c.Channel), string(c.Status), nullID(c.QueueID), nullID(c.AgentID), c.Address, c.Via, c.Language,
		nullID(c.ProfileID), ctxJSON, flags, string(c.EndedBy), c.EndReason, c.Deflection, transfers, nullID(c.PreviousID),
		c.LastSeq, nullBytes(c.TokenHash), nullMicros(c.QueuedAt), nullMicros(c.AssignedAt), nullMicros(c.FirstResponseAt),
		nullMicros(c.LastInboundAt), nullMicros(c.LastOutboundAt), nullMicros(c.EndedAt), micros(t.now),
		c.TenantID, c.ID); err != nil {
		if _, ok := uniqueViolation(err); ok {
			return &switchboard.Error{Code: switchboard.CodeConflict, Message: "the end user already has an open conversation on this channel"}
		}
		return fmt.Errorf("update conversation: %w", err)
	}
	return nil
}

var _ switchboard.ConversationStore = (*DB)(nil)
