package siptest

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"time"
)

// Codec is a G.711 payload type as sipp's scenarios offer it.
type Codec uint8

const (
	PCMU Codec = 0 // G.711 µ-law
	PCMA Codec = 8 // G.711 A-law
)

// TelephoneEventPT is the RFC 4733 payload type our scenarios' SDP declares
// (a=rtpmap:101 telephone-event/8000).
const TelephoneEventPT = 101

// Audio describes an RTP stream for sipp to play with play_pcap_audio: a
// sine tone for Tone, then each of Digits as an RFC 4733 event.
type Audio struct {
	Codec  Codec
	ToneHz float64       // 0: silence
	Tone   time.Duration // rounded down to 20 ms packets
	// Digits are keyed one after the other after the tone, each lasting
	// DigitLength (default 100 ms) with DigitGap (default 100 ms) between.
	Digits      string
	DigitLength time.Duration
	DigitGap    time.Duration
	SSRC        uint32
}

// Duration is how long the stream plays.
func (a Audio) Duration() time.Duration {
	d := a.Tone.Truncate(20 * time.Millisecond)
	for range a.Digits {
		d += a.digitLength() + a.digitGap()
	}
	return d
}

func (a Audio) digitLength() time.Duration {
	if a.DigitLength > 0 {
		return a.DigitLength.Truncate(20 * time.Millisecond)
	}
	return 100 * time.Millisecond
}

func (a Audio) digitGap() time.Duration {
	if a.DigitGap > 0 {
		return a.DigitGap.Truncate(20 * time.Millisecond)
	}
	return 100 * time.Millisecond
}

// rtpPacket is one packet with the time it is due, from the stream start.
type rtpPacket struct {
	at      time.Duration
	payload []byte // the whole RTP packet
}

// packets builds the stream: 20 ms G.711 frames, then per digit the event
// packets every 20 ms with a growing duration and three end packets sharing
// the event's timestamp (RFC 4733 §2.5.1.4), then silence frames for the gap
// so the media clock keeps running.
func (a Audio) packets() ([]rtpPacket, error) {
	var out []rtpPacket
	seq, ts := uint16(1), uint32(0)
	at := time.Duration(0)
	add := func(pt uint8, marker bool, timestamp uint32, body []byte) {
		h := make([]byte, 12, 12+len(body))
		h[0] = 0x80
		h[1] = pt
		if marker {
			h[1] |= 0x80
		}
		binary.BigEndian.PutUint16(h[2:], seq)
		binary.BigEndian.PutUint32(h[4:], timestamp)
		binary.BigEndian.PutUint32(h[8:], a.SSRC)
		out = append(out, rtpPacket{at: at, payload: append(h, body...)})
		seq++
	}
	phase := 0.0
	frame := func(hz float64) []byte {
		b := make([]byte, 160)
		for i := range b {
			s := 0.0
			if hz > 0 {
				s = 0.5 * math.Sin(phase)
				phase += 2 * math.Pi * hz / 8000
			}
			b[i] = encodeG711(a.Codec, int16(s*32767))
		}
		return b
	}
	for range int(a.Tone / (20 * time.Millisecond)) {
		add(uint8(a.Codec), len(out) == 0, ts, frame(a.ToneHz))
		ts += 160
		at += 20 * time.Millisecond
	}
	for _, d := range a.Digits {
		ev, ok := dtmfEvent(d)
		if !ok {
			return nil, fmt.Errorf("siptest: %q is not a DTMF digit", d)
		}
		start := ts
		n := int(a.digitLength() / (20 * time.Millisecond))
		for i := 1; i <= n; i++ {
			dur := uint16(160 * i)
			end := i == n
			repeat := 1
			if end {
				repeat = 3
			}
			for range repeat {
				flags := byte(10) // volume -10 dBm0
				if end {
					flags |= 0x80
				}
				add(TelephoneEventPT, i == 1, start, []byte{ev, flags, byte(dur >> 8), byte(dur)})
			}
			ts += 160
			at += 20 * time.Millisecond
		}
		for range int(a.digitGap() / (20 * time.Millisecond)) {
			add(uint8(a.Codec), false, ts, frame(0))
			ts += 160
			at += 20 * time.Millisecond
		}
	}
	return out, nil
}

