package sip

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"switchboard"
	"switchboard/internal/callcenter"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

func init() {
	// sipgo logs every dropped transaction; the tests drop many on purpose.
	sip.SetDefaultLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	// It starts at the real time: the store drops bindings expired by its
	// own clock, so a clock fixed at one date would fail once that date
	// plus the bindings' lifetime has passed.
	c.ns.Store(time.Now().Truncate(time.Second).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// regRig is a registrar and guard served over UDP on 127.0.0.1, with accounts
// in a real SQLite store.
type regRig struct {
	t     *testing.T
	db    *sqlstore.DB
	reg   *Registrar
	guard *Guard
	clock *clock
	addr  string // host:port of the server

	mu      sync.Mutex
	changes []string
	logs    strings.Builder // what the registrar and guard logged, under mu
}

// Write collects the registrar's and guard's logs.
func (r *regRig) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.Write(b)
}

func (r *regRig) logged() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.String()
}

func newRegRig(t *testing.T, gopt GuardOptions) *regRig {
	t.Helper()
	return newRegRigWith(t, gopt, RegistrarOptions{})
}

// newRegRigWith is newRegRig with registrar options (the clock, guard and logger
// are the rig's).
func newRegRigWith(t *testing.T, gopt GuardOptions, ropt RegistrarOptions) *regRig {
	t.Helper()
	r := &regRig{t: t, clock: newClock()}
	r.db = sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	log := slog.New(slog.NewTextHandler(r, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gopt.Now, gopt.Logger = r.clock.Now, log
	r.guard = NewGuard(gopt)
	ropt.Guard, ropt.Now, ropt.Logger, ropt.Bindings = r.guard, r.clock.Now, log, r.db
	r.reg = NewRegistrar(r.db, ropt)
	r.reg.OnChange(func(device string, registered bool) {
		r.mu.Lock()
		r.changes = append(r.changes, fmt.Sprintf("%s=%v", device, registered))
		r.mu.Unlock()
	})
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("switchboard-test"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(r.guard.Middleware(r.reg.ServeREGISTER))
	srv.OnOptions(r.guard.Middleware(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	}))
	// An INVITE handler as the driver will have one: only authenticated
	// phones may place calls; 486 stands for "accepted, callee busy".
	srv.OnInvite(r.guard.Middleware(func(req *sip.Request, tx sip.ServerTransaction) {
		caller, ok := r.reg.Authenticate(req, tx)
		if !ok {
			return
		}
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBusyHere, fmt.Sprintf("Busy %s of %d", caller.Device, caller.TenantID), nil))
	}))
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = conn.LocalAddr().String()
	go srv.ServeUDP(conn)
	t.Cleanup(func() {
		ua.Close()
		conn.Close()
	})
	return r
}

func (r *regRig) tenant(slug string) switchboard.Tenant {
	r.t.Helper()
	tn, err := r.db.CreateTenant(context.Background(), switchboard.Tenant{Slug: slug, Name: slug})
	if err != nil {
		r.t.Fatal(err)
	}
	return tn
}

func (r *regRig) user(tn switchboard.Tenant, ext, password string) switchboard.User {
	r.t.Helper()
	u, err := r.db.CreateUser(context.Background(), tn.ID, switchboard.User{Email: ext + "@" + tn.Slug + ".test",
		FirstName: "Agent", Extension: ext, SIPPassword: password})
	if err != nil {
		r.t.Fatal(err)
	}
	return u
}

func (r *regRig) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.changes...)
}

// testPhone is a SIP user agent on its own UDP port.
type testPhone struct {
	t   *testing.T
	cli *sipgo.Client
	srv string
	// host names the To/From host (the server's address by default).
	host string
}

func newPhone(t *testing.T, server string) *testPhone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-phone"))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	host, _, _ := net.SplitHostPort(server)
	return &testPhone{t: t, cli: cli, srv: server, host: host}
}

// request builds a request for user with the given extra headers.
func (p *testPhone) request(method sip.RequestMethod, user string, headers ...sip.Header) *sip.Request {
	return newRequest(method, p.srv, p.host, user, headers...)
}

