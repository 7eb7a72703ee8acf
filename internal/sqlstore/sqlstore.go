// Package sqlstore implements switchboard.Store on SQLite (modernc.org/sqlite, the
// embedded default) and PostgreSQL (pgx). Both engines run the same Go code and
// the same SQL, written with ? placeholders and rewritten for PostgreSQL; only the
// migrations differ, one embedded directory per engine.
//
// Every method that changes state appends its switchboard.Event in the same
// transaction (the outbox the webhook dispatcher, CDR projection and live stream
// read). Every query is scoped by tenant_id, so a caller holding tenant A can
// never read or change a row of tenant B: such rows are reported as not found.
//
// On SQLite the store holds two pools on one file: a single writer connection,
// so that writers queue in Go rather than fail with SQLITE_BUSY, and a read-only
// pool for concurrent reads (WAL lets them run beside the writer).
//
// Concurrency: the single writer makes every SQLite write transaction run
// alone. PostgreSQL runs them at once under READ COMMITTED, so every rule that
// reads before it writes takes a lock first: read-modify-writes lock their row
// (lockRow, the Update…Func methods), checks that no unique index can express
// run under a per-tenant advisory lock (serialize), and checked references are
// share-locked until the commit (checkOwned). Locks are taken in one order,
// objects before the tenant row that numbers events, several of one table by
// id; a transaction PostgreSQL still aborts as a deadlock victim or a
// serialization failure is run again by inTx, so clients never see those.
//
// Exports read call records through EachCDR: one streaming query (no pages,
// no count) over only the columns the export writes, read from the driver's
// rows without database/sql's Scan. On SQLite it reads from the read pool, so
// the writer never waits for it; since a WAL reader pins its snapshot and no
// checkpoint passes it while its statement runs, a long export restarts its
// statement after every sqliteExportChunk rows (continuing after the last id),
// which lets checkpoints run between chunks. On PostgreSQL it is one query.
// At most half of the read pool serves these reads at once, since their
// callers read the store again while they hold their connection.
//
// The files: sqlstore.go opens the store and translates errors; tx.go holds
// write transactions, their retries and locks, and SQLite's group-committing
// writer; migrate.go the migrations; the others one part of the domain each.
// Call records, the table that grows without bound, have their own:
// cdrs.go lists them at a cost that does not grow with the table,
// numbergrams.go indexes parts of numbers on SQLite, and bulkload.go loads
// histories and keeps the planner's statistics current. Outbound campaigns
// have campaigns.go, leads.go (imports skip duplicates by a unique key, not
// by reading), attempts.go (the dialer's progress and the compliance
// ledger), contactlists.go and imports.go. Conversations (chats and
// message threads) have conversations.go (end users and conversations; a
// partial unique index keeps one conversation not ended per address and
// channel profile), convmessages.go (messages, numbered without gaps from
// their conversation's last_seq under its row's lock, and attachments) and
// convsettings.go (canned replies, channel profiles, templates, consent).
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrations embed.FS

// Engine names the database behind a DB.
type Engine string

// The supported engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is the SQL-backed switchboard.Store.
type DB struct {
	engine Engine
	path   string  // the SQLite file; empty on PostgreSQL
	write  *sql.DB // the one writer on SQLite; the pool on PostgreSQL
	read   *sql.DB // read-only pool on SQLite; the same pool on PostgreSQL
	now    func() time.Time
	// rebound caches queries rewritten from ? to $n placeholders.
	rebound syncMap
	// stmts caches prepared read statements by query text: parsing SQL is a
	// large share of a short read on SQLite.
	stmts   sync.Map // string -> *sql.Stmt
	changes broadcaster
	// writes feeds the SQLite writer goroutine (nil on PostgreSQL, whose
	// connections write concurrently); writerDone closes when it has stopped.
	writes     chan *writeReq
	writerDone chan struct{}
	// closeMu lets Close stop the writer while late writers (timers of
	// calls in progress, say) get an error rather than a closed channel.
	closeMu sync.RWMutex
	closed  bool
	// userCols and queueCols select a user or queue with its linked rows
	// (teams, skills) aggregated as JSON, which is engine-specific SQL.
	userCols, queueCols string
	// maxWebhooks bounds the webhooks of one tenant (Options).
	maxWebhooks int
	// sipRealm is the digest realm SIP passwords are hashed in (Options).
	sipRealm string

	// writeObs is called with each write transaction's duration (see
	// ObserveWrites).
	writeObs atomic.Pointer[func(time.Duration)]
	// applied lists the migrations Migrate applied through this DB.
	applied []string
	// exportChunk overrides the rows per statement of EachCDR (tests).
	exportChunk int
	// exports bounds the EachCDR reads running at once to half the read
	// pool: each holds a connection while its caller reads more (an
	// export's lookups), which must always find one free.
	exports chan struct{}
}

