package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/webhook"
)

// loopbackAllowed is the guard the tests and the demo run with: loopback IPv4
// allowed, as --webhook-allow-cidr 127.0.0.0/8 does.
func loopbackAllowed() *webhook.Guard {
	return webhook.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
}

// TestGuardURLEncodings walks the ways of writing a forbidden target in a
// URL. Each must be refused at subscription time with a validation error
// naming url, even though loopback IPv4 is allowed, unless it is written as
// plainly as the allowed address itself.
func TestGuardURLEncodings(t *testing.T) {
	g := loopbackAllowed()
	ctx := context.Background()
	refused := []string{
		// IPv6 zones, whatever the address (prefix matching skips zoned
		// addresses, so these once passed).
		"http://[::1%25lo]:8080/x", "http://[fe80::1%25lo]/", "http://[fe80::1%25eth0]:80/", "http://[::ffff:127.0.0.1%25lo]/",
		"http://[fd00:ec2::254%25lo]/", "http://[::1%lo]/",
		// IPv6 loopback and unspecified in every spelling.
		"http://[::1]/", "http://[0:0:0:0:0:0:0:1]/", "http://[0000::0001]/", "http://[::]/", "http://[::0]/",
		// IPv4-compatible (::/96) and IPv4-translated embeddings of loopback.
		"http://[::127.0.0.1]/", "http://[::7f00:1]/", "http://[::ffff:0:7f00:1]/",
		// Non-canonical numeric IPv4 hosts, which getaddrinfo reads as 127.0.0.1.
		"http://127.1/", "http://127.0.1/", "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.0.0.1/", "http://0x7f000001/",
		"http://017700000001/", "http://127.0.0.1./", "http://0/", "http://0x0/",
		// The unspecified IPv4 address and its range.
		"http://0.0.0.0/", "http://0.0.0.0:8080/", "http://0.1.2.3/",
		// Cloud metadata, IPv4 and IPv6, plain, mapped and NAT64.
		"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/",
		"http://[::ffff:a9fe:a9fe]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:a9fe:a9fe::]/",
		// Other non-public ranges.
		"http://[fec0::1]/", "http://100.64.0.1/", "http://100.127.255.254/", "http://10.0.0.1/", "http://192.168.1.1/",
		"http://172.16.0.1/", "http://[fc00::1]/", "http://[fe80::1]/", "http://[ff02::1]/", "http://[2001:db8::1]/",
		"http://[2001::1]/", "http://224.0.0.1/", "http://255.255.255.255/", "http://198.18.0.1/",
		// Localhost names, in any case and with the root's dot.
		"http://localhost/", "http://localhost./", "http://LOCALHOST:8080/", "http://api.localhost/",
		// Credentials, and the userinfo trick that hides the real host.
		"http://public.example@127.0.0.1/", "http://user:pw@example.com/", "http://127.0.0.1:80@example.com/",
		// Other schemes and shapes.
		"ftp://127.0.0.1/", "file:///etc/passwd", "gopher://127.0.0.1:25/", "javascript:alert(1)", "//127.0.0.1/",
		"http:127.0.0.1", "127.0.0.1:8080", "http:///x", "http://%31%32%37.1/",
		// Non-ASCII hosts (fullwidth digits normalise to ASCII in some stacks).
		"http://１２７.０.０.１/",
	}
	for _, u := range refused {
		err := g.CheckURL(ctx, u)
		var se *switchboard.Error
		if err == nil || switchboard.ErrorCode(err) != switchboard.CodeInvalid {
			t.Errorf("CheckURL(%q) = %v, want a validation error", u, err)
			continue
		}
		if errors.As(err, &se) && se.Fields["url"] == "" {
			t.Errorf("CheckURL(%q) = %v, want the url field named", u, err)
		}
	}
	for _, u := range []string{
		"http://127.0.0.1:8080/x", "http://127.0.0.2/", "https://127.0.0.1/",
		"http://[::ffff:127.0.0.1]:8080/", "http://[::ffff:7f00:1]/", // unmapped, they are the allowed 127.0.0.1
		"http://93.184.216.34/", "http://[2606:2800:220:1::1]:8443/hook?x=1",
	} {
		if err := g.CheckURL(ctx, u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want allowed", u, err)
		}
	}
	// Without the allow-list, the mapped spellings of loopback are loopback.
	strict := webhook.NewGuard(nil)
	for _, u := range []string{"http://127.0.0.1/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/"} {
		if err := strict.CheckURL(ctx, u); err == nil {
			t.Errorf("strict CheckURL(%q) passed", u)
		}
	}
	// A zone is refused even when an allowed range covers the address.
	wide := webhook.NewGuard([]netip.Prefix{netip.MustParsePrefix("::/0"), netip.MustParsePrefix("0.0.0.0/0")})
	for _, u := range []string{"http://[::1%25lo]/", "http://[fe80::1%25lo]/", "http://2130706433/"} {
		if err := wide.CheckURL(ctx, u); err == nil {
			t.Errorf("allow-all CheckURL(%q) passed", u)
		}
	}
	// A DNS name resolving to loopback is loopback.
	if name := loopbackName(t); name != "" {
		if err := strict.CheckURL(ctx, "http://"+name+"/"); err == nil || strings.Contains(err.Error()+fmt.Sprint(err.(*switchboard.Error).Fields), "127.") {
			t.Errorf("strict CheckURL(http://%s/), a name of 127.0.0.1: %v; want refused without naming the address", name, err)
		}
	}
}

