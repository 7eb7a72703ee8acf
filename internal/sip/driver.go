package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/audio"
	"switchboard/internal/engine"
)

// The driver is a B2BUA: every call has independent legs, one per party, and
// the engine decides what happens to them. Each engine call (Originate,
// Answer, Bridge, Hangup, Play, Record) only queues work on the leg, which a
// goroutine of the leg's own does in order, so the engine never waits on
// the network while it holds its lock; what the peers do comes back as
// engine.LegEvents from those goroutines.

// Engine is what the driver reports to.
type Engine interface {
	LegEvent(ev engine.LegEvent)
	Inbound(in engine.InboundCall) (int64, error)
}

// Contact is one registered device of an agent: where to send its INVITEs.
type Contact struct {
	URI sip.Uri
	// Transport is the transport the device registered over ("udp",
	// "tcp", "tls", "ws", "wss").
	Transport string
}

// Caller is who placed an authenticated call from a phone.
type Caller struct {
	TenantID int64
	Device   string
}

// Phones is the registrar as the driver uses it.
type Phones interface {
	// ServeRegister answers a REGISTER.
	ServeREGISTER(req *sip.Request, tx sip.ServerTransaction)
	// Contacts are where device is registered now; several ring together.
	Contacts(device string) []Contact
	Registered(device string) bool
	// IsPhone reports whether src is where a registered phone registered
	// from: its INVITEs are a phone's, whatever trunk shares its address.
	IsPhone(src netip.AddrPort) bool
	// Authenticate challenges or verifies a request from a phone. When ok
	// is false it has answered the request (a challenge or a refusal).
	Authenticate(req *sip.Request, tx sip.ServerTransaction) (c Caller, ok bool)
}

// Route is how an outbound leg to an outside number leaves: through which
// carrier, as whom.
type Route struct {
	URI      sip.Uri // the Request-URI, the number at the carrier
	Username string  // answers the carrier's digest challenge, when set
	Password string
	CallerID string // the caller id the carrier is to show
	// Release gives the trunk's call slot back; the driver calls it when the
	// leg ends.
	Release func()
	// TrunkID is the trunk the call leaves through (0 when the carrier set
	// does not say), so that a retry goes through another one.
	TrunkID int64
}

// AlternateCarriers, when the Carriers also implement it, lets a call whose
// carrier failed while connecting (no answer from it at all, 408, 500, 502,
// 503 or 504) be tried again through the tenant's next trunk: the engine is
// told (engine.LegSwitching) and the leg's later events come from the new
// attempt.
type AlternateCarriers interface {
	// RouteAlternate routes the call through a trunk of the tenant not in
	// tried, taking one of its call slots; an error when none is left.
	RouteAlternate(tenantID int64, number, callerID string, tried []int64) (Route, error)
}

// Carriers is the set of trunks as the driver uses it.
type Carriers interface {
	// InboundTenant decides a carrier's INVITE from src: the tenant whose
	// number it dials, when it comes from one of that tenant's trunks.
	// ErrNotFromTrunk and ErrUnknownDID say it is no carrier's call (a
	// phone may still authenticate); any other error refuses it.
	InboundTenant(ctx context.Context, src netip.Addr, req *sip.Request) (tenantID int64, err error)
	// RouteOutbound routes a call of tenant to number (E.164) with
	// callerID, taking one of the trunk's call slots.
	RouteOutbound(tenantID int64, number, callerID string) (Route, error)
}

