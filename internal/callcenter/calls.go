package callcenter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/phone"
)

// The call service's answers to the APIs. Each checks what the engine cannot
// know (the user, the number, the do-not-call list, the caller id), acts on
// the engine, waits for the writer to record what the engine did, and
// returns the call as stored.

func invalid(msg, field, why string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalid, Message: msg, Fields: map[string]string{field: why}}
}

// Dial implements switchboard.CallService. The agent is checked in the
// order Voiso's Start call lists its prerequisites (the user exists and is
// active, has an extension or a sign-in identity, may place click-to-calls,
// is signed in, is Available), so that each dialect reports the first one
// missing; the engine checks the last two, which change without a write.
func (s *Service) Dial(ctx context.Context, tenantID int64, r switchboard.DialRequest) (switchboard.Call, error) {
	if err := s.catchUp(ctx); err != nil {
		return switchboard.Call{}, err
	}
	const msg = "cannot place the call"
	u, err := s.store.User(ctx, tenantID, r.UserID)
	if err != nil {
		return switchboard.Call{}, err
	}
	if u.DeactivatedAt != nil {
		return switchboard.Call{}, invalid(msg, "user_id", "the user is deactivated")
	}
	if u.Extension == "" && u.SIPUsername == "" {
		// Nothing to ring: the engine would refuse it too, but only as an
		// agent without a phone, after the checks below.
		return switchboard.Call{}, invalid(msg, "user_id", "has no extension or sign-in identity")
	}
	if u.ClickToCallDisabled {
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeForbidden, Message: "the agent may not place click-to-calls",
			Fields: map[string]string{"user_id": "has click_to_call_disabled set"}}
	}
	number, err := s.dialable(ctx, tenantID, r.PhoneNumber)
	if err != nil {
		return switchboard.Call{}, err
	}
	numbers, err := switchboard.All(ctx, s.store.PhoneNumbers, tenantID)
	if err != nil {
		return switchboard.Call{}, err
	}
	callerID := r.CallerID
	switch {
	case callerID != "":
		e164, err := phone.Normalize(callerID, "")
		if err != nil {
			return switchboard.Call{}, invalid(msg, "caller_id", "is not a valid phone number")
		}
		owned := e164 == u.OutboundNumber
		for _, n := range numbers {
			owned = owned || n.Number == e164
		}
		if !owned {
			return switchboard.Call{}, invalid(msg, "caller_id", "is not one of this tenant's numbers")
		}
		callerID = e164
	case u.OutboundNumber != "":
		callerID = u.OutboundNumber
	case len(numbers) > 0:
		callerID = numbers[0].Number
	default:
		return switchboard.Call{}, invalid(msg, "caller_id", "is required: the agent has no outbound number and the tenant no phone number")
	}
	id, err := s.eng.Call(engine.ClickToCall{TenantID: tenantID, AgentID: u.ID, Number: number, CallerID: callerID, Source: r.Source,
		NoRecording: r.NoRecording})
	var un *engine.ErrAgentUnavailable
	if errors.As(err, &un) {
		return switchboard.Call{}, invalid(msg, "user_id", un.Reason)
	}
	if err != nil {
		return switchboard.Call{}, unavailable(err)
	}
	return s.recorded(ctx, tenantID, id)
}

// unavailable turns an engine that cannot take a call now into a 503.
func unavailable(err error) error {
	if errors.Is(err, engine.ErrNoCallID) {
		return &switchboard.Error{Code: switchboard.CodeUnavailable, Message: "calls cannot be placed now: the database is unreachable"}
	}
	return err
}

// recorded waits for the writer to record the engine's changes so far and
// returns call id as stored.
func (s *Service) recorded(ctx context.Context, tenantID, id int64) (switchboard.Call, error) {
	if err := s.sync(ctx); err != nil {
		return switchboard.Call{}, err
	}
	return s.store.Call(ctx, tenantID, id)
}

