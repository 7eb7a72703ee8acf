package ujet

// A campaign's contacts (the core's leads): add one, list them, update or
// remove one (the singular …/contact path, the body naming it), import many
// from a JSON array or CSV file as a background job, and read the job.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"path"
	"reflect"
	"slices"
	"strings"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/leadimport"
	"switchboard/internal/phone"
)

// campaignContactStatuses are UJET's campaign contact statuses, in the seed's order.
var campaignContactStatuses = []string{
	"Upcoming", "Dialing", "Queued", "Connected", "Finished", "Transferred", "Transferred and Finished", "Not Picked Up",
	"Not Reached to Contact", "Abandoned by Contact", "Skipped", "Skipped & Closed", "Invalid Number", "Carrier Error",
	"Abandoned by Dialer", "Voicemail Hung Up", "Dialer General Error", "Redial Scheduled", "Do Not Call",
	"Invalid Outbound Number", "Blocked Phone Number",
}

// campaignContactStatus names a lead's status as UJET shows a contact's, the last
// attempt's outcome telling apart what the core keeps as one status:
//
//	upcoming, previewing            Upcoming (an agent previewing it has not dialled yet)
//	dialing / queued / connected    Dialing / Queued / Connected
//	redial_scheduled                Redial Scheduled
//	finished                        Finished; Transferred while the call an agent transferred it to
//	                                goes on, Transferred and Finished once that call ended
//	not_picked_up                   Not Picked Up (no answer); Not Reached to Contact (busy);
//	                                Abandoned by Contact (hung up before an agent took it)
//	abandoned                       Abandoned by Dialer (no agent within 2 s)
//	voicemail                       Voicemail Hung Up
//	invalid_number                  Invalid Number; Blocked Phone Number (refused before dialling:
//	                                an emergency or malformed number)
//	do_not_call                     Do Not Call (the DNC list, STOP, refused consent)
//	skipped                         Skipped & Closed (never dialled again in the campaign)
//	failed                          Carrier Error (the network failed it); Dialer General Error
//
// transfer is the state of the call the lead's last call was transferred
// to (switchboard.TransferOpen, TransferEnded, or "" for none). Skipped (a
// lead given back to be offered again is Upcoming) and Invalid Outbound
// Number (an outbound number the tenant does not own is refused when the
// contact is written) have no counterpart in the core and are never shown.
func campaignContactStatus(s switchboard.LeadStatus, o switchboard.DialOutcome, transfer string) string {
	if s == switchboard.LeadFinished || s == switchboard.LeadConnected {
		switch transfer {
		case switchboard.TransferOpen:
			return "Transferred"
		case switchboard.TransferEnded:
			return "Transferred and Finished"
		}
	}
	switch s {
	case switchboard.LeadUpcoming, switchboard.LeadPreviewing:
		return "Upcoming"
	case switchboard.LeadDialing:
		return "Dialing"
	case switchboard.LeadQueued:
		return "Queued"
	case switchboard.LeadConnected:
		return "Connected"
	case switchboard.LeadRedialScheduled:
		return "Redial Scheduled"
	case switchboard.LeadFinished:
		return "Finished"
	case switchboard.LeadNotPickedUp:
		switch o {
		case switchboard.DialBusy:
			return "Not Reached to Contact"
		case switchboard.DialHungUp:
			return "Abandoned by Contact"
		}
		return "Not Picked Up"
	case switchboard.LeadAbandoned:
		if o == switchboard.DialHungUp {
			return "Abandoned by Contact"
		}
		return "Abandoned by Dialer"
	case switchboard.LeadVoicemail:
		return "Voicemail Hung Up"
	case switchboard.LeadInvalidNumber:
		if o == switchboard.DialBlocked {
			return "Blocked Phone Number"
		}
		return "Invalid Number"
	case switchboard.LeadDoNotCall:
		return "Do Not Call"
	case switchboard.LeadSkipped:
		return "Skipped & Closed"
	case switchboard.LeadFailed:
		if o == switchboard.DialFailed {
			return "Carrier Error"
		}
		return "Dialer General Error"
	}
	return "Dialer General Error"
}

// leadFieldEmail is the lead field that keeps a contact's email, which the
// core's lead has no column for (outbound_number is
// switchboard.LeadFieldCallerID, which the dialer honours).
const leadFieldEmail = "email"

