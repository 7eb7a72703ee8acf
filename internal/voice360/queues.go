package voice360

import (
	"context"
	"strconv"

	"switchboard"
	"switchboard/internal/httpapi"
)

// queueConfig is a queue as /queues shows it: Asterisk's queue settings.
type queueConfig struct {
	PK             int64  `json:"pk"`
	Name           string `json:"name"`
	QueueName      string `json:"queue_name"`
	Extension      string `json:"extension"`
	Strategy       string `json:"strategy"`
	MusicOnHold    string `json:"musiconhold"`
	Timeout        int    `json:"timeout"`
	Retry          int    `json:"retry"`
	WrapUpTime     int    `json:"wrapuptime"`
	MaxLen         int    `json:"maxlen"`
	JoinEmpty      string `json:"joinempty"`
	LeaveWhenEmpty string `json:"leavewhenempty"`
	RingInUse      string `json:"ringinuse"`
}

// queueMember is a user assigned to a queue.
type queueMember struct {
	PK         int64  `json:"pk"`
	PresenceID string `json:"presence_id"`
	CallerID   string `json:"callerID"`
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	Penalty    int    `json:"penalty"`
}

// queueDetails is one queue with its members.
type queueDetails struct {
	queueConfig
	Users []queueMember `json:"users"`
}

// queueAvailability is a queue's live agent figures.
type queueAvailability struct {
	PK              int64  `json:"pk"`
	Name            string `json:"name"`
	QueueName       string `json:"queue_name"`
	Extension       string `json:"extension"`
	IsReady         bool   `json:"is_ready"`
	AgentsOnline    int    `json:"agents_online"`
	AgentsAvailable int    `json:"agents_available"`
	AgentsOnCall    int    `json:"agents_on_call"`
	ActiveCalls     int    `json:"active_calls"`
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func renderQueue(q switchboard.Queue) queueConfig {
	moh := q.MusicOnHold
	if moh == "" {
		moh = "default"
	}
	return queueConfig{PK: q.ID, Name: strconv.FormatInt(q.ID, 10), QueueName: q.Name, Extension: q.Extension, Strategy: string(q.Strategy),
		MusicOnHold: moh, Timeout: q.TimeoutSeconds, Retry: q.RetrySeconds, WrapUpTime: q.WrapUpSeconds, MaxLen: q.MaxLength,
		JoinEmpty: yesNo(q.JoinEmpty), LeaveWhenEmpty: yesNo(q.LeaveWhenEmpty), RingInUse: yesNo(q.RingInUse)}
}

// voiceQueues lists the tenant's queues that carry voice: the others are
// internal as far as Voice360 is concerned.
func (a *API) voiceQueues(ctx context.Context, tenantID int64) ([]switchboard.Queue, error) {
	queues, err := switchboard.All(ctx, a.opt.Store.Queues, tenantID)
	if err != nil {
		return nil, err
	}
	out := queues[:0]
	for _, q := range queues {
		if q.Channel == "" || q.Channel == switchboard.ChannelVoice {
			out = append(out, q)
		}
	}
	return out, nil
}

func (a *API) queue(ctx context.Context, c *call) (switchboard.Queue, error) {
	id, err := httpapi.PathID(c.r, "id")
	if err != nil {
		return switchboard.Queue{}, err
	}
	q, err := a.opt.Store.Queue(ctx, c.tenant.ID, id)
	if err == nil && q.Channel != "" && q.Channel != switchboard.ChannelVoice {
		err = switchboard.Errorf(switchboard.CodeNotFound, "Queue %d not found", id)
	}
	return q, err
}

func (a *API) availability(ctx context.Context, q switchboard.Queue) queueAvailability {
	out := queueAvailability{PK: q.ID, Name: strconv.FormatInt(q.ID, 10), QueueName: q.Name, Extension: q.Extension}
	if a.opt.Calls == nil {
		return out
	}
	live, ok := a.opt.Calls.QueueLive(ctx, q.TenantID, q.ID)
	if !ok {
		return out
	}
	out.AgentsOnline, out.AgentsAvailable, out.AgentsOnCall = live.AgentsOnline, live.AgentsAvailable, live.AgentsOnCall
	out.ActiveCalls, out.IsReady = live.CallsActive+live.CallsWaiting, live.AgentsAvailable > 0
	return out
}

func (a *API) queueRoutes() {
	handle(a, route{Method: "GET", Path: "/queues", Summary: "List the queues (internal ones filtered out)", Access: developerKey, Scope: switchboard.ScopeRoutingRead, Message: "List of queues"},
		func(ctx context.Context, c *call, _ *noBody) ([]queueConfig, error) {
			queues, err := a.voiceQueues(ctx, c.tenant.ID)
			out := make([]queueConfig, len(queues))
			for i, q := range queues {
				out[i] = renderQueue(q)
			}
			return out, err
		})
	handle(a, route{Method: "GET", Path: "/queues/{id}", Summary: "A queue's configuration and assigned users", Access: developerKey, Scope: switchboard.ScopeRoutingRead, Message: "Queue details"},
		func(ctx context.Context, c *call, _ *noBody) (queueDetails, error) {
			q, err := a.queue(ctx, c)
			if err != nil {
				return queueDetails{}, err
			}
			members, err := switchboard.All(ctx, func(ctx context.Context, tid int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.QueueMember], error) {
				return a.opt.Store.QueueMembers(ctx, tid, q.ID, opt)
			}, c.tenant.ID)
			if err != nil {
				return queueDetails{}, err
			}
			out := queueDetails{queueConfig: renderQueue(q), Users: []queueMember{}}
			for _, m := range members {
				u, err := a.opt.Store.User(ctx, c.tenant.ID, m.UserID)
				if err != nil {
					return queueDetails{}, err
				}
				out.Users = append(out.Users, queueMember{PK: u.ID, PresenceID: u.Extension, CallerID: fullName(u), FirstName: u.FirstName,
					LastName: u.LastName, Penalty: m.Penalty})
			}
			return out, nil
		})
	handle(a, route{Method: "GET", Path: "/availability/queues", Summary: "Live agent figures of every queue", Access: developerKey, Scope: switchboard.ScopeRoutingRead, Message: "Queue availability data"},
		func(ctx context.Context, c *call, _ *noBody) ([]queueAvailability, error) {
			queues, err := a.voiceQueues(ctx, c.tenant.ID)
			out := make([]queueAvailability, len(queues))
			for i, q := range queues {
				out[i] = a.availability(ctx, q)
			}
			return out, err
		})
	handle(a, route{Method: "GET", Path: "/availability/queues/{id}", Summary: "Live agent figures of one queue", Access: developerKey, Scope: switchboard.ScopeRoutingRead, Message: "Queue availability data"},
		func(ctx context.Context, c *call, _ *noBody) (queueAvailability, error) {
			q, err := a.queue(ctx, c)
			if err != nil {
				return queueAvailability{}, err
			}
			return a.availability(ctx, q), nil
		})
}
