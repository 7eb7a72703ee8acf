package sip

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/callcenter"
	"switchboard/internal/engine"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestRegisteredPhoneGetsTheCarrierCall wires the registrar and the guard
// into the driver as serve will: an agent's phone registers with digest
// through the driver's listener, and a carrier's call to the queue's DID
// rings it at the contact it registered, where it is answered.
func TestRegisteredPhoneGetsTheCarrierCall(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	ctx := context.Background()
	tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if tn.ID != 1 {
		t.Fatalf("tenant %d: loopbackCarrier routes to tenant 1", tn.ID)
	}
	if _, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "a@acme.test", FirstName: "A", Extension: "1001",
		SIPPassword: "agent-pw"}); err != nil {
		t.Fatal(err)
	}
	var reg *Registrar
	guard := NewGuard(GuardOptions{Logger: log, Known: func(a netip.Addr) bool { return reg.KnownSource(a) }})
	reg = NewRegistrar(db, RegistrarOptions{Guard: guard, Logger: log})
	device := callcenter.DeviceName(tn.ID, "1001")

	port := freePort(t)
	rtp := 20000 + port%20000
	drv, err := New(Options{Listen: []string{"udp:127.0.0.1:" + strconv.Itoa(port)}, RTPPorts: [2]int{rtp, rtp + 200},
		Recordings: t.TempDir(), Phones: reg, Carriers: loopbackCarrier{}, Guard: guard.Middleware, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	obs := &changes{calls: map[int64]switchboard.Call{}}
	eng := engine.New(engine.Options{Clock: engine.RealClock{}, Telephony: drv, Observer: obs, Log: log})
	drv.SetEngine(eng)
	q := switchboard.Queue{ID: 1, TenantID: tn.ID, Name: "support", Extension: "100", Strategy: switchboard.StrategyRingAll,
		TimeoutSeconds: 15, WrapUpSeconds: 1, JoinEmpty: true}
	q.Normalize()
	eng.SetQueue(q, []switchboard.QueueMember{{QueueID: 1, UserID: 7, Position: 1}}, "+15551230000")
	eng.SetAgent(7, device)
	eng.SetStatus(7, switchboard.StatusAvailable, true)
	if err := drv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		eng.Close()
		drv.Close()
	})

	answered := make(chan struct{})
	_, phonePort := peer(t, "agent-phone", func(s *diago.DialogServerSession) {
		s.Ringing()
		if _, err := s.Answer(diago.AnswerOptions{}); err != nil {
			t.Error("agent answer:", err)
			return
		}
		close(answered)
		<-s.Context().Done()
	})
	// The phone registers (from another socket of its address, as a test
	// may; the Contact names the socket that answers).
	p := newPhone(t, "127.0.0.1:"+strconv.Itoa(port))
	if res := p.register("1001", "agent-pw", "<sip:1001@127.0.0.1:"+strconv.Itoa(phonePort)+">", 600); status(res) != 200 {
		t.Fatalf("REGISTER through the driver = %v", res)
	}
	if !drv.Registered(device) {
		t.Fatal("the driver does not see the phone registered")
	}

	carrier, _ := peer(t, "carrier", nil)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	dlg, _, err := carrier.Invite(cctx, sip.Uri{Scheme: "sip", User: "15551230000", Host: "127.0.0.1", Port: port}, diago.InviteOptions{})
	if err != nil {
		t.Fatal("the carrier's call was not answered:", err)
	}
	select {
	case <-answered:
	case <-time.After(10 * time.Second):
		t.Fatal("the registered phone was not rung")
	}
	if err := dlg.Hangup(cctx); err != nil {
		t.Fatal(err)
	}
}
