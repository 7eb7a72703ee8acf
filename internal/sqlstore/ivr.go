package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"switchboard"
)

// IVR menus: one row in ivr_menus and one row per action in
// ivr_menu_actions (the options by digit, then the timeout, invalid and final
// actions by name), read back aggregated as JSON like a queue's skills. The
// targets are foreign keys; deleting a queue, or a menu, that a menu or a
// number still leads to is refused with CodeConflict naming what leads there,
// rather than leaving a menu option that goes nowhere.

const ivrMenuBaseCols = "id, tenant_id, name, prompt, timeout_seconds, max_repeats, created_at, updated_at"

// The slots of a menu's actions that are not digits.
const (
	slotTimeout = "timeout"
	slotInvalid = "invalid"
	slotFinal   = "final"
)

// ivrActionRow is one stored action as the aggregate reads it.
type ivrActionRow struct {
	Slot         string                    `json:"slot"`
	Action       switchboard.IVRActionType `json:"action"`
	QueueID      *int64                    `json:"queue_id"`
	UserID       *int64                    `json:"user_id"`
	TargetMenuID *int64                    `json:"target_menu_id"`
}

func (db *DB) ivrMenuCols() string {
	return ivrMenuBaseCols + ", " + db.jsonAgg(db.jsonObject("slot", "action", "queue_id", "user_id", "target_menu_id"),
		"ivr_menu_actions WHERE menu_id = ivr_menus.id", "position")
}

func scanIVRMenu(s scanner) (switchboard.IVRMenu, error) {
	var m switchboard.IVRMenu
	var created, updated int64
	var actions string
	if err := s.Scan(&m.ID, &m.TenantID, &m.Name, &m.Prompt, &m.TimeoutSeconds, &m.MaxRepeats, &created, &updated, &actions); err != nil {
		return m, err
	}
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	var rows []ivrActionRow
	if err := decodeList(actions, &rows); err != nil {
		return m, fmt.Errorf("ivr menu %d actions: %w", m.ID, err)
	}
	m.Options = []switchboard.IVROption{}
	for _, r := range rows {
		a := switchboard.IVRAction{Action: r.Action, QueueID: r.QueueID, UserID: r.UserID, MenuID: r.TargetMenuID}
		switch r.Slot {
		case slotTimeout:
			m.TimeoutAction = a
		case slotInvalid:
			m.InvalidAction = a
		case slotFinal:
			m.FinalAction = a
		default:
			m.Options = append(m.Options, switchboard.IVROption{Digit: r.Slot, IVRAction: a})
		}
	}
	return m, nil
}

// checkIVRRefs keeps every target of m inside its tenant.
func (t *tx) checkIVRRefs(ctx context.Context, tenantID int64, m *switchboard.IVRMenu) error {
	var queues, users, menus []int64
	for _, a := range m.Actions() {
		switch {
		case a.QueueID != nil:
			queues = append(queues, *a.QueueID)
		case a.UserID != nil:
			users = append(users, *a.UserID)
		case a.MenuID != nil:
			menus = append(menus, *a.MenuID)
		}
	}
	if err := t.checkOwned(ctx, tenantID, "queues", "queue_id", queues); err != nil {
		return err
	}
	if err := t.checkOwned(ctx, tenantID, "users", "user_id", users); err != nil {
		return err
	}
	return t.checkOwned(ctx, tenantID, "ivr_menus", "menu_id", menus)
}

