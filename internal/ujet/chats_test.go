package ujet

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"switchboard"
)

// chatShape is every key of the chat platform's chat object (spec §3.2)
// with its JSON type.
var chatShape = map[string]string{
	"id": "number", "status": "string", "status_text": "string", "features": "array", "created_at": "string",
	"ends_at": "string|null", "timeout_at": "string|null", "agent": "object|null", "virtual_agent": "object|null",
	"all_agents": "array", "all_virtual_agents": "array", "lang": "string", "menus": "array", "end_user": "object",
}

// startChat starts a chat for the world's end user in the chat queue.
func (w *chatWorld) startChat(t *testing.T) Chat {
	t.Helper()
	a := w.ok(t, http.StatusOK, "POST", "chats", map[string]any{"chat": map[string]any{
		"menu_id": queueMenuID(w.chatQueue.ID), "end_user_id": w.endUser.ID, "lang": "en"}})
	var c Chat
	a.decode(t, &c)
	return c
}

// A chat runs start → messages (end user and agent) → finish through the
// seed's bodies, each answer checked key by key and type by type.
func TestChatLifecycle(t *testing.T) {
	w := newChatWorld(t)
	ctx := context.Background()
	// The seed's start body, with its values: menu_id and end_user_id as
	// strings of digits, a context and a transcript.
	a := w.ok(t, http.StatusOK, "POST", "chats", `{ "chat": { "menu_id": "`+itoa(queueMenuID(w.chatQueue.ID))+`", "end_user_id": "`+
		itoa(w.endUser.ID)+`", "lang": "en", "email": "pat@example.com", "context": {"value": {"plan": "gold"}}, "transcript": [{"from": "end_user", "text": "Hi bot"}, {"from": "virtual_agent", "text": "Hello, human coming"}] } }`)
	checkShape(t, "chat", a.body, chatShape)
	checkShape(t, "chat.end_user", field(t, a.body, "end_user"), map[string]string{"id": "number", "identifier": "string"})
	checkShape(t, "chat.menus[0]", mustFirst(t, field(t, a.body, "menus")), map[string]string{"id": "number", "name": "string"})
	var c Chat
	a.decode(t, &c)
	if c.Status != "queued" || c.EndUser.ID != w.endUser.ID || c.Lang != "en" || len(c.Menus) != 1 || c.Menus[0].Name != "Chat Support" ||
		c.Agent != nil || c.EndsAt != nil {
		t.Errorf("started chat %s", a.body)
	}
	cv, err := w.conv.Conversation(ctx, w.tenant.ID, c.ID)
	if err != nil || cv.Channel != switchboard.ChannelWebChat || cv.Context.Unsigned["plan"] != "gold" || cv.EndUser.Email != "pat@example.com" ||
		cv.ProfileID == nil || *cv.ProfileID != w.web.ID || cv.LastSeq != 2 {
		t.Errorf("stored conversation %+v (%v)", cv, err)
	}

	// The end user writes ({"text": …}), the agent answers (a plain string,
	// as a public Python client sends it) and so takes the chat.
	a = w.ok(t, http.StatusOK, "POST", "chats/"+itoa(c.ID)+"/message", map[string]any{"from_user_id": w.endUser.ID,
		"message": map[string]any{"type": "text", "content": map[string]any{"text": "My order is late"}}})
	checkShape(t, "message", a.body, map[string]string{"id": "number", "chat_id": "number", "from_user_id": "number|null",
		"sender_type": "string", "type": "string", "content": "object", "created_at": "string"})
	a = w.ok(t, http.StatusOK, "POST", "chats/"+itoa(c.ID)+"/message", `{"from_user_id": "`+itoa(w.agent.ID)+`", "from_user_type": "agent", "message": {"type": "text", "content": "Let me check"}}`)
	var m ChatMessageOut
	a.decode(t, &m)
	if m.SenderType != "agent" || m.FromUserID == nil || *m.FromUserID != w.agent.ID || m.Content.Text != "Let me check" {
		t.Errorf("agent message %s", a.body)
	}
	a = w.ok(t, http.StatusOK, "GET", "chats/"+itoa(c.ID), nil)
	a.decode(t, &c)
	if c.Status != "assigned" || c.Agent == nil || c.Agent.ID != w.agent.ID || c.Agent.Name != "Jane Doe" || c.Agent.Status != "connected" ||
		len(c.AllAgents) != 1 {
		t.Errorf("chat held by the agent %s", a.body)
	}
	checkShape(t, "chat.agent", field(t, a.body, "agent"), map[string]string{"id": "number", "name": "string", "first_name": "string",
		"avatar_url": "string|null", "status": "string"})
	msgs, err := w.conv.Messages(ctx, w.tenant.ID, c.ID, 0, 10)
	if err != nil || len(msgs) != 4 || msgs[2].Direction != switchboard.Inbound || msgs[3].AgentID == nil {
		t.Errorf("transcript %+v (%v)", msgs, err)
	}

	// Customer flags (the seed's repeat_customers spelling) and custom data.
	a = w.ok(t, http.StatusOK, "PATCH", "chats/"+itoa(c.ID)+"/customer_flag", `{ "verified_customer": "true", "bad_actor": false, "repeat_customers": true }`)
	if got := string(a.body); got != `{"verified_customer":true,"bad_actor":false,"repeat_customer":true}` {
		t.Errorf("flags %s", got)
	}
	w.ok(t, http.StatusOK, "POST", "chats/"+itoa(c.ID)+"/custom_data", `{ "signed": false, "data": { "reserved_verified_customer": { "label": "LABEL 1", "value": false }, "reserved_bad_actor": { "label": "LABEL 2", "value": true }, "field1": { "label": "LABEL 4", "value": "dummy1" } } }`)
	a = w.ok(t, http.StatusOK, "GET", "chats/"+itoa(c.ID)+"/customer_flag", nil)
	if got := string(a.body); got != `{"verified_customer":false,"bad_actor":true,"repeat_customer":true}` {
		t.Errorf("flags after custom data %s", got)
	}
	signed := func(secret string, exp time.Time) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"custom_data": map[string]any{
			"reserved_verified_customer": map[string]any{"value": true}, "field2": map[string]any{"value": "dummy222"}},
			"exp": exp.Unix(), "iat": time.Now().Unix()}).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	w.ok(t, http.StatusOK, "POST", "chats/"+itoa(c.ID)+"/custom_data", map[string]any{"signed": true, "signed_data": signed(webSecret, time.Now().Add(time.Hour))})
	for _, bad := range []string{signed("not-the-secret", time.Now().Add(time.Hour)), signed(webSecret, time.Now().Add(-time.Hour)), "garbage"} {
		if a := w.call(t, "POST", "chats/"+itoa(c.ID)+"/custom_data", map[string]any{"signed": true, "signed_data": bad}); a.status != http.StatusBadRequest ||
			!strings.HasPrefix(a.message(t), "signed_data ") {
			t.Errorf("bad signed data: %d %s", a.status, a.body)
		}
	}
	if a := w.call(t, "POST", "chats/"+itoa(c.ID)+"/custom_data", `{"signed": true}`); a.status != 400 || a.message(t) != "param is missing or the value is empty: signed_data" {
		t.Errorf("signed without data: %d %s", a.status, a.body)
	}
	cv, _ = w.conv.Conversation(ctx, w.tenant.ID, c.ID)
	if cd, _ := cv.Context.Signed["custom_data"].(map[string]any); cd == nil || cv.Context.Unsigned["field1"] == nil || !hasFlag(&cv, flagVerified) {
		t.Errorf("context after custom data %+v, flags %v", cv.Context, cv.Flags)
	}

	// Mid-session end user: 202 accepted; the phone is set once.
	a = w.ok(t, http.StatusAccepted, "POST", "chats/"+itoa(c.ID)+"/end_user", `{ "identifier": "user-42", "name": "Pat Smith", "email": "pat@smith.example", "phone": "+14155550123" }`)
	if string(a.body) != `{"message":"accepted"}` {
		t.Errorf("end_user answer %s", a.body)
	}
	w.ok(t, http.StatusAccepted, "POST", "chats/"+itoa(c.ID)+"/end_user", map[string]any{"identifier": "user-42", "phone": "+14155550999"})
	if u, _ := w.store.EndUser(ctx, w.tenant.ID, w.endUser.ID); u.Name != "Pat Smith" || u.Phone != "+14155550123" {
		t.Errorf("end user %+v", u)
	}
	if a := w.call(t, "POST", "chats/"+itoa(c.ID)+"/end_user", `{"name": "x"}`); a.status != 400 || a.message(t) != "param is missing or the value is empty: identifier" {
		t.Errorf("end_user without identifier: %d %s", a.status, a.body)
	}
	if a := w.call(t, "PATCH", "chats/"+itoa(c.ID)+"/resume", nil); a.status != 400 || a.message(t) != "This chat is not in dismissed state." {
		t.Errorf("resume of an active chat: %d %s", a.status, a.body)
	}

	// The seed's update body finishes it, by the end user.
	a = w.ok(t, http.StatusOK, "PATCH", "chats/"+itoa(c.ID), `{ "finished_by_user_id": "`+itoa(w.endUser.ID)+`", "chat": { "status": "finished" } }`)
	a.decode(t, &c)
	if c.Status != "finished" || c.EndsAt == nil || c.Agent != nil || len(c.AllAgents) != 1 || c.AllAgents[0].Status != "finished" {
		t.Errorf("finished chat %s", a.body)
	}
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/end_user", `{"identifier": "user-42"}`},
		{"PATCH", "", `{"chat": {"status": "finished"}}`},
		{"POST", "/message", `{"message": {"type": "text", "content": "late"}}`},
		{"POST", "/escalations", `{"reason": "x"}`},
	} {
		if a := w.call(t, tc.method, "chats/"+itoa(c.ID)+tc.path, tc.body); a.status != 400 || a.message(t) != "Chat is already ended" {
			t.Errorf("%s %s on an ended chat: %d %s", tc.method, tc.path, a.status, a.body)
		}
	}

	// The list: newest first, UJET's headers; another company sees none.
	c2 := w.startChat(t)
	a = w.ok(t, http.StatusOK, "GET", "chats?per=1", nil)
	var list []Chat
	a.decode(t, &list)
	if len(list) != 1 || list[0].ID != c2.ID || a.header.Get("Total") != "2" || a.header.Get("Per-Page") != "1" ||
		!strings.Contains(a.header.Get("Link"), `rel="next"`) {
		t.Errorf("list %s headers %v", a.body, a.header)
	}
	if a := w.do(t, "GET", "chats/"+itoa(c.ID), w.other.Slug, w.otherKey, nil); a.status != 404 || a.message(t) != "Not Found" {
		t.Errorf("another company's chat: %d %s", a.status, a.body)
	}
	if a := w.do(t, "GET", "chats", w.other.Slug, w.otherKey, nil); a.status != 200 || string(a.body) != "[]" {
		t.Errorf("another company's list: %d %s", a.status, a.body)
	}
}

