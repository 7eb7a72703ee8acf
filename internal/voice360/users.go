package voice360

import (
	"context"
	"strconv"
	"strings"

	"switchboard"
)

// channel is a call in progress of a user.
type channel struct {
	To          string `json:"to"`
	From        string `json:"from"`
	CallSeconds int64  `json:"call_seconds"`
	Direction   string `json:"direction"`
}

// userAvailability is a user's state as /availability shows it.
type userAvailability struct {
	PK                int64     `json:"pk"`
	PresenceID        string    `json:"presence_id"`
	CallerID          string    `json:"callerID"`
	FirstName         string    `json:"first_name"`
	LastName          string    `json:"last_name"`
	DevicesRegistered bool      `json:"devices_registered"`
	Channels          []channel `json:"channels"`
}

// profile is the user key's own user, as /user/profile shows it.
type profile struct {
	PK               int64   `json:"pk"`
	AsteriskUserID   int64   `json:"asterisk_user_id"`
	PresenceID       string  `json:"presence_id"`
	CallerID         string  `json:"callerID"`
	FirstName        string  `json:"first_name"`
	LastName         string  `json:"last_name"`
	Email            string  `json:"email"`
	VoicemailEnabled bool    `json:"voicemail_enabled"`
	ForwardEnabled   bool    `json:"forward_enabled"`
	ForwardNumber    *string `json:"forward_number"`
	TimeZone         string  `json:"time_zone"`
}

// number is a DID as /user/numbers shows it.
type number struct {
	PK           int64  `json:"pk"`
	Number       string `json:"number"`
	FriendlyName string `json:"friendly_name"`
	SMSEnabled   bool   `json:"sms_enabled"`
	MMSEnabled   bool   `json:"mms_enabled"`
}

func fullName(u switchboard.User) string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// liveCalls returns the tenant's calls in progress by agent.
func (a *API) liveCalls(ctx context.Context, tenantID int64) (map[int64][]switchboard.Call, error) {
	calls, err := switchboard.All(ctx, func(ctx context.Context, tid int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.CDR], error) {
		return a.opt.Store.CDRs(ctx, tid, switchboard.CDRFilter{OnlyOpen: true}, opt)
	}, tenantID)
	if err != nil {
		return nil, err
	}
	out := map[int64][]switchboard.Call{}
	for _, r := range calls {
		if r.AgentID != nil && r.Status != switchboard.CallScheduled {
			out[*r.AgentID] = append(out[*r.AgentID], r.Call)
		}
	}
	return out, nil
}

// channelOf shows a call from the agent's side: their extension is the from
// of an outbound call and the to of an inbound one.
func (a *API) channelOf(c switchboard.Call, u switchboard.User) channel {
	since := c.CreatedAt
	if c.ConnectedAt != nil {
		since = *c.ConnectedAt
	}
	ch := channel{CallSeconds: int64(a.now().Sub(since).Seconds()), Direction: string(c.Direction), From: c.From, To: u.Extension}
	if c.Direction == switchboard.Outbound {
		ch.From, ch.To = u.Extension, c.To
	}
	return ch
}

func (a *API) users(ctx context.Context, tenantID int64) ([]switchboard.User, error) {
	return switchboard.All(ctx, func(ctx context.Context, tid int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.User], error) {
		return a.opt.Store.Users(ctx, tid, switchboard.UserFilter{}, opt)
	}, tenantID)
}

func (a *API) userRoutes() {
	handle(a, route{Method: "GET", Path: "/availability", Summary: "Every user's availability: phone registered and calls in progress",
		Access: developerKey, Scope: switchboard.ScopeUsersRead, Message: "User availability data"},
		func(ctx context.Context, c *call, _ *noBody) ([]userAvailability, error) {
			users, err := a.users(ctx, c.tenant.ID)
			if err != nil {
				return nil, err
			}
			live, err := a.liveCalls(ctx, c.tenant.ID)
			if err != nil {
				return nil, err
			}
			out := make([]userAvailability, 0, len(users))
			for _, u := range users {
				ua := userAvailability{PK: u.ID, PresenceID: u.Extension, CallerID: fullName(u), FirstName: u.FirstName,
					LastName: u.LastName, Channels: []channel{}}
				if a.opt.Calls != nil {
					ua.DevicesRegistered = a.opt.Calls.AgentLive(ctx, c.tenant.ID, u.ID).DeviceRegistered
				}
				for _, lc := range live[u.ID] {
					ua.Channels = append(ua.Channels, a.channelOf(lc, u))
				}
				out = append(out, ua)
			}
			return out, nil
		})
	handle(a, route{Method: "GET", Path: "/user/profile", Summary: "The key's user: profile, extension and call settings",
		Access: userKey, Scope: switchboard.ScopeUsersRead, Message: "User profile details"},
		func(ctx context.Context, c *call, _ *noBody) (profile, error) {
			// The user is read again rather than taken from admission: a
			// cached profile must be no older than the cache's read of the
			// tenant's event sequence, which comes after admission.
			u, err := a.opt.Store.User(ctx, c.tenant.ID, c.user.ID)
			if err != nil {
				return profile{}, err
			}
			p := profile{PK: u.ID, AsteriskUserID: u.ID, PresenceID: u.Extension, CallerID: fullName(u), FirstName: u.FirstName,
				LastName: u.LastName, Email: u.Email, VoicemailEnabled: u.VoicemailEnabled, ForwardEnabled: u.ForwardEnabled,
				TimeZone: u.TimeZone}
			// The phone's SIP account is the extension on Switchboard's
			// registrar: its number is the device id Voice360 shows.
			if n, err := strconv.ParseInt(u.SIPUsername, 10, 64); err == nil {
				p.AsteriskUserID = n
			}
			if u.ForwardNumber != "" {
				p.ForwardNumber = &u.ForwardNumber
			}
			if p.TimeZone == "" {
				p.TimeZone = c.tenant.Timezone
			}
			if p.TimeZone == "" {
				p.TimeZone = "UTC"
			}
			return p, nil
		})
	handle(a, route{Method: "GET", Path: "/user/numbers", Summary: "The phone numbers assigned to the key's user",
		Access: userKey, Scope: switchboard.ScopeNumbersRead, Message: "List of phone numbers assigned to user"},
		func(ctx context.Context, c *call, _ *noBody) ([]number, error) {
			numbers, err := switchboard.All(ctx, a.opt.Store.PhoneNumbers, c.tenant.ID)
			if err != nil {
				return nil, err
			}
			out := []number{}
			for _, n := range numbers {
				if n.UserID != nil && *n.UserID == c.user.ID {
					out = append(out, number{PK: n.ID, Number: n.Number, FriendlyName: n.Label, SMSEnabled: n.SMSEnabled, MMSEnabled: n.MMSEnabled})
				}
			}
			return out, nil
		})
}
