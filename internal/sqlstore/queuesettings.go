package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"switchboard"
)

// Queue-settings versions: saved JSON snapshots of a tenant's queue and menu
// configuration. Lists leave the snapshot out (it may be megabytes).

const queueSettingsMeta = "id, tenant_id, revision, type, created_by, export_audio_files, export_attached_files, size, created_at"

func scanQueueSettingsVersion(withSnapshot bool) func(scanner) (switchboard.QueueSettingsVersion, error) {
	return func(s scanner) (switchboard.QueueSettingsVersion, error) {
		var v switchboard.QueueSettingsVersion
		var created int64
		var snap string
		dst := []any{&v.ID, &v.TenantID, &v.Revision, &v.Type, &v.CreatedBy, &v.ExportAudioFiles, &v.ExportAttachedFiles, &v.Size, &created}
		if withSnapshot {
			dst = append(dst, &snap)
		}
		err := s.Scan(dst...)
		v.CreatedAt = fromMicros(created)
		if withSnapshot {
			v.Snapshot = []byte(snap)
		}
		return v, err
	}
}

// SaveQueueSettingsVersion implements switchboard.Store.
func (db *DB) SaveQueueSettingsVersion(ctx context.Context, tenantID int64, v switchboard.QueueSettingsVersion) (switchboard.QueueSettingsVersion, error) {
	p := switchboard.Problems{}
	if !slices.Contains(switchboard.QueueSettingsTypes, v.Type) {
		p.Add("type", "must be one of exported, imported, auto_saved, restored")
	}
	if v.Revision == "" {
		v.Revision = uuid.NewString()
	} else if _, err := uuid.Parse(v.Revision); err != nil {
		p.Add("revision", "must be a UUID")
	}
	if len(v.CreatedBy) > switchboard.MaxEmailLength {
		p.Add("created_by", "must be an e-mail address")
	}
	switch {
	case len(v.Snapshot) > switchboard.MaxQueueSettingsSnapshot:
		p.Add("snapshot", fmt.Sprintf("must be at most %d bytes", switchboard.MaxQueueSettingsSnapshot))
	case !json.Valid(v.Snapshot):
		p.Add("snapshot", "must be a JSON document")
	}
	if err := p.Err(); err != nil {
		return v, err
	}
	v.ID, v.Size = 0, len(v.Snapshot)
	err := db.inTx(ctx, func(t *tx) error {
		v.TenantID, v.CreatedAt = tenantID, t.now
		id, err := t.insert(ctx, `INSERT INTO queue_settings_versions (tenant_id, revision, type, created_by, export_audio_files,
			export_attached_files, size, snapshot, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, v.Revision, v.Type,
			v.CreatedBy, v.ExportAudioFiles, v.ExportAttachedFiles, v.Size, string(v.Snapshot), micros(t.now))
		if err != nil {
			if _, dup := uniqueViolation(err); dup {
				return &switchboard.Error{Code: switchboard.CodeConflict, Message: "revision " + v.Revision + " exists",
					Fields: map[string]string{"revision": "is taken by another version"}}
			}
			return fmt.Errorf("insert queue settings version: %w", err)
		}
		v.ID = id
		meta := v
		meta.Snapshot = nil
		return t.appendEvent(ctx, tenantID, switchboard.EventQueueSettingsVersion, "queue_settings_version", id, meta)
	})
	return v, err
}

// QueueSettingsVersion implements switchboard.Store.
func (db *DB) QueueSettingsVersion(ctx context.Context, tenantID, id int64) (switchboard.QueueSettingsVersion, error) {
	return getOne(ctx, db, "queue_settings_versions", queueSettingsMeta+", snapshot", "queue settings version",
		scanQueueSettingsVersion(true), tenantID, id)
}

// QueueSettingsVersionByRevision implements switchboard.Store.
func (db *DB) QueueSettingsVersionByRevision(ctx context.Context, tenantID int64, revision string) (switchboard.QueueSettingsVersion, error) {
	v, err := scanQueueSettingsVersion(true)(db.queryRow(ctx, "SELECT "+queueSettingsMeta+", snapshot FROM queue_settings_versions WHERE tenant_id = ? AND revision = ?",
		tenantID, revision))
	if errors.Is(err, sql.ErrNoRows) {
		return v, switchboard.Errorf(switchboard.CodeNotFound, "queue settings version %s not found", revision)
	}
	if err != nil {
		return v, fmt.Errorf("get queue settings version: %w", err)
	}
	return v, nil
}

// QueueSettingsVersions implements switchboard.Store.
func (db *DB) QueueSettingsVersions(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.QueueSettingsVersion], error) {
	return listPage(ctx, db, listQuery{cols: queueSettingsMeta, from: "FROM queue_settings_versions WHERE tenant_id = ?", args: []any{tenantID},
		key: "id", desc: true}, opt, scanQueueSettingsVersion(false), func(v switchboard.QueueSettingsVersion) int64 { return v.ID })
}
