package sip

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"

	"switchboard/internal/engine"
)

// target is one place an outbound leg's INVITE goes.
type target struct {
	uri       sip.Uri
	transport string
	username  string
	password  string
}

// answered is the outcome of one forked INVITE.
type answered struct {
	cli *diago.DialogClientSession
	med *diago.DialogMedia
	err error
}

// originate places the leg: it rings every target, takes the first to
// answer, and reports the outcome. A call to an outside number whose carrier
// fails while connecting is tried again through the tenant's next trunk
// (AlternateCarriers), as long as one is left.
func (l *leg) originate(o engine.Originate) {
	d := l.d
	fail := func(t engine.LegEventType, cause string) {
		if l.end() {
			d.report(l, engine.LegEvent{Leg: l.id, Type: t, Cause: cause})
		}
		l.finish()
	}
	var targets []target
	callerID := o.CallerID
	var tried []int64
	if o.To.Device != "" {
		for _, c := range d.opt.Phones.Contacts(o.To.Device) {
			targets = append(targets, target{uri: c.URI, transport: c.Transport})
		}
		if len(targets) == 0 {
			fail(engine.LegFailed, "the phone is not registered")
			return
		}
	} else {
		r, err := d.opt.Carriers.RouteOutbound(o.TenantID, o.To.Number, o.CallerID)
		if err != nil {
			fail(engine.LegFailed, err.Error())
			return
		}
		l.mu.Lock()
		l.release = r.Release
		l.mu.Unlock()
		callerID = r.CallerID
		tried = append(tried, r.TrunkID)
		targets = append(targets, target{uri: r.URI, username: r.Username, password: r.Password})
	}

	ctx := l.ctx
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	var ringing sync.Once
	win, errs := l.invite(ctx, targets, callerID, &ringing)
	for win == nil && o.To.Device == "" && !l.isEnded() && ctx.Err() == nil && carrierFailed(errs) {
		alt, ok := d.opt.Carriers.(AlternateCarriers)
		if !ok {
			break
		}
		r, err := alt.RouteAlternate(o.TenantID, o.To.Number, o.CallerID, tried)
		if err != nil {
			break // no other trunk: the leg fails as the last one did
		}
		_, why := failure(errs)
		l.mu.Lock()
		old := l.release
		l.release = r.Release
		l.mu.Unlock()
		if old != nil {
			old()
		}
		tried = append(tried, r.TrunkID)
		d.report(l, engine.LegEvent{Leg: l.id, Type: engine.LegSwitching, Cause: "carrier " + why + ": trying the next trunk"})
		callerID = r.CallerID
		win, errs = l.invite(ctx, []target{{uri: r.URI, username: r.Username, password: r.Password}}, callerID, &ringing)
	}
	if win == nil {
		if l.isEnded() {
			l.finish()
			return // the engine hung up while it rang
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			fail(engine.LegNoAnswer, fmt.Sprintf("no answer within %s (SIP 487 after CANCEL, Q.850 19)", o.Timeout))
			return
		}
		t, cause := failure(errs)
		fail(t, cause)
		return
	}
	l.mu.Lock()
	ended := l.ended
	l.cli = win.cli
	l.mu.Unlock()
	if ended {
		win.cli.Hangup(context.WithoutCancel(ctx))
		win.cli.Close()
		l.finish()
		return
	}
	d.trackDialog(l, win.cli.InviteRequest.CallID().Value())
	d.peer(l, win.cli.InviteRequest.Recipient.Host)
	l.startMedia(win.med)
	d.report(l, engine.LegEvent{Leg: l.id, Type: engine.LegAnswered})
	go l.watch(win.cli.Context(), func() string { return "hung up (SIP BYE, Q.850 16)" })
}

// invite forks the INVITE to every target and returns the first to answer
// (the others are cancelled or told goodbye), or nil and every target's
// error. ringing reports the first 180 or 183 once for the whole leg.
func (l *leg) invite(ctx context.Context, targets []target, callerID string, ringing *sync.Once) (*answered, []error) {
	d := l.d
	forkCtx, cancelFork := context.WithCancel(ctx)
	defer cancelFork()
	results := make(chan answered, len(targets))
	for _, t := range targets {
		go func() {
			opts := diago.InviteOptions{Username: t.username, Password: t.password, RTPNAT: media.RTPNATSymetric, Transport: t.transport,
				Headers: []sip.Header{&sip.FromHeader{DisplayName: callerID, Address: sip.Uri{Scheme: "sip", User: callerID, Host: d.host}, Params: sip.NewParams()}},
				OnResponse: func(res *sip.Response) error {
					if res.StatusCode == 180 || res.StatusCode == 183 {
						ringing.Do(func() { d.report(l, engine.LegEvent{Leg: l.id, Type: engine.LegRinging}) })
					}
					return nil
				}}
			if callerID == "" {
				opts.Headers = nil
			}
			cli, med, err := d.dg.Invite(forkCtx, t.uri, opts)
			results <- answered{cli, med, err}
		}()
	}
	var win *answered
	var errs []error
	for range targets {
		r := <-results
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		if win == nil {
			win = &r
			cancelFork() // the other devices stop ringing
			continue
		}
		// Two devices answered at once: the later one is told goodbye.
		go func() {
			r.cli.Hangup(context.WithoutCancel(ctx))
			r.cli.Close()
		}()
	}
	return win, errs
}

// carrierFailed says whether an outside number's INVITE failed at the
// carrier rather than at the called party: no SIP answer at all (the
// carrier unreachable), or 408, 500, 502, 503 or 504. Busy, no such number
// and the like are the number's answers, which another trunk would give
// too.
func carrierFailed(errs []error) bool {
	if len(errs) == 0 {
		return false
	}
	for _, err := range errs {
		switch code, _, _ := answerErr(err); code {
		case 0, 408, 500, 502, 503, 504:
		default:
			return false
		}
	}
	return true
}

// failure picks, among the forked INVITEs' errors, the answer that best
// says why the leg failed (RFC 3261 16.7: a 6xx wins, then busy, then the
// lowest class), and turns it into a leg event.
func failure(errs []error) (engine.LegEventType, string) {
	best, reason, q850 := 0, "", ""
	var other error
	for _, err := range errs {
		code, r, q := answerErr(err)
		if code == 0 {
			other = err
			continue
		}
		if best == 0 || code >= 600 && best < 600 || code == 486 && best < 600 || best >= 500 && code < best && best < 600 {
			best, reason, q850 = code, r, q
		}
	}
	if best == 0 {
		return engine.LegFailed, fmt.Sprintf("unreachable: %v", other)
	}
	return eventFor(best), describe(best, reason, q850)
}
