package sqlstore_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

func convIDs(cs []switchboard.Conversation) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func TestConversationListFilters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		start := time.Now()
		// a: web chat, queued, says "Refund 50%_off please".
		a := mustConversation(t, db, f.tn.ID, f.webChat("va"))
		if _, _, _, err := db.AddMessage(ctx, f.tn.ID, text(a.ID, switchboard.Inbound, "Refund 50%_off please"), nil); err != nil {
			t.Fatal(err)
		}
		// b: SMS on the profile, in progress with the agent.
		b := mustConversation(t, db, f.tn.ID, switchboard.Conversation{Channel: switchboard.ChannelSMS, Status: switchboard.ConversationQueued,
			QueueID: &f.queue.ID, ProfileID: &f.profile.ID, Address: "+15551234567", EndUser: switchboard.EndUser{Identifier: "+15551234567"}})
		if _, _, _, err := db.AddMessage(ctx, f.tn.ID, text(b.ID, switchboard.Outbound, "We will REFUND you"), func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			c.Status, c.AgentID = switchboard.ConversationInProgress, &f.agent.ID
			return switchboard.ConversationUpdate{Event: switchboard.EventConversationInProgress}, nil
		}); err != nil {
			t.Fatal(err)
		}
		// c: web chat, finished, no queue.
		cc := f.webChat("vc")
		cc.QueueID = nil
		c := mustConversation(t, db, f.tn.ID, cc)
		if _, err := db.UpdateConversationFunc(ctx, f.tn.ID, c.ID, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			c.Status = switchboard.ConversationAbandoned
			return switchboard.ConversationUpdate{Event: switchboard.EventConversationAbandoned}, nil
		}); err != nil {
			t.Fatal(err)
		}
		// Another tenant's conversation never shows.
		o := f.webChat("va")
		o.QueueID = &f.oqueue.ID
		mustConversation(t, db, f.other.ID, o)

		for _, tc := range []struct {
			name string
			f    switchboard.ConversationFilter
			want []int64
		}{
			{"all, newest first", switchboard.ConversationFilter{}, []int64{c.ID, b.ID, a.ID}},
			{"channel", switchboard.ConversationFilter{Channel: switchboard.ChannelWebChat}, []int64{c.ID, a.ID}},
			{"all but a channel", switchboard.ConversationFilter{ExcludeChannel: switchboard.ChannelSMS}, []int64{c.ID, a.ID}},
			{"all but another channel", switchboard.ConversationFilter{ExcludeChannel: switchboard.ChannelWebChat}, []int64{b.ID}},
			{"a channel and its exclusion", switchboard.ConversationFilter{Channel: switchboard.ChannelSMS, ExcludeChannel: switchboard.ChannelSMS}, nil},
			{"status", switchboard.ConversationFilter{Status: switchboard.ConversationInProgress}, []int64{b.ID}},
			{"open", switchboard.ConversationFilter{Open: true}, []int64{b.ID, a.ID}},
			{"ended", switchboard.ConversationFilter{Ended: true}, []int64{c.ID}},
			{"open and ended", switchboard.ConversationFilter{Open: true, Ended: true}, nil},
			{"queue", switchboard.ConversationFilter{QueueID: f.queue.ID}, []int64{b.ID, a.ID}},
			{"agent", switchboard.ConversationFilter{AgentID: f.agent.ID}, []int64{b.ID}},
			{"end user", switchboard.ConversationFilter{EndUserID: a.EndUser.ID}, []int64{a.ID}},
			{"address", switchboard.ConversationFilter{Address: "+15551234567"}, []int64{b.ID}},
			{"profile", switchboard.ConversationFilter{ProfileID: f.profile.ID}, []int64{b.ID}},
			{"text, any case", switchboard.ConversationFilter{Text: "refund"}, []int64{b.ID, a.ID}},
			{"text with LIKE's wildcards taken literally", switchboard.ConversationFilter{Text: "50%_off"}, []int64{a.ID}},
			{"text that matches a wildcard only", switchboard.ConversationFilter{Text: "5_%"}, nil},
			{"since", switchboard.ConversationFilter{Since: start.Add(-time.Minute)}, []int64{c.ID, b.ID, a.ID}},
			{"until", switchboard.ConversationFilter{Until: start.Add(-time.Minute)}, nil},
			{"since in the future", switchboard.ConversationFilter{Since: time.Now().Add(time.Hour)}, nil},
			{"combined", switchboard.ConversationFilter{Open: true, Channel: switchboard.ChannelWebChat, Text: "please"}, []int64{a.ID}},
		} {
			page, err := db.Conversations(ctx, f.tn.ID, tc.f, switchboard.ListOptions{Limit: 50})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := convIDs(page.Items); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("%s: ids %v, want %v", tc.name, got, tc.want)
			}
			if page.Total != len(tc.want) {
				t.Errorf("%s: total %d, want %d", tc.name, page.Total, len(tc.want))
			}
		}

		// Cursor paging, newest first, in pages of one.
		var got []int64
		opt := switchboard.ListOptions{Limit: 1}
		for {
			page, err := db.Conversations(ctx, f.tn.ID, switchboard.ConversationFilter{}, opt)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, convIDs(page.Items)...)
			if page.NextCursor == "" {
				break
			}
			opt.Cursor = page.NextCursor
		}
		if want := []int64{c.ID, b.ID, a.ID}; !slices.Equal(got, want) {
			t.Fatalf("paged ids %v, want %v", got, want)
		}
	})
}

