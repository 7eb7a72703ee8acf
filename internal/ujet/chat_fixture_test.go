package ujet

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
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

// chatWorld is the dialect over a real store (SQLite), engine, conversation
// service and SMS service (the simulated carrier), served over HTTP on
// 127.0.0.1: a company with a chat queue and a voice queue, an agent in the
// chat queue, an SMS number, a web-chat profile with a signing secret, an
// end user; and a second company without SMS.
type chatWorld struct {
	store   *sqlstore.DB
	conv    *conversation.Service
	eng     *engine.Engine
	carrier *sms.Sim
	api     *API
	url     string
	// skew moves the dialect's clock ahead (nanoseconds).
	skew atomic.Int64

	tenant, other         switchboard.Tenant
	key, otherKey         string
	agent                 switchboard.User
	chatQueue, voiceQueue switchboard.Queue
	web                   switchboard.ChannelProfile
	endUser               switchboard.EndUser
	smsNumber, plainNum   string
}

const webSecret = "company-secret"

func newChatWorld(t testing.TB) *chatWorld {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &chatWorld{store: sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})}
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
	api := New(Options{Store: w.store, Auth: httpapi.NewAuthenticator(w.store, time.Second, log), Conversations: w.conv,
		PublicURL: "http://ujet.test", Log: log, Now: func() time.Time { return time.Now().Add(time.Duration(w.skew.Load())) }})
	w.api = api
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
	w.chatQueue, err = w.store.CreateQueue(ctx, id, switchboard.Queue{Name: "Chat Support", Channel: switchboard.ChannelChat, Language: "en"})
	must(err)
	w.voiceQueue, err = w.store.CreateQueue(ctx, id, switchboard.Queue{Name: "Phone Support", Channel: switchboard.ChannelVoice, Language: "en"})
	must(err)
	w.agent, err = w.store.CreateUser(ctx, id, switchboard.User{Email: "jane@example.com", FirstName: "Jane", LastName: "Doe",
		AgentNumber: "A-7", Extension: "102", MaxChats: 5})
	must(err)
	_, err = w.store.AddQueueMember(ctx, id, switchboard.QueueMember{QueueID: w.chatQueue.ID, UserID: w.agent.ID})
	must(err)
	w.eng.SetQueue(w.chatQueue, []switchboard.QueueMember{{QueueID: w.chatQueue.ID, UserID: w.agent.ID}})
	w.eng.SetQueue(w.voiceQueue, nil)
	w.eng.SetAgent(w.agent.ID, "jane")
	w.eng.SetMaxChats(w.agent.ID, 5)
	// Signed in but not available: the engine offers her nothing by
	// itself; she takes chats by writing in them.
	w.eng.SetStatus(w.agent.ID, "Lunch", false)

	w.smsNumber, w.plainNum = "+16285550199", "+16285550111"
	_, err = w.store.CreatePhoneNumber(ctx, id, switchboard.PhoneNumber{Number: w.smsNumber, SMSEnabled: true, QueueID: &w.chatQueue.ID})
	must(err)
	_, err = w.store.CreatePhoneNumber(ctx, id, switchboard.PhoneNumber{Number: w.plainNum})
	must(err)
	_, err = w.store.CreatePhoneNumber(ctx, w.other.ID, switchboard.PhoneNumber{Number: "+16285550122"})
	must(err)
	w.web, err = w.store.CreateChannelProfile(ctx, id, switchboard.ChannelProfile{Channel: switchboard.ChannelWebChat,
		Name: "web", QueueID: &w.chatQueue.ID, SigningSecret: webSecret, Enabled: true})
	must(err)
	w.endUser, err = w.store.UpsertEndUser(ctx, id, switchboard.EndUser{Identifier: "user-42", Name: "Pat"})
	must(err)

	k, err := w.store.CreateAPIKey(ctx, id, switchboard.APIKey{Name: "ujet"})
	must(err)
	w.key = k.Secret
	k, err = w.store.CreateAPIKey(ctx, w.other.ID, switchboard.APIKey{Name: "ujet"})
	must(err)
	w.otherKey = k.Secret
	return w
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("%s: %v", a.body, err)
	}
}

// message is the {"message": …} of an error answer.
func (a answer) message(t *testing.T) string {
	t.Helper()
	var e ErrorBody
	a.decode(t, &e)
	return e.Message
}

// do sends method path under HTTP Basic (slug : key) with a JSON body (a
// string is sent as is; nil for none).
func (w *chatWorld) do(t *testing.T, method, path, slug, key string, body any) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, w.url+"/apps/api/v1/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(slug, key)
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
	return answer{status: res.StatusCode, header: res.Header, body: bytes.TrimSuffix(b, []byte("\n"))}
}

// call is do as the company.
func (w *chatWorld) call(t *testing.T, method, path string, body any) answer {
	t.Helper()
	return w.do(t, method, path, w.tenant.Slug, w.key, body)
}

// ok is call, failing unless the status is want.
func (w *chatWorld) ok(t *testing.T, want int, method, path string, body any) answer {
	t.Helper()
	a := w.call(t, method, path, body)
	if a.status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, a.status, a.body, want)
	}
	return a
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	}
	return "object"
}

// checkShape fails unless raw has exactly the keys of want, each of its
// JSON type ("string|null" allows either).
func checkShape(t *testing.T, what string, raw []byte, want map[string]string) {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatalf("%s: %s is not a JSON object: %v", what, raw, err)
	}
	wantShape(t, what, obj, want)
}

// field returns key of a JSON object.
func field(t *testing.T, raw []byte, key string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return m[key]
}
