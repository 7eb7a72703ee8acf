package sip

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/callcenter"
)

// RegistrarOptions tune a Registrar. Zero values take the defaults named.
type RegistrarOptions struct {
	// Realm is the digest realm; switchboard.DefaultSIPRealm when empty. It
	// must be the realm the store hashes passwords in (sqlstore.Options).
	Realm string
	// Secret keys the HMAC of the nonces. Nodes that share a SIP address
	// must share it; when nil a random one is made, so nonces die with the
	// process (phones simply get a new challenge).
	Secret []byte
	// NonceTTL is how long a nonce is good for (5 min); an older one is
	// answered with a stale=true challenge.
	NonceTTL time.Duration
	// DefaultExpires is a binding's lifetime when the REGISTER names none
	// (3600 s); MinExpires is the shortest accepted, shorter ones get
	// 423 Interval Too Brief (60 s); MaxExpires caps longer ones (86400 s).
	DefaultExpires, MinExpires, MaxExpires time.Duration
	// MaxBindings bounds the contacts of one device (10); registering one
	// more drops the one closest to expiry.
	MaxBindings int
	// OfferSHA256 adds a SHA-256 challenge after the MD5 one. Off by
	// default: some phones in the field (baresip 1.0's libre among them)
	// give up on a challenge whose algorithm they lack instead of ignoring
	// it as RFC 8760 asks. The store keeps both hashes, so turning it on
	// needs no new passwords.
	OfferSHA256 bool
	// AccountTTL is how long a username's accounts, once read from the
	// store, answer later requests (1 s; negative: never cached). A new
	// password, or a deactivation, takes effect within it; in exchange a
	// burst of REGISTERs for one username (a phone's refreshes, a password
	// sweep) costs one store read a second.
	AccountTTL time.Duration
	// Bindings, when set, keeps the bindings in the store (switchboard.Store
	// does): Load reads them back at start, so phones stay reachable across
	// a restart until they expire; Run writes the changes of each second.
	Bindings BindingStore
	// Guard, when set, hears of every failed digest so that it can lock the
	// source out.
	Guard *Guard
	// Logger gets failures and warnings; nothing when nil. Passwords and
	// digest responses are never logged.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// SignedIn, when set, hears of every phone that registers while its
	// device had no binding (an agent's phone signing in), with the
	// address the REGISTER came from: the sign-ins a force logout by
	// address selects on. It runs after the 200 is sent.
	SignedIn func(acct switchboard.SIPAccount, from netip.Addr)
}

// BindingStore keeps bindings across restarts (switchboard.Store does).
type BindingStore interface {
	SaveSIPBindings(ctx context.Context, bindings map[string][]switchboard.SIPBinding) error
	SIPBindings(ctx context.Context, now time.Time) ([]switchboard.SIPBinding, error)
}

// Binding is one registered contact of a device: where to send its INVITEs.
type Binding struct {
	// Contact is the URI the phone registered.
	Contact sip.Uri
	// Source is the address the REGISTER came from and Transport its
	// transport ("UDP", "TCP", "TLS", "WS" …). Behind NAT the Contact
	// names a private address: requests go to Source (RFC 3581 rport).
	Source    netip.AddrPort
	Transport string
	// Expires is when the binding lapses unless refreshed.
	Expires   time.Time
	CallID    string
	UserAgent string
}

// RegistrarStats are the registrar's counters, for metrics.
type RegistrarStats struct {
	Registers, Challenges, AuthFailures uint64
	Devices, Bindings                   int
}

// Registrar is the registrar of agents' phones: it authenticates REGISTERs
// with digest against the store's hashes and keeps each device's bindings
// in memory until they expire. A device is an agent's phone as the driver
// names it, callcenter.DeviceName(tenant, extension).
type Registrar struct {
	accounts      Accounts
	realm         string
	nonces        nonceSigner
	counts        nonceCounts
	guard         *Guard
	log           *slog.Logger
	now           func() time.Time
	lookupTimeout time.Duration
	defExpires    time.Duration
	minExpires    time.Duration
	maxExpires    time.Duration
	maxBindings   int
	realmWarned   sync.Map // user id -> true
	algorithms    []string // offered in each challenge, in order
	cache         accountCache

	persist  BindingStore
	signedIn func(acct switchboard.SIPAccount, from netip.Addr)

	mu       sync.Mutex
	devices  map[string][]Binding
	dirty    map[string]bool        // devices whose bindings changed since the last Flush
	sources  map[netip.Addr]int     // bindings per source address
	sockets  map[netip.AddrPort]int // bindings per source address and port
	notifyMu sync.Mutex             // orders OnChange calls as the changes happened
	hooks    []func(device string, registered bool)

	stats struct{ registers, challenges, failures atomic.Uint64 }
}

