package httpapi

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"switchboard"
	"switchboard/internal/openapi"
)

// Endpoint is one operation of a dialect, declared once: the table serves it,
// admits its callers, documents it in the OpenAPI document and lists it for
// the checks that walk every route. X is the dialect's own description of the
// route (who may call it, how it answers), which the dialect's hooks read.
type Endpoint[X any] struct {
	Route
	Summary, Doc, Tag string
	// Status is the success status (200 when zero); a route without a Result
	// answers it with no body.
	Status int
	// Result is the type the handler writes (Route.Body the one it reads);
	// nil for none. Handle fills both from its type parameters.
	Result reflect.Type
	// Query lists the query parameters, for the OpenAPI document.
	Query []Param
	// Replay says whether a request carrying an Idempotency-Key is answered
	// once and replayed on retries; by default POST routes are.
	Replay Replay
	// Cache marks a GET whose answer is a pure function of the caller's
	// tenant's stored state and the request: the table's ResponseCache
	// stores it and revalidates it by the tenant's event sequence, and
	// answers If-None-Match with 304. Routes that show live engine state,
	// compute from the clock, or read rows changed without an event must
	// not set it.
	Cache bool
	// MaxBody, when set, is the route's own limit of its request body in
	// bytes, in place of the server's (Observer.MaxBody): for bulk uploads.
	MaxBody int64
	X       X
}

// Param is a query parameter of a route: its name, OpenAPI type and meaning.
type Param struct {
	Name, Type, Doc string
}

// Replay says whether a route honours the Idempotency-Key header.
type Replay int

const (
	ReplayDefault Replay = iota // on for POST, off otherwise
	ReplayOn
	ReplayOff
)

// Replays reports whether the route stores and replays answers by
// Idempotency-Key.
func (e *Endpoint[X]) Replays() bool {
	switch e.Replay {
	case ReplayOn:
		return true
	case ReplayOff:
		return false
	}
	return e.Method == http.MethodPost && !e.Public && !e.Admin
}

// NoBody marks a handler that reads no request body, NoContent one that
// writes no response body.
type (
	NoBody    struct{}
	NoContent struct{}
)

// Table is one dialect's route table. C is what the dialect's admission
// learns about a request (its caller), X the dialect's own route description.
// The dialect sets the hooks before the first Handle; the table does the
// rest: routing, 404 and 405 with Allow, decoding, Idempotency-Key, the
// OpenAPI document and the route list.
type Table[C, X any] struct {
	// Admit authenticates, rate-limits and authorizes a request for e.
	Admit func(w http.ResponseWriter, r *http.Request, e *Endpoint[X]) (C, error)
	// Errors renders errors in the dialect's envelope.
	Errors ErrorWriter
	// Decode reads a request body into dst; DecodeJSON strictly when nil.
	Decode func(r *http.Request, dst any) error
	// Respond writes a successful result; nil writes out as JSON with the
	// route's status, or the bare status for a route without a Result.
	Respond func(w http.ResponseWriter, r *http.Request, e *Endpoint[X], out any)
	// NotFound formats the message of a 404 from the method and the path.
	NotFound string
	// Idempotency stores and replays answers to retried requests; nil
	// serves every request afresh.
	Idempotency *Idempotency
	// Cache answers the GETs of routes marked Cache from memory while the
	// tenant's data is unchanged; nil serves every request afresh.
	Cache *ResponseCache
	// CacheEpoch, when set, is the clock at the resolution the dialect
	// renders it into every answer (an envelope's timestamp): cached answers
	// are kept for one epoch only.
	CacheEpoch func() int64

	mux       *http.ServeMux
	endpoints []*Endpoint[X]
	docPath   string
	docOnce   sync.Once
	doc       []byte
}

// Handle registers e on t: it decodes the body into a fresh In (unless In is
// NoBody), calls fn and renders its Out (nothing when Out is NoContent).
func Handle[C, X, In, Out any](t *Table[C, X], e Endpoint[X], fn func(ctx context.Context, c C, in *In) (Out, error)) *Endpoint[X] {
	if in := reflect.TypeFor[In](); in != reflect.TypeFor[NoBody]() {
		e.Body = in
	}
	if out := reflect.TypeFor[Out](); out != reflect.TypeFor[NoContent]() {
		e.Result = out
	}
	ep := &e
	return t.HandleRaw(ep, func(w http.ResponseWriter, r *http.Request, c C) {
		in := new(In)
		if ep.Body != nil {
			if err := t.decode(r, in); err != nil {
				t.Errors(w, r, err)
				return
			}
		}
		out, err := fn(r.Context(), c, in)
		if err != nil {
			t.Errors(w, r, err)
			return
		}
		t.respond(w, r, ep, out)
	})
}

