package main

import (
	"bytes"
	"context"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/native"
	"switchboard/internal/sim"
	"switchboard/internal/voice360"
	"switchboard/internal/voxloud"
)

// ConnectClickToCall implements voxloud.CallCenter: it places the call of a
// click-to-call link. A user's extension with dial_first "extension" is an
// ordinary click-to-call (the agent's phone first); otherwise the contact is
// dialled first and, once they answer, the user's phone rings or the queue
// takes them like any caller.
func (cc *callCenter) ConnectClickToCall(ctx context.Context, tenantID int64, link switchboard.ClickToCall, contact string) (switchboard.Call, error) {
	if err := cc.catchUp(ctx); err != nil {
		return switchboard.Call{}, err
	}
	source := switchboard.CallSource{System: voxloud.SourceClickToCall, AccountID: link.Key}
	var user *switchboard.User
	users, err := switchboard.All(ctx, func(ctx context.Context, tid int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.User], error) {
		return cc.store.Users(ctx, tid, switchboard.UserFilter{}, opt)
	}, tenantID)
	if err != nil {
		return switchboard.Call{}, err
	}
	for i := range users {
		if users[i].Extension == link.Extension {
			user = &users[i]
			break
		}
	}
	var queue *switchboard.Queue
	if user == nil {
		queues, err := switchboard.All(ctx, cc.store.Queues, tenantID)
		if err != nil {
			return switchboard.Call{}, err
		}
		for i := range queues {
			if queues[i].Extension == link.Extension {
				queue = &queues[i]
				break
			}
		}
	}
	unavailable := func(why string) error {
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "cannot connect the click-to-call: " + why,
			Fields: map[string]string{"extension": why}}
	}
	switch {
	case user == nil && queue == nil:
		return switchboard.Call{}, unavailable("extension " + link.Extension + " no longer belongs to a user or a queue")
	case user != nil && link.DialFirst == switchboard.DialExtension:
		return cc.ClickToCall(ctx, tenantID, native.ClickToCall{UserID: user.ID, PhoneNumber: contact, CallerID: link.OutboundNumber, Source: source})
	}
	number, err := cc.dialable(ctx, tenantID, contact)
	if err != nil {
		return switchboard.Call{}, err
	}
	now := time.Now().UTC()
	c := switchboard.Call{TenantID: tenantID, To: number, From: link.OutboundNumber, ScheduledAt: &now, Source: source}
	if queue != nil {
		c.QueueID = &queue.ID
	} else {
		// Dial the contact only when the agent can take the call at once.
		p, err := cc.store.Presence(ctx, tenantID, user.ID)
		if err != nil {
			return switchboard.Call{}, err
		}
		switch live := cc.AgentLive(ctx, tenantID, user.ID); {
		case p.Status == switchboard.StatusOffline:
			return switchboard.Call{}, unavailable("the user is not signed in")
		case !p.Available:
			return switchboard.Call{}, unavailable("the user's status " + p.Status + " does not take calls")
		case !live.DeviceRegistered:
			return switchboard.Call{}, unavailable("the user's phone is not registered")
		case live.State != "idle":
			return switchboard.Call{}, unavailable("the user is already on a call or wrapping up")
		}
		c.AgentID = &user.ID
	}
	id, err := cc.eng.Schedule(engine.Scheduled{Call: c})
	if err != nil {
		return switchboard.Call{}, unavailable(err.Error())
	}
	return cc.store.Call(ctx, tenantID, id)
}

var _ voxloud.CallCenter = (*callCenter)(nil)

// FaxDocument implements voxloud.CallCenter. The simulated telephony makes
// the document of a received fax from the call (see sim.WriteFax).
func (cc *callCenter) FaxDocument(_ context.Context, c switchboard.Call) ([]byte, error) {
	if c.Media != switchboard.MediaFax || c.EndedAt == nil {
		return nil, switchboard.Errorf(switchboard.CodeNotFound, "call %d is not a received fax", c.ID)
	}
	var b bytes.Buffer
	if err := sim.WriteFax(&b, c.FaxPages, c.From, c.To, c.CreatedAt); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Dial implements voice360.CallCenter: a click-to-call from the user's phone,
// marked as the Voice360 API's, recorded only when asked.
func (cc *callCenter) Dial(ctx context.Context, tenantID, userID int64, number, callerID string, record bool) (switchboard.Call, error) {
	return cc.ClickToCall(ctx, tenantID, native.ClickToCall{UserID: userID, PhoneNumber: number, CallerID: callerID,
		Source: switchboard.CallSource{System: "voice360"}, NoRecording: !record})
}

var _ voice360.CallCenter = (*callCenter)(nil)
