package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"switchboard"
)

// Bulk user jobs (issue 17): the file, its validated rows and their
// outcomes. Job and row progress is written without events (no cached
// route shows it); the users a job creates or updates are written with
// their user.* events, by createUser and updateUser.

const userJobCols = `id, tenant_id, status, file_name, version, total, scheme_errors, processed, created, updated, failed, error,
	created_at, updated_at, finished_at`

func scanUserJob(s scanner) (switchboard.UserJob, error) {
	var j switchboard.UserJob
	var created, updated int64
	var finished sql.NullInt64
	err := s.Scan(&j.ID, &j.TenantID, &j.Status, &j.FileName, &j.Version, &j.Total, &j.SchemeErrors, &j.Processed,
		&j.Created, &j.Updated, &j.Failed, &j.Error, &created, &updated, &finished)
	j.CreatedAt, j.UpdatedAt, j.FinishedAt = fromMicros(created), fromMicros(updated), timePtr(finished)
	return j, err
}

// userJobRowsPerInsert bounds the rows of one multi-row INSERT of a job's
// rows (6 values each, well inside both engines' limits on parameters).
const userJobRowsPerInsert = 100

// maxUserJobFile bounds a bulk user file (a row is a few hundred bytes).
const maxUserJobFile = 64 << 20

func checkUserJobFile(fileName string, file []byte) error {
	p := switchboard.Problems{}
	if len(file) == 0 {
		p.Add("file", "is required")
	}
	if len(file) > maxUserJobFile {
		p.Add("file", fmt.Sprintf("must be at most %d bytes", maxUserJobFile))
	}
	if len(fileName) > 255 {
		p.Add("file_name", "must be at most 255 characters")
	}
	return p.Err()
}

// CreateUserJob implements switchboard.Store.
func (db *DB) CreateUserJob(ctx context.Context, tenantID int64, fileName string, file []byte) (switchboard.UserJob, error) {
	j := switchboard.UserJob{TenantID: tenantID, Status: switchboard.UserJobCreated, FileName: fileName, Version: 1}
	if err := checkUserJobFile(fileName, file); err != nil {
		return j, err
	}
	err := db.inTx(ctx, func(t *tx) error {
		if err := t.lockRow(ctx, "tenants", "tenant", tenantID, tenantID); err != nil {
			return err
		}
		j.CreatedAt, j.UpdatedAt = t.now, t.now
		var err error
		j.ID, err = t.insert(ctx, `INSERT INTO user_jobs (tenant_id, status, file_name, file, version, total, scheme_errors,
			processed, created, updated, failed, error, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 0, 0, 0, 0, 0, 0, '', ?, ?)`,
			tenantID, j.Status, fileName, file, micros(t.now), micros(t.now))
		if err != nil {
			return fmt.Errorf("create user job: %w", err)
		}
		return nil
	})
	return j, err
}

// lockUserJob locks the job and reads it.
func (t *tx) lockUserJob(ctx context.Context, tenantID, id int64) (switchboard.UserJob, error) {
	if err := t.lockRow(ctx, "user_jobs", "user job", tenantID, id); err != nil {
		return switchboard.UserJob{}, err
	}
	return getOneTx(ctx, t, "user_jobs", userJobCols, "user job", scanUserJob, tenantID, id)
}

// ReplaceUserJobFile implements switchboard.Store.
func (db *DB) ReplaceUserJobFile(ctx context.Context, tenantID, id int64, fileName string, file []byte) (switchboard.UserJob, error) {
	if err := checkUserJobFile(fileName, file); err != nil {
		return switchboard.UserJob{}, err
	}
	return inTxValue(ctx, db, switchboard.UserJob{}, func(t *tx) (switchboard.UserJob, error) {
		j, err := t.lockUserJob(ctx, tenantID, id)
		if err != nil {
			return j, err
		}
		switch j.Status {
		case switchboard.UserJobCreated, switchboard.UserJobValidScheme, switchboard.UserJobInvalidScheme:
		default:
			return j, switchboard.Errorf(switchboard.CodeConflict, "the job is %s: its file can no longer be replaced", j.Status)
		}
		if _, err := t.exec(ctx, "DELETE FROM user_job_rows WHERE job_id = ?", id); err != nil {
			return j, fmt.Errorf("drop user job rows: %w", err)
		}
		j.Status, j.FileName, j.Version, j.Total, j.SchemeErrors, j.Error, j.UpdatedAt =
			switchboard.UserJobCreated, fileName, j.Version+1, 0, 0, "", t.now
		if _, err := t.exec(ctx, `UPDATE user_jobs SET status = ?, file_name = ?, file = ?, version = ?, total = 0, scheme_errors = 0,
			error = '', updated_at = ? WHERE id = ?`, j.Status, fileName, file, j.Version, micros(t.now), id); err != nil {
			return j, fmt.Errorf("replace user job file: %w", err)
		}
		return j, nil
	})
}

