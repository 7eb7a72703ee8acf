package native

import (
	"context"

	"switchboard"
)

// voicemailReadBody names who opened a voicemail.
type voicemailReadBody struct {
	// UserID is the agent who opened the message; a user key may leave it
	// out (it is then the key's user) but not name another user.
	UserID int64 `json:"user_id" range:"0,9007199254740991"`
}

// voicemailRoutes serves the voicemail a caller left (status
// voicemail_received; the message is the call's recording).
func (a *API) voicemailRoutes() {
	s := a.opt.Store
	handle(a, route{Method: "POST", Path: "/v1/calls/{id}/voicemail/read", Tag: "Calls", Scope: switchboard.ScopeCallsManage, User: userChecked,
		Summary: "Mark a caller's voicemail as read by an agent (voicemail_read; the first reader stays)"},
		func(ctx context.Context, c *call, in *voicemailReadBody) (switchboard.Call, error) {
			call, err := byID(s.Call)(ctx, c)
			if err != nil {
				return call, err
			}
			user := in.UserID
			if key := c.userKeyID(); key != 0 {
				if user != 0 && user != key {
					return call, switchboard.Errorf(switchboard.CodeForbidden, "a user key marks voicemail read only as its own user")
				}
				user = key
			}
			if user == 0 {
				return call, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"user_id": "is required: the agent who opened the voicemail"}}
			}
			if a.opt.Calls == nil {
				return call, switchboard.Errorf(switchboard.CodeInternal, "the call engine is not running")
			}
			return a.opt.Calls.MarkVoicemailRead(ctx, c.tenantID(), call.ID, user)
		})
}