// Options configure the driver.
type Options struct {
	// Listen are the SIP listeners, each "transport:host:port" with
	// transport udp, tcp, tls, ws or wss (TLS needs Certificate).
	Listen []string
	// Certificate is the TLS certificate of tls and wss listeners.
	Certificate *tls.Certificate
	// External is the address advertised in Contact headers and SDP when
	// the server is behind NAT (empty: the listen address).
	External string
	// RTPPorts is the inclusive range of UDP ports for media.
	RTPPorts [2]int
	// RTPTimeout ends a connected call whose far end has sent no RTP for
	// this long (0: never).
	RTPTimeout time.Duration
	// Recordings is the directory recordings are written to.
	Recordings string
	// Prompts is a directory of 8 kHz 16-bit WAV files played by name
	// (moh/<name>.wav for a queue's music on hold, prompts/<name>.wav for a
	// menu); a missing file falls back to the generated default.
	Prompts string
	// UserAgent names the server in SIP headers.
	UserAgent string
	Phones    Phones
	Carriers  Carriers
	// Route turns what a phone dialled into the engine's routing key within
	// its tenant (a number or a queue extension), or fails.
	Route func(ctx context.Context, tenantID int64, dialled string) (string, error)
	// Resolve turns a transfer's target within a tenant (a queue
	// extension, a number, an agent's extension) into the engine's routing
	// key (a queue's route or an agent's device), or fails.
	Resolve func(ctx context.Context, tenantID int64, target string) (string, error)
	// Guard, when set, wraps every request handler (validation, lockout,
	// rate limits).
	Guard func(next sipgo.RequestHandler) sipgo.RequestHandler
	Log   *slog.Logger
}

// Driver is the SIP telephony driver; it implements engine.Driver.
type Driver struct {
	opt  Options
	log  *slog.Logger
	eng  Engine
	ua   *sipgo.UserAgent
	dg   *diago.Diago
	ctx  context.Context
	stop context.CancelFunc
	host string // the advertised host of Contact and SDP

	prompts *promptCache
	middle  func(sipgo.RequestHandler) sipgo.RequestHandler // the guard and inspect, around every handler

	mu   sync.Mutex
	legs map[engine.LegID]*leg
	// byCallID finds the leg of an in-dialog request by its Call-ID.
	byCallID map[string]*leg
	// admitted holds, by Call-ID, who a new INVITE was admitted as (a
	// carrier's tenant or an authenticated phone) between the request's
	// inspection and diago's handing it to serveInvite.
	admitted map[string]origin
	// peers counts the legs in progress with each far-end address, so the
	// guard does not rate-limit a carrier reached only through its
	// outbound URI (its BYEs and re-INVITEs).
	peers    map[netip.Addr]int
	closed   bool
	next     atomic.Int64
	wg       sync.WaitGroup // leg goroutines
	watchers sync.WaitGroup // the RTP timeout's
}

var _ engine.Driver = (*Driver)(nil)

// New builds the driver; Start begins serving.
func New(opt Options) (*Driver, error) {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.UserAgent == "" {
		opt.UserAgent = "Switchboard"
	}
	if len(opt.Listen) == 0 {
		return nil, errors.New("sip: no listen address")
	}
	if opt.Phones == nil || opt.Carriers == nil {
		return nil, errors.New("sip: the driver needs its registrar and its trunks")
	}
	if lo, hi := opt.RTPPorts[0], opt.RTPPorts[1]; lo <= 0 || hi <= lo || hi > 65535 || hi-lo < 3 {
		return nil, fmt.Errorf("sip: RTP port range %d-%d: want LO-HI with 0 < LO < HI <= 65535 and room for two calls", lo, hi)
	}
	if opt.Recordings == "" {
		return nil, errors.New("sip: no recordings directory")
	}
	if err := os.MkdirAll(opt.Recordings, 0o750); err != nil {
		return nil, fmt.Errorf("sip: recordings directory: %w", err)
	}
	quiet := newQuietLogger(opt.Log.With("component", "sip"))
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(opt.UserAgent),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)))
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	d := &Driver{opt: opt, log: opt.Log, ua: ua, legs: map[engine.LegID]*leg{}, admitted: map[string]origin{}, peers: map[netip.Addr]int{},
		prompts: newPromptCache(opt.Prompts, opt.Log)}
	// diago keeps the RTP port range in package variables; one driver runs
	// per process.
	media.RTPPortStart, media.RTPPortEnd = opt.RTPPorts[0], opt.RTPPorts[1]+1

	var dopts []diago.DiagoOption
	for _, l := range opt.Listen {
		t, err := transport(l, opt)
		if err != nil {
			return nil, err
		}
		if d.host == "" {
			d.host = t.ExternalHost
			if d.host == "" {
				d.host = t.BindHost
			}
		}
		dopts = append(dopts, diago.WithTransport(t))
	}
	if ip := net.ParseIP(d.host); ip != nil && ip.IsUnspecified() {
		// Listening on every interface: Contact headers name the host's
		// address, as diago's SDP does.
		if real, _, err := sip.ResolveInterfacesIP("ip4", nil); err == nil {
			d.host = real.String()
		}
	}
	dopts = append(dopts, diago.WithLogger(opt.Log.With("component", "sip")),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioUlaw, media.CodecAudioAlaw, media.CodecTelephoneEvent8000}}))
	d.middle = d.inspect
	if opt.Guard != nil {
		d.middle = func(next sipgo.RequestHandler) sipgo.RequestHandler { return opt.Guard(d.inspect(next)) }
	}
	dopts = append(dopts, diago.WithServerRequestMiddleware(d.middle))
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(opt.Log.With("component", "sip")))
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	dopts = append(dopts, diago.WithServer(srv))
	d.dg = diago.NewDiago(ua, dopts...)
	// diago answers REFER itself by calling the target; a transfer is the
	// engine's decision, so the driver takes REFER over (refer.go).
	register := d.handler(func(req *sip.Request, tx sip.ServerTransaction) { opt.Phones.ServeREGISTER(req, tx) })
	srv.OnRegister(register)
	srv.OnRefer(d.handler(d.serveRefer))
	srv.OnInfo(d.handler(d.serveInfo))
	return d, nil
}