// UserJob implements switchboard.Store.
func (db *DB) UserJob(ctx context.Context, tenantID, id int64) (switchboard.UserJob, error) {
	return getOne(ctx, db, "user_jobs", userJobCols, "user job", scanUserJob, tenantID, id)
}

// UserJobFile implements switchboard.Store.
func (db *DB) UserJobFile(ctx context.Context, tenantID, id int64) ([]byte, error) {
	var file []byte
	err := db.queryRow(ctx, "SELECT file FROM user_jobs WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&file)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user job", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get user job file: %w", err)
	}
	return file, nil
}

// UserJobs implements switchboard.Store.
func (db *DB) UserJobs(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.UserJob], error) {
	q := listQuery{cols: userJobCols, from: "FROM user_jobs WHERE tenant_id = ?", args: []any{tenantID}, key: "id", desc: true}
	return listPage(ctx, db, q, opt, scanUserJob, func(j switchboard.UserJob) int64 { return j.ID })
}

// SetUserJobScheme implements switchboard.Store: the rows are inserted in
// the transaction that moves the job on.
func (db *DB) SetUserJobScheme(ctx context.Context, tenantID, id int64, version int, rows []switchboard.UserJobRow, fileError string) (switchboard.UserJob, error) {
	if len(rows) > switchboard.MaxUserJobRows {
		return switchboard.UserJob{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"rows": fmt.Sprintf("must be at most %d", switchboard.MaxUserJobRows)}}
	}
	return inTxValue(ctx, db, switchboard.UserJob{}, func(t *tx) (switchboard.UserJob, error) {
		j, err := t.lockUserJob(ctx, tenantID, id)
		if err != nil {
			return j, err
		}
		if j.Status != switchboard.UserJobCreated || j.Version != version {
			return j, switchboard.Errorf(switchboard.CodeConflict, "the job's file changed or was validated meanwhile")
		}
		if _, err := t.exec(ctx, "DELETE FROM user_job_rows WHERE job_id = ?", id); err != nil {
			return j, fmt.Errorf("drop user job rows: %w", err)
		}
		bad := 0
		// Many rows to a statement: a file of thousands of rows is one
		// round trip per userJobRowsPerInsert of them.
		for chunk := range slices.Chunk(rows, userJobRowsPerInsert) {
			var q strings.Builder
			q.WriteString("INSERT INTO user_job_rows (job_id, row_num, email, data, errors, has_errors, outcome, reason) VALUES ")
			args := make([]any, 0, 6*len(chunk))
			for i, r := range chunk {
				if r.Errors == nil {
					r.Errors = []switchboard.FieldError{}
				}
				if len(r.Errors) > 0 {
					bad++
				}
				data := string(r.Data)
				if data == "" {
					data = "null"
				}
				errs, _ := json.Marshal(r.Errors)
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, '', '')")
				args = append(args, id, r.Row, r.Email, data, string(errs), len(r.Errors) > 0)
			}
			if _, err := t.exec(ctx, q.String(), args...); err != nil {
				return j, fmt.Errorf("add user job rows: %w", err)
			}
		}
		j.Status = switchboard.UserJobValidScheme
		if bad > 0 || fileError != "" {
			j.Status = switchboard.UserJobInvalidScheme
		}
		j.Total, j.SchemeErrors, j.Error, j.UpdatedAt = len(rows), bad, fileError, t.now
		if _, err := t.exec(ctx, "UPDATE user_jobs SET status = ?, total = ?, scheme_errors = ?, error = ?, updated_at = ? WHERE id = ?",
			j.Status, j.Total, bad, fileError, micros(t.now), id); err != nil {
			return j, fmt.Errorf("set user job scheme: %w", err)
		}
		return j, nil
	})
}

