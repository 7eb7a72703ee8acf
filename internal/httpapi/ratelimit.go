package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"switchboard"
)

// RateLimiter gives every API key its own token bucket, so that one runaway
// integration cannot starve the others. It is in-process: with several nodes,
// each enforces the limit on its own share of the traffic.
type RateLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[int64]*bucket
	lastSweep time.Time

	// writes, when set, is the bucket per tenant that Admit also charges for
	// every mutating request (see WithTenantWrites).
	writes *RateLimiter
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
	// held counts the refusals AdmitWrite is holding for this key now.
	held int
}

// NewRateLimiter allows perSecond requests per key on average with bursts of
// burst. perSecond <= 0 disables limiting.
func NewRateLimiter(perSecond float64, burst int) *RateLimiter {
	if burst < 1 {
		burst = 1
	}
	return &RateLimiter{limit: rate.Limit(perSecond), burst: burst, now: time.Now, buckets: map[int64]*bucket{}}
}

// WithTenantWrites makes Admit also charge every mutating request to a bucket
// of the caller's tenant allowing perSecond writes on average with bursts of
// burst, shared by all the tenant's keys: per-key limits alone let a tenant
// with many keys take the store's one writer from every other tenant.
// perSecond <= 0 leaves tenant writes unlimited. It returns l.
func (l *RateLimiter) WithTenantWrites(perSecond float64, burst int) *RateLimiter {
	l.writes = NewRateLimiter(perSecond, burst)
	return l
}

// TenantWrites is the per-tenant write bucket set by WithTenantWrites (nil
// when none), for dialects that admit requests with their own key limits but
// must charge writes to the same tenant buckets (see AdmitWrite).
func (l *RateLimiter) TenantWrites() *RateLimiter {
	if l == nil {
		return nil
	}
	return l.writes
}

// Limit reports the configured requests per second and burst.
func (l *RateLimiter) Limit() (float64, int) { return float64(l.limit), l.burst }

// Allow spends one token of key's bucket. When the bucket is empty it reports
// how long until the next token.
func (l *RateLimiter) Allow(key int64) (ok bool, retryAfter time.Duration, remaining int) {
	if l == nil || l.limit <= 0 {
		return true, 0, -1
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, found := l.buckets[key]
	if !found {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	if b.lim.AllowN(now, 1) {
		return true, 0, int(b.lim.TokensAt(now))
	}
	r := b.lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return false, wait, 0
}

// hold records one more refusal held for key and returns how many are held
// with it, and the func that ends the hold. A bucket with refusals held is
// never swept, so the count cannot be lost.
func (l *RateLimiter) hold(key int64) (int, func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, found := l.buckets[key]
	if !found {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.held++
	b.seen = l.now()
	return b.held, func() {
		l.mu.Lock()
		b.held--
		b.seen = l.now()
		l.mu.Unlock()
	}
}

// sweep forgets buckets idle long enough to have refilled, keeping memory
// proportional to the keys in use rather than every key ever seen.
func (l *RateLimiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	full := time.Duration(float64(l.burst)/float64(l.limit)*float64(time.Second)) + time.Minute
	for k, b := range l.buckets {
		if b.held == 0 && now.Sub(b.seen) > full {
			delete(l.buckets, k)
		}
	}
}

// maxRefusalDelay is the longest AdmitWrite holds a refusal.
const maxRefusalDelay = time.Second

// Admit authenticates the caller, spends a token of its key's rate limit and
// checks scope ("" for none), in that order: an unknown caller learns nothing
// about limits, and a throttled one is not told about scopes. Every dialect
// admits its requests this way; the X-RateLimit headers are set on w.
func Admit(w http.ResponseWriter, r *http.Request, auth *Authenticator, lim *RateLimiter, scope string) (Principal, error) {
	p, err := auth.Authenticate(r)
	if err != nil {
		return p, err
	}
	ok, retry, remaining := lim.Allow(p.Key.ID)
	if perSec, burst := lim.Limit(); perSec > 0 {
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(burst))
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	}
	if !ok {
		SetRetryAfter(w.Header(), retry)
		return p, switchboard.Errorf(switchboard.CodeRateLimited, "rate limit exceeded; retry after %s", retry.Round(1e6))
	}
	if scope != "" && !p.Key.Allows(scope) {
		return p, switchboard.Errorf(switchboard.CodeForbidden, "this API key lacks the %s scope", scope)
	}
	// Tenant writes come last: a request refused for its scope writes
	// nothing, so it must not spend the tenant's write budget.
	return p, AdmitWrite(w, r, lim.TenantWrites(), p.Tenant.ID)
}

// AdmitWrite charges a mutating request (any method but GET, HEAD and
// OPTIONS) to its tenant's bucket in writes, failing with CodeRateLimited and
// a Retry-After header when the bucket is empty. A nil writes admits all.
//
// The refusal is not sent at once: a client that ignores Retry-After and
// retries in a loop would otherwise spend the server's CPU on refusals as
// fast as it can send, slowing every other tenant's requests even though
// none of its writes gets through. It is held for the token interval times
// the number of the tenant's refusals held with it (at most maxRefusalDelay):
// one early retry waits only until the next token, but 32 connections
// retrying in a loop at 50 writes a second each wait the full second, so the
// tenant's refusals cost about one per connection per second, whatever the
// rate, instead of one per connection per token interval (1,600 a second).
func AdmitWrite(w http.ResponseWriter, r *http.Request, writes *RateLimiter, tenantID int64) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	ok, retry, _ := writes.Allow(tenantID)
	if ok {
		return nil
	}
	held, release := writes.hold(tenantID)
	defer release()
	pause := time.NewTimer(refusalDelay(retry, held))
	select {
	case <-pause.C:
	case <-r.Context().Done():
		pause.Stop()
	}
	SetRetryAfter(w.Header(), retry)
	perSec, burst := writes.Limit()
	return switchboard.Errorf(switchboard.CodeRateLimited,
		"tenant write rate limit exceeded: this tenant's keys may make %g changes per second together (bursts of %d); retry after %s",
		perSec, burst, retry.Round(time.Millisecond))
}

// refusalDelay is how long a refusal is held: the time to the next token
// times the refusals held with it (held, this one included), at most
// maxRefusalDelay.
func refusalDelay(retry time.Duration, held int) time.Duration {
	if held < 1 {
		held = 1
	}
	if retry >= maxRefusalDelay/time.Duration(held) {
		return maxRefusalDelay
	}
	return retry * time.Duration(held)
}
