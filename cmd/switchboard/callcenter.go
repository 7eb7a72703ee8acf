package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/native"
	"switchboard/internal/phone"
	"switchboard/internal/sim"
	"switchboard/internal/sqlstore"
)

// callCenter wires the call engine to the store and the simulated telephony
// under serve: it loads queues, agents and presence at start, follows the event
// log to keep them current (so a change made on any node, through any API,
// reaches the engine the same way), and persists every call change with its
// call.* event.
type callCenter struct {
	store *sqlstore.DB
	log   *slog.Logger
	clock engine.Clock
	drv   *sim.Driver
	eng   *engine.Engine

	followMu sync.Mutex // serializes catchUp
	loaded   int64      // the newest event applied to the engine
	// applied is loaded for monitoring, readable without waiting for followMu.
	applied atomic.Int64
	// ended counts the calls that ended here, by disposition (nil: not
	// counted).
	ended *prometheus.CounterVec

	mu         sync.Mutex
	devices    map[int64]sim.Device // user id → their virtual phone's settings
	userTenant map[int64]int64      // user id → tenant id
	returnTo   map[int64]string     // user id → status to restore after a call
}

func newCallCenter(store *sqlstore.DB, log *slog.Logger) *callCenter {
	cc := &callCenter{store: store, log: log, clock: engine.RealClock{}, devices: map[int64]sim.Device{},
		userTenant: map[int64]int64{}, returnTo: map[int64]string{}}
	cc.drv = sim.New(cc.clock)
	cc.eng = engine.New(engine.Options{Clock: cc.clock, Telephony: cc.drv, Observer: cc, Log: log})
	cc.drv.SetEngine(cc.eng)
	return cc
}

// deviceName is a user's virtual phone; extensions repeat across tenants.
func deviceName(tenantID int64, ext string) string { return fmt.Sprintf("t%d:%s", tenantID, ext) }

// extensionRoute is the engine's routing key for a tenant's extension.
func extensionRoute(tenantID int64, ext string) string { return fmt.Sprintf("t%d:%s", tenantID, ext) }

