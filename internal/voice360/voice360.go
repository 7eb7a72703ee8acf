// Package voice360 speaks the Voice360 API v3 (/v3/voice/{account_id}) over
// Switchboard's core, so that the clients the Voice360 document ships (curl,
// JavaScript, Python, PHP, C#, Java) work with only their base URL changed.
//
// The package holds no business rules: it parses Voice360's requests, checks
// who may call what, calls the core, and renders Voice360's envelope.
//
// Choices where the Voice360 document is silent or vague, written down here:
//
//   - account_id is the tenant's integer id. A key of another tenant gets 403
//     AUTH_INVALID; an account_id that is not an integer, 400 BAD_REQUEST.
//   - Keys: a key bound to a user is a user key; any other is a developer
//     key (created with the v360_dev_ marker for Voice360 integrations, though
//     any tenant key works). The document's comparison table is the rule:
//     user keys reach /user/* only, developer keys everything else. Sending a
//     call or a text is open to both: a user key may only call from its own
//     extension and text from its own or the tenant's shared numbers.
//   - Scopes: Voice360 keys have none, Switchboard keys do, and every keyed
//     route needs one (403 AUTH_INVALID without it): users.read for
//     /availability and /user/profile, numbers.read for /user/numbers,
//     routing.read for the queue routes, calls.manage for /call/outbound,
//     messages.manage for /sms/send, webhooks.read and webhooks.manage for
//     the webhook routes. A user key never carries more than
//     switchboard.UserKeyScopes.
//   - Errors: no key is 401 AUTH_REQUIRED; an unknown, revoked or expired
//     key is 403 AUTH_INVALID_KEY ("Invalid API key provided", the overview's
//     variant) with details.provided_key showing the key's first characters
//     only; a key that may not call the endpoint is 403 AUTH_INVALID. Invalid
//     input is 400 BAD_REQUEST with details.fields naming each field. A wrong
//     method is 405 with Allow and error_code BAD_REQUEST (the document's
//     table has no code for it).
//   - Rate limits: a token bucket per key holding 1,000 requests and refilled
//     at 1,000 a minute; X-RateLimit-Limit and X-RateLimit-Remaining are on
//     every keyed response, and 429 RATE_LIMITED carries Retry-After. Public
//     routes get 100 a minute per client address.
//   - Public routes (no key), answered only when the tenant enables
//     public_status (else 401 AUTH_REQUIRED): GET /public/availability (users
//     online or offline), GET /public/queues (basic information) and GET
//     /public/availability/queues (agent counts).
//   - "Internal system queues" are queues that do not carry voice (chat
//     queues): Voice360 has no such queues, so they are filtered out.
//   - Webhook subscriptions, which Voice360 configures in its portal, are
//     served at /webhooks as an extension (and on the native API with
//     dialect voice360). Payloads are {event_name, account_id, timestamp,
//     metadata}; GET subscriptions receive the same fields as query
//     parameters (metadata[from_number]=…).
package voice360

import (
	"context"
	"hash/fnv"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/sms"
)

// Messenger sends text messages.
type Messenger interface {
	Send(ctx context.Context, o sms.Outbound) (switchboard.Message, error)
}

// WebhookPolicy is the one check every dialect runs on a subscription
// before it is created or updated (webhook.Policy): the SSRF guard on its URL
// and the bounds on its lists.
type WebhookPolicy interface {
	CheckWebhook(ctx context.Context, w switchboard.Webhook) error
}

// Options wires the dialect to the rest of the server.
type Options struct {
	Store switchboard.Store
	Auth  *httpapi.Authenticator
	// PerMinute is the requests a key may make a minute (default 1,000);
	// PublicPerMinute those a client address may make to the public routes
	// (default 100).
	PerMinute, PublicPerMinute int
	// TenantWrites is the per-tenant write bucket every dialect charges
	// mutating requests to (httpapi.RateLimiter.TenantWrites); nil for none.
	TenantWrites  *httpapi.RateLimiter
	Calls         switchboard.CallService
	Messenger     Messenger
	WebhookPolicy WebhookPolicy
	PublicURL     string
	// Idempotency replays retried POSTs that carry an Idempotency-Key; nil
	// serves each afresh.
	Idempotency *httpapi.Idempotency
	// Cache answers repeated reads of unchanged data from memory (the
	// routes in cachedRoutes), within the second its envelope is stamped
	// with; nil serves each afresh.
	Cache *httpapi.ResponseCache
	Log   *slog.Logger
}

