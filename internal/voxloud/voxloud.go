// Package voxloud speaks the Voxloud developer API (/api/v1 and /api/v2) over
// Switchboard's core, so that an integration written for Voxloud works by
// changing the host: contacts, users, webhook subscriptions and their payloads,
// telephony events (the call records, as JSON pages or CSV) and click-to-call
// links.
//
// The package holds no business rules: it parses Voxloud's requests, calls the
// store and the call center, and renders Voxloud's JSON.
//
// Choices where the Voxloud document is silent or vague, written down here:
//
//   - Credentials: the Voverc-Auth header carries a Switchboard API key of the
//     tenant (the other credential styles are accepted too). Voxloud keys are
//     account-wide, so user keys (bound to one user) get 403 on every route.
//     Every route needs a scope (403 without it); validate-auth, which shows
//     the tenant's name and e-mail, needs tenant.read.
//   - Errors use the body Spring Boot (which Voxloud's responses come from)
//     gives: {"timestamp","status","error","message","path"}, plus
//     "request_id" and, for invalid input, "errors": [{"field","message"}].
//     Status codes follow the document's table: every invalid input is 400
//     (the table has no 409 or 422), 401 for a missing or wrong key, 403 for
//     a key without the route's scope, 404, 405 with Allow, 406 when Accept
//     rules out JSON (and CSV where offered), 413 for an oversized body, 429
//     with Retry-After, 500 and 503.
//   - Request bodies are read leniently, as Jackson does under Spring Boot:
//     unknown fields are ignored (the document itself sends "id" in an
//     update body), but a field of the wrong type is a 400 naming it.
//   - Contacts: ids are UUIDs; times are ISO-8601 with the tenant's offset.
//     Updates accept PUT and POST (the document shows both); DELETE answers
//     204.
//   - Telephony events are the tenant's call records. "id" is the call's
//     number and "callId" its UUID. Query results render "timestamp" as the
//     document's query example does ("2018-05-15T15:47:03.000+0000"); webhooks
//     and the two single-event lookups render it as epoch milliseconds, as
//     the webhook section they point to does. The "number" filter matches any
//     part of either party's number, digits only. Sort properties are
//     timestamp and id (the same order); the default is timestamp,desc.
//   - The CSV export (Accept: text/csv) streams every record the query
//     selects, in its sort order and ignoring size and page, from one read
//     of the store (export.go): agents are looked up once per export and
//     customers' contacts in batches, so its memory does not grow with its
//     length. The number of records comes after them, as the HTTP trailer
//     X-Total-Count of a complete export: counting first would cost a count
//     over every call. A failure once the body has started cuts the
//     connection, so a client never takes a truncated export for a whole one.
//   - recordingUrl points at GET /api/v1/telephony-events/{id}/recording on
//     this server (an extension: Voxloud links to its own storage), which
//     takes the same Voverc-Auth key.
//   - Click-to-call: "id" is a 32-hex key. The extension may be a user's or a
//     queue's; a queue has no phone of its own to ring first, so its links
//     always dial the contact first.
//   - Webhook subscriptions are Switchboard webhooks of dialect "voxloud";
//     this API lists only those.
//   - Idempotency-Key (a Switchboard extension, as on every dialect) is
//     honoured on the POSTs that act; the telephony-event query and
//     validate-auth only read, and are answered afresh.
package voxloud

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
)

// WebhookPolicy is the one check every dialect runs on a subscription
// before it is created or updated (webhook.Policy): the SSRF guard on its URL
// and the bounds on its lists.
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
	// WebhookPolicy vets subscriptions before they are written; nil
	// accepts any.
	WebhookPolicy WebhookPolicy
	// Idempotency replays retried POSTs that carry an Idempotency-Key; nil
	// serves each afresh.
	Idempotency *httpapi.Idempotency
	// Cache answers repeated reads of unchanged data from memory (the
	// routes in cachedRoutes); nil serves each afresh.
	Cache *httpapi.ResponseCache
	// PublicURL is the base URL clients reach this server at, for the links
	// in payloads (recordingUrl).
	PublicURL string
	Log       *slog.Logger
}

// API serves the Voxloud dialect.
type API struct {
	opt   Options
	table *httpapi.Table[*call, route]
}

// route is the Voxloud description of one operation; the table's Endpoint
// holds it with what every dialect's routes have.
type route struct {
	Method, Path, Summary, Scope string
	Status                       int
	// Body and Result document the routes that write their own answer.
	Body, Result reflect.Type
	Query        []param
	// CSV marks routes that can answer text/csv.
	CSV bool
	// Replay turns Idempotency-Key off on POST routes that only read.
	Replay httpapi.Replay
}

