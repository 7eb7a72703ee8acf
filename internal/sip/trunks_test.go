package sip

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"switchboard"
)

func TestMatchInbound(t *testing.T) {
	ts := NewTrunks(TrunksOptions{})
	ts.Set([]switchboard.Trunk{
		{ID: 1, TenantID: 10, Name: "wide", InboundAddresses: []string{"192.0.2.0/24"}, Enabled: true},
		{ID: 2, TenantID: 20, Name: "narrow", InboundAddresses: []string{"192.0.2.8/29", "2001:db8::/32"}, Enabled: true},
		{ID: 3, TenantID: 30, Name: "same prefix, newer", InboundAddresses: []string{"192.0.2.8/29"}, Enabled: true},
		{ID: 4, TenantID: 40, Name: "host", InboundAddresses: []string{"192.0.2.9/32"}, Enabled: false},
		{ID: 5, TenantID: 50, Name: "v6 host", InboundAddresses: []string{"2001:db8::1/128"}, InboundUsername: "carrier5", Enabled: true},
	})
	for _, c := range []struct {
		src  string
		want int64 // 0: no match
	}{
		{"192.0.2.1", 1},
		{"192.0.2.9", 2},        // the /29 beats the /24; trunk 2 is older than 3; 4 is disabled
		{"::ffff:192.0.2.9", 2}, // IPv4-mapped
		{"2001:db8::1", 5},      // the /128 beats the /32
		{"2001:db8::2", 2},      // the /32
		{"198.51.100.1", 0},     // nobody's
		{"2001:db9::1", 0},      // nobody's
		{"fe80::1%eth0", 0},     // zones match nothing here
	} {
		got, ok := ts.MatchInbound(netip.MustParseAddr(c.src))
		if (c.want == 0) == ok || (ok && got.ID != c.want) {
			t.Errorf("MatchInbound(%s) = %d, %v; want %d", c.src, got.ID, ok, c.want)
		}
	}
	// The tenant the DID names decides between trunks sharing a prefix.
	if got, ok := ts.MatchInboundTenant(30, netip.MustParseAddr("192.0.2.9")); !ok || got.ID != 3 {
		t.Errorf("MatchInboundTenant(30) = %d, %v; want 3", got.ID, ok)
	}
	if _, ok := ts.MatchInboundTenant(50, netip.MustParseAddr("192.0.2.9")); ok {
		t.Errorf("tenant 50 matched an address none of its trunks lists")
	}
	if got, ok := ts.MatchCredentials("carrier5"); !ok || got.ID != 5 {
		t.Errorf("MatchCredentials = %d, %v", got.ID, ok)
	}
	// Follow the events: trunk 2 deleted, trunk 4 enabled.
	ts.Remove(2)
	ts.Update(switchboard.Trunk{ID: 4, TenantID: 40, Name: "host", InboundAddresses: []string{"192.0.2.9/32"}, Enabled: true})
	if got, _ := ts.MatchInbound(netip.MustParseAddr("192.0.2.9")); got.ID != 4 {
		t.Errorf("after the updates 192.0.2.9 matches %d, want 4", got.ID)
	}
	if got, _ := ts.MatchInbound(netip.MustParseAddr("192.0.2.10")); got.ID != 3 {
		t.Errorf("after the updates 192.0.2.10 matches %d, want 3", got.ID)
	}
}

