package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// uuidV4 is the format of every UUID the store gives (google/uuid's
// NewString), which the migration's backfill must match.
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestVoisoCoreColumns checks that tenants and conversation messages get a
// UUID when stored, that an update cannot change a tenant's, and that a
// call keeps the campaign that placed it, on the single and batched paths.
func TestVoisoCoreColumns(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		if !uuidV4.MatchString(f.tn.UUID) || !uuidV4.MatchString(f.other.UUID) || f.tn.UUID == f.other.UUID {
			t.Fatalf("tenant UUIDs %q, %q", f.tn.UUID, f.other.UUID)
		}
		for _, read := range []func() (switchboard.Tenant, error){
			func() (switchboard.Tenant, error) { return db.Tenant(ctx, f.tn.ID) },
			func() (switchboard.Tenant, error) { return db.TenantBySlug(ctx, f.tn.Slug) },
			func() (switchboard.Tenant, error) {
				return db.UpdateTenantFunc(ctx, f.tn.ID, func(tn *switchboard.Tenant) error {
					tn.UUID, tn.Name = "00000000-0000-4000-8000-000000000000", "Renamed"
					return nil
				})
			},
			func() (switchboard.Tenant, error) { return db.Tenant(ctx, f.tn.ID) },
		} {
			if got, err := read(); err != nil || got.UUID != f.tn.UUID {
				t.Fatalf("tenant UUID read back as %q (%v), want %q", got.UUID, err, f.tn.UUID)
			}
		}
		page, err := db.Tenants(ctx, switchboard.ListOptions{Limit: 10})
		if err != nil || len(page.Items) != 2 || page.Items[0].UUID != f.tn.UUID || page.Items[1].UUID != f.other.UUID {
			t.Fatalf("Tenants = %+v, %v", page.Items, err)
		}

		c := mustConversation(t, db, f.tn.ID, f.webChat("v"))
		m1, _, _, err := db.AddMessage(ctx, f.tn.ID, text(c.ID, switchboard.Inbound, "hello"), nil)
		if err != nil {
			t.Fatal(err)
		}
		m2, _, _, err := db.AddMessage(ctx, f.tn.ID, text(c.ID, switchboard.Inbound, "again"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !uuidV4.MatchString(m1.UUID) || m1.UUID == m2.UUID {
			t.Fatalf("message UUIDs %q, %q", m1.UUID, m2.UUID)
		}
		if read, err := db.ConversationMessage(ctx, f.tn.ID, m1.ID); err != nil || read.UUID != m1.UUID {
			t.Fatalf("ConversationMessage UUID %q (%v), want %q", read.UUID, err, m1.UUID)
		}
		if list, err := db.ConversationMessages(ctx, f.tn.ID, c.ID, 0, 10); err != nil || len(list) != 2 || list[1].UUID != m2.UUID {
			t.Fatalf("ConversationMessages = %+v, %v", list, err)
		}

		camp, err := db.CreateCampaign(ctx, f.tn.ID, switchboard.Campaign{Name: "Spring", QueueID: f.queue.ID})
		if err != nil {
			t.Fatal(err)
		}
		campaign := camp.ID
		at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		placed, err := db.SaveCall(ctx, switchboard.Call{TenantID: f.tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallAssigned,
			From: "+15550001000", To: "+15550002000", CampaignID: &campaign, CreatedAt: at}, "created")
		if err != nil {
			t.Fatal(err)
		}
		plain, err := db.SaveCall(ctx, switchboard.Call{TenantID: f.tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallAssigned,
			From: "+15550001000", To: "+15550003000", CreatedAt: at}, "created")
		if err != nil {
			t.Fatal(err)
		}
		batched := switchboard.Call{ID: placed.ID + 100, TenantID: f.tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallAssigned,
			From: "+15550001000", To: "+15550004000", CampaignID: &campaign, CreatedAt: at}
		if err := db.SaveCalls(ctx, []switchboard.CallChange{{Call: batched, What: "created"}}); err != nil {
			t.Fatal(err)
		}
		// A rename later does not change what the calls' events said.
		if _, err := db.UpdateCampaignFunc(ctx, f.tn.ID, camp.ID, func(c *switchboard.Campaign) error {
			c.Name = "Summer"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		ended := batched
		ended.Status, ended.EndedAt = switchboard.CallFailed, &at
		if err := db.SaveCalls(ctx, []switchboard.CallChange{{Call: ended, What: "ended"}}); err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprint(campaign)
		for _, want := range []struct {
			id       int64
			campaign string
			names    []string // the campaign's name in each event of the call
		}{{placed.ID, id, []string{"Spring"}}, {plain.ID, "<nil>", []string{""}}, {batched.ID, id, []string{"Spring", "Summer"}}} {
			got, err := db.Call(ctx, f.tn.ID, want.id)
			if err != nil {
				t.Fatal(err)
			}
			if s := ptrString(got.CampaignID); s != want.campaign {
				t.Errorf("call %d campaign %s, want %s", want.id, s, want.campaign)
			}
			evs, err := db.SubjectEvents(ctx, f.tn.ID, "call", want.id)
			if err != nil || len(evs) != len(want.names) {
				t.Fatalf("call %d events %v, %v", want.id, evs, err)
			}
			for i, e := range evs {
				var p switchboard.CallEventPayload
				if err := json.Unmarshal(e.Payload, &p); err != nil {
					t.Fatal(err)
				}
				name := ""
				if p.Campaign != nil {
					name = p.Campaign.Name
					if p.Campaign.ID != campaign {
						t.Errorf("call %d %s: campaign %d", want.id, e.Type, p.Campaign.ID)
					}
				}
				if name != want.names[i] || ptrString(p.Call(f.tn.ID).CampaignID) != want.campaign {
					t.Errorf("call %d %s: payload %s", want.id, e.Type, e.Payload)
				}
			}
		}
		if evs, _ := db.SubjectEvents(ctx, f.tn.ID, "call", plain.ID); len(evs) == 1 && strings.Contains(string(evs[0].Payload), `"campaign"`) {
			t.Errorf("a call of no campaign shows one: %s", evs[0].Payload)
		}
	})
}

func ptrString(p *int64) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprint(*p)
}

// TestVoisoCoreMigration runs migration 0021 over an installation that has
// tenants, conversation messages, calls and a webhook without a UUID: each
// existing tenant, message and such webhook gets its own UUID in the store's
// format, and calls have no campaign.
func TestVoisoCoreMigration(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			url := mk(t)
			db := sqlstoretest.Open(t, url, sqlstore.Options{})
			f := newConvFixture(t, db)
			c := mustConversation(t, db, f.tn.ID, f.webChat("v"))
			for _, s := range []string{"one", "two", "three"} {
				if _, _, _, err := db.AddMessage(ctx, f.tn.ID, text(c.ID, switchboard.Inbound, s), nil); err != nil {
					t.Fatal(err)
				}
			}
			call, err := db.SaveCall(ctx, switchboard.Call{TenantID: f.tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
				From: "+15550002000", To: "+15550001000", CreatedAt: time.Now()}, "created")
			if err != nil {
				t.Fatal(err)
			}
			hook, err := db.CreateWebhook(ctx, f.tn.ID, switchboard.Webhook{URL: "https://example.com/old"})
			if err != nil {
				t.Fatal(err)
			}
			// Back to the schema before 0021.
			err = sqlstore.RunTx(ctx, db, func(exec func(string, ...any) error) error {
				// calls_transferred (0029) reads campaign_id; it stays recorded
				// as applied, so it is simply gone for the rest of the test.
				for _, q := range []string{"DROP INDEX calls_transferred", "DROP INDEX calls_tenant_campaign", "DROP INDEX tenants_uuid_key",
					"DROP INDEX conversation_messages_uuid_key", "ALTER TABLE calls DROP COLUMN campaign_id",
					"ALTER TABLE tenants DROP COLUMN uuid", "ALTER TABLE conversation_messages DROP COLUMN uuid",
					"DELETE FROM schema_migrations WHERE version LIKE '0021%'",
					// A subscription made before webhooks had UUIDs (0004).
					"UPDATE webhooks SET uuid = ''"} {
					if err := exec(q); err != nil {
						return fmt.Errorf("%s: %w", q, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			db = sqlstoretest.Open(t, url, sqlstore.Options{}) // migrates

			seen := map[string]bool{}
			for _, id := range []int64{f.tn.ID, f.other.ID} {
				tn, err := db.Tenant(ctx, id)
				if err != nil || !uuidV4.MatchString(tn.UUID) || seen[tn.UUID] {
					t.Fatalf("tenant %d UUID %q after the migration (%v)", id, tn.UUID, err)
				}
				seen[tn.UUID] = true
			}
			msgs, err := db.ConversationMessages(ctx, f.tn.ID, c.ID, 0, 10)
			if err != nil || len(msgs) != 3 {
				t.Fatalf("messages %+v, %v", msgs, err)
			}
			for _, m := range msgs {
				if !uuidV4.MatchString(m.UUID) || seen[m.UUID] {
					t.Fatalf("message %d UUID %q after the migration", m.ID, m.UUID)
				}
				seen[m.UUID] = true
			}
			if got, err := db.Call(ctx, f.tn.ID, call.ID); err != nil || got.CampaignID != nil {
				t.Fatalf("call after the migration: campaign %v (%v)", got.CampaignID, err)
			}
			if w, err := db.Webhook(ctx, f.tn.ID, hook.ID); err != nil || !uuidV4.MatchString(w.UUID) || w.UUID == hook.UUID {
				t.Fatalf("webhook after the migration: UUID %q (%v)", w.UUID, err)
			}
			// New rows after the migration get theirs as before.
			if tn := mustTenant(t, db, "later"); !uuidV4.MatchString(tn.UUID) || seen[tn.UUID] {
				t.Fatalf("a tenant made after the migration has UUID %q", tn.UUID)
			}
		})
	}
}

// callEventTypes lists the types of the call's events in order.
func callEventTypes(t *testing.T, db *sqlstore.DB, tenantID, callID int64) []string {
	t.Helper()
	evs, err := db.SubjectEvents(context.Background(), tenantID, "call", callID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	return types
}

// TestCallWrappedUp checks the store's side of call.wrapped_up: an event
// with the call's payload that never writes the row (in the batch of the
// end or a later one), written after call.ended for calls closed at a
// restart, and for the last call of an agent whose wrap-up a restart cut,
// once.
func TestCallWrappedUp(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		ann, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", Extension: "101"})
		if err != nil {
			t.Fatal(err)
		}
		first, err := db.ReserveCallIDs(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		a := switchboard.Call{ID: first, UUID: "a-uuid", TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallConnected,
			From: "+15550001111", To: "8001", AgentID: &ann.ID, CreatedAt: now, ConnectedAt: &now}
		ended := a
		ended.Status, ended.EndedAt, ended.Disposition = switchboard.CallFinished, &now, switchboard.DispositionAnswered
		// In one batch: the row is the ended call's.
		if err := db.SaveCalls(ctx, []switchboard.CallChange{{Call: a, What: "created"}, {Call: ended, What: "ended"},
			{Call: ended, What: switchboard.CallWrappedUp}}); err != nil {
			t.Fatal(err)
		}
		if got := callEventTypes(t, db, tn.ID, a.ID); !slices.Equal(got, []string{"call.created", "call.ended", "call.wrapped_up"}) {
			t.Fatalf("events %v", got)
		}
		// A wrapped_up alone does not write the row: a call it names with
		// other values stays as its end left it.
		b := a
		b.ID, b.UUID = first+1, "b-uuid"
		endedB := b
		endedB.Status, endedB.EndedAt, endedB.Disposition = switchboard.CallFinished, &now, switchboard.DispositionAnswered
		if err := db.SaveCalls(ctx, []switchboard.CallChange{{Call: b, What: "created"}, {Call: endedB, What: "ended"}}); err != nil {
			t.Fatal(err)
		}
		odd := endedB
		odd.HangupCause = "not written"
		if err := db.SaveCalls(ctx, []switchboard.CallChange{{Call: odd, What: switchboard.CallWrappedUp}}); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Call(ctx, tn.ID, b.ID); err != nil || got.HangupCause != "" || got.EndedAt == nil {
			t.Fatalf("call after wrapped_up: %+v, %v", got, err)
		}
		evs, err := db.SubjectEvents(ctx, tn.ID, "call", b.ID)
		if err != nil || len(evs) != 3 || evs[2].Type != switchboard.EventCallWrappedUp {
			t.Fatalf("events %v, %v", evs, err)
		}
		var p switchboard.CallEventPayload
		if err := json.Unmarshal(evs[2].Payload, &p); err != nil || p.Agent == nil || p.Agent.FirstName != "Ann" || p.EndedAt == nil ||
			p.Status != switchboard.CallFinished || p.UUID != "b-uuid" {
			t.Fatalf("wrapped_up payload %s (%v)", evs[2].Payload, err)
		}

		// A restart closes an open call with both events.
		open := switchboard.Call{ID: first + 2, TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+15550002222", To: "8001", CreatedAt: now}
		if err := db.SaveCalls(ctx, []switchboard.CallChange{{Call: open, What: "created"}}); err != nil {
			t.Fatal(err)
		}
		if n, err := db.CloseOrphanCalls(ctx, "system restart"); err != nil || n != 1 {
			t.Fatalf("CloseOrphanCalls = %d, %v", n, err)
		}
		if got := callEventTypes(t, db, tn.ID, open.ID); !slices.Equal(got, []string{"call.created", "call.ended", "call.wrapped_up"}) {
			t.Fatalf("orphan's events %v", got)
		}

		// Ann wraps up a call when the server stops: the next start ends
		// the wrap-up of her last call, once.
		c := a
		c.ID, c.UUID = first+3, "c-uuid"
		endedC := c
		endedC.Status, endedC.EndedAt, endedC.Disposition = switchboard.CallFinished, &now, switchboard.DispositionAnswered
		if err := db.SaveCalls(ctx, []switchboard.CallChange{{Call: c, What: "created"},
			{Agent: &switchboard.AgentCallState{TenantID: tn.ID, UserID: ann.ID, State: switchboard.PhaseInCall}},
			{Call: endedC, What: "ended"},
			{Agent: &switchboard.AgentCallState{TenantID: tn.ID, UserID: ann.ID, State: switchboard.PhaseWrapUp}}}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := db.RestoreCutPresence(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := callEventTypes(t, db, tn.ID, c.ID); !slices.Equal(got, []string{"call.created", "call.ended", "call.wrapped_up"}) {
			t.Fatalf("cut wrap-up's events %v", got)
		}
		// Her earlier calls are untouched.
		if got := callEventTypes(t, db, tn.ID, b.ID); len(got) != 3 {
			t.Fatalf("an earlier call's events %v", got)
		}
	})
}

// TestConversationPayloadNames checks that conversation and message events
// carry the UUIDs and the names a webhook shows (the agent, the sender, the
// end user and their address, the channel profile) as they were when the
// event was written.
func TestConversationPayloadNames(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		c := mustConversation(t, db, f.tn.ID, switchboard.Conversation{Channel: switchboard.ChannelSMS, Status: switchboard.ConversationQueued,
			QueueID: &f.queue.ID, ProfileID: &f.profile.ID, Address: "+15550009999", Via: f.profile.Identifier,
			EndUser: switchboard.EndUser{Identifier: "+15550009999", Name: "Maria"}})
		reply := text(c.ID, switchboard.Outbound, "Hello")
		reply.AgentID = &f.agent.ID
		m, _, _, err := db.AddMessage(ctx, f.tn.ID, reply, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			c.Status, c.AgentID = switchboard.ConversationInProgress, &f.agent.ID
			return switchboard.ConversationUpdate{Event: switchboard.EventConversationInProgress}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Renamed afterwards: the events keep the names of their time.
		if _, err := db.UpdateUserFunc(ctx, f.tn.ID, f.agent.ID, func(u *switchboard.User) error {
			u.FirstName = "Anne"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpdateChannelProfileFunc(ctx, f.tn.ID, f.profile.ID, func(p *switchboard.ChannelProfile) error {
			p.Name = "Renamed"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		in, _, _, err := db.AddMessage(ctx, f.tn.ID, text(c.ID, switchboard.Inbound, "Hi"), nil)
		if err != nil {
			t.Fatal(err)
		}

		messagePayload := func(id int64) switchboard.ConversationMessagePayload {
			t.Helper()
			evs, err := db.SubjectEvents(ctx, f.tn.ID, "conversation_message", id)
			if err != nil || len(evs) == 0 {
				t.Fatalf("message %d events %v, %v", id, evs, err)
			}
			var p switchboard.ConversationMessagePayload
			if err := json.Unmarshal(evs[0].Payload, &p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		sent := messagePayload(m.ID)
		if sent.Message.UUID != m.UUID || sent.ConversationUUID != c.UUID || sent.Agent == nil || sent.Agent.FirstName != "Ann" ||
			sent.Sender == nil || sent.Sender.ID != f.agent.ID || sent.Sender.Extension != "1001" ||
			sent.EndUser == nil || *sent.EndUser != (switchboard.EndUserRef{ID: c.EndUser.ID, Name: "Maria", Identifier: "+15550009999", Address: "+15550009999"}) ||
			sent.Profile == nil || *sent.Profile != (switchboard.ChannelProfileRef{ID: f.profile.ID, UUID: f.profile.UUID, Channel: switchboard.ChannelSMS,
			Name: "Main number", Identifier: "+15550001000"}) {
			t.Errorf("message.queued payload %+v", sent)
		}
		received := messagePayload(in.ID)
		if received.Message.UUID != in.UUID || received.Agent == nil || received.Agent.FirstName != "Anne" || received.Sender != nil ||
			received.Profile == nil || received.Profile.Name != "Renamed" {
			t.Errorf("message.received payload %+v", received)
		}

		evs, err := db.SubjectEvents(ctx, f.tn.ID, "conversation", c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var created, progress *switchboard.ConversationEventPayload
		for _, e := range evs {
			var p switchboard.ConversationEventPayload
			if err := json.Unmarshal(e.Payload, &p); err != nil {
				t.Fatal(err)
			}
			switch e.Type {
			case switchboard.EventConversationCreated:
				created = &p
			case switchboard.EventConversationInProgress:
				progress = &p
			}
		}
		if created == nil || created.Agent != nil || created.Profile == nil || created.Profile.Name != "Main number" ||
			created.Conversation.UUID != c.UUID || created.Conversation.EndUser.Name != "Maria" {
			t.Errorf("conversation.created payload %+v", created)
		}
		if progress == nil || progress.Agent == nil || progress.Agent.FirstName != "Ann" || progress.Profile == nil ||
			progress.Profile.UUID != f.profile.UUID {
			t.Errorf("conversation.in_progress payload %+v", progress)
		}
	})
}

// TestLookupsByUUID checks MessageByUUID and WebhookByUUID: found in their
// tenant, not found in another, nor for an empty or unknown UUID.
func TestLookupsByUUID(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn, other := mustTenant(t, db, "acme"), mustTenant(t, db, "other")
		m, err := db.CreateMessage(ctx, switchboard.Message{TenantID: tn.ID, Direction: switchboard.Outbound, From: "+15559876543",
			To: "+15551234567", Body: "Hello", Status: switchboard.MessageQueued})
		if err != nil {
			t.Fatal(err)
		}
		w, err := db.CreateWebhook(ctx, tn.ID, switchboard.Webhook{URL: "https://example.com/all"})
		if err != nil || w.UUID == "" {
			t.Fatalf("CreateWebhook = %+v, %v", w, err)
		}
		if got, err := db.MessageByUUID(ctx, tn.ID, m.UUID); err != nil || got.ID != m.ID || got.Body != "Hello" {
			t.Errorf("MessageByUUID = %+v, %v", got, err)
		}
		if got, err := db.WebhookByUUID(ctx, tn.ID, w.UUID); err != nil || got.ID != w.ID || got.URL != w.URL {
			t.Errorf("WebhookByUUID = %+v, %v", got, err)
		}
		for _, id := range []string{m.UUID, w.UUID, "", "00000000-0000-4000-8000-000000000000"} {
			_, err := db.MessageByUUID(ctx, other.ID, id)
			wantCode(t, "another tenant's message "+id, err, switchboard.CodeNotFound)
			_, err = db.WebhookByUUID(ctx, other.ID, id)
			wantCode(t, "another tenant's webhook "+id, err, switchboard.CodeNotFound)
		}
		_, err = db.MessageByUUID(ctx, tn.ID, w.UUID)
		wantCode(t, "a webhook's UUID as a message", err, switchboard.CodeNotFound)
		_, err = db.WebhookByUUID(ctx, tn.ID, "")
		wantCode(t, "no UUID", err, switchboard.CodeNotFound)
	})
}
