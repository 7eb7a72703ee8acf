package webhook_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
	"switchboard/internal/webhook"
)

// The Standard Webhooks specification's published example.
const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTS     = 1614265330
	specBody   = `{"test": 2432232314}`
	specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignSpecVector(t *testing.T) {
	got, err := webhook.Sign([]string{specSecret}, specID, specTS, []byte(specBody))
	if err != nil || got != specSig {
		t.Fatalf("Sign(spec example) = %q, %v; want %q", got, err, specSig)
	}
	two, _ := webhook.Sign([]string{specSecret, specSecret}, specID, specTS, []byte(specBody))
	if two != specSig+" "+specSig {
		t.Errorf("two secrets sign as %q", two)
	}
	if _, err := webhook.Sign([]string{"whsec_!!"}, specID, specTS, nil); err == nil {
		t.Errorf("a secret that is not base64 must fail")
	}
}

// verify checks a request's signature the way a receiver would, written from
// the specification and independent of webhook.Sign.
func verify(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	io.WriteString(mac, h.Get("webhook-id")+"."+h.Get("webhook-timestamp")+".")
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func TestVerifierAgreesWithSpec(t *testing.T) {
	h := http.Header{}
	h.Set("webhook-id", specID)
	h.Set("webhook-timestamp", strconv.Itoa(specTS))
	h.Set("webhook-signature", specSig)
	if !verify(specSecret, h, []byte(specBody)) {
		t.Fatal("the test's own verifier rejects the specification's example")
	}
}

func TestGuard(t *testing.T) {
	g := webhook.NewGuard([]netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")})
	for _, tt := range []struct {
		ip      string
		allowed bool
	}{
		{"93.184.216.34", true}, {"2606:2800:220:1::1", true}, {"10.9.1.2", true},
		{"127.0.0.1", false}, {"::1", false}, {"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false},
		{"169.254.169.254", false}, {"100.64.0.1", false}, {"0.0.0.0", false}, {"224.0.0.1", false},
		{"fe80::1", false}, {"fd00:ec2::254", false}, {"::ffff:127.0.0.1", false}, {"::ffff:169.254.169.254", false},
		{"64:ff9b::7f00:1", false}, {"2002:7f00:1::", false}, {"255.255.255.255", false},
	} {
		err := g.Check(netip.MustParseAddr(tt.ip))
		if (err == nil) != tt.allowed {
			t.Errorf("Check(%s) = %v, want allowed %v", tt.ip, err, tt.allowed)
		}
	}
	ctx := context.Background()
	if err := g.CheckURL(ctx, "http://127.0.0.1:8080/x"); switchboard.ErrorCode(err) != switchboard.CodeInvalid {
		t.Errorf("CheckURL(loopback) = %v, want invalid", err)
	}
	if err := g.CheckURL(ctx, "http://localhost/x"); err == nil {
		t.Errorf("CheckURL(localhost) passed")
	}
}

// rig is a store, a dispatcher running against it, and a tenant.
type rig struct {
	db     *sqlstore.DB
	tenant switchboard.Tenant
	cancel context.CancelFunc
	done   chan struct{}
}

func newRig(t *testing.T, opt webhook.Options) *rig {
	t.Helper()
	db := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	tn, err := db.CreateTenant(context.Background(), switchboard.Tenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	opt.Store = db
	opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if opt.Guard == nil {
		opt.Guard = webhook.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	}
	if opt.Poll == 0 {
		opt.Poll = 20 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{db: db, tenant: tn, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		webhook.New(opt).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

func (r *rig) subscribe(t *testing.T, w switchboard.Webhook) switchboard.Webhook {
	t.Helper()
	w, err := r.db.CreateWebhook(context.Background(), r.tenant.ID, w)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (r *rig) emit(t *testing.T, typ string) switchboard.Event {
	t.Helper()
	e, err := r.db.AppendEvent(context.Background(), r.tenant.ID, typ, "test", 1, map[string]any{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

// receiver is a real HTTP server on loopback answering with the statuses
// respond chooses, recording what it got.
type receiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []received
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter)) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body, at: time.Now()})
		n := len(rc.got)
		rc.mu.Unlock()
		respond(n, w)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) count() int { rc.mu.Lock(); defer rc.mu.Unlock(); return len(rc.got) }
func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func TestDeliverRetryThenSucceed(t *testing.T) {
	r := newRig(t, webhook.Options{Schedule: []time.Duration{0, 30 * time.Millisecond, 30 * time.Millisecond, 30 * time.Millisecond}})
	rc := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "not yet")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	hook := r.subscribe(t, switchboard.Webhook{URL: rc.URL + "/hook", EventTypes: []string{"call.*"}, Headers: map[string]string{"X-Tenant": "acme"}})
	e := r.emit(t, "call.started")
	waitFor(t, "three attempts", func() bool { return rc.count() >= 3 })
	got := rc.all()
	for i, g := range got {
		if !verify(hook.Secret, g.header, g.body) {
			t.Errorf("attempt %d: signature does not verify", i)
		}
		if g.header.Get("webhook-id") != got[0].header.Get("webhook-id") {
			t.Errorf("attempt %d: webhook-id %q differs from the first %q", i, g.header.Get("webhook-id"), got[0].header.Get("webhook-id"))
		}
		if g.header.Get("X-Tenant") != "acme" || g.header.Get("Content-Type") != "application/json" {
			t.Errorf("attempt %d: headers %v", i, g.header)
		}
	}
	var p webhook.Payload
	if err := json.Unmarshal(got[0].body, &p); err != nil || p.Type != "call.started" || p.Seq != e.Seq || string(p.Data) != `{"v":1,"n":1}` {
		t.Errorf("payload %s (%v)", got[0].body, err)
	}
	var d switchboard.Delivery
	waitFor(t, "the outcome to be recorded", func() bool {
		page, _ := r.db.Deliveries(context.Background(), r.tenant.ID, switchboard.DeliveryFilter{WebhookID: hook.ID}, switchboard.ListOptions{})
		if len(page.Items) == 0 {
			return false
		}
		d, _ = r.db.Delivery(context.Background(), r.tenant.ID, page.Items[0].ID)
		return d.Status == switchboard.DeliverySucceeded
	})
	if d.Attempts != 3 || len(d.AttemptLog) != 3 || d.AttemptLog[0].StatusCode != 500 ||
		d.AttemptLog[0].Response != "" || // a loopback receiver's answer is not echoed
		d.AttemptLog[2].StatusCode != 204 || d.AttemptLog[0].ErrorClass != "http_status" {
		t.Errorf("delivery log %+v", d)
	}
	time.Sleep(100 * time.Millisecond)
	if rc.count() != 3 {
		t.Errorf("receiver got %d requests, want exactly 3", rc.count())
	}
}

// smtpServer is a minimal SMTP listener on loopback that keeps each message.
type smtpServer struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []string
}

func newSMTP(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	io.WriteString(c, "220 test ESMTP\r\n")
	var data strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			io.WriteString(c, "250 test\r\n")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
			data.WriteString(line)
			io.WriteString(c, "250 ok\r\n")
		case cmd == "DATA":
			io.WriteString(c, "354 go ahead\r\n")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, data.String())
			s.mu.Unlock()
			io.WriteString(c, "250 queued\r\n")
		case cmd == "QUIT":
			io.WriteString(c, "221 bye\r\n")
			return
		default:
			io.WriteString(c, "250 ok\r\n")
		}
	}
}

func (s *smtpServer) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

func TestAlwaysFailingEndpointIsDisabledAndOwnerMailed(t *testing.T) {
	mail := newSMTP(t)
	r := newRig(t, webhook.Options{Schedule: []time.Duration{0, 10 * time.Millisecond},
		Disable:  switchboard.DisablePolicy{Deliveries: 3},
		Notifier: &webhook.SMTP{Addr: mail.ln.Addr().String(), From: "switchboard@test"}})
	var failing atomic.Bool
	failing.Store(true)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) {
		if failing.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	hook := r.subscribe(t, switchboard.Webhook{URL: rc.URL, EventTypes: []string{"call.*"}, NotifyEmail: "ops@acme.test"})
	for range 5 {
		r.emit(t, "call.ended")
	}
	waitFor(t, "the webhook to be disabled", func() bool {
		w, _ := r.db.Webhook(context.Background(), r.tenant.ID, hook.ID)
		return !w.Enabled
	})
	w, _ := r.db.Webhook(context.Background(), r.tenant.ID, hook.ID)
	if !strings.Contains(w.DisabledReason, "3 consecutive events") || w.FailedCount < 3 {
		t.Errorf("disabled webhook %+v", w)
	}
	evs, _ := r.db.Events(context.Background(), r.tenant.ID, 0, 100)
	found := false
	for _, e := range evs {
		found = found || (e.Type == switchboard.EventWebhookDisabled && e.SubjectID == hook.ID)
	}
	if !found {
		t.Errorf("no endpoint.disabled event")
	}
	waitFor(t, "the notification e-mail", func() bool { return len(mail.messages()) == 1 })
	msg := mail.messages()[0]
	if !strings.Contains(msg, "RCPT TO:<ops@acme.test>") || !strings.Contains(msg, "Subject: Switchboard webhook") || !strings.Contains(msg, rc.URL) {
		t.Errorf("e-mail:\n%s", msg)
	}

	// While disabled nothing is queued; after a fix, re-enabling and replaying
	// the gap delivers what was missed.
	from := time.Now().Add(-time.Minute)
	// Attempts claimed before the disabling may still be under way: let them
	// finish before counting what a disabled webhook receives.
	for n := -1; n != rc.count(); {
		n = rc.count()
		time.Sleep(150 * time.Millisecond)
	}
	missed := r.emit(t, "call.missed")
	before := rc.count()
	failing.Store(false)
	time.Sleep(100 * time.Millisecond)
	if rc.count() != before {
		t.Fatalf("a disabled webhook received %d requests", rc.count()-before)
	}
	w.Enabled = true
	if _, err := r.db.UpdateWebhook(context.Background(), r.tenant.ID, w); err != nil {
		t.Fatal(err)
	}
	if n, err := r.db.ReplayWebhook(context.Background(), r.tenant.ID, hook.ID, from, time.Now().Add(time.Minute)); err != nil || n < 6 {
		t.Fatalf("replay queued %d, %v; want the 5 failed events and the missed one", n, err)
	}
	waitFor(t, "the replayed missed event", func() bool {
		for _, g := range rc.all()[before:] {
			var p webhook.Payload
			json.Unmarshal(g.body, &p)
			if p.Seq == missed.Seq {
				return true
			}
		}
		return false
	})
}

func TestGoneDisablesAtOnce(t *testing.T) {
	r := newRig(t, webhook.Options{})
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusGone) })
	hook := r.subscribe(t, switchboard.Webhook{URL: rc.URL, EventTypes: []string{"call.*"}})
	r.emit(t, "call.ended")
	waitFor(t, "the webhook to be disabled", func() bool {
		w, _ := r.db.Webhook(context.Background(), r.tenant.ID, hook.ID)
		return !w.Enabled && strings.Contains(w.DisabledReason, "410")
	})
	r.emit(t, "call.ended")
	time.Sleep(150 * time.Millisecond)
	if rc.count() != 1 {
		t.Errorf("receiver got %d requests after answering 410, want 1", rc.count())
	}
}

