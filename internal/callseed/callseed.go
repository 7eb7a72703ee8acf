// Package callseed generates realistic call records, so that anyone can load
// a contact center's history of millions of calls (switchboard seed-calls)
// and measure the queries that read it.
//
// A generated history looks like a real one where the queries care: calls
// are spread over the period by time of day and, for a period that ends at
// midnight, start in order (ids follow time, as the engine numbers them); most are inbound through a queue; a few
// hundred thousand customer numbers each make a few dozen calls, to and from
// a handful of the tenant's lines; dispositions, waits, rings and talk times
// are drawn from plausible distributions; the calls still in progress at the
// end of the period are open, a tiny fraction. The same Config gives the
// same calls.
package callseed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"switchboard"
)

// Config describes the history to generate.
type Config struct {
	TenantID int64
	// Rows is how many calls to generate.
	Rows int
	// End is when the history ends (now, usually); it spans Days before it.
	End  time.Time
	Days int
	// AgentIDs and QueueIDs are the tenant's agents and queues the calls go
	// through; either may be empty.
	AgentIDs, QueueIDs []int64
	// Customers is how many distinct customer numbers call; 0 means one per
	// 40 calls, so that a number has a few dozen calls.
	Customers int
	// Lines are the tenant's own numbers; empty means ten generated ones.
	Lines []string
	// Seed makes the history repeatable; each tenant's differs.
	Seed uint64
}

// Generator yields the calls of a Config in order of their start.
type Generator struct {
	c    Config
	rng  *rand.Rand
	i    int
	span time.Duration
	// day is the weight of each minute of a day (busy office hours, quiet
	// nights), cumulated, to place calls by time of day.
	day [1440]float64
}

// New checks c and returns its generator.
func New(c Config) (*Generator, error) {
	if c.TenantID == 0 || c.Rows < 0 || c.Days < 1 {
		return nil, fmt.Errorf("call seed: a tenant, a row count and at least one day are required, not %d, %d, %d", c.TenantID, c.Rows, c.Days)
	}
	if c.End.IsZero() {
		return nil, fmt.Errorf("call seed: the end of the period is required")
	}
	if c.Customers <= 0 {
		c.Customers = max(1, c.Rows/40)
	}
	if len(c.Lines) == 0 {
		for i := range 10 {
			c.Lines = append(c.Lines, fmt.Sprintf("+1800555%04d", 100+i))
		}
	}
	g := &Generator{c: c, rng: rand.New(rand.NewPCG(c.Seed, uint64(c.TenantID))), span: time.Duration(c.Days) * 24 * time.Hour}
	sum := 0.0
	for m := range g.day {
		h := float64(m) / 60
		// Two humps around 10:30 and 15:00 over a night floor.
		w := 0.05 + math.Exp(-(h-10.5)*(h-10.5)/4) + 0.8*math.Exp(-(h-15)*(h-15)/5)
		sum += w
		g.day[m] = sum
	}
	for m := range g.day {
		g.day[m] /= sum
	}
	return g, nil
}

// Customer returns the number of customer i (0 ≤ i < Customers): North
// American numbers spread over area codes, the same for the same i.
func Customer(i int) string {
	x := mix(uint64(i) + 0x9e3779b97f4a7c15)
	area := 201 + x%798
	exchange := 200 + (x>>16)%799
	line := (x >> 32) % 10000
	return fmt.Sprintf("+1%03d%03d%04d", area, exchange, line)
}

// Customers reports how many customer numbers the generator draws from.
func (g *Generator) Customers() int { return g.c.Customers }

