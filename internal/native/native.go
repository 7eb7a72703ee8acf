// Package native serves Switchboard's own REST API under /v1: JSON in snake_case,
// one error envelope, cursor pagination, and an OpenAPI 3.1 document generated
// from the same route table that serves the requests, so the two cannot drift.
//
// Every route is declared once with its method, path, scope, request and
// response types (see routes.go); the table drives routing, authentication,
// scope checks, strict decoding and the OpenAPI document. The package holds no
// business rules: it parses, calls the store (configuration) or a service (the
// call service, messaging, the dialer for campaigns' lifecycle, stats, lead
// imports and preview offers), and renders.
//
// Campaigns (campaigns.go, leads.go, ledger.go): a campaign's GET carries its
// stats beside it and its ETag is the campaign's own (etagged), so If-Match
// from a GET works and the answer is never a 304; lead imports take a JSON
// array or CSV (by Content-Type) of up to 32 MiB, a body limit the route
// raises for itself; the ledger answers JSON pages or, with Accept: text/csv,
// the whole selection as one streamed CSV.
//
// Conversations (conversations.go, convconfig.go, convexport.go,
// attachments.go, webchat.go) call the conversation service
// (Options.Conversations; 503 without it) and use the messages scopes. A
// user key reaches the conversations its user holds or last held
// (agent_id), as it reaches its user's calls: it lists only those, writes
// into them as that agent, accepts, transfers and finishes them as that
// agent; other conversations answer 403. Configuration (canned replies,
// channel profiles, templates, consent) is written with tenant keys only;
// agents' keys read canned replies, templates and consent. The end-user
// routes (/v1/webchat, PUT /v1/uploads/{token}) take no API key: an end
// user's token or an upload token is the credential, each client address
// is rate-limited, and they allow any origin.
package native

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"switchboard"
	"switchboard/internal/httpapi"
)

// Options wires the API to the rest of the server.
type Options struct {
	Store   switchboard.Store
	Auth    *httpapi.Authenticator
	Limiter *httpapi.RateLimiter
	// AdminToken guards the platform-admin routes; empty disables them.
	AdminToken string
	// WebhookPolicy vets webhook subscriptions before they are written;
	// nil accepts any.
	WebhookPolicy WebhookPolicy
	// Calls is the call service; nil leaves its routes answering that it is
	// not running.
	Calls switchboard.CallService
	// Simulator is served under /v1/sim when the simulated telephony runs;
	// nil answers that it does not.
	Simulator switchboard.Simulator
	// DialectEvents gives each vendor dialect's webhook event names and the
	// core event types each is made of, for subscriptions made here.
	DialectEvents map[string]map[string][]string
	// DialectDefaults sets a vendor dialect's rules on a subscription made
	// one of its own here (httpapi.WebhookDefaulter): Voiso's inactive rule.
	DialectDefaults map[string]func(*switchboard.Webhook)
	// SecretPrefixes are the markers the dialects registered for their
	// vendors' developer keys, which POST /v1/api_keys may ask for.
	SecretPrefixes []string
	// Messenger sends and receives text messages; nil leaves its routes
	// answering that messaging is not running.
	Messenger Messenger
	// Streams bounds the event streams; zero fields take the defaults.
	Streams StreamLimits
	// Idempotency replays retried POSTs that carry an Idempotency-Key; nil
	// serves each afresh.
	Idempotency *httpapi.Idempotency
	// Cache answers repeated reads of unchanged data from memory (the
	// routes in cachedRoutes); nil serves each afresh.
	Cache *httpapi.ResponseCache
	// TrunkHealth reports the SIP driver's view of the trunks' health; nil
	// (no SIP driver) shows every trunk's state as unknown.
	TrunkHealth TrunkHealth
	// Dialer runs campaigns: their lifecycle, live stats, lead imports and
	// preview offers. nil answers those routes 503 (the campaigns'
	// configuration, leads and ledger are still served from the store).
	Dialer switchboard.Dialer
	// Conversations is the conversation service (chats and message
	// threads); nil answers its routes 503. The configuration it uses
	// (canned replies, channel profiles, templates, consent) is served
	// from the store either way.
	Conversations switchboard.Conversations
	// WebChatPerMinute bounds the requests one client address may make to
	// the end-user routes, which take no API key (web chat, uploads);
	// default 300.
	WebChatPerMinute int
	Log              *slog.Logger
}

// API is the /v1 handler.
type API struct {
	opt   Options
	table *httpapi.Table[*call, route]
	// streams registers the open event streams.
	streams *streamSet
	// public limits the requests of each client address to the routes
	// that take no key.
	public *httpapi.RateLimiter
	// background ends when the server shuts down (CloseStreams): simulated
	// chats started through /v1/sim/chats run until then at most.
	background     context.Context
	stopBackground context.CancelFunc
}

