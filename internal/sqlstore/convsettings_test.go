package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

func TestAttachmentLifecycle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		c := mustConversation(t, db, f.tn.ID, f.webChat("v"))
		hash := sha256.Sum256([]byte("upload-token"))
		expires := time.Now().Add(10 * time.Minute)
		a, err := db.CreateAttachment(ctx, f.tn.ID, switchboard.Attachment{ConversationID: c.ID, Kind: switchboard.KindPhoto,
			ContentType: "image/png", Name: "receipt.png", TokenHash: hash[:], ExpiresAt: expires, Key: "t1/receipt"})
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || len(a.UUID) != 36 || a.Status != switchboard.AttachmentPending || a.ReadyAt != nil || a.TenantID != f.tn.ID {
			t.Fatalf("CreateAttachment = %+v", a)
		}
		byToken, err := db.AttachmentByToken(ctx, hash[:])
		if err != nil || byToken.ID != a.ID || !byToken.ExpiresAt.Equal(a.ExpiresAt) || byToken.Status != switchboard.AttachmentPending {
			t.Fatalf("AttachmentByToken = %+v, %v", byToken, err)
		}
		other := sha256.Sum256([]byte("another token"))
		_, err = db.AttachmentByToken(ctx, other[:])
		wantCode(t, "unknown token", err, switchboard.CodeNotFound)

		done, err := db.CompleteAttachment(ctx, f.tn.ID, a.ID, 1234, strings.Repeat("ab", 32), "t1/receipt")
		if err != nil || done.Status != switchboard.AttachmentReady || done.Size != 1234 || done.ReadyAt == nil || done.Key != "t1/receipt" {
			t.Fatalf("CompleteAttachment = %+v, %v", done, err)
		}
		_, err = db.CompleteAttachment(ctx, f.tn.ID, a.ID, 1, "", "x")
		wantCode(t, "second upload", err, switchboard.CodeConflict)
		got, err := db.Attachment(ctx, f.tn.ID, a.ID)
		if err != nil || got.Size != 1234 || got.SHA256 != strings.Repeat("ab", 32) {
			t.Fatalf("Attachment = %+v, %v", got, err)
		}
		// Sent as a photo message.
		photo := switchboard.ConversationMessage{ConversationID: c.ID, Direction: switchboard.Inbound, Kind: switchboard.KindPhoto, AttachmentID: &a.ID}
		if m, _, _, err := db.AddMessage(ctx, f.tn.ID, photo, nil); err != nil || m.AttachmentID == nil || *m.AttachmentID != a.ID {
			t.Fatalf("photo message = %+v, %v", m, err)
		}

		// Tenant isolation and validation.
		_, err = db.Attachment(ctx, f.other.ID, a.ID)
		wantCode(t, "another tenant's attachment", err, switchboard.CodeNotFound)
		_, err = db.CompleteAttachment(ctx, f.other.ID, a.ID, 1, "", "x")
		wantCode(t, "complete another tenant's attachment", err, switchboard.CodeNotFound)
		_, err = db.CreateAttachment(ctx, f.other.ID, switchboard.Attachment{ConversationID: c.ID, Kind: switchboard.KindFile,
			TokenHash: other[:], ExpiresAt: expires})
		wantCode(t, "attachment to another tenant's conversation", err, switchboard.CodeNotFound)
		_, err = db.CreateAttachment(ctx, f.tn.ID, switchboard.Attachment{ConversationID: c.ID, Kind: switchboard.KindText})
		wantField(t, "bad kind", err, switchboard.CodeInvalid, "kind")
		wantField(t, "no token", err, switchboard.CodeInvalid, "token_hash")
		foreign := photo
		_, _, _, err = db.AddMessage(ctx, f.other.ID, foreign, nil)
		wantCode(t, "message in another tenant", err, switchboard.CodeNotFound)
	})
}

