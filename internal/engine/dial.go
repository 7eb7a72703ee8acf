package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// Campaign dials. The dialer (internal/dialer) places its calls through the
// engine, so that a campaign runs on every driver and its calls are calls
// like any other: they reach the Observer (CDRs, webhooks, events), ring the
// queue's agents by its strategy, wrap up, transfer and hold as queued calls
// do. What is new is the dialer's side: each dial tells its Report what
// became of it, and a person who answered and found no agent within
// AbandonAfter is let go with a message (the abandon rule of the FCC and
// Ofcom), which predictive pacing must keep rare.
//
// A progressive or predictive dial rings the number first ("dialing"); a
// person who answers joins the queue ("queued") with the abandon timer
// running, and is offered to agents first come first served with the
// queue's other callers: a campaign queue should not take inbound traffic,
// or campaign calls will wait behind inbound callers and be abandoned. A
// machine (LegAnswered with CauseMachine) hears MachineMedia, or nothing, and
// is hung up. A preview dial rings its agent first and dials the number once
// they answer, as a click-to-call does.

// Dial is a campaign's call to a lead.
type Dial struct {
	TenantID int64
	// QueueID is where a person who answers is put (required: the tenant's
	// queue). A preview call records it too, and its agent wraps up as the
	// queue says.
	QueueID int64
	// AgentID, when set, makes the dial a preview: this agent's phone rings
	// first and the number is dialled once they answer (the click-to-call
	// flow); the call is not queued.
	AgentID  int64
	Number   string // E.164
	CallerID string
	// Timeout is how long the number rings (default 25 s).
	Timeout time.Duration
	// AbandonAfter: a person who answered and is not connected to an agent
	// within it is abandoned (default 2 s, the FCC's and Ofcom's bound). Not
	// used with AgentID.
	AbandonAfter time.Duration
	// AbandonMedia is played to an abandoned person before the hang-up,
	// MachineMedia to an answering machine (a campaign whose machine_action
	// is "message"); "" hangs up at once. MessageLength is how long either
	// plays before the hang-up (default 10 s).
	AbandonMedia, MachineMedia string
	MessageLength              time.Duration
	// Source is recorded on the call (System "campaign", AccountID the
	// campaign's id, or similar).
	Source switchboard.CallSource
	// CampaignID, when set, is recorded on the call as the campaign that
	// placed it (Call.CampaignID), preview or not, so that reports and
	// webhooks can tell a campaign's calls from other outbound calls.
	CampaignID int64
	// Report is told what happens to the dial, in order, under the engine's
	// lock: it must not block and must not call the engine.
	Report func(DialReport)
}

// Defaults of a Dial's durations.
const (
	DefaultDialTimeout   = 25 * time.Second
	DefaultAbandonAfter  = 2 * time.Second
	DefaultMessageLength = 10 * time.Second
)

// DialResult is what happened to a dial. A dial reports DialAnswered and
// DialConnected on the way, and ends with exactly one of the others;
// DialEnded follows every report of a call that was connected to an agent
// (DialConnected, and DialMachine in preview, where the agent is bridged to
// the machine to leave a message), as its last.
type DialResult int

// The dial results.
const (
	// DialAnswered: a person answered (before any agent took them).
	DialAnswered DialResult = iota + 1
	// DialMachine: an answering machine answered (LegAnswered with Cause ==
	// CauseMachine); the call then ends per MachineMedia.
	DialMachine
	// DialConnected: an agent took the person (AgentID set in the report).
	DialConnected
	// DialAbandoned: a person answered and no agent was connected within
	// AbandonAfter: they hear AbandonMedia and the call ends (Disposition
	// abandoned, HangupBy system).
	DialAbandoned
	// DialHungUp: the person hung up after answering, before an agent took
	// them.
	DialHungUp
	DialNoAnswer
	DialBusy
	// DialInvalid: the number does not exist (the simulator's "invalid
	// number", SIP's 404, 484 or 604: Q.850 1 or 28).
	DialInvalid
	// DialFailed: any other failure, the agent not answering in preview
	// included.
	DialFailed
	// DialEnded: a connected call ended (Talk set).
	DialEnded
)

var dialResultNames = [...]string{"", "answered", "machine", "connected", "abandoned", "hung_up", "no_answer", "busy",
	"invalid_number", "failed", "ended"}

// String names the result as the ledger's outcomes do.
func (r DialResult) String() string {
	if r > 0 && int(r) < len(dialResultNames) {
		return dialResultNames[r]
	}
	return "DialResult(" + strconv.Itoa(int(r)) + ")"
}

