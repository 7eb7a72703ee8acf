package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"switchboard"
)

// appendCallEvent appends the event typ of call c, as it stands after the
// change, inside t. It is the one place a call's event payload is made: the
// names renderers show (queue, agent, agents rung, the customer's contact,
// the campaign) are read in the same transaction, so the event keeps them as
// they were when the call changed.
func (t *tx) appendCallEvent(ctx context.Context, c switchboard.Call, typ string) error {
	p, err := t.callEventPayload(ctx, c)
	if err != nil {
		return fmt.Errorf("event %s: %w", typ, err)
	}
	return t.appendEvent(ctx, c.TenantID, typ, "call", c.ID, p)
}

func (t *tx) callEventPayload(ctx context.Context, c switchboard.Call) (switchboard.CallEventPayload, error) {
	at := func(v *time.Time) *time.Time {
		if v == nil {
			return nil
		}
		u := v.UTC().Truncate(time.Microsecond)
		return &u
	}
	p := switchboard.CallEventPayload{V: switchboard.EventPayloadVersion, ID: c.ID, UUID: c.UUID, Direction: c.Direction,
		Status: c.Status, From: c.From, To: c.To, ParentID: c.ParentID, Source: c.Source, Recorded: c.Recorded, Media: c.Media,
		FaxPages: c.FaxPages, DTMF: c.DTMF, HoldSeconds: c.Hold.Truncate(time.Microsecond).Seconds(), Disposition: c.Disposition,
		HangupBy: c.HangupBy, HangupCause: c.HangupCause, QueueID: c.QueueID, AgentID: c.AgentID, CreatedAt: *at(&c.CreatedAt),
		QueuedAt: at(c.QueuedAt), RingingAt: at(c.RingingAt), ConnectedAt: at(c.ConnectedAt), EndedAt: at(c.EndedAt),
		ScheduledAt: at(c.ScheduledAt), IVRMenuID: c.IVRMenuID, VoicemailReason: c.VoicemailReason,
		VoicemailReadAt: at(c.VoicemailReadAt), VoicemailReadBy: c.VoicemailReadBy}
	var err error
	if c.QueueID != nil {
		p.Queue = &switchboard.QueueRef{ID: *c.QueueID}
		if p.Queue.Name, err = t.names().queue(ctx, t, c.TenantID, *c.QueueID); err != nil {
			return p, err
		}
	}
	if c.CampaignID != nil {
		p.Campaign = &switchboard.CampaignRef{ID: *c.CampaignID}
		if p.Campaign.Name, err = t.names().campaign(ctx, t, c.TenantID, *c.CampaignID); err != nil {
			return p, err
		}
	}
	if c.AgentID != nil {
		u, err := t.names().user(ctx, t, c.TenantID, *c.AgentID)
		if err != nil {
			return p, err
		}
		if u != nil {
			agent := *u
			p.Agent = &agent
		}
	}
	for _, id := range c.RingingAgents {
		u, err := t.names().user(ctx, t, c.TenantID, id)
		if err != nil {
			return p, err
		}
		if u != nil {
			p.Ringing = append(p.Ringing, *u)
		}
	}
	if n := c.CustomerNumber(); n != "" {
		if p.Customer, err = t.names().contact(ctx, t, c.TenantID, n); err != nil {
			return p, err
		}
	}
	return p, nil
}

// callNames remembers, for one store call, the names call events record: a
// batch of the call service's changes names the same agents, queues and
// callers again and again. Nothing renames them within one store call, so
// what it read first is still what the store holds.
type callNames struct {
	users     map[[2]int64]*switchboard.UserRef // tenant, user → nil when there is none
	queues    map[[2]int64]string
	campaigns map[[2]int64]string
	contacts  map[contactKey]*switchboard.ContactRef
}

type contactKey struct {
	tenantID int64
	number   string
}

func (t *tx) names() *callNames {
	if t.callNames == nil {
		t.callNames = &callNames{users: map[[2]int64]*switchboard.UserRef{}, queues: map[[2]int64]string{},
			campaigns: map[[2]int64]string{}, contacts: map[contactKey]*switchboard.ContactRef{}}
	}
	return t.callNames
}

// user returns the tenant's user, or nil when there is none. The ref is
// shared; callers copy it before changing it.
func (n *callNames) user(ctx context.Context, t *tx, tenantID, id int64) (*switchboard.UserRef, error) {
	k := [2]int64{tenantID, id}
	if u, ok := n.users[k]; ok {
		return u, nil
	}
	u := &switchboard.UserRef{ID: id}
	err := t.queryRow(ctx, "SELECT first_name, last_name, email, extension, sip_username FROM users WHERE tenant_id = ? AND id = ?",
		tenantID, id).Scan(&u.FirstName, &u.LastName, &u.Email, &u.Extension, &u.SIPUsername)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		u = nil
	case err != nil:
		return nil, fmt.Errorf("agent of call: %w", err)
	}
	n.users[k] = u
	return u, nil
}

// queue returns the name of the tenant's queue, empty when it is gone.
func (n *callNames) queue(ctx context.Context, t *tx, tenantID, id int64) (string, error) {
	k := [2]int64{tenantID, id}
	if name, ok := n.queues[k]; ok {
		return name, nil
	}
	var name string
	err := t.queryRow(ctx, "SELECT name FROM queues WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("queue of call: %w", err)
	}
	n.queues[k] = name
	return name, nil
}

// campaign returns the name of the tenant's campaign, empty when it is gone.
func (n *callNames) campaign(ctx context.Context, t *tx, tenantID, id int64) (string, error) {
	k := [2]int64{tenantID, id}
	if name, ok := n.campaigns[k]; ok {
		return name, nil
	}
	var name string
	err := t.queryRow(ctx, "SELECT name FROM campaigns WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("campaign of call: %w", err)
	}
	n.campaigns[k] = name
	return name, nil
}

// contact returns the contact filed under number, the lowest id when several
// share it (as ContactsByPhone picks), or nil.
func (n *callNames) contact(ctx context.Context, t *tx, tenantID int64, number string) (*switchboard.ContactRef, error) {
	k := contactKey{tenantID, number}
	if c, ok := n.contacts[k]; ok {
		return c, nil
	}
	c := &switchboard.ContactRef{}
	err := t.queryRow(ctx, `SELECT c.id, c.first_name, c.last_name, c.crm_name, c.crm_contact_url FROM contacts c
		WHERE c.tenant_id = ? AND c.id = (SELECT MIN(contact_id) FROM contact_phones WHERE tenant_id = ? AND number = ?)`,
		tenantID, tenantID, number).Scan(&c.ID, &c.FirstName, &c.LastName, &c.CRMName, &c.CRMContactURL)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		c = nil
	case err != nil:
		return nil, fmt.Errorf("contact of call: %w", err)
	}
	n.contacts[k] = c
	return c, nil
}
