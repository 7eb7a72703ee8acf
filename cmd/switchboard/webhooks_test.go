package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// newTenantKey creates a tenant and a key in db through the CLI.
func newTenantKey(t *testing.T, db string) string {
	t.Helper()
	if _, err := run(t, "", "tenant", "create", "--db", db, "--slug", "acme", "--name", "Acme"); err != nil {
		t.Fatal(err)
	}
	key, err := run(t, "", "key", "create", "--db", db, "--tenant", "acme")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(key)
}

func TestWebhookContract(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
	}))
	defer recv.Close()

	// Without an allow-list entry a loopback receiver is refused up front.
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db)
	c := client{t: t, base: base, key: key}
	status, body := c.do("POST", "/v1/webhooks", map[string]any{"url": recv.URL})
	if fields, _ := body["error"].(map[string]any)["fields"].(map[string]any); status != 422 || fields["url"] == nil {
		t.Fatalf("loopback webhook without --webhook-allow-cidr: %d %v", status, body)
	}

	db = sqlstoretest.SQLiteURL(t)
	key = newTenantKey(t, db)
	_, base, _ = startServer(t, "--db", db, "--webhook-allow-cidr", "127.0.0.0/8")
	c = client{t: t, base: base, key: key}
	status, hook := c.do("POST", "/v1/webhooks", map[string]any{"url": recv.URL + "/in", "event_types": []string{"user.created"}})
	secret, _ := hook["secret"].(string)
	if status != 201 || hook["id"] == nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("POST /v1/webhooks: %d %v", status, hook)
	}
	if _, again := c.do("GET", "/v1/webhooks", nil); strings.Contains(toJSON(again), secret) {
		t.Errorf("the secret is shown again after creation")
	}
	c.do("POST", "/v1/users", map[string]any{"email": "ann@acme.test", "first_name": "Ann"})
	c.do("POST", "/v1/skills", map[string]any{"name": "not subscribed"})
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no webhook arrived")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.Contains(string(bodies[0]), `"type":"user.created"`) {
		t.Fatalf("receiver got %d requests: %s", len(got), bodies)
	}
	key2, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key2)
	io.WriteString(mac, got[0].Header.Get("webhook-id")+"."+got[0].Header.Get("webhook-timestamp")+".")
	mac.Write(bodies[0])
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); got[0].Header.Get("webhook-signature") != want {
		t.Errorf("signature %q, want %q", got[0].Header.Get("webhook-signature"), want)
	}
	status, page := c.do("GET", "/v1/webhook_deliveries?status=succeeded", nil)
	if status != 200 || page["metadata"].(map[string]any)["total"] != float64(1) {
		t.Errorf("delivery log: %d %v", status, page)
	}
}

func TestEventStream(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	key := newTenantKey(t, db)
	_, base, _ := startServer(t, "--db", db)
	c := client{t: t, base: base, key: key}
	c.do("POST", "/v1/skills", map[string]any{"name": "first"})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/events/stream?types=skill.*", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Last-Event-ID", "2") // resume after tenant.created and api_key.created
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		c.do("POST", "/v1/users", map[string]any{"email": "ann@acme.test", "first_name": "Ann"})
		c.do("POST", "/v1/skills", map[string]any{"name": "second"})
	}()
	sc := bufio.NewScanner(res.Body)
	var ids, types []string
	for sc.Scan() && len(types) < 2 {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			ids = append(ids, v)
		}
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			types = append(types, v)
		}
	}
	if strings.Join(types, ",") != "skill.created,skill.created" || strings.Join(ids, ",") != "3,5" {
		t.Fatalf("stream gave ids %v types %v; want the skill events 3 (from before the connection) and 5 (live)", ids, types)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
