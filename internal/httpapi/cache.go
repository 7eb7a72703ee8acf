package httpapi

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// TenantHead reads a tenant's current event sequence: the number every
// committed change of the tenant's stored state advances (the store's
// EventHead).
type TenantHead func(ctx context.Context, tenantID int64) (int64, error)

// ResponseCache answers repeated reads of unchanged data from memory, and
// gives every answer of a cached route a strong ETag so that clients can
// revalidate with If-None-Match and get 304 Not Modified with no body.
//
// An entry is keyed by what the answer depends on: the dialect, the path and
// query, the caller's key (and so its scopes and user), the version of the
// tenant the authenticator rendered with, and the Accept header; it is valid
// while the tenant's event sequence is the one read before the answer was
// made. Every store write that changes what a cached route returns advances
// that sequence in the same transaction, so a request costs the key lookup
// plus one point read of the sequence, and never serves a change older than
// the read: the read happens after the request arrived, on the database
// every node writes to, so a write made by another process is seen too (an
// in-process signal would miss it).
//
// Only routes whose answer is a pure function of the tenant's stored state
// and the request opt in (Endpoint.Cache): not live views of the call
// engine, not anything computed from the clock, not rows changed without an
// event (webhook deliveries and their statistics, API keys' last use).
type ResponseCache struct {
	head TenantHead
	// gate shares concurrent reads of one tenant's sequence.
	gate headGate
	max  int64
	// vary is the Vary header of cached routes: the credential headers and
	// Accept.
	vary string

	mu      sync.Mutex
	entries map[string]*list.Element
	lru     *list.List // front: most recently used
	size    int64

	hits, misses, notModified atomic.Int64
}

// cacheEntry is one stored answer.
type cacheEntry struct {
	key    string
	seq    int64
	status int
	header http.Header
	etag   string
	body   []byte
}

func (e *cacheEntry) cost() int64 { return int64(len(e.key)+len(e.body)+len(e.etag)) + 256 }

// NewResponseCache returns a cache holding at most maxBytes of answers,
// validated by head. maxBytes <= 0 returns nil, which caches nothing: tables
// with a nil cache serve every request afresh.
func NewResponseCache(head TenantHead, maxBytes int64) *ResponseCache {
	if maxBytes <= 0 || head == nil {
		return nil
	}
	return &ResponseCache{head: head, max: maxBytes, vary: "Authorization, Accept",
		entries: map[string]*list.Element{}, lru: list.New()}
}

// VaryOn names, in the Vary header of cached answers, the request headers
// that carry keys besides Authorization (the dialects' KeyHeaders): answers
// differ by caller. It is called while the server is composed.
func (c *ResponseCache) VaryOn(keyHeaders ...string) {
	if c == nil {
		return
	}
	vary := append([]string{"Authorization"}, keyHeaders...)
	c.vary = strings.Join(append(vary, "Accept"), ", ")
}

// CacheStats counts what the cache did.
type CacheStats struct {
	// Hits are answers served from memory (NotModified of them as 304),
	// Misses answers that had to be made.
	Hits, Misses, NotModified int64
	// Entries and Bytes are what the cache holds now.
	Entries int
	Bytes   int64
}

// Stats reports the cache's counters.
func (c *ResponseCache) Stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	n, size := len(c.entries), c.size
	c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), NotModified: c.notModified.Load(), Entries: n, Bytes: size}
}

// serve answers a GET of a cached route: from memory when the tenant's
// sequence has not moved since the stored answer was made, else through
// next, whose answer it stores. It runs after admission, so a revoked key or
// a missing scope is refused before any stored answer is looked at.
//
// epoch, when set, is the clock as far as the dialect renders it into every
// answer (Voice360 stamps its envelope with the second): an answer is kept
// only for the epoch it was made in, and only when rendering did not cross
// into the next one.
func (c *ResponseCache) serve(w http.ResponseWriter, r *http.Request, epoch func() int64, next func(http.ResponseWriter, *http.Request)) {
	info := InfoFrom(r.Context())
	if c == nil || r.Method != http.MethodGet || info.TenantID == 0 || info.KeyID == 0 {
		next(w, r)
		return
	}
	var at int64
	if epoch != nil {
		at = epoch()
	}
	key := c.key(r, info, at)
	if len(key) > maxCacheKey {
		next(w, r) // an odd request (a huge query or Accept) is not worth memory
		return
	}
	// The sequence is read before the answer is made: a write committing
	// after this read makes the sequence move, so the stored answer (which
	// may or may not show that write) is never taken for the newer state.
	seq, err := c.gate.head(r.Context(), info.TenantID, c.head)
	if err != nil {
		next(w, r)
		return
	}
	if e := c.get(key, seq); e != nil {
		c.hits.Add(1)
		c.write(w, r, e)
		return
	}
	c.misses.Add(1)
	e := c.make(r, next)
	e.key, e.seq = key, seq
	if e.status == http.StatusOK && (epoch == nil || epoch() == at) {
		c.put(e)
	}
	c.write(w, r, e)
}