// DialLink implements switchboard.CallService. A user's extension whose link
// dials the extension first is an ordinary click-to-call (the agent's phone
// first); otherwise the contact is dialled first and, once they answer, the
// user's phone rings or the queue takes them like any caller.
func (s *Service) DialLink(ctx context.Context, tenantID int64, r switchboard.LinkRequest) (switchboard.Call, error) {
	if err := s.catchUp(ctx); err != nil {
		return switchboard.Call{}, err
	}
	link := r.Link
	var user *switchboard.User
	users, err := switchboard.All(ctx, func(ctx context.Context, tid int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.User], error) {
		return s.store.Users(ctx, tid, switchboard.UserFilter{}, opt)
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
		queues, err := switchboard.All(ctx, s.store.Queues, tenantID)
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
	refuse := func(why string) error {
		return invalid("cannot connect the click-to-call: "+why, "extension", why)
	}
	switch {
	case user == nil && queue == nil:
		return switchboard.Call{}, refuse("extension " + link.Extension + " no longer belongs to a user or a queue")
	case user != nil && link.DialFirst == switchboard.DialExtension:
		return s.Dial(ctx, tenantID, switchboard.DialRequest{UserID: user.ID, PhoneNumber: r.Contact, CallerID: link.OutboundNumber, Source: r.Source})
	}
	number, err := s.dialable(ctx, tenantID, r.Contact)
	if err != nil {
		return switchboard.Call{}, err
	}
	now := s.clock.Now().UTC()
	c := switchboard.Call{TenantID: tenantID, To: number, From: link.OutboundNumber, ScheduledAt: &now, Source: r.Source}
	if queue != nil {
		c.QueueID = &queue.ID
	} else {
		// Dial the contact only when the agent can take the call at once.
		p, err := s.store.Presence(ctx, tenantID, user.ID)
		if err != nil {
			return switchboard.Call{}, err
		}
		switch live := s.AgentLive(ctx, tenantID, user.ID); {
		case p.Status == switchboard.StatusOffline:
			return switchboard.Call{}, refuse("the user is not signed in")
		case !p.Available:
			return switchboard.Call{}, refuse("the user's status " + p.Status + " does not take calls")
		case !live.DeviceRegistered:
			return switchboard.Call{}, refuse("the user's phone is not registered")
		case live.State != "idle":
			return switchboard.Call{}, refuse("the user is already on a call or wrapping up")
		}
		c.AgentID = &user.ID
	}
	id, err := s.eng.Schedule(engine.Scheduled{Call: c})
	if errors.Is(err, engine.ErrNoCallID) {
		return switchboard.Call{}, unavailable(err)
	}
	if err != nil {
		return switchboard.Call{}, refuse(err.Error())
	}
	return s.recorded(ctx, tenantID, id)
}

// Schedule implements switchboard.CallService.
func (s *Service) Schedule(ctx context.Context, tenantID int64, r switchboard.ScheduleRequest) (switchboard.Call, error) {
	if err := s.catchUp(ctx); err != nil {
		return switchboard.Call{}, err
	}
	const msg = "cannot schedule the call"
	number, err := s.dialable(ctx, tenantID, r.PhoneNumber)
	if err != nil {
		return switchboard.Call{}, err
	}
	numbers, err := switchboard.All(ctx, s.store.PhoneNumbers, tenantID)
	if err != nil {
		return switchboard.Call{}, err
	}
	callerID := ""
	for _, n := range numbers { // the queue's own number first, else the tenant's first
		if callerID == "" || (n.QueueID != nil && *n.QueueID == r.QueueID) {
			callerID = n.Number
		}
	}
	if r.CallerID != "" {
		e164, err := phone.Normalize(r.CallerID, "")
		owned := false
		for _, n := range numbers {
			owned = owned || (err == nil && n.Number == e164)
		}
		if !owned {
			return switchboard.Call{}, invalid(msg, "caller_id", "is not one of this tenant's numbers")
		}
		callerID = e164
	}
	at := r.At.UTC()
	q := r.QueueID
	s.slots.Lock()
	defer s.slots.Unlock()
	if err := s.checkCallbackSlot(ctx, tenantID, q, at); err != nil {
		return switchboard.Call{}, err
	}
	id, err := s.eng.Schedule(engine.Scheduled{Call: switchboard.Call{TenantID: tenantID, QueueID: &q, To: number, From: callerID,
		ScheduledAt: &at, ParentID: r.ParentID}, NoRecording: r.NoRecording})
	if errors.Is(err, engine.ErrNoCallID) {
		return switchboard.Call{}, unavailable(err)
	}
	if err != nil {
		return switchboard.Call{}, invalid(msg, "queue_id", err.Error())
	}
	return s.recorded(ctx, tenantID, id)
}

// checkCallbackSlot refuses a callback at into a queue whose callback period
// holding at is full (Queue.CallbackSlotCapacity; 0 is no limit), counting
// the callbacks the store holds as scheduled (the engine's callbacks made
// for callers who found the queue full are counted, never refused). s.slots
// is held. An unknown
// queue passes, for the engine to refuse.
func (s *Service) checkCallbackSlot(ctx context.Context, tenantID, queueID int64, at time.Time) error {
	q, err := s.store.Queue(ctx, tenantID, queueID)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if q.CallbackSlotCapacity <= 0 {
		return nil
	}
	// The engine's latest changes (callbacks scheduled or dialled) must be
	// in the store before it is counted.
	if err := s.sync(ctx); err != nil {
		return err
	}
	start, end := q.CallbackPeriod(at)
	taken, err := s.store.ScheduledCallbacks(ctx, tenantID, queueID, start, end)
	if err != nil {
		return err
	}
	if len(taken) >= q.CallbackSlotCapacity {
		loc := q.CallbackLocation()
		return invalid("cannot schedule the call", "scheduled_at", fmt.Sprintf(
			"the callback period %s %s-%s of the queue is full (%d of %d slots taken)", start.In(loc).Format(time.DateOnly),
			start.In(loc).Format("15:04"), end.In(loc).Format("15:04"), len(taken), q.CallbackSlotCapacity))
	}
	return nil
}

func engineScheduled(c switchboard.Call) engine.Scheduled { return engine.Scheduled{Call: c} }

// ours checks that callID is a call of tenantID before the engine, which
// knows calls by id alone, acts on it.
func (s *Service) ours(ctx context.Context, tenantID, callID int64) error {
	if err := s.sync(ctx); err != nil {
		return err
	}
	_, err := s.store.Call(ctx, tenantID, callID)
	return err
}

// Hangup implements switchboard.CallService.
func (s *Service) Hangup(ctx context.Context, tenantID, callID int64) (switchboard.Call, error) {
	if err := s.ours(ctx, tenantID, callID); err != nil {
		return switchboard.Call{}, err
	}
	if !s.eng.Hangup(callID) {
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeConflict,
			Message: "the call is not in progress on this server"}
	}
	return s.recorded(ctx, tenantID, callID)
}

