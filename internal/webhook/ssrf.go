package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"switchboard"
)

// blocked lists the address ranges a webhook may not reach unless an operator
// allows them: everything that is not the public Internet (the IANA
// special-purpose registries, site-local and documentation ranges included).
// Addresses are normalised before the check: IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d) are unmapped, so they meet the IPv4 ranges; the
// IPv4-compatible (::/96), IPv4-translated, NAT64 and 6to4 prefixes, which
// embed an IPv4 address the check would otherwise not see, are refused whole.
var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
		"::/128", "::1/128", "::/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
		"2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20", "5f00::/16",
		"fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Guard decides which addresses webhook deliveries may connect to. It is
// checked when a subscription is saved (CheckURL) and again at dial time, on
// the address actually being dialled after DNS resolution, so DNS rebinding
// cannot route around it; redirects are never followed.
type Guard struct {
	allow []netip.Prefix
}

// NewGuard returns a guard that refuses non-public addresses except those in
// allow (for on-premises receivers, and loopback in tests and the demo). An
// allowed range written as IPv4-mapped IPv6 (::ffff:10.0.0.0/104) is taken as
// the IPv4 range it maps, since addresses are unmapped before they are
// compared.
func NewGuard(allow []netip.Prefix) *Guard {
	g := &Guard{}
	for _, p := range allow {
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		g.allow = append(g.allow, p.Masked())
	}
	return g
}

// Check returns an error when ip may not be dialled. An address with an IPv6
// zone (fe80::1%eth0) is refused whatever the allowed ranges say: a zone
// selects a local interface, which no public receiver needs, and prefix
// matching does not apply to zoned addresses.
func (g *Guard) Check(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("no valid address")
	}
	if ip.Zone() != "" {
		return fmt.Errorf("address %s carries an IPv6 zone; scoped addresses are never allowed", ip)
	}
	ip = ip.Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	if p, ok := nonPublic(ip); ok {
		return fmt.Errorf("address %s is in the non-public range %s; an operator can allow it with --webhook-allow-cidr", ip, p)
	}
	return nil
}

// nonPublic reports the blocked range holding ip (zone dropped, unmapped),
// regardless of what the operator allowed.
func nonPublic(ip netip.Addr) (netip.Prefix, bool) {
	ip = ip.WithZone("").Unmap()
	for _, p := range blocked {
		if p.Contains(ip) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// Public reports whether ip is an address of the public Internet, whatever
// the allowed ranges say. The attempt log keeps the answers of public
// receivers only: the body of a service the operator allowed on a private
// network is not the tenant's to read.
func Public(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	_, blocked := nonPublic(ip)
	return !blocked
}

// Control is a net.Dialer Control hook enforcing the guard on the address
// being dialled.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &refusedError{fmt.Errorf("webhook guard: %w", err)}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return &refusedError{fmt.Errorf("webhook guard: %w", err)}
	}
	if err := g.Check(ip); err != nil {
		// The tenant reads this in the attempt log: it does not say which
		// address the host resolved to, lest the guard become an oracle on
		// the server's private DNS.
		return &refusedError{errors.New("the address the host resolved to is not public (SSRF guard; an operator can allow a range with --webhook-allow-cidr)")}
	}
	return nil
}

// refusedError marks a dial the guard refused, so attempts can be classed.
type refusedError struct{ error }

// resolveTimeout bounds the DNS lookup of a subscription's host.
const resolveTimeout = 5 * time.Second

// CheckURL is the guard's part of the one check every dialect runs before it
// saves a subscription: the URL must be plain http(s) without credentials,
// its host a canonical IP literal or a DNS name (see checkHost), and every
// address the host resolves to must be allowed. A subscription to a forbidden
// target is refused when it is written rather than failing silently later;
// delivery checks the host and the dialled address again.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := parseTarget(raw)
	if err != nil {
		return fieldError("url", err.Error())
	}
	host := u.Hostname()
	var addrs []netip.Addr
	literal := false
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs, literal = []netip.Addr{ip}, true
	} else {
		ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
		defer cancel()
		addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return fieldError("url", "host "+clip(host, 100)+" does not resolve")
		}
	}
	for _, ip := range addrs {
		if err := g.Check(ip); err != nil {
			if !literal {
				// Not which address: the server's private DNS is not the
				// tenant's to map.
				return fieldError("url", "host "+clip(host, 100)+" resolves to an address that is not public; an operator can allow its range with --webhook-allow-cidr")
			}
			return fieldError("url", "is not allowed: "+err.Error())
		}
	}
	return nil
}

// parseTarget parses a webhook URL and refuses every form whose host could
// mean something other than what a reader of the URL sees.
func parseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("must be an absolute http:// or https:// URL")
	case u.Opaque != "" || u.Host == "":
		return nil, fmt.Errorf("must be an absolute http:// or https:// URL")
	case u.User != nil:
		return nil, fmt.Errorf("must not carry credentials (user@host); use headers instead")
	}
	if err := checkHost(u); err != nil {
		return nil, err
	}
	return u, nil
}

// checkHost accepts an IP literal in its canonical form (dotted-quad IPv4, or
// bracketed IPv6 without a zone) or an ASCII DNS name. It refuses what
// resolvers disagree about: IPv6 zones (%25eth0), numeric hosts that are not
// dotted quads (2130706433, 0177.0.0.1, 0x7f.0.0.1, 127.1, which getaddrinfo
// turns into 127.0.0.1 while a reader does not), and the localhost names of
// RFC 6761.
func checkHost(u *url.URL) error {
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("must name a host")
	}
	if strings.Contains(host, "%") {
		return fmt.Errorf("must not name an IPv6 zone (%%25…): scoped addresses are never allowed")
	}
	if strings.HasPrefix(u.Host, "[") {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() {
			return fmt.Errorf("has an invalid IPv6 address")
		}
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !ip.Is4() {
			return fmt.Errorf("must write an IPv6 address in brackets")
		}
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "" || len(name) > 253 {
		return fmt.Errorf("must name a host")
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("has an invalid host name")
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("must be an ASCII host name (write international names in punycode)")
			}
		}
	}
	if last := labels[len(labels)-1]; numeric(last) {
		return fmt.Errorf("must write a numeric host as a dotted-quad IPv4 address such as 192.0.2.10")
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return fmt.Errorf("must not name localhost; an operator who allows loopback receivers lets you use the literal address")
	}
	return nil
}

// numeric reports whether a host's last label makes it an IPv4 address in the
// URL standard's eyes: decimal digits, or 0x and hexadecimal digits.
func numeric(label string) bool {
	digits := label
	if strings.HasPrefix(label, "0x") {
		digits = label[2:]
		return strings.Trim(digits, "0123456789abcdef") == ""
	}
	return strings.Trim(digits, "0123456789") == ""
}

// checkTarget repeats the host rules at delivery time, for subscriptions
// written before they existed.
func checkTarget(raw string) error {
	if _, err := parseTarget(raw); err != nil {
		return &refusedError{fmt.Errorf("webhook URL %s", err)}
	}
	return nil
}

func fieldError(field, reason string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed", Fields: map[string]string{field: reason}}
}

// clip returns at most n bytes of s, cut at a character boundary, so that
// messages never echo whole inputs.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
