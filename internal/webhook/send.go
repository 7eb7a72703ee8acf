package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"switchboard"
)

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

// renderKey names a rendered body: the native body depends on the event
// alone, so every native subscription to an event shares it; a vendor body
// depends on the subscription too, as it was when it was last changed.
type renderKey struct {
	event, webhook int64
	version        int64 // the subscription's UpdatedAt, in nanoseconds
}

type rendered struct {
	body []byte
	err  error
}

// maxBodies bounds the render cache; it is emptied when full (the
// deliveries of one event are claimed together, so a small cache serves
// them all).
const maxBodies = 4096

// prepare renders the claims' bodies, each once per event and subscription
// version, and wraps them for sending; sendBy is when a claim still waiting
// is let go. Only the claim loop calls it.
func (d *Dispatcher) prepare(ctx context.Context, got []switchboard.DeliveryClaim, sendBy time.Time) []*claim {
	out := make([]*claim, len(got))
	targets := map[string]error{}  // the host rules, once per URL of the batch
	signers := map[int64]*signer{} // secrets decoded once per webhook of the batch
	for i, c := range got {
		terr, ok := targets[c.Webhook.URL]
		if !ok {
			terr = checkTarget(c.Webhook.URL)
			targets[c.Webhook.URL] = terr
		}
		sg := signers[c.Webhook.ID]
		if sg == nil {
			sg = newSigner(c.Webhook)
			signers[c.Webhook.ID] = sg
		}
		k := renderKey{event: c.Event.ID}
		if c.Webhook.Dialect != switchboard.DialectNative && c.Webhook.Dialect != "" {
			k.webhook, k.version = c.Webhook.ID, c.Webhook.UpdatedAt.UnixNano()
		}
		r, ok := d.bodies[k]
		if !ok {
			r.body, r.err = d.render(ctx, c)
			if len(d.bodies) >= maxBodies {
				clear(d.bodies)
			}
			d.bodies[k] = r
		}
		out[i] = &claim{DeliveryClaim: c, body: r.body, renderErr: r.err, targetErr: terr, signer: sg, sendBy: sendBy}
	}
	return out
}

// MessageID is the webhook-id of a delivery: the same on every attempt.
func MessageID(deliveryID int64) string { return "msg_" + strconv.FormatInt(deliveryID, 10) }

// send makes one attempt and decides what follows it.
func (d *Dispatcher) send(ctx context.Context, c *claim) (res switchboard.DeliveryResult) {
	res = switchboard.DeliveryResult{DeliveryID: c.Delivery.ID, WebhookID: c.Webhook.ID, TenantID: c.Delivery.TenantID,
		EventID: c.Event.ID, EventSeq: c.Event.Seq, EventType: c.Event.Type, Attempts: c.Delivery.Attempts, Body: c.body,
		Retriggered: c.Delivery.Retriggered}
	if !c.Delivery.Retriggered && c.Webhook.TypeInactive(c.Event.Type) {
		// Held back without an attempt: it becomes a failure at once, to be
		// retriggered; a retriggered delivery is what tests the receiver.
		res.Outcome, res.Attempt.At, res.Attempt.ErrorClass = switchboard.OutcomeInactive, d.opt.Now(), "inactive"
		res.Attempt.Error = "the event type " + c.Event.Type + " is inactive for this webhook after repeated failures; retrigger a failure to resume it"
		return res
	}
	if lim := d.limiter(c.Webhook.ID); lim != nil {
		lim.Wait(ctx)
	}
	now := d.opt.Now()
	res.Attempt.At = now
	body, err := c.body, c.renderErr
	if err == nil {
		err = c.targetErr
	}
	if errors.Is(err, ErrSkip) {
		res.Outcome, res.Attempt.ErrorClass, res.Attempt.Error = switchboard.OutcomeSkipped, "skipped", err.Error()
		return res
	}
	res.Attempts++
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
// rendering's error, or the refusal of the target at delivery time). It
// returns the status code, the receiver's Retry-After on 429 and 503, the
// start of its answer, and an error when no response came back.
func (d *Dispatcher) attempt(ctx context.Context, c *claim, body []byte, err error, now time.Time) (int, time.Duration, string, error) {
	if err != nil {
		return 0, 0, "", err
	}
	// The whole exchange, the answer's body included, within the timeout.
	ctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	defer cancel()
	// The address dialled tells whether the answer may be kept.
	var remote netip.Addr
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if ap, err := netip.ParseAddrPort(info.Conn.RemoteAddr().String()); err == nil {
				remote = ap.Addr()
			}
		},
	})
	msgID, ts := MessageID(c.Delivery.ID), now.Unix()
	var sig string
	own, ownSigns := d.opt.Renderers[c.Webhook.Dialect].(SigningRenderer)
	var ownHeaders http.Header
	if ownSigns {
		ownHeaders, err = own.SignatureHeaders(c.signer.secrets(now), now, body)
	} else {
		sig, err = c.signer.sign(msgID, now, body)
	}
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
	if ownSigns {
		for k, v := range ownHeaders {
			req.Header[http.CanonicalHeaderKey(k)] = v
		}
	} else {
		req.Header.Set("webhook-id", msgID)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("webhook-signature", sig)
	}
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
