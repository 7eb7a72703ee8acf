package siptest

import (
	"encoding/binary"
	"math"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// RTPProbe is an RTP endpoint on one loopback port that measures what it
// receives, per stream (source address and SSRC): packets, loss from the
// sequence numbers, RFC 3550 interarrival jitter, and RFC 4733 digits. It
// can also talk back (see ProbeMode), so that one Go socket stands in for
// the media of many calls at a fraction of what a sipp thread per call
// playing a capture costs.
type RTPProbe struct {
	conn *net.UDPConn
	mode ProbeMode
	done chan struct{}
	tone [][]byte // ProbeSend's frames, looped

	// sent and received count RTP packets, for throughput through a relay
	// that renumbers what it forwards (its drops leave no sequence gap).
	sent, received atomic.Int64

	mu      sync.Mutex
	streams map[streamKey]*probeStream
	peers   map[netip.AddrPort]*peer // ProbeSend's
}

// ProbeMode says what a probe sends.
type ProbeMode int

const (
	// ProbeListen only measures.
	ProbeListen ProbeMode = iota
	// ProbeEcho sends every packet back to where it came from, under
	// another SSRC: the far side sees a live, symmetric peer and a relay
	// carries both directions.
	ProbeEcho
	// ProbeSend sends its own stream, a 1 kHz A-law tone every 20 ms, to
	// each source it hears from or is kicked towards (a "kick <port>"
	// datagram), from the port the far side was told, until that source
	// has been silent for 2 s.
	ProbeSend
)

type streamKey struct {
	src  netip.AddrPort
	ssrc uint32
}

// RTPStream is what the probe measured for one stream.
type RTPStream struct {
	SSRC     uint32
	Source   netip.AddrPort
	Packets  int // received, duplicates included
	Expected int // from the first to the highest sequence number
	Lost     int // Expected minus distinct packets received, at least 0
	// Jitter is RFC 3550's interarrival jitter at its end, and MaxJitter
	// its largest value over the stream.
	Jitter, MaxJitter time.Duration
	Digits            string // RFC 4733 events, once per event
}

type probeStream struct {
	RTPStream
	baseSeq, maxSeq uint32 // extended sequence numbers
	seen            map[uint32]bool
	lastTransit     float64
	jitter          float64 // in timestamp units (1/8000 s)
	haveTransit     bool
	lastEventTS     uint32
	haveEvent       bool
}

// NewRTPProbe listens on a free loopback port until the test ends.
func NewRTPProbe(t testing.TB, mode ProbeMode) *RTPProbe {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("RTP probe: %v", err)
	}
	c.SetReadBuffer(8 << 20)
	c.SetWriteBuffer(8 << 20)
	p := &RTPProbe{conn: c, mode: mode, done: make(chan struct{}), streams: map[streamKey]*probeStream{}}
	if mode == ProbeSend {
		pkts, err := Audio{Codec: PCMA, ToneHz: 1000, Tone: time.Second}.packets()
		if err != nil {
			t.Fatal(err)
		}
		for _, pk := range pkts {
			p.tone = append(p.tone, pk.payload[12:])
		}
		p.peers = map[netip.AddrPort]*peer{}
		go p.send()
	}
	go p.run()
	t.Cleanup(p.Close)
	return p
}

// peer is a far end ProbeSend sends to.
type peer struct {
	ssrc      uint32
	seq       uint16
	ts        uint32
	frame     int
	lastHeard time.Time
}

// kick starts the stream to 127.0.0.1:port, named by a "kick <port>"
// datagram (ScenarioCaller's Vars["kick"] sends one with the answer's RTP
// port): a server that latches to the first RTP it receives sends nothing
// before it hears from the caller, so the caller must speak first.
func (p *RTPProbe) kick(port string) {
	n, err := strconv.Atoi(strings.TrimSpace(port))
	if err != nil || n < 1 || n > 65535 {
		return
	}
	to := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(n))
	p.mu.Lock()
	if p.peers[to] == nil {
		p.peers[to] = &peer{ssrc: uint32(n)<<16 | 0xca11, seq: uint16(n)}
	}
	p.peers[to].lastHeard = time.Now()
	p.mu.Unlock()
}

// send ticks every 20 ms and sends each live peer its next frame.
func (p *RTPProbe) send() {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	buf := make([]byte, 12+160)
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		now := time.Now()
		p.mu.Lock()
		for addr, pe := range p.peers {
			if now.Sub(pe.lastHeard) > 2*time.Second {
				delete(p.peers, addr)
				continue
			}
			buf[0], buf[1] = 0x80, byte(PCMA)
			binary.BigEndian.PutUint16(buf[2:], pe.seq)
			binary.BigEndian.PutUint32(buf[4:], pe.ts)
			binary.BigEndian.PutUint32(buf[8:], pe.ssrc)
			n := copy(buf[12:], p.tone[pe.frame%len(p.tone)])
			if _, err := p.conn.WriteToUDPAddrPort(buf[:12+n], addr); err == nil {
				p.sent.Add(1)
			}
			pe.seq++
			pe.ts += 160
			pe.frame++
		}
		p.mu.Unlock()
	}
}

