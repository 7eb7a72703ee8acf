package siptest

import (
	"context"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSippCallerToAgent runs the carrier scenario against the agent
// scenario, sipp to sipp, with the agent's RTP pointed at a probe: the
// call succeeds on both sides and the probe hears every packet of the
// generated capture, in time, and its digits.
func TestSippCallerToAgent(t *testing.T) {
	Require(t, SippBinary)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	probe := NewRTPProbe(t, ProbeListen)
	agent := Sipp{Scenario: ScenarioAgent, Calls: 1, Timeout: 30 * time.Second,
		Vars: map[string]string{"ring_ms": "200", "sdp_port": itoa(probe.Port())}}.Start(ctx, t)
	audio := &Audio{Codec: PCMA, ToneHz: 1000, Tone: time.Second, Digits: "4#", SSRC: 0x1234}
	caller := Sipp{Scenario: ScenarioCaller, Remote: addr(agent.Port()), Service: "15550001234", Calls: 1,
		Audio: audio, Vars: map[string]string{"talk_ms": "1600"}, Timeout: 30 * time.Second}.Run(ctx, t)
	if caller.ExitCode != 0 || caller.Successful != 1 || caller.Failed != 0 {
		t.Fatalf("caller: %v", caller)
	}
	res := agent.Wait()
	if res.ExitCode != 0 || res.Successful != 1 {
		t.Fatalf("agent: %v", res)
	}
	streams := probe.Streams()
	if len(streams) != 1 {
		t.Fatalf("probe streams %+v", streams)
	}
	s := streams[0]
	want, _ := audio.packets()
	if s.SSRC != 0x1234 || s.Packets != len(want) || s.Lost != 0 || s.Digits != "4#" || s.MaxJitter > 20*time.Millisecond {
		t.Errorf("probe heard %+v, want %d packets, none lost, digits 4#, jitter under 20 ms", s, len(want))
	}
}

// TestSippCancelWhileRinging runs the cancelling caller against the
// ringing phone: both complete (200 for the CANCEL, 487, ACK).
func TestSippCancelWhileRinging(t *testing.T) {
	Require(t, SippBinary)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	phone := Sipp{Scenario: ScenarioRing, Calls: 2, Timeout: 20 * time.Second}.Start(ctx, t)
	caller := Sipp{Scenario: ScenarioCancel, Remote: addr(phone.Port()), Service: "1001", Calls: 2, Rate: 5,
		Vars: map[string]string{"ring_ms": "300"}, Timeout: 20 * time.Second}.Run(ctx, t)
	if caller.ExitCode != 0 || caller.Successful != 2 {
		t.Fatalf("caller: %v", caller)
	}
	if res := phone.Wait(); res.ExitCode != 0 || res.Successful != 2 {
		t.Fatalf("phone: %v", res)
	}
}

// TestSippRegisterDigest registers two users against a sipp registrar that
// verifies the digest; with a wrong password the registering sipp fails
// (exit 1), so a refused registration cannot pass unnoticed.
func TestSippRegisterDigest(t *testing.T) {
	Require(t, SippBinary)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		password string
		exit     int
	}{{"s3cret", 0}, {"wrong", 1}} {
		registrar := Sipp{Scenario: "uas_registrar.xml", Calls: 1, Timeout: 10 * time.Second,
			Vars: map[string]string{"username": "agent7", "password": "s3cret"}}.Start(ctx, t)
		res := Sipp{Scenario: ScenarioRegister, Remote: addr(registrar.Port()), Calls: 1, Timeout: 5 * time.Second,
			Users: AgentUsers(map[string]string{"agent7": tc.password})}.Run(ctx, t)
		if res.ExitCode != tc.exit {
			t.Errorf("password %q: %v", tc.password, res)
		}
		registrar.Stop()
	}
}