// newRequest builds a request from user@host to server (host:port).
func newRequest(method sip.RequestMethod, server, host, user string, headers ...sip.Header) *sip.Request {
	shost, port, _ := sip.ParseAddr(server)
	req := sip.NewRequest(method, sip.Uri{Scheme: "sip", Host: shost, Port: port})
	if method == sip.INVITE {
		req.Recipient.User = "15550001111"
	}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	toUser := user
	if method == sip.INVITE {
		toUser = "15550001111"
	}
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: toUser, Host: host}})
	for _, h := range headers {
		req.AppendHeader(h)
	}
	req.AppendHeader(sip.NewHeader("User-Agent", "test-phone"))
	req.SetTransport("UDP")
	return req
}

// do sends req and returns its final response, nil if none came in wait.
func (p *testPhone) do(req *sip.Request, wait time.Duration) *sip.Response {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		p.t.Fatalf("%s: %v", req.Method, err)
	}
	return res
}

// answer sends req again with credentials for the challenge of res (the
// index'th challenge header: 0 is MD5, 1 is SHA-256).
func (p *testPhone) answer(req *sip.Request, res *sip.Response, user, password string, index int) *sip.Response {
	p.t.Helper()
	chalHeader, credHeader := "WWW-Authenticate", "Authorization"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		chalHeader, credHeader = "Proxy-Authenticate", "Proxy-Authorization"
	}
	hs := res.GetHeaders(chalHeader)
	if len(hs) <= index {
		p.t.Fatalf("response %d has %d %s headers", res.StatusCode, len(hs), chalHeader)
	}
	chal, err := digest.ParseChallenge(hs[index].Value())
	if err != nil {
		p.t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: string(req.Method), URI: req.Recipient.Addr(),
		Username: user, Password: password})
	if err != nil {
		p.t.Fatal(err)
	}
	next := req.Clone()
	next.RemoveHeader(credHeader)
	next.AppendHeader(sip.NewHeader(credHeader, cred.String()))
	next.CSeq().SeqNo++
	next.RemoveHeader("Via")
	return p.do(next, 3*time.Second)
}

// register sends a REGISTER for user with contact and expires (-1: no
// Expires header), answers its challenge with password, and returns the
// final response.
func (p *testPhone) register(user, password, contact string, expires int) *sip.Response {
	p.t.Helper()
	hs := []sip.Header{sip.NewHeader("Contact", contact)}
	if expires >= 0 {
		hs = append(hs, sip.NewHeader("Expires", fmt.Sprint(expires)))
	}
	req := p.request(sip.REGISTER, user, hs...)
	res := p.do(req, 3*time.Second)
	if res == nil || res.StatusCode != sip.StatusUnauthorized {
		p.t.Fatalf("first REGISTER: got %v, want a 401 challenge", res)
	}
	return p.answer(req, res, user, password, 0)
}

func status(res *sip.Response) int {
	if res == nil {
		return 0
	}
	return res.StatusCode
}

