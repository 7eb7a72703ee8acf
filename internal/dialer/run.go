package dialer

import (
	"context"
	"strconv"
	"time"

	"switchboard"
	"switchboard/internal/engine"
)

// run is one campaign running on this dialer.
type run struct {
	c      switchboard.Campaign
	active bool
	wrap   time.Duration
	// hopper holds the next leads to dial, read from the store ahead;
	// held marks them (and the leads in flight) so a refill skips them.
	hopper []switchboard.Lead
	held   map[int64]bool
	// attempts are the dials in flight, by nothing but themselves.
	attempts map[*attempt]bool
	ringing  int // dials not yet answered
	est      *Estimates
	window   abandonWindow
	recent   recentAbandons
	// exhaustedAt is when a refill last found no lead to dial (zero: it
	// did find some); finishCheckedAt when the campaign was last checked
	// for leads left.
	exhaustedAt     time.Time
	finishCheckedAt time.Time
	lastAdapt       time.Time
	loadedAt        time.Time
	nextCaller      int
	ratio           float64
	previews        map[int64]*offer // by agent
	// pending is what the next flush writes.
	pendingLeads    []switchboard.Lead
	pendingAttempts []*attempt
}

// attempt is a dial in flight.
type attempt struct {
	lead     switchboard.Lead
	row      switchboard.DialAttempt
	answered bool // a person or a machine answered
	done     bool // its final outcome is known
}

func newRun(c switchboard.Campaign) *run {
	return &run{c: c, held: map[int64]bool{}, attempts: map[*attempt]bool{}, est: NewEstimates(), previews: map[int64]*offer{}}
}

func (r *run) inFlight() int { return len(r.attempts) }

// Tuning of the predictive pacing.
const (
	// adaptEvery is how often the horizon moves toward the abandon aim.
	adaptEvery = 15 * time.Second
	// aimShare is the share of the campaign's abandon limit the horizon
	// aims for, measured over the last recentSpan person-answered dials: the
	// limit holds in every rolling hour, not on average, so the aim leaves
	// room for the hour's chance variation, and the short span lets the
	// horizon follow the campaign without the hour's lag (which made it
	// overshoot and swing; see BENCHMARKS.md).
	aimShare   = 0.55
	recentSpan = 150
	// refillPause spaces the reads of a campaign that found no lead.
	refillPause = 15 * time.Second
	// finishCheckPause spaces the checks for leads left.
	finishCheckPause = 15 * time.Second
	// reloadEvery is how often a running campaign's settings are read
	// again, so that a change through the API (a schedule, the abandon
	// limit, the caller id) reaches the dialling within seconds.
	reloadEvery = 10 * time.Second
)

// pace makes one pacing decision for r and places its dials. d.mu is held.
func (d *Dialer) pace(ctx context.Context, r *run) {
	now := d.opt.Clock.Now()
	if now.Sub(r.loadedAt) >= reloadEvery {
		d.reload(ctx, r, now)
	}
	s := r.c.Schedule
	if s.EndsAt != nil && !now.Before(*s.EndsAt) {
		d.finish(ctx, r, "the schedule ended")
		return
	}
	if s.StartsAt != nil && now.Before(*s.StartsAt) {
		return
	}
	v, ok := d.opt.Engine.PacingView(r.c.TenantID, r.c.QueueID)
	if !ok {
		return
	}
	rate := r.window.rate(now)
	if r.c.Mode == switchboard.ModePredictive && now.Sub(r.lastAdapt) >= adaptEvery && r.est.Measured() >= minDialsMeasured {
		r.lastAdapt = now
		r.est.Adapt(r.recent.rate(), aimShare*r.c.MaxAbandonPercent)
	}
	if r.c.Mode == switchboard.ModePreview {
		d.offerPreviews(ctx, r, v, now)
		d.flush(ctx, r)
		d.checkFinished(ctx, r, now)
		return
	}
	dec := Decide(Pacing{Mode: r.c.Mode, Agents: v.Agents, Free: v.Free, Waiting: v.Waiting, Busy: v.Busy,
		WrapLeft: v.WrapLeft, Wrap: r.wrap, InFlight: r.ringing, Stats: r.est, Horizon: r.est.Horizon,
		Overdial: r.c.OverdialAdjustment, AbandonLimit: r.c.MaxAbandonPercent, WindowAbandon: rate, WindowAnswers: r.window.answers(now)})
	r.ratio = dec.Ratio
	budget := switchboard.CheckNA
	if r.c.Mode == switchboard.ModePredictive {
		budget = switchboard.CheckPass
	}
	if dec.Dials > 0 {
		leads := d.take(ctx, r, dec.Dials, now)
		var dials []*attempt
		for _, l := range leads {
			a := d.newAttempt(r, l.lead, l.number, l.verdict, now)
			a.row.Checks.AbandonBudget = budget
			a.row.AbandonRate = rate
			dials = append(dials, a)
		}
		if !d.flush(ctx, r) {
			// The ledger could not be written: no dial goes out unrecorded.
			d.unqueue(r, dials)
			return
		}
		for _, a := range dials {
			d.place(r, a, 0)
		}
		if len(dials) > 0 {
			d.flush(ctx, r)
		}
	}
	d.checkFinished(ctx, r, now)
}