// API serves the Voice360 dialect.
type API struct {
	opt           Options
	table         *httpapi.Table[*call, route]
	keyLimiter    *httpapi.RateLimiter
	publicLimiter *httpapi.RateLimiter
	now           func() time.Time
}

// Base is the prefix of every route.
const Base = "/v3/voice"

// access says which callers a route takes.
type access int

const (
	developerKey access = iota // developer keys only
	userKey                    // user keys only (/user/*)
	anyKey                     // either kind
	public                     // no key, when the tenant allows it
)

// route is the Voice360 description of one operation, its path relative to
// the account; the table's Endpoint holds it with what every dialect's routes
// have.
type route struct {
	Method, Path, Summary, Message string
	Access                         access
	// Scope is the scope a key needs; every route but the public ones has one.
	Scope string
}

// endpoint is rt as the table keeps it.
func (rt route) endpoint() httpapi.Endpoint[route] {
	return httpapi.Endpoint[route]{Route: httpapi.Route{Method: rt.Method, Path: Base + "/{account_id}" + rt.Path, Scope: rt.Scope,
		Public: rt.Access == public, TenantKeys: rt.Access == developerKey || rt.Access == anyKey,
		UserKeys: rt.Access == userKey || rt.Access == anyKey}, Summary: rt.Summary, X: rt}
}

// call is one admitted request.
type call struct {
	r      *http.Request
	tenant switchboard.Tenant
	key    switchboard.APIKey
	// user is the user of a user key.
	user *switchboard.User
}

// cachedRoutes are the GETs whose answer is a pure function of the tenant's
// stored state, the request and the second the envelope is stamped with
// (httpapi.ResponseCache): queue configurations with their members, and the
// key's user's profile and numbers, all written with an event. Availability
// (the call engine's live view), the public routes (no key) and webhooks
// (delivery statistics are written without events) are left out.
var cachedRoutes = []string{"/queues", "/queues/{id}", "/user/profile", "/user/numbers"}

// New returns the dialect's handler, serving /v3/voice/.
func New(opt Options) *API {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.PerMinute <= 0 {
		opt.PerMinute = 1000
	}
	if opt.PublicPerMinute <= 0 {
		opt.PublicPerMinute = 100
	}
	a := &API{opt: opt, now: time.Now,
		keyLimiter:    httpapi.NewRateLimiter(float64(opt.PerMinute)/60, opt.PerMinute),
		publicLimiter: httpapi.NewRateLimiter(float64(opt.PublicPerMinute)/60, opt.PublicPerMinute)}
	a.table = &httpapi.Table[*call, route]{Admit: a.admit, Errors: a.writeError, Respond: a.respond,
		Decode:   func(r *http.Request, dst any) error { return httpapi.DecodeJSON(r, dst, false) },
		NotFound: "No endpoint %s %s; see " + Base + "/openapi.json", Idempotency: opt.Idempotency,
		Cache: opt.Cache, CacheEpoch: func() int64 { return a.now().Unix() }}
	a.userRoutes()
	a.queueRoutes()
	a.callRoutes()
	a.webhookRoutes()
	a.publicRoutes()
	for _, p := range cachedRoutes {
		a.table.CacheRoutes("GET " + Base + "/{account_id}" + p)
	}
	a.table.ServeDocument(Base+"/openapi.json", a.buildSpec)
	a.table.Mount(Base + "/")
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.table.ServeHTTP(w, r) }

type noBody = httpapi.NoBody

// handle registers rt, decoding the body into a fresh In (unless noBody) and
// answering fn's Out in the envelope with rt.Message.
func handle[In, Out any](a *API, rt route, fn func(ctx context.Context, c *call, in *In) (Out, error)) {
	httpapi.Handle(a.table, rt.endpoint(), fn)
}

// respond answers every result in the envelope, a route without one too.
func (a *API) respond(w http.ResponseWriter, r *http.Request, e *httpapi.Endpoint[route], out any) {
	a.writeResult(w, out, e.X.Message)
}

// Errors of admission, with the dialect's own codes.
var (
	errNoKey = &switchboard.Error{Code: switchboard.CodeUnauthorized, Message: "Authentication required: send your API key in the X-API-Key header"}
)

