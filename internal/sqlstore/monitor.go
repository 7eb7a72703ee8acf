package sqlstore

import (
	"context"
	"fmt"
	"time"

	"switchboard"
)

// ObserveWrites has fn called with the duration of every write transaction,
// from the call until it committed or failed: on SQLite that includes waiting
// for the one writer, which is what a caller feels. fn must be quick.
func (db *DB) ObserveWrites(fn func(time.Duration)) { db.writeObs.Store(&fn) }

func (db *DB) observeWrite(start time.Time) {
	if fn := db.writeObs.Load(); fn != nil {
		(*fn)(time.Since(start))
	}
}

// Counts is what monitoring reads from the database at a scrape: totals that
// no single process sees, kept across restarts.
type Counts struct {
	// LastEventID is the newest event in the log.
	LastEventID int64
	// WebhookDeliveries counts deliveries by status (pending, succeeded,
	// failed, skipped).
	WebhookDeliveries map[switchboard.DeliveryStatus]int64
	// WebhookOldestDue is how long the most overdue pending delivery has been
	// due; 0 when none is.
	WebhookOldestDue time.Duration
	// WebhookAttempts counts delivery attempts by result: "success" or the
	// attempt's error class (timeout, connect, refused, http_status, …).
	WebhookAttempts map[string]int64
	// Messages counts text messages by direction and status.
	Messages map[[2]string]int64
}

// Counts reads the monitoring totals. Each is one aggregate query; callers
// should not run it more often than every few seconds.
func (db *DB) Counts(ctx context.Context) (Counts, error) {
	c := Counts{WebhookDeliveries: map[switchboard.DeliveryStatus]int64{}, WebhookAttempts: map[string]int64{}, Messages: map[[2]string]int64{}}
	var err error
	if c.LastEventID, err = db.LastEventID(ctx); err != nil {
		return c, err
	}
	group := func(q string, keys int, fn func(key []string, n int64)) error {
		rows, err := db.read.QueryContext(ctx, db.rebind(q))
		if err != nil {
			return fmt.Errorf("monitoring counts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var a, b string
			var n int64
			dest := []any{&a, &n}
			if keys == 2 {
				dest = []any{&a, &b, &n}
			}
			if err := rows.Scan(dest...); err != nil {
				return fmt.Errorf("monitoring counts: %w", err)
			}
			fn([]string{a, b}, n)
		}
		return rows.Err()
	}
	if err := group("SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status", 1, func(k []string, n int64) {
		c.WebhookDeliveries[switchboard.DeliveryStatus(k[0])] = n
	}); err != nil {
		return c, err
	}
	if err := group("SELECT CASE WHEN error_class = '' THEN 'success' ELSE error_class END, COUNT(*) FROM webhook_attempts GROUP BY 1", 1, func(k []string, n int64) {
		c.WebhookAttempts[k[0]] = n
	}); err != nil {
		return c, err
	}
	if err := group("SELECT direction, status, COUNT(*) FROM messages GROUP BY direction, status", 2, func(k []string, n int64) {
		c.Messages[[2]string{k[0], k[1]}] = n
	}); err != nil {
		return c, err
	}
	var oldest *int64
	now := micros(db.now())
	if err := db.read.QueryRowContext(ctx, db.rebind("SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?"),
		now).Scan(&oldest); err != nil {
		return c, fmt.Errorf("monitoring counts: %w", err)
	}
	if oldest != nil {
		c.WebhookOldestDue = time.Duration(now-*oldest) * time.Microsecond
	}
	return c, nil
}