// follow keeps the engine in step with the event log until ctx ends. It starts
// from the newest event at loadAll, which must run first.
func (cc *callCenter) follow(ctx context.Context) error {
	wake, stop := cc.store.Changes()
	defer stop()
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	for {
		if err := cc.catchUp(ctx); err != nil && ctx.Err() == nil {
			cc.log.Error("follow events for the call engine", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-poll.C:
		}
	}
}

// catchUp applies every event the engine has not seen yet. The API calls it
// before acting on the engine, so that a change it just made (a new number, an
// agent signing in) is in effect: read-your-writes.
func (cc *callCenter) catchUp(ctx context.Context) error {
	cc.followMu.Lock()
	defer cc.followMu.Unlock()
	for {
		evs, err := cc.store.EventsAfterID(ctx, cc.loaded, 500)
		if err != nil {
			return err
		}
		for _, e := range evs {
			cc.loaded = e.ID
			cc.apply(ctx, e)
			cc.applied.Store(e.ID)
		}
		if len(evs) < 500 {
			return nil
		}
	}
}

// loadAll puts every tenant's queues, agents and presence into the engine and
// remembers how far the event log was, for follow.
func (cc *callCenter) loadAll(ctx context.Context) error {
	last, err := cc.store.LastEventID(ctx)
	if err != nil {
		return err
	}
	cc.loaded = last
	cc.applied.Store(last)
	opt := switchboard.ListOptions{Limit: switchboard.MaxPageLimit}
	for {
		page, err := cc.store.Tenants(ctx, opt)
		if err != nil {
			return err
		}
		for _, t := range page.Items {
			if err := cc.loadTenant(ctx, t.ID); err != nil {
				return fmt.Errorf("load tenant %s into the call engine: %w", t.Slug, err)
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		opt.Cursor = page.NextCursor
	}
}

func (cc *callCenter) loadTenant(ctx context.Context, tenantID int64) error {
	users, err := switchboard.All(ctx, func(ctx context.Context, id int64, o switchboard.ListOptions) (switchboard.Page[switchboard.User], error) {
		return cc.store.Users(ctx, id, switchboard.UserFilter{IncludeDeactivated: true}, o)
	}, tenantID)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := cc.loadUser(ctx, u); err != nil {
			return err
		}
	}
	return cc.loadQueues(ctx, tenantID)
}

// loadUser gives a user with an extension a virtual phone, registered and
// answering after a second unless configured otherwise, and their presence.
func (cc *callCenter) loadUser(ctx context.Context, u switchboard.User) error {
	cc.mu.Lock()
	cc.userTenant[u.ID] = u.TenantID
	cc.mu.Unlock()
	if u.Extension == "" || u.DeactivatedAt != nil {
		cc.eng.SetStatus(u.ID, switchboard.StatusOffline, false)
		return nil
	}
	dev := deviceName(u.TenantID, u.Extension)
	cc.mu.Lock()
	d, ok := cc.devices[u.ID]
	if !ok {
		d = sim.Device{Registered: true, Behavior: sim.Answer, AnswerAfter: time.Second}
		cc.devices[u.ID] = d
	}
	cc.mu.Unlock()
	cc.drv.SetDevice(dev, d)
	cc.eng.SetAgent(u.ID, dev)
	skills := make(map[int64]int, len(u.Skills))
	for _, sk := range u.Skills {
		skills[sk.SkillID] = sk.Proficiency
	}
	cc.eng.SetSkills(u.ID, skills)
	p, err := cc.store.Presence(ctx, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	cc.eng.SetStatus(u.ID, p.Status, p.Available)
	return nil
}

// loadQueues installs every queue of the tenant with its members and the
// numbers that route to it, and the numbers that ring users directly.
func (cc *callCenter) loadQueues(ctx context.Context, tenantID int64) error {
	queues, err := switchboard.All(ctx, cc.store.Queues, tenantID)
	if err != nil {
		return err
	}
	numbers, err := switchboard.All(ctx, cc.store.PhoneNumbers, tenantID)
	if err != nil {
		return err
	}
	byUser := map[int64][]string{}
	for _, n := range numbers {
		if n.UserID != nil {
			byUser[*n.UserID] = append(byUser[*n.UserID], n.Number)
		}
	}
	cc.mu.Lock()
	var users []int64
	for uid, tid := range cc.userTenant {
		if tid == tenantID {
			users = append(users, uid)
		}
	}
	cc.mu.Unlock()
	for _, uid := range users {
		cc.eng.SetUserRoutes(uid, tenantID, byUser[uid])
	}
	for _, q := range queues {
		members, err := switchboard.All(ctx, func(ctx context.Context, id int64, o switchboard.ListOptions) (switchboard.Page[switchboard.QueueMember], error) {
			return cc.store.QueueMembers(ctx, id, q.ID, o)
		}, tenantID)
		if err != nil {
			return err
		}
		var routes []string
		for _, n := range numbers {
			if n.QueueID != nil && *n.QueueID == q.ID {
				routes = append(routes, n.Number)
			}
		}
		ext := q.Extension
		q.Extension = "" // routed by its tenant-qualified key instead
		if ext != "" {
			routes = append(routes, extensionRoute(tenantID, ext))
		}
		cc.eng.SetQueue(q, members, routes...)
	}
	return nil
}

// apply brings the engine up to date with one event.
func (cc *callCenter) apply(ctx context.Context, e switchboard.Event) {
	var err error
	switch {
	case strings.HasPrefix(e.Type, "queue."), strings.HasPrefix(e.Type, "phone_number."):
		err = cc.loadQueues(ctx, e.TenantID)
	case strings.HasPrefix(e.Type, "user."):
		var u switchboard.User
		if u, err = cc.store.User(ctx, e.TenantID, e.SubjectID); err == nil {
			err = cc.loadUser(ctx, u)
		}
	case e.Type == switchboard.EventAgentStatusChanged:
		var p struct {
			Status    string `json:"status"`
			Available bool   `json:"available"`
		}
		if err = json.Unmarshal(e.Payload, &p); err == nil {
			cc.eng.SetStatus(e.SubjectID, p.Status, p.Available)
		}
	case e.Type == switchboard.EventTenantCreated:
		err = cc.loadTenant(ctx, e.TenantID)
	}
	if err != nil && ctx.Err() == nil {
		cc.log.Error("update the call engine", "event", e.Type, "tenant_id", e.TenantID, "err", err)
	}
}

// CallChanged implements engine.Observer: it stores the call and its event.
func (cc *callCenter) CallChanged(c *switchboard.Call, what string) {
	if c.TenantID == 0 {
		return // a call nothing answered to belongs to no tenant
	}
	saved, err := cc.store.SaveCall(context.Background(), *c, what)
	if err != nil {
		cc.log.Error("record call", "call_id", c.ID, "change", what, "err", err)
		return
	}
	c.ID, c.UUID = saved.ID, saved.UUID
	if what == "ended" && cc.ended != nil {
		cc.ended.WithLabelValues(string(c.Disposition)).Inc()
	}
	if what == "connected" && c.ParentID != nil {
		// A callback that reaches the customer recovers the call it follows.
		if err := cc.store.RecoverCall(context.Background(), c.TenantID, *c.ParentID); err != nil {
			cc.log.Error("recover call", "call_id", *c.ParentID, "err", err)
		}
	}
}

// restoreScheduled arms the callbacks waiting in the store, after a restart.
func (cc *callCenter) restoreScheduled(ctx context.Context) error {
	calls, err := cc.store.ScheduledCalls(ctx)
	if err != nil {
		return err
	}
	for _, c := range calls {
		if _, err := cc.eng.Schedule(engine.Scheduled{Call: c}); err != nil {
			cc.log.Warn("scheduled call cannot be restored", "call_id", c.ID, "err", err)
		}
	}
	return nil
}

// ScheduleCall implements native.CallCenter.
func (cc *callCenter) ScheduleCall(ctx context.Context, tenantID int64, in native.ScheduleCall) (switchboard.Call, error) {
	if err := cc.catchUp(ctx); err != nil {
		return switchboard.Call{}, err
	}
	invalid := func(field, why string) error {
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "cannot schedule the call", Fields: map[string]string{field: why}}
	}
	number, err := cc.dialable(ctx, tenantID, in.PhoneNumber)
	if err != nil {
		return switchboard.Call{}, err
	}
	numbers, err := switchboard.All(ctx, cc.store.PhoneNumbers, tenantID)
	if err != nil {
		return switchboard.Call{}, err
	}
	callerID := ""
	for _, n := range numbers { // the queue's own number first, else the tenant's first
		if callerID == "" || (n.QueueID != nil && *n.QueueID == in.QueueID) {
			callerID = n.Number
		}
	}
	if in.CallerID != "" {
		e164, err := phone.Normalize(in.CallerID, "")
		owned := false
		for _, n := range numbers {
			owned = owned || (err == nil && n.Number == e164)
		}
		if !owned {
			return switchboard.Call{}, invalid("caller_id", "is not one of this tenant's numbers")
		}
		callerID = e164
	}
	at := in.At.UTC()
	q := in.QueueID
	id, err := cc.eng.Schedule(engine.Scheduled{Call: switchboard.Call{TenantID: tenantID, QueueID: &q, To: number, From: callerID,
		ScheduledAt: &at, ParentID: in.ParentID}})
	if err != nil {
		return switchboard.Call{}, invalid("queue_id", err.Error())
	}
	return cc.store.Call(ctx, tenantID, id)
}

// SimulateCall implements native.CallCenter.
func (cc *callCenter) SimulateCall(ctx context.Context, tenantID int64, in native.SimCall) (switchboard.Call, error) {
	if err := cc.catchUp(ctx); err != nil {
		return switchboard.Call{}, err
	}
	route, err := cc.resolve(ctx, tenantID, in.To)
	if err != nil {
		return switchboard.Call{}, err
	}
	script := sim.Script{Talk: in.Talk, Patience: in.Patience, Route: route, Ring: in.AnswerAfter, DTMF: in.DTMF, DTMFAfter: in.DTMFAfter,
		FaxPages: in.FaxPages}
	_, id, err := cc.drv.Call(in.From, in.To, script)
	if err != nil {
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"to": "nothing answers this number: " + err.Error()}}
	}
	return cc.store.Call(ctx, tenantID, id)
}

