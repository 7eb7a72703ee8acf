package native

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/blobdir"
	"switchboard/internal/conversation"
	"switchboard/internal/engine"
	"switchboard/internal/sqlstore"
)

// convWorld is the conversation service on a real engine (a virtual clock:
// offers never time out) over the test's store.
type convWorld struct {
	svc *conversation.Service
	eng *engine.Engine
}

func newConversations(t *testing.T, store *sqlstore.DB) *convWorld {
	t.Helper()
	blobs, err := blobdir.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := engine.New(engine.Options{Clock: engine.NewVirtualClock(time.Now()), Log: log})
	svc := conversation.New(conversation.Options{Store: store, Router: eng, Blobs: blobs, Log: log})
	if err := svc.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Close(context.Background())
		eng.Close()
	})
	return &convWorld{svc: svc, eng: eng}
}

// newConvAPI is the test API with a handle on its conversation world.
func newConvAPI(t *testing.T) (*testAPI, *convWorld) {
	t.Helper()
	ta := newTestAPI(t, nil)
	return ta, ta.conv
}

type sseEvent struct {
	id, event, data string
}

// readSSE reads the events of a stream until it ends or stop says so.
func readSSE(t *testing.T, body io.Reader, stop func(sseEvent) bool) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.event != "" {
				out = append(out, cur)
				if stop != nil && stop(cur) {
					return out
				}
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data = line[6:]
		}
	}
	return out
}

