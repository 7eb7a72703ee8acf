package native

import (
	"context"
	"net/http"

	"switchboard"
)

// queueBody is the writable view of a queue; omitted numbers take the queue
// defaults on create.
type queueBody struct {
	Name                string                   `json:"name" limit:"200"`
	Extension           string                   `json:"extension" limit:"20"`
	Strategy            switchboard.Strategy     `json:"strategy"`
	TimeoutSeconds      int                      `json:"timeout_seconds" range:"0,600"`
	RetrySeconds        int                      `json:"retry_seconds" range:"0,600"`
	WrapUpSeconds       int                      `json:"wrap_up_seconds" range:"0,3600"`
	MaxLength           int                      `json:"max_length" range:"0,10000"`
	MaxWaitSeconds      int                      `json:"max_wait_seconds" range:"0,86400"`
	JoinEmpty           bool                     `json:"join_empty"`
	LeaveWhenEmpty      bool                     `json:"leave_when_empty"`
	RingInUse           bool                     `json:"ring_in_use"`
	OverflowToCallback  bool                     `json:"overflow_to_callback"`
	MusicOnHold         string                   `json:"music_on_hold" limit:"200"`
	ServiceLevelSeconds int                      `json:"service_level_seconds" range:"0,3600"`
	Channel             switchboard.Channel      `json:"channel"`
	Language            string                   `json:"language" limit:"16"`
	ParentID            *int64                   `json:"parent_id"`
	RequiredSkills      []switchboard.QueueSkill `json:"required_skills" limit:"100"`
	// MenuType, Hours, VoicemailEnabled and the callback slots are what the
	// app-style dialects (UJET) show and enforce; see switchboard.Queue.
	MenuType             string                      `json:"menu_type" limit:"20"`
	Hours                *switchboard.OperatingHours `json:"hours"`
	VoicemailEnabled     bool                        `json:"voicemail_enabled"`
	CallbackSlotMinutes  int                         `json:"callback_slot_minutes" range:"0,1440"`
	CallbackSlotCapacity int                         `json:"callback_slot_capacity" range:"0,100000"`
}

func queueToBody(q switchboard.Queue) queueBody {
	return queueBody{Name: q.Name, Extension: q.Extension, Strategy: q.Strategy, TimeoutSeconds: q.TimeoutSeconds,
		RetrySeconds: q.RetrySeconds, WrapUpSeconds: q.WrapUpSeconds, MaxLength: q.MaxLength, MaxWaitSeconds: q.MaxWaitSeconds, JoinEmpty: q.JoinEmpty,
		LeaveWhenEmpty: q.LeaveWhenEmpty, RingInUse: q.RingInUse, OverflowToCallback: q.OverflowToCallback, MusicOnHold: q.MusicOnHold,
		ServiceLevelSeconds: q.ServiceLevelSeconds, Channel: q.Channel, Language: q.Language, ParentID: q.ParentID,
		RequiredSkills: q.RequiredSkills, MenuType: q.MenuType, Hours: q.Hours, VoicemailEnabled: q.VoicemailEnabled,
		CallbackSlotMinutes: q.CallbackSlotMinutes, CallbackSlotCapacity: q.CallbackSlotCapacity}
}

func (b *queueBody) apply(q *switchboard.Queue) {
	q.Name, q.Extension, q.Strategy, q.TimeoutSeconds = b.Name, b.Extension, b.Strategy, b.TimeoutSeconds
	q.RetrySeconds, q.WrapUpSeconds, q.MaxLength, q.JoinEmpty = b.RetrySeconds, b.WrapUpSeconds, b.MaxLength, b.JoinEmpty
	q.LeaveWhenEmpty, q.RingInUse, q.MusicOnHold = b.LeaveWhenEmpty, b.RingInUse, b.MusicOnHold
	q.OverflowToCallback, q.MaxWaitSeconds = b.OverflowToCallback, b.MaxWaitSeconds
	q.ServiceLevelSeconds, q.Channel, q.Language = b.ServiceLevelSeconds, b.Channel, b.Language
	q.ParentID, q.RequiredSkills = b.ParentID, b.RequiredSkills
	q.MenuType, q.Hours, q.VoicemailEnabled = b.MenuType, b.Hours, b.VoicemailEnabled
	q.CallbackSlotMinutes, q.CallbackSlotCapacity = b.CallbackSlotMinutes, b.CallbackSlotCapacity
}

