package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// convFixture is a tenant with a queue, an agent and an SMS profile, and
// another tenant with its own queue, for the conversation store's tests.
type convFixture struct {
	tn, other     switchboard.Tenant
	queue, oqueue switchboard.Queue
	agent         switchboard.User
	profile       switchboard.ChannelProfile
}

func newConvFixture(t *testing.T, db *sqlstore.DB) convFixture {
	t.Helper()
	ctx := context.Background()
	var f convFixture
	f.tn, f.other = mustTenant(t, db, "acme"), mustTenant(t, db, "other")
	var err error
	if f.queue, err = db.CreateQueue(ctx, f.tn.ID, switchboard.Queue{Name: "Chat"}); err != nil {
		t.Fatal(err)
	}
	if f.oqueue, err = db.CreateQueue(ctx, f.other.ID, switchboard.Queue{Name: "Theirs"}); err != nil {
		t.Fatal(err)
	}
	if f.agent, err = db.CreateUser(ctx, f.tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", Extension: "1001"}); err != nil {
		t.Fatal(err)
	}
	if f.profile, err = db.CreateChannelProfile(ctx, f.tn.ID, switchboard.ChannelProfile{Channel: switchboard.ChannelSMS,
		Name: "Main number", Identifier: "+15550001000", QueueID: &f.queue.ID, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return f
}

// webChat is a queued web chat of identifier in the fixture's queue.
func (f convFixture) webChat(identifier string) switchboard.Conversation {
	return switchboard.Conversation{Channel: switchboard.ChannelWebChat, Status: switchboard.ConversationQueued,
		QueueID: &f.queue.ID, Address: identifier, EndUser: switchboard.EndUser{Identifier: identifier, Name: "Visitor " + identifier}}
}

func mustConversation(t *testing.T, db *sqlstore.DB, tenantID int64, c switchboard.Conversation) switchboard.Conversation {
	t.Helper()
	got, _, err := db.CreateConversation(context.Background(), tenantID, c, nil)
	if err != nil {
		t.Fatalf("CreateConversation(%s): %v", c.Address, err)
	}
	return got
}

func text(convID int64, dir switchboard.Direction, s string) switchboard.ConversationMessage {
	return switchboard.ConversationMessage{ConversationID: convID, Direction: dir, Kind: switchboard.KindText, Text: s}
}

func TestConversationCreateAndGet(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		seq := lastSeq(t, db, f.tn.ID)
		in := f.webChat("visitor-1")
		in.Context = switchboard.ConversationContext{Unsigned: map[string]any{"page": "/pricing"}}
		in.Flags = []string{"vip"}
		in.TokenHash = []byte("0123456789abcdef0123456789abcdef")
		first := text(0, switchboard.Inbound, "Hello, anyone there?")
		c, msg, err := db.CreateConversation(ctx, f.tn.ID, in, &first)
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 || len(c.UUID) != 36 || c.TenantID != f.tn.ID || c.QueuedAt == nil || !c.QueuedAt.Equal(c.CreatedAt) ||
			c.EndUser.ID == 0 || c.EndUser.Name != "Visitor visitor-1" || c.LastSeq != 1 || c.LastInboundAt == nil {
			t.Fatalf("CreateConversation = %+v", c)
		}
		if msg == nil || msg.Seq != 1 || msg.Status != switchboard.ReceiptReceived || msg.ConversationID != c.ID || msg.ID == 0 {
			t.Fatalf("first message = %+v", msg)
		}
		got, err := db.Conversation(ctx, f.tn.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := mustJSON(t, got), mustJSON(t, c); a != b {
			t.Fatalf("Conversation =\n%s\nwant\n%s", a, b)
		}
		if string(got.TokenHash) != string(in.TokenHash) {
			t.Fatalf("TokenHash = %q, want %q", got.TokenHash, in.TokenHash)
		}
		if byUUID, err := db.ConversationByUUID(ctx, 0, c.UUID); err != nil || byUUID.ID != c.ID {
			t.Fatalf("ConversationByUUID(0) = %d, %v", byUUID.ID, err)
		}
		if byUUID, err := db.ConversationByUUID(ctx, f.tn.ID, c.UUID); err != nil || byUUID.ID != c.ID {
			t.Fatalf("ConversationByUUID(tenant) = %d, %v", byUUID.ID, err)
		}
		_, err = db.ConversationByUUID(ctx, f.other.ID, c.UUID)
		wantCode(t, "ConversationByUUID(other tenant)", err, switchboard.CodeNotFound)
		if open, err := db.OpenConversation(ctx, f.tn.ID, switchboard.ChannelWebChat, 0, "visitor-1"); err != nil || open.ID != c.ID {
			t.Fatalf("OpenConversation = %d, %v", open.ID, err)
		}
		_, err = db.OpenConversation(ctx, f.tn.ID, switchboard.ChannelWebChat, f.profile.ID, "visitor-1")
		wantCode(t, "OpenConversation(other profile)", err, switchboard.CodeNotFound)
		if u, err := db.EndUserByIdentifier(ctx, f.tn.ID, "visitor-1"); err != nil || u.ID != c.EndUser.ID {
			t.Fatalf("EndUserByIdentifier = %+v, %v", u, err)
		}
		if u, err := db.EndUser(ctx, f.tn.ID, c.EndUser.ID); err != nil || u.Identifier != "visitor-1" {
			t.Fatalf("EndUser = %+v, %v", u, err)
		}

		evs := eventsSince(t, db, f.tn.ID, seq)
		if want := []string{"conversation.created", "conversation.queued", "message.received"}; !slices.Equal(eventTypes(evs), want) {
			t.Fatalf("events = %v, want %v", eventTypes(evs), want)
		}
		var cp switchboard.ConversationEventPayload
		if err := json.Unmarshal(evs[0].Payload, &cp); err != nil || cp.V != 1 || cp.Conversation.ID != c.ID || evs[0].SubjectType != "conversation" {
			t.Fatalf("conversation.created payload %s: %v", evs[0].Payload, err)
		}
		var mp switchboard.ConversationMessagePayload
		if err := json.Unmarshal(evs[2].Payload, &mp); err != nil {
			t.Fatal(err)
		}
		if mp.Message.ID != msg.ID || mp.ConversationID != c.ID || mp.Channel != switchboard.ChannelWebChat || mp.QueueID == nil ||
			*mp.QueueID != f.queue.ID || mp.EndUserID != c.EndUser.ID || evs[2].SubjectType != "conversation_message" || evs[2].SubjectID != msg.ID {
			t.Fatalf("message.received = %s", evs[2].Payload)
		}

		// Validation and references outside the tenant.
		bad := f.webChat("")
		bad.Channel = "Web Chat"
		_, _, err = db.CreateConversation(ctx, f.tn.ID, bad, nil)
		wantField(t, "invalid conversation", err, switchboard.CodeInvalid, "channel")
		wantField(t, "invalid conversation", err, switchboard.CodeInvalid, "address")
		foreign := f.webChat("visitor-2")
		foreign.QueueID = &f.oqueue.ID
		_, _, err = db.CreateConversation(ctx, f.tn.ID, foreign, nil)
		wantField(t, "another tenant's queue", err, switchboard.CodeInvalid, "queue_id")
		_, err = db.Conversation(ctx, f.other.ID, c.ID)
		wantCode(t, "Conversation(other tenant)", err, switchboard.CodeNotFound)

		// Without a first message, what CreateConversation returns is what
		// a read returns.
		plain := mustConversation(t, db, f.tn.ID, f.webChat("visitor-3"))
		if read, err := db.Conversation(ctx, f.tn.ID, plain.ID); err != nil || mustJSON(t, read) != mustJSON(t, plain) {
			t.Fatalf("Conversation =\n%s\nwant\n%s (%v)", mustJSON(t, read), mustJSON(t, plain), err)
		}
	})
}

func TestConversationOpenAddressIsUnique(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		sms := func(profile *int64) switchboard.Conversation {
			return switchboard.Conversation{Channel: switchboard.ChannelSMS, Status: switchboard.ConversationQueued, QueueID: &f.queue.ID,
				Address: "+15551234567", Via: "+15550001000", ProfileID: profile, EndUser: switchboard.EndUser{Identifier: "+15551234567"}}
		}
		a := mustConversation(t, db, f.tn.ID, sms(&f.profile.ID))
		_, _, err := db.CreateConversation(ctx, f.tn.ID, sms(&f.profile.ID), nil)
		wantCode(t, "second open conversation", err, switchboard.CodeConflict)
		if want := fmt.Sprintf("(id %d)", a.ID); !strings.Contains(err.Error(), want) {
			t.Fatalf("conflict %q does not name %s", err, want)
		}
		// Another profile (none) of the same channel, and another tenant,
		// are other threads.
		b := mustConversation(t, db, f.tn.ID, sms(nil))
		_, _, err = db.CreateConversation(ctx, f.tn.ID, sms(nil), nil)
		wantCode(t, "second open conversation without profile", err, switchboard.CodeConflict)
		o := sms(nil)
		o.QueueID = &f.oqueue.ID
		mustConversation(t, db, f.other.ID, o)

		// Once ended, the address may open another, which may follow it.
		if _, err := db.UpdateConversationFunc(ctx, f.tn.ID, a.ID, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			now := time.Now()
			c.Status, c.EndedAt, c.EndedBy, c.EndReason = switchboard.ConversationFinished, &now, switchboard.SideAgent, "resolved"
			return switchboard.ConversationUpdate{Event: switchboard.EventConversationFinished}, nil
		}); err != nil {
			t.Fatal(err)
		}
		next := sms(&f.profile.ID)
		next.PreviousID = &a.ID
		n := mustConversation(t, db, f.tn.ID, next)
		if n.PreviousID == nil || *n.PreviousID != a.ID {
			t.Fatalf("PreviousID = %v", n.PreviousID)
		}
		last, err := db.LastConversation(ctx, f.tn.ID, switchboard.ChannelSMS, "+15551234567")
		if err != nil || last.ID != n.ID {
			t.Fatalf("LastConversation = %d, %v; want %d", last.ID, err, n.ID)
		}
		// Reopening the ended one now collides with the new one.
		_, err = db.UpdateConversationFunc(ctx, f.tn.ID, a.ID, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			c.Status = switchboard.ConversationQueued
			return switchboard.ConversationUpdate{Event: switchboard.EventConversationQueued}, nil
		})
		wantCode(t, "reopen with another open", err, switchboard.CodeConflict)
		open, err := db.OpenConversations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != 3 || open[0].ID != b.ID || open[2].ID != n.ID {
			t.Fatalf("OpenConversations = %d conversations", len(open))
		}
		// Both end users are one: the identifier is the number.
		if n.EndUser.ID != a.EndUser.ID {
			t.Fatalf("end users %d and %d, want one", a.EndUser.ID, n.EndUser.ID)
		}
	})
}

