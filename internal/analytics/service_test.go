package analytics_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/analytics"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

func forEachEngine(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) { fn(t, sqlstoretest.Open(t, mk(t), sqlstore.Options{})) })
	}
}

// endCall records a call that was connected for talk and ended, recorded or
// not, with its real call.created and call.ended events.
func endCall(t *testing.T, db *sqlstore.DB, tenantID int64, talk time.Duration, recorded bool) switchboard.Call {
	t.Helper()
	ctx := context.Background()
	start := time.Now().Add(-talk - time.Minute)
	c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tenantID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
		From: "+15550001111", To: "+15550002222", CreatedAt: start, QueuedAt: &start, Recorded: recorded, Media: switchboard.MediaVoice}, "created")
	if err != nil {
		t.Fatal(err)
	}
	conn := start.Add(10 * time.Second)
	end := conn.Add(talk)
	c.Status, c.ConnectedAt, c.EndedAt, c.Disposition = switchboard.CallFinished, &conn, &end, switchboard.DispositionAnswered
	if c, err = db.SaveCall(ctx, c, "ended"); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFinished waits for the call's analysis to leave pending.
func waitFinished(t *testing.T, db *sqlstore.DB, tenantID, callID int64) switchboard.CallAnalytics {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		a, err := db.CallAnalytics(context.Background(), tenantID, callID)
		if err == nil && a.Status != switchboard.AnalyticsPending {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %d's analysis is still %+v (%v)", callID, a, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func start(t *testing.T, opt analytics.Options) *analytics.Service {
	t.Helper()
	opt.Log, opt.Poll = quiet(), 20*time.Millisecond
	s := analytics.New(opt)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestServiceEndToEnd runs the service on the simulator's recordings over
// a real store: a recorded call that ends is analysed once, with its event;
// one not recorded is not; a call that ends while the service is stopped is
// analysed after the next start.
func TestServiceEndToEnd(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		drv := sim.New(engine.RealClock{})
		// A call recorded before the first start is not analysed.
		before := endCall(t, db, tn.ID, 5*time.Second, true)
		opt := analytics.Options{Store: db, Recordings: drv, Transcriber: analytics.SimTranscriber{}, Provider: "sim", Concurrency: 2}
		svc := start(t, opt)

		seq, _ := db.EventHead(ctx, tn.ID)
		rec := endCall(t, db, tn.ID, 13*time.Second, true)
		plain := endCall(t, db, tn.ID, 13*time.Second, false)
		a := waitFinished(t, db, tn.ID, rec.ID)
		if a.Status != switchboard.AnalyticsAvailable || a.Provider != "sim" || a.Attempts != 1 || a.CallUUID != rec.UUID ||
			len(a.Transcript) != 7 || a.Duration != 13 || a.Language != "en" || a.Score == nil || a.ScoreParts == nil ||
			!strings.HasPrefix(a.Summary, "Customer: Hello, I need to know where my order is") {
			t.Fatalf("analysis %+v", a)
		}
		if err := svc.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CallAnalytics(ctx, tn.ID, plain.ID); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Errorf("a call without recording was analysed: %v", err)
		}
		if _, err := db.CallAnalytics(ctx, tn.ID, before.ID); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Errorf("a call ended before the first start was analysed: %v", err)
		}
		evs, err := db.Events(ctx, tn.ID, seq, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []switchboard.Event
		for _, e := range evs {
			if strings.HasPrefix(e.Type, "call.analytics.") {
				got = append(got, e)
			}
		}
		if len(got) != 1 || got[0].Type != switchboard.EventCallAnalyticsAvailable || got[0].SubjectID != a.ID {
			t.Fatalf("analytics events %+v, want one call.analytics.available", got)
		}
		var p switchboard.AnalyticsEventPayload
		if err := json.Unmarshal(got[0].Payload, &p); err != nil || p.CallUUID != rec.UUID || *p.Score != *a.Score || p.Summary != a.Summary || p.Segments != 7 {
			t.Fatalf("payload %s (%v)", got[0].Payload, err)
		}
		if err := svc.Close(ctx); err != nil {
			t.Fatal(err)
		}
		head, _ := db.EventHead(ctx, tn.ID)
		if pos, _ := db.FollowerPositions(ctx, "analytics"); pos[tn.ID] != head {
			t.Errorf("saved position %d, want the head %d", pos[tn.ID], head)
		}

		// While it is stopped, a recorded call ends; the next start
		// resumes from the saved position and analyses it, and does not
		// analyse the first call again.
		missed := endCall(t, db, tn.ID, 4*time.Second, true)
		svc = start(t, opt)
		defer svc.Close(ctx)
		if a := waitFinished(t, db, tn.ID, missed.ID); a.Status != switchboard.AnalyticsAvailable || len(a.Transcript) != 2 {
			t.Fatalf("the call that ended while stopped: %+v", a)
		}
		if again, _ := db.CallAnalytics(ctx, tn.ID, rec.ID); again.Attempts != 1 || again.ID != a.ID {
			t.Errorf("the first call was analysed again: %+v", again)
		}
	})
}

