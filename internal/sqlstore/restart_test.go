package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestRestoreCutPresence: agents the system left In-Call or Wrap-Up get back
// the status they chose before the call, however many system statuses
// followed it; a deleted status falls back to Available, a deactivated user to
// Offline; agents on no call are untouched.
func TestRestoreCutPresence(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		if _, err := db.CreateStatus(ctx, tn.ID, switchboard.AgentStatus{Name: "Ready", Available: true}); err != nil {
			t.Fatal(err)
		}
		gone, _ := db.CreateStatus(ctx, tn.ID, switchboard.AgentStatus{Name: "Soon gone", Available: true})
		db.CreateStatus(ctx, tn.ID, switchboard.AgentStatus{Name: "Lunch"})
		user := func(email string, chain ...string) int64 {
			u, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: email, FirstName: "A"})
			if err != nil {
				t.Fatal(err)
			}
			for i, st := range chain {
				if _, err := db.SetPresence(ctx, tn.ID, u.ID, st, i > 0); err != nil {
					t.Fatalf("%s: %s: %v", email, st, err)
				}
			}
			return u.ID
		}
		want := map[int64]string{
			user("ready@x.test", "Ready", "In-Call", "Wrap-Up", "In-Call"): "Ready",
			user("avail@x.test", "Available", "In-Call"):                   "Available",
			user("wrap@x.test", "Available", "In-Call", "Wrap-Up"):         "Available",
			user("lunch@x.test", "Lunch"):                                  "Lunch",
			user("gone@x.test", "Soon gone", "In-Call"):                    "Available",
		}
		deact := user("deact@x.test", "Ready", "In-Call")
		want[deact] = switchboard.StatusOffline
		if err := db.DeleteStatus(ctx, tn.ID, gone.ID); err != nil {
			t.Fatal(err)
		}
		u, _ := db.User(ctx, tn.ID, deact)
		u.DeactivatedAt = &time.Time{}
		*u.DeactivatedAt = time.Now()
		if _, err := db.UpdateUser(ctx, tn.ID, u); err != nil {
			t.Fatal(err)
		}
		n, err := db.RestoreCutPresence(ctx)
		if err != nil || n != 5 {
			t.Fatalf("RestoreCutPresence = %d, %v; want 5", n, err)
		}
		for uid, st := range want {
			if p, _ := db.Presence(ctx, tn.ID, uid); p.Status != st {
				t.Errorf("user %d: %s, want %s", uid, p.Status, st)
			}
		}
		if n, err := db.RestoreCutPresence(ctx); err != nil || n != 0 {
			t.Errorf("second RestoreCutPresence = %d, %v", n, err)
		}
	})
}

// TestOrphanCallsEndAtHeartbeat: a cut call ends at the last heartbeat, not
// now, unless it began after it.
func TestOrphanCallsEndAtHeartbeat(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		if _, ok, err := db.LastHeartbeat(ctx, "n1"); ok || err != nil {
			t.Fatalf("heartbeat of a node never seen: %v %v", ok, err)
		}
		before := time.Now().Add(-time.Millisecond)
		if err := db.Heartbeat(ctx, "n1"); err != nil {
			t.Fatal(err)
		}
		beat, ok, err := db.LastHeartbeat(ctx, "n1")
		if err != nil || !ok || beat.Before(before) || beat.After(time.Now()) {
			t.Fatalf("LastHeartbeat = %v %v %v", beat, ok, err)
		}
		tn := mustTenant(t, db, "acme")
		now := time.Now().UTC().Truncate(time.Microsecond)
		connected := now.Add(-time.Hour)
		talking, _ := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallConnected,
			From: "+1", To: "+2", CreatedAt: connected, ConnectedAt: &connected}, "connected")
		late := now.Add(-10 * time.Minute)
		lateCall, _ := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+1", To: "+2", CreatedAt: late, QueuedAt: &late}, "created")
		cut := now.Add(-30 * time.Minute)
		if n, err := db.CloseOrphanCallsAt(ctx, "system restart", cut); err != nil || n != 2 {
			t.Fatalf("CloseOrphanCallsAt = %d, %v", n, err)
		}
		c, _ := db.Call(ctx, tn.ID, talking.ID)
		if c.EndedAt == nil || !c.EndedAt.Equal(cut) || c.Talk() != 30*time.Minute || c.Status != switchboard.CallFinished {
			t.Errorf("talking call %+v, talk %v", c, c.Talk())
		}
		c, _ = db.Call(ctx, tn.ID, lateCall.ID)
		if c.EndedAt == nil || !c.EndedAt.Equal(late) || c.Status != switchboard.CallFailed {
			t.Errorf("call begun after the heartbeat %+v", c)
		}
	})
}

