//go:build !race

// The race detector makes these million-call runs take minutes; the engine and
// driver are raced by the other tests, and CI runs this one without -race.

package sim_test

import (
	"math"
	"testing"
	"time"

	"switchboard/internal/sim"
)

// TestCapacityMatchesErlangC runs M/M/N queues through the real engine in
// virtual time and checks P(wait), ASA and service level against Erlang C
// (the reference table of specs/acd-and-dialer.md) within 3 %.
func TestCapacityMatchesErlangC(t *testing.T) {
	// Each run is about a million calls: the wait of a lightly loaded queue
	// varies a lot from call to call, and fewer calls leave ASA several per
	// cent from the model by chance alone (seen with 300,000 calls at N=8).
	settings := []sim.Capacity{
		{Agents: 8, CallsPerHour: 100, AHT: 180 * time.Second, SLThreshold: 20 * time.Second, Duration: 12000 * time.Hour},
		{Agents: 14, CallsPerHour: 200, AHT: 180 * time.Second, SLThreshold: 20 * time.Second, Duration: 6000 * time.Hour},
		{Agents: 54, CallsPerHour: 720, AHT: 240 * time.Second, SLThreshold: 15 * time.Second, Duration: 1500 * time.Hour},
	}
	for _, c := range settings {
		c.Warmup, c.Seed = 10*time.Hour, 1
		if testing.Short() {
			c.Duration = 300 * time.Hour
		}
		res, err := sim.RunCapacity(c)
		if err != nil {
			t.Fatal(err)
		}
		want := res.ErlangC
		t.Logf("N=%d λ=%.0f/h AHT=%v: %d calls in %.1fs: P(wait) %.4f (Erlang C %.4f), ASA %.2fs (%.2f), SL %.4f (%.4f), occupancy %.4f (%.4f)",
			c.Agents, c.CallsPerHour, c.AHT, res.Calls, res.WallSeconds, res.PWait, want.PWait, res.ASASeconds, want.ASASeconds,
			res.ServiceLevel, want.ServiceLevel, res.Occupancy, want.Occupancy)
		if testing.Short() {
			continue
		}
		for name, pair := range map[string][2]float64{
			"P(wait)": {res.PWait, want.PWait}, "ASA": {res.ASASeconds, want.ASASeconds},
			"service level": {res.ServiceLevel, want.ServiceLevel}, "occupancy": {res.Occupancy, want.Occupancy},
		} {
			if rel := math.Abs(pair[0]-pair[1]) / pair[1]; rel > 0.03 {
				t.Errorf("N=%d: %s %.4f is %.1f %% from Erlang C's %.4f", c.Agents, name, pair[0], 100*rel, pair[1])
			}
		}
	}
}