// Hold implements switchboard.CallService.
func (s *Service) Hold(ctx context.Context, tenantID, callID int64, on bool) (switchboard.Call, error) {
	if err := s.ours(ctx, tenantID, callID); err != nil {
		return switchboard.Call{}, err
	}
	if err := s.eng.Hold(callID, on); err != nil {
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeConflict, Message: err.Error()}
	}
	return s.recorded(ctx, tenantID, callID)
}

// Transfer implements switchboard.CallService.
func (s *Service) Transfer(ctx context.Context, tenantID, callID int64, to switchboard.TransferTarget) (switchboard.Call, error) {
	if err := s.catchUp(ctx); err != nil {
		return switchboard.Call{}, err
	}
	if err := s.ours(ctx, tenantID, callID); err != nil {
		return switchboard.Call{}, err
	}
	if to.UserID != 0 {
		if _, err := s.store.User(ctx, tenantID, to.UserID); err != nil {
			return switchboard.Call{}, err
		}
	}
	id, err := s.eng.Transfer(callID, engine.Target{QueueID: to.QueueID, AgentID: to.UserID})
	var un *engine.ErrAgentUnavailable
	switch {
	case errors.As(err, &un):
		return switchboard.Call{}, invalid("cannot transfer", "user_id", un.Reason)
	case errors.Is(err, engine.ErrNoCallID):
		return switchboard.Call{}, unavailable(err)
	case err != nil:
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeConflict, Message: "cannot transfer: " + err.Error()}
	}
	return s.recorded(ctx, tenantID, id)
}

// QueueLive implements switchboard.CallService.
func (s *Service) QueueLive(ctx context.Context, tenantID, queueID int64) (switchboard.QueueLive, bool) {
	if err := s.catchUp(ctx); err != nil {
		s.log.Warn("queue metrics without catching up", "err", err)
	}
	return s.eng.QueueLive(tenantID, queueID)
}