// reload reads the campaign's settings again. Its status stays the
// dialer's: lifecycle moves go through the Service, which halts or runs it.
func (d *Dialer) reload(ctx context.Context, r *run, now time.Time) {
	r.loadedAt = now
	c, err := d.opt.Store.Campaign(ctx, r.c.TenantID, r.c.ID)
	if err != nil {
		d.opt.Log.Warn("dialer: reload campaign", "campaign", r.c.ID, "err", err)
		return
	}
	c.Status = r.c.Status
	r.c = c
	if q, err := d.opt.Store.Queue(ctx, c.TenantID, c.QueueID); err == nil {
		r.wrap = time.Duration(q.WrapUpSeconds) * time.Second
	}
}

// candidate is a lead the rules let through, with the number to dial.
type candidate struct {
	lead    switchboard.Lead
	number  string
	verdict verdict
}

// take finds up to n leads that may be dialled now, from the hopper and the
// store. Leads the rules forbid are settled on the way (a ledger row each,
// blocked, and a final status, or deferred to their next calling hour).
func (d *Dialer) take(ctx context.Context, r *run, n int, now time.Time) []candidate {
	var out []candidate
	for len(out) < n {
		// Leads refused so far are written before the store is read again,
		// so that it does not hand them back.
		if len(r.hopper) == 0 && (!d.flush(ctx, r) || !d.refill(ctx, r, n-len(out), now)) {
			break
		}
		l := r.hopper[0]
		r.hopper = r.hopper[1:]
		number := leadNumber(&l)
		lists, err := d.listed(ctx, r.c.TenantID, &l, number)
		if err != nil {
			// Unknown: do not dial. The lead stays upcoming for later.
			d.opt.Log.Error("dialer: do-not-call and consent lookup", "campaign", r.c.ID, "err", err)
			delete(r.held, l.ID)
			break
		}
		v := d.zones.check(&r.c, &l, number, lists, now)
		if !v.dial {
			d.refuse(r, l, number, v, now)
			continue
		}
		out = append(out, candidate{lead: l, number: number, verdict: v})
	}
	return out
}

// listed reads what the tenant's lists say of number: on the do-not-call
// list, or opted out of contact (consent withdrawn by an SMS STOP); and
// whether the tenant owns the caller ID lead l asks for.
func (d *Dialer) listed(ctx context.Context, tenantID int64, l *switchboard.Lead, number string) (listing, error) {
	dnc, err := d.opt.Store.IsDNC(ctx, tenantID, number)
	if err != nil {
		return listing{}, err
	}
	out, err := d.opt.Store.OptedOut(ctx, tenantID, number)
	if err != nil {
		return listing{}, err
	}
	res := listing{dnc: dnc, optedOut: out}
	if own := l.Fields[switchboard.LeadFieldCallerID]; own != "" {
		n, err := d.opt.Store.NumberOwner(ctx, own)
		switch {
		case err == nil && n.TenantID == tenantID:
			res.callerID = own
		case err != nil && switchboard.ErrorCode(err) != switchboard.CodeNotFound:
			return listing{}, err
		}
	}
	return res, nil
}

// refill reads more dialable leads into the hopper; false when none is left.
func (d *Dialer) refill(ctx context.Context, r *run, want int, now time.Time) bool {
	if !r.exhaustedAt.IsZero() && now.Sub(r.exhaustedAt) < refillPause {
		return false
	}
	leads, err := d.opt.Store.DialableLeads(ctx, r.c.TenantID, r.c.ID, now, max(want*3, 100))
	if err != nil {
		d.opt.Log.Error("dialer: read leads", "campaign", r.c.ID, "err", err)
		r.exhaustedAt = now
		return false
	}
	for _, l := range leads {
		if !r.held[l.ID] {
			r.held[l.ID] = true
			r.hopper = append(r.hopper, l)
		}
	}
	if len(r.hopper) == 0 {
		r.exhaustedAt = now
		return false
	}
	r.exhaustedAt = time.Time{}
	return true
}

