package native

import (
	"context"
	"net/http"

	"switchboard"
)

// TrunkHealth is the SIP driver's view of its trunks (internal/sip.Trunks),
// shown read-only by GET /v1/trunks/{id}/status.
type TrunkHealth interface {
	TrunkStatus(id int64) (switchboard.TrunkStatus, bool)
}

// trunkBody is the writable view of a trunk. The passwords are write-only:
// an empty value keeps the stored one. Enabled defaults to true on create.
type trunkBody struct {
	Name string `json:"name" limit:"200"`
	// InboundAddresses are the carrier's signalling addresses: CIDR
	// prefixes or single IPv4/IPv6 addresses.
	InboundAddresses []string `json:"inbound_addresses" limit:"100"`
	InboundUsername  string   `json:"inbound_username" limit:"64"`
	InboundPassword  string   `json:"inbound_password" limit:"128"`
	// OutboundURI is sip:host[:port][;transport=udp|tcp|tls|ws|wss] or
	// sips:host[:port].
	OutboundURI string `json:"outbound_uri" limit:"512"`
	Username    string `json:"username" limit:"64"`
	Password    string `json:"password" limit:"128"`
	// Register keeps an outbound registration with the carrier.
	Register bool `json:"register"`
	// DefaultOutbound makes outbound calls leave through this trunk; it
	// clears the flag on the tenant's other trunks.
	DefaultOutbound bool `json:"default_outbound"`
	// CallerID is "from_call" (the default) or a fixed E.164 number.
	CallerID               string `json:"caller_id" limit:"64"`
	StripPlus              bool   `json:"strip_plus"`
	Prefix                 string `json:"prefix" limit:"16"`
	MaxConcurrentCalls     int    `json:"max_concurrent_calls" range:"0,100000"`
	CallsPerSecond         int    `json:"calls_per_second" range:"0,10000"`
	OptionsIntervalSeconds int    `json:"options_interval_seconds" range:"0,3600"`
	Enabled                *bool  `json:"enabled"`
}

func trunkToBody(t switchboard.Trunk) trunkBody {
	enabled := t.Enabled
	return trunkBody{Name: t.Name, InboundAddresses: t.InboundAddresses, InboundUsername: t.InboundUsername,
		OutboundURI: t.OutboundURI, Username: t.Username, Register: t.Register, DefaultOutbound: t.DefaultOutbound,
		CallerID: t.CallerID, StripPlus: t.StripPlus, Prefix: t.Prefix, MaxConcurrentCalls: t.MaxConcurrentCalls,
		CallsPerSecond: t.CallsPerSecond, OptionsIntervalSeconds: t.OptionsIntervalSeconds, Enabled: &enabled}
}

func (b *trunkBody) apply(t *switchboard.Trunk) {
	t.Name, t.InboundAddresses, t.InboundUsername, t.InboundPassword = b.Name, b.InboundAddresses, b.InboundUsername, b.InboundPassword
	t.OutboundURI, t.Username, t.Password, t.Register = b.OutboundURI, b.Username, b.Password, b.Register
	t.DefaultOutbound, t.CallerID, t.StripPlus, t.Prefix = b.DefaultOutbound, b.CallerID, b.StripPlus, b.Prefix
	t.MaxConcurrentCalls, t.CallsPerSecond, t.OptionsIntervalSeconds = b.MaxConcurrentCalls, b.CallsPerSecond, b.OptionsIntervalSeconds
	if b.Enabled != nil {
		t.Enabled = *b.Enabled
	}
}

func (a *API) trunkRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeNumbersRead, switchboard.ScopeNumbersManage
	handle(a, route{Method: "GET", Path: "/v1/trunks", Summary: "List SIP trunks (carriers)", Tag: "Trunks", Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.Trunk], error) {
			return s.Trunks(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/trunks", Summary: "Connect a SIP carrier (inbound by address or credentials, outbound through a URI)",
		Tag: "Trunks", Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *trunkBody) (switchboard.Trunk, error) {
			t := switchboard.Trunk{Enabled: true}
			in.apply(&t)
			return s.CreateTrunk(ctx, c.tenantID(), t)
		})
	get := byID(s.Trunk)
	handle(a, route{Method: "GET", Path: "/v1/trunks/{id}", Summary: "Get a trunk", Tag: "Trunks", Scope: read}, getter(get))
	// The health is its own resource: it changes without any write, so it
	// is neither cached nor part of the trunk's ETag.
	handle(a, route{Method: "GET", Path: "/v1/trunks/{id}/status", Summary: "Get a trunk's health as this node's SIP driver sees it",
		Doc: "state is up, down (last_error says why), unknown (no OPTIONS check or registration configured, or none done yet) or disabled. " +
			"A server running without the SIP driver (--telephony sim) checks no trunk and answers unknown.",
		Tag: "Trunks", Scope: read},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.TrunkStatus, error) {
			t, err := get(ctx, c)
			if err != nil {
				return switchboard.TrunkStatus{}, err
			}
			if !t.Enabled {
				return switchboard.TrunkStatus{State: switchboard.TrunkDisabled}, nil
			}
			if a.opt.TrunkHealth != nil {
				if st, ok := a.opt.TrunkHealth.TrunkStatus(t.ID); ok {
					return st, nil
				}
			}
			return switchboard.TrunkStatus{State: switchboard.TrunkUnknown}, nil
		})
	handlePatch(a, route{Method: "PATCH", Path: "/v1/trunks/{id}", Summary: "Update a trunk", Tag: "Trunks", Scope: manage},
		patch[trunkBody, switchboard.Trunk]{
			update: updater(s.UpdateTrunkFunc),
			toBody: trunkToBody,
			apply:  func(in *trunkBody, t *switchboard.Trunk) error { in.apply(t); return nil },
		})
	handle(a, route{Method: "DELETE", Path: "/v1/trunks/{id}", Summary: "Delete a trunk", Tag: "Trunks",
		Scope: manage, Status: http.StatusNoContent}, deleter(s.DeleteTrunk))
}
