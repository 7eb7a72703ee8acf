package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"switchboard"
)

// Phonebooks: the external contacts agents pick numbers from (UJET's contact
// lists), apart from the dialer's contact_lists of leads. A phonebook's entry
// count is counted when it is read (index phonebook_entries_book).

const phonebookCols = `id, tenant_id, kind, name, description, owner_user_id,
	(SELECT COUNT(*) FROM phonebook_entries WHERE phonebook_entries.phonebook_id = phonebooks.id), created_at, updated_at`

func scanPhonebook(s scanner) (switchboard.Phonebook, error) {
	var p switchboard.Phonebook
	var owner sql.NullInt64
	var created, updated int64
	err := s.Scan(&p.ID, &p.TenantID, &p.Kind, &p.Name, &p.Description, &owner, &p.Entries, &created, &updated)
	p.OwnerUserID, p.CreatedAt, p.UpdatedAt = idPtr(owner), fromMicros(created), fromMicros(updated)
	return p, err
}

const phonebookEntryCols = "id, tenant_id, phonebook_id, name, company, email, numbers, notes, created_at, updated_at"

func scanPhonebookEntry(s scanner) (switchboard.PhonebookEntry, error) {
	var e switchboard.PhonebookEntry
	var numbers string
	var created, updated int64
	if err := s.Scan(&e.ID, &e.TenantID, &e.PhonebookID, &e.Name, &e.Company, &e.Email, &numbers, &e.Notes, &created, &updated); err != nil {
		return e, err
	}
	e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
	return e, decodeList(numbers, &e.Numbers)
}

// phonebookConflict turns a unique-index failure into the refusal that says
// which rule the phonebook broke.
func phonebookConflict(err error, p switchboard.Phonebook) error {
	field, dup := uniqueViolation(err)
	if !dup {
		return fmt.Errorf("write phonebook: %w", err)
	}
	if p.Kind == switchboard.PhonebookCustom || field == "name" {
		return &switchboard.Error{Code: switchboard.CodeConflict, Message: "a custom phonebook named " + p.Name + " exists",
			Fields: map[string]string{"name": "is taken by another custom phonebook"}}
	}
	return &switchboard.Error{Code: switchboard.CodeConflict, Message: "the " + string(p.Kind) + " phonebook exists",
		Fields: map[string]string{"kind": "there is one " + string(p.Kind) + " phonebook per " + map[bool]string{true: "agent", false: "tenant"}[p.Kind.Owned()]}}
}

// CreatePhonebook implements switchboard.Store.
func (db *DB) CreatePhonebook(ctx context.Context, tenantID int64, p switchboard.Phonebook) (switchboard.Phonebook, error) {
	p.ID, p.Entries = 0, 0
	p.Normalize()
	if err := p.Validate(); err != nil {
		return p, err
	}
	err := db.inTx(ctx, func(t *tx) error {
		var err error
		p, err = t.createPhonebook(ctx, tenantID, p)
		return err
	})
	return p, err
}

