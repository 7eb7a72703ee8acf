package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// sseEvent is one Server-Sent Event as a client sees it.
type sseEvent struct {
	ID, Event, Data string
}

// openStream opens GET /v1/events/stream with query and headers; it returns
// the response (the caller checks the status) and, for a 200, the events as
// they arrive, closed when the server ends the stream. The stream is closed
// when the test ends.
func openStream(t *testing.T, base, key, query string, header map[string]string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/events/stream"+query, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	events := make(chan sseEvent, 1000)
	if res.StatusCode != http.StatusOK {
		close(events)
		return res, events
	}
	go func() {
		// Reads until the server or the test ends the stream.
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 8<<20)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			k, v, _ := strings.Cut(line, ": ")
			switch {
			case line == "":
				if e != (sseEvent{}) {
					events <- e
				}
				e = sseEvent{}
			case k == "id":
				e.ID = v
			case k == "event":
				e.Event = v
			case k == "data":
				e.Data = v
			}
		}
	}()
	return res, events
}

// next returns the next event within d, failing the test otherwise.
func next(t *testing.T, events <-chan sseEvent, d time.Duration) sseEvent {
	t.Helper()
	select {
	case e, ok := <-events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return e
	case <-time.After(d):
		t.Fatalf("no event within %s", d)
	}
	return sseEvent{}
}

// waitEnd waits up to d for the server to end the stream and returns its
// stream.end event (zero when it ended without one) and how long it took.
func waitEnd(t *testing.T, events <-chan sseEvent, d time.Duration) (sseEvent, time.Duration) {
	t.Helper()
	start := time.Now()
	var end sseEvent
	timeout := time.After(d)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return end, time.Since(start)
			}
			if e.Event == "stream.end" {
				end = e
			}
		case <-timeout:
			t.Fatalf("the stream is still open after %s", d)
		}
	}
}

