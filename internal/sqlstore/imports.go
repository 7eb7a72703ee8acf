package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"switchboard"
)

// Import jobs: the progress of a bulk lead import running in the
// background. Progress rows are written without events (no cached route
// shows them); the leads the import adds have their leads.imported events.

const importJobCols = `id, tenant_id, campaign_id, contact_list_id, status, format, total, processed, imported, duplicates,
	rejected, errors, error, created_at, finished_at`

func scanImportJob(s scanner) (switchboard.ImportJob, error) {
	var j switchboard.ImportJob
	var campaign, list, finished sql.NullInt64
	var errs string
	var created int64
	if err := s.Scan(&j.ID, &j.TenantID, &campaign, &list, &j.Status, &j.Format, &j.Total, &j.Processed, &j.Imported,
		&j.Duplicates, &j.Rejected, &errs, &j.Error, &created, &finished); err != nil {
		return j, err
	}
	j.CampaignID, j.ContactListID, j.FinishedAt = idPtr(campaign), idPtr(list), timePtr(finished)
	j.CreatedAt = fromMicros(created)
	return j, decodeList(errs, &j.Errors)
}

func importErrors(errs []switchboard.ImportRowError) string {
	if len(errs) > switchboard.MaxImportErrors {
		errs = errs[:switchboard.MaxImportErrors]
	}
	if errs == nil {
		errs = []switchboard.ImportRowError{}
	}
	b, _ := json.Marshal(errs)
	return string(b)
}

// CreateImportJob implements switchboard.Store: a running job for the
// tenant's campaign or contact list.
func (db *DB) CreateImportJob(ctx context.Context, tenantID int64, j switchboard.ImportJob) (switchboard.ImportJob, error) {
	to := switchboard.LeadTarget{}
	if j.CampaignID != nil {
		to.CampaignID = *j.CampaignID
	}
	if j.ContactListID != nil {
		to.ContactListID = *j.ContactListID
	}
	if err := checkTarget(to); err != nil {
		return j, err
	}
	if j.Format != "json" && j.Format != "csv" {
		return j, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"format": "must be json or csv"}}
	}
	j.ID, j.TenantID, j.Status, j.Error, j.FinishedAt = 0, tenantID, switchboard.ImportRunning, "", nil
	if len(j.Errors) > switchboard.MaxImportErrors {
		j.Errors = j.Errors[:switchboard.MaxImportErrors]
	}
	if j.Errors == nil {
		j.Errors = []switchboard.ImportRowError{}
	}
	err := db.inTx(ctx, func(t *tx) error {
		table, what, id := "campaigns", "campaign", to.CampaignID
		if to.ContactListID > 0 {
			table, what, id = "contact_lists", "contact_list", to.ContactListID
		}
		if err := t.lockRow(ctx, table, what, tenantID, id); err != nil {
			return err
		}
		j.CreatedAt = t.now
		var err error
		j.ID, err = t.insert(ctx, `INSERT INTO import_jobs (tenant_id, campaign_id, contact_list_id, status, format, total,
			processed, imported, duplicates, rejected, errors, error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tenantID, nullID(j.CampaignID), nullID(j.ContactListID), j.Status, j.Format, j.Total, j.Processed, j.Imported,
			j.Duplicates, j.Rejected, importErrors(j.Errors), j.Error, micros(t.now))
		if err != nil {
			return fmt.Errorf("insert import job: %w", err)
		}
		return nil
	})
	return j, err
}

// UpdateImportJob implements switchboard.Store: the job's progress, status,
// error and finish time (its row errors capped at MaxImportErrors).
func (db *DB) UpdateImportJob(ctx context.Context, j switchboard.ImportJob) error {
	switch j.Status {
	case switchboard.ImportRunning, switchboard.ImportCompleted, switchboard.ImportFailed:
	default:
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"status": "must be running, completed or failed"}}
	}
	return db.inTx(ctx, func(t *tx) error {
		// A job that ended gets its finish time, if its runner set none.
		finished := nullMicros(j.FinishedAt)
		if j.Status != switchboard.ImportRunning && j.FinishedAt == nil {
			finished = micros(t.now)
		}
		res, err := t.exec(ctx, `UPDATE import_jobs SET status = ?, total = ?, processed = ?, imported = ?, duplicates = ?,
			rejected = ?, errors = ?, error = ?, finished_at = ? WHERE tenant_id = ? AND id = ?`,
			j.Status, j.Total, j.Processed, j.Imported, j.Duplicates, j.Rejected, importErrors(j.Errors), j.Error,
			finished, j.TenantID, j.ID)
		if err != nil {
			return fmt.Errorf("update import job: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("import job", j.ID)
		}
		return nil
	})
}

// ImportJob implements switchboard.Store.
func (db *DB) ImportJob(ctx context.Context, tenantID, id int64) (switchboard.ImportJob, error) {
	return getOne(ctx, db, "import_jobs", importJobCols, "import_job", scanImportJob, tenantID, id)
}

// FailRunningImports implements switchboard.Store: jobs a cut run left
// running are failed with reason, finished now.
func (db *DB) FailRunningImports(ctx context.Context, reason string) (int, error) {
	var n int64
	err := db.inTx(ctx, func(t *tx) error {
		// The status is written out, so that SQLite reads the partial
		// index import_jobs_running.
		res, err := t.exec(ctx, "UPDATE import_jobs SET status = ?, error = ?, finished_at = ? WHERE status = 'running'",
			switchboard.ImportFailed, reason, micros(t.now))
		if err != nil {
			return fmt.Errorf("fail running imports: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