func TestConversationUpdate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		c := mustConversation(t, db, f.tn.ID, f.webChat("v"))
		seq := lastSeq(t, db, f.tn.ID)

		// What no update may change is put back; the end user's changeable
		// fields are written; a change without a named event is
		// conversation.updated.
		got, err := db.UpdateConversationFunc(ctx, f.tn.ID, c.ID, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			c.ID, c.UUID, c.LastSeq, c.TenantID = 999, "x", 42, 7
			c.Flags = append(c.Flags, "vip")
			c.Language = "fr"
			c.EndUser.Name, c.EndUser.Email, c.EndUser.Identifier = "Vera", "vera@example.com", "someone-else"
			c.Transfers = append(c.Transfers, switchboard.ConversationTransfer{FromQueueID: &f.queue.ID, ToQueueID: f.queue.ID, At: time.Now().UTC().Truncate(time.Microsecond)})
			return switchboard.ConversationUpdate{}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != c.ID || got.UUID != c.UUID || got.LastSeq != 0 || got.TenantID != f.tn.ID || got.EndUser.Identifier != "v" ||
			got.EndUser.Name != "Vera" || !slices.Equal(got.Flags, []string{"vip"}) || len(got.Transfers) != 1 || got.Language != "fr" {
			t.Fatalf("UpdateConversationFunc = %+v", got)
		}
		stored, err := db.Conversation(ctx, f.tn.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored.UpdatedAt, got.UpdatedAt = time.Time{}, time.Time{}
		stored.EndUser.UpdatedAt, got.EndUser.UpdatedAt = time.Time{}, time.Time{}
		if a, b := mustJSON(t, stored), mustJSON(t, got); a != b {
			t.Fatalf("stored\n%s\nreturned\n%s", a, b)
		}
		if u, _ := db.EndUser(ctx, f.tn.ID, c.EndUser.ID); u.Email != "vera@example.com" {
			t.Fatalf("end user = %+v", u)
		}
		// A callback that changes nothing writes nothing.
		if _, err := db.UpdateConversationFunc(ctx, f.tn.ID, c.ID, func(*switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			return switchboard.ConversationUpdate{}, nil
		}); err != nil {
			t.Fatal(err)
		}
		if got := eventTypes(eventsSince(t, db, f.tn.ID, seq)); !slices.Equal(got, []string{"conversation.updated"}) {
			t.Fatalf("events = %v", got)
		}
		// Invalid changes and references outside the tenant are refused.
		_, err = db.UpdateConversationFunc(ctx, f.tn.ID, c.ID, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			c.Status = "lost"
			return switchboard.ConversationUpdate{}, nil
		})
		wantField(t, "bad status", err, switchboard.CodeInvalid, "status")
		_, err = db.UpdateConversationFunc(ctx, f.tn.ID, c.ID, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			c.QueueID = &f.oqueue.ID
			return switchboard.ConversationUpdate{Event: switchboard.EventConversationTransferred}, nil
		})
		wantField(t, "another tenant's queue", err, switchboard.CodeInvalid, "queue_id")
		_, err = db.UpdateConversationFunc(ctx, f.other.ID, c.ID, func(*switchboard.Conversation) (switchboard.ConversationUpdate, error) {
			return switchboard.ConversationUpdate{}, nil
		})
		wantCode(t, "another tenant's conversation", err, switchboard.CodeNotFound)
	})
}