// HandleRaw registers e with a handler that writes its own answer (streams,
// files, CSV); e.Body and e.Result document it.
func (t *Table[C, X]) HandleRaw(e *Endpoint[X], serve func(w http.ResponseWriter, r *http.Request, c C)) *Endpoint[X] {
	if e.Status == 0 {
		e.Status = http.StatusOK
	}
	if (e.Scope == "") != (e.Public || e.Admin) {
		panic("httpapi: route " + e.Method + " " + e.Path + ": keyed routes need a scope, public and admin ones take none")
	}
	if e.Body != nil {
		// Every number a client sends has a range the decoder enforces and
		// the OpenAPI document shows.
		if fields := UnboundedNumbers(e.Body); len(fields) > 0 {
			panic("httpapi: route " + e.Method + " " + e.Path + ": " + strings.Join(fields, ", ") + " has no range tag")
		}
	}
	t.endpoints = append(t.endpoints, e)
	pattern := e.Method + " " + e.Path
	t.serveMux().HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r = withInfo(r)
		InfoFrom(r.Context()).Route = pattern
		c, err := t.Admit(w, r, e)
		if err != nil {
			t.Errors(w, r, err)
			return
		}
		if e.MaxBody > 0 {
			raiseBodyLimit(w, r, e.MaxBody)
		}
		if e.Cache && t.Cache != nil && r.Method == http.MethodGet {
			t.Cache.serve(w, r, t.CacheEpoch, func(w http.ResponseWriter, r *http.Request) { serve(w, r, c) })
			return
		}
		if t.Idempotency != nil && e.Replays() {
			t.Idempotency.serve(w, r, t.Errors, func(w http.ResponseWriter, r *http.Request) { serve(w, r, c) })
			return
		}
		serve(w, r, c)
	})
	return e
}

func (t *Table[C, X]) serveMux() *http.ServeMux {
	if t.mux == nil {
		t.mux = http.NewServeMux()
	}
	return t.mux
}

func (t *Table[C, X]) decode(r *http.Request, dst any) error {
	if t.Decode != nil {
		return t.Decode(r, dst)
	}
	return DecodeJSON(r, dst, true)
}

func (t *Table[C, X]) respond(w http.ResponseWriter, r *http.Request, e *Endpoint[X], out any) {
	switch {
	case t.Respond != nil:
		t.Respond(w, r, e, out)
	case e.Result == nil:
		w.WriteHeader(e.Status)
	default:
		WriteJSON(w, e.Status, out)
	}
}

// Mount makes t answer every other request under the prefixes (each ending in
// a slash): 405 with Allow when the path exists under other methods, 404
// otherwise, both in the dialect's envelope (the mux's plain-text answers
// would break JSON clients).
func (t *Table[C, X]) Mount(prefixes ...string) {
	for _, p := range prefixes {
		t.serveMux().HandleFunc(p, t.noRoute)
	}
}

func (t *Table[C, X]) noRoute(w http.ResponseWriter, r *http.Request) {
	routes := make([][2]string, len(t.endpoints))
	for i, e := range t.endpoints {
		routes[i] = [2]string{e.Method, e.Path}
	}
	method, path := switchboard.Clip(r.Method, switchboard.MaxEchoRunes), switchboard.Clip(r.URL.Path, switchboard.MaxEchoRunes)
	if allowed := Allowed(routes, r.URL.Path); len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		t.Errors(w, r, switchboard.Errorf(switchboard.CodeMethodNotAllowed, "%s is not allowed on %s; use %s",
			method, path, strings.Join(allowed, ", ")))
		return
	}
	t.Errors(w, r, switchboard.Errorf(switchboard.CodeNotFound, t.NotFound, method, path))
}

// ServeHTTP implements http.Handler.
func (t *Table[C, X]) ServeHTTP(w http.ResponseWriter, r *http.Request) { t.serveMux().ServeHTTP(w, r) }

// Endpoints lists the registered routes in their order of registration.
func (t *Table[C, X]) Endpoints() []*Endpoint[X] { return t.endpoints }

// ServeDocument serves the OpenAPI document build returns, built on first use,
// publicly at GET path.
func (t *Table[C, X]) ServeDocument(path string, build func() openapi.Object) {
	t.docPath = path
	t.serveMux().HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(t.Document(build))
	})
}

// Document is the OpenAPI document build returns, encoded once.
func (t *Table[C, X]) Document(build func() openapi.Object) []byte {
	t.docOnce.Do(func() { t.doc = openapi.Encode(build()) })
	return t.doc
}

// Routes describes every route, the document's first, for checks that must
// cover them all.
func (t *Table[C, X]) Routes() []Route {
	out := make([]Route, 0, len(t.endpoints)+1)
	if t.docPath != "" {
		out = append(out, Route{Method: "GET", Path: t.docPath, Public: true})
	}
	for _, e := range t.endpoints {
		out = append(out, e.Route)
	}
	return out
}

// PageParams are the query parameters of a cursor-paged list.
var PageParams = []Param{{Name: "limit", Type: "integer", Doc: "page size, 1-1000 (default 50)"},
	{Name: "cursor", Type: "string", Doc: "opaque cursor from metadata.next_cursor of the previous page"},
	{Name: "offset", Type: "integer", Doc: "rows to skip, for offset-paged clients; ignored with cursor"}}

// CacheRoutes marks the routes named by their patterns ("GET /v1/users") as
// cached (Endpoint.Cache). A dialect lists them in one place, with why each
// is a pure function of stored state; a pattern that names no GET route of
// t panics, so the list cannot silently rot.
func (t *Table[C, X]) CacheRoutes(patterns ...string) {
	for _, p := range patterns {
		found := false
		for _, e := range t.endpoints {
			if e.Method == http.MethodGet && e.Method+" "+e.Path == p {
				e.Cache, found = true, true
			}
		}
		if !found {
			panic("httpapi: CacheRoutes: no GET route " + p)
		}
	}
}
