package native

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
)

func nowUTC() time.Time { return time.Now().UTC() }

// settingsBody is what a tenant may change about itself; the slug and the
// balance belong to the platform operator.
type settingsBody struct {
	Name       string `json:"name" limit:"200"`
	AdminEmail string `json:"admin_email" limit:"254"`
	Timezone   string `json:"timezone" limit:"64"`
	Currency   string `json:"currency" limit:"3"`
	// PublicStatus opens the Voice360 public status endpoints (agents online
	// or offline, queue figures) to anyone, without a key.
	PublicStatus bool `json:"public_status"`
	// SMSDailyPerRecipient caps the texts one agent sends one number a day,
	// in the tenant's time zone (0: no cap).
	SMSDailyPerRecipient *int `json:"sms_daily_per_recipient" range:"0,100000"`
	// CompanySecret is the company secret that verifies signed data sent
	// to the UJET dialect (HS256). Write-only: a read never shows it, and
	// leaving it out keeps the one set.
	CompanySecret *string `json:"company_secret,omitempty" limit:"200"`
}

// tenantBody is the operator's view of a tenant.
type tenantBody struct {
	Slug         string `json:"slug" limit:"63"`
	Name         string `json:"name" limit:"200"`
	AdminEmail   string `json:"admin_email" limit:"254"`
	Timezone     string `json:"timezone" limit:"64"`
	BalanceCents int64  `json:"balance_cents" range:"-1000000000000000,1000000000000000"`
	Currency     string `json:"currency" limit:"3"`
	// PublicStatus opens the Voice360 public status endpoints (agents online
	// or offline, queue figures) to anyone, without a key.
	PublicStatus bool `json:"public_status"`
}

func (b *tenantBody) apply(t *switchboard.Tenant) {
	t.Slug, t.Name, t.AdminEmail, t.Timezone = b.Slug, b.Name, b.AdminEmail, b.Timezone
	t.BalanceCents, t.Currency, t.PublicStatus = b.BalanceCents, b.Currency, b.PublicStatus
}

func (a *API) tenantRoutes() {
	s := a.opt.Store
	handle(a, route{Method: "GET", Path: "/v1/tenant", Summary: "Get the caller's tenant", Tag: "Tenant", Scope: switchboard.ScopeTenantRead},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.Tenant, error) {
			return s.Tenant(ctx, c.tenantID())
		})
	handlePatch(a, route{Method: "PATCH", Path: "/v1/tenant", Summary: "Update the caller's tenant settings", Tag: "Tenant", Scope: switchboard.ScopeTenantManage},
		patch[settingsBody, switchboard.Tenant]{
			update: func(ctx context.Context, c *call, change func(*switchboard.Tenant) error) (switchboard.Tenant, error) {
				return s.UpdateTenantFunc(ctx, c.tenantID(), change)
			},
			toBody: func(t switchboard.Tenant) settingsBody {
				return settingsBody{Name: t.Name, AdminEmail: t.AdminEmail, Timezone: t.Timezone, Currency: t.Currency, PublicStatus: t.PublicStatus,
					SMSDailyPerRecipient: t.SMSDailyPerRecipient}
			},
			apply: func(in *settingsBody, t *switchboard.Tenant) error {
				t.Name, t.AdminEmail, t.Timezone, t.Currency, t.PublicStatus = in.Name, in.AdminEmail, in.Timezone, in.Currency, in.PublicStatus
				if in.SMSDailyPerRecipient != nil {
					t.SMSDailyPerRecipient = in.SMSDailyPerRecipient
				}
				if in.CompanySecret != nil {
					t.CompanySecret = in.CompanySecret
				}
				return nil
			},
			done: func(c *call, t switchboard.Tenant) { a.opt.Auth.ForgetTenant(t.ID) },
		})
}

// keyBody creates an API key. Scopes default to every scope the creating key
// holds (that a user key may carry, for one with user_id), and the expiry to
// the creating key's: a key can never grant more than its creator has (see
// switchboard.APIKey.MayCreate). User keys create no keys.
type keyBody struct {
	Name      string     `json:"name" limit:"200"`
	UserID    *int64     `json:"user_id"`
	Scopes    []string   `json:"scopes" limit:"50"`
	ExpiresAt *time.Time `json:"expires_at"`
	// SecretPrefix is sbk_ (the default) or the marker a dialect registered
	// for its vendor's developer keys (Options.SecretPrefixes).
	SecretPrefix string `json:"secret_prefix"`
}

// createdKey is an API key with its secret, shown this once only.
type createdKey struct {
	switchboard.APIKey
	Secret string `json:"secret"`
}

