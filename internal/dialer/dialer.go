package dialer

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"switchboard"
	"switchboard/internal/engine"
)

// Engine is what the dialer needs of the call engine: placing a campaign's
// calls and seeing its queue.
type Engine interface {
	Dial(d engine.Dial) (int64, error)
	PacingView(tenantID, queueID int64) (engine.PacingView, bool)
}

// Store is what the running dialer needs of the store (sqlstore's DB in the
// server, Memory in the simulator).
type Store interface {
	Queue(ctx context.Context, tenantID, id int64) (switchboard.Queue, error)
	IsDNC(ctx context.Context, tenantID int64, number string) (bool, error)
	// OptedOut says whether the number withdrew its consent (an SMS STOP):
	// the dialer refuses it as it refuses the do-not-call list.
	OptedOut(ctx context.Context, tenantID int64, number string) (bool, error)
	// NumberOwner finds the number's owner (CodeNotFound when no tenant
	// has it): a lead's own caller ID is shown only when its tenant owns it.
	NumberOwner(ctx context.Context, number string) (switchboard.PhoneNumber, error)
	SetCampaignStatus(ctx context.Context, tenantID, id int64, from []switchboard.CampaignStatus, to switchboard.CampaignStatus) (switchboard.Campaign, error)
	DialableLeads(ctx context.Context, tenantID, campaignID int64, now time.Time, limit int) ([]switchboard.Lead, error)
	SaveDialProgress(ctx context.Context, tenantID int64, leads []switchboard.Lead, attempts []switchboard.DialAttempt) ([]int64, error)
	CampaignCounts(ctx context.Context, tenantID, campaignID int64, windowSince time.Time) (switchboard.CampaignStats, error)
	Lead(ctx context.Context, tenantID, id int64) (switchboard.Lead, error)
	Campaign(ctx context.Context, tenantID, id int64) (switchboard.Campaign, error)
}

// Options wire a Dialer.
type Options struct {
	Clock  engine.Clock
	Engine Engine
	Store  Store
	Log    *slog.Logger
	// Tick is the pacing period (default 1 s).
	Tick time.Duration
	// MessageLength is how long the abandon and machine prompts play
	// before the hang-up (default 8 s).
	MessageLength time.Duration
}

// Dialer runs the started campaigns: every tick it asks each campaign's
// pacing how many leads to dial, checks each lead against the rules, writes
// the attempt to the ledger and the lead's new state, and only then places
// the call through the engine, so a crash can never lose a dial (the lead is
// not dialled again after a restart). What becomes of each dial comes back as
// the engine's reports, which set the lead's outcome and the ledger row's.
type Dialer struct {
	opt Options

	mu     sync.Mutex
	runs   map[int64]*run // by campaign id
	closed bool
	timer  engine.Timer
	zones  zones

	inboxMu sync.Mutex
	inbox   []report
	armed   bool

	// stats are the running totals the metrics read (d.mu).
	stats Stats
}

// Stats are the dialer's totals since it started, and what runs now.
type Stats struct {
	// Campaigns running here, dials in flight (ringing or answered and
	// not ended) and leads offered in preview now.
	Campaigns, InFlight, Offers int
	// Dials placed, refusals by the rules, and the dials' outcomes.
	Dials, Blocked int64
	Outcomes       map[switchboard.DialOutcome]int64
}

// Stats reports the dialer's totals and what runs now.
func (d *Dialer) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stats
	s.Outcomes = make(map[switchboard.DialOutcome]int64, len(d.stats.Outcomes))
	for k, v := range d.stats.Outcomes {
		s.Outcomes[k] = v
	}
	for _, r := range d.runs {
		if r.active {
			s.Campaigns++
		}
		s.InFlight += len(r.attempts)
		s.Offers += len(r.previews)
	}
	return s
}

// count adds an attempt's final outcome to the totals. d.mu is held.
func (d *Dialer) count(o switchboard.DialOutcome) {
	if d.stats.Outcomes == nil {
		d.stats.Outcomes = map[switchboard.DialOutcome]int64{}
	}
	d.stats.Outcomes[o]++
}

// report is one engine report about one attempt, queued for the drain.
type report struct {
	r   *run
	a   *attempt
	rep engine.DialReport
}

