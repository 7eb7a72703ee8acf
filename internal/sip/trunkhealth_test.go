package sip

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard"
)

// carrier is a SIP carrier on a real UDP socket of 127.0.0.1: a registrar
// that challenges every REGISTER without credentials (401, digest MD5) and
// checks the answer on its own (no shared code with the client), granting
// short registrations so that refreshes show within a test; and an OPTIONS
// responder that can be silenced.
type trunkCarrier struct {
	addr     string
	user     string
	password string
	grant    int // seconds
	answer   atomic.Bool

	mu        sync.Mutex
	registers []trunkRegisterSeen
	options   int
}

type trunkRegisterSeen struct {
	callID  string
	cseq    uint32
	expires string
	authed  bool
	contact string
}

func newTrunkCarrier(t *testing.T, user, password string, grant int) *trunkCarrier {
	t.Helper()
	c := &trunkCarrier{user: user, password: password, grant: grant}
	c.answer.Store(true)
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
	c.addr = conn.LocalAddr().String()
	const realm, nonce = "carrier.test", "5f1c7a0e9b"
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		seen := trunkRegisterSeen{callID: req.CallID().Value(), cseq: req.CSeq().SeqNo}
		if h := req.GetHeader("Expires"); h != nil {
			seen.expires = h.Value()
		}
		if h := req.Contact(); h != nil {
			seen.contact = h.Address.String()
		}
		auth := req.GetHeader("Authorization")
		if auth == nil {
			res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
			res.AppendHeader(sip.NewHeader("WWW-Authenticate", fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=MD5`, realm, nonce)))
			c.record(seen)
			tx.Respond(res)
			return
		}
		p := trunkDigestParams(auth.Value())
		ha1 := trunkMD5(p["username"] + ":" + realm + ":" + c.password)
		ha2 := trunkMD5("REGISTER:" + p["uri"])
		if p["username"] != c.user || p["nonce"] != nonce || p["response"] != trunkMD5(ha1+":"+nonce+":"+ha2) {
			c.record(seen)
			tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
			return
		}
		seen.authed = true
		c.record(seen)
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		exp := sip.ExpiresHeader(c.grant)
		if seen.expires == "0" {
			exp = 0
		}
		res.AppendHeader(&exp)
		tx.Respond(res)
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		c.mu.Lock()
		c.options++
		c.mu.Unlock()
		if c.answer.Load() {
			tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		}
	})
	go srv.ServeUDP(conn)
	t.Cleanup(func() {
		conn.Close()
		srv.Close()
		ua.Close()
	})
	return c
}

func (c *trunkCarrier) record(r trunkRegisterSeen) {
	c.mu.Lock()
	c.registers = append(c.registers, r)
	c.mu.Unlock()
}

func (c *trunkCarrier) seen() ([]trunkRegisterSeen, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]trunkRegisterSeen(nil), c.registers...), c.options
}

func trunkMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// trunkDigestParams reads the name="value" pairs of a Digest header.
func trunkDigestParams(v string) map[string]string {
	out := map[string]string{}
	for part := range strings.SplitSeq(strings.TrimPrefix(v, "Digest "), ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			out[k] = strings.Trim(val, `"`)
		}
	}
	return out
}

func newTrunkTestClient(t *testing.T) *sipgo.Client {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("switchboard"), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() }) // closes the client's connections too
	return client
}

