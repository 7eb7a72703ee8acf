// Package sim is Switchboard's simulated telephony: virtual phones for agents
// and scripted callers and outside numbers, driven by the engine's clock. It is
// the embedded default driver, the test suite's telephony and the capacity
// simulator's. Under a virtual clock a run is deterministic. Outside numbers
// follow a Script set per number (SetNumber) or drawn per leg from a function
// (SetNumberFunc: the dialer's simulation draws each dial's outcome so).
// chat.go scripts chatting end users and agents against the engine's chat
// routing (ChatScenario, RunChat: switchboard simulate-chat).
//
// Like every driver it reports to the engine only from clock callbacks, never
// from inside a method the engine called, so the engine may hold its lock
// while it drives the telephony.
package sim

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"switchboard/internal/engine"
)

// Engine is what the driver reports to.
type Engine interface {
	LegEvent(ev engine.LegEvent)
	Inbound(in engine.InboundCall) (int64, error)
}

// Behavior is how a device or number treats an incoming leg.
type Behavior string

// The behaviours.
const (
	Answer Behavior = "answer" // rings, then answers after AnswerAfter
	// Reject answers busy: at once, or (an outside number) after its
	// script's AnswerAfter.
	Reject Behavior = "reject"
	Ignore Behavior = "ignore" // rings until the caller gives up
	// Invalid says the number does not exist: at once, or after the
	// script's AnswerAfter.
	Invalid  Behavior = "invalid"
	NoAnswer Behavior = "no_answer" // rings, then reports no answer after the leg's timeout
	// Voicemail answers after AnswerAfter as a machine: once bridged, the
	// greeting, the beep and the message last Talk, then it hangs up; a
	// machine the engine hangs up without bridging reports nothing more.
	Voicemail Behavior = "voicemail"
)

// Device is an agent's virtual phone.
type Device struct {
	Registered  bool
	Behavior    Behavior
	AnswerAfter time.Duration
}

// Script is how a simulated caller, or an outside number, behaves.
type Script struct {
	Behavior Behavior // for outside numbers; callers always "answer"
	// AnswerAfter is, for outside numbers, the ringing before the answer
	// (or before the busy or invalid-number refusal).
	AnswerAfter time.Duration
	// Talk hangs up this long after being bridged; 0 leaves it to the other side.
	Talk time.Duration
	// Patience hangs up a caller not bridged within it, and an outside
	// number that answered (a person, not a machine) and is not bridged
	// within it of the answer; 0 waits forever.
	Patience time.Duration
	// Route is the engine's routing key for the dialled number, when it is not
	// the number itself (extensions are qualified by tenant).
	Route string
	// Ring is how long an inbound call rings before Switchboard picks it up.
	Ring time.Duration
	// DTMF is keyed by a caller DTMFAfter after Switchboard answers. Commas
	// split it into groups, each keyed DTMFAfter after the one before (the
	// caller waits for the next menu's prompt).
	DTMF      string
	DTMFAfter time.Duration
	// FaxPages makes a caller a fax machine sending that many pages; it
	// hangs up once they are sent, after Talk, or 20 s a page without one.
	FaxPages int
	// Message is how long a caller offered voicemail speaks after the
	// greeting and the beep (VoicemailGreeting) before hanging up; 0 hangs
	// up at the beep, leaving an empty message.
	Message time.Duration
}

// VoicemailGreeting is how long the simulated voicemail greeting and beep
// last before the caller's message is recorded.
const VoicemailGreeting = 3 * time.Second

// FaxPageTime is how long the simulated fax machine takes to send a page.
const FaxPageTime = 20 * time.Second

// Driver is the simulated telephony. It implements engine.Telephony.
type Driver struct {
	clock engine.Clock
	eng   Engine

	mu      sync.Mutex
	devices map[string]Device
	numbers map[string]Script
	// tenantNumbers script numbers for one tenant's calls only (the
	// control surface's SetNumber), ahead of numbers.
	tenantNumbers map[tenantNumber]Script
	// numberFunc scripts the numbers not in numbers (SetNumberFunc).
	numberFunc func(number string) Script
	legs       map[engine.LegID]*leg
	next       int
	recorded   int
	// messages are the voicemail messages recorded, by call id: the
	// recording is synthesized from their length (Recording).
	messages map[int64]message
	// trunks are the carriers' trunks of each tenant, in the order an
	// outside number is tried through them (SetTrunks); failedTrunks those
	// failing now (FailTrunk).
	trunks       map[int64][]string
	failedTrunks map[string]bool
	prompts      int  // IVR prompts played
	closed       bool // Close ran: no more legs
}

