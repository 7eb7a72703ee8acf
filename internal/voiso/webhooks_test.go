package voiso

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/webhook"
)

// receiver is a webhook endpoint on loopback that keeps what it is sent and
// answers 500 while failing is set.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	bodies  [][]byte
	failing bool
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.failing {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		r.bodies = append(r.bodies, b)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns the bodies received once there are n, failing after 10 s.
func (r *receiver) wait(t *testing.T, n int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		got := slices.Clone(r.bodies)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries after 10 s, want %d", len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dispatch runs a dispatcher that renders voiso subscriptions with a's
// renderer, trying each delivery once, until the test ends.
func dispatch(t *testing.T, f *fixture, a *API) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		webhook.New(webhook.Options{Store: f.db, Log: slog.New(slog.DiscardHandler), Poll: 20 * time.Millisecond,
			Schedule: []time.Duration{0}, PerEndpoint: 1,
			Guard:     webhook.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}),
			Renderers: map[string]webhook.Renderer{Name: a.Renderer()}}).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// TestWebhookEnvelopes sends one event of each Voiso type through a real
// dispatcher to a loopback receiver and checks each body against its shape:
// the envelope, the call object of each kind and step, the message and
// conversation objects and the analytics; a call of another kind is passed
// over. Then a failing receiver makes a failure the tasks API shows with
// Voiso's event name, and its retrigger delivers it.
func TestWebhookEnvelopes(t *testing.T) { eachEngine(t, testWebhookEnvelopes) }

