package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"switchboard"
)

// Campaigns: one row each, its lists (caller id pool, days, retry rules) as
// JSON. The status moves only through SetCampaignStatus, which writes the
// lifecycle event (campaign.started, .paused, .resumed, .stopped,
// .finished); every other change is campaign.updated.

const campaignCols = `id, tenant_id, name, mode, queue_id, status, caller_id, caller_id_pool, starts_at, ends_at, days,
	calling_from, calling_to, max_abandon_percent, max_redials, redial_interval_seconds, retry_rules, overdial_adjustment,
	target_to_process, ring_seconds, machine_action, machine_prompt, abandon_prompt, require_consent, preview_seconds,
	preview_timeout_action, created_at, updated_at, started_at, finished_at`

func scanCampaign(s scanner) (switchboard.Campaign, error) {
	var c switchboard.Campaign
	var mode, status, pool, days, rules string
	var starts, ends, started, finished sql.NullInt64
	var created, updated int64
	if err := s.Scan(&c.ID, &c.TenantID, &c.Name, &mode, &c.QueueID, &status, &c.CallerID, &pool, &starts, &ends, &days,
		&c.Schedule.From, &c.Schedule.To, &c.MaxAbandonPercent, &c.MaxRedials, &c.RedialIntervalSeconds, &rules,
		&c.OverdialAdjustment, &c.TargetToProcess, &c.RingSeconds, &c.MachineAction, &c.MachinePrompt, &c.AbandonPrompt,
		&c.RequireConsent, &c.PreviewSeconds, &c.PreviewTimeoutAction, &created, &updated, &started, &finished); err != nil {
		return c, err
	}
	c.Mode, c.Status = switchboard.CampaignMode(mode), switchboard.CampaignStatus(status)
	c.Schedule.StartsAt, c.Schedule.EndsAt = timePtr(starts), timePtr(ends)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	c.StartedAt, c.FinishedAt = timePtr(started), timePtr(finished)
	if err := decodeList(pool, &c.CallerIDPool); err != nil {
		return c, err
	}
	if err := decodeList(days, &c.Schedule.Days); err != nil {
		return c, err
	}
	return c, decodeList(rules, &c.RetryRules)
}

// campaignValues are the stored settings of c, in the order of the columns
// from caller_id to preview_timeout_action.
func campaignValues(c *switchboard.Campaign) []any {
	pool, _ := json.Marshal(c.CallerIDPool)
	days, _ := json.Marshal(c.Schedule.Days)
	rules, _ := json.Marshal(c.RetryRules)
	return []any{c.CallerID, string(pool), nullMicros(c.Schedule.StartsAt), nullMicros(c.Schedule.EndsAt), string(days),
		c.Schedule.From, c.Schedule.To, c.MaxAbandonPercent, c.MaxRedials, c.RedialIntervalSeconds, string(rules),
		c.OverdialAdjustment, c.TargetToProcess, c.RingSeconds, c.MachineAction, c.MachinePrompt, c.AbandonPrompt,
		c.RequireConsent, c.PreviewSeconds, c.PreviewTimeoutAction}
}

// checkCampaignQueue checks that the campaign's queue is the tenant's, and
// keeps it so (share-locked on PostgreSQL) until t ends.
func (t *tx) checkCampaignQueue(ctx context.Context, tenantID, queueID int64) error {
	q := "SELECT id FROM queues WHERE tenant_id = ? AND id = ?"
	if t.db.engine == Postgres {
		q += " FOR KEY SHARE"
	}
	var id int64
	err := t.queryRow(ctx, q, tenantID, queueID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"queue_id": "no such queue"}}
	}
	if err != nil {
		return fmt.Errorf("check campaign queue: %w", err)
	}
	return nil
}

