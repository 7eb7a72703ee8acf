package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"switchboard"
	"switchboard/internal/dialer"
)

// dialerReport is what simulate-dialer prints: the run asked for, with the
// progressive baseline of the same campaign and the ratios between them.
type dialerReport struct {
	dialer.SimResult
	Progressive dialer.SimResult `json:"progressive"`
	// ConnectsRatio and OccupancyRatio are the run's figures over the
	// baseline's.
	ConnectsRatio  float64 `json:"connects_ratio"`
	OccupancyRatio float64 `json:"occupancy_ratio"`
}

// simulateDialer runs a campaign and its progressive baseline on the
// simulator in virtual time.
func (m *Main) simulateDialer(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("simulate-dialer", flag.ContinueOnError)
	var (
		agents  = fs.Int("agents", 50, "agents on the campaign, all signed in and answering at once")
		mode    = fs.String("mode", "predictive", "pacing: preview, progressive or predictive")
		answer  = fs.Float64("answer-rate", 0.3, "share of dials answered, by a person or a machine (0-1]")
		machine = fs.Float64("machine-rate", 0.1, "share of the answers that are answering machines [0-1)")
		aht     = fs.Float64("aht", 180, "average handle time in seconds: talk plus wrap-up")
		wrap    = fs.Float64("wrap", 10, "wrap-up after each call, in seconds (part of --aht)")
		hours   = fs.Float64("hours", 8, "simulated hours")
		limit   = fs.Float64("max-abandon", switchboard.DefaultMaxAbandonPercent, "the campaign's abandon limit, in percent")
		seed    = fs.Uint64("seed", 1, "random seed; the same seed gives the same run")
		asJSON  = fs.Bool("json", false, "print one JSON object instead of a table")
	)
	if err := m.parseOnly(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *hours <= 0 || *hours > 1000 {
		return usageError{errors.New("--hours must be above 0 and at most 1,000")}
	}
	if *limit <= 0 || *limit > 100 {
		return usageError{errors.New("--max-abandon must be above 0 and at most 100")}
	}
	s := dialer.Simulation{Agents: *agents, Mode: switchboard.CampaignMode(*mode), AnswerRate: *answer, MachineRate: *machine,
		AHT: seconds(*aht), Wrap: seconds(*wrap), Duration: time.Duration(*hours * float64(time.Hour)), Seed: *seed,
		MaxAbandonPercent: *limit}
	if err := s.Validate(); err != nil {
		return usageError{err}
	}
	res, err := dialer.RunSimulation(s)
	if err != nil {
		return err
	}
	base := s
	base.Mode = switchboard.ModeProgressive
	rep := dialerReport{SimResult: res}
	if rep.Progressive, err = dialer.RunSimulation(base); err != nil {
		return err
	}
	if rep.Progressive.ConnectsPerAgentHour > 0 {
		rep.ConnectsRatio = res.ConnectsPerAgentHour / rep.Progressive.ConnectsPerAgentHour
	}
	if rep.Progressive.Occupancy > 0 {
		rep.OccupancyRatio = res.Occupancy / rep.Progressive.Occupancy
	}
	if *asJSON {
		return m.printJSON(rep)
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "pacing\toccupancy\tabandon\tworst hour\tconnects/agent-h\ttalk min/agent-h\tdials\twall s\t\n")
	for _, r := range []dialer.SimResult{res, rep.Progressive} {
		fmt.Fprintf(w, "%s\t%.3f\t%.2f %%\t%.2f %%\t%.2f\t%.1f\t%d\t%.2f\t\n", r.Mode, r.Occupancy, 100*r.AbandonRate,
			100*r.MaxWindowAbandonRate, r.ConnectsPerAgentHour, r.TalkMinutesPerHour, r.Dials, r.WallSeconds)
	}
	w.Flush()
	fmt.Fprintf(m.Stdout, "\n%s over progressive: connects per agent-hour ×%.2f, occupancy ×%.2f (%d agents, %.0f simulated hours, seed %d)\n",
		res.Mode, rep.ConnectsRatio, rep.OccupancyRatio, s.Agents, *hours, s.Seed)
	return nil
}
