package native

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
)

// StreamLimits bounds the event streams of GET /v1/events/stream. A stream
// holds a connection, a goroutine and up to one page of the log for as long as
// its client stays, so every axis is bounded: how many are open, how long a
// client may leave a write unread, and how long one stream lives. Zero fields
// take the defaults.
type StreamLimits struct {
	// PerKey and PerTenant cap the streams open at once for one API key and
	// for one tenant across all its keys (defaults 5 and 20); more answer 429.
	PerKey, PerTenant int
	// WriteTimeout ends a stream whose client has left a write unread this
	// long (default 30s): a client that stops reading cannot pin the server's
	// buffers forever.
	WriteTimeout time.Duration
	// MaxLifetime ends every stream after this long (default 1h) with a
	// stream.end event; the client reconnects with Last-Event-ID and misses
	// nothing. It bounds how long a stream outlives a change nobody told this
	// node about, and spreads long-lived clients over restarts and nodes.
	MaxLifetime time.Duration
}

// Defaults of StreamLimits.
const (
	DefaultStreamsPerKey      = 5
	DefaultStreamsPerTenant   = 20
	DefaultStreamWriteTimeout = 30 * time.Second
	DefaultStreamMaxLifetime  = time.Hour
)

const (
	// streamRecheck is how often a stream authenticates its request again, so
	// that a revoked key, a deactivated user or a lost scope ends it.
	streamRecheck = 2 * time.Second
	// streamKeepalive is the longest a stream stays silent: a comment keeps
	// proxies from closing it and finds clients that went away.
	streamKeepalive = 15 * time.Second
	// streamPage is how many events a stream reads at once; the store's byte
	// budget (switchboard.MaxEventPageBytes) bounds the page too.
	streamPage = 100
	// maxStreamTypes caps the types filter: each event is matched against it.
	maxStreamTypes = 100
	// streamShutdownGrace is how long streams get to say goodbye on shutdown
	// before writes still blocked on unread clients are cut.
	streamShutdownGrace = time.Second
)

func (l StreamLimits) withDefaults() StreamLimits {
	if l.PerKey <= 0 {
		l.PerKey = DefaultStreamsPerKey
	}
	if l.PerTenant <= 0 {
		l.PerTenant = DefaultStreamsPerTenant
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = DefaultStreamWriteTimeout
	}
	if l.MaxLifetime <= 0 {
		l.MaxLifetime = DefaultStreamMaxLifetime
	}
	return l
}

// streamSet is the register of open streams: their counts per key and tenant,
// and what shutdown needs to end them.
type streamSet struct {
	lim StreamLimits

	mu       sync.Mutex
	byKey    map[int64]int
	byTenant map[int64]int
	// byConversation counts the web-chat end users' streams.
	byConversation map[int64]int
	open           map[*stream]struct{}

	closing   chan struct{} // closed when the server shuts down
	closeOnce sync.Once
}

func newStreamSet(lim StreamLimits) *streamSet {
	return &streamSet{lim: lim.withDefaults(), byKey: map[int64]int{}, byTenant: map[int64]int{},
		byConversation: map[int64]int{}, open: map[*stream]struct{}{}, closing: make(chan struct{})}
}

// stream is one open event stream. Its writes carry a deadline; cut makes
// every write fail at once, also one already blocked on an unread client.
type stream struct {
	rc              *http.ResponseController
	w               http.ResponseWriter
	timeout         time.Duration
	keyID, tenantID int64
	// conversationID is the conversation of an end user's stream (no key).
	conversationID int64

	mu  sync.Mutex
	cut bool
}

var errStreamCut = errors.New("event stream cut by shutdown")

// add registers a stream of p, or refuses with CodeRateLimited when its key
// or tenant has as many open as allowed.
func (s *streamSet) add(p httpapi.Principal, w http.ResponseWriter) (*stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.byKey[p.Key.ID]; n >= s.lim.PerKey {
		return nil, switchboard.Errorf(switchboard.CodeRateLimited,
			"this API key already has %d event streams open, the most allowed; close one before opening another", n)
	}
	if n := s.byTenant[p.Tenant.ID]; n >= s.lim.PerTenant {
		return nil, switchboard.Errorf(switchboard.CodeRateLimited,
			"this tenant already has %d event streams open across its API keys, the most allowed; close one before opening another", n)
	}
	st := &stream{rc: http.NewResponseController(w), w: w, timeout: s.lim.WriteTimeout, keyID: p.Key.ID, tenantID: p.Tenant.ID}
	s.byKey[st.keyID]++
	s.byTenant[st.tenantID]++
	s.open[st] = struct{}{}
	return st, nil
}

