package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"switchboard"
	"switchboard/internal/phone"
)

const numberCols = "id, tenant_id, number, input, label, sms_enabled, mms_enabled, user_id, queue_id, created_at, updated_at, ivr_menu_id"

func scanNumber(s scanner) (switchboard.PhoneNumber, error) {
	var n switchboard.PhoneNumber
	var user, queue, menu sql.NullInt64
	var created, updated int64
	err := s.Scan(&n.ID, &n.TenantID, &n.Number, &n.Input, &n.Label, &n.SMSEnabled, &n.MMSEnabled, &user, &queue, &created, &updated, &menu)
	n.UserID, n.QueueID, n.CreatedAt, n.UpdatedAt = idPtr(user), idPtr(queue), fromMicros(created), fromMicros(updated)
	n.IVRMenuID = idPtr(menu)
	return n, err
}

// prepareNumber validates n and normalizes its number to E.164, keeping the
// caller's spelling in Input.
func prepareNumber(n *switchboard.PhoneNumber) error {
	if n.Input == "" {
		n.Input = n.Number
	}
	if err := n.Validate(); err != nil {
		return err
	}
	e164, err := phone.Normalize(n.Input, "")
	if err != nil {
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"number": "is not a valid phone number; use E.164 such as +390112121212"}}
	}
	n.Number = e164
	return nil
}

func (t *tx) checkNumberRefs(ctx context.Context, tenantID int64, n *switchboard.PhoneNumber) error {
	if n.UserID != nil {
		if err := t.checkOwned(ctx, tenantID, "users", "user_id", []int64{*n.UserID}); err != nil {
			return err
		}
	}
	if n.QueueID != nil {
		if err := t.checkOwned(ctx, tenantID, "queues", "queue_id", []int64{*n.QueueID}); err != nil {
			return err
		}
	}
	if n.IVRMenuID != nil {
		if err := t.checkOwned(ctx, tenantID, "ivr_menus", "ivr_menu_id", []int64{*n.IVRMenuID}); err != nil {
			return err
		}
	}
	return nil
}

// CreatePhoneNumber implements switchboard.Store. A number already owned by any
// tenant is a CodeConflict, since calls to it must route to exactly one place.
func (db *DB) CreatePhoneNumber(ctx context.Context, tenantID int64, n switchboard.PhoneNumber) (switchboard.PhoneNumber, error) {
	if err := prepareNumber(&n); err != nil {
		return n, err
	}
	err := db.inTx(ctx, func(t *tx) error {
		if err := t.checkNumberRefs(ctx, tenantID, &n); err != nil {
			return err
		}
		n.TenantID, n.CreatedAt, n.UpdatedAt = tenantID, t.now, t.now
		id, err := t.insert(ctx, `INSERT INTO phone_numbers (tenant_id, number, input, label, sms_enabled, mms_enabled,
			user_id, queue_id, created_at, updated_at, ivr_menu_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tenantID, n.Number, n.Input, n.Label, n.SMSEnabled, n.MMSEnabled, nullID(n.UserID), nullID(n.QueueID),
			micros(t.now), micros(t.now), nullID(n.IVRMenuID))
		if err != nil {
			return fmt.Errorf("insert phone number: %w", err)
		}
		n.ID = id
		return t.appendEvent(ctx, tenantID, switchboard.EventNumberCreated, "phone_number", id, n)
	})
	return n, err
}

// PhoneNumber implements switchboard.Store.
func (db *DB) PhoneNumber(ctx context.Context, tenantID, id int64) (switchboard.PhoneNumber, error) {
	return getOne(ctx, db, "phone_numbers", numberCols, "phone_number", scanNumber, tenantID, id)
}

// PhoneNumbers implements switchboard.Store.
func (db *DB) PhoneNumbers(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.PhoneNumber], error) {
	return listAll(ctx, db, "phone_numbers", numberCols, scanNumber, func(n switchboard.PhoneNumber) int64 { return n.ID }, tenantID, opt)
}

// UpdatePhoneNumber implements switchboard.Store.
func (db *DB) UpdatePhoneNumber(ctx context.Context, tenantID int64, n switchboard.PhoneNumber) (switchboard.PhoneNumber, error) {
	return inTxValue(ctx, db, n, func(t *tx) (switchboard.PhoneNumber, error) { return t.updatePhoneNumber(ctx, tenantID, n) })
}

// UpdatePhoneNumberFunc implements switchboard.Store (see UpdateUserFunc).
func (db *DB) UpdatePhoneNumberFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.PhoneNumber) error) (switchboard.PhoneNumber, error) {
	return modify(ctx, db, "phone_numbers", "phone_number", tenantID, id,
		func(t *tx) (switchboard.PhoneNumber, error) {
			return getOneTx(ctx, t, "phone_numbers", numberCols, "phone_number", scanNumber, tenantID, id)
		}, fn,
		func(t *tx, n switchboard.PhoneNumber) (switchboard.PhoneNumber, error) {
			n.ID = id
			return t.updatePhoneNumber(ctx, tenantID, n)
		})
}

func (t *tx) updatePhoneNumber(ctx context.Context, tenantID int64, n switchboard.PhoneNumber) (switchboard.PhoneNumber, error) {
	if err := prepareNumber(&n); err != nil {
		return n, err
	}
	old, err := getOneTx(ctx, t, "phone_numbers", numberCols, "phone_number", scanNumber, tenantID, n.ID)
	if err != nil {
		return n, err
	}
	if err := t.checkNumberRefs(ctx, tenantID, &n); err != nil {
		return n, err
	}
	n.TenantID, n.CreatedAt, n.UpdatedAt = tenantID, old.CreatedAt, t.now
	if _, err := t.exec(ctx, `UPDATE phone_numbers SET number = ?, input = ?, label = ?, sms_enabled = ?, mms_enabled = ?,
		user_id = ?, queue_id = ?, ivr_menu_id = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		n.Number, n.Input, n.Label, n.SMSEnabled, n.MMSEnabled, nullID(n.UserID), nullID(n.QueueID), nullID(n.IVRMenuID),
		micros(t.now), tenantID, n.ID); err != nil {
		return n, fmt.Errorf("update phone number: %w", err)
	}
	return n, t.appendEvent(ctx, tenantID, switchboard.EventNumberUpdated, "phone_number", n.ID, n)
}

// DeletePhoneNumber implements switchboard.Store.
func (db *DB) DeletePhoneNumber(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "phone_numbers", "phone_number", switchboard.EventNumberDeleted, func(t *tx) (any, error) {
		return getOneTx(ctx, t, "phone_numbers", numberCols, "phone_number", scanNumber, tenantID, id)
	})
}
