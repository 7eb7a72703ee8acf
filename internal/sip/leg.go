package sip

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"

	"switchboard/internal/audio"
	"switchboard/internal/engine"
)

// leg is one party of a call: an inbound INVITE (the caller) or an INVITE
// the driver sent (an agent's phone, an outside number).
type leg struct {
	d       *Driver
	id      engine.LegID
	inbound bool
	tenant  int64                      // whose call, as far as the driver knows
	srv     *diago.DialogServerSession // inbound
	cli     *diago.DialogClientSession // outbound, once answered
	ctx     context.Context            // the leg's life; cancelling it CANCELs a ringing INVITE
	cancel  context.CancelFunc
	release func() // gives back a trunk's call slot

	work     chan struct{} // wakes the worker
	done     chan struct{} // closed when the leg has ended and its media stopped
	gone     chan struct{} // closed once its SIP dialog is torn down too
	goneOnce sync.Once
	lastRTP  atomic.Int64 // unix nanos of the last packet heard

	mu       sync.Mutex
	queue    []func()
	ended    bool
	answered bool // media is up
	med      *diago.DialogMedia
	codec    audio.Codec
	dtmfPT   int // the telephone-event payload type received, -1 for none
	// w sends the leg's audio. Frames go out as they come (the relay) or
	// as Play's ticker paces them, so w is the packet writer itself, not
	// diago's io.Writer, which holds every write to its own 20 ms clock and
	// so drops the relay behind whenever packets arrive unevenly.
	w        *media.RTPPacketWriter
	wmu      sync.Mutex // serializes writes to w
	marker   bool       // the next frame starts a new talkspurt (the source changed)
	peer     *leg
	play     *audio.Prompt
	playStop chan struct{}
	pending  string // media to play once answered
	held     bool   // the far end has put the call on hold
	rec      *audio.Recorder
	recCall  int64
	// greeting is closed when the voicemail greeting playing on the leg
	// has played out (or stopped): the caller's message is recorded from
	// then (Record).
	greeting chan struct{}
}

func (d *Driver) newLeg(id engine.LegID, inbound bool) *leg {
	ctx, cancel := context.WithCancel(d.ctx)
	l := &leg{d: d, id: id, inbound: inbound, ctx: ctx, cancel: cancel, work: make(chan struct{}, 1),
		done: make(chan struct{}), gone: make(chan struct{}), dtmfPT: -1}
	return l
}

// do queues f to run on the leg's worker, in order. It never blocks.
func (l *leg) do(f func()) {
	l.mu.Lock()
	l.queue = append(l.queue, f)
	l.mu.Unlock()
	select {
	case l.work <- struct{}{}:
	default:
	}
}

// run is the leg's worker: it does the queued work until the leg ends.
func (l *leg) run() {
	defer l.d.wg.Done()
	for {
		select {
		case <-l.work:
		case <-l.done:
			return
		}
		for {
			l.mu.Lock()
			if len(l.queue) == 0 {
				l.mu.Unlock()
				break
			}
			f := l.queue[0]
			l.queue = l.queue[1:]
			l.mu.Unlock()
			f()
		}
	}
}

func (l *leg) isEnded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ended
}

// Answer implements engine.CallControl for an inbound leg.
func (d *Driver) Answer(id engine.LegID) {
	l := d.leg(id)
	if l == nil || !l.inbound {
		return
	}
	l.do(func() {
		if l.isEnded() {
			return
		}
		med, err := l.srv.Answer(diago.AnswerOptions{RTPNAT: media.RTPNATSymetric})
		if err != nil {
			d.log.Info("sip: answering failed", "leg", l.id, "err", err)
			if l.end() {
				d.report(l, engine.LegEvent{Leg: l.id, Type: engine.LegHungUp, Cause: "answer failed: " + err.Error()})
			}
			l.finish()
			return
		}
		l.startMedia(med)
	})
}

// Originate implements engine.CallControl: a new leg to an agent's device
// (every registered contact rings; the first to answer wins) or to an
// outside number through the tenant's carrier.
func (d *Driver) Originate(o engine.Originate) {
	l := d.newLeg(o.Leg, false)
	l.tenant = o.TenantID
	if !d.add(l) {
		return
	}
	d.wg.Add(2)
	go l.run()
	go func() {
		defer d.wg.Done()
		l.originate(o)
	}()
}

// Hangup implements engine.CallControl: BYE for a connected leg, CANCEL for
// a ringing one, a final response for an inbound one not yet answered.
func (d *Driver) Hangup(id engine.LegID, cause string) {
	if l := d.leg(id); l != nil {
		l.hangup(cause, false)
	}
}

// hangup ends the leg as the engine (or the server's shutdown) asked. Nothing
// is reported: the engine knows.
func (l *leg) hangup(cause string, shutdown bool) {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	answered := l.answered
	l.mu.Unlock()
	if !l.inbound && !answered {
		l.end()
		l.finish() // a ringing INVITE is CANCELled by its context
		return
	}
	l.do(func() {
		l.mu.Lock()
		answered := l.answered
		l.mu.Unlock()
		if !l.end() {
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(l.ctx), 5*time.Second)
		defer cancel()
		switch {
		case l.inbound && !answered:
			code, reason := statusFor(cause)
			if shutdown {
				code, reason = 503, "Service Unavailable"
			}
			if err := l.srv.Respond(code, reason, nil, reasonHeader(cause)); err != nil {
				l.d.log.Debug("sip: refusing a call failed", "leg", l.id, "err", err)
			}
		case l.inbound:
			l.srv.Hangup(ctx)
		case l.cli != nil:
			l.cli.Hangup(ctx)
			l.cli.Close()
		}
		l.finish()
	})
}

// finish marks the leg's dialog torn down: an inbound INVITE's handler may
// return.
func (l *leg) finish() {
	l.goneOnce.Do(func() {
		l.cancel()
		close(l.gone)
	})
}

// end marks the leg ended and stops its media; it reports whether this call
// ended it (false: it had already ended).
func (l *leg) end() bool {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return false
	}
	l.ended = true
	l.stopPlayLocked()
	rec := l.rec
	l.rec = nil
	release := l.release
	l.release = nil
	l.mu.Unlock()
	l.unlink()
	if rec != nil {
		if err := rec.Close(); err != nil {
			l.d.log.Error("sip: recording failed", "leg", l.id, "err", err)
		}
	}
	if release != nil {
		release()
	}
	l.d.remove(l)
	close(l.done)
	return true
}

// watch reports the far end's hang-up (BYE, or CANCEL before the answer) of
// a leg whose dialog context is ctx.
func (l *leg) watch(ctx context.Context, cause func() string) {
	select {
	case <-ctx.Done():
	case <-l.done:
		return
	}
	if l.end() {
		l.d.report(l, engine.LegEvent{Leg: l.id, Type: engine.LegHungUp, Cause: cause()})
	}
	if l.cli != nil {
		l.cli.Close()
	}
	l.finish()
}

// answerErr tells a refused INVITE's response from a transport failure.
func answerErr(err error) (code int, reason string, q850 string) {
	var re *sipgo.ErrDialogResponse
	if errors.As(err, &re) && re.Res != nil {
		return re.Res.StatusCode, re.Res.Reason, reasonQ850(re.Res)
	}
	var re2 sipgo.ErrDialogResponse
	if errors.As(err, &re2) && re2.Res != nil {
		return re2.Res.StatusCode, re2.Res.Reason, reasonQ850(re2.Res)
	}
	return 0, "", ""
}