func (ta *testAPI) endUser(t *testing.T, method, path, token string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, ta.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// TestConversationFlow drives a web chat through the API with the real
// service and engine: started for its end user, offered to the agent with
// capacity, accepted and answered with the agent's key, the end user reads
// (long poll, SSE) and writes back with a photo, the agent transfers it and
// the tenant finishes it; transcript, lists and export show it all.
func TestConversationFlow(t *testing.T) {
	ta, w := newConvAPI(t)
	ctx := context.Background()
	a := newFixture(t, ta.store, "acme")
	b := newFixture(t, ta.store, "beta")
	q, err := ta.store.Queue(ctx, a.tenant.ID, a.queue)
	if err != nil {
		t.Fatal(err)
	}
	w.eng.SetQueue(q, []switchboard.QueueMember{{QueueID: q.ID, UserID: a.user}})
	w.eng.SetAgent(a.user, "ann")
	w.eng.SetStatus(a.user, switchboard.StatusAvailable, true)
	annKey, err := ta.store.CreateAPIKey(ctx, a.tenant.ID, switchboard.APIKey{Name: "ann", UserID: &a.user})
	if err != nil {
		t.Fatal(err)
	}
	bobKey, err := ta.store.CreateAPIKey(ctx, a.tenant.ID, switchboard.APIKey{Name: "bob", UserID: &a.user2})
	if err != nil {
		t.Fatal(err)
	}

	res := ta.do(t, "POST", "/v1/conversations", a.key, map[string]any{"channel": "web_chat", "queue_id": a.queue,
		"end_user": map[string]any{"identifier": "cust-42", "name": "Carla"}, "text": "first message"})
	if res.status != http.StatusCreated {
		t.Fatalf("start: %d %s", res.status, res.body)
	}
	var started startedConversation
	res.decode(t, &started)
	if started.ID == 0 || started.Token == "" || started.Status == "" {
		t.Fatalf("started %s", res.body)
	}
	path := fmt.Sprintf("/v1/conversations/%d", started.ID)
	if err := w.svc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	var cv switchboard.Conversation
	ta.do(t, "GET", path, a.key, nil).decode(t, &cv)
	if cv.Status != switchboard.ConversationAssigned || cv.AgentID == nil || *cv.AgentID != a.user || cv.Channel != switchboard.ChannelWebChat {
		t.Fatalf("after routing: %+v", cv)
	}
	if res := ta.do(t, "GET", path, b.key, nil); res.status != http.StatusNotFound {
		t.Errorf("another tenant's key: %d", res.status)
	}
	if res := ta.do(t, "GET", path, bobKey.Secret, nil); res.status != http.StatusForbidden {
		t.Errorf("another agent's key: %d %s", res.status, res.body)
	}
	if res := ta.do(t, "POST", path+"/accept", annKey.Secret, nil); res.status != http.StatusOK {
		t.Fatalf("accept: %d %s", res.status, res.body)
	}

	// The end user long-polls; the agent's reply ends the wait.
	polled := make(chan response, 1)
	go func() {
		req, _ := http.NewRequest("GET", ta.url+"/v1/webchat/conversations/"+started.UUID+"/messages?after_seq=1&wait=30", nil)
		req.Header.Set("Authorization", "Bearer "+started.Token)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			polled <- response{}
			return
		}
		defer r.Body.Close()
		body, _ := io.ReadAll(r.Body)
		polled <- response{status: r.StatusCode, header: r.Header, body: body}
	}()
	res = ta.do(t, "POST", path+"/messages", annKey.Secret, map[string]any{"text": "Hi Carla, Ann here"})
	if res.status != http.StatusCreated {
		t.Fatalf("agent writes: %d %s", res.status, res.body)
	}
	var reply switchboard.ConversationMessage
	res.decode(t, &reply)
	if reply.Direction != switchboard.Outbound || reply.AgentID == nil || *reply.AgentID != a.user {
		t.Errorf("agent's message %s", res.body)
	}
	if res := ta.do(t, "POST", path+"/messages", a.key, map[string]any{"text": "internal", "kind": "note"}); res.status != http.StatusCreated {
		t.Fatalf("note: %d %s", res.status, res.body)
	}
	poll := <-polled
	var page webchatMessages
	poll.decode(t, &page)
	if poll.status != 200 || len(page.Items) == 0 || page.Items[0].Text != "Hi Carla, Ann here" || page.Items[0].AgentName != "Ann" {
		t.Fatalf("long poll: %d %s", poll.status, poll.body)
	}
	res = ta.endUser(t, "GET", "/v1/webchat/conversations/"+started.UUID+"/messages?after_seq=0", started.Token, nil)
	res.decode(t, &page)
	for _, m := range page.Items {
		if m.Kind == switchboard.KindNote || strings.Contains(m.Text, "internal") {
			t.Errorf("the end user sees a note: %s", res.body)
		}
	}
	if page.Status != switchboard.ConversationInProgress || page.AgentName != "Ann" {
		t.Errorf("end user's view: %s", res.body)
	}
	if strings.Contains(string(res.body), `"agent_id"`) || strings.Contains(string(res.body), `"queue_id"`) {
		t.Errorf("the end user's view shows internal data: %s", res.body)
	}
	if res := ta.endUser(t, "GET", "/v1/webchat/conversations/"+started.UUID, "wrong", nil); res.status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", res.status)
	}
	if res := ta.endUser(t, "GET", "/v1/webchat/conversations/"+started.UUID, "", nil); res.status != http.StatusUnauthorized {
		t.Errorf("no token: %d", res.status)
	}

	// A photo from the end user.
	res = ta.endUser(t, "POST", "/v1/webchat/conversations/"+started.UUID+"/uploads", started.Token,
		map[string]any{"kind": "photo", "content_type": "image/png", "name": "receipt.png"})
	var slot uploadSlot
	res.decode(t, &slot)
	if res.status != http.StatusCreated || !strings.HasPrefix(slot.UploadURL, "/v1/uploads/") {
		t.Fatalf("upload slot: %d %s", res.status, res.body)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)
	req, _ := http.NewRequest("PUT", ta.url+slot.UploadURL, bytes.NewReader(png))
	req.Header.Set("Content-Type", "image/png")
	up, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	upBody, _ := io.ReadAll(up.Body)
	up.Body.Close()
	if up.StatusCode != 200 || up.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("upload: %d %s", up.StatusCode, upBody)
	}
	res = ta.endUser(t, "POST", "/v1/webchat/conversations/"+started.UUID+"/messages", started.Token,
		map[string]any{"text": "here it is", "kind": "photo", "attachment_id": slot.Attachment.ID, "client_id": "w-1"})
	if res.status != http.StatusCreated {
		t.Fatalf("end user sends the photo: %d %s", res.status, res.body)
	}
	res = ta.do(t, "GET", fmt.Sprintf("/v1/attachments/%d/content", slot.Attachment.ID), annKey.Secret, nil)
	if res.status != 200 || !bytes.Equal(res.body, png) || res.header.Get("Content-Type") != "image/png" || res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("agent reads the photo: %d %q %v", res.status, res.body, res.header)
	}
	if res := ta.do(t, "GET", fmt.Sprintf("/v1/attachments/%d/content", slot.Attachment.ID), b.key, nil); res.status != http.StatusNotFound {
		t.Errorf("another tenant reads the photo: %d", res.status)
	}

	// The transcript, oldest first, with directions and authors.
	var tr messagesBody
	ta.do(t, "GET", path+"/messages", annKey.Secret, nil).decode(t, &tr)
	var texts []string
	for i, m := range tr.Items {
		if m.Seq != int64(i+1) {
			t.Errorf("message %d has seq %d", i, m.Seq)
		}
		if m.Kind != switchboard.KindActivity {
			texts = append(texts, string(m.Direction)+":"+m.Text)
		}
	}
	want := "inbound:first message,outbound:Hi Carla, Ann here,outbound:internal,inbound:here it is"
	if strings.Join(texts, ",") != want {
		t.Errorf("transcript %v, want %s", texts, want)
	}

	// SSE: the whole transcript the end user may see, then the end.
	sreq, _ := http.NewRequest("GET", ta.url+"/v1/webchat/conversations/"+started.UUID+"/events?token="+started.Token, nil)
	sctx, cancel := context.WithTimeout(ctx, time.Minute) // a guard against a hang, not a timing assertion
	defer cancel()
	sres, err := http.DefaultClient.Do(sreq.WithContext(sctx))
	if err != nil {
		t.Fatal(err)
	}
	defer sres.Body.Close()
	if sres.StatusCode != 200 || sres.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("event stream: %d", sres.StatusCode)
	}
	sc := bufio.NewReader(sres.Body)
	first := readSSE(t, sc, func(e sseEvent) bool { return e.event == "message" && strings.Contains(e.data, "here it is") })
	if first[0].event != "status" || !strings.Contains(first[0].data, "in_progress") {
		t.Errorf("stream starts with %+v", first[0])
	}

	// The agent transfers it; the tenant finishes it: the stream says so and ends.
	q2, err := ta.store.CreateQueue(ctx, a.tenant.ID, switchboard.Queue{Name: "Billing"})
	if err != nil {
		t.Fatal(err)
	}
	w.eng.SetQueue(q2, nil)
	if res := ta.do(t, "POST", path+"/transfer", annKey.Secret, map[string]any{"queue_id": q2.ID}); res.status != 200 {
		t.Fatalf("transfer: %d %s", res.status, res.body)
	}
	if res := ta.do(t, "POST", path+"/finish", a.key, map[string]any{"reason": "resolved"}); res.status != 200 {
		t.Fatalf("finish: %d %s", res.status, res.body)
	}
	rest := readSSE(t, sc, nil)
	if len(rest) == 0 || rest[len(rest)-1].event != "status" || !strings.Contains(rest[len(rest)-1].data, "finished") {
		t.Errorf("stream after the end: %+v", rest)
	}
	ta.do(t, "GET", path, a.key, nil).decode(t, &cv)
	if cv.Status != switchboard.ConversationFinished || len(cv.Transfers) != 1 || cv.EndedBy != switchboard.SideSystem {
		t.Errorf("finished conversation %+v", cv)
	}

	// A reconnecting EventSource resumes after Last-Event-ID, and the stream
	// of an ended conversation ends after it.
	rreq, _ := http.NewRequest("GET", ta.url+"/v1/webchat/conversations/"+started.UUID+"/events", nil)
	rreq.Header.Set("Authorization", "Bearer "+started.Token)
	rreq.Header.Set("Last-Event-ID", "2")
	rres, err := http.DefaultClient.Do(rreq.WithContext(sctx))
	if err != nil {
		t.Fatal(err)
	}
	resumed := readSSE(t, rres.Body, nil)
	rres.Body.Close()
	var ids []string
	for _, e := range resumed {
		if e.event == "message" {
			ids = append(ids, e.id)
		}
	}
	if len(ids) == 0 || ids[0] == "1" || ids[0] == "2" || resumed[0].event != "status" || !strings.Contains(resumed[0].data, "finished") {
		t.Errorf("resumed stream: %+v", resumed)
	}

	// Lists: the tenant's by channel; ann's key sees what ann held, bob's nothing.
	var list listBody[switchboard.Conversation]
	ta.do(t, "GET", "/v1/conversations?channel=web_chat&q=here+it", a.key, nil).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != started.ID {
		t.Errorf("list by channel and text: %+v", list.Items)
	}
	ta.do(t, "GET", "/v1/conversations", bobKey.Secret, nil).decode(t, &list)
	if len(list.Items) != 0 {
		t.Errorf("bob's key lists %d conversations", len(list.Items))
	}
	ta.do(t, "GET", "/v1/conversations?channel=sms", a.key, nil).decode(t, &list)
	if len(list.Items) != 0 {
		t.Errorf("sms list holds %+v", list.Items)
	}

	// The export: one CSV row per message, and the same as JSON.
	res = ta.do(t, "GET", "/v1/conversations/export?channel=web_chat", a.key, nil)
	rows, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if err != nil || res.status != 200 || len(rows) < 2 {
		t.Fatalf("CSV export: %d %v %s", res.status, err, res.body)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	found := false
	for _, r := range rows[1:] {
		if r[col["conversation_id"]] == fmt.Sprint(started.ID) && r[col["text"]] == "Hi Carla, Ann here" && r[col["author"]] == "agent" {
			found = true
		}
	}
	if !found {
		t.Errorf("CSV export lacks the agent's message:\n%s", res.body)
	}
	var exported []exportedConversation
	ta.do(t, "GET", "/v1/conversations/export?format=json&channel=web_chat", a.key, nil).decode(t, &exported)
	if len(exported) != 2 || len(exported[0].Messages) < 4 {
		t.Errorf("JSON export: %d conversations", len(exported))
	}
}