// handler wraps h in the guard, as diago wraps its own handlers.
func (d *Driver) handler(h sipgo.RequestHandler) sipgo.RequestHandler { return d.middle(h) }

// transport turns a "udp:host:port" listener into diago's transport.
func transport(spec string, opt Options) (diago.Transport, error) {
	proto, hostport, ok := strings.Cut(spec, ":")
	if !ok {
		return diago.Transport{}, fmt.Errorf("sip: listener %q: want transport:host:port", spec)
	}
	proto = strings.ToLower(proto)
	switch proto {
	case "udp", "tcp", "ws", "tls", "wss":
	default:
		return diago.Transport{}, fmt.Errorf("sip: listener %q: transport must be udp, tcp, tls, ws or wss", spec)
	}
	host, portText, err := net.SplitHostPort(hostport)
	if err != nil {
		return diago.Transport{}, fmt.Errorf("sip: listener %q: %w", spec, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return diago.Transport{}, fmt.Errorf("sip: listener %q: bad port", spec)
	}
	t := diago.Transport{Transport: proto, BindHost: host, BindPort: port, ExternalHost: opt.External}
	if opt.External != "" {
		if ip := net.ParseIP(opt.External); ip != nil {
			t.MediaExternalIP = ip
		}
	}
	if proto == "tls" || proto == "wss" {
		if opt.Certificate == nil {
			return diago.Transport{}, fmt.Errorf("sip: listener %q needs a TLS certificate", spec)
		}
		t.TLSConf = &tls.Config{Certificates: []tls.Certificate{*opt.Certificate}, MinVersion: tls.VersionTLS12}
	}
	return t, nil
}

// SetEngine sets where the driver reports. It must be called before Start.
func (d *Driver) SetEngine(e Engine) { d.eng = e }

// Start listens on every listener and serves calls until Close.
func (d *Driver) Start(ctx context.Context) error {
	if d.eng == nil {
		return errors.New("sip: no engine")
	}
	d.ctx, d.stop = context.WithCancel(context.WithoutCancel(ctx))
	if err := d.dg.ServeBackground(d.ctx, d.serveInvite); err != nil {
		return fmt.Errorf("sip: listen: %w", err)
	}
	if d.opt.RTPTimeout > 0 {
		d.watchers.Add(1)
		go d.watchRTP()
	}
	return nil
}

// Close implements engine.Driver: every leg is hung up and the listeners
// stop. The engine has stopped by then, so nothing is reported.
func (d *Driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	legs := make([]*leg, 0, len(d.legs))
	for _, l := range d.legs {
		legs = append(legs, l)
	}
	d.mu.Unlock()
	for _, l := range legs {
		l.hangup("server shutting down", true)
	}
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		d.log.Warn("sip: legs still ending at shutdown")
	}
	if d.stop != nil {
		d.stop()
	}
	d.watchers.Wait()
	return d.ua.Close()
}