// NewRegistrar returns a registrar that authenticates against accounts.
// Call Run to expire bindings.
func NewRegistrar(accounts Accounts, opt RegistrarOptions) *Registrar {
	r := &Registrar{
		accounts: accounts, realm: opt.Realm, guard: opt.Guard, log: logger(opt.Logger), now: opt.Now,
		lookupTimeout: 5 * time.Second, defExpires: opt.DefaultExpires, minExpires: opt.MinExpires,
		maxExpires: opt.MaxExpires, maxBindings: opt.MaxBindings,
		devices: map[string][]Binding{}, sources: map[netip.Addr]int{}, dirty: map[string]bool{},
		sockets: map[netip.AddrPort]int{}, persist: opt.Bindings, signedIn: opt.SignedIn,
	}
	if r.realm == "" {
		r.realm = switchboard.DefaultSIPRealm
	}
	r.algorithms = []string{"MD5"}
	if opt.OfferSHA256 {
		r.algorithms = append(r.algorithms, "SHA-256")
	}
	if r.now == nil {
		r.now = time.Now
	}
	key := opt.Secret
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	r.nonces = nonceSigner{key: key, ttl: opt.NonceTTL}
	if r.nonces.ttl <= 0 {
		r.nonces.ttl = 5 * time.Minute
	}
	r.counts = nonceCounts{seen: map[string]ncEntry{}, max: 100_000}
	r.cache = accountCache{ttl: opt.AccountTTL, max: 10_000, entries: map[string]cachedAccounts{}}
	if r.cache.ttl == 0 {
		r.cache.ttl = time.Second
	}
	if r.defExpires <= 0 {
		r.defExpires = time.Hour
	}
	if r.minExpires <= 0 {
		r.minExpires = time.Minute
	}
	if r.maxExpires <= 0 {
		r.maxExpires = 24 * time.Hour
	}
	if r.maxBindings <= 0 {
		r.maxBindings = 10
	}
	return r
}

// Realm is the digest realm the registrar challenges with.
func (r *Registrar) Realm() string { return r.realm }

// OnChange adds fn to the functions called when a device becomes
// registered (its first binding) or unregistered (its last one removed or
// expired), in the order the changes happened. fn must not block for long:
// registrations wait for it.
func (r *Registrar) OnChange(fn func(device string, registered bool)) {
	r.notifyMu.Lock()
	r.hooks = append(r.hooks, fn)
	r.notifyMu.Unlock()
}

var _ Phones = (*Registrar)(nil)

// Registered reports whether device has a binding that has not expired.
func (r *Registrar) Registered(device string) bool { return len(r.Bindings(device)) > 0 }

// Contacts implements Phones: where to send device's INVITEs, one per live
// binding, most recently registered last; every one rings when the agent
// is offered a call. A phone behind NAT registers a Contact naming its
// private address, which nobody can reach: when the REGISTER came from
// another IP address, the URI's host and port are the address it came from
// (where the NAT maps the phone's socket, RFC 3581), and its user and
// parameters are kept. From the Contact's own IP the Contact stands.
func (r *Registrar) Contacts(device string) []Contact {
	bs := r.Bindings(device)
	out := make([]Contact, 0, len(bs))
	for _, b := range bs {
		u := b.Contact
		if behindNAT(u, b.Source) {
			u.Host, u.Port = b.Source.Addr().String(), int(b.Source.Port())
		}
		out = append(out, Contact{URI: u, Transport: strings.ToLower(b.Transport)})
	}
	return out
}

