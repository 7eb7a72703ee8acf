package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"switchboard"
)

// What conversations use: canned replies, channel profiles, message
// templates, and the numbers' consent. Each change writes its event
// (canned_reply.*, channel_profile.*, message_template.*, consent.*) with
// the object as its payload.

const cannedReplyCols = "id, tenant_id, name, body, channels, team_ids, created_at, updated_at"

func scanCannedReply(s scanner) (switchboard.CannedReply, error) {
	var r switchboard.CannedReply
	var channels, teams string
	var created, updated int64
	if err := s.Scan(&r.ID, &r.TenantID, &r.Name, &r.Body, &channels, &teams, &created, &updated); err != nil {
		return r, err
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	if err := decodeList(channels, &r.Channels); err != nil {
		return r, err
	}
	ids, err := decodeIDs(teams)
	r.TeamIDs = ids
	return r, err
}

// cannedReplyLists encodes r's channels and teams, never null.
func cannedReplyLists(r *switchboard.CannedReply) (string, string) {
	if r.Channels == nil {
		r.Channels = []switchboard.ConversationChannel{}
	}
	if r.TeamIDs == nil {
		r.TeamIDs = []int64{}
	}
	ch, _ := json.Marshal(r.Channels)
	teams, _ := json.Marshal(r.TeamIDs)
	return string(ch), string(teams)
}

// CreateCannedReply implements switchboard.ConversationStore.
func (db *DB) CreateCannedReply(ctx context.Context, tenantID int64, r switchboard.CannedReply) (switchboard.CannedReply, error) {
	if err := r.Validate(); err != nil {
		return r, err
	}
	r.ID, r.TenantID = 0, tenantID
	return inTxValue(ctx, db, r, func(t *tx) (switchboard.CannedReply, error) {
		r := r
		if err := t.checkOwned(ctx, tenantID, "teams", "team_ids", r.TeamIDs); err != nil {
			return r, err
		}
		ch, teams := cannedReplyLists(&r)
		r.CreatedAt, r.UpdatedAt = t.now, t.now
		id, err := t.insert(ctx, `INSERT INTO canned_replies (tenant_id, name, body, channels, team_ids, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, tenantID, r.Name, r.Body, ch, teams, micros(t.now), micros(t.now))
		if err != nil {
			return r, fmt.Errorf("insert canned reply: %w", err)
		}
		r.ID = id
		return r, t.appendEvent(ctx, tenantID, switchboard.EventCannedReplyCreated, "canned_reply", id, r)
	})
}

// CannedReply implements switchboard.ConversationStore.
func (db *DB) CannedReply(ctx context.Context, tenantID, id int64) (switchboard.CannedReply, error) {
	return getOne(ctx, db, "canned_replies", cannedReplyCols, "canned_reply", scanCannedReply, tenantID, id)
}

// CannedReplies implements switchboard.ConversationStore. The list is in
// name order, so its cursor is a position rather than a key.
func (db *DB) CannedReplies(ctx context.Context, tenantID int64, channel switchboard.ConversationChannel, teamID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.CannedReply], error) {
	from, args := "FROM canned_replies WHERE tenant_id = ?", []any{tenantID}
	if channel != "" {
		if db.engine == Postgres {
			from += " AND (channels = '[]' OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(channels::jsonb) AS e (v) WHERE e.v = ?))"
		} else {
			from += " AND (channels = '[]' OR EXISTS (SELECT 1 FROM json_each(channels) WHERE json_each.value = ?))"
		}
		args = append(args, string(channel))
	}
	if teamID != 0 {
		if db.engine == Postgres {
			from += " AND (team_ids = '[]' OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(team_ids::jsonb) AS e (v) WHERE e.v = ?))"
			args = append(args, strconv.FormatInt(teamID, 10))
		} else {
			from += " AND (team_ids = '[]' OR EXISTS (SELECT 1 FROM json_each(team_ids) WHERE json_each.value = ?))"
			args = append(args, teamID)
		}
	}
	return listByName(ctx, db, cannedReplyCols, from, args, opt, scanCannedReply)
}

// listByName is one page of the rows of from in name order (then id). Its
// cursor is the position of the next page, opaque like every cursor.
func listByName[T any](ctx context.Context, db *DB, cols, from string, args []any, opt switchboard.ListOptions, scan func(scanner) (T, error)) (switchboard.Page[T], error) {
	var page switchboard.Page[T]
	if err := opt.Validate(); err != nil {
		return page, err
	}
	offset := int64(opt.Offset)
	if opt.Cursor != "" {
		var err error
		if offset, err = decodeCursor(opt.Cursor); err != nil {
			return page, err
		}
	}
	if !opt.SkipTotal {
		if err := db.queryRow(ctx, "SELECT COUNT(*) "+from, args...).Scan(&page.Total); err != nil {
			return page, fmt.Errorf("count: %w", err)
		}
	}
	rows, err := db.query(ctx, "SELECT "+cols+" "+from+" ORDER BY name, id LIMIT ? OFFSET ?", append(append([]any(nil), args...), opt.Limit+1, offset)...)
	if err != nil {
		return page, fmt.Errorf("list: %w", err)
	}
	items, err := collect(rows, scan)
	if err != nil {
		return page, fmt.Errorf("list: %w", err)
	}
	page.Items = items
	if page.Items == nil {
		page.Items = []T{}
	}
	if len(page.Items) > opt.Limit {
		page.Items = page.Items[:opt.Limit]
		page.NextCursor = encodeCursor(offset + int64(opt.Limit))
	}
	return page, nil
}

// UpdateCannedReplyFunc implements switchboard.ConversationStore.
func (db *DB) UpdateCannedReplyFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.CannedReply) error) (switchboard.CannedReply, error) {
	var old switchboard.CannedReply
	return modify(ctx, db, "canned_replies", "canned_reply", tenantID, id,
		func(t *tx) (switchboard.CannedReply, error) {
			var err error
			old, err = getOneTx(ctx, t, "canned_replies", cannedReplyCols, "canned_reply", scanCannedReply, tenantID, id)
			return old, err
		},
		func(r *switchboard.CannedReply) error {
			if err := fn(r); err != nil {
				return err
			}
			r.ID, r.TenantID, r.CreatedAt = old.ID, old.TenantID, old.CreatedAt
			return r.Validate()
		},
		func(t *tx, r switchboard.CannedReply) (switchboard.CannedReply, error) {
			if err := t.checkOwned(ctx, tenantID, "teams", "team_ids", r.TeamIDs); err != nil {
				return r, err
			}
			ch, teams := cannedReplyLists(&r)
			r.UpdatedAt = t.now
			if _, err := t.exec(ctx, `UPDATE canned_replies SET name = ?, body = ?, channels = ?, team_ids = ?, updated_at = ?
				WHERE tenant_id = ? AND id = ?`, r.Name, r.Body, ch, teams, micros(t.now), tenantID, id); err != nil {
				return r, fmt.Errorf("update canned reply: %w", err)
			}
			return r, t.appendEvent(ctx, tenantID, switchboard.EventCannedReplyUpdated, "canned_reply", id, r)
		})
}

// DeleteCannedReply implements switchboard.ConversationStore.
func (db *DB) DeleteCannedReply(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "canned_replies", "canned_reply", switchboard.EventCannedReplyDeleted, func(t *tx) (any, error) {
		return getOneTx(ctx, t, "canned_replies", cannedReplyCols, "canned_reply", scanCannedReply, tenantID, id)
	})
}

const channelProfileCols = "id, tenant_id, uuid, channel, name, identifier, queue_id, signing_secret, enabled, created_at, updated_at"

func scanChannelProfile(s scanner) (switchboard.ChannelProfile, error) {
	var p switchboard.ChannelProfile
	var channel string
	var queue sql.NullInt64
	var created, updated int64
	err := s.Scan(&p.ID, &p.TenantID, &p.UUID, &channel, &p.Name, &p.Identifier, &queue, &p.SigningSecret, &p.Enabled, &created, &updated)
	p.Channel, p.QueueID, p.CreatedAt, p.UpdatedAt = switchboard.ConversationChannel(channel), idPtr(queue), fromMicros(created), fromMicros(updated)
	return p, err
}

// CreateChannelProfile implements switchboard.ConversationStore. Enabled is
// stored as given: a caller that means a new profile to serve sets it.
func (db *DB) CreateChannelProfile(ctx context.Context, tenantID int64, p switchboard.ChannelProfile) (switchboard.ChannelProfile, error) {
	p.Identifier = strings.TrimSpace(p.Identifier)
	if err := p.Validate(); err != nil {
		return p, err
	}
	p.ID, p.TenantID, p.UUID = 0, tenantID, uuid.NewString()
	return inTxValue(ctx, db, p, func(t *tx) (switchboard.ChannelProfile, error) {
		p := p
		if p.QueueID != nil {
			if err := t.checkOwned(ctx, tenantID, "queues", "queue_id", []int64{*p.QueueID}); err != nil {
				return p, err
			}
		}
		p.CreatedAt, p.UpdatedAt = t.now, t.now
		id, err := t.insert(ctx, `INSERT INTO channel_profiles (tenant_id, uuid, channel, name, identifier, queue_id, signing_secret,
			enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, p.UUID, string(p.Channel), p.Name,
			p.Identifier, nullID(p.QueueID), p.SigningSecret, p.Enabled, micros(t.now), micros(t.now))
		if err != nil {
			return p, fmt.Errorf("insert channel profile: %w", err)
		}
		p.ID = id
		return p, t.appendEvent(ctx, tenantID, switchboard.EventChannelProfileCreated, "channel_profile", id, p)
	})
}

// ChannelProfile implements switchboard.ConversationStore.
func (db *DB) ChannelProfile(ctx context.Context, tenantID, id int64) (switchboard.ChannelProfile, error) {
	return getOne(ctx, db, "channel_profiles", channelProfileCols, "channel_profile", scanChannelProfile, tenantID, id)
}

// ChannelProfileByUUID implements switchboard.ConversationStore.
func (db *DB) ChannelProfileByUUID(ctx context.Context, id string) (switchboard.ChannelProfile, error) {
	p, err := scanChannelProfile(db.queryRow(ctx, "SELECT "+channelProfileCols+" FROM channel_profiles WHERE uuid = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, switchboard.Errorf(switchboard.CodeNotFound, "no channel profile with uuid %s", switchboard.Echo(id))
	}
	if err != nil {
		return p, fmt.Errorf("get channel profile: %w", err)
	}
	return p, nil
}

// ChannelProfileFor implements switchboard.ConversationStore. Should several
// enabled profiles share the identifier, the oldest is the one.
func (db *DB) ChannelProfileFor(ctx context.Context, tenantID int64, channel switchboard.ConversationChannel, identifier string) (switchboard.ChannelProfile, error) {
	p, err := scanChannelProfile(db.queryRow(ctx, "SELECT "+channelProfileCols+` FROM channel_profiles
		WHERE tenant_id = ? AND channel = ? AND identifier = ? AND enabled = ? ORDER BY id LIMIT 1`, tenantID, string(channel), identifier, true))
	if errors.Is(err, sql.ErrNoRows) {
		return p, switchboard.Errorf(switchboard.CodeNotFound, "no enabled %s profile for %s", channel, switchboard.Echo(identifier))
	}
	if err != nil {
		return p, fmt.Errorf("get channel profile: %w", err)
	}
	return p, nil
}

// ChannelProfiles implements switchboard.ConversationStore, oldest first.
func (db *DB) ChannelProfiles(ctx context.Context, tenantID int64, channel switchboard.ConversationChannel, opt switchboard.ListOptions) (switchboard.Page[switchboard.ChannelProfile], error) {
	q := listQuery{cols: channelProfileCols, from: "FROM channel_profiles WHERE tenant_id = ?", args: []any{tenantID}, key: "id"}
	if channel != "" {
		q.from += " AND channel = ?"
		q.args = append(q.args, string(channel))
	}
	return listPage(ctx, db, q, opt, scanChannelProfile, func(p switchboard.ChannelProfile) int64 { return p.ID })
}

// UpdateChannelProfileFunc implements switchboard.ConversationStore.
func (db *DB) UpdateChannelProfileFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.ChannelProfile) error) (switchboard.ChannelProfile, error) {
	var old switchboard.ChannelProfile
	return modify(ctx, db, "channel_profiles", "channel_profile", tenantID, id,
		func(t *tx) (switchboard.ChannelProfile, error) {
			var err error
			old, err = getOneTx(ctx, t, "channel_profiles", channelProfileCols, "channel_profile", scanChannelProfile, tenantID, id)
			return old, err
		},
		func(p *switchboard.ChannelProfile) error {
			if err := fn(p); err != nil {
				return err
			}
			p.ID, p.TenantID, p.UUID, p.CreatedAt = old.ID, old.TenantID, old.UUID, old.CreatedAt
			p.Identifier = strings.TrimSpace(p.Identifier)
			return p.Validate()
		},
		func(t *tx, p switchboard.ChannelProfile) (switchboard.ChannelProfile, error) {
			if p.QueueID != nil && (old.QueueID == nil || *old.QueueID != *p.QueueID) {
				if err := t.checkOwned(ctx, tenantID, "queues", "queue_id", []int64{*p.QueueID}); err != nil {
					return p, err
				}
			}
			p.UpdatedAt = t.now
			if _, err := t.exec(ctx, `UPDATE channel_profiles SET channel = ?, name = ?, identifier = ?, queue_id = ?, signing_secret = ?,
				enabled = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`, string(p.Channel), p.Name, p.Identifier, nullID(p.QueueID),
				p.SigningSecret, p.Enabled, micros(t.now), tenantID, id); err != nil {
				return p, fmt.Errorf("update channel profile: %w", err)
			}
			return p, t.appendEvent(ctx, tenantID, switchboard.EventChannelProfileUpdated, "channel_profile", id, p)
		})
}

// DeleteChannelProfile implements switchboard.ConversationStore. A profile
// that conversations or templates use is kept (CodeConflict): disable it
// instead.
func (db *DB) DeleteChannelProfile(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "channel_profiles", "channel_profile", switchboard.EventChannelProfileDeleted, func(t *tx) (any, error) {
		if err := t.lockRow(ctx, "channel_profiles", "channel_profile", tenantID, id); err != nil {
			return nil, err
		}
		p, err := getOneTx(ctx, t, "channel_profiles", channelProfileCols, "channel_profile", scanChannelProfile, tenantID, id)
		if err != nil {
			return nil, err
		}
		var used int
		if err := t.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM conversations WHERE profile_id = ?)
			+ (SELECT COUNT(*) FROM message_templates WHERE profile_id = ?)`, id, id).Scan(&used); err != nil {
			return nil, fmt.Errorf("delete channel profile: %w", err)
		}
		if used > 0 {
			return nil, switchboard.Errorf(switchboard.CodeConflict, "channel profile %d has conversations or templates: disable it instead", id)
		}
		return p, nil
	})
}

const messageTemplateCols = "id, tenant_id, uuid, profile_id, name, language, category, status, body, created_at, updated_at"

func scanMessageTemplate(s scanner) (switchboard.MessageTemplate, error) {
	var m switchboard.MessageTemplate
	var created, updated int64
	err := s.Scan(&m.ID, &m.TenantID, &m.UUID, &m.ProfileID, &m.Name, &m.Language, &m.Category, &m.Status, &m.Body, &created, &updated)
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return m, err
}

// CreateMessageTemplate implements switchboard.ConversationStore.
func (db *DB) CreateMessageTemplate(ctx context.Context, tenantID int64, m switchboard.MessageTemplate) (switchboard.MessageTemplate, error) {
	if err := m.Validate(); err != nil {
		return m, err
	}
	m.ID, m.TenantID, m.UUID = 0, tenantID, uuid.NewString()
	return inTxValue(ctx, db, m, func(t *tx) (switchboard.MessageTemplate, error) {
		m := m
		if err := t.checkOwned(ctx, tenantID, "channel_profiles", "channel_profile_id", []int64{m.ProfileID}); err != nil {
			return m, err
		}
		m.CreatedAt, m.UpdatedAt = t.now, t.now
		id, err := t.insert(ctx, `INSERT INTO message_templates (tenant_id, uuid, profile_id, name, language, category, status, body,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, m.UUID, m.ProfileID, m.Name, m.Language,
			m.Category, m.Status, m.Body, micros(t.now), micros(t.now))
		if err != nil {
			return m, fmt.Errorf("insert message template: %w", err)
		}
		m.ID = id
		return m, t.appendEvent(ctx, tenantID, switchboard.EventMessageTemplateCreated, "message_template", id, m)
	})
}

