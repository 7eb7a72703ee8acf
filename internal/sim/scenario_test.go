package sim_test

import (
	"math"
	"strings"
	"testing"

	"switchboard/internal/engine"
	"switchboard/internal/sim"

	"time"
)

func TestScenario(t *testing.T) {
	const doc = `{
	  "hours": 500, "warmup_hours": 5, "seed": 3,
	  "queues": [
	    {"name": "Sales", "strategy": "leastrecent", "arrivals_per_hour": 100,
	     "handle_time": {"mean_seconds": 180}, "patience": {"distribution": "none"}, "sl_threshold_seconds": 20},
	    {"name": "Support", "strategy": "fewestcalls", "arrivals_per_hour": 60, "wrap_up_seconds": 15,
	     "handle_time": {"distribution": "lognormal", "mean_seconds": 240, "cv": 0.8},
	     "patience": {"distribution": "exponential", "mean_seconds": 60}, "max_length": 5}
	  ],
	  "agents": [
	    {"count": 8, "queues": ["Sales"]},
	    {"count": 4, "queues": ["Support"]},
	    {"count": 1, "queues": ["Sales", "Support"], "penalty": 1, "answer_after_seconds": 3}
	  ]
	}`
	s, err := sim.ReadScenario(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.RunScenario(s)
	if err != nil {
		t.Fatal(err)
	}
	sales, support := res.Queues[0], res.Queues[1]
	t.Logf("%+v\n%+v\noccupancy %.3f in %.1fs", sales, support, res.Occupancy, res.WallSeconds)
	// Sales alone is M/M/8 at 5 Erlangs, helped a little by the shared agent:
	// at most Erlang C's P(wait) and never an abandon.
	want, _ := engine.ErlangCStaffing(100, 180*time.Second, 8, 20*time.Second)
	if sales.Abandoned != 0 || sales.PWait > want.PWait*1.05 || sales.PWait < want.PWait*0.6 || math.Abs(float64(sales.Offered)-50000) > 1500 {
		t.Errorf("Sales %+v; Erlang C P(wait) for 8 agents %.4f", sales, want.PWait)
	}
	// Support runs at 4 Erlangs on 4-5 agents with impatient callers: some
	// abandon, some find the queue full, and the rest are answered.
	if support.Abandoned == 0 || support.Rejected == 0 || support.Answered+support.Abandoned+support.Rejected != support.Offered {
		t.Errorf("Support %+v", support)
	}
	if res.Occupancy <= 0.5 || res.Occupancy >= 1 {
		t.Errorf("occupancy %.3f", res.Occupancy)
	}
	again, _ := sim.RunScenario(s)
	again.WallSeconds = res.WallSeconds
	if again.Queues[1] != res.Queues[1] {
		t.Errorf("the same seed gave a different run")
	}
}

func TestScenarioValidation(t *testing.T) {
	for doc, field := range map[string]string{
		`{"hours": 1, "queues": [], "agents": []}`: "queues",
		`{"hours": 1, "queues": [{"name": "A", "arrivals_per_hour": 10, "handle_time": {"mean_seconds": 60}, "patience": {"distribution": "none"}}], "agents": [{"count": 1, "queues": ["B"]}]}`:                          "agents[0].queues",
		`{"hours": 1, "queues": [{"name": "A", "arrivals_per_hour": 10, "handle_time": {"mean_seconds": 60}}], "agents": [{"count": 1, "queues": ["A"]}]}`:                                                                "queues[0].patience",
		`{"hours": 1, "queues": [{"name": "A", "arrivals_per_hour": 10, "handle_time": {"distribution": "gamma", "mean_seconds": 60}, "patience": {"distribution": "none"}}], "agents": [{"count": 1, "queues": ["A"]}]}`: "queues[0].handle_time.distribution",
		`{"hours": 1, "queues": [{"name": "A", "strategy": "loudest", "arrivals_per_hour": 10, "handle_time": {"mean_seconds": 60}, "patience": {"distribution": "none"}}], "agents": [{"count": 1, "queues": ["A"]}]}`:   "queues[0].strategy",
		`{"hours": 1, "queue": []}`: "unknown field",
		`{"hours": 0}`:              "hours",
	} {
		_, err := sim.ReadScenario(strings.NewReader(doc))
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("ReadScenario(%s) = %v, want an error naming %s", doc, err, field)
		}
	}
}
