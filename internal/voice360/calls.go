package voice360

import (
	"context"
	"strings"
	"unicode/utf8"

	"switchboard"
	"switchboard/internal/sms"
)

// outboundBody starts a call.
type outboundBody struct {
	// From is the extension making the call.
	From string `json:"from" limit:"64"`
	// To is the number to call.
	To string `json:"to" limit:"64"`
	// CallerID is shown to the callee: one of the account's numbers.
	CallerID string `json:"caller_id" limit:"64"`
	// Recording records the call (default false).
	Recording bool `json:"recording"`
}

// outboundResult is the call being placed.
type outboundResult struct {
	CallID    string `json:"call_id"`
	Status    string `json:"status"`
	From      string `json:"from"`
	To        string `json:"to"`
	Timestamp string `json:"timestamp"`
}

// smsBody sends a text.
type smsBody struct {
	From    string `json:"from" limit:"64"`
	To      string `json:"to" limit:"64"`
	Message string `json:"message" limit:"160"`
}

// smsResult is the text sent.
type smsResult struct {
	MessageID string `json:"message_id"`
	Status    string `json:"status"`
	From      string `json:"from"`
	To        string `json:"to"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
}

// maxSMS is the longest text Voice360 sends, in characters.
const maxSMS = 160

func (a *API) callRoutes() {
	handle(a, route{Method: "POST", Path: "/call/outbound", Summary: "Call a number from an extension: its phone rings first",
		Access: anyKey, Scope: switchboard.ScopeCallsManage, Message: "Call initiated successfully"},
		func(ctx context.Context, c *call, in *outboundBody) (outboundResult, error) {
			p := switchboard.Problems{}
			in.From, in.To = strings.TrimSpace(in.From), strings.TrimSpace(in.To)
			if in.From == "" {
				p.Add("from", "is required: the extension making the call")
			}
			if in.To == "" {
				p.Add("to", "is required: the number to call")
			}
			if err := p.Err(); err != nil {
				return outboundResult{}, err
			}
			if a.opt.Calls == nil {
				return outboundResult{}, switchboard.Errorf(codeUnavailable, "The call service is not running")
			}
			var caller *switchboard.User
			if c.user != nil {
				if c.user.Extension != in.From {
					return outboundResult{}, switchboard.Errorf(switchboard.CodeForbidden, "A User API Key can only call from its own extension (%s)", c.user.Extension)
				}
				caller = c.user
			} else {
				users, err := a.users(ctx, c.tenant.ID)
				if err != nil {
					return outboundResult{}, err
				}
				for i := range users {
					if users[i].Extension == in.From {
						caller = &users[i]
					}
				}
				if caller == nil {
					return outboundResult{}, invalid("from", "is not the extension of a user of this account")
				}
			}
			call, err := a.opt.Calls.Dial(ctx, c.tenant.ID, switchboard.DialRequest{UserID: caller.ID, PhoneNumber: in.To,
				CallerID: strings.TrimSpace(in.CallerID), Source: switchboard.CallSource{System: "voice360"}, NoRecording: !in.Recording})
			if err != nil {
				return outboundResult{}, err
			}
			return outboundResult{CallID: call.UUID, Status: "initiating", From: in.From, To: in.To, Timestamp: a.stamp()}, nil
		})
	handle(a, route{Method: "POST", Path: "/sms/send", Summary: "Send a text (at most 160 characters) from one of the account's SMS numbers",
		Access: anyKey, Scope: switchboard.ScopeMessagesManage, Message: "SMS sent successfully"},
		func(ctx context.Context, c *call, in *smsBody) (smsResult, error) {
			p := switchboard.Problems{}
			if strings.TrimSpace(in.From) == "" {
				p.Add("from", "is required: one of your Voice360 numbers")
			}
			if strings.TrimSpace(in.To) == "" {
				p.Add("to", "is required")
			}
			switch n := utf8.RuneCountInString(in.Message); {
			case strings.TrimSpace(in.Message) == "":
				p.Add("message", "is required")
			case n > maxSMS:
				p.Add("message", "must be at most 160 characters")
			}
			if err := p.Err(); err != nil {
				return smsResult{}, err
			}
			if a.opt.Messenger == nil {
				return smsResult{}, switchboard.Errorf(codeUnavailable, "The SMS service is not running")
			}
			o := sms.Outbound{TenantID: c.tenant.ID, From: in.From, To: in.To, Body: in.Message}
			if c.user != nil {
				o.UserID = &c.user.ID
			}
			m, err := a.opt.Messenger.Send(ctx, o)
			if err != nil {
				return smsResult{}, err
			}
			if m.Status == switchboard.MessageFailed {
				return smsResult{}, &switchboard.Error{Code: codeUnavailable, Message: "The SMS provider did not take the message: " + m.Error}
			}
			return smsResult{MessageID: m.UUID, Status: string(m.Status), From: m.From, To: m.To, Message: m.Body, Timestamp: a.stamp()}, nil
		})
}
