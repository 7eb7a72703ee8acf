package dialer

import (
	"context"
	"slices"
	"time"

	"switchboard"
	"switchboard/internal/engine"
)

// offer is a lead shown to an agent in a preview campaign.
type offer struct {
	agent   int64
	lead    switchboard.Lead
	number  string
	at      time.Time
	expires time.Time
	call    *int64 // set once accepted and placed
}

func (o *offer) public(r *run) switchboard.PreviewOffer {
	return switchboard.PreviewOffer{CampaignID: r.c.ID, AgentID: o.agent, Lead: o.lead, OfferedAt: o.at, ExpiresAt: o.expires,
		TimeoutAction: r.c.PreviewTimeoutAction, CallID: o.call}
}

// offerPreviews settles expired offers and offers a lead to every free agent
// of the queue who has none. d.mu is held.
func (d *Dialer) offerPreviews(ctx context.Context, r *run, v engine.PacingView, now time.Time) {
	for agent, o := range r.previews {
		if o.call == nil && !now.Before(o.expires) {
			if r.c.PreviewTimeoutAction == switchboard.PreviewDial {
				if err := d.accept(ctx, r, o, now); err != nil {
					d.opt.Log.Info("dialer: an expired preview could not be dialled", "campaign", r.c.ID, "agent", agent, "err", err)
				}
			} else {
				d.giveBack(r, o, now)
			}
			d.notify(ctx, r, o, "expired")
		}
		if o.call != nil {
			delete(r.previews, agent)
		}
	}
	free := slices.Clone(v.FreeAgents)
	slices.Sort(free)
	for _, agent := range free {
		if _, busy := r.previews[agent]; busy || d.offered(agent) {
			continue
		}
		c := d.take(ctx, r, 1, now)
		if len(c) == 0 {
			break
		}
		l := c[0].lead
		l.Status, l.UpdatedAt = switchboard.LeadPreviewing, now
		r.pendingLeads = append(r.pendingLeads, l)
		o := &offer{agent: agent, lead: l, number: c[0].number, at: now,
			expires: now.Add(time.Duration(r.c.PreviewSeconds) * time.Second)}
		r.previews[agent] = o
		d.notify(ctx, r, o, "")
	}
}

// events is the optional part of a Store that records events: the server's
// store tells agents' desktops (the event stream, webhooks) of their offers;
// the simulator's does not.
type events interface {
	AppendEvent(ctx context.Context, tenantID int64, typ, subjectType string, subjectID int64, payload any) (switchboard.Event, error)
}

// notify records an offer made (ending "") or ended. d.mu is held; the
// write is one small transaction, and its failure is only logged: the
// offer stands either way.
func (d *Dialer) notify(ctx context.Context, r *run, o *offer, ending string) {
	ev, ok := d.opt.Store.(events)
	if !ok {
		return
	}
	typ := switchboard.EventPreviewOffered
	if ending != "" {
		typ = switchboard.EventPreviewEnded
	}
	p := switchboard.PreviewEventPayload{V: switchboard.EventPayloadVersion, Offer: o.public(r), Ending: ending}
	if _, err := ev.AppendEvent(ctx, r.c.TenantID, typ, "user", o.agent, p); err != nil {
		d.opt.Log.Warn("dialer: record a preview event", "campaign", r.c.ID, "agent", o.agent, "err", err)
	}
}

// offered says whether agent holds an offer of any campaign. d.mu is held.
func (d *Dialer) offered(agent int64) bool {
	for _, r := range d.runs {
		if _, ok := r.previews[agent]; ok {
			return true
		}
	}
	return false
}

// giveBack returns an offered lead to upcoming (the agent let it expire, or
// the campaign paused).
func (d *Dialer) giveBack(r *run, o *offer, now time.Time) {
	delete(r.previews, o.agent)
	delete(r.held, o.lead.ID)
	o.lead.Status, o.lead.UpdatedAt = switchboard.LeadUpcoming, now
	if o.lead.Attempts > 0 {
		o.lead.Status = switchboard.LeadRedialScheduled
	}
	r.pendingLeads = append(r.pendingLeads, o.lead)
}

// withdrawOffers gives every open offer of r back. d.mu is held.
func (d *Dialer) withdrawOffers(ctx context.Context, r *run) {
	now := d.opt.Clock.Now()
	for _, o := range r.previews {
		if o.call == nil {
			d.giveBack(r, o, now)
			d.notify(ctx, r, o, "withdrawn")
		}
	}
	clear(r.previews)
	d.flush(ctx, r)
}

