package ujet

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/webhook"
)

// The signature is UJET's: base64(HMAC-SHA256(secret, timestamp + body)),
// primary with the current secret, secondary with the previous one.
func TestChatWebhookSignature(t *testing.T) {
	body := []byte(`{"event_type":"chat_created"}`)
	at := time.Unix(1764806400, 0)
	mac := func(secret string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("1764806400"))
		m.Write(body)
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	h := SignatureHeaders([]string{"whsec_new", "whsec_old"}, at, body)
	if got, want := h.Get("X-Signature"), "primary="+mac("whsec_new")+" secondary="+mac("whsec_old"); got != want {
		t.Errorf("X-Signature %q, want %q", got, want)
	}
	if h.Get("X-Signature-Timestamp") != "1764806400" {
		t.Errorf("X-Signature-Timestamp %q", h.Get("X-Signature-Timestamp"))
	}
	if got := SignatureHeaders([]string{"whsec_new"}, at, body).Get("X-Signature"); got != "primary="+mac("whsec_new") {
		t.Errorf("one secret: %q", got)
	}
}

// Each chat event renders as its UJET event with the object it is about;
// agents' notes and events the subscription did not choose are passed over.
func TestChatWebhookBodies(t *testing.T) {
	w := newChatWorld(t)
	ctx := context.Background()
	c := w.startChat(t)
	w.ok(t, http.StatusOK, "POST", "chats/"+itoa(c.ID)+"/message", map[string]any{"message": map[string]any{"type": "text", "content": "hello"}})
	w.ok(t, http.StatusOK, "POST", "chats/"+itoa(c.ID)+"/message", map[string]any{"from_user_id": w.agent.ID, "from_user_type": "agent",
		"message": map[string]any{"type": "text", "content": "hi, Jane here"}})
	if _, err := w.conv.Send(ctx, w.tenant.ID, c.ID, switchboard.ConversationMessage{Direction: switchboard.Outbound, Kind: switchboard.KindNote,
		Text: "internal", AgentID: &w.agent.ID}); err != nil {
		t.Fatal(err)
	}
	w.ok(t, http.StatusCreated, "POST", "chats/"+itoa(c.ID)+"/escalations", map[string]any{"reason": "human please", "force_escalate": true})
	w.ok(t, http.StatusOK, "PATCH", "chats/"+itoa(c.ID), map[string]any{"finished_by_user_id": w.endUser.ID, "chat": map[string]any{"status": "finished"}})

	events, err := w.store.Events(ctx, w.tenant.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{}
	for name := range eventTypes {
		all = append(all, name)
	}
	r := &Renderer{API: w.api}
	hook := switchboard.Webhook{Dialect: Name, DialectTypes: all}
	rendered := map[string][]string{}
	for _, e := range events {
		b, err := r.Render(ctx, hook, e)
		if errors.Is(err, webhook.ErrSkip) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", e.Type, err)
		}
		typ := strings.Trim(string(field(t, b, "event_type")), `"`)
		rendered[typ] = append(rendered[typ], string(b))
		want := map[string]string{"event_type": "string", "timestamp": "string", "chat_id": "number"}
		switch {
		case strings.HasPrefix(typ, "chat_"):
			want["chat"] = "object"
			checkShape(t, typ+".chat", field(t, b, "chat"), chatShape)
		case typ == "message_received":
			want["message"] = "object"
		case strings.HasPrefix(typ, "escalation_"):
			want["escalation"] = "object"
		}
		checkShape(t, typ, b, want)
	}
	if len(rendered["chat_created"]) != 1 || len(rendered["chat_ended"]) != 1 || len(rendered["escalation_created"]) != 1 ||
		len(rendered["chat_connected"]) != 1 {
		t.Errorf("rendered %v", rendered)
	}
	msgs := strings.Join(rendered["message_received"], "\n")
	if len(rendered["message_received"]) != 2 || !strings.Contains(msgs, `"sender_type":"end_user"`) ||
		!strings.Contains(msgs, `"sender_type":"agent","type":"text","content":{"text":"hi, Jane here"}`) || strings.Contains(msgs, "internal") {
		t.Errorf("message_received %s", msgs)
	}
	if !strings.Contains(rendered["chat_ended"][0], `"status":"finished"`) {
		t.Errorf("chat_ended %s", rendered["chat_ended"][0])
	}
	// A subscription to chat_ended alone passes the rest over.
	only := switchboard.Webhook{Dialect: Name, DialectTypes: []string{"chat_ended"}}
	n := 0
	for _, e := range events {
		if _, err := r.Render(ctx, only, e); err == nil {
			n++
		} else if !errors.Is(err, webhook.ErrSkip) {
			t.Fatal(err)
		}
	}
	if n != 1 {
		t.Errorf("chat_ended alone rendered %d events", n)
	}
}

// Every chat and SMS route refuses a request without credentials or with
// another company's slug (401), and a key without the messages scope
// (403); the upload target alone takes none.
func TestChatRoutesAuth(t *testing.T) {
	w := newChatWorld(t)
	ctx := context.Background()
	k, err := w.store.CreateAPIKey(ctx, w.tenant.ID, switchboard.APIKey{Name: "calls only", Scopes: []string{switchboard.ScopeCallsRead}})
	if err != nil {
		t.Fatal(err)
	}
	routes := append(w.api.chatRoutes(), w.api.smsRoutes()...)
	for _, rt := range routes {
		if rt.Public {
			continue
		}
		path := strings.NewReplacer("{id}", "1", "{escalation_id}", "1", "{media_id}", "1").Replace(rt.Path)
		for _, tc := range []struct {
			name, slug, key string
			want            int
		}{
			{"no credentials", "", "", 401},
			{"wrong slug", w.other.Slug, w.key, 401},
			{"revoked-like unknown key", w.tenant.Slug, "sk_nope", 401},
			{"missing scope", w.tenant.Slug, k.Secret, 403},
		} {
			a := w.do(t, rt.Method, path, tc.slug, tc.key, nil)
			if a.status != tc.want || a.message(t) == "" {
				t.Errorf("%s %s (%s): %d %s, want %d", rt.Method, rt.Path, tc.name, a.status, a.body, tc.want)
			}
		}
	}
}
