package dialer

import (
	"testing"
	"time"

	"switchboard"
)

func TestRules(t *testing.T) {
	c := switchboard.Campaign{Name: "x", QueueID: 1, Schedule: switchboard.CampaignSchedule{Days: []string{"mon", "tue", "wed", "thu", "fri"}}}
	c.Normalize()
	consented, refused := true, false
	// Monday 5 January 2026, 14:00 UTC: 09:00 in New York, 06:00 in Los
	// Angeles, 14:00 in London.
	now := time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC)
	var z zones
	for _, x := range []struct {
		name    string
		lead    switchboard.Lead
		number  string
		dnc     bool
		out     bool
		require bool
		dial    bool
		status  switchboard.LeadStatus
		deferTo time.Time
		checks  switchboard.DialChecks
	}{
		{name: "within hours in the number's zone", number: "+12125550100", dial: true},
		{name: "before 8 a.m. in the lead's own zone", number: "+14155550100", deferTo: time.Date(2026, 1, 5, 16, 0, 0, 0, time.UTC)},
		{name: "the lead's zone wins over the number's", lead: switchboard.Lead{TimeZone: "America/Los_Angeles"}, number: "+12125550100",
			deferTo: time.Date(2026, 1, 5, 16, 0, 0, 0, time.UTC)},
		{name: "on the do-not-call list", number: "+12125550100", dnc: true, status: switchboard.LeadDoNotCall},
		{name: "opted out by STOP", number: "+12125550100", out: true, status: switchboard.LeadDoNotCall},
		{name: "an emergency number", number: "+1911", status: switchboard.LeadInvalidNumber},
		{name: "consent refused", lead: switchboard.Lead{Consent: &refused}, number: "+12125550100", status: switchboard.LeadDoNotCall},
		{name: "consent required, none on record", number: "+12125550100", require: true, status: switchboard.LeadSkipped},
		{name: "consent required and given", lead: switchboard.Lead{Consent: &consented}, number: "+12125550100", require: true, dial: true},
		{name: "an unknown zone", lead: switchboard.Lead{TimeZone: "Mars/Olympus"}, number: "+12125550100", status: switchboard.LeadSkipped},
		// A toll-free number spans every zone of the +1 area, from Guam
		// (UTC+10) to Pago Pago (UTC-11): it waits until 8 a.m. in Guam,
		// 22:00 UTC, when it is still evening in St John's and Halifax.
		{name: "a number whose area spans zones waits until all of them allow", number: "+18005550100",
			deferTo: time.Date(2026, 1, 5, 22, 0, 0, 0, time.UTC)},
	} {
		t.Run(x.name, func(t *testing.T) {
			c.RequireConsent = x.require
			v := z.check(&c, &x.lead, x.number, listing{dnc: x.dnc, optedOut: x.out}, now)
			if v.dial != x.dial || v.status != x.status || !v.deferTo.Equal(x.deferTo) {
				t.Fatalf("check = dial %v, status %q, defer %v (%s); want %v, %q, %v", v.dial, v.status, v.deferTo, v.reason, x.dial, x.status, x.deferTo)
			}
			if !x.dial && v.reason == "" {
				t.Fatal("a refusal without a reason")
			}
		})
	}
}

func TestNextAllowedSkipsTheWeekend(t *testing.T) {
	s := switchboard.CampaignSchedule{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "17:00"}
	ny, _ := time.LoadLocation("America/New_York")
	// Friday 9 January 2026, 18:00 in New York: next is Monday 09:00.
	fri := time.Date(2026, 1, 9, 18, 0, 0, 0, ny)
	if got, want := nextAllowed(s, fri, ny), time.Date(2026, 1, 12, 9, 0, 0, 0, ny); !got.Equal(want) {
		t.Fatalf("next allowed %v, want %v", got, want)
	}
	end := time.Date(2026, 1, 10, 0, 0, 0, 0, ny)
	s.EndsAt = &end
	if got := nextAllowed(s, fri, ny); !got.IsZero() {
		t.Fatalf("past the schedule's end: %v, want none", got)
	}
}