// New returns a dialer; Start begins its ticks.
func New(opt Options) *Dialer {
	if opt.Tick <= 0 {
		opt.Tick = time.Second
	}
	if opt.MessageLength <= 0 {
		opt.MessageLength = 8 * time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Dialer{opt: opt, runs: map[int64]*run{}}
}

// Start begins ticking.
func (d *Dialer) Start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer == nil && !d.closed {
		d.timer = d.opt.Clock.AfterFunc(d.opt.Tick, d.tick)
	}
}

// Close stops the ticks; calls in flight go on in the engine, and their
// outcomes are no longer written (the next start closes their ledger rows as
// interrupted).
func (d *Dialer) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.timer != nil {
		d.timer.Stop()
	}
}

// ErrClosed refuses work once the dialer has closed.
var ErrClosed = errors.New("the dialer is closed")

// Run starts (or resumes) dialling a started campaign. It reads the queue's
// wrap-up, which the predictive pacing counts in.
func (d *Dialer) Run(ctx context.Context, c switchboard.Campaign) error {
	q, err := d.opt.Store.Queue(ctx, c.TenantID, c.QueueID)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	r, ok := d.runs[c.ID]
	if !ok {
		r = newRun(c)
		d.runs[c.ID] = r
	}
	r.c, r.active, r.exhaustedAt, r.loadedAt = c, true, time.Time{}, d.opt.Clock.Now()
	r.wrap = time.Duration(q.WrapUpSeconds) * time.Second
	return nil
}

// Halt stops dialling a campaign's new leads (pause, stop): dials in flight
// go on and their outcomes are still written; leads held for dialling and
// offered in preview go back to upcoming.
func (d *Dialer) Halt(ctx context.Context, campaignID int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.runs[campaignID]
	if !ok {
		return
	}
	r.active = false
	r.hopper = r.hopper[:0]
	clear(r.held)
	d.withdrawOffers(ctx, r)
	if r.inFlight() == 0 {
		delete(d.runs, campaignID)
	}
}

// Live is the running part of a campaign's stats (ok false when it does
// not run here).
func (d *Dialer) Live(tenantID, campaignID int64) (switchboard.CampaignStats, bool) {
	d.mu.Lock()
	r, ok := d.runs[campaignID]
	ok = ok && r.c.TenantID == tenantID
	var s switchboard.CampaignStats
	var queue int64
	if ok {
		s.DialsInProgress = len(r.attempts)
		s.PacingRatio = r.ratio
		s.WindowAbandonRate = r.window.rate(d.opt.Clock.Now())
		queue = r.c.QueueID
	}
	d.mu.Unlock()
	if !ok {
		return s, false
	}
	// The engine is asked without the dialer's lock (the tick holds it
	// while calling the engine).
	if v, ok := d.opt.Engine.PacingView(tenantID, queue); ok {
		s.AgentsOnCampaign, s.AgentsAvailable = v.Agents, v.Free
	}
	return s, true
}

// tick paces every running campaign once and re-arms itself.
func (d *Dialer) tick() {
	ctx := context.Background()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	runs := make([]*run, 0, len(d.runs))
	for _, r := range d.runs {
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(a, b *run) int { return cmp.Compare(a.c.ID, b.c.ID) })
	for _, r := range runs {
		if r.active {
			d.pace(ctx, r)
		}
	}
	d.timer = d.opt.Clock.AfterFunc(d.opt.Tick, d.tick)
}

// post queues an engine report for the drain. It runs under the engine's
// lock, so it takes only the inbox's.
func (d *Dialer) post(r *run, a *attempt, rep engine.DialReport) {
	d.inboxMu.Lock()
	d.inbox = append(d.inbox, report{r: r, a: a, rep: rep})
	arm := !d.armed
	d.armed = true
	d.inboxMu.Unlock()
	if arm {
		d.opt.Clock.AfterFunc(0, d.drain)
	}
}

// drain applies the queued reports and writes what they changed.
func (d *Dialer) drain() {
	d.inboxMu.Lock()
	batch := d.inbox
	d.inbox, d.armed = nil, false
	d.inboxMu.Unlock()
	ctx := context.Background()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		// The store may be closing; the next start closes these attempts.
		return
	}
	touched := map[*run]bool{}
	for _, x := range batch {
		d.apply(x.r, x.a, x.rep)
		touched[x.r] = true
	}
	for r := range touched {
		d.flush(ctx, r)
		if !r.active && r.inFlight() == 0 && d.runs[r.c.ID] == r {
			delete(d.runs, r.c.ID)
		}
	}
}