// report sends ev to the engine unless the leg has ended.
func (d *Driver) report(l *leg, ev engine.LegEvent) {
	if l.isEnded() && ev.Type != engine.LegHungUp && ev.Type != engine.LegFailed && ev.Type != engine.LegBusy && ev.Type != engine.LegNoAnswer {
		return
	}
	d.eng.LegEvent(ev)
}

// leg looks up a leg by id.
func (d *Driver) leg(id engine.LegID) *leg {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.legs[id]
}

// add registers a new leg, or refuses when the driver is closing.
func (d *Driver) add(l *leg) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	d.legs[l.id] = l
	return true
}

func (d *Driver) remove(l *leg) {
	d.mu.Lock()
	if d.legs[l.id] == l {
		delete(d.legs, l.id)
	}
	d.mu.Unlock()
}

// Provision implements engine.Devices: registration is the phone's own
// doing, so there is nothing to prepare.
func (d *Driver) Provision(string) {}

// Registered implements engine.Devices.
func (d *Driver) Registered(device string) bool { return d.opt.Phones.Registered(device) }

// recordingPath is where call id's recording is written.
func (d *Driver) recordingPath(call int64) string {
	return filepath.Join(d.opt.Recordings, strconv.FormatInt(call, 10)+".wav")
}

// Recording implements engine.Recordings: the two-channel WAV of the call
// (caller left, agent right). A recording still being written is served as
// far as it has reached, with a header saying so.
func (d *Driver) Recording(_ context.Context, c switchboard.Call) (int64, io.ReadCloser, error) {
	f, err := os.Open(d.recordingPath(c.ID))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil, switchboard.Errorf(switchboard.CodeNotFound, "call %d has no recording on this server", c.ID)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("open recording: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, nil, fmt.Errorf("open recording: %w", err)
	}
	data := max(st.Size()-audio.WAVHeaderSize, 0) &^ 3 // whole stereo samples
	r := io.MultiReader(strings.NewReader(string(audio.StereoHeader(data))), io.NewSectionReader(f, audio.WAVHeaderSize, data))
	return audio.WAVHeaderSize + data, readCloser{r, f}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// FaxDocument implements engine.Faxes. The SIP driver does not terminate
// T.38 or G.711 fax yet, so no call is a received fax.
func (d *Driver) FaxDocument(_ context.Context, c switchboard.Call) ([]byte, error) {
	return nil, switchboard.Errorf(switchboard.CodeNotFound, "call %d is not a received fax: the SIP driver does not receive faxes", c.ID)
}

// Contact is the driver's own SIP address, as carriers are to reach it
// (the first listener, at the advertised host).
func (d *Driver) Contact() sip.Uri {
	u := sip.Uri{Scheme: "sip", Host: d.host}
	if _, hostport, ok := strings.Cut(d.opt.Listen[0], ":"); ok {
		if _, port, err := net.SplitHostPort(hostport); err == nil {
			u.Port, _ = strconv.Atoi(port)
		}
	}
	return u
}

// Client is a SIP client on the driver's user agent: requests it sends
// (trunk registrations, health checks) leave from the driver's listeners.
func (d *Driver) Client() (*sipgo.Client, error) {
	return sipgo.NewClient(d.ua, sipgo.WithClientHostname(d.host))
}

// Peer reports whether a leg in progress has its far end at addr: requests
// from it belong to calls the driver is carrying.
func (d *Driver) Peer(addr netip.Addr) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.peers[addr.Unmap()] > 0
}

// peer counts a leg's far end at host (an IP; names are not counted) until
// the leg is torn down.
func (d *Driver) peer(l *leg, host string) {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return
	}
	a = a.Unmap()
	d.mu.Lock()
	d.peers[a]++
	d.mu.Unlock()
	go func() {
		<-l.gone
		d.mu.Lock()
		if d.peers[a]--; d.peers[a] <= 0 {
			delete(d.peers, a)
		}
		d.mu.Unlock()
	}()
}

// Legs is how many call legs the driver carries now.
func (d *Driver) Legs() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.legs)
}
