package voice360

import (
	"context"
	"strconv"

	"switchboard"
)

// publicUser is what a status page may show of a user: online or offline.
type publicUser struct {
	PK         int64  `json:"pk"`
	PresenceID string `json:"presence_id"`
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	// Status is online (signed in, in any status but Offline) or offline.
	Status string `json:"status"`
}

// publicQueue is a queue's basic information.
type publicQueue struct {
	PK        int64  `json:"pk"`
	Name      string `json:"name"`
	QueueName string `json:"queue_name"`
	Extension string `json:"extension"`
}

// publicQueueAvailability is a queue's agent counts.
type publicQueueAvailability struct {
	publicQueue
	IsReady         bool `json:"is_ready"`
	AgentsOnline    int  `json:"agents_online"`
	AgentsAvailable int  `json:"agents_available"`
	AgentsOnCall    int  `json:"agents_on_call"`
}

func (a *API) publicRoutes() {
	handle(a, route{Method: "GET", Path: "/public/availability", Summary: "Public: each user online or offline (when the account enables public status)",
		Access: public, Message: "User availability data"},
		func(ctx context.Context, c *call, _ *noBody) ([]publicUser, error) {
			users, err := a.users(ctx, c.tenant.ID)
			if err != nil {
				return nil, err
			}
			out := make([]publicUser, 0, len(users))
			for _, u := range users {
				pu := publicUser{PK: u.ID, PresenceID: u.Extension, FirstName: u.FirstName, LastName: u.LastName, Status: "offline"}
				p, err := a.opt.Store.Presence(ctx, c.tenant.ID, u.ID)
				if err != nil {
					return nil, err
				}
				if p.Status != switchboard.StatusOffline {
					pu.Status = "online"
				}
				out = append(out, pu)
			}
			return out, nil
		})
	handle(a, route{Method: "GET", Path: "/public/queues", Summary: "Public: the queues' basic information", Access: public, Message: "List of queues"},
		func(ctx context.Context, c *call, _ *noBody) ([]publicQueue, error) {
			queues, err := a.voiceQueues(ctx, c.tenant.ID)
			out := make([]publicQueue, len(queues))
			for i, q := range queues {
				out[i] = publicQueue{PK: q.ID, Name: strconv.FormatInt(q.ID, 10), QueueName: q.Name, Extension: q.Extension}
			}
			return out, err
		})
	handle(a, route{Method: "GET", Path: "/public/availability/queues", Summary: "Public: the queues' agent counts", Access: public, Message: "Queue availability data"},
		func(ctx context.Context, c *call, _ *noBody) ([]publicQueueAvailability, error) {
			queues, err := a.voiceQueues(ctx, c.tenant.ID)
			out := make([]publicQueueAvailability, len(queues))
			for i, q := range queues {
				av := a.availability(ctx, q)
				out[i] = publicQueueAvailability{publicQueue: publicQueue{PK: av.PK, Name: av.Name, QueueName: av.QueueName, Extension: av.Extension},
					IsReady: av.IsReady, AgentsOnline: av.AgentsOnline, AgentsAvailable: av.AgentsAvailable, AgentsOnCall: av.AgentsOnCall}
			}
			return out, err
		})
}
