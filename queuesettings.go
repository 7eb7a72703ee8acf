package switchboard

import (
	"context"
	"time"
)

// QueueSettingsVersion is one saved snapshot of a tenant's queue and menu
// configuration (queues with their settings, hours, members and skills, IVR
// menus, number routes, chat shortcuts and phonebooks) as a JSON document:
// what an export wrote, what an import applied, or the state kept before an
// import or a restore changed it, so that any of them can be put back.
type QueueSettingsVersion struct {
	ID       int64 `json:"id"`
	TenantID int64 `json:"tenant_id"`
	// Revision is the version's UUID, by which a restore may name it.
	Revision string `json:"revision"`
	Type     string `json:"type"`
	// CreatedBy is the e-mail of the user who caused the version ("" when
	// an API key did without naming one).
	CreatedBy           string `json:"created_by"`
	ExportAudioFiles    bool   `json:"export_audio_files"`
	ExportAttachedFiles bool   `json:"export_attached_files"`
	// Size is the length of Snapshot in bytes.
	Size int `json:"size"`
	// Snapshot is the JSON document; lists of versions leave it nil.
	Snapshot  []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// The version types: an export's snapshot, an imported file, the state
// saved on request or before an import or a restore changed it, and a
// version put back.
const (
	QueueSettingsExported  = "exported"
	QueueSettingsImported  = "imported"
	QueueSettingsAutoSaved = "auto_saved"
	QueueSettingsRestored  = "restored"
)

// QueueSettingsTypes lists every version type.
var QueueSettingsTypes = []string{QueueSettingsExported, QueueSettingsImported, QueueSettingsAutoSaved, QueueSettingsRestored}

// MaxQueueSettingsSnapshot bounds one snapshot (16 MiB).
const MaxQueueSettingsSnapshot = 16 << 20

// EventQueueSettingsVersion is the event of a saved version (subject
// "queue_settings_version"; payload: the version without its snapshot).
const EventQueueSettingsVersion = "queue_settings.version_saved"

// QueueSettingsStore keeps versions of a tenant's queue and menu
// configuration: snapshots that an export writes and a restore puts back.
type QueueSettingsStore interface {
	// SaveQueueSettingsVersion stores a version, giving it its revision
	// (a new UUID when empty) and size.
	SaveQueueSettingsVersion(ctx context.Context, tenantID int64, v QueueSettingsVersion) (QueueSettingsVersion, error)
	// QueueSettingsVersion reads a version with its snapshot.
	QueueSettingsVersion(ctx context.Context, tenantID, id int64) (QueueSettingsVersion, error)
	// QueueSettingsVersionByRevision reads a version named by its revision.
	QueueSettingsVersionByRevision(ctx context.Context, tenantID int64, revision string) (QueueSettingsVersion, error)
	// QueueSettingsVersions lists versions newest first, without their
	// snapshots.
	QueueSettingsVersions(ctx context.Context, tenantID int64, opt ListOptions) (Page[QueueSettingsVersion], error)
}