// DialReport is one step of a dial.
type DialReport struct {
	CallID  int64
	Result  DialResult
	AgentID int64
	At      time.Time
	Talk    time.Duration // with DialEnded
	Cause   string
}

// dialPhase is where a campaign dial stands.
type dialPhase int

const (
	dialRinging   dialPhase = iota // the number (or, in preview, the agent) rings
	dialWaiting                    // a person answered and waits for an agent, under the abandon timer
	dialConnected                  // an agent took the person
	dialClosing                    // abandoned or a machine: a message plays, then the hang-up
)

// dialRT is a campaign dial's own state, kept on its call until it ends.
type dialRT struct {
	report                     func(DialReport)
	abandonAfter, message      time.Duration
	abandonMedia, machineMedia string
	preview                    bool
	phase                      dialPhase
	// final says the dial's outcome (other than DialEnded) has been
	// reported; ended that its last report has.
	final, ended bool
}

// ErrNotHere refuses a dial whose queue or agent the engine does not run
// for the tenant (another tenant's, or not loaded yet).
var ErrNotHere = errors.New("the engine runs no such queue or agent for the tenant")

// Dial places a campaign's call and returns its id. It fails with
// ErrNotHere when the queue (or, in preview, the agent) is not the tenant's,
// with *ErrAgentUnavailable when a preview's agent cannot take a call now,
// with ErrNoCallID when no call id is at hand, and with an error naming the
// number when it is not E.164. Nothing is reported of a dial that failed.
func (e *Engine) Dial(d Dial) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	q, ok := e.queues[d.QueueID]
	if !ok || q.cfg.TenantID != d.TenantID {
		return 0, fmt.Errorf("queue %d of tenant %d: %w", d.QueueID, d.TenantID, ErrNotHere)
	}
	if !switchboard.IsE164(d.Number) {
		return 0, fmt.Errorf("the number %q is not E.164", d.Number)
	}
	if d.Timeout <= 0 {
		d.Timeout = DefaultDialTimeout
	}
	if d.AbandonAfter <= 0 {
		d.AbandonAfter = DefaultAbandonAfter
	}
	if d.MessageLength <= 0 {
		d.MessageLength = DefaultMessageLength
	}
	rt := &dialRT{report: d.Report, abandonAfter: d.AbandonAfter, message: d.MessageLength,
		abandonMedia: d.AbandonMedia, machineMedia: d.MachineMedia, preview: d.AgentID != 0}
	if rt.preview {
		if a, ok := e.agents[d.AgentID]; !ok || a.tenant != d.TenantID {
			return 0, fmt.Errorf("agent %d of tenant %d: %w", d.AgentID, d.TenantID, ErrNotHere)
		}
		return e.clickToCall(ClickToCall{TenantID: d.TenantID, AgentID: d.AgentID, Number: d.Number, CallerID: d.CallerID,
			CustomerTimeout: d.Timeout, Source: d.Source}, func(c *call) {
			c.QueueID, c.Media, c.dial, c.CampaignID = &q.cfg.ID, switchboard.MediaVoice, rt, campaignID(d.CampaignID)
		})
	}
	id, err := e.newID()
	if err != nil {
		return 0, err
	}
	now := e.opt.Clock.Now()
	c := &call{Call: switchboard.Call{ID: id, TenantID: d.TenantID, Direction: switchboard.Outbound, Status: switchboard.CallConnecting,
		Media: switchboard.MediaVoice, From: d.CallerID, To: d.Number, QueueID: &q.cfg.ID, CreatedAt: now, Source: d.Source,
		CampaignID: campaignID(d.CampaignID)},
		ringing: map[LegID]int64{}, tried: map[int64]bool{}, customerTimeout: d.Timeout, dial: rt}
	e.changed(c, "created")
	e.calls[c.ID] = c
	leg := LegID("c" + strconv.FormatInt(c.ID, 10) + "-dial")
	c.caller = leg
	e.legs[leg] = legRef{call: c.ID, role: callerLeg}
	e.changed(c, "dialing")
	e.opt.Telephony.Originate(Originate{TenantID: c.TenantID, Leg: leg, To: Endpoint{Number: c.To}, CallerID: c.From, Timeout: d.Timeout})
	return c.ID, nil
}