func TestCannedReplies(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		team, err := db.CreateTeam(ctx, f.tn.ID, switchboard.Team{Name: "Billing"})
		if err != nil {
			t.Fatal(err)
		}
		seq := lastSeq(t, db, f.tn.ID)
		mk := func(name string, channels []switchboard.ConversationChannel, teams []int64) switchboard.CannedReply {
			r, err := db.CreateCannedReply(ctx, f.tn.ID, switchboard.CannedReply{Name: name, Body: "Hello {{name}}", Channels: channels, TeamIDs: teams})
			if err != nil {
				t.Fatalf("CreateCannedReply(%s): %v", name, err)
			}
			return r
		}
		all := mk("Greeting", nil, nil)
		sms := mk("Away", []switchboard.ConversationChannel{switchboard.ChannelSMS}, nil)
		billing := mk("Refunds", []switchboard.ConversationChannel{switchboard.ChannelWebChat, switchboard.ChannelSMS}, []int64{team.ID})
		if all.Channels == nil || all.TeamIDs == nil || all.ID == 0 {
			t.Fatalf("CreateCannedReply = %+v", all)
		}
		names := func(channel switchboard.ConversationChannel, teamID int64, opt switchboard.ListOptions) ([]string, string) {
			t.Helper()
			page, err := db.CannedReplies(ctx, f.tn.ID, channel, teamID, opt)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range page.Items {
				out = append(out, r.Name)
			}
			return out, page.NextCursor
		}
		for _, tc := range []struct {
			channel switchboard.ConversationChannel
			team    int64
			want    []string
		}{
			{"", 0, []string{"Away", "Greeting", "Refunds"}},
			{switchboard.ChannelSMS, 0, []string{"Away", "Greeting", "Refunds"}},
			{switchboard.ChannelWebChat, 0, []string{"Greeting", "Refunds"}},
			{switchboard.ChannelWhatsApp, 0, []string{"Greeting"}},
			{"", team.ID, []string{"Away", "Greeting", "Refunds"}},
			{"", team.ID + 100, []string{"Away", "Greeting"}},
			{switchboard.ChannelWebChat, team.ID + 100, []string{"Greeting"}},
		} {
			if got, _ := names(tc.channel, tc.team, switchboard.ListOptions{Limit: 50}); !slices.Equal(got, tc.want) {
				t.Errorf("CannedReplies(%q, %d) = %v, want %v", tc.channel, tc.team, got, tc.want)
			}
		}
		// Paging in name order.
		var paged []string
		opt := switchboard.ListOptions{Limit: 2}
		for {
			got, next := names("", 0, opt)
			paged = append(paged, got...)
			if next == "" {
				break
			}
			opt.Cursor = next
		}
		if !slices.Equal(paged, []string{"Away", "Greeting", "Refunds"}) {
			t.Fatalf("paged = %v", paged)
		}

		up, err := db.UpdateCannedReplyFunc(ctx, f.tn.ID, sms.ID, func(r *switchboard.CannedReply) error {
			r.Body, r.ID = "Back soon", 0
			return nil
		})
		if err != nil || up.Body != "Back soon" || up.ID != sms.ID {
			t.Fatalf("UpdateCannedReplyFunc = %+v, %v", up, err)
		}
		_, err = db.UpdateCannedReplyFunc(ctx, f.tn.ID, sms.ID, func(r *switchboard.CannedReply) error {
			r.Name = ""
			return nil
		})
		wantField(t, "empty name", err, switchboard.CodeInvalid, "name")
		_, err = db.CreateCannedReply(ctx, f.tn.ID, switchboard.CannedReply{Name: "x", Body: "y", TeamIDs: []int64{999999}})
		wantField(t, "unknown team", err, switchboard.CodeInvalid, "team_ids")
		_, err = db.CannedReply(ctx, f.other.ID, billing.ID)
		wantCode(t, "another tenant's reply", err, switchboard.CodeNotFound)
		wantCode(t, "delete another tenant's reply", db.DeleteCannedReply(ctx, f.other.ID, billing.ID), switchboard.CodeNotFound)
		if err := db.DeleteCannedReply(ctx, f.tn.ID, billing.ID); err != nil {
			t.Fatal(err)
		}
		_, err = db.CannedReply(ctx, f.tn.ID, billing.ID)
		wantCode(t, "deleted reply", err, switchboard.CodeNotFound)
		want := []string{"canned_reply.created", "canned_reply.created", "canned_reply.created", "canned_reply.updated", "canned_reply.deleted"}
		if got := eventTypes(eventsSince(t, db, f.tn.ID, seq)); !slices.Equal(got, want) {
			t.Fatalf("events = %v, want %v", got, want)
		}
	})
}

