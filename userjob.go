package switchboard

import (
	"context"
	"encoding/json"
	"time"
)

// UserJob is a bulk user job: an uploaded file of user rows, validated in
// the background (created → valid_scheme or invalid_scheme) and, once the
// tenant proceeds, applied row by row (in_progress → finished), each row's
// outcome kept so that the job reports per-row results and a restarted
// server resumes it where it stopped.
type UserJob struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"tenant_id"`
	Status   string `json:"status"`
	FileName string `json:"file_name"`
	// Version counts the files the job has had: a replaced file makes a
	// validation of the old one stale (SetUserJobScheme refuses it).
	Version int `json:"version"`
	// Total is the rows of the file; SchemeErrors the rows that failed
	// validation; Processed the rows applied so far, of which Created,
	// Updated and Failed.
	Total        int `json:"total"`
	SchemeErrors int `json:"scheme_errors"`
	Processed    int `json:"processed"`
	Created      int `json:"created"`
	Updated      int `json:"updated"`
	Failed       int `json:"failed"`
	// Error is why the file as a whole is invalid (not a JSON array).
	Error      string     `json:"error"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// The statuses of a bulk user job, as UJET names them.
const (
	UserJobCreated       = "created"
	UserJobValidScheme   = "valid_scheme"
	UserJobInvalidScheme = "invalid_scheme"
	UserJobInProgress    = "in_progress"
	UserJobFinished      = "finished"
)

// The outcomes of a row of a bulk user job.
const (
	RowCreated = "created"
	RowUpdated = "updated"
	RowFailed  = "failed"
)

// MaxUserJobRows bounds the rows of one bulk user file.
const MaxUserJobRows = 50_000

// UserJobRow is one row of a bulk user job: what the file said, what
// validation found, and what applying it did.
type UserJobRow struct {
	// Row is 1-based, in file order.
	Row   int    `json:"row"`
	Email string `json:"email"`
	// Data is the row as the file gave it (a JSON object).
	Data   json.RawMessage `json:"data"`
	Errors []FieldError    `json:"errors"`
	// Outcome is empty until the row is applied, then RowCreated,
	// RowUpdated or RowFailed (with Reason).
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	UserID  *int64 `json:"user_id"`
}

// FieldError is one field of a row that failed validation.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// UserRowFilter selects rows of a job: all, those with validation errors,
// or those not applied yet.
type UserRowFilter struct {
	WithErrors bool
	Pending    bool
}

// UserRowChange is how one row changes a user: the store finds the user
// by Email (in the transaction that writes it), Patch changes it (exists
// false: a new user, zero but for Email) and the store creates or updates
// it, recording the row's outcome with it.
type UserRowChange struct {
	Row   int
	Email string
	Patch func(u *User, exists bool) error
}

// UserJobStore keeps bulk user jobs: the uploaded file, its validation and
// its rows' outcomes, so that a job survives a restart and reports per-row
// errors. Job progress is written without events (no cached route shows
// it); the users a job writes have their user.* events.
type UserJobStore interface {
	// CreateUserJob files a job (status created) for file.
	CreateUserJob(ctx context.Context, tenantID int64, fileName string, file []byte) (UserJob, error)
	// ReplaceUserJobFile gives a job not yet proceeded a new file: its rows
	// are dropped and it is created again (CodeConflict once proceeded).
	ReplaceUserJobFile(ctx context.Context, tenantID, id int64, fileName string, file []byte) (UserJob, error)
	UserJob(ctx context.Context, tenantID, id int64) (UserJob, error)
	// UserJobFile is the job's file as uploaded.
	UserJobFile(ctx context.Context, tenantID, id int64) ([]byte, error)
	// UserJobs lists a tenant's jobs, newest first.
	UserJobs(ctx context.Context, tenantID int64, opt ListOptions) (Page[UserJob], error)
	// SetUserJobScheme records the validation of the job's file version:
	// its rows (with their errors) and fileError, and moves it to
	// valid_scheme, or invalid_scheme when fileError or any row's errors
	// are set. A job whose file changed since (another version) or that
	// is no longer created is CodeConflict.
	SetUserJobScheme(ctx context.Context, tenantID, id int64, version int, rows []UserJobRow, fileError string) (UserJob, error)
	// ProceedUserJob moves a valid_scheme job to in_progress (CodeConflict
	// from any other status).
	ProceedUserJob(ctx context.Context, tenantID, id int64) (UserJob, error)
	// UserJobRows lists a job's rows in file order.
	UserJobRows(ctx context.Context, tenantID, id int64, f UserRowFilter, opt ListOptions) (Page[UserJobRow], error)
	// ApplyUserJobRows applies rows of an in_progress job in one
	// transaction, each in its own savepoint: a row that fails is rolled
	// back alone and recorded failed with its reason, the others are
	// created or updated with their events; the rows' outcomes and the
	// job's counts are written in the same transaction. A row already
	// applied is skipped, so a resumed job never applies a row twice.
	ApplyUserJobRows(ctx context.Context, tenantID, id int64, changes []UserRowChange) ([]UserJobRow, error)
	// FinishUserJob marks an in_progress job finished.
	FinishUserJob(ctx context.Context, tenantID, id int64) (UserJob, error)
	// UnfinishedUserJobs lists every tenant's jobs the worker has to move
	// on (created or in_progress), oldest first.
	UnfinishedUserJobs(ctx context.Context) ([]UserJob, error)
}