// TestCallControlLock: one holder at a time per database, on every engine,
// with a message that says what to do; released, it can be taken again.
func TestCallControlLock(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			url := mk(t)
			a := sqlstoretest.Open(t, url, sqlstore.Options{})
			b := sqlstoretest.Open(t, url, sqlstore.Options{})
			la, err := a.LockCallControl(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := la.Check(ctx); err != nil {
				t.Errorf("Check of a held lock: %v", err)
			}
			_, err = b.LockCallControl(ctx)
			if !errors.Is(err, sqlstore.ErrLocked) || !strings.Contains(err.Error(), "first") {
				t.Fatalf("second LockCallControl: %v", err)
			}
			if err := la.Release(); err != nil {
				t.Fatal(err)
			}
			lb, err := b.LockCallControl(ctx)
			if err != nil {
				t.Fatalf("after release: %v", err)
			}
			if name != "postgres" {
				lb.Release()
				return
			}
			// The session holding the lock dies (a database restart, a cut
			// connection): Check says so, and the lock can be taken again.
			raw, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var killed bool
			if err := raw.QueryRowContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
				WHERE locktype = 'advisory' AND objid = 727275 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&killed); err != nil || !killed {
				t.Fatalf("terminate the lock's session: %v %v", killed, err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for lb.Check(ctx) == nil {
				if time.Now().After(deadline) {
					t.Fatal("Check does not notice the lost lock")
				}
				time.Sleep(20 * time.Millisecond)
			}
			lb.Release()
			// The server drops the lock once the dead backend has exited; the
			// heartbeat retries every 2 s, so a retry is what it does too.
			deadline = time.Now().Add(5 * time.Second)
			for {
				again, err := a.LockCallControl(ctx)
				if err == nil {
					again.Release()
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after the session died: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// TestKeepCallControl: the keeper beats while it runs and once more at stop;
// on PostgreSQL, when the session holding the lock dies, it takes the lock
// back, and stop hands over the lock it holds then.
func TestKeepCallControl(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			url := mk(t)
			db := sqlstoretest.Open(t, url, sqlstore.Options{})
			lock, err := db.LockCallControl(ctx)
			if err != nil {
				t.Fatal(err)
			}
			started := time.Now()
			stop, err := db.KeepCallControl(ctx, lock, "n1", time.Hour, slog.New(slog.NewTextHandler(tWriter{t}, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if at, ok, err := db.LastHeartbeat(ctx, "n1"); err != nil || !ok || at.Before(started.Add(-time.Millisecond)) {
				t.Errorf("no heartbeat as the keeper starts: %v %v %v", at, ok, err)
			}
			stop()
			stop, err = db.KeepCallControl(ctx, lock, "n1", 20*time.Millisecond, slog.New(slog.NewTextHandler(tWriter{t}, nil)))
			if err != nil {
				t.Fatal(err)
			}
			beatAfter := func(since time.Time) {
				t.Helper()
				deadline := time.Now().Add(5 * time.Second)
				for {
					if at, ok, err := db.LastHeartbeat(ctx, "n1"); err == nil && ok && !at.Before(since) {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("no heartbeat since %v", since)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			beatAfter(time.Now())
			if name == "postgres" {
				raw, err := sql.Open("pgx", url)
				if err != nil {
					t.Fatal(err)
				}
				defer raw.Close()
				const holder = `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = 727275 AND granted
					AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
				var old int64
				if err := raw.QueryRowContext(ctx, holder).Scan(&old); err != nil {
					t.Fatal(err)
				}
				var killed bool
				if err := raw.QueryRowContext(ctx, "SELECT pg_terminate_backend($1)", old).Scan(&killed); err != nil || !killed {
					t.Fatalf("terminate the lock's session: %v %v", killed, err)
				}
				deadline := time.Now().Add(10 * time.Second)
				for {
					// Taken back: held again, by another session than the dead one.
					var pid int64
					if raw.QueryRowContext(ctx, holder).Scan(&pid) == nil && pid != old {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("the keeper did not take the lock back")
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			stopped := time.Now()
			held := stop()
			beatAfter(stopped)
			if err := held.Check(ctx); err != nil {
				t.Errorf("the lock stop returned is not held: %v", err)
			}
			if name == "postgres" && held == lock {
				t.Error("stop returned the lock whose session died")
			}
			if _, err := db.LockCallControl(ctx); !errors.Is(err, sqlstore.ErrLocked) {
				t.Errorf("a second holder while the returned lock is held: %v", err)
			}
			held.Release()
		})
	}
}

// TestTildeDBPath: ~/ in a SQLite path is the home directory, never a
// directory named "~".
func TestTildeDBPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, u := range []string{"sqlite:~/x.db", "sqlite://~/x.db", "~/x.db"} {
		engine, path, err := sqlstore.ParseURL(u)
		if err != nil || engine != sqlstore.SQLite || path != filepath.Join(home, "x.db") {
			t.Errorf("ParseURL(%q) = %s %q %v", u, engine, path, err)
		}
	}
	wd, _ := os.Getwd()
	if _, err := os.Stat(filepath.Join(wd, "~")); err == nil {
		t.Errorf("a directory named ~ exists in %s", wd)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://sb:s3cret@db.example:5432/sb?sslmode=require": "postgres://sb:***@db.example:5432/sb?sslmode=require",
		"postgres://sb:p@ss@db/sb":                                "postgres://sb:***@db/sb",
		"postgres://sb@db/sb":                                     "postgres://sb@db/sb",
		"sqlite:/var/lib/a@b.db":                                  "sqlite:/var/lib/a@b.db",
	} {
		if got := sqlstore.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
