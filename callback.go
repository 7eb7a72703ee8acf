package switchboard

// CallbackStore reads the scheduled callbacks of a queue by period, for the
// callback slots the app-style dialects show and enforce. It is filled in
// by the UJET dialect's issue (17).
type CallbackStore interface{}
