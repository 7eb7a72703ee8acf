// Package webhook delivers the event log to tenants' webhook subscriptions:
// rendered in the subscription's dialect, signed as Standard Webhooks specifies,
// retried on a schedule, disabled when an endpoint keeps failing, and never
// aimed at addresses the SSRF guard refuses.
//
// Deliveries are rows the store writes in the same transaction as their event.
// The dispatcher leases due rows, sends them, and writes the outcomes back in
// batches. A dispatcher that dies leaves leases that expire, and the rows are
// sent again: delivery is at least once, and the webhook-id header (the same on
// every try) lets receivers drop duplicates.
//
// Throughput comes from doing per batch what can be done per batch. One claim
// leases up to a thousand deliveries across subscriptions in one transaction
// and reads each of their events and webhooks once; the dispatcher claims
// ahead, holding several rounds of attempts per webhook (as many as its
// receiver answers in a quarter of the timeout, so a slow one holds few), and
// claims the next batch while the last is in flight. Bodies are rendered in
// the claim loop, once per event for the native format and once per event and
// subscription version for a vendor's, and signed per delivery by the
// senders; at most Workers attempts run at once, at most PerEndpoint to one
// webhook. Outcomes go to one writer that records all that arrived during its
// previous commit in one transaction. Connections are kept (HTTP/1.1
// keep-alive, or HTTP/2 when a TLS receiver offers h2 in ALPN). A claim still
// waiting when its lease could run out before its outcome is written is let
// go unsent, and claimed again once the lease has expired; claims still
// waiting when the dispatcher stops are released, due again at once.
//
// Vendor dialects render their own payloads through a Renderer. A vendor's
// event type is often a slice of a core one (a CALL_INCOMING is an
// inbound call.ringing), so subscriptions select core types and the renderer
// may pass over an event (ErrSkip): that delivery is recorded as skipped and
// counts neither as a success nor as a failure. GET subscriptions of vendor
// dialects receive the payload's fields as query parameters.
//
// A delivery that ends failed (every attempt failed, or the receiver
// answered 410) becomes a webhook failure (switchboard.WebhookFailure),
// written with its outcome: what was sent, the last answer, why. A
// subscription may turn on the inactive rule (InactiveAfterFailures, which
// the Voiso dialect sets to 5 as Voiso does): once that many deliveries of
// one event type failed within switchboard.InactiveWindow, the type is
// inactive for it. Its deliveries are then not sent: each becomes a failure
// without an attempt (OutcomeInactive) when it is due, so nothing the
// receiver missed is lost from view, and the subscription's other types are
// delivered as before. Retriggering a failure queues its delivery again; a
// retriggered delivery is sent even while its type is inactive, and once it
// is delivered the failure is settled and the type active again. An
// inactive outcome made no attempt: it is not in the attempt log and counts
// neither for nor against the disable policy.
//
// Every dialect's webhook API runs one Policy on a subscription before it is
// created or updated: the Guard's URL check (http or https, no credentials,
// a canonical IP literal without an IPv6 zone or a DNS name other than
// localhost, and every address it resolves to, normalised, public or in an
// allowed range) and the bound on its event types. The store bounds the
// subscriptions of one tenant. At delivery the host is checked again, the
// dialled address too, redirects are not followed, and the attempt log keeps
// at most responseKept bytes of a public receiver's answer (none of a private
// one's) and errorKept bytes of the error.
package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"switchboard"
)

// Store is what the dispatcher needs from the store.
type Store interface {
	// ClaimDeliveries leases up to limit due deliveries, at most perWebhook
	// of one webhook, or caps[id] of a webhook caps names (0: none).
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit, perWebhook int, caps map[int64]int) ([]switchboard.DeliveryClaim, error)
	CompleteDeliveries(ctx context.Context, results []switchboard.DeliveryResult, policy switchboard.DisablePolicy) ([]switchboard.Webhook, error)
	// ReleaseDeliveries ends the leases of claimed deliveries that were not
	// sent.
	ReleaseDeliveries(ctx context.Context, ids []int64) error
	Changes() (<-chan struct{}, func())
}