// maxEndUserStreams bounds the streams open at once on one conversation's
// end-user API: a widget in a few tabs, not a token holder's thousands.
const maxEndUserStreams = 5

// addEndUser registers a web-chat end user's stream of a conversation, or
// refuses with CodeRateLimited when it has as many open as allowed.
func (s *streamSet) addEndUser(conversationID int64, w http.ResponseWriter) (*stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.byConversation[conversationID]; n >= maxEndUserStreams {
		return nil, switchboard.Errorf(switchboard.CodeRateLimited,
			"this conversation already has %d event streams open, the most allowed; close one before opening another", n)
	}
	st := &stream{rc: http.NewResponseController(w), w: w, timeout: s.lim.WriteTimeout, conversationID: conversationID}
	s.byConversation[conversationID]++
	s.open[st] = struct{}{}
	return st, nil
}

// remove unregisters st.
func (s *streamSet) remove(st *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, st)
	if st.conversationID != 0 {
		if s.byConversation[st.conversationID]--; s.byConversation[st.conversationID] <= 0 {
			delete(s.byConversation, st.conversationID)
		}
		return
	}
	if s.byKey[st.keyID]--; s.byKey[st.keyID] <= 0 {
		delete(s.byKey, st.keyID)
	}
	if s.byTenant[st.tenantID]--; s.byTenant[st.tenantID] <= 0 {
		delete(s.byTenant, st.tenantID)
	}
}

// shutdown tells every stream to end, gives them streamShutdownGrace to send
// their stream.end event, and then cuts the writes of those still blocked on
// clients that do not read, so that the server's shutdown does not wait for
// them.
func (s *streamSet) shutdown() {
	s.closeOnce.Do(func() { close(s.closing) })
	deadline := time.Now().Add(streamShutdownGrace)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		n := len(s.open)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for st := range s.open {
		st.mu.Lock()
		st.cut = true
		st.rc.SetWriteDeadline(time.Now().Add(-time.Second))
		st.mu.Unlock()
	}
}

// CloseStreams ends every event stream, for a server that is shutting down
// (http.Server.Shutdown does not wait for handlers that never return on their
// own; register this with RegisterOnShutdown). Streams opened afterwards end
// at once. It also ends the simulated chats /v1/sim/chats started.
func (a *API) CloseStreams() {
	a.stopBackground()
	a.streams.shutdown()
}

// arm sets the write deadline for the next write, unless the stream was cut.
func (st *stream) arm() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cut {
		return errStreamCut
	}
	st.rc.SetWriteDeadline(time.Now().Add(st.timeout))
	return nil
}

