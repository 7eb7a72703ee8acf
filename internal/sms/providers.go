package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"switchboard"
)

// Sim is the simulated provider: it accepts every message, keeps it, and
// reports it delivered after ReceiptDelay through the service it is attached
// to (none when the delay is negative).
type Sim struct {
	ReceiptDelay time.Duration

	mu      sync.Mutex
	service *Service
	sent    []switchboard.Message
	next    int
}

// Attach gives the simulator the service its receipts go to.
func (p *Sim) Attach(s *Service) {
	p.mu.Lock()
	p.service = s
	p.mu.Unlock()
}

// Send implements Provider.
func (p *Sim) Send(_ context.Context, m switchboard.Message) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	id := fmt.Sprintf("sim-%d", p.next)
	m.ProviderID = id
	p.sent = append(p.sent, m)
	if svc := p.service; svc != nil && p.ReceiptDelay >= 0 {
		tenant := m.TenantID
		time.AfterFunc(p.ReceiptDelay, func() {
			if _, err := svc.Receipt(context.Background(), tenant, id, true, ""); err != nil {
				svc.log.Warn("simulated SMS receipt", "provider_id", id, "err", err)
			}
		})
	}
	return id, nil
}

// Sent returns the messages handed to the simulator so far.
func (p *Sim) Sent() []switchboard.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]switchboard.Message(nil), p.sent...)
}

// HTTP posts each message to a gateway URL as JSON:
//
//	POST <URL>
//	Authorization: Bearer <Token>      (when Token is set)
//	Content-Type: application/json
//	{"id": "<message uuid>", "tenant_id": 1, "from": "+1555…", "to": "+1555…", "body": "…"}
//
// Any 2xx answer accepts the message; its provider id is the "id" of a JSON
// answer when there is one, else the message's uuid. Anything else fails the
// message with the answer's status. Gateways report receipts and inbound
// messages to POST /v1/messages/receipts and POST /v1/messages/inbound.
type HTTP struct {
	URL    string
	Token  string
	Client *http.Client
}

// gatewayMessage is the JSON an HTTP gateway receives.
type gatewayMessage struct {
	ID       string `json:"id"`
	TenantID int64  `json:"tenant_id"`
	From     string `json:"from"`
	To       string `json:"to"`
	Body     string `json:"body"`
}

// Send implements Provider.
func (p *HTTP) Send(ctx context.Context, m switchboard.Message) (string, error) {
	body, _ := json.Marshal(gatewayMessage{ID: m.UUID, TenantID: m.TenantID, From: m.From, To: m.To, Body: m.Body})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("SMS gateway request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-SMS/1")
	if p.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.Token)
	}
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("SMS gateway: %w", err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return "", fmt.Errorf("SMS gateway answered %d: %.200s", res.StatusCode, answer)
	}
	var got struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(answer, &got) == nil && got.ID != "" {
		return got.ID, nil
	}
	return m.UUID, nil
}