func TestRetryAfterAndRefusedTargets(t *testing.T) {
	r := newRig(t, webhook.Options{Schedule: []time.Duration{0, 10 * time.Millisecond, 10 * time.Millisecond}})
	rc := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	r.subscribe(t, switchboard.Webhook{URL: rc.URL, EventTypes: []string{"call.*"}})
	r.emit(t, "call.ended")
	waitFor(t, "the second attempt", func() bool { return rc.count() >= 2 })
	got := rc.all()
	if gap := got[1].at.Sub(got[0].at); gap < 900*time.Millisecond {
		t.Errorf("second attempt came %v after a 429 with Retry-After: 1", gap)
	}

	// A loopback receiver without an allow-list entry is refused at dial time.
	strict := newRig(t, webhook.Options{Guard: webhook.NewGuard(nil), Schedule: []time.Duration{0}})
	hook := strict.subscribe(t, switchboard.Webhook{URL: rc.URL, EventTypes: []string{"call.*"}})
	before := rc.count()
	strict.emit(t, "call.ended")
	var d switchboard.Delivery
	waitFor(t, "the refused attempt", func() bool {
		page, _ := strict.db.Deliveries(context.Background(), strict.tenant.ID, switchboard.DeliveryFilter{WebhookID: hook.ID, Status: switchboard.DeliveryFailed}, switchboard.ListOptions{})
		if len(page.Items) == 0 {
			return false
		}
		d, _ = strict.db.Delivery(context.Background(), strict.tenant.ID, page.Items[0].ID)
		return true
	})
	if d.AttemptLog[0].ErrorClass != "refused" || rc.count() != before {
		t.Errorf("guarded attempt %+v; receiver count %d, want %d", d.AttemptLog, rc.count(), before)
	}
}