// New returns the API with every route registered.
func New(opt Options) *API {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.WebChatPerMinute <= 0 {
		opt.WebChatPerMinute = 300
	}
	bg, stop := context.WithCancel(context.Background())
	a := &API{opt: opt, streams: newStreamSet(opt.Streams), background: bg, stopBackground: stop,
		public: httpapi.NewRateLimiter(float64(opt.WebChatPerMinute)/60, opt.WebChatPerMinute)}
	a.table = &httpapi.Table[*call, route]{Admit: a.admit, Errors: a.writeError, Respond: a.respond,
		NotFound: "no route %s %s; see /v1/openapi.json", Idempotency: opt.Idempotency, Cache: opt.Cache}
	a.registerRoutes()
	a.markETags()
	a.table.CacheRoutes(cachedRoutes...)
	a.table.ServeDocument("/v1/openapi.json", a.buildSpec)
	a.table.Mount("/v1/")
	return a
}

// ServeHTTP implements http.Handler. The end-user routes (web chat and
// uploads) are called by a widget running on the tenant's own site, another
// origin: they allow any origin and answer CORS preflights themselves. They
// take no cookie and no API key, so allowing every origin gives a page
// nothing it could not do with the token it already holds.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if endUserPath(r.URL.Path) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "Retry-After, X-Request-Id")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID")
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	a.table.ServeHTTP(w, r)
}

// cachedRoutes are the GETs whose answer is a pure function of the tenant's
// stored state and the request, so that httpapi.ResponseCache may keep them
// while the tenant's event sequence stands still: every store write behind
// them appends an event in its transaction (users, teams, skills, statuses,
// numbers, trunks, queues and members, IVR menus, contacts, DNC, messages, the tenant, calls
// through SaveCalls). Left out on purpose: the agent's status (it shows the
// call engine's live view), metrics and /v1/live (the engine, the clock),
// a trunk's status (the SIP driver's live view),
// API keys (their last use is written without an event), webhooks and
// deliveries (delivery outcomes and webhook statistics are written without
// events), the event log and streams, exports and recordings (streamed),
// and the admin routes (no tenant key). Campaigns, leads, contact lists,
// imports and the ledger are left out too: the dialer moves leads, writes
// ledger rows and import progress without an event per change, and a
// campaign's GET shows its live stats. A call's analytics is left out as
// well: the analytics service queues and retries analyses without events
// (only their outcome has one).
var cachedRoutes = []string{
	"GET /v1/tenant",
	"GET /v1/users", "GET /v1/users/{id}",
	"GET /v1/teams", "GET /v1/teams/{id}",
	"GET /v1/skills", "GET /v1/skills/{id}",
	"GET /v1/agent_statuses", "GET /v1/agent_statuses/{id}",
	"GET /v1/phone_numbers", "GET /v1/phone_numbers/{id}",
	"GET /v1/trunks", "GET /v1/trunks/{id}",
	"GET /v1/queues", "GET /v1/queues/{id}", "GET /v1/queues/{id}/members",
	"GET /v1/ivr_menus", "GET /v1/ivr_menus/{id}",
	"GET /v1/contacts", "GET /v1/contacts/{id}",
	"GET /v1/dnc",
	"GET /v1/messages", "GET /v1/messages/{id}",
	"GET /v1/calls", "GET /v1/calls/{id}",
	"GET /v1/cdrs", "GET /v1/cdrs/{id}", "GET /v1/cdrs/{id}/events",
	// Billing: every change of a balance, its ledger or its rates appends
	// a billing.* event (holds and charges included).
	"GET /v1/billing/balance", "GET /v1/billing/ledger", "GET /v1/billing/rates", "GET /v1/billing/rates/{id}",
}

// access says who may call a route.
type access int

const (
	tenantKey  access = iota // an API key of the tenant, with the route's scope
	adminToken               // the platform operator's token
	// endUser routes take no API key: the web-chat end user's token or an
	// upload token is the credential, checked by the handler; each client
	// address is rate-limited.
	endUser
)

// userAccess says what a user key (one bound to a user) may do on a route; by
// default nothing, since user keys reach only their own user's routes:
//
//   - GET /v1/users/{id}, GET and POST /v1/users/{id}/status: their own user
//     (reading it, signing in and out). Updating the user record is not
//     theirs: its roles, teams and extension are the tenant's to set.
//   - POST /v1/calls: click-to-call from their own phone (user_id their own);
//     GET /v1/calls/{id}, POST /v1/calls/{id}/hold and /hangup: calls their
//     own user took or placed.
//   - POST /v1/messages: texts from their own numbers or the tenant's shared
//     ones (the messaging service checks the number).
//
// Their scopes still apply on top, and are never more than
// switchboard.UserKeyScopes.
type userAccess int