func newKey(t *testing.T, m *Main, tenantID int64, scopes ...string) (string, int64) {
	t.Helper()
	k, err := m.store.CreateAPIKey(context.Background(), tenantID, switchboard.APIKey{Name: "test " + strings.Join(scopes, " "), Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return k.Secret, k.ID
}

// TestEventStreamStartsLiveAndEndsOnRevocation checks, on every engine, that a
// stream without Last-Event-ID or after_seq starts at the head of the log,
// that after_seq and Last-Event-ID replay from where they say, that bad
// positions are refused, and that revoking the stream's key over the API ends
// an open stream within a few seconds.
func TestEventStreamStartsLiveAndEndsOnRevocation(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			m, base, _ := startServer(t, "--db", mk(t), "--metrics-addr", "")
			ctx := context.Background()
			tenant, err := m.store.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
			if err != nil {
				t.Fatal(err)
			}
			admin, _ := newKey(t, m, tenant.ID, switchboard.ScopeAll)
			reader, readerID := newKey(t, m, tenant.ID, switchboard.ScopeEventsRead)
			c := client{t: t, base: base, key: admin}
			for i := range 3 {
				if status, body := c.do("POST", "/v1/skills", map[string]any{"name": fmt.Sprint("old-", i)}); status != 201 {
					t.Fatalf("POST /v1/skills: %d %v", status, body)
				}
			}
			head, err := m.store.EventHead(ctx, tenant.ID)
			if err != nil || head < 6 {
				t.Fatalf("head %d, %v", head, err)
			}

			_, live := openStream(t, base, reader, "", nil)
			_, all := openStream(t, base, reader, "?after_seq=0", nil)
			_, resumed := openStream(t, base, reader, "?after_seq=1", map[string]string{"Last-Event-ID": "4"})
			_, after := openStream(t, base, reader, "?after_seq=5&types=skill.*", nil)
			time.Sleep(200 * time.Millisecond) // let the live stream read the head first
			if status, body := c.do("POST", "/v1/skills", map[string]any{"name": "new"}); status != 201 {
				t.Fatalf("POST /v1/skills: %d %v", status, body)
			}
			if e := next(t, live, 5*time.Second); e.ID != fmt.Sprint(head+1) || e.Event != "skill.created" {
				t.Errorf("the live stream began with %+v, want the new event %d and nothing older", e, head+1)
			}
			if e := next(t, all, 5*time.Second); e.ID != "1" {
				t.Errorf("after_seq=0 began with %+v, want event 1", e)
			}
			if e := next(t, resumed, 5*time.Second); e.ID != "5" {
				t.Errorf("Last-Event-ID 4 began with %+v, want event 5 (Last-Event-ID over after_seq)", e)
			}
			if e := next(t, after, 5*time.Second); e.ID != "6" || e.Event != "skill.created" {
				t.Errorf("after_seq=5 began with %+v, want event 6", e)
			}
			for _, tc := range []struct{ query, lastID, field string }{
				{"?after_seq=-1", "", "after_seq"},
				{"?after_seq=x", "", "after_seq"},
				{"", "abc", "Last-Event-ID"},
				{"", "-3", "Last-Event-ID"},
				{"?types=" + strings.Repeat("a.b,", 101), "", "types"},
			} {
				res, _ := openStream(t, base, reader, tc.query, map[string]string{"Last-Event-ID": tc.lastID})
				var body map[string]map[string]any
				json.NewDecoder(res.Body).Decode(&body)
				if fields, _ := body["error"]["fields"].(map[string]any); res.StatusCode != 400 || fields[tc.field] == nil {
					t.Errorf("%s Last-Event-ID %q: %d %v, want 400 naming %s", tc.query, tc.lastID, res.StatusCode, body, tc.field)
				}
			}

			// Revocation ends the open streams of the key within a few
			// seconds, with a stream.end event saying why.
			if status, body := c.do("DELETE", fmt.Sprintf("/v1/api_keys/%d", readerID), nil); status != 200 && status != 204 {
				t.Fatalf("revoke: %d %v", status, body)
			}
			end, took := waitEnd(t, live, 5*time.Second)
			t.Logf("the stream ended %s after its key was revoked", took.Round(time.Millisecond))
			var why map[string]string
			json.Unmarshal([]byte(end.Data), &why)
			if why["reason"] != "unauthorized" || why["message"] == "" {
				t.Errorf("stream.end %+v, want reason unauthorized and a message", end)
			}
			for _, s := range []<-chan sseEvent{all, resumed, after} {
				waitEnd(t, s, 5*time.Second)
			}
			if res, _ := openStream(t, base, reader, "", nil); res.StatusCode != 401 {
				t.Errorf("the revoked key opened a stream: %d", res.StatusCode)
			}

			// A user's key never holds a stream, so deactivating a user
			// (which stops the user's keys) leaves none open.
			u, err := m.store.CreateUser(ctx, tenant.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
			if err != nil {
				t.Fatal(err)
			}
			if uk, err := m.store.CreateAPIKey(ctx, tenant.ID, switchboard.APIKey{Name: "ann", UserID: &u.ID}); err != nil {
				t.Fatal(err)
			} else if res, _ := openStream(t, base, uk.Secret, "", nil); res.StatusCode != 403 {
				t.Errorf("a user key opened an event stream: %d", res.StatusCode)
			}

			// So does the key's expiry.
			expires := time.Now().Add(2 * time.Second)
			k, err := m.store.CreateAPIKey(ctx, tenant.ID, switchboard.APIKey{Name: "short-lived", Scopes: []string{switchboard.ScopeEventsRead}, ExpiresAt: &expires})
			if err != nil {
				t.Fatal(err)
			}
			if res, events := openStream(t, base, k.Secret, "", nil); res.StatusCode != 200 {
				t.Errorf("the short-lived key: %d", res.StatusCode)
			} else {
				end, _ := waitEnd(t, events, 8*time.Second)
				t.Logf("the stream ended %s after its key expired", time.Since(expires).Round(time.Millisecond))
				if json.Unmarshal([]byte(end.Data), &why); why["reason"] != "unauthorized" {
					t.Errorf("stream.end %+v at expiry, want reason unauthorized", end)
				}
			}
		})
	}
}

