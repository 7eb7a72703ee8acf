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

// Leads: one row each, in a campaign or a contact list (never both). A
// lead's dedupe_key (Lead.DedupeKey) is unique within its campaign or list,
// so that imports skip duplicates with ON CONFLICT DO NOTHING rather than a
// read per lead. The dial-state columns (status on) are the dialer's, written
// by SaveDialProgress (attempts.go); UpdateLeadFunc changes the rest.

const leadCols = `id, tenant_id, campaign_id, contact_list_id, external_id, name, phone_number, phone_numbers, time_zone,
	fields, priority, consent, status, attempts, last_outcome, last_call_id, last_attempt_at, next_attempt_at, created_at,
	updated_at`

func scanLead(s scanner) (switchboard.Lead, error) {
	var l switchboard.Lead
	var campaign, list, lastCall, lastAt, nextAt sql.NullInt64
	var consent sql.NullBool
	var numbers, fields, status, outcome string
	var created, updated int64
	if err := s.Scan(&l.ID, &l.TenantID, &campaign, &list, &l.ExternalID, &l.Name, &l.PhoneNumber, &numbers, &l.TimeZone,
		&fields, &l.Priority, &consent, &status, &l.Attempts, &outcome, &lastCall, &lastAt, &nextAt, &created, &updated); err != nil {
		return l, err
	}
	l.CampaignID, l.ContactListID, l.LastCallID = idPtr(campaign), idPtr(list), idPtr(lastCall)
	l.LastAttemptAt, l.NextAttemptAt = timePtr(lastAt), timePtr(nextAt)
	l.Status, l.LastOutcome = switchboard.LeadStatus(status), switchboard.DialOutcome(outcome)
	l.CreatedAt, l.UpdatedAt = fromMicros(created), fromMicros(updated)
	if consent.Valid {
		v := consent.Bool
		l.Consent = &v
	}
	if err := decodeList(numbers, &l.PhoneNumbers); err != nil {
		return l, err
	}
	if fields == "{}" {
		l.Fields = map[string]string{}
	} else if err := json.Unmarshal([]byte(fields), &l.Fields); err != nil {
		return l, fmt.Errorf("decode lead %d fields: %w", l.ID, err)
	}
	return l, nil
}

func nullBool(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

// inFlight says the dialer is working on a lead in status s: an agent looks
// at it, or a call of it is up. Such a lead is neither deleted nor moved by
// hand.
func inFlight(s switchboard.LeadStatus) bool {
	switch s {
	case switchboard.LeadPreviewing, switchboard.LeadDialing, switchboard.LeadQueued, switchboard.LeadConnected:
		return true
	}
	return false
}

// fillLead gives a new lead its defaults: its numbers led by PhoneNumber,
// empty fields, and a fresh dial state.
func fillLead(l *switchboard.Lead, tenantID int64, now time.Time) {
	l.ID, l.TenantID = 0, tenantID
	if len(l.PhoneNumbers) == 0 || l.PhoneNumbers[0] != l.PhoneNumber {
		rest := slices.DeleteFunc(slices.Clone(l.PhoneNumbers), func(n string) bool { return n == l.PhoneNumber })
		l.PhoneNumbers = append([]string{l.PhoneNumber}, rest...)
	}
	if l.Fields == nil {
		l.Fields = map[string]string{}
	}
	l.Status, l.Attempts, l.LastOutcome, l.LastCallID, l.LastAttemptAt, l.NextAttemptAt =
		switchboard.LeadUpcoming, 0, "", nil, nil, nil
	l.CreatedAt, l.UpdatedAt = now, now
}

// checkTarget checks that exactly one of a lead target's ids is set.
func checkTarget(to switchboard.LeadTarget) error {
	if (to.CampaignID > 0) == (to.ContactListID > 0) {
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"campaign_id": "exactly one of a campaign and a contact list must be given"}}
	}
	return nil
}

// lockLeadTarget locks the campaign or list leads are added to, failing
// with CodeNotFound when it is not the tenant's. A campaign in any status
// takes leads: a stopped or finished one dials them once started again.
func (t *tx) lockLeadTarget(ctx context.Context, tenantID int64, to switchboard.LeadTarget) error {
	if to.ContactListID > 0 {
		return t.lockRow(ctx, "contact_lists", "contact_list", tenantID, to.ContactListID)
	}
	return t.lockRow(ctx, "campaigns", "campaign", tenantID, to.CampaignID)
}

