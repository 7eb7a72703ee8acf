package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/internal/callcenter"
	"switchboard/internal/engine"
	"switchboard/internal/native"
	"switchboard/internal/sim"
	"switchboard/internal/sqlstore"
)

// calls is the call service and the driver it runs on, as serve wires them.
type calls struct {
	*callcenter.Service
	sim *sim.Driver // the simulated telephony (--telephony sim)
	// ended counts the calls that ended here, by disposition (nil: not
	// counted).
	ended *prometheus.CounterVec
}

// newCalls builds the telephony driver --telephony names and the call service
// on it.
func newCalls(store *sqlstore.DB, log *slog.Logger) *calls {
	c := &calls{}
	c.sim = sim.New(engine.RealClock{})
	c.Service = callcenter.New(callcenter.Options{Store: store, Driver: c.sim, Log: log,
		Ended: func(d switchboard.Disposition) {
			if c.ended != nil { // set by metrics.Register in Start
				c.ended.WithLabelValues(string(d)).Inc()
			}
		}})
	c.sim.SetEngine(c.Engine())
	return c
}

// SimulateCall implements native.Simulator: a scripted caller dials a number
// or extension of the tenant.
func (c *calls) SimulateCall(ctx context.Context, tenantID int64, in native.SimCall) (switchboard.Call, error) {
	route, err := c.Route(ctx, tenantID, in.To)
	if err != nil {
		return switchboard.Call{}, err
	}
	script := sim.Script{Talk: in.Talk, Patience: in.Patience, Route: route, Ring: in.AnswerAfter, DTMF: in.DTMF, DTMFAfter: in.DTMFAfter,
		FaxPages: in.FaxPages}
	_, id, err := c.sim.Call(in.From, in.To, script)
	if err != nil {
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"to": "nothing answers this number: " + err.Error()}}
	}
	return c.Call(ctx, tenantID, id)
}

// SetSimDevice implements native.Simulator: how an agent's virtual phone
// behaves.
func (c *calls) SetSimDevice(ctx context.Context, tenantID, userID int64, d native.SimDevice) (native.SimDevice, error) {
	dev, err := c.UserDevice(ctx, tenantID, userID)
	if err != nil {
		return d, err
	}
	c.sim.SetDevice(dev, sim.Device{Registered: d.Registered, Behavior: sim.Behavior(d.Behavior),
		AnswerAfter: time.Duration(d.AnswerAfterSeconds * float64(time.Second))})
	return d, nil
}
