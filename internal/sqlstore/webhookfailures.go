package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"switchboard"
)

// Webhook failures are written by CompleteDeliveries, in the transaction that
// records the outcome that made them, each with its event: a delivery that
// ends failed (every attempt, 410, or an inactive type) becomes a failure
// (webhook_failure.recorded); a retriggered delivery that is delivered
// settles its failure (webhook_failure.delivered) and makes its type active
// again (webhook_failure.type_reactivated). The inactive rule is applied
// there too, per subscription and event type (webhook_failure.type_inactive).

const failureCols = `id, tenant_id, uuid, webhook_id, delivery_id, event_id, event_seq, event_type, request_body,
	response_status, response_body, error, inactive, attempts, status, first_failed_at, last_failed_at, retriggered_at,
	delivered_at, created_at, updated_at`

func scanFailure(s scanner) (switchboard.WebhookFailure, error) {
	var f switchboard.WebhookFailure
	var first, last, created, updated int64
	var retriggered, delivered sql.NullInt64
	err := s.Scan(&f.ID, &f.TenantID, &f.UUID, &f.WebhookID, &f.DeliveryID, &f.EventID, &f.EventSeq, &f.EventType,
		&f.RequestBody, &f.ResponseStatus, &f.ResponseBody, &f.Error, &f.Inactive, &f.Attempts, &f.Status, &first, &last,
		&retriggered, &delivered, &created, &updated)
	f.FirstFailedAt, f.LastFailedAt, f.CreatedAt, f.UpdatedAt = fromMicros(first), fromMicros(last), fromMicros(created), fromMicros(updated)
	f.RetriggeredAt, f.DeliveredAt = timePtr(retriggered), timePtr(delivered)
	return f, err
}

// WebhookFailures implements switchboard.Store, newest first.
func (db *DB) WebhookFailures(ctx context.Context, tenantID int64, f switchboard.WebhookFailureFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.WebhookFailure], error) {
	if err := f.Validate(); err != nil {
		return switchboard.Page[switchboard.WebhookFailure]{}, err
	}
	q := listQuery{cols: failureCols, from: "FROM webhook_failures WHERE tenant_id = ?", args: []any{tenantID}, key: "id", desc: true}
	if f.WebhookID != 0 {
		q.from += " AND webhook_id = ?"
		q.args = append(q.args, f.WebhookID)
	}
	if f.EventType != "" {
		q.from += " AND event_type = ?"
		q.args = append(q.args, f.EventType)
	}
	if f.Status != "" {
		q.from += " AND status = ?"
		q.args = append(q.args, f.Status)
	}
	if f.Undelivered {
		q.from += " AND status <> ?"
		q.args = append(q.args, switchboard.FailureDelivered)
	}
	if f.Since != nil {
		q.from += " AND created_at >= ?"
		q.args = append(q.args, micros(*f.Since))
	}
	if f.Until != nil {
		q.from += " AND created_at < ?"
		q.args = append(q.args, micros(*f.Until))
	}
	return listPage(ctx, db, q, opt, scanFailure, func(f switchboard.WebhookFailure) int64 { return f.ID })
}

// WebhookFailure implements switchboard.Store.
func (db *DB) WebhookFailure(ctx context.Context, tenantID, id int64) (switchboard.WebhookFailure, error) {
	return getOne(ctx, db, "webhook_failures", failureCols, "webhook failure", scanFailure, tenantID, id)
}

