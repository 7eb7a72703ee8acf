package voiso

import (
	"context"
	"errors"

	"switchboard"
	"switchboard/internal/phone"
)

// startCallBody is Start call's request, as seed 001 lists its fields.
type startCallBody struct {
	// UserID is the agent's native user id, a number or a string of digits.
	UserID flexID `json:"user_id" required:"true"`
	// PhoneNumber is the customer's number, international digits with or
	// without +.
	PhoneNumber string `json:"phone_number" required:"true" limit:"32"`
	// CallerID is shown to the customer: one of the tenant's numbers or the
	// agent's outbound number.
	CallerID string `json:"caller_id" limit:"32"`
	// Source names the integration and the account in it that placed the
	// call; it is kept on the call.
	Source callSource `json:"source"`
}

// callSource is Start call's source object.
type callSource struct {
	AccountID string `json:"account_id" limit:"200"`
	System    string `json:"system" limit:"200"`
}

// startCallOut is Start call's answer: {"call":{"id":"<uuid>"}}.
type startCallOut struct {
	Call callID `json:"call"`
}

type callID struct {
	ID string `json:"id"`
}

func (a *API) callRoutes() []route {
	return []route{
		handler(route{Method: "POST", Path: "voice/calls", Scope: switchboard.ScopeVoiceCallManage,
			Summary: "Start call: ring the agent, then the customer",
			Doc: "The agent (user_id) must exist, be active, have an extension or sign-in identity, be allowed " +
				"click-to-call (else 403), be signed in and Available; every other refusal is 422 naming the field."},
			a.startCall),
	}
}

// startCall places a click-to-call through the call service. The core's
// refusals keep their fields; an unknown user is 422 on user_id, as the seed
// says ("does not match an existing agent"), not a 404 of the route.
func (a *API) startCall(ctx context.Context, c *call, in *startCallBody) (startCallOut, error) {
	number, err := phone.Normalize(in.PhoneNumber, "")
	if err != nil {
		return startCallOut{}, invalid("phone_number", "is not a valid phone number")
	}
	if a.opt.Calls == nil {
		return startCallOut{}, switchboard.Errorf(switchboard.CodeUnavailable, "the call engine is not running")
	}
	got, err := a.opt.Calls.Dial(ctx, c.tenantID(), switchboard.DialRequest{UserID: int64(in.UserID), PhoneNumber: number,
		CallerID: in.CallerID, Source: switchboard.CallSource{System: in.Source.System, AccountID: in.Source.AccountID}})
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		var e *switchboard.Error
		if !errors.As(err, &e) || len(e.Fields) == 0 || e.Fields["user_id"] != "" {
			return startCallOut{}, invalid("user_id", "does not match an existing agent")
		}
	}
	if err != nil {
		return startCallOut{}, err
	}
	return startCallOut{Call: callID{ID: got.UUID}}, nil
}
