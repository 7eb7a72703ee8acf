// Package sms is Switchboard's messaging boundary: a Service that checks,
// records and sends text messages through a Provider, and takes inbound
// messages and delivery receipts back. Every change is stored with its sms.*
// event (sms.queued, sms.sent, sms.delivered, sms.failed, sms.received), so
// webhooks and the live stream see messages as they see calls.
//
// Two providers exist: Sim, the embedded default, which accepts every
// message, reports it delivered after a delay and lets tests inject inbound
// messages; and HTTP, which posts each message as JSON to a configured
// gateway (see HTTP for the exact request). Gateways report inbound messages
// and receipts to the native API, which calls Receive and Receipt.
//
// A number that withdrew its consent (texted STOP to one of the tenant's
// numbers, which the conversation service records) is refused every
// message until it texts START (NoConsent).
//
// An agent's messages (Outbound.UserID) also meet Voiso's limits, which the
// store checks in the transaction that records them, so that racing sends
// cannot both pass: at most the tenant's SMSDailyPerRecipient a day to one
// number, and no identical text within 2 seconds (CodeRateLimited).
package sms

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"switchboard"
	"switchboard/internal/phone"
)

// Provider hands outbound messages to a carrier.
type Provider interface {
	// Send passes m on and returns the provider's id for it, which its
	// delivery receipt will name.
	Send(ctx context.Context, m switchboard.Message) (string, error)
}

// Service sends and receives text messages for every tenant.
type Service struct {
	store    switchboard.Store
	provider Provider
	log      *slog.Logger
	now      func() time.Time

	hooksMu sync.RWMutex
	hooks   Hooks
}

// Hooks are told about messages once they are stored: the conversation
// service threads inbound texts into conversations (and applies STOP and
// START) and follows receipts of the texts it sent. A hook's error is
// logged, never the message's: the message is stored either way, and the
// carrier must not retry it.
type Hooks struct {
	Received func(ctx context.Context, m switchboard.Message) error
	Receipt  func(ctx context.Context, m switchboard.Message) error
}

// SetHooks installs h, replacing the hooks there were.
func (s *Service) SetHooks(h Hooks) {
	s.hooksMu.Lock()
	s.hooks = h
	s.hooksMu.Unlock()
}

func (s *Service) hook(ctx context.Context, what string, pick func(Hooks) func(context.Context, switchboard.Message) error, m switchboard.Message) {
	s.hooksMu.RLock()
	fn := pick(s.hooks)
	s.hooksMu.RUnlock()
	if fn == nil {
		return
	}
	if err := fn(ctx, m); err != nil {
		s.log.Error("a message hook failed", "hook", what, "tenant_id", m.TenantID, "message_id", m.ID, "err", err)
	}
}

// NewService returns the service over store and provider.
func NewService(store switchboard.Store, provider Provider, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: store, provider: provider, log: log, now: time.Now}
}

func invalid(field, why string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "cannot send the message: " + field + " " + why,
		Fields: map[string]string{field: why}}
}

// NoConsent is the error that refuses a message to a number that withdrew
// its consent: 422, naming the field and the reason.
func NoConsent() error {
	return &switchboard.Error{Code: switchboard.CodeInvalid,
		Message: "cannot send the message: the recipient withdrew consent for messages (texted STOP); they must text START first",
		Fields:  map[string]string{"to": "has withdrawn consent (STOP) for messages"}}
}

// receiptWait bounds how long a receipt waits for the send it reports on.
const receiptWait = 3 * time.Second

// Outbound is a message to send.
type Outbound struct {
	TenantID int64
	// UserID, when set, is the sender, who may only send from their own
	// numbers or the tenant's shared ones. The store's limits count per
	// sender: Tenant.SMSDailyPerRecipient texts a day to one number, and no
	// identical text within 2 s (CodeRateLimited naming "to").
	UserID   *int64
	From, To string
	Body     string
	// Reply marks a reply on a conversation: From is the number the end
	// user wrote to, which the sender may answer from whoever owns it.
	Reply bool
}