// write writes one frame under the write deadline.
func (st *stream) write(format string, args ...any) error {
	if err := st.arm(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(st.w, format, args...)
	return err
}

// flush sends what was written under the write deadline.
func (st *stream) flush() error {
	if err := st.arm(); err != nil {
		return err
	}
	return st.rc.Flush()
}

// streamEnd is the data of the stream.end event that closes a stream the
// server ends: why, and whether reconnecting (with Last-Event-ID) helps.
type streamEnd struct {
	Reason  string `json:"reason"` // shutdown, max_lifetime, unauthorized or forbidden
	Message string `json:"message"`
}

// streamEvents serves the event log as Server-Sent Events: each event's id is
// its sequence number, so a client that reconnects with Last-Event-ID resumes
// exactly where it stopped. Without Last-Event-ID or after_seq it starts at
// the head of the log: only events from now on.
func (a *API) streamEvents(w http.ResponseWriter, r *http.Request, c *call) {
	after, replay, err := streamStart(c)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	filter, err := streamFilter(r.URL.Query().Get("types"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	st, err := a.streams.add(c.principal, w)
	if err != nil {
		httpapi.SetRetryAfter(w.Header(), 5*time.Second)
		a.writeError(w, r, err)
		return
	}
	defer a.streams.remove(st)
	ctx := r.Context()
	// Subscribe before reading the head: an event committed in between
	// wakes the loop, so none falls in the gap.
	wake, stop := a.opt.Store.Changes()
	defer stop()
	if !replay {
		if after, err = a.opt.Store.EventHead(ctx, c.tenantID()); err != nil {
			a.writeError(w, r, err)
			return
		}
	}

	st.rc.SetReadDeadline(time.Time{}) // a stream outlives the server's request timeouts
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if st.write("retry: 2000\n\n") != nil || st.flush() != nil {
		return
	}

	lim := a.streams.lim
	start := time.Now()
	lastAuth, lastWrite := start, start
	lifetime := time.NewTimer(lim.MaxLifetime)
	defer lifetime.Stop()
	poll := time.NewTicker(streamRecheck)
	defer poll.Stop()
	// check reports why the stream must end now, if it must: the server is
	// shutting down, the stream is old enough, or its credential no longer
	// admits it (authenticated again every streamRecheck, through the same
	// authenticator and scope as the route).
	check := func() *streamEnd {
		select {
		case <-a.streams.closing:
			return &streamEnd{"shutdown", "the server is shutting down; reconnect with Last-Event-ID to continue"}
		default:
		}
		if time.Since(start) >= lim.MaxLifetime {
			return &streamEnd{"max_lifetime", fmt.Sprintf("the stream reached its maximum lifetime of %s; reconnect with Last-Event-ID to continue", lim.MaxLifetime)}
		}
		if time.Since(lastAuth) < streamRecheck {
			return nil
		}
		lastAuth = time.Now()
		p, err := a.opt.Auth.Authenticate(r)
		switch {
		case err != nil:
			return &streamEnd{"unauthorized", switchboard.ErrorMessage(err)}
		case p.Key.ID != c.principal.Key.ID || p.Tenant.ID != c.tenantID() || !p.Key.Allows(switchboard.ScopeEventsRead):
			return &streamEnd{"forbidden", "this API key lacks the " + switchboard.ScopeEventsRead + " scope"}
		}
		return nil
	}
	end := func(e *streamEnd) {
		data, _ := json.Marshal(e)
		if st.write("event: stream.end\ndata: %s\n\n", data) == nil {
			st.flush()
		}
	}

	for {
		if e := check(); e != nil {
			end(e)
			return
		}
		evs, err := a.opt.Store.Events(ctx, c.tenantID(), after, streamPage)
		if err != nil {
			if ctx.Err() == nil {
				a.opt.Log.Error("event stream", "tenant_id", c.tenantID(), "err", err)
			}
			return
		}
		wrote := false
		for _, e := range evs {
			if why := check(); why != nil {
				end(why)
				return
			}
			after = e.Seq
			if !filter.Matches(e.Type) {
				continue
			}
			data, err := json.Marshal(e)
			if err != nil {
				a.opt.Log.Error("event stream: encode event", "tenant_id", c.tenantID(), "seq", e.Seq, "err", err)
				return
			}
			if st.write("id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, data) != nil {
				return
			}
			wrote = true
		}
		if wrote {
			if st.flush() != nil {
				return
			}
			lastWrite = time.Now()
		}
		if len(evs) > 0 {
			// A page may have been cut short by its byte budget: read on
			// until the log has nothing more.
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-a.streams.closing:
		case <-lifetime.C:
		case <-wake:
		case <-poll.C:
			if time.Since(lastWrite) >= streamKeepalive {
				if st.write(": keepalive\n\n") != nil || st.flush() != nil {
					return
				}
				lastWrite = time.Now()
			}
		}
	}
}

// streamStart reads where a stream starts: after Last-Event-ID when the
// client resumes, else after after_seq when given (0 replays the whole log);
// replay is false when neither is given and the stream starts live.
func streamStart(c *call) (after int64, replay bool, err error) {
	if v := c.r.Header.Get("Last-Event-ID"); v != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			return 0, false, badParam("Last-Event-ID", "must be the sequence number of an event (an integer of 0 or more)")
		}
		return n, true, nil
	}
	if !c.r.URL.Query().Has("after_seq") {
		return 0, false, nil
	}
	after, err = c.queryInt("after_seq")
	if err != nil {
		return 0, false, err
	}
	if after < 0 {
		return 0, false, badParam("after_seq", "must be 0 (the whole log) or the sequence number of an event")
	}
	return after, true, nil
}

// streamFilter parses the types parameter: comma-separated types or prefixes
// (user.*), at most maxStreamTypes of them.
func streamFilter(types string) (switchboard.Webhook, error) {
	filter := switchboard.Webhook{}
	for _, t := range strings.Split(types, ",") {
		if t = strings.TrimSpace(t); t != "" {
			filter.EventTypes = append(filter.EventTypes, t)
		}
	}
	if len(filter.EventTypes) > maxStreamTypes {
		return filter, badParam("types", fmt.Sprintf("lists %d types; at most %d are allowed (use prefixes such as user.*)", len(filter.EventTypes), maxStreamTypes))
	}
	return filter, nil
}

// handleStream registers a route that writes its own response.
func handleStream(a *API, rt route, serve func(http.ResponseWriter, *http.Request, *call)) {
	rt.Stream = true
	e := rt.endpoint()
	a.table.HandleRaw(&e, serve)
}
