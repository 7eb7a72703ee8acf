package switchboard

import (
	"testing"
	"time"
)

// TestRateCost checks the rounding of talk time to increments and of the
// cost to a whole minor unit, always up.
func TestRateCost(t *testing.T) {
	for _, c := range []struct {
		rate       Rate
		talk       int
		billed     int
		costMinors int64
	}{
		{Rate{PerMinuteMilli: 1_000, InitialIncrement: 60, Increment: 60}, 0, 0, 0},
		{Rate{PerMinuteMilli: 1_000, InitialIncrement: 60, Increment: 60}, 1, 60, 1},
		{Rate{PerMinuteMilli: 1_000, InitialIncrement: 60, Increment: 60}, 61, 120, 2},
		{Rate{PerMinuteMilli: 1_000, InitialIncrement: 1, Increment: 1}, 61, 61, 2},         // 1.0167 ¢ rounds up
		{Rate{PerMinuteMilli: 1_250, InitialIncrement: 30, Increment: 6}, 31, 36, 1},        // 0.75 ¢ rounds up
		{Rate{PerMinuteMilli: 6_000, InitialIncrement: 60, Increment: 60}, 3600, 3600, 360}, // an hour at 6 ¢
		{Rate{PerMinuteMilli: 0, ConnectionFeeMilli: 2_500, InitialIncrement: 60, Increment: 60}, 5, 60, 3},
	} {
		if got := c.rate.BilledSeconds(c.talk); got != c.billed {
			t.Errorf("%+v: %d s billed as %d, want %d", c.rate, c.talk, got, c.billed)
		}
		if got := c.rate.Cost(c.talk); got != c.costMinors {
			t.Errorf("%+v: %d s cost %d, want %d", c.rate, c.talk, got, c.costMinors)
		}
	}
}

func TestRateValidate(t *testing.T) {
	r := Rate{Prefix: " +44 ", EffectiveFrom: time.Date(2026, 1, 1, 0, 0, 0, 1, time.FixedZone("x", 3600))}
	r.Normalize()
	if err := r.Validate(); err != nil || r.Prefix != "44" || r.Direction != Outbound || r.Increment != 60 || r.EffectiveFrom.Location() != time.UTC {
		t.Errorf("normalized %+v: %v", r, err)
	}
	r = Rate{Prefix: "1234567890123456", Direction: "up", PerMinuteMilli: MaxRateMilli + 1, InitialIncrement: 3601, Increment: -1}
	err := r.Validate()
	for _, f := range []string{"prefix", "direction", "per_minute_milli", "initial_increment", "increment"} {
		if ErrorFields(err)[f] == "" {
			t.Errorf("%s not named in %v", f, err)
		}
	}
	if got := (Rate{PerMinuteMilli: MaxRateMilli, InitialIncrement: 1, Increment: 1}).Cost(365 * 24 * 3600); got <= 0 || got > MaxMoney {
		t.Errorf("a year at the highest price costs %d: out of range", got)
	}
}
