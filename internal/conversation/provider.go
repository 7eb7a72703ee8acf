package conversation

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"switchboard"
)

// Provider carries a channel's outbound messages (whatsapp, and any other
// channel a provider brings); SMS goes through the sms service instead.
type Provider interface {
	// Send hands m over and returns the provider's id for it, which its
	// receipts (Service.Receipt) name.
	Send(ctx context.Context, m OutboundMessage) (providerID string, err error)
}

// OutboundMessage is a message for a provider, as HTTPProvider posts it.
type OutboundMessage struct {
	// ID is Switchboard's id for the message (unique per tenant).
	ID       string                          `json:"id"`
	TenantID int64                           `json:"-"`
	Channel  switchboard.ConversationChannel `json:"channel"`
	// From is our side (the profile's number or account), To the end
	// user's address.
	From     string            `json:"from"`
	To       string            `json:"to"`
	Text     string            `json:"text"`
	Template *OutboundTemplate `json:"template,omitempty"`
	MediaURL string            `json:"media_url,omitempty"`
}

// OutboundTemplate is a template message's template: its name, language
// and the parameters {{1}}, {{2}}… in order. Text carries it rendered.
type OutboundTemplate struct {
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Params   []string `json:"params"`
}

// SimProvider is the simulated provider: it accepts every message, keeps
// it for tests to see, and reports it delivered after DeliveredAfter and
// read after ReadAfter more through the service it is attached to (a
// negative delay: that receipt never comes).
type SimProvider struct {
	DeliveredAfter time.Duration
	ReadAfter      time.Duration

	mu      sync.Mutex
	service *Service
	sent    []OutboundMessage
	next    int
	timers  []*time.Timer
	closed  bool
}

// Attach gives the simulator the service its receipts go to.
func (p *SimProvider) Attach(s *Service) {
	p.mu.Lock()
	p.service = s
	p.mu.Unlock()
}

// Send implements Provider.
func (p *SimProvider) Send(_ context.Context, m OutboundMessage) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	id := fmt.Sprintf("simwa-%d-%d", m.TenantID, p.next)
	p.sent = append(p.sent, m)
	if p.service == nil || p.closed || p.DeliveredAfter < 0 {
		return id, nil
	}
	svc, tenant := p.service, m.TenantID
	p.timers = append(p.timers, time.AfterFunc(p.DeliveredAfter, func() {
		if !p.receipt(svc, tenant, id, switchboard.ReceiptDelivered) || p.ReadAfter < 0 {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.closed {
			p.timers = append(p.timers, time.AfterFunc(p.ReadAfter, func() { p.receipt(svc, tenant, id, switchboard.ReceiptRead) }))
		}
	}))
	return id, nil
}

// receipt reports one status, waiting briefly for the service to record
// the send it reports on (a real provider's receipt may also come first).
func (p *SimProvider) receipt(svc *Service, tenant int64, id string, st switchboard.ReceiptStatus) bool {
	for range 100 {
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			return false
		}
		_, err := svc.Receipt(context.Background(), tenant, id, st, "")
		if switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			if err != nil {
				svc.log.Warn("simulated receipt", "provider_id", id, "status", st, "err", err)
			}
			return err == nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// Sent returns the messages handed to the simulator so far.
func (p *SimProvider) Sent() []OutboundMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]OutboundMessage(nil), p.sent...)
}

// Close stops the receipts still to come.
func (p *SimProvider) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, t := range p.timers {
		t.Stop()
	}
	p.timers = nil
}

// HTTPProvider posts each message to a gateway as JSON:
//
//	POST <URL>
//	Content-Type: application/json
//	X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the body with Secret>
//	{"id": "…", "channel": "whatsapp", "from": "+1555…", "to": "+1555…", "text": "…",
//	 "template": {"name": "…", "language": "en", "params": ["…"]}, "media_url": "…"}
//
// A 2xx answer with {"id": "<provider id>"} accepts the message; anything
// else fails it, naming the status. The gateway reports receipts and
// inbound messages back through the API.
type HTTPProvider struct {
	URL    string
	Secret string
	// Client defaults to one with Timeout.
	Client *http.Client
	// Timeout bounds one send (default 10 s).
	Timeout time.Duration
}

// maxGatewayAnswer bounds what is read of a gateway's answer.
const maxGatewayAnswer = 64 << 10

// Send implements Provider.
func (p *HTTPProvider) Send(ctx context.Context, m OutboundMessage) (string, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode message: %w", err)
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("provider request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Switchboard-Signature", "sha256="+Sign(p.Secret, body))
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("provider unreachable: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxGatewayAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("provider answered %s", resp.Status)
	}
	var got struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(answer, &got); err != nil || got.ID == "" {
		return "", fmt.Errorf("provider answered %s without a message id", resp.Status)
	}
	return got.ID, nil
}

// Sign is the hex HMAC-SHA256 of body with secret, as HTTPProvider sends it
// after "sha256=" in X-Switchboard-Signature; a gateway compares it in
// constant time.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
