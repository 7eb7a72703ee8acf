package sim

import (
	"context"

	"switchboard"
)

// Lookup is what the control surface needs of the call service: the engine's
// routing key of a number dialled in a tenant, the driver's name of a user's
// phone, and a call as recorded once the engine's changes are written.
type Lookup interface {
	Route(ctx context.Context, tenantID int64, to string) (string, error)
	UserDevice(ctx context.Context, tenantID, userID int64) (string, error)
	Call(ctx context.Context, tenantID, id int64) (switchboard.Call, error)
}

// Control is the simulator's own control surface: switchboard.Simulator on
// this driver. The call service is asked only what it knows (routes, users'
// phones, the recorded call); the scripted callers and phones are the
// driver's.
type Control struct {
	drv   *Driver
	calls Lookup
}

var _ switchboard.Simulator = (*Control)(nil)

// NewControl returns the control surface of d.
func NewControl(d *Driver, calls Lookup) *Control { return &Control{drv: d, calls: calls} }

// PlaceCall implements switchboard.Simulator.
func (c *Control) PlaceCall(ctx context.Context, tenantID int64, in switchboard.SimulatedCall) (switchboard.Call, error) {
	route, err := c.calls.Route(ctx, tenantID, in.To)
	if err != nil {
		return switchboard.Call{}, err
	}
	script := Script{Talk: in.Talk, Patience: in.Patience, Route: route, Ring: in.AnswerAfter, DTMF: in.DTMF, DTMFAfter: in.DTMFAfter,
		FaxPages: in.FaxPages, Message: in.Message}
	_, id, err := c.drv.Call(in.From, in.To, script)
	if err != nil {
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"to": "nothing answers this number: " + err.Error()}}
	}
	return c.calls.Call(ctx, tenantID, id)
}

// SetPhone implements switchboard.Simulator.
func (c *Control) SetPhone(ctx context.Context, tenantID, userID int64, p switchboard.SimulatedPhone) error {
	dev, err := c.calls.UserDevice(ctx, tenantID, userID)
	if err != nil {
		return err
	}
	c.drv.SetDevice(dev, Device{Registered: p.Registered, Behavior: Behavior(p.Behavior), AnswerAfter: p.AnswerAfter})
	return nil
}

// SetNumber implements switchboard.Simulator.
func (c *Control) SetNumber(_ context.Context, tenantID int64, number string, n switchboard.SimulatedNumber) error {
	c.drv.SetTenantNumber(tenantID, number, Script{Behavior: Behavior(n.Behavior), AnswerAfter: n.AnswerAfter, Talk: n.Talk, Patience: n.Patience})
	return nil
}
