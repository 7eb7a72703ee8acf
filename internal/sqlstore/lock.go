package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// callControlLockKey is the PostgreSQL advisory lock a node holds while it runs
// call control (727274 serializes migrations).
const callControlLockKey = 727275

// ErrLocked is returned by LockCallControl when another server holds the lock.
var ErrLocked = errors.New("another server runs call control on this database")

// NodeLock is this process's claim to run call control on the database. Only
// one server may drive calls and agents at a time: two would ring the same
// agent twice, and each would end the other's calls as orphans at its start.
type NodeLock struct {
	release func() error
	check   func(context.Context) error
	once    sync.Once
}

// LockCallControl claims call control for this process until Release (or the
// process's end). On SQLite it takes an exclusive OS lock (flock) on the file
// PATH.lock beside the database; on PostgreSQL a session-level advisory lock on
// a connection of its own. Either way the operating system or the database
// drops the lock when the process dies, so a crash never leaves it stale.
// Other commands (migrate, tenant create, …) do not take it and keep working
// beside a running server. When the lock is held elsewhere it returns an error
// wrapping ErrLocked that says what to do.
func (db *DB) LockCallControl(ctx context.Context) (*NodeLock, error) {
	if db.engine == SQLite {
		if strings.HasPrefix(db.path, ":memory:") {
			// Private to this process: nobody else can open it.
			return &NodeLock{release: func() error { return nil }}, nil
		}
		return lockFile(db.path + ".lock")
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("call-control lock: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", callControlLockKey).Scan(&got); err != nil {
		conn.Close()
		return nil, fmt.Errorf("call-control lock: %w", err)
	}
	if !got {
		holder := "another session"
		var pid int64
		var addr sql.NullString
		if conn.QueryRowContext(ctx, `SELECT l.pid, host(a.client_addr) FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.objid = $1 AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
			callControlLockKey).Scan(&pid, &addr) == nil {
			holder = fmt.Sprintf("PostgreSQL backend pid %d", pid)
			if addr.Valid {
				holder += " from " + addr.String
			}
		}
		conn.Close()
		return nil, fmt.Errorf("%w (advisory lock %d is held by %s): running several nodes on one PostgreSQL database is not supported yet; stop the other server first",
			ErrLocked, callControlLockKey, holder)
	}
	return &NodeLock{
		release: func() error {
			_, err := conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", callControlLockKey)
			return errors.Join(err, conn.Close())
		},
		check: func(ctx context.Context) error {
			var held bool
			err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1
				AND granted AND pid = pg_backend_pid())`, callControlLockKey).Scan(&held)
			if err == nil && !held {
				err = errors.New("the advisory lock is no longer held")
			}
			return err
		},
	}, nil
}

// Check reports an error when the lock may have been lost: on PostgreSQL when
// the session holding it died (a database restart, a network cut), after which
// another node could take over call control.
func (l *NodeLock) Check(ctx context.Context) error {
	if l == nil || l.check == nil {
		return nil
	}
	if err := l.check(ctx); err != nil {
		return fmt.Errorf("call-control lock: %w", err)
	}
	return nil
}

// Release gives up the lock. It is safe to call more than once.
func (l *NodeLock) Release() error {
	if l == nil {
		return nil
	}
	var err error
	l.once.Do(func() { err = l.release() })
	return err
}

// lockFileHeld is what lockFile says when another process has the lock file.
func lockFileHeld(path string) error {
	return fmt.Errorf("%w: the lock file %s is held by another switchboard server using this SQLite database; stop it first or give this one another --db",
		ErrLocked, path)
}

// CallControlNode names the call-control node's row in node_heartbeats. While
// only one node may run call control it is the same on every start, which is
// what lets a start find its predecessor's heartbeat.
const CallControlNode = "call-control"

// HeartbeatInterval is how often the call-control node records that it is
// alive: a call cut by a crash ends at most this long before the real cut.
const HeartbeatInterval = 2 * time.Second

// KeepCallControl writes node's heartbeat now and then every interval (see
// HeartbeatInterval), and checks that lock is still held, taking it again when the database session that held it is
// gone (a database restart, a cut connection) before another node can; when
// it cannot, it says loudly that two servers may now run calls. It runs until
// stop, which writes a last heartbeat, marking a clean stop, and returns the
// lock held then, for the caller to release. It fails when the first
// heartbeat cannot be written.
func (db *DB) KeepCallControl(ctx context.Context, lock *NodeLock, node string, interval time.Duration, log *slog.Logger) (stop func() *NodeLock, err error) {
	if err := db.Heartbeat(ctx, node); err != nil {
		return nil, err
	}
	run, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		// Lives until stop; its last beat marks a clean stop.
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-run.Done():
				if err := db.Heartbeat(context.Background(), node); err != nil {
					log.Warn("last heartbeat", "err", err)
				}
				return
			case <-tick.C:
			}
			lock = db.beat(lock, node, log)
		}
	}()
	return func() *NodeLock {
		cancel()
		<-done
		return lock
	}, nil
}

// beat is one round of KeepCallControl; it returns the lock held after it.
// It runs under a context of its own rather than the keeper's: cancelling a
// query makes the driver close its connection, and the lock's connection must
// never be cut by a stop arriving mid-check.
func (db *DB) beat(lock *NodeLock, node string, log *slog.Logger) *NodeLock {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.Heartbeat(ctx, node); err != nil {
		log.Error("heartbeat", "err", err)
	}
	err := lock.Check(ctx)
	if err == nil {
		return lock
	}
	relocked, lerr := db.LockCallControl(ctx)
	if lerr != nil {
		log.Error("lost the call-control lock and cannot take it back: another server may be running calls on this database",
			"err", err, "relock_err", lerr)
		return lock
	}
	lock.Release()
	log.Warn("lost the call-control lock and took it back", "err", err)
	return relocked
}