// TestBaresipAnswersSipp has baresip auto-answer a sipp carrier call: the
// call completes, and the recording of what baresip heard carries the
// caller's 1 kHz tone while the probe at the carrier hears baresip's 440 Hz
// sine (the RTP flows both ways).
func TestBaresipAnswersSipp(t *testing.T) {
	Require(t, SippBinary, BaresipBinary)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	phone := StartBaresip(ctx, t, BaresipConfig{User: "agent1", AutoAnswer: true})
	res := Sipp{Scenario: ScenarioCaller, Remote: addr(phone.SIPPort()), Service: "agent1", Calls: 1,
		Audio: &Audio{Codec: PCMA, ToneHz: 1000, Tone: 2 * time.Second, SSRC: 7}, Vars: map[string]string{"talk_ms": "2500"},
		Timeout: 20 * time.Second}.Run(ctx, t)
	if res.ExitCode != 0 || res.Successful != 1 {
		t.Fatalf("caller: %v\nbaresip:\n%s", res, phone.Log())
	}
	if _, err := phone.Await(ctx, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	phone.Close()
	var heard *WAV
	for _, f := range phone.Recordings() {
		if strings.HasSuffix(f, "-dec.wav") {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if heard, err = ParseWAV(b); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
	}
	if heard == nil {
		t.Fatalf("baresip wrote no -dec.wav: %v\n%s", phone.Recordings(), phone.Log())
	}
	if d := heard.Duration(); d < 1500*time.Millisecond || d > 4*time.Second {
		t.Errorf("recording lasts %v, want about 2.5 s", d)
	}
	tone, other := heard.ToneLevel(0, 1000, Span{}), heard.ToneLevel(0, 440, Span{})
	if tone < 0.1 || other > tone/10 {
		t.Errorf("what baresip heard: 1 kHz at %.3f, 440 Hz at %.3f; want the caller's 1 kHz tone", tone, other)
	}
}

// TestBaresipDialsThroughDigest has baresip place a call to a sipp trunk
// that challenges with 401: with the right password the call is answered
// and hung up from baresip; with a wrong one the trunk's sipp fails.
func TestBaresipDialsThroughDigest(t *testing.T) {
	Require(t, SippBinary, BaresipBinary)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, tc := range []struct {
		password string
		ok       bool
	}{{"trunkpw", true}, {"nope", false}} {
		trunk := Sipp{Scenario: ScenarioAuthUAS, Calls: 1, Timeout: 15 * time.Second,
			Vars: map[string]string{"username": "out", "password": "trunkpw"}}.Start(ctx, t)
		phone := StartBaresip(ctx, t, BaresipConfig{User: "out", Password: tc.password})
		if err := phone.Dial(ctx, "sip:+390112121212@"+addr(trunk.Port())); err != nil {
			t.Fatal(err)
		}
		if tc.ok {
			if _, err := phone.Await(ctx, "CALL_ESTABLISHED"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			if err := phone.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := phone.Await(ctx, "CALL_CLOSED"); err != nil {
			t.Fatal(err)
		}
		res := trunk.Wait()
		if (res.ExitCode == 0) != tc.ok {
			t.Errorf("password %q: trunk %v", tc.password, res)
		}
		phone.Close()
	}
}

// TestWAVAndPCAPRoundTrip checks the generator and the analyser against each
// other: G.711 round trips within its quantisation, and a tone is found at
// its frequency and not at another.
func TestWAVAndPCAPRoundTrip(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		for _, s := range []int16{0, 100, -100, 1000, -1000, 12345, -12345, 32000, -32000} {
			got := decodeG711(c, encodeG711(c, s))
			if d := int(got) - int(s); d*d > (int(s)/16+40)*(int(s)/16+40) {
				t.Errorf("codec %d: %d decodes as %d", c, s, got)
			}
		}
	}
	a := Audio{Codec: PCMU, ToneHz: 697, Tone: 400 * time.Millisecond, Digits: "12"}
	pkts, err := a.packets()
	if err != nil {
		t.Fatal(err)
	}
	if got := pkts[len(pkts)-1].at + 20*time.Millisecond; got != a.Duration() {
		t.Errorf("last packet due at %v, want the stream to last %v", got, a.Duration())
	}
	// Build a stereo WAV: the tone left, silence right.
	var pcm []int16
	for _, p := range pkts {
		if p.payload[1]&0x7f != byte(PCMU) {
			continue
		}
		for _, b := range p.payload[12:] {
			pcm = append(pcm, decodeG711(PCMU, b), 0)
		}
	}
	w, err := ParseWAV(wavBytes(8000, 2, pcm))
	if err != nil {
		t.Fatal(err)
	}
	if w.Channels != 2 || w.Duration() < 600*time.Millisecond {
		t.Fatalf("wav %d channels, %v", w.Channels, w.Duration())
	}
	first := Span{Length: 400 * time.Millisecond}
	if l := w.ToneLevel(0, 697, first); l < 0.4 || l > 0.6 {
		t.Errorf("697 Hz at %.3f, want about 0.5", l)
	}
	if l := w.ToneLevel(0, 1209, first); l > 0.02 {
		t.Errorf("1209 Hz at %.3f, want none", l)
	}
	if r := w.RMS(1, Span{}); r != 0 || w.ActiveFraction(1, 0.01) != 0 {
		t.Errorf("right channel RMS %.3f, want silence", r)
	}
	if f := w.ActiveFraction(0, 0.1); f < 0.5 || f > 0.8 {
		t.Errorf("left channel active %.2f of the time, want the tone's 400 of 800 ms", f)
	}
}

func wavBytes(rate, channels int, pcm []int16) []byte {
	le16 := func(b []byte, v uint16) []byte { return append(b, byte(v), byte(v>>8)) }
	le32 := func(b []byte, v uint32) []byte { return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
	var b []byte
	b = append(b, "RIFF"...)
	b = le32(b, uint32(36+2*len(pcm)))
	b = append(b, "WAVEfmt "...)
	b = le32(b, 16)
	b = le16(b, 1)
	b = le16(b, uint16(channels))
	b = le32(b, uint32(rate))
	b = le32(b, uint32(rate*channels*2))
	b = le16(b, uint16(channels*2))
	b = le16(b, 16)
	b = append(b, "data"...)
	b = le32(b, uint32(2*len(pcm)))
	for _, s := range pcm {
		b = le16(b, uint16(s))
	}
	return b
}

func addr(port int) string { return "127.0.0.1:" + itoa(port) }

func itoa(n int) string { return strconv.Itoa(n) }

// TestBaresipRegisters has baresip register with digest to a sipp
// registrar that verifies the response; WaitRegistered sees it stand.
func TestBaresipRegisters(t *testing.T) {
	Require(t, SippBinary, BaresipBinary)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	registrar := Sipp{Scenario: "uas_registrar.xml", Calls: 1, Timeout: 20 * time.Second,
		Vars: map[string]string{"username": "agent7", "password": "s3cret"}}.Start(ctx, t)
	phone := StartBaresip(ctx, t, BaresipConfig{User: "agent7", Password: "s3cret", Registrar: addr(registrar.Port()), RegisterSeconds: 600})
	if err := phone.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	if res := registrar.Wait(); res.ExitCode != 0 || res.Successful != 1 {
		t.Errorf("registrar: %v", res)
	}
}

// TestToneLevelWindowedSurvivesPhaseJumps builds a tone whose phase flips
// every 150 ms: over the whole span the pieces cancel, in 100 ms windows
// (a third of which hold a flip) the tone still shows, and a frequency that
// is not there stays near zero.
func TestToneLevelWindowedSurvivesPhaseJumps(t *testing.T) {
	var pcm []int16
	for i := range 9600 {
		v := 0.5 * math.Sin(2*math.Pi*1000*float64(i)/8000)
		if (i/1200)%2 == 1 {
			v = -v
		}
		pcm = append(pcm, int16(v*32767))
	}
	w, err := ParseWAV(wavBytes(8000, 1, pcm))
	if err != nil {
		t.Fatal(err)
	}
	if whole := w.ToneLevel(0, 1000, Span{}); whole > 0.05 {
		t.Errorf("whole-span level %.3f, want the flips to cancel", whole)
	}
	if l := w.ToneLevelWindowed(0, 1000, Span{}, 100*time.Millisecond); l < 0.2 {
		t.Errorf("windowed level %.3f, want the tone found", l)
	}
	if l := w.ToneLevelWindowed(0, 1400, Span{}, 100*time.Millisecond); l > 0.05 {
		t.Errorf("1400 Hz windowed level %.3f, want none", l)
	}
}

// TestRTPProbeTalksBack shows both ways a probe answers: ProbeSend streams
// its tone, 50 packets a second in sequence, to a source it heard from and
// stops once the source falls silent; ProbeEcho returns each packet under
// the inverted SSRC.
func TestRTPProbeTalksBack(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pkt := []byte{0x80, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0x12, 0x34}
	pkt = append(pkt, make([]byte, 160)...)
	buf := make([]byte, 2048)

	sender := NewRTPProbe(t, ProbeSend)
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sender.Port()}
	c.WriteToUDP(pkt, to)
	var got []uint16
	c.SetReadDeadline(time.Now().Add(time.Second))
	for {
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			break
		}
		if n == 172 && buf[1] == byte(PCMA) {
			got = append(got, uint16(buf[2])<<8|uint16(buf[3]))
		}
	}
	if len(got) < 40 || len(got) > 55 {
		t.Errorf("ProbeSend sent %d packets in a second, want about 50", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1]+1 {
			t.Fatalf("sequence jumps: %v", got)
		}
	}
	time.Sleep(2500 * time.Millisecond) // silent source: the probe stops
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		if _, _, err := c.ReadFromUDP(buf); err != nil {
			break
		}
	}
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, _, err := c.ReadFromUDP(buf); err == nil {
		t.Errorf("ProbeSend still sends to a source silent for 2 s")
	}

	echo := NewRTPProbe(t, ProbeEcho)
	c.WriteToUDP(pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: echo.Port()})
	c.SetReadDeadline(time.Now().Add(time.Second))
	n, _, err := c.ReadFromUDP(buf)
	if err != nil || n != len(pkt) || buf[10] != ^byte(0x12) || buf[11] != ^byte(0x34) {
		t.Errorf("echo: %d bytes %x, %v", n, buf[:min(n, 12)], err)
	}
	if s := echo.Streams(); len(s) != 1 || s[0].Packets != 1 || s[0].SSRC != 0x1234 {
		t.Errorf("echo probe measured %+v", s)
	}
	if sent, received := echo.Counts(); sent != 1 || received != 1 {
		t.Errorf("echo probe counts %d sent, %d received; want 1 and 1", sent, received)
	}
}