// leadNumber is the number a lead's next attempt dials: its numbers in turn.
func leadNumber(l *switchboard.Lead) string {
	if len(l.PhoneNumbers) == 0 {
		return l.PhoneNumber
	}
	return l.PhoneNumbers[l.Attempts%len(l.PhoneNumbers)]
}

// refuse writes a ledger row for a lead the rules did not let through, and
// settles it: deferred to its next calling hour, or given its final status.
func (d *Dialer) refuse(r *run, l switchboard.Lead, number string, v verdict, now time.Time) {
	delete(r.held, l.ID)
	d.stats.Blocked++
	row := d.ledgerRow(r, &l, number, v, now)
	row.Outcome, row.Reason, row.EndedAt = switchboard.DialBlocked, v.reason, &now
	switch {
	case v.status != "":
		l.Status, l.LastOutcome = v.status, switchboard.DialBlocked
	case !v.deferTo.IsZero():
		l.NextAttemptAt = &v.deferTo
	default:
		l.Status, l.LastOutcome = switchboard.LeadSkipped, switchboard.DialBlocked
		row.Reason += "; the schedule allows no later call"
	}
	l.UpdatedAt = now
	r.pendingLeads = append(r.pendingLeads, l)
	r.pendingAttempts = append(r.pendingAttempts, &attempt{row: row, done: true})
}

// ledgerRow starts the ledger row of a dial (or refusal) of l.
func (d *Dialer) ledgerRow(r *run, l *switchboard.Lead, number string, v verdict, now time.Time) switchboard.DialAttempt {
	row := switchboard.DialAttempt{TenantID: r.c.TenantID, CampaignID: r.c.ID, LeadID: l.ID, Number: number,
		Mode: string(r.c.Mode), At: now, Checks: v.checks}
	if len(v.locs) > 0 {
		row.TimeZone, row.LocalTime = v.zoneNames, now.In(v.locs[0]).Format(time.RFC3339)
	} else if _, names, ok := d.zones.leadZones(l, number); ok {
		row.TimeZone = names
	}
	return row
}

// newAttempt makes the attempt of a lead about to be dialled and queues its
// writes: the lead becomes dialing, the ledger row is new.
func (d *Dialer) newAttempt(r *run, l switchboard.Lead, number string, v verdict, now time.Time) *attempt {
	a := &attempt{lead: l, row: d.ledgerRow(r, &l, number, v, now)}
	a.row.CallerID = v.callerID
	if a.row.CallerID == "" {
		a.row.CallerID = d.callerID(r)
	}
	a.lead.Status, a.lead.Attempts, a.lead.LastAttemptAt, a.lead.NextAttemptAt, a.lead.UpdatedAt =
		switchboard.LeadDialing, l.Attempts+1, &now, nil, now
	r.attempts[a] = true
	r.ringing++
	r.held[l.ID] = true
	r.pendingLeads = append(r.pendingLeads, a.lead)
	r.pendingAttempts = append(r.pendingAttempts, a)
	return a
}

// unqueue undoes attempts whose ledger rows could not be written: they are
// not placed, their pending writes are dropped, and their leads stay as
// stored (upcoming or due), to be read again.
func (d *Dialer) unqueue(r *run, dials []*attempt) {
	drop := make(map[int64]bool, len(dials))
	for _, a := range dials {
		delete(r.attempts, a)
		delete(r.held, a.lead.ID)
		r.ringing--
		drop[a.lead.ID] = true
	}
	leads := r.pendingLeads[:0]
	for _, l := range r.pendingLeads {
		if !drop[l.ID] {
			leads = append(leads, l)
		}
	}
	r.pendingLeads = leads
	rows := r.pendingAttempts[:0]
	for _, a := range r.pendingAttempts {
		if !r.attempts[a] && !a.done {
			continue
		}
		rows = append(rows, a)
	}
	r.pendingAttempts = rows
}

// callerID is the number the next dial shows.
func (d *Dialer) callerID(r *run) string {
	if n := len(r.c.CallerIDPool); n > 0 {
		r.nextCaller = (r.nextCaller + 1) % n
		return r.c.CallerIDPool[r.nextCaller]
	}
	return r.c.CallerID
}

