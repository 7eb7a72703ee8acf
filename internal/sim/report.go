package sim

import (
	"fmt"
	"io"
)

// WriteReport prints r as a table beside Erlang C's prediction for c, the run
// it measured, for a person reading "switchboard simulate".
func (r CapacityResult) WriteReport(w io.Writer, c Capacity) {
	fmt.Fprintf(w, "M/M/%d, %.0f calls/h, AHT %.0f s: %d calls simulated over %.0f h in %.1f s\n\n",
		c.Agents, c.CallsPerHour, c.AHT.Seconds(), r.Calls, c.Duration.Hours(), r.WallSeconds)
	fmt.Fprintf(w, "%-22s %12s %12s\n", "", "simulated", "Erlang C")
	row := func(name string, got float64, want func(*ErlangCPrediction) float64, format string) {
		p := "-"
		if r.ErlangC != nil {
			p = fmt.Sprintf(format, want(r.ErlangC))
		}
		fmt.Fprintf(w, "%-22s %12s %12s\n", name, fmt.Sprintf(format, got), p)
	}
	row("P(wait)", r.PWait, func(p *ErlangCPrediction) float64 { return p.PWait }, "%.4f")
	row("ASA (s)", r.ASASeconds, func(p *ErlangCPrediction) float64 { return p.ASASeconds }, "%.2f")
	row(fmt.Sprintf("service level @%.0fs", c.SLThreshold.Seconds()), r.ServiceLevel, func(p *ErlangCPrediction) float64 { return p.ServiceLevel }, "%.4f")
	row("occupancy", r.Occupancy, func(p *ErlangCPrediction) float64 { return p.Occupancy }, "%.4f")
	if r.ErlangC == nil {
		fmt.Fprintln(w, "\nThe offered load is at or above the number of agents: Erlang C has no steady state and the queue grows with time.")
	}
}

// WriteReport prints r as a table of s's queues.
func (r ScenarioResult) WriteReport(w io.Writer, s Scenario) {
	fmt.Fprintf(w, "%.0f simulated hours in %.1f s; agent occupancy %.3f\n\n", s.Hours, r.WallSeconds, r.Occupancy)
	fmt.Fprintf(w, "%-16s %8s %8s %9s %8s %8s %8s %8s %8s\n", "queue", "offered", "answered", "abandoned", "rejected", "P(wait)", "ASA (s)", "SL", "abandon")
	for _, q := range r.Queues {
		fmt.Fprintf(w, "%-16s %8d %8d %9d %8d %8.4f %8.2f %8.4f %8.4f\n", q.Name, q.Offered, q.Answered, q.Abandoned,
			q.Rejected, q.PWait, q.ASASeconds, q.ServiceLevel, q.AbandonRate)
	}
}