// CampaignContact is UJET's campaign contact object, the seed's fields in its
// order, and phone (the number, as a real integration reads it back).
type CampaignContact struct {
	// AssignedCallID is the contact's last call.
	AssignedCallID *int64 `json:"assigned_call_id"`
	// AssignedParticipantID is null: the core's calls have no participant
	// ids.
	AssignedParticipantID *int64  `json:"assigned_participant_id"`
	CampaignID            int64   `json:"campaign_id"`
	CreatedAt             string  `json:"created_at"`
	ID                    int64   `json:"id"`
	Name                  string  `json:"name"`
	OutboundNumber        *string `json:"outbound_number"`
	// Priority is null unless one was set (the core's 0).
	Priority *int   `json:"priority"`
	Status   string `json:"status"`
	// UniqueID is the external_unique_id given, null when none.
	UniqueID  *string `json:"unique_id"`
	UpdatedAt string  `json:"updated_at"`
	Phone     string  `json:"phone"`
}

// renderCampaignContact shows l; transfers are its last call's transfer
// state (campaignTransfers).
func renderCampaignContact(l switchboard.Lead, transfers map[int64]string) CampaignContact {
	transfer := ""
	if l.LastCallID != nil {
		transfer = transfers[*l.LastCallID]
	}
	o := CampaignContact{AssignedCallID: l.LastCallID, CreatedAt: millis(l.CreatedAt), ID: l.ID, Name: l.Name,
		Status: campaignContactStatus(l.Status, l.LastOutcome, transfer), UpdatedAt: millis(l.UpdatedAt), Phone: l.PhoneNumber}
	if l.CampaignID != nil {
		o.CampaignID = *l.CampaignID
	}
	if n := l.Fields[switchboard.LeadFieldCallerID]; n != "" {
		o.OutboundNumber = &n
	}
	if l.Priority != 0 {
		p := l.Priority
		o.Priority = &p
	}
	if l.ExternalID != "" {
		id := l.ExternalID
		o.UniqueID = &id
	}
	return o
}

// CampaignContactBody is a contact as a client writes it (add and update). On
// update, contact_id names it and only the fields sent change.
type CampaignContactBody struct {
	// ContactID is a number or a string of digits (the seed's Postman
	// bodies quote ids); read by contactID.
	ContactID        json.RawMessage `json:"contact_id,omitempty"`
	Name             *string         `json:"name" limit:"200"`
	Email            *string         `json:"email" limit:"254"`
	PhoneNumber      *string         `json:"phone_number" limit:"64"`
	OutboundNumber   *string         `json:"outbound_number" limit:"64"`
	ExternalUniqueID *string         `json:"external_unique_id" limit:"200"`
}

// CampaignImportJob is an import's job as GET …/contacts/jobs/{job_id}
// shows it: status processing, completed or failed (error says why), the
// rows read, processed, imported, skipped as duplicates and refused, and
// the refused rows' errors (row numbers from 1, a CSV header not counted).
type CampaignImportJob struct {
	ID             int64                        `json:"id"`
	CampaignID     int64                        `json:"campaign_id"`
	Status         string                       `json:"status"`
	FileFormat     string                       `json:"file_format"`
	TotalCount     int                          `json:"total_count"`
	ProcessedCount int                          `json:"processed_count"`
	SuccessCount   int                          `json:"success_count"`
	DuplicateCount int                          `json:"duplicate_count"`
	FailedCount    int                          `json:"failed_count"`
	Errors         []switchboard.ImportRowError `json:"errors"`
	Error          *string                      `json:"error"`
	CreatedAt      string                       `json:"created_at"`
	FinishedAt     *string                      `json:"finished_at"`
}

// CampaignImportStarted is the import's answer: the job to poll.
type CampaignImportStarted struct {
	JobID  int64  `json:"job_id"`
	Status string `json:"status"`
}

// campaignJobStatus names the core's import statuses as this dialect does.
var campaignJobStatus = map[string]string{switchboard.ImportRunning: "processing", switchboard.ImportCompleted: "completed",
	switchboard.ImportFailed: "failed"}

