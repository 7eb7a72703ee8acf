package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
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