func TestChannelProfilesAndTemplates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		seq := lastSeq(t, db, f.tn.ID)
		web, err := db.CreateChannelProfile(ctx, f.tn.ID, switchboard.ChannelProfile{Channel: switchboard.ChannelWebChat, Name: "Site",
			SigningSecret: "s3cret", Enabled: true})
		if err != nil || len(web.UUID) != 36 {
			t.Fatalf("CreateChannelProfile = %+v, %v", web, err)
		}
		// The widget names the profile, not its tenant.
		got, err := db.ChannelProfileByUUID(ctx, web.UUID)
		if err != nil || got.ID != web.ID || got.TenantID != f.tn.ID || got.SigningSecret != "s3cret" {
			t.Fatalf("ChannelProfileByUUID = %+v, %v", got, err)
		}
		_, err = db.ChannelProfileByUUID(ctx, "00000000-0000-0000-0000-000000000000")
		wantCode(t, "unknown uuid", err, switchboard.CodeNotFound)
		// The number's enabled profile, not another tenant's, not a
		// disabled one.
		if p, err := db.ChannelProfileFor(ctx, f.tn.ID, switchboard.ChannelSMS, "+15550001000"); err != nil || p.ID != f.profile.ID {
			t.Fatalf("ChannelProfileFor = %+v, %v", p, err)
		}
		_, err = db.ChannelProfileFor(ctx, f.other.ID, switchboard.ChannelSMS, "+15550001000")
		wantCode(t, "another tenant's number", err, switchboard.CodeNotFound)
		_, err = db.ChannelProfileFor(ctx, f.tn.ID, switchboard.ChannelWhatsApp, "+15550001000")
		wantCode(t, "another channel", err, switchboard.CodeNotFound)
		if _, err := db.UpdateChannelProfileFunc(ctx, f.tn.ID, f.profile.ID, func(p *switchboard.ChannelProfile) error {
			p.Enabled = false
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		_, err = db.ChannelProfileFor(ctx, f.tn.ID, switchboard.ChannelSMS, "+15550001000")
		wantCode(t, "disabled profile", err, switchboard.CodeNotFound)
		page, err := db.ChannelProfiles(ctx, f.tn.ID, switchboard.ChannelWebChat, switchboard.ListOptions{Limit: 10})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != web.ID {
			t.Fatalf("ChannelProfiles(web_chat) = %+v, %v", page, err)
		}
		if page, _ := db.ChannelProfiles(ctx, f.tn.ID, "", switchboard.ListOptions{Limit: 10}); page.Total != 2 {
			t.Fatalf("ChannelProfiles = %d", page.Total)
		}
		_, err = db.CreateChannelProfile(ctx, f.tn.ID, switchboard.ChannelProfile{Channel: switchboard.ChannelSMS, Name: "x", QueueID: &f.oqueue.ID, Identifier: "+1555"})
		wantField(t, "another tenant's queue", err, switchboard.CodeInvalid, "queue_id")
		_, err = db.CreateChannelProfile(ctx, f.tn.ID, switchboard.ChannelProfile{Channel: switchboard.ChannelSMS, Name: "x"})
		wantField(t, "sms without a number", err, switchboard.CodeInvalid, "identifier")
		_, err = db.ChannelProfile(ctx, f.other.ID, web.ID)
		wantCode(t, "another tenant's profile", err, switchboard.CodeNotFound)

		// Templates of a profile.
		tpl, err := db.CreateMessageTemplate(ctx, f.tn.ID, switchboard.MessageTemplate{ProfileID: f.profile.ID, Name: "order_update",
			Body: "Your order {{1}} ships {{2}}"})
		if err != nil || tpl.Language != "en" || tpl.Status != "approved" || tpl.Category != "utility" || len(tpl.UUID) != 36 {
			t.Fatalf("CreateMessageTemplate = %+v, %v", tpl, err)
		}
		_, err = db.CreateMessageTemplate(ctx, f.other.ID, switchboard.MessageTemplate{ProfileID: f.profile.ID, Name: "x", Body: "y"})
		wantField(t, "another tenant's profile", err, switchboard.CodeInvalid, "channel_profile_id")
		if page, err := db.MessageTemplates(ctx, f.tn.ID, f.profile.ID, switchboard.ListOptions{Limit: 10}); err != nil || len(page.Items) != 1 {
			t.Fatalf("MessageTemplates = %+v, %v", page, err)
		}
		if page, _ := db.MessageTemplates(ctx, f.tn.ID, web.ID, switchboard.ListOptions{Limit: 10}); len(page.Items) != 0 {
			t.Fatalf("MessageTemplates(web) = %+v", page)
		}
		up, err := db.UpdateMessageTemplateFunc(ctx, f.tn.ID, tpl.ID, func(m *switchboard.MessageTemplate) error {
			m.Status = "paused"
			return nil
		})
		if err != nil || up.Status != "paused" {
			t.Fatalf("UpdateMessageTemplateFunc = %+v, %v", up, err)
		}
		_, err = db.UpdateMessageTemplateFunc(ctx, f.tn.ID, tpl.ID, func(m *switchboard.MessageTemplate) error {
			m.Category = "spam"
			return nil
		})
		wantField(t, "bad category", err, switchboard.CodeInvalid, "category")
		_, err = db.MessageTemplate(ctx, f.other.ID, tpl.ID)
		wantCode(t, "another tenant's template", err, switchboard.CodeNotFound)
		_, err = db.UpdateMessageTemplateFunc(ctx, f.other.ID, tpl.ID, func(*switchboard.MessageTemplate) error { return nil })
		wantCode(t, "update another tenant's template", err, switchboard.CodeNotFound)
		wantCode(t, "delete another tenant's template", db.DeleteMessageTemplate(ctx, f.other.ID, tpl.ID), switchboard.CodeNotFound)
		_, err = db.UpdateChannelProfileFunc(ctx, f.other.ID, web.ID, func(*switchboard.ChannelProfile) error { return nil })
		wantCode(t, "update another tenant's profile", err, switchboard.CodeNotFound)
		wantCode(t, "delete another tenant's profile", db.DeleteChannelProfile(ctx, f.other.ID, web.ID), switchboard.CodeNotFound)
		// A template message names its template, of the tenant.
		c := mustConversation(t, db, f.tn.ID, switchboard.Conversation{Channel: switchboard.ChannelWhatsApp, Status: switchboard.ConversationQueued,
			Address: "+15557654321", EndUser: switchboard.EndUser{Identifier: "+15557654321"}})
		tm := switchboard.ConversationMessage{ConversationID: c.ID, Direction: switchboard.Outbound, Kind: switchboard.KindTemplate,
			Template: &switchboard.TemplateUse{TemplateID: tpl.ID, Language: "en", Params: map[string]string{"1": "A-17", "2": "today"}}}
		m, _, _, err := db.AddMessage(ctx, f.tn.ID, tm, nil)
		if err != nil {
			t.Fatal(err)
		}
		if stored, err := db.ConversationMessage(ctx, f.tn.ID, m.ID); err != nil || stored.Template == nil || stored.Template.Params["1"] != "A-17" {
			t.Fatalf("template message = %+v, %v", stored, err)
		}
		tm.Template = &switchboard.TemplateUse{TemplateID: tpl.ID + 1000}
		_, _, _, err = db.AddMessage(ctx, f.tn.ID, tm, nil)
		wantField(t, "unknown template", err, switchboard.CodeInvalid, "template.template_id")

		// A profile in use is kept; a template is deleted.
		wantCode(t, "delete a profile with templates", db.DeleteChannelProfile(ctx, f.tn.ID, f.profile.ID), switchboard.CodeConflict)
		if err := db.DeleteMessageTemplate(ctx, f.tn.ID, tpl.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteChannelProfile(ctx, f.tn.ID, f.profile.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteChannelProfile(ctx, f.tn.ID, web.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{"channel_profile.created", "channel_profile.updated", "message_template.created", "message_template.updated",
			"conversation.created", "conversation.queued", "message.queued", "message_template.deleted", "channel_profile.deleted", "channel_profile.deleted"}
		evs := eventsSince(t, db, f.tn.ID, seq)
		if got := eventTypes(evs); !slices.Equal(got, want) {
			t.Fatalf("events = %v, want %v", got, want)
		}
		if strings.Contains(string(evs[0].Payload), "s3cret") {
			t.Fatalf("channel_profile.created leaks the signing secret: %s", evs[0].Payload)
		}
	})
}

func TestConsent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		const number = "+15551234567"
		if out, err := db.OptedOut(ctx, f.tn.ID, number); err != nil || out {
			t.Fatalf("OptedOut with no record = %v, %v", out, err)
		}
		_, err := db.Consent(ctx, f.tn.ID, number)
		wantCode(t, "no record", err, switchboard.CodeNotFound)
		seq := lastSeq(t, db, f.tn.ID)
		stop, err := db.SetConsent(ctx, switchboard.Consent{TenantID: f.tn.ID, Number: number, OptedOut: true,
			Channel: switchboard.ChannelSMS, Source: "keyword", Keyword: "STOP"})
		if err != nil || stop.At.IsZero() {
			t.Fatalf("SetConsent = %+v, %v", stop, err)
		}
		if out, err := db.OptedOut(ctx, f.tn.ID, number); err != nil || !out {
			t.Fatalf("OptedOut after STOP = %v, %v", out, err)
		}
		if out, _ := db.OptedOut(ctx, f.other.ID, number); out {
			t.Fatal("another tenant's number opted out")
		}
		got, err := db.Consent(ctx, f.tn.ID, number)
		if err != nil || got.Keyword != "STOP" || !got.At.Equal(stop.At) || got.Channel != switchboard.ChannelSMS {
			t.Fatalf("Consent = %+v, %v", got, err)
		}
		if _, err := db.SetConsent(ctx, switchboard.Consent{TenantID: f.tn.ID, Number: number, Channel: switchboard.ChannelSMS,
			Source: "keyword", Keyword: "START"}); err != nil {
			t.Fatal(err)
		}
		if out, _ := db.OptedOut(ctx, f.tn.ID, number); out {
			t.Fatal("still opted out after START")
		}
		evs := eventsSince(t, db, f.tn.ID, seq)
		if got := eventTypes(evs); !slices.Equal(got, []string{"consent.opted_out", "consent.opted_in"}) {
			t.Fatalf("events = %v", got)
		}
		var p switchboard.ConsentEventPayload
		if err := json.Unmarshal(evs[0].Payload, &p); err != nil || p.V != 1 || p.Number != number || !p.OptedOut ||
			evs[0].SubjectType != "consent" || evs[0].SubjectID == 0 || evs[1].SubjectID != evs[0].SubjectID {
			t.Fatalf("consent event %+v: %v", evs[0], err)
		}
		_, err = db.SetConsent(ctx, switchboard.Consent{TenantID: f.tn.ID})
		wantField(t, "no number", err, switchboard.CodeInvalid, "number")
	})
}
