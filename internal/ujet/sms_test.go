package ujet

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"switchboard"
)

// smsChatShape is every key of the messaging chat object (spec §3.2) with
// its JSON type.
var smsChatShape = map[string]string{
	"id": "number", "lang": "string", "chat_type": "string", "status": "string", "created_at": "string",
	"queued_at": "string|null", "assigned_at": "string|null", "ends_at": "string|null", "wait_duration": "number",
	"chat_duration": "number", "rating": "number|null", "has_feedback": "boolean", "out_ticket_id": "string|null",
	"out_ticket_url": "string|null", "verified": "boolean", "disconnected_by": "string", "fail_reason": "string",
	"selected_menu": "object|null", "menu_path": "object|null", "agent_info": "object|null", "end_user": "object",
	"photos": "array", "videos": "array", "transfers": "array", "participants": "array", "offer_type": "string|null",
	"offer_events": "array", "answer_type": "string", "outbound_number": "string",
}

// The seed's SMS body is accepted: a messaging chat whose every key has its
// type, the text gone out through the carrier from the outbound number.
func TestSMSSeedExample(t *testing.T) {
	w := newChatWorld(t)
	a := w.ok(t, http.StatusOK, "POST", "sms", `{ "chat_type": "Messaging (SMS)", "end_user_number": "+1 415-555-0100", "outbound_number": "+1 628-555-0199", "message": "lorem ipsum", "ticket_id": "5006x00000XXxxxXXX" }`)
	checkShape(t, "sms chat", a.body, smsChatShape)
	var got SMSChat
	a.decode(t, &got)
	if got.ChatType != "Messaging (SMS)" || got.OutboundNumber != "+16285550199" || got.Status != "queued" ||
		got.OutTicketID == nil || *got.OutTicketID != "5006x00000XXxxxXXX" || got.EndUser.Identifier != "+14155550100" ||
		got.Lang != "en" || got.SelectedMenu == nil || got.SelectedMenu.ID != queueMenuID(w.chatQueue.ID) ||
		got.MenuPath == nil || got.MenuPath.Name != "Chat Support" || got.AgentInfo != nil || len(got.Participants) != 1 {
		t.Errorf("sms chat %s", a.body)
	}
	checkShape(t, "end_user", field(t, a.body, "end_user"), map[string]string{"id": "number", "identifier": "string", "out_contact_id": "string|null"})
	checkShape(t, "participant", mustFirst(t, field(t, a.body, "participants")), map[string]string{"id": "number", "type": "string",
		"status": "string", "chat_id": "number", "user_id": "number|null", "end_user_id": "number|null", "chat_duration": "number",
		"connected_at": "string|null", "ended_at": "string|null", "fail_reason": "string"})
	sent := w.carrier.Sent()
	if len(sent) != 1 || sent[0].From != "+16285550199" || sent[0].To != "+14155550100" || sent[0].Body != "lorem ipsum" {
		t.Errorf("carrier got %+v", sent)
	}
	// The deprecated chat type is answered with its current name, and a
	// second text to a consumer in an open SMS chat is refused.
	a = w.call(t, "POST", "sms", map[string]any{"chat_type": "SMS", "end_user_number": "+14155550100", "outbound_number": w.smsNumber, "message": "again"})
	if a.status != http.StatusBadRequest || a.message(t) != textActiveSession {
		t.Errorf("second SMS: %d %s", a.status, a.body)
	}
}

func mustFirst(t *testing.T, raw json.RawMessage) json.RawMessage {
	t.Helper()
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
		t.Fatalf("not a non-empty list: %s", raw)
	}
	return list[0]
}

// Every documented SMS refusal, with UJET's text, and the agent routing:
// the agent takes the chat and sends the text.
func TestSMSErrorTexts(t *testing.T) {
	w := newChatWorld(t)
	ctx := context.Background()
	if _, err := w.store.SetConsent(ctx, switchboard.Consent{TenantID: w.tenant.ID, Number: "+14155550177", OptedOut: true,
		Channel: switchboard.ChannelSMS, Source: "keyword", Keyword: "STOP"}); err != nil {
		t.Fatal(err)
	}
	base := func(change map[string]any) map[string]any {
		b := map[string]any{"chat_type": "Messaging (API)", "end_user_number": "+14155550100", "outbound_number": w.smsNumber, "message": "hi"}
		for k, v := range change {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		key  string
		want string
	}{
		{"no chat type", base(map[string]any{"chat_type": nil}), "", "chat_type needs to be provided"},
		{"bad chat type", base(map[string]any{"chat_type": "Fax"}), "", "valid chat type needs to be provided"},
		{"no SMS at all", base(nil), "other", "SMS is not enabled"},
		{"no end user number", base(map[string]any{"end_user_number": ""}), "", "end_user_number is required"},
		{"bad end user number", base(map[string]any{"end_user_number": "12"}), "", "end_user_number is invalid"},
		{"no outbound number", base(map[string]any{"outbound_number": nil}), "", "outbound_number is required"},
		{"bad outbound number", base(map[string]any{"outbound_number": "abc"}), "", "outbound_number is invalid"},
		{"not our number", base(map[string]any{"outbound_number": "+16285550122"}), "", "outbound_number is not found"},
		{"number without SMS", base(map[string]any{"outbound_number": w.plainNum}), "", "Outbound SMS is not enabled"},
		{"non-US from a US number", base(map[string]any{"end_user_number": "+442071838750"}), "", "Non-US phone number not allowed"},
		{"no message", base(map[string]any{"message": "  "}), "", "message is required"},
		{"opted out", base(map[string]any{"end_user_number": "+14155550177"}), "", textOptedOut},
		{"unknown agent id", base(map[string]any{"agentId": 999}), "", "Not a valid agent id"},
		{"unknown agent email", base(map[string]any{"agentEmail": "nobody@example.com"}), "", "Not a valid agent email"},
	} {
		slug, key := w.tenant.Slug, w.key
		if tc.key == "other" {
			slug, key = w.other.Slug, w.otherKey
		}
		a := w.do(t, "POST", "sms", slug, key, tc.body)
		if a.status != http.StatusBadRequest || a.message(t) != tc.want {
			t.Errorf("%s: %d %s, want 400 %q", tc.name, a.status, a.body, tc.want)
		}
	}
	if n := len(w.carrier.Sent()); n != 0 {
		t.Errorf("refused SMS reached the carrier %d times", n)
	}

	// Routed to an agent by e-mail: she takes the chat and sends the text.
	a := w.ok(t, http.StatusOK, "POST", "sms", base(map[string]any{"agentEmail": "jane@example.com"}))
	var got SMSChat
	a.decode(t, &got)
	if got.Status != "assigned" || got.AgentInfo == nil || got.AgentInfo.ID != w.agent.ID || got.AgentInfo.Email != "jane@example.com" ||
		got.AgentInfo.AgentNumber != "A-7" || len(got.Participants) != 2 || got.Participants[1].UserID == nil {
		t.Errorf("agent-routed sms chat %s", a.body)
	}
	checkShape(t, "agent_info", field(t, a.body, "agent_info"), map[string]string{"id": "number", "name": "string",
		"first_name": "string", "last_name": "string", "agent_number": "string", "avatar_url": "string|null", "email": "string"})
	msgs, err := w.conv.Messages(ctx, w.tenant.ID, got.ID, 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].AgentID == nil || *msgs[0].AgentID != w.agent.ID || msgs[0].Status != switchboard.ReceiptSent {
		t.Errorf("messages %+v (%v)", msgs, err)
	}
}
