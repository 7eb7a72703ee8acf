package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard"
)

// trunkInvitedCall is what the carrier saw of one outbound call.
type trunkInvitedCall struct {
	dialled, from string
	challenged    bool
	acked, byed   bool
}

// TestOutboundCallThroughTrunk places a call the way the driver does
// (RouteOutbound, then a dialog client answering the challenge) to a carrier on real
// UDP that challenges INVITEs with 407: the carrier sees the dialled number
// and caller id written by the trunk's rules and the digest answered with
// the trunk's credentials; a call over the trunk's concurrent-call limit is
// refused before anything is sent.
func TestOutboundCallThroughTrunk(t *testing.T) {
	const realm, nonce = "carrier.test", "0b7e3c1d"
	var mu sync.Mutex
	var calls []*trunkInvitedCall
	byCallID := map[string]*trunkInvitedCall{}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("carrier"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		mu.Lock()
		c := byCallID[req.CallID().Value()]
		if c == nil {
			c = &trunkInvitedCall{dialled: req.Recipient.User, from: req.From().Address.User}
			byCallID[req.CallID().Value()] = c
			calls = append(calls, c)
		}
		mu.Unlock()
		auth := req.GetHeader("Proxy-Authorization")
		if auth == nil {
			mu.Lock()
			c.challenged = true
			mu.Unlock()
			res := sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
			res.AppendHeader(sip.NewHeader("Proxy-Authenticate", fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=MD5`, realm, nonce)))
			tx.Respond(res)
			return
		}
		p := trunkDigestParams(auth.Value())
		ha1 := trunkMD5(p["username"] + ":" + realm + ":s3cret")
		if p["username"] != "acme" || p["response"] != trunkMD5(ha1+":"+nonce+":"+trunkMD5("INVITE:"+p["uri"])) {
			tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
			return
		}
		sdp := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")
		res := sip.NewResponseFromRequest(req, 200, "OK", sdp)
		res.To().Params.Add("tag", sip.GenerateTagN(8))
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: conn.LocalAddr().(*net.UDPAddr).Port}})
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		tx.Respond(res)
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		mu.Lock()
		if c := byCallID[req.CallID().Value()]; c != nil {
			c.acked = true
		}
		mu.Unlock()
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		mu.Lock()
		if c := byCallID[req.CallID().Value()]; c != nil {
			c.byed = true
		}
		mu.Unlock()
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go srv.ServeUDP(conn)
	t.Cleanup(func() {
		conn.Close()
		srv.Close()
		ua.Close()
	})

	ts := NewTrunks(TrunksOptions{})
	ts.Set([]switchboard.Trunk{{ID: 1, TenantID: 1, Name: "out", OutboundURI: "sip:" + conn.LocalAddr().String(), Username: "acme", Password: "s3cret",
		DefaultOutbound: true, StripPlus: true, Prefix: "00", CallerID: "+390612345678", MaxConcurrentCalls: 1, Enabled: true}})
	client := newTrunkTestClient(t)
	dialogs := sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5060}})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := ts.RouteOutbound(1, "+44 20 7123 4567", "+15550001111")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: r.CallerID, Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	offer := []byte("v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 8 0\r\n")
	dlg, err := dialogs.Invite(ctx, r.URI, offer, from, sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: r.Username, Password: r.Password}); err != nil {
		t.Fatalf("the call through the trunk was not answered: %v", err)
	}
	if err := dlg.Ack(ctx); err != nil {
		t.Fatal(err)
	}

	// While it lasts, the trunk's one slot is taken.
	if _, err := ts.RouteOutbound(1, "+442071234567", ""); !errors.Is(err, ErrTrunkBusy) {
		t.Errorf("a second call over max_concurrent_calls 1: %v, want ErrTrunkBusy", err)
	}
	if err := dlg.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	dlg.Close()
	r.Release()
	if r2, err := ts.RouteOutbound(1, "+442071234567", ""); err != nil {
		t.Errorf("after the call's release: %v", err)
	} else {
		r2.Release()
	}

	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 1 {
		t.Fatalf("the carrier saw %d calls, want 1", len(calls))
	}
	c := calls[0]
	if c.dialled != "00442071234567" || c.from != "390612345678" || !c.challenged || !c.acked || !c.byed {
		t.Errorf("the carrier saw %+v; want 00442071234567 from 390612345678, challenged, acked and ended", *c)
	}
}
