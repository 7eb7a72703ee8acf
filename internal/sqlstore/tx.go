package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"

	"switchboard"

	"github.com/jackc/pgx/v5/pgconn"
)

// tx is a write transaction together with the store it belongs to, so helpers
// can rebind queries and stamp times. Its statements run under its own context,
// not the caller's: on SQLite a cancelled statement rolls back the whole
// transaction, which in a group commit holds other callers' work too, and a
// write that has started is short enough to finish.
type tx struct {
	db  *DB
	sql *sql.Tx
	ctx context.Context
	now time.Time
	// appended counts the events written, so that a commit can wake the
	// readers of the event log.
	appended int
	// stmts caches statements prepared in this transaction (SQLite's writer).
	stmts map[string]*sql.Stmt
	// batch, when set, collects the events appended in t for flushEvents
	// to write together (the call service's batched saves).
	batch *eventBatch
	// statuses caches the tenants' agent statuses read in t, by lower-case
	// name (the batched presence changes look them up often).
	statuses map[int64]map[string]switchboard.AgentStatus
	// callNames caches the names call events record (callevents.go).
	callNames *callNames
}

func (t *tx) exec(_ context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmt(q); st != nil {
		return st.ExecContext(t.ctx, args...)
	}
	return t.sql.ExecContext(t.ctx, t.db.rebind(q), args...)
}

func (t *tx) queryRow(_ context.Context, q string, args ...any) *sql.Row {
	if st := t.stmt(q); st != nil {
		return st.QueryRowContext(t.ctx, args...)
	}
	return t.sql.QueryRowContext(t.ctx, t.db.rebind(q), args...)
}

func (t *tx) query(_ context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(q); st != nil {
		return st.QueryContext(t.ctx, args...)
	}
	return t.sql.QueryContext(t.ctx, t.db.rebind(q), args...)
}

// stmt returns q prepared for the rest of t's transaction, or nil to run q
// unprepared. In SQLite's writer the same few statements run for every write
// of a group, and for every change of a batched write, and parsing them once
// per transaction instead of once per use saved a sixth of a busy writer's CPU
// (and nearly half of the call service's batched writes). Queries with IN
// lists of placeholders vary in length and are not cached; a list passed as
// one argument (idList) keeps the text fixed and is.
func (t *tx) stmt(q string) *sql.Stmt {
	if t.stmts == nil || strings.Contains(q, " IN (?") {
		return nil
	}
	st, ok := t.stmts[q]
	if !ok {
		var err error
		if st, err = t.sql.PrepareContext(t.ctx, t.db.rebind(q)); err != nil {
			return nil // the unprepared path reports the error
		}
		t.stmts[q] = st
	}
	return st
}

// insert runs an INSERT … RETURNING id and returns the new id.
func (t *tx) insert(ctx context.Context, q string, args ...any) (int64, error) {
	var id int64
	if err := t.queryRow(ctx, q+" RETURNING id", args...).Scan(&id); err != nil {
		return 0, err
	}
	return id, nil
}

