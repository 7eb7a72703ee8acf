package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"switchboard"
	"switchboard/internal/phone"
)

// userBaseCols are the user's own columns, its presence among them (with
// whether its status takes calls, from the tenant's status list) so that a
// page of users costs one query. The SIP password's digest hashes are not
// among them: no API renders them, only SIPAccounts reads them, and only a
// new password writes them.
const userBaseCols = `id, tenant_id, uuid, email, first_name, last_name, agent_number, extension, location, roles,
	max_chats, phone_numbers, outbound_number, time_zone, sip_username, created_at, updated_at, deactivated_at,
	click_to_call_disabled, voicemail_enabled, forward_enabled, forward_number, presence_status, presence_since,
	COALESCE((SELECT s.available FROM agent_statuses s WHERE s.tenant_id = users.tenant_id AND s.name = users.presence_status), FALSE)`

// scanUser reads a user selected with db.userCols.
func scanUser(s scanner) (switchboard.User, error) {
	var u switchboard.User
	var roles, numbers, teams, skills string
	var created, updated int64
	var deactivated, since sql.NullInt64
	if err := s.Scan(&u.ID, &u.TenantID, &u.UUID, &u.Email, &u.FirstName, &u.LastName, &u.AgentNumber, &u.Extension,
		&u.Location, &roles, &u.MaxChats, &numbers, &u.OutboundNumber, &u.TimeZone, &u.SIPUsername,
		&created, &updated, &deactivated, &u.ClickToCallDisabled, &u.VoicemailEnabled, &u.ForwardEnabled,
		&u.ForwardNumber, &u.Presence.Status, &since, &u.Presence.Available, &teams, &skills); err != nil {
		return u, err
	}
	u.Presence.UserID = u.ID
	if since.Valid {
		u.Presence.Since = fromMicros(since.Int64)
	}
	var err error
	if u.TeamIDs, err = decodeIDs(teams); err != nil {
		return u, fmt.Errorf("user %d teams: %w", u.ID, err)
	}
	if err := decodeList(skills, &u.Skills); err != nil {
		return u, fmt.Errorf("user %d skills: %w", u.ID, err)
	}
	if err := decodeList(roles, &u.Roles); err != nil {
		return u, fmt.Errorf("user %d roles: %w", u.ID, err)
	}
	if err := decodeList(numbers, &u.PhoneNumbers); err != nil {
		return u, fmt.Errorf("user %d phone numbers: %w", u.ID, err)
	}
	u.CreatedAt, u.UpdatedAt, u.DeactivatedAt = fromMicros(created), fromMicros(updated), timePtr(deactivated)
	return u, nil
}

// prepareUser normalizes and validates u, including its phone numbers, which
// need the phone-number parser the domain package cannot import.
func prepareUser(u *switchboard.User) error {
	u.Normalize()
	err := u.Validate()
	p := switchboard.Problems{}
	var se *switchboard.Error
	if errors.As(err, &se) {
		for k, v := range se.Fields {
			p.Add(k, v)
		}
	} else if err != nil {
		return err
	}
	for i, n := range u.PhoneNumbers {
		e164, err := phone.Normalize(n, "")
		if err != nil {
			p.Add("phone_numbers", fmt.Sprintf("item %d (%s) is not a valid phone number", i, switchboard.Echo(n)))
			continue
		}
		u.PhoneNumbers[i] = e164
	}
	if u.OutboundNumber != "" {
		e164, err := phone.Normalize(u.OutboundNumber, "")
		if err != nil {
			p.Add("outbound_number", "is not a valid phone number")
		} else {
			u.OutboundNumber = e164
		}
	}
	return p.Err()
}

// CreateUser implements switchboard.Store.
func (db *DB) CreateUser(ctx context.Context, tenantID int64, u switchboard.User) (switchboard.User, error) {
	if err := prepareUser(&u); err != nil {
		return u, err
	}
	err := db.inTx(ctx, func(tx *tx) error {
		var err error
		u, err = tx.createUser(ctx, tenantID, u)
		return err
	})
	return u, err
}

