package ujet

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
)

// How a file of this package adds routes: it declares a method
//
//	func (a *API) xxxRoutes() []route
//
// returning its routes, each with Method, Path (under /apps/api/v1), Summary
// and Scope (a core scope) and built by handler (decoded body in, JSON answer
// out) or rawHandler (multipart uploads, downloads, lists that set headers);
// New lists the method once in routeSets. Handlers take the tenant from
// c.tenantID() and path values from c.r.PathValue (pathID for integer ids);
// lists read page and per with pageOptions and write the Total, Per-Page and
// Link headers with c.paginate. Errors are the core's *switchboard.Error
// values; a refusal with one of UJET's documented texts is built with
// message(code, text), which the error table renders as {"message": text}.

// WebhookPolicy is the one check every dialect runs on a subscription before
// it is created or updated (webhook.Policy).
type WebhookPolicy interface {
	CheckWebhook(ctx context.Context, w switchboard.Webhook) error
}

// Options wires the dialect to the rest of the server.
type Options struct {
	Store switchboard.Store
	Auth  *httpapi.Authenticator
	// Limiter is the dialect's own per-tenant limiter (UJET limits each
	// customer, not each token): one bucket per tenant id. Nil admits all.
	Limiter *httpapi.RateLimiter
	// TenantWrites is the per-tenant write bucket every dialect charges
	// (httpapi.AdmitWrite); nil leaves writes to Limiter alone.
	TenantWrites *httpapi.RateLimiter
	// Calls is the running call center; nil answers 503 where one is needed.
	Calls switchboard.CallService
	// Dialer runs campaigns; nil answers 503 where one is needed.
	Dialer switchboard.Dialer
	// Conversations runs chats and SMS; nil answers 503 where one is needed.
	Conversations switchboard.Conversations
	// WebhookPolicy vets subscriptions before they are written; nil accepts
	// any.
	WebhookPolicy WebhookPolicy
	// Idempotency replays retried POSTs that carry an Idempotency-Key; nil
	// serves each afresh.
	Idempotency *httpapi.Idempotency
	// Cache answers repeated reads of unchanged data from memory; nil serves
	// each afresh.
	Cache *httpapi.ResponseCache
	// PublicURL is the base URL clients reach this server at, for the links
	// in answers (Link headers, recording and media URLs).
	PublicURL string
	// SIPDomain is the domain of the agents' SIP addresses (ucaas_sip_uri);
	// switchboard.DefaultSIPRealm when empty.
	SIPDomain string
	// Now is the clock (time.Now when nil), injected so that jobs and
	// expiries are testable.
	Now func() time.Time
	Log *slog.Logger
}

// API serves the UJET / CCAI Platform Apps API dialect.
type API struct {
	opt   Options
	table *httpapi.Table[*call, route]
	// work wakes the background jobs Run does (userjobs.go).
	work workers
}

// route is one operation of the dialect as a file of this package declares
// it; the table's Endpoint holds it with what every dialect's routes have.
type route struct {
	Method, Path, Summary, Scope string
	Status                       int
	Query                        []param
	// Doc says more than Summary in the OpenAPI document.
	Doc string
	// MaxBody raises the body limit (uploads); 0 keeps the server's.
	MaxBody int64
	// Public routes take no credentials and no Scope: the request carries
	// its own proof (the chat media upload target's token).
	Public bool
	// Replay overrides the Idempotency-Key default (on for POST): off
	// where the answer is a credential that must not be kept in clear.
	Replay httpapi.Replay
	// register adds the route to the table; handler builds it.
	register func(a *API, e *httpapi.Endpoint[route])
}

type param struct{ Name, Type, Doc string }

// endpoint is rt as the table keeps it.
func (rt route) endpoint() *httpapi.Endpoint[route] {
	e := &httpapi.Endpoint[route]{Route: httpapi.Route{Method: rt.Method, Path: prefix + strings.TrimPrefix(rt.Path, "/"),
		Scope: rt.Scope, TenantKeys: !rt.Public, Public: rt.Public}, Summary: rt.Summary, Doc: rt.Doc, Status: rt.Status, MaxBody: rt.MaxBody, Replay: rt.Replay, X: rt}
	for _, q := range rt.Query {
		e.Query = append(e.Query, httpapi.Param(q))
	}
	return e
}

