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
// Vendor dialects render their own payloads through a Renderer. A vendor's
// event type is often a slice of a core one (a CALL_INCOMING is an
// inbound call.ringing), so subscriptions select core types and the renderer
// may pass over an event (ErrSkip): that delivery is recorded as skipped and
// counts neither as a success nor as a failure. GET subscriptions of vendor
// dialects receive the payload's fields as query parameters.
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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"switchboard"
)

// Store is what the dispatcher needs from the store.
type Store interface {
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit, perWebhook int, skip []int64) ([]switchboard.DeliveryClaim, error)
	CompleteDeliveries(ctx context.Context, results []switchboard.DeliveryResult, policy switchboard.DisablePolicy) ([]switchboard.Webhook, error)
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
}

// Renderer renders an event in a vendor dialect's payload format.
type Renderer interface {
	// Render returns the body to send to w for e, or ErrSkip when w chose
	// the event's type but not this event (an inbound-only subscription and
	// an outbound call, say).
	Render(ctx context.Context, w switchboard.Webhook, e switchboard.Event) ([]byte, error)
}

// ErrSkip tells the dispatcher that a subscription does not take an event.
var ErrSkip = errors.New("the subscription does not take this event")

// Dispatcher sends due deliveries until its context ends.
type Dispatcher struct {
	opt    Options
	client *http.Client

	mu       sync.Mutex
	inflight map[int64]int // attempts in flight per webhook
	waiting  map[int64][]switchboard.DeliveryClaim
	total    int // attempts in flight plus claims waiting
	limiters map[int64]*rate.Limiter

	freed   chan struct{}
	results chan switchboard.DeliveryResult
	sends   sync.WaitGroup
}

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
		Proxy:                 nil, // a proxy would hide the real target from the guard
		DialContext:           dialer.DialContext,
		MaxIdleConnsPerHost:   opt.Workers, // several subscriptions may share one receiver host
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: opt.Timeout,
	}
	return &Dispatcher{
		opt: opt,
		client: &http.Client{Transport: transport, Timeout: opt.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		inflight: map[int64]int{},
		waiting:  map[int64][]switchboard.DeliveryClaim{},
		limiters: map[int64]*rate.Limiter{},
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

// claimAndSend claims as many due deliveries as there is capacity for and
// starts sending them; it reports how many, and whether it took all it asked
// for (so more are probably due).
func (d *Dispatcher) claimAndSend(ctx context.Context) (int, bool, error) {
	d.mu.Lock()
	free := d.opt.Workers - d.total
	busy := d.total > 0
	var skip []int64
	for id, n := range d.inflight {
		if n+len(d.waiting[id]) >= d.opt.PerEndpoint {
			skip = append(skip, id)
		}
	}
	d.mu.Unlock()
	// While attempts are in flight, wait for a useful amount of room rather
	// than claiming one delivery per finished attempt.
	if ctx.Err() != nil || free <= 0 || (busy && free < max(1, d.opt.Workers/8)) {
		return 0, false, nil
	}
	limit := min(free, 256)
	claims, err := d.opt.Store.ClaimDeliveries(ctx, d.opt.Now(), d.Lease(), limit, d.opt.PerEndpoint, skip)
	if err != nil {
		return 0, false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range claims {
		d.total++
		id := c.Webhook.ID
		// A webhook at its cap keeps the claim waiting (it is leased, so no
		// one else takes it) until one of its attempts finishes.
		if d.inflight[id] >= d.opt.PerEndpoint {
			d.waiting[id] = append(d.waiting[id], c)
			continue
		}
		d.inflight[id]++
		d.start(ctx, c)
	}
	return len(claims), len(claims) == limit, nil
}

// start sends c in a new goroutine; d.mu is held. When the attempt ends, the
// next claim waiting for the same webhook takes its slot.
func (d *Dispatcher) start(ctx context.Context, c switchboard.DeliveryClaim) {
	d.sends.Add(1)
	go func() {
		// Each send ends within the HTTP timeout plus any rate-limit wait.
		defer d.sends.Done()
		d.results <- d.send(context.WithoutCancel(ctx), c)
		d.mu.Lock()
		defer d.mu.Unlock()
		id := c.Webhook.ID
		d.total--
		if next := d.waiting[id]; len(next) > 0 {
			d.waiting[id] = next[1:]
			if len(d.waiting[id]) == 0 {
				delete(d.waiting, id)
			}
			d.start(ctx, next[0])
			return
		}
		if d.inflight[id]--; d.inflight[id] <= 0 {
			delete(d.inflight, id)
		}
		select {
		case d.freed <- struct{}{}:
		default:
		}
	}()
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

// Payload is the native webhook body: the event with its data, in the
// envelope Standard Webhooks suggests.
type Payload struct {
	Type        string          `json:"type"`
	Timestamp   time.Time       `json:"timestamp"`
	TenantID    int64           `json:"tenant_id"`
	Seq         int64           `json:"seq"`
	EventID     int64           `json:"event_id"`
	SubjectType string          `json:"subject_type"`
	SubjectID   int64           `json:"subject_id"`
	Data        json.RawMessage `json:"data"`
}

// render produces the body of a delivery in the webhook's dialect.
func (d *Dispatcher) render(ctx context.Context, c switchboard.DeliveryClaim) ([]byte, error) {
	switch c.Webhook.Dialect {
	case switchboard.DialectNative, "":
		e := c.Event
		return json.Marshal(Payload{Type: e.Type, Timestamp: e.Time, TenantID: e.TenantID, Seq: e.Seq, EventID: e.ID,
			SubjectType: e.SubjectType, SubjectID: e.SubjectID, Data: e.Payload})
	}
	if r, ok := d.opt.Renderers[c.Webhook.Dialect]; ok {
		return r.Render(ctx, c.Webhook, c.Event)
	}
	return nil, fmt.Errorf("no renderer for dialect %q", c.Webhook.Dialect)
}

// MessageID is the webhook-id of a delivery: the same on every attempt.
func MessageID(deliveryID int64) string { return "msg_" + strconv.FormatInt(deliveryID, 10) }

// send makes one attempt and decides what follows it.
func (d *Dispatcher) send(ctx context.Context, c switchboard.DeliveryClaim) (res switchboard.DeliveryResult) {
	res = switchboard.DeliveryResult{DeliveryID: c.Delivery.ID, WebhookID: c.Webhook.ID, TenantID: c.Delivery.TenantID}
	if lim := d.limiter(c.Webhook.ID); lim != nil {
		lim.Wait(ctx)
	}
	now := d.opt.Now()
	res.Attempt.At = now
	body, err := d.render(ctx, c)
	if errors.Is(err, ErrSkip) {
		res.Outcome, res.Attempt.ErrorClass, res.Attempt.Error = switchboard.OutcomeSkipped, "skipped", err.Error()
		return res
	}
	status, retryAfter, snippet, err := d.attempt(ctx, c, body, err, now)
	res.Attempt.LatencyMS = d.opt.Now().Sub(now).Milliseconds()
	res.Attempt.StatusCode, res.Attempt.Response = status, snippet
	defer func() { res.Attempt.Error = clip(res.Attempt.Error, errorKept) }()
	switch {
	case err == nil && status >= 200 && status < 300:
		res.Outcome = switchboard.OutcomeDelivered
		return res
	case err == nil && status == http.StatusGone:
		res.Attempt.ErrorClass, res.Attempt.Error = "http_status", "410 Gone: the receiver asked to stop"
		res.Outcome = switchboard.OutcomeGone
		return res
	case err == nil && status >= 300 && status < 400:
		res.Attempt.ErrorClass, res.Attempt.Error = "redirect", fmt.Sprintf("%d redirect (redirects are not followed)", status)
	case err == nil:
		res.Attempt.ErrorClass, res.Attempt.Error = "http_status", fmt.Sprintf("%d %s", status, http.StatusText(status))
	default:
		res.Attempt.ErrorClass, res.Attempt.Error = classify(err), err.Error()
		var refused *refusedError
		if errors.As(err, &refused) {
			res.Attempt.Error = refused.Error() // without the dialled address
		}
	}
	attempts := c.Delivery.Attempts + 1
	limit := len(d.opt.Schedule)
	if c.Webhook.MaxAttempts > 0 {
		limit = min(limit, c.Webhook.MaxAttempts)
	}
	if attempts >= limit {
		res.Outcome = switchboard.OutcomeGiveUp
		return res
	}
	delay := jitter(d.opt.Schedule[attempts])
	if retryAfter > delay {
		delay = min(retryAfter, 24*time.Hour)
	}
	res.Outcome, res.NextAttemptAt = switchboard.OutcomeRetry, now.Add(delay)
	return res
}

// What the attempt log keeps of one attempt: at most responseKept bytes of
// the receiver's answer, and only when the receiver's address is public (an
// allowed private service's answer is not the tenant's to read), and at most
// errorKept bytes of the error.
const (
	responseKept = 512
	errorKept    = 512
)

// attempt sends the HTTP request with the rendered body (or fails with the
// rendering's error). It returns the status code, the receiver's
// Retry-After on 429 and 503, the start of its answer, and an error when no
// response came back.
func (d *Dispatcher) attempt(ctx context.Context, c switchboard.DeliveryClaim, body []byte, err error, now time.Time) (int, time.Duration, string, error) {
	if err != nil {
		return 0, 0, "", err
	}
	if err := checkTarget(c.Webhook.URL); err != nil {
		return 0, 0, "", err
	}
	secrets := []string{c.Webhook.Secret}
	if c.Webhook.PreviousSecret != "" && c.Webhook.PreviousSecretExpiresAt != nil && now.Before(*c.Webhook.PreviousSecretExpiresAt) {
		secrets = append(secrets, c.Webhook.PreviousSecret)
	}
	msgID, ts := MessageID(c.Delivery.ID), now.Unix()
	sig, err := Sign(secrets, msgID, ts, body)
	if err != nil {
		return 0, 0, "", err
	}
	var req *http.Request
	if c.Webhook.Method == http.MethodGet {
		u, err := url.Parse(c.Webhook.URL)
		if err != nil {
			return 0, 0, "", err
		}
		q := u.Query()
		if c.Webhook.Dialect == switchboard.DialectNative || c.Webhook.Dialect == "" {
			q.Set("payload", string(body))
		} else if err := flatten(q, "", body); err != nil {
			return 0, 0, "", err
		}
		u.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return 0, 0, "", err
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.Webhook.URL, bytes.NewReader(body))
		if err != nil {
			return 0, 0, "", err
		}
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.Webhook.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", "Switchboard-Webhooks/1")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	var remote netip.Addr
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if ap, err := netip.ParseAddrPort(info.Conn.RemoteAddr().String()); err == nil {
				remote = ap.Addr()
			}
		},
	}))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, responseKept))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // drain, so the connection is reused
	var retryAfter time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	if !Public(remote) {
		head = nil
	}
	return resp.StatusCode, retryAfter, strings.ToValidUTF8(string(head), "?"), nil
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// classify names the kind of transport failure for the attempt log.
func classify(err error) string {
	var refused *refusedError
	var netErr net.Error
	switch {
	case errors.As(err, &refused):
		return "refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, new(*net.OpError)):
		return "connect"
	}
	return "other"
}

// jitter spreads retries by ±10 % so that an endpoint coming back is not hit by
// every queued delivery in the same instant.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

func (d *Dispatcher) limiter(webhookID int64) *rate.Limiter {
	if d.opt.EndpointRate <= 0 {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	lim, ok := d.limiters[webhookID]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(d.opt.EndpointRate), max(1, int(d.opt.EndpointRate)))
		d.limiters[webhookID] = lim
	}
	return lim
}

// flatten adds a JSON object's fields to q, as vendor dialects send GET
// webhooks: top-level fields by name, nested ones as parent[child], arrays
// as repeated parent[] values.
func flatten(q url.Values, prefix string, body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("flatten webhook payload: %w", err)
	}
	flattenValue(q, prefix, v)
	return nil
}

func flattenValue(q url.Values, key string, v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			name := k
			if key != "" {
				name = key + "[" + k + "]"
			}
			flattenValue(q, name, sub)
		}
	case []any:
		for _, sub := range x {
			flattenValue(q, key+"[]", sub)
		}
	case nil:
		q.Add(key, "")
	case string:
		q.Add(key, x)
	default:
		b, _ := json.Marshal(x)
		q.Add(key, string(b))
	}
}