func TestConversationConcurrentCreateOneWins(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, errs[i] = db.CreateConversation(ctx, f.tn.ID, f.webChat("racer"), nil)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch switchboard.ErrorCode(err) {
			case "":
				won++
			case switchboard.CodeConflict:
			default:
				t.Fatalf("concurrent create: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d creations won, want 1", won)
		}
	})
}

func TestConversationMessagesGaplessUnderConcurrency(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		c := mustConversation(t, db, f.tn.ID, f.webChat("busy"))
		const senders, each = 8, 50
		var wg sync.WaitGroup
		errs := make(chan error, senders)
		for g := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					dir := switchboard.Inbound
					if g%2 == 1 {
						dir = switchboard.Outbound
					}
					if _, _, _, err := db.AddMessage(ctx, f.tn.ID, text(c.ID, dir, fmt.Sprintf("g%d m%d", g, i)), nil); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var all []switchboard.ConversationMessage
		for after := int64(0); ; {
			page, err := db.ConversationMessages(ctx, f.tn.ID, c.ID, after, 137)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			after = page[len(page)-1].Seq
		}
		if len(all) != senders*each {
			t.Fatalf("%d messages, want %d", len(all), senders*each)
		}
		for i, m := range all {
			if m.Seq != int64(i+1) {
				t.Fatalf("message %d has seq %d: gaps or duplicates", i, m.Seq)
			}
		}
		got, err := db.Conversation(ctx, f.tn.ID, c.ID)
		if err != nil || got.LastSeq != senders*each {
			t.Fatalf("LastSeq = %d, %v", got.LastSeq, err)
		}
	})
}

