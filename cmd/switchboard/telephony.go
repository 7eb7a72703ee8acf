package main

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/internal/callcenter"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
	"switchboard/internal/sqlstore"
)

// calls is the call service and the driver it runs on, as serve wires them.
type calls struct {
	*callcenter.Service
	// sim is the simulated telephony's control surface (--telephony sim).
	sim *sim.Control
	// ended counts the calls that ended here, by disposition (nil: not
	// counted).
	ended *prometheus.CounterVec
}

// newCalls builds the telephony driver --telephony names (sim is the one
// built in) and the call service on it.
func newCalls(store *sqlstore.DB, log *slog.Logger) *calls {
	c := &calls{}
	drv := sim.New(engine.RealClock{})
	c.Service = callcenter.New(callcenter.Options{Store: store, Driver: drv, Log: log,
		Ended: func(d switchboard.Disposition) {
			if c.ended != nil { // set by metrics.Register
				c.ended.WithLabelValues(string(d)).Inc()
			}
		}})
	drv.SetEngine(c.Engine())
	c.sim = sim.NewControl(drv, c.Service)
	return c
}