// TestSippKicksProbe runs the carrier scenario with kick against the agent
// scenario whose answer offers a listening probe: the caller's probe,
// kicked with the answer's RTP port, streams its tone there, and the
// listening probe hears it.
func TestSippKicksProbe(t *testing.T) {
	Require(t, SippBinary)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	far := NewRTPProbe(t, ProbeListen)
	near := NewRTPProbe(t, ProbeSend)
	agent := Sipp{Scenario: ScenarioAgent, Calls: 1, Timeout: 20 * time.Second,
		Vars: map[string]string{"sdp_port": strconv.Itoa(far.Port())}}.Start(ctx, t)
	res := Sipp{Scenario: ScenarioCaller, Remote: addr(agent.Port()), Service: "1", Calls: 1, Timeout: 20 * time.Second,
		Vars: map[string]string{"talk_ms": "1000", "sdp_port": strconv.Itoa(near.Port()), "kick": strconv.Itoa(near.Port())}}.Run(ctx, t)
	if res.ExitCode != 0 {
		t.Fatalf("caller: %v", res.String()+res.Stderr)
	}
	agent.Wait()
	if s := far.Streams(); len(s) != 1 || s[0].Packets < 30 || s[0].Lost != 0 {
		t.Errorf("the far probe heard %+v, want about 50 packets from the kicked stream", s)
	}
}