// place hands a recorded attempt to the engine: through the queue, or (agent
// set) to that agent first, as preview does.
func (d *Dialer) place(r *run, a *attempt, agent int64) {
	var media, machine string
	if r.c.AbandonPrompt != "" {
		media = engine.PromptMedia(r.c.TenantID, r.c.AbandonPrompt)
	}
	if r.c.MachineAction == switchboard.MachineMessage && r.c.MachinePrompt != "" {
		machine = engine.PromptMedia(r.c.TenantID, r.c.MachinePrompt)
	}
	d.stats.Dials++
	id, err := d.opt.Engine.Dial(engine.Dial{TenantID: r.c.TenantID, QueueID: r.c.QueueID, AgentID: agent, Number: a.row.Number,
		CallerID: a.row.CallerID, Timeout: time.Duration(r.c.RingSeconds) * time.Second, AbandonAfter: 2 * time.Second,
		AbandonMedia: media, MachineMedia: machine, MessageLength: d.opt.MessageLength,
		Source:     switchboard.CallSource{System: "campaign", AccountID: strconv.FormatInt(r.c.ID, 10)},
		CampaignID: r.c.ID,
		Report:     func(rep engine.DialReport) { d.post(r, a, rep) }})
	if err != nil {
		d.opt.Log.Warn("dialer: the engine refused a dial", "campaign", r.c.ID, "lead", a.lead.ID, "err", err)
		d.apply(r, a, engine.DialReport{Result: engine.DialFailed, At: d.opt.Clock.Now(), Cause: err.Error()})
		return
	}
	a.row.CallID = &id
	a.lead.LastCallID = &id
}

// outcomes maps the engine's final results to the ledger's outcomes.
var outcomes = map[engine.DialResult]switchboard.DialOutcome{
	engine.DialMachine: switchboard.DialMachine, engine.DialAbandoned: switchboard.DialAbandoned,
	engine.DialHungUp: switchboard.DialHungUp, engine.DialNoAnswer: switchboard.DialNoAnswer,
	engine.DialBusy: switchboard.DialBusy, engine.DialInvalid: switchboard.DialInvalid, engine.DialFailed: switchboard.DialFailed,
}

// apply moves an attempt along one engine report. d.mu is held.
func (d *Dialer) apply(r *run, a *attempt, rep engine.DialReport) {
	if a.done {
		return
	}
	now := rep.At
	if now.IsZero() {
		now = d.opt.Clock.Now()
	}
	if rep.CallID != 0 {
		a.row.CallID, a.lead.LastCallID = &rep.CallID, &rep.CallID
	}
	if !a.answered {
		switch rep.Result {
		case engine.DialAnswered, engine.DialConnected:
			a.answered = true
			r.ringing--
			r.est.Dialled(true)
		case engine.DialMachine, engine.DialNoAnswer, engine.DialBusy, engine.DialInvalid, engine.DialFailed:
			a.answered = true
			r.ringing--
			r.est.Dialled(false)
		}
	}
	switch rep.Result {
	case engine.DialAnswered:
		a.lead.Status = switchboard.LeadQueued
	case engine.DialConnected:
		a.lead.Status = switchboard.LeadConnected
		a.row.Outcome = switchboard.DialConnected
		if rep.AgentID != 0 {
			a.row.AgentID = &rep.AgentID
		}
		r.window.add(now, false)
		r.recent.add(false)
		r.pendingAttempts = append(r.pendingAttempts, a)
	case engine.DialEnded:
		r.est.Talked(rep.Talk)
		a.lead.Status, a.lead.LastOutcome = switchboard.LeadFinished, switchboard.DialConnected
		a.row.Outcome, a.row.EndedAt = switchboard.DialConnected, &now
		d.settle(r, a)
	default:
		o, ok := outcomes[rep.Result]
		if !ok {
			return
		}
		switch o {
		case switchboard.DialAbandoned:
			r.window.add(now, true)
			r.recent.add(true)
		case switchboard.DialHungUp:
			r.window.add(now, false)
			r.recent.add(false)
		}
		a.row.Outcome, a.row.Reason, a.row.EndedAt = o, rep.Cause, &now
		a.lead.LastOutcome = o
		a.lead.Status, a.lead.NextAttemptAt = nextStatus(&r.c, &a.lead, o, now)
		d.settle(r, a)
	}
	a.lead.UpdatedAt = now
	r.pendingLeads = append(r.pendingLeads, a.lead)
}