// DefaultSchedule is the delay before each attempt: at once, then after 5 s,
// 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (about 28 h in all), as Svix and the
// Standard Webhooks guidance do.
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Options configure a Dispatcher. Zero values take the documented defaults.
type Options struct {
	Store    Store
	Log      *slog.Logger
	Guard    *Guard
	Notifier Notifier
	// Schedule is the delay before each attempt; its length is the most
	// attempts a delivery gets (a webhook's MaxAttempts can lower it).
	Schedule []time.Duration
	// Timeout bounds one HTTP attempt (default 15 s).
	Timeout time.Duration
	// Workers bounds concurrent attempts across all endpoints (default 64).
	Workers int
	// PerEndpoint bounds concurrent attempts to one webhook (default 8), so a
	// slow receiver cannot take every worker.
	PerEndpoint int
	// EndpointRate bounds attempts per second to one webhook (0: no bound).
	EndpointRate float64
	// Poll is how often the store is polled when nothing signals (default 1 s);
	// commits on this node signal at once.
	Poll    time.Duration
	Disable switchboard.DisablePolicy
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Renderers render the payloads of the vendor dialects, by dialect name;
	// the native format needs none.
	Renderers map[string]Renderer
	// RootCAs are the certificate authorities trusted for https receivers;
	// nil trusts the system's (an on-premises receiver signed by a private
	// authority needs its own).
	RootCAs *x509.CertPool
}

// Renderer renders an event in a vendor dialect's payload format.
type Renderer interface {
	// Render returns the body to send to w for e, or ErrSkip when w chose
	// the event's type but not this event (an inbound-only subscription and
	// an outbound call, say).
	Render(ctx context.Context, w switchboard.Webhook, e switchboard.Event) ([]byte, error)
}

// OrderedRenderer is a Renderer whose dialect's receivers expect a
// subscription's deliveries one at a time, in the order of their events (a
// call's answered, hangup and ended in that order, as its vendor sends them).
// The dispatcher then keeps one attempt in flight per such subscription
// instead of PerEndpoint; a delivery that is retrying does not hold the
// later ones back, so order is kept while the receiver answers.
type OrderedRenderer interface {
	Renderer
	Ordered() bool
}

// SigningRenderer is a Renderer whose dialect signs its deliveries its own
// way (UJET's X-Signature and X-Signature-Timestamp): the dispatcher sends
// the headers it returns in place of the Standard Webhooks ones
// (webhook-id, webhook-timestamp, webhook-signature). Renderers that do not
// implement it keep those, byte for byte.
type SigningRenderer interface {
	Renderer
	// SignatureHeaders signs body, sent at now, with the subscription's
	// secrets as its receiver holds them: the current one first, then the
	// previous one while it is still valid after a rotation.
	SignatureHeaders(secrets []string, now time.Time, body []byte) (http.Header, error)
}

// ErrSkip tells the dispatcher that a subscription does not take an event.
var ErrSkip = errors.New("the subscription does not take this event")

// Dispatcher sends due deliveries until its context ends.
type Dispatcher struct {
	opt    Options
	client *http.Client
	// capacity bounds the claims held at once, in flight or waiting to be
	// sent: many rounds of Workers, so that one claim transaction serves
	// many deliveries and the next round is claimed and rendered while this
	// one is in flight.
	capacity int

	mu       sync.Mutex
	running  int           // attempts in flight, at most Workers
	inflight map[int64]int // attempts in flight per webhook, at most its bound
	// bounds are the webhooks whose bound is not PerEndpoint (ordered
	// dialects'), learnt from their claims.
	bounds  map[int64]int
	waiting map[int64][]*claim
	// blocked lists webhooks with claims waiting for a worker rather than
	// for their own PerEndpoint bound, in the order they were held back.
	blocked []int64
	total   int // claims held: in flight plus waiting
	// unsent are the claims let go on the way out, for Run to release.
	unsent  []int64
	latency map[int64]time.Duration
	// limiters bound attempts per second per webhook (Options.EndpointRate).
	limiters map[int64]*rate.Limiter

	// bodies caches rendered bodies for the claim loop (its goroutine only).
	bodies map[renderKey]rendered

	freed   chan struct{}
	results chan switchboard.DeliveryResult
	sends   sync.WaitGroup
}

