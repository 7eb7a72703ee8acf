package sip

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/audio"
	"switchboard/internal/engine"
	"switchboard/internal/siptest"
)

// The driver's tests run it under the real engine, with real SIP peers made
// of diago user agents on 127.0.0.1: a carrier that calls a DID and an
// agent's phone that answers.

// freePort finds a free UDP port on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	return siptest.FreeUDPPort(t)
}

// staticPhones is a registrar whose bindings the test sets.
type staticPhones struct {
	mu       sync.Mutex
	contacts map[string][]Contact
}

func (p *staticPhones) ServeREGISTER(req *sip.Request, tx sip.ServerTransaction) {
	tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
}

// set binds device to contacts, as a REGISTER would.
func (p *staticPhones) set(device string, contacts ...Contact) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.contacts[device] = contacts
}

func (p *staticPhones) Contacts(device string) []Contact {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.contacts[device]
}
func (p *staticPhones) Registered(device string) bool { return len(p.Contacts(device)) > 0 }
func (p *staticPhones) IsPhone(netip.AddrPort) bool   { return false }
func (p *staticPhones) Authenticate(req *sip.Request, tx sip.ServerTransaction) (Caller, bool) {
	tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
	return Caller{}, false
}

// loopbackCarrier treats 127.0.0.1 as tenant 1's carrier.
type loopbackCarrier struct{ out sip.Uri }

func (c loopbackCarrier) InboundTenant(_ context.Context, src netip.Addr, _ *sip.Request) (int64, error) {
	if !src.IsLoopback() {
		return 0, ErrNotFromTrunk
	}
	return 1, nil
}
func (c loopbackCarrier) RouteOutbound(tenantID int64, number, callerID string) (Route, error) {
	u := c.out
	u.User = number
	return Route{URI: u, CallerID: callerID}, nil
}

// changes keeps the engine's last view of each call.
type changes struct {
	mu    sync.Mutex
	calls map[int64]switchboard.Call
	what  []string
}

func (c *changes) CallChanged(call *switchboard.Call, what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[call.ID] = *call
	c.what = append(c.what, what)
}

func (c *changes) call(id int64) switchboard.Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id]
}

type rig struct {
	drv    *Driver
	eng    *engine.Engine
	obs    *changes
	phones *staticPhones
	port   int
	dir    string
}

// newRig starts a driver on a free port under an engine with queue 1
// (extension 100, DID +15551230000) and agent 7 on device "t1:1001".
func newRig(t *testing.T) *rig {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	port := freePort(t)
	rtp := 20000 + port%20000
	dir := t.TempDir()
	phones := &staticPhones{contacts: map[string][]Contact{}}
	drv, err := New(Options{Listen: []string{"udp:127.0.0.1:" + strconv.Itoa(port)}, RTPPorts: [2]int{rtp, rtp + 200},
		Recordings: dir, Phones: phones, Carriers: loopbackCarrier{}, Log: log, RTPTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	obs := &changes{calls: map[int64]switchboard.Call{}}
	eng := engine.New(engine.Options{Clock: engine.RealClock{}, Telephony: drv, Observer: obs, Log: log})
	drv.SetEngine(eng)
	q := switchboard.Queue{ID: 1, TenantID: 1, Name: "support", Extension: "100", Strategy: switchboard.StrategyRingAll,
		TimeoutSeconds: 15, WrapUpSeconds: 1, JoinEmpty: true}
	q.Normalize()
	eng.SetQueue(q, []switchboard.QueueMember{{QueueID: 1, UserID: 7, Position: 1}}, "+15551230000")
	eng.SetAgent(7, "t1:1001")
	eng.SetStatus(7, switchboard.StatusAvailable, true)
	if err := drv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		eng.Close()
		drv.Close()
	})
	return &rig{drv: drv, eng: eng, obs: obs, phones: phones, port: port, dir: dir}
}

// peer is a diago user agent on 127.0.0.1: a phone or a carrier.
func peer(t *testing.T, name string, serve func(*diago.DialogServerSession)) (*diago.Diago, int) {
	t.Helper()
	port := freePort(t)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(name), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	dg := diago.NewDiago(ua, diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: port}),
		diago.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		ua.Close()
	})
	if serve == nil {
		serve = func(s *diago.DialogServerSession) { s.Respond(486, "Busy Here", nil) }
	}
	if err := dg.ServeBackground(ctx, serve); err != nil {
		t.Fatal(err)
	}
	return dg, port
}

// tone is 20 ms of a sine at freq, µ-law or A-law as codec says.
func toneFrame(codec audio.Codec, freq float64, i int) []byte {
	s := make([]int16, audio.FrameSamples)
	for k := range s {
		n := i*audio.FrameSamples + k
		s[k] = int16(9000 * math.Sin(2*math.Pi*freq*float64(n)/audio.Rate))
	}
	return codec.Encode(nil, s)
}

// talkers serialize writes to a leg's RTP writer: the tone and the digits a
// test keys share its sequence numbers.
var talkers sync.Map // *diago.DialogMedia → *sync.Mutex