// dtmfEvent maps a key to its RFC 4733 event code.
func dtmfEvent(d rune) (byte, bool) {
	switch {
	case d >= '0' && d <= '9':
		return byte(d - '0'), true
	case d == '*':
		return 10, true
	case d == '#':
		return 11, true
	case d >= 'A' && d <= 'D':
		return byte(12 + d - 'A'), true
	}
	return 0, false
}

// WritePCAP writes the stream as a libpcap file of Ethernet/IPv4/UDP frames,
// the form sipp's play_pcap_audio reads. sipp replaces the addresses and
// ports with the call's own and keeps the RTP packets and their timing.
func (a Audio) WritePCAP(path string) error {
	pkts, err := a.packets()
	if err != nil {
		return err
	}
	var b []byte
	// Global header: magic, version 2.4, zone 0, sigfigs 0, snaplen, Ethernet.
	b = binary.LittleEndian.AppendUint32(b, 0xa1b2c3d4)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 65535)
	b = binary.LittleEndian.AppendUint32(b, 1)
	base := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for _, p := range pkts {
		frame := udpFrame(p.payload)
		t := base.Add(p.at)
		b = binary.LittleEndian.AppendUint32(b, uint32(t.Unix()))
		b = binary.LittleEndian.AppendUint32(b, uint32(t.Nanosecond()/1000))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(frame)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(frame)))
		b = append(b, frame...)
	}
	return os.WriteFile(path, b, 0o644)
}

// udpFrame wraps an RTP packet in Ethernet, IPv4 and UDP headers from
// 127.0.0.1:6000 to 127.0.0.1:6000 (sipp rewrites both).
func udpFrame(rtp []byte) []byte {
	f := make([]byte, 0, 14+20+8+len(rtp))
	f = append(f, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00)
	ip := []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1}
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(rtp)))
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip))
	f = append(f, ip...)
	udp := make([]byte, 8)
	binary.BigEndian.PutUint16(udp[0:], 6000)
	binary.BigEndian.PutUint16(udp[2:], 6000)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(rtp)))
	f = append(f, udp...)
	return append(f, rtp...)
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// encodeG711 encodes one linear sample.
func encodeG711(c Codec, s int16) byte {
	if c == PCMA {
		return encodeAlaw(s)
	}
	return encodeUlaw(s)
}

// encodeUlaw is ITU-T G.711 µ-law.
func encodeUlaw(s int16) byte {
	const bias, clip = 0x84, 32635
	x := int(s)
	sign := 0
	if x < 0 {
		x, sign = -x, 0x80
	}
	if x > clip {
		x = clip
	}
	x += bias
	exp := 7
	for mask := 0x4000; x&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (x >> (exp + 3)) & 0x0f
	return ^byte(sign | exp<<4 | mant)
}

// encodeAlaw is ITU-T G.711 A-law.
func encodeAlaw(s int16) byte {
	x := int(s) >> 3 // 13-bit magnitude
	sign := 0x80
	if x < 0 {
		x, sign = -x-1, 0
	}
	var out int
	if x < 32 {
		out = x >> 1
	} else {
		exp := 1
		for v := x >> 5; v > 1; v >>= 1 {
			exp++
		}
		if exp > 7 {
			out = 0x7f // clipped
		} else {
			out = exp<<4 | (x>>exp)&0x0f
		}
	}
	return byte(out|sign) ^ 0x55
}

// decodeG711 decodes one sample; the WAV checks and the RTP probe use it.
func decodeG711(c Codec, b byte) int16 {
	if c == PCMA {
		return decodeAlaw(b)
	}
	return decodeUlaw(b)
}

func decodeUlaw(b byte) int16 {
	b = ^b
	sign := b & 0x80
	exp := int(b>>4) & 7
	mant := int(b & 0x0f)
	x := ((mant << 3) + 0x84) << exp
	x -= 0x84
	if sign != 0 {
		return int16(-x)
	}
	return int16(x)
}

func decodeAlaw(b byte) int16 {
	b ^= 0x55
	sign := b & 0x80
	exp := int(b>>4) & 7
	mant := int(b & 0x0f)
	var x int
	if exp == 0 {
		x = mant<<4 + 8
	} else {
		x = (mant<<4 + 0x108) << (exp - 1)
	}
	if sign != 0 {
		return int16(x)
	}
	return int16(-x)
}
