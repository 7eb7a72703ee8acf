package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"switchboard"
)

const teamCols = "id, tenant_id, name, parent_id, created_at, updated_at"

func scanTeam(s scanner) (switchboard.Team, error) {
	var t switchboard.Team
	var parent sql.NullInt64
	var created, updated int64
	err := s.Scan(&t.ID, &t.TenantID, &t.Name, &parent, &created, &updated)
	t.ParentID, t.CreatedAt, t.UpdatedAt = idPtr(parent), fromMicros(created), fromMicros(updated)
	return t, err
}

// checkTeamParent refuses parents outside the tenant and parents that would
// close a loop in the team tree.
func (t *tx) checkTeamParent(ctx context.Context, tenantID int64, team switchboard.Team) error {
	return t.checkParent(ctx, tenantID, "teams", "team", team.ID, team.ParentID)
}

// checkParent verifies that parent names a row of table in the tenant and that
// making it the parent of row self keeps the table's tree free of loops.
func (t *tx) checkParent(ctx context.Context, tenantID int64, table, what string, self int64, parent *int64) error {
	if parent == nil {
		return nil
	}
	if err := t.checkOwned(ctx, tenantID, table, "parent_id", []int64{*parent}); err != nil {
		return err
	}
	for id, hops := *parent, 0; ; hops++ {
		if id == self || hops > 1000 {
			return &switchboard.Error{Code: switchboard.CodeInvalid, Message: what + " tree would contain a loop",
				Fields: map[string]string{"parent_id": "is the " + what + " itself or one of its descendants"}}
		}
		var up sql.NullInt64
		if err := t.queryRow(ctx, "SELECT parent_id FROM "+table+" WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&up); err != nil {
			return fmt.Errorf("walk %s tree: %w", what, err)
		}
		if !up.Valid {
			return nil
		}
		id = up.Int64
	}
}

// CreateTeam implements switchboard.Store.
func (db *DB) CreateTeam(ctx context.Context, tenantID int64, team switchboard.Team) (switchboard.Team, error) {
	team.ID = 0
	if err := team.Validate(); err != nil {
		return team, err
	}
	err := db.inTx(ctx, func(t *tx) error {
		if err := t.checkTeamParent(ctx, tenantID, team); err != nil {
			return err
		}
		team.TenantID, team.CreatedAt, team.UpdatedAt = tenantID, t.now, t.now
		id, err := t.insert(ctx, "INSERT INTO teams (tenant_id, name, parent_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			tenantID, team.Name, nullID(team.ParentID), micros(t.now), micros(t.now))
		if err != nil {
			return fmt.Errorf("insert team: %w", err)
		}
		team.ID = id
		return t.appendEvent(ctx, tenantID, switchboard.EventTeamCreated, "team", id, team)
	})
	return team, err
}

// Team implements switchboard.Store.
func (db *DB) Team(ctx context.Context, tenantID, id int64) (switchboard.Team, error) {
	return getOne(ctx, db, "teams", teamCols, "team", scanTeam, tenantID, id)
}

// Teams implements switchboard.Store.
func (db *DB) Teams(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.Team], error) {
	return listAll(ctx, db, "teams", teamCols, scanTeam, func(t switchboard.Team) int64 { return t.ID }, tenantID, opt)
}

// UpdateTeam implements switchboard.Store.
func (db *DB) UpdateTeam(ctx context.Context, tenantID int64, team switchboard.Team) (switchboard.Team, error) {
	return inTxValue(ctx, db, team, func(t *tx) (switchboard.Team, error) { return t.updateTeam(ctx, tenantID, team) })
}

// UpdateTeamFunc implements switchboard.Store (see UpdateUserFunc).
func (db *DB) UpdateTeamFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.Team) error) (switchboard.Team, error) {
	return modify(ctx, db, "teams", "team", tenantID, id,
		func(t *tx) (switchboard.Team, error) {
			return getOneTx(ctx, t, "teams", teamCols, "team", scanTeam, tenantID, id)
		}, fn,
		func(t *tx, team switchboard.Team) (switchboard.Team, error) {
			team.ID = id
			return t.updateTeam(ctx, tenantID, team)
		})
}