func (a *API) keyRoutes() {
	s := a.opt.Store
	manage := switchboard.ScopeKeysManage
	handle(a, route{Method: "GET", Path: "/v1/api_keys", Summary: "List API keys (never their secrets)", Tag: "API keys", Scope: manage, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.APIKey], error) {
			return s.APIKeys(ctx, c.tenantID(), opt)
		}))
	// Key creations are not replayed by Idempotency-Key: the replay would
	// keep the secret in clear, which the store never does (a retried
	// creation makes at worst a second key, which can be revoked).
	handle(a, route{Method: "POST", Path: "/v1/api_keys", Summary: "Create an API key; the response holds its secret, shown only once", Tag: "API keys", Scope: manage, Status: http.StatusCreated,
		Replay: httpapi.ReplayOff},
		func(ctx context.Context, c *call, in *keyBody) (createdKey, error) {
			creator := c.principal.Key
			child := switchboard.APIKey{Name: in.Name, UserID: in.UserID, Scopes: in.Scopes, ExpiresAt: in.ExpiresAt, SecretPrefix: in.SecretPrefix}
			if len(child.Scopes) == 0 {
				if child.Scopes = creator.ChildScopes(child.UserID != nil); len(child.Scopes) == 0 {
					return createdKey{}, &switchboard.Error{Code: switchboard.CodeForbidden, Message: "a key cannot create a key with more than it holds",
						Fields: map[string]string{"scopes": "the calling key holds none of the scopes a user key may carry: " + strings.Join(switchboard.UserKeyScopes, ", ")}}
				}
			}
			if child.ExpiresAt == nil {
				child.ExpiresAt = creator.ExpiresAt
			}
			if err := creator.MayCreate(child); err != nil {
				return createdKey{}, err
			}
			if p := child.SecretPrefix; p != "" && p != switchboard.SecretPrefixDefault && !slices.Contains(a.opt.SecretPrefixes, p) {
				why := "must be " + strings.Join(append([]string{switchboard.SecretPrefixDefault}, a.opt.SecretPrefixes...), " or ")
				return createdKey{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "secret_prefix " + why,
					Fields: map[string]string{"secret_prefix": why}}
			}
			k, err := s.CreateAPIKey(ctx, c.tenantID(), child)
			return createdKey{APIKey: k.APIKey, Secret: k.Secret}, err
		})
	handle(a, route{Method: "GET", Path: "/v1/api_keys/{id}", Summary: "Get an API key", Tag: "API keys", Scope: manage}, getter(byID(s.APIKey)))
	handle(a, route{Method: "DELETE", Path: "/v1/api_keys/{id}", Summary: "Revoke an API key; it stops working at once", Tag: "API keys", Scope: manage},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.APIKey, error) {
			id, err := c.pathID("id")
			if err != nil {
				return switchboard.APIKey{}, err
			}
			k, err := s.RevokeAPIKey(ctx, c.tenantID(), id)
			a.opt.Auth.Forget(id)
			return k, err
		})
}

type eventsBody struct {
	Items []switchboard.Event `json:"items"`
	// NextAfterSeq is the after_seq that continues the log from here.
	NextAfterSeq int64 `json:"next_after_seq"`
}

