package ujet

// Contact lists (seed "Contact Lists 6"; paths inferred, spec §2.12) are the
// core's phonebooks: external contacts agents pick numbers from. A tenant has
// one global list (created the first time the lists are read), each agent a
// personal and a favorite list (created the first time the lists are read
// with user_id, and filled by the agent's own tools), and any number of
// custom lists. Through this API the company creates, renames and
// deletes custom lists and edits the entries of custom and global lists;
// personal and favorite lists are the agents' own and read-only here (400).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"switchboard"
	"switchboard/internal/phone"
)

// contactListOut is a contact list as this dialect shows it.
type contactListOut struct {
	ID int64 `json:"id"`
	// ListType is personal, favorite, global or custom.
	ListType    string `json:"list_type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// UserID is the agent a personal or favorite list belongs to.
	UserID       *int64 `json:"user_id"`
	EntriesCount int    `json:"entries_count"`
	Editable     bool   `json:"editable"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
}

// contactPhoneOut is one number of an entry.
type contactPhoneOut struct {
	Label  string `json:"label"`
	Number string `json:"number"`
}

// contactEntryOut is one entry (contact record) of a list.
type contactEntryOut struct {
	ID            int64             `json:"id"`
	ContactListID int64             `json:"contact_list_id"`
	Name          string            `json:"name"`
	Company       string            `json:"company"`
	Email         string            `json:"email"`
	PhoneNumbers  []contactPhoneOut `json:"phone_numbers"`
	Notes         string            `json:"notes"`
	CreatedAt     string            `json:"created_at"`
	UpdatedAt     string            `json:"updated_at"`
}

func renderContactList(p switchboard.Phonebook) contactListOut {
	return contactListOut{ID: p.ID, ListType: string(p.Kind), Name: p.Name, Description: p.Description, UserID: p.OwnerUserID,
		EntriesCount: p.Entries, Editable: !p.Kind.Owned(), CreatedAt: millis(p.CreatedAt), UpdatedAt: millis(p.UpdatedAt)}
}

func renderContactEntry(e switchboard.PhonebookEntry) contactEntryOut {
	out := contactEntryOut{ID: e.ID, ContactListID: e.PhonebookID, Name: e.Name, Company: e.Company, Email: e.Email,
		PhoneNumbers: make([]contactPhoneOut, len(e.Numbers)), Notes: e.Notes, CreatedAt: millis(e.CreatedAt), UpdatedAt: millis(e.UpdatedAt)}
	for i, n := range e.Numbers {
		out.PhoneNumbers[i] = contactPhoneOut(n)
	}
	return out
}

// contactListBody creates or changes a custom list. list_type, when sent,
// must be custom: the other kinds are not created through the API.
type contactListBody struct {
	Name        *string `json:"name" limit:"200"`
	Description *string `json:"description" limit:"1000"`
	ListType    string  `json:"list_type" limit:"20"`
}

// contactPhoneIn is a number of an entry as clients send it: "+14155550100" or
// {"label": "office", "number": "+14155550100"}.
type contactPhoneIn struct {
	Label  string `json:"label" limit:"50"`
	Number string `json:"number" limit:"32"`
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *contactPhoneIn) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '"' {
		*p = contactPhoneIn{}
		return json.Unmarshal(b, &p.Number)
	}
	type plain contactPhoneIn
	return json.Unmarshal(b, (*plain)(p))
}

// contactEntryBody creates or changes an entry; a PATCH changes the fields
// it sends. phone_number is a shorthand for one unlabelled number.
type contactEntryBody struct {
	Name         *string           `json:"name" limit:"200"`
	Company      *string           `json:"company" limit:"200"`
	Email        *string           `json:"email" limit:"254"`
	PhoneNumbers *[]contactPhoneIn `json:"phone_numbers" limit:"10"`
	PhoneNumber  *string           `json:"phone_number" limit:"32"`
	Notes        *string           `json:"notes" limit:"2000"`
}

// Texts of this file's refusals.
const (
	textOwnedReadOnly = "%s contact lists are managed by their agent and are read-only through the API"
	textOnlyCustom    = "Only custom contact lists can be created, edited or deleted through the API"
)