// settle ends an attempt: its final writes are queued, it leaves the flight.
func (d *Dialer) settle(r *run, a *attempt) {
	a.done = true
	d.count(a.row.Outcome)
	delete(r.attempts, a)
	delete(r.held, a.lead.ID)
	r.pendingAttempts = append(r.pendingAttempts, a)
}

// finalStatus is a lead's status when an outcome leaves no redial.
var finalStatus = map[switchboard.DialOutcome]switchboard.LeadStatus{
	switchboard.DialAbandoned: switchboard.LeadAbandoned, switchboard.DialMachine: switchboard.LeadVoicemail,
	switchboard.DialNoAnswer: switchboard.LeadNotPickedUp, switchboard.DialBusy: switchboard.LeadNotPickedUp,
	switchboard.DialHungUp: switchboard.LeadNotPickedUp, switchboard.DialInvalid: switchboard.LeadInvalidNumber,
	switchboard.DialFailed: switchboard.LeadFailed, switchboard.DialInterrupt: switchboard.LeadFailed,
}

// nextStatus applies the campaign's retry rule for outcome o to l (whose
// Attempts count the attempt that just ended).
func nextStatus(c *switchboard.Campaign, l *switchboard.Lead, o switchboard.DialOutcome, now time.Time) (switchboard.LeadStatus, *time.Time) {
	rule := c.Rule(o)
	if o != switchboard.DialInvalid && rule.Retry && l.Attempts <= c.MaxRedials {
		at := now.Add(time.Duration(rule.AfterSeconds) * time.Second)
		return switchboard.LeadRedialScheduled, &at
	}
	return finalStatus[o], nil
}

// flush writes r's pending lead states and ledger rows in one transaction;
// false when the store refused them (they stay pending for the next flush).
func (d *Dialer) flush(ctx context.Context, r *run) bool {
	if len(r.pendingLeads) == 0 && len(r.pendingAttempts) == 0 {
		return true
	}
	// A lead or row changed twice since the last flush is written once, as
	// it stands now.
	leads := make([]switchboard.Lead, 0, len(r.pendingLeads))
	seenLead := make(map[int64]int, len(r.pendingLeads))
	for _, l := range r.pendingLeads {
		if i, ok := seenLead[l.ID]; ok {
			leads[i] = l
			continue
		}
		seenLead[l.ID] = len(leads)
		leads = append(leads, l)
	}
	var rows []switchboard.DialAttempt
	var owners []*attempt
	seenRow := map[*attempt]bool{}
	for _, a := range r.pendingAttempts {
		if seenRow[a] {
			continue
		}
		seenRow[a] = true
		rows = append(rows, a.row)
		owners = append(owners, a)
	}
	ids, err := d.opt.Store.SaveDialProgress(ctx, r.c.TenantID, leads, rows)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound && d.dropDeleted(ctx, r) {
		// A lead was deleted through the API after the hopper read it.
		return d.flush(ctx, r)
	}
	if err != nil {
		d.opt.Log.Error("dialer: write progress", "campaign", r.c.ID, "leads", len(leads), "err", err)
		return false
	}
	k := 0
	for i, a := range owners {
		if rows[i].ID == 0 && k < len(ids) {
			a.row.ID = ids[k]
			k++
		}
	}
	r.pendingLeads, r.pendingAttempts = r.pendingLeads[:0], r.pendingAttempts[:0]
	return true
}

// dropDeleted drops the pending writes of leads that no longer exist (the
// store refuses the whole save for them); false when none was missing.
func (d *Dialer) dropDeleted(ctx context.Context, r *run) bool {
	gone := map[int64]bool{}
	for _, l := range r.pendingLeads {
		if _, done := gone[l.ID]; done {
			continue
		}
		_, err := d.opt.Store.Lead(ctx, r.c.TenantID, l.ID)
		gone[l.ID] = switchboard.ErrorCode(err) == switchboard.CodeNotFound
	}
	dropped := false
	leads := r.pendingLeads[:0]
	for _, l := range r.pendingLeads {
		if gone[l.ID] {
			dropped = true
			delete(r.held, l.ID)
			continue
		}
		leads = append(leads, l)
	}
	r.pendingLeads = leads
	rows := r.pendingAttempts[:0]
	for _, a := range r.pendingAttempts {
		if gone[a.row.LeadID] && a.row.ID == 0 {
			if r.attempts[a] {
				delete(r.attempts, a)
				r.ringing--
			}
			continue
		}
		rows = append(rows, a)
	}
	r.pendingAttempts = rows
	return dropped
}

