package webhook_test

import (
	"context"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/webhook"
)

// connReceiver is a loopback receiver that records the protocol of every
// request, checks its signature, and counts the connections it accepted.
type connReceiver struct {
	*httptest.Server
	conns atomic.Int32

	mu       sync.Mutex
	protos   map[int]int
	unsigned int
	secret   string
}

func newConnReceiver(t *testing.T) *connReceiver {
	rc := &connReceiver{protos: map[int]int{}}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.protos[r.ProtoMajor]++
		if !verify(rc.secret, r.Header, body) {
			rc.unsigned++
		}
	}))
	rc.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			rc.conns.Add(1)
		}
	}
	t.Cleanup(rc.Close)
	return rc
}

func (rc *connReceiver) received() (protos map[int]int, unsigned int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[int]int{}
	for k, v := range rc.protos {
		out[k] = v
	}
	return out, rc.unsigned
}

// deliverMany subscribes rc, emits n events and waits for all of them.
func deliverMany(t *testing.T, r *rig, rc *connReceiver, n int) {
	t.Helper()
	hook := r.subscribe(t, switchboard.Webhook{URL: rc.URL + "/hook", EventTypes: []string{"call.*"}})
	rc.mu.Lock()
	rc.secret = hook.Secret
	rc.mu.Unlock()
	for range n {
		r.emit(t, "call.ended")
	}
	waitFor(t, "every delivery", func() bool {
		protos, _ := rc.received()
		total := 0
		for _, v := range protos {
			total += v
		}
		return total >= n
	})
}

// A plain-HTTP receiver gets HTTP/1.1 on connections that are kept: about as
// many connections as attempts may run at once to it, however many
// deliveries.
func TestKeepsHTTP1Connections(t *testing.T) {
	const perEndpoint, events = 4, 200
	rc := newConnReceiver(t)
	rc.Start()
	r := newRig(t, webhook.Options{PerEndpoint: perEndpoint})
	deliverMany(t, r, rc, events)
	protos, unsigned := rc.received()
	if protos[1] != events || unsigned != 0 {
		t.Errorf("requests by HTTP major version %v, %d not verifying; want %d over HTTP/1.1, all signed", protos, unsigned, events)
	}
	// A connection goes back to the idle pool just after its response is
	// read, so the next attempt sometimes dials before it is there: a few
	// more connections than attempts at once, never one per delivery.
	if n := rc.conns.Load(); n > 2*perEndpoint {
		t.Errorf("the receiver accepted %d connections for %d deliveries; kept connections need at most %d", n, events, 2*perEndpoint)
	}
}

// A TLS receiver that offers h2 in ALPN gets HTTP/2, its deliveries
// multiplexed on few connections, and the signatures are the same.
func TestHTTP2WhenTheReceiverOffersIt(t *testing.T) {
	const perEndpoint, events = 8, 200
	rc := newConnReceiver(t)
	rc.EnableHTTP2 = true
	rc.StartTLS()
	roots := x509.NewCertPool()
	roots.AddCert(rc.Certificate())
	r := newRig(t, webhook.Options{PerEndpoint: perEndpoint, RootCAs: roots})
	deliverMany(t, r, rc, events)
	protos, unsigned := rc.received()
	if protos[2] != events || unsigned != 0 {
		t.Errorf("requests by HTTP major version %v, %d not verifying; want %d over HTTP/2, all signed", protos, unsigned, events)
	}
	// The first attempts may race to dial before the transport knows the
	// host speaks h2; after that every attempt shares a connection.
	if n := rc.conns.Load(); n > perEndpoint {
		t.Errorf("the receiver accepted %d connections for %d deliveries over HTTP/2", n, events)
	}
}

// A TLS receiver whose authority the dispatcher does not trust is not sent
// anything: the attempt fails at the handshake.
func TestTLSReceiverMustBeTrusted(t *testing.T) {
	rc := newConnReceiver(t)
	rc.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	rc.EnableHTTP2 = true
	rc.StartTLS()
	r := newRig(t, webhook.Options{Schedule: []time.Duration{0}})
	hook := r.subscribe(t, switchboard.Webhook{URL: rc.URL + "/hook", EventTypes: []string{"call.*"}})
	r.emit(t, "call.ended")
	var d switchboard.Delivery
	waitFor(t, "the failed attempt", func() bool {
		page, _ := r.db.Deliveries(context.Background(), r.tenant.ID, switchboard.DeliveryFilter{WebhookID: hook.ID, Status: switchboard.DeliveryFailed}, switchboard.ListOptions{})
		if len(page.Items) == 0 {
			return false
		}
		d, _ = r.db.Delivery(context.Background(), r.tenant.ID, page.Items[0].ID)
		return true
	})
	if protos, _ := rc.received(); len(protos) != 0 || len(d.AttemptLog) != 1 || d.AttemptLog[0].StatusCode != 0 {
		t.Errorf("untrusted receiver got %v; attempt log %+v", protos, d.AttemptLog)
	}
}

// countingRenderer renders a test dialect's body and counts its renders.
type countingRenderer struct{ n atomic.Int32 }

