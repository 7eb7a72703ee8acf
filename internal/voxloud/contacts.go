package voxloud

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/internal/httpapi"
)

// authInfo answers validate-auth: the tenant's name and administrator email.
type authInfo struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

func (a *API) authRoutes() {
	handle(a, route{Method: "POST", Path: "/api/v1/validate-auth", Summary: "Validate the Voverc-Auth key", Scope: switchboard.ScopeTenantRead,
		Replay: httpapi.ReplayOff},
		func(ctx context.Context, c *call, _ *noBody) (authInfo, error) {
			t := c.principal.Tenant
			return authInfo{Name: t.Name, Email: t.AdminEmail}, nil
		})
}

// contactBody is a contact as Voxloud writes it.
type contactBody = switchboard.ContactFields

// defaultCRMName is the CRM name Voxloud documents for contacts filed
// without one.
const defaultCRMName = "Voxloud"

// contact is the contact in writes, with Voxloud's default CRM name.
func contact(in *contactBody) switchboard.Contact {
	var c switchboard.Contact
	c.SetFields(*in)
	if strings.TrimSpace(c.CRMName) == "" {
		c.CRMName = defaultCRMName
	}
	return c
}

// contactOut is a contact as Voxloud renders it.
type contactOut struct {
	ID string `json:"id"`
	switchboard.ContactFields
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func renderContact(c switchboard.Contact, t switchboard.Tenant) contactOut {
	loc := tenantLocation(t)
	return contactOut{ID: c.UUID, ContactFields: c.Fields(), CreatedAt: isoTime(c.CreatedAt, loc), UpdatedAt: isoTime(c.UpdatedAt, loc)}
}

// contactPage is one page of a contact search.
type contactPage struct {
	Data    []contactOut `json:"data"`
	HasNext bool         `json:"has_next"`
}

// partialPhone is what a phone search may hold: part of an E.164 number.
var partialPhone = regexp.MustCompile(`^\+?[0-9]{1,15}$`)

func (a *API) contactRoutes() {
	handle(a, route{Method: "POST", Path: "/api/v1/contacts", Summary: "Create a contact", Scope: switchboard.ScopeContactsManage},
		func(ctx context.Context, c *call, in *contactBody) (contactOut, error) {
			ct, err := a.opt.Store.CreateContact(ctx, c.tenantID(), contact(in))
			return renderContact(ct, c.principal.Tenant), err
		})
	update := func(ctx context.Context, c *call, in *contactBody) (contactOut, error) {
		old, err := a.opt.Store.ContactByUUID(ctx, c.tenantID(), c.r.PathValue("id"))
		if err != nil {
			return contactOut{}, err
		}
		// Every field is replaced, inside the transaction that locks the
		// row, so that the contact cannot change or go between the lookup
		// and the write.
		ct, err := a.opt.Store.UpdateContactFunc(ctx, c.tenantID(), old.ID, func(cur *switchboard.Contact) error {
			cur.SetFields(contact(in).Fields())
			return nil
		})
		return renderContact(ct, c.principal.Tenant), err
	}
	for _, m := range []string{"PUT", "POST"} {
		handle(a, route{Method: m, Path: "/api/v1/contacts/{id}", Summary: "Update a contact (every field is replaced)",
			Scope: switchboard.ScopeContactsManage}, update)
	}
	handle(a, route{Method: "GET", Path: "/api/v1/contacts/{id}", Summary: "Get a contact", Scope: switchboard.ScopeContactsRead},
		func(ctx context.Context, c *call, _ *noBody) (contactOut, error) {
			ct, err := a.opt.Store.ContactByUUID(ctx, c.tenantID(), c.r.PathValue("id"))
			return renderContact(ct, c.principal.Tenant), err
		})
	handle(a, route{Method: "DELETE", Path: "/api/v1/contacts/{id}", Summary: "Delete a contact", Scope: switchboard.ScopeContactsManage,
		Status: http.StatusNoContent},
		func(ctx context.Context, c *call, _ *noBody) (noContent, error) {
			ct, err := a.opt.Store.ContactByUUID(ctx, c.tenantID(), c.r.PathValue("id"))
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, a.opt.Store.DeleteContact(ctx, c.tenantID(), ct.ID)
		})
	handle(a, route{Method: "GET", Path: "/api/v1/contacts", Summary: "Search contacts (partial, case-insensitive matches)",
		Scope: switchboard.ScopeContactsRead, Query: []param{
			{"first_name", "string", "full or partial first name"}, {"last_name", "string", "full or partial last name"},
			{"phone", "string", "full or partial number, E.164 digits"}, {"email", "string", "full or partial e-mail address"},
			{"offset", "integer", "contacts to skip, 0 or more (default 0)"}, {"limit", "integer", "page size, 1-100 (default 20)"}}},
		func(ctx context.Context, c *call, _ *noBody) (contactPage, error) {
			q := c.r.URL.Query()
			f := switchboard.ContactFilter{FirstName: q.Get("first_name"), LastName: q.Get("last_name"), Phone: strings.TrimSpace(q.Get("phone")), Email: q.Get("email")}
			if f.Phone != "" && !partialPhone.MatchString(f.Phone) {
				return contactPage{}, invalid("phone", "must be all or part of an E.164 number: digits, optionally after a +")
			}
			offset, err := intParam(q.Get("offset"), "offset", 0, 0, 1<<31-1, "must be a whole number, 0 or more")
			if err != nil {
				return contactPage{}, err
			}
			limit, err := intParam(q.Get("limit"), "limit", 20, 1, 100, "must be a whole number from 1 to 100")
			if err != nil {
				return contactPage{}, err
			}
			p, err := a.opt.Store.Contacts(ctx, c.tenantID(), f, switchboard.ListOptions{Limit: limit, Offset: offset, SkipTotal: true}) // the page shows no total
			if err != nil {
				return contactPage{}, err
			}
			out := contactPage{Data: make([]contactOut, len(p.Items)), HasNext: p.NextCursor != ""}
			for i, ct := range p.Items {
				out.Data[i] = renderContact(ct, c.principal.Tenant)
			}
			return out, nil
		})
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(v, name string, def, lo, hi int, why string) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, &switchboard.Error{Code: switchboard.CodeBadRequest, Message: name + " " + why + ", not " + switchboard.Echo(v),
			Fields: map[string]string{name: why}}
	}
	return n, nil
}

