package switchboard

import (
	"context"
	"encoding/json"
	"time"
)

// CallData is what the integration APIs attach to a call beside the engine's
// record of it: the end user, the three customer flags, custom data (signed
// and unsigned), the CRM ticket, the language and the recording permission
// asked for. It lives in a table of its own so that the engine's saves of a
// call (which rewrite the call's row at every step) never overwrite what an
// API wrote, and an API's write never waits for the engine.
type CallData struct {
	CallID   int64 `json:"call_id"`
	TenantID int64 `json:"tenant_id"`
	// CallType is the call type the API that created the call named
	// ("Voice Outbound (API)"); empty for calls no API typed.
	CallType string `json:"call_type"`
	// EndUserID is the end user the call was linked to (mid-session
	// authentication); nil until one is.
	EndUserID *int64 `json:"end_user_id"`
	// The customer flags an agent sees beside the caller.
	VerifiedCustomer bool `json:"verified_customer"`
	BadActor         bool `json:"bad_actor"`
	RepeatCustomer   bool `json:"repeat_customer"`
	// CustomData is the unsigned custom data sent for the call, SignedData
	// the claims of signed custom data that verified, each by key as the
	// client sent it.
	CustomData map[string]CustomField `json:"custom_data"`
	SignedData map[string]CustomField `json:"signed_data"`
	// TicketID is the CRM ticket the call belongs to.
	TicketID string `json:"ticket_id"`
	// Language is the call's language (ISO 639-1, with a region when given).
	Language string `json:"language"`
	// RecordingPermission is what the caller was asked about recording
	// (RecordingNotAsked, RecordingDenied, RecordingGranted).
	RecordingPermission string    `json:"recording_permission"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// CustomField is one value of custom data, with the label an agent sees it
// under ("" when the client gave none). Value is any JSON value, kept as
// sent.
type CustomField struct {
	Label string          `json:"label,omitempty"`
	Value json.RawMessage `json:"value"`
}

// The recording permissions a caller may have given.
const (
	RecordingNotAsked = "not_asked"
	RecordingDenied   = "denied"
	RecordingGranted  = "granted"
)

// Bounds of call data, so that one call cannot hold unbounded custom data.
const (
	MaxCustomFields     = 100
	MaxCustomFieldBytes = 4096
	MaxCustomKeyLength  = 100
)

// Validate reports every invalid field of d.
func (d *CallData) Validate() error {
	p := Problems{}
	checkLen(p, "call_type", d.CallType, 100)
	checkLen(p, "ticket_id", d.TicketID, 200)
	checkLen(p, "language", d.Language, 35)
	switch d.RecordingPermission {
	case "", RecordingNotAsked, RecordingDenied, RecordingGranted:
	default:
		p.Add("recording_permission", "must be not_asked, denied or granted")
	}
	for name, m := range map[string]map[string]CustomField{"custom_data": d.CustomData, "signed_data": d.SignedData} {
		if len(m) > MaxCustomFields {
			p.Add(name, "must hold at most 100 fields")
			continue
		}
		for k, f := range m {
			switch {
			case k == "" || len(k) > MaxCustomKeyLength:
				p.Add(name, "keys must be 1 to 100 characters")
			case len(f.Label) > MaxCustomFieldBytes || len(f.Value) > MaxCustomFieldBytes:
				p.Add(name+"."+k, "must be at most 4096 bytes")
			case len(f.Value) > 0 && !json.Valid(f.Value):
				p.Add(name+"."+k, "value must be JSON")
			}
		}
	}
	return p.Err()
}

// CallDataStore keeps each call's CallData. A call no API wrote about has
// none stored, and reads as the zero CallData of that call.
type CallDataStore interface {
	// CallData reads the data of one call of the tenant (CodeNotFound when
	// the call is not the tenant's).
	CallData(ctx context.Context, tenantID, callID int64) (CallData, error)
	// CallDataFor reads the data stored for many calls in one query (a list
	// page's), by call id; calls with none stored, or not the tenant's, are
	// absent from the map.
	CallDataFor(ctx context.Context, tenantID int64, callIDs []int64) (map[int64]CallData, error)
	// UpdateCallDataFunc is the read-modify-write of a call's data (see
	// UpdateUserFunc): fn gets the data as stored (the zero CallData of the
	// call when none is) with the row locked, and what it leaves is
	// validated and written. CodeNotFound when the call is not the
	// tenant's.
	UpdateCallDataFunc(ctx context.Context, tenantID, callID int64, fn func(*CallData) error) (CallData, error)
	// CallByTicket finds the newest call of the tenant whose data names the
	// CRM ticket (CodeNotFound when none does): how a ticket resolves to its
	// end user's number when an API places a call by ticket.
	CallByTicket(ctx context.Context, tenantID int64, ticket string) (Call, error)
}
