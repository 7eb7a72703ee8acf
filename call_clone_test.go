package switchboard_test

import (
	"testing"
	"time"

	"switchboard"
)

// TestCallCloneSharesNothing changes everything a call points at after
// cloning it: the clone must not see it (the engine goes on changing the
// calls it reported while the writer still holds them).
func TestCallCloneSharesNothing(t *testing.T) {
	q, a, p, m := int64(1), int64(2), int64(3), int64(4)
	now := time.Now()
	at := [5]time.Time{now, now, now, now, now}
	c := switchboard.Call{QueueID: &q, AgentID: &a, ParentID: &p, QueuedAt: &at[0], RingingAt: &at[1], ConnectedAt: &at[2],
		EndedAt: &at[3], ScheduledAt: &at[4], RingingAgents: []int64{7, 8}, IVRMenuID: &m}
	d := c.Clone()
	q, a, p, m = 10, 20, 30, 40
	for i := range at {
		at[i] = at[i].Add(time.Hour)
	}
	c.RingingAgents[0] = 9
	if *d.QueueID != 1 || *d.AgentID != 2 || *d.ParentID != 3 || *d.IVRMenuID != 4 || d.RingingAgents[0] != 7 {
		t.Errorf("the clone shares ids or ringing agents: %+v", d)
	}
	for _, tp := range []*time.Time{d.QueuedAt, d.RingingAt, d.ConnectedAt, d.EndedAt, d.ScheduledAt} {
		if !tp.Equal(now) {
			t.Errorf("the clone shares a time: %v", tp)
		}
	}
	if e := (switchboard.Call{}).Clone(); e.QueueID != nil || e.RingingAgents != nil || e.EndedAt != nil {
		t.Errorf("clone of an empty call: %+v", e)
	}
}
