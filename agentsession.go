package switchboard

import (
	"context"
	"time"
)

// AgentSession is one sign-in of an agent: when, and from which address, so
// that a force logout can select agents by the network they work from and a
// user list can show when each last signed in.
type AgentSession struct {
	ID       int64     `json:"id"`
	TenantID int64     `json:"tenant_id"`
	UserID   int64     `json:"user_id"`
	At       time.Time `json:"at"`
	// RemoteAddr is the IP address (no port) the sign-in came from.
	RemoteAddr string `json:"remote_addr"`
	// Source is how the agent signed in: SessionPresence (they set their
	// presence with their own key) or SessionSIP (their phone registered).
	Source string `json:"source"`
}

// The ways a sign-in is recorded.
const (
	SessionPresence = "presence"
	SessionSIP      = "sip"
)

// ForceLogoutJob is a force logout too large to answer at once: it runs in
// the background and its results are kept for polling.
type ForceLogoutJob struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"tenant_id"`
	Status   string `json:"status"`
	// AgentIDs are the agents the request selected, resolved when it was
	// accepted, so that a restarted server finishes the same selection.
	AgentIDs  []int64             `json:"agent_ids"`
	Processed int                 `json:"processed"`
	Results   []ForceLogoutResult `json:"results"`
	CreatedAt time.Time           `json:"created_at"`
	UpdatedAt time.Time           `json:"updated_at"`
	// FinishedAt is set once every selected agent has been handled.
	FinishedAt *time.Time `json:"finished_at"`
}

// The statuses of a force logout job.
const (
	LogoutJobCreated    = "created"
	LogoutJobInProgress = "in_progress"
	LogoutJobFinished   = "finished"
)

// ForceLogoutResult is what a force logout did to one agent: logged them
// out (Pending false) or left a sign-out pending until their current call
// or chats end.
type ForceLogoutResult struct {
	AgentID        int64  `json:"agent_id"`
	PreviousStatus string `json:"previous_status"`
	CurrentStatus  string `json:"current_status"`
	Pending        bool   `json:"pending"`
}

// PendingLogout is a sign-out waiting for a busy agent to free up.
type PendingLogout struct {
	TenantID    int64     `json:"tenant_id"`
	UserID      int64     `json:"user_id"`
	RequestedAt time.Time `json:"requested_at"`
}

// MaxLogoutJobAgents bounds the agents one force logout job selects.
const MaxLogoutJobAgents = 100_000

// AgentSessionStore records agents' sign-ins (when, from which address) and
// the sign-outs pending until an agent's current interaction ends, for force
// logout by agent, team or address.
type AgentSessionStore interface {
	// RecordSignIn records that the tenant's user signed in from
	// remoteAddr (an IP address) by source.
	RecordSignIn(ctx context.Context, tenantID, userID int64, remoteAddr, source string) (AgentSession, error)
	// LastSignIns returns the latest sign-in of each of the users (of every
	// user of the tenant when userIDs is nil) that has one.
	LastSignIns(ctx context.Context, tenantID int64, userIDs []int64) (map[int64]AgentSession, error)

	// RequestLogout leaves a sign-out pending for a busy agent (once: a
	// second request keeps the first time).
	RequestLogout(ctx context.Context, tenantID, userID int64) error
	// PendingLogouts lists every tenant's pending sign-outs, oldest first,
	// at most limit of them.
	PendingLogouts(ctx context.Context, limit int) ([]PendingLogout, error)
	// CompleteLogout signs the agent out (Offline) and clears their pending
	// sign-out in one transaction, returning the presence they had before.
	CompleteLogout(ctx context.Context, tenantID, userID int64) (previous Presence, err error)
	// CancelLogout clears a pending sign-out without signing the agent out
	// (the agent is gone or deactivated).
	CancelLogout(ctx context.Context, tenantID, userID int64) error

	// CreateForceLogoutJob files a job (status created) for j.AgentIDs.
	CreateForceLogoutJob(ctx context.Context, tenantID int64, j ForceLogoutJob) (ForceLogoutJob, error)
	// UpdateForceLogoutJob records a job's progress: status, processed and
	// results (FinishedAt is set when the status becomes finished).
	UpdateForceLogoutJob(ctx context.Context, j ForceLogoutJob) (ForceLogoutJob, error)
	ForceLogoutJob(ctx context.Context, tenantID, id int64) (ForceLogoutJob, error)
	// ForceLogoutJobs lists a tenant's jobs, newest first.
	ForceLogoutJobs(ctx context.Context, tenantID int64, opt ListOptions) (Page[ForceLogoutJob], error)
	// UnfinishedForceLogoutJobs lists every tenant's jobs not finished, for
	// a restarted server to resume.
	UnfinishedForceLogoutJobs(ctx context.Context) ([]ForceLogoutJob, error)
}
