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

// DefaultCallbackSlotMinutes is the length of a queue's callback periods
// when it sets none, as UJET's queue status shows them (17:30 to 17:45).
const DefaultCallbackSlotMinutes = 15

// CallbackSlot is the length of q's callback periods.
func (q *Queue) CallbackSlot() time.Duration {
	if q.CallbackSlotMinutes <= 0 {
		return DefaultCallbackSlotMinutes * time.Minute
	}
	return time.Duration(q.CallbackSlotMinutes) * time.Minute
}

// CallbackLocation is the time zone q's callback periods are counted in:
// its hours' zone, else UTC.
func (q *Queue) CallbackLocation() *time.Location {
	if q.Hours == nil {
		return time.UTC
	}
	loc, err := q.Hours.location()
	if err != nil {
		return time.UTC
	}
	return loc
}

// CallbackPeriod is the callback period of q holding t: periods of
// CallbackSlot start at midnight in CallbackLocation, so that every client
// and the slot check agree on where one ends and the next begins. A period
// that does not divide the day evenly ends the day short.
func (q *Queue) CallbackPeriod(t time.Time) (start, end time.Time) {
	loc := q.CallbackLocation()
	local := t.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	slot := q.CallbackSlot()
	start = midnight.Add(local.Sub(midnight) / slot * slot)
	end = start.Add(slot)
	if next := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc); end.After(next) {
		end = next
	}
	return start, end
}