func TestConversationAddMessage(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		c := mustConversation(t, db, f.tn.ID, f.webChat("v"))
		seq := lastSeq(t, db, f.tn.ID)

		// An agent's reply with a client id: stored once, however often sent;
		// fn moves the conversation and names its event.
		reply := text(c.ID, switchboard.Outbound, "Hi, how can I help?")
		reply.AgentID, reply.ClientID = &f.agent.ID, "client-1"
		accept := func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			c.Status, c.AgentID = switchboard.ConversationInProgress, &f.agent.ID
			return switchboard.ConversationUpdate{Event: switchboard.EventConversationInProgress}, nil
		}
		m, after, dup, err := db.AddMessage(ctx, f.tn.ID, reply, accept)
		if err != nil || dup {
			t.Fatalf("AddMessage = %v, duplicate %v", err, dup)
		}
		if m.Seq != 1 || m.Status != switchboard.ReceiptQueued || after.Status != switchboard.ConversationInProgress ||
			after.LastOutboundAt == nil || after.FirstResponseAt == nil || after.LastInboundAt != nil || after.LastSeq != 1 {
			t.Fatalf("AddMessage = %+v, conversation %+v", m, after)
		}
		if read, err := db.ConversationMessage(ctx, f.tn.ID, m.ID); err != nil || mustJSON(t, read) != mustJSON(t, m) {
			t.Fatalf("ConversationMessage =\n%s\nwant\n%s (%v)", mustJSON(t, read), mustJSON(t, m), err)
		}
		if read, err := db.Conversation(ctx, f.tn.ID, c.ID); err != nil || mustJSON(t, read) != mustJSON(t, after) {
			t.Fatalf("Conversation =\n%s\nwant\n%s (%v)", mustJSON(t, read), mustJSON(t, after), err)
		}
		again, _, dup, err := db.AddMessage(ctx, f.tn.ID, reply, accept)
		if err != nil || !dup || again.ID != m.ID || again.Seq != 1 {
			t.Fatalf("resent AddMessage = %+v, duplicate %v, %v", again, dup, err)
		}
		evs := eventsSince(t, db, f.tn.ID, seq)
		if want := []string{"message.queued", "conversation.in_progress"}; !slices.Equal(eventTypes(evs), want) {
			t.Fatalf("events = %v, want %v", eventTypes(evs), want)
		}
		var mp switchboard.ConversationMessagePayload
		if err := json.Unmarshal(evs[0].Payload, &mp); err != nil || mp.AgentID == nil || *mp.AgentID != f.agent.ID {
			t.Fatalf("message.queued payload %s: %v", evs[0].Payload, err)
		}

		// The end user answers; a note follows.
		in, after, _, err := db.AddMessage(ctx, f.tn.ID, text(c.ID, switchboard.Inbound, "My order is late"), nil)
		if err != nil || in.Seq != 2 || in.Status != switchboard.ReceiptReceived || after.LastInboundAt == nil {
			t.Fatalf("inbound = %+v, %v", in, err)
		}
		note := switchboard.ConversationMessage{ConversationID: c.ID, Direction: switchboard.Outbound, Kind: switchboard.KindNote,
			Text: "check the warehouse", AgentID: &f.agent.ID}
		if n, _, _, err := db.AddMessage(ctx, f.tn.ID, note, nil); err != nil || n.Status != switchboard.ReceiptSent || n.Seq != 3 {
			t.Fatalf("note = %+v, %v", n, err)
		}

		// Finished: texts are refused, activity lines and notes are not.
		if _, err := db.UpdateConversationFunc(ctx, f.tn.ID, c.ID, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			c.Status = switchboard.ConversationFinished
			return switchboard.ConversationUpdate{Event: switchboard.EventConversationFinished}, nil
		}); err != nil {
			t.Fatal(err)
		}
		_, _, _, err = db.AddMessage(ctx, f.tn.ID, text(c.ID, switchboard.Inbound, "hello?"), nil)
		wantCode(t, "text after the end", err, switchboard.CodeConflict)
		if !strings.Contains(err.Error(), fmt.Sprintf("conversation %d is finished", c.ID)) {
			t.Fatalf("error %q", err)
		}
		act := switchboard.ConversationMessage{ConversationID: c.ID, Direction: switchboard.Outbound, Kind: switchboard.KindActivity, Text: "ended by Ann"}
		if a, _, _, err := db.AddMessage(ctx, f.tn.ID, act, nil); err != nil || a.Seq != 4 {
			t.Fatalf("activity after the end = %+v, %v", a, err)
		}

		// Validation, unknown conversations, other tenants.
		_, _, _, err = db.AddMessage(ctx, f.tn.ID, text(c.ID, switchboard.Inbound, " "), nil)
		wantField(t, "empty text", err, switchboard.CodeInvalid, "text")
		_, _, _, err = db.AddMessage(ctx, f.tn.ID, text(c.ID+1000, switchboard.Inbound, "x"), nil)
		wantCode(t, "unknown conversation", err, switchboard.CodeNotFound)
		_, _, _, err = db.AddMessage(ctx, f.other.ID, text(c.ID, switchboard.Inbound, "x"), nil)
		wantCode(t, "another tenant's conversation", err, switchboard.CodeNotFound)
		_, err = db.ConversationMessages(ctx, f.other.ID, c.ID, 0, 10)
		wantCode(t, "another tenant's messages", err, switchboard.CodeNotFound)
		_, err = db.ConversationMessage(ctx, f.other.ID, m.ID)
		wantCode(t, "another tenant's message", err, switchboard.CodeNotFound)
		_, err = db.ConversationMessages(ctx, f.tn.ID, c.ID, 0, 1001)
		wantField(t, "limit", err, switchboard.CodeInvalid, "limit")
		if got, err := db.ConversationMessages(ctx, f.tn.ID, c.ID, 4, 10); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("messages after the last = %v, %v", got, err)
		}
		// fn's error aborts everything, the message too.
		c2 := mustConversation(t, db, f.tn.ID, f.webChat("w"))
		_, _, _, err = db.AddMessage(ctx, f.tn.ID, text(c2.ID, switchboard.Inbound, "x"), func(*switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			return switchboard.ConversationUpdate{}, switchboard.Errorf(switchboard.CodeForbidden, "no")
		})
		wantCode(t, "fn refuses", err, switchboard.CodeForbidden)
		if got, _ := db.ConversationMessages(ctx, f.tn.ID, c2.ID, 0, 10); len(got) != 0 {
			t.Fatalf("refused message stored: %+v", got)
		}
	})
}