// claim is a leased delivery with its rendered body, waiting for or being
// sent.
type claim struct {
	switchboard.DeliveryClaim
	body      []byte
	renderErr error
	// targetErr is the refusal of the URL by the host rules, checked again
	// at delivery time (the address dialled is checked by the Guard).
	targetErr error
	signer    *signer
	// sendBy is when a claim still waiting is let go instead of sent: later,
	// its lease could run out before the attempt and its outcome are done,
	// and another dispatcher could send it too. Let go, it is claimed again
	// once the lease has run out.
	sendBy time.Time
}

// Claiming ahead. A webhook may have as many rounds of PerEndpoint attempts
// claimed at once as its receiver answers (by the average of its recent
// answers, and within EndpointRate) in a quarter of the timeout, between
// minRounds and maxRounds: a slow or unknown receiver holds no more than
// minRounds, so it cannot take the capacity from others, and what a fast one
// holds is sent long before its lease runs out.
const (
	minRounds = 2
	maxRounds = 64
	// capacityRounds is the capacity in rounds of Workers: a claim starts
	// when a quarter of it is free, and the rest keeps the workers busy
	// while the claim waits for the store's writer.
	capacityRounds = 32
	// maxClaim bounds one claim transaction.
	maxClaim = 1024
)

// New returns a dispatcher; Run starts it.
func New(opt Options) *Dispatcher {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Guard == nil {
		opt.Guard = NewGuard(nil)
	}
	if len(opt.Schedule) == 0 {
		opt.Schedule = DefaultSchedule
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 15 * time.Second
	}
	if opt.Workers <= 0 {
		opt.Workers = 64
	}
	if opt.PerEndpoint <= 0 {
		opt.PerEndpoint = 8
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: opt.Guard.Control}
	transport := &http.Transport{
		Proxy:       nil, // a proxy would hide the real target from the guard
		DialContext: dialer.DialContext,
		// Connections are kept: every worker may keep one to the same host
		// (several subscriptions often share a receiver), and HTTP/2 is used
		// when a TLS receiver offers it in ALPN (a custom dialer turns it off
		// unless forced), multiplexing every attempt to that host on one
		// connection.
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{RootCAs: opt.RootCAs, MinVersion: tls.VersionTLS12},
		MaxIdleConns:          0, // no bound across hosts; MaxIdleConnsPerHost bounds each
		MaxIdleConnsPerHost:   opt.Workers,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: opt.Timeout,
		DisableCompression:    true, // bodies are small; receivers answer briefly
	}
	return &Dispatcher{
		opt: opt,
		// No Client.Timeout: it costs a goroutine and a timer per request;
		// attempt bounds each one with its context instead.
		client: &http.Client{Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		capacity: capacityRounds * opt.Workers,
		inflight: map[int64]int{},
		bounds:   map[int64]int{},
		waiting:  map[int64][]*claim{},
		latency:  map[int64]time.Duration{},
		limiters: map[int64]*rate.Limiter{},
		bodies:   map[renderKey]rendered{},
		freed:    make(chan struct{}, 1),
		results:  make(chan switchboard.DeliveryResult, 4096),
	}
}

// Lease is how long a claimed delivery stays hidden from other dispatchers:
// long enough for the attempt and the write of its outcome.
func (d *Dispatcher) Lease() time.Duration { return 2*d.opt.Timeout + 5*time.Second }

// Run delivers until ctx ends, then lets attempts in flight finish and writes
// their outcomes before it returns.
func (d *Dispatcher) Run(ctx context.Context) error {
	wake, stop := d.opt.Store.Changes()
	defer stop()
	writerDone := make(chan struct{})
	go func() {
		// The writer lives until the results channel is closed below.
		defer close(writerDone)
		d.writeResults()
	}()
	defer func() {
		d.sends.Wait()
		if len(d.unsent) > 0 {
			// Claimed ahead and not sent: released, they are due again at
			// once for the next dispatcher instead of after their leases.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := d.opt.Store.ReleaseDeliveries(rctx, d.unsent); err != nil {
				d.opt.Log.Warn("release unsent webhook deliveries (their leases will run out)", "deliveries", len(d.unsent), "err", err)
			}
			cancel()
		}
		close(d.results)
		<-writerDone
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		n, full, err := d.claimAndSend(ctx)
		if err != nil && ctx.Err() == nil {
			d.opt.Log.Error("claim webhook deliveries", "err", err)
		}
		if full && err == nil {
			continue // a backlog: claim again as soon as there is room
		}
		if n > 0 && err == nil {
			// Let a few more events commit before the next claim, so that one
			// claim transaction serves many events instead of one each.
			sleep(ctx, gather)
			continue
		}
		timer.Reset(d.opt.Poll)
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
			sleep(ctx, gather)
		case <-d.freed:
		case <-timer.C:
		}
	}
}

