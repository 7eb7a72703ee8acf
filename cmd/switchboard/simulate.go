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
	res.WriteReport(m.Stdout, c)
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
	res.WriteReport(m.Stdout, s)
	return nil
}
