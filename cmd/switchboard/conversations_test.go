package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// chatScene is a tenant with two queues (Sales, Support), an agent in each
// (Ann, Bob) signed in, a user key for each, and a loopback receiver
// subscribed to the conversation and message events.
type chatScene struct {
	c              client
	sales, support int64
	ann, bob       int64
	annKey, bobKey client
	recv           *receiver
}

func newChatScene(t *testing.T, db string) chatScene {
	t.Helper()
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db, "--webhook-allow-cidr", "127.0.0.0/8", "--sms-sim-receipt-delay", "100ms")
	s := chatScene{c: client{t: t, base: base, key: key}, recv: newReceiver(t)}
	if status, p := s.c.do("POST", "/v1/webhooks", map[string]any{"url": s.recv.URL, "event_types": []string{"conversation.*", "message.*"}}); status != 201 {
		t.Fatalf("subscribe: %d %v", status, p)
	}
	mkQueue := func(name, ext string) int64 {
		status, q := s.c.do("POST", "/v1/queues", map[string]any{"name": name, "extension": ext, "channel": "chat", "wrap_up_seconds": 0})
		if status != 201 {
			t.Fatalf("create queue: %d %v", status, q)
		}
		return int64(q["id"].(float64))
	}
	s.sales, s.support = mkQueue("Sales", "8001"), mkQueue("Support", "8002")
	mkAgent := func(name, ext string, queue int64) (int64, client) {
		status, u := s.c.do("POST", "/v1/users", map[string]any{"email": strings.ToLower(name) + "@acme.test", "first_name": name, "extension": ext})
		if status != 201 {
			t.Fatalf("create agent: %d %v", status, u)
		}
		uid := int64(u["id"].(float64))
		s.c.do("POST", fmt.Sprintf("/v1/queues/%d/members", queue), map[string]any{"user_id": uid})
		if status, p := s.c.do("POST", fmt.Sprintf("/v1/users/%d/status", uid), map[string]any{"status": "Available"}); status != 200 {
			t.Fatalf("sign in: %d %v", status, p)
		}
		status, k := s.c.do("POST", "/v1/api_keys", map[string]any{"name": name, "user_id": uid})
		if status != 201 {
			t.Fatalf("user key: %d %v", status, k)
		}
		return uid, client{t: t, base: base, key: k["secret"].(string)}
	}
	s.ann, s.annKey = mkAgent("Ann", "1001", s.sales)
	s.bob, s.bobKey = mkAgent("Bob", "1002", s.support)
	return s
}

