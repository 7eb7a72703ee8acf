// Package native serves Switchboard's own REST API under /v1: JSON in snake_case,
// one error envelope, cursor pagination, and an OpenAPI 3.1 document generated
// from the same route table that serves the requests, so the two cannot drift.
//
// Every route is declared once with its method, path, scope, request and
// response types (see routes.go); the table drives routing, authentication,
// scope checks, strict decoding and the OpenAPI document. The package holds no
// business rules: it parses, calls the store, and renders.
package native

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

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
	// Simulator serves /v1/sim when the simulated telephony runs.
	Simulator Simulator
	// DialectEvents gives each vendor dialect's webhook event names and the
	// core event types each is made of, for subscriptions made here.
	DialectEvents map[string]map[string][]string
	// Messenger sends and receives text messages; nil leaves its routes
	// answering that messaging is not running.
	Messenger Messenger
	// Streams bounds the event streams; zero fields take the defaults.
	Streams StreamLimits
	Log     *slog.Logger
}

// API is the /v1 handler.
type API struct {
	opt    Options
	mux    *http.ServeMux
	routes []*route
	// streams registers the open event streams.
	streams *streamSet

	specOnce sync.Once
	spec     []byte // the OpenAPI document, built on first use
}

// New returns the API with every route registered.
func New(opt Options) *API {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	a := &API{opt: opt, mux: http.NewServeMux(), streams: newStreamSet(opt.Streams)}
	a.registerRoutes()
	a.markETags()
	a.mux.HandleFunc("GET /v1/openapi.json", a.serveOpenAPI)
	a.mux.HandleFunc("/v1/", a.noRoute)
	return a
}

// noRoute answers requests no route matched: 405 with an Allow header when the
// path exists under other methods, 404 otherwise, both in the native envelope
// (the mux's own plain-text answers would break JSON clients).
func (a *API) noRoute(w http.ResponseWriter, r *http.Request) {
	routes := make([][2]string, len(a.routes))
	for i, rt := range a.routes {
		routes[i] = [2]string{rt.Method, rt.Path}
	}
	allowed := httpapi.Allowed(routes, r.URL.Path)
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		a.writeError(w, r, switchboard.Errorf(switchboard.CodeMethodNotAllowed, "%s is not allowed on %s; use %s",
			switchboard.Clip(r.Method, switchboard.MaxEchoRunes), switchboard.Clip(r.URL.Path, switchboard.MaxEchoRunes), strings.Join(allowed, ", ")))
		return
	}
	a.writeError(w, r, switchboard.Errorf(switchboard.CodeNotFound, "no route %s %s; see /v1/openapi.json", switchboard.Clip(r.Method, switchboard.MaxEchoRunes), switchboard.Clip(r.URL.Path, switchboard.MaxEchoRunes)))
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// access says who may call a route.
type access int

const (
	tenantKey  access = iota // an API key of the tenant, with the route's scope
	adminToken               // the platform operator's token
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

// route is one operation of the API. The fields other than serve document it.
type route struct {
	Method, Path, Summary, Tag string
	Doc                        string // the OpenAPI description, when a summary is not enough
	Access                     access
	Scope                      string
	User                       userAccess   // what user keys may do here
	Status                     int          // success status; 204 has no body
	Body                       reflect.Type // nil: no request body
	Result                     reflect.Type // nil: no response body
	Paged                      bool         // takes limit, cursor and offset
	Stream                     bool         // answers with Server-Sent Events
	etag                       bool         // one object, sent with its ETag (see patch.go)
	Query                      []param      // other query parameters
	serve                      func(w http.ResponseWriter, r *http.Request, c *call)
}

type param struct {
	Name, Type, Doc string
}

// call is one request on its way through a route.
type call struct {
	r         *http.Request
	principal httpapi.Principal
}

func (c *call) tenantID() int64 { return c.principal.Tenant.ID }

// pathID parses the path parameter name as a positive integer id.
func (c *call) pathID(name string) (int64, error) {
	v := c.r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, &switchboard.Error{Code: switchboard.CodeBadRequest, Message: name + " must be a positive integer",
			Fields: map[string]string{name: "must be a positive integer, not " + switchboard.Echo(v)}}
	}
	return id, nil
}

// queryInt parses an optional integer query parameter.
func (c *call) queryInt(name string) (int64, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, &switchboard.Error{Code: switchboard.CodeBadRequest, Message: name + " must be an integer",
			Fields: map[string]string{name: "must be an integer, not " + switchboard.Echo(v)}}
	}
	return n, nil
}

// queryBool parses an optional boolean query parameter.
func (c *call) queryBool(name string) (bool, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &switchboard.Error{Code: switchboard.CodeBadRequest, Message: name + " must be true or false",
			Fields: map[string]string{name: "must be true or false, not " + switchboard.Echo(v)}}
	}
	return b, nil
}

