package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"

	"switchboard"
)

// Migrate applies the embedded migrations that the database has not seen yet,
// each in its own transaction, in file-name order. It is safe to run on every
// start and from several processes at once on PostgreSQL (an advisory lock
// serializes them).
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	dir := "migrations/" + string(db.engine)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)

	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if db.engine == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(727274)")
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, name := range names {
		var seen int
		q := db.rebind("SELECT COUNT(*) FROM schema_migrations WHERE version = ?")
		if err := conn.QueryRowContext(ctx, q, name).Scan(&seen); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if seen > 0 {
			continue
		}
		body, err := migrations.ReadFile(dir + "/" + name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if step := goSteps[name]; step != nil {
			if err := step(ctx, db, tx); err != nil {
				tx.Rollback()
				return fmt.Errorf("migrate %s: %w", name, err)
			}
		}
		ins := db.rebind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
		if _, err := tx.ExecContext(ctx, ins, name, db.now().UnixMicro()); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		log.Info("applied migration", "engine", db.engine, "version", name)
		db.applied = append(db.applied, name)
	}
	return nil
}

// AppliedMigrations lists the migrations this DB applied (at Open or by
// Migrate), oldest first; none when the database was already up to date.
func (db *DB) AppliedMigrations() []string { return append([]string(nil), db.applied...) }

// goSteps are the parts of migrations SQL cannot do on both engines, run
// after the migration's SQL in its transaction: the migration and its step
// commit together or not at all.
var goSteps = map[string]func(ctx context.Context, db *DB, tx *sql.Tx) error{
	"0012_sip_ha1.sql": sipHA1Migration,
}

// sipHA1Migration replaces every plaintext SIP password by its digest hashes
// in the store's realm, then drops the plaintext column. SQLite has no MD5
// function, hence Go. It runs before the store serves anything, so no cached
// answer can predate it (and the hashes are in no answer anyway).
func sipHA1Migration(ctx context.Context, db *DB, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, sip_username, sip_password FROM users WHERE sip_password <> ''")
	if err != nil {
		return fmt.Errorf("read SIP passwords: %w", err)
	}
	type secret struct {
		id             int64
		user, password string
	}
	var secrets []secret
	for rows.Next() {
		var s secret
		if err := rows.Scan(&s.id, &s.user, &s.password); err != nil {
			rows.Close()
			return fmt.Errorf("read SIP passwords: %w", err)
		}
		secrets = append(secrets, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read SIP passwords: %w", err)
	}
	set := db.rebind("UPDATE users SET sip_realm = ?, sip_ha1 = ?, sip_ha1_sha256 = ? WHERE id = ?")
	for _, s := range secrets {
		// A password without a username (a user with no extension) can
		// authenticate nobody: it is dropped with the column.
		if s.user == "" {
			continue
		}
		ha1, ha256 := switchboard.SIPDigestHA1(s.user, db.sipRealm, s.password)
		if _, err := tx.ExecContext(ctx, set, db.sipRealm, ha1, ha256, s.id); err != nil {
			return fmt.Errorf("hash SIP password of user %d: %w", s.id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "ALTER TABLE users DROP COLUMN sip_password"); err != nil {
		return fmt.Errorf("drop plaintext SIP passwords: %w", err)
	}
	return nil
}
