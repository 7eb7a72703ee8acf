package voiso

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/blobdir"
	"switchboard/internal/conversation"
	"switchboard/internal/engine"
	"switchboard/internal/httpapi"
	"switchboard/internal/sms"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

func TestSMSSegments(t *testing.T) {
	for _, tc := range []struct {
		body string
		want int
	}{
		{"Your code is 1234", 1},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1},  // extension characters take two septets
		{strings.Repeat("€", 81), 2},  // 162 septets
		{strings.Repeat("é", 160), 1}, // in the default alphabet
		{strings.Repeat("ж", 70), 1},  // UCS-2
		{strings.Repeat("ж", 71), 2},
		{strings.Repeat("ж", 134), 2},
		{strings.Repeat("ж", 135), 3},
		{strings.Repeat("😀", 35), 1}, // two UTF-16 units each
		{strings.Repeat("😀", 36), 2},
		{strings.Repeat("a", 1600), 11},
	} {
		if got := smsSegments(tc.body); got != tc.want {
			t.Errorf("smsSegments(%d runes starting %q) = %d, want %d", len([]rune(tc.body)), []rune(tc.body)[0], got, tc.want)
		}
	}
}

// msgWorld is the dialect over a real store, engine, conversation service
// and SMS service (the simulated carrier), served over HTTP on 127.0.0.1,
// with one contact center's messaging set up: an agent in a queue and a
// team, a web-chat profile, a WhatsApp number with templates, an SMS number
// with its profile, canned messages; and a second contact center.
type msgWorld struct {
	store   *sqlstore.DB
	conv    *conversation.Service
	eng     *engine.Engine
	carrier *sms.Sim
	url     string

	tenant, other    switchboard.Tenant
	key, otherKey    string
	agent, agent2    switchboard.User
	queue            switchboard.Queue
	team             switchboard.Team
	web, wa, smsProf switchboard.ChannelProfile
	smsNumber        string
	otherSMSNumber   string
}

func newMsgWorld(t *testing.T, dbURL string) *msgWorld {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &msgWorld{store: sqlstoretest.Open(t, dbURL, sqlstore.Options{})}
	blobs, err := blobdir.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w.eng = engine.New(engine.Options{Clock: engine.NewVirtualClock(time.Now()), Log: log})
	w.carrier = &sms.Sim{ReceiptDelay: -1}
	messenger := sms.NewService(w.store, w.carrier, log)
	w.conv = conversation.New(conversation.Options{Store: w.store, Router: w.eng, SMS: messenger, Blobs: blobs, Log: log})
	if err := w.conv.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.conv.Close(context.Background())
		w.eng.Close()
	})
	api := New(Options{Store: w.store, Auth: httpapi.NewAuthenticator(w.store, time.Second, log), Limiter: httpapi.NewRateLimiter(0, 1),
		Conversations: w.conv, PublicURL: "http://cluster1.test", Cache: httpapi.NewResponseCache(w.store.EventHead, 1<<20), Log: log})
	obs := &httpapi.Observer{Log: log, MaxBody: 64 << 10}
	srv := httptest.NewServer(obs.Wrap(Name, api, WriteError(log)))
	t.Cleanup(srv.Close)
	w.url = srv.URL

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w.tenant, err = w.store.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	must(err)
	w.other, err = w.store.CreateTenant(ctx, switchboard.Tenant{Slug: "beta", Name: "Beta"})
	must(err)
	id := w.tenant.ID
	w.team, err = w.store.CreateTeam(ctx, id, switchboard.Team{Name: "Multilingual Support"})
	must(err)
	w.queue, err = w.store.CreateQueue(ctx, id, switchboard.Queue{Name: "Technical Support"})
	must(err)
	w.agent, err = w.store.CreateUser(ctx, id, switchboard.User{Email: "jane@example.com", FirstName: "Jane", LastName: "Doe",
		Extension: "102", TeamIDs: []int64{w.team.ID}, MaxChats: 50})
	must(err)
	w.agent2, err = w.store.CreateUser(ctx, id, switchboard.User{Email: "bob@example.com", FirstName: "Bob", Extension: "103"})
	must(err)
	_, err = w.store.AddQueueMember(ctx, id, switchboard.QueueMember{QueueID: w.queue.ID, UserID: w.agent.ID})
	must(err)
	w.eng.SetQueue(w.queue, []switchboard.QueueMember{{QueueID: w.queue.ID, UserID: w.agent.ID}})
	w.eng.SetAgent(w.agent.ID, "jane")
	w.eng.SetMaxChats(w.agent.ID, 50)
	// Signed in but not Available: the engine offers her nothing by itself,
	// so who holds what is up to each test; she may still take
	// conversations (send in them).
	w.eng.SetStatus(w.agent.ID, "Lunch", false)

	w.smsNumber, w.otherSMSNumber = "+18885550100", "+18885550199"
	_, err = w.store.CreatePhoneNumber(ctx, id, switchboard.PhoneNumber{Number: w.smsNumber, SMSEnabled: true, QueueID: &w.queue.ID})
	must(err)
	_, err = w.store.CreatePhoneNumber(ctx, w.other.ID, switchboard.PhoneNumber{Number: w.otherSMSNumber, SMSEnabled: true})
	must(err)
	_, err = w.store.CreatePhoneNumber(ctx, id, switchboard.PhoneNumber{Number: "+18885658889"})
	must(err)
	w.web, err = w.store.CreateChannelProfile(ctx, id, switchboard.ChannelProfile{Channel: switchboard.ChannelWebChat,
		Name: "premium support", QueueID: &w.queue.ID, Enabled: true})
	must(err)
	w.wa, err = w.store.CreateChannelProfile(ctx, id, switchboard.ChannelProfile{Channel: switchboard.ChannelWhatsApp,
		Name: "WhatsApp Main (18885658889)", Identifier: "+18885658889", QueueID: &w.queue.ID, Enabled: true})
	must(err)
	w.smsProf, err = w.store.CreateChannelProfile(ctx, id, switchboard.ChannelProfile{Channel: switchboard.ChannelSMS,
		Name: "Texts", Identifier: w.smsNumber, QueueID: &w.queue.ID, Enabled: true})
	must(err)
	_, err = w.store.CreateMessageTemplate(ctx, id, switchboard.MessageTemplate{ProfileID: w.wa.ID, Name: "order_update",
		Language: "en_US", Category: "marketing", Body: "Your order {{1}} has shipped."})
	must(err)
	_, err = w.store.CreateMessageTemplate(ctx, id, switchboard.MessageTemplate{ProfileID: w.smsProf.ID, Name: "sms_only",
		Body: "Not a WhatsApp template"})
	must(err)
	_, err = w.store.CreateCannedReply(ctx, id, switchboard.CannedReply{Name: "Payment Confirmation",
		Body: "Thank you for your payment of {{amount}}.", Channels: []switchboard.ConversationChannel{"sms", "whatsapp", "telegram"},
		TeamIDs: []int64{w.team.ID}})
	must(err)
	_, err = w.store.CreateCannedReply(ctx, id, switchboard.CannedReply{Name: "Welcome", Body: "Hello!"})
	must(err)

	k, err := w.store.CreateAPIKey(ctx, id, switchboard.APIKey{Name: "voiso"})
	must(err)
	w.key = k.Secret
	k, err = w.store.CreateAPIKey(ctx, w.other.ID, switchboard.APIKey{Name: "voiso"})
	must(err)
	w.otherKey = k.Secret
	return w
}

