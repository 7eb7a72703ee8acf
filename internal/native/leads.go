package native

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/leadimport"
)

// leadBody is one lead of an import, and the writable view of a lead. An
// import also takes phone for phone_number, external_unique_id for
// external_id, and any other key with a text, number or boolean value as a
// custom field; a CSV import takes the same names as columns, with
// phone_2 to phone_5 and a phone_numbers cell separated by ";" for more
// numbers (see internal/leadimport).
type leadBody struct {
	Name string `json:"name" limit:"200"`
	// PhoneNumber is dialled first, in any common format (stored in E.164;
	// national numbers need the leading +). Emergency numbers are refused.
	PhoneNumber string `json:"phone_number" limit:"64"`
	// PhoneNumbers are every number, dialled in turn attempt by attempt.
	PhoneNumbers []string `json:"phone_numbers" limit:"10"`
	// TimeZone (IANA) is where calling hours are counted; derived from the
	// first number when empty.
	TimeZone   string            `json:"time_zone" limit:"64"`
	ExternalID string            `json:"external_id" limit:"200"`
	Fields     map[string]string `json:"fields" limit:"50"`
	// Priority orders dialling: higher first.
	Priority int `json:"priority" range:"-1000,1000"`
	// Consent is true, false (never dialled) or null (unknown).
	Consent *bool `json:"consent"`
}

// leadPatch is the writable view of a lead: its own fields, and its status,
// which may only be set to skipped (taking it out of dialing) or back to
// upcoming.
type leadPatch struct {
	Name         string                 `json:"name" limit:"200"`
	PhoneNumber  string                 `json:"phone_number" limit:"64"`
	PhoneNumbers []string               `json:"phone_numbers" limit:"10"`
	TimeZone     string                 `json:"time_zone" limit:"64"`
	ExternalID   string                 `json:"external_id" limit:"200"`
	Fields       map[string]string      `json:"fields" limit:"50"`
	Priority     int                    `json:"priority" range:"-1000,1000"`
	Consent      *bool                  `json:"consent"`
	Status       switchboard.LeadStatus `json:"status" limit:"32"`
}

func leadToPatch(l switchboard.Lead) leadPatch {
	return leadPatch{Name: l.Name, PhoneNumber: l.PhoneNumber, PhoneNumbers: slices.Clone(l.PhoneNumbers), TimeZone: l.TimeZone,
		ExternalID: l.ExternalID, Fields: l.Fields, Priority: l.Priority, Consent: l.Consent, Status: l.Status}
}

// apply merges in into l. PhoneNumbers starts with PhoneNumber: a change
// of phone_number alone replaces the first number, a change of
// phone_numbers alone makes its first number phone_number.
func (in *leadPatch) apply(l *switchboard.Lead, region string) error {
	numbersChanged := !slices.Equal(in.PhoneNumbers, l.PhoneNumbers)
	switch {
	case in.PhoneNumber != l.PhoneNumber && !numbersChanged:
		rest := []string{}
		if len(l.PhoneNumbers) > 1 {
			rest = l.PhoneNumbers[1:]
		}
		l.PhoneNumber, l.PhoneNumbers = in.PhoneNumber, append([]string{in.PhoneNumber}, rest...)
	case in.PhoneNumber == l.PhoneNumber && numbersChanged && len(in.PhoneNumbers) > 0:
		l.PhoneNumber, l.PhoneNumbers = in.PhoneNumbers[0], in.PhoneNumbers
	default:
		l.PhoneNumber, l.PhoneNumbers = in.PhoneNumber, in.PhoneNumbers
	}
	if in.Status != l.Status {
		if in.Status != switchboard.LeadSkipped && in.Status != switchboard.LeadUpcoming {
			return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
				Fields: map[string]string{"status": "may only be set to skipped or upcoming; the dialer moves it otherwise"}}
		}
		l.Status = in.Status
	}
	l.Name, l.TimeZone, l.ExternalID, l.Fields = in.Name, in.TimeZone, in.ExternalID, in.Fields
	l.Priority, l.Consent = in.Priority, in.Consent
	return leadimport.Normalize(l, region)
}

