package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchboard/internal/siptest"
)

// register sends REGISTER for user as a phone would and, when challenged,
// once more with a digest of password; it returns the final answer.
func register(ctx context.Context, t *testing.T, server, user, password string) siptest.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := siptest.DialRaw(server)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	aor := "sip:" + user + "@127.0.0.1"
	req := siptest.Request{Method: "REGISTER", URI: "sip:" + server, From: aor, To: aor, LocalPort: c.LocalPort(),
		Contact: fmt.Sprintf("sip:%s@127.0.0.1:%d", user, c.LocalPort()), Extra: []string{"Expires: 60"}, CallID: fmt.Sprintf("reg-%s-%d@siptest", user, time.Now().UnixNano())}
	res, err := c.Final(ctx, req.Build())
	if err != nil {
		t.Fatalf("REGISTER %s: no answer: %v", user, err)
	}
	if res.Status != 401 && res.Status != 407 {
		return res
	}
	challenge := res.Headers["www-authenticate"]
	header := "Authorization"
	if res.Status == 407 {
		challenge, header = res.Headers["proxy-authenticate"], "Proxy-Authorization"
	}
	req.CSeq, req.Branch = 2, ""
	req.Extra = append(req.Extra, header+": "+siptest.DigestAuthorization(challenge, "REGISTER", req.URI, user, password))
	res, err = c.Final(ctx, req.Build())
	if err != nil {
		t.Fatalf("REGISTER %s with digest: no answer: %v", user, err)
	}
	return res
}

// invite sends an INVITE for the number to from c, waits for its final
// answer and ACKs it (same branch and Call-ID, the answer's To tag), as a
// UA must for a refusal, so nothing retransmits.
func invite(ctx context.Context, c *siptest.RawClient, server, from, to string) (siptest.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	inv := siptest.Request{Method: "INVITE", URI: fmt.Sprintf("sip:%s@%s", to, server), From: from, To: "sip:" + to + "@" + server,
		LocalPort: c.LocalPort(), Contact: fmt.Sprintf("sip:x@127.0.0.1:%d", c.LocalPort()),
		Body: siptest.OfferSDP(c.LocalPort() + 2), ContentType: "application/sdp",
		Branch: fmt.Sprintf("z9hG4bKrelay%d", time.Now().UnixNano()), FromTag: "relay", CallID: fmt.Sprintf("relay-%d@siptest", time.Now().UnixNano())}
	res, err := c.Final(ctx, inv.Build())
	if err != nil {
		return res, fmt.Errorf("no final answer: %w", err)
	}
	if res.Status >= 300 {
		ack := inv
		ack.Method, ack.Body, ack.ContentType, ack.Contact = "ACK", "", "", ""
		c.Send([]byte(strings.Replace(ack.Build(), "To: <"+inv.To+">", "To: "+res.Headers["to"], 1)))
	}
	return res, nil
}

// TestSIPRefusesWhatItMust sends what a phone, a scanner or an attacker
// might: the right password (accepted, the control), a wrong password and
// an unknown extension (refused, the device stays unregistered), an
// unauthenticated INVITE to an outside number while an outbound trunk
// exists (refused, and the trunk's sipp never sees an INVITE: no open
// relay), and malformed requests (refused or dropped, and the server still
// answers a valid request afterwards).
func TestSIPRefusesWhatItMust(t *testing.T) {
	e := startSIPServer(t, 60*time.Second)
	team := e.agents(2)
	ann, bob := team[0], team[1]

	if res := register(e.ctx, t, e.sip, ann.ext, ann.password); res.Status != 200 {
		t.Fatalf("REGISTER with the right password: %d %s\n%s", res.Status, res.Reason, res.Raw)
	}
	e.registered(true, ann)
	if res := register(e.ctx, t, e.sip, bob.ext, "not-"+bob.password); res.Status < 400 {
		t.Errorf("REGISTER with a wrong password: %d %s", res.Status, res.Reason)
	}
	if res := register(e.ctx, t, e.sip, "7777", "whatever"); res.Status < 400 {
		t.Errorf("REGISTER of an unknown extension: %d %s", res.Status, res.Reason)
	}
	e.registered(false, bob)
	if strings.Contains(e.log.String(), bob.password) || strings.Contains(e.log.String(), ann.password) {
		t.Errorf("a SIP password appears in the server log")
	}

	trunk := siptest.Sipp{Scenario: siptest.ScenarioAgent, Calls: 1, Timeout: 20 * time.Second}.Start(e.ctx, t)
	if status, tr := e.c.do("POST", "/v1/trunks", map[string]any{"name": "out", "outbound_uri": fmt.Sprintf("sip:127.0.0.1:%d", trunk.Port()),
		"username": "u", "password": "p", "default_outbound": true}); status != 201 {
		t.Fatalf("POST /v1/trunks: %d %v", status, tr)
	}
	trunkSettles()
	c, err := siptest.DialRaw(e.sip)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, to := range []string{"+442079460000", "442079460000", "0044207946000", "9001"} {
		if res, err := invite(e.ctx, c, e.sip, "sip:anonymous@198.51.100.7", to); err != nil || res.Status < 400 {
			t.Errorf("relay INVITE to %s from no trunk and no phone: %d %s %v", to, res.Status, res.Reason, err)
		}
	}
	// With 127.0.0.1 now a carrier's address, the same INVITEs are inbound
	// calls to numbers that are not the tenant's DIDs: refused just the same.
	e.carrierTrunk()
	for _, to := range []string{"+442079460000", "442079460000"} {
		if res, err := invite(e.ctx, c, e.sip, "sip:+15550009999@127.0.0.1", to); err != nil || res.Status < 400 {
			t.Errorf("carrier INVITE to %s, not a DID: %d %s %v", to, res.Status, res.Reason, err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if res := trunk.Stop(); res.Incoming != 0 {
		t.Errorf("the outbound trunk received %d INVITEs from an unauthenticated relay attempt", res.Incoming)
	}

	garbage := []string{
		"\x00\x01\x02\x03 not SIP at all \xff\xfe",
		"INVITE sip:1001@127.0.0.1 SIP/2.0\r\n\r\n", // no Via, From, To, Call-ID, CSeq
		"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: g1\r\nCSeq: banana REGISTER\r\nContent-Length: 0\r\n\r\n",
		"INVITE sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKy\r\nFrom: <sip:a@127.0.0.1>;tag=2\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: g2\r\nCSeq: 1 INVITE\r\nContent-Length: 99999\r\n\r\nv=0\r\n",
		"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKz\r\n" + strings.Repeat("X-Filler: "+strings.Repeat("a", 16)+"\r\n", 150) + "\r\n",
	}
	for _, g := range garbage {
		if err := c.Send([]byte(g)); err != nil {
			t.Logf("sending %.30q: %v", g, err)
		}
	}
	ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
	for {
		res, err := c.Read(ctx)
		if err != nil {
			break
		}
		if res.Status < 400 {
			t.Errorf("a malformed request was accepted: %d %s\n%s", res.Status, res.Reason, res.Raw)
		}
	}
	cancel()
	if res := register(e.ctx, t, e.sip, ann.ext, ann.password); res.Status != 200 {
		t.Errorf("after the malformed requests a valid REGISTER gets %d %s", res.Status, res.Reason)
	}
	if status, _ := e.c.do("GET", "/healthz", nil); status != 200 {
		t.Errorf("GET /healthz after the malformed requests: %d", status)
	}
}