// leadInsertRows is how many leads one INSERT statement carries (15 values
// a row keeps a statement well under both engines' parameter limits).
const leadInsertRows = 500

// InsertLeads implements switchboard.Store. Duplicates within the batch are
// found in Go (the first of them is inserted); duplicates of stored leads by
// the unique index, in multi-row INSERT … ON CONFLICT DO NOTHING RETURNING
// statements: a lead whose key is not returned was already there.
func (db *DB) InsertLeads(ctx context.Context, tenantID int64, to switchboard.LeadTarget, leads []switchboard.Lead) (switchboard.InsertLeadsResult, error) {
	res := switchboard.InsertLeadsResult{Duplicates: []int{}}
	if err := checkTarget(to); err != nil {
		return res, err
	}
	p := switchboard.Problems{}
	for i := range leads {
		if strings.TrimSpace(leads[i].PhoneNumber) == "" {
			p.Add(fmt.Sprintf("leads[%d].phone_number", i), "is required")
		}
	}
	if err := p.Err(); err != nil {
		return res, err
	}
	var campaignID, listID *int64
	subject, subjectID := "campaign", to.CampaignID
	if to.CampaignID > 0 {
		campaignID = &to.CampaignID
	} else {
		listID, subject, subjectID = &to.ContactListID, "contact_list", to.ContactListID
	}
	err := db.inTx(ctx, func(t *tx) error {
		res = switchboard.InsertLeadsResult{Duplicates: []int{}, DuplicateFields: []string{}}
		if err := t.lockLeadTarget(ctx, tenantID, to); err != nil {
			return err
		}
		keys := make([]string, len(leads))
		first := make(map[string]int, len(leads))
		var send []int // indexes of the leads sent to the database
		for i := range leads {
			keys[i] = leads[i].DedupeKey()
			if _, dup := first[keys[i]]; dup {
				continue
			}
			first[keys[i]] = i
			send = append(send, i)
		}
		// phoneDup marks the leads refused for their number alone.
		var phoneDup map[int]bool
		if to.UniquePhone {
			var err error
			if send, phoneDup, err = t.uniquePhones(ctx, campaignID, listID, leads, send); err != nil {
				return err
			}
		}
		inserted := make(map[string]bool, len(send))
		for start := 0; start < len(send); start += leadInsertRows {
			chunk := send[start:min(start+leadInsertRows, len(send))]
			got, err := t.insertLeads(ctx, tenantID, campaignID, listID, leads, keys, chunk)
			if err != nil {
				return err
			}
			for _, k := range got {
				inserted[k] = true
			}
		}
		for i := range leads {
			switch {
			case phoneDup[i]:
				res.Duplicates = append(res.Duplicates, i)
				res.DuplicateFields = append(res.DuplicateFields, "phone_number")
			case first[keys[i]] == i && inserted[keys[i]]:
				res.Inserted++
			default:
				res.Duplicates = append(res.Duplicates, i)
				field := "phone_number"
				if leads[i].ExternalID != "" {
					field = "external_id"
				}
				res.DuplicateFields = append(res.DuplicateFields, field)
			}
		}
		return t.appendEvent(ctx, tenantID, switchboard.EventLeadsImported, subject, subjectID, switchboard.LeadsImportedPayload{
			V: switchboard.EventPayloadVersion, CampaignID: campaignID, ContactListID: listID,
			Inserted: res.Inserted, Duplicates: len(res.Duplicates)})
	})
	if err != nil {
		return switchboard.InsertLeadsResult{Duplicates: []int{}, DuplicateFields: []string{}}, err
	}
	return res, nil
}