func (t *tx) createPhonebook(ctx context.Context, tenantID int64, p switchboard.Phonebook) (switchboard.Phonebook, error) {
	if p.OwnerUserID != nil {
		if err := t.checkOwned(ctx, tenantID, "users", "owner_user_id", []int64{*p.OwnerUserID}); err != nil {
			return p, err
		}
	}
	p.TenantID, p.CreatedAt, p.UpdatedAt = tenantID, t.now, t.now
	id, err := t.insert(ctx, `INSERT INTO phonebooks (tenant_id, kind, name, description, owner_user_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, tenantID, p.Kind, p.Name, p.Description, nullID(p.OwnerUserID), micros(t.now), micros(t.now))
	if err != nil {
		return p, phonebookConflict(err, p)
	}
	p.ID = id
	return p, t.appendEvent(ctx, tenantID, switchboard.EventPhonebookCreated, "phonebook", id, p)
}

// defaultPhonebookNames are the names EnsurePhonebook gives the lists of
// the unnamed kinds.
var defaultPhonebookNames = map[switchboard.PhonebookKind]string{
	switchboard.PhonebookGlobal: "Global", switchboard.PhonebookPersonal: "Personal", switchboard.PhonebookFavorite: "Favorites",
}

// EnsurePhonebook implements switchboard.Store. The lookup and the insert
// run in one write transaction (SQLite's single writer; PostgreSQL's
// advisory lock on the tenant's phonebooks), so two first readers create
// one list.
func (db *DB) EnsurePhonebook(ctx context.Context, tenantID int64, kind switchboard.PhonebookKind, ownerUserID *int64) (switchboard.Phonebook, error) {
	p := switchboard.Phonebook{Kind: kind, Name: defaultPhonebookNames[kind], OwnerUserID: ownerUserID}
	if kind == switchboard.PhonebookCustom {
		return p, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "custom phonebooks are created by name",
			Fields: map[string]string{"kind": "must be global, personal or favorite"}}
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	if found, ok, err := db.findPhonebook(ctx, db.queryRow, tenantID, kind, ownerUserID); err != nil || ok {
		return found, err
	}
	err := db.inTx(ctx, func(t *tx) error {
		if err := t.serialize(ctx, "phonebooks", tenantID); err != nil {
			return err
		}
		found, ok, err := db.findPhonebook(ctx, t.row, tenantID, kind, ownerUserID)
		if err != nil || ok {
			p = found
			return err
		}
		p, err = t.createPhonebook(ctx, tenantID, p)
		return err
	})
	return p, err
}

func (db *DB) findPhonebook(ctx context.Context, queryRow func(context.Context, string, ...any) scanner, tenantID int64,
	kind switchboard.PhonebookKind, owner *int64) (switchboard.Phonebook, bool, error) {
	var o int64
	if owner != nil {
		o = *owner
	}
	p, err := scanPhonebook(queryRow(ctx, "SELECT "+phonebookCols+" FROM phonebooks WHERE tenant_id = ? AND kind = ? AND COALESCE(owner_user_id, 0) = ?",
		tenantID, kind, o))
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("find phonebook: %w", err)
	}
	return p, true, nil
}

// Phonebook implements switchboard.Store.
func (db *DB) Phonebook(ctx context.Context, tenantID, id int64) (switchboard.Phonebook, error) {
	return getOne(ctx, db, "phonebooks", phonebookCols, "phonebook", scanPhonebook, tenantID, id)
}

// Phonebooks implements switchboard.Store.
func (db *DB) Phonebooks(ctx context.Context, tenantID int64, f switchboard.PhonebookFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.Phonebook], error) {
	q := listQuery{cols: phonebookCols, from: "FROM phonebooks WHERE tenant_id = ?", args: []any{tenantID}, key: "id"}
	if len(f.Kinds) > 0 {
		q.from += " AND kind IN (" + placeholders(len(f.Kinds)) + ")"
		for _, k := range f.Kinds {
			q.args = append(q.args, k)
		}
	}
	if f.OwnerUserID != 0 {
		q.from += " AND (owner_user_id IS NULL OR owner_user_id = ?)"
		q.args = append(q.args, f.OwnerUserID)
	}
	return listPage(ctx, db, q, opt, scanPhonebook, func(p switchboard.Phonebook) int64 { return p.ID })
}

// UpdatePhonebookFunc implements switchboard.Store.
func (db *DB) UpdatePhonebookFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.Phonebook) error) (switchboard.Phonebook, error) {
	var old switchboard.Phonebook
	get := func(t *tx) (switchboard.Phonebook, error) {
		return getOneTx(ctx, t, "phonebooks", phonebookCols, "phonebook", scanPhonebook, tenantID, id)
	}
	return modify(ctx, db, "phonebooks", "phonebook", tenantID, id,
		func(t *tx) (switchboard.Phonebook, error) {
			var err error
			old, err = get(t)
			return old, err
		},
		func(p *switchboard.Phonebook) error {
			if err := fn(p); err != nil {
				return err
			}
			pr := switchboard.Problems{}
			if p.ID != old.ID || p.TenantID != old.TenantID {
				pr.Add("id", "cannot be changed")
			}
			if p.Kind != old.Kind {
				pr.Add("kind", "cannot be changed")
			}
			if !sameID(p.OwnerUserID, old.OwnerUserID) {
				pr.Add("owner_user_id", "cannot be changed")
			}
			if err := pr.Err(); err != nil {
				return err
			}
			p.Normalize()
			return p.Validate()
		},
		func(t *tx, p switchboard.Phonebook) (switchboard.Phonebook, error) {
			p.Entries, p.CreatedAt, p.UpdatedAt = old.Entries, old.CreatedAt, t.now
			if _, err := t.exec(ctx, "UPDATE phonebooks SET name = ?, description = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
				p.Name, p.Description, micros(t.now), tenantID, id); err != nil {
				return p, phonebookConflict(err, p)
			}
			return p, t.appendEvent(ctx, tenantID, switchboard.EventPhonebookUpdated, "phonebook", id, p)
		})
}

// row is t.queryRow as a scanner, for the reads that run in or out of a
// transaction.
func (t *tx) row(ctx context.Context, q string, args ...any) scanner {
	return t.queryRow(ctx, q, args...)
}

func sameID(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// DeletePhonebook implements switchboard.Store: its entries go with it.
func (db *DB) DeletePhonebook(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "phonebooks", "phonebook", switchboard.EventPhonebookDeleted, func(t *tx) (any, error) {
		if err := t.lockRow(ctx, "phonebooks", "phonebook", tenantID, id); err != nil {
			return nil, err
		}
		p, err := getOneTx(ctx, t, "phonebooks", phonebookCols, "phonebook", scanPhonebook, tenantID, id)
		if err != nil {
			return nil, err
		}
		if _, err := t.exec(ctx, "DELETE FROM phonebook_entries WHERE phonebook_id = ?", id); err != nil {
			return nil, fmt.Errorf("delete phonebook %d: %w", id, err)
		}
		return p, nil
	})
}

// prepareEntry normalizes and validates an entry and encodes its numbers.
func prepareEntry(e *switchboard.PhonebookEntry) (string, error) {
	e.Normalize()
	if err := e.Validate(); err != nil {
		return "", err
	}
	b, err := json.Marshal(e.Numbers)
	if err != nil {
		return "", fmt.Errorf("encode numbers: %w", err)
	}
	return string(b), nil
}

// CreatePhonebookEntry implements switchboard.Store.
func (db *DB) CreatePhonebookEntry(ctx context.Context, tenantID int64, e switchboard.PhonebookEntry) (switchboard.PhonebookEntry, error) {
	e.ID = 0
	numbers, err := prepareEntry(&e)
	if err != nil {
		return e, err
	}
	err = db.inTx(ctx, func(t *tx) error {
		if err := t.lockRow(ctx, "phonebooks", "phonebook", tenantID, e.PhonebookID); err != nil {
			return err
		}
		var err error
		e, err = t.insertEntry(ctx, tenantID, e, numbers)
		if err != nil {
			return err
		}
		return t.appendEvent(ctx, tenantID, switchboard.EventPhonebookEntryCreated, "phonebook_entry", e.ID, e)
	})
	return e, err
}

func (t *tx) insertEntry(ctx context.Context, tenantID int64, e switchboard.PhonebookEntry, numbers string) (switchboard.PhonebookEntry, error) {
	e.TenantID, e.CreatedAt, e.UpdatedAt = tenantID, t.now, t.now
	id, err := t.insert(ctx, `INSERT INTO phonebook_entries (tenant_id, phonebook_id, name, company, email, numbers, notes, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, e.PhonebookID, e.Name, e.Company, e.Email, numbers, e.Notes, micros(t.now), micros(t.now))
	if err != nil {
		return e, fmt.Errorf("insert phonebook entry: %w", err)
	}
	e.ID = id
	return e, nil
}

func (db *DB) entryIn(ctx context.Context, queryRow func(context.Context, string, ...any) scanner, tenantID, phonebookID, id int64) (switchboard.PhonebookEntry, error) {
	e, err := scanPhonebookEntry(queryRow(ctx, "SELECT "+phonebookEntryCols+" FROM phonebook_entries WHERE tenant_id = ? AND phonebook_id = ? AND id = ?",
		tenantID, phonebookID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, notFound("phonebook entry", id)
	}
	if err != nil {
		return e, fmt.Errorf("get phonebook entry: %w", err)
	}
	return e, nil
}

// PhonebookEntry implements switchboard.Store.
func (db *DB) PhonebookEntry(ctx context.Context, tenantID, phonebookID, id int64) (switchboard.PhonebookEntry, error) {
	return db.entryIn(ctx, db.queryRow, tenantID, phonebookID, id)
}

// PhonebookEntries implements switchboard.Store. An unknown phonebook is
// CodeNotFound, not an empty list.
func (db *DB) PhonebookEntries(ctx context.Context, tenantID, phonebookID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.PhonebookEntry], error) {
	if _, err := db.Phonebook(ctx, tenantID, phonebookID); err != nil {
		return switchboard.Page[switchboard.PhonebookEntry]{}, err
	}
	return listPage(ctx, db, listQuery{cols: phonebookEntryCols, from: "FROM phonebook_entries WHERE tenant_id = ? AND phonebook_id = ?",
		args: []any{tenantID, phonebookID}, key: "id"}, opt, scanPhonebookEntry, func(e switchboard.PhonebookEntry) int64 { return e.ID })
}

// UpdatePhonebookEntryFunc implements switchboard.Store: fn may change the
// entry's name, company, email, numbers and notes.
func (db *DB) UpdatePhonebookEntryFunc(ctx context.Context, tenantID, phonebookID, id int64, fn func(*switchboard.PhonebookEntry) error) (switchboard.PhonebookEntry, error) {
	var old switchboard.PhonebookEntry
	var numbers string
	get := func(t *tx) (switchboard.PhonebookEntry, error) {
		return db.entryIn(ctx, t.row, tenantID, phonebookID, id)
	}
	return modify(ctx, db, "phonebook_entries", "phonebook entry", tenantID, id,
		func(t *tx) (switchboard.PhonebookEntry, error) {
			var err error
			old, err = get(t)
			return old, err
		},
		func(e *switchboard.PhonebookEntry) error {
			if err := fn(e); err != nil {
				return err
			}
			if e.ID != old.ID || e.TenantID != old.TenantID || e.PhonebookID != old.PhonebookID {
				return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "an entry cannot move",
					Fields: map[string]string{"phonebook_id": "cannot be changed"}}
			}
			var err error
			numbers, err = prepareEntry(e)
			return err
		},
		func(t *tx, e switchboard.PhonebookEntry) (switchboard.PhonebookEntry, error) {
			e.CreatedAt, e.UpdatedAt = old.CreatedAt, t.now
			if _, err := t.exec(ctx, `UPDATE phonebook_entries SET name = ?, company = ?, email = ?, numbers = ?, notes = ?, updated_at = ?
				WHERE tenant_id = ? AND id = ?`, e.Name, e.Company, e.Email, numbers, e.Notes, micros(t.now), tenantID, id); err != nil {
				return e, fmt.Errorf("update phonebook entry: %w", err)
			}
			return e, t.appendEvent(ctx, tenantID, switchboard.EventPhonebookEntryUpdated, "phonebook_entry", id, e)
		})
}