// loopbackName finds a host name (from /etc/hosts, typically) that resolves
// to loopback only, or "" when there is none.
func loopbackName(t *testing.T) string {
	candidates := []string{"runsc", "vm"}
	if h, err := os.Hostname(); err == nil {
		candidates = append([]string{h}, candidates...)
	}
	for _, name := range candidates {
		addrs, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", name)
		if err != nil || len(addrs) == 0 {
			continue
		}
		all := true
		for _, a := range addrs {
			all = all && a.Unmap().IsLoopback()
		}
		if all && !strings.EqualFold(name, "localhost") {
			return name
		}
	}
	t.Log("no host name resolving to loopback; skipping that case")
	return ""
}

// TestGuardDialTime checks the dialled address, after resolution, whatever
// the subscription check let through before the rules existed.
func TestGuardDialTime(t *testing.T) {
	g := loopbackAllowed()
	for _, tt := range []struct {
		addr    string
		allowed bool
	}{
		{"127.0.0.1:80", true}, {"[::ffff:127.0.0.1]:80", true}, {"93.184.216.34:443", true},
		{"[::1%lo]:80", false}, {"[fe80::1%lo]:80", false}, {"[::ffff:127.0.0.1%lo]:80", false}, {"[::1]:80", false},
		{"[::127.0.0.1]:80", false}, {"[::]:80", false}, {"0.0.0.0:80", false}, {"[fd00:ec2::254]:80", false},
		{"169.254.169.254:80", false}, {"[fec0::1]:80", false}, {"100.64.0.1:80", false}, {"not-an-address:80", false},
	} {
		err := g.Control("tcp", tt.addr, nil)
		if (err == nil) != tt.allowed {
			t.Errorf("Control(%s) = %v, want allowed %v", tt.addr, err, tt.allowed)
		}
	}
	if !webhook.Public(netip.MustParseAddr("93.184.216.34")) || webhook.Public(netip.MustParseAddr("127.0.0.1")) ||
		webhook.Public(netip.MustParseAddr("::ffff:10.0.0.1")) || webhook.Public(netip.MustParseAddr("2606:2800:220:1::1%eth0")) {
		t.Error("Public disagrees with the blocked ranges")
	}
}