// resolve turns a number or extension dialled in a tenant into an engine
// route, refusing numbers of other tenants.
func (cc *callCenter) resolve(ctx context.Context, tenantID int64, to string) (string, error) {
	bad := func(why string) error {
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed", Fields: map[string]string{"to": why}}
	}
	if e164, err := phone.Normalize(to, ""); err == nil && len(strings.TrimLeft(to, "+")) > 6 {
		numbers, err := switchboard.All(ctx, cc.store.PhoneNumbers, tenantID)
		if err != nil {
			return "", err
		}
		for _, n := range numbers {
			if n.Number == e164 {
				if n.QueueID == nil && n.UserID == nil {
					return "", bad("is not assigned to a queue or a user")
				}
				return e164, nil
			}
		}
		return "", bad("is not a phone number of this tenant")
	}
	queues, err := switchboard.All(ctx, cc.store.Queues, tenantID)
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

// SetSimDevice implements native.CallCenter.
func (cc *callCenter) SetSimDevice(ctx context.Context, tenantID, userID int64, d native.SimDevice) (native.SimDevice, error) {
	if err := cc.catchUp(ctx); err != nil {
		return d, err
	}
	u, err := cc.store.User(ctx, tenantID, userID)
	if err != nil {
		return d, err
	}
	if u.Extension == "" {
		return d, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "the user has no extension, so no phone",
			Fields: map[string]string{"user_id": "has no extension"}}
	}
	dev := sim.Device{Registered: d.Registered, Behavior: sim.Behavior(d.Behavior), AnswerAfter: time.Duration(d.AnswerAfterSeconds * float64(time.Second))}
	cc.mu.Lock()
	cc.devices[userID] = dev
	cc.mu.Unlock()
	cc.drv.SetDevice(deviceName(tenantID, u.Extension), dev)
	return d, nil
}