// Port is the UDP port to advertise in SDP.
func (p *RTPProbe) Port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

// Close stops the probe.
func (p *RTPProbe) Close() {
	p.conn.Close()
	<-p.done
}

func (p *RTPProbe) run() {
	defer close(p.done)
	buf := make([]byte, 2048)
	start := time.Now()
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if p.mode == ProbeSend && n > 5 && string(buf[:5]) == "kick " {
			p.kick(string(buf[5:n]))
			continue
		}
		if n < 12 || buf[0]>>6 != 2 {
			continue
		}
		pt := buf[1] & 0x7f
		if pt >= 72 && pt <= 76 { // RTCP sent to the RTP port
			continue
		}
		p.received.Add(1)
		arrival := time.Since(start)
		seq := binary.BigEndian.Uint16(buf[2:])
		ts := binary.BigEndian.Uint32(buf[4:])
		ssrc := binary.BigEndian.Uint32(buf[8:])
		p.mu.Lock()
		key := streamKey{from, ssrc}
		s := p.streams[key]
		if s == nil {
			s = &probeStream{seen: map[uint32]bool{}}
			s.SSRC, s.Source = ssrc, from
			s.baseSeq, s.maxSeq = uint32(seq), uint32(seq)
			p.streams[key] = s
		}
		s.observe(seq, ts, pt, buf[12:n], arrival)
		if p.mode == ProbeSend {
			pe := p.peers[from]
			if pe == nil {
				pe = &peer{ssrc: ^ssrc, seq: uint16(ssrc)}
				p.peers[from] = pe
			}
			pe.lastHeard = time.Now()
		}
		p.mu.Unlock()
		if p.mode == ProbeEcho {
			binary.BigEndian.PutUint32(buf[8:], ^ssrc)
			if _, err := p.conn.WriteToUDPAddrPort(buf[:n], from); err == nil {
				p.sent.Add(1)
			}
		}
	}
}

func (s *probeStream) observe(seq uint16, ts uint32, pt uint8, payload []byte, arrival time.Duration) {
	s.Packets++
	// Extend the sequence number against the highest seen so far.
	ext := s.maxSeq&^0xffff | uint32(seq)
	switch d := int32(ext - s.maxSeq); {
	case d < -0x8000:
		ext += 0x10000
	case d > 0x8000:
		ext -= 0x10000
	}
	if int32(ext-s.maxSeq) > 0 {
		s.maxSeq = ext
	}
	if int32(ext-s.baseSeq) < 0 {
		s.baseSeq = ext
	}
	s.seen[ext] = true
	transit := arrival.Seconds()*8000 - float64(ts)
	if s.haveTransit {
		d := math.Abs(transit - s.lastTransit)
		s.jitter += (d - s.jitter) / 16
		if j := time.Duration(s.jitter / 8000 * float64(time.Second)); j > s.MaxJitter {
			s.MaxJitter = j
		}
	}
	s.lastTransit, s.haveTransit = transit, true
	if pt == TelephoneEventPT && len(payload) >= 4 && (!s.haveEvent || ts != s.lastEventTS) {
		s.lastEventTS, s.haveEvent = ts, true
		if payload[0] < 16 {
			s.Digits += string("0123456789*#ABCD"[payload[0]])
		}
	}
}

// Counts are the RTP packets the probe has sent and received so far. Sent
// by one probe and received by another over the same window they give the
// loss through a relay that renumbers packets.
func (p *RTPProbe) Counts() (sent, received int64) { return p.sent.Load(), p.received.Load() }

// Peers is how many far ends a ProbeSend probe is streaming to now: one
// per live call when the far side sends from the port it offered.
func (p *RTPProbe) Peers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.peers)
}

// Streams returns what was measured so far, ordered by SSRC and source.
func (p *RTPProbe) Streams() []RTPStream {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]RTPStream, 0, len(p.streams))
	for _, s := range p.streams {
		r := s.RTPStream
		r.Expected = int(s.maxSeq-s.baseSeq) + 1
		r.Lost = max(0, r.Expected-len(s.seen))
		r.Jitter = time.Duration(s.jitter / 8000 * float64(time.Second))
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SSRC != out[j].SSRC {
			return out[i].SSRC < out[j].SSRC
		}
		return out[i].Source.Port() < out[j].Source.Port()
	})
	return out
}