type param struct{ Name, Type, Doc string }

// endpoint is rt as the table keeps it.
func (rt route) endpoint() httpapi.Endpoint[route] {
	e := httpapi.Endpoint[route]{Route: httpapi.Route{Method: rt.Method, Path: rt.Path, Scope: rt.Scope, TenantKeys: true, Body: rt.Body},
		Summary: rt.Summary, Status: rt.Status, Result: rt.Result, Replay: rt.Replay, X: rt}
	for _, q := range rt.Query {
		e.Query = append(e.Query, httpapi.Param(q))
	}
	return e
}

// call is one admitted request.
type call struct {
	r         *http.Request
	principal httpapi.Principal
}

func (c *call) tenantID() int64 { return c.principal.Tenant.ID }

// cachedRoutes are the GETs whose answer is a pure function of the tenant's
// stored state and the request (httpapi.ResponseCache): users with their
// numbers, contacts and click-to-call links, all written with an event.
// Webhooks are left out (delivery statistics are written without events),
// and so are the telephony events, whose recordings and faxes are files.
var cachedRoutes = []string{
	"GET /api/v2/users",
	"GET /api/v1/contacts", "GET /api/v1/contacts/{id}",
	"GET /api/v1/click-to-call", "GET /api/v1/click-to-call/{id}",
}

// New returns the dialect's handler, serving /api/v1/ and /api/v2/.
func New(opt Options) *API {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	a := &API{opt: opt}
	a.table = &httpapi.Table[*call, route]{Admit: a.admit, Errors: a.writeError, Decode: decodeLenient,
		NotFound: "no endpoint %s %s; see /api/v1/openapi.json", Idempotency: opt.Idempotency, Cache: opt.Cache}
	a.registerRoutes()
	a.table.CacheRoutes(cachedRoutes...)
	a.table.ServeDocument("/api/v1/openapi.json", a.buildSpec)
	a.table.Mount("/api/v1/", "/api/v2/")
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.table.ServeHTTP(w, r) }

func (a *API) registerRoutes() {
	a.authRoutes()
	a.contactRoutes()
	a.userRoutes()
	a.webhookRoutes()
	a.telephonyRoutes()
	a.clickToCallRoutes()
}

// noBody and noContent mark routes without a request or a response body.
type (
	noBody    = httpapi.NoBody
	noContent = httpapi.NoContent
)

// handle registers rt, decoding the body into a fresh In (unless noBody) and
// rendering fn's Out as JSON with rt.Status.
func handle[In, Out any](a *API, rt route, fn func(ctx context.Context, c *call, in *In) (Out, error)) {
	httpapi.Handle(a.table, rt.endpoint(), fn)
}

// add registers a route that writes its own answer.
func (a *API) add(rt route, serve func(http.ResponseWriter, *http.Request, *call)) {
	e := rt.endpoint()
	a.table.HandleRaw(&e, serve)
}

// admit negotiates the content type, then admits the caller with its scope.
// Voxloud keys are account-wide: user keys are refused.
func (a *API) admit(w http.ResponseWriter, r *http.Request, e *httpapi.Endpoint[route]) (*call, error) {
	if _, ok := negotiate(r, e.X.CSV); !ok {
		return nil, errNotAcceptable(e.X.CSV)
	}
	p, err := httpapi.Admit(w, r, a.opt.Auth, a.opt.Limiter, e.Scope)
	if err == nil && p.Key.UserID != nil {
		err = switchboard.Errorf(switchboard.CodeForbidden, "a user key (bound to one user) cannot use the Voxloud API; use a tenant key")
	}
	return &call{r: r, principal: p}, err
}

// Routes describes every route, for checks that must cover them all.
func (a *API) Routes() []httpapi.Route { return a.table.Routes() }

// Media types a route may answer with.
const (
	mediaJSON = "application/json"
	mediaCSV  = "text/csv"
)

// negotiate picks the response type from Accept: JSON unless the client
// prefers CSV where it is offered; false when Accept rules out both.
func negotiate(r *http.Request, csv bool) (string, bool) {
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return mediaJSON, true
	}
	best, bestQ := "", -1.0
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
			if q <= 0 {
				continue
			}
			var got string
			switch {
			case mt == mediaJSON || mt == "application/*" || mt == "*/*" || strings.HasSuffix(mt, "+json"):
				got = mediaJSON
			case csv && (mt == mediaCSV || mt == "text/*"):
				got = mediaCSV
			default:
				continue
			}
			if q > bestQ {
				best, bestQ = got, q
			}
		}
	}
	return best, best != ""
}

