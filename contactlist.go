package switchboard

// ContactListStore keeps contact lists (personal, favorite, global, custom)
// and their entries: the external numbers agents pick from. It is filled in
// by the UJET dialect's issue (17).
type ContactListStore interface{}
