package conversation

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
)

const customer = "+15557654321"

// TestSMSThread: an inbound SMS opens a conversation routed by the
// number's queue, the next one continues it (a provider's retry is stored
// once), the agent's reply goes out as SMS, the receipt moves it, and
// STOP/START set consent so that replies are refused and allowed again.
func TestSMSThread(t *testing.T) { onEveryEngine(t, testSMSThread) }

func testSMSThread(t *testing.T, dbURL string) {
	f := newFixtureOn(t, dbURL, 1)
	a := f.agents[0]
	c, err := f.svc.Inbound(f.ctx, f.tenant, switchboard.ChannelSMS, customer, f.number, "Hi, my order?", "sms-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Address != customer || c.Via != f.number || c.QueueID == nil || *c.QueueID != f.sales.ID {
		t.Fatalf("opened %+v", c)
	}
	f.wantStatus(c.ID, switchboard.ConversationAssigned, a)
	c2, err := f.svc.Inbound(f.ctx, f.tenant, switchboard.ChannelSMS, customer, f.number, "order 12", "sms-2")
	if err != nil || c2.ID != c.ID {
		t.Fatalf("second SMS went to %d (%v), want %d", c2.ID, err, c.ID)
	}
	if _, err := f.svc.Inbound(f.ctx, f.tenant, switchboard.ChannelSMS, customer, f.number, "order 12", "sms-2"); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := f.svc.Messages(f.ctx, f.tenant, c.ID, 0, 100); len(msgs) != 2 {
		t.Fatalf("%d messages after a retried SMS, want 2", len(msgs))
	}

	m, err := f.say(c.ID, a, "It ships today")
	if err != nil {
		t.Fatal(err)
	}
	sent := f.sms.Sent()
	if len(sent) != 1 || sent[0].To != customer || sent[0].From != f.number || sent[0].Body != "It ships today" {
		t.Fatalf("SMS sent: %+v", sent)
	}
	if m.Status != switchboard.ReceiptSent || m.ProviderID == "" || m.ProviderID != sent[0].ProviderID {
		t.Fatalf("reply %s provider id %q, SMS %q", m.Status, m.ProviderID, sent[0].ProviderID)
	}
	if m, err = f.svc.Receipt(f.ctx, f.tenant, m.ProviderID, switchboard.ReceiptDelivered, ""); err != nil || m.Status != switchboard.ReceiptDelivered {
		t.Fatalf("receipt: %s %v", m.Status, err)
	}
	// A late "sent" does not move it back.
	if m, _ = f.svc.Receipt(f.ctx, f.tenant, m.ProviderID, switchboard.ReceiptSent, ""); m.Status != switchboard.ReceiptDelivered {
		t.Fatalf("a late receipt moved it back to %s", m.Status)
	}
	_, err = f.svc.Receipt(f.ctx, f.tenant, "unknown", switchboard.ReceiptDelivered, "")
	wantCode(t, err, switchboard.CodeNotFound)

	if _, err := f.svc.Inbound(f.ctx, f.tenant, switchboard.ChannelSMS, customer, f.number, " stop ", "sms-3"); err != nil {
		t.Fatal(err)
	}
	if out, _ := f.svc.OptedOut(f.ctx, f.tenant, customer); !out {
		t.Fatal("STOP did not opt the number out")
	}
	_, err = f.say(c.ID, a, "Sorry to see you go")
	wantCode(t, err, switchboard.CodeInvalid)
	if !strings.Contains(switchboard.ErrorMessage(err), "consent") || !strings.Contains(switchboard.ErrorFields(err)["to"], "consent") {
		t.Fatalf("refusal does not name consent: %v", err)
	}
	if len(f.sms.Sent()) != 1 {
		t.Fatal("an SMS went out to an opted-out number")
	}
	if _, err := f.svc.Inbound(f.ctx, f.tenant, switchboard.ChannelSMS, customer, f.number, "START", "sms-4"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.say(c.ID, a, "Welcome back"); err != nil {
		t.Fatal(err)
	}
	if len(f.sms.Sent()) != 2 {
		t.Fatal("no SMS after START")
	}

	// A bare STOP with no open conversation opens none.
	if _, err := f.svc.Finish(f.ctx, f.tenant, c.ID, switchboard.SideAgent, ""); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Inbound(f.ctx, f.tenant, switchboard.ChannelSMS, customer, f.number, "STOP", "sms-5")
	if err != nil || got.ID != 0 {
		t.Fatalf("bare STOP opened %d (%v)", got.ID, err)
	}
	page, _ := f.svc.List(f.ctx, f.tenant, switchboard.ConversationFilter{Channel: switchboard.ChannelSMS}, switchboard.ListOptions{Limit: 10})
	if len(page.Items) != 1 {
		t.Fatalf("%d sms conversations, want 1", len(page.Items))
	}
	// The next text opens a new one, linked to the last.
	next, err := f.svc.Inbound(f.ctx, f.tenant, switchboard.ChannelSMS, customer, f.number, "START", "sms-6")
	if err != nil || next.ID == c.ID || next.PreviousID == nil || *next.PreviousID != c.ID {
		t.Fatalf("new thread %+v (%v)", next, err)
	}
}

// TestInboundRouting: a number owned by an agent gives the thread to that
// agent; a number with neither queue nor agent leaves it queued with no
// queue until someone takes it.
func TestInboundRouting(t *testing.T) {
	f := newFixture(t, 2)
	a, b := f.agents[0], f.agents[1]
	direct, plain := "+15550002000", "+15550003000"
	if _, err := f.db.CreatePhoneNumber(f.ctx, f.tenant, switchboard.PhoneNumber{Number: direct, UserID: &b, SMSEnabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.CreatePhoneNumber(f.ctx, f.tenant, switchboard.PhoneNumber{Number: plain, SMSEnabled: true}); err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Inbound(f.ctx, f.tenant, switchboard.ChannelSMS, customer, direct, "for Bea", "p1")
	if err != nil {
		t.Fatal(err)
	}
	f.wantStatus(c.ID, switchboard.ConversationAssigned, b)
	if c.QueueID != nil || !contains(f.holds(b), c.ID) {
		t.Fatalf("queue %v, agent holds %v", c.QueueID, f.holds(b))
	}
	d, err := f.svc.Inbound(f.ctx, f.tenant, switchboard.ChannelSMS, "+15557650000", plain, "anyone?", "p2")
	if err != nil {
		t.Fatal(err)
	}
	f.wantStatus(d.ID, switchboard.ConversationQueued, 0)
	if _, err := f.say(d.ID, a, "I can help"); err != nil {
		t.Fatal(err)
	}
	f.wantStatus(d.ID, switchboard.ConversationInProgress, a)
	// Finished, the claimed thread frees the slot at once (no queue, no wrap-up).
	if _, err := f.svc.Finish(f.ctx, f.tenant, d.ID, switchboard.SideAgent, ""); err != nil {
		t.Fatal(err)
	}
	if contains(f.holds(a), d.ID) {
		t.Fatal("a queue-less thread kept its slot after finishing")
	}
}

// TestWhatsAppWindow: free text only within 24 h of the end user's last
// message; templates any time, rendered with their parameters.
func TestWhatsAppWindow(t *testing.T) {
	f := newFixture(t, 1)
	a := f.agents[0]
	prof, err := f.db.CreateChannelProfile(f.ctx, f.tenant, switchboard.ChannelProfile{Channel: switchboard.ChannelWhatsApp,
		Name: "WA", Identifier: f.number, QueueID: &f.supp.ID, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := f.db.CreateMessageTemplate(f.ctx, f.tenant, switchboard.MessageTemplate{ProfileID: prof.ID, Name: "shipping",
		Body: "Order {{1}} ships on {{2}}"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Inbound(f.ctx, f.tenant, switchboard.ChannelWhatsApp, customer, f.number, "hola", "wamid.in.1")
	if err != nil {
		t.Fatal(err)
	}
	if c.ProfileID == nil || *c.ProfileID != prof.ID || *c.QueueID != f.supp.ID {
		t.Fatalf("profile %v queue %v", c.ProfileID, c.QueueID)
	}
	f.wantStatus(c.ID, switchboard.ConversationAssigned, a)
	if _, err := f.say(c.ID, a, "within the window"); err != nil {
		t.Fatal(err)
	}
	f.skew.Store(int64(25 * time.Hour))
	_, err = f.say(c.ID, a, "too late")
	wantCode(t, err, switchboard.CodeInvalid)
	if !strings.Contains(switchboard.ErrorMessage(err), "24-hour window") {
		t.Fatalf("refusal does not name the window: %v", err)
	}
	_, err = f.svc.Send(f.ctx, f.tenant, c.ID, switchboard.ConversationMessage{Direction: switchboard.Outbound, AgentID: &a,
		Kind: switchboard.KindTemplate, Template: &switchboard.TemplateUse{TemplateID: tpl.ID, Params: map[string]string{"1": "A-7"}}})
	if switchboard.ErrorFields(err)["template.params.2"] == "" {
		t.Fatalf("a missing parameter: %v", err)
	}
	m, err := f.svc.Send(f.ctx, f.tenant, c.ID, switchboard.ConversationMessage{Direction: switchboard.Outbound, AgentID: &a,
		Kind: switchboard.KindTemplate, Template: &switchboard.TemplateUse{TemplateID: tpl.ID, Params: map[string]string{"1": "A-7", "2": "Monday"}}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "Order A-7 ships on Monday" || m.Status != switchboard.ReceiptSent || m.ProviderID == "" {
		t.Fatalf("template message %q %s %q", m.Text, m.Status, m.ProviderID)
	}
	sent := f.wa.Sent()
	if len(sent) != 2 || sent[1].Template == nil || sent[1].Template.Name != "shipping" || sent[1].To != customer || sent[1].From != f.number {
		t.Fatalf("provider got %+v", sent)
	}
	if !cmp.Equal(sent[1].Template.Params, []string{"A-7", "Monday"}) || sent[1].Text != "Order A-7 ships on Monday" {
		t.Fatalf("template sent as %+v", sent[1])
	}

	// The simulated provider reports delivered, then read, through Receipt.
	f.wa.DeliveredAfter, f.wa.ReadAfter = 0, 0
	wake, stop := f.svc.Watch(f.tenant, c.ID)
	defer stop()
	m, err = f.svc.Send(f.ctx, f.tenant, c.ID, switchboard.ConversationMessage{Direction: switchboard.Outbound, AgentID: &a,
		Kind: switchboard.KindTemplate, Template: &switchboard.TemplateUse{TemplateID: tpl.ID, Params: map[string]string{"1": "B-8", "2": "Friday"}}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		got, err := f.db.ConversationMessage(f.ctx, f.tenant, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == switchboard.ReceiptRead {
			if got.ReadAt == nil {
				t.Fatal("read without read_at")
			}
			break
		}
		select {
		case <-wake:
		case <-deadline:
			t.Fatalf("message still %s: no read receipt", got.Status)
		}
	}
	f.wa.Close()
}
