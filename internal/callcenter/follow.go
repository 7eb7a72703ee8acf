package callcenter

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard"
	"switchboard/internal/eventtail"
)

// The engine learns configuration (queues, members, numbers, IVR menus, users,
// skills, presence) from the store: loaded at Start, then kept current by following
// the event log, so that a change made on any node, through any API, reaches
// the engine the same way.

// DeviceName is an agent's phone as the driver knows it: extensions repeat
// across tenants, so the tenant qualifies them.
func DeviceName(tenantID int64, ext string) string { return fmt.Sprintf("t%d:%s", tenantID, ext) }

// extensionRoute is the engine's routing key for a tenant's extension.
func extensionRoute(tenantID int64, ext string) string { return fmt.Sprintf("t%d:%s", tenantID, ext) }

// follow keeps the engine in step with the event log from heads (each
// tenant's last event loadAll saw) until Close. The log is read by tenant
// sequence number, in commit order, so no event is skipped however the
// store's commits interleave.
func (s *Service) follow(ctx context.Context, heads map[int64]int64) error {
	tail, err := eventtail.Start(ctx, s.store, s.apply, eventtail.Options{From: heads, Log: s.log})
	if err != nil {
		return err
	}
	s.tail = tail
	return nil
}

// catchUp applies every event the engine has not seen yet. The API calls it
// before acting on the engine, so that a change it just made (a new number, an
// agent signing in) is in effect: read-your-writes.
func (s *Service) catchUp(ctx context.Context) error {
	if s.tail == nil {
		return nil // not started: loadAll reads the store itself
	}
	return s.tail.CatchUp(ctx)
}

// loadAll puts every tenant's queues, agents and presence into the engine and
// returns how far each tenant's event log was before it read them, for
// follow: events committed meanwhile are applied again, which reloads what
// they changed.
func (s *Service) loadAll(ctx context.Context) (map[int64]int64, error) {
	heads, err := s.store.EventHeads(ctx)
	if err != nil {
		return nil, err
	}
	opt := switchboard.ListOptions{Limit: switchboard.MaxPageLimit}
	for {
		page, err := s.store.Tenants(ctx, opt)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Items {
			if err := s.loadTenant(ctx, t.ID); err != nil {
				return nil, fmt.Errorf("load tenant %s into the call engine: %w", t.Slug, err)
			}
		}
		if page.NextCursor == "" {
			return heads, nil
		}
		opt.Cursor = page.NextCursor
	}
}

func (s *Service) loadTenant(ctx context.Context, tenantID int64) error {
	users, err := switchboard.All(ctx, func(ctx context.Context, id int64, o switchboard.ListOptions) (switchboard.Page[switchboard.User], error) {
		return s.store.Users(ctx, id, switchboard.UserFilter{IncludeDeactivated: true}, o)
	}, tenantID)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := s.loadUser(ctx, u); err != nil {
			return err
		}
	}
	return s.loadQueues(ctx, tenantID)
}