// uniquePhones drops from send (indexes of leads) those whose number an
// earlier lead of send or a stored lead of the campaign or list has
// (leads_campaign_number finds the campaign's), and returns the rest with
// the dropped ones marked.
func (t *tx) uniquePhones(ctx context.Context, campaignID, listID *int64, leads []switchboard.Lead, send []int) ([]int, map[int]bool, error) {
	target, targetID := "campaign_id", nullID(campaignID)
	if campaignID == nil {
		target, targetID = "contact_list_id", nullID(listID)
	}
	stored := map[string]bool{}
	for start := 0; start < len(send); start += leadInsertRows {
		chunk := send[start:min(start+leadInsertRows, len(send))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, targetID)
		for _, i := range chunk {
			args = append(args, leads[i].PhoneNumber)
		}
		rows, err := t.query(ctx, "SELECT phone_number FROM leads WHERE "+target+" = ? AND phone_number IN ("+placeholders(len(chunk))+")", args...)
		if err != nil {
			return nil, nil, fmt.Errorf("find leads by number: %w", err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("find leads by number: %w", err)
			}
			stored[n] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("find leads by number: %w", err)
		}
	}
	dup := map[int]bool{}
	seen := make(map[string]bool, len(send))
	kept := send[:0:0]
	for _, i := range send {
		n := leads[i].PhoneNumber
		if stored[n] || seen[n] {
			dup[i] = true
			continue
		}
		seen[n] = true
		kept = append(kept, i)
	}
	return kept, dup, nil
}

// insertLeads writes the leads at idx in one statement and returns the
// dedupe keys of those it inserted.
func (t *tx) insertLeads(ctx context.Context, tenantID int64, campaignID, listID *int64, leads []switchboard.Lead, keys []string, idx []int) ([]string, error) {
	const cols = 15
	var b strings.Builder
	b.WriteString(`INSERT INTO leads (tenant_id, campaign_id, contact_list_id, dedupe_key, external_id, name, phone_number,
		phone_numbers, time_zone, fields, priority, consent, status, created_at, updated_at) VALUES `)
	args := make([]any, 0, cols*len(idx))
	now := micros(t.now)
	row := "(" + placeholders(cols) + ")"
	for n, i := range idx {
		l := leads[i]
		fillLead(&l, tenantID, t.now)
		numbers, _ := json.Marshal(l.PhoneNumbers)
		fields, _ := json.Marshal(l.Fields)
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
		args = append(args, tenantID, nullID(campaignID), nullID(listID), keys[i], l.ExternalID, l.Name, l.PhoneNumber,
			string(numbers), l.TimeZone, string(fields), l.Priority, nullBool(l.Consent), string(l.Status), now, now)
	}
	b.WriteString(" ON CONFLICT DO NOTHING RETURNING dedupe_key")
	rows, err := t.query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("insert leads: %w", err)
	}
	defer rows.Close()
	got := make([]string, 0, len(idx))
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("insert leads: %w", err)
		}
		got = append(got, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert leads: %w", err)
	}
	return got, nil
}

// Lead implements switchboard.Store.
func (db *DB) Lead(ctx context.Context, tenantID, id int64) (switchboard.Lead, error) {
	return getOne(ctx, db, "leads", leadCols, "lead", scanLead, tenantID, id)
}

// Leads implements switchboard.Store: a campaign's or a list's leads by id.
func (db *DB) Leads(ctx context.Context, tenantID int64, to switchboard.LeadTarget, f switchboard.LeadFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.Lead], error) {
	var page switchboard.Page[switchboard.Lead]
	if err := checkTarget(to); err != nil {
		return page, err
	}
	q := listQuery{cols: leadCols, key: "id"}
	if to.CampaignID > 0 {
		if err := db.exists(ctx, "campaigns", "campaign", tenantID, to.CampaignID); err != nil {
			return page, err
		}
		q.from, q.args = "FROM leads WHERE campaign_id = ? AND tenant_id = ?", []any{to.CampaignID, tenantID}
	} else {
		if err := db.exists(ctx, "contact_lists", "contact_list", tenantID, to.ContactListID); err != nil {
			return page, err
		}
		q.from, q.args = "FROM leads WHERE contact_list_id = ? AND tenant_id = ?", []any{to.ContactListID, tenantID}
	}
	if f.Number != "" {
		q.from += " AND phone_number = ?"
		q.args = append(q.args, f.Number)
	}
	if f.ExternalID != "" {
		// A lead with an external id is keyed by it: the unique index finds it.
		q.from += " AND dedupe_key = ?"
		q.args = append(q.args, "x:"+f.ExternalID)
	}
	if f.Status != "" {
		if !slices.Contains(switchboard.LeadStatuses, f.Status) {
			return page, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
				Fields: map[string]string{"status": "is not a lead status"}}
		}
		q.from += " AND status = ?"
		q.args = append(q.args, string(f.Status))
	}
	return listPage(ctx, db, q, opt, scanLead, func(l switchboard.Lead) int64 { return l.ID })
}

