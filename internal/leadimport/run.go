package leadimport

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"switchboard"
)

// BatchSize is how many leads go into the store per transaction, and how
// often a job's progress is written.
const BatchSize = 1000

// Store is what an import needs of the store.
type Store interface {
	CreateImportJob(ctx context.Context, tenantID int64, j switchboard.ImportJob) (switchboard.ImportJob, error)
	UpdateImportJob(ctx context.Context, j switchboard.ImportJob) error
	InsertLeads(ctx context.Context, tenantID int64, to switchboard.LeadTarget, leads []switchboard.Lead) (switchboard.InsertLeadsResult, error)
}

// Prepare parses body (see Parse) and records the import as a running job
// of the campaign or list to, with its row count and the rows it refused;
// the caller then runs Run with the leads and rows it returns, in the
// background. A body that cannot be read at all records no job.
func Prepare(ctx context.Context, s Store, tenantID int64, to switchboard.LeadTarget, format string, body []byte, region string) (switchboard.ImportJob, []switchboard.Lead, []int, error) {
	if (to.CampaignID > 0) == (to.ContactListID > 0) {
		return switchboard.ImportJob{}, nil, nil, switchboard.Errorf(switchboard.CodeInvalid, "an import goes into one campaign or one contact list")
	}
	p, err := parse(format, body, region)
	if err != nil {
		return switchboard.ImportJob{}, nil, nil, err
	}
	j := switchboard.ImportJob{TenantID: tenantID, Status: switchboard.ImportRunning, Format: format, Total: p.total,
		Processed: p.rejected, Rejected: p.rejected, Errors: p.errs}
	if to.CampaignID > 0 {
		j.CampaignID = &to.CampaignID
	} else {
		j.ContactListID = &to.ContactListID
	}
	j, err = s.CreateImportJob(ctx, tenantID, j)
	if err != nil {
		return switchboard.ImportJob{}, nil, nil, err
	}
	return j, p.leads, p.rows, nil
}

// Run inserts leads (rows[i] being the body row of leads[i]) into the job's
// campaign or list, BatchSize to a transaction, and writes the job after
// each batch: rows processed, leads imported, duplicates (each named by
// its row, as a duplicate of a lead already there or earlier in the body).
// It ends the job completed, or failed with the reason when the store
// fails or ctx ends, and returns the job as it left it.
func Run(ctx context.Context, s Store, job switchboard.ImportJob, leads []switchboard.Lead, rows []int) (switchboard.ImportJob, error) {
	return RunInto(ctx, s, job, switchboard.LeadTarget{}, leads, rows)
}

// RunInto is Run with the target's rules (switchboard.LeadTarget's
// UniquePhone); its campaign or list is the job's whatever to names.
func RunInto(ctx context.Context, s Store, job switchboard.ImportJob, to switchboard.LeadTarget, leads []switchboard.Lead, rows []int) (switchboard.ImportJob, error) {
	to.CampaignID, to.ContactListID = 0, 0
	where := "campaign"
	if job.CampaignID != nil {
		to.CampaignID = *job.CampaignID
	} else if job.ContactListID != nil {
		to.ContactListID = *job.ContactListID
		where = "contact list"
	}
	if job.Errors == nil {
		job.Errors = []switchboard.ImportRowError{}
	}
	dup := "duplicate of a lead already in the " + where
	for start := 0; start < len(leads); start += BatchSize {
		end := min(start+BatchSize, len(leads))
		err := ctx.Err()
		var res switchboard.InsertLeadsResult
		if err == nil {
			res, err = s.InsertLeads(ctx, job.TenantID, to, leads[start:end])
		}
		if err != nil {
			return fail(s, job, err)
		}
		job.Processed += end - start
		job.Imported += res.Inserted
		job.Duplicates += len(res.Duplicates)
		for k, i := range res.Duplicates {
			if len(job.Errors) >= switchboard.MaxImportErrors {
				break
			}
			field := "phone_number"
			if leads[start+i].ExternalID != "" {
				field = "external_id"
			}
			if len(res.DuplicateFields) == len(res.Duplicates) {
				field = res.DuplicateFields[k]
			}
			job.Errors = append(job.Errors, switchboard.ImportRowError{Row: rows[start+i], Field: field, Message: dup})
		}
		slices.SortStableFunc(job.Errors, byRow)
		if end == len(leads) {
			break // the last write ends the job
		}
		if err := s.UpdateImportJob(ctx, job); err != nil {
			return fail(s, job, err)
		}
	}
	job.Status = switchboard.ImportCompleted
	now := time.Now().UTC()
	job.FinishedAt = &now
	// The job's end is written even when ctx ended after the last batch.
	if err := s.UpdateImportJob(context.WithoutCancel(ctx), job); err != nil {
		return job, err
	}
	return job, nil
}

// fail ends job as failed with err's reason. The write does not take ctx,
// which may be what ended: a job must not stay running.
func fail(s Store, job switchboard.ImportJob, err error) (switchboard.ImportJob, error) {
	job.Status = switchboard.ImportFailed
	job.Error = switchboard.ErrorMessage(err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		job.Error = "the import was interrupted after " + strconv.Itoa(job.Processed) + " rows; import the rest again " +
			"(duplicates of the leads already in are skipped)"
	}
	now := time.Now().UTC()
	job.FinishedAt = &now
	if uerr := s.UpdateImportJob(context.Background(), job); uerr != nil {
		return job, uerr
	}
	return job, err
}
