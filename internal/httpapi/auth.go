package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"switchboard"
)

// KeyStore is what the authenticator needs from the store.
type KeyStore interface {
	AuthenticateKey(ctx context.Context, secret string) (switchboard.APIKey, error)
	Tenant(ctx context.Context, id int64) (switchboard.Tenant, error)
	TouchAPIKey(ctx context.Context, id int64, t time.Time) error
}

// Principal is the authenticated caller of a request: its key and its tenant.
type Principal struct {
	Key    switchboard.APIKey
	Tenant switchboard.Tenant
}

// Credential styles.
const (
	StyleBearer = "bearer" // Authorization: Bearer <key>
	StyleHeader = "header" // <a header a dialect registered>: <key>
	StyleBasic  = "basic"  // Authorization: Basic base64(tenant-slug:key)
)

// Credential is the secret a request presents and how it presented it.
type Credential struct {
	Style string
	// Header is the header that carried the key, for StyleHeader.
	Header string
	Secret string
	// Slug is the tenant named by HTTP Basic credentials; it must match the key's.
	Slug string
}

// ExtractCredential finds the caller's key in r: in the first of headers
// (the key headers the dialects registered) that is set, else in
// Authorization as a bearer token or HTTP Basic tenant-slug:key. Every style
// is tried on every dialect, so one key works on all of them. It fails with
// CodeUnauthorized when no credential is present or one is malformed.
func ExtractCredential(r *http.Request, headers ...string) (Credential, error) {
	for _, h := range headers {
		if v := strings.TrimSpace(r.Header.Get(h)); v != "" {
			return Credential{Style: StyleHeader, Header: h, Secret: v}, nil
		}
	}
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, rest, _ := strings.Cut(auth, " ")
	rest = strings.TrimSpace(rest)
	switch {
	case auth == "":
		return Credential{}, switchboard.Errorf(switchboard.CodeUnauthorized,
			"missing credential: send Authorization: Bearer <key>")
	case strings.EqualFold(scheme, "Bearer") && rest != "":
		return Credential{Style: StyleBearer, Secret: rest}, nil
	case strings.EqualFold(scheme, "Basic") && rest != "":
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return Credential{}, switchboard.Errorf(switchboard.CodeUnauthorized, "malformed Basic credential: not base64")
		}
		slug, key, ok := strings.Cut(string(raw), ":")
		if !ok || slug == "" || key == "" {
			return Credential{}, switchboard.Errorf(switchboard.CodeUnauthorized, "malformed Basic credential: want tenant-slug:key")
		}
		return Credential{Style: StyleBasic, Secret: key, Slug: slug}, nil
	}
	return Credential{}, switchboard.Errorf(switchboard.CodeUnauthorized, "unsupported Authorization scheme %s", switchboard.Echo(scheme))
}

// Authenticator turns credentials into principals. It caches successful lookups
// for a short time, because a database round trip per request would dominate
// the cost of simple reads; revocation through Forget takes effect at once on
// this node and within the cache lifetime on others.
type Authenticator struct {
	store KeyStore
	// headers are the key headers the dialects registered.
	headers []string
	ttl     time.Duration
	now     func() time.Time
	log     *slog.Logger

	mu      sync.Mutex
	cache   map[[32]byte]cached
	touched map[int64]time.Time
	// forgets counts calls that dropped cache entries. A lookup that read the
	// store while one happened does not cache what it read, which may predate
	// the revocation or deactivation being forgotten.
	forgets uint64
}

type cached struct {
	p       Principal
	expires time.Time
}

// touchEvery is how often a key's last-used time is written: often enough to
// tell a live integration from a dead one, rarely enough to cost nothing.
const touchEvery = time.Minute

// NewAuthenticator returns an authenticator over store whose cache entries live
// for ttl (0 disables the cache).
func NewAuthenticator(store KeyStore, ttl time.Duration, log *slog.Logger) *Authenticator {
	return &Authenticator{store: store, ttl: ttl, now: time.Now, log: log,
		cache: map[[32]byte]cached{}, touched: map[int64]time.Time{}}
}

// AcceptHeaders makes the authenticator find keys in the named request
// headers too, as dialects whose vendors send keys in a header of their own
// register them. It is called while the server is composed, before serving.
func (a *Authenticator) AcceptHeaders(names ...string) *Authenticator {
	for _, n := range names {
		if n != "" && !slices.Contains(a.headers, n) {
			a.headers = append(a.headers, n)
		}
	}
	return a
}