// leadRegion is the region national numbers of leads are read in: none
// (tenants have no default region yet), so a number needs its country code.
const leadRegion = ""

// leadFilter reads the status query parameter of a lead list.
func (c *call) leadFilter() (switchboard.LeadFilter, error) {
	st := switchboard.LeadStatus(c.r.URL.Query().Get("status"))
	if st != "" && !slices.Contains(switchboard.LeadStatuses, st) {
		names := make([]string, len(switchboard.LeadStatuses))
		for i, s := range switchboard.LeadStatuses {
			names[i] = string(s)
		}
		return switchboard.LeadFilter{}, badParam("status", "must be one of "+strings.Join(names, ", "))
	}
	return switchboard.LeadFilter{Status: st}, nil
}

var leadListParams = []param{{"status", "string", "only leads in this status"}}

func (a *API) leadRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeCampaignsRead, switchboard.ScopeCampaignsManage
	const tag = "Leads"
	listLeads := func(target func(ctx context.Context, c *call) (switchboard.LeadTarget, error)) func(context.Context, *call, *noBody) (listBody[switchboard.Lead], error) {
		return func(ctx context.Context, c *call, _ *noBody) (listBody[switchboard.Lead], error) {
			to, err := target(ctx, c)
			if err != nil {
				return listBody[switchboard.Lead]{}, err
			}
			f, err := c.leadFilter()
			if err != nil {
				return listBody[switchboard.Lead]{}, err
			}
			opt, err := c.listOptions()
			if err != nil {
				return listBody[switchboard.Lead]{}, err
			}
			p, err := s.Leads(ctx, c.tenantID(), to, f, opt)
			return toList(p, opt), err
		}
	}
	campaign := func(ctx context.Context, c *call) (switchboard.LeadTarget, error) {
		cp, err := byID(s.Campaign)(ctx, c)
		return switchboard.LeadTarget{CampaignID: cp.ID}, err
	}
	list := func(ctx context.Context, c *call) (switchboard.LeadTarget, error) {
		l, err := byID(s.ContactList)(ctx, c)
		return switchboard.LeadTarget{ContactListID: l.ID}, err
	}
	a.handleImport(route{Method: "POST", Path: "/v1/campaigns/{id}/leads", Summary: "Add leads to a campaign: a JSON array of leads, or CSV (Content-Type: text/csv)",
		Tag: tag, Scope: manage}, campaign)
	handle(a, route{Method: "GET", Path: "/v1/campaigns/{id}/leads", Summary: "List a campaign's leads, in the order they were added",
		Tag: tag, Scope: read, Paged: true, Query: leadListParams}, listLeads(campaign))
	handle(a, route{Method: "GET", Path: "/v1/leads/{id}", Summary: "Get a lead", Tag: tag, Scope: read}, getter(byID(s.Lead)))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/leads/{id}", Summary: "Update a lead, or take it out of dialing (status skipped) and back (upcoming)",
		Tag: tag, Scope: manage},
		patch[leadPatch, switchboard.Lead]{
			update: updater(s.UpdateLeadFunc),
			toBody: leadToPatch,
			apply: func(in *leadPatch, l *switchboard.Lead) error {
				return in.apply(l, leadRegion)
			},
		})
	handle(a, route{Method: "DELETE", Path: "/v1/leads/{id}", Summary: "Remove a lead (its ledger rows stay)", Tag: tag,
		Scope: manage, Status: http.StatusNoContent}, deleter(s.DeleteLead))
	handle(a, route{Method: "GET", Path: "/v1/lead_imports/{id}", Summary: "Follow a lead import: rows processed, imported, duplicates and refused, with each row's error",
		Doc: "status is running, completed or failed (error says why). errors lists up to 1000 rows with the field and the reason: " +
			"refused rows, and duplicates of leads already in the campaign or list.", Tag: tag, Scope: read},
		getter(byID(s.ImportJob)))

	const listTag = "Contact lists"
	handle(a, route{Method: "GET", Path: "/v1/contact_lists", Summary: "List contact lists", Tag: listTag, Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.ContactList], error) {
			return s.ContactLists(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/contact_lists", Summary: "Create a contact list: leads kept apart from any campaign, copied into campaigns",
		Tag: listTag, Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *contactListBody) (switchboard.ContactList, error) {
			return s.CreateContactList(ctx, c.tenantID(), switchboard.ContactList{Name: in.Name, Description: in.Description})
		})
	handle(a, route{Method: "GET", Path: "/v1/contact_lists/{id}", Summary: "Get a contact list", Tag: listTag, Scope: read},
		getter(byID(s.ContactList)))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/contact_lists/{id}", Summary: "Rename or describe a contact list", Tag: listTag, Scope: manage},
		patch[contactListBody, switchboard.ContactList]{
			update: updater(s.UpdateContactListFunc),
			toBody: func(l switchboard.ContactList) contactListBody {
				return contactListBody{Name: l.Name, Description: l.Description}
			},
			apply: func(in *contactListBody, l *switchboard.ContactList) error {
				l.Name, l.Description = in.Name, in.Description
				return nil
			},
		})
	handle(a, route{Method: "DELETE", Path: "/v1/contact_lists/{id}", Summary: "Delete a contact list with its leads (campaigns keep their copies)",
		Tag: listTag, Scope: manage, Status: http.StatusNoContent}, deleter(s.DeleteContactList))
	a.handleImport(route{Method: "POST", Path: "/v1/contact_lists/{id}/leads", Summary: "Add leads to a contact list: a JSON array of leads, or CSV (Content-Type: text/csv)",
		Tag: listTag, Scope: manage}, list)
	handle(a, route{Method: "GET", Path: "/v1/contact_lists/{id}/leads", Summary: "List a contact list's leads",
		Tag: listTag, Scope: read, Paged: true, Query: leadListParams}, listLeads(list))
}