const (
	userNone    userAccess = iota // user keys are refused
	userSelf                      // the path's {id} must be the key's user
	userOwnCall                   // the path's {id} must be a call of the key's user
	userChecked                   // the handler confines the request to the key's user
)

// route is the native description of one operation; the table's Endpoint
// holds it with what every dialect's routes have.
type route struct {
	Method, Path, Summary, Tag string
	Doc                        string // the OpenAPI description, when a summary is not enough
	Access                     access
	Scope                      string
	User                       userAccess // what user keys may do here
	Status                     int        // success status; 204 has no body
	Paged                      bool       // takes limit, cursor and offset
	Stream                     bool       // answers with Server-Sent Events
	etag                       bool       // one object, sent with its ETag (see patch.go)
	Query                      []param    // other query parameters
	// Replay turns Idempotency-Key off on a POST whose answer must not be
	// kept.
	Replay httpapi.Replay
	// MaxBody raises the request-body limit of a bulk upload.
	MaxBody int64
	// CSV says the route also takes (a POST) or gives (a GET, by Accept) its
	// content as text/csv.
	CSV bool
	// RawBody says the request body is bytes of any type (an upload), and
	// Binary that the answer is (a download).
	RawBody, Binary bool
}

type param struct{ Name, Type, Doc string }

// endpoint is rt as the table keeps it.
func (rt route) endpoint() httpapi.Endpoint[route] {
	var query []httpapi.Param
	if rt.Paged {
		query = httpapi.PageParams
	}
	for _, q := range rt.Query {
		query = append(query, httpapi.Param(q))
	}
	return httpapi.Endpoint[route]{Route: httpapi.Route{Method: rt.Method, Path: rt.Path, Scope: rt.Scope,
		Admin: rt.Access == adminToken, Public: rt.Access == endUser, TenantKeys: rt.Access == tenantKey, UserKeys: rt.Access == tenantKey && rt.User != userNone},
		Summary: rt.Summary, Doc: rt.Doc, Tag: rt.Tag, Status: rt.Status, Query: query, Replay: rt.Replay, MaxBody: rt.MaxBody, X: rt}
}

// call is one request on its way through a route.
type call struct {
	r         *http.Request
	principal httpapi.Principal
}

func (c *call) tenantID() int64 { return c.principal.Tenant.ID }

// pathID parses the path parameter name as a positive integer id.
func (c *call) pathID(name string) (int64, error) { return httpapi.PathID(c.r, name) }

// queryInt parses an optional integer query parameter.
func (c *call) queryInt(name string) (int64, error) { return httpapi.QueryInt(c.r, name) }

// queryBool parses an optional boolean query parameter.
func (c *call) queryBool(name string) (bool, error) { return httpapi.QueryBool(c.r, name) }

// listOptions reads limit, cursor and offset.
func (c *call) listOptions() (switchboard.ListOptions, error) { return httpapi.PageOptions(c.r) }

// noBody marks a route without a request body, noContent one without a
// response body.
type (
	noBody    = httpapi.NoBody
	noContent = httpapi.NoContent
)

// handle registers rt, decoding the request body into a fresh In (unless In is
// noBody) and rendering fn's Out with rt.Status.
func handle[In, Out any](a *API, rt route, fn func(ctx context.Context, c *call, in *In) (Out, error)) {
	httpapi.Handle(a.table, rt.endpoint(), fn)
}

// admit authenticates the caller, spends a token of its rate limit and
// checks the route's scope, in that order: an unknown caller learns nothing
// about limits, and a throttled one is not told about scopes.
func (a *API) admit(w http.ResponseWriter, r *http.Request, e *httpapi.Endpoint[route]) (*call, error) {
	c := &call{r: r}
	if e.Admin {
		return c, httpapi.AdminToken(r, a.opt.AdminToken)
	}
	if e.Public {
		return c, a.admitEndUser(w, r)
	}
	p, err := httpapi.Admit(w, r, a.opt.Auth, a.opt.Limiter, e.Scope)
	c.principal = p
	if err != nil || p.Key.UserID == nil {
		return c, err
	}
	return c, a.admitUserKey(r, &e.X, p.Tenant.ID, *p.Key.UserID)
}