// createUser is CreateUser in t, for a u prepareUser has prepared (the bulk
// user jobs create many users in one transaction).
func (t *tx) createUser(ctx context.Context, tenantID int64, u switchboard.User) (switchboard.User, error) {
	db := t.db
	err := func(tx *tx) error {
		if err := tx.checkUserRefs(ctx, tenantID, &u, 0); err != nil {
			return err
		}
		u.TenantID, u.UUID, u.CreatedAt, u.UpdatedAt = tenantID, uuid.NewString(), tx.now, tx.now
		roles, _ := json.Marshal(u.Roles)
		numbers, _ := json.Marshal(u.PhoneNumbers)
		h := db.sipHashes(u)
		id, err := tx.insert(ctx, `INSERT INTO users (tenant_id, uuid, email, first_name, last_name, agent_number, extension,
			location, roles, max_chats, phone_numbers, outbound_number, time_zone, sip_username, sip_realm, sip_ha1,
			sip_ha1_sha256, created_at, updated_at, deactivated_at, click_to_call_disabled, voicemail_enabled,
			forward_enabled, forward_number)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tenantID, u.UUID, u.Email, u.FirstName, u.LastName, u.AgentNumber, u.Extension, u.Location, string(roles),
			u.MaxChats, string(numbers), u.OutboundNumber, u.TimeZone, u.SIPUsername, h.realm, h.md5, h.sha256,
			micros(tx.now), micros(tx.now), nullMicros(u.DeactivatedAt), u.ClickToCallDisabled, u.VoicemailEnabled,
			u.ForwardEnabled, u.ForwardNumber)
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		// A new user is Offline (the column's default) since never.
		u.ID, u.SIPPassword = id, ""
		u.Presence = switchboard.Presence{UserID: id, Status: switchboard.StatusOffline}
		if err := tx.writeUserLinks(ctx, &u); err != nil {
			return err
		}
		return tx.appendEvent(ctx, tenantID, switchboard.EventUserCreated, "user", id, u)
	}(t)
	return u, err
}

// checkUserRefs checks that u's teams and skills belong to the tenant and that
// its extension is not a queue's: users and queues share one dial plan.
func (t *tx) checkUserRefs(ctx context.Context, tenantID int64, u *switchboard.User, self int64) error {
	if err := t.checkOwned(ctx, tenantID, "teams", "team_ids", u.TeamIDs); err != nil {
		return err
	}
	skillIDs := make([]int64, len(u.Skills))
	for i, s := range u.Skills {
		skillIDs[i] = s.SkillID
	}
	if err := t.checkOwned(ctx, tenantID, "skills", "skills", skillIDs); err != nil {
		return err
	}
	return t.checkExtensionFree(ctx, tenantID, u.Extension, "users", self)
}

// checkExtensionFree fails with CodeConflict when ext is taken by a user or queue
// other than the row self of table.
//
// Users and queues live in two tables, so no unique index can keep their
// extensions apart: the check runs serialized on the tenant's dial plan (see
// serialize), which makes it as good as a constraint on both engines.
func (t *tx) checkExtensionFree(ctx context.Context, tenantID int64, ext, table string, self int64) error {
	if ext == "" {
		return nil
	}
	if err := t.serialize(ctx, "dialplan", tenantID); err != nil {
		return err
	}
	var n int
	err := t.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM users WHERE tenant_id = ? AND extension = ? AND NOT (? = 'users' AND id = ?))
		+ (SELECT COUNT(*) FROM queues WHERE tenant_id = ? AND extension = ? AND NOT (? = 'queues' AND id = ?))`,
		tenantID, ext, table, self, tenantID, ext, table, self).Scan(&n)
	if err != nil {
		return fmt.Errorf("check extension: %w", err)
	}
	if n > 0 {
		return &switchboard.Error{Code: switchboard.CodeConflict, Message: "extension is already in use",
			Fields: map[string]string{"extension": "is already in use by a user or queue"}}
	}
	return nil
}

// writeUserLinks replaces the user's team memberships and skills.
func (t *tx) writeUserLinks(ctx context.Context, u *switchboard.User) error {
	if _, err := t.exec(ctx, "DELETE FROM user_teams WHERE user_id = ?", u.ID); err != nil {
		return fmt.Errorf("clear user teams: %w", err)
	}
	seen := map[int64]bool{}
	teams := u.TeamIDs[:0:0]
	for _, id := range u.TeamIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		teams = append(teams, id)
		if _, err := t.exec(ctx, "INSERT INTO user_teams (user_id, team_id) VALUES (?, ?)", u.ID, id); err != nil {
			return fmt.Errorf("add user team: %w", err)
		}
	}
	u.TeamIDs = teams
	if _, err := t.exec(ctx, "DELETE FROM user_skills WHERE user_id = ?", u.ID); err != nil {
		return fmt.Errorf("clear user skills: %w", err)
	}
	for _, s := range u.Skills {
		if _, err := t.exec(ctx, "INSERT INTO user_skills (user_id, skill_id, proficiency) VALUES (?, ?, ?)",
			u.ID, s.SkillID, s.Proficiency); err != nil {
			return fmt.Errorf("add user skill: %w", err)
		}
	}
	return nil
}

