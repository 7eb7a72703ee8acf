package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"switchboard/internal/sim"
)

// simulate runs one M/M/N queue (or a scenario file) through the real engine
// and the simulated telephony in virtual time, and prints what it measured,
// beside Erlang C for M/M/N.
func (m *Main) simulate(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	var (
		agents   = fs.Int("agents", 8, "agents in the queue, all signed in and answering at once")
		rate     = fs.Float64("arrival-rate", 100, "calls per hour, Poisson arrivals")
		aht      = fs.Float64("aht", 180, "average handle time in seconds, exponentially distributed")
		hours    = fs.Float64("hours", 1000, "simulated hours counted (after a 10-hour warm-up)")
		sl       = fs.Float64("sl-threshold", 20, "service-level threshold in seconds")
		seed     = fs.Uint64("seed", 1, "random seed; the same seed gives the same run")
		asJSON   = fs.Bool("json", false, "print one JSON object instead of a table")
		scenario = fs.String("scenario", "", "JSON file of queues, arrivals, handle times, patience and agent groups (see examples/scenario.json); replaces the M/M/N flags")
	)
	if err := m.parseOnly(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *scenario != "" {
		return m.simulateScenario(*scenario, *asJSON)
	}
	if *hours <= 0 || *hours > 1e6 {
		return usageError{errors.New("--hours must be between 0 and 1,000,000")}
	}
	c := sim.Capacity{Agents: *agents, CallsPerHour: *rate, AHT: seconds(*aht), Duration: time.Duration(*hours * float64(time.Hour)),
		Warmup: 10 * time.Hour, SLThreshold: seconds(*sl), Seed: *seed}
	if err := c.Validate(); err != nil {
		return usageError{err}
	}
	res, err := sim.RunCapacity(c)
	if err != nil {
		return err
	}
	if *asJSON {
		return m.printJSON(res)
	}
	fmt.Fprintf(m.Stdout, "M/M/%d, %.0f calls/h, AHT %.0f s: %d calls simulated over %.0f h in %.1f s\n\n",
		c.Agents, c.CallsPerHour, c.AHT.Seconds(), res.Calls, *hours, res.WallSeconds)
	fmt.Fprintf(m.Stdout, "%-22s %12s %12s\n", "", "simulated", "Erlang C")
	row := func(name string, got float64, want func(*sim.ErlangCPrediction) float64, format string) {
		w := "-"
		if res.ErlangC != nil {
			w = fmt.Sprintf(format, want(res.ErlangC))
		}
		fmt.Fprintf(m.Stdout, "%-22s %12s %12s\n", name, fmt.Sprintf(format, got), w)
	}
	row("P(wait)", res.PWait, func(p *sim.ErlangCPrediction) float64 { return p.PWait }, "%.4f")
	row("ASA (s)", res.ASASeconds, func(p *sim.ErlangCPrediction) float64 { return p.ASASeconds }, "%.2f")
	row(fmt.Sprintf("service level @%.0fs", *sl), res.ServiceLevel, func(p *sim.ErlangCPrediction) float64 { return p.ServiceLevel }, "%.4f")
	row("occupancy", res.Occupancy, func(p *sim.ErlangCPrediction) float64 { return p.Occupancy }, "%.4f")
	if res.ErlangC == nil {
		fmt.Fprintln(m.Stdout, "\nThe offered load is at or above the number of agents: Erlang C has no steady state and the queue grows with time.")
	}
	return nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// simulateScenario runs a scenario file and prints a row per queue.
func (m *Main) simulateScenario(path string, asJSON bool) error {
	f, err := os.Open(path)
	if err != nil {
		return usageError{err}
	}
	defer f.Close()
	s, err := sim.ReadScenario(f)
	if err != nil {
		return usageError{err}
	}
	res, err := sim.RunScenario(s)
	if err != nil {
		return err
	}
	if asJSON {
		return m.printJSON(res)
	}
	fmt.Fprintf(m.Stdout, "%.0f simulated hours in %.1f s; agent occupancy %.3f\n\n", s.Hours, res.WallSeconds, res.Occupancy)
	fmt.Fprintf(m.Stdout, "%-16s %8s %8s %9s %8s %8s %8s %8s %8s\n", "queue", "offered", "answered", "abandoned", "rejected", "P(wait)", "ASA (s)", "SL", "abandon")
	for _, q := range res.Queues {
		fmt.Fprintf(m.Stdout, "%-16s %8d %8d %9d %8d %8.4f %8.2f %8.4f %8.4f\n", q.Name, q.Offered, q.Answered, q.Abandoned,
			q.Rejected, q.PWait, q.ASASeconds, q.ServiceLevel, q.AbandonRate)
	}
	return nil
}