// TestConversationConfig covers the configuration routes: tenant keys
// write, user keys are refused, the signing secret is never shown, consent
// is set and read by number, and validation names fields.
func TestConversationConfig(t *testing.T) {
	ta, _ := newConvAPI(t)
	ctx := context.Background()
	a := newFixture(t, ta.store, "acme")
	annKey, err := ta.store.CreateAPIKey(ctx, a.tenant.ID, switchboard.APIKey{Name: "ann", UserID: &a.user})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/v1/canned_replies", "/v1/channel_profiles", "/v1/message_templates"} {
		if res := ta.do(t, "POST", p, annKey.Secret, map[string]any{"name": "x"}); res.status != http.StatusForbidden {
			t.Errorf("user key POST %s: %d %s", p, res.status, res.body)
		}
	}
	if res := ta.do(t, "PUT", "/v1/consents/+14155550100", annKey.Secret, map[string]any{"opted_out": true}); res.status != http.StatusForbidden {
		t.Errorf("user key sets consent: %d", res.status)
	}
	if res := ta.do(t, "GET", "/v1/canned_replies", annKey.Secret, nil); res.status != 200 {
		t.Errorf("user key reads canned replies: %d %s", res.status, res.body)
	}

	res := ta.do(t, "POST", "/v1/channel_profiles", a.key, map[string]any{"channel": "web_chat", "name": "Shop", "queue_id": a.queue,
		"signing_secret": "s3cret"})
	if res.status != 201 || strings.Contains(string(res.body), "s3cret") || !strings.Contains(string(res.body), `"signing_secret_set":true`) {
		t.Fatalf("create profile: %d %s", res.status, res.body)
	}
	var prof channelProfileView
	res.decode(t, &prof)
	res = ta.do(t, "PATCH", fmt.Sprintf("/v1/channel_profiles/%d", prof.ID), a.key, map[string]any{"name": "Shop 2"})
	if res.status != 200 || !strings.Contains(string(res.body), `"signing_secret_set":true`) || !strings.Contains(string(res.body), "Shop 2") {
		t.Fatalf("patch profile keeps the secret: %d %s", res.status, res.body)
	}
	stored, err := ta.store.ChannelProfile(ctx, a.tenant.ID, prof.ID)
	if err != nil || stored.SigningSecret != "s3cret" {
		t.Errorf("stored secret %q %v", stored.SigningSecret, err)
	}

	// A widget starts a chat on the profile, without a key; CORS allows it.
	req, _ := http.NewRequest("OPTIONS", ta.url+"/v1/webchat/"+prof.UUID+"/conversations", nil)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	pre, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pre.Body.Close()
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", pre.StatusCode, pre.Header)
	}
	res = ta.endUser(t, "POST", "/v1/webchat/"+prof.UUID+"/conversations", "", map[string]any{"end_user": map[string]any{"name": "Vic"}, "text": "hi"})
	var ws webchatStarted
	res.decode(t, &ws)
	if res.status != 201 || ws.Token == "" || ws.Conversation.UUID == "" || res.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("widget start: %d %s", res.status, res.body)
	}
	if strings.Contains(string(res.body), `"queue_id"`) || strings.Contains(string(res.body), `"tenant_id"`) {
		t.Errorf("widget start shows internal data: %s", res.body)
	}
	for _, bad := range []string{prof.UUID + "-0", "caf%C3%A9", "not-a-uuid"} {
		if res := ta.endUser(t, "POST", "/v1/webchat/"+bad+"/conversations", "", map[string]any{"text": "hi"}); res.status != http.StatusNotFound {
			t.Errorf("profile %q: %d %s", bad, res.status, res.body)
		}
		if res := ta.endUser(t, "GET", "/v1/webchat/conversations/"+bad, ws.Token, nil); res.status != http.StatusUnauthorized {
			t.Errorf("conversation %q: %d %s", bad, res.status, res.body)
		}
	}
	res = ta.endUser(t, "POST", "/v1/webchat/conversations/"+ws.Conversation.UUID+"/end", ws.Token, nil)
	if res.status != 200 || !strings.Contains(string(res.body), "ended_at") {
		t.Errorf("end: %d %s", res.status, res.body)
	}

	// Consent by number.
	res = ta.do(t, "GET", "/v1/consents/+14155550100", a.key, nil)
	if res.status != 200 || !strings.Contains(string(res.body), `"opted_out":false`) {
		t.Errorf("consent of a number with no record: %d %s", res.status, res.body)
	}
	if res := ta.do(t, "PUT", "/v1/consents/+14155550100", a.key, map[string]any{"opted_out": true}); res.status != 200 {
		t.Fatalf("set consent: %d %s", res.status, res.body)
	}
	if out, err := ta.store.OptedOut(ctx, a.tenant.ID, "+14155550100"); err != nil || !out {
		t.Errorf("opted out %v %v", out, err)
	}
	if res := ta.do(t, "GET", "/v1/consents/not-a-number", a.key, nil); res.status != 422 || res.errorBody(t).Fields["number"] == "" {
		t.Errorf("bad number: %d %s", res.status, res.body)
	}

	for _, tt := range []struct {
		method, path string
		body         any
		status       int
		fields       []string
	}{
		{"POST", "/v1/conversations", map[string]any{}, 422, []string{"channel", "queue_id", "end_user.identifier", "text"}},
		{"POST", "/v1/conversations", map[string]any{"channel": "Web Chat!", "queue_id": a.queue, "end_user": map[string]any{"identifier": "x"}, "text": "t"}, 422, []string{"channel"}},
		{"POST", fmt.Sprintf("/v1/conversations/%d/transfer", a.conversation), map[string]any{}, 422, []string{"queue_id"}},
		{"POST", fmt.Sprintf("/v1/conversations/%d/deflect", a.conversation), map[string]any{"to": "fax"}, 422, []string{"to"}},
		{"GET", "/v1/conversations?status=lost", nil, 400, []string{"status"}},
		{"GET", "/v1/conversations?since=yesterday", nil, 400, []string{"since"}},
		{"GET", fmt.Sprintf("/v1/conversations/%d/messages?limit=0", a.conversation), nil, 422, []string{"limit"}},
		{"POST", "/v1/channel_profiles", map[string]any{"channel": "sms", "name": "SMS"}, 422, []string{"identifier"}},
		{"POST", "/v1/canned_replies", map[string]any{"name": "x"}, 422, []string{"body"}},
		{"POST", "/v1/message_templates", map[string]any{"name": "x", "body": "b"}, 422, []string{"channel_profile_id"}},
		{"POST", fmt.Sprintf("/v1/conversations/%d/uploads", a.conversation), map[string]any{"kind": "song", "content_type": "audio/mpeg"}, 422, []string{"kind"}},
	} {
		res := ta.do(t, tt.method, tt.path, a.key, tt.body)
		if res.status != tt.status {
			t.Errorf("%s %s: %d %s, want %d", tt.method, tt.path, res.status, res.body, tt.status)
			continue
		}
		e := res.errorBody(t)
		for _, f := range tt.fields {
			if e.Fields[f] == "" {
				t.Errorf("%s %s: %s does not name %s", tt.method, tt.path, res.body, f)
			}
		}
	}
}

