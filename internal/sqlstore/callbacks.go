package sqlstore

import (
	"context"
	"fmt"
	"time"

	"switchboard"
)

// ScheduledCallbacks implements switchboard.CallbackStore. The partial index
// calls_scheduled_queue (0027) holds only waiting callbacks, so the query
// does not depend on how many calls the tenant has made.
func (db *DB) ScheduledCallbacks(ctx context.Context, tenantID, queueID int64, from, to time.Time) ([]time.Time, error) {
	rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT scheduled_at FROM calls
		WHERE tenant_id = ? AND queue_id = ? AND status = ? AND ended_at IS NULL AND scheduled_at >= ? AND scheduled_at < ?
		ORDER BY scheduled_at`), tenantID, queueID, switchboard.CallScheduled, micros(from), micros(to))
	if err != nil {
		return nil, fmt.Errorf("scheduled callbacks: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return nil, fmt.Errorf("scheduled callbacks: %w", err)
		}
		out = append(out, fromMicros(at))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scheduled callbacks: %w", err)
	}
	return out, nil
}
