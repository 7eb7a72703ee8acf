package sip_test

import (
	"context"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// BareUASEnv names the listen address (host:port, UDP) at which
// TestBareUAS serves; bench/sip.sh sets it. Unset, the test skips.
const BareUASEnv = "SWITCHBOARD_SIP_BARE_UAS"

// TestBareUAS is the baseline of the signalling benchmark (bench/sip.sh):
// a sipgo UAS with nothing behind it, answering every INVITE with 200 and a
// fixed SDP, taking the ACK and the BYE, as fast as sipgo goes. The B2BUA's
// calls per second are set against this UAS's, driven by the same sipp
// scenario on the same machine. It serves until SIGTERM, SIGINT or
// SWITCHBOARD_SIP_BARE_UAS_SECONDS.
func TestBareUAS(t *testing.T) {
	addr := os.Getenv(BareUASEnv)
	if addr == "" {
		t.Skipf("%s is not set; bench/sip.sh runs this as the signalling baseline", BareUASEnv)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if s, err := strconv.Atoi(os.Getenv("SWITCHBOARD_SIP_BARE_UAS_SECONDS")); err == nil && s > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(s)*time.Second)
		defer cancel()
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("switchboard-bare-uas"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(ua)
	if err != nil {
		t.Fatal(err)
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portText)
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: host, Port: port}}
	dialogs := sipgo.NewDialogServerCache(client, contact)
	sdp := []byte("v=0\r\no=bare 1 1 IN IP4 " + host + "\r\ns=-\r\nc=IN IP4 " + host + "\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n")
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := dialogs.ReadInvite(req, tx)
		if err != nil {
			return
		}
		defer dlg.Close()
		if err := dlg.RespondSDP(sdp); err != nil {
			return
		}
		select {
		case <-dlg.Context().Done():
		case <-time.After(30 * time.Second):
		case <-ctx.Done():
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { dialogs.ReadAck(req, tx) })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) { dialogs.ReadBye(req, tx) })
	t.Logf("bare sipgo UAS on udp:%s", addr)
	if err := srv.ListenAndServe(ctx, "udp", addr); err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
}
