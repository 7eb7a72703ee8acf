package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"switchboard"
)

const tenantCols = "id, slug, uuid, name, admin_email, timezone, balance_cents, currency, created_at, updated_at, public_status, sms_daily_per_recipient, company_secret"

func scanTenant(s scanner) (switchboard.Tenant, error) {
	var t switchboard.Tenant
	var created, updated int64
	var smsCap int
	var secret string
	err := s.Scan(&t.ID, &t.Slug, &t.UUID, &t.Name, &t.AdminEmail, &t.Timezone, &t.BalanceCents, &t.Currency, &created, &updated,
		&t.PublicStatus, &smsCap, &secret)
	t.CreatedAt, t.UpdatedAt, t.SMSDailyPerRecipient = fromMicros(created), fromMicros(updated), &smsCap
	t.CompanySecret = &secret
	return t, err
}

// CreateTenant implements switchboard.Store. The new tenant gets the system agent
// statuses, so that presence works from its first minute, and a new UUID
// (whatever t.UUID says: the store names it, once).
func (db *DB) CreateTenant(ctx context.Context, t switchboard.Tenant) (switchboard.Tenant, error) {
	t.Normalize()
	if err := t.Validate(); err != nil {
		return t, err
	}
	err := db.inTx(ctx, func(tx *tx) error {
		t.CreatedAt, t.UpdatedAt, t.UUID = tx.now, tx.now, uuid.NewString()
		if t.SMSDailyPerRecipient == nil {
			n := switchboard.DefaultSMSDailyPerRecipient
			t.SMSDailyPerRecipient = &n
		}
		if t.CompanySecret == nil {
			t.CompanySecret = new(string)
		}
		id, err := tx.insert(ctx, `INSERT INTO tenants (slug, uuid, name, admin_email, timezone, balance_cents, currency, created_at, updated_at,
			public_status, sms_daily_per_recipient, company_secret) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.Slug, t.UUID, t.Name, t.AdminEmail, t.Timezone,
			t.BalanceCents, t.Currency, micros(tx.now), micros(tx.now), t.PublicStatus, *t.SMSDailyPerRecipient, *t.CompanySecret)
		if err != nil {
			return fmt.Errorf("insert tenant: %w", err)
		}
		t.ID = id
		if t.BalanceCents != 0 {
			// The ledger opens with the balance the tenant was made with.
			if _, err := tx.exec(ctx, `INSERT INTO billing_ledger (tenant_id, kind, amount_cents, reason, balance_after_cents,
				held_after_cents, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, id, string(switchboard.LedgerAdjustment), t.BalanceCents,
				"opening balance", t.BalanceCents, 0, micros(tx.now)); err != nil {
				return fmt.Errorf("open the ledger: %w", err)
			}
		}
		for _, s := range switchboard.SystemStatuses {
			if _, err := tx.exec(ctx, `INSERT INTO agent_statuses (tenant_id, name, system, available, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)`, id, s.Name, true, s.Available, micros(tx.now), micros(tx.now)); err != nil {
				return fmt.Errorf("insert system status: %w", err)
			}
		}
		return tx.appendEvent(ctx, id, switchboard.EventTenantCreated, "tenant", id, t)
	})
	return t, err
}