// flakyWhisper answers 503 to the first failures requests, then a
// verbose_json transcript; it counts the requests.
type flakyWhisper struct {
	mu       sync.Mutex
	failures int
	requests int
}

func (f *flakyWhisper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	f.mu.Lock()
	f.requests++
	fail := f.requests <= f.failures
	f.mu.Unlock()
	if fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"message":"overloaded"}}`)
		return
	}
	io.WriteString(w, `{"language":"en","duration":4,"text":"I need help. I've fixed it.","segments":[
		{"start":0,"end":2,"text":" I need help."},{"start":2,"end":4,"text":" I've fixed it, thank you for calling."}]}`)
}

func TestServiceRetriesThenFails(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		drv := sim.New(engine.RealClock{})
		flaky := &flakyWhisper{failures: 2}
		srv := httptest.NewServer(flaky)
		defer srv.Close()
		svc := start(t, analytics.Options{Store: db, Recordings: drv, Transcriber: &analytics.HTTPTranscriber{URL: srv.URL},
			Provider: "http", MaxAttempts: 3, Backoff: 5 * time.Millisecond})
		c := endCall(t, db, tn.ID, 4*time.Second, true)
		a := waitFinished(t, db, tn.ID, c.ID)
		if a.Status != switchboard.AnalyticsAvailable || a.Attempts != 3 || a.Provider != "http" || len(a.Transcript) != 2 ||
			a.Transcript[0].Speaker != switchboard.SpeakerUnknown || a.Summary != "I need help. I've fixed it, thank you for calling." ||
			a.ScoreParts.TalkRatio != nil || a.Error != "" {
			t.Fatalf("after two 503s: %+v", a)
		}
		svc.Close(ctx)

		// Every attempt fails: the third failure gives up, with the
		// server's status in the error and call.analytics.failed.
		flaky.mu.Lock()
		flaky.failures, flaky.requests = 1000, 0
		flaky.mu.Unlock()
		svc = start(t, analytics.Options{Store: db, Recordings: drv, Transcriber: &analytics.HTTPTranscriber{URL: srv.URL},
			Provider: "http", MaxAttempts: 3, Backoff: 5 * time.Millisecond})
		defer svc.Close(ctx)
		seq, _ := db.EventHead(ctx, tn.ID)
		c = endCall(t, db, tn.ID, 4*time.Second, true)
		a = waitFinished(t, db, tn.ID, c.ID)
		if a.Status != switchboard.AnalyticsFailed || a.Attempts != 3 || !strings.Contains(a.Error, "503") || a.Score != nil {
			t.Fatalf("after three 503s: %+v", a)
		}
		flaky.mu.Lock()
		requests := flaky.requests
		flaky.mu.Unlock()
		if requests != 3 {
			t.Errorf("%d requests, want 3 attempts", requests)
		}
		evs, _ := db.Events(ctx, tn.ID, seq, 100)
		var types []string
		for _, e := range evs {
			if strings.HasPrefix(e.Type, "call.analytics.") {
				types = append(types, e.Type)
			}
		}
		if len(types) != 1 || types[0] != switchboard.EventCallAnalyticsFailed {
			t.Errorf("analytics events %v, want one call.analytics.failed", types)
		}
	})
}

// gatedWhisper holds every request until the test lets one through, and
// keeps the most requests it held at once.
type gatedWhisper struct {
	gate chan struct{}

	mu            sync.Mutex
	inflight, max int
}

func (g *gatedWhisper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	g.mu.Lock()
	g.inflight++
	g.max = max(g.max, g.inflight)
	g.mu.Unlock()
	<-g.gate
	g.mu.Lock()
	g.inflight--
	g.mu.Unlock()
	io.WriteString(w, `{"language":"en","duration":1,"segments":[{"start":0,"end":1,"text":"Hello."}]}`)
}

func (g *gatedWhisper) held() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inflight
}

// TestServiceBoundsConcurrency queues five calls with a concurrency of two:
// the provider never holds more than two requests, and every call is
// analysed once the requests are let through one by one.
func TestServiceBoundsConcurrency(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		g := &gatedWhisper{gate: make(chan struct{})}
		srv := httptest.NewServer(g)
		defer srv.Close()
		defer close(g.gate) // lets held requests go if the test fails early
		svc := start(t, analytics.Options{Store: db, Recordings: sim.New(engine.RealClock{}),
			Transcriber: &analytics.HTTPTranscriber{URL: srv.URL}, Provider: "http", Concurrency: 2})
		defer svc.Close(ctx)
		var calls []switchboard.Call
		for range 5 {
			calls = append(calls, endCall(t, db, tn.ID, 2*time.Second, true))
		}
		if err := svc.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); g.held() < 2; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the provider holds %d requests, want 2", g.held())
			}
		}
		for range calls {
			g.gate <- struct{}{}
		}
		for _, c := range calls {
			if a := waitFinished(t, db, tn.ID, c.ID); a.Status != switchboard.AnalyticsAvailable || a.Attempts != 1 {
				t.Errorf("call %d: %+v", c.ID, a)
			}
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.max != 2 {
			t.Errorf("the provider held up to %d requests at once, want 2", g.max)
		}
	})
}
