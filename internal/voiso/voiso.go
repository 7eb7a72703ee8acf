package voiso

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
)

// How a file of this package adds routes: it declares a method
//
//	func (a *API) xxxRoutes() []route
//
// returning its routes, each with Method, Path (under /api/v4), Summary and
// Scope (one of Scopes' names) and built by handler (decoded body in, JSON
// answer out); New lists the method once in routeSets. Handlers take the
// tenant from c.tenantID() and path values from c.r.PathValue (pathID for
// integer ids); lists read limit and offset with listOptions and answer
// {"<resource>": [...], "metadata": {"total": N}}. Errors are the core's
// *switchboard.Error values: the error table below renders them in Voiso's
// two bodies.

// WebhookPolicy is the one check every dialect runs on a subscription before
// it is created or updated (webhook.Policy): the SSRF guard on its URL and the
// bounds on its lists.
type WebhookPolicy interface {
	CheckWebhook(ctx context.Context, w switchboard.Webhook) error
}

// Options wires the dialect to the rest of the server.
type Options struct {
	Store   switchboard.Store
	Auth    *httpapi.Authenticator
	Limiter *httpapi.RateLimiter
	// Calls is the running call center; nil answers 503 where one is needed.
	Calls switchboard.CallService
	// Dialer runs campaigns; nil answers 503 on the lifecycle actions.
	Dialer switchboard.Dialer
	// Conversations runs messaging; nil answers 503 where one is needed.
	Conversations switchboard.Conversations
	// WebhookPolicy vets subscriptions before they are written; nil accepts
	// any.
	WebhookPolicy WebhookPolicy
	// Idempotency replays retried POSTs that carry an Idempotency-Key; nil
	// serves each afresh.
	Idempotency *httpapi.Idempotency
	// Cache answers repeated reads of unchanged data from memory (the routes
	// in cachedRoutes); nil serves each afresh.
	Cache *httpapi.ResponseCache
	// PublicURL is the base URL clients reach this server at, for the links
	// in answers and payloads (cdr_url).
	PublicURL string
	// SIPDomain is the domain of the users' sip_account (user@domain): the
	// SIP realm; switchboard.DefaultSIPRealm when empty.
	SIPDomain string
	Log       *slog.Logger
}

// API serves the Voiso dialect.
type API struct {
	opt   Options
	table *httpapi.Table[*call, route]
}

// route is one operation of the dialect as a file of this package declares
// it; the table's Endpoint holds it with what every dialect's routes have.
type route struct {
	Method, Path, Summary, Scope string
	Status                       int
	Query                        []param
	// Doc says more than Summary in the OpenAPI document.
	Doc string
	// register adds the route to the table; handler builds it.
	register func(a *API, e httpapi.Endpoint[route])
}

type param struct{ Name, Type, Doc string }

// endpoint is rt as the table keeps it.
func (rt route) endpoint() httpapi.Endpoint[route] {
	e := httpapi.Endpoint[route]{Route: httpapi.Route{Method: rt.Method, Path: prefix + strings.TrimPrefix(rt.Path, "/"),
		Scope: rt.Scope, TenantKeys: true}, Summary: rt.Summary, Doc: rt.Doc, Status: rt.Status, X: rt}
	for _, q := range rt.Query {
		e.Query = append(e.Query, httpapi.Param(q))
	}
	return e
}

// handler makes rt serve fn: the body decoded into a fresh In (none for
// noBody), fn's Out rendered as JSON with rt.Status (nothing for noContent).
func handler[In, Out any](rt route, fn func(ctx context.Context, c *call, in *In) (Out, error)) route {
	rt.register = func(a *API, e httpapi.Endpoint[route]) { httpapi.Handle(a.table, e, fn) }
	return rt
}

// noBody and noContent mark routes without a request or a response body.
type (
	noBody    = httpapi.NoBody
	noContent = httpapi.NoContent
)

// prefix is where the dialect is served.
const prefix = "/api/v4/"

// call is one admitted request.
type call struct {
	r         *http.Request
	principal httpapi.Principal
}

func (c *call) tenantID() int64 { return c.principal.Tenant.ID }

// cachedRoutes are the GETs whose answer is a pure function of the tenant's
// stored state and the request, every part of it written with an event:
// users, queues and their members, skills, teams. Campaigns are left out:
// their answers show lead counts, which imports change without an event per
// lead.
var cachedRoutes = []string{
	"GET /api/v4/users", "GET /api/v4/users/{user_id}",
	"GET /api/v4/teams", "GET /api/v4/teams/{team_id}/assignments",
	"GET /api/v4/routing/queues", "GET /api/v4/routing/queues/{queue_id}",
	"GET /api/v4/routing/queues/{queue_id}/users", "GET /api/v4/routing/queues/{queue_id}/supervisors",
	"GET /api/v4/routing/skills",
	"GET /api/v4/messaging/channel_profiles", "GET /api/v4/messaging/canned_messages", "GET /api/v4/messaging/whatsapp_templates",
}

// New returns the dialect's handler, serving /api/v4/.
func New(opt Options) *API {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	a := &API{opt: opt}
	a.table = &httpapi.Table[*call, route]{Admit: a.admit, Errors: a.writeError, Decode: decode,
		NotFound: "no endpoint %s %s; see /api/v4/openapi.json", Idempotency: opt.Idempotency, Cache: opt.Cache}
	for _, set := range a.routeSets() {
		for _, rt := range set {
			rt.register(a, rt.endpoint())
		}
	}
	var cached []string
	for _, p := range cachedRoutes {
		if slices.ContainsFunc(a.table.Endpoints(), func(e *httpapi.Endpoint[route]) bool { return e.Method+" "+e.Path == p }) {
			cached = append(cached, p)
		}
	}
	a.table.CacheRoutes(cached...)
	a.table.ServeDocument(prefix+"openapi.json", a.buildSpec)
	a.table.Mount(prefix)
	return a
}