// handler makes rt serve fn: the body decoded into a fresh In (none for
// noBody), fn's Out rendered as JSON with rt.Status (nothing for noContent).
func handler[In, Out any](rt route, fn func(ctx context.Context, c *call, in *In) (Out, error)) route {
	rt.register = func(a *API, e *httpapi.Endpoint[route]) { httpapi.Handle(a.table, *e, fn) }
	return rt
}

// rawHandler makes rt serve fn, which writes its own answer (uploads,
// downloads, paginated lists); body and result, when not nil, document the
// JSON it reads and writes (reflect.TypeFor of them).
func rawHandler(rt route, body, result reflect.Type, fn func(w http.ResponseWriter, c *call)) route {
	rt.register = func(a *API, e *httpapi.Endpoint[route]) {
		e.Body, e.Result = body, result
		a.table.HandleRaw(e, func(w http.ResponseWriter, r *http.Request, c *call) { fn(w, c) })
	}
	return rt
}

// noBody and noContent mark routes without a request or a response body.
type (
	noBody    = httpapi.NoBody
	noContent = httpapi.NoContent
)

// notFoundRoute is the message of a request no route serves: UJET answers
// {"message":"Not Found"} naming neither the method nor the path (the
// format's two verbs print nothing).
const notFoundRoute = textNotFound + "%.0s%.0s"

// prefix is where the dialect is served.
const prefix = "/apps/api/v1/"

// call is one admitted request.
type call struct {
	r         *http.Request
	w         http.ResponseWriter
	principal httpapi.Principal
}

func (c *call) tenantID() int64 { return c.principal.Tenant.ID }

// New returns the dialect's handler, serving /apps/api/v1/.
func New(opt Options) *API {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	a := &API{opt: opt, work: newWorkers()}
	a.table = &httpapi.Table[*call, route]{Admit: a.admit, Errors: a.writeError, Decode: decode,
		NotFound: notFoundRoute, Idempotency: opt.Idempotency, Cache: opt.Cache}
	for _, set := range a.routeSets() {
		for _, rt := range set {
			rt.register(a, rt.endpoint())
		}
	}
	a.table.ServeDocument(prefix+"openapi.json", a.buildSpec)
	a.table.Mount(prefix)
	return a
}

// routeSets lists every file's routes, in the order the OpenAPI document
// shows them (the seed's order of groups).
func (a *API) routeSets() [][]route {
	return [][]route{a.callRoutes(), a.smsRoutes(), a.waitTimeRoutes(), a.bulkUserRoutes(), a.campaignRoutes(),
		a.agentStatusRoutes(), a.endUserRoutes(), a.chatRoutes(), a.dncRoutes(), a.queueStatusRoutes(),
		a.queueSettingsRoutes(), a.contactListRoutes(), a.userRoutes(), a.menuRoutes(), a.pdsRoutes()}
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.table.ServeHTTP(w, r) }

// Routes describes every route, for checks that must cover them all.
func (a *API) Routes() []httpapi.Route { return a.table.Routes() }

// now is the dialect's clock.
func (a *API) now() time.Time { return a.opt.Now() }

// admit admits the caller: HTTP Basic (tenant slug : key) or any credential
// style the server accepts, the tenant's request bucket (UJET limits each
// customer), the route's scope, then the tenant's write bucket. UJET's API
// tokens belong to the company: a user key is refused.
func (a *API) admit(w http.ResponseWriter, r *http.Request, e *httpapi.Endpoint[route]) (*call, error) {
	c := &call{r: r, w: w}
	if e.Public {
		return c, nil
	}
	p, err := a.opt.Auth.Authenticate(r)
	if err != nil {
		return c, err
	}
	c.principal = p
	if a.opt.Limiter != nil {
		if ok, retry, _ := a.opt.Limiter.Allow(p.Tenant.ID); !ok {
			httpapi.SetRetryAfter(w.Header(), retry)
			perSec, _ := a.opt.Limiter.Limit()
			return c, switchboard.Errorf(switchboard.CodeRateLimited,
				"Rate limit exceeded: %g requests per second per company; retry after %s", perSec, retry.Round(time.Millisecond))
		}
	}
	if p.Key.UserID != nil {
		return c, switchboard.Errorf(switchboard.CodeForbidden, "a user key (bound to one user) cannot use the Apps API; use a company key")
	}
	if e.Scope != "" && !p.Key.Allows(e.Scope) {
		return c, switchboard.Errorf(switchboard.CodeForbidden, "this API key lacks the %s scope", e.Scope)
	}
	return c, httpapi.AdmitWrite(w, r, a.opt.TenantWrites, p.Tenant.ID)
}
