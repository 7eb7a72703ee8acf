package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard"
	"switchboard/internal/phone"
)

const trunkCols = `id, tenant_id, name, inbound_addresses, inbound_username, inbound_password, outbound_uri, username,
	password, register, default_outbound, caller_id, strip_plus, prefix, max_concurrent_calls, calls_per_second,
	options_interval_seconds, enabled, created_at, updated_at`

func scanTrunk(s scanner) (switchboard.Trunk, error) {
	var t switchboard.Trunk
	var addrs string
	var created, updated int64
	err := s.Scan(&t.ID, &t.TenantID, &t.Name, &addrs, &t.InboundUsername, &t.InboundPassword, &t.OutboundURI,
		&t.Username, &t.Password, &t.Register, &t.DefaultOutbound, &t.CallerID, &t.StripPlus, &t.Prefix,
		&t.MaxConcurrentCalls, &t.CallsPerSecond, &t.OptionsIntervalSeconds, &t.Enabled, &created, &updated)
	if err != nil {
		return t, err
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	t.PasswordSet, t.InboundPasswordSet = t.Password != "", t.InboundPassword != ""
	if err := decodeList(addrs, &t.InboundAddresses); err != nil {
		return t, fmt.Errorf("trunk %d addresses: %w", t.ID, err)
	}
	return t, nil
}

// prepareTrunk normalises and validates t, writing a typed caller-id number
// in E.164 as phone numbers are.
func prepareTrunk(t *switchboard.Trunk) error {
	t.Normalize()
	if t.CallerID != switchboard.CallerIDFromCall {
		if e164, err := phone.Normalize(t.CallerID, ""); err == nil {
			t.CallerID = e164
		}
	}
	if err := t.Validate(); err != nil {
		return err
	}
	t.PasswordSet, t.InboundPasswordSet = t.Password != "", t.InboundPassword != ""
	return nil
}

// clearDefaultOutbound takes default_outbound from the tenant's trunks other
// than keep, each with its trunk.updated event, so that at most one trunk
// is the default. The tenant's trunk_default lock orders the transactions
// that set a default, so two of them cannot both find nothing to clear.
func (t *tx) clearDefaultOutbound(ctx context.Context, tenantID, keep int64) error {
	if err := t.serialize(ctx, "trunk_default", tenantID); err != nil {
		return err
	}
	rows, err := t.query(ctx, "SELECT "+trunkCols+" FROM trunks WHERE tenant_id = ? AND default_outbound AND id <> ? ORDER BY id",
		tenantID, keep)
	if err != nil {
		return fmt.Errorf("find default trunk: %w", err)
	}
	var old []switchboard.Trunk
	for rows.Next() {
		tr, err := scanTrunk(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("find default trunk: %w", err)
		}
		old = append(old, tr)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find default trunk: %w", err)
	}
	for _, tr := range old {
		tr.DefaultOutbound, tr.UpdatedAt = false, t.now
		if _, err := t.exec(ctx, "UPDATE trunks SET default_outbound = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
			false, micros(t.now), tenantID, tr.ID); err != nil {
			return fmt.Errorf("clear default trunk: %w", err)
		}
		if err := t.appendEvent(ctx, tenantID, switchboard.EventTrunkUpdated, "trunk", tr.ID, tr); err != nil {
			return err
		}
	}
	return nil
}

// CreateTrunk implements switchboard.Store. Setting DefaultOutbound clears
// it on the tenant's other trunks in the same transaction.
func (db *DB) CreateTrunk(ctx context.Context, tenantID int64, tr switchboard.Trunk) (switchboard.Trunk, error) {
	tr.ID = 0
	if err := prepareTrunk(&tr); err != nil {
		return tr, err
	}
	addrs, _ := json.Marshal(tr.InboundAddresses)
	err := db.inTx(ctx, func(t *tx) error {
		if tr.DefaultOutbound {
			if err := t.clearDefaultOutbound(ctx, tenantID, 0); err != nil {
				return err
			}
		}
		tr.TenantID, tr.CreatedAt, tr.UpdatedAt = tenantID, t.now, t.now
		id, err := t.insert(ctx, `INSERT INTO trunks (tenant_id, name, inbound_addresses, inbound_username, inbound_password,
			outbound_uri, username, password, register, default_outbound, caller_id, strip_plus, prefix, max_concurrent_calls,
			calls_per_second, options_interval_seconds, enabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tenantID, tr.Name, string(addrs), tr.InboundUsername, tr.InboundPassword, tr.OutboundURI, tr.Username, tr.Password,
			tr.Register, tr.DefaultOutbound, tr.CallerID, tr.StripPlus, tr.Prefix, tr.MaxConcurrentCalls, tr.CallsPerSecond,
			tr.OptionsIntervalSeconds, tr.Enabled, micros(t.now), micros(t.now))
		if err != nil {
			return fmt.Errorf("insert trunk: %w", err)
		}
		tr.ID = id
		return t.appendEvent(ctx, tenantID, switchboard.EventTrunkCreated, "trunk", id, tr)
	})
	return tr, err
}

// Trunk implements switchboard.Store.
func (db *DB) Trunk(ctx context.Context, tenantID, id int64) (switchboard.Trunk, error) {
	return getOne(ctx, db, "trunks", trunkCols, "trunk", scanTrunk, tenantID, id)
}

// Trunks implements switchboard.Store.
func (db *DB) Trunks(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.Trunk], error) {
	return listAll(ctx, db, "trunks", trunkCols, scanTrunk, func(t switchboard.Trunk) int64 { return t.ID }, tenantID, opt)
}

// AllTrunks implements switchboard.Store: every tenant's trunks, with their
// passwords, ordered by id, for the SIP driver to load at start.
func (db *DB) AllTrunks(ctx context.Context) ([]switchboard.Trunk, error) {
	rows, err := db.query(ctx, "SELECT "+trunkCols+" FROM trunks ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list trunks: %w", err)
	}
	defer rows.Close()
	var out []switchboard.Trunk
	for rows.Next() {
		tr, err := scanTrunk(rows)
		if err != nil {
			return nil, fmt.Errorf("list trunks: %w", err)
		}
		out = append(out, tr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list trunks: %w", err)
	}
	return out, nil
}

// UpdateTrunk implements switchboard.Store. An empty password keeps the
// stored one (passwords are write-only, so a client cannot send it back);
// clearing the username clears the password with it, and likewise for the
// inbound pair.
func (db *DB) UpdateTrunk(ctx context.Context, tenantID int64, tr switchboard.Trunk) (switchboard.Trunk, error) {
	return inTxValue(ctx, db, tr, func(t *tx) (switchboard.Trunk, error) { return t.updateTrunk(ctx, tenantID, tr) })
}

// UpdateTrunkFunc implements switchboard.Store (see UpdateUserFunc).
func (db *DB) UpdateTrunkFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.Trunk) error) (switchboard.Trunk, error) {
	return modify(ctx, db, "trunks", "trunk", tenantID, id,
		func(t *tx) (switchboard.Trunk, error) {
			return getOneTx(ctx, t, "trunks", trunkCols, "trunk", scanTrunk, tenantID, id)
		}, fn,
		func(t *tx, tr switchboard.Trunk) (switchboard.Trunk, error) {
			tr.ID = id
			return t.updateTrunk(ctx, tenantID, tr)
		})
}

func (t *tx) updateTrunk(ctx context.Context, tenantID int64, tr switchboard.Trunk) (switchboard.Trunk, error) {
	old, err := getOneTx(ctx, t, "trunks", trunkCols, "trunk", scanTrunk, tenantID, tr.ID)
	if err != nil {
		return tr, err
	}
	switch {
	case tr.Username == "":
		tr.Password = ""
	case tr.Password == "":
		tr.Password = old.Password
	}
	switch {
	case tr.InboundUsername == "":
		tr.InboundPassword = ""
	case tr.InboundPassword == "":
		tr.InboundPassword = old.InboundPassword
	}
	if err := prepareTrunk(&tr); err != nil {
		return tr, err
	}
	if tr.DefaultOutbound && !old.DefaultOutbound {
		if err := t.clearDefaultOutbound(ctx, tenantID, tr.ID); err != nil {
			return tr, err
		}
	}
	addrs, _ := json.Marshal(tr.InboundAddresses)
	tr.TenantID, tr.CreatedAt, tr.UpdatedAt = tenantID, old.CreatedAt, t.now
	if _, err := t.exec(ctx, `UPDATE trunks SET name = ?, inbound_addresses = ?, inbound_username = ?, inbound_password = ?,
		outbound_uri = ?, username = ?, password = ?, register = ?, default_outbound = ?, caller_id = ?, strip_plus = ?,
		prefix = ?, max_concurrent_calls = ?, calls_per_second = ?, options_interval_seconds = ?, enabled = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`,
		tr.Name, string(addrs), tr.InboundUsername, tr.InboundPassword, tr.OutboundURI, tr.Username, tr.Password, tr.Register,
		tr.DefaultOutbound, tr.CallerID, tr.StripPlus, tr.Prefix, tr.MaxConcurrentCalls, tr.CallsPerSecond,
		tr.OptionsIntervalSeconds, tr.Enabled, micros(t.now), tenantID, tr.ID); err != nil {
		return tr, fmt.Errorf("update trunk: %w", err)
	}
	return tr, t.appendEvent(ctx, tenantID, switchboard.EventTrunkUpdated, "trunk", tr.ID, tr)
}

// DeleteTrunk implements switchboard.Store.
func (db *DB) DeleteTrunk(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "trunks", "trunk", switchboard.EventTrunkDeleted, func(t *tx) (any, error) {
		return getOneTx(ctx, t, "trunks", trunkCols, "trunk", scanTrunk, tenantID, id)
	})
}
