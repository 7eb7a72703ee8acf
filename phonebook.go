package switchboard

import (
	"context"
	"strings"
	"time"
)

// Phonebooks are the external contacts agents pick numbers from while they
// work: UJET's "contact lists" (issue 17). They are not the dialer's
// ContactList, which holds leads to be copied into campaigns and dialled:
// a phonebook entry carries no dial state and is never dialled by a
// campaign, so the two are kept apart and named apart.

// PhonebookKind says whose a phonebook is.
type PhonebookKind string

// The phonebook kinds, as UJET names its contact lists. A tenant has one
// global phonebook, each agent at most one personal and one favorite
// phonebook, and any number of custom (named) ones.
const (
	PhonebookPersonal PhonebookKind = "personal"
	PhonebookFavorite PhonebookKind = "favorite"
	PhonebookGlobal   PhonebookKind = "global"
	PhonebookCustom   PhonebookKind = "custom"
)

// PhonebookKinds lists every valid PhonebookKind.
var PhonebookKinds = []PhonebookKind{PhonebookPersonal, PhonebookFavorite, PhonebookGlobal, PhonebookCustom}

// Owned says whether phonebooks of the kind belong to one agent.
func (k PhonebookKind) Owned() bool { return k == PhonebookPersonal || k == PhonebookFavorite }

