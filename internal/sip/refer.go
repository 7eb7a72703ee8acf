package sip

import (
	"context"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard/internal/engine"
)

// In-dialog requests the engine must hear of. diago answers re-INVITEs (it
// negotiates the media direction per RFC 3264) and SIP INFO, and would
// carry out a REFER by calling the target itself; but a phone's hold button,
// its keypad and its transfer key are the engine's business. So the driver
// looks at each in-dialog request on its way in (inspect), and takes REFER
// and INFO over.

// inspect wraps next, reporting holds and resumes of a leg's far end after
// diago has answered the re-INVITE.
func (d *Driver) inspect(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if req.Method != sip.INVITE || req.To() == nil {
			next(req, tx)
			return
		}
		if _, tagged := req.To().Params.Get("tag"); !tagged {
			if d.admit(req, tx) {
				next(req, tx)
			}
			return
		}
		l := d.byDialog(req)
		next(req, tx)
		if l == nil || len(req.Body()) == 0 {
			return
		}
		held := holds(req.Body())
		l.mu.Lock()
		changed := l.held != held
		l.held = held
		l.mu.Unlock()
		if changed {
			t := engine.LegResumed
			if held {
				t = engine.LegHeld
			}
			d.report(l, engine.LegEvent{Leg: l.id, Type: t})
		}
	}
}

// holds reports whether an SDP offer puts the call on hold: its audio is
// sendonly or inactive, or (RFC 2543 style) its address is 0.0.0.0.
func holds(sdp []byte) bool {
	for _, line := range strings.Split(string(sdp), "\n") {
		switch line = strings.TrimSpace(line); {
		case line == "a=sendonly", line == "a=inactive", strings.HasPrefix(line, "c=IN IP4 0.0.0.0"):
			return true
		}
	}
	return false
}

// byDialog is the leg an in-dialog request belongs to.
func (d *Driver) byDialog(req *sip.Request) *leg {
	id := req.CallID()
	if id == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.byCallID[id.Value()]
}

// serveRefer takes a phone's blind transfer (REFER with Refer-To): the
// target is resolved within the leg's tenant (a queue extension, a number,
// an agent's extension), the REFER is accepted, the engine transfers the
// call (hanging the phone's leg up), and the phone is told the transfer
// went through (NOTIFY with a sipfrag).
func (d *Driver) serveRefer(req *sip.Request, tx sip.ServerTransaction) {
	respond := func(code int, reason string) {
		tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	}
	l := d.byDialog(req)
	if l == nil {
		respond(481, "Call/Transaction Does Not Exist")
		return
	}
	h := req.GetHeader("Refer-To")
	if h == nil {
		respond(400, "Bad Request")
		return
	}
	var to sip.Uri
	v := strings.Trim(strings.TrimSpace(h.Value()), "<>")
	if i := strings.IndexByte(v, '>'); i >= 0 {
		v = v[:i]
	}
	if err := sip.ParseUri(v, &to); err != nil || to.User == "" || d.opt.Resolve == nil {
		respond(400, "Bad Request")
		return
	}
	key, err := d.opt.Resolve(context.Background(), l.tenant, to.User)
	if err != nil {
		respond(404, "Not Found")
		return
	}
	respond(202, "Accepted")
	d.report(l, engine.LegEvent{Leg: l.id, Type: engine.LegTransfer, Target: key})
	go d.notifyReferDone(l, req)
}

// notifyReferDone sends the NOTIFY that ends a REFER's implicit
// subscription (RFC 3515) with a 200 sipfrag, best effort: the engine has
// already hung the phone's leg up by then, and phones accept the BYE alone.
func (d *Driver) notifyReferDone(l *leg, refer *sip.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	contact := refer.Contact()
	if contact == nil {
		return
	}
	n := sip.NewRequest(sip.NOTIFY, contact.Address)
	n.AppendHeader(sip.NewHeader("Event", "refer"))
	n.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=noresource"))
	n.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	n.SetBody([]byte("SIP/2.0 200 OK\r\n"))
	var err error
	switch {
	case l.inbound:
		_, err = l.srv.Do(ctx, n)
	case l.cli != nil:
		_, err = l.cli.Do(ctx, n)
	}
	if err != nil {
		d.log.Debug("sip: NOTIFY after REFER", "leg", l.id, "err", err)
	}
}

// serveInfo takes SIP INFO digits (application/dtmf-relay, Signal=5), which
// some phones and carriers send instead of RFC 4733 events.
func (d *Driver) serveInfo(req *sip.Request, tx sip.ServerTransaction) {
	ct := req.ContentType()
	l := d.byDialog(req)
	switch {
	case l == nil:
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	case ct == nil || !strings.EqualFold(strings.TrimSpace(strings.Split(ct.Value(), ";")[0]), "application/dtmf-relay"):
		tx.Respond(sip.NewResponseFromRequest(req, 415, "Unsupported Media Type", nil))
		return
	}
	digit := ""
	for _, line := range strings.Split(string(req.Body()), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
			digit = strings.TrimSpace(v)
		}
	}
	if len(digit) != 1 || !strings.Contains("0123456789*#ABCDabcd", digit) {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	d.report(l, engine.LegEvent{Leg: l.id, Type: engine.LegDTMF, Digits: strings.ToUpper(digit)})
}
