// Package analytics is speech analytics: after a recorded call ends, its
// recording is transcribed through a provider (switchboard.Transcriber),
// summarised and scored, and the result is stored with its
// call.analytics.available event, which webhooks deliver like any other.
//
// # How a call is analysed
//
// The Service follows the event log (internal/eventtail). A call.ended
// event whose call was recorded (and is not a fax) files a pending analysis
// (Store.QueueCallAnalytics, once per call whatever happens twice). A
// dispatcher takes the due analyses from the store (so pending work
// survives a restart and a slow provider delays only analytics) and runs at
// most Concurrency at once: it reads the call, opens its recording through
// the same port the native API's GET /v1/calls/{id}/recording uses
// (switchboard.CallService.Recording, the driver's), transcribes it within
// Timeout, computes the summary and score (Analyse), and stores them with
// the event in one transaction (Store.FinishCallAnalytics). A failed attempt
// is tried again after Backoff, doubled at each attempt up to an hour; the
// MaxAttempts-th failure stores the analysis as failed, with its error and
// the call.analytics.failed event. An attempt cut by Close is not counted:
// the analysis stays due and the next start takes it.
//
// The follower's position in each tenant's log is saved in the store
// (follower_positions, name "analytics") after it moves, so that a restart
// resumes where the last run stopped and the calls that ended meanwhile are
// analysed. The very first start begins at the log's head: calls recorded
// before analytics was turned on are not analysed. Reading an event again
// after a crash is harmless, since queueing is idempotent. Like the dialer,
// the service runs where the calls run (one node).
//
// # Summary
//
// Extractive (Summarise): the customer's first line that states a need (it
// holds "I need", "I want", "I'd like", "calling about", "can you",
// "problem", "issue", "question"…; else their first line) and the agent's
// last line that states an outcome ("I've", "has been", "will be", "is
// now", "refund", "sent", "resolved", "fixed", "scheduled", "confirmed"…;
// else their last line), as "Customer: … Agent: …".
//
// # Score
//
// 0-100, the weighted mean of four parts, each 0-100, all computed from the
// transcript by fixed rules (no model), so the same transcript always
// scores the same:
//
//   - sentiment (weight 40): over the customer's words, 50 + 50 × (pos −
//     neg) / (pos + neg + 2), counting a small lexicon of positive words
//     (great, thanks, perfect, resolved, helpful…) and negative ones
//     (problem, frustrated, terrible, wrong, broken…), a word after a
//     negation ("not good", "don't like") counted as its opposite;
//   - talk ratio (weight 20): the agent's share r of the speech time is 100
//     from 35 % to 65 %, falling linearly to 0 at 0 % and 100 % (a
//     monologue either way); left out, with its weight, when the
//     transcript does not say who spoke (a mono recording through the HTTP
//     provider);
//   - silence (weight 20): the share s of the recording in which nobody
//     speaks is 100 up to 10 %, falling linearly to 0 at 60 %;
//   - keywords (weight 20): 20 points for each of five good-practice groups
//     the agent's words hit: greeting (hello, thank you for calling…),
//     offer of help (how can I help…), empathy (I understand, sorry…),
//     "anything else", closing (have a great day, goodbye…).
//
// # Providers
//
// SimTranscriber (the simulator's: a scripted conversation over the turns
// it hears; see its doc) and HTTPTranscriber (any OpenAI/Whisper-compatible
// server, two-channel recordings split into the customer's and the agent's
// channels).
package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"time"

	"switchboard"
	"switchboard/internal/eventtail"
)

// Store is what the Service reads and writes. *sqlstore.DB implements it.
type Store interface {
	eventtail.Store
	switchboard.AnalyticsStore
	Call(ctx context.Context, tenantID, id int64) (switchboard.Call, error)
	// FollowerPositions and SaveFollowerPositions keep where the follower
	// stopped (nil: it never ran).
	FollowerPositions(ctx context.Context, name string) (map[int64]int64, error)
	SaveFollowerPositions(ctx context.Context, name string, pos map[int64]int64) error
}

// Recordings opens a call's recording: the call service (and through it the
// telephony driver), as for GET /v1/calls/{id}/recording.
type Recordings interface {
	Recording(ctx context.Context, c switchboard.Call) (int64, io.ReadCloser, error)
}

// followerName is the Service's name in follower_positions.
const followerName = "analytics"