type contactListBody struct {
	Name        string `json:"name" limit:"200"`
	Description string `json:"description" limit:"1000"`
}

// handleImport registers a bulk import of leads into the campaign or list
// target names: the body (up to 32 MiB, 100,000 rows) is handed to the
// dialer, which checks it whole, records a job and inserts the leads in the
// background; the answer is the job (202, Location: the job).
func (a *API) handleImport(rt route, target func(ctx context.Context, c *call) (switchboard.LeadTarget, error)) {
	rt.Status, rt.MaxBody, rt.CSV = http.StatusAccepted, leadimport.MaxBodyBytes, true
	rt.Doc = "The body is a JSON array of lead objects (one for a single lead) or, with Content-Type text/csv, a CSV file whose " +
		"header row names the columns. Up to 100,000 leads and 32 MiB. A body that cannot be read at all is refused (422); " +
		"otherwise the answer is the import job (202, Location: /v1/lead_imports/{id}), which refuses bad rows one by one " +
		"(each with its row, field and reason), skips duplicates (by external_id, or by number when it is empty) and inserts " +
		"the rest in the background. 503 when the dialer does not run on this server."
	e := rt.endpoint()
	e.Body, e.Result = reflect.TypeFor[[]leadBody](), reflect.TypeFor[switchboard.ImportJob]()
	a.table.HandleRaw(&e, func(w http.ResponseWriter, r *http.Request, c *call) {
		job, err := a.importLeads(r, c, target)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		w.Header().Set("Location", "/v1/lead_imports/"+strconv.FormatInt(job.ID, 10))
		a.respond(w, r, &e, job)
	})
}

