package conversation

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"switchboard"
)

// TestLifecycle follows one web chat: queued and offered to the agent,
// the agent writes (in progress), transfers it to another queue where it
// is offered again, and finishes it with wrap-up.
func TestLifecycle(t *testing.T) { onEveryEngine(t, testLifecycle) }

func testLifecycle(t *testing.T, dbURL string) {
	f := newFixtureOn(t, dbURL, 1)
	a := f.agents[0]
	c, tok := f.webChat(f.sales, "visitor-1")
	if c.Status != switchboard.ConversationQueued || tok == "" || c.Address != "visitor-1" {
		t.Fatalf("started %s %q token %q", c.Status, c.Address, tok)
	}
	c = f.wantStatus(c.ID, switchboard.ConversationAssigned, a)
	if c.AssignedAt == nil || c.FirstResponseAt != nil {
		t.Fatalf("assigned_at %v first_response_at %v", c.AssignedAt, c.FirstResponseAt)
	}

	// The end user's token opens it; another does not.
	if got, err := f.svc.EndUserConversation(f.ctx, c.UUID, tok); err != nil || got.ID != c.ID {
		t.Fatalf("EndUserConversation with its token: %v", err)
	}
	_, err := f.svc.EndUserConversation(f.ctx, c.UUID, tok+"x")
	wantCode(t, err, switchboard.CodeUnauthorized)

	if _, err := f.write(c.ID, "anyone there?"); err != nil {
		t.Fatal(err)
	}
	m, err := f.say(c.ID, a, "Hi, how can I help?")
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != switchboard.ReceiptSent || m.Seq != 3 {
		t.Fatalf("agent's message %s seq %d, want sent seq 3", m.Status, m.Seq)
	}
	c = f.wantStatus(c.ID, switchboard.ConversationInProgress, a)
	if c.FirstResponseAt == nil {
		t.Fatal("first_response_at not set")
	}

	// Transfer: the slot is freed, it waits in support, and the agent (a
	// member there too) is offered it again.
	c, err = f.svc.Transfer(f.ctx, f.tenant, c.ID, f.supp.ID, &a)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Transfers) != 1 || c.Transfers[0].ToQueueID != f.supp.ID || *c.Transfers[0].FromQueueID != f.sales.ID || *c.Transfers[0].FromAgentID != a {
		t.Fatalf("transfers %+v", c.Transfers)
	}
	c = f.wantStatus(c.ID, switchboard.ConversationAssigned, a)
	if *c.QueueID != f.supp.ID {
		t.Fatalf("queue %d after transfer, want %d", *c.QueueID, f.supp.ID)
	}
	if _, err := f.svc.Accept(f.ctx, f.tenant, c.ID, a); err != nil {
		t.Fatal(err)
	}
	f.wantStatus(c.ID, switchboard.ConversationInProgress, a)

	c, err = f.svc.Finish(f.ctx, f.tenant, c.ID, switchboard.SideAgent, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != switchboard.ConversationFinished || c.EndedBy != switchboard.SideAgent || c.EndReason != "resolved" || c.EndedAt == nil {
		t.Fatalf("finished: %s by %s (%s) at %v", c.Status, c.EndedBy, c.EndReason, c.EndedAt)
	}
	// Wrap-up keeps the slot for the queue's 30 s.
	if !contains(f.holds(a), c.ID) {
		t.Fatal("the agent's slot was freed before wrap-up")
	}
	f.clock.Advance(31 * time.Second)
	if len(f.holds(a)) != 0 {
		t.Fatalf("agent still holds %v after wrap-up", f.holds(a))
	}
	_, err = f.svc.Finish(f.ctx, f.tenant, c.ID, switchboard.SideAgent, "")
	wantCode(t, err, switchboard.CodeConflict)
	_, err = f.write(c.ID, "one more thing")
	wantCode(t, err, switchboard.CodeConflict)

	msgs, err := f.svc.Messages(f.ctx, f.tenant, c.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, m := range msgs {
		lines = append(lines, string(m.Direction)+" "+string(m.Kind)+": "+m.Text)
	}
	want := []string{"inbound text: hello from visitor-1", "inbound text: anyone there?", "outbound text: Hi, how can I help?",
		"outbound activity: transferred to queue " + itoa(f.supp.ID)}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("transcript (-want +got):\n%s", diff)
	}
	wantEvents := []string{"conversation.created", "conversation.queued", "conversation.assigned", "conversation.in_progress",
		"conversation.transferred", "conversation.assigned", "conversation.in_progress", "conversation.finished"}
	if diff := cmp.Diff(wantEvents, f.events(c.ID)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestCapacity: an agent with max_chats 3 is never offered a 4th; when one
// ends (after wrap-up) the waiting one is offered.
func TestCapacity(t *testing.T) {
	f := newFixture(t, 1)
	a := f.agents[0]
	var ids []int64
	for i := range 4 {
		c, _ := f.webChat(f.sales, "v"+itoa(int64(i)))
		ids = append(ids, c.ID)
	}
	for _, id := range ids[:3] {
		f.wantStatus(id, switchboard.ConversationAssigned, a)
	}
	f.wantStatus(ids[3], switchboard.ConversationQueued, 0)
	if n := len(f.holds(a)); n != 3 {
		t.Fatalf("agent holds %d, want 3", n)
	}
	live, _ := f.eng.QueueLive(f.tenant, f.sales.ID)
	if live.ChatsWaiting != 1 {
		t.Fatalf("chats waiting %d, want 1", live.ChatsWaiting)
	}
	if _, err := f.svc.Finish(f.ctx, f.tenant, ids[0], switchboard.SideAgent, "resolved"); err != nil {
		t.Fatal(err)
	}
	f.wantStatus(ids[3], switchboard.ConversationQueued, 0) // wrap-up still holds the slot
	f.clock.Advance(31 * time.Second)
	f.wantStatus(ids[3], switchboard.ConversationAssigned, a)
}

// TestClaim: an agent who writes to a conversation nobody holds takes it;
// another agent writing to it then is refused.
func TestClaim(t *testing.T) {
	f := newFixture(t, 2)
	a, b := f.agents[0], f.agents[1]
	f.status(a, "Break", false)
	f.status(b, "Break", false)
	c, _ := f.webChat(f.sales, "v1")
	f.wantStatus(c.ID, switchboard.ConversationQueued, 0)

	if _, err := f.say(c.ID, b, "I'll take this one"); err != nil {
		t.Fatal(err)
	}
	got := f.wantStatus(c.ID, switchboard.ConversationInProgress, b)
	if got.AssignedAt == nil || got.FirstResponseAt == nil {
		t.Fatalf("claimed without assigned_at/first_response_at: %+v", got)
	}
	if !contains(f.holds(b), c.ID) {
		t.Fatal("the engine does not count the claim against the agent")
	}
	_, err := f.say(c.ID, a, "me too")
	wantCode(t, err, switchboard.CodeForbidden)
	// A note needs no hold and is never sent.
	n, err := f.svc.Send(f.ctx, f.tenant, c.ID, switchboard.ConversationMessage{Direction: switchboard.Outbound, Kind: switchboard.KindNote, AgentID: &a, Text: "VIP"})
	if err != nil || n.Kind != switchboard.KindNote {
		t.Fatalf("note: %v", err)
	}
	_, err = f.svc.Accept(f.ctx, f.tenant, c.ID, a)
	wantCode(t, err, switchboard.CodeForbidden)
	// An integration (no agent) may write to any open conversation.
	if _, err := f.svc.Send(f.ctx, f.tenant, c.ID, switchboard.ConversationMessage{Direction: switchboard.Outbound, Text: "bot: survey after this chat"}); err != nil {
		t.Fatal(err)
	}
	f.wantStatus(c.ID, switchboard.ConversationInProgress, b)
}

// TestDismissResume: a dismissed conversation frees its agent and waits;
// the end user's next message queues it again, as Resume does.
func TestDismissResume(t *testing.T) {
	f := newFixture(t, 1)
	a := f.agents[0]
	c, _ := f.webChat(f.sales, "v1")
	if _, err := f.say(c.ID, a, "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Dismiss(f.ctx, f.tenant, c.ID); err != nil {
		t.Fatal(err)
	}
	f.wantStatus(c.ID, switchboard.ConversationDismissed, 0)
	if len(f.holds(a)) != 0 {
		t.Fatalf("agent holds %v after dismiss", f.holds(a))
	}
	_, err := f.svc.Dismiss(f.ctx, f.tenant, c.ID)
	wantCode(t, err, switchboard.CodeConflict)
	if !strings.Contains(switchboard.ErrorMessage(err), "dismissed") {
		t.Errorf("conflict does not name the status: %v", err)
	}

	if _, err := f.write(c.ID, "back again"); err != nil {
		t.Fatal(err)
	}
	f.wantStatus(c.ID, switchboard.ConversationAssigned, a)

	if _, err := f.svc.Dismiss(f.ctx, f.tenant, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Resume(f.ctx, f.tenant, c.ID); err != nil {
		t.Fatal(err)
	}
	f.wantStatus(c.ID, switchboard.ConversationAssigned, a)
	_, err = f.svc.Resume(f.ctx, f.tenant, c.ID)
	wantCode(t, err, switchboard.CodeConflict)
}

// TestAbandon: the end user leaving before any agent wrote abandons it;
// it leaves the queue.
func TestAbandon(t *testing.T) {
	f := newFixture(t, 1)
	f.status(f.agents[0], "Break", false)
	c, _ := f.webChat(f.sales, "v1")
	c, err := f.svc.Finish(f.ctx, f.tenant, c.ID, switchboard.SideEndUser, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != switchboard.ConversationAbandoned || c.EndReason != "abandoned" || c.EndedBy != switchboard.SideEndUser {
		t.Fatalf("ended %s (%s) by %s", c.Status, c.EndReason, c.EndedBy)
	}
	if live, _ := f.eng.QueueLive(f.tenant, f.sales.ID); live.ChatsWaiting != 0 {
		t.Fatalf("chats waiting %d after abandon", live.ChatsWaiting)
	}
	// The agent becoming available is not offered it.
	f.status(f.agents[0], switchboard.StatusAvailable, true)
	f.wantStatus(c.ID, switchboard.ConversationAbandoned, 0)
}

// TestDeflectAndUpdate covers deflection (keep waiting, then email) and the
// fields Update may change.
func TestDeflectAndUpdate(t *testing.T) {
	f := newFixture(t, 1)
	f.status(f.agents[0], "Break", false)
	c, _ := f.webChat(f.sales, "v1")
	_, err := f.svc.Deflect(f.ctx, f.tenant, c.ID, "carrier-pigeon")
	wantCode(t, err, switchboard.CodeInvalid)
	if c, err = f.svc.Deflect(f.ctx, f.tenant, c.ID, switchboard.DeflectKeepWaiting); err != nil || c.Status != switchboard.ConversationQueued || c.Deflection != "keep_waiting" {
		t.Fatalf("keep waiting: %s %q %v", c.Status, c.Deflection, err)
	}
	c, err = f.svc.Update(f.ctx, f.tenant, c.ID, func(c *switchboard.Conversation) error {
		c.Language, c.Flags = "it", []string{"vip"}
		c.EndUser.Email = "v1@example.com"
		c.Status = switchboard.ConversationFinished // not changeable: put back
		c.Context.Unsigned = map[string]any{"cart": "42"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != switchboard.ConversationQueued || c.Language != "it" || !cmp.Equal(c.Flags, []string{"vip"}) ||
		c.EndUser.Email != "v1@example.com" || c.Context.Unsigned["cart"] != "42" {
		t.Fatalf("updated: %+v", c)
	}
	if c, err = f.svc.Deflect(f.ctx, f.tenant, c.ID, switchboard.DeflectEmail); err != nil || c.Status != switchboard.ConversationDeflected || c.EndedAt == nil {
		t.Fatalf("deflect to email: %s %v", c.Status, err)
	}
	if live, _ := f.eng.QueueLive(f.tenant, f.sales.ID); live.ChatsWaiting != 0 {
		t.Fatalf("chats waiting %d after deflection", live.ChatsWaiting)
	}
}

// TestStartValidation names the bad fields; a signed context verifies
// with the profile's secret.
func TestStartValidation(t *testing.T) {
	f := newFixture(t, 1)
	_, _, err := f.svc.Start(f.ctx, f.tenant, switchboard.Conversation{QueueID: ptr(int64(9999))}, "", nil)
	fields := switchboard.ErrorFields(err)
	for _, k := range []string{"channel", "queue_id", "end_user.identifier"} {
		if fields[k] == "" {
			t.Errorf("no problem named for %s: %v", k, err)
		}
	}
	prof, err := f.db.CreateChannelProfile(f.ctx, f.tenant, switchboard.ChannelProfile{Channel: switchboard.ChannelWebChat,
		Name: "Site", QueueID: &f.sales.ID, SigningSecret: "s3cret", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	start := func(jwt string) (switchboard.Conversation, error) {
		c, _, err := f.svc.Start(f.ctx, f.tenant, switchboard.Conversation{Channel: switchboard.ChannelWebChat, ProfileID: &prof.ID,
			EndUser: switchboard.EndUser{Identifier: "u-" + itoa(int64(len(jwt)))}}, jwt, nil)
		return c, err
	}
	good := signHS256(t, "s3cret", map[string]any{"customer_id": "c-1", "exp": time.Now().Add(time.Hour).Unix()})
	c, err := start(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.Context.Signed["customer_id"] != "c-1" || c.QueueID == nil || *c.QueueID != f.sales.ID {
		t.Fatalf("signed context %v queue %v", c.Context.Signed, c.QueueID)
	}
	_, err = start(signHS256(t, "wrong", map[string]any{"customer_id": "c-1"}))
	if switchboard.ErrorFields(err)["context.signed"] == "" {
		t.Fatalf("a token signed with another secret: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func signHS256(t *testing.T, secret string, claims map[string]any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
