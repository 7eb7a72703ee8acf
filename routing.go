package switchboard

import (
	"strings"
	"time"
)

// Team groups users for reporting and supervision. Teams form a tree through
// ParentID, so a supervisor of a parent team sees its sub-teams too.
type Team struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"tenant_id"`
	Name      string    `json:"name"`
	ParentID  *int64    `json:"parent_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate reports every invalid field of t.
func (t *Team) Validate() error {
	p := Problems{}
	t.Name = strings.TrimSpace(t.Name)
	checkName(p, "name", t.Name, true)
	if t.ParentID != nil && t.ID != 0 && *t.ParentID == t.ID {
		p.Add("parent_id", "cannot be the team itself")
	}
	return p.Err()
}

// Skill is something an agent can do (a language, a product line) that queues
// require and routing matches on.
type Skill struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"tenant_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate reports every invalid field of s.
func (s *Skill) Validate() error {
	p := Problems{}
	s.Name = strings.TrimSpace(s.Name)
	checkName(p, "name", s.Name, true)
	return p.Err()
}

// The system agent statuses. Every tenant has them; Offline and Available are
// chosen by agents, In-Call and Wrap-Up only ever set by the call engine.
const (
	StatusOffline   = "Offline"
	StatusAvailable = "Available"
	StatusInCall    = "In-Call"
	StatusWrapUp    = "Wrap-Up"
)

// SystemStatuses lists the statuses every tenant has and nobody can edit.
var SystemStatuses = []AgentStatus{
	{Name: StatusOffline, System: true},
	{Name: StatusAvailable, System: true, Available: true},
	{Name: StatusInCall, System: true},
	{Name: StatusWrapUp, System: true},
}

// AgentStatus is a presence state an agent can be in. Tenants add their own
// (e.g. "Lunch", "Training"); only statuses with Available set receive calls.
type AgentStatus struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"tenant_id"`
	Name      string    `json:"name"`
	System    bool      `json:"system"`
	Available bool      `json:"available"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate reports every invalid field of s.
func (s *AgentStatus) Validate() error {
	p := Problems{}
	s.Name = strings.TrimSpace(s.Name)
	checkName(p, "name", s.Name, true)
	for _, sys := range SystemStatuses {
		if strings.EqualFold(sys.Name, s.Name) {
			p.Add("name", "is a system status name")
		}
	}
	if len(s.Name) > 40 {
		p.Add("name", "must be at most 40 characters")
	}
	return p.Err()
}