// writeIVRActions replaces the stored actions of m.
func (t *tx) writeIVRActions(ctx context.Context, m *switchboard.IVRMenu) error {
	if _, err := t.exec(ctx, "DELETE FROM ivr_menu_actions WHERE menu_id = ?", m.ID); err != nil {
		return fmt.Errorf("clear ivr menu actions: %w", err)
	}
	type slotted struct {
		slot string
		a    switchboard.IVRAction
	}
	all := []slotted{{slotTimeout, m.TimeoutAction}, {slotInvalid, m.InvalidAction}, {slotFinal, m.FinalAction}}
	for _, o := range m.Options {
		all = append(all, slotted{o.Digit, o.IVRAction})
	}
	for i, s := range all {
		if _, err := t.exec(ctx, `INSERT INTO ivr_menu_actions (menu_id, position, tenant_id, slot, action, queue_id, user_id,
			target_menu_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.ID, i, m.TenantID, s.slot, s.a.Action,
			nullID(s.a.QueueID), nullID(s.a.UserID), nullID(s.a.MenuID)); err != nil {
			return fmt.Errorf("add ivr menu action: %w", err)
		}
	}
	return nil
}

func prepareIVRMenu(m *switchboard.IVRMenu) error {
	m.Normalize()
	return m.Validate()
}

// CreateIVRMenu implements switchboard.Store.
func (db *DB) CreateIVRMenu(ctx context.Context, tenantID int64, m switchboard.IVRMenu) (switchboard.IVRMenu, error) {
	m.ID = 0
	if err := prepareIVRMenu(&m); err != nil {
		return m, err
	}
	err := db.inTx(ctx, func(t *tx) error {
		if err := t.checkIVRRefs(ctx, tenantID, &m); err != nil {
			return err
		}
		m.TenantID, m.CreatedAt, m.UpdatedAt = tenantID, t.now, t.now
		id, err := t.insert(ctx, `INSERT INTO ivr_menus (tenant_id, name, prompt, timeout_seconds, max_repeats, created_at,
			updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			tenantID, m.Name, m.Prompt, m.TimeoutSeconds, m.MaxRepeats, micros(t.now), micros(t.now))
		if err != nil {
			return fmt.Errorf("insert ivr menu: %w", err)
		}
		m.ID = id
		if err := t.writeIVRActions(ctx, &m); err != nil {
			return err
		}
		return t.appendEvent(ctx, tenantID, switchboard.EventIVRMenuCreated, "ivr_menu", id, m)
	})
	return m, err
}

// IVRMenu implements switchboard.Store.
func (db *DB) IVRMenu(ctx context.Context, tenantID, id int64) (switchboard.IVRMenu, error) {
	return getOne(ctx, db, "ivr_menus", db.ivrMenuCols(), "ivr_menu", scanIVRMenu, tenantID, id)
}

// IVRMenus implements switchboard.Store.
func (db *DB) IVRMenus(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.IVRMenu], error) {
	return listAll(ctx, db, "ivr_menus", db.ivrMenuCols(), scanIVRMenu, func(m switchboard.IVRMenu) int64 { return m.ID }, tenantID, opt)
}

// UpdateIVRMenu implements switchboard.Store.
func (db *DB) UpdateIVRMenu(ctx context.Context, tenantID int64, m switchboard.IVRMenu) (switchboard.IVRMenu, error) {
	return inTxValue(ctx, db, m, func(t *tx) (switchboard.IVRMenu, error) { return t.updateIVRMenu(ctx, tenantID, m) })
}

// UpdateIVRMenuFunc implements switchboard.Store (see UpdateUserFunc).
func (db *DB) UpdateIVRMenuFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.IVRMenu) error) (switchboard.IVRMenu, error) {
	return modify(ctx, db, "ivr_menus", "ivr_menu", tenantID, id,
		func(t *tx) (switchboard.IVRMenu, error) {
			return getOneTx(ctx, t, "ivr_menus", db.ivrMenuCols(), "ivr_menu", scanIVRMenu, tenantID, id)
		}, fn,
		func(t *tx, m switchboard.IVRMenu) (switchboard.IVRMenu, error) {
			m.ID = id
			return t.updateIVRMenu(ctx, tenantID, m)
		})
}

