package switchboard

// CallDataStore keeps what the integration APIs attach to a call beside the
// engine's record of it: the end user, customer flags and custom data
// (signed and unsigned), the CRM ticket, the language and the recording
// permission asked for. It is a table of its own so that the engine's saves
// of a call never overwrite what an API wrote. It is filled in by the UJET
// dialect's issue (17).
type CallDataStore interface{}
