package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"switchboard"
)

// ClaimIdempotencyKey records k as being served and reports true, unless a
// request holds the key already that is neither expired (created before
// expired) nor abandoned (still running and created before abandoned); then
// it returns that request's record and false. Claims of one key are
// serialized, so that of two concurrent requests exactly one is served.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, k switchboard.IdempotencyKey, now, expired, abandoned time.Time) (switchboard.IdempotentResponse, bool, error) {
	var prev switchboard.IdempotentResponse
	var claimed bool
	err := db.inTx(ctx, func(t *tx) error {
		prev, claimed = switchboard.IdempotentResponse{}, false
		if err := t.serialize(ctx, "idempotency/"+fmt.Sprint(k.APIKeyID)+"/"+k.Key, k.TenantID); err != nil {
			return err
		}
		var created int64
		var body []byte
		err := t.queryRow(ctx, `SELECT request_hash, status, content_type, body, created_at FROM idempotency_keys
			WHERE tenant_id = ? AND api_key_id = ? AND idem_key = ?`, k.TenantID, k.APIKeyID, k.Key).
			Scan(&prev.RequestHash, &prev.Status, &prev.ContentType, &body, &created)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read idempotency key: %w", err)
		default:
			prev.Body, prev.CreatedAt = body, fromMicros(created)
			live := prev.CreatedAt.After(expired) || prev.CreatedAt.Equal(expired)
			running := prev.Status == 0 && prev.CreatedAt.After(abandoned)
			if live && (prev.Status != 0 || running) {
				return nil
			}
		}
		claimed = true
		_, err = t.exec(ctx, `INSERT INTO idempotency_keys (tenant_id, api_key_id, idem_key, request_hash, status, content_type, body, created_at)
			VALUES (?, ?, ?, ?, 0, '', NULL, ?)
			ON CONFLICT (tenant_id, api_key_id, idem_key) DO UPDATE SET request_hash = excluded.request_hash, status = 0,
				content_type = '', body = NULL, created_at = excluded.created_at`,
			k.TenantID, k.APIKeyID, k.Key, k.RequestHash, micros(now))
		if err != nil {
			return fmt.Errorf("claim idempotency key: %w", err)
		}
		return nil
	})
	if err != nil {
		return switchboard.IdempotentResponse{}, false, err
	}
	return prev, claimed, nil
}

// SaveIdempotentResponse stores the answer to the request that claimed k.
func (db *DB) SaveIdempotentResponse(ctx context.Context, k switchboard.IdempotencyKey, resp switchboard.IdempotentResponse) error {
	return db.inTx(ctx, func(t *tx) error {
		body := resp.Body
		if body == nil {
			body = []byte{}
		}
		_, err := t.exec(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, body = ?
			WHERE tenant_id = ? AND api_key_id = ? AND idem_key = ? AND request_hash = ? AND status = 0`,
			resp.Status, resp.ContentType, body, k.TenantID, k.APIKeyID, k.Key, k.RequestHash)
		if err != nil {
			return fmt.Errorf("save idempotent answer: %w", err)
		}
		return nil
	})
}

// ReleaseIdempotencyKey forgets the request still holding k, so that it may
// be tried again.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, k switchboard.IdempotencyKey) error {
	return db.inTx(ctx, func(t *tx) error {
		_, err := t.exec(ctx, `DELETE FROM idempotency_keys
			WHERE tenant_id = ? AND api_key_id = ? AND idem_key = ? AND request_hash = ? AND status = 0`,
			k.TenantID, k.APIKeyID, k.Key, k.RequestHash)
		if err != nil {
			return fmt.Errorf("release idempotency key: %w", err)
		}
		return nil
	})
}

// PurgeIdempotencyKeys deletes the keys created before before and reports
// how many.
func (db *DB) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(t *tx) error {
		res, err := t.exec(ctx, "DELETE FROM idempotency_keys WHERE created_at < ?", micros(before))
		if err != nil {
			return fmt.Errorf("purge idempotency keys: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