// TestTrunkRegisterAndOptions runs Trunks.Run against a carrier on real UDP:
// the REGISTER is challenged and answered with the trunk's credentials,
// refreshed before the granted lifetime ends on the same Call-ID with a
// rising CSeq; OPTIONS keep the trunk up until the carrier stops answering,
// when it goes down (and outbound calls are refused) until it answers
// again; a wrong password shows as a failing registration; stopping Run
// unregisters.
func TestTrunkRegisterAndOptions(t *testing.T) {
	c := newTrunkCarrier(t, "acme", "s3cret", 2)
	client := newTrunkTestClient(t)
	ts := NewTrunks(TrunksOptions{Contact: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5060},
		RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond, OptionsTimeout: 300 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	trunk := switchboard.Trunk{ID: 7, TenantID: 1, Name: "carrier", OutboundURI: "sip:" + c.addr, Username: "acme", Password: "s3cret",
		Register: true, DefaultOutbound: true, OptionsIntervalSeconds: 1, Enabled: true}
	ts.Set([]switchboard.Trunk{trunk})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.Run(ctx, client) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	status := func() switchboard.TrunkStatus {
		st, _ := ts.TrunkStatus(trunk.ID)
		return st
	}

	// Registered and up; then refreshed (granted 2 s, so every second).
	waitFor(t, "registration", func() bool { st := status(); return st.Registered && st.State == switchboard.TrunkUp })
	if st := status(); st.RegisteredUntil == nil || time.Until(*st.RegisteredUntil) > 2*time.Second {
		t.Errorf("registered until %v, want within the 2 s granted", st.RegisteredUntil)
	}
	waitFor(t, "a refresh", func() bool {
		regs, _ := c.seen()
		n := 0
		for _, r := range regs {
			if r.authed {
				n++
			}
		}
		return n >= 3
	})
	regs, _ := c.seen()
	for i, r := range regs {
		if r.callID != regs[0].callID {
			t.Errorf("REGISTER %d has Call-ID %q, want the first's %q", i, r.callID, regs[0].callID)
		}
		if i > 0 && r.cseq <= regs[i-1].cseq {
			t.Errorf("REGISTER %d has CSeq %d after %d", i, r.cseq, regs[i-1].cseq)
		}
		if r.expires != "3600" || r.contact != "sip:acme@127.0.0.1:5060" {
			t.Errorf("REGISTER %d asks Expires %q with Contact %q", i, r.expires, r.contact)
		}
		if r.authed && regs[i-1].authed {
			t.Errorf("REGISTER %d was authorised without a challenge before it", i)
		}
	}
	if _, rel, err := ts.Outbound(1); err != nil {
		t.Fatalf("outbound through an up trunk: %v", err)
	} else {
		rel()
	}

	// The carrier stops answering OPTIONS: down, outbound refused; back up
	// when it answers again.
	c.answer.Store(false)
	waitFor(t, "the trunk down", func() bool { return status().State == switchboard.TrunkDown })
	if st := status(); !strings.HasPrefix(st.LastError, "OPTIONS: no answer") {
		t.Errorf("last error %q, want the unanswered OPTIONS", st.LastError)
	}
	if _, _, err := ts.Outbound(1); !errors.Is(err, ErrTrunkDown) {
		t.Errorf("outbound through a down trunk: %v, want ErrTrunkDown", err)
	}
	c.answer.Store(true)
	waitFor(t, "the trunk up again", func() bool { return status().State == switchboard.TrunkUp })

	// A wrong password: the carrier refuses, the trunk is down saying why,
	// and the registration is retried (with backoff).
	trunk.Password = "wrong"
	ts.Update(trunk)
	waitFor(t, "the refused registration", func() bool {
		st := status()
		return st.State == switchboard.TrunkDown && strings.Contains(st.LastError, "REGISTER: 403")
	})
	before, _ := c.seen()
	waitFor(t, "a retry", func() bool { regs, _ := c.seen(); return len(regs) >= len(before)+2 })

	// Fixed again, then Run stops: the registration is withdrawn.
	trunk.Password = "s3cret"
	ts.Update(trunk)
	waitFor(t, "registration again", func() bool { return status().Registered })
	cancel()
	<-done
	done <- nil // for the cleanup
	regs, _ = c.seen()
	last := regs[len(regs)-1]
	if last.expires != "0" || !last.authed {
		t.Errorf("last REGISTER: Expires %q, authorised %v; want an authorised unregister", last.expires, last.authed)
	}
	if st := status(); st.State != switchboard.TrunkUnknown || st.Registered {
		t.Errorf("after Run: %+v, want unknown and unregistered", st)
	}
}