// userOut is a user as Voxloud's v2 users list renders it.
type userOut struct {
	ID              string      `json:"id"`
	FirstName       string      `json:"first_name"`
	LastName        string      `json:"last_name"`
	ExtensionNumber *int64      `json:"extension_number"`
	OutboundCLI     outboundCLI `json:"outbound_cli"`
}

type outboundCLI struct {
	OutboundDID   *did  `json:"outbound_did"`
	AvailableDIDs []did `json:"available_dids"`
}

type did struct {
	Number string `json:"number"`
	Label  string `json:"label"`
}

func (a *API) userRoutes() {
	handle(a, route{Method: "GET", Path: "/api/v2/users", Summary: "List the users with their outbound numbers", Scope: switchboard.ScopeUsersRead},
		func(ctx context.Context, c *call, _ *noBody) ([]userOut, error) {
			users, err := switchboard.All(ctx, func(ctx context.Context, tid int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.User], error) {
				return a.opt.Store.Users(ctx, tid, switchboard.UserFilter{}, opt)
			}, c.tenantID())
			if err != nil {
				return nil, err
			}
			numbers, err := switchboard.All(ctx, a.opt.Store.PhoneNumbers, c.tenantID())
			if err != nil {
				return nil, err
			}
			out := make([]userOut, 0, len(users))
			for _, u := range users {
				out = append(out, renderUser(u, numbers))
			}
			return out, nil
		})
}

// renderUser gives the user's outbound numbers: those assigned to the user
// and those assigned to nobody (the tenant's shared lines), not other users'
// own; the selected one is the user's outbound number, else the first of them.
func renderUser(u switchboard.User, numbers []switchboard.PhoneNumber) userOut {
	out := userOut{ID: u.UUID, FirstName: u.FirstName, LastName: u.LastName, OutboundCLI: outboundCLI{AvailableDIDs: []did{}}}
	if n, err := strconv.ParseInt(u.Extension, 10, 64); err == nil {
		out.ExtensionNumber = &n
	}
	for _, n := range numbers {
		if n.UserID != nil && *n.UserID != u.ID {
			continue
		}
		d := did{Number: n.Number, Label: n.Label}
		out.OutboundCLI.AvailableDIDs = append(out.OutboundCLI.AvailableDIDs, d)
		if n.Number == u.OutboundNumber {
			out.OutboundCLI.OutboundDID = &d
		}
	}
	if out.OutboundCLI.OutboundDID == nil && u.OutboundNumber != "" {
		out.OutboundCLI.OutboundDID = &did{Number: u.OutboundNumber}
	}
	if out.OutboundCLI.OutboundDID == nil && len(out.OutboundCLI.AvailableDIDs) > 0 {
		out.OutboundCLI.OutboundDID = &out.OutboundCLI.AvailableDIDs[0]
	}
	return out
}