// trunkClock is a settable time for the calls-per-second window.
type trunkClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *trunkClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *trunkClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestOutboundLimits(t *testing.T) {
	clk := &trunkClock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	ts := NewTrunks(TrunksOptions{Now: clk.now})
	ts.Set([]switchboard.Trunk{
		{ID: 1, TenantID: 10, Name: "out", OutboundURI: "sip:127.0.0.1:5080", DefaultOutbound: true, MaxConcurrentCalls: 2, Enabled: true},
		{ID: 2, TenantID: 20, Name: "paced", OutboundURI: "sip:127.0.0.1:5081", DefaultOutbound: true, CallsPerSecond: 3, Enabled: true},
		{ID: 3, TenantID: 30, Name: "off", OutboundURI: "sip:127.0.0.1:5082", DefaultOutbound: true, Enabled: false},
	})

	// Concurrency: two calls, the third refused until one ends; release is
	// idempotent.
	_, r1, err := ts.Outbound(10)
	if err != nil {
		t.Fatal(err)
	}
	_, r2, err := ts.Outbound(10)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.Outbound(10); !errors.Is(err, ErrTrunkBusy) {
		t.Fatalf("third call: %v, want ErrTrunkBusy", err)
	}
	if st, _ := ts.TrunkStatus(1); st.ActiveCalls != 2 {
		t.Errorf("active calls = %d, want 2", st.ActiveCalls)
	}
	r1()
	r1()
	_, r3, err := ts.Outbound(10)
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if _, _, err := ts.Outbound(10); !errors.Is(err, ErrTrunkBusy) {
		t.Fatalf("a double release freed two slots: %v", err)
	}
	r2()
	r3()

	// Calls per second: three in an instant, the fourth refused for the
	// rest of that second, however many calls have ended.
	for i := range 3 {
		_, rel, err := ts.Outbound(20)
		if err != nil {
			t.Fatalf("paced call %d: %v", i, err)
		}
		rel()
		clk.add(100 * time.Millisecond)
	}
	if _, _, err := ts.Outbound(20); !errors.Is(err, ErrTrunkRate) {
		t.Fatalf("fourth call in a second: %v, want ErrTrunkRate", err)
	}
	clk.add(699 * time.Millisecond) // 999 ms after the first
	if _, _, err := ts.Outbound(20); !errors.Is(err, ErrTrunkRate) {
		t.Fatalf("fourth call 999 ms after the first: %v, want ErrTrunkRate", err)
	}
	clk.add(time.Millisecond)
	if _, _, err := ts.Outbound(20); err != nil {
		t.Fatalf("a second after the first: %v", err)
	}
	if _, _, err := ts.Outbound(20); !errors.Is(err, ErrTrunkRate) {
		t.Fatalf("the second call's slot is not free yet: %v", err)
	}

	// No (enabled) default trunk.
	for _, tenant := range []int64{30, 99} {
		if _, _, err := ts.Outbound(tenant); !errors.Is(err, ErrNoTrunk) {
			t.Errorf("tenant %d: %v, want ErrNoTrunk", tenant, err)
		}
	}
	if _, _, err := ts.OutboundVia(10, 2); !errors.Is(err, ErrNoTrunk) {
		t.Errorf("another tenant's trunk: %v, want ErrNoTrunk", err)
	}
	for _, err := range []error{ErrNoTrunk, ErrTrunkBusy, ErrTrunkRate, ErrTrunkDown} {
		if status, cause := TrunkErrorStatus(err); status != 503 || cause == "" {
			t.Errorf("TrunkErrorStatus(%v) = %d %q", err, status, cause)
		}
	}
}

// TestOutboundLimitsConcurrent takes and releases slots from many
// goroutines: the count never passes the limit and ends at zero.
func TestOutboundLimitsConcurrent(t *testing.T) {
	ts := NewTrunks(TrunksOptions{})
	ts.Set([]switchboard.Trunk{{ID: 1, TenantID: 1, Name: "out", OutboundURI: "sip:h", DefaultOutbound: true, MaxConcurrentCalls: 5, Enabled: true}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	inUse, peak := 0, 0
	for range 16 {
		wg.Go(func() {
			for range 500 {
				_, rel, err := ts.Outbound(1)
				if err != nil {
					continue
				}
				mu.Lock()
				inUse++
				peak = max(peak, inUse)
				mu.Unlock()
				mu.Lock()
				inUse--
				mu.Unlock()
				rel()
			}
		})
	}
	wg.Wait()
	if st, _ := ts.TrunkStatus(1); st.ActiveCalls != 0 || peak > 5 {
		t.Errorf("after the run: %d active, peak %d (limit 5)", st.ActiveCalls, peak)
	}
}

func TestDial(t *testing.T) {
	base := switchboard.Trunk{Name: "out", OutboundURI: "sip:carrier.example.com:5070;transport=tcp", Username: "u", Password: "p",
		CallerID: switchboard.CallerIDFromCall}
	for _, c := range []struct {
		name                 string
		edit                 func(*switchboard.Trunk)
		number, from, region string
		wantURI, wantFrom    string
	}{
		{"as E.164", nil, "+39 011 212 1212", "+390612345678", "", "sip:+390112121212@carrier.example.com:5070;transport=tcp", "+390612345678"},
		{"national, stripped, prefixed", func(t *switchboard.Trunk) { t.StripPlus, t.Prefix = true, "00" }, "011 2121212", "06 1234 5678", "IT",
			"sip:00390112121212@carrier.example.com:5070;transport=tcp", "390612345678"},
		{"fixed caller id", func(t *switchboard.Trunk) { t.CallerID = "+15550001111" }, "+390112121212", "+390612345678", "",
			"sip:+390112121212@carrier.example.com:5070;transport=tcp", "+15550001111"},
		{"no number to show", nil, "390112121212", "1001", "", "sip:+390112121212@carrier.example.com:5070;transport=tcp", "anonymous"},
		{"IPv6 and sips", func(t *switchboard.Trunk) { t.OutboundURI = "sips:[2001:db8::5]" }, "+390112121212", "", "",
			"sips:+390112121212@[2001:db8::5]", "anonymous"},
	} {
		tr := base
		if c.edit != nil {
			c.edit(&tr)
		}
		d, err := Dial(tr, c.number, c.from, c.region)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := d.Recipient.String(); got != c.wantURI || d.CallerID != c.wantFrom || d.Auth.Username != "u" || d.Auth.Password != "p" {
			t.Errorf("%s: Dial = %s from %q (auth %q), want %s from %q", c.name, got, d.CallerID, d.Auth.Username, c.wantURI, c.wantFrom)
		}
	}
	if _, err := Dial(base, "not a number", "", ""); err == nil {
		t.Errorf("Dial accepted a number that is none")
	}
}