// Credential finds the caller's key in r, in every style the dialects
// registered (ExtractCredential).
func (a *Authenticator) Credential(r *http.Request) (Credential, error) {
	return ExtractCredential(r, a.headers...)
}

// Authenticate returns the principal behind r's credential. It reflects a
// revocation or a user's deactivation at once when this node made it (through
// Forget or ForgetUser) and within the cache lifetime otherwise, so callers
// holding a request open (event streams) may call it again to learn whether
// the credential still works.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	cred, err := a.Credential(r)
	if err != nil {
		return Principal{}, err
	}
	p, err := a.lookup(r.Context(), cred.Secret)
	if err != nil {
		return Principal{}, err
	}
	if cred.Style == StyleBasic && cred.Slug != p.Tenant.Slug {
		return Principal{}, switchboard.Errorf(switchboard.CodeUnauthorized, "invalid API key for tenant %s", switchboard.Echo(cred.Slug))
	}
	info := InfoFrom(r.Context())
	info.TenantID, info.KeyID, info.TenantVersion = p.Tenant.ID, p.Key.ID, p.Tenant.UpdatedAt.UnixMicro()
	return p, nil
}

func (a *Authenticator) lookup(ctx context.Context, secret string) (Principal, error) {
	h := sha256.Sum256([]byte(secret))
	now := a.now()
	a.mu.Lock()
	c, ok := a.cache[h]
	gen := a.forgets
	a.mu.Unlock()
	if ok && now.Before(c.expires) && c.p.Key.Usable(now) {
		a.touch(ctx, c.p.Key.ID, now)
		return c.p, nil
	}
	key, err := a.store.AuthenticateKey(ctx, secret)
	if err != nil {
		return Principal{}, err
	}
	tenant, err := a.store.Tenant(ctx, key.TenantID)
	if err != nil {
		return Principal{}, err
	}
	p := Principal{Key: key, Tenant: tenant}
	if a.ttl > 0 {
		a.mu.Lock()
		if len(a.cache) > 10000 {
			clear(a.cache) // a flood of distinct keys must not grow memory without bound
		}
		if a.forgets == gen {
			a.cache[h] = cached{p: p, expires: now.Add(a.ttl)}
		}
		a.mu.Unlock()
	}
	a.touch(ctx, key.ID, now)
	return p, nil
}

// touch records the key's use at most once per touchEvery.
func (a *Authenticator) touch(ctx context.Context, keyID int64, now time.Time) {
	a.mu.Lock()
	last, ok := a.touched[keyID]
	due := !ok || now.Sub(last) >= touchEvery
	if due {
		a.touched[keyID] = now
	}
	a.mu.Unlock()
	if !due {
		return
	}
	if err := a.store.TouchAPIKey(context.WithoutCancel(ctx), keyID, now); err != nil {
		a.log.Warn("record API key use", "key_id", keyID, "err", err)
	}
}

// Forget drops every cached principal of the key, so that a revocation or a
// change of scopes applies to the next request.
func (a *Authenticator) Forget(keyID int64) {
	a.forget(func(p Principal) bool { return p.Key.ID == keyID })
}

// ForgetTenant drops every cached principal of the tenant, so that a renamed
// slug or a changed setting applies to the next request.
func (a *Authenticator) ForgetTenant(tenantID int64) {
	a.forget(func(p Principal) bool { return p.Tenant.ID == tenantID })
}

// ForgetUser drops every cached principal of the user's keys, so that
// deactivating the user stops them on the next request.
func (a *Authenticator) ForgetUser(tenantID, userID int64) {
	a.forget(func(p Principal) bool {
		return p.Tenant.ID == tenantID && p.Key.UserID != nil && *p.Key.UserID == userID
	})
}

func (a *Authenticator) forget(match func(Principal) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.forgets++
	for h, c := range a.cache {
		if match(c.p) {
			delete(a.cache, h)
		}
	}
}

// AdminToken checks the platform operator's bearer token, compared in constant
// time. An empty configured token disables the admin API altogether.
func AdminToken(r *http.Request, token string) error {
	if token == "" {
		return switchboard.Errorf(switchboard.CodeForbidden, "the admin API is disabled: set SWITCHBOARD_ADMIN_TOKEN to enable it")
	}
	cred, err := ExtractCredential(r)
	if err != nil {
		return err
	}
	if cred.Style != StyleBearer || subtle.ConstantTimeCompare([]byte(cred.Secret), []byte(token)) != 1 {
		return switchboard.Errorf(switchboard.CodeUnauthorized, "invalid admin token")
	}
	return nil
}