// Phonebook is one list of external contacts.
type Phonebook struct {
	ID       int64         `json:"id"`
	TenantID int64         `json:"tenant_id"`
	Kind     PhonebookKind `json:"kind"`
	Name     string        `json:"name" limit:"200"`
	// Description says what the list is for.
	Description string `json:"description" limit:"1000"`
	// OwnerUserID is the agent a personal or favorite phonebook belongs to;
	// nil for global and custom ones.
	OwnerUserID *int64 `json:"owner_user_id"`
	// Entries is how many entries the phonebook holds, counted when read.
	Entries   int       `json:"entries"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PhonebookNumber is one number of an entry, with what it is ("mobile",
// "office"), since a contact is often reached on several.
type PhonebookNumber struct {
	Label string `json:"label" limit:"50"`
	// Number is E.164.
	Number string `json:"number" limit:"16"`
}

// PhonebookEntry is one external contact of a phonebook: what an agent needs
// to find and reach them.
type PhonebookEntry struct {
	ID          int64             `json:"id"`
	TenantID    int64             `json:"tenant_id"`
	PhonebookID int64             `json:"phonebook_id"`
	Name        string            `json:"name" limit:"200"`
	Company     string            `json:"company" limit:"200"`
	Email       string            `json:"email" limit:"254"`
	Numbers     []PhonebookNumber `json:"numbers"`
	Notes       string            `json:"notes" limit:"2000"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// Bounds of phonebooks.
const (
	MaxPhonebookNumbers    = 10
	MaxPhonebookNotes      = 2000
	MaxPhonebookDescLength = 1000
	MaxPhonebookLabel      = 50
)

// Events of phonebooks (subject "phonebook"; payload: the Phonebook) and of
// their entries (subject "phonebook_entry"; payload: the PhonebookEntry).
// phonebook.entries_replaced is a whole list of entries written at once (a
// queue-settings import; payload: the Phonebook).
const (
	EventPhonebookCreated         = "phonebook.created"
	EventPhonebookUpdated         = "phonebook.updated"
	EventPhonebookDeleted         = "phonebook.deleted"
	EventPhonebookEntriesReplaced = "phonebook.entries_replaced"
	EventPhonebookEntryCreated    = "phonebook_entry.created"
	EventPhonebookEntryUpdated    = "phonebook_entry.updated"
	EventPhonebookEntryDeleted    = "phonebook_entry.deleted"
)

// Normalize trims the phonebook's text.
func (p *Phonebook) Normalize() {
	p.Name = strings.TrimSpace(p.Name)
	p.Description = strings.TrimSpace(p.Description)
}

// Validate reports every invalid field of p. That an owner exists in the
// tenant is the store's to check.
func (p *Phonebook) Validate() error {
	pr := Problems{}
	if !contains(PhonebookKinds, p.Kind) {
		pr.Add("kind", "must be one of personal, favorite, global, custom")
	}
	checkName(pr, "name", p.Name, true)
	checkLen(pr, "description", p.Description, MaxPhonebookDescLength)
	switch {
	case p.Kind.Owned() && (p.OwnerUserID == nil || *p.OwnerUserID <= 0):
		pr.Add("owner_user_id", "is required for a "+string(p.Kind)+" phonebook")
	case !p.Kind.Owned() && p.OwnerUserID != nil:
		pr.Add("owner_user_id", "must be empty: a "+string(p.Kind)+" phonebook belongs to the company")
	}
	return pr.Err()
}

// Normalize trims the entry's text and fills empty lists.
func (e *PhonebookEntry) Normalize() {
	for _, s := range []*string{&e.Name, &e.Company, &e.Email, &e.Notes} {
		*s = strings.TrimSpace(*s)
	}
	e.Email = strings.ToLower(e.Email)
	if e.Numbers == nil {
		e.Numbers = []PhonebookNumber{}
	}
	for i := range e.Numbers {
		e.Numbers[i].Label = strings.TrimSpace(e.Numbers[i].Label)
		e.Numbers[i].Number = strings.TrimSpace(e.Numbers[i].Number)
	}
}

// Validate reports every invalid field of e: an entry needs a name and a way
// to reach the contact (a number or an e-mail).
func (e *PhonebookEntry) Validate() error {
	p := Problems{}
	checkName(p, "name", e.Name, true)
	checkName(p, "company", e.Company, false)
	if e.Email != "" {
		checkEmail(p, "email", e.Email)
	}
	checkLen(p, "notes", e.Notes, MaxPhonebookNotes)
	checkItems(p, "numbers", len(e.Numbers), MaxPhonebookNumbers)
	seen := map[string]bool{}
	for _, n := range e.Numbers {
		if !IsE164(n.Number) {
			p.Add("numbers", "each number must be E.164, such as +14155550100")
		} else if seen[n.Number] {
			p.Add("numbers", "lists "+n.Number+" twice")
		}
		seen[n.Number] = true
		checkLen(p, "numbers", n.Label, MaxPhonebookLabel)
	}
	if len(e.Numbers) == 0 && e.Email == "" {
		p.Add("numbers", "an entry needs a number or an email")
	}
	return p.Err()
}

// PhonebookFilter narrows a phonebook list.
type PhonebookFilter struct {
	Kinds []PhonebookKind // none: any
	// OwnerUserID keeps one agent's personal and favorite phonebooks (and
	// every company one); 0: any owner.
	OwnerUserID int64
}

// PhonebookStore keeps phonebooks and their entries. Like every Store
// method, each checks the tenant and writes the change with its event.
type PhonebookStore interface {
	// CreatePhonebook files a phonebook. A tenant has one global phonebook
	// and an agent one of each owned kind: another is CodeConflict.
	CreatePhonebook(ctx context.Context, tenantID int64, p Phonebook) (Phonebook, error)
	// EnsurePhonebook returns the tenant's one phonebook of an unnamed kind
	// (global, or an agent's personal or favorite one), creating it with the
	// kind's default name the first time.
	EnsurePhonebook(ctx context.Context, tenantID int64, kind PhonebookKind, ownerUserID *int64) (Phonebook, error)
	Phonebook(ctx context.Context, tenantID, id int64) (Phonebook, error)
	// Phonebooks lists the tenant's phonebooks, oldest first.
	Phonebooks(ctx context.Context, tenantID int64, f PhonebookFilter, opt ListOptions) (Page[Phonebook], error)
	// UpdatePhonebookFunc is the read-modify-write update (see Store); fn
	// may change the name and the description only.
	UpdatePhonebookFunc(ctx context.Context, tenantID, id int64, fn func(*Phonebook) error) (Phonebook, error)
	// DeletePhonebook removes a phonebook with its entries.
	DeletePhonebook(ctx context.Context, tenantID, id int64) error

	CreatePhonebookEntry(ctx context.Context, tenantID int64, e PhonebookEntry) (PhonebookEntry, error)
	// PhonebookEntry finds entry id of phonebook phonebookID (CodeNotFound
	// when it is another phonebook's).
	PhonebookEntry(ctx context.Context, tenantID, phonebookID, id int64) (PhonebookEntry, error)
	// PhonebookEntries lists a phonebook's entries, oldest first.
	PhonebookEntries(ctx context.Context, tenantID, phonebookID int64, opt ListOptions) (Page[PhonebookEntry], error)
	UpdatePhonebookEntryFunc(ctx context.Context, tenantID, phonebookID, id int64, fn func(*PhonebookEntry) error) (PhonebookEntry, error)
	DeletePhonebookEntry(ctx context.Context, tenantID, phonebookID, id int64) error
	// ReplacePhonebookEntries makes entries the phonebook's whole content
	// in one transaction (a restore of saved settings).
	ReplacePhonebookEntries(ctx context.Context, tenantID, phonebookID int64, entries []PhonebookEntry) (Phonebook, error)
}