type leg struct {
	id        engine.LegID
	recording bool
	script    Script
	caller    bool
	done      bool
	bridged   bool
	playing   string // the media last played on the leg
	// voicemail is set while the leg hears the voicemail greeting or is
	// recorded leaving a message; recordCall is the call recording it.
	voicemail  bool
	recordCall int64
	timers     []engine.Timer
	patience   engine.Timer // the hang-up of a leg never bridged
}

// New returns a driver on clock. Attach the engine with SetEngine before use.
func New(clock engine.Clock) *Driver {
	return &Driver{clock: clock, devices: map[string]Device{}, numbers: map[string]Script{}, legs: map[engine.LegID]*leg{},
		messages: map[int64]message{}, trunks: map[int64][]string{}, failedTrunks: map[string]bool{}}
}

// SetEngine sets where the driver reports.
func (d *Driver) SetEngine(e Engine) { d.eng = e }

// SetDevice configures an agent's virtual phone.
func (d *Driver) SetDevice(name string, dev Device) {
	d.mu.Lock()
	d.devices[name] = dev
	d.mu.Unlock()
}

// tenantNumber is an outside number as one tenant's calls see it.
type tenantNumber struct {
	tenant int64
	number string
}

// TrunkFailTime is how long a failing simulated trunk takes to refuse a
// call (its carrier's 503).
const TrunkFailTime = 2 * time.Second

// SetTrunks gives a tenant carriers' trunks, tried in this order for its
// calls to outside numbers: a call whose trunk fails (FailTrunk) switches
// to the next one (engine.LegSwitching) and fails when none is left. A
// tenant without trunks reaches outside numbers directly, as before.
func (d *Driver) SetTrunks(tenantID int64, names ...string) {
	d.mu.Lock()
	d.trunks[tenantID] = append([]string(nil), names...)
	d.mu.Unlock()
}

// FailTrunk makes a trunk refuse every new call (failed) or carry them
// again.
func (d *Driver) FailTrunk(name string, failed bool) {
	d.mu.Lock()
	d.failedTrunks[name] = failed
	d.mu.Unlock()
}

// SetTenantNumber scripts an outside number for the calls of one tenant.
func (d *Driver) SetTenantNumber(tenantID int64, number string, s Script) {
	d.mu.Lock()
	if d.tenantNumbers == nil {
		d.tenantNumbers = map[tenantNumber]Script{}
	}
	d.tenantNumbers[tenantNumber{tenantID, number}] = s
	d.mu.Unlock()
}

// SetNumber scripts an outside number.
func (d *Driver) SetNumber(number string, s Script) {
	d.mu.Lock()
	d.numbers[number] = s
	d.mu.Unlock()
}

// SetNumberFunc scripts every outside number not scripted with SetNumber:
// each leg to such a number behaves as f says, drawn anew for each leg (the
// dialer's simulation draws each dial's outcome from it). f is called from
// Originate, under the driver's lock and the engine's, so it must not call
// either; nil restores the default (answer after 3 s, talk 30 s).
func (d *Driver) SetNumberFunc(f func(number string) Script) {
	d.mu.Lock()
	d.numberFunc = f
	d.mu.Unlock()
}

// emit reports ev to the engine after delay, unless the leg has ended by then.
// d.mu is held.
func (d *Driver) emit(l *leg, delay time.Duration, ev engine.LegEvent) engine.Timer {
	t := d.clock.AfterFunc(delay, func() {
		d.mu.Lock()
		if l.done || d.closed {
			d.mu.Unlock()
			return
		}
		if ev.Type == engine.LegHungUp || ev.Type == engine.LegBusy || ev.Type == engine.LegFailed || ev.Type == engine.LegNoAnswer {
			l.done = true
			if l.recordCall != 0 {
				d.endMessage(l)
			}
			delete(d.legs, l.id)
		}
		d.mu.Unlock()
		d.eng.LegEvent(ev)
	})
	l.timers = append(l.timers, t)
	return t
}