// Bindings returns device's live bindings as registered, most recently
// registered last (those loaded after a restart first, in order of expiry).
func (r *Registrar) Bindings(device string) []Binding {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Binding
	for _, b := range r.devices[device] {
		if b.Expires.After(now) {
			b.Contact = *b.Contact.Clone() // the caller may change it
			out = append(out, b)
		}
	}
	return out
}

// KnownSource reports whether a registered phone sends from addr, for the
// Guard's rate limits.
func (r *Registrar) KnownSource(addr netip.Addr) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sources[addr.Unmap()] > 0
}

// IsPhone implements Phones: whether a phone registered from src (address
// and port), so that its INVITEs are taken as a phone's even when a trunk
// shares the address.
func (r *Registrar) IsPhone(src netip.AddrPort) bool {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sockets[src] > 0
}

// Stats returns the registrar's counters.
func (r *Registrar) Stats() RegistrarStats {
	s := RegistrarStats{Registers: r.stats.registers.Load(), Challenges: r.stats.challenges.Load(),
		AuthFailures: r.stats.failures.Load()}
	r.mu.Lock()
	s.Devices = len(r.devices)
	for _, bs := range r.devices {
		s.Bindings += len(bs)
	}
	r.mu.Unlock()
	return s
}

// Run expires bindings (calling the OnChange hooks), forgets spent nonce
// counts and writes the changed bindings to the BindingStore, every
// interval (1 s when 0), until ctx ends; then it writes the last changes
// (within 5 s), so a clean shutdown loses none.
func (r *Registrar) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := r.Flush(last); err != nil {
				r.log.Error("sip: save bindings at shutdown", "error", err)
			}
			return
		case <-t.C:
			r.Expire()
			if err := r.Flush(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("sip: save bindings", "error", err)
			}
		}
	}
}

// Flush writes the bindings of the devices that changed since the last
// Flush to the BindingStore, in one transaction; Run calls it every
// interval. On failure they stay to be written next time.
func (r *Registrar) Flush(ctx context.Context) error {
	if r.persist == nil {
		return nil
	}
	r.mu.Lock()
	if len(r.dirty) == 0 {
		r.mu.Unlock()
		return nil
	}
	out := make(map[string][]switchboard.SIPBinding, len(r.dirty))
	for dev := range r.dirty {
		var bs []switchboard.SIPBinding
		for _, b := range r.devices[dev] {
			bs = append(bs, switchboard.SIPBinding{Device: dev, Contact: b.Contact.String(), Source: b.Source.String(),
				Transport: b.Transport, ExpiresAt: b.Expires, CallID: b.CallID, UserAgent: b.UserAgent})
		}
		out[dev] = bs
	}
	r.dirty = map[string]bool{}
	r.mu.Unlock()
	if err := r.persist.SaveSIPBindings(ctx, out); err != nil {
		r.mu.Lock()
		for dev := range out {
			r.dirty[dev] = true
		}
		r.mu.Unlock()
		return fmt.Errorf("save SIP bindings: %w", err)
	}
	return nil
}

// Load reads the unexpired bindings the BindingStore kept (from before a
// restart) into the registrar, announcing each device registered; call it
// before serving. A binding whose contact no longer parses is skipped.
func (r *Registrar) Load(ctx context.Context) error {
	if r.persist == nil {
		return nil
	}
	now := r.now()
	stored, err := r.persist.SIPBindings(ctx, now)
	if err != nil {
		return fmt.Errorf("load SIP bindings: %w", err)
	}
	r.mu.Lock()
	var added []string
	for _, s := range stored {
		var u sip.Uri
		if err := sip.ParseUri(s.Contact, &u); err != nil {
			r.log.Warn("sip: stored binding skipped", "device", s.Device, "error", err)
			continue
		}
		src, _ := netip.ParseAddrPort(s.Source)
		if slices.ContainsFunc(r.devices[s.Device], func(b Binding) bool { return sameContact(b.Contact, u) }) {
			continue
		}
		if len(r.devices[s.Device]) == 0 {
			added = append(added, s.Device)
		}
		r.devices[s.Device] = append(r.devices[s.Device], Binding{Contact: u, Source: src, Transport: s.Transport,
			Expires: s.ExpiresAt, CallID: s.CallID, UserAgent: s.UserAgent})
		if src.IsValid() {
			r.addSourceLocked(src)
		}
	}
	r.notifyLocked(added, true)
	return nil
}

