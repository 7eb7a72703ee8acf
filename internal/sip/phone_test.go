package sip

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"

	"switchboard"
)

// answeringPhone is an agent's phone that answers, talks, and hands its
// dialog to the test.
func answeringPhone(t *testing.T, name string, freq float64) (port int, dialogs <-chan *diago.DialogServerSession) {
	ch := make(chan *diago.DialogServerSession, 4)
	_, port = peer(t, name, func(s *diago.DialogServerSession) {
		s.Trying()
		med, err := s.Answer(diago.AnswerOptions{})
		if err != nil {
			return
		}
		stop := make(chan struct{})
		defer close(stop)
		talk(med, freq, stop)
		ch <- s
		<-s.Context().Done()
	})
	return port, ch
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestPhoneHoldsDialsAndTransfers has the agent's phone put the caller on
// hold and take them off (re-INVITE sendonly, then sendrecv: the engine
// counts the hold), key a digit over SIP INFO from the caller's side, and
// transfer the caller blind to a second agent with REFER.
func TestPhoneHoldsDialsAndTransfers(t *testing.T) {
	r := newRig(t)
	r.drv.opt.Resolve = func(_ context.Context, tenant int64, target string) (string, error) {
		if tenant == 1 && target == "1002" {
			return "t1:1002", nil
		}
		return "", fmt.Errorf("no %s", target)
	}
	port1, first := answeringPhone(t, "agent-1", 660)
	port2, second := answeringPhone(t, "agent-2", 880)
	r.phones.set("t1:1001", Contact{URI: sip.Uri{Scheme: "sip", User: "1001", Host: "127.0.0.1", Port: port1}})
	r.phones.set("t1:1002", Contact{URI: sip.Uri{Scheme: "sip", User: "1002", Host: "127.0.0.1", Port: port2}})
	r.eng.SetAgent(8, "t1:1002")
	r.eng.SetStatus(8, switchboard.StatusAvailable, true)

	carrier, _ := peer(t, "carrier", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dlg, med, err := carrier.Invite(ctx, sip.Uri{Scheme: "sip", User: "+15551230000", Host: "127.0.0.1", Port: r.port}, diago.InviteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Hangup(context.Background())
	stop := make(chan struct{})
	defer close(stop)
	heard := talk(med, 440, stop)

	var agent *diago.DialogServerSession
	select {
	case agent = <-first:
	case <-time.After(10 * time.Second):
		t.Fatal("the first agent's phone never answered")
	}
	waitFor(t, "the bridge", func() bool { return heard() > 10 })

	if err := agent.Hold(ctx); err != nil {
		t.Fatal("hold:", err)
	}
	waitFor(t, "the engine to hold the call", func() bool {
		return r.obs.call(1).Status == switchboard.CallConnected && slices.Contains(r.whats(), "held")
	})
	time.Sleep(300 * time.Millisecond)
	if err := agent.Unhold(ctx); err != nil {
		t.Fatal("unhold:", err)
	}
	waitFor(t, "the engine to resume the call", func() bool { return slices.Contains(r.whats(), "resumed") })
	if c := r.obs.call(1); c.HoldSeconds < 0.2 {
		t.Errorf("held %.2f s; the phone held for about 0.3 s", c.HoldSeconds)
	}

	info := sip.NewRequest(sip.INFO, dlg.InviteResponse.Contact().Address)
	info.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	info.SetBody([]byte("Signal=7\r\nDuration=160\r\n"))
	if res, err := dlg.Do(ctx, info); err != nil || res.StatusCode != 200 {
		t.Fatalf("INFO digit: %v %v", res, err)
	}
	waitFor(t, "the INFO digit", func() bool { return r.obs.call(1).DTMF == "7" })

	if err := agent.Refer(ctx, sip.Uri{Scheme: "sip", User: "1002", Host: "127.0.0.1", Port: r.port}); err != nil {
		t.Fatal("refer:", err)
	}
	select {
	case <-second:
	case <-time.After(10 * time.Second):
		t.Fatal("the transfer never rang the second agent")
	}
	waitFor(t, "the first agent's leg to end", func() bool { return agent.Context().Err() != nil })
	first1 := r.obs.call(1)
	if first1.EndedAt == nil || first1.HangupCause != "transferred" {
		t.Errorf("the first call: ended %v, cause %q", first1.EndedAt, first1.HangupCause)
	}
	waitFor(t, "the transferred call to connect", func() bool { return r.obs.call(2).ConnectedAt != nil })
	next := r.obs.call(2)
	if next.ParentID == nil || *next.ParentID != 1 || next.AgentID == nil || *next.AgentID != 8 {
		t.Errorf("the transferred call: %+v", next)
	}
}