func TestSlowEndpointDoesNotStarveOthers(t *testing.T) {
	r := newRig(t, webhook.Options{PerEndpoint: 2, Workers: 8, Timeout: 5 * time.Second})
	var inflight, peak atomic.Int32
	release := make(chan struct{})
	slow := newReceiver(t, func(int, http.ResponseWriter) {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		inflight.Add(-1)
	})
	fast := newReceiver(t, func(int, http.ResponseWriter) {})
	r.subscribe(t, switchboard.Webhook{URL: slow.URL, EventTypes: []string{"call.*"}})
	r.subscribe(t, switchboard.Webhook{URL: fast.URL, EventTypes: []string{"call.*"}})
	for range 20 {
		r.emit(t, "call.ended")
	}
	waitFor(t, "the fast endpoint to get everything while the slow one hangs", func() bool { return fast.count() == 20 })
	if p := peak.Load(); p > 2 {
		t.Errorf("slow endpoint had %d attempts in flight, cap is 2", p)
	}
	close(release)
	waitFor(t, "the slow endpoint to catch up", func() bool { return slow.count() == 20 })
}

func TestGetMethodCarriesSignedPayloadInQuery(t *testing.T) {
	r := newRig(t, webhook.Options{})
	var mu sync.Mutex
	var q []string
	var hdr []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		q, hdr = append(q, req.URL.Query().Get("payload")), append(hdr, req.Header.Clone())
		mu.Unlock()
		if req.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}))
	defer srv.Close()
	hook := r.subscribe(t, switchboard.Webhook{URL: srv.URL + "/cb?source=switchboard", Method: "GET", EventTypes: []string{"call.*"}})
	r.emit(t, "call.answered")
	waitFor(t, "the GET delivery", func() bool { mu.Lock(); defer mu.Unlock(); return len(q) == 1 })
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(q[0], `"type":"call.answered"`) || !verify(hook.Secret, hdr[0], []byte(q[0])) {
		t.Errorf("GET payload %q does not carry a verifiable event", q[0])
	}
}