// Start refusals with UJET's texts.
func TestChatStartErrors(t *testing.T) {
	w := newChatWorld(t)
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"no chat", `{}`, "param is missing or the value is empty: chat"},
		{"no menu", map[string]any{"chat": map[string]any{"end_user_id": w.endUser.ID}}, "menu_id is required"},
		{"unknown menu", map[string]any{"chat": map[string]any{"menu_id": 9999, "end_user_id": w.endUser.ID}}, "menu_id 9999 is not found"},
		{"voice menu", map[string]any{"chat": map[string]any{"menu_id": queueMenuID(w.voiceQueue.ID), "end_user_id": w.endUser.ID}}, "Only chat menu IDs are permitted"},
		{"no end user", map[string]any{"chat": map[string]any{"menu_id": queueMenuID(w.chatQueue.ID)}}, "end_user_id is required"},
		{"unknown end user", map[string]any{"chat": map[string]any{"menu_id": queueMenuID(w.chatQueue.ID), "end_user_id": 777}}, "end_user_id 777 is not found"},
		{"unknown language", map[string]any{"chat": map[string]any{"menu_id": queueMenuID(w.chatQueue.ID), "end_user_id": w.endUser.ID, "lang": "xx-!!"}}, "Language 'xx-!!' is not found"},
		{"language not served", map[string]any{"chat": map[string]any{"menu_id": queueMenuID(w.chatQueue.ID), "end_user_id": w.endUser.ID, "lang": "fr"}}, "Language 'fr' is not available"},
	} {
		if a := w.call(t, "POST", "chats", tc.body); a.status != 400 || a.message(t) != tc.want {
			t.Errorf("%s: %d %s, want 400 %q", tc.name, a.status, a.body, tc.want)
		}
	}
	c := w.startChat(t)
	if a := w.call(t, "POST", "chats", map[string]any{"chat": map[string]any{"menu_id": queueMenuID(w.chatQueue.ID), "end_user_id": w.endUser.ID}}); a.status != 400 ||
		a.message(t) != "End user is already in an active chat" {
		t.Errorf("second chat of the end user: %d %s", a.status, a.body)
	}

	// After hours (a holiday today, closed all day): no new chat, no
	// resume of a dismissed one.
	ctx := context.Background()
	w.ok(t, http.StatusOK, "POST", "chats/"+itoa(c.ID)+"/message", map[string]any{"from_user_id": w.agent.ID, "from_user_type": "agent",
		"message": map[string]any{"type": "text", "content": "one moment"}})
	if _, err := w.conv.Dismiss(ctx, w.tenant.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	if _, err := w.store.UpdateQueueFunc(ctx, w.tenant.ID, w.chatQueue.ID, func(q *switchboard.Queue) error {
		q.Hours = &switchboard.OperatingHours{Weekly: []switchboard.OpenRange{{Day: int(time.Now().UTC().Weekday()), Open: "00:00", Close: "24:00"}},
			Holidays: []switchboard.Holiday{{Date: today, Name: "Closed"}}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	other, err := w.store.UpsertEndUser(ctx, w.tenant.ID, switchboard.EndUser{Identifier: "user-99"})
	if err != nil {
		t.Fatal(err)
	}
	if a := w.call(t, "POST", "chats", map[string]any{"chat": map[string]any{"menu_id": queueMenuID(w.chatQueue.ID), "end_user_id": other.ID}}); a.status != 400 ||
		a.message(t) != textAfterHoursChat {
		t.Errorf("chat after hours: %d %s", a.status, a.body)
	}
	if a := w.call(t, "PATCH", "chats/"+itoa(c.ID)+"/resume", nil); a.status != 400 || a.message(t) != textAfterHoursChat {
		t.Errorf("resume after hours: %d %s", a.status, a.body)
	}
}

// A dismissed chat resumes; escalations: over capacity offers deflection,
// human_agent keeps waiting, email deflects through PATCH /chats/{id}.
func TestChatEscalationsAndResume(t *testing.T) {
	w := newChatWorld(t)
	ctx := context.Background()
	c := w.startChat(t)
	w.ok(t, http.StatusOK, "POST", "chats/"+itoa(c.ID)+"/message", map[string]any{"from_user_id": w.agent.ID, "from_user_type": "agent", "message": map[string]any{"type": "text", "content": "hello"}})
	if _, err := w.conv.Dismiss(ctx, w.tenant.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	a := w.ok(t, http.StatusOK, "GET", "chats/"+itoa(c.ID), nil)
	if string(field(t, a.body, "status")) != `"dismissed"` {
		t.Errorf("dismissed chat %s", a.body)
	}
	a = w.ok(t, http.StatusOK, "PATCH", "chats/"+itoa(c.ID)+"/resume", nil)
	if string(field(t, a.body, "status")) != `"queued"` {
		t.Errorf("resumed chat %s", a.body)
	}

	// The queue takes one waiting chat: now it is full.
	if _, err := w.store.UpdateQueueFunc(ctx, w.tenant.ID, w.chatQueue.ID, func(q *switchboard.Queue) error { q.MaxLength = 1; return nil }); err != nil {
		t.Fatal(err)
	}
	a = w.ok(t, http.StatusCreated, "POST", "chats/"+itoa(c.ID)+"/escalations", `{ "reason": "wants a human", "force_escalate": "false" }`)
	checkShape(t, "escalation", a.body, map[string]string{"id": "number", "chat_id": "number", "reason": "string", "escalation_type": "string",
		"status": "string", "deflection_channel": "string|null", "force_escalate": "boolean", "created_at": "string", "updated_at": "string"})
	var e EscalationOut
	a.decode(t, &e)
	if e.Kind != "over_capacity" || e.Status != "pending" || e.DeflectionChannel != nil || e.Reason != "wants a human" {
		t.Errorf("over-capacity escalation %s", a.body)
	}
	a = w.ok(t, http.StatusOK, "PATCH", "chats/"+itoa(c.ID)+"/escalations/"+itoa(e.ID), `{ "deflection_channel": "human_agent" }`)
	a.decode(t, &e)
	if e.Status != "escalated" || e.DeflectionChannel == nil || *e.DeflectionChannel != "human_agent" {
		t.Errorf("kept waiting %s", a.body)
	}
	if cv, _ := w.conv.Conversation(ctx, w.tenant.ID, c.ID); cv.Status != switchboard.ConversationQueued || cv.Deflection != switchboard.DeflectKeepWaiting {
		t.Errorf("conversation after human_agent: %s %q", cv.Status, cv.Deflection)
	}
	// Forced, it is a plain hand-over.
	a = w.ok(t, http.StatusCreated, "POST", "chats/"+itoa(c.ID)+"/escalations", map[string]any{"reason": "now", "force_escalate": true})
	var forced EscalationOut
	a.decode(t, &forced)
	if forced.Kind != "virtual_agent" || forced.Status != "escalated" || !forced.ForceEscalate {
		t.Errorf("forced escalation %s", a.body)
	}
	if a := w.call(t, "PATCH", "chats/"+itoa(c.ID)+"/escalations/"+itoa(forced.ID), `{"deflection_channel": "human_agent"}`); a.status != 400 {
		t.Errorf("human_agent on a virtual-agent escalation: %d %s", a.status, a.body)
	}
	if a := w.call(t, "PATCH", "chats/"+itoa(c.ID)+"/escalations/999", `{"deflection_channel": "email"}`); a.status != 404 {
		t.Errorf("unknown escalation: %d %s", a.status, a.body)
	}

	// A second end user's chat finds the queue full: an over_capacity
	// escalation waits for their choice; email deflects the chat.
	other, err := w.store.UpsertEndUser(ctx, w.tenant.ID, switchboard.EndUser{Identifier: "user-43"})
	if err != nil {
		t.Fatal(err)
	}
	a = w.ok(t, http.StatusOK, "POST", "chats", map[string]any{"chat": map[string]any{"menu_id": queueMenuID(w.chatQueue.ID), "end_user_id": other.ID}})
	var c2 Chat
	a.decode(t, &c2)
	escs, err := w.store.Escalations(ctx, w.tenant.ID, c2.ID)
	if err != nil || len(escs) != 1 || escs[0].Kind != switchboard.EscalationOverCapacity || escs[0].Status != switchboard.EscalationPending {
		t.Fatalf("escalations of the chat that found the queue full: %+v (%v)", escs, err)
	}
	a = w.ok(t, http.StatusOK, "PATCH", "chats/"+itoa(c2.ID), `{ "finished_by_user_id": "`+itoa(other.ID)+`", "chat": { "deflection_channel": "email", "status": "", "escalation_id": "`+itoa(escs[0].ID)+`" } }`)
	if string(field(t, a.body, "status")) != `"deflected"` {
		t.Errorf("deflected chat %s", a.body)
	}
	if e, _ := w.store.Escalation(ctx, w.tenant.ID, escs[0].ID); e.Status != switchboard.EscalationDeflected || e.DeflectionChannel != "email" {
		t.Errorf("escalation after email: %+v", e)
	}
	// Without escalation_id the chat's pending escalation takes the choice.
	third, err := w.store.UpsertEndUser(ctx, w.tenant.ID, switchboard.EndUser{Identifier: "user-44"})
	if err != nil {
		t.Fatal(err)
	}
	a = w.ok(t, http.StatusOK, "POST", "chats", map[string]any{"chat": map[string]any{"menu_id": queueMenuID(w.chatQueue.ID), "end_user_id": third.ID}})
	var c3 Chat
	a.decode(t, &c3)
	w.ok(t, http.StatusOK, "PATCH", "chats/"+itoa(c3.ID), `{"chat": {"deflection_channel": "external_link"}}`)
	if escs, _ := w.store.Escalations(ctx, w.tenant.ID, c3.ID); len(escs) != 1 || escs[0].DeflectionChannel != "external_link" ||
		escs[0].Status != switchboard.EscalationDeflected {
		t.Errorf("pending escalation after external_link: %+v", escs)
	}
	if a := w.call(t, "PATCH", "chats/"+itoa(c.ID), `{"chat": {"deflection_channel": "pigeon"}}`); a.status != 400 || a.message(t) != "valid deflection channel needs to be provided" {
		t.Errorf("unknown channel: %d %s", a.status, a.body)
	}
}

var _ = json.Marshal