func TestRegisterWithDigest(t *testing.T) {
	r := newRegRigWith(t, GuardOptions{}, RegistrarOptions{OfferSHA256: true})
	acme := r.tenant("acme")
	r.user(acme, "1001", "right-pw")
	device := callcenter.DeviceName(acme.ID, "1001")
	p := newPhone(t, r.addr)

	res := p.register("1001", "right-pw", "<sip:1001@127.0.0.1:5099>", -1)
	if status(res) != 200 {
		t.Fatalf("REGISTER with the right password = %v, want 200", res)
	}
	c, ok := res.GetHeader("Contact").(*sip.ContactHeader)
	if !ok || c.Address.Port != 5099 {
		t.Fatalf("200 lists contact %v", res.GetHeader("Contact"))
	}
	if exp, _ := c.Params.Get("expires"); exp != "3600" {
		t.Errorf("contact expires = %q, want the default 3600", exp)
	}
	if !r.reg.Registered(device) {
		t.Fatalf("%s not registered", device)
	}
	bs := r.reg.Bindings(device)
	if len(bs) != 1 || bs[0].Source.Addr() != netip.MustParseAddr("127.0.0.1") || bs[0].Source.Port() == 0 ||
		bs[0].Transport != "UDP" || bs[0].UserAgent != "test-phone" {
		t.Errorf("Contacts = %+v", bs)
	}
	if !r.reg.KnownSource(netip.MustParseAddr("127.0.0.1")) || r.reg.KnownSource(netip.MustParseAddr("192.0.2.1")) {
		t.Error("KnownSource does not follow the bindings")
	}
	if len(bs) == 1 && (!r.reg.IsPhone(bs[0].Source) || r.reg.IsPhone(netip.AddrPortFrom(bs[0].Source.Addr(), bs[0].Source.Port()+1))) {
		t.Error("IsPhone does not name the socket the phone registered from")
	}
	if got := r.seen(); len(got) != 1 || got[0] != device+"=true" {
		t.Errorf("OnChange calls = %v", got)
	}

	// Wrong password: challenged, then refused.
	if res := p.register("1001", "wrong-pw", "<sip:1001@127.0.0.1:5098>", -1); status(res) != 403 {
		t.Errorf("REGISTER with a wrong password = %v, want 403", res)
	}
	// Unknown user: the same, so that usernames cannot be probed.
	if res := p.register("9999", "any", "<sip:9999@127.0.0.1:5098>", -1); status(res) != 403 {
		t.Errorf("REGISTER of an unknown user = %v, want 403", res)
	}
	// The failures changed nothing.
	if bs := r.reg.Bindings(device); len(bs) != 1 {
		t.Errorf("after failures Contacts = %+v", bs)
	}
	if st := r.guard.Stats(); st.AuthFailures != 2 || st.Lockouts != 0 {
		t.Errorf("guard stats = %+v, want 2 failures and no lockout", st)
	}
	// Failures are logged, passwords never.
	logs := r.logged()
	if strings.Count(logs, "authentication failed") != 2 || strings.Contains(logs, "right-pw") || strings.Contains(logs, "wrong-pw") {
		t.Errorf("logs:\n%s", logs)
	}

	// SHA-256, from the second challenge.
	req := p.request(sip.REGISTER, "1001", sip.NewHeader("Contact", "<sip:1001@127.0.0.1:5097>"))
	res = p.do(req, 3*time.Second)
	if hs := res.GetHeaders("WWW-Authenticate"); len(hs) != 2 || !strings.Contains(hs[1].Value(), "SHA-256") {
		t.Fatalf("challenge headers = %v, want MD5 and SHA-256", hs)
	}
	if res := p.answer(req, res, "1001", "right-pw", 1); status(res) != 200 {
		t.Errorf("SHA-256 REGISTER = %v", res)
	}
	if bs := r.reg.Bindings(device); len(bs) != 2 {
		t.Errorf("after the SHA-256 REGISTER Contacts = %+v, want 2", bs)
	}
}

func TestRegisterNonces(t *testing.T) {
	r := newRegRig(t, GuardOptions{})
	acme := r.tenant("acme")
	r.user(acme, "1001", "pw")
	p := newPhone(t, r.addr)

	// An expired nonce gets a fresh challenge marked stale, and no failure.
	req := p.request(sip.REGISTER, "1001", sip.NewHeader("Contact", "<sip:1001@127.0.0.1:5099>"))
	res := p.do(req, 3*time.Second)
	r.clock.Advance(6 * time.Minute)
	res = p.answer(req, res, "1001", "pw", 0)
	if status(res) != 401 || !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Fatalf("answer to an expired nonce = %v, want 401 stale=true", res)
	}
	if r.guard.Stats().AuthFailures != 0 {
		t.Error("a stale nonce counted as a failure")
	}
	if res := p.answer(req, res, "1001", "pw", 0); status(res) != 200 {
		t.Fatalf("answer to the fresh nonce = %v", res)
	}

	// A replayed nonce count is refused: the same credentials, sent again.
	res = p.do(p.request(sip.REGISTER, "1001", sip.NewHeader("Contact", "<sip:1001@127.0.0.1:5099>")), 3*time.Second)
	chal, _ := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	cred, _ := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: req.Recipient.Addr(), Username: "1001", Password: "pw"})
	for i, want := range []int{200, 401} {
		again := p.request(sip.REGISTER, "1001", sip.NewHeader("Contact", "<sip:1001@127.0.0.1:5099>"),
			sip.NewHeader("Authorization", cred.String()))
		if got := status(p.do(again, 3*time.Second)); got != want {
			t.Errorf("use %d of one nonce count = %d, want %d", i+1, got, want)
		}
	}

	// A nonce we did not issue is a failure.
	chal.Nonce = "bm90LW91cnMtbm90LW91cnMtbm90LW91cnMtbm90LW91"
	cred, _ = digest.Digest(chal, digest.Options{Method: "REGISTER", URI: req.Recipient.Addr(), Username: "1001", Password: "pw"})
	forged := p.request(sip.REGISTER, "1001", sip.NewHeader("Contact", "<sip:1001@127.0.0.1:5099>"),
		sip.NewHeader("Authorization", cred.String()))
	if got := status(p.do(forged, 3*time.Second)); got != 403 {
		t.Errorf("forged nonce = %d, want 403", got)
	}
}

