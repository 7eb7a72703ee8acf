package switchboard

// DNCStore is the do-not-call list beyond the single-number methods of
// Store: batches with an outcome per entry, removal and lookup by number.
// It is filled in by the UJET dialect's issue (17).
type DNCStore interface{}