type memberBody struct {
	UserID int64 `json:"user_id"`
	// Penalty puts the member in a tier: lower tiers are offered calls first.
	Penalty int `json:"penalty" range:"0,100"`
}

type memberPatch struct {
	Penalty int `json:"penalty" range:"0,100"`
}

func (a *API) queueRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeRoutingRead, switchboard.ScopeRoutingManage
	handle(a, route{Method: "GET", Path: "/v1/queues", Summary: "List queues", Tag: "Queues", Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.Queue], error) {
			return s.Queues(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/queues", Summary: "Create a queue", Tag: "Queues", Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *queueBody) (switchboard.Queue, error) {
			var q switchboard.Queue
			in.apply(&q)
			return s.CreateQueue(ctx, c.tenantID(), q)
		})
	get := byID(s.Queue)
	handle(a, route{Method: "GET", Path: "/v1/queues/{id}", Summary: "Get a queue", Tag: "Queues", Scope: read}, getter(get))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/queues/{id}", Summary: "Update a queue", Tag: "Queues", Scope: manage},
		patch[queueBody, switchboard.Queue]{
			update: updater(s.UpdateQueueFunc),
			toBody: queueToBody,
			apply:  func(in *queueBody, q *switchboard.Queue) error { in.apply(q); return nil },
		})
	handle(a, route{Method: "DELETE", Path: "/v1/queues/{id}", Summary: "Delete a queue with its memberships", Tag: "Queues",
		Scope: manage, Status: http.StatusNoContent}, deleter(s.DeleteQueue))

	handle(a, route{Method: "GET", Path: "/v1/queues/{id}/members", Summary: "List a queue's members in the order they joined", Tag: "Queues", Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.QueueMember], error) {
			id, err := c.pathID("id")
			if err != nil {
				return switchboard.Page[switchboard.QueueMember]{}, err
			}
			return s.QueueMembers(ctx, c.tenantID(), id, opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/queues/{id}/members", Summary: "Add an agent to a queue", Tag: "Queues", Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *memberBody) (switchboard.QueueMember, error) {
			id, err := c.pathID("id")
			if err != nil {
				return switchboard.QueueMember{}, err
			}
			return s.AddQueueMember(ctx, c.tenantID(), switchboard.QueueMember{QueueID: id, UserID: in.UserID, Penalty: in.Penalty})
		})
	member := func(c *call) (switchboard.QueueMember, error) {
		qid, err := c.pathID("id")
		if err != nil {
			return switchboard.QueueMember{}, err
		}
		uid, err := c.pathID("user_id")
		return switchboard.QueueMember{QueueID: qid, UserID: uid}, err
	}
	handle(a, route{Method: "PATCH", Path: "/v1/queues/{id}/members/{user_id}", Summary: "Change a member's penalty", Tag: "Queues", Scope: manage},
		func(ctx context.Context, c *call, in *memberPatch) (switchboard.QueueMember, error) {
			m, err := member(c)
			if err != nil {
				return m, err
			}
			m.Penalty = in.Penalty
			return s.UpdateQueueMember(ctx, c.tenantID(), m)
		})
	handle(a, route{Method: "DELETE", Path: "/v1/queues/{id}/members/{user_id}", Summary: "Remove an agent from a queue", Tag: "Queues",
		Scope: manage, Status: http.StatusNoContent},
		func(ctx context.Context, c *call, _ *noBody) (noContent, error) {
			m, err := member(c)
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, s.RemoveQueueMember(ctx, c.tenantID(), m.QueueID, m.UserID)
		})
}