// AgentChanged implements engine.AgentObserver: it shows In-Call and Wrap-Up as
// the agent's presence while the engine has them busy, and restores the status
// they had before when they are free again, unless they chose another since.
func (cc *callCenter) AgentChanged(userID int64, st engine.AgentState) {
	ctx := context.Background()
	tenantID, err := cc.tenantOfUser(ctx, userID)
	if err != nil {
		cc.log.Error("agent presence", "user_id", userID, "err", err)
		return
	}
	cur, err := cc.store.Presence(ctx, tenantID, userID)
	if err != nil {
		cc.log.Error("agent presence", "user_id", userID, "err", err)
		return
	}
	system := cur.Status == switchboard.StatusInCall || cur.Status == switchboard.StatusWrapUp
	var next string
	switch st {
	case engine.AgentInCall:
		if !system {
			cc.mu.Lock()
			cc.returnTo[userID] = cur.Status
			cc.mu.Unlock()
		}
		next = switchboard.StatusInCall
	case engine.AgentWrapUp:
		if !system {
			return // the agent chose a status during the call; keep it
		}
		next = switchboard.StatusWrapUp
	case engine.AgentFree:
		if !system {
			return
		}
		cc.mu.Lock()
		next = cc.returnTo[userID]
		delete(cc.returnTo, userID)
		cc.mu.Unlock()
		if next == "" {
			next = switchboard.StatusAvailable
		}
	}
	if _, err := cc.store.SetPresence(ctx, tenantID, userID, next, true); err != nil {
		cc.log.Error("agent presence", "user_id", userID, "status", next, "err", err)
	}
}

// tenantOfUser finds a user's tenant from the engine's own records.
func (cc *callCenter) tenantOfUser(ctx context.Context, userID int64) (int64, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if t, ok := cc.userTenant[userID]; ok {
		return t, nil
	}
	return 0, fmt.Errorf("user %d is not known to the call engine", userID)
}

// QueueLive implements native.CallCenter.
func (cc *callCenter) QueueLive(ctx context.Context, queueID int64) (switchboard.QueueLive, bool) {
	if err := cc.catchUp(ctx); err != nil {
		cc.log.Warn("queue metrics without catching up", "err", err)
	}
	return cc.eng.QueueLive(queueID)
}

// ClickToCall implements native.CallCenter.
func (cc *callCenter) ClickToCall(ctx context.Context, tenantID int64, in native.ClickToCall) (switchboard.Call, error) {
	if err := cc.catchUp(ctx); err != nil {
		return switchboard.Call{}, err
	}
	invalid := func(field, why string) error {
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "cannot place the call", Fields: map[string]string{field: why}}
	}
	u, err := cc.store.User(ctx, tenantID, in.UserID)
	if err != nil {
		return switchboard.Call{}, err
	}
	if u.DeactivatedAt != nil {
		return switchboard.Call{}, invalid("user_id", "the user is deactivated")
	}
	if u.ClickToCallDisabled {
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeForbidden, Message: "the agent may not place click-to-calls",
			Fields: map[string]string{"user_id": "has click_to_call_disabled set"}}
	}
	number, err := cc.dialable(ctx, tenantID, in.PhoneNumber)
	if err != nil {
		return switchboard.Call{}, err
	}
	numbers, err := switchboard.All(ctx, cc.store.PhoneNumbers, tenantID)
	if err != nil {
		return switchboard.Call{}, err
	}
	callerID := in.CallerID
	switch {
	case callerID != "":
		e164, err := phone.Normalize(callerID, "")
		if err != nil {
			return switchboard.Call{}, invalid("caller_id", "is not a valid phone number")
		}
		owned := e164 == u.OutboundNumber
		for _, n := range numbers {
			owned = owned || n.Number == e164
		}
		if !owned {
			return switchboard.Call{}, invalid("caller_id", "is not one of this tenant's numbers")
		}
		callerID = e164
	case u.OutboundNumber != "":
		callerID = u.OutboundNumber
	case len(numbers) > 0:
		callerID = numbers[0].Number
	default:
		return switchboard.Call{}, invalid("caller_id", "is required: the agent has no outbound number and the tenant no phone number")
	}
	id, err := cc.eng.Call(engine.ClickToCall{TenantID: tenantID, AgentID: u.ID, Number: number, CallerID: callerID, Source: in.Source,
		NoRecording: in.NoRecording})
	var un *engine.ErrAgentUnavailable
	if errors.As(err, &un) {
		return switchboard.Call{}, invalid("user_id", un.Reason)
	}
	if err != nil {
		return switchboard.Call{}, err
	}
	return cc.store.Call(ctx, tenantID, id)
}

