package switchboard

import (
	"context"
	"time"
)

// CallbackStore reads the scheduled callbacks of a queue by period, for the
// callback slots the app-style dialects (UJET's queue status) show and the
// call service enforces (Queue.CallbackSlotCapacity).
type CallbackStore interface {
	// ScheduledCallbacks returns the times of queueID's callbacks still
	// waiting to be dialled (calls in status scheduled) whose ScheduledAt is
	// in [from, to), earliest first. A queue of another tenant has none.
	ScheduledCallbacks(ctx context.Context, tenantID, queueID int64, from, to time.Time) ([]time.Time, error)
}
