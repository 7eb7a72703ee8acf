package voiso

import (
	"context"
	"slices"

	"switchboard"
)

// queueOut is Voiso's queue (shapes.json "queue"). The core has no
// announcements, failover destinations or post-call rating: those are null.
type queueOut struct {
	ID                  int64          `json:"id"`
	Name                string         `json:"name"`
	Extension           *string        `json:"extension"`
	Strategy            string         `json:"strategy"`
	MusicOnHold         typedName      `json:"music_on_hold"`
	InQueueAnnouncement *announcement  `json:"in_queue_announcement"`
	FailoverDestination *failover      `json:"failover_destination"`
	Callback            *queueCallback `json:"callback"`
	PostCallRating      *rating        `json:"post_call_rating"`
}

// announcement, failover and rating document the shapes Voiso shows when
// the feature is on; the core has none of them, so they are always null.
type announcement struct {
	Interval         int       `json:"interval"`
	VoiceMessage     typedName `json:"voice_message"`
	AnnouncePosition bool      `json:"announce_position"`
	AnnounceWaitTime bool      `json:"announce_wait_time"`
}

type failover struct {
	Type        string         `json:"type"`
	WaitTime    int            `json:"wait_time"`
	Destination map[string]any `json:"destination"`
}

type rating struct {
	NotificationVoiceMessage typedName `json:"notification_voice_message"`
	InstructionVoiceMessage  typedName `json:"instruction_voice_message"`
}

// queueCallback is shown when the queue turns callers it cannot take into
// callbacks (Queue.OverflowToCallback). The core has no callback prompts or
// caller-id groups: the defaults are named.
type queueCallback struct {
	WaitTime                 int       `json:"wait_time"`
	CallerIDGroup            ref       `json:"caller_id_group"`
	OfferVoiceMessage        typedName `json:"offer_voice_message"`
	ConfirmationVoiceMessage typedName `json:"confirmation_voice_message"`
}

// strategies names the core's strategies as Voiso does.
var strategies = map[switchboard.Strategy]string{
	switchboard.StrategyRingAll: "ring_all", switchboard.StrategyRRMemory: "round_robin",
	switchboard.StrategyLeastRecent: "least_recent", switchboard.StrategyFewestCalls: "fewest_calls",
	switchboard.StrategyRandom: "random", switchboard.StrategyWRandom: "weighted_random", switchboard.StrategyLinear: "linear",
}

func renderQueue(q switchboard.Queue) queueOut {
	moh := q.MusicOnHold
	if moh == "" {
		moh = "Default"
	}
	out := queueOut{ID: q.ID, Name: q.Name, Extension: nullable(q.Extension), Strategy: strategies[q.Strategy],
		MusicOnHold: typedName{Type: "music_on_hold", Name: moh}}
	if out.Strategy == "" {
		out.Strategy = string(q.Strategy)
	}
	if q.OverflowToCallback {
		out.Callback = &queueCallback{WaitTime: q.MaxWaitSeconds, CallerIDGroup: ref{ID: 1, Name: "Default"},
			OfferVoiceMessage: typedName{Type: "voice_message", Name: "Default"}, ConfirmationVoiceMessage: typedName{Type: "voice_message", Name: "Default"}}
	}
	return out
}

type queuesList struct {
	Queues   []queueOut `json:"queues"`
	Metadata metadata   `json:"metadata"`
}

type queueGet struct {
	Queue queueOut `json:"queue"`
}

type skillsList struct {
	Skills   []ref    `json:"skills"`
	Metadata metadata `json:"metadata"`
}

