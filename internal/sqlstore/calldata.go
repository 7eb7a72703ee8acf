package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"switchboard"
)

// Call data (issue 17) is one row per call in call_data, written only by the
// integration APIs: the engine's saves of a call rewrite the calls row and
// never touch it. No cached route reads it, and it is written without an
// event (audit_test.go's otherTables says so).

const callDataCols = `call_id, tenant_id, call_type, end_user_id, verified_customer, bad_actor, repeat_customer, custom_data,
	signed_data, ticket_id, language, recording_permission, updated_at`

func scanCallData(s scanner) (switchboard.CallData, error) {
	var d switchboard.CallData
	var endUser sql.NullInt64
	var custom, signed string
	var updated int64
	err := s.Scan(&d.CallID, &d.TenantID, &d.CallType, &endUser, &d.VerifiedCustomer, &d.BadActor, &d.RepeatCustomer, &custom,
		&signed, &d.TicketID, &d.Language, &d.RecordingPermission, &updated)
	if err != nil {
		return d, err
	}
	if endUser.Valid {
		d.EndUserID = &endUser.Int64
	}
	d.UpdatedAt = fromMicros(updated)
	if err := json.Unmarshal([]byte(custom), &d.CustomData); err != nil {
		return d, fmt.Errorf("call %d custom_data: %w", d.CallID, err)
	}
	if err := json.Unmarshal([]byte(signed), &d.SignedData); err != nil {
		return d, fmt.Errorf("call %d signed_data: %w", d.CallID, err)
	}
	return d, nil
}

// emptyCallData is the data of a call nothing was written about.
func emptyCallData(tenantID, callID int64) switchboard.CallData {
	return switchboard.CallData{CallID: callID, TenantID: tenantID, CustomData: map[string]switchboard.CustomField{},
		SignedData: map[string]switchboard.CustomField{}}
}

// CallData implements switchboard.Store.
func (db *DB) CallData(ctx context.Context, tenantID, callID int64) (switchboard.CallData, error) {
	d, err := scanCallData(db.queryRow(ctx, "SELECT "+callDataCols+" FROM call_data WHERE tenant_id = ? AND call_id = ?", tenantID, callID))
	switch {
	case err == nil:
		return d, nil
	case !errors.Is(err, sql.ErrNoRows):
		return d, fmt.Errorf("get call data: %w", err)
	}
	// None stored: the call's zero data, if the call is the tenant's.
	var id int64
	err = db.queryRow(ctx, "SELECT id FROM calls WHERE tenant_id = ? AND id = ?", tenantID, callID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return switchboard.CallData{}, notFound("call", callID)
	}
	if err != nil {
		return switchboard.CallData{}, fmt.Errorf("get call data: %w", err)
	}
	return emptyCallData(tenantID, callID), nil
}

// CallDataFor implements switchboard.Store: one query by primary key, the ids
// passed as one argument (idList) so that the statement's text is the same
// for every page.
func (db *DB) CallDataFor(ctx context.Context, tenantID int64, callIDs []int64) (map[int64]switchboard.CallData, error) {
	out := make(map[int64]switchboard.CallData, len(callIDs))
	if len(callIDs) == 0 {
		return out, nil
	}
	rows, err := db.query(ctx, "SELECT "+callDataCols+" FROM call_data WHERE "+db.idList("call_id")+" AND tenant_id = ?",
		db.idsArg(callIDs), tenantID)
	if err != nil {
		return nil, fmt.Errorf("list call data: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanCallData(rows)
		if err != nil {
			return nil, fmt.Errorf("list call data: %w", err)
		}
		out[d.CallID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list call data: %w", err)
	}
	return out, nil
}

// UpdateCallDataFunc implements switchboard.Store. The row is made to exist
// first (INSERT … ON CONFLICT DO NOTHING) and then locked, so that two
// concurrent updates of a call's data never lose each other's changes, on
// PostgreSQL by the row lock and on SQLite by its single writer.
func (db *DB) UpdateCallDataFunc(ctx context.Context, tenantID, callID int64, fn func(*switchboard.CallData) error) (switchboard.CallData, error) {
	return inTxValue(ctx, db, switchboard.CallData{}, func(t *tx) (switchboard.CallData, error) {
		var id int64
		err := t.queryRow(ctx, "SELECT id FROM calls WHERE tenant_id = ? AND id = ?", tenantID, callID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return switchboard.CallData{}, notFound("call", callID)
		}
		if err != nil {
			return switchboard.CallData{}, fmt.Errorf("update call data: %w", err)
		}
		if _, err := t.exec(ctx, `INSERT INTO call_data (call_id, tenant_id, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (call_id) DO NOTHING`, callID, tenantID, micros(t.now)); err != nil {
			return switchboard.CallData{}, fmt.Errorf("update call data: %w", err)
		}
		lock := ""
		if db.engine == Postgres {
			lock = " FOR UPDATE"
		}
		cur, err := scanCallData(t.queryRow(ctx, "SELECT "+callDataCols+" FROM call_data WHERE call_id = ?"+lock, callID))
		if err != nil {
			return cur, fmt.Errorf("update call data: %w", err)
		}
		if err := fn(&cur); err != nil {
			return cur, err
		}
		cur.CallID, cur.TenantID, cur.UpdatedAt = callID, tenantID, t.now
		if cur.CustomData == nil {
			cur.CustomData = map[string]switchboard.CustomField{}
		}
		if cur.SignedData == nil {
			cur.SignedData = map[string]switchboard.CustomField{}
		}
		if err := cur.Validate(); err != nil {
			return cur, err
		}
		if cur.EndUserID != nil {
			if err := t.checkOwned(ctx, tenantID, "end_users", "end_user_id", []int64{*cur.EndUserID}); err != nil {
				return cur, err
			}
		}
		custom, err := json.Marshal(cur.CustomData)
		if err != nil {
			return cur, fmt.Errorf("update call data: %w", err)
		}
		signed, err := json.Marshal(cur.SignedData)
		if err != nil {
			return cur, fmt.Errorf("update call data: %w", err)
		}
		if _, err := t.exec(ctx, `UPDATE call_data SET call_type = ?, end_user_id = ?, verified_customer = ?, bad_actor = ?,
			repeat_customer = ?, custom_data = ?, signed_data = ?, ticket_id = ?, language = ?, recording_permission = ?, updated_at = ?
			WHERE call_id = ?`, cur.CallType, cur.EndUserID, cur.VerifiedCustomer, cur.BadActor, cur.RepeatCustomer, string(custom),
			string(signed), cur.TicketID, cur.Language, cur.RecordingPermission, micros(t.now), callID); err != nil {
			return cur, fmt.Errorf("update call data: %w", err)
		}
		cur.UpdatedAt = fromMicros(micros(t.now))
		return cur, nil
	})
}

// CallByTicket finds the newest call of the tenant whose data names ticket
// (CodeNotFound when none does): how a CRM ticket resolves to the end user's
// number when an API places a call by ticket.
func (db *DB) CallByTicket(ctx context.Context, tenantID int64, ticket string) (switchboard.Call, error) {
	var id int64
	err := db.queryRow(ctx, "SELECT call_id FROM call_data WHERE tenant_id = ? AND ticket_id = ? ORDER BY call_id DESC LIMIT 1",
		tenantID, ticket).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return switchboard.Call{}, switchboard.Errorf(switchboard.CodeNotFound, "no call has ticket %s", switchboard.Echo(ticket))
	}
	if err != nil {
		return switchboard.Call{}, fmt.Errorf("call by ticket: %w", err)
	}
	return db.Call(ctx, tenantID, id)
}