// admit authenticates the request for route rt: the key, its rate limit, its
// account, its kind, then its scope.
func (a *API) admit(w http.ResponseWriter, r *http.Request, e *httpapi.Endpoint[route]) (*call, error) {
	acc, rt := e.X.Access, &e.X
	account, err := strconv.ParseInt(r.PathValue("account_id"), 10, 64)
	if err != nil || account <= 0 {
		return nil, &switchboard.Error{Code: switchboard.CodeBadRequest, Message: "account_id must be your account's integer id",
			Fields: map[string]string{"account_id": "must be a positive integer, not " + switchboard.Echo(r.PathValue("account_id"))}}
	}
	c := &call{r: r}
	if acc == public {
		return c, a.admitPublic(w, r, c, account)
	}
	secret := strings.TrimSpace(r.Header.Get(KeyHeader))
	if secret == "" {
		if _, err := a.opt.Auth.Credential(r); err != nil {
			return nil, errNoKey
		}
	}
	p, err := a.opt.Auth.Authenticate(r)
	if err != nil {
		if switchboard.ErrorCode(err) == switchboard.CodeUnauthorized {
			if secret == "" {
				cred, _ := a.opt.Auth.Credential(r)
				secret = cred.Secret
			}
			return nil, badKey(secret)
		}
		return nil, err
	}
	c.tenant, c.key = p.Tenant, p.Key
	ok, retry, remaining := a.keyLimiter.Allow(p.Key.ID)
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(a.opt.PerMinute))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	if !ok {
		httpapi.SetRetryAfter(w.Header(), retry)
		return nil, switchboard.Errorf(switchboard.CodeRateLimited, "Rate limit exceeded: %d requests per minute; retry after %s", a.opt.PerMinute, retry.Round(time.Second))
	}
	if p.Tenant.ID != account {
		return nil, switchboard.Errorf(switchboard.CodeForbidden, "This API key does not belong to account %d", account)
	}
	isUser := p.Key.UserID != nil
	switch {
	case acc == userKey && !isUser:
		return nil, switchboard.Errorf(switchboard.CodeForbidden, "This endpoint needs a User API Key; developer keys cannot access /user/* endpoints")
	case acc == developerKey && isUser:
		return nil, switchboard.Errorf(switchboard.CodeForbidden, "This endpoint needs a Developer API Key; user keys can access /user/* endpoints only")
	case !p.Key.Allows(rt.Scope):
		return nil, switchboard.Errorf(switchboard.CodeForbidden, "This API key lacks the %s scope", rt.Scope)
	}
	if isUser {
		u, err := a.opt.Store.User(r.Context(), p.Tenant.ID, *p.Key.UserID)
		if err != nil {
			return nil, err
		}
		if u.DeactivatedAt != nil {
			return nil, switchboard.Errorf(switchboard.CodeForbidden, "This API key's user is deactivated")
		}
		c.user = &u
	}
	// Writes are charged to the tenant last: a refused request writes nothing.
	if err := httpapi.AdmitWrite(w, r, a.opt.TenantWrites, p.Tenant.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// admitPublic checks a public route: the address's rate limit, then that the
// account exists and has public status on.
func (a *API) admitPublic(w http.ResponseWriter, r *http.Request, c *call, account int64) error {
	ok, retry, remaining := a.publicLimiter.Allow(clientKey(r))
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(a.opt.PublicPerMinute))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	if !ok {
		httpapi.SetRetryAfter(w.Header(), retry)
		return switchboard.Errorf(switchboard.CodeRateLimited, "Rate limit exceeded: %d requests per minute per address; retry after %s", a.opt.PublicPerMinute, retry.Round(time.Second))
	}
	t, err := a.opt.Store.Tenant(r.Context(), account)
	if err != nil || !t.PublicStatus {
		// Whether the account exists is not told to strangers.
		return &switchboard.Error{Code: switchboard.CodeUnauthorized, Message: "Authentication required: this account's public status endpoints are not enabled"}
	}
	c.tenant = t
	return nil
}

// Routes describes every route, for checks that must cover them all.
func (a *API) Routes() []httpapi.Route { return a.table.Routes() }

// clientKey turns the client's address into a rate-limiter key.
func clientKey(r *http.Request) int64 {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	h := fnv.New64a()
	h.Write([]byte(host))
	return -int64(h.Sum64() >> 1) // negative: never a key's id
}

