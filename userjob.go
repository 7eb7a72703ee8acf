package switchboard

// UserJobStore keeps bulk user jobs: an uploaded file, its validation, its
// rows' outcomes, so that a job survives a restart and reports per-row
// errors. It is filled in by the UJET dialect's issue (17).
type UserJobStore interface{}