// Expire removes the bindings that have expired now; Run calls it.
func (r *Registrar) Expire() {
	now := r.now()
	r.counts.sweep(now)
	r.mu.Lock()
	var gone []string
	for dev, bs := range r.devices {
		kept := bs[:0]
		for _, b := range bs {
			if b.Expires.After(now) {
				kept = append(kept, b)
			} else {
				r.dropSourceLocked(b.Source)
			}
		}
		if len(kept) == 0 {
			delete(r.devices, dev)
			gone = append(gone, dev)
		} else {
			r.devices[dev] = kept
		}
	}
	r.notifyLocked(gone, false)
}

// Unregister removes every binding of device at once (an agent
// deactivated, a password revoked: the phone must register anew) and
// forgets the accounts cached for username, if given. It reports whether
// device had bindings.
func (r *Registrar) Unregister(device, username string) bool {
	if username != "" {
		r.cache.mu.Lock()
		delete(r.cache.entries, username)
		r.cache.mu.Unlock()
	}
	r.mu.Lock()
	bs, ok := r.devices[device]
	if !ok {
		r.mu.Unlock()
		return false
	}
	for _, b := range bs {
		r.dropSourceLocked(b.Source)
	}
	delete(r.devices, device)
	r.dirty[device] = true
	r.notifyLocked([]string{device}, false)
	return true
}

// notifyLocked releases r.mu and calls the hooks for devices, holding
// notifyMu from before the release so that no later change is announced
// before this one.
func (r *Registrar) notifyLocked(devices []string, registered bool) {
	if len(devices) == 0 {
		r.mu.Unlock()
		return
	}
	r.notifyMu.Lock()
	r.mu.Unlock()
	defer r.notifyMu.Unlock()
	for _, d := range devices {
		for _, fn := range r.hooks {
			fn(d, registered)
		}
	}
}

func (r *Registrar) dropSourceLocked(src netip.AddrPort) {
	a := src.Addr()
	if r.sources[a]--; r.sources[a] <= 0 {
		delete(r.sources, a)
	}
	if r.sockets[src]--; r.sockets[src] <= 0 {
		delete(r.sockets, src)
	}
}

func (r *Registrar) addSourceLocked(src netip.AddrPort) {
	r.sources[src.Addr()]++
	r.sockets[src]++
}