// Envelope is every Voice360 response: the result, whether it is an error,
// a message for people and the time; errors add their code and details.
type Envelope struct {
	Result    any    `json:"result"`
	Error     bool   `json:"error"`
	Message   string `json:"message"`
	ErrorCode string `json:"error_code,omitempty"`
	Details   any    `json:"details,omitempty"`
	Timestamp string `json:"timestamp"`
}

func (a *API) stamp() string { return a.now().UTC().Format(time.RFC3339) }

func (a *API) writeResult(w http.ResponseWriter, result any, message string) {
	httpapi.WriteJSON(w, http.StatusOK, Envelope{Result: result, Message: message, Timestamp: a.stamp()})
}

// errorOf is the one table from core error codes to the dialect's statuses
// and error codes.
var errorOf = map[switchboard.Code]struct {
	status int
	code   string
}{
	switchboard.CodeBadRequest:       {http.StatusBadRequest, "BAD_REQUEST"},
	switchboard.CodeInvalid:          {http.StatusBadRequest, "BAD_REQUEST"},
	switchboard.CodeConflict:         {http.StatusBadRequest, "BAD_REQUEST"},
	switchboard.CodeTooLarge:         {http.StatusRequestEntityTooLarge, "BAD_REQUEST"},
	switchboard.CodeMethodNotAllowed: {http.StatusMethodNotAllowed, "BAD_REQUEST"},
	switchboard.CodeUnauthorized:     {http.StatusUnauthorized, "AUTH_REQUIRED"},
	switchboard.CodeForbidden:        {http.StatusForbidden, "AUTH_INVALID"},
	switchboard.CodeNotFound:         {http.StatusNotFound, "NOT_FOUND"},
	switchboard.CodeRateLimited:      {http.StatusTooManyRequests, "RATE_LIMITED"},
	switchboard.CodeInternal:         {http.StatusInternalServerError, "INTERNAL_ERROR"},
	codeUnavailable:                  {http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE"},
	codeBadKey:                       {http.StatusForbidden, "AUTH_INVALID_KEY"},
	httpapi.CodeIdempotencyReused:    {http.StatusUnprocessableEntity, "BAD_REQUEST"},
	httpapi.CodeIdempotencyRunning:   {http.StatusConflict, "BAD_REQUEST"},
}

// Codes of this dialect beyond the core's: a service that is not running,
// and an unknown, revoked or expired key (its Fields hold the key sent).
const (
	codeUnavailable switchboard.Code = "unavailable"
	codeBadKey      switchboard.Code = "invalid_key"
)

// badKey is the error of an unknown, revoked or expired key.
func badKey(provided string) error {
	return &switchboard.Error{Code: codeBadKey, Message: "Invalid API key provided", Fields: map[string]string{"provided_key": provided}}
}

// helpURL is where the error details send people with a bad key.
const helpURL = "Create or look up your keys with POST /v1/api_keys on this server (developer keys: secret_prefix v360_dev_)"

// maskKey shows the first characters of a key only.
func maskKey(k string) string {
	if len(k) > 8 {
		k = k[:8]
	}
	return k + "..."
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(a.opt.Log, a.now)(w, r, err)
}

// WriteError returns the dialect's httpapi.ErrorWriter. Internal errors are
// logged in full and shown only as "internal error".
func WriteError(log *slog.Logger, now func() time.Time) httpapi.ErrorWriter {
	status := make(map[switchboard.Code]int, len(errorOf))
	for code, e := range errorOf {
		status[code] = e.status
	}
	t := &httpapi.ErrorTable{Status: status, Log: log, Render: func(w http.ResponseWriter, r *http.Request, status int, err error) {
		env := Envelope{Error: true, Timestamp: now().UTC().Format(time.RFC3339)}
		code := switchboard.ErrorCode(err)
		env.Message, env.ErrorCode = switchboard.ErrorMessage(err), errorOf[code].code
		if env.ErrorCode == "" {
			env.ErrorCode = errorOf[switchboard.CodeInternal].code
		}
		fields := switchboard.ErrorFields(err)
		switch {
		case code == codeBadKey:
			env.Details = map[string]string{"provided_key": maskKey(fields["provided_key"]), "help": helpURL}
		case len(fields) > 0:
			env.Details = map[string]any{"fields": fields}
		}
		httpapi.WriteJSON(w, status, env)
	}}
	return t.Write
}

func invalid(field, why string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalid, Message: field + " " + why, Fields: map[string]string{field: why}}
}