func (a *API) contactListRoutes() []route {
	const list, entries = "contact_lists/{id}", "contact_lists/{contact_list_id}/entries"
	typeQuery := []param{{Name: "page", Type: "integer", Doc: "page, from 1"}, {Name: "per", Type: "integer", Doc: "records per page (at most 100)"},
		{Name: "list_type[]", Type: "string", Doc: "personal, favorite, global or custom (repeatable)"},
		{Name: "user_id", Type: "integer", Doc: "one agent's personal and favorite lists (and the company's)"}}
	pageQuery := typeQuery[:2]
	return []route{
		rawHandler(route{Method: "GET", Path: "contact_lists", Summary: "List contact lists", Scope: switchboard.ScopeContactsRead, Query: typeQuery,
			Doc: "Every contact list of the company: the global list, agents' personal and favorite lists, and custom lists."},
			nil, reflect.TypeFor[[]contactListOut](), a.listContactLists),
		handler(route{Method: "POST", Path: "contact_lists", Summary: "Create a custom contact list", Scope: switchboard.ScopeContactsManage,
			Status: http.StatusCreated}, a.createContactList),
		handler(route{Method: "GET", Path: list, Summary: "Get a contact list", Scope: switchboard.ScopeContactsRead},
			func(ctx context.Context, c *call, _ *noBody) (contactListOut, error) {
				p, err := a.contactList(ctx, c, "id")
				return renderContactList(p), err
			}),
		handler(route{Method: "PATCH", Path: list, Summary: "Edit a custom contact list", Scope: switchboard.ScopeContactsManage},
			a.updateContactList),
		handler(route{Method: "DELETE", Path: list, Summary: "Delete a custom contact list", Scope: switchboard.ScopeContactsManage},
			a.deleteContactList),
		rawHandler(route{Method: "GET", Path: entries, Summary: "List a contact list's entries", Scope: switchboard.ScopeContactsRead, Query: pageQuery},
			nil, reflect.TypeFor[[]contactEntryOut](), a.listContactEntries),
		handler(route{Method: "POST", Path: entries, Summary: "Add an entry to a custom or global contact list", Scope: switchboard.ScopeContactsManage,
			Status: http.StatusCreated}, a.createContactEntry),
		handler(route{Method: "PATCH", Path: entries + "/{id}", Summary: "Edit an entry of a custom or global contact list",
			Scope: switchboard.ScopeContactsManage}, a.updateContactEntry),
		handler(route{Method: "DELETE", Path: entries + "/{id}", Summary: "Delete an entry of a custom or global contact list",
			Scope: switchboard.ScopeContactsManage}, a.deleteContactEntry),
	}
}

// contactList is the list the path value name names (404 when unknown).
func (a *API) contactList(ctx context.Context, c *call, name string) (switchboard.Phonebook, error) {
	id, err := pathID(c, name)
	if err != nil {
		return switchboard.Phonebook{}, err
	}
	p, err := a.opt.Store.Phonebook(ctx, c.tenantID(), id)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return p, notFound()
	}
	return p, err
}

// listContactLists pages the lists, the global one first made sure of so
// that a company always has it.
func (a *API) listContactLists(w http.ResponseWriter, c *call) {
	ctx := c.r.Context()
	err := func() error {
		opt, page, per, err := pageOptions(c.r)
		if err != nil {
			return err
		}
		var f switchboard.PhonebookFilter
		for _, k := range multi(c.r, "list_type") {
			if !slices.Contains(switchboard.PhonebookKinds, switchboard.PhonebookKind(k)) {
				return badRequest("list_type must be personal, favorite, global or custom")
			}
			f.Kinds = append(f.Kinds, switchboard.PhonebookKind(k))
		}
		if ids, err := multiInt(c.r, "user_id"); err != nil {
			return err
		} else if len(ids) > 1 {
			return badRequest("user_id takes one agent")
		} else if len(ids) == 1 {
			f.OwnerUserID = ids[0]
		}
		if _, err := a.opt.Store.EnsurePhonebook(ctx, c.tenantID(), switchboard.PhonebookGlobal, nil); err != nil {
			return err
		}
		if f.OwnerUserID != 0 {
			// An agent's own lists exist from the first time they are asked
			// for, as the company's global one does.
			if _, err := a.opt.Store.User(ctx, c.tenantID(), f.OwnerUserID); switchboard.ErrorCode(err) == switchboard.CodeNotFound {
				return badRequest(fmt.Sprintf("user_id %d is not found", f.OwnerUserID))
			} else if err != nil {
				return err
			}
			for _, k := range []switchboard.PhonebookKind{switchboard.PhonebookPersonal, switchboard.PhonebookFavorite} {
				if _, err := a.opt.Store.EnsurePhonebook(ctx, c.tenantID(), k, &f.OwnerUserID); err != nil {
					return err
				}
			}
		}
		p, err := a.opt.Store.Phonebooks(ctx, c.tenantID(), f, opt)
		if err != nil {
			return err
		}
		out := make([]contactListOut, len(p.Items))
		for i, l := range p.Items {
			out[i] = renderContactList(l)
		}
		writeList(c, a.opt.PublicURL, out, p.Total, page, per)
		return nil
	}()
	if err != nil {
		a.writeError(w, c.r, err)
	}
}