func (db *DB) userWhere(ctx context.Context, where string, args ...any) (switchboard.User, error) {
	return scanUser(db.queryRow(ctx, "SELECT "+db.userCols+" FROM users WHERE "+where, args...))
}

// User implements switchboard.Store.
func (db *DB) User(ctx context.Context, tenantID, id int64) (switchboard.User, error) {
	u, err := db.userWhere(ctx, "tenant_id = ? AND id = ?", tenantID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return u, notFound("user", id)
	}
	if err != nil {
		return u, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// UserByEmail implements switchboard.Store.
func (db *DB) UserByEmail(ctx context.Context, tenantID int64, email string) (switchboard.User, error) {
	u, err := db.userWhere(ctx, "tenant_id = ? AND email = ?", tenantID, email)
	if errors.Is(err, sql.ErrNoRows) {
		return u, switchboard.Errorf(switchboard.CodeNotFound, "user %s not found", switchboard.Echo(email))
	}
	if err != nil {
		return u, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// Users implements switchboard.Store.
func (db *DB) Users(ctx context.Context, tenantID int64, f switchboard.UserFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.User], error) {
	q := listQuery{cols: db.userCols, from: "FROM users WHERE tenant_id = ?", args: []any{tenantID}, key: "id"}
	if !f.IncludeDeactivated {
		q.from += " AND deactivated_at IS NULL"
	}
	if f.Email != "" {
		q.from += " AND email = ?"
		q.args = append(q.args, f.Email)
	}
	if f.TeamID != 0 {
		q.from += " AND id IN (SELECT user_id FROM user_teams WHERE team_id = ?)"
		q.args = append(q.args, f.TeamID)
	}
	if f.Name != "" {
		// SQLite's LOWER folds ASCII only; PostgreSQL's folds every letter.
		q.from += " AND LOWER(TRIM(first_name || ' ' || last_name)) LIKE ?" + db.likeEscapeClause()
		q.args = append(q.args, "%"+likeEscape(strings.ToLower(strings.TrimSpace(f.Name)))+"%")
	}
	for _, eq := range []struct{ col, v string }{
		{"extension", f.Extension}, {"sip_username", f.SIPUsername},
		{"outbound_number", f.OutboundNumber}, {"time_zone", f.TimeZone},
	} {
		if eq.v != "" {
			q.from += " AND " + eq.col + " = ?"
			q.args = append(q.args, eq.v)
		}
	}
	if f.Role != "" {
		if !slices.Contains(switchboard.Roles, f.Role) {
			return switchboard.Page[switchboard.User]{}, &switchboard.Error{Code: switchboard.CodeInvalid,
				Message: "invalid role", Fields: map[string]string{"role": "must be one of " + strings.Join(switchboard.Roles, ", ")}}
		}
		// roles is a JSON array of names from a fixed vocabulary without
		// quotes, so the quoted name matches exactly one element.
		q.from += " AND roles LIKE ?"
		q.args = append(q.args, `%"`+f.Role+`"%`)
	}
	return listPage(ctx, db, q, opt, scanUser, func(u switchboard.User) int64 { return u.ID })
}

// UpdateUser implements switchboard.Store.
func (db *DB) UpdateUser(ctx context.Context, tenantID int64, u switchboard.User) (switchboard.User, error) {
	return inTxValue(ctx, db, u, func(t *tx) (switchboard.User, error) { return t.updateUser(ctx, tenantID, u) })
}

// UpdateUserFunc implements switchboard.Store: fn changes the user as it is
// inside the transaction that writes it, which locks the row first.
func (db *DB) UpdateUserFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.User) error) (switchboard.User, error) {
	return modify(ctx, db, "users", "user", tenantID, id,
		func(t *tx) (switchboard.User, error) {
			return getOneTx(ctx, t, "users", db.userCols, "user", scanUser, tenantID, id)
		}, fn,
		func(t *tx, u switchboard.User) (switchboard.User, error) {
			u.ID = id
			return t.updateUser(ctx, tenantID, u)
		})
}

// updateUser replaces the writable fields of user u.ID with u's inside t.
func (t *tx) updateUser(ctx context.Context, tenantID int64, u switchboard.User) (switchboard.User, error) {
	if err := prepareUser(&u); err != nil {
		return u, err
	}
	tx, db := t, t.db
	old, err := scanUser(tx.queryRow(ctx, "SELECT "+db.userCols+" FROM users WHERE tenant_id = ? AND id = ?", tenantID, u.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return u, notFound("user", u.ID)
	}
	if err != nil {
		return u, fmt.Errorf("get user: %w", err)
	}
	if err := tx.checkUserRefs(ctx, tenantID, &u, u.ID); err != nil {
		return u, err
	}
	u.TenantID, u.UUID, u.CreatedAt, u.UpdatedAt, u.Presence = tenantID, old.UUID, old.CreatedAt, tx.now, old.Presence
	// The stored hashes cover the old sip_username: keeping them under a
	// new name would leave a phone that can never register, silently.
	var hashed bool
	if err := tx.queryRow(ctx, "SELECT sip_ha1 <> '' FROM users WHERE id = ?", u.ID).Scan(&hashed); err != nil {
		return u, fmt.Errorf("get user: %w", err)
	}
	if hashed && u.SIPPassword == "" && u.SIPUsername != old.SIPUsername {
		return u, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "a new sip_username needs a new sip_password",
			Fields: map[string]string{"sip_password": "is required when sip_username changes: the stored password hash covers the old name"}}
	}
	event := switchboard.EventUserUpdated
	switch {
	case u.DeactivatedAt != nil && old.DeactivatedAt != nil:
		u.DeactivatedAt = old.DeactivatedAt
	case u.DeactivatedAt != nil:
		now := tx.now
		u.DeactivatedAt = &now
		event = switchboard.EventUserDeactivated
	}
	roles, _ := json.Marshal(u.Roles)
	numbers, _ := json.Marshal(u.PhoneNumbers)
	if _, err := tx.exec(ctx, `UPDATE users SET email = ?, first_name = ?, last_name = ?, agent_number = ?, extension = ?,
		location = ?, roles = ?, max_chats = ?, phone_numbers = ?, outbound_number = ?, time_zone = ?, sip_username = ?,
		updated_at = ?, deactivated_at = ?, click_to_call_disabled = ?, voicemail_enabled = ?,
		forward_enabled = ?, forward_number = ? WHERE tenant_id = ? AND id = ?`,
		u.Email, u.FirstName, u.LastName, u.AgentNumber, u.Extension, u.Location, string(roles), u.MaxChats,
		string(numbers), u.OutboundNumber, u.TimeZone, u.SIPUsername, micros(tx.now),
		nullMicros(u.DeactivatedAt), u.ClickToCallDisabled, u.VoicemailEnabled, u.ForwardEnabled, u.ForwardNumber,
		tenantID, u.ID); err != nil {
		return u, fmt.Errorf("update user: %w", err)
	}
	if u.SIPPassword != "" {
		h := db.sipHashes(u)
		if _, err := tx.exec(ctx, "UPDATE users SET sip_realm = ?, sip_ha1 = ?, sip_ha1_sha256 = ? WHERE tenant_id = ? AND id = ?",
			h.realm, h.md5, h.sha256, tenantID, u.ID); err != nil {
			return u, fmt.Errorf("set SIP password: %w", err)
		}
		u.SIPPassword = ""
	}
	if err := tx.writeUserLinks(ctx, &u); err != nil {
		return u, err
	}
	return u, tx.appendEvent(ctx, tenantID, event, "user", u.ID, u)
}

// sipHash is a SIP password as the store keeps it: its digest hashes and
// the realm they were computed in; all empty when u sets no password.
type sipHash struct{ realm, md5, sha256 string }

// sipHashes hashes u's new SIP password, if it sets one, in the store's
// realm. A password without a sip_username (a user with no extension) is
// refused by Validate, so the name the hash covers is the one stored.
func (db *DB) sipHashes(u switchboard.User) sipHash {
	if u.SIPPassword == "" {
		return sipHash{}
	}
	m, s := switchboard.SIPDigestHA1(u.SIPUsername, db.sipRealm, u.SIPPassword)
	return sipHash{db.sipRealm, m, s}
}

// SIPAccounts implements switchboard.Store. Deactivated users and users
// without a password are left out: neither may register.
func (db *DB) SIPAccounts(ctx context.Context, username string) ([]switchboard.SIPAccount, error) {
	rows, err := db.query(ctx, `SELECT u.tenant_id, t.slug, u.id, u.sip_username, u.extension, u.sip_realm, u.sip_ha1,
		u.sip_ha1_sha256 FROM users u JOIN tenants t ON t.id = u.tenant_id
		WHERE u.sip_username = ? AND u.sip_ha1 <> '' AND u.deactivated_at IS NULL ORDER BY u.tenant_id`, username)
	if err != nil {
		return nil, fmt.Errorf("SIP accounts: %w", err)
	}
	defer rows.Close()
	var out []switchboard.SIPAccount
	for rows.Next() {
		var a switchboard.SIPAccount
		if err := rows.Scan(&a.TenantID, &a.TenantSlug, &a.UserID, &a.Username, &a.Extension, &a.Realm, &a.HA1,
			&a.HA1SHA256); err != nil {
			return nil, fmt.Errorf("SIP accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("SIP accounts: %w", err)
	}
	return out, nil
}

// SaveSIPBindings implements switchboard.Store. Bindings are the
// registrar's runtime state, in no API and no event: they are written
// without one.
func (db *DB) SaveSIPBindings(ctx context.Context, bindings map[string][]switchboard.SIPBinding) error {
	if len(bindings) == 0 {
		return nil
	}
	return db.inTx(ctx, func(t *tx) error {
		for device, bs := range bindings {
			if _, err := t.exec(ctx, "DELETE FROM sip_bindings WHERE device = ?", device); err != nil {
				return fmt.Errorf("clear SIP bindings: %w", err)
			}
			for _, b := range bs {
				if _, err := t.exec(ctx, `INSERT INTO sip_bindings (device, contact, source, transport, expires_at, call_id,
					user_agent) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device, contact) DO UPDATE SET source = excluded.source,
					transport = excluded.transport, expires_at = excluded.expires_at, call_id = excluded.call_id,
					user_agent = excluded.user_agent`,
					device, b.Contact, b.Source, b.Transport, micros(b.ExpiresAt), b.CallID, b.UserAgent); err != nil {
					return fmt.Errorf("save SIP binding: %w", err)
				}
			}
		}
		// Whatever lapsed is of no use to anyone.
		if _, err := t.exec(ctx, "DELETE FROM sip_bindings WHERE expires_at <= ?", micros(t.now)); err != nil {
			return fmt.Errorf("drop lapsed SIP bindings: %w", err)
		}
		return nil
	})
}

// SIPBindings implements switchboard.Store.
func (db *DB) SIPBindings(ctx context.Context, now time.Time) ([]switchboard.SIPBinding, error) {
	rows, err := db.query(ctx, `SELECT device, contact, source, transport, expires_at, call_id, user_agent
		FROM sip_bindings WHERE expires_at > ? ORDER BY device, expires_at`, micros(now))
	if err != nil {
		return nil, fmt.Errorf("SIP bindings: %w", err)
	}
	defer rows.Close()
	var out []switchboard.SIPBinding
	for rows.Next() {
		var b switchboard.SIPBinding
		var exp int64
		if err := rows.Scan(&b.Device, &b.Contact, &b.Source, &b.Transport, &exp, &b.CallID, &b.UserAgent); err != nil {
			return nil, fmt.Errorf("SIP bindings: %w", err)
		}
		b.ExpiresAt = fromMicros(exp)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("SIP bindings: %w", err)
	}
	return out, nil
}

// batchIDs bounds the ids one batch read binds: far below either engine's
// limit on parameters, and far above a page (the dialects ask for at most a
// page's worth, which is one query).
const batchIDs = 500

// UsersByID implements switchboard.Store: one query per batchIDs ids, the
// users in ids' order (an id given twice is listed twice), ids outside the
// tenant left out as if they did not exist.
func (db *DB) UsersByID(ctx context.Context, tenantID int64, ids []int64) ([]switchboard.User, error) {
	byID := make(map[int64]switchboard.User, len(ids))
	for chunk := range slices.Chunk(uniqueIDs(ids), batchIDs) {
		args := append([]any{tenantID}, idArgs(chunk)...)
		rows, err := db.query(ctx, "SELECT "+db.userCols+" FROM users WHERE tenant_id = ? AND id IN ("+placeholders(len(chunk))+")", args...)
		if err != nil {
			return nil, fmt.Errorf("users by id: %w", err)
		}
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("users by id: %w", err)
			}
			byID[u.ID] = u
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("users by id: %w", err)
		}
	}
	out := make([]switchboard.User, 0, len(byID))
	for _, id := range ids {
		if u, ok := byID[id]; ok {
			out = append(out, u)
		}
	}
	return out, nil
}

// QueueMemberships implements switchboard.Store: one query per batchIDs ids.
// Every id of userIDs is a key, with an empty list when the user is in no
// queue of the tenant (or is not the tenant's); each list is in queue id
// order.
func (db *DB) QueueMemberships(ctx context.Context, tenantID int64, userIDs []int64) (map[int64][]int64, error) {
	out := make(map[int64][]int64, len(userIDs))
	for _, id := range userIDs {
		out[id] = []int64{}
	}
	for chunk := range slices.Chunk(uniqueIDs(userIDs), batchIDs) {
		args := append([]any{tenantID}, idArgs(chunk)...)
		// queue_members has no tenant column: the queue's tenant is the
		// member's, as AddQueueMember checks both.
		rows, err := db.query(ctx, `SELECT m.user_id, m.queue_id FROM queue_members m JOIN queues q ON q.id = m.queue_id
			WHERE q.tenant_id = ? AND m.user_id IN (`+placeholders(len(chunk))+`) ORDER BY m.user_id, m.queue_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("queue memberships: %w", err)
		}
		for rows.Next() {
			var user, queue int64
			if err := rows.Scan(&user, &queue); err != nil {
				rows.Close()
				return nil, fmt.Errorf("queue memberships: %w", err)
			}
			out[user] = append(out[user], queue)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("queue memberships: %w", err)
		}
	}
	return out, nil
}

// uniqueIDs returns ids without repeats, in first-seen order.
func uniqueIDs(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// idArgs returns ids as query arguments.
func idArgs(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
