package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"switchboard"
)

const webhookCols = `id, tenant_id, url, method, dialect, event_types, secret, previous_secret, previous_secret_expires_at,
	enabled, disabled_reason, disabled_at, max_attempts, notify_email, headers, failed_count, consecutive_failures,
	failing_since, last_error, last_success_at, last_failure_at, created_at, updated_at, dialect_types, uuid, delay_seconds, name,
	inactive_after_failures, inactive_event_types`

func scanWebhook(s scanner) (switchboard.Webhook, error) {
	var w switchboard.Webhook
	dest, finish := webhookDest(&w)
	if err := s.Scan(dest...); err != nil {
		return w, err
	}
	return w, finish()
}

// webhookDest returns scan destinations for webhookCols and the function that
// turns what was scanned into w's fields, so that queries joining webhooks with
// other tables can scan them in the same way.
func webhookDest(w *switchboard.Webhook) ([]any, func() error) {
	var types, headers, dtypes, inactive string
	var prevExp, disabledAt, failingSince, lastOK, lastFail sql.NullInt64
	var created, updated int64
	dest := []any{&w.ID, &w.TenantID, &w.URL, &w.Method, &w.Dialect, &types, &w.Secret, &w.PreviousSecret, &prevExp,
		&w.Enabled, &w.DisabledReason, &disabledAt, &w.MaxAttempts, &w.NotifyEmail, &headers, &w.FailedCount,
		&w.ConsecutiveFailures, &failingSince, &w.LastError, &lastOK, &lastFail, &created, &updated, &dtypes, &w.UUID, &w.DelaySeconds, &w.Name,
		&w.InactiveAfterFailures, &inactive}
	return dest, func() error {
		if err := decodeList(types, &w.EventTypes); err != nil {
			return err
		}
		if err := decodeList(dtypes, &w.DialectTypes); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(headers), &w.Headers); err != nil {
			return fmt.Errorf("webhook %d headers: %w", w.ID, err)
		}
		if err := json.Unmarshal([]byte(inactive), &w.InactiveEventTypes); err != nil {
			return fmt.Errorf("webhook %d inactive event types: %w", w.ID, err)
		}
		w.PreviousSecretExpiresAt, w.DisabledAt, w.FailingSince = timePtr(prevExp), timePtr(disabledAt), timePtr(failingSince)
		w.LastSuccessAt, w.LastFailureAt = timePtr(lastOK), timePtr(lastFail)
		w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
		return nil
	}
}

// NewWebhookSecret returns a Standard Webhooks secret: whsec_ and 32 random
// bytes in base64.
func NewWebhookSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate webhook secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
}

// DefaultMaxWebhooksPerTenant is how many webhook subscriptions a tenant may
// have when Options.MaxWebhooksPerTenant is zero.
const DefaultMaxWebhooksPerTenant = 20

