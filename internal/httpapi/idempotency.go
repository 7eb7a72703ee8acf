package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"switchboard"
)

// IdempotencyHeader is the request header naming a retryable request, and
// ReplayedHeader the response header marking a replayed answer.
const (
	IdempotencyHeader = "Idempotency-Key"
	ReplayedHeader    = "Idempotent-Replayed"
)

// Codes of the errors Idempotency answers, the same status on every dialect.
const (
	CodeIdempotencyReused  switchboard.Code = "idempotency_key_reused"
	CodeIdempotencyRunning switchboard.Code = "idempotency_key_in_use"
)

const (
	maxIdempotencyKey = 255
	// maxStoredBody bounds the answers kept for replay; a larger one is not
	// kept and its key is released.
	maxStoredBody = 1 << 20
)

// IdempotencyStore keeps the first answer to each idempotency key.
type IdempotencyStore interface {
	// ClaimIdempotencyKey records k as being served and reports true, unless
	// the key is already held by a request (done, or still running) that is
	// not expired (created before expired) or abandoned (still running and
	// created before abandoned); then it returns that request's record and
	// false.
	ClaimIdempotencyKey(ctx context.Context, k switchboard.IdempotencyKey, now, expired, abandoned time.Time) (switchboard.IdempotentResponse, bool, error)
	// SaveIdempotentResponse stores the answer to the claimed k.
	SaveIdempotentResponse(ctx context.Context, k switchboard.IdempotencyKey, resp switchboard.IdempotentResponse) error
	// ReleaseIdempotencyKey forgets the claimed k, whose request may be tried
	// again.
	ReleaseIdempotencyKey(ctx context.Context, k switchboard.IdempotencyKey) error
	// PurgeIdempotencyKeys deletes the keys created before before.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)
}

// Idempotency answers a request carrying an Idempotency-Key once and replays
// that answer to its retries, so that a client whose connection dropped may
// retry a call, a text or a creation without doing it twice. Keys belong to
// the credential that sent them (tenant and API key), live TTL, and are kept
// in the store so that a replay survives a restart and reaches every node.
type Idempotency struct {
	Store IdempotencyStore
	// TTL is how long an answer is replayed (24 h when zero).
	TTL time.Duration
	// Abandoned is how long a request may run before its key is taken to be
	// left behind by a crash and may be claimed again (10 min when zero).
	Abandoned time.Duration
	Log       *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu        sync.Mutex
	lastPurge time.Time
}

// purgeEvery is how often expired keys are deleted, on the way of a claim.
const purgeEvery = 10 * time.Minute