func renderCampaignImportJob(j switchboard.ImportJob) CampaignImportJob {
	o := CampaignImportJob{ID: j.ID, Status: campaignJobStatus[j.Status], FileFormat: j.Format, TotalCount: j.Total,
		ProcessedCount: j.Processed, SuccessCount: j.Imported, DuplicateCount: j.Duplicates, FailedCount: j.Rejected,
		Errors: j.Errors, CreatedAt: millis(j.CreatedAt), FinishedAt: optMillis(j.FinishedAt)}
	if j.CampaignID != nil {
		o.CampaignID = *j.CampaignID
	}
	// Rows are named by UJET's field names.
	o.Errors = make([]switchboard.ImportRowError, len(j.Errors))
	for i, e := range j.Errors {
		if e.Field == "external_id" {
			e.Field = "external_unique_id"
		}
		o.Errors[i] = e
	}
	if j.Error != "" {
		e := j.Error
		o.Error = &e
	}
	return o
}

// maxCampaignFile bounds an import's file: the core's import body limit,
// and room for the multipart framing.
const maxCampaignFile = leadimport.MaxBodyBytes

func (a *API) campaignContactRoutes() []route {
	base := "/outbound_dialer/campaigns/{campaign_id}"
	return []route{
		handler(route{Method: http.MethodPost, Path: base + "/contacts", Summary: "Add a single contact to a campaign",
			Doc: "A number already in the campaign is refused (phone_number has already been taken), as is an " +
				"external_unique_id already there.",
			Scope: switchboard.ScopeCampaignsManage, Status: http.StatusCreated}, a.addCampaignContact),
		rawHandler(route{Method: http.MethodGet, Path: base + "/contacts", Summary: "Get a campaign's contacts",
			Scope: switchboard.ScopeCampaignsRead, Query: campaignPageParams},
			nil, reflect.TypeFor[[]CampaignContact](), a.listCampaignContacts),
		handler(route{Method: http.MethodPatch, Path: base + "/contact", Summary: "Update a single contact",
			Doc:   "contact_id names the contact; only the fields sent change. Its dialling state is the dialer's: a contact being dialled keeps it.",
			Scope: switchboard.ScopeCampaignsManage}, a.updateCampaignContact),
		handler(route{Method: http.MethodDelete, Path: base + "/contact", Summary: "Remove a single contact",
			Doc: "contact_id names the contact (or, without it, phone_number or external_unique_id); the answer is the " +
				"contact as it was. A contact being dialled is not removed.",
			Scope: switchboard.ScopeCampaignsManage}, a.deleteCampaignContact),
		rawHandler(route{Method: http.MethodPost, Path: base + "/contacts/import", Summary: "Import multiple contacts",
			Doc: "multipart/form-data with a file part: a JSON array of contacts or a CSV file with a header row " +
				"(name, phone_number, email, outbound_number, external_unique_id). The rows go in in the background; " +
				"the answer is the job to poll. Rows that are refused or duplicate a contact are reported by the job.",
			Scope: switchboard.ScopeCampaignsManage, MaxBody: maxCampaignFile + 1<<20},
			nil, reflect.TypeFor[CampaignImportStarted](), a.importCampaignContacts),
		handler(route{Method: http.MethodGet, Path: base + "/contacts/jobs/{job_id}", Summary: "Get a contacts import job",
			Scope: switchboard.ScopeCampaignsRead}, a.getCampaignImportJob),
	}
}

// campaignNotFound is err, with the store's not-found texts ("campaign 7
// not found") as UJET's one: {"message":"Not Found"}.
func campaignNotFound(err error) error {
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return notFound()
	}
	return err
}

