package webhook

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"

	"switchboard"
)

// Notifier tells a webhook's owner that it was disabled.
type Notifier interface {
	WebhookDisabled(ctx context.Context, w switchboard.Webhook) error
}

// SMTP sends notifications through a mail relay, without authentication or
// TLS: the relay is expected to be local (a sidecar, or the host's MTA).
type SMTP struct {
	Addr string // host:port of the relay
	From string
}

// WebhookDisabled implements Notifier. Webhooks without a notification
// address are skipped.
func (s *SMTP) WebhookDisabled(ctx context.Context, w switchboard.Webhook) error {
	if w.NotifyEmail == "" || s.Addr == "" {
		return nil
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	conn, err := (&net.Dialer{Deadline: deadline}).DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	conn.SetDeadline(deadline)
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("smtp MAIL: %w", err)
	}
	if err := c.Rcpt(w.NotifyEmail); err != nil {
		return fmt.Errorf("smtp RCPT: %w", err)
	}
	wc, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: Switchboard webhook %d disabled\r\n", s.From, w.NotifyEmail, w.ID)
	fmt.Fprintf(&b, "Date: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Switchboard stopped delivering events to webhook %d:\r\n\r\n  %s\r\n\r\n", w.ID, w.URL)
	fmt.Fprintf(&b, "Reason: %s\r\nLast error: %s\r\n\r\n", w.DisabledReason, w.LastError)
	b.WriteString("Events keep being recorded. Once the endpoint works again, enable the webhook\r\n")
	b.WriteString("(PATCH /v1/webhooks/{id} with {\"enabled\": true}) and replay what it missed\r\n")
	b.WriteString("(POST /v1/webhooks/{id}/replay with since and until).\r\n")
	if _, err := wc.Write([]byte(b.String())); err != nil {
		return fmt.Errorf("smtp body: %w", err)
	}
	if err := wc.Close(); err != nil {
		return fmt.Errorf("smtp body: %w", err)
	}
	return c.Quit()
}