// TestDeliveryRefusesStoredTricks stores subscriptions the API would refuse
// (as a store written before the rules holds them) and checks that delivery
// refuses them without connecting: a zoned ::1 receiver, a decimal-encoded
// loopback host and a redirect to loopback. Nothing of the refused targets'
// answers reaches the attempt log.
func TestDeliveryRefusesStoredTricks(t *testing.T) {
	r := newRig(t, webhook.Options{Schedule: []time.Duration{0}})
	hits := make(chan string, 16)
	secret := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		hits <- req.Host
		w.Write([]byte("root:x:0:0:secret"))
	}))
	defer secret.Close()
	_, port, _ := net.SplitHostPort(secret.Listener.Addr().String())
	// A loopback-only IPv6 service on the same port, where available.
	var urls []string
	if l6, err := net.Listen("tcp", "[::1]:0"); err == nil {
		s6 := httptest.NewUnstartedServer(secret.Config.Handler)
		s6.Listener.Close()
		s6.Listener = l6
		s6.Start()
		defer s6.Close()
		_, p6, _ := net.SplitHostPort(l6.Addr().String())
		urls = append(urls, "http://[::1%25lo]:"+p6+"/x", "http://[::1]:"+p6+"/x")
	}
	urls = append(urls, "http://2130706433:"+port+"/x", "http://127.1:"+port+"/x", "http://[::127.0.0.1]:"+port+"/x")
	// A receiver that redirects to the secret service: the redirect is
	// recorded, not followed.
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, secret.URL+"/latest/meta-data/", http.StatusFound)
	}))
	defer redirect.Close()
	urls = append(urls, redirect.URL)

	var hooks []switchboard.Webhook
	for _, u := range urls {
		hooks = append(hooks, r.subscribe(t, switchboard.Webhook{URL: u, EventTypes: []string{"call.*"}}))
	}
	r.emit(t, "call.ended")
	for _, h := range hooks {
		var d switchboard.Delivery
		waitFor(t, "the attempt to "+h.URL, func() bool {
			page, _ := r.db.Deliveries(context.Background(), r.tenant.ID, switchboard.DeliveryFilter{WebhookID: h.ID, Status: switchboard.DeliveryFailed}, switchboard.ListOptions{})
			if len(page.Items) == 0 {
				return false
			}
			d, _ = r.db.Delivery(context.Background(), r.tenant.ID, page.Items[0].ID)
			return true
		})
		a := d.AttemptLog[0]
		want := "refused"
		if h.URL == redirect.URL {
			want = "redirect"
		}
		if a.ErrorClass != want || a.Response != "" || strings.Contains(a.Error, "secret") ||
			(want == "refused" && (strings.Contains(a.Error, "127.0.0.1") || strings.Contains(a.Error, "::1"))) {
			t.Errorf("%s: attempt %+v, want class %s and no response", h.URL, a, want)
		}
	}
	select {
	case host := <-hits:
		t.Errorf("the loopback-only service was reached (Host %s)", host)
	default:
	}
}

// TestAttemptLogKeepsNoPrivateAnswers: an allowed receiver on a private
// address is delivered to, but its answer is not echoed to the tenant, and
// the error kept is bounded.
func TestAttemptLogKeepsNoPrivateAnswers(t *testing.T) {
	r := newRig(t, webhook.Options{Schedule: []time.Duration{0}})
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(strings.Repeat("internal detail ", 1000)))
	})
	h := r.subscribe(t, switchboard.Webhook{URL: rc.URL + "/" + strings.Repeat("p", 1500), EventTypes: []string{"call.*"}})
	r.emit(t, "call.ended")
	var d switchboard.Delivery
	waitFor(t, "the failed attempt", func() bool {
		page, _ := r.db.Deliveries(context.Background(), r.tenant.ID, switchboard.DeliveryFilter{WebhookID: h.ID, Status: switchboard.DeliveryFailed}, switchboard.ListOptions{})
		if len(page.Items) == 0 {
			return false
		}
		d, _ = r.db.Delivery(context.Background(), r.tenant.ID, page.Items[0].ID)
		return true
	})
	a := d.AttemptLog[0]
	if a.StatusCode != 500 || a.Response != "" || rc.count() != 1 {
		t.Errorf("attempt %+v after %d requests, want status 500 and no response kept", a, rc.count())
	}
	if len(a.Error) > 520 {
		t.Errorf("attempt error kept %d bytes", len(a.Error))
	}
}

// TestPolicyBoundsEventTypes: the policy names event_types beyond its bound.
func TestPolicyBoundsEventTypes(t *testing.T) {
	p := &webhook.Policy{Guard: loopbackAllowed(), MaxEventTypes: 3}
	ctx := context.Background()
	w := switchboard.Webhook{URL: "http://127.0.0.1:1/", EventTypes: []string{"a.b", "c.d", "e.f"}}
	if err := p.CheckWebhook(ctx, w); err != nil {
		t.Fatalf("three types: %v", err)
	}
	for i := range 2 {
		w := w
		if i == 0 {
			w.EventTypes = append(w.EventTypes, "g.h")
		} else {
			w.DialectTypes = []string{"A", "B", "C", "D"}
		}
		err := p.CheckWebhook(ctx, w)
		var se *switchboard.Error
		if !errors.As(err, &se) || se.Code != switchboard.CodeInvalid || !strings.Contains(se.Fields["event_types"], strconv.Itoa(3)) {
			t.Errorf("four types (%d): %v, want event_types named with the bound", i, err)
		}
	}
	if err := (&webhook.Policy{Guard: loopbackAllowed()}).CheckWebhook(ctx, switchboard.Webhook{URL: "http://[::1%25lo]/"}); err == nil {
		t.Error("the policy passed a zoned URL")
	}
}