func TestEndUserUpsert(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		seq := lastSeq(t, db, f.tn.ID)
		u, err := db.UpsertEndUser(ctx, f.tn.ID, switchboard.EndUser{Identifier: "crm-7", Name: "Kim"})
		if err != nil || u.ID == 0 || u.Name != "Kim" || u.TenantID != f.tn.ID {
			t.Fatalf("UpsertEndUser = %+v, %v", u, err)
		}
		// No conversation shows them yet: no event.
		if evs := eventsSince(t, db, f.tn.ID, seq); len(evs) != 0 {
			t.Fatalf("events = %v", eventTypes(evs))
		}
		// Empty fields keep what is stored.
		u2, err := db.UpsertEndUser(ctx, f.tn.ID, switchboard.EndUser{Identifier: "crm-7", Email: "kim@example.com"})
		if err != nil || u2.ID != u.ID || u2.Name != "Kim" || u2.Email != "kim@example.com" {
			t.Fatalf("second UpsertEndUser = %+v, %v", u2, err)
		}
		// Their open conversation shows the change with conversation.updated.
		c := f.webChat("crm-7")
		c.EndUser = switchboard.EndUser{Identifier: "crm-7"}
		conv := mustConversation(t, db, f.tn.ID, c)
		if conv.EndUser.ID != u.ID || conv.EndUser.Name != "Kim" {
			t.Fatalf("conversation's end user = %+v", conv.EndUser)
		}
		seq = lastSeq(t, db, f.tn.ID)
		if _, err := db.UpsertEndUser(ctx, f.tn.ID, switchboard.EndUser{Identifier: "crm-7", Name: "Kim Lee"}); err != nil {
			t.Fatal(err)
		}
		evs := eventsSince(t, db, f.tn.ID, seq)
		if len(evs) != 1 || evs[0].Type != "conversation.updated" || evs[0].SubjectID != conv.ID {
			t.Fatalf("events = %v", eventTypes(evs))
		}
		var p switchboard.ConversationEventPayload
		if err := json.Unmarshal(evs[0].Payload, &p); err != nil || p.Conversation.EndUser.Name != "Kim Lee" {
			t.Fatalf("payload %s: %v", evs[0].Payload, err)
		}
		// Unchanged: nothing written.
		seq = lastSeq(t, db, f.tn.ID)
		if _, err := db.UpsertEndUser(ctx, f.tn.ID, switchboard.EndUser{Identifier: "crm-7", Name: "Kim Lee"}); err != nil {
			t.Fatal(err)
		}
		if evs := eventsSince(t, db, f.tn.ID, seq); len(evs) != 0 {
			t.Fatalf("events = %v", eventTypes(evs))
		}
		_, err = db.UpsertEndUser(ctx, f.tn.ID, switchboard.EndUser{})
		wantField(t, "no identifier", err, switchboard.CodeInvalid, "end_user.identifier")
		_, err = db.EndUser(ctx, f.other.ID, u.ID)
		wantCode(t, "another tenant's end user", err, switchboard.CodeNotFound)
		_, err = db.EndUserByIdentifier(ctx, f.other.ID, "crm-7")
		wantCode(t, "another tenant's identifier", err, switchboard.CodeNotFound)
	})
}