// Call places a simulated inbound call from a caller dialling to. The caller
// hangs up Talk after being bridged, or after Patience without being bridged;
// Switchboard picks the call up after Ring.
func (d *Driver) Call(from, to string, s Script) (engine.LegID, int64, error) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return "", 0, errors.New("the simulated telephony is closed")
	}
	d.next++
	l := &leg{id: engine.LegID(fmt.Sprintf("sim-in-%d", d.next)), script: s, caller: true}
	d.legs[l.id] = l
	switch {
	case s.FaxPages > 0:
		sending := s.Talk
		if sending <= 0 {
			sending = time.Duration(s.FaxPages) * FaxPageTime
		}
		d.emit(l, sending, engine.LegEvent{Leg: l.id, Type: engine.LegHungUp, Cause: "fax sent"})
	case s.Patience > 0:
		l.patience = d.emit(l, s.Patience, engine.LegEvent{Leg: l.id, Type: engine.LegHungUp, Cause: "caller gave up"})
	}
	d.mu.Unlock()
	id, err := d.eng.Inbound(engine.InboundCall{Leg: l.id, From: from, To: to, Route: s.Route, Pickup: s.Ring, FaxPages: s.FaxPages})
	return l.id, id, err
}

// Originate implements engine.CallControl. Whatever befalls the leg, an
// unregistered phone included, is reported as a leg event.
func (d *Driver) Originate(o engine.Originate) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	l := &leg{id: o.Leg}
	var b Behavior
	var after time.Duration
	if o.To.Device != "" {
		dev, ok := d.devices[o.To.Device]
		if !ok || !dev.Registered {
			d.legs[l.id] = l
			d.emit(l, 0, engine.LegEvent{Leg: l.id, Type: engine.LegFailed, Cause: "device not registered"})
			return
		}
		b, after = dev.Behavior, dev.AnswerAfter
	} else {
		s, ok := d.tenantNumbers[tenantNumber{o.TenantID, o.To.Number}]
		if !ok {
			s, ok = d.numbers[o.To.Number]
		}
		switch {
		case ok:
		case d.numberFunc != nil:
			s = d.numberFunc(o.To.Number)
		default:
			s = Script{Behavior: Answer, AnswerAfter: 3 * time.Second, Talk: 30 * time.Second}
		}
		l.script, b, after = s, s.Behavior, s.AnswerAfter
	}
	d.legs[l.id] = l
	// An outside number is reached through the tenant's first trunk that
	// works: each failing one before it costs TrunkFailTime and a switch.
	var offset time.Duration
	if trunks := d.trunks[o.TenantID]; o.To.Device == "" && len(trunks) > 0 {
		k := 0
		for k < len(trunks) && d.failedTrunks[trunks[k]] {
			k++
		}
		for i := 1; i <= k && i < len(trunks); i++ {
			d.emit(l, time.Duration(i)*TrunkFailTime, engine.LegEvent{Leg: l.id, Type: engine.LegSwitching,
				Cause: "trunk " + trunks[i-1] + " failed (SIP 503): trying " + trunks[i]})
		}
		if k == len(trunks) {
			d.emit(l, time.Duration(k)*TrunkFailTime, engine.LegEvent{Leg: l.id, Type: engine.LegFailed,
				Cause: "every trunk failed (SIP 503, Q.850 38)"})
			return
		}
		offset = time.Duration(k) * TrunkFailTime
	}
	switch b {
	case Reject:
		d.emit(l, offset+l.script.AnswerAfter, engine.LegEvent{Leg: l.id, Type: engine.LegBusy, Cause: "busy"})
	case Invalid:
		d.emit(l, offset+l.script.AnswerAfter, engine.LegEvent{Leg: l.id, Type: engine.LegFailed, Cause: "invalid number"})
	case Voicemail:
		d.emit(l, offset, engine.LegEvent{Leg: l.id, Type: engine.LegRinging})
		d.emit(l, offset+after, engine.LegEvent{Leg: l.id, Type: engine.LegAnswered, Cause: engine.CauseMachine})
	case Ignore, NoAnswer:
		d.emit(l, offset, engine.LegEvent{Leg: l.id, Type: engine.LegRinging})
		if o.Timeout > 0 {
			d.emit(l, max(o.Timeout, offset), engine.LegEvent{Leg: l.id, Type: engine.LegNoAnswer, Cause: "no answer"})
		}
	default:
		d.emit(l, offset, engine.LegEvent{Leg: l.id, Type: engine.LegRinging})
		d.emit(l, offset+after, engine.LegEvent{Leg: l.id, Type: engine.LegAnswered})
		if l.script.Patience > 0 {
			l.patience = d.emit(l, offset+after+l.script.Patience, engine.LegEvent{Leg: l.id, Type: engine.LegHungUp, Cause: "gave up waiting"})
		}
	}
}