// Options tune Open.
type Options struct {
	// Now is the clock stamped on rows and events; time.Now when nil.
	Now func() time.Time
	// Logger reports migrations; slog.Default when nil.
	Logger *slog.Logger
	// MaxWebhooksPerTenant bounds the webhook subscriptions of one tenant,
	// counted in the transaction that adds one (every event is matched
	// against all of its tenant's subscriptions); 0 means
	// DefaultMaxWebhooksPerTenant.
	MaxWebhooksPerTenant int
	// SIPRealm is the digest realm SIP passwords are hashed in when set
	// (and by migration 0012); switchboard.DefaultSIPRealm when empty. The
	// registrar must challenge with the same realm.
	SIPRealm string
}

// RedactURL hides the password of a PostgreSQL URL, for logs.
func RedactURL(dbURL string) string {
	if i := strings.Index(dbURL, "://"); i >= 0 {
		if at := strings.LastIndex(dbURL, "@"); at > i {
			if colon := strings.Index(dbURL[i+3:at], ":"); colon >= 0 {
				return dbURL[:i+3+colon] + ":***" + dbURL[at:]
			}
		}
	}
	return dbURL
}

// ParseURL splits a database URL into its engine and driver DSN. "sqlite:PATH"
// (or "sqlite://PATH", or a bare path ending in .db) selects SQLite;
// "postgres://…" and "postgresql://…" select PostgreSQL. A SQLite PATH of ~ or
// starting with ~/ is in the user's home directory, as a shell would expand
// it: nobody means a directory literally named "~".
func ParseURL(dbURL string) (Engine, string, error) {
	switch {
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		return Postgres, dbURL, nil
	case strings.HasPrefix(dbURL, "sqlite://"):
		return expandHome(strings.TrimPrefix(dbURL, "sqlite://"))
	case strings.HasPrefix(dbURL, "sqlite:"):
		return expandHome(strings.TrimPrefix(dbURL, "sqlite:"))
	case strings.HasSuffix(dbURL, ".db") && !strings.Contains(dbURL, "://"):
		return expandHome(dbURL)
	}
	return "", "", fmt.Errorf("database URL %q: want sqlite:PATH or postgres://…", dbURL)
}

// expandHome replaces a leading ~ of a SQLite path by the home directory.
func expandHome(path string) (Engine, string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return SQLite, path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", "", fmt.Errorf("database path %q: %w", path, err)
	}
	return SQLite, filepath.Join(home, path[1:]), nil
}