// ServeREGISTER is the sipgo handler of REGISTER: it authenticates the
// phone, then adds, refreshes or removes its bindings (RFC 3261 §10.3) and
// answers 200 with the device's current contacts. The AoR (To user) must be
// the authenticated username, and the user must have an extension.
func (r *Registrar) ServeREGISTER(req *sip.Request, tx sip.ServerTransaction) {
	r.stats.registers.Add(1)
	acct, ok := r.AuthenticateAccount(req, tx)
	if !ok {
		return
	}
	to := req.To()
	if to == nil || to.Address.User != acct.Username {
		r.respond(req, tx, sip.StatusForbidden, "To does not match the authenticated user")
		return
	}
	if acct.Extension == "" {
		r.respond(req, tx, sip.StatusForbidden, "User has no extension")
		return
	}
	device := callcenter.DeviceName(acct.TenantID, acct.Extension)
	defExpires := r.defExpires
	if h := req.GetHeader("Expires"); h != nil {
		// sipgo parses Expires only in messages it builds; on the wire it
		// stays a generic header.
		n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
		if err != nil {
			r.respond(req, tx, sip.StatusBadRequest, "Bad Expires")
			return
		}
		defExpires = time.Duration(n) * time.Second
	}
	contacts := req.GetHeaders("Contact")
	var wildcard bool
	for _, h := range contacts {
		if c, ok := h.(*sip.ContactHeader); ok && c.Address.Wildcard {
			wildcard = true
		}
	}
	if wildcard && (len(contacts) != 1 || defExpires != 0) {
		r.respond(req, tx, sip.StatusBadRequest, "Contact * needs Expires: 0 and no other contact")
		return
	}

	type change struct {
		uri     sip.Uri
		expires time.Duration
	}
	var changes []change
	for _, h := range contacts {
		c, ok := h.(*sip.ContactHeader)
		if !ok || c.Address.Wildcard {
			continue
		}
		if c.Address.Scheme != "sip" && c.Address.Scheme != "sips" {
			r.respond(req, tx, sip.StatusBadRequest, "Contact must be a sip or sips URI")
			return
		}
		exp := defExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				r.respond(req, tx, sip.StatusBadRequest, "Bad Contact expires")
				return
			}
			exp = time.Duration(n) * time.Second
		}
		if exp > 0 && exp < r.minExpires {
			res := sip.NewResponseFromRequest(req, sip.StatusIntervalToBrief, "Interval Too Brief", nil)
			res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(int(r.minExpires/time.Second))))
			if err := tx.Respond(res); err != nil {
				r.log.Debug("sip: respond 423", "error", err)
			}
			return
		}
		changes = append(changes, change{uri: *c.Address.Clone(), expires: min(exp, r.maxExpires)})
	}

	now := r.now()
	src := sourceAddr(req)
	callID := ""
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	r.mu.Lock()
	// A device's announced state is whether it has bindings in the table:
	// lapsed ones not yet swept count until this REGISTER prunes them, so
	// the hooks always see true and false alternate.
	bs := r.devices[device]
	before := len(bs) > 0
	bs = slices.DeleteFunc(bs, func(b Binding) bool {
		if wildcard || !b.Expires.After(now) {
			r.dropSourceLocked(b.Source)
			return true
		}
		return false
	})
	for _, ch := range changes {
		i := slices.IndexFunc(bs, func(b Binding) bool { return sameContact(b.Contact, ch.uri) })
		if i >= 0 {
			r.dropSourceLocked(bs[i].Source)
			bs = slices.Delete(bs, i, i+1)
		}
		if ch.expires == 0 {
			continue
		}
		if len(bs) >= r.maxBindings {
			j := 0
			for k := range bs {
				if bs[k].Expires.Before(bs[j].Expires) {
					j = k
				}
			}
			r.dropSourceLocked(bs[j].Source)
			bs = slices.Delete(bs, j, j+1)
		}
		bs = append(bs, Binding{Contact: ch.uri, Source: src, Transport: req.Transport(), Expires: now.Add(ch.expires),
			CallID: callID, UserAgent: ua})
		r.addSourceLocked(src)
	}
	if len(bs) == 0 {
		delete(r.devices, device)
	} else {
		r.devices[device] = bs
	}
	if len(changes) > 0 || wildcard {
		r.dirty[device] = true
	}
	after := len(bs) > 0

	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	for _, b := range bs {
		c := &sip.ContactHeader{Address: *b.Contact.Clone(), Params: sip.NewParams()}
		c.Params.Add("expires", strconv.Itoa(int(b.Expires.Sub(now).Round(time.Second)/time.Second)))
		res.AppendHeader(c)
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")))
	if before != after {
		r.notifyLocked([]string{device}, after)
	} else {
		r.mu.Unlock()
	}
	if err := tx.Respond(res); err != nil {
		r.log.Debug("sip: respond to REGISTER", "error", err)
	}
	if !before && after && r.signedIn != nil && src.IsValid() {
		r.signedIn(acct, src.Addr().Unmap())
	}
}

// behindNAT reports whether a Contact registered from src names another IP
// address (or a name) than src's: the phone is behind NAT.
func behindNAT(contact sip.Uri, src netip.AddrPort) bool {
	if !src.IsValid() {
		return false
	}
	host := strings.TrimSuffix(strings.TrimPrefix(contact.Host, "["), "]")
	ip, err := netip.ParseAddr(host)
	return err != nil || ip.Unmap() != src.Addr()
}

// sameContact compares two contact URIs as RFC 3261 §10.3 step 6 asks for
// binding updates, on scheme, user, host, port and transport.
func sameContact(a, b sip.Uri) bool {
	ta, _ := a.UriParams.Get("transport")
	tb, _ := b.UriParams.Get("transport")
	return a.Scheme == b.Scheme && a.User == b.User && strings.EqualFold(a.Host, b.Host) && a.Port == b.Port &&
		strings.EqualFold(ta, tb)
}