// checkCustomType refuses a list_type other than custom.
func checkCustomType(t string) error {
	if t != "" && t != string(switchboard.PhonebookCustom) {
		return badRequest(textOnlyCustom)
	}
	return nil
}

func (a *API) createContactList(ctx context.Context, c *call, in *contactListBody) (contactListOut, error) {
	if err := checkCustomType(in.ListType); err != nil {
		return contactListOut{}, err
	}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		return contactListOut{}, missing("name")
	}
	p := switchboard.Phonebook{Kind: switchboard.PhonebookCustom, Name: *in.Name}
	if in.Description != nil {
		p.Description = *in.Description
	}
	p, err := a.opt.Store.CreatePhonebook(ctx, c.tenantID(), p)
	return renderContactList(p), err
}

// customList is the list the path names, refused unless it is custom.
func (a *API) customList(ctx context.Context, c *call) (switchboard.Phonebook, error) {
	p, err := a.contactList(ctx, c, "id")
	if err == nil && p.Kind != switchboard.PhonebookCustom {
		err = badRequest(textOnlyCustom)
	}
	return p, err
}

func (a *API) updateContactList(ctx context.Context, c *call, in *contactListBody) (contactListOut, error) {
	p, err := a.customList(ctx, c)
	if err != nil {
		return contactListOut{}, err
	}
	if err := checkCustomType(in.ListType); err != nil {
		return contactListOut{}, err
	}
	if in.Name != nil && strings.TrimSpace(*in.Name) == "" {
		return contactListOut{}, missing("name")
	}
	p, err = a.opt.Store.UpdatePhonebookFunc(ctx, c.tenantID(), p.ID, func(p *switchboard.Phonebook) error {
		if in.Name != nil {
			p.Name = *in.Name
		}
		if in.Description != nil {
			p.Description = *in.Description
		}
		return nil
	})
	return renderContactList(p), err
}

func (a *API) deleteContactList(ctx context.Context, c *call, _ *noBody) (contactListOut, error) {
	p, err := a.customList(ctx, c)
	if err != nil {
		return contactListOut{}, err
	}
	return renderContactList(p), a.opt.Store.DeletePhonebook(ctx, c.tenantID(), p.ID)
}

// editableList is the list of an entry route, refused when it is an
// agent's own.
func (a *API) editableList(ctx context.Context, c *call) (switchboard.Phonebook, error) {
	p, err := a.contactList(ctx, c, "contact_list_id")
	if err == nil && p.Kind.Owned() {
		err = badRequest(fmt.Sprintf(textOwnedReadOnly, strings.ToUpper(string(p.Kind[:1]))+string(p.Kind[1:])))
	}
	return p, err
}

func (a *API) listContactEntries(w http.ResponseWriter, c *call) {
	ctx := c.r.Context()
	err := func() error {
		opt, page, per, err := pageOptions(c.r)
		if err != nil {
			return err
		}
		l, err := a.contactList(ctx, c, "contact_list_id")
		if err != nil {
			return err
		}
		p, err := a.opt.Store.PhonebookEntries(ctx, c.tenantID(), l.ID, opt)
		if err != nil {
			return err
		}
		out := make([]contactEntryOut, len(p.Items))
		for i, e := range p.Items {
			out[i] = renderContactEntry(e)
		}
		writeList(c, a.opt.PublicURL, out, p.Total, page, per)
		return nil
	}()
	if err != nil {
		a.writeError(w, c.r, err)
	}
}

