package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// ujetClient calls the UJET dialect with HTTP Basic: the tenant's slug and
// a key printed by switchboard key create.
type ujetClient struct {
	t               *testing.T
	base, slug, key string
}

func (c ujetClient) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.base+"/apps/api/v1/"+path, rd)
	req.SetBasicAuth(c.slug, c.key)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// signedHook is one webhook as a UJET consumer receives it.
type signedHook struct {
	header http.Header
	body   []byte
}

// signedReceiver is a consumer's webhook endpoint on 127.0.0.1.
type signedReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []signedHook
}

func newSignedReceiver(t *testing.T) *signedReceiver {
	r := &signedReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, signedHook{header: req.Header.Clone(), body: b})
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// waitFor returns the hooks once one of each event type has arrived.
func (r *signedReceiver) waitFor(t *testing.T, types ...string) map[string][]signedHook {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r.mu.Lock()
		byType := map[string][]signedHook{}
		for _, h := range r.got {
			var e struct {
				EventType string `json:"event_type"`
			}
			json.Unmarshal(h.body, &e)
			byType[e.EventType] = append(byType[e.EventType], h)
		}
		r.mu.Unlock()
		missing := []string{}
		for _, typ := range types {
			if len(byType[typ]) == 0 {
				missing = append(missing, typ)
			}
		}
		if len(missing) == 0 {
			return byType
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooks %v never arrived; got %v", missing, byType)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// verifyUJETSignature checks a hook as UJET's consumers do: X-Signature
// holds primary=<b64> secondary=<b64>, each base64(HMAC-SHA256(secret,
// X-Signature-Timestamp + raw body)).
func verifyUJETSignature(t *testing.T, h signedHook, primary, secondary string) {
	t.Helper()
	ts := h.header.Get("X-Signature-Timestamp")
	if n, err := strconv.ParseInt(ts, 10, 64); err != nil || time.Since(time.Unix(n, 0)) > time.Minute {
		t.Errorf("X-Signature-Timestamp %q", ts)
	}
	sign := func(secret string) string {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts))
		mac.Write(h.body)
		return base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	want := "primary=" + sign(primary)
	if secondary != "" {
		want += " secondary=" + sign(secondary)
	}
	if got := h.header.Get("X-Signature"); got != want {
		t.Errorf("X-Signature %q, want %q (body %s)", got, want, h.body)
	}
	if h.header.Get("webhook-signature") != "" {
		t.Errorf("a UJET webhook carries the Standard Webhooks signature too")
	}
}

// TestUJETChatsEndToEnd is the chat acceptance case on the whole
// server: a chat runs start → messages (end user and agent) → finish
// through /apps/api/v1 with HTTP Basic, and a consumer subscribed through
// the native API (dialect ujet) receives chat_created, message_received
// (both messages) and chat_ended, each signed with the subscription's
// secret (primary) and, after a rotation, the old one (secondary).
func TestUJETChatsEndToEnd(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			key := newTenantKey(t, db)
			_, base, _ := startServer(t, "--db", db, "--webhook-allow-cidr", "127.0.0.0/8", "--sms-sim-receipt-delay", "-1ms", "--ujet-rate-limit", "0")
			c := client{t: t, base: base, key: key}
			u := ujetClient{t: t, base: base, slug: "acme", key: key}

			recv := newSignedReceiver(t)
			status, hook := c.do("POST", "/v1/webhooks", map[string]any{"url": recv.URL, "dialect": "ujet",
				"event_types": []string{"chat_created", "message_received", "chat_ended"}})
			if status != 201 {
				t.Fatalf("subscribe: %d %v", status, hook)
			}
			oldSecret := hook["secret"].(string)
			status, rotated := c.do("POST", fmt.Sprintf("/v1/webhooks/%v/rotate_secret", hook["id"]), nil)
			if status != 200 {
				t.Fatalf("rotate: %d %v", status, rotated)
			}
			newSecret := rotated["secret"].(string)
			if newSecret == "" || newSecret == oldSecret {
				t.Fatalf("rotated secret %v", rotated)
			}

			status, q := c.do("POST", "/v1/queues", map[string]any{"name": "Chat Support", "extension": "8001", "channel": "chat", "wrap_up_seconds": 0})
			if status != 201 {
				t.Fatalf("queue: %d %v", status, q)
			}
			queueID := int64(q["id"].(float64))
			status, agent := c.do("POST", "/v1/users", map[string]any{"email": "jane@acme.test", "first_name": "Jane", "last_name": "Doe", "extension": "1001"})
			if status != 201 {
				t.Fatalf("agent: %d %v", status, agent)
			}
			agentID := int64(agent["id"].(float64))
			c.do("POST", fmt.Sprintf("/v1/queues/%d/members", queueID), map[string]any{"user_id": agentID})
			if status, p := c.do("POST", fmt.Sprintf("/v1/users/%d/status", agentID), map[string]any{"status": "Available"}); status != 200 {
				t.Fatalf("sign in: %d %v", status, p)
			}
			// The end user: known from an earlier chat, finished.
			status, earlier := c.do("POST", "/v1/conversations", map[string]any{"channel": "web_chat", "queue_id": queueID,
				"end_user": map[string]any{"identifier": "visitor-42", "name": "Vera"}, "text": "earlier"})
			if status != 201 {
				t.Fatalf("earlier chat: %d %v", status, earlier)
			}
			endUserID := int64(earlier["end_user"].(map[string]any)["id"].(float64))
			if status, p := c.do("POST", fmt.Sprintf("/v1/conversations/%v/finish", earlier["id"]), map[string]any{}); status != 200 {
				t.Fatalf("finish earlier: %d %v", status, p)
			}

			// Start: menu_id is the queue's menu id (2 × its id).
			status, body := u.do("POST", "chats", map[string]any{"chat": map[string]any{"menu_id": 2 * queueID, "end_user_id": endUserID, "lang": "en"}})
			if status != 200 {
				t.Fatalf("start: %d %s", status, body)
			}
			var chat struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			}
			json.Unmarshal(body, &chat)
			path := "chats/" + strconv.FormatInt(chat.ID, 10)
			if status, body := u.do("POST", path+"/message", map[string]any{"from_user_id": endUserID, "from_user_type": "end_user",
				"message": map[string]any{"type": "text", "content": map[string]any{"text": "Where is my parcel?"}}}); status != 200 {
				t.Fatalf("end user message: %d %s", status, body)
			}
			if status, body := u.do("POST", path+"/message", map[string]any{"from_user_id": agentID, "from_user_type": "agent",
				"message": map[string]any{"type": "text", "content": "On its way"}}); status != 200 {
				t.Fatalf("agent message: %d %s", status, body)
			}
			// A photo through its presigned upload, posted to this server
			// without credentials, then attached and downloaded.
			status, body = u.do("POST", path+"/photos/upload", nil)
			var up struct {
				URL    string            `json:"url"`
				Fields map[string]string `json:"fields"`
			}
			if json.Unmarshal(body, &up); status != 200 || !strings.HasSuffix(up.URL, "/apps/api/v1/chat_uploads") {
				t.Fatalf("presigned upload: %d %s", status, body)
			}
			var form bytes.Buffer
			mw := multipart.NewWriter(&form)
			for k, v := range up.Fields {
				mw.WriteField(k, v)
			}
			fw, _ := mw.CreateFormFile("file", "parcel.jpg")
			photo := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{7}, 300<<10)...)
			fw.Write(photo)
			mw.Close()
			res, err := http.Post(base+"/apps/api/v1/chat_uploads", mw.FormDataContentType(), &form)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusNoContent {
				t.Fatalf("upload: %d", res.StatusCode)
			}
			status, body = u.do("POST", path+"/photos", map[string]any{"photo": []any{map[string]any{"s3_path": up.Fields["key"], "photo_type": "photo"}}})
			var media []struct {
				MediaID int64 `json:"media_id"`
			}
			if json.Unmarshal(body, &media); status != 200 || len(media) != 1 {
				t.Fatalf("attach: %d %s", status, body)
			}
			if status, got := u.do("GET", path+"/media/"+strconv.FormatInt(media[0].MediaID, 10), nil); status != 200 || !bytes.Equal(got, photo) {
				t.Errorf("download: %d, %d bytes of %d", status, len(got), len(photo))
			}

			status, body = u.do("GET", path, nil)
			if status != 200 || !strings.Contains(string(body), `"status":"assigned"`) || !strings.Contains(string(body), `"name":"Jane Doe"`) {
				t.Errorf("chat held by the agent: %d %s", status, body)
			}
			if status, body := u.do("PATCH", path, map[string]any{"finished_by_user_id": endUserID, "chat": map[string]any{"status": "finished"}}); status != 200 ||
				!strings.Contains(string(body), `"status":"finished"`) {
				t.Fatalf("finish: %d %s", status, body)
			}

			byType := recv.waitFor(t, "chat_created", "message_received", "chat_ended")
			for typ, hooks := range byType {
				for _, h := range hooks {
					verifyUJETSignature(t, h, newSecret, oldSecret)
					var e struct {
						ChatID int64 `json:"chat_id"`
					}
					json.Unmarshal(h.body, &e)
					if typ != "" && e.ChatID != chat.ID && e.ChatID != int64(earlier["id"].(float64)) {
						t.Errorf("%s for chat %d: %s", typ, e.ChatID, h.body)
					}
				}
			}
			// Both of this chat's messages reached the consumer, in words.
			deadline := time.Now().Add(10 * time.Second)
			for {
				msgs := recv.waitFor(t, "message_received")["message_received"]
				texts := []string{}
				for _, h := range msgs {
					var e struct {
						ChatID  int64 `json:"chat_id"`
						Message struct {
							SenderType string `json:"sender_type"`
							Content    struct {
								Text string `json:"text"`
							} `json:"content"`
						} `json:"message"`
					}
					json.Unmarshal(h.body, &e)
					if e.ChatID == chat.ID {
						texts = append(texts, e.Message.SenderType+":"+e.Message.Content.Text)
					}
				}
				joined := strings.Join(texts, "|")
				if strings.Contains(joined, "end_user:Where is my parcel?") && strings.Contains(joined, "agent:On its way") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("message_received for chat %d: %v", chat.ID, texts)
				}
				time.Sleep(20 * time.Millisecond)
			}
			var ended struct {
				Chat struct {
					ID     int64  `json:"id"`
					Status string `json:"status"`
				} `json:"chat"`
			}
			for found := false; !found; time.Sleep(20 * time.Millisecond) {
				for _, h := range recv.waitFor(t, "chat_ended")["chat_ended"] {
					json.Unmarshal(h.body, &ended)
					found = found || ended.Chat.ID == chat.ID && ended.Chat.Status == "finished"
				}
				if !found && time.Now().After(deadline) {
					t.Fatalf("no chat_ended with the finished chat %d", chat.ID)
				}
			}
			// Every hook, whatever its event, was signed both ways.
			for _, hooks := range recv.waitFor(t) {
				for _, h := range hooks {
					verifyUJETSignature(t, h, newSecret, oldSecret)
				}
			}
		})
	}
}

