package sip

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard"
)

// benchInvite is a carrier's INVITE as it arrives, with its SDP offer: the
// work every inbound call costs before any trunk is looked at.
var benchInvite = []byte("INVITE sip:+390612345678@203.0.113.5:5060 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---6a7b5c3e2d1f;rport\r\n" +
	"Max-Forwards: 69\r\n" +
	"From: \"Mario Rossi\" <sip:+390112121212@192.0.2.10>;tag=7c9a1e\r\n" +
	"To: <sip:+390612345678@203.0.113.5>\r\n" +
	"Call-ID: 4f1c0e9b-8a37-4d2e-9c61-5b7a3e2f1d0c@192.0.2.10\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Contact: <sip:+390112121212@192.0.2.10:5060>\r\n" +
	"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY\r\n" +
	"Supported: timer, replaces\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: 233\r\n" +
	"\r\n" +
	"v=0\r\no=- 3912345678 3912345678 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
	"m=audio 16384 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n")

// benchTrunks is 10,000 trunks of 1,000 tenants: each with a /32 and a /24
// of IPv4, every tenth with an IPv6 /48, every tenth the default outbound
// with limits; and 1,024 source addresses, half of them a trunk's.
func benchTrunks() (*Trunks, []netip.Addr) {
	rng := rand.New(rand.NewPCG(13, 13))
	ts := NewTrunks(TrunksOptions{})
	var list []switchboard.Trunk
	var known []netip.Addr
	for i := range 10000 {
		a := netip.AddrFrom4([4]byte{byte(10 + i/4096), byte(i / 16 % 256), byte(i % 16 * 16), byte(1 + i%200)})
		p24, _ := a.Prefix(24)
		tr := switchboard.Trunk{ID: int64(i + 1), TenantID: int64(1 + i/10), Name: fmt.Sprint("t", i),
			InboundAddresses: []string{netip.PrefixFrom(a, 32).String(), p24.String()}, Enabled: true}
		if i%10 == 0 {
			tr.InboundAddresses = append(tr.InboundAddresses, fmt.Sprintf("2001:db8:%x::/48", i))
			tr.OutboundURI, tr.DefaultOutbound, tr.MaxConcurrentCalls, tr.CallsPerSecond = "sip:192.0.2.1", true, 1000000, 0
		}
		list = append(list, tr)
		known = append(known, a)
	}
	ts.Set(list)
	srcs := make([]netip.Addr, 1024)
	for i := range srcs {
		if i%2 == 0 {
			srcs[i] = known[rng.IntN(len(known))]
		} else {
			srcs[i] = netip.AddrFrom4([4]byte{198, 51, byte(rng.IntN(256)), byte(rng.IntN(256))})
		}
	}
	return ts, srcs
}

// BenchmarkTrunkPath measures, in alternating rounds of one process, what
// Trunks adds to each call against the parse of its INVITE (the baseline):
// MatchInbound among 10,000 trunks, and an outbound slot taken and
// released. It reports each cost per operation and its ratio to the parse.
func BenchmarkTrunkPath(b *testing.B) {
	ts, srcs := benchTrunks()
	const n = 20000
	var parse, match, outbound time.Duration
	var sink int64
	rounds := 0
	for b.Loop() {
		start := time.Now()
		for range n {
			m, err := sip.ParseMessage(benchInvite)
			if err != nil {
				b.Fatal(err)
			}
			if m != nil {
				sink++
			}
		}
		parse += time.Since(start)

		start = time.Now()
		for i := range n {
			if t, ok := ts.MatchInbound(srcs[i%len(srcs)]); ok {
				sink += t.ID
			}
		}
		match += time.Since(start)

		start = time.Now()
		for i := range n {
			t, release, err := ts.Outbound(int64(1 + i%100))
			if err != nil {
				b.Fatal(err)
			}
			sink += t.ID
			release()
		}
		outbound += time.Since(start)
		rounds++
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(rounds*n) }
	b.ReportMetric(per(parse), "ns/parse")
	b.ReportMetric(per(match), "ns/match")
	b.ReportMetric(per(outbound), "ns/outbound")
	b.ReportMetric(per(match)/per(parse), "match/parse")
	b.ReportMetric(per(outbound)/per(parse), "outbound/parse")
	if sink == 0 {
		b.Fatal("nothing matched")
	}
}

// BenchmarkTrunkOutboundParallel takes and releases outbound slots from
// every CPU at once on 100 tenants' trunks: the lock each call takes.
func BenchmarkTrunkOutboundParallel(b *testing.B) {
	ts, _ := benchTrunks()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.Int64N(100)
		for pb.Next() {
			_, release, err := ts.Outbound(1 + i%100)
			if err != nil {
				b.Error(err)
				return
			}
			release()
			i++
		}
	})
}
