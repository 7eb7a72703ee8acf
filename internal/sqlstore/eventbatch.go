package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"switchboard"
)

// eventBatch holds the events of a batched write (SaveCalls) so that they
// are numbered and written together: one sequence update per tenant, rows
// inserted many to a statement, each tenant's webhooks read once. A batch of
// the call service's changes writes several events per call, and writing
// them one at a time cost three to four statements each.
type eventBatch struct {
	events []switchboard.Event
}

func (b *eventBatch) add(e switchboard.Event) { b.events = append(b.events, e) }

// eventRowsPerInsert bounds the rows of one multi-row INSERT (7 values each,
// well inside SQLite's and PostgreSQL's limits on bound parameters).
const eventRowsPerInsert = 100

// flushEvents writes the batch's events, in the order they were appended,
// with their webhook deliveries, and empties the batch.
func (t *tx) flushEvents(ctx context.Context) error {
	b := t.batch
	t.batch = nil
	if b == nil || len(b.events) == 0 {
		return nil
	}
	// Number each tenant's events: one counter update per tenant.
	count := map[int64]int64{}
	var tenants []int64
	for _, e := range b.events {
		if count[e.TenantID] == 0 {
			tenants = append(tenants, e.TenantID)
		}
		count[e.TenantID]++
	}
	next := map[int64]int64{}
	for _, id := range tenants {
		var last int64
		if err := t.queryRow(ctx, "UPDATE tenants SET event_seq = event_seq + ? WHERE id = ? RETURNING event_seq", count[id], id).Scan(&last); err != nil {
			return fmt.Errorf("events: next sequence: %w", err)
		}
		next[id] = last - count[id] + 1
	}
	for i := range b.events {
		e := &b.events[i]
		e.Seq = next[e.TenantID]
		next[e.TenantID]++
	}
	// Insert them, many to a statement, and learn their ids.
	ids := map[[2]int64]int64{} // tenant, seq → id
	for start := 0; start < len(b.events); start += eventRowsPerInsert {
		chunk := b.events[start:min(start+eventRowsPerInsert, len(b.events))]
		var q strings.Builder
		q.WriteString("INSERT INTO events (tenant_id, seq, type, time, subject_type, subject_id, payload) VALUES ")
		args := make([]any, 0, 7*len(chunk))
		for i, e := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, e.TenantID, e.Seq, e.Type, micros(e.Time), e.SubjectType, e.SubjectID, string(e.Payload))
		}
		q.WriteString(" RETURNING id, tenant_id, seq")
		rows, err := t.query(ctx, q.String(), args...)
		if err != nil {
			return fmt.Errorf("events: insert: %w", err)
		}
		for rows.Next() {
			var id, tenant, seq int64
			if err := rows.Scan(&id, &tenant, &seq); err != nil {
				rows.Close()
				return fmt.Errorf("events: insert: %w", err)
			}
			ids[[2]int64{tenant, seq}] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("events: insert: %w", err)
		}
	}
	for i := range b.events {
		b.events[i].ID = ids[[2]int64{b.events[i].TenantID, b.events[i].Seq}]
	}
	// Queue the deliveries of the webhooks that want them.
	for _, tenant := range tenants {
		hooks, err := t.enabledWebhooks(ctx, tenant)
		if err != nil {
			return err
		}
		if len(hooks) == 0 {
			continue
		}
		for _, e := range b.events {
			if e.TenantID != tenant {
				continue
			}
			for _, w := range hooks {
				if !w.Matches(e.Type) || !switchboard.EventDeliverable(e.Type) {
					continue
				}
				due := micros(t.now) + int64(w.DelaySeconds)*1e6
				if _, err := t.exec(ctx, `INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, status, next_attempt_at, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?)`, tenant, w.ID, e.ID, switchboard.DeliveryPending, due, micros(t.now), micros(t.now)); err != nil {
					return fmt.Errorf("event %s: queue delivery: %w", e.Type, err)
				}
			}
		}
	}
	t.appended += len(b.events)
	return nil
}

// enabledWebhooks reads the tenant's enabled webhooks with what they
// subscribe to.
func (t *tx) enabledWebhooks(ctx context.Context, tenantID int64) ([]switchboard.Webhook, error) {
	rows, err := t.query(ctx, "SELECT id, event_types, delay_seconds FROM webhooks WHERE tenant_id = ? AND enabled = ?", tenantID, true)
	if err != nil {
		return nil, fmt.Errorf("events: find webhooks: %w", err)
	}
	defer rows.Close()
	var hooks []switchboard.Webhook
	for rows.Next() {
		var w switchboard.Webhook
		var types string
		if err := rows.Scan(&w.ID, &types, &w.DelaySeconds); err != nil {
			return nil, fmt.Errorf("events: find webhooks: %w", err)
		}
		if err := decodeList(types, &w.EventTypes); err != nil {
			return nil, err
		}
		hooks = append(hooks, w)
	}
	return hooks, rows.Err()
}