// Record implements engine.MediaControl. The simulator keeps no audio: it
// synthesizes recordings from the call's talk time (see WriteRecording), and
// counts the legs recorded.
func (d *Driver) Record(id engine.LegID, call int64, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.legs[id]
	if !ok {
		return
	}
	if on && !l.recording {
		d.recorded++
	}
	l.recording = on
	switch {
	case on && l.voicemail:
		// The message is recorded from the end of the greeting and beep.
		l.recordCall = call
		d.messages[call] = message{start: d.clock.Now().Add(VoicemailGreeting)}
	case !on && l.recordCall != 0:
		d.endMessage(l)
	}
}

// message is a voicemail message recorded: from start to end (zero while it
// is being recorded).
type message struct{ start, end time.Time }

// endMessage closes the message the leg is recording. d.mu is held.
func (d *Driver) endMessage(l *leg) {
	m, ok := d.messages[l.recordCall]
	if ok && m.end.IsZero() {
		m.end = d.clock.Now()
		if m.end.Before(m.start) {
			m.end = m.start // hung up during the greeting: an empty message
		}
		d.messages[l.recordCall] = m
	}
	l.recordCall = 0
}

// Recorded reports how many legs have been recorded, for tests.
func (d *Driver) Recorded() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.recorded
}

// Answer implements engine.CallControl. A caller with DTMF in its script keys
// the digits DTMFAfter later, group by group.
func (d *Driver) Answer(id engine.LegID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.legs[id]
	if !ok {
		return
	}
	if l.caller && l.script.DTMF != "" {
		var at time.Duration
		for _, g := range strings.Split(l.script.DTMF, ",") {
			at += l.script.DTMFAfter
			if g != "" {
				d.emit(l, at, engine.LegEvent{Leg: id, Type: engine.LegDTMF, Digits: g})
			}
		}
		l.script.DTMF = ""
	}
}

// Play implements engine.MediaControl. The simulator plays silence, but
// remembers what each leg last heard and counts the IVR prompts played, for
// tests.
func (d *Driver) Play(id engine.LegID, media string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, _, ok := engine.ParsePromptMedia(media); ok {
		d.prompts++
	}
	l, ok := d.legs[id]
	if !ok {
		return
	}
	l.playing = media
	if _, vm := engine.ParseVoicemailMedia(media); vm && l.caller && !l.voicemail {
		// The caller hears the greeting and the beep, speaks their
		// message and hangs up; they no longer wait for an agent.
		l.voicemail = true
		if l.patience != nil {
			l.patience.Stop()
			l.patience = nil
		}
		d.emit(l, VoicemailGreeting+l.script.Message, engine.LegEvent{Leg: id, Type: engine.LegHungUp, Cause: "normal clearing"})
	}
}

// Playing is the media the leg last had played on it ("" for none, or a leg
// that has ended).
func (d *Driver) Playing(id engine.LegID) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l, ok := d.legs[id]; ok {
		return l.playing
	}
	return ""
}

// Prompts counts the IVR prompts played on every leg so far.
func (d *Driver) Prompts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.prompts
}

// Bridge implements engine.CallControl. A bridged leg with a talk time hangs
// up when it runs out.
func (d *Driver) Bridge(a, b engine.LegID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range []engine.LegID{a, b} {
		l, ok := d.legs[id]
		if !ok {
			return // that side has gone: its hang-up is on its way to the engine
		}
		if l.bridged {
			continue
		}
		l.bridged = true
		if l.patience != nil {
			l.patience.Stop() // no more waiting to give up on
			l.patience = nil
		}
		if l.script.Talk > 0 {
			d.emit(l, l.script.Talk, engine.LegEvent{Leg: l.id, Type: engine.LegHungUp, Cause: "normal clearing"})
		}
	}
}

// Hangup implements engine.CallControl.
func (d *Driver) Hangup(id engine.LegID, cause string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.legs[id]
	if !ok {
		return
	}
	l.done = true
	for _, t := range l.timers {
		t.Stop()
	}
	if l.recordCall != 0 {
		d.endMessage(l)
	}
	delete(d.legs, id)
}

// Legs reports how many legs are up, for tests and leak checks.
func (d *Driver) Legs() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.legs)
}
