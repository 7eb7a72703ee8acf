package switchboard

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseTrunkURI(t *testing.T) {
	for _, c := range []struct {
		in   string
		want TrunkURI
		ok   bool
	}{
		{"sip:127.0.0.1:5080", TrunkURI{Host: "127.0.0.1", Port: 5080}, true},
		{"sip:carrier.example.com", TrunkURI{Host: "carrier.example.com"}, true},
		{"SIP:carrier.example.com", TrunkURI{Host: "carrier.example.com"}, true},
		{"sips:carrier.example.com:5061;transport=TLS", TrunkURI{Secure: true, Host: "carrier.example.com", Port: 5061, Transport: "tls"}, true},
		{"sip:[2001:db8::1]:5060;transport=tcp;lr", TrunkURI{Host: "2001:db8::1", Port: 5060, Transport: "tcp"}, true},
		{"sip:[2001:db8::1]", TrunkURI{Host: "2001:db8::1"}, true},
		{"tel:+390612345678", TrunkURI{}, false},
		{"sip:user@carrier.example.com", TrunkURI{}, false},
		{"sip:carrier.example.com?X-Foo=1", TrunkURI{}, false},
		{"sip:carrier.example.com:", TrunkURI{}, false},
		{"sip:carrier.example.com:65536", TrunkURI{}, false},
		{"sip:carrier.example.com;transport=sctp", TrunkURI{}, false},
		{"sips:carrier.example.com;transport=udp", TrunkURI{}, false},
		{"sip:carrier.example.com;maddr=1.2.3.4", TrunkURI{}, false},
		{"sip:[2001:db8::1", TrunkURI{}, false},
		{"sip:[1.2.3.4]", TrunkURI{}, false},
		{"sip:bad_host!", TrunkURI{}, false},
		{"sip:-bad.example", TrunkURI{}, false},
	} {
		got, err := ParseTrunkURI(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseTrunkURI(%q) = %+v, %v; want %+v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
	if hp := (TrunkURI{Host: "2001:db8::1"}).HostPort(); hp != "[2001:db8::1]:5060" {
		t.Errorf("HostPort = %q", hp)
	}
	if hp := (TrunkURI{Secure: true, Host: "h"}).HostPort(); hp != "h:5061" {
		t.Errorf("sips HostPort = %q", hp)
	}
}

func TestParseTrunkAddress(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1/32"},
		{" 192.0.2.0/24 ", "192.0.2.0/24"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24"},
		{"192.0.2.1/24", ""},    // host bits set
		{"0.0.0.0/0", ""},       // everything
		{"::/0", ""},            // everything
		{"fe80::1%eth0", ""},    // zone
		{"192.0.2.300", ""},     // not an address
		{"carrier.example", ""}, // names are not addresses
	} {
		p, err := ParseTrunkAddress(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("ParseTrunkAddress(%q) = %s, want an error", c.in, p)
			}
			continue
		}
		if err != nil || p.String() != c.want {
			t.Errorf("ParseTrunkAddress(%q) = %s, %v; want %s", c.in, p, err, c.want)
		}
	}
}

func TestTrunkValidateKeepsSecretsOutOfJSON(t *testing.T) {
	tr := Trunk{Name: "out", OutboundURI: "sip:h", Username: "u", Password: "hunter2", InboundUsername: "c", InboundPassword: "s3cret"}
	tr.Normalize()
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "s3cret"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("a trunk's JSON shows its password: %s", b)
		}
	}
	if !tr.PasswordSet || !tr.InboundPasswordSet {
		t.Errorf("password_set flags not set: %+v", tr)
	}
}
