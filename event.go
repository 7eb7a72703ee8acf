package switchboard

import (
	"encoding/json"
	"time"
)

// Event records one state change. Events are appended in the same transaction as
// the change they describe (a transactional outbox), so webhooks, CDRs and live
// streams that read the log can neither miss a change nor see one that rolled
// back. Seq numbers a tenant's events 1, 2, 3… without gaps, which lets a
// consumer resume exactly where it stopped.
type Event struct {
	ID          int64           `json:"id"`
	TenantID    int64           `json:"tenant_id"`
	Seq         int64           `json:"seq"`
	Type        string          `json:"type"`
	Time        time.Time       `json:"time"`
	SubjectType string          `json:"subject_type"`
	SubjectID   int64           `json:"subject_id"`
	Payload     json.RawMessage `json:"payload"`
}

// Event types written by the configuration services. The call engine and later
// services add their own; consumers must ignore types they do not know.
const (
	EventTenantCreated      = "tenant.created"
	EventTenantUpdated      = "tenant.updated"
	EventUserCreated        = "user.created"
	EventUserUpdated        = "user.updated"
	EventUserDeactivated    = "user.deactivated"
	EventTeamCreated        = "team.created"
	EventTeamUpdated        = "team.updated"
	EventTeamDeleted        = "team.deleted"
	EventSkillCreated       = "skill.created"
	EventSkillUpdated       = "skill.updated"
	EventSkillDeleted       = "skill.deleted"
	EventStatusCreated      = "agent_status.created"
	EventStatusUpdated      = "agent_status.updated"
	EventStatusDeleted      = "agent_status.deleted"
	EventQueueCreated       = "queue.created"
	EventQueueUpdated       = "queue.updated"
	EventQueueDeleted       = "queue.deleted"
	EventQueueMemberAdded   = "queue.member_added"
	EventQueueMemberUpdated = "queue.member_updated"
	EventQueueMemberRemoved = "queue.member_removed"
	EventNumberCreated      = "phone_number.created"
	EventNumberUpdated      = "phone_number.updated"
	EventNumberDeleted      = "phone_number.deleted"
	EventKeyCreated         = "api_key.created"
	EventKeyRevoked         = "api_key.revoked"
)
