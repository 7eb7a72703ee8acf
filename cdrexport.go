package switchboard

// CallColumns selects the stored fields of a call that a streaming read of
// records (Store.EachCDR) fills. Exports write a handful of a call's fields,
// and on the pure-Go SQLite driver every value read costs about 150 ns, so
// an export asks for what it writes and no more. ID, TenantID and CreatedAt
// are always filled; the fields of unselected columns stay zero, and so do
// the durations of a CDR that derive from them.
type CallColumns uint32

// The columns of a call.
const (
	ColUUID          CallColumns = 1 << iota
	ColDirection                 // Direction
	ColStatus                    // Status
	ColNumbers                   // From and To
	ColQueue                     // QueueID
	ColAgent                     // AgentID
	ColParent                    // ParentID
	ColDisposition               // Disposition
	ColHangupBy                  // HangupBy
	ColHangupCause               // HangupCause
	ColQueuedAt                  // QueuedAt
	ColRingingAt                 // RingingAt
	ColConnectedAt               // ConnectedAt
	ColEndedAt                   // EndedAt
	ColSourceSystem              // Source.System
	ColSourceAccount             // Source.AccountID
	ColScheduledAt               // ScheduledAt
	ColDTMF                      // DTMF
	ColHold                      // Hold and HoldSeconds
	ColMedia                     // Media
	ColFaxPages                  // FaxPages
	ColRecorded                  // Recorded
	// AllCallColumns selects every stored field.
	AllCallColumns = 1<<iota - 1
)