func (a *API) importLeads(r *http.Request, c *call, target func(ctx context.Context, c *call) (switchboard.LeadTarget, error)) (switchboard.ImportJob, error) {
	ctx := r.Context()
	to, err := target(ctx, c)
	if err != nil {
		return switchboard.ImportJob{}, err
	}
	d, err := a.dialer()
	if err != nil {
		return switchboard.ImportJob{}, err
	}
	format := leadimport.FormatJSON
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err == nil && mt == "text/csv":
			format = leadimport.FormatCSV
		case err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "application/x-www-form-urlencoded"):
		default:
			return switchboard.ImportJob{}, &switchboard.Error{Code: switchboard.CodeBadRequest,
				Message: fmt.Sprintf("Content-Type must be application/json or text/csv, not %s", switchboard.Echo(ct)),
				Fields:  map[string]string{"Content-Type": "must be application/json or text/csv"}}
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return switchboard.ImportJob{}, switchboard.Errorf(switchboard.CodeTooLarge, "an import body must be at most %d MiB", leadimport.MaxBodyBytes>>20)
		}
		return switchboard.ImportJob{}, switchboard.Errorf(switchboard.CodeBadRequest, "cannot read the request body: %v", err)
	}
	return d.ImportLeads(ctx, c.tenantID(), to, format, body)
}

// previewAnswer names the lead an agent accepts or skips.
type previewAnswer struct {
	LeadID int64 `json:"lead_id"`
}

func (p *previewAnswer) check() error {
	if p.LeadID <= 0 {
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
			Fields: map[string]string{"lead_id": "is required: the lead offered"}}
	}
	return nil
}

// previewRoutes are the agent's side of preview campaigns. A user key
// reaches only its own user's offers.
func (a *API) previewRoutes() {
	s := a.opt.Store
	const tag = "Campaigns"
	// agent checks the path's user is the caller's (for a user key) and of
	// the tenant, then that the dialer runs.
	agent := func(ctx context.Context, c *call) (int64, switchboard.Dialer, error) {
		id, err := c.pathID("user_id")
		if err != nil {
			return 0, nil, err
		}

		if k := c.userKeyID(); k != 0 && k != id {
			return 0, nil, switchboard.Errorf(switchboard.CodeForbidden, "a user key reaches only its own user's preview offers (user %d)", k)
		}
		if _, err := s.User(ctx, c.tenantID(), id); err != nil {
			return 0, nil, err
		}
		d, err := a.dialer()
		return id, d, err
	}
	e := route{Method: "GET", Path: "/v1/agents/{user_id}/preview", Summary: "The lead a preview campaign offers the agent now (204 when none)",
		Doc: "The agent accepts it (the call is placed, the agent's phone first) or skips it before expires_at; then " +
			"timeout_action (dial or skip) applies.", Tag: tag, Scope: switchboard.ScopeCallsRead, User: userChecked}.endpoint()
	e.Result = reflect.TypeFor[switchboard.PreviewOffer]()
	a.table.HandleRaw(&e, func(w http.ResponseWriter, r *http.Request, c *call) {
		id, d, err := agent(r.Context(), c)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		offer, ok, err := d.Preview(r.Context(), c.tenantID(), id)
		switch {
		case err != nil:
			a.writeError(w, r, err)
		case !ok:
			w.WriteHeader(http.StatusNoContent)
		default:
			httpapi.WriteJSON(w, http.StatusOK, offer)
		}
	})
	handle(a, route{Method: "POST", Path: "/v1/agents/{user_id}/preview/accept", Summary: "Accept the lead offered: the call is placed",
		Tag: tag, Scope: switchboard.ScopeCallsManage, User: userChecked},
		func(ctx context.Context, c *call, in *previewAnswer) (switchboard.PreviewOffer, error) {
			id, d, err := agent(ctx, c)
			if err == nil {
				err = in.check()
			}
			if err != nil {
				return switchboard.PreviewOffer{}, err
			}
			return d.AcceptPreview(ctx, c.tenantID(), id, in.LeadID)
		})
	handle(a, route{Method: "POST", Path: "/v1/agents/{user_id}/preview/skip", Summary: "Skip the lead offered",
		Tag: tag, Scope: switchboard.ScopeCallsManage, User: userChecked, Status: http.StatusNoContent},
		func(ctx context.Context, c *call, in *previewAnswer) (noContent, error) {
			id, d, err := agent(ctx, c)
			if err == nil {
				err = in.check()
			}
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, d.SkipPreview(ctx, c.tenantID(), id, in.LeadID)
		})
}