// ProceedUserJob implements switchboard.Store.
func (db *DB) ProceedUserJob(ctx context.Context, tenantID, id int64) (switchboard.UserJob, error) {
	return inTxValue(ctx, db, switchboard.UserJob{}, func(t *tx) (switchboard.UserJob, error) {
		j, err := t.lockUserJob(ctx, tenantID, id)
		if err != nil {
			return j, err
		}
		if j.Status != switchboard.UserJobValidScheme {
			return j, switchboard.Errorf(switchboard.CodeConflict, "the job is %s: only a valid_scheme job can proceed", j.Status)
		}
		j.Status, j.UpdatedAt = switchboard.UserJobInProgress, t.now
		if _, err := t.exec(ctx, "UPDATE user_jobs SET status = ?, updated_at = ? WHERE id = ?", j.Status, micros(t.now), id); err != nil {
			return j, fmt.Errorf("proceed user job: %w", err)
		}
		return j, nil
	})
}

const userJobRowCols = "row_num, email, data, errors, outcome, reason, user_id"

func scanUserJobRow(s scanner) (switchboard.UserJobRow, error) {
	var r switchboard.UserJobRow
	var data, errs string
	var user sql.NullInt64
	if err := s.Scan(&r.Row, &r.Email, &data, &errs, &r.Outcome, &r.Reason, &user); err != nil {
		return r, err
	}
	r.Data, r.UserID = json.RawMessage(data), idPtr(user)
	return r, decodeList(errs, &r.Errors)
}

// UserJobRows implements switchboard.Store.
func (db *DB) UserJobRows(ctx context.Context, tenantID, id int64, f switchboard.UserRowFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.UserJobRow], error) {
	if _, err := db.UserJob(ctx, tenantID, id); err != nil {
		return switchboard.Page[switchboard.UserJobRow]{}, err
	}
	q := listQuery{cols: userJobRowCols, from: "FROM user_job_rows WHERE job_id = ?", args: []any{id}, key: "row_num"}
	if f.WithErrors {
		q.from += " AND has_errors = ?"
		q.args = append(q.args, true)
	}
	if f.Pending {
		q.from += " AND outcome = ''"
	}
	return listPage(ctx, db, q, opt, scanUserJobRow, func(r switchboard.UserJobRow) int64 { return int64(r.Row) })
}