func (c *countingRenderer) Render(_ context.Context, w switchboard.Webhook, e switchboard.Event) ([]byte, error) {
	c.n.Add(1)
	return []byte(`{"event":"` + e.Type + `","headers":` + strconv.Itoa(len(w.Headers)) + `}`), nil
}

// A body is rendered once per event and subscription version: retries reuse
// it, and a subscription changed since gets a new one.
func TestRenderedOncePerEventAndSubscriptionVersion(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) {
		if failing.Load() && n <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	render := &countingRenderer{}
	r := newRig(t, webhook.Options{Schedule: []time.Duration{0, 20 * time.Millisecond, 20 * time.Millisecond},
		Renderers: map[string]webhook.Renderer{"counting": render}})
	hook := r.subscribe(t, switchboard.Webhook{URL: rc.URL, Dialect: "counting", EventTypes: []string{"call.*"}})
	r.emit(t, "call.ended")
	waitFor(t, "three attempts", func() bool { return rc.count() == 3 })
	if n := render.n.Load(); n != 1 {
		t.Fatalf("rendered %d times for three attempts of one delivery, want once", n)
	}
	got := rc.all()
	for i, g := range got {
		if string(g.body) != `{"event":"call.ended","headers":0}` || !verify(hook.Secret, g.header, g.body) {
			t.Errorf("attempt %d: body %s", i, g.body)
		}
	}

	// Changed, the subscription gets the event rendered again.
	hook.Headers = map[string]string{"X-Env": "test"}
	if _, err := r.db.UpdateWebhook(context.Background(), r.tenant.ID, hook); err != nil {
		t.Fatal(err)
	}
	page, _ := r.db.Deliveries(context.Background(), r.tenant.ID, switchboard.DeliveryFilter{WebhookID: hook.ID}, switchboard.ListOptions{})
	waitFor(t, "the outcome of the first delivery", func() bool {
		d, _ := r.db.Delivery(context.Background(), r.tenant.ID, page.Items[len(page.Items)-1].ID)
		return d.Status == switchboard.DeliverySucceeded
	})
	if _, err := r.db.RetryDelivery(context.Background(), r.tenant.ID, page.Items[len(page.Items)-1].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the retried delivery", func() bool { return rc.count() == 4 })
	if n := render.n.Load(); n != 2 {
		t.Errorf("rendered %d times after the subscription changed, want twice", n)
	}
	if last := rc.all()[3]; string(last.body) != `{"event":"call.ended","headers":1}` {
		t.Errorf("after the change the body is %s", last.body)
	}
}

// During a rotation's overlap every delivery carries a signature by each
// secret; once the overlap is over, only the new secret signs.
func TestRotationSignsWithBothSecretsDuringOverlap(t *testing.T) {
	rc := newReceiver(t, func(int, http.ResponseWriter) {})
	r := newRig(t, webhook.Options{})
	old := r.subscribe(t, switchboard.Webhook{URL: rc.URL, EventTypes: []string{"call.*"}})
	rotated, err := r.db.RotateWebhookSecret(context.Background(), r.tenant.ID, old.ID, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	r.emit(t, "call.ended")
	waitFor(t, "the delivery during the overlap", func() bool { return rc.count() == 1 })
	time.Sleep(400 * time.Millisecond)
	r.emit(t, "call.ended")
	waitFor(t, "the delivery after the overlap", func() bool { return rc.count() == 2 })
	got := rc.all()
	if g := got[0]; len(strings.Fields(g.header.Get("webhook-signature"))) != 2 || !verify(old.Secret, g.header, g.body) || !verify(rotated.Secret, g.header, g.body) {
		t.Errorf("during the overlap: signature %q", g.header.Get("webhook-signature"))
	}
	if g := got[1]; len(strings.Fields(g.header.Get("webhook-signature"))) != 1 || verify(old.Secret, g.header, g.body) || !verify(rotated.Secret, g.header, g.body) {
		t.Errorf("after the overlap: signature %q", g.header.Get("webhook-signature"))
	}
}

// A dispatcher that stops releases what it claimed ahead and did not send:
// those deliveries are due again at once, not when their leases run out.
func TestStoppingReleasesUnsentClaims(t *testing.T) {
	release := make(chan struct{})
	var arrived atomic.Int32
	rc := newReceiver(t, func(int, http.ResponseWriter) {
		arrived.Add(1)
		<-release
	})
	r := newRig(t, webhook.Options{PerEndpoint: 1})
	r.subscribe(t, switchboard.Webhook{URL: rc.URL, EventTypes: []string{"call.*"}})
	const events = 5
	for range events {
		r.emit(t, "call.ended")
	}
	// One attempt in flight; the claim also holds a second one, waiting.
	waitFor(t, "the first attempt", func() bool { return arrived.Load() == 1 })
	time.Sleep(50 * time.Millisecond)
	r.cancel()
	close(release)
	<-r.done
	due, err := r.db.ClaimDeliveries(context.Background(), time.Now(), time.Minute, 100, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != events-1 || arrived.Load() != 1 {
		t.Errorf("after stopping, %d deliveries are due and %d were sent; want the %d not sent due at once", len(due), arrived.Load(), events-1)
	}
}