// campaignTransfers reads the transfer state of the last calls of the
// leads that reached an agent, for their labels.
func (a *API) campaignTransfers(ctx context.Context, tenantID int64, leads ...switchboard.Lead) (map[int64]string, error) {
	var ids []int64
	for _, l := range leads {
		if l.LastCallID != nil && (l.Status == switchboard.LeadFinished || l.Status == switchboard.LeadConnected) {
			ids = append(ids, *l.LastCallID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return a.opt.Store.LeadTransfers(ctx, tenantID, ids)
}

// renderCampaignContactNow is renderCampaignContact of one lead, its
// transfer read.
func (a *API) renderCampaignContactNow(ctx context.Context, tenantID int64, l switchboard.Lead) (CampaignContact, error) {
	tr, err := a.campaignTransfers(ctx, tenantID, l)
	if err != nil {
		return CampaignContact{}, err
	}
	return renderCampaignContact(l, tr), nil
}

// campaignOf reads the campaign the path names (404 unless the tenant's).
func (a *API) campaignOf(ctx context.Context, c *call) (switchboard.Campaign, error) {
	id, err := pathID(c, "campaign_id")
	if err != nil {
		return switchboard.Campaign{}, err
	}
	cp, err := a.opt.Store.Campaign(ctx, c.tenantID(), id)
	return cp, campaignNotFound(err)
}

// campaignContactFields checks and applies the contact fields of in to l: UJET's
// texts for a refusal. The lead is then normalized as every import's is
// (E.164 numbers, no emergency number, its number's time zone).
func campaignContactFields(l *switchboard.Lead, in *CampaignContactBody) error {
	if l.Fields == nil {
		l.Fields = map[string]string{}
	}
	if in.Name != nil {
		l.Name = strings.TrimSpace(*in.Name)
	}
	if in.ExternalUniqueID != nil {
		l.ExternalID = strings.TrimSpace(*in.ExternalUniqueID)
	}
	if in.Email != nil {
		e := strings.TrimSpace(*in.Email)
		if e != "" {
			if addr, err := mail.ParseAddress(e); err != nil || addr.Address != e {
				return badRequest("email is invalid")
			}
		}
		setLeadField(l, leadFieldEmail, e)
	}
	if in.OutboundNumber != nil {
		n := strings.TrimSpace(*in.OutboundNumber)
		if n != "" {
			e164, err := phone.Normalize(n, "")
			if err != nil || !switchboard.IsE164(e164) {
				return badRequest("outbound_number is invalid")
			}
			n = e164
		}
		setLeadField(l, switchboard.LeadFieldCallerID, n)
	}
	if in.PhoneNumber != nil {
		n := strings.TrimSpace(*in.PhoneNumber)
		if n == "" {
			return missing("phone_number")
		}
		if leadimport.IsEmergency(n, "") {
			return badRequest(dncEmergency)
		}
		l.PhoneNumber, l.PhoneNumbers = n, nil
		// A changed number's zone is its own.
		l.TimeZone = ""
	}
	err := leadimport.Normalize(l, "")
	if err == nil {
		return nil
	}
	var e *switchboard.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return badRequest(switchboard.ErrorMessage(err))
	}
	fields := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	f := fields[0]
	switch {
	case strings.HasPrefix(f, "phone"):
		if strings.Contains(e.Fields[f], "emergency") {
			return badRequest(dncEmergency)
		}
		return badRequest("phone_number is invalid")
	case f == "external_id":
		return badRequest("external_unique_id " + e.Fields[f])
	}
	return badRequest(f + " " + e.Fields[f])
}

// setLeadField sets a lead field, removing it when v is empty.
func setLeadField(l *switchboard.Lead, k, v string) {
	if v == "" {
		delete(l.Fields, k)
		return
	}
	l.Fields[k] = v
}

// campaignPhoneTaken says whether another lead of the campaign than except has
// number.
func (a *API) campaignPhoneTaken(ctx context.Context, tenantID, campaignID int64, number string, except int64) (bool, error) {
	page, err := a.opt.Store.Leads(ctx, tenantID, switchboard.LeadTarget{CampaignID: campaignID},
		switchboard.LeadFilter{Number: number}, switchboard.ListOptions{Limit: 2, SkipTotal: true})
	if err != nil {
		return false, err
	}
	for _, l := range page.Items {
		if l.ID != except {
			return true, nil
		}
	}
	return false, nil
}

const textCampaignPhoneTaken = "phone_number has already been taken"

// campaignCallerIDCheck refuses a contact's outbound_number the tenant does not
// own: the dialer shows it as the caller ID of the contact's dials.
func (a *API) campaignCallerIDCheck(ctx context.Context, tenantID int64, l *switchboard.Lead) error {
	n := l.Fields[switchboard.LeadFieldCallerID]
	if n == "" {
		return nil
	}
	owner, err := a.opt.Store.NumberOwner(ctx, n)
	switch {
	case err == nil && owner.TenantID == tenantID:
		return nil
	case err == nil || switchboard.ErrorCode(err) == switchboard.CodeNotFound:
		return badRequest("outbound_number is invalid")
	}
	return err
}

func (a *API) addCampaignContact(ctx context.Context, c *call, in *CampaignContactBody) (CampaignContact, error) {
	cp, err := a.campaignOf(ctx, c)
	if err != nil {
		return CampaignContact{}, err
	}
	if in.PhoneNumber == nil || strings.TrimSpace(*in.PhoneNumber) == "" {
		return CampaignContact{}, missing("phone_number")
	}
	var l switchboard.Lead
	if err := campaignContactFields(&l, in); err != nil {
		return CampaignContact{}, err
	}
	if err := a.campaignCallerIDCheck(ctx, c.tenantID(), &l); err != nil {
		return CampaignContact{}, err
	}
	// The store refuses, in its transaction, a number or external id the
	// campaign has.
	to := switchboard.LeadTarget{CampaignID: cp.ID, UniquePhone: true}
	res, err := a.opt.Store.InsertLeads(ctx, c.tenantID(), to, []switchboard.Lead{l})
	if err != nil {
		return CampaignContact{}, err
	}
	if res.Inserted == 0 {
		if len(res.DuplicateFields) == 1 && res.DuplicateFields[0] == "external_id" {
			return CampaignContact{}, badRequest("external_unique_id has already been taken")
		}
		return CampaignContact{}, badRequest(textCampaignPhoneTaken)
	}
	page, err := a.opt.Store.Leads(ctx, c.tenantID(), to, switchboard.LeadFilter{Number: l.PhoneNumber},
		switchboard.ListOptions{Limit: 10, SkipTotal: true})
	if err != nil {
		return CampaignContact{}, err
	}
	// The newest lead of the number and id is the one just added.
	for i := len(page.Items) - 1; i >= 0; i-- {
		if got := page.Items[i]; got.ExternalID == l.ExternalID {
			return a.renderCampaignContactNow(ctx, c.tenantID(), got)
		}
	}
	return CampaignContact{}, fmt.Errorf("the contact added to campaign %d cannot be read back", cp.ID)
}

func (a *API) listCampaignContacts(w http.ResponseWriter, c *call) {
	ctx := c.r.Context()
	opt, page, per, err := pageOptions(c.r)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	cp, err := a.campaignOf(ctx, c)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	res, err := a.opt.Store.Leads(ctx, c.tenantID(), switchboard.LeadTarget{CampaignID: cp.ID}, switchboard.LeadFilter{}, opt)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	transfers, err := a.campaignTransfers(ctx, c.tenantID(), res.Items...)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	out := make([]CampaignContact, len(res.Items))
	for i, l := range res.Items {
		out[i] = renderCampaignContact(l, transfers)
	}
	writeList(c, a.opt.PublicURL, out, res.Total, page, per)
}

// campaignContactOf reads the contact a body names by contact_id within campaign
// cp; byOther, when set, lets a body without contact_id name it by
// phone_number or external_unique_id.
func (a *API) campaignContactOf(ctx context.Context, c *call, cp switchboard.Campaign, in *CampaignContactBody, byOther bool) (switchboard.Lead, error) {
	var id flexInt
	if len(in.ContactID) > 0 {
		if err := id.UnmarshalJSON(in.ContactID); err != nil {
			return switchboard.Lead{}, badRequest("contact_id must be an integer")
		}
	}
	if !id.Set {
		if byOther {
			return a.campaignContactByKey(ctx, c, cp, in)
		}
		return switchboard.Lead{}, missing("contact_id")
	}
	l, err := a.opt.Store.Lead(ctx, c.tenantID(), id.Value)
	if err != nil {
		return l, campaignNotFound(err)
	}
	if l.CampaignID == nil || *l.CampaignID != cp.ID {
		return l, notFound()
	}
	return l, nil
}

// campaignContactByKey finds the contact of cp with the body's phone_number, else
// its external_unique_id.
func (a *API) campaignContactByKey(ctx context.Context, c *call, cp switchboard.Campaign, in *CampaignContactBody) (switchboard.Lead, error) {
	to := switchboard.LeadTarget{CampaignID: cp.ID}
	if in.PhoneNumber != nil && strings.TrimSpace(*in.PhoneNumber) != "" {
		e164, err := phone.Normalize(strings.TrimSpace(*in.PhoneNumber), "")
		if err != nil {
			return switchboard.Lead{}, badRequest("phone_number is invalid")
		}
		page, err := a.opt.Store.Leads(ctx, c.tenantID(), to, switchboard.LeadFilter{Number: e164}, switchboard.ListOptions{Limit: 1, SkipTotal: true})
		if err != nil {
			return switchboard.Lead{}, err
		}
		if len(page.Items) == 0 {
			return switchboard.Lead{}, notFound()
		}
		return page.Items[0], nil
	}
	if in.ExternalUniqueID != nil && strings.TrimSpace(*in.ExternalUniqueID) != "" {
		want := strings.TrimSpace(*in.ExternalUniqueID)
		page, err := a.opt.Store.Leads(ctx, c.tenantID(), to, switchboard.LeadFilter{ExternalID: want}, switchboard.ListOptions{Limit: 1, SkipTotal: true})
		if err != nil {
			return switchboard.Lead{}, err
		}
		if len(page.Items) == 0 {
			return switchboard.Lead{}, notFound()
		}
		return page.Items[0], nil
	}
	return switchboard.Lead{}, missing("contact_id")
}

func (a *API) updateCampaignContact(ctx context.Context, c *call, in *CampaignContactBody) (CampaignContact, error) {
	cp, err := a.campaignOf(ctx, c)
	if err != nil {
		return CampaignContact{}, err
	}
	l, err := a.campaignContactOf(ctx, c, cp, in, false)
	if err != nil {
		return CampaignContact{}, err
	}
	if in.PhoneNumber != nil {
		probe := l
		probe.Fields = map[string]string{}
		if err := campaignContactFields(&probe, &CampaignContactBody{PhoneNumber: in.PhoneNumber}); err != nil {
			return CampaignContact{}, err
		}
		taken, err := a.campaignPhoneTaken(ctx, c.tenantID(), cp.ID, probe.PhoneNumber, l.ID)
		if err != nil {
			return CampaignContact{}, err
		}
		if taken {
			return CampaignContact{}, badRequest(textCampaignPhoneTaken)
		}
	}
	if in.OutboundNumber != nil {
		probe := switchboard.Lead{Fields: map[string]string{}}
		if err := campaignContactFields(&probe, &CampaignContactBody{OutboundNumber: in.OutboundNumber, PhoneNumber: &l.PhoneNumber}); err != nil {
			return CampaignContact{}, err
		}
		if err := a.campaignCallerIDCheck(ctx, c.tenantID(), &probe); err != nil {
			return CampaignContact{}, err
		}
	}
	var refused error
	l, err = a.opt.Store.UpdateLeadFunc(ctx, c.tenantID(), l.ID, func(l *switchboard.Lead) error {
		if refused = campaignContactFields(l, in); refused != nil {
			return refused
		}
		return nil
	})
	switch {
	case refused != nil:
		return CampaignContact{}, refused
	case switchboard.ErrorCode(err) == switchboard.CodeConflict:
		return CampaignContact{}, badRequest(campaignContactConflict(err))
	case err != nil:
		return CampaignContact{}, campaignNotFound(err)
	}
	return a.renderCampaignContactNow(ctx, c.tenantID(), l)
}

// campaignContactConflict words the store's refusals of a change as UJET's texts.
func campaignContactConflict(err error) string {
	var e *switchboard.Error
	if errors.As(err, &e) {
		if _, ok := e.Fields["external_id"]; ok {
			return "external_unique_id has already been taken"
		}
		if _, ok := e.Fields["phone_number"]; ok {
			return textCampaignPhoneTaken
		}
	}
	return switchboard.ErrorMessage(err)
}

func (a *API) deleteCampaignContact(ctx context.Context, c *call, in *CampaignContactBody) (CampaignContact, error) {
	cp, err := a.campaignOf(ctx, c)
	if err != nil {
		return CampaignContact{}, err
	}
	l, err := a.campaignContactOf(ctx, c, cp, in, true)
	if err != nil {
		return CampaignContact{}, err
	}
	err = a.opt.Store.DeleteLead(ctx, c.tenantID(), l.ID)
	if switchboard.ErrorCode(err) == switchboard.CodeConflict {
		return CampaignContact{}, badRequest("Contact is being dialed and cannot be removed now")
	}
	if err != nil {
		return CampaignContact{}, campaignNotFound(err)
	}
	return a.renderCampaignContactNow(ctx, c.tenantID(), l)
}

func (a *API) importCampaignContacts(w http.ResponseWriter, c *call) {
	ctx := c.r.Context()
	fail := func(err error) { a.writeError(w, c.r, err) }
	cp, err := a.campaignOf(ctx, c)
	if err != nil {
		fail(err)
		return
	}
	if a.opt.Dialer == nil {
		fail(switchboard.Errorf(switchboard.CodeUnavailable, "the dialer is not running"))
		return
	}
	body, name, ctype, err := campaignUpload(c.r, "file", maxCampaignFile)
	if err != nil {
		fail(err)
		return
	}
	format, err := campaignFileFormat(name, ctype, body)
	if err != nil {
		fail(err)
		return
	}
	job, err := a.opt.Dialer.ImportLeads(ctx, c.tenantID(), switchboard.LeadTarget{CampaignID: cp.ID, UniquePhone: true}, format, body)
	if err != nil {
		if switchboard.ErrorCode(err) == switchboard.CodeInvalid {
			err = badRequest(switchboard.ErrorMessage(err))
		}
		fail(err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, CampaignImportStarted{JobID: job.ID, Status: campaignJobStatus[job.Status]})
}

// campaignUpload reads the part field of a multipart/form-data body, up to
// limit bytes, with its file name and content type.
func campaignUpload(r *http.Request, field string, limit int64) (body []byte, name, ctype string, err error) {
	mt, _, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil || mt != "multipart/form-data" {
		return nil, "", "", badRequest("the request must be multipart/form-data with a " + field + " part")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", "", badRequest("the request must be multipart/form-data with a " + field + " part")
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", "", missing(field)
		}
		if err != nil {
			return nil, "", "", badRequest("the multipart body cannot be read: " + err.Error())
		}
		if p.FormName() != field {
			p.Close()
			continue
		}
		b, err := readCampaignPart(p, limit)
		if err != nil {
			return nil, "", "", err
		}
		return b, p.FileName(), p.Header.Get("Content-Type"), nil
	}
}

func readCampaignPart(p *multipart.Part, limit int64) ([]byte, error) {
	defer p.Close()
	b, err := readAllLimited(p, limit)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, switchboard.Errorf(switchboard.CodeTooLarge, "file exceeds %d bytes", limit)
	case err != nil && switchboard.ErrorCode(err) == switchboard.CodeTooLarge:
		return nil, err
	case err != nil:
		return nil, badRequest("the file cannot be read: " + err.Error())
	}
	return b, nil
}

// campaignFileFormat is json or csv: by the file's extension, else its
// content type, else its first character ('[' is JSON).
func campaignFileFormat(name, ctype string, body []byte) (string, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".json":
		return leadimport.FormatJSON, nil
	case ".csv":
		return leadimport.FormatCSV, nil
	}
	if mt, _, err := mime.ParseMediaType(ctype); err == nil {
		switch mt {
		case "application/json":
			return leadimport.FormatJSON, nil
		case "text/csv", "application/csv":
			return leadimport.FormatCSV, nil
		}
	}
	t := strings.TrimLeft(strings.TrimPrefix(string(body[:min(len(body), 1024)]), "\ufeff"), " \t\r\n")
	switch {
	case t == "":
		return "", badRequest("file is empty")
	case t[0] == '[':
		return leadimport.FormatJSON, nil
	}
	return leadimport.FormatCSV, nil
}

func (a *API) getCampaignImportJob(ctx context.Context, c *call, _ *noBody) (CampaignImportJob, error) {
	cp, err := a.campaignOf(ctx, c)
	if err != nil {
		return CampaignImportJob{}, err
	}
	id, err := pathID(c, "job_id")
	if err != nil {
		return CampaignImportJob{}, err
	}
	j, err := a.opt.Store.ImportJob(ctx, c.tenantID(), id)
	if err != nil {
		return CampaignImportJob{}, campaignNotFound(err)
	}
	if j.CampaignID == nil || *j.CampaignID != cp.ID {
		return CampaignImportJob{}, notFound()
	}
	return renderCampaignImportJob(j), nil
}
