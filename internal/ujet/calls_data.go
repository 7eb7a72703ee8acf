package ujet

// What a client attaches to a call: its end user (mid-session
// authentication), the customer flags and custom data, unsigned or signed
// (an HS256 JWT made with the company secret, which the tenant sets through
// PATCH /v1/tenant's company_secret). All of it is the call's CallData.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"switchboard"
)

// endUserBody is POST /calls/{id}/end_user's body.
type endUserBody struct {
	Identifier string `json:"identifier" limit:"200"`
	Name       string `json:"name" limit:"200"`
	Email      string `json:"email" limit:"200"`
	Phone      string `json:"phone" limit:"64"`
}

// Accepted is UJET's answer to a request it acts on: {"message":"accepted"}.
type Accepted struct {
	Message string `json:"message"`
}

// callEndUser links the end user identifier names (created or updated) to
// a call in progress. A phone already set on the end user is kept, as UJET
// documents.
func (a *API) callEndUser(ctx context.Context, c *call, in *endUserBody) (Accepted, error) {
	if strings.TrimSpace(in.Identifier) == "" {
		return Accepted{}, missing("identifier")
	}
	call, err := a.theCall(ctx, c)
	if err != nil {
		return Accepted{}, err
	}
	if call.EndedAt != nil {
		return Accepted{}, badRequest("Call is already ended")
	}
	tid := c.tenantID()
	u := switchboard.EndUser{Identifier: strings.TrimSpace(in.Identifier), Name: in.Name, Email: in.Email, Phone: in.Phone}
	if old, err := a.opt.Store.EndUserByIdentifier(ctx, tid, u.Identifier); err == nil && old.Phone != "" {
		u.Phone = ""
	} else if err != nil && switchboard.ErrorCode(err) != switchboard.CodeNotFound {
		return Accepted{}, err
	}
	eu, err := a.opt.Store.UpsertEndUser(ctx, tid, u)
	if err != nil {
		return Accepted{}, err
	}
	if _, err := a.opt.Store.UpdateCallDataFunc(ctx, tid, call.ID, func(d *switchboard.CallData) error {
		d.EndUserID = &eu.ID
		return nil
	}); err != nil {
		return Accepted{}, err
	}
	return Accepted{Message: "accepted"}, nil
}

// CustomerFlags are a call's three customer flags.
type CustomerFlags struct {
	VerifiedCustomer bool `json:"verified_customer"`
	BadActor         bool `json:"bad_actor"`
	RepeatCustomer   bool `json:"repeat_customer"`
}

// flagsBody is PATCH …/customer_flag's body: each flag optional, as a
// boolean or its string; repeat_customers (the seed's spelling) is
// repeat_customer.
type flagsBody struct {
	VerifiedCustomer flexBool `json:"verified_customer"`
	BadActor         flexBool `json:"bad_actor"`
	RepeatCustomer   flexBool `json:"repeat_customer"`
	RepeatCustomers  flexBool `json:"repeat_customers"`
}

func flagsOf(d switchboard.CallData) CustomerFlags {
	return CustomerFlags{VerifiedCustomer: d.VerifiedCustomer, BadActor: d.BadActor, RepeatCustomer: d.RepeatCustomer}
}

func (a *API) getCallFlags(ctx context.Context, c *call, _ *noBody) (CustomerFlags, error) {
	call, err := a.theCall(ctx, c)
	if err != nil {
		return CustomerFlags{}, err
	}
	d, err := a.opt.Store.CallData(ctx, c.tenantID(), call.ID)
	return flagsOf(d), err
}

func (a *API) patchCallFlags(ctx context.Context, c *call, in *flagsBody) (CustomerFlags, error) {
	call, err := a.theCall(ctx, c)
	if err != nil {
		return CustomerFlags{}, err
	}
	d, err := a.opt.Store.UpdateCallDataFunc(ctx, c.tenantID(), call.ID, func(d *switchboard.CallData) error {
		set := func(dst *bool, v flexBool) {
			if v.Set {
				*dst = v.Value
			}
		}
		set(&d.VerifiedCustomer, in.VerifiedCustomer)
		set(&d.BadActor, in.BadActor)
		set(&d.RepeatCustomer, in.RepeatCustomers)
		set(&d.RepeatCustomer, in.RepeatCustomer)
		return nil
	})
	return flagsOf(d), err
}

const customDataDoc = "Unsigned: {\"signed\": false, \"data\": {\"key\": {\"label\": \"…\", \"value\": …}}}. Signed: {\"signed\": true, " +
	"\"signed_data\": \"<JWT>\"}, an HS256 JWT made with the company secret (set with PATCH /v1/tenant's company_secret) whose " +
	"custom_data claim holds the fields; its exp is honoured. reserved_verified_customer, reserved_bad_actor and " +
	"reserved_repeat_customer set the customer flags; other keys are merged into the call's custom data. A JWT that does not verify " +
	"or has expired is 400. POST and PATCH do the same. 200 with the call's custom data as stored."

// customDataBody is POST …/custom_data's body: the seed's two forms, and the
// spec's {"custom_data":{"signed":"<jwt>","unsigned":{…}}}.
type customDataBody struct {
	Signed     json.RawMessage            `json:"signed"`
	Data       map[string]json.RawMessage `json:"data" limit:"100"`
	SignedData string                     `json:"signed_data" limit:"16384"`
	CustomData *signedUnsigned            `json:"custom_data"`
}

// signedUnsigned is the spec's form of custom data: a signed token beside
// unsigned fields.
type signedUnsigned struct {
	Signed   string                     `json:"signed" limit:"16384"`
	Unsigned map[string]json.RawMessage `json:"unsigned" limit:"100"`
}