func writeLock(med *diago.DialogMedia) *sync.Mutex {
	mu, _ := talkers.LoadOrStore(med, &sync.Mutex{})
	return mu.(*sync.Mutex)
}

// talk sends a tone on med's writer every 20 ms until stop closes, and
// counts the loud frames it hears.
func talk(med *diago.DialogMedia, freq float64, stop <-chan struct{}) (heard func() int) {
	var mu sync.Mutex
	loud := 0
	w, _ := med.AudioWriter()
	r, _ := med.AudioReader()
	codec := audio.PCMU
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := r.Read(buf)
			if err != nil {
				return
			}
			var sum float64
			for _, s := range codec.Decode(nil, buf[:n]) {
				sum += float64(s) * float64(s)
			}
			if n > 0 && math.Sqrt(sum/float64(n)) > 2000 {
				mu.Lock()
				loud++
				mu.Unlock()
			}
		}
	}()
	go func() {
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			wmu := writeLock(med)
			wmu.Lock()
			w.Write(toneFrame(codec, freq, i))
			wmu.Unlock()
		}
	}()
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return loud
	}
}

// TestCarrierCallReachesTheAgent calls a DID from a carrier; the queue rings
// the agent's phone, which answers; caller and agent hear each other; a
// digit the caller keys is recorded; the caller hangs up; the call's
// two-channel recording lasts as long as it was connected.
func TestCarrierCallReachesTheAgent(t *testing.T) {
	r := newRig(t)
	stopAgent := make(chan struct{})
	var heardMu sync.Mutex
	var agentHeardFn func() int
	agentHeard := func() int {
		heardMu.Lock()
		defer heardMu.Unlock()
		if agentHeardFn == nil {
			return 0
		}
		return agentHeardFn()
	}
	agentDone := make(chan struct{})
	_, agentPort := peer(t, "agent-phone", func(s *diago.DialogServerSession) {
		defer close(agentDone)
		s.Trying()
		s.Ringing()
		med, err := s.Answer(diago.AnswerOptions{})
		if err != nil {
			t.Error("agent answer:", err)
			return
		}
		heard := talk(med, 660, stopAgent)
		heardMu.Lock()
		agentHeardFn = heard
		heardMu.Unlock()
		<-s.Context().Done()
	})
	r.phones.set("t1:1001", Contact{URI: sip.Uri{Scheme: "sip", User: "1001", Host: "127.0.0.1", Port: agentPort}})

	carrier, _ := peer(t, "carrier", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dlg, med, err := carrier.Invite(ctx, sip.Uri{Scheme: "sip", User: "15551230000", Host: "127.0.0.1", Port: r.port}, diago.InviteOptions{})
	if err != nil {
		t.Fatal("the carrier's call was not answered:", err)
	}
	stopCaller := make(chan struct{})
	callerHeard := talk(med, 440, stopCaller)
	// Wait for the bridge: the caller hears the agent's tone.
	deadline := time.Now().Add(10 * time.Second)
	for callerHeard() < 20 || agentHeard() < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("no two-way audio: caller heard %d loud frames", callerHeard())
		}
		time.Sleep(50 * time.Millisecond)
	}
	dw, err := med.AudioWriterDTMF()
	if err != nil {
		t.Fatal(err)
	}
	wmu := writeLock(med)
	wmu.Lock()
	err = dw.WriteDTMF('5')
	wmu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	close(stopCaller)
	if err := dlg.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-agentDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the agent's phone was not hung up")
	}
	close(stopAgent)

	var c switchboard.Call
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c = r.obs.call(1)
		if c.EndedAt != nil || time.Now().After(deadline) {
			break
		}
	}
	if c.EndedAt == nil || c.ConnectedAt == nil {
		t.Fatalf("call %+v did not connect and end", c)
	}
	if c.DTMF != "5" {
		t.Errorf("keyed digits %q, want 5", c.DTMF)
	}
	if c.HangupBy != switchboard.SideCaller {
		t.Errorf("hung up by %q (%s), want the caller", c.HangupBy, c.HangupCause)
	}
	time.Sleep(200 * time.Millisecond) // the recording is closed as the legs end
	size, rc, err := r.drv.Recording(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if int64(len(b)) != size || binary.LittleEndian.Uint16(b[22:]) != 2 {
		t.Fatalf("recording: %d bytes of %d, %d channels", len(b), size, binary.LittleEndian.Uint16(b[22:]))
	}
	secs := float64(len(b)-audio.WAVHeaderSize) / 4 / audio.Rate
	talkTime := c.EndedAt.Sub(*c.ConnectedAt).Seconds()
	if math.Abs(secs-talkTime) > 0.5 {
		t.Errorf("the recording lasts %.2f s; the call talked %.2f s", secs, talkTime)
	}
	t.Logf("call %d: talk %.2f s, recording %.2f s, cause %q", c.ID, talkTime, secs, c.HangupCause)
}

// whats lists the changes the engine reported, in order.
func (r *rig) whats() []string {
	r.obs.mu.Lock()
	defer r.obs.mu.Unlock()
	return slices.Clone(r.obs.what)
}
