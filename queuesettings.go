package switchboard

// QueueSettingsStore keeps versions of a tenant's queue and menu
// configuration: snapshots that an export writes and a restore puts back.
// It is filled in by the UJET dialect's issue (17).
type QueueSettingsStore interface{}