// MessageTemplate implements switchboard.ConversationStore.
func (db *DB) MessageTemplate(ctx context.Context, tenantID, id int64) (switchboard.MessageTemplate, error) {
	return getOne(ctx, db, "message_templates", messageTemplateCols, "message_template", scanMessageTemplate, tenantID, id)
}

// MessageTemplates implements switchboard.ConversationStore, oldest first;
// profileID 0 lists every profile's.
func (db *DB) MessageTemplates(ctx context.Context, tenantID int64, profileID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.MessageTemplate], error) {
	q := listQuery{cols: messageTemplateCols, from: "FROM message_templates WHERE tenant_id = ?", args: []any{tenantID}, key: "id"}
	if profileID != 0 {
		q.from += " AND profile_id = ?"
		q.args = append(q.args, profileID)
	}
	return listPage(ctx, db, q, opt, scanMessageTemplate, func(m switchboard.MessageTemplate) int64 { return m.ID })
}

// UpdateMessageTemplateFunc implements switchboard.ConversationStore.
func (db *DB) UpdateMessageTemplateFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.MessageTemplate) error) (switchboard.MessageTemplate, error) {
	var old switchboard.MessageTemplate
	return modify(ctx, db, "message_templates", "message_template", tenantID, id,
		func(t *tx) (switchboard.MessageTemplate, error) {
			var err error
			old, err = getOneTx(ctx, t, "message_templates", messageTemplateCols, "message_template", scanMessageTemplate, tenantID, id)
			return old, err
		},
		func(m *switchboard.MessageTemplate) error {
			if err := fn(m); err != nil {
				return err
			}
			m.ID, m.TenantID, m.UUID, m.CreatedAt = old.ID, old.TenantID, old.UUID, old.CreatedAt
			return m.Validate()
		},
		func(t *tx, m switchboard.MessageTemplate) (switchboard.MessageTemplate, error) {
			if m.ProfileID != old.ProfileID {
				if err := t.checkOwned(ctx, tenantID, "channel_profiles", "channel_profile_id", []int64{m.ProfileID}); err != nil {
					return m, err
				}
			}
			m.UpdatedAt = t.now
			if _, err := t.exec(ctx, `UPDATE message_templates SET profile_id = ?, name = ?, language = ?, category = ?, status = ?,
				body = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`, m.ProfileID, m.Name, m.Language, m.Category, m.Status,
				m.Body, micros(t.now), tenantID, id); err != nil {
				return m, fmt.Errorf("update message template: %w", err)
			}
			return m, t.appendEvent(ctx, tenantID, switchboard.EventMessageTemplateUpdated, "message_template", id, m)
		})
}

