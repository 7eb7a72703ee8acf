package sip

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"switchboard"
	"switchboard/internal/callcenter"
)

// Accounts finds the SIP accounts of a username across tenants
// (switchboard.Store does).
type Accounts interface {
	SIPAccounts(ctx context.Context, username string) ([]switchboard.SIPAccount, error)
}

// nonceSigner makes and checks stateless digest nonces: a nonce carries the
// time it was issued and an HMAC over it, so any node holding the secret can
// check one without remembering it, and an old one is recognised as stale
// rather than forged.
type nonceSigner struct {
	key []byte
	ttl time.Duration
}

const (
	nonceRandom = 8
	nonceMAC    = 16
	nonceLen    = 8 + nonceRandom + nonceMAC
)

// errStaleNonce is a nonce this server issued that has expired: the client
// only needs to retry with a fresh one (stale=true), nothing is wrong.
var errStaleNonce = errors.New("stale nonce")

func (s *nonceSigner) issue(now time.Time) string {
	var b [nonceLen]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	rand.Read(b[8 : 8+nonceRandom])
	copy(b[8+nonceRandom:], s.mac(b[:8+nonceRandom]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// check reports whether nonce is one of ours (nil), one of ours that
// expired (errStaleNonce), or not ours at all.
func (s *nonceSigner) check(nonce string, now time.Time) error {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != nonceLen {
		return errors.New("malformed nonce")
	}
	if !hmac.Equal(b[8+nonceRandom:], s.mac(b[:8+nonceRandom])) {
		return errors.New("forged nonce")
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	if age := now.Sub(issued); age > s.ttl || age < -time.Minute {
		return errStaleNonce
	}
	return nil
}

func (s *nonceSigner) mac(b []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write(b)
	return h.Sum(nil)[:nonceMAC]
}

// nonceCounts remembers the highest nonce count (nc) seen per nonce while
// the nonce lives, so that a captured qop=auth response cannot be replayed.
type nonceCounts struct {
	mu   sync.Mutex
	seen map[string]ncEntry
	max  int
}

type ncEntry struct {
	nc      int
	expires time.Time
}

// advance records nc for nonce and reports whether it is higher than any
// seen before. When the table is full, expired entries are dropped; if none
// expired, the nonce is refused (the client is challenged again), which
// bounds memory under a flood of valid nonces.
func (c *nonceCounts) advance(nonce string, nc int, expires, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.seen[nonce]
	if ok && nc <= e.nc {
		return false
	}
	if !ok && len(c.seen) >= c.max {
		c.sweepLocked(now)
		if len(c.seen) >= c.max {
			return false
		}
	}
	c.seen[nonce] = ncEntry{nc: nc, expires: expires}
	return true
}

func (c *nonceCounts) sweep(now time.Time) {
	c.mu.Lock()
	c.sweepLocked(now)
	c.mu.Unlock()
}

func (c *nonceCounts) sweepLocked(now time.Time) {
	for k, e := range c.seen {
		if now.After(e.expires) {
			delete(c.seen, k)
		}
	}
}

// authHeaders names the challenge and credentials headers and the status of
// a challenge: a registrar (REGISTER) answers 401 with WWW-Authenticate, a
// proxy (everything else: INVITE, REFER …) 407 with Proxy-Authenticate.
func authHeaders(method sip.RequestMethod) (status int, reason, challenge, credentials string) {
	if method == sip.REGISTER {
		return sip.StatusUnauthorized, "Unauthorized", "WWW-Authenticate", "Authorization"
	}
	return sip.StatusProxyAuthRequired, "Proxy Authentication Required", "Proxy-Authenticate", "Proxy-Authorization"
}

// Authenticate implements Phones: it authenticates a request from a phone
// (an INVITE, a REFER) as AuthenticateAccount does and names the caller's
// device. A user without an extension has no device and may not call (403).
func (r *Registrar) Authenticate(req *sip.Request, tx sip.ServerTransaction) (Caller, bool) {
	a, ok := r.AuthenticateAccount(req, tx)
	if !ok {
		return Caller{}, false
	}
	if a.Extension == "" {
		r.respond(req, tx, sip.StatusForbidden, "User has no extension")
		return Caller{}, false
	}
	return Caller{TenantID: a.TenantID, Device: callcenter.DeviceName(a.TenantID, a.Extension)}, true
}

// AuthenticateAccount checks the digest credentials of req, a request from
// a phone (INVITE, REFER, REGISTER …), and returns the account they prove.
// When they prove none it has answered req itself, so the caller just
// returns: a challenge (401 for REGISTER, 407 otherwise) when there are no
// credentials or the nonce is stale, 403 when they are wrong, 400 when
// unreadable. Wrong credentials count against the source in the Guard.
//
// The tenant is the one whose slug the host of To (REGISTER) or From (any
// other request) names, as slug or slug.<domain>; otherwise every tenant
// with the username is tried and the one whose password produced the
// response wins.
func (r *Registrar) AuthenticateAccount(req *sip.Request, tx sip.ServerTransaction) (switchboard.SIPAccount, bool) {
	status, reason, chalHeader, credHeader := authHeaders(req.Method)
	h := req.GetHeader(credHeader)
	if h == nil {
		r.challenge(req, tx, status, reason, chalHeader, false)
		return switchboard.SIPAccount{}, false
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Username == "" || cred.Response == "" {
		r.respond(req, tx, sip.StatusBadRequest, "Malformed "+credHeader)
		return switchboard.SIPAccount{}, false
	}
	now := r.now()
	if cred.Realm != r.realm {
		// Credentials for another realm (a phone configured for an old
		// one): challenge for ours.
		r.challenge(req, tx, status, reason, chalHeader, false)
		return switchboard.SIPAccount{}, false
	}
	switch err := r.nonces.check(cred.Nonce, now); {
	case errors.Is(err, errStaleNonce):
		r.challenge(req, tx, status, reason, chalHeader, true)
		return switchboard.SIPAccount{}, false
	case err != nil:
		r.fail(req, tx, cred.Username, "nonce: "+err.Error())
		return switchboard.SIPAccount{}, false
	}
	alg := strings.ToUpper(cred.Algorithm)
	if alg != "" && alg != "MD5" && alg != "SHA-256" {
		r.challenge(req, tx, status, reason, chalHeader, false)
		return switchboard.SIPAccount{}, false
	}
	if cred.QOP != "" && (cred.QOP != "auth" || cred.Cnonce == "" || cred.Nc <= 0) {
		r.respond(req, tx, sip.StatusBadRequest, "Unsupported qop")
		return switchboard.SIPAccount{}, false
	}

	accounts, err := r.lookup(cred.Username, now)
	if err != nil {
		r.log.Error("sip: look up account", "username", cred.Username, "error", err)
		r.respond(req, tx, sip.StatusServiceUnavailable, "Service Unavailable")
		return switchboard.SIPAccount{}, false
	}
	host := ""
	if req.Method == sip.REGISTER {
		if to := req.To(); to != nil {
			host = to.Address.Host
		}
	} else if from := req.From(); from != nil {
		host = from.Address.Host
	}
	accounts = narrowByHost(accounts, host)

	chal := digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, Opaque: cred.Opaque}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	for _, a := range accounts {
		if a.Realm != r.realm {
			r.staleRealm(a)
			continue
		}
		a1 := a.HA1
		if alg == "SHA-256" {
			a1 = a.HA1SHA256
		}
		if a1 == "" {
			continue
		}
		want, err := digest.Digest(&chal, digest.Options{Method: string(req.Method), URI: cred.URI,
			Username: cred.Username, A1: a1, Cnonce: cred.Cnonce, Count: cred.Nc})
		if err != nil || subtle.ConstantTimeCompare([]byte(want.Response), []byte(strings.ToLower(cred.Response))) != 1 {
			continue
		}
		// The response is right; a replayed nonce count is not.
		if cred.QOP != "" && !r.counts.advance(cred.Nonce, cred.Nc, now.Add(r.nonces.ttl), now) {
			r.challenge(req, tx, status, reason, chalHeader, true)
			return switchboard.SIPAccount{}, false
		}
		return a, true
	}
	r.fail(req, tx, cred.Username, "wrong credentials")
	return switchboard.SIPAccount{}, false
}

// accountCache keeps the accounts of recently seen usernames for a short
// while (RegistrarOptions.AccountTTL), unknown ones included.
type accountCache struct {
	ttl     time.Duration
	max     int
	mu      sync.Mutex
	entries map[string]cachedAccounts
}

type cachedAccounts struct {
	accounts []switchboard.SIPAccount
	expires  time.Time
}

// lookup returns username's accounts from the cache or the store.
func (r *Registrar) lookup(username string, now time.Time) ([]switchboard.SIPAccount, error) {
	c := &r.cache
	if c.ttl > 0 {
		c.mu.Lock()
		e, ok := c.entries[username]
		c.mu.Unlock()
		if ok && now.Before(e.expires) {
			return e.accounts, nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.lookupTimeout)
	defer cancel()
	accounts, err := r.accounts.SIPAccounts(ctx, username)
	if err != nil || c.ttl <= 0 {
		return accounts, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
	}
	if len(c.entries) < c.max {
		c.entries[username] = cachedAccounts{accounts: accounts, expires: now.Add(c.ttl)}
	}
	return accounts, nil
}

// narrowByHost keeps the account of the tenant host names (its slug, or
// slug.<anything>) when there is one; otherwise all of them.
func narrowByHost(accounts []switchboard.SIPAccount, host string) []switchboard.SIPAccount {
	if len(accounts) < 2 || host == "" {
		return accounts
	}
	host = strings.ToLower(host)
	for _, a := range accounts {
		if host == a.TenantSlug || strings.HasPrefix(host, a.TenantSlug+".") {
			return []switchboard.SIPAccount{a}
		}
	}
	return accounts
}

// challenge answers req with a digest challenge for each algorithm offered:
// MD5 first, which every phone (and sipp) reads, then SHA-256 when
// RegistrarOptions.OfferSHA256 is set (RFC 8760 lets a client pick any it
// supports).
func (r *Registrar) challenge(req *sip.Request, tx sip.ServerTransaction, status int, reason, header string, stale bool) {
	nonce := r.nonces.issue(r.now())
	res := sip.NewResponseFromRequest(req, status, reason, nil)
	for _, alg := range r.algorithms {
		c := digest.Challenge{Realm: r.realm, Nonce: nonce, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		res.AppendHeader(sip.NewHeader(header, c.String()))
	}
	if err := tx.Respond(res); err != nil {
		r.log.Debug("sip: send challenge", "error", err)
	}
	r.stats.challenges.Add(1)
}

// fail answers 403 to credentials that prove nothing and counts the failure
// against the source. The username is logged, never the response.
func (r *Registrar) fail(req *sip.Request, tx sip.ServerTransaction, username, why string) {
	src := sourceAddr(req)
	r.stats.failures.Add(1)
	if r.guard != nil {
		r.guard.AuthFailed(src.Addr())
	}
	r.log.Info("sip: authentication failed", "method", req.Method, "source", src, "username", username, "reason", why)
	r.respond(req, tx, sip.StatusForbidden, "Forbidden")
}

func (r *Registrar) respond(req *sip.Request, tx sip.ServerTransaction, status int, reason string) {
	if err := tx.Respond(sip.NewResponseFromRequest(req, status, reason, nil)); err != nil {
		r.log.Debug("sip: respond", "status", status, "error", err)
	}
}

// staleRealm warns, once per user, about a password hashed in another realm
// (--sip-realm changed since it was set): only a new password fixes it.
func (r *Registrar) staleRealm(a switchboard.SIPAccount) {
	if _, warned := r.realmWarned.LoadOrStore(a.UserID, true); !warned {
		r.log.Warn("sip: password hashed for another realm; set a new sip_password", "tenant_id", a.TenantID,
			"user_id", a.UserID, "stored_realm", a.Realm, "realm", r.realm)
	}
}

// sourceAddr is where req came from: the connection's remote address, which
// for UDP behind NAT is the mapped address a reply must go to.
func sourceAddr(req *sip.Request) netip.AddrPort {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// logger returns l, or a logger that discards when l is nil.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