// loadUser gives a user with an extension a phone on the driver, and every
// active user their skills, chat capacity and presence: a user without an
// extension takes no calls but may take chats.
func (s *Service) loadUser(ctx context.Context, u switchboard.User) error {
	s.mu.Lock()
	s.userTenant[u.ID] = u.TenantID
	s.mu.Unlock()
	if u.DeactivatedAt != nil {
		s.eng.SetStatus(u.ID, switchboard.StatusOffline, false)
		return nil
	}
	if u.Extension == "" {
		s.eng.SetAgent(u.ID, "")
	} else {
		dev := DeviceName(u.TenantID, u.Extension)
		s.drv.Provision(dev)
		s.eng.SetAgent(u.ID, dev)
		if s.registrations {
			s.eng.SetReachable(dev, s.drv.Registered(dev))
		}
	}
	s.eng.SetMaxChats(u.ID, u.MaxChats)
	s.eng.SetUserVoicemail(u.ID, u.VoicemailEnabled && u.DeactivatedAt == nil)
	skills := make(map[int64]int, len(u.Skills))
	for _, sk := range u.Skills {
		skills[sk.SkillID] = sk.Proficiency
	}
	s.eng.SetSkills(u.ID, skills)
	p, err := s.store.Presence(ctx, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	s.eng.SetStatus(u.ID, p.Status, p.Available)
	return nil
}

// loadQueues installs every queue of the tenant with its members and the
// numbers that route to it, the numbers that ring users directly, and the IVR
// menus with the numbers that lead to them.
func (s *Service) loadQueues(ctx context.Context, tenantID int64) error {
	queues, err := switchboard.All(ctx, s.store.Queues, tenantID)
	if err != nil {
		return err
	}
	numbers, err := switchboard.All(ctx, s.store.PhoneNumbers, tenantID)
	if err != nil {
		return err
	}
	menus, err := switchboard.All(ctx, s.store.IVRMenus, tenantID)
	if err != nil {
		return err
	}
	byUser := map[int64][]string{}
	toMenu := map[string]int64{}
	for _, n := range numbers {
		switch {
		case n.UserID != nil:
			byUser[*n.UserID] = append(byUser[*n.UserID], n.Number)
		case n.IVRMenuID != nil:
			toMenu[n.Number] = *n.IVRMenuID
		}
	}
	s.eng.SetMenus(tenantID, menus, toMenu)
	s.mu.Lock()
	var users []int64
	for uid, tid := range s.userTenant {
		if tid == tenantID {
			users = append(users, uid)
		}
	}
	s.mu.Unlock()
	for _, uid := range users {
		s.eng.SetUserRoutes(uid, tenantID, byUser[uid])
	}
	for _, q := range queues {
		members, err := switchboard.All(ctx, func(ctx context.Context, id int64, o switchboard.ListOptions) (switchboard.Page[switchboard.QueueMember], error) {
			return s.store.QueueMembers(ctx, id, q.ID, o)
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
		s.eng.SetQueue(q, members, routes...)
	}
	return nil
}

// apply brings the engine up to date with one event.
func (s *Service) apply(ctx context.Context, e switchboard.Event) {
	var err error
	switch e.Type {
	case switchboard.EventQueueCreated, switchboard.EventQueueUpdated, switchboard.EventQueueDeleted,
		switchboard.EventQueueMemberAdded, switchboard.EventQueueMemberUpdated, switchboard.EventQueueMemberRemoved,
		switchboard.EventNumberCreated, switchboard.EventNumberUpdated, switchboard.EventNumberDeleted,
		switchboard.EventIVRMenuCreated, switchboard.EventIVRMenuUpdated, switchboard.EventIVRMenuDeleted:
		err = s.loadQueues(ctx, e.TenantID)
	case switchboard.EventUserCreated, switchboard.EventUserUpdated, switchboard.EventUserDeactivated:
		var u switchboard.User
		if u, err = s.store.User(ctx, e.TenantID, e.SubjectID); err == nil {
			err = s.loadUser(ctx, u)
		}
	case switchboard.EventAgentStatusChanged:
		var p switchboard.PresenceEventPayload
		if err = json.Unmarshal(e.Payload, &p); err == nil && !systemStatus(p.Status) {
			s.eng.SetStatus(e.SubjectID, p.Status, p.Available)
		}
	case switchboard.EventTenantCreated:
		err = s.loadTenant(ctx, e.TenantID)
	case switchboard.EventDNCAdded:
		// Callbacks armed before the number was listed must not ring it.
		var d switchboard.DNCNumber
		if err = json.Unmarshal(e.Payload, &d); err == nil && d.Number != "" {
			if n := s.eng.CancelScheduled(e.TenantID, d.Number, switchboard.CauseDoNotCall); n > 0 {
				s.log.Info("callbacks cancelled: number put on the do-not-call list", "tenant_id", e.TenantID, "callbacks", n)
			}
		}
	}
	if err != nil && ctx.Err() == nil {
		s.log.Error("update the call engine", "event", e.Type, "tenant_id", e.TenantID, "err", err)
	}
	if s.onEvent != nil {
		s.onEvent(ctx, e)
	}
}

// systemStatus reports the statuses the call service itself shows while the
// engine has an agent on a call. Their echo from the log is not applied to
// the engine, which knows better: routing must not depend on how fast the
// store gave the echo back.
func systemStatus(status string) bool {
	return status == switchboard.StatusInCall || status == switchboard.StatusWrapUp
}

// restoreScheduled arms the callbacks waiting in the store, after a restart.
func (s *Service) restoreScheduled(ctx context.Context) error {
	calls, err := s.store.ScheduledCalls(ctx)
	if err != nil {
		return err
	}
	for _, c := range calls {
		sc := engineScheduled(c)
		// A caller who declined recording (UJET's recording_permission,
		// kept in the call's data) stays unrecorded across a restart.
		if d, err := s.store.CallData(ctx, c.TenantID, c.ID); err == nil && d.RecordingPermission == switchboard.RecordingDenied {
			sc.NoRecording = true
		}
		if _, err := s.eng.Schedule(sc); err != nil {
			s.log.Warn("scheduled call cannot be restored", "call_id", c.ID, "err", err)
			continue
		}
		// A number listed while the server was down is not called either.
		if dnc, err := s.store.IsDNC(ctx, c.TenantID, c.To); err == nil && dnc {
			s.eng.CancelScheduled(c.TenantID, c.To, switchboard.CauseDoNotCall)
		}
	}
	return nil
}