func TestRegisterBindings(t *testing.T) {
	r := newRegRig(t, GuardOptions{})
	acme := r.tenant("acme")
	r.user(acme, "1001", "pw")
	device := callcenter.DeviceName(acme.ID, "1001")
	desk, soft := newPhone(t, r.addr), newPhone(t, r.addr)

	if res := desk.register("1001", "pw", "<sip:1001@10.0.0.5:5060>", 600); status(res) != 200 {
		t.Fatalf("desk phone REGISTER = %v", res)
	}
	if res := soft.register("1001", "pw", "<sip:1001@10.0.0.6:5062;transport=udp>", 120); status(res) != 200 {
		t.Fatalf("softphone REGISTER = %v", res)
	}
	bs := r.reg.Bindings(device)
	if len(bs) != 2 || bs[0].Contact.Host != "10.0.0.5" || bs[1].Contact.Host != "10.0.0.6" ||
		bs[0].Source == bs[1].Source {
		t.Fatalf("two devices: Bindings = %+v", bs)
	}
	// The driver dials where each REGISTER came from: the phones' private
	// Contact addresses (10.0.0.x) are behind a NAT, here 127.0.0.1.
	cs := r.reg.Contacts(device)
	if len(cs) != 2 {
		t.Fatalf("Contacts = %+v", cs)
	}
	for i, c := range cs {
		if c.URI.Host != "127.0.0.1" || c.URI.Port != int(bs[i].Source.Port()) || c.URI.User != "1001" || c.Transport != "udp" {
			t.Errorf("contact %d = %+v (%s), want the source %v", i, c, c.URI.String(), bs[i].Source)
		}
	}
	if tr, _ := cs[1].URI.UriParams.Get("transport"); tr != "udp" {
		t.Errorf("contact params lost: %s", cs[1].URI.String())
	}
	// From the Contact's own address the Contact stands, port included (a
	// phone may send from one socket and listen on another).
	lan := newPhone(t, r.addr)
	lan.register("1001", "pw", "<sip:1001@127.0.0.1:5077>", 600)
	if cs := r.reg.Contacts(device); len(cs) != 3 || cs[2].URI.Host != "127.0.0.1" || cs[2].URI.Port != 5077 {
		t.Errorf("Contacts = %+v, want the third as registered", cs)
	}
	lan.register("1001", "pw", "<sip:1001@127.0.0.1:5077>", 0)
	// A refresh replaces the binding rather than adding one.
	if res := desk.register("1001", "pw", "<sip:1001@10.0.0.5:5060>", 900); status(res) != 200 {
		t.Fatalf("refresh = %v", res)
	}
	if bs := r.reg.Bindings(device); len(bs) != 2 {
		t.Fatalf("after refresh Contacts = %+v", bs)
	}
	// Too short an interval.
	res := desk.register("1001", "pw", "<sip:1001@10.0.0.7:5060>", 30)
	if status(res) != 423 || res.GetHeader("Min-Expires") == nil || res.GetHeader("Min-Expires").Value() != "60" {
		t.Fatalf("Expires 30 = %v, want 423 with Min-Expires 60", res)
	}
	// The desk phone unregisters; the softphone stays.
	if res := desk.register("1001", "pw", "<sip:1001@10.0.0.5:5060>", 0); status(res) != 200 {
		t.Fatalf("unregister = %v", res)
	}
	if bs := r.reg.Bindings(device); len(bs) != 1 || bs[0].Contact.Host != "10.0.0.6" {
		t.Fatalf("after unregister Contacts = %+v", bs)
	}
	if got := r.seen(); len(got) != 1 {
		t.Errorf("OnChange calls = %v, want only the first registration", got)
	}
	// The softphone's binding expires.
	r.clock.Advance(121 * time.Second)
	if r.reg.Registered(device) {
		t.Error("registered after the binding's expiry")
	}
	r.reg.Expire()
	if got := r.seen(); len(got) != 2 || got[1] != device+"=false" {
		t.Errorf("OnChange calls = %v, want the expiry announced", got)
	}
	if st := r.reg.Stats(); st.Devices != 0 || st.Bindings != 0 {
		t.Errorf("after expiry stats = %+v", st)
	}
	if r.reg.KnownSource(netip.MustParseAddr("127.0.0.1")) || r.reg.IsPhone(bs[1].Source) {
		t.Error("KnownSource or IsPhone after every binding expired")
	}

	// Contact: * removes every binding at once.
	desk.register("1001", "pw", "<sip:1001@10.0.0.5:5060>", 600)
	soft.register("1001", "pw", "<sip:1001@10.0.0.6:5062>", 600)
	if res := soft.register("1001", "pw", "*", 0); status(res) != 200 {
		t.Fatalf("Contact * = %v", res)
	}
	if r.reg.Registered(device) {
		t.Error("registered after Contact: *")
	}
	if res := soft.register("1001", "pw", "*", 600); status(res) != 400 {
		t.Errorf("Contact * with Expires 600 = %v, want 400", res)
	}
}

