package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"switchboard"
)

// idList returns the condition that col is one of the ids passed as the
// single argument idsArg makes. The statement's text does not depend on how
// many ids there are, so it is prepared once and cached (on the read pool and
// in SQLite's writer) instead of parsed on every claim: SQLite reads the list
// with json_each, PostgreSQL as a bigint array.
func (db *DB) idList(col string) string {
	if db.engine == Postgres {
		return col + " = ANY(CAST(? AS BIGINT[]))"
	}
	return col + " IN (SELECT value FROM json_each(?))"
}

// idsArg encodes ids for idList: a JSON array on SQLite, an array literal on
// PostgreSQL.
func (db *DB) idsArg(ids []int64) string {
	open, end := byte('['), byte(']')
	if db.engine == Postgres {
		open, end = '{', '}'
	}
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, open)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, end))
}

// ClaimDeliveries leases up to limit due deliveries of enabled webhooks until
// now+lease, at most perWebhook of any one webhook, or caps[id] of webhook id
// when caps names it (0: none; the caller has no room for more of it). A
// crashed caller's leases run out and the rows are claimed again, so delivery
// is at least once.
//
// Candidates are found on the read pool without a lock; the lease is then taken
// with a conditional UPDATE that only succeeds for rows still due and unleased,
// so concurrent dispatchers (on any engine, on any node) never share a row, and
// a poll that finds nothing costs no write transaction. The lease returns the
// delivery rows themselves; their events and webhooks are then read once each,
// however many deliveries share them (an event goes to every subscription that
// wants it, and a webhook has many deliveries in one claim). Every statement
// has a fixed text and is prepared once.
func (db *DB) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit, perWebhook int, caps map[int64]int) ([]switchboard.DeliveryClaim, error) {
	if limit <= 0 {
		return nil, nil
	}
	ids, err := db.dueDeliveries(ctx, now, limit, perWebhook, caps)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var claims []switchboard.DeliveryClaim
	err = db.inTx(ctx, func(t *tx) error {
		claims = claims[:0]
		rows, err := t.query(ctx, "UPDATE webhook_deliveries SET lease_until = ? WHERE "+db.idList("id")+
			" AND status = '"+string(switchboard.DeliveryPending)+"' AND lease_until <= ?"+
			" RETURNING id, tenant_id, webhook_id, event_id, status, attempts, next_attempt_at, last_status, last_error, created_at, updated_at, delivered_at, retriggered",
			micros(now.Add(lease)), db.idsArg(ids), micros(now))
		if err != nil {
			return fmt.Errorf("lease deliveries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c switchboard.DeliveryClaim
			d := &c.Delivery
			var next, delivered sql.NullInt64
			var created, updated int64
			if err := rows.Scan(&d.ID, &d.TenantID, &d.WebhookID, &d.EventID, &d.Status, &d.Attempts, &next, &d.LastStatus,
				&d.LastError, &created, &updated, &delivered, &d.Retriggered); err != nil {
				return fmt.Errorf("lease deliveries: %w", err)
			}
			d.NextAttemptAt, d.DeliveredAt = timePtr(next), timePtr(delivered)
			d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
			claims = append(claims, c)
		}
		return rows.Err()
	})
	if err != nil || len(claims) == 0 {
		return nil, err
	}
	return db.completeClaims(ctx, claims)
}

// dueDeliveries returns the ids of up to limit due, unleased deliveries of
// enabled webhooks, earliest first, within the per-webhook bounds. The query
// reads a bounded slice of the queue (the earliest due rows), so a claim costs
// the same with a backlog of millions; webhooks the caller has no room for are
// left out of that slice, and the other bounds are applied here rather than
// by a window function over it.
func (db *DB) dueDeliveries(ctx context.Context, now time.Time, limit, perWebhook int, caps map[int64]int) ([]int64, error) {
	var skip []int64
	for id, n := range caps {
		if n <= 0 {
			skip = append(skip, id)
		}
	}
	q := `SELECT d.id, d.webhook_id FROM (SELECT id, webhook_id, next_attempt_at FROM webhook_deliveries
		WHERE status = '` + string(switchboard.DeliveryPending) + `' AND next_attempt_at <= ? AND lease_until <= ?
		AND NOT (` + db.idList("webhook_id") + `) ORDER BY next_attempt_at, id LIMIT ?) d
		JOIN webhooks w ON w.id = d.webhook_id WHERE w.enabled = ? ORDER BY d.next_attempt_at, d.id`
	rows, err := db.query(ctx, q, micros(now), micros(now), db.idsArg(skip), max(limit*4, 512), true)
	if err != nil {
		return nil, fmt.Errorf("find due deliveries: %w", err)
	}
	defer rows.Close()
	per := map[int64]int{}
	var ids []int64
	for rows.Next() {
		var id, webhookID int64
		if err := rows.Scan(&id, &webhookID); err != nil {
			return nil, fmt.Errorf("find due deliveries: %w", err)
		}
		bound, ok := caps[webhookID]
		if !ok {
			bound = perWebhook
		}
		if len(ids) < limit && (bound <= 0 && !ok || per[webhookID] < bound) {
			per[webhookID]++
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

// completeClaims adds to the leased deliveries their events and webhooks, each
// read once, and orders them as they were due.
func (db *DB) completeClaims(ctx context.Context, claims []switchboard.DeliveryClaim) ([]switchboard.DeliveryClaim, error) {
	eventIDs := make([]int64, 0, len(claims))
	webhookIDs := make([]int64, 0, 8)
	for _, c := range claims {
		eventIDs = append(eventIDs, c.Delivery.EventID)
		webhookIDs = append(webhookIDs, c.Delivery.WebhookID)
	}
	slices.Sort(eventIDs)
	slices.Sort(webhookIDs)
	eventIDs, webhookIDs = slices.Compact(eventIDs), slices.Compact(webhookIDs)

	events := make(map[int64]switchboard.Event, len(eventIDs))
	rows, err := db.query(ctx, "SELECT id, tenant_id, seq, type, time, subject_type, subject_id, payload FROM events WHERE "+
		db.idList("id"), db.idsArg(eventIDs))
	if err != nil {
		return nil, fmt.Errorf("load claimed events: %w", err)
	}
	for rows.Next() {
		var e switchboard.Event
		var at int64
		var payload string
		if err := rows.Scan(&e.ID, &e.TenantID, &e.Seq, &e.Type, &at, &e.SubjectType, &e.SubjectID, &payload); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load claimed events: %w", err)
		}
		e.Time, e.Payload = fromMicros(at), json.RawMessage(payload)
		events[e.ID] = e
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load claimed events: %w", err)
	}

	webhooks := make(map[int64]switchboard.Webhook, len(webhookIDs))
	rows, err = db.query(ctx, "SELECT "+webhookCols+" FROM webhooks WHERE "+db.idList("id"), db.idsArg(webhookIDs))
	if err != nil {
		return nil, fmt.Errorf("load claimed webhooks: %w", err)
	}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("load claimed webhooks: %w", err)
		}
		webhooks[w.ID] = w
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load claimed webhooks: %w", err)
	}

	out := claims[:0]
	for _, c := range claims {
		e, okE := events[c.Delivery.EventID]
		w, okW := webhooks[c.Delivery.WebhookID]
		if !okE || !okW {
			// The webhook was deleted since the lease (its deliveries go
			// with it); there is nothing left to send.
			continue
		}
		c.Event, c.Webhook = e, w
		c.Delivery.EventSeq, c.Delivery.EventType = e.Seq, e.Type
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b switchboard.DeliveryClaim) int {
		an, bn := int64(0), int64(0)
		if a.Delivery.NextAttemptAt != nil {
			an = a.Delivery.NextAttemptAt.UnixMicro()
		}
		if b.Delivery.NextAttemptAt != nil {
			bn = b.Delivery.NextAttemptAt.UnixMicro()
		}
		if an != bn {
			return int(min(max(an-bn, -1), 1))
		}
		return int(min(max(a.Delivery.ID-b.Delivery.ID, -1), 1))
	})
	return out, nil
}

// ReleaseDeliveries ends the leases of claimed deliveries that their
// dispatcher did not send (it claimed ahead and is stopping), so that they are
// due again at once rather than when the leases run out. A delivery whose
// outcome was recorded meanwhile is not pending and is left alone.
func (db *DB) ReleaseDeliveries(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return db.inTx(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, "UPDATE webhook_deliveries SET lease_until = 0 WHERE "+db.idList("id")+
			" AND status = '"+string(switchboard.DeliveryPending)+"'", db.idsArg(ids)); err != nil {
			return fmt.Errorf("release deliveries: %w", err)
		}
		return nil
	})
}
