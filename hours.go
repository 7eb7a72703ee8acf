package switchboard

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OperatingHours are when a queue is open: weekly ranges in a time zone, and
// holidays that override a whole day (closed, or open other hours).
type OperatingHours struct {
	// TimeZone is an IANA zone name; empty is UTC.
	TimeZone string      `json:"time_zone" limit:"64"`
	Weekly   []OpenRange `json:"weekly"`
	Holidays []Holiday   `json:"holidays"`
}

// OpenRange is one opening on a day of the week: from Open to Close ("09:00"
// to "17:30"; Close may be "24:00"). A day may have several.
type OpenRange struct {
	// Day is 0 for Sunday through 6 for Saturday (time.Weekday).
	Day   int    `json:"day" range:"0,6"`
	Open  string `json:"open" limit:"5"`
	Close string `json:"close" limit:"5"`
}

// Holiday replaces the weekly hours of one date (YYYY-MM-DD, in the hours'
// zone): closed all day when Open and Close are empty.
type Holiday struct {
	Date  string `json:"date" limit:"10"`
	Name  string `json:"name" limit:"200"`
	Open  string `json:"open" limit:"5"`
	Close string `json:"close" limit:"5"`
}

// Bounds of operating hours.
const (
	MaxOpenRanges = 7 * 8
	MaxHolidays   = 366
)

// Validate reports every invalid field, named under prefix ("hours").
func (h *OperatingHours) Validate(prefix string) error {
	p := Problems{}
	h.check(prefix, p)
	return p.Err()
}

func (h *OperatingHours) check(prefix string, p Problems) {
	if h == nil {
		return
	}
	if _, err := h.location(); err != nil {
		p.Add(prefix+".time_zone", "must be an IANA time zone name such as Europe/Rome")
	}
	if len(h.Weekly) > MaxOpenRanges {
		p.Add(prefix+".weekly", fmt.Sprintf("must hold at most %d ranges", MaxOpenRanges))
	}
	for i, r := range h.Weekly {
		f := fmt.Sprintf("%s.weekly[%d]", prefix, i)
		if r.Day < 0 || r.Day > 6 {
			p.Add(f+".day", "must be 0 (Sunday) to 6 (Saturday)")
		}
		checkClockRange(f, r.Open, r.Close, false, p)
	}
	if len(h.Holidays) > MaxHolidays {
		p.Add(prefix+".holidays", fmt.Sprintf("must hold at most %d dates", MaxHolidays))
	}
	seen := map[string]bool{}
	for i, d := range h.Holidays {
		f := fmt.Sprintf("%s.holidays[%d]", prefix, i)
		if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
			p.Add(f+".date", "must be a date YYYY-MM-DD")
		} else if seen[d.Date] {
			p.Add(f+".date", "is given twice")
		}
		seen[d.Date] = true
		checkClockRange(f, d.Open, d.Close, true, p)
	}
}

func checkClockRange(f, open, close string, mayBeEmpty bool, p Problems) {
	if mayBeEmpty && open == "" && close == "" {
		return
	}
	o, okO := clockMinutes(open, false)
	c, okC := clockMinutes(close, true)
	if !okO {
		p.Add(f+".open", "must be a time HH:MM from 00:00 to 23:59")
	}
	if !okC {
		p.Add(f+".close", "must be a time HH:MM from 00:01 to 24:00")
	}
	if okO && okC && c <= o {
		p.Add(f+".close", "must be after open")
	}
}

// clockMinutes reads "HH:MM" as minutes after midnight; "24:00" only when
// end is set.
func clockMinutes(s string, end bool) (int, bool) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) != 2 || len(mm) != 2 {
		return 0, false
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || m < 0 || m > 59 || h < 0 {
		return 0, false
	}
	if h == 24 && m == 0 && end {
		return 24 * 60, true
	}
	if h > 23 {
		return 0, false
	}
	return h*60 + m, true
}

func (h *OperatingHours) location() (*time.Location, error) {
	if h.TimeZone == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(h.TimeZone)
}

// OpenAt says whether the hours are open at t. Nil hours are always open;
// hours that do not validate are read as always open rather than closing a
// queue by a mistake.
func (h *OperatingHours) OpenAt(t time.Time) bool {
	if h == nil {
		return true
	}
	loc, err := h.location()
	if err != nil {
		return true
	}
	local := t.In(loc)
	now := local.Hour()*60 + local.Minute()
	date := local.Format(time.DateOnly)
	for _, d := range h.Holidays {
		if d.Date == date {
			if d.Open == "" && d.Close == "" {
				return false
			}
			o, _ := clockMinutes(d.Open, false)
			c, _ := clockMinutes(d.Close, true)
			return now >= o && now < c
		}
	}
	for _, r := range h.Weekly {
		if r.Day != int(local.Weekday()) {
			continue
		}
		o, okO := clockMinutes(r.Open, false)
		c, okC := clockMinutes(r.Close, true)
		if okO && okC && now >= o && now < c {
			return true
		}
	}
	return false
}