// DeletePhonebookEntry implements switchboard.Store.
func (db *DB) DeletePhonebookEntry(ctx context.Context, tenantID, phonebookID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "phonebook_entries", "phonebook entry", switchboard.EventPhonebookEntryDeleted, func(t *tx) (any, error) {
		return db.entryIn(ctx, t.row, tenantID, phonebookID, id)
	})
}

// ReplacePhonebookEntries implements switchboard.Store: every entry is
// checked before any is written.
func (db *DB) ReplacePhonebookEntries(ctx context.Context, tenantID, phonebookID int64, entries []switchboard.PhonebookEntry) (switchboard.Phonebook, error) {
	numbers := make([]string, len(entries))
	for i := range entries {
		n, err := prepareEntry(&entries[i])
		if err != nil {
			var se *switchboard.Error
			if errors.As(err, &se) {
				se.Message = fmt.Sprintf("entry %d (%s): %s", i+1, entries[i].Name, se.Message)
			}
			return switchboard.Phonebook{}, err
		}
		numbers[i] = n
	}
	var p switchboard.Phonebook
	err := db.inTx(ctx, func(t *tx) error {
		if err := t.lockRow(ctx, "phonebooks", "phonebook", tenantID, phonebookID); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "DELETE FROM phonebook_entries WHERE phonebook_id = ?", phonebookID); err != nil {
			return fmt.Errorf("clear phonebook %d: %w", phonebookID, err)
		}
		for i, e := range entries {
			e.ID, e.PhonebookID = 0, phonebookID
			if _, err := t.insertEntry(ctx, tenantID, e, numbers[i]); err != nil {
				return err
			}
		}
		if _, err := t.exec(ctx, "UPDATE phonebooks SET updated_at = ? WHERE id = ?", micros(t.now), phonebookID); err != nil {
			return fmt.Errorf("touch phonebook %d: %w", phonebookID, err)
		}
		var err error
		if p, err = getOneTx(ctx, t, "phonebooks", phonebookCols, "phonebook", scanPhonebook, tenantID, phonebookID); err != nil {
			return err
		}
		return t.appendEvent(ctx, tenantID, switchboard.EventPhonebookEntriesReplaced, "phonebook", phonebookID, p)
	})
	return p, err
}