func testWebhookEnvelopes(t *testing.T, f *fixture) {
	ctx := context.Background()
	shapes := loadShapes(t)
	rcv := newReceiver(t)
	a := New(Options{Store: f.db, PublicURL: "https://cc.example.com"})
	manage := f.keyFor(switchboard.ScopeTasksWebhooksManage)
	out := f.expect("POST", "/api/v4/tasks/webhooks", manage, map[string]any{"name": "all", "url": rcv.srv.URL, "events": eventNames}, 201, "")
	var created createdWebhookEnvelope
	if err := json.Unmarshal(out, &created); err != nil {
		t.Fatal(err)
	}
	tenant, err := f.db.Tenant(ctx, f.tenant.ID)
	if err != nil || tenant.UUID == "" {
		t.Fatalf("tenant %+v, %v: no UUID", tenant, err)
	}
	dispatch(t, f, a)

	// An inbound call, answered and hung up, then wrapped up.
	t0 := time.Date(2026, 3, 15, 9, 59, 44, 0, time.UTC)
	at := func(s int) *time.Time { v := t0.Add(time.Duration(s) * time.Second); return &v }
	in := switchboard.Call{TenantID: f.tenant.ID, Direction: switchboard.Inbound, Status: switchboard.CallConnected, From: "+1234567898",
		To: f.number, QueueID: &f.queue.ID, AgentID: &f.agent.ID, CreatedAt: t0, QueuedAt: at(0), RingingAt: at(10), ConnectedAt: at(16)}
	in, err = f.db.SaveCall(ctx, in, "connected")
	if err != nil {
		t.Fatal(err)
	}
	in.Status, in.EndedAt, in.Disposition, in.HangupBy = switchboard.CallFinished, at(304), switchboard.DispositionAnswered, switchboard.SideAgent
	if in, err = f.db.SaveCall(ctx, in, "ended"); err != nil {
		t.Fatal(err)
	}
	wrapUp(t, f, in.ID)
	// A click-to-call, answered and hung up.
	outb := switchboard.Call{TenantID: f.tenant.ID, Direction: switchboard.Outbound, Status: switchboard.CallConnected, From: f.number,
		To: "+15551234567", AgentID: &f.agent.ID, Source: switchboard.CallSource{AccountID: "00Q5e00000NslwPEAR", System: "salesforce"},
		CreatedAt: t0, ConnectedAt: at(2)}
	if outb, err = f.db.SaveCall(ctx, outb, "connected"); err != nil {
		t.Fatal(err)
	}
	outb.Status, outb.EndedAt, outb.Disposition, outb.HangupBy = switchboard.CallFinished, at(60), switchboard.DispositionAnswered, switchboard.SideCaller
	if outb, err = f.db.SaveCall(ctx, outb, "ended"); err != nil {
		t.Fatal(err)
	}
	// A dialer call: its events name the campaign that placed it.
	dialer := switchboard.CallEventPayload{V: 2, ID: 900, UUID: "0b97ce11-b6e0-49b4-8f92-68040aa324bf", Direction: switchboard.Outbound,
		Status: switchboard.CallConnected, From: f.number, To: "+15551234567", CreatedAt: t0, QueuedAt: at(1), ConnectedAt: at(27),
		Agent:    &switchboard.UserRef{ID: f.agent.ID, FirstName: "Ann", LastName: "Agent", Email: "ann@example.com", Extension: "101"},
		Campaign: &switchboard.CampaignRef{ID: 9883, Name: "Anniversary Sale"}}
	appendEvent(t, f, switchboard.EventCallConnected, "call", dialer.ID, dialer)
	dialer.Status, dialer.EndedAt, dialer.Disposition, dialer.HangupBy = switchboard.CallFinished, at(300), switchboard.DispositionAnswered, switchboard.SideAgent
	appendEvent(t, f, switchboard.EventCallEnded, "call", dialer.ID, dialer)
	appendEvent(t, f, switchboard.EventCallWrappedUp, "call", dialer.ID, dialer)
	// A web chat: the visitor writes, the agent answers, it ends.
	prof, err := f.db.CreateChannelProfile(ctx, f.tenant.ID, switchboard.ChannelProfile{Channel: switchboard.ChannelWebChat,
		Name: "premium support", Identifier: "example.com", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	conv, _, err := f.db.CreateConversation(ctx, f.tenant.ID, switchboard.Conversation{Channel: switchboard.ChannelWebChat,
		Status: switchboard.ConversationQueued, QueueID: &f.queue.ID, ProfileID: &prof.ID, Address: "visitor-1",
		EndUser: switchboard.EndUser{Identifier: "visitor-1", Name: "Guest"}},
		&switchboard.ConversationMessage{Direction: switchboard.Inbound, Kind: switchboard.KindText, Text: "Hello", Status: switchboard.ReceiptReceived})
	if err != nil {
		t.Fatal(err)
	}
	if _, conv, _, err = f.db.AddMessage(ctx, f.tenant.ID, switchboard.ConversationMessage{ConversationID: conv.ID, Direction: switchboard.Outbound,
		Kind: switchboard.KindText, Text: "Hi, how can I help?", AgentID: &f.agent.ID, Status: switchboard.ReceiptSent}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err = f.db.UpdateConversationFunc(ctx, f.tenant.ID, conv.ID, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		now := time.Now()
		c.Status, c.AgentID, c.EndedAt, c.EndedBy, c.EndReason = switchboard.ConversationFinished, &f.agent.ID, &now, switchboard.SideAgent, "resolved"
		return switchboard.ConversationUpdate{Event: switchboard.EventConversationFinished}, nil
	}); err != nil {
		t.Fatal(err)
	}
	// Speech analytics of the inbound call.
	sc := 94
	appendEvent(t, f, switchboard.EventCallAnalyticsAvailable, "call_analytics", 98765, switchboard.AnalyticsEventPayload{V: 1, ID: 98765,
		CallID: in.ID, CallUUID: in.UUID, Status: switchboard.AnalyticsAvailable, Summary: "Customer asked to move the delivery.", Score: &sc})

	want := []string{"inbound.call.answered", "inbound.call.hangup", "inbound.call.ended", "outbound.call.answered", "outbound.call.hangup",
		"dialer.call.answered", "dialer.call.hangup", "dialer.call.ended", "message.received", "message.sent", "conversation.ended",
		"call.analytics.available"}
	bodies := rcv.wait(t, len(want))
	var got []string
	for _, b := range bodies {
		var env struct {
			Event, Secret     string
			ContactCenterID   string `json:"contact_center_id"`
			Timestamp, Object string
		}
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatalf("body %s: %v", b, err)
		}
		got = append(got, env.Event)
		if env.Secret != created.Webhook.Secret || env.ContactCenterID != tenant.UUID || !strings.HasSuffix(env.Timestamp, "Z") {
			t.Errorf("%s: envelope %s (secret, contact center or timestamp)", env.Event, b)
		}
		checkShape(t, shapes, "webhook "+env.Event, b)
		switch env.Event {
		case "inbound.call.hangup":
			if !strings.Contains(string(b), `"talk_time":288`) || !strings.Contains(string(b), `"queue":"Support"`) ||
				!strings.Contains(string(b), `"end_reason":"agent_hangup"`) || !strings.Contains(string(b), `"calling_number":"1234567898"`) {
				t.Errorf("inbound hangup %s", b)
			}
		case "outbound.call.answered":
			if !strings.Contains(string(b), `"ext_user_id":"00Q5e00000NslwPEAR"`) || !strings.Contains(string(b), `"dialing_time":2`) {
				t.Errorf("outbound answered %s", b)
			}
		case "call.analytics.available":
			if !strings.Contains(string(b), `"score":"4.7"`) || !strings.Contains(string(b), "https://cc.example.com/api/v4/reporting/cdrs/"+in.UUID) {
				t.Errorf("analytics %s", b)
			}
		case "message.sent":
			if !strings.Contains(string(b), `"name":"premium support"`) || !strings.Contains(string(b), `"conversation_id":"`+conv.UUID+`"`) {
				t.Errorf("message.sent %s", b)
			}
		}
	}
	// The click-to-call was not wrapped up: no outbound.call.ended. Every
	// other event arrives once, each family in its order.
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	wantSorted := slices.Clone(want)
	slices.Sort(wantSorted)
	if !slices.Equal(sorted, wantSorted) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for _, seq := range [][]string{want[0:3], want[3:5], want[5:8], want[8:11]} {
		var idx []int
		for _, e := range seq {
			idx = append(idx, slices.Index(got, e))
		}
		if !slices.IsSorted(idx) {
			t.Errorf("%v arrived as %v", seq, got)
		}
	}

	// A failing receiver: the next event becomes a failure with Voiso's
	// event name, and its retrigger delivers it.
	rcv.mu.Lock()
	rcv.failing = true
	rcv.mu.Unlock()
	appendEvent(t, f, switchboard.EventCallWrappedUp, "call", outb.ID, mustPayload(t, f, outb.ID))
	read := f.keyFor(switchboard.ScopeTasksWebhooksRead)
	var failures failuresList
	deadline := time.Now().Add(10 * time.Second)
	for len(failures.WebhookFailures) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no failure after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
		if err := json.Unmarshal(f.expect("GET", "/api/v4/tasks/webhook_failures", read, nil, 200, ""), &failures); err != nil {
			t.Fatal(err)
		}
	}
	fl := failures.WebhookFailures[0]
	if fl.Event != "outbound.call.ended" || fl.Status != "inactive" || fl.Webhook.ID != created.Webhook.ID {
		t.Errorf("failure %+v", fl)
	}
	rcv.mu.Lock()
	rcv.failing = false
	rcv.mu.Unlock()
	f.expect("POST", "/api/v4/tasks/webhook_failures/"+fl.ID+"/retrigger", manage, nil, 200, "")
	bodies = rcv.wait(t, len(want)+1)
	if last := bodies[len(bodies)-1]; !strings.Contains(string(last), `"event":"outbound.call.ended"`) {
		t.Errorf("the retriggered delivery %s", last)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := json.Unmarshal(f.expect("GET", "/api/v4/tasks/webhook_failures", read, nil, 200, ""), &failures); err != nil {
			t.Fatal(err)
		}
		if failures.Metadata.Total == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivered failure is still listed: %+v", failures)
		}
	}
}