// TestWebChatRateLimit shows that the end-user routes, which take no key,
// are limited per client address.
func TestWebChatRateLimit(t *testing.T) {
	ta := newTestAPI(t, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := New(Options{Store: ta.store, Auth: ta.api.opt.Auth, Limiter: ta.api.opt.Limiter, Conversations: ta.conv.svc,
		WebChatPerMinute: 2, Log: log})
	srv := httptest.NewServer(api)
	defer srv.Close()
	var statuses []int
	for range 3 {
		res, err := http.Get(srv.URL + "/v1/webchat/conversations/nobody")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		statuses = append(statuses, res.StatusCode)
		if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if fmt.Sprint(statuses) != "[401 401 429]" {
		t.Errorf("statuses %v, want [401 401 429]", statuses)
	}
}

// TestConversationUserKeys walks every conversation route a user key may
// call with the key of an agent who never held the conversation: each
// answers 403, and the conversation is unchanged.
func TestConversationUserKeys(t *testing.T) {
	ta, _ := newConvAPI(t)
	ctx := context.Background()
	a := newFixture(t, ta.store, "acme")
	bob, err := ta.store.CreateAPIKey(ctx, a.tenant.ID, switchboard.APIKey{Name: "bob", UserID: &a.user2})
	if err != nil {
		t.Fatal(err)
	}
	before, err := ta.store.Conversation(ctx, a.tenant.ID, a.conversation)
	if err != nil {
		t.Fatal(err)
	}
	walked := 0
	for _, rt := range ta.api.table.Endpoints() {
		if !rt.UserKeys || !strings.HasPrefix(rt.Path, "/v1/conversations/{id}") {
			continue
		}
		walked++
		var body any
		if rt.Body != nil {
			body = map[string]any{}
		}
		if res := ta.do(t, rt.Method, a.path(rt), bob.Secret, body); res.status != http.StatusForbidden {
			t.Errorf("%s %s with another agent's key: %d %s", rt.Method, rt.Path, res.status, res.body)
		}
	}
	if walked < 10 {
		t.Errorf("walked %d routes", walked)
	}
	after, err := ta.store.Conversation(ctx, a.tenant.ID, a.conversation)
	if err != nil || after.Status != before.Status || after.LastSeq != before.LastSeq || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("conversation changed: %+v, was %+v (%v)", after, before, err)
	}
	if res := ta.do(t, "GET", fmt.Sprintf("/v1/conversations?agent_id=%d", a.user), bob.Secret, nil); res.status != http.StatusForbidden {
		t.Errorf("listing another agent's conversations: %d %s", res.status, res.body)
	}
	if res := ta.do(t, "GET", fmt.Sprintf("/v1/attachments/%d/content", a.attachment), bob.Secret, nil); res.status == http.StatusOK {
		t.Errorf("another agent reads an attachment: %d", res.status)
	}
	if res := ta.do(t, "GET", "/v1/conversations/export", bob.Secret, nil); res.status != http.StatusForbidden {
		t.Errorf("a user key exports: %d", res.status)
	}
}