// eachMsgEngine runs fn on a fresh world of every engine the test can reach.
func eachMsgEngine(t *testing.T, fn func(t *testing.T, w *msgWorld)) {
	for name, dbURL := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) { fn(t, newMsgWorld(t, dbURL(t))) })
	}
}

type msgAnswer struct {
	status int
	body   []byte
}

func (a msgAnswer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("%s: %v", a.body, err)
	}
}

func (w *msgWorld) do(t *testing.T, method, path, key string, body any) msgAnswer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return msgAnswer{status: res.StatusCode, body: bytes.TrimSuffix(b, []byte("\n"))}
}

// get answers GET path with the tenant's key, failing unless it is 200.
func (w *msgWorld) get(t *testing.T, path string) msgAnswer {
	t.Helper()
	a := w.do(t, "GET", path, w.key, nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, a.status, a.body)
	}
	return a
}

// webChat starts a web chat with the end user's first message, the agent's
// reply, and returns it as stored.
func (w *msgWorld) webChat(t *testing.T, who string, reply bool) switchboard.Conversation {
	t.Helper()
	ctx := context.Background()
	cv, _, err := w.conv.Start(ctx, w.tenant.ID, switchboard.Conversation{Channel: switchboard.ChannelWebChat, ProfileID: &w.web.ID,
		EndUser: switchboard.EndUser{Identifier: who, Name: strings.ToUpper(who[:1]) + who[1:]}}, "",
		&switchboard.ConversationMessage{Kind: switchboard.KindText, Text: "Hello from " + who})
	if err != nil {
		t.Fatal(err)
	}
	if reply {
		if _, err := w.conv.Send(ctx, w.tenant.ID, cv.ID, switchboard.ConversationMessage{Direction: switchboard.Outbound,
			Kind: switchboard.KindText, Text: "Hi " + who, AgentID: &w.agent.ID}); err != nil {
			t.Fatal(err)
		}
	}
	cv, err = w.store.Conversation(ctx, w.tenant.ID, cv.ID)
	if err != nil {
		t.Fatal(err)
	}
	return cv
}