// ApplyUserJobRows implements switchboard.Store. Each row runs in its own
// savepoint inside the one transaction, so a failing row (a collision, a
// rule of the user model) is rolled back alone while the batch commits with
// one fsync: that is what makes thousands of rows take seconds.
func (db *DB) ApplyUserJobRows(ctx context.Context, tenantID, id int64, changes []switchboard.UserRowChange) ([]switchboard.UserJobRow, error) {
	var out []switchboard.UserJobRow
	err := db.inTx(ctx, func(t *tx) error {
		out = out[:0]
		j, err := t.lockUserJob(ctx, tenantID, id)
		if err != nil {
			return err
		}
		if j.Status != switchboard.UserJobInProgress {
			return switchboard.Errorf(switchboard.CodeConflict, "the job is %s, not in_progress", j.Status)
		}
		rows, err := t.userJobRows(ctx, id, changes)
		if err != nil {
			return err
		}
		known, err := t.userIDsByEmail(ctx, tenantID, changes)
		if err != nil {
			return err
		}
		// The users' events are numbered and written together at the end
		// (a failing row appends none: its event would be its last write).
		t.batch = &eventBatch{}
		for _, ch := range changes {
			row, ok := rows[ch.Row]
			if !ok {
				return switchboard.Errorf(switchboard.CodeNotFound, "user job %d has no row %d", id, ch.Row)
			}
			if row.Outcome != "" {
				continue // applied before a restart
			}
			if _, err := t.sql.ExecContext(t.ctx, "SAVEPOINT user_row"); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			u, created, rowErr := t.applyUserRow(ctx, tenantID, ch, known)
			if rowErr != nil {
				if _, err := t.sql.ExecContext(t.ctx, "ROLLBACK TO SAVEPOINT user_row"); err != nil {
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
				var se *switchboard.Error
				if rowErr = db.translate(rowErr); !errors.As(rowErr, &se) {
					return rowErr // not the row's fault: the batch is retried
				}
				row.Outcome, row.Reason = switchboard.RowFailed, strings.TrimPrefix(rowErr.Error(), string(se.Code)+": ")
				j.Failed++
			} else {
				row.Outcome, row.UserID = switchboard.RowUpdated, &u.ID
				j.Updated++
				if created {
					row.Outcome = switchboard.RowCreated
					j.Updated--
					j.Created++
				}
			}
			if _, err := t.sql.ExecContext(t.ctx, "RELEASE SAVEPOINT user_row"); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
			j.Processed++
			rows[ch.Row] = row
			out = append(out, row)
		}
		if err := t.writeUserJobOutcomes(ctx, id, out); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "UPDATE user_jobs SET processed = ?, created = ?, updated = ?, failed = ?, updated_at = ? WHERE id = ?",
			j.Processed, j.Created, j.Updated, j.Failed, micros(t.now), id); err != nil {
			return fmt.Errorf("record user job progress: %w", err)
		}
		return t.flushEvents(ctx)
	})
	return out, err
}

// writeUserJobOutcomes records the outcomes of rows of job id: the rows are
// written again, many to a statement, rather than updated one by one.
func (t *tx) writeUserJobOutcomes(ctx context.Context, id int64, rows []switchboard.UserJobRow) error {
	for chunk := range slices.Chunk(rows, userJobRowsPerInsert) {
		nums := make([]int64, len(chunk))
		var q strings.Builder
		q.WriteString("INSERT INTO user_job_rows (job_id, row_num, email, data, errors, has_errors, outcome, reason, user_id) VALUES ")
		args := make([]any, 0, 9*len(chunk))
		for i, r := range chunk {
			nums[i] = int64(r.Row)
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
			if r.Errors == nil {
				r.Errors = []switchboard.FieldError{}
			}
			errs, _ := json.Marshal(r.Errors)
			args = append(args, id, r.Row, r.Email, string(r.Data), string(errs), len(r.Errors) > 0, r.Outcome, r.Reason, nullID(r.UserID))
		}
		if _, err := t.exec(ctx, "DELETE FROM user_job_rows WHERE job_id = ? AND row_num IN ("+placeholders(len(nums))+")",
			append([]any{id}, idArgs(nums)...)...); err != nil {
			return fmt.Errorf("record user job rows: %w", err)
		}
		if _, err := t.exec(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("record user job rows: %w", err)
		}
	}
	return nil
}

// userIDsByEmail finds the tenant's users the changes name, by e-mail (as
// the store keeps it, lower case), in one query per batchIDs of them.
func (t *tx) userIDsByEmail(ctx context.Context, tenantID int64, changes []switchboard.UserRowChange) (map[string]int64, error) {
	out := make(map[string]int64, len(changes))
	emails := make([]any, 0, len(changes))
	seen := map[string]bool{}
	for _, ch := range changes {
		e := strings.ToLower(strings.TrimSpace(ch.Email))
		if !seen[e] {
			seen[e] = true
			emails = append(emails, e)
		}
	}
	for chunk := range slices.Chunk(emails, batchIDs) {
		rows, err := t.query(ctx, "SELECT id, email FROM users WHERE tenant_id = ? AND email IN ("+placeholders(len(chunk))+")",
			append([]any{tenantID}, chunk...)...)
		if err != nil {
			return nil, fmt.Errorf("users by email: %w", err)
		}
		for rows.Next() {
			var id int64
			var email string
			if err := rows.Scan(&id, &email); err != nil {
				rows.Close()
				return nil, fmt.Errorf("users by email: %w", err)
			}
			out[email] = id
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("users by email: %w", err)
		}
	}
	return out, nil
}

