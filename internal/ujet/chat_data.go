package ujet

import (
	"context"
	"strconv"
	"strings"

	"switchboard"
)

func chatFlagsOf(cv *switchboard.Conversation) CustomerFlags {
	return CustomerFlags{VerifiedCustomer: hasFlag(cv, flagVerified), BadActor: hasFlag(cv, flagBadActor), RepeatCustomer: hasFlag(cv, flagRepeat)}
}

func (a *API) chatFlags(ctx context.Context, c *call, _ *noBody) (CustomerFlags, error) {
	_, cv, err := a.chat(ctx, c)
	if err != nil {
		return CustomerFlags{}, err
	}
	return chatFlagsOf(&cv), nil
}

// setFlag sets or clears flag f in flags.
func setChatFlag(flags []string, f string, on bool) []string {
	out := make([]string, 0, len(flags)+1)
	for _, g := range flags {
		if g != f {
			out = append(out, g)
		}
	}
	if on {
		out = append(out, f)
	}
	return out
}

// applyFlags sets the flags given (unset ones unchanged).
func applyFlags(flags []string, set map[string]flexBool) []string {
	for _, f := range []string{flagVerified, flagBadActor, flagRepeat} {
		if v := set[f]; v.Set {
			flags = setChatFlag(flags, f, v.Value)
		}
	}
	return flags
}

func (a *API) setChatFlags(ctx context.Context, c *call, in *flagsBody) (CustomerFlags, error) {
	svc, cv, err := a.chat(ctx, c)
	if err != nil {
		return CustomerFlags{}, err
	}
	repeat := in.RepeatCustomer
	if !repeat.Set {
		repeat = in.RepeatCustomers
	}
	set := map[string]flexBool{flagVerified: in.VerifiedCustomer, flagBadActor: in.BadActor, flagRepeat: repeat}
	cv, err = svc.Update(ctx, c.tenantID(), cv.ID, func(cv *switchboard.Conversation) error {
		cv.Flags = applyFlags(cv.Flags, set)
		return nil
	})
	if err != nil {
		return CustomerFlags{}, err
	}
	return chatFlagsOf(&cv), nil
}

// customDataBody is POST /chats/{id}/custom_data (the seed's two forms).
type chatCustomDataBody struct {
	Signed     flexBool       `json:"signed"`
	Data       map[string]any `json:"data"`
	SignedData string         `json:"signed_data" limit:"16384"`
}

// reservedFlags reads the reserved customer-flag fields of custom data
// ({"reserved_verified_customer": {"value": true}, …}).
func chatReservedFlags(data map[string]any) map[string]flexBool {
	out := map[string]flexBool{}
	for key, flag := range map[string]string{"reserved_verified_customer": flagVerified, "reserved_bad_actor": flagBadActor,
		"reserved_repeat_customer": flagRepeat} {
		v, ok := data[key]
		if !ok {
			continue
		}
		if m, ok := v.(map[string]any); ok {
			v = m["value"]
		}
		switch b := v.(type) {
		case bool:
			out[flag] = flexBool{Set: true, Value: b}
		case string:
			var f flexBool
			if f.UnmarshalJSON([]byte(strconv.Quote(b))) == nil {
				out[flag] = f
			}
		}
	}
	return out
}

func (a *API) chatCustomData(ctx context.Context, c *call, in *chatCustomDataBody) (Accepted, error) {
	svc, cv, err := a.chat(ctx, c)
	if err != nil {
		return Accepted{}, err
	}
	var data map[string]any
	if in.Signed.Value {
		if strings.TrimSpace(in.SignedData) == "" {
			return Accepted{}, missing("signed_data")
		}
		_, claims, err := svc.AddContext(ctx, c.tenantID(), cv.ID, strings.TrimSpace(in.SignedData), nil)
		if switchboard.ErrorCode(err) == switchboard.CodeInvalid {
			return Accepted{}, badRequest("signed_data " + switchboard.ErrorFields(err)["context.signed"])
		} else if err != nil {
			return Accepted{}, err
		}
		data, _ = claims["custom_data"].(map[string]any)
	} else {
		if in.Data == nil {
			return Accepted{}, missing("data")
		}
		if _, _, err := svc.AddContext(ctx, c.tenantID(), cv.ID, "", in.Data); err != nil {
			return Accepted{}, err
		}
		data = in.Data
	}
	if set := chatReservedFlags(data); len(set) > 0 {
		if _, err := svc.Update(ctx, c.tenantID(), cv.ID, func(cv *switchboard.Conversation) error {
			cv.Flags = applyFlags(cv.Flags, set)
			return nil
		}); err != nil {
			return Accepted{}, err
		}
	}
	return Accepted{Message: "accepted"}, nil
}

// chatEndUser updates the chat's end user: name and e-mail, and the phone
// unless one is set already. An identifier other than the chat's end
// user's names the person the anonymous end user turned out to be: that
// end user is created or updated, and recorded in the chat's unsigned
// context (authenticated_end_user) — the core keeps a chat's end user for
// its life.
func (a *API) chatEndUser(ctx context.Context, c *call, in *endUserBody) (Accepted, error) {
	svc, cv, err := a.chat(ctx, c)
	if err != nil {
		return Accepted{}, err
	}
	id := strings.TrimSpace(in.Identifier)
	if id == "" {
		return Accepted{}, missing("identifier")
	}
	if cv.Status.Ended() {
		return Accepted{}, badRequest(textEnded)
	}
	name, email, ph := strings.TrimSpace(in.Name), strings.TrimSpace(in.Email), strings.TrimSpace(in.Phone)
	if id != cv.EndUser.Identifier {
		u, err := a.opt.Store.UpsertEndUser(ctx, c.tenantID(), switchboard.EndUser{Identifier: id, Name: name, Email: email, Phone: ph})
		if err != nil {
			return Accepted{}, err
		}
		_, _, err = svc.AddContext(ctx, c.tenantID(), cv.ID, "", map[string]any{"authenticated_end_user": map[string]any{
			"id": u.ID, "identifier": u.Identifier}})
		if err != nil {
			return Accepted{}, err
		}
		return Accepted{Message: "accepted"}, nil
	}
	_, err = svc.Update(ctx, c.tenantID(), cv.ID, func(cv *switchboard.Conversation) error {
		if name != "" {
			cv.EndUser.Name = name
		}
		if email != "" {
			cv.EndUser.Email = email
		}
		if ph != "" && cv.EndUser.Phone == "" {
			cv.EndUser.Phone = ph
		}
		return nil
	})
	if err != nil {
		return Accepted{}, err
	}
	return Accepted{Message: "accepted"}, nil
}