// gather is how long the dispatcher and the outcome writer wait to batch work
// after a wake-up: a few milliseconds of latency for far fewer transactions,
// which on SQLite (one writer, one fsync per commit) is what keeps up with
// thousands of events a second.
const gather = 5 * time.Millisecond

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// rounds is how many rounds of attempts to webhook id may be claimed at once;
// d.mu is held.
func (d *Dispatcher) rounds(id int64) int {
	lat, ok := d.latency[id]
	if !ok {
		return minRounds
	}
	n := int(d.opt.Timeout / 4 / max(lat, time.Millisecond))
	if d.opt.EndpointRate > 0 {
		// A rate-limited webhook is no faster than its rate allows.
		n = min(n, int(d.opt.EndpointRate*(d.opt.Timeout/4).Seconds())/d.opt.PerEndpoint)
	}
	return min(max(n, minRounds), maxRounds)
}

// claimAndSend claims as many due deliveries as there is room for, renders
// them and starts sending them; it reports how many, and whether it took all
// it asked for (so more are probably due).
func (d *Dispatcher) claimAndSend(ctx context.Context) (int, bool, error) {
	d.mu.Lock()
	room := d.capacity - d.total
	busy := d.total > 0
	caps := make(map[int64]int, len(d.latency))
	for id := range d.latency {
		caps[id] = d.rounds(id) * d.opt.PerEndpoint
	}
	for id, n := range d.inflight {
		caps[id] = max(0, d.rounds(id)*d.opt.PerEndpoint-n-len(d.waiting[id]))
	}
	d.mu.Unlock()
	// While attempts are in flight, wait for a useful amount of room rather
	// than claiming a few deliveries per finished attempt.
	if ctx.Err() != nil || room <= 0 || (busy && room < d.capacity/4) {
		return 0, false, nil
	}
	limit := min(room, maxClaim)
	now := d.opt.Now()
	got, err := d.opt.Store.ClaimDeliveries(ctx, now, d.Lease(), limit, minRounds*d.opt.PerEndpoint, caps)
	if err != nil {
		return 0, false, err
	}
	// Rendering happens here, in the claim loop, while the attempts started
	// before are in flight; the senders only sign and send.
	claims := d.prepare(ctx, got, now.Add(d.Lease()-d.opt.Timeout-leaseSlack))
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range claims {
		d.total++
		id := c.Webhook.ID
		if r, ok := d.opt.Renderers[c.Webhook.Dialect].(OrderedRenderer); ok && r.Ordered() {
			d.bounds[id] = 1
		}
		switch {
		case d.inflight[id] >= d.bound(id):
			// A webhook at its bound keeps the claim waiting (it is leased,
			// so no one else takes it) until one of its attempts finishes.
			d.waiting[id] = append(d.waiting[id], c)
		case d.running >= d.opt.Workers:
			d.waiting[id] = append(d.waiting[id], c)
			d.blocked = append(d.blocked, id)
		default:
			d.inflight[id]++
			d.running++
			d.start(ctx, c)
		}
	}
	return len(claims), len(claims) == limit, nil
}

// leaseSlack is what is left of a lease for writing the outcome of an attempt
// that took the whole timeout.
const leaseSlack = 3 * time.Second

