package demo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/voice360"
)

// keyFile is the file that keeps the demo's secrets from one start to the
// next, so that a $KEY pasted from one start's output keeps working after a
// restart. The store keeps only hashes, so the secrets must live somewhere;
// they are random (nothing is derived from guessable data such as the slug or
// the database path), and the file is readable by its owner only (0600). It
// sits beside the database, which anyone able to read it could use anyway.
type keyFile struct {
	TenantID int64             `json:"tenant_id"`
	Keys     map[string]string `json:"keys"` // "native", …, "voice360 user" -> secret
}

// KeysPath is where the demo keeps its secrets for database db (a URL as
// sqlstore.Open takes it): next to
// a SQLite file (PATH.demo-keys.json), or for PostgreSQL in the data
// directory, named after the database so that two databases do not share
// keys. An in-memory database has no such place.
func KeysPath(db string, getenv func(string) string) string {
	engine, dsn, err := sqlstore.ParseURL(db)
	if err != nil {
		return ""
	}
	if engine == sqlstore.SQLite {
		path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
		if path == "" || strings.Contains(path, ":memory:") || strings.Contains(dsn, "mode=memory") {
			return ""
		}
		return path + ".demo-keys.json"
	}
	dir := getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "share")
	}
	sum := sha256.Sum256([]byte(db))
	return filepath.Join(dir, "switchboard", "demo-keys-"+hex.EncodeToString(sum[:8])+".json")
}

// seedKeys gives the demo one working key per dialect and a Voice360 user key
// of user: the ones kept in ko.File when they still work (and ko.Rotate is
// off), new ones otherwise. Every other demo key is revoked, so there is
// never a pile of them.
func (d *Center) seedKeys(ctx context.Context, s switchboard.Store, user int64, ko KeyOptions) error {
	id := d.tenant.ID
	var kept keyFile
	if ko.File != "" && !ko.Rotate {
		if raw, err := os.ReadFile(ko.File); err == nil {
			json.Unmarshal(raw, &kept) // a damaged file only costs new keys
			if fi, err := os.Stat(ko.File); err == nil && fi.Mode().Perm()&0o077 != 0 {
				os.Chmod(ko.File, 0o600) // loosened by hand: the secrets are the owner's alone
			}
		}
	}
	want := map[string]switchboard.APIKey{}
	for _, dd := range dialects {
		k := switchboard.APIKey{Name: "demo " + dd.name}
		if dd.name == "voice360" {
			k.SecretPrefix = voice360.SecretPrefix // a developer key, as Voice360 spells them
		}
		want[dd.name] = k
	}
	// The user key gets the scopes every user key gets (switchboard.UserKeyScopes).
	want["voice360 user"] = switchboard.APIKey{Name: "demo voice360 user", UserID: &user}

	keep := map[int64]bool{}
	if kept.TenantID == id {
		for name, secret := range kept.Keys {
			w, ok := want[name]
			if !ok {
				continue
			}
			k, err := s.AuthenticateKey(ctx, secret)
			if err != nil || k.TenantID != id || k.Name != w.Name || !sameUser(k.UserID, w.UserID) ||
				(k.UserID != nil && !slices.Equal(k.Scopes, switchboard.UserKeyScopes)) {
				continue
			}
			d.keys[name], keep[k.ID] = secret, true
		}
	}
	keys, err := switchboard.All(ctx, s.APIKeys, id)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if strings.HasPrefix(k.Name, "demo ") && k.RevokedAt == nil && !keep[k.ID] {
			if _, err := s.RevokeAPIKey(ctx, id, k.ID); err != nil {
				return err
			}
		}
	}
	minted := 0
	for name, k := range want {
		if _, ok := d.keys[name]; ok {
			continue
		}
		nk, err := s.CreateAPIKey(ctx, id, k)
		if k.UserID != nil && switchboard.ErrorCode(err) == switchboard.CodeInvalid {
			continue // the agent was deactivated: no user key to show
		}
		if err != nil {
			return fmt.Errorf("demo key %s: %w", name, err)
		}
		d.keys[name] = nk.Secret
		minted++
	}
	switch {
	case ko.File == "":
		d.keysNote = "new keys (nowhere to keep them: they change on every start)"
		return nil
	case minted == 0:
		d.keysNote = "kept from the previous start in " + ko.File + "; --demo-rotate-keys replaces them"
		return nil
	}
	raw, _ := json.MarshalIndent(keyFile{TenantID: id, Keys: d.keys}, "", "  ")
	if err := writePrivate(ko.File, raw); err != nil {
		d.keysNote = fmt.Sprintf("new keys, which will change on the next start: %v", err)
		return nil
	}
	d.keysNote = "new keys, kept in " + ko.File + " for the next starts; --demo-rotate-keys replaces them"
	return nil
}

func sameUser(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// writePrivate replaces path with data, readable by its owner only, so that a
// reader never sees half a file.
func writePrivate(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// AdminToken makes up a platform-admin token for a demo started without one,
// so that the admin API can be tried too; the demo prints it.
func AdminToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