func (a *API) eventRoutes() {
	handle(a, route{Method: "GET", Path: "/v1/live", Tag: "Events", Scope: switchboard.ScopeEventsRead,
		Summary: "The tenant's agents, queues and calls in progress, with the event sequence number they reflect",
		Doc: "Agents (every user, with active and their presence status and since when), queues with the calls waiting in them " +
			"(longest waiting first), and calls in progress (not ended, not a scheduled callback still waiting), read in one " +
			"snapshot together with seq, the sequence number of the last event they reflect. Load it, then follow " +
			"/v1/events/stream?after_seq={seq} (or GET /v1/events?after_seq={seq}) and apply each event in order: the view " +
			"stays exact, with no change missed or counted twice. Do not filter the stream by type when following a view."},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.LiveView, error) {
			return a.opt.Store.Live(ctx, c.tenantID())
		})
	handleStream(a, route{Method: "GET", Path: "/v1/events/stream", Tag: "Events", Scope: switchboard.ScopeEventsRead,
		Summary: "Follow the event log live as Server-Sent Events; resume with Last-Event-ID",
		Doc: "Without Last-Event-ID or after_seq the stream starts at the head " +
			"of the log (only events from now on); after_seq=0 replays the whole log first. Each event's id is its sequence number, " +
			"so reconnecting with Last-Event-ID resumes exactly. The server ends a stream with a stream.end event (data: reason and " +
			"message) when its key is revoked or loses events.read (unauthorized, forbidden: do not reconnect), on shutdown, and " +
			"after the maximum lifetime (1 hour by default; reconnect with Last-Event-ID); a client that leaves writes unread for " +
			"the write timeout (30 s by default) is cut. An API key may hold 5 streams at once and a tenant 20 by default; more answer 429.",
		Query: []param{{"types", "string", "comma-separated event types or prefixes (user.*), at most 100; all when absent"},
			{"after_seq", "integer", "replay the log after this sequence number first (0: from the start); Last-Event-ID takes precedence; without either, start live"}}},
		a.streamEvents)
	handle(a, route{Method: "GET", Path: "/v1/events", Summary: "Read the tenant's event log in order", Tag: "Events", Scope: switchboard.ScopeEventsRead,
		Query: []param{{"after_seq", "integer", "return events after this sequence number (0: from the start)"},
			{"limit", "integer", "at most this many events (default 50, max 1000); a page also stops before its payloads pass 1 MiB (holding at least one event), so page on with next_after_seq, not by counting"}}},
		func(ctx context.Context, c *call, _ *noBody) (eventsBody, error) {
			after, err := c.queryInt("after_seq")
			if err != nil {
				return eventsBody{}, err
			}
			if after < 0 {
				return eventsBody{}, badParam("after_seq", "must be 0 (the whole log) or the sequence number of an event")
			}
			opt, err := c.listOptions()
			if err != nil {
				return eventsBody{}, err
			}
			evs, err := a.opt.Store.Events(ctx, c.tenantID(), after, opt.Limit)
			if evs == nil {
				evs = []switchboard.Event{}
			}
			next := after
			if len(evs) > 0 {
				next = evs[len(evs)-1].Seq
			}
			return eventsBody{Items: evs, NextAfterSeq: next}, err
		})
}

// adminKeyBody creates a key for a tenant from the admin API.
type adminKeyBody struct {
	Name      string     `json:"name" limit:"200"`
	UserID    *int64     `json:"user_id"`
	Scopes    []string   `json:"scopes" limit:"50"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func (a *API) adminRoutes() {
	s := a.opt.Store
	tag := "Platform admin"
	handle(a, route{Method: "GET", Path: "/v1/admin/tenants", Summary: "List tenants", Tag: tag, Access: adminToken, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.Tenant], error) {
			return s.Tenants(ctx, opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/admin/tenants", Summary: "Create a tenant", Tag: tag, Access: adminToken, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *tenantBody) (switchboard.Tenant, error) {
			var t switchboard.Tenant
			in.apply(&t)
			return s.CreateTenant(ctx, t)
		})
	get := func(ctx context.Context, c *call) (switchboard.Tenant, error) {
		id, err := c.pathID("id")
		if err != nil {
			return switchboard.Tenant{}, err
		}
		return s.Tenant(ctx, id)
	}
	handle(a, route{Method: "GET", Path: "/v1/admin/tenants/{id}", Summary: "Get a tenant", Tag: tag, Access: adminToken}, getter(get))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/admin/tenants/{id}", Summary: "Update a tenant, including its slug and balance", Tag: tag, Access: adminToken},
		patch[tenantBody, switchboard.Tenant]{
			update: func(ctx context.Context, c *call, change func(*switchboard.Tenant) error) (switchboard.Tenant, error) {
				id, err := c.pathID("id")
				if err != nil {
					return switchboard.Tenant{}, err
				}
				return s.UpdateTenantFunc(ctx, id, change)
			},
			toBody: func(t switchboard.Tenant) tenantBody {
				return tenantBody{Slug: t.Slug, Name: t.Name, AdminEmail: t.AdminEmail, Timezone: t.Timezone, BalanceCents: t.BalanceCents, Currency: t.Currency,
					PublicStatus: t.PublicStatus}
			},
			apply: func(in *tenantBody, t *switchboard.Tenant) error { in.apply(t); return nil },
			done:  func(c *call, t switchboard.Tenant) { a.opt.Auth.ForgetTenant(t.ID) },
		})
	handle(a, route{Method: "POST", Path: "/v1/admin/tenants/{id}/api_keys", Summary: "Create an API key for a tenant", Tag: tag, Access: adminToken, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *adminKeyBody) (createdKey, error) {
			t, err := get(ctx, c)
			if err != nil {
				return createdKey{}, err
			}
			k, err := s.CreateAPIKey(ctx, t.ID, switchboard.APIKey{Name: in.Name, UserID: in.UserID, Scopes: in.Scopes, ExpiresAt: in.ExpiresAt})
			return createdKey{APIKey: k.APIKey, Secret: k.Secret}, err
		})
}