// listOptions reads limit, cursor and offset.
func (c *call) listOptions() (switchboard.ListOptions, error) {
	limit, err := c.queryInt("limit")
	if err != nil {
		return switchboard.ListOptions{}, err
	}
	offset, err := c.queryInt("offset")
	if err != nil {
		return switchboard.ListOptions{}, err
	}
	opt := switchboard.ListOptions{Limit: int(limit), Offset: int(offset), Cursor: c.r.URL.Query().Get("cursor")}
	if limit == 0 && c.r.URL.Query().Has("limit") {
		opt.Limit = -1 // an explicit limit=0 is an error, not the default
	}
	return opt, opt.Validate()
}

// noBody marks a route without a request body, noContent one without a
// response body.
type (
	noBody    struct{}
	noContent struct{}
)

// handle registers rt, decoding the request body into a fresh In (unless In is
// noBody) and rendering fn's Out with rt.Status.
func handle[In, Out any](a *API, rt route, fn func(ctx context.Context, c *call, in *In) (Out, error)) {
	a.add(&rt, reflect.TypeFor[In](), reflect.TypeFor[Out](), func(w http.ResponseWriter, r *http.Request, c *call) {
		in := new(In)
		if rt.Body != nil {
			if err := httpapi.DecodeJSON(r, in, true); err != nil {
				a.writeError(w, r, err)
				return
			}
		}
		out, err := fn(r.Context(), c, in)
		a.respond(w, r, &rt, out, err)
	})
}

func (a *API) add(rt *route, in, out reflect.Type, serve func(http.ResponseWriter, *http.Request, *call)) {
	if in != reflect.TypeFor[noBody]() {
		rt.Body = in
	}
	if out != reflect.TypeFor[noContent]() {
		rt.Result = out
	}
	if rt.Status == 0 {
		rt.Status = http.StatusOK
	}
	if (rt.Access == tenantKey) == (rt.Scope == "") {
		panic("native: route " + rt.Method + " " + rt.Path + ": tenant routes need a scope, admin ones take none")
	}
	rt.serve = serve
	a.routes = append(a.routes, rt)
	pattern := rt.Method + " " + rt.Path
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		httpapi.InfoFrom(r.Context()).Route = pattern
		c := &call{r: r}
		if err := a.authorize(w, r, rt, c); err != nil {
			a.writeError(w, r, err)
			return
		}
		rt.serve(w, r, c)
	})
}

// authorize authenticates the caller, spends a token of its rate limit and
// checks the route's scope, in that order: an unknown caller learns nothing
// about limits, and a throttled one is not told about scopes.
func (a *API) authorize(w http.ResponseWriter, r *http.Request, rt *route, c *call) error {
	if rt.Access == adminToken {
		return httpapi.AdminToken(r, a.opt.AdminToken)
	}
	p, err := httpapi.Admit(w, r, a.opt.Auth, a.opt.Limiter, rt.Scope)
	c.principal = p
	if err != nil || p.Key.UserID == nil {
		return err
	}
	return a.admitUserKey(r, rt, p.Tenant.ID, *p.Key.UserID)
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
func (a *API) Routes() []httpapi.Route {
	out := make([]httpapi.Route, 0, len(a.routes)+1)
	out = append(out, httpapi.Route{Method: "GET", Path: "/v1/openapi.json", Public: true})
	for _, rt := range a.routes {
		out = append(out, httpapi.Route{Method: rt.Method, Path: rt.Path, Scope: rt.Scope, Admin: rt.Access == adminToken,
			TenantKeys: rt.Access == tenantKey, UserKeys: rt.Access == tenantKey && rt.User != userNone})
	}
	return out
}

func (a *API) respond(w http.ResponseWriter, r *http.Request, rt *route, out any, err error) {
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if rt.Result == nil {
		w.WriteHeader(rt.Status)
		return
	}
	if rt.etag && writeETag(w, r, out) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	httpapi.WriteJSON(w, rt.Status, out)
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
	return func(w http.ResponseWriter, r *http.Request, err error) {
		code := switchboard.ErrorCode(err)
		status, ok := statusOf[code]
		if !ok {
			status = http.StatusInternalServerError
		}
		info := httpapi.InfoFrom(r.Context())
		body := ErrorBody{Error: ErrorDetail{Code: code, Message: switchboard.ErrorMessage(err), RequestID: info.RequestID}}
		body.Error.Fields = switchboard.ErrorFields(err)
		if status >= 500 {
			log.Error("request failed", "request_id", info.RequestID, "route", info.Route, "err", err)
		}
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
		}
		httpapi.WriteJSON(w, status, body)
	}
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

// routeName turns "GET /v1/users/{id}" into a stable operation id.
func routeName(rt *route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.Split(strings.TrimPrefix(rt.Path, "/v1/"), "/") {
		part = strings.Trim(part, "{}")
		for _, w := range strings.Split(part, "_") {
			if w != "" {
				b.WriteString(strings.ToUpper(w[:1]) + w[1:])
			}
		}
	}
	return b.String()
}