func appendEvent(t *testing.T, f *fixture, typ, subject string, id int64, payload any) {
	t.Helper()
	if _, err := f.db.AppendEvent(context.Background(), f.tenant.ID, typ, subject, id, payload); err != nil {
		t.Fatal(err)
	}
}

// mustPayload is the payload of call id's last event.
func mustPayload(t *testing.T, f *fixture, id int64) json.RawMessage {
	t.Helper()
	events, err := f.db.SubjectEvents(context.Background(), f.tenant.ID, "call", id)
	if err != nil || len(events) == 0 {
		t.Fatalf("events of call %d: %v", id, err)
	}
	return events[len(events)-1].Payload
}

// wrapUp records call id's call.wrapped_up as the call engine does when its
// agent's wrap-up ends: the call's last payload under the new type.
func wrapUp(t *testing.T, f *fixture, id int64) {
	t.Helper()
	appendEvent(t, f, switchboard.EventCallWrappedUp, "call", id, mustPayload(t, f, id))
}

// TestRenderSkips checks that a subscription's events of another kind of
// call, fax calls, SMS threads and notes are passed over.
func TestRenderSkips(t *testing.T) {
	f := newFixture(t)
	a := New(Options{Store: f.db})
	r := a.Renderer()
	w := switchboard.Webhook{Dialect: Name, Secret: "whsec_x"}
	w.SetDialectTypes(eventTypes, "inbound.call.answered", "message.sent")
	mk := func(typ, subject string, payload any) switchboard.Event {
		b, _ := json.Marshal(payload)
		return switchboard.Event{ID: 1, TenantID: f.tenant.ID, Type: typ, SubjectType: subject, SubjectID: 1, Time: time.Now(), Payload: b}
	}
	for name, e := range map[string]switchboard.Event{
		"an outbound call": mk(switchboard.EventCallConnected, "call", switchboard.CallEventPayload{Direction: switchboard.Outbound}),
		"a dialer call": mk(switchboard.EventCallConnected, "call", switchboard.CallEventPayload{Direction: switchboard.Outbound,
			Campaign: &switchboard.CampaignRef{ID: 1}}),
		"a fax":         mk(switchboard.EventCallConnected, "call", switchboard.CallEventPayload{Direction: switchboard.Inbound, Media: switchboard.MediaFax}),
		"a hangup":      mk(switchboard.EventCallEnded, "call", switchboard.CallEventPayload{Direction: switchboard.Inbound}),
		"an SMS thread": mk(switchboard.EventMessageSent, "conversation_message", switchboard.ConversationMessagePayload{Channel: switchboard.ChannelSMS}),
		"a note": mk(switchboard.EventMessageSent, "conversation_message", switchboard.ConversationMessagePayload{Channel: switchboard.ChannelWebChat,
			Message: switchboard.ConversationMessage{Kind: switchboard.KindNote}}),
	} {
		if body, err := r.Render(context.Background(), w, e); err != webhook.ErrSkip {
			t.Errorf("%s: %s, %v; want it passed over", name, body, err)
		}
	}
	if body, err := r.Render(context.Background(), w, mk(switchboard.EventCallConnected, "call",
		switchboard.CallEventPayload{Direction: switchboard.Inbound, UUID: "u"})); err != nil || !strings.Contains(string(body), `"event":"inbound.call.answered"`) {
		t.Errorf("an inbound call: %s, %v", body, err)
	}
}