func (t *tx) updateTeam(ctx context.Context, tenantID int64, team switchboard.Team) (switchboard.Team, error) {
	if err := team.Validate(); err != nil {
		return team, err
	}
	old, err := getOneTx(ctx, t, "teams", teamCols, "team", scanTeam, tenantID, team.ID)
	if err != nil {
		return team, err
	}
	if err := t.checkTeamParent(ctx, tenantID, team); err != nil {
		return team, err
	}
	team.TenantID, team.CreatedAt, team.UpdatedAt = tenantID, old.CreatedAt, t.now
	if _, err := t.exec(ctx, "UPDATE teams SET name = ?, parent_id = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
		team.Name, nullID(team.ParentID), micros(t.now), tenantID, team.ID); err != nil {
		return team, fmt.Errorf("update team: %w", err)
	}
	return team, t.appendEvent(ctx, tenantID, switchboard.EventTeamUpdated, "team", team.ID, team)
}

// DeleteTeam implements switchboard.Store. Members stay; they just leave the
// team, and sub-teams move up to the top level.
func (db *DB) DeleteTeam(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "teams", "team", switchboard.EventTeamDeleted, func(t *tx) (any, error) {
		return getOneTx(ctx, t, "teams", teamCols, "team", scanTeam, tenantID, id)
	})
}

const skillCols = "id, tenant_id, name, created_at, updated_at"

func scanSkill(s scanner) (switchboard.Skill, error) {
	var k switchboard.Skill
	var created, updated int64
	err := s.Scan(&k.ID, &k.TenantID, &k.Name, &created, &updated)
	k.CreatedAt, k.UpdatedAt = fromMicros(created), fromMicros(updated)
	return k, err
}

// CreateSkill implements switchboard.Store.
func (db *DB) CreateSkill(ctx context.Context, tenantID int64, k switchboard.Skill) (switchboard.Skill, error) {
	if err := k.Validate(); err != nil {
		return k, err
	}
	err := db.inTx(ctx, func(t *tx) error {
		k.TenantID, k.CreatedAt, k.UpdatedAt = tenantID, t.now, t.now
		id, err := t.insert(ctx, "INSERT INTO skills (tenant_id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
			tenantID, k.Name, micros(t.now), micros(t.now))
		if err != nil {
			return fmt.Errorf("insert skill: %w", err)
		}
		k.ID = id
		return t.appendEvent(ctx, tenantID, switchboard.EventSkillCreated, "skill", id, k)
	})
	return k, err
}

// Skill implements switchboard.Store.
func (db *DB) Skill(ctx context.Context, tenantID, id int64) (switchboard.Skill, error) {
	return getOne(ctx, db, "skills", skillCols, "skill", scanSkill, tenantID, id)
}

// Skills implements switchboard.Store.
func (db *DB) Skills(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.Skill], error) {
	return listAll(ctx, db, "skills", skillCols, scanSkill, func(k switchboard.Skill) int64 { return k.ID }, tenantID, opt)
}

// UpdateSkill implements switchboard.Store.
func (db *DB) UpdateSkill(ctx context.Context, tenantID int64, k switchboard.Skill) (switchboard.Skill, error) {
	return inTxValue(ctx, db, k, func(t *tx) (switchboard.Skill, error) { return t.updateSkill(ctx, tenantID, k) })
}

// UpdateSkillFunc implements switchboard.Store (see UpdateUserFunc).
func (db *DB) UpdateSkillFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.Skill) error) (switchboard.Skill, error) {
	return modify(ctx, db, "skills", "skill", tenantID, id,
		func(t *tx) (switchboard.Skill, error) {
			return getOneTx(ctx, t, "skills", skillCols, "skill", scanSkill, tenantID, id)
		}, fn,
		func(t *tx, k switchboard.Skill) (switchboard.Skill, error) {
			k.ID = id
			return t.updateSkill(ctx, tenantID, k)
		})
}

func (t *tx) updateSkill(ctx context.Context, tenantID int64, k switchboard.Skill) (switchboard.Skill, error) {
	if err := k.Validate(); err != nil {
		return k, err
	}
	old, err := getOneTx(ctx, t, "skills", skillCols, "skill", scanSkill, tenantID, k.ID)
	if err != nil {
		return k, err
	}
	k.TenantID, k.CreatedAt, k.UpdatedAt = tenantID, old.CreatedAt, t.now
	if _, err := t.exec(ctx, "UPDATE skills SET name = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
		k.Name, micros(t.now), tenantID, k.ID); err != nil {
		return k, fmt.Errorf("update skill: %w", err)
	}
	return k, t.appendEvent(ctx, tenantID, switchboard.EventSkillUpdated, "skill", k.ID, k)
}

// DeleteSkill implements switchboard.Store. Users and queues lose the skill.
func (db *DB) DeleteSkill(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "skills", "skill", switchboard.EventSkillDeleted, func(t *tx) (any, error) {
		return getOneTx(ctx, t, "skills", skillCols, "skill", scanSkill, tenantID, id)
	})
}