// AgentLive implements switchboard.CallService.
func (s *Service) AgentLive(ctx context.Context, tenantID, userID int64) switchboard.AgentLive {
	if err := s.catchUp(ctx); err != nil {
		s.log.Warn("agent state without catching up", "err", err)
	}
	s.mu.Lock()
	tid, known := s.userTenant[userID]
	s.mu.Unlock()
	if !known || tid != tenantID {
		return switchboard.AgentLive{State: "idle"}
	}
	l := s.eng.AgentLive(userID)
	if dev, ok := s.eng.Device(userID); ok {
		l.DeviceRegistered = s.drv.Registered(dev)
	}
	return l
}

// Recording implements switchboard.CallService through the driver.
func (s *Service) Recording(ctx context.Context, c switchboard.Call) (int64, io.ReadCloser, error) {
	return s.drv.Recording(ctx, c)
}

// FaxDocument implements switchboard.CallService through the driver.
func (s *Service) FaxDocument(ctx context.Context, c switchboard.Call) ([]byte, error) {
	return s.drv.FaxDocument(ctx, c)
}

// dialable normalizes a customer's number for an outbound call and refuses it
// when it is on the tenant's do-not-call list.
func (s *Service) dialable(ctx context.Context, tenantID int64, number string) (string, error) {
	e164, err := phone.Normalize(number, "")
	if err != nil {
		return "", invalid("cannot place the call", "phone_number", "is not a valid phone number")
	}
	dnc, err := s.store.IsDNC(ctx, tenantID, e164)
	if err != nil {
		return "", err
	}
	if dnc {
		return "", &switchboard.Error{Code: switchboard.CodeForbidden, Message: "the number is on the do-not-call list",
			Fields: map[string]string{"phone_number": "is on the do-not-call list"}}
	}
	return e164, nil
}

// Route turns a number or extension dialled in a tenant into the engine's
// routing key, refusing numbers of other tenants: what a simulated or real
// inbound call to it is routed by.
func (s *Service) Route(ctx context.Context, tenantID int64, to string) (string, error) {
	if err := s.catchUp(ctx); err != nil {
		return "", err
	}
	bad := func(why string) error { return invalid("validation failed", "to", why) }
	if e164, err := phone.Normalize(to, ""); err == nil && len(strings.TrimLeft(to, "+")) > 6 {
		numbers, err := switchboard.All(ctx, s.store.PhoneNumbers, tenantID)
		if err != nil {
			return "", err
		}
		for _, n := range numbers {
			if n.Number == e164 {
				if n.QueueID == nil && n.UserID == nil && n.IVRMenuID == nil {
					return "", bad("is not assigned to a queue, a user or an IVR menu")
				}
				return e164, nil
			}
		}
		return "", bad("is not a phone number of this tenant")
	}
	queues, err := switchboard.All(ctx, s.store.Queues, tenantID)
	if err != nil {
		return "", err
	}
	for _, q := range queues {
		if q.Extension == to {
			return extensionRoute(tenantID, to), nil
		}
	}
	return "", bad("is neither a phone number of this tenant nor a queue extension")
}

// TransferTarget turns what a phone dialled to transfer a call (a number or
// queue extension of the tenant, or an agent's extension) into the engine's
// routing key for it, refusing anything the engine cannot transfer to.
func (s *Service) TransferTarget(ctx context.Context, tenantID int64, target string) (string, error) {
	key, err := s.Route(ctx, tenantID, target)
	if err != nil {
		key = DeviceName(tenantID, target)
	}
	if !s.eng.IsTarget(tenantID, key) {
		return "", invalid("cannot transfer the call", "target", "is neither a number, a queue extension nor an agent's extension of this tenant")
	}
	return key, nil
}

// UserDevice is the driver's name of a user's phone; it fails for a user
// without an extension.
func (s *Service) UserDevice(ctx context.Context, tenantID, userID int64) (string, error) {
	if err := s.catchUp(ctx); err != nil {
		return "", err
	}
	u, err := s.store.User(ctx, tenantID, userID)
	if err != nil {
		return "", err
	}
	if u.Extension == "" {
		return "", invalid("the user has no extension, so no phone", "user_id", "has no extension")
	}
	return DeviceName(tenantID, u.Extension), nil
}

// Call returns a call as stored once the engine's changes so far are
// recorded (what an API shows right after it acted through the driver).
func (s *Service) Call(ctx context.Context, tenantID, id int64) (switchboard.Call, error) {
	return s.recorded(ctx, tenantID, id)
}