// Hangup implements native.CallCenter.
func (cc *callCenter) Hangup(ctx context.Context, tenantID, callID int64) (switchboard.Call, error) {
	if !cc.eng.Hangup(callID) {
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeConflict,
			Message: "the call is not in progress on this server"}
	}
	return cc.store.Call(ctx, tenantID, callID)
}

// Transfer implements native.CallCenter.
func (cc *callCenter) Transfer(ctx context.Context, tenantID, callID, queueID, userID int64) (switchboard.Call, error) {
	if err := cc.catchUp(ctx); err != nil {
		return switchboard.Call{}, err
	}
	id, err := cc.eng.Transfer(callID, engine.Target{QueueID: queueID, AgentID: userID})
	var un *engine.ErrAgentUnavailable
	switch {
	case errors.As(err, &un):
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "cannot transfer",
			Fields: map[string]string{"user_id": un.Reason}}
	case err != nil:
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeConflict, Message: "cannot transfer: " + err.Error()}
	}
	return cc.store.Call(ctx, tenantID, id)
}

// Recording implements native.CallCenter. The simulated telephony synthesizes
// recordings from the call's talk time (see sim.WriteRecording); a call still
// in progress gives what has been recorded so far.
func (cc *callCenter) Recording(_ context.Context, c switchboard.Call) (int64, io.ReadCloser, error) {
	talk := c.Talk()
	if c.EndedAt == nil && c.ConnectedAt != nil {
		talk = time.Since(*c.ConnectedAt)
	}
	pr, pw := io.Pipe()
	go func() {
		// Ends when the recording is written or the reader closes the pipe.
		pw.CloseWithError(sim.WriteRecording(pw, talk))
	}()
	return sim.RecordingSize(talk), pr, nil
}

// AgentLive implements native.CallCenter.
func (cc *callCenter) AgentLive(ctx context.Context, tenantID, userID int64) switchboard.AgentLive {
	if err := cc.catchUp(ctx); err != nil {
		cc.log.Warn("agent state without catching up", "err", err)
	}
	l := cc.eng.AgentLive(userID)
	cc.mu.Lock()
	l.DeviceRegistered = cc.devices[userID].Registered
	cc.mu.Unlock()
	return l
}

// Hold implements native.CallCenter.
func (cc *callCenter) Hold(ctx context.Context, tenantID, callID int64, on bool) (switchboard.Call, error) {
	if err := cc.eng.Hold(callID, on); err != nil {
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeConflict, Message: err.Error()}
	}
	return cc.store.Call(ctx, tenantID, callID)
}

// dialable normalizes a customer's number for an outbound call and refuses it
// when it is on the tenant's do-not-call list.
func (cc *callCenter) dialable(ctx context.Context, tenantID int64, number string) (string, error) {
	e164, err := phone.Normalize(number, "")
	if err != nil {
		return "", &switchboard.Error{Code: switchboard.CodeInvalid, Message: "cannot place the call",
			Fields: map[string]string{"phone_number": "is not a valid phone number"}}
	}
	dnc, err := cc.store.IsDNC(ctx, tenantID, e164)
	if err != nil {
		return "", err
	}
	if dnc {
		return "", &switchboard.Error{Code: switchboard.CodeForbidden, Message: "the number is on the do-not-call list",
			Fields: map[string]string{"phone_number": "is on the do-not-call list"}}
	}
	return e164, nil
}