// Options configure a Service. Zero values take the documented defaults.
type Options struct {
	Store       Store
	Recordings  Recordings
	Transcriber switchboard.Transcriber
	// Provider names the Transcriber in the stored results (sim, http).
	Provider string
	// Language is the hint given to the Transcriber ("" lets it detect).
	Language string
	// Concurrency bounds the analyses running at once (default 2).
	Concurrency int
	// MaxAttempts is how many attempts an analysis gets before it is
	// failed (default 5).
	MaxAttempts int
	// Backoff is the wait after the first failed attempt, doubled after
	// each further one, at most an hour (default 30 s).
	Backoff time.Duration
	// Timeout bounds one attempt, the recording's read and its
	// transcription (default 15 minutes).
	Timeout time.Duration
	// Poll is how often the store is asked for due analyses when nothing
	// wakes the dispatcher (default 1 s).
	Poll time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Service analyses recorded calls until Close.
type Service struct {
	opt  Options
	tail *eventtail.Follower

	mu       sync.Mutex
	pos      map[int64]int64 // the last event handled, by tenant
	saved    map[int64]int64 // what the store holds
	stuck    map[int64]bool  // tenants whose last event could not be handled: their position stops
	inflight map[int64]bool  // analyses running, by id

	wake    chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
	workers sync.WaitGroup
}

// New returns a Service; Start runs it.
func New(opt Options) *Service {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 2
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 5
	}
	if opt.Backoff <= 0 {
		opt.Backoff = 30 * time.Second
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 15 * time.Minute
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	return &Service{opt: opt, stuck: map[int64]bool{}, inflight: map[int64]bool{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// Start follows the log from where the last run stopped (the head, the
// first time) and starts the dispatcher.
func (s *Service) Start(ctx context.Context) error {
	from, err := s.opt.Store.FollowerPositions(ctx, followerName)
	if err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	if from == nil {
		if from, err = s.opt.Store.EventHeads(ctx); err != nil {
			return fmt.Errorf("analytics: %w", err)
		}
		if err := s.opt.Store.SaveFollowerPositions(ctx, followerName, from); err != nil {
			return fmt.Errorf("analytics: %w", err)
		}
	}
	s.pos, s.saved = maps.Clone(from), maps.Clone(from)
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	tail, err := eventtail.Start(run, s.opt.Store, s.handle, eventtail.Options{From: from, Poll: s.opt.Poll, Log: s.opt.Log})
	if err != nil {
		cancel()
		return fmt.Errorf("analytics: %w", err)
	}
	s.tail = tail
	go s.dispatch(run)
	return nil
}

// CatchUp handles every event committed before it was called (tests, and
// callers that need a just-ended call queued).
func (s *Service) CatchUp(ctx context.Context) error { return s.tail.CatchUp(ctx) }

// Close stops following, cancels the attempts running (they stay due) and
// saves the follower's position.
func (s *Service) Close(ctx context.Context) error {
	if s.cancel == nil {
		return nil
	}
	err := s.tail.Close()
	s.cancel()
	<-s.done
	s.workers.Wait()
	return errors.Join(err, s.savePositions(ctx))
}

// handle queues the analysis of a recorded call that ended. A store that
// fails is asked again, with a pause, until it answers or the Service
// closes: the event is not let go unhandled, and if Close comes first the
// tenant's saved position stays before it.
func (s *Service) handle(ctx context.Context, e switchboard.Event) {
	defer s.moved(e)
	if e.Type != switchboard.EventCallEnded || s.isStuck(e.TenantID) {
		return
	}
	var p switchboard.CallEventPayload
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		s.opt.Log.Error("analytics: a call.ended event that does not decode", "tenant_id", e.TenantID, "seq", e.Seq, "err", err)
		return
	}
	if !p.Recorded || p.Media == switchboard.MediaFax || p.ConnectedAt == nil {
		return
	}
	for pause := 100 * time.Millisecond; ; pause = min(2*pause, 10*time.Second) {
		_, created, err := s.opt.Store.QueueCallAnalytics(ctx, e.TenantID, e.SubjectID)
		if err == nil {
			if created {
				s.poke()
			}
			return
		}
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
			return // the call is gone: nothing to analyse
		}
		s.opt.Log.Warn("analytics: cannot queue a call", "tenant_id", e.TenantID, "call_id", e.SubjectID, "err", err)
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.stuck[e.TenantID] = true
			s.mu.Unlock()
			return
		case <-time.After(pause):
		}
	}
}

func (s *Service) isStuck(tenantID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stuck[tenantID]
}

// moved records that e was handled, unless its tenant is stuck.
func (s *Service) moved(e switchboard.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stuck[e.TenantID] {
		s.pos[e.TenantID] = e.Seq
	}
}

// savePositions writes the positions that moved since the last save.
func (s *Service) savePositions(ctx context.Context) error {
	s.mu.Lock()
	changed := map[int64]int64{}
	for id, seq := range s.pos {
		if s.saved[id] != seq {
			changed[id] = seq
		}
	}
	s.mu.Unlock()
	if len(changed) == 0 {
		return nil
	}
	if err := s.opt.Store.SaveFollowerPositions(ctx, followerName, changed); err != nil {
		return fmt.Errorf("analytics: save the follower's position: %w", err)
	}
	s.mu.Lock()
	maps.Copy(s.saved, changed)
	s.mu.Unlock()
	return nil
}

// poke wakes the dispatcher.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// dispatch starts the due analyses, at most Concurrency at once, when woken
// (a call queued, an analysis done) and on every poll, and saves the
// follower's position as it goes.
func (s *Service) dispatch(ctx context.Context) {
	defer close(s.done)
	poll := time.NewTicker(s.opt.Poll)
	defer poll.Stop()
	for {
		s.startDue(ctx)
		if err := s.savePositions(ctx); err != nil && ctx.Err() == nil {
			s.opt.Log.Warn("analytics", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-poll.C:
		}
	}
}

func (s *Service) startDue(ctx context.Context) {
	s.mu.Lock()
	running := len(s.inflight)
	s.mu.Unlock()
	free := s.opt.Concurrency - running
	if free <= 0 {
		return
	}
	due, err := s.opt.Store.DueCallAnalytics(ctx, s.opt.Now(), free+running)
	if err != nil {
		if ctx.Err() == nil {
			s.opt.Log.Warn("analytics: read due analyses", "err", err)
		}
		return
	}
	for _, a := range due {
		s.mu.Lock()
		if s.inflight[a.ID] || len(s.inflight) >= s.opt.Concurrency {
			s.mu.Unlock()
			continue
		}
		s.inflight[a.ID] = true
		s.mu.Unlock()
		s.workers.Add(1)
		go func() {
			defer s.workers.Done()
			s.run(ctx, a)
			s.mu.Lock()
			delete(s.inflight, a.ID)
			s.mu.Unlock()
			s.poke()
		}()
	}
}

// run makes one attempt at analysis a and stores its outcome. The due list
// a came from may have been read just before another worker stored a's
// outcome and left the in-flight set, so a is read again first: an analysis
// no longer pending, or attempted since, is not attempted twice.
func (s *Service) run(ctx context.Context, a switchboard.CallAnalytics) {
	if cur, err := s.opt.Store.CallAnalytics(ctx, a.TenantID, a.CallID); err != nil || cur.Status != switchboard.AnalyticsPending || cur.Attempts != a.Attempts {
		return
	}
	res, err := s.attempt(ctx, a)
	if ctx.Err() != nil {
		return // cut by Close: not an attempt; the next start takes it
	}
	log := s.opt.Log.With("tenant_id", a.TenantID, "call_id", a.CallID, "attempt", a.Attempts+1)
	store := context.WithoutCancel(ctx)
	if err == nil {
		if _, err := s.opt.Store.FinishCallAnalytics(store, res); err != nil {
			log.Error("analytics: store the result", "err", err)
		}
		return
	}
	if a.Attempts+1 >= s.opt.MaxAttempts {
		log.Warn("analytics: giving up", "err", err)
		a.Status, a.Error, a.Provider = switchboard.AnalyticsFailed, err.Error(), s.opt.Provider
		if _, err := s.opt.Store.FinishCallAnalytics(store, a); err != nil {
			log.Error("analytics: store the failure", "err", err)
		}
		return
	}
	wait := s.opt.Backoff << min(a.Attempts, 20)
	if wait > time.Hour || wait <= 0 {
		wait = time.Hour
	}
	log.Info("analytics: attempt failed, trying again later", "err", err, "after", wait)
	if _, err := s.opt.Store.DeferCallAnalytics(store, a.TenantID, a.ID, err.Error(), s.opt.Now().Add(wait)); err != nil {
		log.Error("analytics: record the failed attempt", "err", err)
	}
}

// attempt reads the call's recording, transcribes it and analyses the
// transcript.
func (s *Service) attempt(ctx context.Context, a switchboard.CallAnalytics) (switchboard.CallAnalytics, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	call, err := s.opt.Store.Call(ctx, a.TenantID, a.CallID)
	if err != nil {
		return a, fmt.Errorf("read the call: %w", err)
	}
	_, rec, err := s.opt.Recordings.Recording(ctx, call)
	if err != nil {
		// The stored error is shown to the tenant: a driver's internal
		// error (a path on this server) is logged, not kept.
		s.opt.Log.Warn("analytics: open the recording", "tenant_id", a.TenantID, "call_id", a.CallID, "err", err)
		return a, fmt.Errorf("open the recording: %s", switchboard.ErrorMessage(err))
	}
	defer rec.Close()
	t, err := s.opt.Transcriber.Transcribe(ctx, rec, "audio/wav", s.opt.Language)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return a, fmt.Errorf("transcription took longer than %s", s.opt.Timeout)
		}
		return a, err
	}
	if len(t.Segments) > switchboard.MaxTranscriptSegments {
		t.Segments = t.Segments[:switchboard.MaxTranscriptSegments]
	}
	r := Analyse(t)
	a.Status, a.Language, a.Duration, a.Transcript = switchboard.AnalyticsAvailable, t.Language, t.Duration, t.Segments
	a.Summary, a.Score, a.ScoreParts, a.Provider, a.Error = r.Summary, &r.Score, &r.Parts, s.opt.Provider, ""
	if a.Transcript == nil {
		a.Transcript = []switchboard.TranscriptSegment{}
	}
	return a, nil
}