// exists fails with CodeNotFound unless the row id of table is tenantID's.
func (db *DB) exists(ctx context.Context, table, what string, tenantID, id int64) error {
	var got int64
	err := db.queryRow(ctx, "SELECT id FROM "+table+" WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what, id)
	}
	if err != nil {
		return fmt.Errorf("get %s: %w", what, err)
	}
	return nil
}

// checkLeadChange refuses the changes of fn that are not the lead's own
// fields, and the status moves a person may make: to skipped, or to
// upcoming, from a status that is not final, or from skipped back to
// upcoming. A lead the dialer is working on is not moved (CodeConflict).
func checkLeadChange(old, l *switchboard.Lead) error {
	p := switchboard.Problems{}
	same := func(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	for _, c := range []struct {
		field string
		ok    bool
	}{
		{"id", l.ID == old.ID},
		{"tenant_id", l.TenantID == old.TenantID},
		{"campaign_id", same(l.CampaignID, old.CampaignID)},
		{"contact_list_id", same(l.ContactListID, old.ContactListID)},
		{"attempts", l.Attempts == old.Attempts},
		{"last_outcome", l.LastOutcome == old.LastOutcome},
		{"last_call_id", same(l.LastCallID, old.LastCallID)},
		{"last_attempt_at", sameTime(l.LastAttemptAt, old.LastAttemptAt)},
		{"next_attempt_at", sameTime(l.NextAttemptAt, old.NextAttemptAt)},
		{"created_at", l.CreatedAt.Equal(old.CreatedAt)},
	} {
		if !c.ok {
			p.Add(c.field, "is not changed by hand")
		}
	}
	if l.Status != old.Status {
		switch {
		case inFlight(old.Status):
			return switchboard.Errorf(switchboard.CodeConflict, "lead %d is %s: its status cannot be changed now", old.ID, old.Status)
		case l.Status == switchboard.LeadSkipped && !old.Status.Final(),
			l.Status == switchboard.LeadUpcoming && (!old.Status.Final() || old.Status == switchboard.LeadSkipped):
		default:
			p.Add("status", fmt.Sprintf("cannot move from %s to %s: a lead may only be skipped, or made upcoming again", old.Status, l.Status))
		}
	}
	if len(l.Name) > 200 {
		p.Add("name", "must be at most 200 characters")
	}
	if len(l.ExternalID) > 200 {
		p.Add("external_id", "must be at most 200 characters")
	}
	if l.PhoneNumber == "" {
		p.Add("phone_number", "is required")
	} else if !switchboard.IsE164(l.PhoneNumber) {
		p.Add("phone_number", "must be an E.164 number (+ and 8 to 15 digits)")
	}
	for i, n := range l.PhoneNumbers {
		if !switchboard.IsE164(n) {
			p.Add(fmt.Sprintf("phone_numbers[%d]", i), "must be an E.164 number (+ and 8 to 15 digits)")
		}
	}
	if len(l.PhoneNumbers) > 10 {
		p.Add("phone_numbers", "must hold at most 10 numbers")
	}
	if l.TimeZone != "" {
		if _, err := time.LoadLocation(l.TimeZone); err != nil {
			p.Add("time_zone", "is not an IANA time zone")
		}
	}
	return p.Err()
}

// UpdateLeadFunc implements switchboard.Store. When fn changes the phone
// number, the numbers are led by it; when it changes only the numbers, the
// first of them becomes the phone number.
func (db *DB) UpdateLeadFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.Lead) error) (switchboard.Lead, error) {
	var old switchboard.Lead
	return modify(ctx, db, "leads", "lead", tenantID, id,
		func(t *tx) (switchboard.Lead, error) {
			var err error
			old, err = getOneTx(ctx, t, "leads", leadCols, "lead", scanLead, tenantID, id)
			return old, err
		},
		func(l *switchboard.Lead) error {
			l.PhoneNumbers = slices.Clone(l.PhoneNumbers)
			if err := fn(l); err != nil {
				return err
			}
			switch {
			case l.PhoneNumber == "": // refused by checkLeadChange
			case l.PhoneNumber != old.PhoneNumber:
				rest := slices.DeleteFunc(slices.Clone(l.PhoneNumbers), func(n string) bool { return n == l.PhoneNumber })
				l.PhoneNumbers = append([]string{l.PhoneNumber}, rest...)
			case len(l.PhoneNumbers) > 0:
				l.PhoneNumber = l.PhoneNumbers[0]
			default:
				l.PhoneNumbers = []string{l.PhoneNumber}
			}
			if l.Fields == nil {
				l.Fields = map[string]string{}
			}
			return checkLeadChange(&old, l)
		},
		func(t *tx, l switchboard.Lead) (switchboard.Lead, error) {
			key := l.DedupeKey()
			if key != old.DedupeKey() {
				target, targetID := "campaign_id", nullID(l.CampaignID)
				if l.CampaignID == nil {
					target, targetID = "contact_list_id", nullID(l.ContactListID)
				}
				var other int64
				err := t.queryRow(ctx, "SELECT id FROM leads WHERE "+target+" = ? AND dedupe_key = ? AND id <> ?", targetID, key, id).Scan(&other)
				if err == nil {
					field := "phone_number"
					if l.ExternalID != "" {
						field = "external_id"
					}
					return l, &switchboard.Error{Code: switchboard.CodeConflict,
						Message: fmt.Sprintf("lead %d already has this %s", other, strings.ReplaceAll(field, "_", " ")),
						Fields:  map[string]string{field: "is already in use by another lead of the same campaign or list"}}
				}
				if !errors.Is(err, sql.ErrNoRows) {
					return l, fmt.Errorf("check lead duplicates: %w", err)
				}
			}
			numbers, _ := json.Marshal(l.PhoneNumbers)
			fields, _ := json.Marshal(l.Fields)
			if _, err := t.exec(ctx, `UPDATE leads SET dedupe_key = ?, external_id = ?, name = ?, phone_number = ?,
				phone_numbers = ?, time_zone = ?, fields = ?, priority = ?, consent = ?, status = ?, updated_at = ?
				WHERE tenant_id = ? AND id = ?`, key, l.ExternalID, l.Name, l.PhoneNumber, string(numbers), l.TimeZone,
				string(fields), l.Priority, nullBool(l.Consent), string(l.Status), micros(t.now), tenantID, id); err != nil {
				return l, fmt.Errorf("update lead: %w", err)
			}
			l.UpdatedAt = t.now
			return l, t.appendEvent(ctx, tenantID, switchboard.EventLeadUpdated, "lead", id, l)
		})
}