// RetriggerWebhookFailure implements switchboard.Store. It takes the
// webhook's row first, as CompleteDeliveries does, so that the two never
// wait for each other's rows in opposite orders.
func (db *DB) RetriggerWebhookFailure(ctx context.Context, tenantID, id int64) (switchboard.WebhookFailure, error) {
	f, err := inTxValue(ctx, db, switchboard.WebhookFailure{}, func(t *tx) (switchboard.WebhookFailure, error) {
		f, err := getOneTx(ctx, t, "webhook_failures", failureCols, "webhook failure", scanFailure, tenantID, id)
		if err != nil {
			return f, err
		}
		lock := ""
		if db.engine == Postgres {
			lock = " FOR NO KEY UPDATE"
		}
		var enabled bool
		if err := t.queryRow(ctx, "SELECT enabled FROM webhooks WHERE id = ?"+lock, f.WebhookID).Scan(&enabled); err != nil {
			return f, fmt.Errorf("retrigger webhook failure: %w", err)
		}
		if !enabled {
			return f, &switchboard.Error{Code: switchboard.CodeConflict, Message: "the webhook is disabled; enable it before retriggering its failures",
				Fields: map[string]string{"webhook_id": "is disabled"}}
		}
		res, err := t.exec(ctx, `UPDATE webhook_failures SET status = ?, retriggered_at = ?, updated_at = ? WHERE id = ? AND status = ?`,
			switchboard.FailureRetriggered, micros(t.now), micros(t.now), id, switchboard.FailureFailed)
		if err != nil {
			return f, fmt.Errorf("retrigger webhook failure: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return f, &switchboard.Error{Code: switchboard.CodeConflict, Message: "the failure is " + string(f.Status) + "; only a failed one can be retriggered",
				Fields: map[string]string{"status": "is " + string(f.Status)}}
		}
		if _, err := t.exec(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = 0, next_attempt_at = ?, lease_until = 0,
			retriggered = ?, updated_at = ? WHERE id = ?`, switchboard.DeliveryPending, micros(t.now), true, micros(t.now), f.DeliveryID); err != nil {
			return f, fmt.Errorf("retrigger webhook failure: %w", err)
		}
		now := t.now
		f.Status, f.RetriggeredAt, f.UpdatedAt = switchboard.FailureRetriggered, &now, now
		return f, t.appendEvent(ctx, tenantID, switchboard.EventWebhookFailureRetriggered, "webhook_failure", id,
			switchboard.NewWebhookFailureEventPayload(f))
	})
	if err == nil {
		db.changes.notify()
	}
	return f, err
}

// recordFailures writes what results do to webhook failures: a delivery that
// ended failed becomes one (or a retriggered one fails again), and a
// retriggered delivery that was delivered settles its failure. A retriggered
// delivery that its dialect now passes over fails again too, so that its
// failure does not stay retriggered for ever.
func (t *tx) recordFailures(ctx context.Context, results []switchboard.DeliveryResult) error {
	for i := range results {
		r := &results[i]
		switch {
		case r.Failed(), r.Retriggered && r.Outcome == switchboard.OutcomeSkipped:
			if err := t.recordFailure(ctx, r); err != nil {
				return err
			}
		case r.Retriggered && r.Outcome == switchboard.OutcomeDelivered:
			if err := t.settleRetrigger(ctx, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// recordFailure writes r's delivery as failed, with its event, and applies
// the inactive rule to the delivery's type.
func (t *tx) recordFailure(ctx context.Context, r *switchboard.DeliveryResult) error {
	at := micros(r.Attempt.At)
	inactive := r.Outcome == switchboard.OutcomeInactive
	body := r.Body
	if len(body) > switchboard.MaxFailureBody {
		body = body[:switchboard.MaxFailureBody]
	}
	reqBody := strings.ToValidUTF8(string(body), "?")
	var id int64
	err := t.queryRow(ctx, "SELECT id FROM webhook_failures WHERE delivery_id = ?", r.DeliveryID).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		first := sql.NullInt64{Int64: at, Valid: true}
		if !inactive {
			// The attempts of this batch are already in the log.
			var earliest sql.NullInt64
			if err := t.queryRow(ctx, "SELECT MIN(at) FROM webhook_attempts WHERE delivery_id = ?", r.DeliveryID).Scan(&earliest); err != nil {
				return fmt.Errorf("record webhook failure: %w", err)
			}
			if earliest.Valid {
				first = earliest
			}
		}
		id, err = t.insert(ctx, `INSERT INTO webhook_failures (tenant_id, uuid, webhook_id, delivery_id, event_id, event_seq, event_type,
			request_body, response_status, response_body, error, inactive, attempts, status, first_failed_at, last_failed_at,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.TenantID, uuid.NewString(), r.WebhookID, r.DeliveryID, r.EventID, r.EventSeq, r.EventType, reqBody,
			r.Attempt.StatusCode, r.Attempt.Response, r.Attempt.Error, inactive, r.Attempts, switchboard.FailureFailed,
			first.Int64, at, micros(t.now), micros(t.now))
		if err != nil {
			return fmt.Errorf("record webhook failure: %w", err)
		}
	case err != nil:
		return fmt.Errorf("record webhook failure: %w", err)
	default:
		if _, err := t.exec(ctx, `UPDATE webhook_failures SET request_body = ?, response_status = ?, response_body = ?, error = ?,
			inactive = ?, attempts = attempts + ?, status = ?, last_failed_at = ?, updated_at = ? WHERE id = ?`,
			reqBody, r.Attempt.StatusCode, r.Attempt.Response, r.Attempt.Error, inactive, r.Attempts, switchboard.FailureFailed,
			at, micros(t.now), id); err != nil {
			return fmt.Errorf("record webhook failure: %w", err)
		}
	}
	if r.Retriggered {
		if _, err := t.exec(ctx, "UPDATE webhook_deliveries SET retriggered = ? WHERE id = ?", false, r.DeliveryID); err != nil {
			return fmt.Errorf("record webhook failure: %w", err)
		}
	}
	f, err := getOneTx(ctx, t, "webhook_failures", failureCols, "webhook failure", scanFailure, r.TenantID, id)
	if err != nil {
		return err
	}
	if err := t.appendEvent(ctx, r.TenantID, switchboard.EventWebhookFailureRecorded, "webhook_failure", id,
		switchboard.NewWebhookFailureEventPayload(f)); err != nil {
		return err
	}
	if inactive {
		return nil
	}
	return t.applyInactiveRule(ctx, r)
}

// inactiveState reads a webhook's inactive rule and the types it holds back.
func (t *tx) inactiveState(ctx context.Context, webhookID int64) (int, []switchboard.InactiveEventType, error) {
	var after int
	var list string
	if err := t.queryRow(ctx, "SELECT inactive_after_failures, inactive_event_types FROM webhooks WHERE id = ?", webhookID).Scan(&after, &list); err != nil {
		return 0, nil, fmt.Errorf("read webhook inactive types: %w", err)
	}
	var types []switchboard.InactiveEventType
	if err := json.Unmarshal([]byte(list), &types); err != nil {
		return 0, nil, fmt.Errorf("webhook %d inactive event types: %w", webhookID, err)
	}
	return after, types, nil
}

func (t *tx) setInactiveTypes(ctx context.Context, webhookID int64, types []switchboard.InactiveEventType) error {
	if types == nil {
		types = []switchboard.InactiveEventType{}
	}
	b, _ := json.Marshal(types)
	if _, err := t.exec(ctx, "UPDATE webhooks SET inactive_event_types = ? WHERE id = ?", string(b), webhookID); err != nil {
		return fmt.Errorf("write webhook inactive types: %w", err)
	}
	return nil
}

// applyInactiveRule makes r's event type inactive for its webhook when the
// webhook's rule is on and that many of the type's deliveries failed (and
// are still failed) within switchboard.InactiveWindow of r's attempt.
func (t *tx) applyInactiveRule(ctx context.Context, r *switchboard.DeliveryResult) error {
	after, types, err := t.inactiveState(ctx, r.WebhookID)
	if err != nil || after == 0 || slices.ContainsFunc(types, func(it switchboard.InactiveEventType) bool { return it.EventType == r.EventType }) {
		return err
	}
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM webhook_failures WHERE webhook_id = ? AND event_type = ? AND status = ?
		AND inactive = ? AND last_failed_at > ?`, r.WebhookID, r.EventType, switchboard.FailureFailed, false,
		micros(r.Attempt.At.Add(-switchboard.InactiveWindow))).Scan(&n); err != nil {
		return fmt.Errorf("count webhook failures: %w", err)
	}
	if n < after {
		return nil
	}
	types = append(types, switchboard.InactiveEventType{EventType: r.EventType, Since: r.Attempt.At.UTC(), Failures: n})
	if err := t.setInactiveTypes(ctx, r.WebhookID, types); err != nil {
		return err
	}
	return t.appendEvent(ctx, r.TenantID, switchboard.EventWebhookTypeInactive, "webhook", r.WebhookID,
		switchboard.WebhookTypeEventPayload{V: switchboard.EventPayloadVersion, WebhookID: r.WebhookID, EventType: r.EventType, Failures: n})
}

// settleRetrigger records that a retriggered delivery was delivered: its
// failure is delivered, and its type, if inactive, is active again.
func (t *tx) settleRetrigger(ctx context.Context, r *switchboard.DeliveryResult) error {
	if _, err := t.exec(ctx, "UPDATE webhook_deliveries SET retriggered = ? WHERE id = ?", false, r.DeliveryID); err != nil {
		return fmt.Errorf("settle webhook failure: %w", err)
	}
	var id int64
	err := t.queryRow(ctx, `UPDATE webhook_failures SET status = ?, delivered_at = ?, updated_at = ? WHERE delivery_id = ? AND status = ?
		RETURNING id`, switchboard.FailureDelivered, micros(r.Attempt.At), micros(t.now), r.DeliveryID, switchboard.FailureRetriggered).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // settled already (a lease ran out and the delivery was sent twice)
	}
	if err != nil {
		return fmt.Errorf("settle webhook failure: %w", err)
	}
	f, err := getOneTx(ctx, t, "webhook_failures", failureCols, "webhook failure", scanFailure, r.TenantID, id)
	if err != nil {
		return err
	}
	if err := t.appendEvent(ctx, r.TenantID, switchboard.EventWebhookFailureDelivered, "webhook_failure", id,
		switchboard.NewWebhookFailureEventPayload(f)); err != nil {
		return err
	}
	_, types, err := t.inactiveState(ctx, r.WebhookID)
	if err != nil {
		return err
	}
	kept := slices.DeleteFunc(slices.Clone(types), func(it switchboard.InactiveEventType) bool { return it.EventType == f.EventType })
	if len(kept) == len(types) {
		return nil
	}
	if err := t.setInactiveTypes(ctx, r.WebhookID, kept); err != nil {
		return err
	}
	return t.appendEvent(ctx, r.TenantID, switchboard.EventWebhookTypeReactivated, "webhook", r.WebhookID,
		switchboard.WebhookTypeEventPayload{V: switchboard.EventPayloadVersion, WebhookID: r.WebhookID, EventType: f.EventType, FailureID: id})
}