// RequestHash is the hash that tells a retry (the same hash) from another
// request reusing its key.
func RequestHash(method, uri string, body []byte) string {
	h := sha256.New()
	io.WriteString(h, method+"\n"+uri+"\n")
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// ValidIdempotencyKey reports whether k is 1-255 printable ASCII characters.
func ValidIdempotencyKey(k string) bool {
	if k == "" || len(k) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

func (i *Idempotency) now() time.Time {
	if i.Now != nil {
		return i.Now()
	}
	return time.Now()
}

// serve runs next for r unless r is a retry of a request already answered or
// still running under the same key.
func (i *Idempotency) serve(w http.ResponseWriter, r *http.Request, writeErr ErrorWriter, next http.HandlerFunc) {
	values := r.Header.Values(IdempotencyHeader)
	info := InfoFrom(r.Context())
	if len(values) == 0 || info.KeyID == 0 {
		next(w, r)
		return
	}
	key := values[0]
	if len(values) > 1 || !ValidIdempotencyKey(key) {
		writeErr(w, r, &switchboard.Error{Code: switchboard.CodeBadRequest, Message: "Idempotency-Key must be one value of 1-255 printable ASCII characters",
			Fields: map[string]string{IdempotencyHeader: "must be 1-255 printable ASCII characters"}})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeErr(w, r, switchboard.Errorf(switchboard.CodeTooLarge, "request body larger than %d bytes", tooLarge.Limit))
			return
		}
		writeErr(w, r, switchboard.Errorf(switchboard.CodeBadRequest, "reading the request body: %v", err))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	k := switchboard.IdempotencyKey{TenantID: info.TenantID, APIKeyID: info.KeyID, Key: key,
		RequestHash: RequestHash(r.Method, r.URL.RequestURI(), body)}
	now := i.now()
	i.purge(r.Context(), now)
	ttl, abandoned := i.TTL, i.Abandoned
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	if abandoned <= 0 {
		abandoned = 10 * time.Minute
	}
	prev, claimed, err := i.Store.ClaimIdempotencyKey(r.Context(), k, now, now.Add(-ttl), now.Add(-abandoned))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	if !claimed {
		i.answerRetry(w, r, writeErr, prev, k)
		return
	}
	rec := &replayRecorder{ResponseWriter: w}
	saved := false
	defer func() {
		if saved {
			return
		}
		// A 5xx, a panic or an answer too large to keep: the client may try
		// again with the same key.
		if err := i.Store.ReleaseIdempotencyKey(context.WithoutCancel(r.Context()), k); err != nil {
			i.log().Error("release idempotency key", "request_id", info.RequestID, "err", err)
		}
	}()
	next(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 500 || rec.overflow {
		return
	}
	resp := switchboard.IdempotentResponse{RequestHash: k.RequestHash, Status: rec.status,
		ContentType: rec.Header().Get("Content-Type"), Body: rec.body.Bytes(), CreatedAt: now}
	if err := i.Store.SaveIdempotentResponse(context.WithoutCancel(r.Context()), k, resp); err != nil {
		i.log().Error("store idempotent answer", "request_id", info.RequestID, "err", err)
		return
	}
	saved = true
}

// answerRetry answers a request whose key is held: 409 while the first
// request runs, 422 when the key was used with another request, else the
// first answer again.
func (i *Idempotency) answerRetry(w http.ResponseWriter, r *http.Request, writeErr ErrorWriter, prev switchboard.IdempotentResponse, k switchboard.IdempotencyKey) {
	switch {
	case prev.Status == 0:
		w.Header().Set("Retry-After", "1")
		writeErr(w, r, &switchboard.Error{Code: CodeIdempotencyRunning,
			Message: "a request with this Idempotency-Key is still being served; retry when it is done"})
	case prev.RequestHash != k.RequestHash:
		writeErr(w, r, &switchboard.Error{Code: CodeIdempotencyReused,
			Message: "this Idempotency-Key was used with another request (method, path or body); send a new key for a new request",
			Fields:  map[string]string{IdempotencyHeader: "was used with another request"}})
	default:
		if prev.ContentType != "" {
			w.Header().Set("Content-Type", prev.ContentType)
		}
		w.Header().Set(ReplayedHeader, "true")
		if prev.Status != http.StatusNoContent && prev.Status != http.StatusNotModified {
			w.Header().Set("Content-Length", strconv.Itoa(len(prev.Body)))
		}
		w.WriteHeader(prev.Status)
		w.Write(prev.Body)
	}
}

// purge deletes expired keys at most every purgeEvery.
func (i *Idempotency) purge(ctx context.Context, now time.Time) {
	i.mu.Lock()
	due := now.Sub(i.lastPurge) >= purgeEvery
	if due {
		i.lastPurge = now
	}
	i.mu.Unlock()
	if !due {
		return
	}
	ttl := i.TTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	if _, err := i.Store.PurgeIdempotencyKeys(context.WithoutCancel(ctx), now.Add(-ttl)); err != nil {
		i.log().Warn("purge expired idempotency keys", "err", err)
	}
}

func (i *Idempotency) log() *slog.Logger {
	if i.Log != nil {
		return i.Log
	}
	return slog.Default()
}

// replayRecorder passes an answer through and keeps a copy to replay.
type replayRecorder struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	overflow bool
}

func (r *replayRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *replayRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if !r.overflow {
		if r.body.Len()+len(b) > maxStoredBody {
			r.overflow = true
			r.body = bytes.Buffer{}
		} else {
			r.body.Write(b)
		}
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (r *replayRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