// maxCacheKey bounds the key of a cached answer, in bytes.
const maxCacheKey = 2048

// key is what an answer depends on besides the tenant's stored state.
func (c *ResponseCache) key(r *http.Request, info *Info, epoch int64) string {
	var b strings.Builder
	b.Grow(len(info.Dialect) + len(r.URL.Path) + len(r.URL.RawQuery) + 64)
	b.WriteString(info.Dialect)
	b.WriteByte(0)
	b.WriteString(r.URL.Path)
	b.WriteByte('?')
	b.WriteString(r.URL.RawQuery)
	b.WriteByte(0)
	b.WriteString(strconv.FormatInt(info.TenantID, 10))
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(info.TenantVersion, 10))
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(info.KeyID, 10))
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(epoch, 10))
	b.WriteByte(0)
	for _, a := range r.Header.Values("Accept") {
		b.WriteString(a)
		b.WriteByte(',')
	}
	return b.String()
}

func (c *ResponseCache) get(key string, seq int64) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil
	}
	e := el.Value.(*cacheEntry)
	switch {
	case e.seq < seq:
		// The tenant changed since: the entry can never be valid again
		// (sequences only rise).
		c.remove(el)
		return nil
	case e.seq > seq:
		return nil // made after a write this request's read predates
	}
	c.lru.MoveToFront(el)
	return e
}

func (c *ResponseCache) put(e *cacheEntry) {
	cost := e.cost()
	if cost > c.max/8 {
		return // one huge answer must not flush everything else
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok {
		if el.Value.(*cacheEntry).seq > e.seq {
			return // a newer answer is stored already
		}
		c.remove(el)
	}
	c.entries[e.key] = c.lru.PushFront(e)
	c.size += cost
	for c.size > c.max {
		c.remove(c.lru.Back())
	}
}

func (c *ResponseCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.entries, e.key)
	c.size -= e.cost()
}

// make runs next into memory. The handler sees no If-None-Match, so that it
// renders the whole answer for the cache, which then answers the condition
// itself.
func (c *ResponseCache) make(r *http.Request, next func(http.ResponseWriter, *http.Request)) *cacheEntry {
	if r.Header.Get("If-None-Match") != "" {
		r = r.Clone(r.Context())
		r.Header.Del("If-None-Match")
	}
	cw := &captureWriter{header: http.Header{}}
	next(cw, r)
	e := &cacheEntry{status: cw.status, header: cw.header, body: cw.body.Bytes()}
	if e.status == 0 {
		e.status = http.StatusOK
	}
	if e.status == http.StatusOK {
		e.etag = e.header.Get("ETag")
		if e.etag == "" {
			sum := sha256.Sum256(e.body)
			e.etag = `"` + hex.EncodeToString(sum[:16]) + `"`
		}
		e.header.Del("ETag")
	}
	return e
}

// write sends e: 304 with no body when If-None-Match names its ETag.
func (c *ResponseCache) write(w http.ResponseWriter, r *http.Request, e *cacheEntry) {
	h := w.Header()
	for k, v := range e.header {
		h[k] = append([]string(nil), v...) // later layers may append to it
	}
	if e.status != http.StatusOK {
		w.WriteHeader(e.status)
		w.Write(e.body)
		return
	}
	h.Set("ETag", e.etag)
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Vary", c.vary)
	if inm := r.Header.Get("If-None-Match"); inm != "" && NoneMatch(inm, e.etag) {
		c.notModified.Add(1)
		h.Del("Content-Type")
		h.Del("Content-Length")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(http.StatusOK)
	w.Write(e.body)
}

// NoneMatch reports whether the If-None-Match header value names etag, by
// the weak comparison RFC 9110 13.1.2 prescribes for it ("*" names any).
func NoneMatch(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// captureWriter is a ResponseWriter into memory.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *captureWriter) Header() http.Header { return w.header }

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
