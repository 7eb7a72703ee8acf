package native

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"

	"switchboard"
	"switchboard/internal/httpapi"
)

// patch describes the partial update of one stored object of type T whose
// request body is In.
type patch[In, T any] struct {
	// update runs change on the object as stored, inside the transaction that
	// writes it: one of the store's Update…Func methods.
	update func(ctx context.Context, c *call, change func(*T) error) (T, error)
	// toBody renders the object as a request body, so that the request's
	// fields can be decoded over it and the fields it leaves out keep their
	// values.
	toBody func(T) In
	// apply copies the merged body into the object. Like everything in the
	// change it runs inside the store's transaction: no I/O, no store calls.
	apply func(in *In, v *T) error
	// vet, when set, checks the merged object before the transaction, for
	// checks that need I/O (the webhook policy resolves URLs) and so cannot
	// run inside it. get then reads the object for that first merge. If the
	// merge inside the transaction comes out different in what vet depends
	// on (vetKey, or every writable field as toBody renders them), someone
	// changed the object in between, and the update starts over rather than
	// store what was not vetted.
	vet func(ctx context.Context, c *call, merged T) error
	get func(ctx context.Context, c *call) (T, error)
	// vetKey, when set, is the part of the object vet depends on, so that
	// concurrent changes of other fields do not make the update start over.
	vetKey func(T) any
	// done, when set, runs after a successful update with the stored
	// object (to drop caches that hold the old one).
	done func(c *call, v T)
}

// errStale aborts an update whose vetted merge no longer matches the stored
// object; maxPatchAttempts bounds how often handlePatch starts over.
var errStale = errors.New("changed since vetted")

const maxPatchAttempts = 8

// errUnchanged aborts an update that would change nothing, so that it
// neither writes nor records an event.
var errUnchanged = errors.New("unchanged")

// handlePatch registers a partial update. The request's fields are applied to
// the object inside the store transaction that reads and writes it, so that
// concurrent PATCHes of different fields all take effect. A request with
// If-Match applies only while the object still has one of the named ETags and
// otherwise fails with 412 precondition_failed; the response carries the new
// ETag.
func handlePatch[In, T any](a *API, rt route, p patch[In, T]) {
	rt.etag = true
	e := rt.endpoint()
	e.Body, e.Result = reflect.TypeFor[In](), reflect.TypeFor[T]()
	a.table.HandleRaw(&e, func(w http.ResponseWriter, r *http.Request, c *call) {
		// The body is decoded once over a zero value to reject bad JSON,
		// unknown fields and wrong types before any lock is taken, and kept
		// to be decoded again over the stored object in the transaction.
		var raw bytes.Buffer
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(r.Body, &raw), r.Body}
		sent := new(In)
		if err := httpapi.DecodeJSON(r, sent, true); err != nil {
			a.writeError(w, r, err)
			return
		}
		ifMatch := r.Header.Get("If-Match")
		merge := func(v *T) error {
			in := p.toBody(*v)
			dec := json.NewDecoder(bytes.NewReader(raw.Bytes()))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				return switchboard.Errorf(switchboard.CodeBadRequest, "cannot read request body: %v", err)
			}
			return p.apply(&in, v)
		}
		key := func(v T) any { return p.toBody(v) }
		if p.vetKey != nil {
			key = p.vetKey
		}
		var out T
		err := errStale
		for attempt := 0; attempt < maxPatchAttempts && errors.Is(err, errStale); attempt++ {
			var vetted []byte
			if p.vet != nil {
				cur, err := p.get(r.Context(), c)
				if err != nil {
					a.writeError(w, r, err)
					return
				}
				if err := merge(&cur); err != nil {
					a.writeError(w, r, err)
					return
				}
				if err := p.vet(r.Context(), c, cur); err != nil {
					a.writeError(w, r, err)
					return
				}
				vetted, _ = json.Marshal(key(cur))
			}
			out, err = p.update(r.Context(), c, func(v *T) error {
				if ifMatch != "" {
					if cur := etagOf(*v); !etagMatches(ifMatch, cur) {
						return &switchboard.Error{Code: switchboard.CodePreconditionFailed,
							Message: "the object changed since the version named by If-Match; GET it again (its ETag is now " + cur + ") and reapply the change",
							Fields:  map[string]string{"If-Match": "does not match the current ETag"}}
					}
				}
				if err := merge(v); err != nil {
					return err
				}
				if vetted != nil {
					if now, _ := json.Marshal(key(*v)); !bytes.Equal(now, vetted) {
						return errStale
					}
				}
				return nil
			})
		}
		if errors.Is(err, errStale) {
			err = switchboard.Errorf(switchboard.CodeConflict, "the object kept changing while this update was checked; retry the request")
		}
		if err == nil && p.done != nil {
			p.done(c, out)
		}
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		a.respond(w, r, &e, out)
	})
}

// etagOf is the strong ETag of an object as the API renders it: a hash of its
// JSON form, so that it changes with any field a client can see (including
// read-only ones such as updated_at and a webhook's statistics) and never
// otherwise. Hashing the content rather than stamping a version keeps it
// correct whoever writes the row, with no column to maintain.
func etagOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// etagMatches applies If-Match's strong comparison (RFC 9110 13.1.1): "*"
// matches any current object; weak tags never match.
func etagMatches(header, etag string) bool {
	if etag == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// etagNoneMatch applies If-None-Match's weak comparison (RFC 9110 13.1.2).
func etagNoneMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return false
		}
	}
	return true
}

// markETags gives the GET of every single object an ETag: those with a PATCH,
// so that a client can read an object and then change it with If-Match, and
// the others (calls, deliveries, keys…) for If-None-Match.
func (a *API) markETags() {
	patched := map[string]bool{}
	for _, e := range a.table.Endpoints() {
		if e.Method == http.MethodPatch && e.X.etag {
			patched[e.Path] = true
		}
	}
	for _, e := range a.table.Endpoints() {
		single := strings.HasSuffix(e.Path, "}") && !e.X.Paged && !e.X.Stream && e.Result != nil
		if e.Method == http.MethodGet && (patched[e.Path] || single) {
			e.X.etag = true
		}
	}
}

// etagged is an answer whose ETag is that of the stored object inside it
// (the one a PATCH checks If-Match against), beside figures that change
// without it: a campaign with its stats. Such an answer is never a 304,
// since its ETag does not cover all of it.
type etagged interface{ etagObject() any }

// writeETag sets the ETag of out on the response and reports whether the
// request's If-None-Match already names it (a GET then answers 304).
func writeETag(w http.ResponseWriter, r *http.Request, out any) (notModified bool) {
	e, partial := out.(etagged)
	if partial {
		out = e.etagObject()
	}
	tag := etagOf(out)
	if tag == "" {
		return false
	}
	w.Header().Set("ETag", tag)
	inm := r.Header.Get("If-None-Match")
	return !partial && r.Method == http.MethodGet && inm != "" && !etagNoneMatch(inm, tag)
}

// updater adapts a store Update…Func to a route that names the object in
// {id}.
func updater[T any](upd func(ctx context.Context, tenantID, id int64, fn func(*T) error) (T, error)) func(context.Context, *call, func(*T) error) (T, error) {
	return func(ctx context.Context, c *call, change func(*T) error) (T, error) {
		id, err := c.pathID("id")
		if err != nil {
			var zero T
			return zero, err
		}
		return upd(ctx, c.tenantID(), id, change)
	}
}
