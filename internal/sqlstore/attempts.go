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

// The compliance ledger (dial_attempts) and the dialer's progress. The
// dialer saves every dial and every outcome, so SaveDialProgress is a few
// statements a row, each of fixed text (prepared once per transaction on
// SQLite, by pgx's statement cache on PostgreSQL), and reads back only what
// the attempt events need: the rows its UPDATEs return.

const attemptCols = `id, tenant_id, campaign_id, lead_id, call_id, agent_id, number, caller_id, mode, at, time_zone,
	local_time, checks, outcome, reason, ended_at, abandon_rate`

func scanAttempt(s scanner) (switchboard.DialAttempt, error) {
	var a switchboard.DialAttempt
	var call, agent, ended sql.NullInt64
	var at int64
	var checks, outcome string
	if err := s.Scan(&a.ID, &a.TenantID, &a.CampaignID, &a.LeadID, &call, &agent, &a.Number, &a.CallerID, &a.Mode, &at,
		&a.TimeZone, &a.LocalTime, &checks, &outcome, &a.Reason, &ended, &a.AbandonRate); err != nil {
		return a, err
	}
	a.CallID, a.AgentID, a.EndedAt = idPtr(call), idPtr(agent), timePtr(ended)
	a.At, a.Outcome = fromMicros(at), switchboard.DialOutcome(outcome)
	if err := json.Unmarshal([]byte(checks), &a.Checks); err != nil {
		return a, fmt.Errorf("decode attempt %d checks: %w", a.ID, err)
	}
	return a, nil
}

var dialOutcomes = []switchboard.DialOutcome{"", switchboard.DialConnected, switchboard.DialAbandoned, switchboard.DialMachine,
	switchboard.DialNoAnswer, switchboard.DialBusy, switchboard.DialInvalid, switchboard.DialFailed, switchboard.DialHungUp,
	switchboard.DialBlocked, switchboard.DialSkipped, switchboard.DialInterrupt}

// checkProgress refuses statuses and outcomes the store does not know, so
// that a dialer bug cannot write a lead no list or count would show.
func checkProgress(leads []switchboard.Lead, attempts []switchboard.DialAttempt) error {
	p := switchboard.Problems{}
	for i, l := range leads {
		if !slices.Contains(switchboard.LeadStatuses, l.Status) {
			p.Add(fmt.Sprintf("leads[%d].status", i), "is not a lead status")
		}
		if !slices.Contains(dialOutcomes, l.LastOutcome) {
			p.Add(fmt.Sprintf("leads[%d].last_outcome", i), "is not a dial outcome")
		}
	}
	for i, a := range attempts {
		if !slices.Contains(dialOutcomes, a.Outcome) {
			p.Add(fmt.Sprintf("attempts[%d].outcome", i), "is not a dial outcome")
		}
		if a.ID == 0 && a.Number == "" {
			p.Add(fmt.Sprintf("attempts[%d].number", i), "is required")
		}
	}
	return p.Err()
}

