package sim_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"switchboard/internal/sim"
)

// TestWriteReport: the capacity table sets each measure beside Erlang C and
// says when Erlang C has nothing to say; the scenario table has a row per
// queue.
func TestWriteReport(t *testing.T) {
	c := sim.Capacity{Agents: 8, CallsPerHour: 100, AHT: 3 * time.Minute, Duration: 200 * time.Hour, SLThreshold: 20 * time.Second}
	res := sim.CapacityResult{Calls: 20000, PWait: 0.0123, ASASeconds: 1.5, ServiceLevel: 0.99, Occupancy: 0.625,
		ErlangC: &sim.ErlangCPrediction{PWait: 0.0125, ASASeconds: 1.25, ServiceLevel: 0.985, Occupancy: 0.625}}
	var b bytes.Buffer
	res.WriteReport(&b, c)
	for _, want := range []string{"M/M/8, 100 calls/h, AHT 180 s: 20000 calls simulated over 200 h", "P(wait)                      0.0123       0.0125",
		"service level @20s", "ASA (s)                        1.50         1.25"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "no steady state") {
		t.Errorf("a stable queue reported without a steady state:\n%s", b.String())
	}
	b.Reset()
	res.ErlangC = nil
	res.WriteReport(&b, c)
	if !strings.Contains(b.String(), "no steady state") || !strings.Contains(b.String(), "0.0123            -") {
		t.Errorf("overloaded report:\n%s", b.String())
	}

	b.Reset()
	sim.ScenarioResult{Occupancy: 0.5, Queues: []sim.QueueResult{{Name: "Sales", Offered: 10, Answered: 9, Abandoned: 1}}}.
		WriteReport(&b, sim.Scenario{Hours: 8})
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[3], "Sales") || !strings.Contains(lines[0], "8 simulated hours") {
		t.Errorf("scenario report:\n%s", b.String())
	}
}