// CustomData is the custom data of a call as stored: unsigned fields under
// data, verified signed ones under signed_data, each {label, value}.
type CustomData struct {
	Data       map[string]switchboard.CustomField `json:"data"`
	SignedData map[string]switchboard.CustomField `json:"signed_data"`
	CustomerFlags
}

// The keys of custom data that set the customer flags.
var reservedFlags = map[string]func(d *switchboard.CallData) *bool{
	"reserved_verified_customer": func(d *switchboard.CallData) *bool { return &d.VerifiedCustomer },
	"reserved_bad_actor":         func(d *switchboard.CallData) *bool { return &d.BadActor },
	"reserved_repeat_customer":   func(d *switchboard.CallData) *bool { return &d.RepeatCustomer },
}

func (a *API) postCallCustomData(ctx context.Context, c *call, in *customDataBody) (CustomData, error) {
	call, err := a.theCall(ctx, c)
	if err != nil {
		return CustomData{}, err
	}
	tid := c.tenantID()
	unsigned, token := in.Data, strings.TrimSpace(in.SignedData)
	if cd := in.CustomData; cd != nil {
		if token == "" {
			token = strings.TrimSpace(cd.Signed)
		}
		if unsigned == nil {
			unsigned = cd.Unsigned
		}
	}
	// "signed" is a boolean in the seed, the token itself in the spec's form.
	var signedFlag bool
	if s := bytes.TrimSpace(in.Signed); len(s) > 0 && s[0] == '"' {
		var tok string
		if err := json.Unmarshal(s, &tok); err == nil && strings.Count(tok, ".") == 2 && token == "" {
			token = tok
		}
	} else if len(s) > 0 && !bytes.Equal(s, []byte("null")) {
		var fb flexBool
		if err := fb.UnmarshalJSON(s); err != nil {
			return CustomData{}, badRequest("signed must be true or false")
		}
		signedFlag = fb.Value
	}
	if signedFlag && token == "" {
		return CustomData{}, missing("signed_data")
	}
	if token == "" && unsigned == nil {
		return CustomData{}, missing("data")
	}
	var claims map[string]switchboard.CustomField
	if token != "" {
		if claims, err = a.verifySigned(ctx, tid, token); err != nil {
			return CustomData{}, err
		}
	}
	fields, err := customFields(unsigned)
	if err != nil {
		return CustomData{}, err
	}
	d, err := a.opt.Store.UpdateCallDataFunc(ctx, tid, call.ID, func(d *switchboard.CallData) error {
		for k, f := range fields {
			if !setFlag(d, k, f) {
				d.CustomData[k] = f
			}
		}
		for k, f := range claims {
			if !setFlag(d, k, f) {
				d.SignedData[k] = f
			}
		}
		return nil
	})
	if err != nil {
		if se := (*switchboard.Error)(nil); errors.As(err, &se) && se.Code == switchboard.CodeInvalid {
			return CustomData{}, badRequest("custom data " + strings.TrimPrefix(switchboard.ErrorMessage(err), "validation failed"))
		}
		return CustomData{}, err
	}
	return CustomData{Data: d.CustomData, SignedData: d.SignedData, CustomerFlags: flagsOf(d)}, nil
}

// setFlag applies a reserved_* field to its flag and says whether k was one.
func setFlag(d *switchboard.CallData, k string, f switchboard.CustomField) bool {
	flag, ok := reservedFlags[k]
	if !ok {
		return false
	}
	var fb flexBool
	if err := fb.UnmarshalJSON(f.Value); err == nil && fb.Set {
		*flag(d) = fb.Value
	}
	return true
}

// customFields reads custom data as UJET sends it: each key an object
// {"label", "value"}; a bare value is taken as the value without a label.
func customFields(raw map[string]json.RawMessage) (map[string]switchboard.CustomField, error) {
	out := make(map[string]switchboard.CustomField, len(raw))
	for k, v := range raw {
		var f struct {
			Label *string         `json:"label"`
			Value json.RawMessage `json:"value"`
		}
		v = bytes.TrimSpace(v)
		if len(v) > 0 && v[0] == '{' && json.Unmarshal(v, &f) == nil && (f.Value != nil || f.Label != nil) {
			cf := switchboard.CustomField{Value: f.Value}
			if f.Label != nil {
				cf.Label = *f.Label
			}
			if cf.Value == nil {
				cf.Value = json.RawMessage("null")
			}
			out[k] = cf
			continue
		}
		out[k] = switchboard.CustomField{Value: v}
	}
	if len(out) > switchboard.MaxCustomFields {
		return nil, badRequest("custom data must hold at most 100 fields")
	}
	return out, nil
}

// verifySigned checks signed custom data: an HS256 JWT signed with the
// tenant's company secret, not expired (exp, when present), whose
// custom_data claim holds the fields.
func (a *API) verifySigned(ctx context.Context, tid int64, token string) (map[string]switchboard.CustomField, error) {
	t, err := a.opt.Store.Tenant(ctx, tid)
	if err != nil {
		return nil, err
	}
	if t.CompanySecret == nil || *t.CompanySecret == "" {
		return nil, badRequest("signed_data cannot be verified: the company secret is not set")
	}
	secret := []byte(*t.CompanySecret)
	var claims struct {
		CustomData map[string]json.RawMessage `json:"custom_data"`
		jwt.RegisteredClaims
	}
	_, err = jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(a.now), jwt.WithIssuedAt(), jwt.WithLeeway(0))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, badRequest("signed_data has expired")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, badRequest("signed_data is not signed with the company secret")
	case err != nil:
		return nil, badRequest("signed_data is not a valid HS256 JWT")
	case claims.CustomData == nil:
		return nil, badRequest("signed_data has no custom_data claim")
	}
	return customFields(claims.CustomData)
}
