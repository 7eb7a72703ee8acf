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

// invitedCall is what the carrier saw of one outbound call.
type invitedCall struct {
	dialled, from string
	challenged    bool
	acked, byed   bool
}

// TestOutboundCallThroughTrunk places a call the way the driver does
// (Outbound, then Dial, then sipgo's dialog client) to a carrier on real
// UDP that challenges INVITEs with 407: the carrier sees the dialled number
// and caller id written by the trunk's rules and the digest answered with
// the trunk's credentials; a call over the trunk's concurrent-call limit is
// refused before anything is sent.
func TestOutboundCallThroughTrunk(t *testing.T) {
	const realm, nonce = "carrier.test", "0b7e3c1d"
	var mu sync.Mutex
	var calls []*invitedCall
	byCallID := map[string]*invitedCall{}
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
			c = &invitedCall{dialled: req.Recipient.User, from: req.From().Address.User}
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
		p := digestParams(auth.Value())
		ha1 := md5hex(p["username"] + ":" + realm + ":s3cret")
		if p["username"] != "acme" || p["response"] != md5hex(ha1+":"+nonce+":"+md5hex("INVITE:"+p["uri"])) {
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
	client := newTestClient(t)
	dialogs := sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5060}})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	trunk, release, err := ts.Outbound(1)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	d, err := Dial(trunk, "+44 20 7123 4567", "+15550001111", "")
	if err != nil {
		t.Fatal(err)
	}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: d.CallerID, Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	offer := []byte("v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 8 0\r\n")
	dlg, err := dialogs.Invite(ctx, d.Recipient, offer, from, sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: d.Auth.Username, Password: d.Auth.Password}); err != nil {
		t.Fatalf("the call through the trunk was not answered: %v", err)
	}
	if err := dlg.Ack(ctx); err != nil {
		t.Fatal(err)
	}

	// While it lasts, the trunk's one slot is taken.
	if _, _, err := ts.Outbound(1); !errors.Is(err, ErrTrunkBusy) {
		t.Errorf("a second call over max_concurrent_calls 1: %v, want ErrTrunkBusy", err)
	}
	if err := dlg.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	dlg.Close()
	release()

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
