package native

import (
	"context"
	"net/http"
	"time"

	"switchboard"
)

// CallCenter is the running call engine with its simulated telephony, as the
// API drives it.
type CallCenter interface {
	SimulateCall(ctx context.Context, tenantID int64, in SimCall) (switchboard.Call, error)
	SetSimDevice(ctx context.Context, tenantID, userID int64, d SimDevice) (SimDevice, error)
}

// SimCall is a simulated inbound call.
type SimCall struct {
	From        string
	To          string
	AnswerAfter time.Duration
	Talk        time.Duration
	Patience    time.Duration
}

// simCallBody injects an inbound call into the simulator.
type simCallBody struct {
	From string `json:"from"`
	// To is a phone number of the tenant routed to a queue, or a queue extension.
	To string `json:"to"`
	// AnswerAfterSeconds is how long the call rings before Switchboard picks it up.
	AnswerAfterSeconds float64 `json:"answer_after_seconds"`
	// TalkSeconds is how long the caller talks once connected (0: until the agent hangs up).
	TalkSeconds float64 `json:"talk_seconds"`
	// PatienceSeconds is how long the caller waits for an agent (0: forever).
	PatienceSeconds float64 `json:"patience_seconds"`
}

// SimDevice is an agent's virtual phone.
type SimDevice struct {
	Registered bool `json:"registered"`
	// Behavior is answer, reject (busy), ignore (rings until the timeout) or no_answer.
	Behavior           string  `json:"behavior"`
	AnswerAfterSeconds float64 `json:"answer_after_seconds"`
}

type presenceBody struct {
	// Status is a status name of the tenant: Offline, Available or a custom one.
	Status string `json:"status"`
}

func secondsOf(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func (a *API) callRoutes() {
	s := a.opt.Store
	engine := func() error {
		if a.opt.CallCenter == nil {
			return switchboard.Errorf(switchboard.CodeInternal, "the call engine is not running")
		}
		return nil
	}
	userID := func(ctx context.Context, c *call, name string) (int64, error) {
		id, err := c.pathID(name)
		if err != nil {
			return 0, err
		}
		if _, err := s.User(ctx, c.tenantID(), id); err != nil {
			return 0, err
		}
		return id, nil
	}
	handle(a, route{Method: "GET", Path: "/v1/users/{id}/status", Summary: "An agent's presence status", Tag: "Agents", Scope: switchboard.ScopeUsersRead},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.Presence, error) {
			id, err := c.pathID("id")
			if err != nil {
				return switchboard.Presence{}, err
			}
			return s.Presence(ctx, c.tenantID(), id)
		})
	handle(a, route{Method: "POST", Path: "/v1/users/{id}/status", Summary: "Set an agent's status; Available signs the agent in to take calls", Tag: "Agents", Scope: switchboard.ScopeUsersManage},
		func(ctx context.Context, c *call, in *presenceBody) (switchboard.Presence, error) {
			id, err := c.pathID("id")
			if err != nil {
				return switchboard.Presence{}, err
			}
			return s.SetPresence(ctx, c.tenantID(), id, in.Status, false)
		})
	handle(a, route{Method: "GET", Path: "/v1/calls/{id}", Summary: "A call, live or ended", Tag: "Calls", Scope: switchboard.ScopeCallsRead},
		getter(byID(s.Call)))
	handle(a, route{Method: "POST", Path: "/v1/sim/calls", Summary: "Simulator: place an inbound call from a scripted caller", Tag: "Simulator", Scope: switchboard.ScopeCallsManage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *simCallBody) (switchboard.Call, error) {
			p := switchboard.Problems{}
			if in.From == "" {
				p.Add("from", "is required")
			}
			if in.To == "" {
				p.Add("to", "is required")
			}
			for field, v := range map[string]float64{"answer_after_seconds": in.AnswerAfterSeconds, "talk_seconds": in.TalkSeconds, "patience_seconds": in.PatienceSeconds} {
				if v < 0 || v > 86400 {
					p.Add(field, "must be between 0 and 86400")
				}
			}
			if err := p.Err(); err != nil {
				return switchboard.Call{}, err
			}
			if err := engine(); err != nil {
				return switchboard.Call{}, err
			}
			return a.opt.CallCenter.SimulateCall(ctx, c.tenantID(), SimCall{From: in.From, To: in.To,
				AnswerAfter: secondsOf(in.AnswerAfterSeconds), Talk: secondsOf(in.TalkSeconds), Patience: secondsOf(in.PatienceSeconds)})
		})
	handle(a, route{Method: "PUT", Path: "/v1/sim/devices/{user_id}", Summary: "Simulator: configure an agent's virtual phone", Tag: "Simulator", Scope: switchboard.ScopeCallsManage},
		func(ctx context.Context, c *call, in *SimDevice) (SimDevice, error) {
			id, err := userID(ctx, c, "user_id")
			if err != nil {
				return SimDevice{}, err
			}
			switch in.Behavior {
			case "":
				in.Behavior = "answer"
			case "answer", "reject", "ignore", "no_answer":
			default:
				return SimDevice{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"behavior": "must be answer, reject, ignore or no_answer"}}
			}
			if in.AnswerAfterSeconds < 0 || in.AnswerAfterSeconds > 600 {
				return SimDevice{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"answer_after_seconds": "must be between 0 and 600"}}
			}
			if err := engine(); err != nil {
				return SimDevice{}, err
			}
			return a.opt.CallCenter.SetSimDevice(ctx, c.tenantID(), id, *in)
		})
}
