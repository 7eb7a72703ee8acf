package sip

import (
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// DefaultScannerAgents are User-Agent fragments of the SIP scanners that
// probe every public address for open relays and weak passwords.
var DefaultScannerAgents = []string{"friendly-scanner", "sipvicious", "sip-scan", "sipscan", "sipcli",
	"vaxsipuseragent", "sundayddr", "iwar", "pplsip", "smap ", "sipsak-scanner"}

// GuardOptions tune a Guard. Zero values take the defaults named.
type GuardOptions struct {
	// Known reports whether a source is a registered phone or a trunk's
	// address; requests from unknown sources are rate-limited. Nil: every
	// source is unknown.
	Known func(netip.Addr) bool
	// Trusted are networks the guard never locks out or rate-limits (the
	// operator's own: an office NAT full of phones, a test host); their
	// requests are still validated and their failures counted.
	Trusted []netip.Prefix
	// MaxFailures failed digests from one address within FailureWindow
	// (10 in 60 s) lock it out for Lockout (5 min): its requests are then
	// dropped without an answer.
	MaxFailures   int
	FailureWindow time.Duration
	Lockout       time.Duration
	// UnknownRate and UnknownBurst bound the requests per second of one
	// unknown source (20/s, burst 40): enough for phones to register, too
	// few for a password sweep.
	UnknownRate  float64
	UnknownBurst float64
	// ScannerRate and ScannerBurst bound a source whose User-Agent names a
	// scanner (0.1/s, burst 2); ScannerAgents lists the fragments matched,
	// case-insensitively (DefaultScannerAgents when nil).
	ScannerRate   float64
	ScannerBurst  float64
	ScannerAgents []string
	// MaxSources bounds the addresses tracked (100,000); beyond it, new
	// unknown sources share one bucket.
	MaxSources int
	// Logger gets lockouts; nothing when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// GuardStats are the guard's counters, for metrics: requests refused as
// malformed, dropped from scanners, dropped by the unknown-source rate
// limit, dropped while their source was locked out; lockouts begun; failed
// digests reported.
type GuardStats struct {
	Invalid, Scanners, RateLimited, LockedOut, Lockouts, AuthFailures uint64
}

// Guard screens every request before the handlers see it: malformed
// requests get 400 (or are dropped when they cannot be answered), sources
// with too many failed digests are locked out, scanners and unknown sources
// are rate-limited. Use Middleware with diago.WithServerRequestMiddleware,
// or Wrap around each sipgo handler.
type Guard struct {
	opt GuardOptions
	log *slog.Logger

	mu       sync.Mutex
	sources  map[netip.Addr]*source
	overflow bucket

	invalid, scanners, limited, lockedOut, lockouts, failures atomic.Uint64
}

// source is what the guard remembers of one address.
type source struct {
	failures    []time.Time // within the window, oldest first
	lockedUntil time.Time
	unknown     bucket
	scanner     bucket
	seen        time.Time
}

// bucket is a token bucket; a zero bucket is full.
type bucket struct {
	tokens float64
	at     time.Time
}

func (b *bucket) take(now time.Time, rate, burst float64) bool {
	if b.at.IsZero() {
		b.tokens, b.at = burst, now
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// NewGuard returns a guard with opt's limits.
func NewGuard(opt GuardOptions) *Guard {
	if opt.MaxFailures <= 0 {
		opt.MaxFailures = 10
	}
	if opt.FailureWindow <= 0 {
		opt.FailureWindow = time.Minute
	}
	if opt.Lockout <= 0 {
		opt.Lockout = 5 * time.Minute
	}
	if opt.UnknownRate <= 0 {
		opt.UnknownRate = 20
	}
	if opt.UnknownBurst <= 0 {
		opt.UnknownBurst = 40
	}
	if opt.ScannerRate <= 0 {
		opt.ScannerRate = 0.1
	}
	if opt.ScannerBurst <= 0 {
		opt.ScannerBurst = 2
	}
	if opt.ScannerAgents == nil {
		opt.ScannerAgents = DefaultScannerAgents
	}
	if opt.MaxSources <= 0 {
		opt.MaxSources = 100_000
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Guard{opt: opt, log: logger(opt.Logger), sources: map[netip.Addr]*source{}}
}

// Middleware screens requests before next: the form diago's
// WithServerRequestMiddleware takes.
func (g *Guard) Middleware(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if g.Admit(req, tx) {
			next(req, tx)
		}
	}
}

// Admit screens req and reports whether its handler should run; when not,
// it has answered req (400, 483, 416) or chosen silence.
func (g *Guard) Admit(req *sip.Request, tx sip.ServerTransaction) bool {
	if status, reason, err := ValidateRequest(req); err != nil {
		g.invalid.Add(1)
		if !req.IsAck() && tx != nil {
			res := sip.NewResponseFromRequest(req, status, reason, nil)
			if err := tx.Respond(res); err != nil {
				g.log.Debug("sip: answer malformed request", "error", err)
			}
		}
		return false
	}
	addr := sourceAddr(req).Addr()
	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = strings.ToLower(h.Value())
	}
	scanner := false
	for _, s := range g.opt.ScannerAgents {
		if strings.Contains(ua, s) {
			scanner = true
			break
		}
	}
	if g.trusted(addr) {
		return true
	}
	known := !scanner && g.opt.Known != nil && g.opt.Known(addr)
	now := g.opt.Now()

	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sources[addr]
	if s != nil && now.Before(s.lockedUntil) {
		g.lockedOut.Add(1)
		return false
	}
	if known {
		return true
	}
	if s == nil {
		s = g.track(addr, now)
	}
	if s == nil {
		if !g.overflow.take(now, g.opt.UnknownRate, g.opt.UnknownBurst) {
			g.limited.Add(1)
			return false
		}
		return true
	}
	s.seen = now
	if scanner {
		if !s.scanner.take(now, g.opt.ScannerRate, g.opt.ScannerBurst) {
			g.scanners.Add(1)
			return false
		}
		return true
	}
	if !s.unknown.take(now, g.opt.UnknownRate, g.opt.UnknownBurst) {
		g.limited.Add(1)
		return false
	}
	return true
}

func (g *Guard) trusted(addr netip.Addr) bool {
	for _, p := range g.opt.Trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// track starts remembering addr, forgetting idle sources when the table is
// full; nil when it stays full. g.mu is held.
func (g *Guard) track(addr netip.Addr, now time.Time) *source {
	if len(g.sources) >= g.opt.MaxSources {
		idle := max(g.opt.FailureWindow, time.Minute)
		for a, s := range g.sources {
			if now.After(s.lockedUntil) && now.Sub(s.seen) > idle {
				delete(g.sources, a)
			}
		}
		if len(g.sources) >= g.opt.MaxSources {
			return nil
		}
	}
	s := &source{seen: now}
	g.sources[addr] = s
	return s
}

// AuthFailed counts a failed digest from addr and locks it out when it
// reaches MaxFailures within FailureWindow. The Registrar calls it.
func (g *Guard) AuthFailed(addr netip.Addr) {
	g.failures.Add(1)
	if g.trusted(addr) {
		return
	}
	now := g.opt.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sources[addr]
	if s == nil {
		if s = g.track(addr, now); s == nil {
			return
		}
	}
	s.seen = now
	cut := 0
	for cut < len(s.failures) && now.Sub(s.failures[cut]) > g.opt.FailureWindow {
		cut++
	}
	s.failures = append(s.failures[cut:], now)
	if len(s.failures) >= g.opt.MaxFailures {
		s.failures = s.failures[:0]
		s.lockedUntil = now.Add(g.opt.Lockout)
		g.lockouts.Add(1)
		g.log.Warn("sip: source locked out after failed authentications", "source", addr,
			"failures", g.opt.MaxFailures, "window", g.opt.FailureWindow, "until", s.lockedUntil)
	}
}

// Locked reports whether addr is locked out now.
func (g *Guard) Locked(addr netip.Addr) bool {
	now := g.opt.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sources[addr]
	return s != nil && now.Before(s.lockedUntil)
}

// Stats returns the guard's counters.
func (g *Guard) Stats() GuardStats {
	return GuardStats{Invalid: g.invalid.Load(), Scanners: g.scanners.Load(), RateLimited: g.limited.Load(),
		LockedOut: g.lockedOut.Load(), Lockouts: g.lockouts.Load(), AuthFailures: g.failures.Load()}
}

// maxHeaders bounds the header fields of one request: no legitimate
// request comes near it, and each costs parsing and memory.
const maxHeaders = 100

// ValidateRequest checks what sipgo's parser and transaction layer leave
// to the application (sipgo v1.7.3 has no sip.ValidateRequest of its own):
// the mandatory headers of RFC 3261 §8.1.1, a From tag, a CSeq naming the
// request's method, a SIP or tel Request-URI, Max-Forwards not spent, a
// bounded number of headers, and no control characters in any header or
// URI (CRLF smuggled into a value we copy into another message). The parser
// already sizes the body by Content-Length.
// It returns the status and reason to answer with when req is invalid.
func ValidateRequest(req *sip.Request) (status int, reason string, err error) {
	bad := func(msg string) (int, string, error) {
		return sip.StatusBadRequest, "Bad Request (" + msg + ")", errors.New(msg)
	}
	switch req.Recipient.Scheme {
	case "sip", "sips", "tel":
	default:
		return sip.StatusRequestedRangeNotSatisfiable, "Unsupported URI Scheme", errors.New("unsupported URI scheme")
	}
	if req.Via() == nil || req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil {
		return bad("missing Via, From, To, Call-ID or CSeq")
	}
	if tag, ok := req.From().Params.Get("tag"); !ok || tag == "" {
		return bad("From has no tag")
	}
	if cseq := req.CSeq(); cseq.MethodName != req.Method || cseq.SeqNo >= 1<<31 {
		return bad("CSeq does not match the request")
	}
	if req.CallID().Value() == "" {
		return bad("empty Call-ID")
	}
	if mf := req.MaxForwards(); mf != nil && *mf == 0 && req.Method != sip.OPTIONS {
		return sip.StatusTooManyHops, "Too Many Hops", errors.New("max-forwards is 0")
	}
	if hs := req.Headers(); len(hs) > maxHeaders {
		return bad("too many headers")
	}
	if uriHasControl(&req.Recipient) {
		return bad("control character in Request-URI")
	}
	for _, h := range req.Headers() {
		if headerHasControl(h) {
			return bad("control character in " + h.Name())
		}
	}
	return 0, "", nil
}

// headerHasControl looks for control characters in the strings of h. The
// headers sipgo parses into types are checked field by field: their Value
// would print them anew, which cost the guard most of its time.
func headerHasControl(h sip.Header) bool {
	switch h := h.(type) {
	case *sip.FromHeader:
		return hasControl(h.DisplayName) || uriHasControl(&h.Address) || paramsHaveControl(h.Params)
	case *sip.ToHeader:
		return hasControl(h.DisplayName) || uriHasControl(&h.Address) || paramsHaveControl(h.Params)
	case *sip.ContactHeader:
		return hasControl(h.DisplayName) || uriHasControl(&h.Address) || paramsHaveControl(h.Params)
	case *sip.ViaHeader:
		return hasControl(h.ProtocolName) || hasControl(h.ProtocolVersion) || hasControl(h.Transport) ||
			hasControl(h.Host) || paramsHaveControl(h.Params)
	case *sip.CallIDHeader:
		return hasControl(string(*h))
	case *sip.CSeqHeader:
		return hasControl(string(h.MethodName))
	case *sip.ContentTypeHeader:
		return hasControl(string(*h))
	case *sip.MaxForwardsHeader, *sip.ExpiresHeader, *sip.ContentLengthHeader:
		return false
	case *sip.RouteHeader:
		return uriHasControl(&h.Address)
	case *sip.RecordRouteHeader:
		return uriHasControl(&h.Address)
	case *sip.ReferToHeader:
		return uriHasControl(&h.Address)
	case *sip.ReferredByHeader:
		return uriHasControl(&h.Address)
	}
	return hasControl(h.Name()) || hasControl(h.Value())
}

func uriHasControl(u *sip.Uri) bool {
	return hasControl(u.Scheme) || hasControl(u.User) || hasControl(u.Password) || hasControl(u.Host) ||
		hasControl(u.Raw()) || paramsHaveControl(u.UriParams) || paramsHaveControl(u.Headers)
}

func paramsHaveControl(ps sip.HeaderParams) bool {
	for _, p := range ps {
		if hasControl(p.K) || hasControl(p.V) {
			return true
		}
	}
	return false
}

// hasControl reports whether s holds an ASCII control character other than
// horizontal tab.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}