// campaignID is a Dial's campaign as a call holds it: nil for none.
func campaignID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// dialLegEvent takes the events of a progressive or predictive dial's leg
// while it rings and while its closing message plays; in between the call is
// an ordinary queued call.
func (e *Engine) dialLegEvent(c *call, ref legRef, ev LegEvent) {
	if ref.role != callerLeg {
		return
	}
	if c.dial.phase == dialClosing {
		if ev.Type == LegHungUp || ev.Type == LegFailed {
			e.closeDial(c, switchboard.SideCaller, ev.Cause)
		}
		return
	}
	switch ev.Type {
	case LegAnswered:
		c.answered = true // the far end answered the leg we placed
		if ev.Cause == CauseMachine {
			e.dialMachine(c, ev.Cause)
			return
		}
		c.dial.phase = dialWaiting
		e.report(c, DialAnswered, ev.Cause)
		id := c.ID
		c.wait = e.after(c.dial.abandonAfter, func() { e.abandonDial(id) })
		q, ok := e.queues[*c.QueueID]
		if !ok { // never: queues are replaced, not removed
			e.abandonDial(id)
			return
		}
		e.enqueue(c, q)
	case LegBusy:
		e.fail(c, switchboard.DispositionBusy, ev.Cause)
	case LegNoAnswer:
		e.fail(c, switchboard.DispositionNoAnswer, ev.Cause)
	case LegFailed, LegHungUp:
		e.fail(c, switchboard.DispositionFailed, ev.Cause)
	}
}

// dialMachine handles a dial a machine answered: the machine hears the
// campaign's message, or nothing, and is hung up. In preview the agent is
// on the line and is bridged to it instead (see outboundLegEvent).
func (e *Engine) dialMachine(c *call, cause string) {
	c.reachedMachine, c.Status, c.dial.phase = true, switchboard.CallVoicemail, dialClosing
	e.changed(c, "voicemail")
	e.report(c, DialMachine, cause)
	e.closeAfter(c, c.dial.machineMedia, "answering machine")
}

// abandonDial lets go of a person who answered a campaign call and still has
// no agent when the abandon time runs out: the agents ringing for them stop
// and go back to the pool, and they hear the abandon message.
func (e *Engine) abandonDial(id int64) {
	c, ok := e.calls[id]
	if !ok || c.dial == nil || c.dial.phase != dialWaiting || c.agent != "" || c.EndedAt != nil {
		return
	}
	c.wait = nil
	if q, ok := e.queues[*c.QueueID]; ok {
		q.waiting = remove(q.waiting, c)
	}
	freed := e.stopRinging(c, "abandoned")
	c.dial.phase = dialClosing
	cause := "abandoned: no agent within " + c.dial.abandonAfter.String()
	e.report(c, DialAbandoned, cause)
	e.closeAfter(c, c.dial.abandonMedia, cause)
	e.dispatchAgents(freed)
}

// closeAfter plays media on c's leg and hangs it up after the dial's
// message length, or at once when there is no media.
func (e *Engine) closeAfter(c *call, media, cause string) {
	if media == "" {
		e.closeDial(c, switchboard.SideSystem, cause)
		return
	}
	e.opt.Telephony.Play(c.caller, media)
	id, cause := c.ID, cause+" (message played)"
	c.timer = e.after(c.dial.message, func() {
		if c, ok := e.calls[id]; ok && c.EndedAt == nil {
			c.timer = nil
			e.closeDial(c, switchboard.SideSystem, cause)
		}
	})
}

// closeDial ends an abandoned dial (Disposition abandoned) or one a machine
// answered (status voicemail, Disposition answered: the line was answered,
// by no one an agent talked to).
func (e *Engine) closeDial(c *call, by switchboard.Side, cause string) {
	for _, t := range []*Timer{&c.timer, &c.wait} {
		if *t != nil {
			(*t).Stop()
			*t = nil
		}
	}
	if by != switchboard.SideCaller {
		e.opt.Telephony.Hangup(c.caller, cause)
	}
	now := e.opt.Clock.Now()
	c.EndedAt, c.HangupBy, c.HangupCause = &now, by, cause
	if c.reachedMachine {
		c.Status, c.Disposition = switchboard.CallVoicemail, switchboard.DispositionAnswered
	} else {
		c.Status, c.Disposition = switchboard.CallFailed, switchboard.DispositionAbandoned
	}
	delete(e.legs, c.caller)
	delete(e.calls, c.ID)
	e.changed(c, "ended")
	e.dialFinished(c)
}

// dialConnected is told that an agent took a campaign dial's person (or, in
// preview, that the customer answered: machine says a machine did).
func (e *Engine) dialConnected(c *call, machine bool, cause string) {
	if c.wait != nil {
		c.wait.Stop() // the abandon timer
		c.wait = nil
	}
	c.dial.phase = dialConnected
	if machine {
		e.report(c, DialMachine, cause)
		return
	}
	e.report(c, DialConnected, cause)
}

