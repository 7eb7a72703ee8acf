package dialer

import (
	"slices"
	"strings"
	"sync"
	"time"

	"switchboard"
	"switchboard/internal/phone"
)

// verdict is what the rules say of one lead at one moment.
type verdict struct {
	checks switchboard.DialChecks
	// dial says every rule passed.
	dial bool
	// defer, when the calling hours forbid the dial now, is the next time
	// they allow it (zero: never within the schedule).
	deferTo time.Time
	// status is the lead's final status when a rule forbids it for good.
	status switchboard.LeadStatus
	reason string
	// locs are the zones the hours were checked in, zoneNames their names.
	locs      []*time.Location
	zoneNames string
	// callerID is the lead's own caller ID (listing.callerID), "" for the
	// campaign's.
	callerID string
}

// zones caches loaded time zones: every lead names one, and loading reads
// the zone database.
type zones struct {
	mu sync.Mutex
	m  map[string]*time.Location
}

func (z *zones) load(name string) *time.Location {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.m == nil {
		z.m = map[string]*time.Location{}
	}
	if loc, ok := z.m[name]; ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	z.m[name] = loc
	return loc
}

// leadZones are the zones a lead's calling hours are counted in: its own,
// else every zone of its number's area (a prefix that spans zones is called
// only when the hours allow it in all of them). ok is false when neither is
// known: such a lead is not dialled, since its hours cannot be checked.
func (z *zones) leadZones(l *switchboard.Lead, number string) ([]*time.Location, string, bool) {
	names := []string{l.TimeZone}
	if l.TimeZone == "" {
		names = phone.TimeZones(number)
	}
	if len(names) == 0 {
		return nil, "", false
	}
	locs := make([]*time.Location, 0, len(names))
	for _, n := range names {
		loc := z.load(n)
		if loc == nil {
			return nil, "", false
		}
		if !slices.Contains(locs, loc) {
			locs = append(locs, loc)
		}
	}
	return locs, strings.Join(names, ","), true
}

// listing is what the tenant's lists say of a number.
type listing struct {
	dnc      bool // on the do-not-call list
	optedOut bool // consent withdrawn (STOP)
	// callerID is the lead's switchboard.LeadFieldCallerID when the
	// tenant owns that number.
	callerID string
}

// check applies the rules to lead l about to be dialled on number at now:
// never an emergency number, never a number on the tenant's do-not-call list,
// never a person who refused consent (on the lead, or by texting STOP to
// one of the tenant's numbers; or, when the campaign requires it, gave
// none), never outside the campaign's hours in the lead's time zone. lists
// is what the tenant's lists say of number.
func (z *zones) check(c *switchboard.Campaign, l *switchboard.Lead, number string, lists listing, now time.Time) verdict {
	v := verdict{checks: switchboard.DialChecks{Emergency: switchboard.CheckPass, DNC: switchboard.CheckPass,
		CallingHours: switchboard.CheckPass, Consent: switchboard.CheckPass, AbandonBudget: switchboard.CheckNA}}
	switch {
	case !switchboard.IsE164(number) || phone.IsEmergency(number):
		v.checks.Emergency = switchboard.CheckBlocked
		v.status, v.reason = switchboard.LeadInvalidNumber, "an emergency or malformed number is never dialled"
		return v
	case lists.dnc:
		v.checks.DNC = switchboard.CheckBlocked
		v.status, v.reason = switchboard.LeadDoNotCall, "the number is on the do-not-call list"
		return v
	case lists.optedOut:
		v.checks.Consent = switchboard.CheckBlocked
		v.status, v.reason = switchboard.LeadDoNotCall, "the number withdrew its consent (STOP)"
		return v
	case l.Consent != nil && !*l.Consent:
		v.checks.Consent = switchboard.CheckBlocked
		v.status, v.reason = switchboard.LeadDoNotCall, "the lead refused consent"
		return v
	case c.RequireConsent && l.Consent == nil:
		v.checks.Consent = switchboard.CheckBlocked
		v.status, v.reason = switchboard.LeadSkipped, "the campaign requires consent and the lead has none on record"
		return v
	}
	if !c.RequireConsent && l.Consent == nil {
		v.checks.Consent = switchboard.CheckNA
	}
	locs, names, ok := z.leadZones(l, number)
	if !ok {
		v.checks.CallingHours = switchboard.CheckBlocked
		v.status, v.reason = switchboard.LeadSkipped, "the lead's time zone is unknown, so its calling hours cannot be checked"
		return v
	}
	v.locs, v.zoneNames = locs, names
	if !allowedEverywhere(c.Schedule, now, locs) {
		v.checks.CallingHours = switchboard.CheckBlocked
		v.deferTo = nextAllowedEverywhere(c.Schedule, now, locs)
		v.reason = "outside the calling hours in the lead's time zone"
		return v
	}
	v.dial, v.callerID = true, lists.callerID
	return v
}

// nextAllowed is the first minute after now at which s allows a call in loc,
// or zero when none comes within two weeks (or before the schedule's end).
func nextAllowed(s switchboard.CampaignSchedule, now time.Time, loc *time.Location) time.Time {
	from, err := switchboard.ParseClock(s.From)
	if err != nil {
		return time.Time{}
	}
	local := now.In(loc)
	for day := 0; day <= 14; day++ {
		d := local.AddDate(0, 0, day)
		at := time.Date(d.Year(), d.Month(), d.Day(), from/60, from%60, 0, 0, loc)
		if s.StartsAt != nil && at.Before(*s.StartsAt) {
			at = *s.StartsAt
		}
		if !at.After(now) {
			continue
		}
		if s.EndsAt != nil && !at.Before(*s.EndsAt) {
			return time.Time{}
		}
		if s.Allowed(at, loc) {
			return at
		}
	}
	return time.Time{}
}

func allowedEverywhere(s switchboard.CampaignSchedule, t time.Time, locs []*time.Location) bool {
	for _, loc := range locs {
		if !s.Allowed(t, loc) {
			return false
		}
	}
	return true
}

// nextAllowedEverywhere is the first time after now the schedule allows a
// call in every one of locs, or zero when none comes soon.
func nextAllowedEverywhere(s switchboard.CampaignSchedule, now time.Time, locs []*time.Location) time.Time {
	t := now
	for range 32 {
		var latest time.Time
		for _, loc := range locs {
			if s.Allowed(t, loc) {
				continue
			}
			next := nextAllowed(s, t, loc)
			if next.IsZero() {
				return time.Time{}
			}
			if next.After(latest) {
				latest = next
			}
		}
		if latest.IsZero() {
			return t
		}
		t = latest
	}
	return time.Time{}
}