func TestRegisterTenants(t *testing.T) {
	r := newRegRig(t, GuardOptions{})
	acme, other := r.tenant("acme"), r.tenant("other")
	r.user(acme, "1001", "acme-pw")
	r.user(other, "1001", "other-pw")
	p := newPhone(t, r.addr)

	// The To host names no tenant: the password decides.
	if res := p.register("1001", "other-pw", "<sip:1001@10.0.0.9>", -1); status(res) != 200 {
		t.Fatalf("REGISTER with the other tenant's password = %v", res)
	}
	if !r.reg.Registered(callcenter.DeviceName(other.ID, "1001")) || r.reg.Registered(callcenter.DeviceName(acme.ID, "1001")) {
		t.Fatal("the password did not pick the tenant")
	}
	// A host naming a tenant narrows to it: other's password fails there.
	p.host = "acme.pbx.example"
	if res := p.register("1001", "other-pw", "<sip:1001@10.0.0.9>", -1); status(res) != 403 {
		t.Errorf("other's password at acme's host = %v, want 403", res)
	}
	if res := p.register("1001", "acme-pw", "<sip:1001@10.0.0.9>", -1); status(res) != 200 {
		t.Errorf("acme's password at acme's host = %v", res)
	}
	if !r.reg.Registered(callcenter.DeviceName(acme.ID, "1001")) {
		t.Error("acme's phone not registered")
	}
	// An AoR other than the authenticated user is refused.
	req := p.request(sip.REGISTER, "1001", sip.NewHeader("Contact", "<sip:2002@10.0.0.9>"))
	req.To().Address.User = "2002"
	res := p.do(req, 3*time.Second)
	if res = p.answer(req, res, "1001", "acme-pw", 0); status(res) != 403 {
		t.Errorf("REGISTER of another AoR = %v, want 403", res)
	}
}

func TestAuthenticateInvite(t *testing.T) {
	r := newRegRig(t, GuardOptions{})
	acme := r.tenant("acme")
	r.user(acme, "1001", "pw")
	p := newPhone(t, r.addr)
	req := p.request(sip.INVITE, "1001", sip.NewHeader("Contact", "<sip:1001@127.0.0.1:5099>"))
	res := p.do(req, 3*time.Second)
	if status(res) != 407 || len(res.GetHeaders("Proxy-Authenticate")) != 1 ||
		!strings.Contains(res.GetHeader("Proxy-Authenticate").Value(), "MD5") {
		t.Fatalf("unauthenticated INVITE = %v, want 407 with one MD5 challenge (SHA-256 is not offered by default)", res)
	}
	// sipgo ACKs the 407 itself (non-2xx ACK belongs to the transaction).
	if res := p.answer(req, res, "1001", "wrong", 0); status(res) != 403 {
		t.Errorf("INVITE with a wrong password = %v, want 403", res)
	}
	res = p.do(p.request(sip.INVITE, "1001", sip.NewHeader("Contact", "<sip:1001@127.0.0.1:5099>")), 3*time.Second)
	res = p.answer(req, res, "1001", "pw", 0)
	if status(res) != 486 || res.Reason != fmt.Sprintf("Busy %s of %d", callcenter.DeviceName(acme.ID, "1001"), acme.ID) {
		t.Errorf("authenticated INVITE = %v, want the handler's 486 naming the device", res)
	}
}