// CreateWebhook implements switchboard.Store. The returned webhook carries its
// secret; later reads do too, for the dispatcher, but the APIs never render it
// after creation or rotation. A tenant at its most webhooks
// (Options.MaxWebhooksPerTenant) gets a validation error naming "webhooks".
func (db *DB) CreateWebhook(ctx context.Context, tenantID int64, w switchboard.Webhook) (switchboard.Webhook, error) {
	w.Normalize()
	if err := w.Validate(); err != nil {
		return w, err
	}
	secret, err := NewWebhookSecret()
	if err != nil {
		return w, err
	}
	// A webhook is created enabled unless it comes with a reason to be
	// disabled (a tenant subscribing with enabled false).
	w.TenantID, w.Secret, w.Enabled, w.UUID = tenantID, secret, w.DisabledReason == "", uuid.NewString()
	w.DisabledAt, w.ConsecutiveFailures, w.FailingSince = nil, 0, nil
	w.InactiveEventTypes = []switchboard.InactiveEventType{}
	err = db.inTx(ctx, func(t *tx) error {
		// The tenant's row is the lock that orders creations (events take
		// it too), so concurrent ones cannot all pass the count.
		if _, err := t.exec(ctx, "UPDATE tenants SET event_seq = event_seq WHERE id = ?", tenantID); err != nil {
			return fmt.Errorf("lock tenant: %w", err)
		}
		var n int
		if err := t.queryRow(ctx, "SELECT COUNT(*) FROM webhooks WHERE tenant_id = ?", tenantID).Scan(&n); err != nil {
			return fmt.Errorf("count webhooks: %w", err)
		}
		if n >= db.maxWebhooks {
			return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed", Fields: map[string]string{
				"webhooks": fmt.Sprintf("a tenant may have at most %d webhook subscriptions; delete one first", db.maxWebhooks)}}
		}
		w.CreatedAt, w.UpdatedAt = t.now, t.now
		if !w.Enabled {
			w.DisabledAt = &t.now
		}
		types, _ := json.Marshal(w.EventTypes)
		headers, _ := json.Marshal(w.Headers)
		dtypes, _ := json.Marshal(w.DialectTypes)
		id, err := t.insert(ctx, `INSERT INTO webhooks (tenant_id, url, method, dialect, event_types, secret, enabled,
			max_attempts, notify_email, headers, created_at, updated_at, dialect_types, uuid, delay_seconds, name,
			disabled_reason, disabled_at, inactive_after_failures)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tenantID, w.URL, w.Method, w.Dialect, string(types), w.Secret, w.Enabled, w.MaxAttempts, w.NotifyEmail,
			string(headers), micros(t.now), micros(t.now), string(dtypes), w.UUID, w.DelaySeconds, w.Name,
			w.DisabledReason, nullMicros(w.DisabledAt), w.InactiveAfterFailures)
		if err != nil {
			return fmt.Errorf("insert webhook: %w", err)
		}
		w.ID = id
		return t.appendEvent(ctx, tenantID, switchboard.EventWebhookCreated, "webhook", id, w)
	})
	return w, err
}

// Webhook implements switchboard.Store.
func (db *DB) Webhook(ctx context.Context, tenantID, id int64) (switchboard.Webhook, error) {
	return getOne(ctx, db, "webhooks", webhookCols, "webhook", scanWebhook, tenantID, id)
}

// WebhookByUUID implements switchboard.RecordStore. Subscriptions are few
// per tenant, so the tenant's index finds it without one on uuid.
func (db *DB) WebhookByUUID(ctx context.Context, tenantID int64, id string) (switchboard.Webhook, error) {
	w, err := scanWebhook(db.queryRow(ctx, "SELECT "+webhookCols+" FROM webhooks WHERE tenant_id = ? AND uuid = ?", tenantID, id))
	if errors.Is(err, sql.ErrNoRows) || id == "" {
		return switchboard.Webhook{}, switchboard.Errorf(switchboard.CodeNotFound, "webhook %s not found", switchboard.Echo(id))
	}
	if err != nil {
		return w, fmt.Errorf("get webhook: %w", err)
	}
	return w, nil
}

// Webhooks implements switchboard.Store.
func (db *DB) Webhooks(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.Webhook], error) {
	return listAll(ctx, db, "webhooks", webhookCols, scanWebhook, func(w switchboard.Webhook) int64 { return w.ID }, tenantID, opt)
}

// UpdateWebhook implements switchboard.Store. Enabling a disabled webhook
// clears its failure run, so the disable rule starts counting afresh;
// turning the inactive rule off (InactiveAfterFailures 0) makes every
// inactive type active again, each with its
// webhook_failure.type_reactivated.
func (db *DB) UpdateWebhook(ctx context.Context, tenantID int64, w switchboard.Webhook) (switchboard.Webhook, error) {
	return inTxValue(ctx, db, w, func(t *tx) (switchboard.Webhook, error) { return t.updateWebhook(ctx, tenantID, w) })
}

// UpdateWebhookFunc implements switchboard.Store (see UpdateUserFunc).
func (db *DB) UpdateWebhookFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.Webhook) error) (switchboard.Webhook, error) {
	return modify(ctx, db, "webhooks", "webhook", tenantID, id,
		func(t *tx) (switchboard.Webhook, error) {
			return getOneTx(ctx, t, "webhooks", webhookCols, "webhook", scanWebhook, tenantID, id)
		}, fn,
		func(t *tx, w switchboard.Webhook) (switchboard.Webhook, error) {
			w.ID = id
			return t.updateWebhook(ctx, tenantID, w)
		})
}

func (t *tx) updateWebhook(ctx context.Context, tenantID int64, w switchboard.Webhook) (switchboard.Webhook, error) {
	w.Normalize()
	if err := w.Validate(); err != nil {
		return w, err
	}
	old, err := getOneTx(ctx, t, "webhooks", webhookCols, "webhook", scanWebhook, tenantID, w.ID)
	if err != nil {
		return w, err
	}
	keep := w
	w = old
	// Every writable field: the rest are statistics and the secret.
	w.Name, w.URL, w.Method, w.Dialect, w.EventTypes, w.DialectTypes = keep.Name, keep.URL, keep.Method, keep.Dialect, keep.EventTypes, keep.DialectTypes
	w.MaxAttempts, w.DelaySeconds, w.NotifyEmail, w.Headers, w.UpdatedAt = keep.MaxAttempts, keep.DelaySeconds, keep.NotifyEmail, keep.Headers, t.now
	w.InactiveAfterFailures = keep.InactiveAfterFailures
	reactivated := []switchboard.InactiveEventType{}
	if w.InactiveAfterFailures == 0 {
		reactivated, w.InactiveEventTypes = w.InactiveEventTypes, []switchboard.InactiveEventType{}
	}
	switch {
	case keep.Enabled && !old.Enabled:
		w.Enabled, w.DisabledReason, w.DisabledAt = true, "", nil
		w.ConsecutiveFailures, w.FailingSince = 0, nil
	case !keep.Enabled && old.Enabled:
		w.Enabled, w.DisabledReason, w.DisabledAt = false, "disabled by the tenant", &t.now
	}
	types, _ := json.Marshal(w.EventTypes)
	headers, _ := json.Marshal(w.Headers)
	dtypes, _ := json.Marshal(w.DialectTypes)
	inactive, _ := json.Marshal(w.InactiveEventTypes)
	if _, err := t.exec(ctx, `UPDATE webhooks SET url = ?, method = ?, dialect = ?, event_types = ?, dialect_types = ?,
		delay_seconds = ?, name = ?, max_attempts = ?, notify_email = ?, headers = ?, enabled = ?, disabled_reason = ?, disabled_at = ?,
		consecutive_failures = ?, failing_since = ?, updated_at = ?, inactive_after_failures = ?, inactive_event_types = ?
		WHERE tenant_id = ? AND id = ?`,
		w.URL, w.Method, w.Dialect, string(types), string(dtypes), w.DelaySeconds, w.Name, w.MaxAttempts, w.NotifyEmail, string(headers), w.Enabled,
		w.DisabledReason, nullMicros(w.DisabledAt), w.ConsecutiveFailures, nullMicros(w.FailingSince), micros(t.now),
		w.InactiveAfterFailures, string(inactive), tenantID, w.ID); err != nil {
		return w, fmt.Errorf("update webhook: %w", err)
	}
	for _, it := range reactivated {
		if err := t.appendEvent(ctx, tenantID, switchboard.EventWebhookTypeReactivated, "webhook", w.ID,
			switchboard.WebhookTypeEventPayload{V: switchboard.EventPayloadVersion, WebhookID: w.ID, EventType: it.EventType}); err != nil {
			return w, err
		}
	}
	return w, t.appendEvent(ctx, tenantID, switchboard.EventWebhookUpdated, "webhook", w.ID, w)
}

// RotateWebhookSecret implements switchboard.Store: a new secret signs from
// now on, and the old one keeps signing beside it for overlap.
func (db *DB) RotateWebhookSecret(ctx context.Context, tenantID, id int64, overlap time.Duration) (switchboard.Webhook, error) {
	var w switchboard.Webhook
	secret, err := NewWebhookSecret()
	if err != nil {
		return w, err
	}
	err = db.inTx(ctx, func(t *tx) error {
		if err := t.lockRow(ctx, "webhooks", "webhook", tenantID, id); err != nil {
			return err
		}
		w, err = getOneTx(ctx, t, "webhooks", webhookCols, "webhook", scanWebhook, tenantID, id)
		if err != nil {
			return err
		}
		exp := t.now.Add(overlap)
		w.PreviousSecret, w.PreviousSecretExpiresAt, w.Secret, w.UpdatedAt = w.Secret, &exp, secret, t.now
		if _, err := t.exec(ctx, `UPDATE webhooks SET secret = ?, previous_secret = ?, previous_secret_expires_at = ?,
			updated_at = ? WHERE tenant_id = ? AND id = ?`, w.Secret, w.PreviousSecret, micros(exp), micros(t.now), tenantID, id); err != nil {
			return fmt.Errorf("rotate webhook secret: %w", err)
		}
		return t.appendEvent(ctx, tenantID, switchboard.EventWebhookUpdated, "webhook", id, w)
	})
	return w, err
}

// DeleteWebhook implements switchboard.Store; its deliveries go with it.
func (db *DB) DeleteWebhook(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "webhooks", "webhook", switchboard.EventWebhookDeleted, func(t *tx) (any, error) {
		return getOneTx(ctx, t, "webhooks", webhookCols, "webhook", scanWebhook, tenantID, id)
	})
}

const deliveryCols = `d.id, d.tenant_id, d.webhook_id, d.event_id, e.seq, e.type, d.status, d.attempts, d.next_attempt_at,
	d.last_status, d.last_error, d.created_at, d.updated_at, d.delivered_at, d.retriggered`

func scanDelivery(s scanner) (switchboard.Delivery, error) {
	var d switchboard.Delivery
	var next, delivered sql.NullInt64
	var created, updated int64
	err := s.Scan(&d.ID, &d.TenantID, &d.WebhookID, &d.EventID, &d.EventSeq, &d.EventType, &d.Status, &d.Attempts, &next,
		&d.LastStatus, &d.LastError, &created, &updated, &delivered, &d.Retriggered)
	d.NextAttemptAt, d.DeliveredAt = timePtr(next), timePtr(delivered)
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return d, err
}

// Deliveries implements switchboard.Store, newest first.
func (db *DB) Deliveries(ctx context.Context, tenantID int64, f switchboard.DeliveryFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.Delivery], error) {
	q := listQuery{cols: deliveryCols, from: "FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE d.tenant_id = ?",
		args: []any{tenantID}, key: "d.id"}
	if f.WebhookID != 0 {
		q.from += " AND d.webhook_id = ?"
		q.args = append(q.args, f.WebhookID)
	}
	if f.Status != "" {
		q.from += " AND d.status = ?"
		q.args = append(q.args, f.Status)
	}
	if f.Since != nil {
		q.from += " AND d.created_at >= ?"
		q.args = append(q.args, micros(*f.Since))
	}
	if f.Until != nil {
		q.from += " AND d.created_at < ?"
		q.args = append(q.args, micros(*f.Until))
	}
	return listPage(ctx, db, q, opt, scanDelivery, func(d switchboard.Delivery) int64 { return d.ID })
}

// Delivery implements switchboard.Store, with its attempt log.
func (db *DB) Delivery(ctx context.Context, tenantID, id int64) (switchboard.Delivery, error) {
	d, err := scanDelivery(db.queryRow(ctx, "SELECT "+deliveryCols+` FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.tenant_id = ? AND d.id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, notFound("delivery", id)
	}
	if err != nil {
		return d, fmt.Errorf("get delivery: %w", err)
	}
	rows, err := db.query(ctx, `SELECT at, status_code, latency_ms, error_class, error, response FROM webhook_attempts
		WHERE delivery_id = ? ORDER BY id`, id)
	if err != nil {
		return d, fmt.Errorf("get delivery attempts: %w", err)
	}
	defer rows.Close()
	d.AttemptLog = []switchboard.DeliveryAttempt{}
	for rows.Next() {
		var a switchboard.DeliveryAttempt
		var at int64
		if err := rows.Scan(&at, &a.StatusCode, &a.LatencyMS, &a.ErrorClass, &a.Error, &a.Response); err != nil {
			return d, fmt.Errorf("get delivery attempts: %w", err)
		}
		a.At = fromMicros(at)
		d.AttemptLog = append(d.AttemptLog, a)
	}
	return d, rows.Err()
}

