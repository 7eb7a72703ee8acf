package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"switchboard"
)

const contactCols = `id, tenant_id, uuid, first_name, last_name, primary_phone, phones, primary_email, emails,
	company_name, job_title, website, crm_name, crm_contact_url, created_at, updated_at`

func scanContact(s scanner) (switchboard.Contact, error) {
	var c switchboard.Contact
	var phones, emails string
	var created, updated int64
	if err := s.Scan(&c.ID, &c.TenantID, &c.UUID, &c.FirstName, &c.LastName, &c.PrimaryPhone, &phones, &c.PrimaryEmail,
		&emails, &c.CompanyName, &c.JobTitle, &c.Website, &c.CRMName, &c.CRMContactURL, &created, &updated); err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	if err := decodeList(phones, &c.Phones); err != nil {
		return c, err
	}
	return c, decodeList(emails, &c.Emails)
}

func prepareContact(c *switchboard.Contact) error {
	c.Normalize()
	return c.Validate()
}

// emailsSearch is the text partial e-mail searches run over.
func emailsSearch(c *switchboard.Contact) string {
	all := append([]string{c.PrimaryEmail}, c.Emails...)
	return strings.ToLower(strings.Join(all, "\n"))
}

// writePhones replaces the contact's rows in contact_phones.
func (t *tx) writePhones(ctx context.Context, c *switchboard.Contact) error {
	if _, err := t.exec(ctx, "DELETE FROM contact_phones WHERE contact_id = ?", c.ID); err != nil {
		return fmt.Errorf("contact phones: %w", err)
	}
	seen := map[string]bool{}
	for _, n := range c.Numbers() {
		if seen[n] {
			continue
		}
		seen[n] = true
		if _, err := t.exec(ctx, "INSERT INTO contact_phones (tenant_id, contact_id, number) VALUES (?, ?, ?)", c.TenantID, c.ID, n); err != nil {
			return fmt.Errorf("contact phones: %w", err)
		}
	}
	return nil
}