func (t *tx) updateIVRMenu(ctx context.Context, tenantID int64, m switchboard.IVRMenu) (switchboard.IVRMenu, error) {
	if err := prepareIVRMenu(&m); err != nil {
		return m, err
	}
	old, err := getOneTx(ctx, t, "ivr_menus", t.db.ivrMenuCols(), "ivr_menu", scanIVRMenu, tenantID, m.ID)
	if err != nil {
		return m, err
	}
	if err := t.checkIVRRefs(ctx, tenantID, &m); err != nil {
		return m, err
	}
	m.TenantID, m.CreatedAt, m.UpdatedAt = tenantID, old.CreatedAt, t.now
	if _, err := t.exec(ctx, `UPDATE ivr_menus SET name = ?, prompt = ?, timeout_seconds = ?, max_repeats = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`, m.Name, m.Prompt, m.TimeoutSeconds, m.MaxRepeats, micros(t.now), tenantID, m.ID); err != nil {
		return m, fmt.Errorf("update ivr menu: %w", err)
	}
	if err := t.writeIVRActions(ctx, &m); err != nil {
		return m, err
	}
	return m, t.appendEvent(ctx, tenantID, switchboard.EventIVRMenuUpdated, "ivr_menu", m.ID, m)
}

// DeleteIVRMenu implements switchboard.Store. A menu a number or another
// menu still leads to is not deleted (CodeConflict, naming them): the number
// or the menu must be pointed elsewhere first, so that no caller is ever
// sent to a menu that is gone.
func (db *DB) DeleteIVRMenu(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "ivr_menus", "ivr_menu", switchboard.EventIVRMenuDeleted, func(t *tx) (any, error) {
		m, err := getOneTx(ctx, t, "ivr_menus", db.ivrMenuCols(), "ivr_menu", scanIVRMenu, tenantID, id)
		if err != nil {
			return m, err
		}
		return m, t.checkUnreferenced(ctx, tenantID, "IVR menu", id,
			"SELECT number FROM phone_numbers WHERE tenant_id = ? AND ivr_menu_id = ?", "phone number",
			"SELECT DISTINCT m.name FROM ivr_menu_actions a JOIN ivr_menus m ON m.id = a.menu_id WHERE a.tenant_id = ? AND a.target_menu_id = ? AND a.menu_id <> a.target_menu_id")
	})
}

// checkQueueUnreferenced refuses to delete a queue an IVR menu leads to.
func (t *tx) checkQueueUnreferenced(ctx context.Context, tenantID, id int64) error {
	return t.checkUnreferenced(ctx, tenantID, "queue", id, "", "",
		"SELECT DISTINCT m.name FROM ivr_menu_actions a JOIN ivr_menus m ON m.id = a.menu_id WHERE a.tenant_id = ? AND a.queue_id = ?")
}

// checkUnreferenced fails with CodeConflict when the numbers query (if any) or
// the menus query finds rows leading to the object id: each query takes the
// tenant and the id and returns names. The message names up to five of them.
func (t *tx) checkUnreferenced(ctx context.Context, tenantID int64, what string, id int64, numbersQuery, numberWhat, menusQuery string) error {
	var by []string
	names := func(q, kind string) error {
		rows, err := t.query(ctx, q+" ORDER BY 1 LIMIT 6", tenantID, id)
		if err != nil {
			return fmt.Errorf("find what leads to %s %d: %w", what, id, err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return err
			}
			by = append(by, kind+" "+n)
		}
		return rows.Err()
	}
	if numbersQuery != "" {
		if err := names(numbersQuery, numberWhat); err != nil {
			return err
		}
	}
	if err := names(menusQuery, "IVR menu"); err != nil {
		return err
	}
	if len(by) == 0 {
		return nil
	}
	if len(by) > 5 {
		by = append(by[:5], "…")
	}
	return switchboard.Errorf(switchboard.CodeConflict, "the %s is in use: %s lead(s) to it; point them elsewhere first",
		what, strings.Join(by, ", "))
}