// DeleteLead implements switchboard.Store. Its ledger rows stay: the ledger
// records what was dialled, whatever became of the lead.
func (db *DB) DeleteLead(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "leads", "lead", switchboard.EventLeadDeleted, func(t *tx) (any, error) {
		if err := t.lockRow(ctx, "leads", "lead", tenantID, id); err != nil {
			return nil, err
		}
		l, err := getOneTx(ctx, t, "leads", leadCols, "lead", scanLead, tenantID, id)
		if err != nil {
			return nil, err
		}
		if inFlight(l.Status) {
			return nil, switchboard.Errorf(switchboard.CodeConflict, "lead %d is %s: it cannot be deleted now", id, l.Status)
		}
		return l, nil
	})
}

// dialableFrom selects a campaign's dialable leads (campaign, tenant, now,
// limit); its status condition is the one of the index leads_dialable.
const dialableFrom = ` FROM leads WHERE campaign_id = ? AND status IN ('upcoming', 'redial_scheduled') AND tenant_id = ?
	AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY priority DESC, id LIMIT ?`

// DialableLeads implements switchboard.Store. The query reads the partial
// index leads_dialable, which holds only upcoming and redial_scheduled
// leads in dialling order, so finished leads cost nothing.
func (db *DB) DialableLeads(ctx context.Context, tenantID, campaignID int64, now time.Time, limit int) ([]switchboard.Lead, error) {
	if err := db.exists(ctx, "campaigns", "campaign", tenantID, campaignID); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return []switchboard.Lead{}, nil
	}
	rows, err := db.query(ctx, "SELECT "+leadCols+dialableFrom, campaignID, tenantID, micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("dialable leads: %w", err)
	}
	defer rows.Close()
	out := make([]switchboard.Lead, 0, min(limit, 256))
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, fmt.Errorf("dialable leads: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
