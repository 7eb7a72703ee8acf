package sip

import (
	"errors"
	"testing"

	"switchboard"
)

// TestRouteAlternateOrder checks the order a failing call switches trunks
// in: the tenant's default first, then its other outbound trunks by id,
// never a disabled trunk, one without an outbound URI, one at its limit or
// another tenant's; and ErrNoTrunk once every one was tried.
func TestRouteAlternateOrder(t *testing.T) {
	ts := NewTrunks(TrunksOptions{})
	ts.Set([]switchboard.Trunk{
		{ID: 1, TenantID: 1, Name: "a", OutboundURI: "sip:a.test", Enabled: true},
		{ID: 2, TenantID: 1, Name: "b", OutboundURI: "sip:b.test", Enabled: true, MaxConcurrentCalls: 1},
		{ID: 3, TenantID: 1, Name: "default", OutboundURI: "sip:c.test", Enabled: true, DefaultOutbound: true},
		{ID: 4, TenantID: 1, Name: "off", OutboundURI: "sip:d.test"},
		{ID: 5, TenantID: 1, Name: "inbound only", InboundAddresses: []string{"192.0.2.1/32"}, Enabled: true},
		{ID: 6, TenantID: 2, Name: "other tenant", OutboundURI: "sip:e.test", Enabled: true},
	})
	first, err := ts.RouteOutbound(1, "+442071234567", "")
	if err != nil || first.TrunkID != 3 {
		t.Fatalf("first route: trunk %d, %v; want the default, 3", first.TrunkID, err)
	}
	tried := []int64{first.TrunkID}
	var got []int64
	for {
		r, err := ts.RouteAlternate(1, "+442071234567", "", tried)
		if err != nil {
			if !errors.Is(err, ErrNoTrunk) {
				t.Fatalf("after %v: %v, want ErrNoTrunk", tried, err)
			}
			break
		}
		if r.URI.Host == "" || r.Release == nil {
			t.Fatalf("route %+v", r)
		}
		got = append(got, r.TrunkID)
		tried = append(tried, r.TrunkID)
		if len(got) > 5 {
			t.Fatalf("no end to the alternates: %v", got)
		}
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("alternates %v, want [1 2]", got)
	}
	// Trunk 2's one slot is taken now: it is skipped, and the reason is said.
	if _, err := ts.RouteAlternate(1, "+442071234567", "", []int64{3, 1}); !errors.Is(err, ErrTrunkBusy) {
		t.Errorf("with the last trunk busy: %v, want ErrTrunkBusy", err)
	}
}