func TestGuardLockout(t *testing.T) {
	r := newRegRig(t, GuardOptions{MaxFailures: 3})
	acme := r.tenant("acme")
	r.user(acme, "1001", "pw")
	p := newPhone(t, r.addr)
	for i := range 3 {
		if res := p.register("1001", fmt.Sprint("guess", i), "<sip:1001@10.0.0.9>", -1); status(res) != 403 {
			t.Fatalf("guess %d = %v", i, res)
		}
	}
	if !r.guard.Locked(netip.MustParseAddr("127.0.0.1")) {
		t.Fatal("not locked out after 3 failures")
	}
	// Locked out: even the right password gets silence.
	req := p.request(sip.REGISTER, "1001", sip.NewHeader("Contact", "<sip:1001@10.0.0.9>"))
	if res := p.do(req, 1200*time.Millisecond); res != nil {
		t.Fatalf("locked-out source got %v, want no answer", res)
	}
	st := r.guard.Stats()
	if st.Lockouts != 1 || st.LockedOut == 0 || st.AuthFailures != 3 {
		t.Errorf("guard stats = %+v", st)
	}
	r.clock.Advance(5*time.Minute + time.Second)
	if res := p.register("1001", "pw", "<sip:1001@10.0.0.9>", -1); status(res) != 200 {
		t.Errorf("after the lockout REGISTER = %v, want 200", res)
	}
}

func TestGuardTrusted(t *testing.T) {
	r := newRegRig(t, GuardOptions{MaxFailures: 2, UnknownRate: 0.001, UnknownBurst: 1,
		Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	acme := r.tenant("acme")
	r.user(acme, "1001", "pw")
	p := newPhone(t, r.addr)
	for i := range 4 {
		if res := p.register("1001", "wrong", "<sip:1001@10.0.0.9>", -1); status(res) != 403 {
			t.Fatalf("guess %d from a trusted network = %v, want 403 (neither locked out nor limited)", i, res)
		}
	}
	if st := r.guard.Stats(); st.AuthFailures != 4 || st.Lockouts != 0 || st.RateLimited != 0 {
		t.Errorf("guard stats = %+v", st)
	}
	if res := p.register("1001", "pw", "<sip:1001@10.0.0.9>", -1); status(res) != 200 {
		t.Errorf("the right password from a trusted network = %v", res)
	}
}

func TestGuardScannersAndUnknownSources(t *testing.T) {
	var known atomic.Bool
	r := newRegRig(t, GuardOptions{UnknownRate: 0.001, UnknownBurst: 3, ScannerBurst: 1,
		Known: func(netip.Addr) bool { return known.Load() }})
	p := newPhone(t, r.addr)
	options := func(ua string) int {
		req := p.request(sip.OPTIONS, "probe")
		if ua != "" {
			req.ReplaceHeader(sip.NewHeader("User-Agent", ua))
		}
		return status(p.do(req, 1200*time.Millisecond))
	}
	// A scanner gets its one request, then silence.
	if got := options("friendly-scanner"); got != 200 {
		t.Fatalf("scanner's first OPTIONS = %d", got)
	}
	if got := options("friendly-scanner"); got != 0 {
		t.Errorf("scanner's second OPTIONS = %d, want no answer", got)
	}
	// An unknown source gets its burst (the scanner's requests came from
	// another bucket), then silence.
	for i := range 3 {
		if got := options(""); got != 200 {
			t.Fatalf("unknown source's request %d = %d", i, got)
		}
	}
	if got := options(""); got != 0 {
		t.Errorf("unknown source over its burst = %d, want no answer", got)
	}
	// A known source is not limited, but a scanner is even from there.
	known.Store(true)
	if got := options(""); got != 200 {
		t.Errorf("known source = %d, want 200", got)
	}
	if got := options("sipvicious"); got != 0 {
		t.Errorf("scanner from a known source = %d, want no answer", got)
	}
	// Every datagram dropped counts, retransmissions included.
	if st := r.guard.Stats(); st.Scanners < 2 || st.RateLimited < 1 {
		t.Errorf("guard stats = %+v, want 2 or more scanner drops and 1 or more rate-limited", st)
	}
}

// TestGuardMalformed sends hand-written requests over UDP: the parser
// accepts them, the guard refuses them.
func TestGuardMalformed(t *testing.T) {
	r := newRegRig(t, GuardOptions{})
	conn, err := net.Dial("udp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	send := func(name, method, cseq, from, extra string) string {
		t.Helper()
		msg := method + " sip:" + r.addr + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-" + name + "\r\n" +
			"From: " + from + "\r\n" +
			"To: <sip:x@127.0.0.1>\r\n" +
			"Call-ID: " + name + "@test\r\n" +
			"CSeq: " + cseq + "\r\n" + extra +
			"Content-Length: 0\r\n\r\n"
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 4096)
		n, err := conn.Read(buf)
		if err != nil {
			return ""
		}
		return strings.SplitN(string(buf[:n]), "\r\n", 2)[0]
	}
	good := "<sip:a@127.0.0.1>;tag=abc"
	if got := send("ok", "OPTIONS", "1 OPTIONS", good, ""); got != "SIP/2.0 200 OK" {
		t.Fatalf("well-formed OPTIONS = %q", got)
	}
	for _, c := range []struct{ name, method, cseq, from, extra, want string }{
		{"cseq", "OPTIONS", "1 INVITE", good, "", "SIP/2.0 400"},
		{"notag", "OPTIONS", "1 OPTIONS", "<sip:a@127.0.0.1>", "", "SIP/2.0 400"},
		{"hops", "REGISTER", "1 REGISTER", good, "Max-Forwards: 0\r\n", "SIP/2.0 483"},
		{"control", "OPTIONS", "1 OPTIONS", good, "Subject: a\x01b\r\n", "SIP/2.0 400"},
	} {
		if got := send(c.name, c.method, c.cseq, c.from, c.extra); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: answered %q, want %q", c.name, got, c.want)
		}
	}
	if st := r.guard.Stats(); st.Invalid != 4 {
		t.Errorf("guard stats = %+v, want 4 invalid", st)
	}
}