// Send checks o, records it as queued and hands it to the provider: the
// message comes back sent (with the provider's id) or failed (with why). The
// sender must be one of the tenant's numbers with SMS enabled, and the
// recipient must not have opted out (STOP).
func (s *Service) Send(ctx context.Context, o Outbound) (switchboard.Message, error) {
	m := switchboard.Message{TenantID: o.TenantID, UserID: o.UserID, Direction: switchboard.Outbound, Body: o.Body,
		Status: switchboard.MessageQueued, From: strings.TrimSpace(o.From), To: strings.TrimSpace(o.To)}
	if err := m.Validate(); err != nil {
		return m, err
	}
	from, err := phone.Normalize(m.From, "")
	if err != nil {
		return m, invalid("from", "is not a valid phone number")
	}
	to, err := phone.Normalize(m.To, "")
	if err != nil {
		return m, invalid("to", "is not a valid phone number; use E.164 such as +15551234567")
	}
	m.From, m.To = from, to
	owner, err := s.store.NumberOwner(ctx, from)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound || (err == nil && owner.TenantID != o.TenantID):
		return m, invalid("from", "is not one of this account's numbers")
	case err != nil:
		return m, err
	case !owner.SMSEnabled:
		return m, invalid("from", "does not have SMS enabled")
	case o.UserID != nil && owner.UserID != nil && *owner.UserID != *o.UserID && !o.Reply:
		return m, invalid("from", "is another user's number")
	}
	// A number that texted STOP gets nothing more until it texts START: the
	// carriers' rule and the law's (TCPA) in most markets.
	switch out, err := s.store.OptedOut(ctx, o.TenantID, to); {
	case err != nil:
		return m, fmt.Errorf("check the recipient's consent: %w", err)
	case out:
		return m, NoConsent()
	}
	if m, err = s.store.CreateMessage(ctx, m); err != nil {
		return m, err
	}
	id, sendErr := s.provider.Send(ctx, m)
	now := s.now().UTC()
	if sendErr != nil {
		s.log.Warn("SMS provider refused a message", "tenant_id", m.TenantID, "message_id", m.ID, "err", sendErr)
		m.Status, m.Error = switchboard.MessageFailed, sendErr.Error()
	} else {
		m.Status, m.ProviderID, m.SentAt = switchboard.MessageSent, id, &now
	}
	// The provider has the message either way: record what it said even if
	// the caller has gone.
	return s.store.UpdateMessage(context.WithoutCancel(ctx), m)
}

// Inbound is a message a provider received for one of the tenants' numbers.
type Inbound struct {
	From, To, Body string
	ProviderID     string
}

// Receive records an inbound message for the tenant owning its To number.
func (s *Service) Receive(ctx context.Context, in Inbound) (switchboard.Message, error) {
	m := switchboard.Message{Direction: switchboard.Inbound, Status: switchboard.MessageReceived, From: strings.TrimSpace(in.From),
		To: strings.TrimSpace(in.To), Body: in.Body, ProviderID: in.ProviderID}
	if err := m.Validate(); err != nil {
		return m, err
	}
	to, err := phone.Normalize(m.To, "")
	if err != nil {
		return m, invalid("to", "is not a valid phone number")
	}
	if from, err := phone.Normalize(m.From, ""); err == nil {
		m.From = from // short codes and alphanumeric senders stay as they came
	}
	owner, err := s.store.NumberOwner(ctx, to)
	if err != nil {
		return m, err
	}
	now := s.now().UTC()
	m.To, m.TenantID, m.UserID, m.DeliveredAt = to, owner.TenantID, owner.UserID, &now
	if m, err = s.store.CreateMessage(ctx, m); err != nil {
		return m, err
	}
	s.hook(context.WithoutCancel(ctx), "received", func(h Hooks) func(context.Context, switchboard.Message) error { return h.Received }, m)
	return m, nil
}

// Receipt records a provider's delivery report for one of the tenant's
// messages: delivered, or failed with why.
//
// A provider may report faster than Send records its answer: a receipt that
// names no known message yet, or one still being sent, waits up to
// receiptWait for Send to catch up (polling the store, so that it works
// across nodes too) rather than being lost or overwritten.
func (s *Service) Receipt(ctx context.Context, tenantID int64, providerID string, delivered bool, why string) (switchboard.Message, error) {
	var m switchboard.Message
	var err error
	deadline := time.Now().Add(receiptWait)
	for {
		m, err = s.store.MessageByProviderID(ctx, tenantID, providerID)
		inFlight := switchboard.ErrorCode(err) == switchboard.CodeNotFound || (err == nil && m.Status == switchboard.MessageQueued)
		if !inFlight || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err != nil {
		return m, err
	}
	if m.Direction != switchboard.Outbound {
		return m, switchboard.Errorf(switchboard.CodeConflict, "message %d is inbound: only outbound messages have receipts", m.ID)
	}
	now := s.now().UTC()
	if delivered {
		m.Status, m.DeliveredAt, m.Error = switchboard.MessageDelivered, &now, ""
	} else {
		m.Status, m.Error = switchboard.MessageFailed, why
	}
	if m, err = s.store.UpdateMessage(ctx, m); err != nil {
		return m, err
	}
	s.hook(context.WithoutCancel(ctx), "receipt", func(h Hooks) func(context.Context, switchboard.Message) error { return h.Receipt }, m)
	return m, nil
}