// TestEventStreamLimits checks the caps on open streams per key and per
// tenant (429 with Retry-After, in the native envelope), that a closed stream
// frees its place, and that a stream ends at its maximum lifetime with a
// stream.end event and resumes with Last-Event-ID.
func TestEventStreamLimits(t *testing.T) {
	m, base, _ := startServer(t, "--db", sqlstoretest.SQLiteURL(t), "--metrics-addr", "",
		"--stream-per-key", "2", "--stream-per-tenant", "3", "--stream-max-lifetime", "3s")
	ctx := context.Background()
	acme, _ := m.store.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	beta, _ := m.store.CreateTenant(ctx, switchboard.Tenant{Slug: "beta", Name: "Beta"})
	a1, _ := newKey(t, m, acme.ID, switchboard.ScopeEventsRead)
	a2, _ := newKey(t, m, acme.ID, switchboard.ScopeEventsRead)
	b1, _ := newKey(t, m, beta.ID, switchboard.ScopeEventsRead)

	refused := func(key, want string) {
		t.Helper()
		res, _ := openStream(t, base, key, "", nil)
		var body map[string]map[string]any
		json.NewDecoder(res.Body).Decode(&body)
		msg, _ := body["error"]["message"].(string)
		if res.StatusCode != 429 || body["error"]["code"] != string(switchboard.CodeRateLimited) || !strings.Contains(msg, want) || res.Header.Get("Retry-After") == "" {
			t.Errorf("over the cap: %d %v Retry-After %q, want 429 saying %q", res.StatusCode, body, res.Header.Get("Retry-After"), want)
		}
	}
	first, firstEvents := openStream(t, base, a1, "?after_seq=0", nil)
	openStream(t, base, a1, "", nil)
	refused(a1, "this API key already has 2 event streams open")
	openStream(t, base, a2, "", nil)
	refused(a2, "this tenant already has 3 event streams open")
	if res, _ := openStream(t, base, b1, "", nil); res.StatusCode != 200 {
		t.Errorf("another tenant's stream: %d", res.StatusCode)
	}
	next(t, firstEvents, 5*time.Second)
	first.Body.Close()
	deadline := time.Now().Add(3 * time.Second)
	for {
		res, _ := openStream(t, base, a1, "", nil)
		if res.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed stream did not free its place: %d", res.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The maximum lifetime ends streams; a reconnect resumes.
	_, events := openStream(t, base, b1, "?after_seq=0", nil)
	if e := next(t, events, 5*time.Second); e.ID != "1" {
		t.Fatalf("first event %+v", e)
	}
	end, took := waitEnd(t, events, 6*time.Second)
	var why map[string]string
	json.Unmarshal([]byte(end.Data), &why)
	if why["reason"] != "max_lifetime" || took > 5*time.Second {
		t.Errorf("stream.end %+v after %s, want max_lifetime after about 3s", end, took)
	}
	head, _ := m.store.EventHead(ctx, beta.ID)
	if _, err := m.store.AppendEvent(ctx, beta.ID, "test.after", "test", 1, map[string]string{}); err != nil {
		t.Fatal(err)
	}
	_, events = openStream(t, base, b1, "", map[string]string{"Last-Event-ID": fmt.Sprint(head)})
	if e := next(t, events, 5*time.Second); e.ID != fmt.Sprint(head+1) || e.Event != "test.after" {
		t.Errorf("resumed with %+v, want event %d", e, head+1)
	}
}

// rawStream opens an event stream on a bare TCP connection and never reads
// it: a client that stopped reading.
func rawStream(t *testing.T, addr, key, query string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /v1/events/stream%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", query, addr, key)
	return conn
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestEventStreamClientsThatDoNotRead opens streams that replay a log of large
// events to clients that never read, and checks that the server holds about a
// page per stream (not the log), and that each stream is cut after the write
// timeout, freeing its place.
func TestEventStreamClientsThatDoNotRead(t *testing.T) {
	const streams = 8
	// The key's request budget is not what this test measures: the pages
	// read below would spend it on a fast machine and leave the streams
	// refused 429 instead of open.
	m, base, _ := startServer(t, "--db", sqlstoretest.SQLiteURL(t), "--metrics-addr", "", "--rate-limit", "0",
		"--stream-per-key", fmt.Sprint(streams), "--stream-write-timeout", "4s")
	ctx := context.Background()
	tenant, _ := m.store.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	key, _ := newKey(t, m, tenant.ID, switchboard.ScopeEventsRead)
	// 100 events of 400 kB: 40 MB of log, more than loopback buffers hold.
	blob := strings.Repeat("x", 400_000)
	for range 100 {
		if _, err := m.store.AppendEvent(ctx, tenant.ID, "test.big", "test", 1, map[string]string{"blob": blob}); err != nil {
			t.Fatal(err)
		}
	}
	// The list pages by bytes too: at most 1 MiB of payloads, and
	// next_after_seq walks the whole log.
	c := client{t: t, base: base, key: key}
	read := 0
	for after := 0; read < 101; {
		status, page := c.do("GET", fmt.Sprintf("/v1/events?after_seq=%d&limit=1000", after), nil)
		items, _ := page["items"].([]any)
		if status != 200 || len(items) == 0 || len(items) > 2 && after > 0 {
			t.Fatalf("GET /v1/events after %d: %d, %d events; want 1 or 2 of 400 kB", after, status, len(items))
		}
		read += len(items)
		after = int(page["next_after_seq"].(float64))
	}
	before := heapInUse()
	for range streams {
		rawStream(t, m.Addr(), key, "?after_seq=0")
	}
	time.Sleep(1500 * time.Millisecond) // the streams fill the sockets and block
	during := heapInUse()
	grown := int64(during) - int64(before)
	t.Logf("heap with %d streams that do not read a 40 MB log: %.1f MiB before, %.1f MiB during (%.2f MiB a stream)",
		streams, float64(before)/(1<<20), float64(during)/(1<<20), float64(grown)/streams/(1<<20))
	// A stream holds one page (at most 1 MiB of payloads) and its encoding.
	if limit := int64(streams * 4 << 20); grown > limit {
		t.Errorf("the heap grew by %d bytes with %d streams, more than %d", grown, streams, limit)
	}
	res, _ := openStream(t, base, key, "", nil)
	if res.StatusCode != 429 {
		t.Fatalf("the key's %d streams are not all open: a new one got %d", streams, res.StatusCode)
	}
	// Blocked writes time out after 4s, and the places free.
	start := time.Now()
	for {
		res, _ := openStream(t, base, key, "", nil)
		if res.StatusCode == 200 {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("streams that do not read are still open after %s", time.Since(start))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("streams that did not read were cut within %s of the check", time.Since(start).Round(time.Millisecond))
}
