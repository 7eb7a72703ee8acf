// Package sqlstoretest opens real stores for tests: a SQLite file in a temporary
// directory always, and a fresh PostgreSQL database when SWITCHBOARD_TEST_POSTGRES
// holds a connection URL. Every test gets its own database, so tests never see
// each other's rows and can run in parallel.
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver

	"switchboard/internal/sqlstore"
)

// PostgresEnv names the variable holding the PostgreSQL server URL for tests.
const PostgresEnv = "SWITCHBOARD_TEST_POSTGRES"

// Engines returns the database URLs a conformance test should run against, by
// engine name: sqlite always, postgres when PostgresEnv is set. Each URL names a
// new, empty database that is dropped when tb ends.
func Engines(tb testing.TB) map[string]func(testing.TB) string {
	tb.Helper()
	out := map[string]func(testing.TB) string{"sqlite": SQLiteURL}
	if os.Getenv(PostgresEnv) != "" {
		out["postgres"] = PostgresURL
	} else {
		tb.Logf("%s is not set: the PostgreSQL leg is skipped", PostgresEnv)
	}
	return out
}

// SQLiteURL returns the URL of a new SQLite database file in tb's temp dir.
func SQLiteURL(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "switchboard.db")
}

// PostgresURL creates a new database on the server named by PostgresEnv and
// returns its URL; the database is dropped when tb ends. It skips tb when the
// variable is not set.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		tb.Skipf("%s is not set", PostgresEnv)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("open %s: %v", PostgresEnv, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "sbtest_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("drop test database %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s must be a postgres:// URL: %v", PostgresEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Open opens the store at dbURL and closes it when tb ends.
func Open(tb testing.TB, dbURL string, opt sqlstore.Options) *sqlstore.DB {
	tb.Helper()
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	db, err := sqlstore.Open(context.Background(), dbURL, opt)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// SetNextID makes the next row inserted into table (users, queues, …) of the
// migrated database at dbURL get id next, as if earlier rows had taken the
// ones before. Vendors' documents show fixed ids in their examples (Voiso's
// user 1234), and a test that replays them verbatim needs exactly those.
func SetNextID(tb testing.TB, dbURL, table string, next int64) {
	tb.Helper()
	engine, dsn, err := sqlstore.ParseURL(dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	driver, stmt := "sqlite", "INSERT INTO sqlite_sequence (name, seq) VALUES ('"+table+"', ?)"
	arg := next - 1
	if engine == sqlstore.Postgres {
		driver, stmt = "pgx", "SELECT setval(pg_get_serial_sequence('"+table+"', 'id'), $1, false)"
		arg = next
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if engine != sqlstore.Postgres {
		// sqlite_sequence keeps one row per table, without a key: replace by hand.
		if _, err := raw.ExecContext(ctx, "DELETE FROM sqlite_sequence WHERE name = '"+table+"'"); err != nil {
			tb.Fatalf("set next %s id: %v", table, err)
		}
	}
	if _, err := raw.ExecContext(ctx, stmt, arg); err != nil {
		tb.Fatalf("set next %s id: %v", table, err)
	}
}
