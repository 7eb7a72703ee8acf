package native

import (
	"context"
	"net/http"

	"switchboard"
)

// contactBody is the writable view of a contact.
type contactBody struct {
	FirstName    string `json:"first_name" limit:"200"`
	LastName     string `json:"last_name" limit:"200"`
	PrimaryPhone string `json:"primary_phone" limit:"64"`
	// Phones are the contact's other numbers; every number is E.164.
	Phones       []string `json:"phones" limit:"20"`
	PrimaryEmail string   `json:"primary_email" limit:"254"`
	Emails       []string `json:"emails" limit:"20"`
	CompanyName  string   `json:"company_name" limit:"200"`
	JobTitle     string   `json:"job_title" limit:"200"`
	Website      string   `json:"website" limit:"2000"`
	// CRMName names the contact's CRM (default "Voxloud", as Voxloud's API
	// sets it); CRMContactURL links to the contact there.
	CRMName       string `json:"crm_name" limit:"200"`
	CRMContactURL string `json:"crm_contact_url" limit:"2000"`
}

func (b *contactBody) apply(c *switchboard.Contact) {
	c.FirstName, c.LastName, c.PrimaryPhone, c.Phones = b.FirstName, b.LastName, b.PrimaryPhone, b.Phones
	c.PrimaryEmail, c.Emails, c.CompanyName, c.JobTitle = b.PrimaryEmail, b.Emails, b.CompanyName, b.JobTitle
	c.Website, c.CRMName, c.CRMContactURL = b.Website, b.CRMName, b.CRMContactURL
}

func toContactBody(c switchboard.Contact) contactBody {
	return contactBody{FirstName: c.FirstName, LastName: c.LastName, PrimaryPhone: c.PrimaryPhone, Phones: c.Phones,
		PrimaryEmail: c.PrimaryEmail, Emails: c.Emails, CompanyName: c.CompanyName, JobTitle: c.JobTitle, Website: c.Website,
		CRMName: c.CRMName, CRMContactURL: c.CRMContactURL}
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
			in.apply(&ct)
			return s.CreateContact(ctx, c.tenantID(), ct)
		})
	get := byID(s.Contact)
	handle(a, route{Method: "GET", Path: "/v1/contacts/{id}", Summary: "Get a contact", Tag: "Contacts", Scope: read}, getter(get))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/contacts/{id}", Summary: "Update a contact", Tag: "Contacts", Scope: manage},
		patch[contactBody, switchboard.Contact]{
			update: updater(s.UpdateContactFunc),
			toBody: toContactBody,
			apply:  func(in *contactBody, ct *switchboard.Contact) error { in.apply(ct); return nil },
		})
	handle(a, route{Method: "DELETE", Path: "/v1/contacts/{id}", Summary: "Delete a contact", Tag: "Contacts", Scope: manage,
		Status: http.StatusNoContent}, deleter(s.DeleteContact))
}