// inTx runs fn in a write transaction and commits it when fn returns nil.
// Database errors are translated into switchboard errors on the way out.
//
// On SQLite every write goes through one goroutine that commits all the work
// waiting for it in one transaction, each piece in its own savepoint (group
// commit): SQLite has one writer and pays an fsync per commit, so under load
// this turns many commits into one without changing what any caller sees.
func (db *DB) inTx(ctx context.Context, fn func(*tx) error) error {
	defer db.observeWrite(time.Now())
	if db.writes != nil {
		req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
		db.closeMu.RLock()
		if db.closed {
			db.closeMu.RUnlock()
			return errors.New("store is closed")
		}
		select {
		case db.writes <- req:
		case <-ctx.Done():
			db.closeMu.RUnlock()
			return ctx.Err()
		}
		db.closeMu.RUnlock()
		return <-req.done
	}
	for attempt := 1; ; attempt++ {
		err := db.runTx(ctx, fn)
		if err == nil || !retryable(err) {
			return db.translate(err)
		}
		if attempt == maxTxAttempts {
			return &switchboard.Error{Code: switchboard.CodeConflict,
				Message: "the change collided with concurrent changes to the same objects; retry the request"}
		}
		// Full jitter on a doubling ceiling: transactions that collided once
		// should not collide again in lockstep.
		backoff := time.Duration(rand.Int64N(int64(txRetryBase << attempt)))
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// maxTxAttempts bounds how often inTx runs a transaction that PostgreSQL
// aborted as a deadlock victim or a serialization failure; txRetryBase is the
// first backoff ceiling, doubled on every further attempt.
const (
	maxTxAttempts = 6
	txRetryBase   = 5 * time.Millisecond
)

// runTx is one attempt of inTx on PostgreSQL. Its errors are untranslated, so
// that inTx can tell retryable ones apart.
func (db *DB) runTx(ctx context.Context, fn func(*tx) error) error {
	stx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &tx{db: db, sql: stx, ctx: context.WithoutCancel(ctx), now: db.now().UTC().Truncate(time.Microsecond)}
	if err := fn(t); err != nil {
		stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if t.appended > 0 {
		db.changes.notify()
	}
	return nil
}

// retryable reports whether err is PostgreSQL aborting a transaction that
// would succeed if run again: a serialization failure (40001) or the victim
// of a deadlock (40P01). Such a transaction wrote nothing, and every fn given
// to inTx only writes through its tx, so running fn again is safe.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// lockRow locks the row id of table in tenantID until t ends (PostgreSQL's
// SELECT … FOR NO KEY UPDATE), or fails with CodeNotFound. It is the first
// step of every read-modify-write, so that concurrent updates of one object
// queue behind each other instead of overwriting each other's changes. NO KEY
// UPDATE, unlike FOR UPDATE, lets other transactions insert rows that
// reference this one. On SQLite the single writer already runs one
// transaction at a time, and lockRow only checks that the row exists.
//
// Lock order: every transaction locks the rows it changes before the
// tenant's row (which appendEvent locks for the event sequence), and several
// rows of one table in id order, so that two writers never wait on each other.
func (t *tx) lockRow(ctx context.Context, table, what string, tenantID, id int64) error {
	q := "SELECT id FROM " + table + " WHERE tenant_id = ? AND id = ?"
	args := []any{tenantID, id}
	if table == "tenants" {
		q, args = "SELECT id FROM tenants WHERE id = ?", []any{id}
	}
	if t.db.engine == Postgres {
		q += " FOR NO KEY UPDATE"
	}
	var got int64
	err := t.queryRow(ctx, q, args...).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what, id)
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", what, err)
	}
	return nil
}

// serialize makes the rest of t run alone among the transactions that
// serialize on the same name and tenant: the check-then-insert rules that no
// unique index can express (an extension shared by users and queues, the
// click-to-call limit) read and write under it, so that two racing creations
// cannot both pass the check. PostgreSQL holds a transaction-scoped advisory
// lock; SQLite's single writer already serializes every write.
func (t *tx) serialize(ctx context.Context, name string, tenantID int64) error {
	if t.db.engine != Postgres {
		return nil
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "switchboard/%s/%d", name, tenantID)
	if _, err := t.exec(ctx, "SELECT pg_advisory_xact_lock(?)", int64(h.Sum64())); err != nil {
		return fmt.Errorf("serialize %s: %w", name, err)
	}
	return nil
}

// writeReq is one caller's write waiting for the SQLite writer.
type writeReq struct {
	ctx  context.Context
	fn   func(*tx) error
	done chan error
}

// maxGroup bounds how many writes share one commit, so that one commit never
// holds the writer for long.
const maxGroup = 128

// writeLoop owns the SQLite writer connection. It runs from Open until Close
// closes db.writes.
func (db *DB) writeLoop() {
	defer close(db.writerDone)
	batch := make([]*writeReq, 0, maxGroup)
	for req := range db.writes {
		batch = append(batch[:0], req)
	more:
		for len(batch) < maxGroup {
			select {
			case r, ok := <-db.writes:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		db.commitGroup(batch)
	}
}

// commitGroup runs the batch in one transaction, each write in a savepoint so
// that a failing one is rolled back alone, and reports each caller's outcome.
func (db *DB) commitGroup(batch []*writeReq) {
	results := make([]error, len(batch))
	finish := func() {
		for i, r := range batch {
			r.done <- results[i]
		}
	}
	bg := context.Background()
	stx, err := db.write.BeginTx(bg, nil)
	if err != nil {
		for i := range results {
			results[i] = db.translate(fmt.Errorf("begin: %w", err))
		}
		finish()
		return
	}
	grouped := len(batch) > 1
	appended, ok := 0, 0
	// Statements are prepared once per transaction: the writes of a group,
	// and the many changes of one batched write (the call service's), run
	// the same few statements over and over.
	stmts := map[string]*sql.Stmt{}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if grouped {
			if _, err := stx.ExecContext(bg, "SAVEPOINT w"); err != nil {
				results[i] = db.translate(fmt.Errorf("savepoint: %w", err))
				continue
			}
		}
		t := &tx{db: db, sql: stx, ctx: bg, now: db.now().UTC().Truncate(time.Microsecond), stmts: stmts}
		if err := r.fn(t); err != nil {
			results[i] = db.translate(err)
			if grouped {
				stx.ExecContext(bg, "ROLLBACK TO w")
				stx.ExecContext(bg, "RELEASE w")
			} else {
				stx.Rollback()
				finish()
				return
			}
			continue
		}
		if grouped {
			if _, err := stx.ExecContext(bg, "RELEASE w"); err != nil {
				results[i] = db.translate(fmt.Errorf("release savepoint: %w", err))
				continue
			}
		}
		appended += t.appended
		ok++
	}
	if ok == 0 {
		stx.Rollback()
		finish()
		return
	}
	if err := flushNumberIndex(bg, stx); err != nil {
		stx.Rollback()
		for i := range results {
			if results[i] == nil {
				results[i] = db.translate(err)
			}
		}
		finish()
		return
	}
	if err := stx.Commit(); err != nil {
		for i := range results {
			if results[i] == nil {
				results[i] = db.translate(fmt.Errorf("commit: %w", err))
			}
		}
		finish()
		return
	}
	if appended > 0 {
		db.changes.notify()
	}
	finish()
}

// flushNumberIndex moves the calls the transaction added into SQLite's number
// index (calls_numbers) in one statement, just before it commits, so that
// committed state never holds a pending row (migration 0011). FTS5 flushes
// its terms at every statement savepoint: fed one call at a time by the
// insert trigger, it wrote and merged a small segment per call, which cost
// the batching writer a fifth of its speed.
func flushNumberIndex(ctx context.Context, stx *sql.Tx) error {
	if _, err := stx.ExecContext(ctx, "INSERT INTO calls_numbers (rowid, grams) SELECT calls.id, "+numberGramsSQL("calls")+
		" FROM calls_numbers_pending JOIN calls ON calls.id = calls_numbers_pending.id"); err != nil {
		return fmt.Errorf("index new calls' numbers: %w", err)
	}
	if _, err := stx.ExecContext(ctx, "DELETE FROM calls_numbers_pending"); err != nil {
		return fmt.Errorf("index new calls' numbers: %w", err)
	}
	return nil
}