// Open connects to the database named by dbURL (see ParseURL) and applies any
// pending migrations, so that a store returned by Open is always ready to use.
func Open(ctx context.Context, dbURL string, opt Options) (*DB, error) {
	engine, dsn, err := ParseURL(dbURL)
	if err != nil {
		return nil, err
	}
	db := &DB{engine: engine, now: opt.Now, maxWebhooks: opt.MaxWebhooksPerTenant, sipRealm: opt.SIPRealm}
	if db.sipRealm == "" {
		db.sipRealm = switchboard.DefaultSIPRealm
	}
	if db.maxWebhooks <= 0 {
		db.maxWebhooks = DefaultMaxWebhooksPerTenant
	}
	if db.now == nil {
		db.now = time.Now
	}
	switch engine {
	case SQLite:
		err = db.openSQLite(dsn)
	case Postgres:
		err = db.openPostgres(dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, opt.Logger); err != nil {
		db.Close()
		return nil, err
	}
	if engine == SQLite {
		// SQLite has no statistics until something analyzes the tables, and
		// without them it may pick a wide index over a narrow one.
		if err := db.Optimize(ctx); err != nil {
			db.Close()
			return nil, err
		}
		go db.optimizeLoop()
	}
	userLinks := db.jsonAgg("team_id", "user_teams WHERE user_id = users.id", "team_id") + ", " +
		db.jsonAgg(db.jsonObject("skill_id", "proficiency"), "user_skills WHERE user_id = users.id", "skill_id")
	db.userCols = userBaseCols + ", " + userLinks
	db.queueCols = queueBaseCols + ", " +
		db.jsonAgg(db.jsonObject("skill_id", "min_proficiency"), "queue_skills WHERE queue_id = queues.id", "skill_id")
	return db, nil
}

func (db *DB) openSQLite(path string) error {
	if path == "" {
		return errors.New("sqlite: empty path")
	}
	db.path = path
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("sqlite: create directory for %s: %w", path, err)
		}
	}
	// busy_timeout comes first so that switching to WAL waits for a lock rather
	// than failing; synchronous=FULL because with WAL+NORMAL a committed
	// transaction can vanish on power loss, and a CDR or event must not. The
	// writer keeps a 64 MiB page cache and checkpoints the WAL every 10,000
	// pages instead of 1,000: under the call service's batched writes the
	// default checkpoints stalled the one writer often enough to cost a third
	// of its throughput (BENCHMARKS.md, persisted routing).
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)"
	u := "file:" + (&url.URL{Path: path}).EscapedPath()
	w, err := sql.Open("sqlite", u+"?"+pragmas+"&_pragma=cache_size(-65536)&_pragma=wal_autocheckpoint(10000)&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.Ping(); err != nil {
		w.Close()
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", u+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	db.exports = make(chan struct{}, n/2)
	r.SetMaxIdleConns(n)
	db.write, db.read = w, r
	db.writes, db.writerDone = make(chan *writeReq, maxGroup), make(chan struct{})

	go db.writeLoop()
	return nil
}

func (db *DB) openPostgres(dsn string) error {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("postgres: open: %w", err)
	}
	p.SetMaxOpenConns(20)
	db.exports = make(chan struct{}, 10)
	p.SetMaxIdleConns(20)
	p.SetConnMaxIdleTime(5 * time.Minute)
	if err := p.Ping(); err != nil {
		p.Close()
		return fmt.Errorf("postgres: connect: %w", err)
	}
	db.write, db.read = p, p
	return nil
}

// Engine reports which database the store runs on.
func (db *DB) Engine() Engine { return db.engine }

// jsonAgg returns a scalar subquery that yields, as JSON text, the array of
// value over the rows of from (a table and its WHERE clause), ordered by order.
func (db *DB) jsonAgg(value, from, order string) string {
	if db.engine == Postgres {
		return "(SELECT COALESCE(json_agg(" + value + " ORDER BY " + order + "), '[]')::text FROM " + from + ")"
	}
	// SQLite aggregates in scan order; the link tables' primary keys lead with
	// the owner's id and then order, so the index scan already yields order and
	// an ORDER BY subquery would only add a materialization per row.
	return "(SELECT COALESCE(json_group_array(" + value + "), '[]') FROM " + from + ")"
}

// jsonObject returns an expression building a JSON object of the columns,
// keyed by their names.
func (db *DB) jsonObject(cols ...string) string {
	fn := "json_object("
	if db.engine == Postgres {
		fn = "json_build_object("
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "'" + c + "', " + c
	}
	return fn + strings.Join(parts, ", ") + ")"
}