// mix is SplitMix64's finalizer: a fixed, well-spread hash of x.
func mix(x uint64) uint64 {
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Next fills c with the next call (without an id: the loader numbers it)
// and reports false after the last one.
func (g *Generator) Next(c *switchboard.Call) bool {
	if g.i >= g.c.Rows {
		return false
	}
	r := g.rng
	// The i-th call falls on day i*Days/Rows, at a time of day drawn from
	// the day's shape by its place among the day's calls, so that a day's
	// calls start minute by minute.
	pos := float64(g.i) * float64(g.c.Days) / float64(g.c.Rows)
	dayIdx := math.Floor(pos)
	frac := pos - dayIdx
	minute := 0
	for minute < 1439 && g.day[minute] < frac {
		minute++
	}
	// The shape is by time of day (UTC): a day of the period that begins
	// at, say, noon takes the afternoon's calls first.
	first := g.c.End.Add(-g.span).UTC()
	sinceMidnight := first.Sub(first.Truncate(24 * time.Hour))
	tod := (time.Duration(minute)*time.Minute + time.Duration(r.Int64N(int64(time.Minute))) - sinceMidnight + 24*time.Hour) % (24 * time.Hour)
	start := first.Add(time.Duration(dayIdx)*24*time.Hour + tod).Truncate(time.Microsecond)
	g.i++

	*c = switchboard.Call{TenantID: g.c.TenantID, Media: switchboard.MediaVoice, CreatedAt: start}
	c.UUID = timeUUID(start, r).String()
	customer := Customer(r.IntN(g.c.Customers))
	line := g.c.Lines[r.IntN(len(g.c.Lines))]
	var agent, queue *int64
	if len(g.c.AgentIDs) > 0 {
		a := g.c.AgentIDs[r.IntN(len(g.c.AgentIDs))]
		agent = &a
	}
	if len(g.c.QueueIDs) > 0 {
		q := g.c.QueueIDs[r.IntN(len(g.c.QueueIDs))]
		queue = &q
	}
	at := func(d time.Duration) *time.Time { t := start.Add(d); return &t }
	exp := func(mean time.Duration) time.Duration {
		return time.Duration(r.ExpFloat64() * float64(mean)).Truncate(time.Microsecond)
	}
	var end time.Duration
	p := r.Float64()
	if r.Float64() < 0.7 {
		c.Direction, c.From, c.To, c.QueueID = switchboard.Inbound, customer, line, queue
		wait := exp(35 * time.Second)
		c.QueuedAt = at(0)
		switch {
		case p < 0.8: // answered
			ring := 2*time.Second + exp(4*time.Second)
			talk := 20*time.Second + exp(4*time.Minute)
			c.RingingAt, c.ConnectedAt, c.AgentID = at(wait), at(wait+ring), agent
			c.Status, c.Disposition, end = switchboard.CallFinished, switchboard.DispositionAnswered, wait+ring+talk
			c.HangupBy = pick(r, switchboard.SideCaller, switchboard.SideAgent)
			c.Recorded = true
			if r.IntN(10) == 0 {
				c.Hold = exp(40 * time.Second)
			}
		case p < 0.92:
			c.Status, c.Disposition, c.HangupBy, end = switchboard.CallFailed, switchboard.DispositionAbandoned, switchboard.SideCaller, wait
		case p < 0.97:
			c.RingingAt = at(wait)
			c.Status, c.Disposition, c.HangupBy, end = switchboard.CallFailed, switchboard.DispositionMissed, switchboard.SideCaller, wait+20*time.Second
		default:
			c.Status, c.Disposition, c.HangupBy, c.HangupCause, end = switchboard.CallFailed, switchboard.DispositionFailed,
				switchboard.SideSystem, "no route", time.Second
		}
	} else {
		c.Direction, c.From, c.To, c.AgentID = switchboard.Outbound, line, customer, agent
		ring := 3*time.Second + exp(8*time.Second)
		c.RingingAt = at(time.Second)
		switch {
		case p < 0.55:
			c.ConnectedAt = at(time.Second + ring)
			c.Status, c.Disposition, end = switchboard.CallFinished, switchboard.DispositionAnswered, time.Second+ring+10*time.Second+exp(3*time.Minute)
			c.HangupBy = pick(r, switchboard.SideCaller, switchboard.SideAgent)
			c.Recorded = true
		case p < 0.8:
			c.Status, c.Disposition, c.HangupBy, end = switchboard.CallFailed, switchboard.DispositionNoAnswer, switchboard.SideSystem, time.Second+30*time.Second
		case p < 0.9:
			c.Status, c.Disposition, c.HangupBy, c.HangupCause, end = switchboard.CallFailed, switchboard.DispositionBusy,
				switchboard.SideCaller, "user busy", time.Second+ring
		case p < 0.95:
			c.Status, c.Disposition, c.HangupBy, c.HangupCause, end = switchboard.CallFailed, switchboard.DispositionRejected,
				switchboard.SideCaller, "call rejected", time.Second+ring
		default:
			c.Status, c.Disposition, c.HangupBy, c.HangupCause, end = switchboard.CallFailed, switchboard.DispositionFailed,
				switchboard.SideSystem, "network error", time.Second
		}
	}
	c.HoldSeconds = c.Hold.Seconds()
	if e := at(end); e.Before(g.c.End) {
		c.EndedAt = e
		return true
	}
	// Still in progress when the history ends.
	c.Disposition, c.HangupBy, c.HangupCause = "", "", ""
	switch {
	case c.ConnectedAt != nil && !c.ConnectedAt.After(g.c.End):
		c.Status = switchboard.CallConnected
	case c.RingingAt != nil && !c.RingingAt.After(g.c.End):
		c.Status, c.ConnectedAt = switchboard.CallAssigned, nil
	default:
		c.Status, c.ConnectedAt, c.RingingAt = switchboard.CallQueued, nil, nil
		if c.Direction == switchboard.Outbound {
			c.Status = switchboard.CallAssigned
		}
	}
	if c.ConnectedAt == nil {
		c.AgentID = nil
		c.Recorded = false
	}
	return true
}

func pick(r *rand.Rand, a, b switchboard.Side) switchboard.Side {
	if r.IntN(2) == 0 {
		return a
	}
	return b
}

// timeUUID is a version 7 UUID for t drawn from r: time-ordered, so that
// loading calls in order appends to the uuid index rather than scattering
// writes over it, and repeatable for a seed.
func timeUUID(t time.Time, r *rand.Rand) uuid.UUID {
	var u uuid.UUID
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	lo, hi := r.Uint64(), r.Uint64()
	for i := 6; i < 16; i++ {
		if i < 8 {
			u[i] = byte(hi >> (8 * (i - 6)))
		} else {
			u[i] = byte(lo >> (8 * (i - 8)))
		}
	}
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}
