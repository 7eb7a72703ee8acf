package conversation

import (
	"testing"

	"switchboard"
)

// TestSMSReplyCarriesAgent: an agent's SMS reply is recorded as the agent's
// message, so the store's limits count it, and a reply the limits refuse
// (the same text again within 2 s) fails and comes back as rate_limited.
func TestSMSReplyCarriesAgent(t *testing.T) { onEveryEngine(t, testSMSReplyCarriesAgent) }

func testSMSReplyCarriesAgent(t *testing.T, dbURL string) {
	f := newFixtureOn(t, dbURL, 1)
	a := f.agents[0]
	c, err := f.svc.Inbound(f.ctx, f.tenant, switchboard.ChannelSMS, customer, f.number, "Hi, my order?", "sms-1")
	if err != nil {
		t.Fatal(err)
	}
	f.wantStatus(c.ID, switchboard.ConversationAssigned, a)
	if _, err := f.say(c.ID, a, "It ships today"); err != nil {
		t.Fatal(err)
	}
	page, err := f.db.Messages(f.ctx, f.tenant, switchboard.MessageFilter{UserID: a, Direction: switchboard.Outbound}, switchboard.ListOptions{})
	if err != nil || page.Total != 1 || page.Items[0].To != customer || page.Items[0].UserID == nil || *page.Items[0].UserID != a {
		t.Fatalf("the agent's SMS = %+v, %v; want the reply, sent by the agent", page.Items, err)
	}
	m, err := f.say(c.ID, a, "It ships today")
	wantCode(t, err, switchboard.CodeRateLimited)
	if m.Status != switchboard.ReceiptFailed || m.Error == "" {
		t.Fatalf("the refused reply is %s (%q), want failed with why", m.Status, m.Error)
	}
	if sent := f.sms.Sent(); len(sent) != 1 {
		t.Fatalf("%d SMS reached the provider, want 1", len(sent))
	}
	// Another text is no duplicate.
	if _, err := f.say(c.ID, a, "Tracking number follows"); err != nil {
		t.Fatal(err)
	}
}
