package native

import (
	"context"
	"net/http"
	"strings"

	"switchboard"
)

// contactBody is the writable view of a contact.
type contactBody = switchboard.ContactFields

// defaultCRMName is the CRM name of contacts filed without one: Voxloud's
// documented default, which native contacts have always shared, so that a
// contact reads the same on both APIs.
const defaultCRMName = "Voxloud"

// applyContact replaces the written fields of c with in's.
func applyContact(in *contactBody, c *switchboard.Contact) {
	c.SetFields(*in)
	if strings.TrimSpace(c.CRMName) == "" {
		c.CRMName = defaultCRMName
	}
}

func (a *API) contactRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeContactsRead, switchboard.ScopeContactsManage
	handle(a, route{Method: "GET", Path: "/v1/contacts", Summary: "Search CRM contacts (each filter matches part of the field, ignoring case)",
		Tag: "Contacts", Scope: read, Paged: true, Query: []param{{"first_name", "string", "part of the first name"},
			{"last_name", "string", "part of the last name"}, {"phone", "string", "part of any of the contact's numbers"},
			{"email", "string", "part of any of the contact's addresses"}}},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.Contact], error) {
			q := c.r.URL.Query()
			return s.Contacts(ctx, c.tenantID(), switchboard.ContactFilter{FirstName: q.Get("first_name"), LastName: q.Get("last_name"),
				Phone: q.Get("phone"), Email: q.Get("email")}, opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/contacts", Summary: "File a CRM contact; inbound callers are matched to contacts by number",
		Tag: "Contacts", Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *contactBody) (switchboard.Contact, error) {
			var ct switchboard.Contact
			applyContact(in, &ct)
			return s.CreateContact(ctx, c.tenantID(), ct)
		})
	get := byID(s.Contact)
	handle(a, route{Method: "GET", Path: "/v1/contacts/{id}", Summary: "Get a contact", Tag: "Contacts", Scope: read}, getter(get))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/contacts/{id}", Summary: "Update a contact", Tag: "Contacts", Scope: manage},
		patch[contactBody, switchboard.Contact]{
			update: updater(s.UpdateContactFunc),
			toBody: switchboard.Contact.Fields,
			apply:  func(in *contactBody, ct *switchboard.Contact) error { applyContact(in, ct); return nil },
		})
	handle(a, route{Method: "DELETE", Path: "/v1/contacts/{id}", Summary: "Delete a contact", Tag: "Contacts", Scope: manage,
		Status: http.StatusNoContent}, deleter(s.DeleteContact))
}
