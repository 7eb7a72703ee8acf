package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"switchboard"
)

// Contact lists: reusable leads, copied into campaigns. A list's lead count
// is counted when it is read (index leads_list_dedupe_key), not kept.

const contactListCols = `id, tenant_id, name, description,
	(SELECT COUNT(*) FROM leads WHERE leads.contact_list_id = contact_lists.id), created_at, updated_at`

func scanContactList(s scanner) (switchboard.ContactList, error) {
	var l switchboard.ContactList
	var created, updated int64
	err := s.Scan(&l.ID, &l.TenantID, &l.Name, &l.Description, &l.Leads, &created, &updated)
	l.CreatedAt, l.UpdatedAt = fromMicros(created), fromMicros(updated)
	return l, err
}

func validateContactList(l *switchboard.ContactList) error {
	l.Name = strings.TrimSpace(l.Name)
	p := switchboard.Problems{}
	if l.Name == "" {
		p.Add("name", "is required")
	} else if len(l.Name) > 200 {
		p.Add("name", "must be at most 200 characters")
	}
	if len(l.Description) > 1000 {
		p.Add("description", "must be at most 1000 characters")
	}
	return p.Err()
}

// CreateContactList implements switchboard.Store.
func (db *DB) CreateContactList(ctx context.Context, tenantID int64, l switchboard.ContactList) (switchboard.ContactList, error) {
	l.ID, l.Leads = 0, 0
	if err := validateContactList(&l); err != nil {
		return l, err
	}
	err := db.inTx(ctx, func(t *tx) error {
		l.TenantID, l.CreatedAt, l.UpdatedAt = tenantID, t.now, t.now
		id, err := t.insert(ctx, "INSERT INTO contact_lists (tenant_id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			tenantID, l.Name, l.Description, micros(t.now), micros(t.now))
		if err != nil {
			return fmt.Errorf("insert contact list: %w", err)
		}
		l.ID = id
		return t.appendEvent(ctx, tenantID, switchboard.EventContactListCreated, "contact_list", id, l)
	})
	return l, err
}

// ContactList implements switchboard.Store.
func (db *DB) ContactList(ctx context.Context, tenantID, id int64) (switchboard.ContactList, error) {
	return getOne(ctx, db, "contact_lists", contactListCols, "contact_list", scanContactList, tenantID, id)
}

// ContactLists implements switchboard.Store.
func (db *DB) ContactLists(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.ContactList], error) {
	return listAll(ctx, db, "contact_lists", contactListCols, scanContactList, func(l switchboard.ContactList) int64 { return l.ID }, tenantID, opt)
}

// UpdateContactListFunc implements switchboard.Store: fn may change the
// name and the description.
func (db *DB) UpdateContactListFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.ContactList) error) (switchboard.ContactList, error) {
	get := func(t *tx) (switchboard.ContactList, error) {
		return getOneTx(ctx, t, "contact_lists", contactListCols, "contact_list", scanContactList, tenantID, id)
	}
	var old switchboard.ContactList
	return modify(ctx, db, "contact_lists", "contact_list", tenantID, id,
		func(t *tx) (switchboard.ContactList, error) {
			var err error
			old, err = get(t)
			return old, err
		},
		func(l *switchboard.ContactList) error {
			if err := fn(l); err != nil {
				return err
			}
			p := switchboard.Problems{}
			if l.ID != old.ID {
				p.Add("id", "cannot be changed")
			}
			if l.TenantID != old.TenantID {
				p.Add("tenant_id", "cannot be changed")
			}
			if l.Leads != old.Leads {
				p.Add("leads", "is the count of the list's leads")
			}
			if err := p.Err(); err != nil {
				return err
			}
			return validateContactList(l)
		},
		func(t *tx, l switchboard.ContactList) (switchboard.ContactList, error) {
			l.CreatedAt, l.UpdatedAt = old.CreatedAt, t.now
			if _, err := t.exec(ctx, "UPDATE contact_lists SET name = ?, description = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
				l.Name, l.Description, micros(t.now), tenantID, id); err != nil {
				return l, fmt.Errorf("update contact list: %w", err)
			}
			return l, t.appendEvent(ctx, tenantID, switchboard.EventContactListUpdated, "contact_list", id, l)
		})
}

// DeleteContactList implements switchboard.Store. Its leads and import
// jobs go with it; leads copied into campaigns stay there.
func (db *DB) DeleteContactList(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "contact_lists", "contact_list", switchboard.EventContactListDeleted, func(t *tx) (any, error) {
		if err := t.lockRow(ctx, "contact_lists", "contact_list", tenantID, id); err != nil {
			return nil, err
		}
		l, err := getOneTx(ctx, t, "contact_lists", contactListCols, "contact_list", scanContactList, tenantID, id)
		if err != nil {
			return nil, err
		}
		for _, q := range []string{"DELETE FROM leads WHERE contact_list_id = ?", "DELETE FROM import_jobs WHERE contact_list_id = ?"} {
			if _, err := t.exec(ctx, q, id); err != nil {
				return nil, fmt.Errorf("delete contact list %d: %w", id, err)
			}
		}
		return l, nil
	})
}

// CopyContactList implements switchboard.Store in one INSERT … SELECT: the
// list's leads, with a fresh dial state, in their order, skipping those
// whose dedupe key the campaign already holds.
func (db *DB) CopyContactList(ctx context.Context, tenantID, listID, campaignID int64) (int, error) {
	var copied int
	err := db.inTx(ctx, func(t *tx) error {
		// Locked in table order (campaign, then list): a copy and an
		// import into the same campaign queue behind each other.
		if err := t.lockLeadTarget(ctx, tenantID, switchboard.LeadTarget{CampaignID: campaignID}); err != nil {
			return err
		}
		if err := t.lockRow(ctx, "contact_lists", "contact_list", tenantID, listID); err != nil {
			return err
		}
		var total int
		if err := t.queryRow(ctx, "SELECT COUNT(*) FROM leads WHERE contact_list_id = ?", listID).Scan(&total); err != nil {
			return fmt.Errorf("count list leads: %w", err)
		}
		res, err := t.exec(ctx, `INSERT INTO leads (tenant_id, campaign_id, dedupe_key, external_id, name, phone_number,
			phone_numbers, time_zone, fields, priority, consent, status, created_at, updated_at)
			SELECT tenant_id, CAST(? AS BIGINT), dedupe_key, external_id, name, phone_number, phone_numbers, time_zone,
			fields, priority, consent, 'upcoming', CAST(? AS BIGINT), CAST(? AS BIGINT)
			FROM leads WHERE contact_list_id = ? AND tenant_id = ? ORDER BY id
			ON CONFLICT DO NOTHING`, campaignID, micros(t.now), micros(t.now), listID, tenantID)
		if err != nil {
			return fmt.Errorf("copy contact list: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("copy contact list: %w", err)
		}
		copied = int(n)
		return t.appendEvent(ctx, tenantID, switchboard.EventLeadsImported, "campaign", campaignID, switchboard.LeadsImportedPayload{
			V: switchboard.EventPayloadVersion, CampaignID: &campaignID, Inserted: copied, Duplicates: total - copied})
	})
	return copied, err
}
