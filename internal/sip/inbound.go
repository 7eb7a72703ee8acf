package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"

	"switchboard/internal/engine"
	"switchboard/internal/phone"
)

// serveInvite takes a new inbound INVITE (diago calls it in the request's
// goroutine, which it holds for the call's life). A carrier's call is
// routed by the DID it was sent to; a phone's call must authenticate and
// may dial its tenant's numbers and queue extensions. Anything else is
// refused: the server is no open relay.
func (d *Driver) serveInvite(s *diago.DialogServerSession) {
	req := s.InviteRequest
	in := engine.InboundCall{From: callerOf(req)}
	d.mu.Lock()
	o, ok := d.admitted[req.CallID().Value()]
	delete(d.admitted, req.CallID().Value())
	d.mu.Unlock()
	switch {
	case !ok:
		s.Respond(403, "Forbidden", nil)
		return
	case o.trunk:
		did := didOf(req)
		if did == "" {
			s.Respond(404, "Not Found", nil, sip.NewHeader("Reason", `Q.850;cause=1;text="not a phone number"`))
			return
		}
		in.To, in.TenantID = did, o.tenant
	default:
		caller := o.phone
		dialled := req.Recipient.User
		if d.opt.Route == nil {
			s.Respond(403, "Forbidden", nil)
			return
		}
		route, err := d.opt.Route(context.Background(), caller.TenantID, dialled)
		if err != nil {
			// Outside numbers are not dialled from phones yet, and nothing
			// else of another tenant is reachable.
			s.Respond(404, "Not Found", nil, sip.NewHeader("Reason", `Q.850;cause=1;text="not a number or queue extension of this tenant"`))
			return
		}
		in.To, in.Route, in.TenantID = dialled, route, caller.TenantID
	}

	l := d.newLeg(engine.LegID(fmt.Sprintf("sip-in-%d", d.next.Add(1))), true)
	l.srv, l.tenant = s, in.TenantID
	in.Leg = l.id
	if !d.add(l) {
		s.Respond(503, "Service Unavailable", nil)
		return
	}
	d.trackDialog(l, req.CallID().Value())
	if src, err := netip.ParseAddrPort(req.Source()); err == nil {
		d.peer(l, src.Addr().String())
	}
	d.wg.Add(1)
	go l.run()
	if err := s.Trying(); err != nil {
		d.log.Debug("sip: 100 Trying failed", "err", err)
	}
	go l.watch(s.Context(), func() string { return "hung up (SIP BYE or CANCEL, Q.850 16)" })
	if _, err := d.eng.Inbound(in); err != nil {
		d.log.Info("sip: inbound call not routed", "from", in.From, "to", in.To, "err", err)
	}
	<-l.gone
}

// origin is who a new INVITE came from.
type origin struct {
	trunk  bool  // a carrier's trunk, of tenant
	tenant int64 // with trunk
	phone  Caller
}

// admit decides whether a new INVITE may start a call, before diago makes a
// dialog of it: a carrier's trunk may (its tenant is remembered), a phone
// must authenticate (answered with a challenge otherwise). It reports
// whether the request goes on to diago.
func (d *Driver) admit(req *sip.Request, tx sip.ServerTransaction) bool {
	id := req.CallID()
	src, err := netip.ParseAddrPort(req.Source())
	if id == nil || err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return false
	}
	var o origin
	phone := req.GetHeader("Proxy-Authorization") != nil || req.GetHeader("Authorization") != nil || d.opt.Phones.IsPhone(src)
	if !phone {
		tenant, err := d.opt.Carriers.InboundTenant(context.Background(), src.Addr().Unmap(), req)
		switch {
		case err == nil:
			o = origin{trunk: true, tenant: tenant}
		case errors.Is(err, ErrNotFromTrunk), errors.Is(err, ErrUnknownDID):
			// Not a carrier's call to a number: a phone must authenticate
			// (phones and carriers may share an address).
			phone = true
		default:
			code, cause := TrunkErrorStatus(err)
			d.log.Info("sip: carrier call refused", "src", src, "to", req.Recipient.User, "err", err)
			res := sip.NewResponseFromRequest(req, code, phrase(code), nil)
			res.AppendHeader(sip.NewHeader("Reason", `Q.850;cause=21;text="`+cause+`"`))
			tx.Respond(res)
			return false
		}
	}
	if phone {
		caller, ok := d.opt.Phones.Authenticate(req, tx)
		if !ok {
			return false
		}
		o = origin{phone: caller}
	}
	d.mu.Lock()
	d.admitted[id.Value()] = o
	d.mu.Unlock()
	time.AfterFunc(time.Minute, func() { // a request diago refused never reaches serveInvite
		d.mu.Lock()
		delete(d.admitted, id.Value())
		d.mu.Unlock()
	})
	return true
}

// callerOf is the caller's number or name from the From header.
func callerOf(req *sip.Request) string {
	from := req.From()
	if from == nil {
		return ""
	}
	if n, err := phone.Normalize(plus(from.Address.User), ""); err == nil {
		return n
	}
	return from.Address.User
}

// didOf is the E.164 number an inbound call was sent to: the Request-URI's
// user, or the To header's when the carrier puts its own address there.
func didOf(req *sip.Request) string {
	users := []string{req.Recipient.User}
	if to := req.To(); to != nil {
		users = append(users, to.Address.User)
	}
	for _, u := range users {
		if n, err := phone.Normalize(plus(u), ""); err == nil {
			return n
		}
	}
	return ""
}

// plus puts the + carriers often leave off in front of a number given in
// international form ("390111234567").
func plus(u string) string {
	u = strings.TrimSpace(u)
	if u != "" && !strings.HasPrefix(u, "+") && strings.Trim(u, "0123456789") == "" && len(u) > 7 {
		return "+" + u
	}
	return u
}

// phrase is the usual reason phrase of a final status the driver sends.
func phrase(code int) string {
	switch code {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 503:
		return "Service Unavailable"
	}
	return "Server Internal Error"
}
