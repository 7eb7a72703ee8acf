package switchboard

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// LiveView is a tenant's contact center at one point of its event log:
// its agents with their presence, its queues with the calls waiting in them,
// and its calls in progress, exactly as they stood after event Seq. A
// dashboard loads it and then follows the event stream after Seq, applying
// each event (Apply): it never misses or double-counts a change, because the
// store reads the view and its Seq in one snapshot, and it writes every
// change with its event.
type LiveView struct {
	Seq    int64       `json:"seq"`
	Agents []LiveAgent `json:"agents"`
	Queues []LiveQueue `json:"queues"`
	Calls  []LiveCall  `json:"calls"`
}

// LiveAgent is a user and their presence. Deactivated users are listed (not
// Active) so that a reactivation finds their presence.
type LiveAgent struct {
	UserID    int64      `json:"user_id"`
	Name      string     `json:"name"`
	Extension string     `json:"extension"`
	Active    bool       `json:"active"`
	Status    string     `json:"status"`
	Since     *time.Time `json:"since"`
}

// LiveQueue is a queue and the calls waiting in it for an agent, longest
// waiting first.
type LiveQueue struct {
	ID      int64   `json:"id"`
	Name    string  `json:"name"`
	Waiting []int64 `json:"waiting_call_ids"`
}

// LiveCall is a call in progress: any call not ended but a scheduled one
// still waiting for its time.
type LiveCall struct {
	ID          int64      `json:"id"`
	UUID        string     `json:"uuid"`
	Direction   Direction  `json:"direction"`
	Status      CallStatus `json:"status"`
	From        string     `json:"from"`
	To          string     `json:"to"`
	QueueID     *int64     `json:"queue_id"`
	AgentID     *int64     `json:"agent_id"`
	CreatedAt   time.Time  `json:"created_at"`
	QueuedAt    *time.Time `json:"queued_at"`
	RingingAt   *time.Time `json:"ringing_at"`
	ConnectedAt *time.Time `json:"connected_at"`
}

// InProgress reports whether a call belongs in a live view.
func (c *Call) InProgress() bool { return c.EndedAt == nil && c.Status != CallScheduled }

// NewLiveCall is c as a live view shows it.
func NewLiveCall(c Call) LiveCall {
	return LiveCall{ID: c.ID, UUID: c.UUID, Direction: c.Direction, Status: c.Status, From: c.From, To: c.To,
		QueueID: c.QueueID, AgentID: c.AgentID, CreatedAt: c.CreatedAt, QueuedAt: c.QueuedAt, RingingAt: c.RingingAt,
		ConnectedAt: c.ConnectedAt}
}

// Apply brings the view to event e, the tenant's next event (Seq+1); events
// the view already reflects are passed over. A later one is an error: an
// event between was missed (a stream filtered by type, say), so the view
// must be loaded again.
func (v *LiveView) Apply(e Event) error {
	if e.Seq <= v.Seq {
		return nil
	}
	if e.Seq != v.Seq+1 {
		return fmt.Errorf("live view at seq %d cannot apply event %d: the events between are missing", v.Seq, e.Seq)
	}
	var err error
	switch e.Type {
	case EventUserCreated, EventUserUpdated, EventUserDeactivated:
		var u User
		if err = json.Unmarshal(e.Payload, &u); err == nil {
			a := v.agent(u.ID)
			a.Name, a.Extension, a.Active = u.Name(), u.Extension, u.DeactivatedAt == nil
		}
	case EventAgentStatusChanged:
		var p PresenceEventPayload
		if err = json.Unmarshal(e.Payload, &p); err == nil {
			a := v.agent(e.SubjectID)
			a.Status, a.Since = p.Status, &p.Since
		}
	case EventQueueCreated, EventQueueUpdated:
		var q Queue
		if err = json.Unmarshal(e.Payload, &q); err == nil {
			i, ok := slices.BinarySearchFunc(v.Queues, q.ID, func(x LiveQueue, id int64) int { return cmp.Compare(x.ID, id) })
			if !ok {
				v.Queues = slices.Insert(v.Queues, i, LiveQueue{ID: q.ID})
			}
			v.Queues[i].Name = q.Name
		}
	case EventQueueDeleted:
		v.Queues = slices.DeleteFunc(v.Queues, func(q LiveQueue) bool { return q.ID == e.SubjectID })
	default:
		if e.SubjectType == "call" {
			var p CallEventPayload
			if err = json.Unmarshal(e.Payload, &p); err == nil {
				c := p.Call(e.TenantID)
				c.ID = e.SubjectID
				v.Calls = slices.DeleteFunc(v.Calls, func(x LiveCall) bool { return x.ID == c.ID })
				if c.InProgress() {
					i, _ := slices.BinarySearchFunc(v.Calls, c.ID, func(x LiveCall, id int64) int { return cmp.Compare(x.ID, id) })
					v.Calls = slices.Insert(v.Calls, i, NewLiveCall(c))
				}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("live view: event %d (%s): %w", e.Seq, e.Type, err)
	}
	v.Seq = e.Seq
	v.Index()
	return nil
}

// agent returns the view's agent userID, added (Offline, as a new user is)
// when the view has none.
func (v *LiveView) agent(userID int64) *LiveAgent {
	i, ok := slices.BinarySearchFunc(v.Agents, userID, func(x LiveAgent, id int64) int { return cmp.Compare(x.UserID, id) })
	if !ok {
		v.Agents = slices.Insert(v.Agents, i, LiveAgent{UserID: userID, Status: StatusOffline})
	}
	return &v.Agents[i]
}

// Index orders the view (agents, queues and calls by id) and lists each
// queue's waiting calls, in order of arrival, from its calls.
func (v *LiveView) Index() {
	slices.SortFunc(v.Agents, func(a, b LiveAgent) int { return cmp.Compare(a.UserID, b.UserID) })
	slices.SortFunc(v.Queues, func(a, b LiveQueue) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(v.Calls, func(a, b LiveCall) int { return cmp.Compare(a.ID, b.ID) })
	waiting := map[int64][]LiveCall{}
	for _, c := range v.Calls {
		if c.Status == CallQueued && c.QueueID != nil {
			waiting[*c.QueueID] = append(waiting[*c.QueueID], c)
		}
	}
	for i := range v.Queues {
		calls := waiting[v.Queues[i].ID]
		slices.SortStableFunc(calls, func(a, b LiveCall) int {
			var at, bt time.Time
			if a.QueuedAt != nil {
				at = *a.QueuedAt
			}
			if b.QueuedAt != nil {
				bt = *b.QueuedAt
			}
			return at.Compare(bt)
		})
		v.Queues[i].Waiting = make([]int64, len(calls))
		for j, c := range calls {
			v.Queues[i].Waiting[j] = c.ID
		}
	}
	if v.Agents == nil {
		v.Agents = []LiveAgent{}
	}
	if v.Queues == nil {
		v.Queues = []LiveQueue{}
	}
	if v.Calls == nil {
		v.Calls = []LiveCall{}
	}
}