// checkFinished finishes a campaign with nothing left to dial: no lead in
// flight or offered, and none upcoming or due for a redial; or one whose
// target of processed leads is reached.
func (d *Dialer) checkFinished(ctx context.Context, r *run, now time.Time) {
	if r.exhaustedAt.IsZero() && r.c.TargetToProcess == 0 || r.inFlight() > 0 || len(r.previews) > 0 || len(r.hopper) > 0 {
		return
	}
	if !r.finishCheckedAt.IsZero() && now.Sub(r.finishCheckedAt) < finishCheckPause {
		return
	}
	r.finishCheckedAt = now
	st, err := d.opt.Store.CampaignCounts(ctx, r.c.TenantID, r.c.ID, time.Time{})
	if err != nil {
		d.opt.Log.Error("dialer: count leads", "campaign", r.c.ID, "err", err)
		return
	}
	open, final := 0, 0
	for s, n := range st.Leads {
		if s.Final() {
			final += n
		} else {
			open += n
		}
	}
	switch {
	case r.c.TargetToProcess > 0 && final >= r.c.TargetToProcess:
		d.finish(ctx, r, "the target of processed leads was reached")
	case open == 0 && !r.exhaustedAt.IsZero():
		d.finish(ctx, r, "no lead is left to dial")
	}
}

// finish marks the campaign finished and stops dialling it.
func (d *Dialer) finish(ctx context.Context, r *run, why string) {
	if _, err := d.opt.Store.SetCampaignStatus(ctx, r.c.TenantID, r.c.ID, []switchboard.CampaignStatus{switchboard.CampaignStarted}, switchboard.CampaignFinished); err != nil {
		d.opt.Log.Error("dialer: finish campaign", "campaign", r.c.ID, "err", err)
		return
	}
	d.opt.Log.Info("dialer: campaign finished", "campaign", r.c.ID, "why", why)
	r.active = false
	r.hopper = r.hopper[:0]
	clear(r.held)
	if r.inFlight() == 0 {
		delete(d.runs, r.c.ID)
	}
}

// abandonWindow is the rolling hour of person-answered dials, each abandoned
// or not, that the abandon limit is measured over.
type abandonWindow struct {
	at        []time.Time
	abandoned []bool
	head      int
	count     int // abandoned among at[head:]
}

const windowSpan = time.Hour

func (w *abandonWindow) add(t time.Time, abandoned bool) {
	w.at = append(w.at, t)
	w.abandoned = append(w.abandoned, abandoned)
	if abandoned {
		w.count++
	}
}

func (w *abandonWindow) trim(now time.Time) {
	for w.head < len(w.at) && now.Sub(w.at[w.head]) >= windowSpan {
		if w.abandoned[w.head] {
			w.count--
		}
		w.head++
	}
	if w.head > 1024 && w.head*2 > len(w.at) {
		w.at = append(w.at[:0], w.at[w.head:]...)
		w.abandoned = append(w.abandoned[:0], w.abandoned[w.head:]...)
		w.head = 0
	}
}

// answers is how many person-answered dials the last hour holds.
func (w *abandonWindow) answers(now time.Time) int {
	w.trim(now)
	return len(w.at) - w.head
}

// rate is the last hour's abandon rate in percent.
func (w *abandonWindow) rate(now time.Time) float64 {
	n := w.answers(now)
	if n == 0 {
		return 0
	}
	return 100 * float64(w.count) / float64(n)
}

// recentAbandons are the last recentSpan person-answered dials, each
// abandoned or not: the predictive horizon follows their rate.
type recentAbandons struct {
	abandoned []bool
	next      int
	count     int
}

func (w *recentAbandons) add(abandoned bool) {
	if len(w.abandoned) < recentSpan {
		w.abandoned = append(w.abandoned, abandoned)
	} else {
		if w.abandoned[w.next] {
			w.count--
		}
		w.abandoned[w.next] = abandoned
		w.next = (w.next + 1) % recentSpan
	}
	if abandoned {
		w.count++
	}
}

// rate is their abandon rate in percent.
func (w *recentAbandons) rate() float64 {
	if len(w.abandoned) == 0 {
		return 0
	}
	return 100 * float64(w.count) / float64(len(w.abandoned))
}