// dialFinished gives a campaign dial that has just ended its last report:
// DialEnded after a connection, else the outcome its end says, unless one
// was reported already (a machine, an abandon).
func (e *Engine) dialFinished(c *call) {
	d := c.dial
	if d.ended {
		return
	}
	for _, t := range []*Timer{&c.timer, &c.wait} {
		if *t != nil {
			(*t).Stop()
			*t = nil
		}
	}
	if c.ConnectedAt != nil {
		e.report(c, DialEnded, c.HangupCause)
		d.ended = true
		return
	}
	d.ended = true
	if d.final {
		return
	}
	var r DialResult
	switch {
	case d.preview && c.agent == "":
		r = DialFailed // the agent never answered
	case d.phase == dialWaiting:
		r = DialHungUp
		if c.HangupBy != switchboard.SideCaller {
			r = DialFailed // hung up through the API while waiting
		}
	case c.Disposition == switchboard.DispositionBusy:
		r = DialBusy
	case c.Disposition == switchboard.DispositionNoAnswer:
		r = DialNoAnswer
	case InvalidNumber(c.HangupCause):
		r = DialInvalid
	default:
		r = DialFailed
	}
	e.report(c, r, c.HangupCause)
}

// report tells the dial's Report of r.
func (e *Engine) report(c *call, r DialResult, cause string) {
	d := c.dial
	if r != DialAnswered && r != DialConnected && r != DialEnded {
		d.final = true
	}
	if d.report == nil {
		return
	}
	rep := DialReport{CallID: c.ID, Result: r, At: e.opt.Clock.Now(), Cause: cause}
	if c.AgentID != nil {
		rep.AgentID = *c.AgentID
	}
	if r == DialEnded {
		rep.Talk = c.Talk()
	}
	d.report(rep)
}

// InvalidNumber reports whether a leg's failure cause says that the number
// does not exist: the simulator's "invalid number", or a SIP refusal whose
// Q.850 cause (as the SIP driver writes it, "… Q.850 1)") is 1 (unallocated
// number) or 28 (invalid number format).
func InvalidNumber(cause string) bool {
	c := strings.ToLower(cause)
	if strings.Contains(c, "invalid number") || strings.Contains(c, "unallocated number") {
		return true
	}
	_, rest, ok := strings.Cut(c, "q.850 ")
	if !ok {
		return false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(rest[:end])
	return err == nil && (n == 1 || n == 28)
}

// PacingView is what a dialer needs to know of a queue now.
type PacingView struct {
	// Agents counts the members signed in (not Offline) whose status takes
	// calls and whose phone is reachable, busy or not.
	Agents int
	// Free counts the members who could take a call now (the queue's pool).
	Free int
	// Waiting counts the calls waiting in the queue and not ringing an
	// agent; Ringing those ringing agents.
	Waiting, Ringing int
	// Busy holds, for each member on a call, how long they have been
	// connected (0 while their phone rings or, in preview, while the
	// number rings); WrapLeft, for each member wrapping up, the time left.
	Busy, WrapLeft []time.Duration
	// FreeAgents are the free members' user ids (preview offers leads to
	// them), in the queue's member order.
	FreeAgents []int64
}

// PacingView reports a queue's pacing figures; ok is false for a queue the
// engine does not run, or one of another tenant. It costs O(members of the
// queue + calls waiting in it), whatever the calls elsewhere.
func (e *Engine) PacingView(tenantID, queueID int64) (PacingView, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	q, ok := e.queues[queueID]
	if !ok || q.cfg.TenantID != tenantID {
		return PacingView{}, false
	}
	now := e.opt.Clock.Now()
	v := PacingView{Free: len(q.pool.keys)}
	for _, m := range q.members {
		a, ok := e.agents[m.UserID]
		if !ok {
			continue
		}
		if a.status != switchboard.StatusOffline && a.available && a.device != "" && !a.unreachable {
			v.Agents++
		}
		if _, free := q.pool.keys[m.UserID]; free {
			v.FreeAgents = append(v.FreeAgents, m.UserID)
		}
		switch a.state {
		case agentRinging:
			v.Busy = append(v.Busy, 0)
		case agentBusy:
			var d time.Duration
			if !a.connectedAt.IsZero() {
				d = now.Sub(a.connectedAt)
			}
			v.Busy = append(v.Busy, d)
		case agentWrapUp:
			v.WrapLeft = append(v.WrapLeft, max(a.wrapUntil.Sub(now), 0))
		}
	}
	for _, c := range q.waiting {
		if len(c.ringing) > 0 {
			v.Ringing++
		} else {
			v.Waiting++
		}
	}
	return v, true
}