// SaveDialProgress implements switchboard.Store. Leads are written in id
// order, then the ledger rows (new ones in the order given, updated ones in
// id order), then the events: the lock order of every other transaction.
// An updated row takes its outcome, reason, call and agent ids and end time
// as given (the dialer holds the whole row). A lead or attempt that is not
// the tenant's fails the whole save with CodeNotFound, as does a new
// attempt whose lead is not in its campaign; a contact list's leads are
// never dialled, and are not found either.
func (db *DB) SaveDialProgress(ctx context.Context, tenantID int64, leads []switchboard.Lead, attempts []switchboard.DialAttempt) ([]int64, error) {
	if err := checkProgress(leads, attempts); err != nil {
		return nil, err
	}
	if len(leads) == 0 && len(attempts) == 0 {
		return []int64{}, nil
	}
	var ids []int64
	err := db.inTx(ctx, func(t *tx) error {
		ids = make([]int64, 0, len(attempts))
		saved, err := t.saveLeadStates(ctx, tenantID, leads)
		if err != nil {
			return err
		}
		// The leads of attempts the batch does not update: read once, to
		// check new attempts against and for the events.
		var missing []any
		asked := map[int64]bool{}
		for _, a := range attempts {
			if _, ok := saved[a.LeadID]; !ok && !asked[a.LeadID] && (a.ID == 0 || a.Outcome != "") {
				asked[a.LeadID] = true
				missing = append(missing, a.LeadID)
			}
		}
		if len(missing) > 0 {
			rows, err := t.query(ctx, "SELECT "+leadCols+" FROM leads WHERE tenant_id = ? AND id IN ("+placeholders(len(missing))+")",
				append([]any{tenantID}, missing...)...)
			if err != nil {
				return fmt.Errorf("read attempts' leads: %w", err)
			}
			for rows.Next() {
				l, err := scanLead(rows)
				if err != nil {
					rows.Close()
					return fmt.Errorf("read attempts' leads: %w", err)
				}
				saved[l.ID] = l
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("read attempts' leads: %w", err)
			}
		}
		var events []switchboard.DialAttempt
		for _, a := range attempts {
			if a.ID != 0 {
				continue
			}
			l, ok := saved[a.LeadID]
			if !ok || l.CampaignID == nil || *l.CampaignID != a.CampaignID {
				return switchboard.Errorf(switchboard.CodeNotFound, "lead %d not found in campaign %d", a.LeadID, a.CampaignID)
			}
			a.TenantID = tenantID
			checks, _ := json.Marshal(a.Checks)
			id, err := t.insert(ctx, `INSERT INTO dial_attempts (tenant_id, campaign_id, lead_id, call_id, agent_id, number,
				caller_id, mode, at, time_zone, local_time, checks, outcome, reason, ended_at, abandon_rate)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				tenantID, a.CampaignID, a.LeadID, nullID(a.CallID), nullID(a.AgentID), a.Number, a.CallerID, a.Mode,
				micros(a.At), a.TimeZone, a.LocalTime, string(checks), string(a.Outcome), a.Reason, nullMicros(a.EndedAt),
				a.AbandonRate)
			if err != nil {
				return fmt.Errorf("insert dial attempt: %w", err)
			}
			a.ID, a.At = id, a.At.UTC().Truncate(time.Microsecond)
			ids = append(ids, id)
			if a.Outcome != "" {
				events = append(events, a)
			}
		}
		updates := slices.DeleteFunc(slices.Clone(attempts), func(a switchboard.DialAttempt) bool { return a.ID == 0 })
		slices.SortFunc(updates, func(a, b switchboard.DialAttempt) int { return cmpInt64(a.ID, b.ID) })
		for _, a := range updates {
			got, err := scanAttempt(t.queryRow(ctx, `UPDATE dial_attempts SET outcome = ?, reason = ?, call_id = ?, agent_id = ?,
				ended_at = ? WHERE tenant_id = ? AND id = ? RETURNING `+attemptCols,
				string(a.Outcome), a.Reason, nullID(a.CallID), nullID(a.AgentID), nullMicros(a.EndedAt), tenantID, a.ID))
			if errors.Is(err, sql.ErrNoRows) {
				return notFound("dial attempt", a.ID)
			}
			if err != nil {
				return fmt.Errorf("update dial attempt %d: %w", a.ID, err)
			}
			if got.Outcome != "" {
				events = append(events, got)
			}
		}
		for _, a := range events {
			l, ok := saved[a.LeadID]
			if !ok {
				// The lead was deleted after its dial: the event keeps
				// what the ledger knows of it.
				l = switchboard.Lead{ID: a.LeadID, TenantID: tenantID, CampaignID: &a.CampaignID, PhoneNumber: a.Number}
			}
			if err := t.appendEvent(ctx, tenantID, switchboard.EventCampaignAttempt, "campaign", a.CampaignID,
				switchboard.AttemptEventPayload{V: switchboard.EventPayloadVersion, Attempt: a, Lead: l}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// leadStateRows is how many leads one UPDATE of SaveDialProgress carries.
const leadStateRows = 500

// saveLeadStates writes the dial state of each lead (the last given for an
// id wins) and returns the leads as saved, by id. Each leadStateRows leads
// are one UPDATE … FROM (VALUES …) RETURNING statement: a save of a
// thousand leads is two round trips on PostgreSQL, not a thousand. The
// first row's values are cast, since PostgreSQL types a VALUES list by it.
func (t *tx) saveLeadStates(ctx context.Context, tenantID int64, leads []switchboard.Lead) (map[int64]switchboard.Lead, error) {
	saved := make(map[int64]switchboard.Lead, len(leads))
	last := make(map[int64]int, len(leads))
	for i, l := range leads {
		last[l.ID] = i
	}
	order := make([]int, 0, len(last))
	for _, i := range last {
		order = append(order, i)
	}
	slices.SortFunc(order, func(a, b int) int { return cmpInt64(leads[a].ID, leads[b].ID) })
	for start := 0; start < len(order); start += leadStateRows {
		chunk := order[start:min(start+leadStateRows, len(order))]
		var b strings.Builder
		b.WriteString(`UPDATE leads SET status = v.column2, attempts = v.column3, last_outcome = v.column4,
			last_call_id = v.column5, last_attempt_at = v.column6, next_attempt_at = v.column7, updated_at = ?
			FROM (VALUES (CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS BIGINT),
			CAST(? AS BIGINT), CAST(? AS BIGINT))`)
		args := make([]any, 0, 2+7*len(chunk))
		args = append(args, micros(t.now))
		for n, i := range chunk {
			if n > 0 {
				b.WriteString(", (?, ?, ?, ?, ?, ?, ?)")
			}
			l := &leads[i]
			args = append(args, l.ID, string(l.Status), l.Attempts, string(l.LastOutcome), nullID(l.LastCallID),
				nullMicros(l.LastAttemptAt), nullMicros(l.NextAttemptAt))
		}
		b.WriteString(") AS v WHERE leads.tenant_id = ? AND leads.id = v.column1 AND leads.campaign_id IS NOT NULL RETURNING " + leadCols)
		args = append(args, tenantID)
		rows, err := t.query(ctx, b.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("save leads: %w", err)
		}
		for rows.Next() {
			l, err := scanLead(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("save leads: %w", err)
			}
			saved[l.ID] = l
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("save leads: %w", err)
		}
		for _, i := range chunk {
			if _, ok := saved[leads[i].ID]; !ok {
				return nil, notFound("lead", leads[i].ID)
			}
		}
	}
	return saved, nil
}

// attemptQuery is the FROM … WHERE of a campaign's ledger rows f selects.
func attemptQuery(tenantID, campaignID int64, f switchboard.AttemptFilter) (string, []any) {
	var b strings.Builder
	b.WriteString("FROM dial_attempts WHERE campaign_id = ? AND tenant_id = ?")
	args := []any{campaignID, tenantID}
	if !f.Since.IsZero() {
		b.WriteString(" AND at >= ?")
		args = append(args, micros(f.Since))
	}
	if !f.Until.IsZero() {
		b.WriteString(" AND at < ?")
		args = append(args, micros(f.Until))
	}
	if f.LeadID != 0 {
		b.WriteString(" AND lead_id = ?")
		args = append(args, f.LeadID)
	}
	return b.String(), args
}

// Attempts implements switchboard.Store: the ledger by id, which is the
// order the dialer wrote it in. Since is inclusive, Until exclusive.
func (db *DB) Attempts(ctx context.Context, tenantID, campaignID int64, f switchboard.AttemptFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.DialAttempt], error) {
	if err := db.exists(ctx, "campaigns", "campaign", tenantID, campaignID); err != nil {
		return switchboard.Page[switchboard.DialAttempt]{}, err
	}
	from, args := attemptQuery(tenantID, campaignID, f)
	return listPage(ctx, db, listQuery{cols: attemptCols, from: from, args: args, key: "id"}, opt, scanAttempt,
		func(a switchboard.DialAttempt) int64 { return a.ID })
}

// EachAttempt implements switchboard.Store. Like EachCDR it reads from the
// read pool, at most half of it at once, and on SQLite in statements of
// sqliteExportChunk rows, so that a long export lets checkpoints run.
func (db *DB) EachAttempt(ctx context.Context, tenantID, campaignID int64, f switchboard.AttemptFilter, fn func(*switchboard.DialAttempt) error) error {
	if err := db.exists(ctx, "campaigns", "campaign", tenantID, campaignID); err != nil {
		return err
	}
	select {
	case db.exports <- struct{}{}:
		defer func() { <-db.exports }()
	case <-ctx.Done():
		return fmt.Errorf("export ledger: %w", ctx.Err())
	}
	from, args := attemptQuery(tenantID, campaignID, f)
	chunk := db.exportChunk
	if chunk == 0 && db.engine == SQLite {
		chunk = sqliteExportChunk
	}
	var last int64
	for {
		q, a := "SELECT "+attemptCols+" "+from, slices.Clone(args)
		if last > 0 {
			q += " AND id > ?"
			a = append(a, last)
		}
		q += " ORDER BY id"
		if chunk > 0 {
			q += " LIMIT ?"
			a = append(a, chunk)
		}
		n, err := db.eachAttempt(ctx, q, a, &last, fn)
		if err != nil || chunk == 0 || n < chunk {
			return err
		}
	}
}

// eachAttempt runs one statement of EachAttempt and returns its row count.
func (db *DB) eachAttempt(ctx context.Context, q string, args []any, last *int64, fn func(*switchboard.DialAttempt) error) (int, error) {
	rows, err := db.read.QueryContext(ctx, db.rebind(q), args...)
	if err != nil {
		return 0, fmt.Errorf("export ledger: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return n, fmt.Errorf("export ledger: %w", err)
		}
		n++
		*last = a.ID
		if err := fn(&a); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("export ledger: %w", err)
	}
	return n, nil
}

// OpenAttempts implements switchboard.Store.
func (db *DB) OpenAttempts(ctx context.Context) ([]switchboard.DialAttempt, error) {
	rows, err := db.query(ctx, "SELECT "+attemptCols+" FROM dial_attempts WHERE ended_at IS NULL AND outcome IN ('', 'connected') ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("open attempts: %w", err)
	}
	defer rows.Close()
	out := []switchboard.DialAttempt{}
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("open attempts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CampaignCounts implements switchboard.Store in two aggregate queries: the
// leads by status (index leads_campaign_status) and the ledger's outcomes,
// the window's among them.
func (db *DB) CampaignCounts(ctx context.Context, tenantID, campaignID int64, windowSince time.Time) (switchboard.CampaignStats, error) {
	st := switchboard.CampaignStats{Leads: make(map[switchboard.LeadStatus]int, len(switchboard.LeadStatuses))}
	if err := db.exists(ctx, "campaigns", "campaign", tenantID, campaignID); err != nil {
		return st, err
	}
	for _, s := range switchboard.LeadStatuses {
		st.Leads[s] = 0
	}
	rows, err := db.query(ctx, "SELECT status, COUNT(*) FROM leads WHERE campaign_id = ? GROUP BY status", campaignID)
	if err != nil {
		return st, fmt.Errorf("campaign counts: %w", err)
	}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			rows.Close()
			return st, fmt.Errorf("campaign counts: %w", err)
		}
		st.Leads[switchboard.LeadStatus(s)] = n
		st.LeadsTotal += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("campaign counts: %w", err)
	}
	count := func(cond string) string { return "COALESCE(SUM(CASE WHEN " + cond + " THEN 1 ELSE 0 END), 0)" }
	inWindow := "at >= ? AND "
	var hungUp, wConnects, wAbandons, wHungUp int
	err = db.queryRow(ctx, "SELECT "+strings.Join([]string{
		count("outcome NOT IN ('blocked', 'skipped')"),
		count("outcome = 'connected'"),
		count("outcome = 'abandoned'"),
		count("outcome = 'machine'"),
		count("outcome = 'no_answer'"),
		count("outcome = 'busy'"),
		count("outcome IN ('failed', 'invalid_number')"),
		count("outcome = 'blocked'"),
		count("outcome = 'hung_up'"),
		count(inWindow + "outcome = 'connected'"),
		count(inWindow + "outcome = 'abandoned'"),
		count(inWindow + "outcome = 'hung_up'"),
	}, ", ")+" FROM dial_attempts WHERE campaign_id = ?",
		micros(windowSince), micros(windowSince), micros(windowSince), campaignID).Scan(
		&st.Dials, &st.Connects, &st.Abandons, &st.Machines, &st.NoAnswers, &st.Busy, &st.Failed, &st.Blocked, &hungUp,
		&wConnects, &wAbandons, &wHungUp)
	if err != nil {
		return st, fmt.Errorf("campaign counts: %w", err)
	}
	st.AbandonRate = abandonRate(st.Abandons, st.Connects+st.Abandons+hungUp)
	st.WindowAbandonRate = abandonRate(wAbandons, wConnects+wAbandons+wHungUp)
	return st, nil
}

// abandonRate is abandons in percent of the person-answered dials.
func abandonRate(abandons, answered int) float64 {
	if answered == 0 {
		return 0
	}
	return 100 * float64(abandons) / float64(answered)
}