// Tenant implements switchboard.Store.
func (db *DB) Tenant(ctx context.Context, id int64) (switchboard.Tenant, error) {
	t, err := scanTenant(db.queryRow(ctx, "SELECT "+tenantCols+" FROM tenants WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("tenant", id)
	}
	if err != nil {
		return t, fmt.Errorf("get tenant: %w", err)
	}
	return t, nil
}

// TenantBySlug implements switchboard.Store.
func (db *DB) TenantBySlug(ctx context.Context, slug string) (switchboard.Tenant, error) {
	t, err := scanTenant(db.queryRow(ctx, "SELECT "+tenantCols+" FROM tenants WHERE slug = ?", slug))
	if errors.Is(err, sql.ErrNoRows) {
		return t, switchboard.Errorf(switchboard.CodeNotFound, "tenant %s not found", switchboard.Echo(slug))
	}
	if err != nil {
		return t, fmt.Errorf("get tenant: %w", err)
	}
	return t, nil
}

// Tenants implements switchboard.Store.
func (db *DB) Tenants(ctx context.Context, opt switchboard.ListOptions) (switchboard.Page[switchboard.Tenant], error) {
	return listPage(ctx, db, listQuery{cols: tenantCols, from: "FROM tenants WHERE 1 = 1", key: "id"}, opt, scanTenant,
		func(t switchboard.Tenant) int64 { return t.ID })
}

// UpdateTenant implements switchboard.Store.
func (db *DB) UpdateTenant(ctx context.Context, t switchboard.Tenant) (switchboard.Tenant, error) {
	return inTxValue(ctx, db, t, func(tx *tx) (switchboard.Tenant, error) { return tx.updateTenant(ctx, t) })
}

// UpdateTenantFunc implements switchboard.Store (see UpdateUserFunc).
func (db *DB) UpdateTenantFunc(ctx context.Context, id int64, fn func(*switchboard.Tenant) error) (switchboard.Tenant, error) {
	return modify(ctx, db, "tenants", "tenant", id, id,
		func(tx *tx) (switchboard.Tenant, error) { return tx.tenant(ctx, id) }, fn,
		func(tx *tx, t switchboard.Tenant) (switchboard.Tenant, error) {
			t.ID = id
			return tx.updateTenant(ctx, t)
		})
}

func (tx *tx) tenant(ctx context.Context, id int64) (switchboard.Tenant, error) {
	t, err := scanTenant(tx.queryRow(ctx, "SELECT "+tenantCols+" FROM tenants WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("tenant", id)
	}
	if err != nil {
		return t, fmt.Errorf("get tenant: %w", err)
	}
	return t, nil
}

func (tx *tx) updateTenant(ctx context.Context, t switchboard.Tenant) (switchboard.Tenant, error) {
	t.Normalize()
	if err := t.Validate(); err != nil {
		return t, err
	}
	old, err := tx.tenant(ctx, t.ID)
	if err != nil {
		return t, err
	}
	// The UUID is the tenant's for good: an update cannot change it.
	t.UUID, t.CreatedAt, t.UpdatedAt = old.UUID, old.CreatedAt, tx.now
	if t.SMSDailyPerRecipient == nil {
		t.SMSDailyPerRecipient = old.SMSDailyPerRecipient
	}
	if t.CompanySecret == nil {
		t.CompanySecret = old.CompanySecret
	}
	if t.Currency != old.Currency {
		// The balance and the ledger are in the old currency: converting
		// them is a decision for the operator, not a relabelling.
		a, err := tx.lockAccount(ctx, t.ID)
		if err != nil {
			return t, err
		}
		if a.AmountCents != 0 || a.HeldCents != 0 {
			return t, &switchboard.Error{Code: switchboard.CodeConflict, Message: "the currency of a balance that is not zero cannot change",
				Fields: map[string]string{"currency": "the balance is not zero"}}
		}
	}
	if t.BalanceCents != old.BalanceCents {
		// The operator set the balance: the ledger records the difference.
		if err := tx.adjustTo(ctx, t.ID, t.BalanceCents); err != nil {
			return t, err
		}
	}
	if _, err := tx.exec(ctx, `UPDATE tenants SET slug = ?, name = ?, admin_email = ?, timezone = ?, balance_cents = ?,
		currency = ?, updated_at = ?, public_status = ?, sms_daily_per_recipient = ?, company_secret = ? WHERE id = ?`, t.Slug, t.Name,
		t.AdminEmail, t.Timezone, t.BalanceCents, t.Currency, micros(tx.now), t.PublicStatus, *t.SMSDailyPerRecipient, *t.CompanySecret, t.ID); err != nil {
		return t, fmt.Errorf("update tenant: %w", err)
	}
	return t, tx.appendEvent(ctx, t.ID, switchboard.EventTenantUpdated, "tenant", t.ID, t)
}
