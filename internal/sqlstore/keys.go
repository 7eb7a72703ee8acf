package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"switchboard"
)

// KeyPrefixLen is how many leading characters of a default (sbk_) secret are
// stored in clear: enough to find the row by index and to recognise a key in a
// list, far too few to guess the rest (the secret carries 256 random bits).
// Secrets with a longer marker keep as many random characters in clear.
const KeyPrefixLen = 11

// lookupLen is how many characters of a secret with marker prefix are
// stored in clear.
func lookupLen(prefix string) int {
	return len(prefix) + KeyPrefixLen - len(switchboard.SecretPrefixDefault)
}

const keyCols = "id, tenant_id, user_id, name, prefix, hash, scopes, last_used_at, expires_at, revoked_at, created_at"

func scanKey(s scanner) (switchboard.APIKey, error) {
	var k switchboard.APIKey
	var user, used, expires, revoked sql.NullInt64
	var scopes string
	var created int64
	if err := s.Scan(&k.ID, &k.TenantID, &user, &k.Name, &k.Prefix, &k.Hash, &scopes, &used, &expires, &revoked, &created); err != nil {
		return k, err
	}
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return k, fmt.Errorf("key %d scopes: %w", k.ID, err)
	}
	k.UserID, k.LastUsedAt, k.ExpiresAt, k.RevokedAt = idPtr(user), timePtr(used), timePtr(expires), timePtr(revoked)
	k.CreatedAt = fromMicros(created)
	// The marker is the prefix less the random characters kept in clear.
	k.SecretPrefix = switchboard.SecretPrefixDefault
	if n := len(k.Prefix) - lookupLen(""); n > 0 {
		k.SecretPrefix = k.Prefix[:n]
	}
	return k, nil
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateAPIKey implements switchboard.Store. The returned secret is not stored
// anywhere and cannot be recovered later.
func (db *DB) CreateAPIKey(ctx context.Context, tenantID int64, k switchboard.APIKey) (switchboard.NewAPIKey, error) {
	if err := k.Validate(); err != nil {
		return switchboard.NewAPIKey{APIKey: k}, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return switchboard.NewAPIKey{}, fmt.Errorf("generate key: %w", err)
	}
	secret := k.SecretPrefix + base64.RawURLEncoding.EncodeToString(raw)
	k.Prefix, k.Hash, k.TenantID = secret[:lookupLen(k.SecretPrefix)], hashSecret(secret), tenantID
	k.LastUsedAt, k.RevokedAt = nil, nil
	err := db.inTx(ctx, func(t *tx) error {
		if k.UserID != nil {
			if err := t.checkOwned(ctx, tenantID, "users", "user_id", []int64{*k.UserID}); err != nil {
				return err
			}
			var deactivated sql.NullInt64
			if err := t.queryRow(ctx, "SELECT deactivated_at FROM users WHERE tenant_id = ? AND id = ?", tenantID, *k.UserID).Scan(&deactivated); err != nil {
				return fmt.Errorf("check key user: %w", err)
			}
			if deactivated.Valid {
				return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"user_id": "refers to a deactivated user, whose keys do not work"}}
			}
		}
		k.CreatedAt = t.now
		scopes, _ := json.Marshal(k.Scopes)
		id, err := t.insert(ctx, `INSERT INTO api_keys (tenant_id, user_id, name, prefix, hash, scopes, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, nullID(k.UserID), k.Name, k.Prefix, k.Hash, string(scopes),
			nullMicros(k.ExpiresAt), micros(t.now))
		if err != nil {
			return fmt.Errorf("insert key: %w", err)
		}
		k.ID = id
		return t.appendEvent(ctx, tenantID, switchboard.EventKeyCreated, "api_key", id, k)
	})
	return switchboard.NewAPIKey{APIKey: k, Secret: secret}, err
}

// APIKey implements switchboard.Store.
func (db *DB) APIKey(ctx context.Context, tenantID, id int64) (switchboard.APIKey, error) {
	return getOne(ctx, db, "api_keys", keyCols, "api_key", scanKey, tenantID, id)
}

// APIKeys implements switchboard.Store.
func (db *DB) APIKeys(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.APIKey], error) {
	return listAll(ctx, db, "api_keys", keyCols, scanKey, func(k switchboard.APIKey) int64 { return k.ID }, tenantID, opt)
}

// RevokeAPIKey implements switchboard.Store. Revoking twice keeps the first
// revocation time.
func (db *DB) RevokeAPIKey(ctx context.Context, tenantID, id int64) (switchboard.APIKey, error) {
	var k switchboard.APIKey
	err := db.inTx(ctx, func(t *tx) error {
		var err error
		k, err = getOneTx(ctx, t, "api_keys", keyCols, "api_key", scanKey, tenantID, id)
		if err != nil || k.RevokedAt != nil {
			return err
		}
		k.RevokedAt = &t.now
		if _, err := t.exec(ctx, "UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ?", micros(t.now), tenantID, id); err != nil {
			return fmt.Errorf("revoke key: %w", err)
		}
		return t.appendEvent(ctx, tenantID, switchboard.EventKeyRevoked, "api_key", id, k)
	})
	return k, err
}

var errBadKey = switchboard.Errorf(switchboard.CodeUnauthorized, "invalid API key")

// AuthenticateKey implements switchboard.Store. Hashes are compared in constant
// time so that timing does not reveal how much of a guess was right. A user
// key stops working when its user is deactivated (and works again when the
// user is reactivated): the key acts as that person, who has left.
func (db *DB) AuthenticateKey(ctx context.Context, secret string) (switchboard.APIKey, error) {
	k, err := db.matchKey(ctx, secret)
	if err != nil || k.UserID == nil {
		return k, err
	}
	var deactivated sql.NullInt64
	err = db.queryRow(ctx, "SELECT deactivated_at FROM users WHERE tenant_id = ? AND id = ?", k.TenantID, *k.UserID).Scan(&deactivated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return switchboard.APIKey{}, errBadKey
	case err != nil:
		return switchboard.APIKey{}, fmt.Errorf("authenticate: %w", err)
	case deactivated.Valid:
		return switchboard.APIKey{}, switchboard.Errorf(switchboard.CodeUnauthorized, "API key's user is deactivated")
	}
	return k, nil
}

// matchKey finds the usable key whose secret is secret.
func (db *DB) matchKey(ctx context.Context, secret string) (switchboard.APIKey, error) {
	// The secret's marker is one of the runs of words and underscores it
	// starts with; the random part may hold underscores too, so each run
	// that has a marker's shape is a candidate.
	var prefixes []any
	for i := 0; i < len(secret) && i < switchboard.MaxSecretPrefix; i++ {
		if secret[i] != '_' || !switchboard.ValidSecretPrefix(secret[:i+1]) {
			continue
		}
		if n := lookupLen(secret[:i+1]); len(secret) >= n {
			prefixes = append(prefixes, secret[:n])
		}
	}
	if len(prefixes) == 0 {
		return switchboard.APIKey{}, errBadKey
	}
	rows, err := db.query(ctx, "SELECT "+keyCols+" FROM api_keys WHERE prefix IN ("+placeholders(len(prefixes))+")", prefixes...)
	if err != nil {
		return switchboard.APIKey{}, fmt.Errorf("authenticate: %w", err)
	}
	defer rows.Close()
	want := hashSecret(secret)
	now := db.now()
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return k, fmt.Errorf("authenticate: %w", err)
		}
		if subtle.ConstantTimeCompare(k.Hash, want) == 1 {
			if !k.Usable(now) {
				return switchboard.APIKey{}, switchboard.Errorf(switchboard.CodeUnauthorized, "API key is revoked or expired")
			}
			return k, nil
		}
	}
	if err := rows.Err(); err != nil {
		return switchboard.APIKey{}, fmt.Errorf("authenticate: %w", err)
	}
	return switchboard.APIKey{}, errBadKey
}

// TouchAPIKey implements switchboard.Store. It writes no event: last use is
// bookkeeping, not a change anyone subscribes to.
func (db *DB) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	_, err := db.write.ExecContext(ctx, db.rebind("UPDATE api_keys SET last_used_at = ? WHERE id = ?"), micros(at), id)
	if err != nil {
		return fmt.Errorf("touch key: %w", err)
	}
	return nil
}