// start sends c in a new goroutine; d.mu is held and c holds a worker and a
// slot of its webhook. When the attempt ends, the next claim waiting for the
// same webhook takes both; without one, the worker goes to the webhook held
// back longest.
func (d *Dispatcher) start(ctx context.Context, c *claim) {
	d.sends.Add(1)
	go func() {
		// Each send ends within the HTTP timeout plus any rate-limit wait.
		defer d.sends.Done()
		res := d.send(context.WithoutCancel(ctx), c)
		d.results <- res
		d.mu.Lock()
		defer d.mu.Unlock()
		id := c.Webhook.ID
		if res.Outcome != switchboard.OutcomeSkipped && res.Outcome != switchboard.OutcomeInactive {
			lat := time.Duration(res.Attempt.LatencyMS) * time.Millisecond
			if prev, ok := d.latency[id]; ok {
				lat = (prev*7 + lat) / 8
			}
			d.latency[id] = lat
		}
		d.total--
		if ctx.Err() != nil {
			// Stopping: what waits is not sent; Run releases the leases.
			for other, q := range d.waiting {
				for _, c := range q {
					d.unsent = append(d.unsent, c.Delivery.ID)
				}
				d.total -= len(q)
				delete(d.waiting, other)
			}
			d.blocked = nil
		}
		now := d.opt.Now()
		if next := d.next(id, now); next != nil {
			d.start(ctx, next)
			return
		}
		if d.inflight[id]--; d.inflight[id] <= 0 {
			delete(d.inflight, id)
		}
		d.running--
		for len(d.blocked) > 0 && d.running < d.opt.Workers {
			other := d.blocked[0]
			d.blocked = d.blocked[1:]
			if d.inflight[other] >= d.bound(other) {
				continue // its own attempts will take its claims
			}
			if next := d.next(other, now); next != nil {
				d.inflight[other]++
				d.running++
				d.start(ctx, next)
			}
		}
		if len(d.blocked) == 0 {
			d.blocked = nil // let the backing array go
		}
		select {
		case d.freed <- struct{}{}:
		default:
		}
	}()
}

// bound is how many attempts to webhook id may be in flight at once; d.mu
// is held.
func (d *Dispatcher) bound(id int64) int {
	if b, ok := d.bounds[id]; ok {
		return b
	}
	return d.opt.PerEndpoint
}

// next takes the first claim waiting for webhook id that is still to be sent,
// letting go of those whose time has passed; d.mu is held.
func (d *Dispatcher) next(id int64, now time.Time) *claim {
	for q := d.waiting[id]; len(q) > 0; q = d.waiting[id] {
		c := q[0]
		if d.waiting[id] = q[1:]; len(d.waiting[id]) == 0 {
			delete(d.waiting, id)
		}
		if now.After(c.sendBy) {
			d.total-- // let go: claimed again when its lease runs out
			continue
		}
		return c
	}
	return nil
}

// writeResults stores outcomes in batches: one transaction for all that arrived
// while the previous one committed, which is what keeps SQLite's single writer
// ahead of thousands of deliveries a second.
func (d *Dispatcher) writeResults() {
	batch := make([]switchboard.DeliveryResult, 0, 512)
	for r := range d.results {
		batch = append(batch[:0], r)
		time.Sleep(gather) // let the attempts finishing alongside join the batch
	drain:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-d.results:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		d.flush(batch)
	}
}

func (d *Dispatcher) flush(batch []switchboard.DeliveryResult) {
	ctx := context.Background()
	for attempt := 0; ; attempt++ {
		disabled, err := d.opt.Store.CompleteDeliveries(ctx, batch, d.opt.Disable)
		if err == nil {
			for _, w := range disabled {
				d.opt.Log.Warn("webhook disabled", "tenant_id", w.TenantID, "webhook_id", w.ID, "reason", w.DisabledReason)
				if d.opt.Notifier != nil {
					nctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					if err := d.opt.Notifier.WebhookDisabled(nctx, w); err != nil {
						d.opt.Log.Error("notify webhook owner", "webhook_id", w.ID, "err", err)
					}
					cancel()
				}
			}
			return
		}
		// The outcomes are already decided; losing them would only mean the
		// leases expire and the deliveries are sent again, so retry a while.
		d.opt.Log.Error("record webhook outcomes", "deliveries", len(batch), "attempt", attempt, "err", err)
		if attempt >= 5 {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
}