// accept places an offered lead's call, the agent's phone first. The rules
// are checked again: time has passed since the offer.
func (d *Dialer) accept(ctx context.Context, r *run, o *offer, now time.Time) error {
	lists, err := d.listed(ctx, r.c.TenantID, &o.lead, o.number)
	if err != nil {
		return err
	}
	v := d.zones.check(&r.c, &o.lead, o.number, lists, now)
	if !v.dial {
		delete(r.previews, o.agent)
		d.refuse(r, o.lead, o.number, v, now)
		d.flush(ctx, r)
		return &switchboard.Error{Code: switchboard.CodeConflict, Message: "the lead may not be dialled now: " + v.reason}
	}
	a := d.newAttempt(r, o.lead, o.number, v, now)
	a.row.AgentID = &o.agent
	if !d.flush(ctx, r) {
		d.unqueue(r, []*attempt{a})
		return &switchboard.Error{Code: switchboard.CodeUnavailable, Message: "the ledger could not be written; try again"}
	}
	d.place(r, a, o.agent)
	d.flush(ctx, r)
	if a.row.CallID == nil {
		delete(r.previews, o.agent)
		return &switchboard.Error{Code: switchboard.CodeConflict, Message: "the call could not be placed: the agent is not free"}
	}
	o.call = a.row.CallID
	delete(r.previews, o.agent)
	return nil
}

// Preview is the lead offered to agent, if any.
func (d *Dialer) Preview(tenantID, agent int64) (switchboard.PreviewOffer, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.runs {
		if o, ok := r.previews[agent]; ok && r.c.TenantID == tenantID {
			return o.public(r), true
		}
	}
	return switchboard.PreviewOffer{}, false
}

// findOffer is agent's offer of lead. d.mu is held.
func (d *Dialer) findOffer(tenantID, agent, lead int64) (*run, *offer, error) {
	for _, r := range d.runs {
		if o, ok := r.previews[agent]; ok && r.c.TenantID == tenantID {
			if o.lead.ID != lead {
				return nil, nil, &switchboard.Error{Code: switchboard.CodeConflict, Message: "the agent's offer is another lead"}
			}
			return r, o, nil
		}
	}
	return nil, nil, &switchboard.Error{Code: switchboard.CodeNotFound, Message: "the agent has no lead offered"}
}

// AcceptPreview places the call of the lead offered to agent.
func (d *Dialer) AcceptPreview(ctx context.Context, tenantID, agent, lead int64) (switchboard.PreviewOffer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, o, err := d.findOffer(tenantID, agent, lead)
	if err != nil {
		return switchboard.PreviewOffer{}, err
	}
	if err := d.accept(ctx, r, o, d.opt.Clock.Now()); err != nil {
		return switchboard.PreviewOffer{}, err
	}
	d.notify(ctx, r, o, "accepted")
	return o.public(r), nil
}

// SkipPreview skips the lead offered to agent for good: a ledger row says
// so and the lead is final (skipped).
func (d *Dialer) SkipPreview(ctx context.Context, tenantID, agent, lead int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, o, err := d.findOffer(tenantID, agent, lead)
	if err != nil {
		return err
	}
	now := d.opt.Clock.Now()
	delete(r.previews, agent)
	delete(r.held, o.lead.ID)
	row := d.ledgerRow(r, &o.lead, o.number, verdict{checks: switchboard.DialChecks{Emergency: switchboard.CheckPass,
		DNC: switchboard.CheckPass, CallingHours: switchboard.CheckPass, Consent: switchboard.CheckPass, AbandonBudget: switchboard.CheckNA}}, now)
	row.AgentID = &agent
	row.Outcome, row.Reason, row.EndedAt = switchboard.DialSkipped, "the agent skipped the lead", &now
	o.lead.Status, o.lead.LastOutcome, o.lead.UpdatedAt = switchboard.LeadSkipped, switchboard.DialSkipped, now
	r.pendingLeads = append(r.pendingLeads, o.lead)
	r.pendingAttempts = append(r.pendingAttempts, &attempt{row: row, done: true})
	if !d.flush(ctx, r) {
		return &switchboard.Error{Code: switchboard.CodeUnavailable, Message: "the skip could not be written; try again"}
	}
	d.notify(ctx, r, o, "skipped")
	return nil
}