type conversationList struct {
	Conversations []conversationOut `json:"conversations"`
	Metadata      msgListMetadata   `json:"metadata"`
}

func (w *msgWorld) conversationIDs(t *testing.T, query string) ([]string, int) {
	t.Helper()
	var l conversationList
	w.get(t, "/api/v4/messaging/conversations"+query).decode(t, &l)
	return l.ids()
}

func (w *msgWorld) otherConversations(t *testing.T) ([]string, int) {
	t.Helper()
	a := w.do(t, "GET", "/api/v4/messaging/conversations", w.otherKey, nil)
	if a.status != http.StatusOK {
		t.Fatalf("another tenant's list: %d %s", a.status, a.body)
	}
	var l conversationList
	a.decode(t, &l)
	return l.ids()
}

func (l conversationList) ids() ([]string, int) {
	var ids []string
	for _, c := range l.Conversations {
		ids = append(ids, c.ID)
	}
	return ids, l.Metadata.Total
}

// TestMessagingConversations lists, filters and reads conversations: every
// channel but SMS, newest first, in the shapes of shapes.json, by UUID, with
// their transcripts paged by offset.
func TestMessagingConversations(t *testing.T) {
	eachMsgEngine(t, func(t *testing.T, w *msgWorld) {
		ctx := context.Background()
		carla := w.webChat(t, "carla", true)
		dan := w.webChat(t, "dan", false)
		if _, err := w.conv.Finish(ctx, w.tenant.ID, carla.ID, switchboard.SideAgent, "resolved"); err != nil {
			t.Fatal(err)
		}
		// An SMS thread: a record of type sms, not a conversation.
		texts, err := w.conv.Inbound(ctx, w.tenant.ID, switchboard.ChannelSMS, "+15551234567", w.smsNumber, "hi there", "")
		if err != nil {
			t.Fatal(err)
		}
		// Another contact center's chat.
		otherQueue, err := w.store.CreateQueue(ctx, w.other.ID, switchboard.Queue{Name: "Theirs"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.conv.Start(ctx, w.other.ID, switchboard.Conversation{Channel: switchboard.ChannelWebChat,
			EndUser: switchboard.EndUser{Identifier: "eve"}, QueueID: &otherQueue.ID}, "", nil); err != nil {
			t.Fatal(err)
		}

		list := w.get(t, "/api/v4/messaging/conversations")
		checkShape(t, loadShapes(t), "conversations list", list.body)
		ids, total := w.conversationIDs(t, "")
		if want := []string{dan.UUID, carla.UUID}; !slices.Equal(ids, want) || total != 2 {
			t.Fatalf("conversations %v (total %d), want %v newest first without the SMS thread %s", ids, total, want, texts.UUID)
		}
		var l conversationList
		list.decode(t, &l)
		got := l.Conversations[1]
		if got.Status != "archived" || got.WrapupCode == nil || *got.WrapupCode != "resolved" || got.EndedAt == nil ||
			got.Agent == nil || got.Agent.Name != "Jane Doe" || got.Agent.Extension != "102" || got.Queue == nil ||
			got.Queue.Name != "Technical Support" || got.Channel != (convChannel{ID: w.web.UUID, Type: "chat", Name: "premium support"}) ||
			got.Contact.Username != "Carla" || got.Contact.ChannelIdentifier != "carla" {
			t.Errorf("the finished chat: %+v", got)
		}
		if d := l.Conversations[0]; d.Status != "active" || d.WrapupCode != nil || d.EndedAt != nil || d.Contact.Username != "Dan" {
			t.Errorf("the open chat: %+v", d)
		}

		for query, want := range map[string][]string{
			"?status=active":                            {dan.UUID},
			"?status=archived":                          {carla.UUID},
			"?subtype=web_chat":                         {dan.UUID, carla.UUID},
			"?subtype=chat":                             {dan.UUID, carla.UUID},
			"?subtype=whatsapp":                         nil,
			"?subtype=sms":                              nil,
			"?user_id=" + fmt.Sprint(w.agent.ID):        {carla.UUID},
			"?user_id=" + fmt.Sprint(w.agent2.ID):       nil,
			"?queue_id=" + fmt.Sprint(w.queue.ID):       {dan.UUID, carla.UUID},
			"?contact_id=" + fmt.Sprint(dan.EndUser.ID): {dan.UUID},
			"?started_at[gte]=" + dan.CreatedAt.Add(-time.Microsecond).UTC().Format(time.RFC3339Nano): {dan.UUID},
			"?started_at[lt]=" + dan.CreatedAt.UTC().Format(time.RFC3339Nano):                         {carla.UUID},
			"?limit=1":          {dan.UUID},
			"?limit=1&offset=1": {carla.UUID},
		} {
			ids, total := w.conversationIDs(t, query)
			if !slices.Equal(ids, want) {
				t.Errorf("%s: %v, want %v", query, ids, want)
			}
			if query != "?limit=1" && query != "?limit=1&offset=1" && total != len(want) {
				t.Errorf("%s: total %d, want %d", query, total, len(want))
			}
		}
		for _, query := range []string{"?status=open", "?limit=0", "?limit=101", "?offset=-1", "?user_id=x", "?user_id=1,2",
			"?started_at[gte]=yesterday", "?subtype=Web Chat"} {
			if a := w.do(t, "GET", "/api/v4/messaging/conversations"+strings.ReplaceAll(query, " ", "%20"), w.key, nil); a.status != http.StatusBadRequest ||
				string(a.body) != `{"error":"Bad Request"}` {
				t.Errorf("%s: %d %s, want 400 Bad Request", query, a.status, a.body)
			}
		}

		// A WhatsApp thread of a contact who gave no name: Guest, their
		// number as digits, the WhatsApp profile as the channel.
		wa, err := w.conv.Inbound(ctx, w.tenant.ID, switchboard.ChannelWhatsApp, "+15550009999", "+18885658889", "hola", "")
		if err != nil {
			t.Fatal(err)
		}
		var wl conversationList
		w.get(t, "/api/v4/messaging/conversations?subtype=whatsapp").decode(t, &wl)
		if len(wl.Conversations) != 1 || wl.Conversations[0].ID != wa.UUID ||
			wl.Conversations[0].Contact != (convContact{ID: wa.EndUser.ID, Username: "Guest", ChannelIdentifier: "15550009999"}) ||
			wl.Conversations[0].Channel != (convChannel{ID: w.wa.UUID, Type: "whatsapp", Name: w.wa.Name}) {
			t.Errorf("the WhatsApp thread: %+v", wl.Conversations)
		}

		// One conversation, by UUID.
		one := w.get(t, "/api/v4/messaging/conversations/"+carla.UUID)
		var g conversationGetOut
		one.decode(t, &g)
		if !reflect.DeepEqual(g.Conversation, l.Conversations[1]) {
			t.Errorf("get %+v, list %+v", g.Conversation, l.Conversations[1])
		}
		var wrapped map[string]json.RawMessage
		one.decode(t, &wrapped)
		checkShape(t, loadShapes(t), "conversations list", []byte(`{"conversations":[`+string(wrapped["conversation"])+`],"metadata":{"total":1}}`))
		for _, id := range []string{texts.UUID, "not-a-uuid", "3f5e1c2a-9b8d-4e7f-a6b5-c4d3e2f1a0b9"} {
			for _, suffix := range []string{"", "/messages"} {
				if a := w.do(t, "GET", "/api/v4/messaging/conversations/"+id+suffix, w.key, nil); a.status != http.StatusNotFound ||
					string(a.body) != `{"error":"Not found"}` {
					t.Errorf("%s%s: %d %s, want 404", id, suffix, a.status, a.body)
				}
			}
		}
		if a := w.do(t, "GET", "/api/v4/messaging/conversations/"+carla.UUID, w.otherKey, nil); a.status != http.StatusNotFound {
			t.Errorf("another tenant's key reads the conversation: %d %s", a.status, a.body)
		}
		if ids, total := w.otherConversations(t); len(ids) != 1 || total != 1 || slices.Contains(ids, carla.UUID) {
			t.Errorf("another tenant's list: %v", ids)
		}
	})
}

// TestMessagingTranscript pages a conversation's messages by offset: the
// lines are gapless by sequence, so offset n starts after line n.
func TestMessagingTranscript(t *testing.T) {
	eachMsgEngine(t, func(t *testing.T, w *msgWorld) {
		ctx := context.Background()
		cv := w.webChat(t, "carla", true)
		for i := range 3 {
			if _, err := w.conv.Send(ctx, w.tenant.ID, cv.ID, switchboard.ConversationMessage{Direction: switchboard.Inbound,
				Kind: switchboard.KindText, Text: fmt.Sprint("more ", i)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.conv.Send(ctx, w.tenant.ID, cv.ID, switchboard.ConversationMessage{Direction: switchboard.Outbound,
			Kind: switchboard.KindNote, Text: "a note", AgentID: &w.agent.ID}); err != nil {
			t.Fatal(err)
		}
		stored, err := w.store.ConversationMessages(ctx, w.tenant.ID, cv.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v4/messaging/conversations/" + cv.UUID + "/messages"
		all := w.get(t, path)
		checkShape(t, loadShapes(t), "conversation messages", all.body)
		var page messagesOut
		all.decode(t, &page)
		if page.Metadata.Total != len(stored) || len(page.Messages) != len(stored) {
			t.Fatalf("%d messages of %d, stored %d", len(page.Messages), page.Metadata.Total, len(stored))
		}
		for i, m := range page.Messages {
			if m.ID != stored[i].UUID || m.ID == "" || m.ConversationID != cv.UUID || m.ContentData.Text != stored[i].Text {
				t.Errorf("message %d: %+v, stored %+v", i, m, stored[i])
			}
		}
		first, reply, note := page.Messages[0], page.Messages[1], page.Messages[len(page.Messages)-1]
		if first.ActivityType != "inbound" || first.Participant != (participant{ID: cv.EndUser.ID, Type: "contact"}) || first.Status != "accepted" {
			t.Errorf("the contact's message: %+v", first)
		}
		if reply.ActivityType != "outbound" || reply.Participant != (participant{ID: w.agent.ID, Type: "agent"}) || reply.Activity != "message" {
			t.Errorf("the agent's reply: %+v", reply)
		}
		if note.Activity != "note" || note.ContentType != "text" {
			t.Errorf("the note: %+v", note)
		}
		for _, tc := range []struct {
			query string
			from  int
			n     int
		}{{"?limit=2", 0, 2}, {"?limit=2&offset=2", 2, 2}, {"?offset=5", 5, len(stored) - 5}, {"?offset=100", 0, 0}} {
			var p messagesOut
			w.get(t, path+tc.query).decode(t, &p)
			if len(p.Messages) != tc.n || p.Metadata.Total != len(stored) {
				t.Errorf("%s: %d messages of %d, want %d", tc.query, len(p.Messages), p.Metadata.Total, tc.n)
				continue
			}
			for i, m := range p.Messages {
				if m.ID != stored[tc.from+i].UUID {
					t.Errorf("%s: message %d is %s, want %s", tc.query, i, m.ID, stored[tc.from+i].UUID)
				}
			}
		}
		if a := w.do(t, "GET", path+"?limit=101", w.key, nil); a.status != http.StatusBadRequest {
			t.Errorf("limit=101: %d", a.status)
		}
	})
}

// TestMessagingSettings lists channel profiles, canned messages (teams by
// name) and WhatsApp templates (of every WhatsApp number, no other channel's).
func TestMessagingSettings(t *testing.T) {
	eachMsgEngine(t, func(t *testing.T, w *msgWorld) {
		profiles := w.get(t, "/api/v4/messaging/channel_profiles")
		checkShape(t, loadShapes(t), "channel profiles list", profiles.body)
		var pl channelProfilesOut
		profiles.decode(t, &pl)
		if pl.Metadata.Total != 3 || len(pl.ChannelProfiles) != 3 {
			t.Fatalf("profiles: %s", profiles.body)
		}
		if wa := pl.ChannelProfiles[1]; wa != (channelProfileOut{ID: w.wa.ID, Channel: "whatsapp", Identifier: "18885658889", Name: w.wa.Name}) {
			t.Errorf("the WhatsApp profile: %+v", wa)
		}
		w.get(t, "/api/v4/messaging/channel_profiles?channel=sms").decode(t, &pl)
		if pl.Metadata.Total != 1 || pl.ChannelProfiles[0].ID != w.smsProf.ID || pl.ChannelProfiles[0].Identifier != "18885550100" {
			t.Errorf("sms profiles: %+v", pl)
		}
		w.get(t, "/api/v4/messaging/channel_profiles?limit=1&offset=2").decode(t, &pl)
		if pl.Metadata.Total != 3 || len(pl.ChannelProfiles) != 1 || pl.ChannelProfiles[0].ID != w.smsProf.ID {
			t.Errorf("the third profile: %+v", pl)
		}

		canned := w.get(t, "/api/v4/messaging/canned_messages")
		checkShape(t, loadShapes(t), "canned messages list", canned.body)
		var cl cannedMessagesOut
		canned.decode(t, &cl)
		if cl.Metadata.Total != 2 || len(cl.CannedMessages) != 2 {
			t.Fatalf("canned messages: %s", canned.body)
		}
		if pay := cl.CannedMessages[0]; pay.Name != "Payment Confirmation" || !slices.Equal(pay.Channels, []string{"sms", "whatsapp", "telegram"}) ||
			!slices.Equal(pay.Teams, []convRef{{ID: w.team.ID, Name: "Multilingual Support"}}) {
			t.Errorf("the payment reply: %+v", pay)
		}
		if hello := cl.CannedMessages[1]; len(hello.Channels) != 0 || len(hello.Teams) != 0 || hello.Channels == nil || hello.Teams == nil {
			t.Errorf("the reply for everyone: %+v", hello)
		}

		templates := w.get(t, "/api/v4/messaging/whatsapp_templates")
		checkShape(t, loadShapes(t), "whatsapp templates list", templates.body)
		var tl whatsAppTemplatesOut
		templates.decode(t, &tl)
		if tl.Metadata.Total != 1 || len(tl.WhatsAppTemplates) != 1 {
			t.Fatalf("templates: %s", templates.body)
		}
		if got := tl.WhatsAppTemplates[0]; got.Name != "order_update" || got.Category != "MARKETING" || got.Language != "en_US" ||
			got.Number != "18885658889" || got.UUID == "" {
			t.Errorf("the template: %+v", got)
		}

		// The three lists are cached while the tenant's events stand still:
		// each change shows at once.
		ctx := context.Background()
		if _, err := w.store.UpdateTeamFunc(ctx, w.tenant.ID, w.team.ID, func(tm *switchboard.Team) error { tm.Name = "Polyglots"; return nil }); err != nil {
			t.Fatal(err)
		}
		w.get(t, "/api/v4/messaging/canned_messages").decode(t, &cl)
		if got := cl.CannedMessages[0].Teams; len(got) != 1 || got[0].Name != "Polyglots" {
			t.Errorf("the renamed team: %+v", got)
		}
		if _, err := w.store.UpdateChannelProfileFunc(ctx, w.tenant.ID, w.wa.ID, func(p *switchboard.ChannelProfile) error {
			p.Identifier = "+18885658800"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		w.get(t, "/api/v4/messaging/whatsapp_templates").decode(t, &tl)
		if got := tl.WhatsAppTemplates[0].Number; got != "18885658800" {
			t.Errorf("the template's number after its profile's changed: %s", got)
		}
		w.get(t, "/api/v4/messaging/channel_profiles").decode(t, &pl)
		if got := pl.ChannelProfiles[1].Identifier; got != "18885658800" {
			t.Errorf("the changed profile: %s", got)
		}

		for _, path := range []string{"/api/v4/messaging/channel_profiles", "/api/v4/messaging/canned_messages", "/api/v4/messaging/whatsapp_templates"} {
			var empty struct {
				Metadata msgListMetadata `json:"metadata"`
			}
			a := w.do(t, "GET", path, w.otherKey, nil)
			if a.decode(t, &empty); a.status != http.StatusOK || empty.Metadata.Total != 0 {
				t.Errorf("%s for another tenant: %d %s", path, a.status, a.body)
			}
			if a := w.do(t, "GET", path+"?limit=500", w.key, nil); a.status != http.StatusBadRequest {
				t.Errorf("%s?limit=500: %d", path, a.status)
			}
		}

		// A second WhatsApp number: its templates follow the first's, and
		// the pages walk across both.
		wa2, err := w.store.CreateChannelProfile(ctx, w.tenant.ID, switchboard.ChannelProfile{Channel: switchboard.ChannelWhatsApp,
			Name: "WhatsApp Sales", Identifier: "+18885650000", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"promo_a", "promo_b"} {
			if _, err := w.store.CreateMessageTemplate(ctx, w.tenant.ID, switchboard.MessageTemplate{ProfileID: wa2.ID, Name: name,
				Body: "Hello {{1}}"}); err != nil {
				t.Fatal(err)
			}
		}
		for query, want := range map[string][]string{
			"":                  {"order_update", "promo_a", "promo_b"},
			"?limit=2":          {"order_update", "promo_a"},
			"?limit=1&offset=1": {"promo_a"},
			"?offset=2":         {"promo_b"},
			"?limit=5&offset=3": nil,
		} {
			w.get(t, "/api/v4/messaging/whatsapp_templates"+query).decode(t, &tl)
			var names []string
			for _, tm := range tl.WhatsAppTemplates {
				names = append(names, tm.Name)
			}
			if !slices.Equal(names, want) || tl.Metadata.Total != 3 {
				t.Errorf("templates%s: %v of %d, want %v of 3", query, names, tl.Metadata.Total, want)
			}
			if len(tl.WhatsAppTemplates) > 0 && tl.WhatsAppTemplates[len(tl.WhatsAppTemplates)-1].Name == "promo_b" &&
				tl.WhatsAppTemplates[len(tl.WhatsAppTemplates)-1].Number != "18885650000" {
				t.Errorf("templates%s: promo_b's number %s", query, tl.WhatsAppTemplates[len(tl.WhatsAppTemplates)-1].Number)
			}
		}
	})
}

// sendSMS posts an SMS request and decodes the answer of a 200.
func (w *msgWorld) sendSMS(t *testing.T, body map[string]any) (msgAnswer, sentSMSOut) {
	t.Helper()
	a := w.do(t, "POST", "/api/v4/messaging/sms", w.key, body)
	var out sentSMSOut
	if a.status == http.StatusOK {
		a.decode(t, &out)
	}
	return a, out
}

// TestMessagingSendSMS sends as the agent through their SMS conversation
// with the number: the first send starts it, the next replies in it; the
// answer names the SMS record and its segments; the dialect's and the
// core's refusals answer Voiso's statuses.
func TestMessagingSendSMS(t *testing.T) {
	eachMsgEngine(t, func(t *testing.T, w *msgWorld) {
		ctx := context.Background()
		a, sent := w.sendSMS(t, map[string]any{"user_id": w.agent.ID, "phone_number": "15551234567", "body": "Your code is 1234",
			"sender_id": "18885550100"})
		if a.status != http.StatusOK {
			t.Fatalf("send: %d %s", a.status, a.body)
		}
		checkShape(t, loadShapes(t), "sent sms", a.body)
		if sent.SMS.Segments != 1 {
			t.Errorf("segments %d", sent.SMS.Segments)
		}
		msgs, err := w.store.Messages(ctx, w.tenant.ID, switchboard.MessageFilter{}, switchboard.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs.Items) != 1 || msgs.Items[0].UUID != sent.SMS.ID || msgs.Items[0].From != w.smsNumber ||
			msgs.Items[0].To != "+15551234567" || msgs.Items[0].Body != "Your code is 1234" {
			t.Fatalf("the SMS records: %+v, answered id %s", msgs.Items, sent.SMS.ID)
		}
		if sm := w.carrier.Sent(); len(sm) != 1 || sm[0].To != "+15551234567" {
			t.Errorf("the carrier got %+v", sm)
		}
		cv, err := w.store.OpenConversation(ctx, w.tenant.ID, switchboard.ChannelSMS, w.smsProf.ID, "+15551234567")
		if err != nil {
			t.Fatal(err)
		}
		if cv.AgentID == nil || *cv.AgentID != w.agent.ID || cv.Status != switchboard.ConversationInProgress || cv.LastSeq != 1 {
			t.Errorf("the SMS conversation: %+v", cv)
		}

		// The next text (sender_id defaults to the agent's outbound number)
		// replies in the same conversation; user_id may be digits in a string.
		if _, err := w.store.UpdateUser(ctx, w.tenant.ID, func() switchboard.User { u := w.agent; u.OutboundNumber = w.smsNumber; return u }()); err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("a", 1600)
		a, sent = w.sendSMS(t, map[string]any{"user_id": fmt.Sprint(w.agent.ID), "phone_number": "+15551234567", "body": long})
		if a.status != http.StatusOK || sent.SMS.Segments != 11 {
			t.Fatalf("1,600 characters: %d %s", a.status, a.body)
		}
		again, err := w.store.Conversation(ctx, w.tenant.ID, cv.ID)
		if err != nil || again.LastSeq != 2 {
			t.Errorf("the second text did not go through the same conversation: %+v %v", again, err)
		}

		for _, tc := range []struct {
			name   string
			body   map[string]any
			status int
			want   string
		}{
			{"no body", map[string]any{"user_id": w.agent.ID, "phone_number": "15551234567"}, 422, `{"errors":{"body":["is missing"]}}`},
			{"blank body", map[string]any{"user_id": w.agent.ID, "phone_number": "15551234567", "body": "  "}, 422, `{"errors":{"body":["is missing"]}}`},
			{"too long", map[string]any{"user_id": w.agent.ID, "phone_number": "15551234567", "body": long + "b"}, 422,
				`{"errors":{"body":["must be at most 1600 characters"]}}`},
			{"body first", map[string]any{"user_id": 999999, "phone_number": "x", "body": long + "b"}, 422,
				`{"errors":{"body":["must be at most 1600 characters"]}}`},
			{"unknown agent", map[string]any{"user_id": 999999, "phone_number": "15551234567", "body": "hi"}, 422,
				`{"errors":{"user_id":["does not match an existing agent"]}}`},
			{"bad number", map[string]any{"user_id": w.agent.ID, "phone_number": "call me", "body": "hi"}, 422,
				`{"errors":{"phone_number":["is not a valid phone number"]}}`},
			{"not our number", map[string]any{"user_id": w.agent.ID, "phone_number": "15551234567", "body": "hi", "sender_id": w.otherSMSNumber}, 422,
				`{"errors":{"sender_id":["is not one of this contact center's numbers"]}}`},
			{"no SMS on it", map[string]any{"user_id": w.agent.ID, "phone_number": "15551234567", "body": "hi", "sender_id": "18885658889"}, 422,
				`{"errors":{"sender_id":["does not have SMS enabled"]}}`},
			{"no number of their own", map[string]any{"user_id": w.agent2.ID, "phone_number": "15551234567", "body": "hi"}, 422,
				`{"errors":{"sender_id":["is missing: the agent has no number of their own to send from"]}}`},
			{"wrong types", map[string]any{"user_id": true, "phone_number": 15551234567, "body": "hi"}, 422,
				`{"errors":{"phone_number":["must be a string"],"user_id":["must be an integer"]}}`},
		} {
			if a, _ := w.sendSMS(t, tc.body); a.status != tc.status || string(a.body) != tc.want {
				t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.body, tc.status, tc.want)
			}
		}

		// An agent who is not signed in cannot take the conversation; nor may
		// one send from another agent's number.
		bobs := "+18885550111"
		if _, err := w.store.CreatePhoneNumber(ctx, w.tenant.ID, switchboard.PhoneNumber{Number: bobs, SMSEnabled: true,
			UserID: &w.agent2.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.store.AddQueueMember(ctx, w.tenant.ID, switchboard.QueueMember{QueueID: w.queue.ID, UserID: w.agent2.ID}); err != nil {
			t.Fatal(err)
		}
		a, _ = w.sendSMS(t, map[string]any{"user_id": w.agent2.ID, "phone_number": "15551234567", "body": "hi", "sender_id": bobs})
		var refusal ValidationBody
		if a.decode(t, &refusal); a.status != http.StatusConflict || len(refusal.Errors) != 1 || len(refusal.Errors["user_id"]) != 1 {
			t.Errorf("an agent not signed in: %d %s", a.status, a.body)
		}
		if cv, err := w.store.OpenConversation(ctx, w.tenant.ID, switchboard.ChannelSMS, 0, "+15551234567"); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Errorf("the conversation started for the refused text is open: %+v %v", cv, err)
		}
		a, _ = w.sendSMS(t, map[string]any{"user_id": w.agent.ID, "phone_number": "15551234567", "body": "hi", "sender_id": bobs})
		if string(a.body) != `{"errors":{"sender_id":["is another agent's number"]}}` {
			t.Errorf("another agent's number: %d %s", a.status, a.body)
		}

		// A number that texted STOP refuses every message: 422 naming it.
		if _, err := w.store.SetConsent(ctx, switchboard.Consent{TenantID: w.tenant.ID, Number: "+15557654321", OptedOut: true,
			Channel: switchboard.ChannelSMS, Source: "keyword", Keyword: "STOP", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		a, _ = w.sendSMS(t, map[string]any{"user_id": w.agent.ID, "phone_number": "15557654321", "body": "hi"})
		refusal = ValidationBody{}
		if a.decode(t, &refusal); a.status != 422 || len(refusal.Errors) != 1 || len(refusal.Errors["phone_number"]) != 1 {
			t.Errorf("an opted-out number: %d %s", a.status, a.body)
		}

		// Another tenant's key cannot send as this tenant's agent.
		if a := w.do(t, "POST", "/api/v4/messaging/sms", w.otherKey, map[string]any{"user_id": w.agent.ID,
			"phone_number": "15551234567", "body": "hi", "sender_id": w.otherSMSNumber}); a.status != 422 ||
			string(a.body) != `{"errors":{"user_id":["does not match an existing agent"]}}` {
			t.Errorf("another tenant's agent: %d %s", a.status, a.body)
		}
		if n := len(w.carrier.Sent()); n != 2 {
			t.Errorf("the carrier got %d texts, want the 2 accepted", n)
		}
	})
}

// TestMessagingSMSLimits: Voiso's platform limits are the core's; an
// identical text within 2 seconds and the daily cap per recipient are 429.
func TestMessagingSMSLimits(t *testing.T) {
	eachMsgEngine(t, func(t *testing.T, w *msgWorld) {
		body := map[string]any{"user_id": w.agent.ID, "phone_number": "15551234567", "body": "same text", "sender_id": w.smsNumber}
		if a, _ := w.sendSMS(t, body); a.status != http.StatusOK {
			t.Fatalf("first: %d %s", a.status, a.body)
		}
		if a, _ := w.sendSMS(t, body); a.status != http.StatusTooManyRequests || string(a.body) != `{"error":"Too many requests"}` {
			t.Errorf("the same text again at once: %d %s, want 429", a.status, a.body)
		}
		for i := 2; i <= 20; i++ {
			body["body"] = fmt.Sprint("text ", i)
			if a, _ := w.sendSMS(t, body); a.status != http.StatusOK {
				t.Fatalf("text %d: %d %s", i, a.status, a.body)
			}
		}
		body["body"] = "one too many"
		if a, _ := w.sendSMS(t, body); a.status != http.StatusTooManyRequests || string(a.body) != `{"error":"Too many requests"}` {
			t.Errorf("the 21st text of the day: %d %s, want 429", a.status, a.body)
		}
		body["phone_number"] = "15559876543"
		if a, _ := w.sendSMS(t, body); a.status != http.StatusOK {
			t.Errorf("another recipient: %d %s", a.status, a.body)
		}
	})
}