// RetryDelivery implements switchboard.Store: the delivery goes back to pending
// with a fresh attempt budget, whatever its state, keeping its webhook-id.
func (db *DB) RetryDelivery(ctx context.Context, tenantID, id int64) (switchboard.Delivery, error) {
	err := db.inTx(ctx, func(t *tx) error {
		res, err := t.exec(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = 0, next_attempt_at = ?, lease_until = 0,
			updated_at = ? WHERE tenant_id = ? AND id = ?`, switchboard.DeliveryPending, micros(t.now), micros(t.now), tenantID, id)
		if err != nil {
			return fmt.Errorf("retry delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("delivery", id)
		}
		return nil
	})
	if err != nil {
		return switchboard.Delivery{}, err
	}
	db.changes.notify()
	return db.Delivery(ctx, tenantID, id)
}

// ReplayWebhook implements switchboard.Store: every event of the tenant in
// [since, until) that the webhook wants is queued again, whether it was
// delivered before, failed, or happened before the webhook existed.
func (db *DB) ReplayWebhook(ctx context.Context, tenantID, id int64, since, until time.Time) (int, error) {
	w, err := db.Webhook(ctx, tenantID, id)
	if err != nil {
		return 0, err
	}
	if !until.After(since) {
		return 0, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"until": "must be after since"}}
	}
	queued := 0
	var after int64
	for {
		evs, err := db.EventsBetween(ctx, tenantID, since, until, after, 500)
		if err != nil || len(evs) == 0 {
			return queued, err
		}
		after = evs[len(evs)-1].Seq
		n := 0
		err = db.inTx(ctx, func(t *tx) error {
			n = 0 // a retried transaction counts afresh
			for _, e := range evs {
				if !w.Matches(e.Type) {
					continue
				}
				res, err := t.exec(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = 0, next_attempt_at = ?, lease_until = 0,
					updated_at = ? WHERE webhook_id = ? AND event_id = ?`, switchboard.DeliveryPending, micros(t.now), micros(t.now), id, e.ID)
				if err != nil {
					return fmt.Errorf("replay: %w", err)
				}
				if n, _ := res.RowsAffected(); n == 0 {
					if _, err := t.exec(ctx, `INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, status, next_attempt_at,
						created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, tenantID, id, e.ID, switchboard.DeliveryPending,
						micros(t.now), micros(t.now), micros(t.now)); err != nil {
						return fmt.Errorf("replay: %w", err)
					}
				}
				n++
			}
			return nil
		})
		if err != nil {
			return queued, err
		}
		queued += n
		db.changes.notify()
	}
}

func prefixed(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// CompleteDeliveries records a batch of attempt results in one transaction and
// applies the disable policy. It returns the webhooks it disabled, whose
// owners are to be notified.
//
// Deliveries that end failed become webhook failures, and the outcomes of
// retriggered ones settle theirs (recordFailures); an inactive result made
// no attempt, so it neither enters the attempt log nor counts against the
// disable policy.
//
// The attempts are inserted many rows to a statement, and a webhook whose
// results in the batch are all successes has its statistics written once.
// What a failure does depends on what came before it (the run of failures,
// the disable rule), so a webhook with any failure in the batch is recorded
// result by result, in order.
func (db *DB) CompleteDeliveries(ctx context.Context, results []switchboard.DeliveryResult, policy switchboard.DisablePolicy) ([]switchboard.Webhook, error) {
	succeeded := map[int64]time.Time{} // webhooks with only successes: the latest
	failed := map[int64]bool{}
	for _, r := range results {
		switch {
		case r.Outcome == switchboard.OutcomeSkipped, r.Outcome == switchboard.OutcomeInactive:
		case r.Outcome != switchboard.OutcomeDelivered:
			failed[r.WebhookID] = true
			delete(succeeded, r.WebhookID)
		case !failed[r.WebhookID] && r.Attempt.At.After(succeeded[r.WebhookID]):
			succeeded[r.WebhookID] = r.Attempt.At
		}
	}
	ok := slices.Sorted(maps.Keys(succeeded))
	var disabled []switchboard.Webhook
	err := db.inTx(ctx, func(t *tx) error {
		disabled = disabled[:0]
		if err := t.lockWebhooks(ctx, results); err != nil {
			return err
		}
		if err := t.insertAttempts(ctx, results); err != nil {
			return err
		}
		if err := t.updateDeliveries(ctx, results); err != nil {
			return err
		}
		if err := t.recordFailures(ctx, results); err != nil {
			return err
		}
		for _, r := range results {
			if _, only := succeeded[r.WebhookID]; only || r.Outcome == switchboard.OutcomeSkipped || r.Outcome == switchboard.OutcomeInactive {
				continue
			}
			w, err := t.recordWebhookOutcome(ctx, r, policy)
			if err != nil {
				return err
			}
			if w != nil {
				disabled = append(disabled, *w)
			}
		}
		for _, id := range ok {
			if _, err := t.exec(ctx, `UPDATE webhooks SET consecutive_failures = 0, failing_since = NULL, last_success_at = ? WHERE id = ?`,
				micros(succeeded[id]), id); err != nil {
				return fmt.Errorf("record webhook success: %w", err)
			}
		}
		return nil
	})
	return disabled, err
}

// updateDeliveries records what became of each delivery of results. It
// runs one prepared UPDATE per delivery: an UPDATE joined with a VALUES list
// of 32 rows was measured slower on SQLite (it builds the join in a
// temporary table first).
func (t *tx) updateDeliveries(ctx context.Context, results []switchboard.DeliveryResult) error {
	for _, r := range results {
		a := r.Attempt
		status, next, delivered := switchboard.DeliveryPending, any(micros(r.NextAttemptAt)), any(nil)
		tried := 1
		switch r.Outcome {
		case switchboard.OutcomeInactive:
			status, next, tried = switchboard.DeliveryFailed, nil, 0
		case switchboard.OutcomeDelivered:
			status, next, delivered = switchboard.DeliverySucceeded, nil, micros(a.At)
		case switchboard.OutcomeGiveUp, switchboard.OutcomeGone:
			status, next = switchboard.DeliveryFailed, nil
		case switchboard.OutcomeSkipped:
			status, next = switchboard.DeliverySkipped, nil
		}
		if _, err := t.exec(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = attempts + ?, next_attempt_at = ?,
			lease_until = 0, last_status = ?, last_error = ?, updated_at = ?, delivered_at = COALESCE(?, delivered_at) WHERE id = ?`,
			status, tried, next, a.StatusCode, a.Error, micros(t.now), delivered, r.DeliveryID); err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
	}
	return nil
}

// batchRows are the numbers of attempts one INSERT of CompleteDeliveries
// writes: a few fixed shapes, each prepared once per transaction, instead of
// one statement per attempt.
var batchRows = [...]int{32, 8, 1}

// rowsFor returns how many of left rows the next statement writes.
func rowsFor(left int) int {
	for _, n := range batchRows {
		if left >= n {
			return n
		}
	}
	return left
}

// insertAttempts appends the attempts of results to the attempt log; an
// inactive result made none.
func (t *tx) insertAttempts(ctx context.Context, results []switchboard.DeliveryResult) error {
	if slices.ContainsFunc(results, func(r switchboard.DeliveryResult) bool { return r.Outcome == switchboard.OutcomeInactive }) {
		results = slices.DeleteFunc(slices.Clone(results), func(r switchboard.DeliveryResult) bool { return r.Outcome == switchboard.OutcomeInactive })
	}
	const cols = "INSERT INTO webhook_attempts (delivery_id, at, status_code, latency_ms, error_class, error, response) VALUES "
	row := "(?, ?, ?, ?, ?, ?, ?)"
	args := make([]any, 0, batchRows[0]*7)
	for len(results) > 0 {
		n := rowsFor(len(results))
		q := cols + strings.Repeat(row+", ", n-1) + row
		args = args[:0]
		for _, r := range results[:n] {
			a := r.Attempt
			args = append(args, r.DeliveryID, micros(a.At), a.StatusCode, a.LatencyMS, a.ErrorClass, a.Error, a.Response)
		}
		if _, err := t.exec(ctx, q, args...); err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		results = results[n:]
	}
	return nil
}

// lockWebhooks locks the webhooks of results in id order before any of their
// deliveries, the order in which webhook updates and deletions (whose
// cascade reaches the deliveries) take them; without it a batch that updated
// a delivery, then its webhook, then the tenant's event counter could
// deadlock with a webhook update holding the webhook and waiting for the
// counter. SQLite's single writer needs no locks.
func (t *tx) lockWebhooks(ctx context.Context, results []switchboard.DeliveryResult) error {
	if t.db.engine != Postgres || len(results) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(results))
	for _, r := range results {
		ids = append(ids, r.WebhookID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := t.query(ctx, "SELECT id FROM webhooks WHERE id IN ("+placeholders(len(ids))+") ORDER BY id FOR NO KEY UPDATE", args...)
	if err != nil {
		return fmt.Errorf("lock webhooks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// recordWebhookOutcome updates the webhook's statistics and disables it when
// the policy says so, appending endpoint.disabled in the same transaction.
func (t *tx) recordWebhookOutcome(ctx context.Context, r switchboard.DeliveryResult, policy switchboard.DisablePolicy) (*switchboard.Webhook, error) {
	at := micros(r.Attempt.At)
	if r.Outcome == switchboard.OutcomeDelivered {
		_, err := t.exec(ctx, `UPDATE webhooks SET consecutive_failures = 0, failing_since = NULL, last_success_at = ? WHERE id = ?`, at, r.WebhookID)
		if err != nil {
			return nil, fmt.Errorf("record webhook success: %w", err)
		}
		return nil, nil
	}
	gaveUp := 0
	if r.Outcome == switchboard.OutcomeGiveUp || r.Outcome == switchboard.OutcomeGone {
		gaveUp = 1
	}
	if _, err := t.exec(ctx, `UPDATE webhooks SET failed_count = failed_count + ?, consecutive_failures = consecutive_failures + ?,
		failing_since = COALESCE(failing_since, ?), last_error = ?, last_failure_at = ? WHERE id = ?`,
		gaveUp, gaveUp, at, r.Attempt.Error, at, r.WebhookID); err != nil {
		return nil, fmt.Errorf("record webhook failure: %w", err)
	}
	if gaveUp == 0 {
		return nil, nil
	}
	w, err := getOneTx(ctx, t, "webhooks", webhookCols, "webhook", scanWebhook, r.TenantID, r.WebhookID)
	if err != nil || !w.Enabled {
		return nil, err
	}
	reason := ""
	switch {
	case r.Outcome == switchboard.OutcomeGone:
		reason = "the endpoint answered 410 Gone"
	case policy.Deliveries > 0 && w.ConsecutiveFailures >= policy.Deliveries:
		reason = fmt.Sprintf("%d consecutive events failed every attempt", w.ConsecutiveFailures)
	case policy.After > 0 && w.FailingSince != nil && r.Attempt.At.Sub(*w.FailingSince) >= policy.After:
		reason = fmt.Sprintf("every delivery failed for %s", r.Attempt.At.Sub(*w.FailingSince).Round(time.Minute))
	}
	if reason == "" {
		return nil, nil
	}
	w.Enabled, w.DisabledReason, w.DisabledAt = false, reason, &t.now
	if _, err := t.exec(ctx, `UPDATE webhooks SET enabled = ?, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ?`,
		false, reason, micros(t.now), micros(t.now), w.ID); err != nil {
		return nil, fmt.Errorf("disable webhook: %w", err)
	}
	payload := map[string]any{"webhook_id": w.ID, "url": w.URL, "reason": reason, "last_error": w.LastError,
		"failing_since": w.FailingSince, "disabled_at": t.now}
	if err := t.appendEvent(ctx, w.TenantID, switchboard.EventWebhookDisabled, "webhook", w.ID, payload); err != nil {
		return nil, err
	}
	return &w, nil
}
