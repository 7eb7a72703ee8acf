package switchboard

import (
	"testing"
	"time"
)

// TestCallbackPeriod checks where a queue's callback periods begin and end:
// from midnight in the hours' zone, 15 minutes by default, the last one of
// a day cut short when the length does not divide the day, and in absolute
// time across a daylight-saving change.
func TestCallbackPeriod(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	for _, c := range []struct {
		name       string
		q          Queue
		at         time.Time
		start, end time.Time
	}{
		{"default 15 minutes in UTC", Queue{}, time.Date(2026, 2, 25, 17, 31, 0, 0, time.UTC),
			time.Date(2026, 2, 25, 17, 30, 0, 0, time.UTC), time.Date(2026, 2, 25, 17, 45, 0, 0, time.UTC)},
		{"on a boundary", Queue{}, time.Date(2026, 2, 25, 17, 45, 0, 0, time.UTC),
			time.Date(2026, 2, 25, 17, 45, 0, 0, time.UTC), time.Date(2026, 2, 25, 18, 0, 0, 0, time.UTC)},
		{"30 minutes from midnight in Kolkata (UTC+05:30)", Queue{CallbackSlotMinutes: 30, Hours: &OperatingHours{TimeZone: "Asia/Kolkata"}},
			time.Date(2026, 2, 25, 9, 10, 0, 0, time.UTC), // 14:40 local
			time.Date(2026, 2, 25, 14, 30, 0, 0, kolkata), time.Date(2026, 2, 25, 15, 0, 0, 0, kolkata)},
		{"an hour in New York", Queue{CallbackSlotMinutes: 60, Hours: &OperatingHours{TimeZone: "America/New_York"}},
			time.Date(2026, 2, 25, 17, 30, 0, 0, time.UTC), // 12:30 local
			time.Date(2026, 2, 25, 12, 0, 0, 0, ny), time.Date(2026, 2, 25, 13, 0, 0, 0, ny)},
		{"7 minutes: the day's last period is short", Queue{CallbackSlotMinutes: 7}, time.Date(2026, 2, 25, 23, 58, 0, 0, time.UTC),
			time.Date(2026, 2, 25, 23, 55, 0, 0, time.UTC), time.Date(2026, 2, 26, 0, 0, 0, 0, time.UTC)},
		{"after the spring-forward gap", Queue{CallbackSlotMinutes: 60, Hours: &OperatingHours{TimeZone: "America/New_York"}},
			time.Date(2026, 3, 8, 3, 20, 0, 0, ny), // two hours after midnight
			time.Date(2026, 3, 8, 3, 0, 0, 0, ny), time.Date(2026, 3, 8, 4, 0, 0, 0, ny)},
		{"an invalid zone counts in UTC", Queue{Hours: &OperatingHours{TimeZone: "Nowhere/Land"}}, time.Date(2026, 2, 25, 17, 31, 0, 0, time.UTC),
			time.Date(2026, 2, 25, 17, 30, 0, 0, time.UTC), time.Date(2026, 2, 25, 17, 45, 0, 0, time.UTC)},
	} {
		start, end := c.q.CallbackPeriod(c.at)
		if !start.Equal(c.start) || !end.Equal(c.end) {
			t.Errorf("%s: %s holds %s-%s, want %s-%s", c.name, c.at, start, end, c.start, c.end)
		}
		if start.After(c.at) || !end.After(c.at) {
			t.Errorf("%s: %s is outside its own period %s-%s", c.name, c.at, start, end)
		}
	}
}