// CreateContact implements switchboard.Store.
func (db *DB) CreateContact(ctx context.Context, tenantID int64, c switchboard.Contact) (switchboard.Contact, error) {
	if err := prepareContact(&c); err != nil {
		return c, err
	}
	c.TenantID, c.UUID = tenantID, uuid.NewString()
	err := db.inTx(ctx, func(t *tx) error {
		c.CreatedAt, c.UpdatedAt = t.now, t.now
		phones, _ := json.Marshal(c.Phones)
		emails, _ := json.Marshal(c.Emails)
		id, err := t.insert(ctx, `INSERT INTO contacts (tenant_id, uuid, first_name, last_name, primary_phone, phones,
			primary_email, emails, emails_search, company_name, job_title, website, crm_name, crm_contact_url, created_at,
			updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tenantID, c.UUID, c.FirstName, c.LastName, c.PrimaryPhone, string(phones), c.PrimaryEmail, string(emails),
			emailsSearch(&c), c.CompanyName, c.JobTitle, c.Website, c.CRMName, c.CRMContactURL, micros(t.now), micros(t.now))
		if err != nil {
			return fmt.Errorf("insert contact: %w", err)
		}
		c.ID = id
		if err := t.writePhones(ctx, &c); err != nil {
			return err
		}
		return t.appendEvent(ctx, tenantID, switchboard.EventContactCreated, "contact", id, c)
	})
	return c, err
}

// Contact implements switchboard.Store.
func (db *DB) Contact(ctx context.Context, tenantID, id int64) (switchboard.Contact, error) {
	return getOne(ctx, db, "contacts", contactCols, "contact", scanContact, tenantID, id)
}

// ContactByUUID implements switchboard.Store.
func (db *DB) ContactByUUID(ctx context.Context, tenantID int64, id string) (switchboard.Contact, error) {
	c, err := scanContact(db.queryRow(ctx, "SELECT "+contactCols+" FROM contacts WHERE tenant_id = ? AND uuid = ?", tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, switchboard.Errorf(switchboard.CodeNotFound, "contact %s not found", switchboard.Echo(id))
	}
	if err != nil {
		return c, fmt.Errorf("get contact: %w", err)
	}
	return c, nil
}

// Contacts implements switchboard.Store.
func (db *DB) Contacts(ctx context.Context, tenantID int64, f switchboard.ContactFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.Contact], error) {
	q := listQuery{cols: contactCols, from: "FROM contacts WHERE tenant_id = ?", args: []any{tenantID}, key: "id"}
	like := func(s string) string { return "%" + likeEscape(strings.ToLower(strings.TrimSpace(s))) + "%" }
	if f.FirstName != "" {
		q.from += ` AND LOWER(first_name) LIKE ? ESCAPE '\'`
		q.args = append(q.args, like(f.FirstName))
	}
	if f.LastName != "" {
		q.from += ` AND LOWER(last_name) LIKE ? ESCAPE '\'`
		q.args = append(q.args, like(f.LastName))
	}
	if f.Email != "" {
		q.from += ` AND emails_search LIKE ? ESCAPE '\'`
		q.args = append(q.args, like(f.Email))
	}
	if f.Phone != "" {
		q.from += ` AND EXISTS (SELECT 1 FROM contact_phones p WHERE p.contact_id = contacts.id AND p.number LIKE ? ESCAPE '\')`
		q.args = append(q.args, like(f.Phone))
	}
	return listPage(ctx, db, q, opt, scanContact, func(c switchboard.Contact) int64 { return c.ID })
}

// ContactsByPhone implements switchboard.Store.
func (db *DB) ContactsByPhone(ctx context.Context, tenantID int64, numbers []string) (map[string]switchboard.Contact, error) {
	out := map[string]switchboard.Contact{}
	var want []any
	for _, n := range numbers {
		if n != "" {
			want = append(want, n)
		}
	}
	if len(want) == 0 {
		return out, nil
	}
	// The lowest id wins when several contacts share a number: the first one
	// the tenant filed.
	rows, err := db.query(ctx, `SELECT p.number, `+prefixed("c.", contactCols)+` FROM contact_phones p
		JOIN contacts c ON c.id = p.contact_id WHERE p.tenant_id = ? AND p.number IN (?`+strings.Repeat(", ?", len(want)-1)+`)
		ORDER BY c.id DESC`, append([]any{tenantID}, want...)...)
	if err != nil {
		return nil, fmt.Errorf("contacts by phone: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var number string
		var c switchboard.Contact
		var phones, emails string
		var created, updated int64
		if err := rows.Scan(&number, &c.ID, &c.TenantID, &c.UUID, &c.FirstName, &c.LastName, &c.PrimaryPhone, &phones,
			&c.PrimaryEmail, &emails, &c.CompanyName, &c.JobTitle, &c.Website, &c.CRMName, &c.CRMContactURL, &created, &updated); err != nil {
			return nil, fmt.Errorf("contacts by phone: %w", err)
		}
		c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
		if err := decodeList(phones, &c.Phones); err != nil {
			return nil, err
		}
		if err := decodeList(emails, &c.Emails); err != nil {
			return nil, err
		}
		out[number] = c
	}
	return out, rows.Err()
}

// UpdateContact implements switchboard.Store.
func (db *DB) UpdateContact(ctx context.Context, tenantID int64, c switchboard.Contact) (switchboard.Contact, error) {
	return inTxValue(ctx, db, c, func(t *tx) (switchboard.Contact, error) { return t.updateContact(ctx, tenantID, c) })
}

// UpdateContactFunc implements switchboard.Store (see UpdateUserFunc).
func (db *DB) UpdateContactFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.Contact) error) (switchboard.Contact, error) {
	return modify(ctx, db, "contacts", "contact", tenantID, id,
		func(t *tx) (switchboard.Contact, error) {
			return getOneTx(ctx, t, "contacts", contactCols, "contact", scanContact, tenantID, id)
		}, fn,
		func(t *tx, c switchboard.Contact) (switchboard.Contact, error) {
			c.ID = id
			return t.updateContact(ctx, tenantID, c)
		})
}

func (t *tx) updateContact(ctx context.Context, tenantID int64, c switchboard.Contact) (switchboard.Contact, error) {
	if err := prepareContact(&c); err != nil {
		return c, err
	}
	old, err := getOneTx(ctx, t, "contacts", contactCols, "contact", scanContact, tenantID, c.ID)
	if err != nil {
		return c, err
	}
	c.TenantID, c.UUID, c.CreatedAt, c.UpdatedAt = tenantID, old.UUID, old.CreatedAt, t.now
	phones, _ := json.Marshal(c.Phones)
	emails, _ := json.Marshal(c.Emails)
	if _, err := t.exec(ctx, `UPDATE contacts SET first_name = ?, last_name = ?, primary_phone = ?, phones = ?,
		primary_email = ?, emails = ?, emails_search = ?, company_name = ?, job_title = ?, website = ?, crm_name = ?,
		crm_contact_url = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		c.FirstName, c.LastName, c.PrimaryPhone, string(phones), c.PrimaryEmail, string(emails), emailsSearch(&c),
		c.CompanyName, c.JobTitle, c.Website, c.CRMName, c.CRMContactURL, micros(t.now), tenantID, c.ID); err != nil {
		return c, fmt.Errorf("update contact: %w", err)
	}
	if err := t.writePhones(ctx, &c); err != nil {
		return c, err
	}
	return c, t.appendEvent(ctx, tenantID, switchboard.EventContactUpdated, "contact", c.ID, c)
}

// DeleteContact implements switchboard.Store.
func (db *DB) DeleteContact(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "contacts", "contact", switchboard.EventContactDeleted, func(t *tx) (any, error) {
		c, err := getOneTx(ctx, t, "contacts", contactCols, "contact", scanContact, tenantID, id)
		if err != nil {
			return nil, err
		}
		if _, err := t.exec(ctx, "DELETE FROM contact_phones WHERE contact_id = ?", id); err != nil {
			return nil, fmt.Errorf("contact phones: %w", err)
		}
		return c, nil
	})
}

const clickToCallCols = "id, tenant_id, link_key, name, extension, outbound_number, dial_first, created_at"

func scanClickToCall(s scanner) (switchboard.ClickToCall, error) {
	var l switchboard.ClickToCall
	var created int64
	err := s.Scan(&l.ID, &l.TenantID, &l.Key, &l.Name, &l.Extension, &l.OutboundNumber, &l.DialFirst, &created)
	l.CreatedAt = fromMicros(created)
	return l, err
}

// CreateClickToCall implements switchboard.Store. A tenant may hold as many
// links as it has users and queues together; the extension must be an active
// user's or a queue's, and the outbound number one of the tenant's.
func (db *DB) CreateClickToCall(ctx context.Context, tenantID int64, l switchboard.ClickToCall) (switchboard.ClickToCall, error) {
	l.Normalize()
	if err := l.Validate(); err != nil {
		return l, err
	}
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		return l, fmt.Errorf("click-to-call key: %w", err)
	}
	l.TenantID, l.Key = tenantID, hex.EncodeToString(key)
	invalid := func(field, why string) error {
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed", Fields: map[string]string{field: why}}
	}
	err := db.inTx(ctx, func(t *tx) error {
		// The limit is counted and the link inserted under the tenant's
		// dial-plan lock, so racing creations cannot all pass one count.
		if err := t.serialize(ctx, "dialplan", tenantID); err != nil {
			return err
		}
		var users, queues, links, owners, numbers int
		for _, c := range []struct {
			dst *int
			q   string
			arg []any
		}{
			{&users, "SELECT COUNT(*) FROM users WHERE tenant_id = ? AND deactivated_at IS NULL", []any{tenantID}},
			{&queues, "SELECT COUNT(*) FROM queues WHERE tenant_id = ?", []any{tenantID}},
			{&links, "SELECT COUNT(*) FROM click_to_calls WHERE tenant_id = ?", []any{tenantID}},
			{&owners, `SELECT (SELECT COUNT(*) FROM users WHERE tenant_id = ? AND extension = ? AND deactivated_at IS NULL)
				+ (SELECT COUNT(*) FROM queues WHERE tenant_id = ? AND extension = ?)`, []any{tenantID, l.Extension, tenantID, l.Extension}},
			{&numbers, "SELECT COUNT(*) FROM phone_numbers WHERE tenant_id = ? AND number = ?", []any{tenantID, l.OutboundNumber}},
		} {
			if err := t.queryRow(ctx, c.q, c.arg...).Scan(c.dst); err != nil {
				return fmt.Errorf("click-to-call checks: %w", err)
			}
		}
		switch {
		case owners == 0:
			return invalid("extension", "is not the extension of an active user or a queue of this tenant")
		case numbers == 0:
			return invalid("outbound_number", "is not one of this tenant's phone numbers")
		case links >= users+queues:
			return &switchboard.Error{Code: switchboard.CodeInvalid, Message: fmt.Sprintf(
				"click-to-call limit reached: %d links exist and the limit is the number of users plus queues (%d + %d); reuse or delete one",
				links, users, queues), Fields: map[string]string{"name": "no more click-to-call links can be created"}}
		}
		l.CreatedAt = t.now
		id, err := t.insert(ctx, `INSERT INTO click_to_calls (tenant_id, link_key, name, extension, outbound_number,
			dial_first, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			tenantID, l.Key, l.Name, l.Extension, l.OutboundNumber, l.DialFirst, micros(t.now))
		if err != nil {
			return fmt.Errorf("insert click-to-call: %w", err)
		}
		l.ID = id
		return t.appendEvent(ctx, tenantID, switchboard.EventClickToCallCreated, "click_to_call", id, l)
	})
	return l, err
}