// DeleteMessageTemplate implements switchboard.ConversationStore. Messages
// that used it keep its id in their template use.
func (db *DB) DeleteMessageTemplate(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "message_templates", "message_template", switchboard.EventMessageTemplateDeleted, func(t *tx) (any, error) {
		return getOneTx(ctx, t, "message_templates", messageTemplateCols, "message_template", scanMessageTemplate, tenantID, id)
	})
}

const consentCols = "id, tenant_id, number, opted_out, channel, source, keyword, at"

func scanConsent(s scanner) (int64, switchboard.Consent, error) {
	var c switchboard.Consent
	var id, at int64
	var channel string
	err := s.Scan(&id, &c.TenantID, &c.Number, &c.OptedOut, &channel, &c.Source, &c.Keyword, &at)
	c.Channel, c.At = switchboard.ConversationChannel(channel), fromMicros(at)
	return id, c, err
}

// SetConsent implements switchboard.ConversationStore. c.At, when zero, is
// the time of the write. Every call writes its event, a repeated STOP too:
// it is evidence of what the number asked.
func (db *DB) SetConsent(ctx context.Context, c switchboard.Consent) (switchboard.Consent, error) {
	p := switchboard.Problems{}
	c.Number = strings.TrimSpace(c.Number)
	if c.TenantID == 0 {
		p.Add("tenant_id", "is required")
	}
	if c.Number == "" {
		p.Add("number", "is required")
	}
	if len(c.Number) > switchboard.MaxNumberLength {
		p.Add("number", fmt.Sprintf("must be at most %d characters", switchboard.MaxNumberLength))
	}
	if c.Channel != "" && !switchboard.ValidConversationChannel(c.Channel) {
		p.Add("channel", "must be a channel name such as sms, whatsapp or api")
	}
	if len(c.Source) > 32 || len(c.Keyword) > 64 {
		p.Add("source", "source must be at most 32 characters and keyword at most 64")
	}
	if err := p.Err(); err != nil {
		return c, err
	}
	return inTxValue(ctx, db, c, func(t *tx) (switchboard.Consent, error) {
		c := c
		if c.At.IsZero() {
			c.At = t.now
		}
		c.At = fromMicros(micros(c.At))
		id, err := t.insert(ctx, `INSERT INTO consents (tenant_id, number, opted_out, channel, source, keyword, at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, number) DO UPDATE SET opted_out = excluded.opted_out,
			channel = excluded.channel, source = excluded.source, keyword = excluded.keyword, at = excluded.at`,
			c.TenantID, c.Number, c.OptedOut, string(c.Channel), c.Source, c.Keyword, micros(c.At))
		if err != nil {
			return c, fmt.Errorf("set consent: %w", err)
		}
		typ := switchboard.EventConsentOptedIn
		if c.OptedOut {
			typ = switchboard.EventConsentOptedOut
		}
		return c, t.appendEvent(ctx, c.TenantID, typ, "consent", id, switchboard.ConsentEventPayload{V: switchboard.EventPayloadVersion, Consent: c})
	})
}

// Consent implements switchboard.ConversationStore.
func (db *DB) Consent(ctx context.Context, tenantID int64, number string) (switchboard.Consent, error) {
	_, c, err := scanConsent(db.queryRow(ctx, "SELECT "+consentCols+" FROM consents WHERE tenant_id = ? AND number = ?", tenantID, number))
	if errors.Is(err, sql.ErrNoRows) {
		return c, switchboard.Errorf(switchboard.CodeNotFound, "no consent record for %s", switchboard.Echo(number))
	}
	if err != nil {
		return c, fmt.Errorf("get consent: %w", err)
	}
	return c, nil
}

// OptedOut implements switchboard.ConversationStore.
func (db *DB) OptedOut(ctx context.Context, tenantID int64, number string) (bool, error) {
	c, err := db.Consent(ctx, tenantID, number)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return c.OptedOut, nil
}