// userJobRows reads the rows of job id that changes name, in one query per
// batchIDs of them.
func (t *tx) userJobRows(ctx context.Context, id int64, changes []switchboard.UserRowChange) (map[int]switchboard.UserJobRow, error) {
	out := make(map[int]switchboard.UserJobRow, len(changes))
	nums := make([]int64, len(changes))
	for i, ch := range changes {
		nums[i] = int64(ch.Row)
	}
	for chunk := range slices.Chunk(uniqueIDs(nums), batchIDs) {
		rows, err := t.query(ctx, "SELECT "+userJobRowCols+" FROM user_job_rows WHERE job_id = ? AND row_num IN ("+placeholders(len(chunk))+")",
			append([]any{id}, idArgs(chunk)...)...)
		if err != nil {
			return nil, fmt.Errorf("get user job rows: %w", err)
		}
		for rows.Next() {
			r, err := scanUserJobRow(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("get user job rows: %w", err)
			}
			out[r.Row] = r
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("get user job rows: %w", err)
		}
	}
	return out, nil
}

// applyUserRow creates or updates the user ch names by e-mail, as ch.Patch
// has it, with the user's event. known maps the e-mails of the tenant's
// users to their ids, as they stand in the transaction: applyUserRow keeps
// it so as the rows rename and create users.
func (t *tx) applyUserRow(ctx context.Context, tenantID int64, ch switchboard.UserRowChange, known map[string]int64) (switchboard.User, bool, error) {
	email := strings.ToLower(strings.TrimSpace(ch.Email))
	id, exists := known[email]
	u := switchboard.User{Email: email}
	if exists {
		if err := t.lockRow(ctx, "users", "user", tenantID, id); err != nil {
			return u, false, err
		}
		var err error
		if u, err = getOneTx(ctx, t, "users", t.db.userCols, "user", scanUser, tenantID, id); err != nil {
			return u, false, err
		}
	}
	if err := ch.Patch(&u, exists); err != nil {
		return u, false, err
	}
	var err error
	if exists {
		if u, err = t.updateUser(ctx, tenantID, u); err == nil && u.Email != email {
			delete(known, email)
			known[u.Email] = u.ID
		}
		return u, false, err
	}
	if err := prepareUser(&u); err != nil {
		return u, false, err
	}
	if u, err = t.createUser(ctx, tenantID, u); err == nil {
		known[u.Email] = u.ID
	}
	return u, true, err
}

// FinishUserJob implements switchboard.Store.
func (db *DB) FinishUserJob(ctx context.Context, tenantID, id int64) (switchboard.UserJob, error) {
	return inTxValue(ctx, db, switchboard.UserJob{}, func(t *tx) (switchboard.UserJob, error) {
		j, err := t.lockUserJob(ctx, tenantID, id)
		if err != nil {
			return j, err
		}
		if j.Status != switchboard.UserJobInProgress {
			return j, switchboard.Errorf(switchboard.CodeConflict, "the job is %s, not in_progress", j.Status)
		}
		now := t.now
		j.Status, j.UpdatedAt, j.FinishedAt = switchboard.UserJobFinished, now, &now
		if _, err := t.exec(ctx, "UPDATE user_jobs SET status = ?, updated_at = ?, finished_at = ? WHERE id = ?",
			j.Status, micros(now), micros(now), id); err != nil {
			return j, fmt.Errorf("finish user job: %w", err)
		}
		return j, nil
	})
}

// UnfinishedUserJobs implements switchboard.Store.
func (db *DB) UnfinishedUserJobs(ctx context.Context) ([]switchboard.UserJob, error) {
	rows, err := db.query(ctx, "SELECT "+userJobCols+" FROM user_jobs WHERE status IN ('created', 'in_progress') ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("unfinished user jobs: %w", err)
	}
	defer rows.Close()
	var out []switchboard.UserJob
	for rows.Next() {
		j, err := scanUserJob(rows)
		if err != nil {
			return nil, fmt.Errorf("unfinished user jobs: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