// routeSets lists every file's routes, in the order the OpenAPI document
// shows them.
func (a *API) routeSets() [][]route {
	return [][]route{a.callRoutes(), a.reportingRoutes(), a.messagingRoutes(), a.userRoutes(), a.routingRoutes(), a.campaignRoutes(),
		a.taskRoutes(), a.billingRoutes()}
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.table.ServeHTTP(w, r) }

// Routes describes every route, for checks that must cover them all.
func (a *API) Routes() []httpapi.Route { return a.table.Routes() }

// admit admits the caller with the route's scope. Voiso's keys belong to the
// contact center: a user key is refused.
func (a *API) admit(w http.ResponseWriter, r *http.Request, e *httpapi.Endpoint[route]) (*call, error) {
	p, err := httpapi.Admit(w, r, a.opt.Auth, a.opt.Limiter, e.Scope)
	if err == nil && p.Key.UserID != nil {
		err = switchboard.Errorf(switchboard.CodeForbidden, "a user key (bound to one user) cannot use the Voiso API; use a tenant key")
	}
	return &call{r: r, principal: p}, err
}

// statusOf is the one table from error codes to this dialect's statuses. A
// method a path does not serve is 404, as Voiso lists no 405.
var statusOf = map[switchboard.Code]int{
	switchboard.CodeInvalid:            http.StatusUnprocessableEntity,
	switchboard.CodeBadRequest:         http.StatusBadRequest,
	switchboard.CodeTooLarge:           http.StatusBadRequest,
	switchboard.CodeUnauthorized:       http.StatusUnauthorized,
	switchboard.CodeForbidden:          http.StatusForbidden,
	switchboard.CodeNotFound:           http.StatusNotFound,
	switchboard.CodeMethodNotAllowed:   http.StatusNotFound,
	switchboard.CodeConflict:           http.StatusConflict,
	switchboard.CodePreconditionFailed: http.StatusConflict,
	switchboard.CodeRateLimited:        http.StatusTooManyRequests,
	switchboard.CodeInternal:           http.StatusInternalServerError,
	switchboard.CodeUnavailable:        http.StatusServiceUnavailable,
}

// errorText is the fixed text of {"error": …} per status, exactly as Voiso
// writes it (casing included).
var errorText = map[int]string{
	http.StatusBadRequest:          "Bad Request",
	http.StatusUnauthorized:        "Unauthorized",
	http.StatusForbidden:           "Forbidden",
	http.StatusNotFound:            "Not found",
	http.StatusConflict:            "Conflict",
	http.StatusUnprocessableEntity: "Unprocessable Entity",
	http.StatusTooManyRequests:     "Too many requests",
	http.StatusInternalServerError: "Internal Server Error",
	http.StatusServiceUnavailable:  "Service Unavailable",
}

// ErrorBody is the simple error: {"error": "<text>"}.
type ErrorBody struct {
	Error string `json:"error"`
}

// ValidationBody is the validation error: each field with its messages.
type ValidationBody struct {
	Errors map[string][]string `json:"errors"`
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(a.opt.Log)(w, r, err)
}

// WriteError returns the dialect's httpapi.ErrorWriter. A refusal that names
// fields (validation, a state conflict) is {"errors":{field:[msg]}}; every
// other error is {"error": <the status's fixed text>}, so internal details
// are never shown (they are logged).
func WriteError(log *slog.Logger) httpapi.ErrorWriter {
	t := &httpapi.ErrorTable{Status: statusOf, Log: log, Render: func(w http.ResponseWriter, r *http.Request, status int, err error) {
		// A path's other methods are not advertised: the answer is a 404.
		w.Header().Del("Allow")
		code := switchboard.ErrorCode(err)
		if fields := switchboard.ErrorFields(err); status < 500 && len(fields) > 0 &&
			(code == switchboard.CodeInvalid || code == switchboard.CodeConflict || code == switchboard.CodePreconditionFailed) {
			body := ValidationBody{Errors: make(map[string][]string, len(fields))}
			for f, msg := range fields {
				body.Errors[f] = []string{msg}
			}
			httpapi.WriteJSON(w, status, body)
			return
		}
		if status == http.StatusConflict || status == http.StatusUnprocessableEntity {
			// A refusal without fields still says what was refused.
			httpapi.WriteJSON(w, status, ValidationBody{Errors: map[string][]string{"base": {switchboard.ErrorMessage(err)}}})
			return
		}
		text, ok := errorText[status]
		if !ok {
			text = http.StatusText(status)
		}
		httpapi.WriteJSON(w, status, ErrorBody{Error: text})
	}}
	return t.Write
}

// invalid is a 422 naming one field.
func invalid(field, why string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalid, Message: field + " " + why, Fields: map[string]string{field: why}}
}

// conflict is a 409 naming the field whose state forbids the action.
func conflict(field, why string) error {
	return &switchboard.Error{Code: switchboard.CodeConflict, Message: field + " " + why, Fields: map[string]string{field: why}}
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// seconds renders t as Voiso's resources show times: RFC 3339 in UTC with Z,
// to the second.
func seconds(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// millis renders t to the millisecond, as campaigns show times.
func millis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// micros renders t to the microsecond, as webhooks show times.
func micros(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// optSeconds is seconds(*t), or null.
func optSeconds(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := seconds(*t)
	return &s
}

// digits renders an E.164 number as Voiso does: without the +.
func digits(e164 string) string { return strings.TrimPrefix(e164, "+") }