const statusCols = "id, tenant_id, name, system, available, created_at, updated_at"

func scanStatus(s scanner) (switchboard.AgentStatus, error) {
	var a switchboard.AgentStatus
	var created, updated int64
	err := s.Scan(&a.ID, &a.TenantID, &a.Name, &a.System, &a.Available, &created, &updated)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, err
}

var errSystemStatus = &switchboard.Error{Code: switchboard.CodeForbidden,
	Message: "system statuses cannot be changed or deleted"}

// CreateStatus implements switchboard.Store.
func (db *DB) CreateStatus(ctx context.Context, tenantID int64, a switchboard.AgentStatus) (switchboard.AgentStatus, error) {
	if err := a.Validate(); err != nil {
		return a, err
	}
	err := db.inTx(ctx, func(t *tx) error {
		a.TenantID, a.System, a.CreatedAt, a.UpdatedAt = tenantID, false, t.now, t.now
		id, err := t.insert(ctx, `INSERT INTO agent_statuses (tenant_id, name, system, available, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, tenantID, a.Name, false, a.Available, micros(t.now), micros(t.now))
		if err != nil {
			return fmt.Errorf("insert status: %w", err)
		}
		a.ID = id
		return t.appendEvent(ctx, tenantID, switchboard.EventStatusCreated, "agent_status", id, a)
	})
	return a, err
}

// Status implements switchboard.Store.
func (db *DB) Status(ctx context.Context, tenantID, id int64) (switchboard.AgentStatus, error) {
	return getOne(ctx, db, "agent_statuses", statusCols, "agent_status", scanStatus, tenantID, id)
}

// Statuses implements switchboard.Store.
func (db *DB) Statuses(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.AgentStatus], error) {
	return listAll(ctx, db, "agent_statuses", statusCols, scanStatus, func(a switchboard.AgentStatus) int64 { return a.ID }, tenantID, opt)
}

// UpdateStatus implements switchboard.Store. System statuses are refused with
// CodeForbidden.
func (db *DB) UpdateStatus(ctx context.Context, tenantID int64, a switchboard.AgentStatus) (switchboard.AgentStatus, error) {
	return inTxValue(ctx, db, a, func(t *tx) (switchboard.AgentStatus, error) { return t.updateStatus(ctx, tenantID, a) })
}

// UpdateStatusFunc implements switchboard.Store (see UpdateUserFunc).
func (db *DB) UpdateStatusFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.AgentStatus) error) (switchboard.AgentStatus, error) {
	get := func(t *tx) (switchboard.AgentStatus, error) {
		return getOneTx(ctx, t, "agent_statuses", statusCols, "agent_status", scanStatus, tenantID, id)
	}
	return modify(ctx, db, "agent_statuses", "agent_status", tenantID, id, get,
		func(a *switchboard.AgentStatus) error {
			// System statuses are refused before the caller's change sees them.
			if a.System {
				return errSystemStatus
			}
			return fn(a)
		},
		func(t *tx, a switchboard.AgentStatus) (switchboard.AgentStatus, error) {
			a.ID = id
			return t.updateStatus(ctx, tenantID, a)
		})
}

func (t *tx) updateStatus(ctx context.Context, tenantID int64, a switchboard.AgentStatus) (switchboard.AgentStatus, error) {
	old, err := getOneTx(ctx, t, "agent_statuses", statusCols, "agent_status", scanStatus, tenantID, a.ID)
	if err != nil {
		return a, err
	}
	if old.System {
		return a, errSystemStatus
	}
	if err := a.Validate(); err != nil {
		return a, err
	}
	a.TenantID, a.System, a.CreatedAt, a.UpdatedAt = tenantID, false, old.CreatedAt, t.now
	if _, err := t.exec(ctx, "UPDATE agent_statuses SET name = ?, available = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
		a.Name, a.Available, micros(t.now), tenantID, a.ID); err != nil {
		return a, fmt.Errorf("update status: %w", err)
	}
	return a, t.appendEvent(ctx, tenantID, switchboard.EventStatusUpdated, "agent_status", a.ID, a)
}

// DeleteStatus implements switchboard.Store. System statuses are refused with
// CodeForbidden.
func (db *DB) DeleteStatus(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "agent_statuses", "agent_status", switchboard.EventStatusDeleted, func(t *tx) (any, error) {
		old, err := getOneTx(ctx, t, "agent_statuses", statusCols, "agent_status", scanStatus, tenantID, id)
		if err == nil && old.System {
			return nil, errSystemStatus
		}
		return old, err
	})
}