func TestConversationMessageStatus(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		c := mustConversation(t, db, f.tn.ID, f.webChat("v"))
		m, _, _, err := db.AddMessage(ctx, f.tn.ID, text(c.ID, switchboard.Outbound, "Your code is 1234"), nil)
		if err != nil {
			t.Fatal(err)
		}
		seq := lastSeq(t, db, f.tn.ID)
		sent, err := db.SetMessageStatus(ctx, f.tn.ID, m.ID, switchboard.ReceiptSent, "SM123", "")
		if err != nil || sent.Status != switchboard.ReceiptSent || sent.ProviderID != "SM123" {
			t.Fatalf("sent = %+v, %v", sent, err)
		}
		byProvider, err := db.MessageByProvider(ctx, f.tn.ID, "SM123")
		if err != nil || byProvider.ID != m.ID {
			t.Fatalf("MessageByProvider = %+v, %v", byProvider, err)
		}
		_, err = db.MessageByProvider(ctx, f.other.ID, "SM123")
		wantCode(t, "another tenant's provider id", err, switchboard.CodeNotFound)
		read, err := db.SetMessageStatus(ctx, f.tn.ID, m.ID, switchboard.ReceiptRead, "", "")
		if err != nil || read.Status != switchboard.ReceiptRead || read.ReadAt == nil || read.ProviderID != "SM123" {
			t.Fatalf("read = %+v, %v", read, err)
		}
		// A late delivery report does not move it back, and writes nothing.
		late, err := db.SetMessageStatus(ctx, f.tn.ID, m.ID, switchboard.ReceiptDelivered, "", "")
		if err != nil || late.Status != switchboard.ReceiptRead {
			t.Fatalf("late delivered = %+v, %v", late, err)
		}
		if got := eventTypes(eventsSince(t, db, f.tn.ID, seq)); !slices.Equal(got, []string{"message.sent", "message.read"}) {
			t.Fatalf("events = %v", got)
		}
		failed, err := db.SetMessageStatus(ctx, f.tn.ID, m.ID, switchboard.ReceiptFailed, "", "carrier rejected")
		if err != nil || failed.Status != switchboard.ReceiptFailed || failed.Error != "carrier rejected" {
			t.Fatalf("failed = %+v, %v", failed, err)
		}
		if again, err := db.SetMessageStatus(ctx, f.tn.ID, m.ID, switchboard.ReceiptSent, "", ""); err != nil || again.Status != switchboard.ReceiptFailed {
			t.Fatalf("after failed = %+v, %v", again, err)
		}
		_, err = db.SetMessageStatus(ctx, f.other.ID, m.ID, switchboard.ReceiptRead, "", "")
		wantCode(t, "another tenant's message", err, switchboard.CodeNotFound)
		_, err = db.SetMessageStatus(ctx, f.tn.ID, m.ID, "lost", "", "")
		wantField(t, "unknown status", err, switchboard.CodeInvalid, "status")
		got, err := db.ConversationMessage(ctx, f.tn.ID, m.ID)
		if err != nil || got.Status != switchboard.ReceiptFailed || got.ReadAt == nil {
			t.Fatalf("stored = %+v, %v", got, err)
		}
	})
}

func TestConversationClientIDDedupeUnderConcurrency(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		c := mustConversation(t, db, f.tn.ID, f.webChat("retrier"))
		var wg sync.WaitGroup
		type result struct {
			id  int64
			dup bool
			err error
		}
		results := make([]result, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := text(c.ID, switchboard.Inbound, "sent twice over a flaky network")
				m.ClientID = "tab-1/42"
				got, _, dup, err := db.AddMessage(ctx, f.tn.ID, m, nil)
				results[i] = result{got.ID, dup, err}
			}()
		}
		wg.Wait()
		stored := 0
		for _, r := range results {
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !r.dup {
				stored++
			}
			if r.id != results[0].id {
				t.Fatalf("ids %d and %d for one client id", r.id, results[0].id)
			}
		}
		msgs, err := db.ConversationMessages(ctx, f.tn.ID, c.ID, 0, 100)
		if err != nil || len(msgs) != 1 || stored != 1 {
			t.Fatalf("%d messages stored, %d not duplicates (%v), want 1", len(msgs), stored, err)
		}
	})
}
