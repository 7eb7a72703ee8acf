package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"switchboard"
)

// AddCampaignLeads implements switchboard.CampaignStore: it claims the
// campaign, inserts the leads, and releases the claim with the cooldown.
//
// The claim is a row of lead_import_claims whose until is ahead of the
// clock; taking it is one upsert that writes only when the row's until has
// passed, so on both engines exactly one of two racing imports gets a row
// back (SQLite's single writer runs them in turn; PostgreSQL's upsert locks
// the conflicting row and rechecks the condition). The claim runs in its own
// transaction, not the insert's, so that a second import is refused at once
// rather than queued behind the first.
func (db *DB) AddCampaignLeads(ctx context.Context, tenantID, campaignID int64, leads []switchboard.Lead) (switchboard.InsertLeadsResult, error) {
	res := switchboard.InsertLeadsResult{Duplicates: []int{}}
	if err := db.inTx(ctx, func(t *tx) error { return t.claimLeadImport(ctx, tenantID, campaignID) }); err != nil {
		return res, err
	}
	res, err := db.InsertLeads(ctx, tenantID, switchboard.LeadTarget{CampaignID: campaignID}, leads)
	// The cooldown runs from the end of the import whatever its outcome,
	// and even when the caller has gone.
	if rerr := db.inTx(context.WithoutCancel(ctx), func(t *tx) error {
		_, err := t.exec(ctx, "UPDATE lead_import_claims SET until = ? WHERE campaign_id = ?",
			micros(t.now.Add(switchboard.LeadImportCooldown)), campaignID)
		return err
	}); rerr != nil {
		// Whatever the import did stands; the caller learns that the
		// campaign stays claimed until the lease ends.
		err = errors.Join(err, fmt.Errorf("release the lead import claim of campaign %d (it lapses within %s): %w",
			campaignID, switchboard.LeadImportLease, rerr))
	}
	return res, err
}

// claimLeadImport takes campaignID's import claim for LeadImportLease, or
// fails with CodeConflict naming campaign_id while another holds it.
func (t *tx) claimLeadImport(ctx context.Context, tenantID, campaignID int64) error {
	if err := t.checkOwned(ctx, tenantID, "campaigns", "campaign_id", []int64{campaignID}); err != nil {
		if switchboard.ErrorCode(err) == switchboard.CodeInvalid {
			return notFound("campaign", campaignID)
		}
		return err
	}
	var got int64
	err := t.queryRow(ctx, `INSERT INTO lead_import_claims (campaign_id, tenant_id, until) VALUES (?, ?, ?)
		ON CONFLICT (campaign_id) DO UPDATE SET until = excluded.until WHERE lead_import_claims.until <= ?
		RETURNING campaign_id`, campaignID, tenantID, micros(t.now.Add(switchboard.LeadImportLease)), micros(t.now)).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return &switchboard.Error{Code: switchboard.CodeConflict, Message: "another import of leads into this campaign is running",
			Fields: map[string]string{"campaign_id": "is importing leads: try again in a few seconds"}}
	}
	if err != nil {
		return fmt.Errorf("claim lead import: %w", err)
	}
	return nil
}