// CreateCampaign implements switchboard.Store. A new campaign is always
// created, whatever status c holds.
func (db *DB) CreateCampaign(ctx context.Context, tenantID int64, c switchboard.Campaign) (switchboard.Campaign, error) {
	c.ID, c.Status, c.StartedAt, c.FinishedAt = 0, switchboard.CampaignCreated, nil, nil
	c.Normalize()
	if err := c.Validate(); err != nil {
		return c, err
	}
	err := db.inTx(ctx, func(t *tx) error {
		if err := t.checkCampaignQueue(ctx, tenantID, c.QueueID); err != nil {
			return err
		}
		c.TenantID, c.CreatedAt, c.UpdatedAt = tenantID, t.now, t.now
		args := append([]any{tenantID, c.Name, string(c.Mode), c.QueueID, string(c.Status)}, campaignValues(&c)...)
		args = append(args, micros(t.now), micros(t.now))
		id, err := t.insert(ctx, `INSERT INTO campaigns (tenant_id, name, mode, queue_id, status, caller_id, caller_id_pool,
			starts_at, ends_at, days, calling_from, calling_to, max_abandon_percent, max_redials, redial_interval_seconds,
			retry_rules, overdial_adjustment, target_to_process, ring_seconds, machine_action, machine_prompt,
			abandon_prompt, require_consent, preview_seconds, preview_timeout_action, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			return fmt.Errorf("insert campaign: %w", err)
		}
		c.ID = id
		return t.appendEvent(ctx, tenantID, switchboard.EventCampaignCreated, "campaign", id, c)
	})
	return c, err
}

// Campaign implements switchboard.Store.
func (db *DB) Campaign(ctx context.Context, tenantID, id int64) (switchboard.Campaign, error) {
	return getOne(ctx, db, "campaigns", campaignCols, "campaign", scanCampaign, tenantID, id)
}

func (t *tx) campaign(ctx context.Context, tenantID, id int64) (switchboard.Campaign, error) {
	return getOneTx(ctx, t, "campaigns", campaignCols, "campaign", scanCampaign, tenantID, id)
}

// Campaigns implements switchboard.Store.
func (db *DB) Campaigns(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.Campaign], error) {
	return listAll(ctx, db, "campaigns", campaignCols, scanCampaign, func(c switchboard.Campaign) int64 { return c.ID }, tenantID, opt)
}

// UpdateCampaignFunc implements switchboard.Store. fn changes the settings;
// a change of what only the store or the lifecycle sets (id, tenant, status,
// start, finish and creation times) is refused naming the field, so that a
// caller cannot move a campaign past SetCampaignStatus and its event.
func (db *DB) UpdateCampaignFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.Campaign) error) (switchboard.Campaign, error) {
	var old switchboard.Campaign
	return modify(ctx, db, "campaigns", "campaign", tenantID, id,
		func(t *tx) (switchboard.Campaign, error) {
			var err error
			old, err = t.campaign(ctx, tenantID, id)
			return old, err
		},
		func(c *switchboard.Campaign) error {
			if err := fn(c); err != nil {
				return err
			}
			p := switchboard.Problems{}
			if c.ID != old.ID {
				p.Add("id", "cannot be changed")
			}
			if c.TenantID != old.TenantID {
				p.Add("tenant_id", "cannot be changed")
			}
			if c.Status != old.Status {
				p.Add("status", "is changed by starting, pausing, resuming or stopping the campaign")
			}
			if !sameTime(c.StartedAt, old.StartedAt) {
				p.Add("started_at", "cannot be changed")
			}
			if !sameTime(c.FinishedAt, old.FinishedAt) {
				p.Add("finished_at", "cannot be changed")
			}
			if !c.CreatedAt.Equal(old.CreatedAt) {
				p.Add("created_at", "cannot be changed")
			}
			return p.Err()
		},
		func(t *tx, c switchboard.Campaign) (switchboard.Campaign, error) {
			c.Normalize()
			if err := c.Validate(); err != nil {
				return c, err
			}
			if c.QueueID != old.QueueID {
				if err := t.checkCampaignQueue(ctx, tenantID, c.QueueID); err != nil {
					return c, err
				}
			}
			c.UpdatedAt = t.now
			args := append([]any{c.Name, string(c.Mode), c.QueueID}, campaignValues(&c)...)
			args = append(args, micros(t.now), tenantID, id)
			if _, err := t.exec(ctx, `UPDATE campaigns SET name = ?, mode = ?, queue_id = ?, caller_id = ?, caller_id_pool = ?,
				starts_at = ?, ends_at = ?, days = ?, calling_from = ?, calling_to = ?, max_abandon_percent = ?, max_redials = ?,
				redial_interval_seconds = ?, retry_rules = ?, overdial_adjustment = ?, target_to_process = ?,
				ring_seconds = ?, machine_action = ?, machine_prompt = ?, abandon_prompt = ?, require_consent = ?,
				preview_seconds = ?, preview_timeout_action = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`, args...); err != nil {
				return c, fmt.Errorf("update campaign: %w", err)
			}
			return c, t.appendEvent(ctx, tenantID, switchboard.EventCampaignUpdated, "campaign", id, c)
		})
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// SetCampaignStatus implements switchboard.Store. StartedAt is set when the
// campaign first starts, FinishedAt when it stops or finishes.
func (db *DB) SetCampaignStatus(ctx context.Context, tenantID, id int64, from []switchboard.CampaignStatus, to switchboard.CampaignStatus) (switchboard.Campaign, error) {
	switch to {
	case switchboard.CampaignStarted, switchboard.CampaignPaused, switchboard.CampaignStopped, switchboard.CampaignFinished:
	default:
		return switchboard.Campaign{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"status": "must be started, paused, stopped or finished"}}
	}
	var out switchboard.Campaign
	err := db.inTx(ctx, func(t *tx) error {
		if err := t.lockRow(ctx, "campaigns", "campaign", tenantID, id); err != nil {
			return err
		}
		c, err := t.campaign(ctx, tenantID, id)
		if err != nil {
			return err
		}
		if !slices.Contains(from, c.Status) {
			return switchboard.Errorf(switchboard.CodeConflict, "campaign %d is %s: it cannot become %s", id, c.Status, to)
		}
		prev := c.Status
		c.Status, c.UpdatedAt = to, t.now
		now := t.now
		if to == switchboard.CampaignStarted && c.StartedAt == nil {
			c.StartedAt = &now
		}
		if to == switchboard.CampaignStopped || to == switchboard.CampaignFinished {
			c.FinishedAt = &now
		}
		if _, err := t.exec(ctx, "UPDATE campaigns SET status = ?, started_at = ?, finished_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
			string(to), nullMicros(c.StartedAt), nullMicros(c.FinishedAt), micros(t.now), tenantID, id); err != nil {
			return fmt.Errorf("set campaign status: %w", err)
		}
		out = c
		return t.appendEvent(ctx, tenantID, switchboard.CampaignStatusEvent(prev, to), "campaign", id, c)
	})
	return out, err
}

// DeleteCampaign implements switchboard.Store. Its leads, ledger and import
// jobs go with it; a started or paused campaign is refused (stop it first).
func (db *DB) DeleteCampaign(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "campaigns", "campaign", switchboard.EventCampaignDeleted, func(t *tx) (any, error) {
		if err := t.lockRow(ctx, "campaigns", "campaign", tenantID, id); err != nil {
			return nil, err
		}
		c, err := t.campaign(ctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		if c.Status == switchboard.CampaignStarted || c.Status == switchboard.CampaignPaused {
			return nil, switchboard.Errorf(switchboard.CodeConflict, "campaign %d is %s: stop it before deleting it", id, c.Status)
		}
		for _, q := range []string{
			"DELETE FROM dial_attempts WHERE campaign_id = ?",
			"DELETE FROM leads WHERE campaign_id = ?",
			"DELETE FROM import_jobs WHERE campaign_id = ?",
		} {
			if _, err := t.exec(ctx, q, id); err != nil {
				return nil, fmt.Errorf("delete campaign %d: %w", id, err)
			}
		}
		return c, nil
	})
}

// RunningCampaigns implements switchboard.Store.
func (db *DB) RunningCampaigns(ctx context.Context) ([]switchboard.Campaign, error) {
	rows, err := db.query(ctx, "SELECT "+campaignCols+" FROM campaigns WHERE status = 'started' ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("running campaigns: %w", err)
	}
	defer rows.Close()
	var out []switchboard.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("running campaigns: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// checkQueueCampaigns refuses to delete a queue a campaign dials for.
func (t *tx) checkQueueCampaigns(ctx context.Context, tenantID, id int64) error {
	rows, err := t.query(ctx, "SELECT name FROM campaigns WHERE tenant_id = ? AND queue_id = ? ORDER BY id LIMIT 6", tenantID, id)
	if err != nil {
		return fmt.Errorf("find the campaigns of queue %d: %w", id, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		names = append(names, "campaign "+n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	if len(names) > 5 {
		names = append(names[:5], "…")
	}
	return switchboard.Errorf(switchboard.CodeConflict, "the queue is in use: %s dial(s) for it; delete them or give them another queue first",
		strings.Join(names, ", "))
}
