package callseed

import (
	"testing"
	"time"

	"switchboard"
)

// A history is repeatable, inside its period, mostly ended, and spreads the
// calls over the customers so that a number has a few dozen of them.
func TestGenerator(t *testing.T) {
	end := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cfg := Config{TenantID: 3, Rows: 20_000, Days: 30, End: end, AgentIDs: []int64{1, 2}, QueueIDs: []int64{9}, Seed: 5}
	draw := func() []switchboard.Call {
		g, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var out []switchboard.Call
		var c switchboard.Call
		for g.Next(&c) {
			out = append(out, c)
		}
		return out
	}
	a, b := draw(), draw()
	if len(a) != cfg.Rows {
		t.Fatalf("%d calls, want %d", len(a), cfg.Rows)
	}
	perNumber := map[string]int{}
	open, inbound := 0, 0
	for i, c := range a {
		if c.UUID != b[i].UUID || c.From != b[i].From || !c.CreatedAt.Equal(b[i].CreatedAt) {
			t.Fatalf("call %d differs between two draws of the same config", i)
		}
		if c.CreatedAt.Before(end.Add(-30*24*time.Hour)) || !c.CreatedAt.Before(end) {
			t.Fatalf("call %d starts at %s, outside the period", i, c.CreatedAt)
		}
		if c.EndedAt == nil {
			open++
			if c.Disposition != "" || c.Status == switchboard.CallFinished {
				t.Errorf("open call %d is %s, %s", i, c.Status, c.Disposition)
			}
		} else if c.EndedAt.Before(c.CreatedAt) || !c.EndedAt.Before(end) {
			t.Errorf("call %d ends at %s, started %s", i, c.EndedAt, c.CreatedAt)
		}
		if c.Direction == switchboard.Inbound {
			inbound++
			perNumber[c.From]++
		} else {
			perNumber[c.To]++
		}
	}
	if open == 0 || open > cfg.Rows/100 {
		t.Errorf("%d open calls of %d: want a few", open, cfg.Rows)
	}
	if inbound < cfg.Rows*6/10 || inbound > cfg.Rows*8/10 {
		t.Errorf("%d inbound calls of %d", inbound, cfg.Rows)
	}
	if n := len(perNumber); n < cfg.Rows/40*9/10 {
		t.Errorf("%d customer numbers, want about %d", n, cfg.Rows/40)
	}
}
