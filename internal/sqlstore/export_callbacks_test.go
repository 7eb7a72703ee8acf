package sqlstore

import (
	"context"
	"time"
)

// ScheduledCallbacksPlan returns the engine's plan of ScheduledCallbacks'
// query.
func ScheduledCallbacksPlan(ctx context.Context, db *DB, tenantID, queueID int64, from, to time.Time) (string, error) {
	explain := "EXPLAIN QUERY PLAN "
	if db.engine == Postgres {
		explain = "EXPLAIN "
	}
	rows, err := db.read.QueryContext(ctx, db.rebind(explain+scheduledCallbacksQuery), tenantID, queueID, micros(from), micros(to))
	if err != nil {
		return "", err
	}
	return lastColumns(rows)
}