// applyText writes the text fields in sends onto e.
func (in *contactEntryBody) applyText(e *switchboard.PhonebookEntry) {
	for _, f := range []struct {
		src *string
		dst *string
	}{{in.Name, &e.Name}, {in.Company, &e.Company}, {in.Email, &e.Email}, {in.Notes, &e.Notes}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
}

// numbers reads the numbers in sends (set is false when it sends none),
// normalized to E.164: digits without a + are read as international, as
// CRMs store them.
func (in *contactEntryBody) numbers() (out []switchboard.PhonebookNumber, set bool, err error) {
	var numbers []contactPhoneIn
	switch {
	case in.PhoneNumbers != nil:
		numbers = *in.PhoneNumbers
		if in.PhoneNumber != nil && *in.PhoneNumber != "" {
			numbers = append([]contactPhoneIn{{Number: *in.PhoneNumber}}, numbers...)
		}
	case in.PhoneNumber != nil:
		if *in.PhoneNumber != "" {
			numbers = []contactPhoneIn{{Number: *in.PhoneNumber}}
		}
	default:
		return nil, false, nil
	}
	out = make([]switchboard.PhonebookNumber, 0, len(numbers))
	for _, n := range numbers {
		e164, err := phone.Normalize(strings.TrimSpace(n.Number), "")
		if err != nil {
			return nil, true, badRequest(fmt.Sprintf("phone number %q is invalid", switchboard.Clip(n.Number, 40)))
		}
		out = append(out, switchboard.PhonebookNumber{Label: n.Label, Number: e164})
	}
	return out, true, nil
}

func (a *API) createContactEntry(ctx context.Context, c *call, in *contactEntryBody) (contactEntryOut, error) {
	l, err := a.editableList(ctx, c)
	if err != nil {
		return contactEntryOut{}, err
	}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		return contactEntryOut{}, missing("name")
	}
	e := switchboard.PhonebookEntry{PhonebookID: l.ID}
	in.applyText(&e)
	if e.Numbers, _, err = in.numbers(); err != nil {
		return contactEntryOut{}, err
	}
	e, err = a.opt.Store.CreatePhonebookEntry(ctx, c.tenantID(), e)
	return renderContactEntry(e), err
}

// contactEntryID is the entry the path names.
func contactEntryID(c *call) (int64, error) { return pathID(c, "id") }

func (a *API) updateContactEntry(ctx context.Context, c *call, in *contactEntryBody) (contactEntryOut, error) {
	l, err := a.editableList(ctx, c)
	if err != nil {
		return contactEntryOut{}, err
	}
	id, err := contactEntryID(c)
	if err != nil {
		return contactEntryOut{}, err
	}
	if in.Name != nil && strings.TrimSpace(*in.Name) == "" {
		return contactEntryOut{}, missing("name")
	}
	// The numbers are normalized before the transaction, so that a bad one
	// is refused without holding the row.
	numbers, set, err := in.numbers()
	if err != nil {
		return contactEntryOut{}, err
	}
	e, err := a.opt.Store.UpdatePhonebookEntryFunc(ctx, c.tenantID(), l.ID, id, func(e *switchboard.PhonebookEntry) error {
		in.applyText(e)
		if set {
			e.Numbers = slices.Clone(numbers)
		}
		return nil
	})
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return contactEntryOut{}, notFound()
	}
	return renderContactEntry(e), err
}

func (a *API) deleteContactEntry(ctx context.Context, c *call, _ *noBody) (contactEntryOut, error) {
	l, err := a.editableList(ctx, c)
	if err != nil {
		return contactEntryOut{}, err
	}
	id, err := contactEntryID(c)
	if err != nil {
		return contactEntryOut{}, err
	}
	e, err := a.opt.Store.PhonebookEntry(ctx, c.tenantID(), l.ID, id)
	if err == nil {
		err = a.opt.Store.DeletePhonebookEntry(ctx, c.tenantID(), l.ID, id)
	}
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return contactEntryOut{}, notFound()
	}
	return renderContactEntry(e), err
}
