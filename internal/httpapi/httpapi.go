// Package httpapi is the HTTP plumbing every API dialect shares, and the
// dialect kit each is built from. It knows no vendor: each dialect supplies
// its wire format as data and hooks.
//
// The kit: a dialect declares its routes once in a Table (method, path,
// scope, who may call, request and response types); the table serves them
// through typed handlers (Handle), admits callers through the dialect's
// hook, answers 404 and 405 with Allow, decodes bodies with the limit and
// range rules, replays retried POSTs by Idempotency-Key (Idempotency), and
// builds the OpenAPI document from the same routes (BuildDocument), and
// answers repeated reads of unchanged data from memory with ETags and 304s
// (ResponseCache, for the routes a dialect marks with CacheRoutes). Errors go
// through one ErrorTable per dialect: core code to status, then the dialect's
// envelope. A dialect is a value of the Dialect interface (name, mount
// prefixes, key headers and markers, webhook vocabulary and renderer); the
// server lists them once (Dialects) and composes itself from that list.
//
// The plumbing: finding the caller's key in every credential style the
// registered dialects use, rate limits per key and per tenant, request-body
// limits, request IDs, the access log, Prometheus metrics and strict JSON
// decoding.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"switchboard"
)

// ErrorWriter renders err in a dialect's own error envelope and status code.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Info is what the layers of one request learn about it, shared by pointer so
// that the access log and the metrics (outermost) can report what the router
// and the authenticator (innermost) found out.
type Info struct {
	RequestID string
	Dialect   string
	Route     string // the matched pattern, e.g. "GET /v1/users/{id}"
	TenantID  int64
	KeyID     int64
	// TenantVersion is the updated_at (Unix microseconds) of the tenant as
	// the authenticator knows it, which renderers may read settings from
	// (a time zone): cached answers depend on it (ResponseCache).
	TenantVersion int64

	// body and bodyW are the request's body before Observer's limit, for a
	// route that allows a larger one (Endpoint.MaxBody).
	body  io.ReadCloser
	bodyW http.ResponseWriter
}

type infoKey struct{}

// InfoFrom returns the request's Info; a fresh one when the request did not
// pass through Observe (as in unit tests), so callers never need a nil check.
func InfoFrom(ctx context.Context) *Info {
	if i, ok := ctx.Value(infoKey{}).(*Info); ok {
		return i
	}
	return &Info{}
}

// withInfo returns r carrying an Info, its own when Observe gave it one, so
// that what the authenticator learns (the caller's tenant and key) reaches
// the layers after it, such as Idempotency.
func withInfo(r *http.Request) *http.Request {
	if _, ok := r.Context().Value(infoKey{}).(*Info); ok {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), infoKey{}, &Info{}))
}

// Observer wraps a dialect's handler with the request ID, the body limit, panic
// recovery, the access log and the metrics.
type Observer struct {
	Log     *slog.Logger
	Metrics *Metrics
	// MaxBody caps request bodies in bytes; larger ones fail with CodeTooLarge.
	MaxBody int64
}

// Wrap returns h observed as part of dialect; writeErr renders the errors the
// wrapper itself raises (a panic becomes CodeInternal, a path or query that is
// not text CheckRequestText accepts a CodeBadRequest).
func (o *Observer) Wrap(dialect string, h http.Handler, writeErr ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 128 {
			id = newRequestID()
		}
		info := &Info{RequestID: id, Dialect: dialect}
		w.Header().Set("X-Request-Id", id)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		if o.MaxBody > 0 && r.Body != nil {
			info.body, info.bodyW = r.Body, rec
			r.Body = http.MaxBytesReader(rec, r.Body, o.MaxBody)
		}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				o.Log.Error("panic serving request", "request_id", id, "panic", p, "stack", string(debug.Stack()))
				if !rec.wrote {
					writeErr(rec, r, switchboard.Errorf(switchboard.CodeInternal, "internal error"))
				}
			}
			elapsed := time.Since(start)
			route := info.Route
			if route == "" {
				route = "unmatched"
			}
			if o.Metrics != nil {
				o.Metrics.observe(dialect, route, rec.status, elapsed)
			}
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelError
			}
			o.Log.LogAttrs(r.Context(), level, "request",
				slog.String("request_id", id), slog.String("dialect", dialect),
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("route", route), slog.Int("status", rec.status),
				slog.Int64("bytes", rec.bytes), slog.Duration("duration", elapsed),
				slog.Int64("tenant_id", info.TenantID), slog.Int64("key_id", info.KeyID),
				slog.String("remote", r.RemoteAddr))
		}()
		if err := CheckRequestText(r); err != nil {
			writeErr(rec, r, err)
			return
		}
		h.ServeHTTP(rec, r)
	})
}

// raiseBodyLimit lets r's body be up to n bytes instead of Observer's limit.
// Nothing has read the body yet when a route raises it.
func raiseBodyLimit(w http.ResponseWriter, r *http.Request, n int64) {
	if info := InfoFrom(r.Context()); info.body != nil {
		r.Body = http.MaxBytesReader(info.bodyW, info.body, n)
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, n)
	}
}

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// recorder remembers the status and size of a response for the log and metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush lets streaming responses (CSV exports, SSE) through the recorder.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		r.wrote = true
		f.Flush()
	}
}

// FlushError is Flush reporting the error of a write to a client that went
// away or stopped reading; http.ResponseController.Flush prefers it, so that
// streams learn their client is gone.
func (r *recorder) FlushError() error {
	r.wrote = true
	return http.NewResponseController(r.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// SetRetryAfter sets the Retry-After header to d rounded up to whole seconds, the
// only form every HTTP client understands.
func SetRetryAfter(h http.Header, d time.Duration) {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	h.Set("Retry-After", strconv.Itoa(secs))
}
