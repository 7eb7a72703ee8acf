package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// BenchmarkConversationMessages measures conversation messages per second
// end to end on SQLite: end users post messages through the web-chat API
// (16 at once, each in their own conversation), every message is stored
// with its event, and the webhook dispatcher delivers each as a
// message.received webhook to a loopback receiver; the clock stops when the
// last webhook arrives. In the same iteration and on the same server, the
// baseline is the webhook delivery of the existing delivery benchmark's
// drain: as many events appended straight to the store by 16 goroutines and
// delivered to the same receiver. ratio-vs-webhooks is messages/s over
// deliveries/s: what the API, the conversation service and the store cost
// on top of delivering the webhook itself.
//
// Run: bash bench/conversations.sh (go test -run '^$' -bench
// ConversationMessages -benchtime 1x ./cmd/switchboard).
func BenchmarkConversationMessages(b *testing.B) {
	const conversations, perConversation = 16, 250
	const total = conversations * perConversation
	for range b.N {
		ctx := context.Background()
		m, _, _ := newMain(nil)
		m.Stderr = io.Discard
		if err := m.Start(ctx, []string{"--addr", "127.0.0.1:0", "--metrics-addr", "", "--db", sqlstoretest.SQLiteURL(b), "--rate-limit", "0",
			"--tenant-write-rate", "0", "--webchat-rate-limit", "100000000", "--webhook-allow-cidr", "127.0.0.0/8", "--log-level", "error"}); err != nil {
			b.Fatal(err)
		}
		tenant, err := m.store.CreateTenant(ctx, switchboard.Tenant{Slug: "bench", Name: "Bench"})
		if err != nil {
			b.Fatal(err)
		}
		key, err := m.store.CreateAPIKey(ctx, tenant.ID, switchboard.APIKey{Name: "bench", Scopes: []string{switchboard.ScopeAll}})
		if err != nil {
			b.Fatal(err)
		}
		base := "http://" + m.Addr()

		var got atomic.Int64
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			got.Add(1)
		}))
		waitFor := func(n int64) {
			for deadline := time.Now().Add(5 * time.Minute); got.Load() < n; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d webhooks arrived", got.Load(), n)
				}
			}
		}

		// The baseline: events appended to the store, delivered.
		if _, err := m.store.CreateWebhook(ctx, tenant.ID, switchboard.Webhook{URL: recv.URL + "/base", EventTypes: []string{"bench.*"}}); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1); i <= total; i = next.Add(1) {
					if _, err := m.store.AppendEvent(ctx, tenant.ID, "bench.tick", "bench", i, map[string]int64{"i": i}); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		waitFor(total)
		baseline := time.Since(t0)

		// Conversations: one queue nobody answers, 16 web chats, each end
		// user posting through the widget API.
		q, err := m.store.CreateQueue(ctx, tenant.ID, switchboard.Queue{Name: "Chat", Channel: switchboard.ChannelChat})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.store.CreateWebhook(ctx, tenant.ID, switchboard.Webhook{URL: recv.URL + "/conv", EventTypes: []string{"message.received"}}); err != nil {
			b.Fatal(err)
		}
		type chat struct{ uuid, token string }
		chats := make([]chat, conversations)
		for i := range chats {
			status, v := benchPost(base+"/v1/conversations", key.Secret, map[string]any{"channel": "web_chat", "queue_id": q.ID,
				"end_user": map[string]any{"identifier": fmt.Sprintf("visitor-%d", i), "name": "V"}, "text": "hello"})
			if status != 201 {
				b.Fatalf("start: %d %v", status, v)
			}
			chats[i] = chat{v["uuid"].(string), v["token"].(string)}
		}
		waitFor(total + conversations) // the first messages' webhooks
		got.Store(0)
		t0 = time.Now()
		for _, ch := range chats {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range perConversation {
					if status, v := benchPost(base+"/v1/webchat/conversations/"+ch.uuid+"/messages", ch.token,
						map[string]any{"text": fmt.Sprintf("message %d", j)}); status != 201 {
						b.Errorf("post: %d %v", status, v)
						return
					}
				}
			}()
		}
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}
		posted := time.Since(t0)
		waitFor(total)
		elapsed := time.Since(t0)
		recv.Close()
		m.Close()

		deliveries := float64(total) / baseline.Seconds()
		messages := float64(total) / elapsed.Seconds()
		b.ReportMetric(messages, "messages/s")
		b.ReportMetric(float64(total)/posted.Seconds(), "api-messages/s")
		b.ReportMetric(deliveries, "webhook-deliveries/s")
		b.ReportMetric(messages/deliveries, "ratio-vs-webhooks")
	}
}

// benchPost posts body as JSON with a bearer token and decodes the answer.
func benchPost(url, token string, body any) (int, map[string]any) {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, map[string]any{"error": err.Error()}
	}
	defer res.Body.Close()
	var v map[string]any
	json.NewDecoder(res.Body).Decode(&v)
	return res.StatusCode, v
}
