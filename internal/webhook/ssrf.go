package webhook

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"

	"switchboard"
)

// blocked lists the address ranges a webhook may not reach unless an operator
// allows them: everything that is not the public Internet. IPv4-mapped IPv6
// addresses are unmapped before the check; NAT64 and 6to4 prefixes, which embed
// an IPv4 address the check would otherwise not see, are refused whole.
var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
		"::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32",
		"2002::/16", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Guard decides which addresses webhook deliveries may connect to. It is
// checked at dial time, on the address actually being dialled after DNS
// resolution, so DNS rebinding and redirects cannot route around it.
type Guard struct {
	allow []netip.Prefix
}

// NewGuard returns a guard that refuses non-public addresses except those in
// allow (for on-premises receivers, and loopback in tests and the demo).
func NewGuard(allow []netip.Prefix) *Guard { return &Guard{allow: allow} }

// Check returns an error when ip may not be dialled.
func (g *Guard) Check(ip netip.Addr) error {
	ip = ip.Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return fmt.Errorf("address %s is in the non-public range %s; an operator can allow it with --webhook-allow-cidr", ip, p)
		}
	}
	return nil
}

// Control is a net.Dialer Control hook enforcing the guard.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("webhook guard: %w", err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("webhook guard: %w", err)
	}
	if err := g.Check(ip); err != nil {
		return &refusedError{err}
	}
	return nil
}

// refusedError marks a dial the guard refused, so attempts can be classed.
type refusedError struct{ error }

// CheckURL resolves the URL's host and checks every address it has, so that a
// subscription to a forbidden target is refused when it is created rather than
// failing silently later. Delivery checks again at dial time.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil // Validate reports malformed URLs
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return fieldError("url", "host "+host+" does not resolve")
		}
	}
	for _, ip := range addrs {
		if err := g.Check(ip); err != nil {
			return fieldError("url", "is not allowed: "+err.Error())
		}
	}
	return nil
}

func fieldError(field, reason string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed", Fields: map[string]string{field: reason}}
}