// TestOnChangeAlternates: a binding that lapsed but was not swept yet,
// refreshed by a new REGISTER, is no change; the hooks see true and false
// alternate.
func TestOnChangeAlternates(t *testing.T) {
	r := newRegRig(t, GuardOptions{})
	acme := r.tenant("acme")
	r.user(acme, "1001", "pw")
	device := callcenter.DeviceName(acme.ID, "1001")
	p := newPhone(t, r.addr)
	p.register("1001", "pw", "<sip:1001@10.0.0.5>", 60)
	r.clock.Advance(61 * time.Second)
	if r.reg.Registered(device) {
		t.Fatal("registered after expiry")
	}
	if res := p.register("1001", "pw", "<sip:1001@10.0.0.5>", 60); status(res) != 200 {
		t.Fatalf("re-REGISTER = %v", res)
	}
	r.reg.Expire() // nothing has lapsed now
	if res := p.register("1001", "pw", "<sip:1001@10.0.0.5>", 0); status(res) != 200 {
		t.Fatalf("unregister = %v", res)
	}
	r.reg.Expire()
	want := []string{device + "=true", device + "=false"}
	if got := r.seen(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("OnChange calls = %v, want %v", got, want)
	}
}

// TestNewPasswordTakesEffect: a password set through the store replaces the
// old one for the registrar once the account cache's second has passed, or
// at once when the driver unregisters the device and forgets the username.
func TestNewPasswordTakesEffect(t *testing.T) {
	r := newRegRig(t, GuardOptions{})
	acme := r.tenant("acme")
	u := r.user(acme, "1001", "old-pw")
	p := newPhone(t, r.addr)
	if res := p.register("1001", "old-pw", "<sip:1001@10.0.0.5>", -1); status(res) != 200 {
		t.Fatalf("old password = %v", res)
	}
	if _, err := r.db.UpdateUserFunc(context.Background(), acme.ID, u.ID, func(u *switchboard.User) error {
		u.SIPPassword = "new-pw"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Revoking the old password's registrations takes the phone off at
	// once, and the cache with it.
	device := callcenter.DeviceName(acme.ID, "1001")
	if !r.reg.Unregister(device, "1001") || r.reg.Registered(device) || r.reg.Unregister(device, "") {
		t.Fatal("Unregister did not remove the bindings, or reported removing them twice")
	}
	if got := r.seen(); len(got) != 2 || got[1] != device+"=false" {
		t.Errorf("OnChange calls = %v, want the unregistration announced", got)
	}
	if res := p.register("1001", "old-pw", "<sip:1001@10.0.0.5>", -1); status(res) != 403 {
		t.Errorf("old password after the change = %v, want 403", res)
	}
	if res := p.register("1001", "new-pw", "<sip:1001@10.0.0.5>", -1); status(res) != 200 {
		t.Errorf("new password = %v, want 200", res)
	}
	// Without Unregister, the cached accounts lapse within a second.
	if _, err := r.db.UpdateUserFunc(context.Background(), acme.ID, u.ID, func(u *switchboard.User) error {
		u.SIPPassword = "third-pw"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(1100 * time.Millisecond)
	if res := p.register("1001", "new-pw", "<sip:1001@10.0.0.5>", -1); status(res) != 403 {
		t.Errorf("replaced password after the cache's second = %v, want 403", res)
	}
	if res := p.register("1001", "third-pw", "<sip:1001@10.0.0.5>", -1); status(res) != 200 {
		t.Errorf("third password = %v, want 200", res)
	}
}

// TestBindingsSurviveARestart: a registrar started on the same store finds
// the phones registered with the one before, until they expire.
func TestBindingsSurviveARestart(t *testing.T) {
	r := newRegRig(t, GuardOptions{})
	acme := r.tenant("acme")
	r.user(acme, "1001", "pw")
	device := callcenter.DeviceName(acme.ID, "1001")
	desk, soft := newPhone(t, r.addr), newPhone(t, r.addr)
	desk.register("1001", "pw", "<sip:1001@10.0.0.5:5060;transport=udp>", 600)
	soft.register("1001", "pw", "<sip:1001@10.0.0.6:5062>", 120)
	ctx := context.Background()
	if err := r.reg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	restart := func() (*Registrar, *[]string) {
		var seen []string
		reg := NewRegistrar(r.db, RegistrarOptions{Bindings: r.db, Now: r.clock.Now})
		reg.OnChange(func(d string, ok bool) { seen = append(seen, fmt.Sprintf("%s=%v", d, ok)) })
		if err := reg.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return reg, &seen
	}
	reg, seen := restart()
	// After a restart the bindings come in order of expiry.
	byContact := func(bs []Binding) []Binding {
		return slices.SortedFunc(slices.Values(bs), func(a, b Binding) int { return strings.Compare(a.Contact.String(), b.Contact.String()) })
	}
	bs, was := byContact(reg.Bindings(device)), byContact(r.reg.Bindings(device))
	same := len(bs) == 2 && len(was) == 2
	for i := range bs {
		same = same && bs[i].Contact.String() == was[i].Contact.String() && bs[i].Source == was[i].Source &&
			bs[i].Transport == was[i].Transport && bs[i].Expires.Equal(was[i].Expires) && bs[i].CallID == was[i].CallID &&
			bs[i].UserAgent == was[i].UserAgent
	}
	if !same {
		t.Errorf("after a restart Bindings = %+v, want %+v", bs, was)
	}
	if len(reg.Contacts(device)) != 2 || reg.Contacts(device)[0].URI.Host != "127.0.0.1" {
		t.Errorf("after a restart Contacts = %+v", reg.Contacts(device))
	}
	if !reg.KnownSource(netip.MustParseAddr("127.0.0.1")) || len(*seen) != 1 || (*seen)[0] != device+"=true" {
		t.Errorf("after a restart: known source %v, OnChange %v", reg.KnownSource(netip.MustParseAddr("127.0.0.1")), *seen)
	}

	// An unregistration is kept too (written by Run as it stops); so is
	// nothing, once all expired.
	desk.register("1001", "pw", "<sip:1001@10.0.0.5:5060;transport=udp>", 0)
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() {
		r.reg.Run(runCtx, time.Hour)
		close(ran)
	}()
	stop()
	<-ran
	if reg, _ := restart(); len(reg.Bindings(device)) != 1 {
		t.Errorf("after an unregistration and a restart Bindings = %+v", reg.Bindings(device))
	}
	r.clock.Advance(121 * time.Second)
	if reg, seen := restart(); reg.Registered(device) || len(*seen) != 0 {
		t.Errorf("after expiry and a restart: registered %v, OnChange %v", reg.Registered(device), *seen)
	}
}