func errNotAcceptable(csv bool) error {
	if csv {
		return &switchboard.Error{Code: codeNotAcceptable, Message: "this endpoint answers application/json or text/csv only"}
	}
	return &switchboard.Error{Code: codeNotAcceptable, Message: "this endpoint answers application/json only"}
}

// Codes of this dialect beyond the core's.
const (
	codeNotAcceptable switchboard.Code = "not_acceptable"
	codeUnavailable   switchboard.Code = "unavailable"
)

// statusOf is the one table from error codes to this dialect's statuses.
var statusOf = map[switchboard.Code]int{
	switchboard.CodeBadRequest:       http.StatusBadRequest,
	switchboard.CodeInvalid:          http.StatusBadRequest,
	switchboard.CodeConflict:         http.StatusBadRequest,
	switchboard.CodeUnauthorized:     http.StatusUnauthorized,
	switchboard.CodeForbidden:        http.StatusForbidden,
	switchboard.CodeNotFound:         http.StatusNotFound,
	switchboard.CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	codeNotAcceptable:                http.StatusNotAcceptable,
	switchboard.CodeTooLarge:         http.StatusRequestEntityTooLarge,
	switchboard.CodeRateLimited:      http.StatusTooManyRequests,
	switchboard.CodeInternal:         http.StatusInternalServerError,
	codeUnavailable:                  http.StatusServiceUnavailable,
}

// ErrorBody is the dialect's error: Spring Boot's shape, plus the request id
// and the offending fields.
type ErrorBody struct {
	Timestamp string       `json:"timestamp"`
	Status    int          `json:"status"`
	Error     string       `json:"error"`
	Message   string       `json:"message"`
	Path      string       `json:"path"`
	RequestID string       `json:"request_id"`
	Errors    []FieldError `json:"errors,omitempty"`
}

// FieldError names one invalid field and why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// fieldNames maps core field names to the ones this dialect's bodies use.
var fieldNames = map[string]string{"outbound_number": "outboundNumber", "url": "callback_url", "notify_email": "notification_email"}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(a.opt.Log)(w, r, err)
}

// WriteError returns the dialect's httpapi.ErrorWriter. Internal errors are
// logged in full and shown only as "internal error".
func WriteError(log *slog.Logger) httpapi.ErrorWriter {
	t := &httpapi.ErrorTable{Status: statusOf, Log: log, Render: func(w http.ResponseWriter, r *http.Request, status int, err error) {
		body := ErrorBody{Timestamp: springTime(time.Now()), Status: status, Error: http.StatusText(status),
			Message: switchboard.ErrorMessage(err), Path: switchboard.Clip(r.URL.Path, 100), RequestID: httpapi.InfoFrom(r.Context()).RequestID}
		fields := switchboard.ErrorFields(err)
		for _, f := range slices.Sorted(mapKeys(fields)) {
			name := f
			if n, ok := fieldNames[f]; ok {
				name = n
			}
			body.Errors = append(body.Errors, FieldError{Field: name, Message: fields[f]})
		}
		httpapi.WriteJSON(w, status, body)
	}}
	return t.Write
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// springTime formats t as Voxloud's telephony-event query shows times:
// milliseconds and a colon-less offset, in UTC.
func springTime(t time.Time) string { return t.UTC().Format(springLayout) }

// springLayout is the layout of springTime.
const springLayout = "2006-01-02T15:04:05.000-0700"

// isoTime formats t as Voxloud's contacts show times: seconds and an offset
// with a colon, in the tenant's time zone.
func isoTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02T15:04:05-07:00")
}

// tenantLocation is the tenant's time zone, UTC when it has none or an
// unknown one.
func tenantLocation(t switchboard.Tenant) *time.Location {
	if t.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(t.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// invalid is a 400 naming one field.
func invalid(field, why string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalid, Message: field + " " + why, Fields: map[string]string{field: why}}
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// decodeLenient reads a JSON body the way Jackson does under Spring Boot:
// unknown fields are ignored, wrong types are a 400 naming the field.
// An empty body is no body, as the document's examples send none.
func decodeLenient(r *http.Request, dst any) error {
	if r.ContentLength == 0 && r.Header.Get("Transfer-Encoding") == "" {
		return nil
	}
	return httpapi.DecodeJSON(r, dst, false)
}

func writeJSON(w http.ResponseWriter, v any) { httpapi.WriteJSON(w, http.StatusOK, v) }
