package engine

import (
	"errors"
	"math"
	"testing"
	"time"
)

// The reference table of specs/acd-and-dialer.md §4 (from erlangc.py, which
// cross-checks the recursion against exact rational arithmetic).
var erlangTable = []struct {
	perHour  float64
	aht, sl  time.Duration
	n        int
	pWait    float64
	asa      float64 // seconds
	svcLevel float64
	lq       float64
}{
	{100, 180 * time.Second, 20 * time.Second, 6, 0.587516, 105.7530, 0.474267, 2.93758},
	{100, 180 * time.Second, 20 * time.Second, 7, 0.324150, 29.1735, 0.740441, 0.81037},
	{100, 180 * time.Second, 20 * time.Second, 8, 0.167267, 10.0360, 0.880148, 0.27878},
	{100, 180 * time.Second, 20 * time.Second, 9, 0.080510, 3.6230, 0.948378, 0.10064},
	{100, 180 * time.Second, 20 * time.Second, 10, 0.036105, 1.2998, 0.979284, 0.03611},
	{200, 180 * time.Second, 20 * time.Second, 11, 0.682118, 122.7813, 0.389614, 6.82118},
	{200, 180 * time.Second, 20 * time.Second, 14, 0.174132, 7.8359, 0.888350, 0.43533},
	{720, 240 * time.Second, 15 * time.Second, 52, 0.466031, 27.9618, 0.637055, 5.59237},
	{720, 240 * time.Second, 15 * time.Second, 56, 0.187154, 5.6146, 0.886485, 1.12293},
}

func within(got, want, abs float64) bool { return math.Abs(got-want) <= abs+1e-12 }

func near(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func TestErlangCStaffing(t *testing.T) {
	for _, tt := range erlangTable {
		s, err := ErlangCStaffing(tt.perHour, tt.aht, tt.n, tt.sl)
		if err != nil {
			t.Fatal(err)
		}
		// The table is rounded to its printed digits: allow half a unit of the last.
		if !within(s.PWait, tt.pWait, 5e-7) || !within(s.ASA.Seconds(), tt.asa, 5e-5) ||
			!within(s.ServiceLevel, tt.svcLevel, 5e-7) || !within(s.QueueLength, tt.lq, 5e-6) {
			t.Errorf("ErlangCStaffing(%v/h, %v, N=%d) = P(wait) %.6f ASA %.4f SL %.6f Lq %.5f; want %.6f %.4f %.6f %.5f",
				tt.perHour, tt.aht, tt.n, s.PWait, s.ASA.Seconds(), s.ServiceLevel, s.QueueLength, tt.pWait, tt.asa, tt.svcLevel, tt.lq)
		}
	}
}

// TestErlangCPublished checks the pyworkforce README's published example to
// its printed digits (A = 10 Erlangs, N = 14, 20 s).
func TestErlangCPublished(t *testing.T) {
	s, err := ErlangCStaffing(200, 3*time.Minute, 14, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !near(s.ServiceLevel, 0.8883500191794669, 1e-9) || !near(s.PWait, 0.17413193359504983, 1e-9) {
		t.Errorf("SL %.16f P(wait) %.17f", s.ServiceLevel, s.PWait)
	}
}

func TestErlangCEdges(t *testing.T) {
	if _, err := ErlangC(5, 5); !errors.Is(err, ErrorOverloaded) {
		t.Errorf("ErlangC at full load: %v, want ErrorOverloaded", err)
	}
	if _, err := ErlangC(0, 1); err == nil {
		t.Errorf("ErlangC with no agents must fail")
	}
	if c, err := ErlangC(3, 0); err != nil || c != 0 {
		t.Errorf("ErlangC with no load = %v, %v; want 0", c, err)
	}
	if got := PositionWait(3, 6, 3*time.Minute); got != 90*time.Second {
		t.Errorf("PositionWait(3, 6, 3m) = %v, want 1m30s", got)
	}
}
