package sip

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/engine"
)

// TestTrunksUnderTheDriver runs the driver with Trunks as its carriers, the
// way the contract configures them (a trunk of tenant 1 whose
// inbound_addresses are ["127.0.0.1/32"]): an INVITE from 127.0.0.1 to the
// tenant's DID (without its "+") reaches the engine as the tenant's call;
// the same INVITE from 127.0.0.2, an address no trunk lists, is refused
// with 403 and reaches nothing.
func TestTrunksUnderTheDriver(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	port := freePort(t)
	rtp := 20000 + (port+300)%20000
	ts := NewTrunks(TrunksOptions{Log: log, Numbers: numberTable{"+15551230000": 1}})
	ts.Set([]switchboard.Trunk{
		{ID: 1, TenantID: 1, Name: "carrier", InboundAddresses: []string{"127.0.0.1/32"}, Enabled: true},
		{ID: 2, TenantID: 2, Name: "elsewhere", InboundAddresses: []string{"198.51.100.0/24"}, Enabled: true},
	})
	drv, err := New(Options{Listen: []string{"udp:127.0.0.1:" + strconv.Itoa(port)}, RTPPorts: [2]int{rtp, rtp + 50},
		Recordings: t.TempDir(), Phones: &staticPhones{contacts: map[string][]Contact{}}, Carriers: ts, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	obs := &changes{calls: map[int64]switchboard.Call{}}
	eng := engine.New(engine.Options{Clock: engine.RealClock{}, Telephony: drv, Observer: obs, Log: log})
	drv.SetEngine(eng)
	q := switchboard.Queue{ID: 1, TenantID: 1, Name: "support", Extension: "100", Strategy: switchboard.StrategyRingAll,
		TimeoutSeconds: 15, JoinEmpty: true}
	q.Normalize()
	eng.SetQueue(q, nil, "+15551230000")
	if err := drv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		eng.Close()
		drv.Close()
	})

	// The carrier's call: the engine gets it, as tenant 1's, to the DID.
	carrier, _ := peer(t, "carrier", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	go carrier.Invite(ctx, sip.Uri{Scheme: "sip", User: "15551230000", Host: "127.0.0.1", Port: port}, diago.InviteOptions{})
	waitFor(t, "the carrier's call in the engine", func() bool {
		c := obs.call(1)
		return c.ID == 1 && c.TenantID == 1 && c.To == "+15551230000"
	})

	// A stranger on another loopback address gets 403 before any dialog.
	sua, err := sipgo.NewUA(sipgo.WithUserAgent("stranger"), sipgo.WithUserAgentHostname("127.0.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	defer sua.Close()
	probe, err := net.ListenPacket("udp4", "127.0.0.2:0")
	if err != nil {
		t.Skipf("127.0.0.2 is not usable here: %v", err)
	}
	sport := probe.LocalAddr().(*net.UDPAddr).Port
	probe.Close()
	stranger := diago.NewDiago(sua, diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.2", BindPort: sport}),
		diago.WithLogger(log))
	sctx, scancel := context.WithCancel(context.Background())
	defer scancel()
	if err := stranger.ServeBackground(sctx, func(s *diago.DialogServerSession) { s.Respond(486, "Busy Here", nil) }); err != nil {
		t.Fatal(err)
	}
	ictx, icancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer icancel()
	for range 20 {
		_, _, err = stranger.Invite(ictx, sip.Uri{Scheme: "sip", User: "15551230000", Host: "127.0.0.1", Port: port}, diago.InviteOptions{})
		// ServeBackground binds its listener on its own goroutine: until
		// it has, the client side binds the same port itself and collides
		// (seen under the race detector). Wait for the listener.
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var refused *sipgo.ErrDialogResponse
	if !errors.As(err, &refused) || refused.Res.StatusCode != 403 {
		t.Fatalf("INVITE from 127.0.0.2: %v, want 403", err)
	}
	time.Sleep(100 * time.Millisecond)
	if c := obs.call(2); c.ID != 0 {
		t.Errorf("the stranger's INVITE reached the engine: %+v", c)
	}
}

// numberTable is the numbers' owners as a table: number → tenant.
type numberTable map[string]int64

func (n numberTable) NumberOwner(_ context.Context, number string) (switchboard.PhoneNumber, error) {
	if t, ok := n[number]; ok {
		return switchboard.PhoneNumber{TenantID: t, Number: number}, nil
	}
	return switchboard.PhoneNumber{}, switchboard.Errorf(switchboard.CodeNotFound, "no number %s", number)
}