// admitUserKey confines a user key to its own user's routes and objects.
func (a *API) admitUserKey(r *http.Request, rt *route, tenantID, userID int64) error {
	deny := func(msg string) error { return switchboard.Errorf(switchboard.CodeForbidden, "%s", msg) }
	switch rt.User {
	case userSelf:
		if r.PathValue("id") != strconv.FormatInt(userID, 10) {
			return deny(fmt.Sprintf("a user key reaches only its own user (id %d)", userID))
		}
	case userOwnCall:
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			return nil // the handler answers 400
		}
		call, err := a.opt.Store.Call(r.Context(), tenantID, id)
		if err != nil {
			return err
		}
		if call.AgentID == nil || *call.AgentID != userID {
			return deny("a user key reaches only the calls of its own user")
		}
	case userChecked:
	default:
		return deny("a user key reaches only its own user's routes; this one needs a tenant key")
	}
	return nil
}

// userKeyID is the user a user key acts as, or 0 for a tenant key.
func (c *call) userKeyID() int64 {
	if c.principal.Key.UserID == nil {
		return 0
	}
	return *c.principal.Key.UserID
}

// Routes describes every route, for checks that must cover them all.
func (a *API) Routes() []httpapi.Route { return a.table.Routes() }

func (a *API) respond(w http.ResponseWriter, r *http.Request, e *httpapi.Endpoint[route], out any) {
	if e.Result == nil {
		w.WriteHeader(e.Status)
		return
	}
	if e.X.etag && writeETag(w, r, out) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	httpapi.WriteJSON(w, e.Status, out)
}

// statusOf is the one table from error codes to HTTP status on the native API.
var statusOf = map[switchboard.Code]int{
	switchboard.CodeBadRequest:         http.StatusBadRequest,
	switchboard.CodeInvalid:            http.StatusUnprocessableEntity,
	switchboard.CodeNotFound:           http.StatusNotFound,
	switchboard.CodeConflict:           http.StatusConflict,
	switchboard.CodeUnauthorized:       http.StatusUnauthorized,
	switchboard.CodeForbidden:          http.StatusForbidden,
	switchboard.CodeRateLimited:        http.StatusTooManyRequests,
	switchboard.CodeTooLarge:           http.StatusRequestEntityTooLarge,
	switchboard.CodeUnavailable:        http.StatusServiceUnavailable,
	switchboard.CodeInternal:           http.StatusInternalServerError,
	switchboard.CodeMethodNotAllowed:   http.StatusMethodNotAllowed,
	switchboard.CodePreconditionFailed: http.StatusPreconditionFailed,
}

// ErrorBody is the native error envelope.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: a stable code, a message for people, each
// offending field with its reason, and the request ID to quote to support.
type ErrorDetail struct {
	Code      switchboard.Code  `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id"`
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(a.opt.Log)(w, r, err)
}

// WriteError returns the httpapi.ErrorWriter of the native dialect. Internal
// errors are logged in full and shown only as "internal error".
func WriteError(log *slog.Logger) httpapi.ErrorWriter {
	t := &httpapi.ErrorTable{Status: statusOf, Log: log, Render: func(w http.ResponseWriter, r *http.Request, status int, err error) {
		body := ErrorBody{Error: ErrorDetail{Code: switchboard.ErrorCode(err), Message: switchboard.ErrorMessage(err),
			Fields: switchboard.ErrorFields(err), RequestID: httpapi.InfoFrom(r.Context()).RequestID}}
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
		}
		httpapi.WriteJSON(w, status, body)
	}}
	return t.Write
}

// listBody is the envelope of every list response.
type listBody[T any] struct {
	Items    []T      `json:"items"`
	Metadata listMeta `json:"metadata"`
}

type listMeta struct {
	Total int `json:"total"`
	Limit int `json:"limit"`
	// NextCursor continues the list; it is empty on the last page.
	NextCursor string `json:"next_cursor"`
}

func toList[T any](p switchboard.Page[T], opt switchboard.ListOptions) listBody[T] {
	if p.Items == nil {
		p.Items = []T{}
	}
	return listBody[T]{Items: p.Items, Metadata: listMeta{Total: p.Total, Limit: opt.Limit, NextCursor: p.NextCursor}}
}

// listed wraps a store list call as a route function.
func listed[T any](list func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[T], error)) func(context.Context, *call, *noBody) (listBody[T], error) {
	return func(ctx context.Context, c *call, _ *noBody) (listBody[T], error) {
		opt, err := c.listOptions()
		if err != nil {
			return listBody[T]{}, err
		}
		p, err := list(ctx, c, opt)
		return toList(p, opt), err
	}
}