func (a *API) routingRoutes() []route {
	return []route{
		handler(route{Method: "GET", Path: "routing/queues", Summary: "List queues", Scope: switchboard.ScopeRoutingQueuesRead, Query: pageQuery},
			func(ctx context.Context, c *call, _ *noBody) (queuesList, error) {
				opt, err := listOptions(c.r.URL.Query())
				if err != nil {
					return queuesList{}, err
				}
				p, err := a.opt.Store.Queues(ctx, c.tenantID(), opt)
				out := queuesList{Queues: make([]queueOut, len(p.Items)), Metadata: metadata{Total: p.Total}}
				for i, q := range p.Items {
					out.Queues[i] = renderQueue(q)
				}
				return out, err
			}),
		handler(route{Method: "GET", Path: "routing/queues/{queue_id}", Summary: "Get a queue", Scope: switchboard.ScopeRoutingQueuesRead},
			func(ctx context.Context, c *call, _ *noBody) (queueGet, error) {
				q, err := a.queue(ctx, c)
				return queueGet{Queue: renderQueue(q)}, err
			}),
		handler(route{Method: "GET", Path: "routing/queues/{queue_id}/users", Summary: "List a queue's members",
			Scope: switchboard.ScopeRoutingQueuesRead, Query: pageQuery},
			func(ctx context.Context, c *call, _ *noBody) (usersList, error) {
				q, err := a.queue(ctx, c)
				if err != nil {
					return usersList{}, err
				}
				return a.members(ctx, c, q.ID, false)
			}),
		handler(route{Method: "GET", Path: "routing/queues/{queue_id}/supervisors", Summary: "List a queue's supervisors",
			Doc:   "A queue's supervisors are its members holding the supervisor role.",
			Scope: switchboard.ScopeRoutingQueuesRead, Query: pageQuery},
			func(ctx context.Context, c *call, _ *noBody) (usersList, error) {
				q, err := a.queue(ctx, c)
				if err != nil {
					return usersList{}, err
				}
				return a.members(ctx, c, q.ID, true)
			}),
		handler(route{Method: "GET", Path: "routing/skills", Summary: "List skills", Scope: switchboard.ScopeRoutingSkillsRead, Query: pageQuery},
			func(ctx context.Context, c *call, _ *noBody) (skillsList, error) {
				opt, err := listOptions(c.r.URL.Query())
				if err != nil {
					return skillsList{}, err
				}
				p, err := a.opt.Store.Skills(ctx, c.tenantID(), opt)
				out := skillsList{Skills: make([]ref, len(p.Items)), Metadata: metadata{Total: p.Total}}
				for i, s := range p.Items {
					out.Skills[i] = ref{ID: s.ID, Name: s.Name}
				}
				return out, err
			}),
	}
}

// queue is the queue the path names.
func (a *API) queue(ctx context.Context, c *call) (switchboard.Queue, error) {
	id, err := pathID(c, "queue_id")
	if err != nil {
		return switchboard.Queue{}, err
	}
	return a.opt.Store.Queue(ctx, c.tenantID(), id)
}

// members is a page of the queue's members as full users, in the order they
// joined; supervisors keeps only those holding the supervisor role, which the
// store cannot filter on, so that list is read whole and paged here (a
// queue's members are bounded by the tenant's users).
func (a *API) members(ctx context.Context, c *call, queueID int64, supervisors bool) (usersList, error) {
	opt, err := listOptions(c.r.URL.Query())
	if err != nil {
		return usersList{}, err
	}
	var ids []int64
	total := 0
	if !supervisors {
		p, err := a.opt.Store.QueueMembers(ctx, c.tenantID(), queueID, opt)
		if err != nil {
			return usersList{}, err
		}
		for _, m := range p.Items {
			ids = append(ids, m.UserID)
		}
		total = p.Total
	} else {
		all, err := switchboard.All(ctx, func(ctx context.Context, tid int64, o switchboard.ListOptions) (switchboard.Page[switchboard.QueueMember], error) {
			return a.opt.Store.QueueMembers(ctx, tid, queueID, o)
		}, c.tenantID())
		if err != nil {
			return usersList{}, err
		}
		for _, m := range all {
			ids = append(ids, m.UserID)
		}
	}
	users, err := a.opt.Store.UsersByID(ctx, c.tenantID(), ids)
	if err != nil {
		return usersList{}, err
	}
	if supervisors {
		users = slices.DeleteFunc(users, func(u switchboard.User) bool { return !slices.Contains(u.Roles, switchboard.RoleSupervisor) })
		total = len(users)
		users = users[min(opt.Offset, len(users)):min(opt.Offset+opt.Limit, len(users))]
	}
	out, err := a.renderUsers(ctx, c, users)
	return usersList{Users: out, Metadata: metadata{Total: total}}, err
}