// ClickToCallByKey implements switchboard.Store.
func (db *DB) ClickToCallByKey(ctx context.Context, tenantID int64, key string) (switchboard.ClickToCall, error) {
	l, err := scanClickToCall(db.queryRow(ctx, "SELECT "+clickToCallCols+" FROM click_to_calls WHERE tenant_id = ? AND link_key = ?", tenantID, key))
	if errors.Is(err, sql.ErrNoRows) {
		return l, switchboard.Errorf(switchboard.CodeNotFound, "click-to-call %s not found", switchboard.Echo(key))
	}
	if err != nil {
		return l, fmt.Errorf("get click-to-call: %w", err)
	}
	return l, nil
}

// ClickToCalls implements switchboard.Store.
func (db *DB) ClickToCalls(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.ClickToCall], error) {
	return listAll(ctx, db, "click_to_calls", clickToCallCols, scanClickToCall, func(l switchboard.ClickToCall) int64 { return l.ID }, tenantID, opt)
}

// DeleteClickToCall implements switchboard.Store.
func (db *DB) DeleteClickToCall(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "click_to_calls", "click_to_call", switchboard.EventClickToCallDeleted, func(t *tx) (any, error) {
		return getOneTx(ctx, t, "click_to_calls", clickToCallCols, "click_to_call", scanClickToCall, tenantID, id)
	})
}

// CallByUUID implements switchboard.Store.
func (db *DB) CallByUUID(ctx context.Context, tenantID int64, id string) (switchboard.Call, error) {
	c, err := scanCall(db.queryRow(ctx, "SELECT "+callCols+" FROM calls WHERE tenant_id = ? AND uuid = ?", tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, switchboard.Errorf(switchboard.CodeNotFound, "call %s not found", switchboard.Echo(id))
	}
	if err != nil {
		return c, fmt.Errorf("get call: %w", err)
	}
	return c, nil
}