// waitConversation polls the conversation until done says so.
func waitConversation(t *testing.T, c client, id int64, done func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, v := c.do("GET", fmt.Sprintf("/v1/conversations/%d", id), nil)
		if status == 200 && done(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("conversation %d: %d %v", id, status, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func assignedTo(agent int64) func(map[string]any) bool {
	return func(v map[string]any) bool { return v["agent_id"] == float64(agent) && v["status"] == "assigned" }
}

// raw sends a request with a body of any type and returns the status and body.
func raw(t *testing.T, method, url, auth, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// pngBytes is a 1×1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// TestWebChatEndToEnd is the first acceptance case: a web chat is
// started for an end user, queued and offered to an agent with capacity;
// agent and end user exchange text and a photo; the agent transfers it to
// another queue, where another agent finishes it. The transcript, the event
// log and the webhooks are complete and in order.
func TestWebChatEndToEnd(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			s := newChatScene(t, mk(t))
			c := s.c

			status, conv := c.do("POST", "/v1/conversations", map[string]any{"channel": "web_chat", "queue_id": s.sales,
				"end_user": map[string]any{"identifier": "visitor-42", "name": "Vera Visitor"}, "text": "Hello, I need help with my order"})
			if status != 201 || conv["id"] == nil {
				t.Fatalf("start: %d %v", status, conv)
			}
			if st := conv["status"]; st != "queued" && st != "assigned" {
				t.Errorf("a new chat is %v, want queued or later", st)
			}
			id := int64(conv["id"].(float64))
			uuid, _ := conv["uuid"].(string)
			token, _ := conv["token"].(string)
			if uuid == "" || token == "" {
				t.Fatalf("no uuid or end-user token in %v", conv)
			}
			got := waitConversation(t, c, id, assignedTo(s.ann))
			if got["channel"] != "web_chat" || got["queue_id"] != float64(s.sales) {
				t.Errorf("conversation: %v", got)
			}

			// Bob holds nothing here: he may not write.
			if status, p := s.bobKey.do("POST", fmt.Sprintf("/v1/conversations/%d/messages", id), map[string]any{"text": "not mine"}); status != 403 {
				t.Errorf("another agent writes: %d %v", status, p)
			}
			if status, p := s.annKey.do("POST", fmt.Sprintf("/v1/conversations/%d/messages", id), map[string]any{"text": "Hi Vera, Ann here. Which order?"}); status != 201 || p["direction"] != "outbound" {
				t.Fatalf("agent writes: %d %v", status, p)
			}
			waitConversation(t, c, id, func(v map[string]any) bool { return v["status"] == "in_progress" })

			// The end user, through the widget's API, reads the reply, then
			// sends text and a photo.
			chat := client{t: t, base: c.base, key: token}
			status, page := chat.do("GET", "/v1/webchat/conversations/"+uuid+"/messages?after_seq=1", nil)
			if status != 200 || !strings.Contains(toJSON(page), "Which order?") {
				t.Fatalf("end user reads: %d %v", status, page)
			}
			if status, p := (client{t: t, base: c.base, key: "wrong"}).do("GET", "/v1/webchat/conversations/"+uuid+"/messages", nil); status != 401 {
				t.Errorf("a wrong end-user token: %d %v", status, p)
			}
			if status, p := chat.do("POST", "/v1/webchat/conversations/"+uuid+"/messages", map[string]any{"text": "Order 1234, it arrived broken", "client_id": "m-1"}); status != 201 {
				t.Fatalf("end user writes: %d %v", status, p)
			}
			// A retried send with the same client id is the same message.
			chat.do("POST", "/v1/webchat/conversations/"+uuid+"/messages", map[string]any{"text": "Order 1234, it arrived broken", "client_id": "m-1"})
			status, up := chat.do("POST", "/v1/webchat/conversations/"+uuid+"/uploads", map[string]any{"kind": "photo", "content_type": "image/png", "name": "broken.png"})
			uploadURL, _ := up["upload_url"].(string)
			if status != 201 || uploadURL == "" {
				t.Fatalf("upload URL: %d %v", status, up)
			}
			if status, b := raw(t, "PUT", c.base+uploadURL, "", "image/png", pngBytes); status != 200 {
				t.Fatalf("upload: %d %s", status, b)
			}
			if status, b := raw(t, "PUT", c.base+uploadURL, "", "image/png", pngBytes); status < 400 {
				t.Errorf("an upload URL used twice: %d %s", status, b)
			}
			att := up["attachment"].(map[string]any)["id"]
			if status, p := chat.do("POST", "/v1/webchat/conversations/"+uuid+"/messages", map[string]any{"kind": "photo", "attachment_id": att}); status != 201 {
				t.Fatalf("end user sends the photo: %d %v", status, p)
			}
			status, body := raw(t, "GET", fmt.Sprintf("%s/v1/attachments/%v/content", c.base, att), s.annKey.key, "", nil)
			if status != 200 || !bytes.Equal(body, pngBytes) {
				t.Errorf("the agent downloads the photo: %d, %d bytes", status, len(body))
			}

			// Ann sends it to Support, where Bob takes it and finishes it.
			if status, p := s.annKey.do("POST", fmt.Sprintf("/v1/conversations/%d/transfer", id), map[string]any{"queue_id": s.support}); status != 200 {
				t.Fatalf("transfer: %d %v", status, p)
			}
			waitConversation(t, c, id, assignedTo(s.bob))
			if status, p := s.annKey.do("POST", fmt.Sprintf("/v1/conversations/%d/messages", id), map[string]any{"text": "still me"}); status != 403 {
				t.Errorf("the agent who transferred it writes: %d %v", status, p)
			}
			if status, p := s.bobKey.do("POST", fmt.Sprintf("/v1/conversations/%d/messages", id), map[string]any{"text": "Bob from Support: a replacement is on its way."}); status != 201 {
				t.Fatalf("second agent writes: %d %v", status, p)
			}
			if status, p := s.bobKey.do("POST", fmt.Sprintf("/v1/conversations/%d/finish", id), map[string]any{"reason": "resolved"}); status != 200 || p["status"] != "finished" {
				t.Fatalf("finish: %d %v", status, p)
			}
			if status, p := chat.do("POST", "/v1/webchat/conversations/"+uuid+"/messages", map[string]any{"text": "thanks!"}); status != 409 {
				t.Errorf("writing to a finished chat: %d %v", status, p)
			}

			// The transcript: numbered without gaps, in order, with authors.
			status, tr := c.do("GET", fmt.Sprintf("/v1/conversations/%d/messages", id), nil)
			if status != 200 {
				t.Fatalf("transcript: %d %v", status, tr)
			}
			var lines []string
			for i, it := range items(tr) {
				m := it.(map[string]any)
				if m["seq"] != float64(i+1) {
					t.Errorf("message %d has seq %v", i+1, m["seq"])
				}
				if m["kind"] == "activity" || m["kind"] == "note" {
					continue
				}
				lines = append(lines, fmt.Sprintf("%v %v %v", m["direction"], m["kind"], m["text"]))
			}
			want := []string{
				"inbound text Hello, I need help with my order",
				"outbound text Hi Vera, Ann here. Which order?",
				"inbound text Order 1234, it arrived broken",
				"inbound photo ",
				"outbound text Bob from Support: a replacement is on its way.",
			}
			if !slices.Equal(lines, want) {
				t.Errorf("transcript:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
			}

			// The event log holds the lifecycle in order; the webhooks carry
			// every one of those events, once each.
			lifecycle := []string{"conversation.created", "conversation.queued", "conversation.assigned", "conversation.in_progress",
				"conversation.transferred", "conversation.assigned", "conversation.finished"}
			var logTypes []string
			var logSeqs []int64
			status, evs := c.do("GET", "/v1/events?limit=1000", nil)
			if status != 200 {
				t.Fatalf("events: %d %v", status, evs)
			}
			for _, it := range items(evs) {
				e := it.(map[string]any)
				typ := e["type"].(string)
				if strings.HasPrefix(typ, "conversation.") || strings.HasPrefix(typ, "message.") {
					logTypes = append(logTypes, typ)
					logSeqs = append(logSeqs, int64(e["seq"].(float64)))
				}
			}
			if !isSubsequence(lifecycle, logTypes) {
				t.Errorf("event log %v lacks the lifecycle %v in order", logTypes, lifecycle)
			}
			if n := count(logTypes, "message.received"); n != 3 {
				t.Errorf("%d message.received events, want 3 (text, text, photo): %v", n, logTypes)
			}
			bodies := s.recv.wait(t, len(logTypes))
			time.Sleep(300 * time.Millisecond)
			bodies = s.recv.wait(t, len(logTypes))
			var hookSeqs []int64
			hookTypes := map[int64]string{}
			for _, b := range bodies {
				var p struct {
					Type string `json:"type"`
					Seq  int64  `json:"seq"`
				}
				if err := json.Unmarshal(b, &p); err != nil {
					t.Fatalf("webhook body %s: %v", b, err)
				}
				hookSeqs = append(hookSeqs, p.Seq)
				hookTypes[p.Seq] = p.Type
			}
			sort.Slice(hookSeqs, func(i, j int) bool { return hookSeqs[i] < hookSeqs[j] })
			if !slices.Equal(hookSeqs, logSeqs) {
				t.Errorf("webhook seqs %v, event log seqs %v", hookSeqs, logSeqs)
			}
			for i, seq := range logSeqs {
				if hookTypes[seq] != logTypes[i] {
					t.Errorf("webhook of seq %d is %q, the log says %q", seq, hookTypes[seq], logTypes[i])
				}
			}

			// Records: searchable and exportable.
			if status, p := c.do("GET", "/v1/conversations?q=replacement", nil); status != 200 || len(items(p)) != 1 {
				t.Errorf("search by text: %d %v", status, p)
			}
			status, csv := raw(t, "GET", c.base+"/v1/conversations/export?format=csv", c.key, "", nil)
			if status != 200 || !strings.Contains(string(csv), "it arrived broken") || !strings.Contains(string(csv), "Bob from Support") {
				t.Errorf("CSV export: %d %s", status, csv)
			}
		})
	}
}

// TestChatCapacity checks that an agent with max_chats 3 is offered three
// chats and no fourth, which waits until one of the three ends.
func TestChatCapacity(t *testing.T) {
	s := newChatScene(t, sqlstoretest.SQLiteURL(t))
	var ids []int64
	for i := range 4 {
		status, conv := s.c.do("POST", "/v1/conversations", map[string]any{"channel": "web_chat", "queue_id": s.sales,
			"end_user": map[string]any{"identifier": fmt.Sprintf("visitor-%d", i), "name": "V"}, "text": "hi"})
		if status != 201 {
			t.Fatalf("start %d: %d %v", i, status, conv)
		}
		ids = append(ids, int64(conv["id"].(float64)))
	}
	for _, id := range ids[:3] {
		waitConversation(t, s.c, id, assignedTo(s.ann))
	}
	time.Sleep(300 * time.Millisecond)
	if _, v := s.c.do("GET", fmt.Sprintf("/v1/conversations/%d", ids[3]), nil); v["status"] != "queued" || v["agent_id"] != nil {
		t.Fatalf("the fourth chat: %v", v)
	}
	if status, p := s.c.do("GET", fmt.Sprintf("/v1/queues/%d/metrics", s.sales), nil); status != 200 ||
		p["live"].(map[string]any)["chats_waiting"] != float64(1) || p["live"].(map[string]any)["chats_active"] != float64(3) {
		t.Errorf("queue live view: %d %v", status, p)
	}
	if status, p := s.annKey.do("POST", fmt.Sprintf("/v1/conversations/%d/finish", ids[0]), nil); status != 200 {
		t.Fatalf("finish: %d %v", status, p)
	}
	waitConversation(t, s.c, ids[3], assignedTo(s.ann))
}

// TestSMSThread is the second acceptance case: an inbound SMS opens
// a conversation, the agent replies, the receipt moves the reply to
// delivered, and STOP withdraws consent, so that the SMS API and the dialer
// both refuse the number.
func TestSMSThread(t *testing.T) {
	s := newChatScene(t, sqlstoretest.SQLiteURL(t))
	c := s.c
	const did, customer = "+15557770000", "+15551230000"
	if status, p := c.do("POST", "/v1/phone_numbers", map[string]any{"number": did, "sms_enabled": true, "queue_id": s.sales}); status != 201 {
		t.Fatalf("number: %d %v", status, p)
	}
	if status, p := c.do("POST", "/v1/messages/inbound", map[string]any{"from": customer, "to": did, "message": "Is my appointment tomorrow?", "provider_id": "gw-1"}); status != 201 {
		t.Fatalf("inbound: %d %v", status, p)
	}
	status, list := c.do("GET", "/v1/conversations?channel=sms", nil)
	if status != 200 || len(items(list)) != 1 {
		t.Fatalf("sms conversations: %d %v", status, list)
	}
	id := int64(items(list)[0].(map[string]any)["id"].(float64))
	waitConversation(t, c, id, assignedTo(s.ann))
	status, reply := s.annKey.do("POST", fmt.Sprintf("/v1/conversations/%d/messages", id), map[string]any{"text": "Yes, at 10:00."})
	if status != 201 {
		t.Fatalf("reply: %d %v", status, reply)
	}
	// The simulated carrier reports the reply delivered.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, tr := c.do("GET", fmt.Sprintf("/v1/conversations/%d/messages", id), nil)
		last := items(tr)[len(items(tr))-1].(map[string]any)
		if last["text"] == "Yes, at 10:00." && last["status"] == "delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reply was not reported delivered: %v", tr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The customer's next text continues the same conversation.
	c.do("POST", "/v1/messages/inbound", map[string]any{"from": customer, "to": did, "message": "Great, thanks", "provider_id": "gw-2"})
	if _, list := c.do("GET", "/v1/conversations?channel=sms", nil); len(items(list)) != 1 {
		t.Errorf("a second text opened another conversation: %v", list)
	}

	// STOP: nothing more may be sent to the number, through any route.
	c.do("POST", "/v1/messages/inbound", map[string]any{"from": customer, "to": did, "message": " stop ", "provider_id": "gw-3"})
	status, refused := c.do("POST", "/v1/messages", map[string]any{"from": did, "to": customer, "message": "One more thing"})
	if status < 400 || status > 499 || !strings.Contains(strings.ToLower(toJSON(refused)), "consent") {
		t.Errorf("SMS to a number that texted STOP: %d %v", status, refused)
	}
	if status, p := s.annKey.do("POST", fmt.Sprintf("/v1/conversations/%d/messages", id), map[string]any{"text": "Are you there?"}); status < 400 || !strings.Contains(strings.ToLower(toJSON(p)), "consent") {
		t.Errorf("a conversation reply to a number that texted STOP: %d %v", status, p)
	}
	// The dialer refuses it too: the lead is blocked on consent in the
	// ledger, never dialled.
	status, camp := c.do("POST", "/v1/campaigns", map[string]any{"name": "Reminders", "mode": "progressive", "queue_id": s.sales,
		"max_redials": 0, "schedule": map[string]any{"from": "00:00", "to": "24:00"}})
	if status != 201 {
		t.Fatalf("campaign: %d %v", status, camp)
	}
	cid := int64(camp["id"].(float64))
	if status, p := c.do("POST", fmt.Sprintf("/v1/campaigns/%d/leads", cid), []map[string]any{{"name": "Carl", "phone_number": customer}}); status >= 300 {
		t.Fatalf("lead: %d %v", status, p)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		status, p := c.do("POST", fmt.Sprintf("/v1/campaigns/%d/start", cid), nil)
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("start campaign: %d %v", status, p)
		}
		time.Sleep(100 * time.Millisecond) // the import may still run
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		_, led := c.do("GET", fmt.Sprintf("/v1/campaigns/%d/ledger", cid), nil)
		if rows := items(led); len(rows) > 0 {
			row := rows[0].(map[string]any)
			checks, _ := row["checks"].(map[string]any)
			if row["outcome"] != "blocked" || checks["consent"] != "blocked" {
				t.Errorf("ledger row for a number that texted STOP: %v", row)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dialer never considered the lead")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// START gives consent back.
	c.do("POST", "/v1/messages/inbound", map[string]any{"from": customer, "to": did, "message": "START", "provider_id": "gw-4"})
	if status, p := c.do("POST", "/v1/messages", map[string]any{"from": did, "to": customer, "message": "Welcome back"}); status != 201 {
		t.Errorf("SMS after START: %d %v", status, p)
	}
}

// items is a native list's items.
func items(page map[string]any) []any {
	v, _ := page["items"].([]any)
	return v
}

func isSubsequence(want, in []string) bool {
	i := 0
	for _, x := range in {
		if i < len(want) && x == want[i] {
			i++
		}
	}
	return i == len(want)
}

func count(in []string, x string) int {
	n := 0
	for _, y := range in {
		if y == x {
			n++
		}
	}
	return n
}

// TestSimulatedChats starts scripted chatting end users through the
// simulator's route: in a queue nobody staffs they write, wait, and abandon.
func TestSimulatedChats(t *testing.T) {
	s := newChatScene(t, sqlstoretest.SQLiteURL(t))
	_, q := s.c.do("POST", "/v1/queues", map[string]any{"name": "Nobody", "extension": "8009", "channel": "chat"})
	qid := q["id"].(float64)
	if status, p := s.c.do("POST", "/v1/sim/chats", map[string]any{"queue_id": qid, "count": 2, "messages": 2, "gap_seconds": 0.1, "abandon_seconds": 1}); status != 202 {
		t.Fatalf("sim chats: %d %v", status, p)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, list := s.c.do("GET", fmt.Sprintf("/v1/conversations?queue_id=%v&status=abandoned", qid), nil)
		if len(items(list)) == 2 {
			break
		}
		if time.Now().After(deadline) {
			_, all := s.c.do("GET", fmt.Sprintf("/v1/conversations?queue_id=%v", qid), nil)
			t.Fatalf("simulated end users did not abandon: %v", all)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