// Close stops the writer and closes both pools. No write may be in progress.
func (db *DB) Close() error {
	db.closeMu.Lock()
	wasOpen := !db.closed && db.writes != nil
	db.closed = true
	if wasOpen {
		close(db.writes)
	}
	db.closeMu.Unlock()
	if wasOpen {
		<-db.writerDone
	}
	db.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks that the database answers; /readyz relies on it.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// rebind rewrites ? placeholders as $1, $2… for PostgreSQL. Queries never hold a
// literal question mark, so a plain scan is enough.
func (db *DB) rebind(q string) string {
	if db.engine != Postgres {
		return q
	}
	if v, ok := db.rebound.Load(q); ok {
		return v
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	out := b.String()
	db.rebound.Store(q, out)
	return out
}

// Changes returns a channel that receives a value after commits that appended
// events, and a function to stop receiving. Signals coalesce: a reader that
// wakes must read everything new, not one event per signal. Other nodes' commits
// do not signal, so readers also poll.
func (db *DB) Changes() (<-chan struct{}, func()) { return db.changes.subscribe() }

// stmt returns the cached prepared statement for q on the read pool.
func (db *DB) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	q = db.rebind(q)
	if st, ok := db.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.read.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// errRow is a row that fails to scan with err, for statements that failed to
// prepare.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// queryRow runs a single-row read through the statement cache. Only queries
// whose text is fixed may come here, or the cache would grow without bound.
func (db *DB) queryRow(ctx context.Context, q string, args ...any) scanner {
	st, err := db.stmt(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a read through the statement cache, under the same rule as
// queryRow.
func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := db.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// translate turns driver errors into switchboard errors: unique violations
// become CodeConflict naming the field, everything else stays internal.
func (db *DB) translate(err error) error {
	if err == nil {
		return nil
	}
	var se *switchboard.Error
	if errors.As(err, &se) {
		return err
	}
	if field, ok := uniqueViolation(err); ok {
		return &switchboard.Error{Code: switchboard.CodeConflict,
			Message: field + " is already in use",
			Fields:  map[string]string{field: "is already in use"}}
	}
	// checkOwned locks what it checks, so a reference vanishing before the
	// insert should not happen; should one slip through (or a row still be
	// referred to), it is a conflict between requests, not a server fault.
	var pe *pgconn.PgError
	var le *sqlite.Error
	if (errors.As(err, &pe) && pe.Code == "23503") || (errors.As(err, &le) && le.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) {
		return &switchboard.Error{Code: switchboard.CodeConflict,
			Message: "the change refers to an object that was deleted meanwhile, or deletes one still referred to"}
	}
	return err
}

// uniqueViolation reports whether err is a unique-constraint failure and, if so,
// which field collided. Unique indexes are named TABLE_FIELD_key, and SQLite
// lists the indexed columns, the last of which is the field.
func uniqueViolation(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		name := strings.TrimSuffix(pe.ConstraintName, "_key")
		if i := strings.Index(name, "_"); i >= 0 && pe.TableName != "" {
			name = strings.TrimPrefix(name, pe.TableName+"_")
		}
		return name, true
	}
	var le *sqlite.Error
	if errors.As(err, &le) && (le.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || le.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		msg := le.Error()
		if i := strings.LastIndex(msg, "."); i >= 0 {
			f := msg[i+1:]
			if j := strings.IndexAny(f, " )"); j >= 0 {
				f = f[:j]
			}
			return f, true
		}
		return "id", true
	}
	return "", false
}

func notFound(what string, id int64) error {
	return switchboard.Errorf(switchboard.CodeNotFound, "%s %d not found", what, id)
}

// micros converts a time to the stored Unix-microsecond form.
func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

// fromMicros converts a stored Unix-microsecond value back to UTC time.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// nullMicros converts an optional time for storage.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

// timePtr converts an optional stored time back.
func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func nullID(id *int64) any {
	if id == nil {
		return nil
	}
	return *id
}

func idPtr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	id := v.Int64
	return &id
}

var _ switchboard.Store = (*DB)(nil)

// broadcaster wakes any number of subscribers without ever blocking the sender.
type broadcaster struct {
	mu   sync.Mutex
	next int
	subs map[int]chan struct{}
}

func (b *broadcaster) subscribe() (<-chan struct{}, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[int]chan struct{}{}
	}
	id := b.next
	b.next++
	ch := make(chan struct{}, 1)
	b.subs[id] = ch
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

func (b *broadcaster) notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