// TestRenderOlderPayloads renders message and conversation events written
// before payloads named the conversation's agent, end user and profile: the
// names are read at delivery, and the body is the same shape.
func TestRenderOlderPayloads(t *testing.T) { eachEngine(t, testRenderOlderPayloads) }

func testRenderOlderPayloads(t *testing.T, f *fixture) {
	ctx := context.Background()
	shapes := loadShapes(t)
	r := New(Options{Store: f.db}).Renderer()
	prof, err := f.db.CreateChannelProfile(ctx, f.tenant.ID, switchboard.ChannelProfile{Channel: switchboard.ChannelWhatsApp,
		Name: "sales line", Identifier: "+15550001000", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	conv, msg, err := f.db.CreateConversation(ctx, f.tenant.ID, switchboard.Conversation{Channel: switchboard.ChannelWhatsApp,
		Status: switchboard.ConversationQueued, ProfileID: &prof.ID, AgentID: &f.agent.ID, Address: "+15551234567",
		EndUser: switchboard.EndUser{Identifier: "+15551234567", Name: "Carla"}},
		&switchboard.ConversationMessage{Direction: switchboard.Inbound, Kind: switchboard.KindText, Text: "Hola", Status: switchboard.ReceiptReceived})
	if err != nil {
		t.Fatal(err)
	}
	w := switchboard.Webhook{Dialect: Name, Secret: "whsec_x"}
	w.SetDialectTypes(eventTypes, "message.received", "conversation.ended")
	old := func(typ, subject string, id int64, payload any) switchboard.Event {
		b, _ := json.Marshal(payload)
		return switchboard.Event{ID: 1, TenantID: f.tenant.ID, Type: typ, SubjectType: subject, SubjectID: id, Time: time.Now(), Payload: b}
	}
	body, err := r.Render(ctx, w, old(switchboard.EventMessageReceived, "conversation_message", msg.ID, switchboard.ConversationMessagePayload{
		V: 1, Message: *msg, ConversationID: conv.ID, Channel: conv.Channel, AgentID: conv.AgentID, EndUserID: conv.EndUser.ID}))
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, shapes, "webhook message.received", body)
	for _, want := range []string{`"conversation_id":"` + conv.UUID + `"`, `"name":"sales line"`, `"username":"Carla"`,
		`"channel_identifier":"15551234567"`, `"name":"Ann Agent"`, `"status":"accepted"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("message.received %s lacks %s", body, want)
		}
	}
	ended := time.Now()
	conv.Status, conv.EndedAt, conv.EndReason = switchboard.ConversationFinished, &ended, "resolved"
	body, err = r.Render(ctx, w, old(switchboard.EventConversationFinished, "conversation", conv.ID, switchboard.ConversationEventPayload{V: 1, Conversation: conv}))
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, shapes, "webhook conversation.ended", body)
	if !strings.Contains(string(body), `"name":"sales line"`) || !strings.Contains(string(body), `"status":"archived"`) {
		t.Errorf("conversation.ended %s", body)
	}
}