// TestUJETSMSEndToEnd: POST /sms on the whole server: each refusal with
// UJET's text, then a text sent from the company's SMS number.
func TestUJETSMSEndToEnd(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db, "--sms-sim-receipt-delay", "-1ms", "--ujet-rate-limit", "0")
	c := client{t: t, base: base, key: key}
	u := ujetClient{t: t, base: base, slug: "acme", key: key}
	body := func(change map[string]any) map[string]any {
		b := map[string]any{"chat_type": "Messaging (API)", "end_user_number": "+1 415-555-0100", "outbound_number": "+1 628-555-0199", "message": "lorem ipsum"}
		for k, v := range change {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	// Before the company has an SMS number.
	if status, b := u.do("POST", "sms", body(nil)); status != 400 || string(b) != `{"message":"SMS is not enabled"}`+"\n" {
		t.Errorf("no SMS number: %d %s", status, b)
	}
	status, q := c.do("POST", "/v1/queues", map[string]any{"name": "Texts", "extension": "8002", "channel": "chat"})
	if status != 201 {
		t.Fatalf("queue: %d %v", status, q)
	}
	for _, n := range []map[string]any{{"number": "+16285550199", "sms_enabled": true, "queue_id": q["id"]}, {"number": "+16285550111"}} {
		if status, p := c.do("POST", "/v1/phone_numbers", n); status != 201 {
			t.Fatalf("number: %d %v", status, p)
		}
	}
	for _, tc := range []struct {
		change map[string]any
		want   string
	}{
		{map[string]any{"chat_type": nil}, "chat_type needs to be provided"},
		{map[string]any{"chat_type": "Voice"}, "valid chat type needs to be provided"},
		{map[string]any{"end_user_number": nil}, "end_user_number is required"},
		{map[string]any{"end_user_number": "1"}, "end_user_number is invalid"},
		{map[string]any{"outbound_number": ""}, "outbound_number is required"},
		{map[string]any{"outbound_number": "x"}, "outbound_number is invalid"},
		{map[string]any{"outbound_number": "+16285550100"}, "outbound_number is not found"},
		{map[string]any{"outbound_number": "+16285550111"}, "Outbound SMS is not enabled"},
		{map[string]any{"end_user_number": "+33142685300"}, "Non-US phone number not allowed"},
		{map[string]any{"message": ""}, "message is required"},
	} {
		status, b := u.do("POST", "sms", body(tc.change))
		var e struct {
			Message string `json:"message"`
		}
		json.Unmarshal(b, &e)
		if status != 400 || e.Message != tc.want {
			t.Errorf("%v: %d %s, want %q", tc.change, status, b, tc.want)
		}
	}
	status, b := u.do("POST", "sms", body(map[string]any{"chat_type": "Messaging (SMS)", "ticket_id": "5006x00000XXxxxXXX"}))
	if status != 200 || !strings.Contains(string(b), `"outbound_number":"+16285550199"`) || !strings.Contains(string(b), `"chat_type":"Messaging (SMS)"`) {
		t.Fatalf("sms: %d %s", status, b)
	}
	if status, b := u.do("POST", "sms", body(nil)); status != 400 || !strings.Contains(string(b), "Consumer is already in an active SMS session.") {
		t.Errorf("second sms: %d %s", status, b)
	}
	status, msgs := c.do("GET", "/v1/messages", nil)
	if status != 200 || !strings.Contains(toJSON(msgs), "lorem ipsum") {
		t.Errorf("the SMS service's record: %d %v", status, msgs)
	}
}
