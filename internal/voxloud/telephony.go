package voxloud

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/phone"
)

// telephonyEvent is a call record as Voxloud renders it (PHONE_CALL,
// CLICK_TO_CALL or FAX_CALL, which has the fewest fields). Timestamp is a string in query pages and epoch
// milliseconds elsewhere; fields the seed marks "when available" are omitted
// when Switchboard has nothing for them.
type telephonyEvent struct {
	ID                int64    `json:"id"`
	Type              string   `json:"type"`
	AccountID         string   `json:"accountId"`
	Direction         string   `json:"direction"`
	Timestamp         any      `json:"timestamp"`
	OriginatorName    string   `json:"originatorName"`
	OriginatorNumber  string   `json:"originatorNumber"`
	DestinationName   string   `json:"destinationName"`
	DestinationNumber string   `json:"destinationNumber"`
	AnswererName      string   `json:"answererName,omitempty"`
	AnswererNumber    string   `json:"answererNumber,omitempty"`
	MaskCallerNumber  *bool    `json:"maskCallerNumber,omitempty"`
	LastEvent         string   `json:"lastEvent,omitempty"`
	Duration          int64    `json:"duration"`
	RingTime          *int64   `json:"ringTime,omitempty"`
	QueueCallID       string   `json:"queueCallId,omitempty"`
	ClickToCallType   string   `json:"clickToCallType,omitempty"`
	Archived          bool     `json:"archived"`
	CallID            string   `json:"callId"`
	Recorded          *bool    `json:"recorded,omitempty"`
	RecordingURL      string   `json:"recordingUrl,omitempty"`
	Voicemail         *bool    `json:"voicemail,omitempty"`
	VoicemailURL      string   `json:"voicemail_url,omitempty"`
	Labels            []string `json:"labels,omitzero"`
	RuleNames         []string `json:"ruleNames,omitzero"`
	ContactCRM        string   `json:"contactCrm,omitempty"`
	ContactCRMURL     string   `json:"contactCrmUrl,omitempty"`
}

// lastEvent names how a call ended in Voxloud's vocabulary.
func lastEvent(c switchboard.Call) string {
	switch c.Disposition {
	case switchboard.DispositionAnswered:
		if c.HangupCause == "transferred" {
			return "CALL_TRANSFERRED"
		}
		return "CALL_TERMINATED"
	case switchboard.DispositionAbandoned:
		return "CALL_CANCELED_BY_ORIGINATOR"
	case switchboard.DispositionNoAnswer, switchboard.DispositionMissed:
		return "CALL_LOST_NO_ANSWER"
	case switchboard.DispositionBusy:
		return "CALL_LOST_USER_BUSY"
	case switchboard.DispositionRejected, switchboard.DispositionFailed:
		return "CALL_REJECTED"
	}
	if c.ConnectedAt != nil {
		return "CALL_ANSWERED"
	}
	return "CALL_STARTED"
}

// accountID is the PBX identifier Voxloud shows: 32 hex digits, here derived
// from the tenant's id so that it is stable.
func accountID(tenantID int64) string {
	return "sb" + strings.Repeat("0", 30-len(strconv.FormatInt(tenantID, 16))) + strconv.FormatInt(tenantID, 16)
}

// telephonyEvents renders records as they read today, looking up their
// agents and the contacts of their customers in one pass (the query and CSV
// export; webhooks render from their event instead).
func (a *API) telephonyEvents(ctx context.Context, tenantID int64, cdrs []switchboard.CDR) ([]telephonyEvent, error) {
	numbers := make([]string, len(cdrs))
	for i, r := range cdrs {
		numbers[i] = r.CustomerNumber()
	}
	contacts, err := a.opt.Store.ContactsByPhone(ctx, tenantID, numbers)
	if err != nil {
		return nil, err
	}
	users := map[int64]*eventAgent{}
	out := make([]telephonyEvent, len(cdrs))
	for i, r := range cdrs {
		var agent *eventAgent
		if id := r.AgentID; id != nil {
			u, seen := users[*id]
			if !seen {
				var err error
				if u, err = a.agent(ctx, tenantID, *id); err != nil {
					return nil, err
				}
				users[*id] = u
			}
			agent = u
		}
		var contact *eventContact
		if k, known := contacts[r.CustomerNumber()]; known {
			contact = contactOfContact(k)
		}
		out[i] = a.telephonyEvent(r, agent, contact, accountID(tenantID))
	}
	return out, nil
}

// eventAgent is an agent as telephony events name them, worked out once per
// agent rather than once per record.
type eventAgent struct{ name, extension string }

// agentOf is the eventAgent of u, nil when u is.
func agentOf(u *switchboard.UserRef) *eventAgent {
	if u == nil {
		return nil
	}
	return &eventAgent{name: u.Name(), extension: u.Extension}
}

// agent looks up an agent of the tenant as telephony events show them: nil
// when the user is gone.
func (a *API) agent(ctx context.Context, tenantID, id int64) (*eventAgent, error) {
	u, err := a.opt.Store.User(ctx, tenantID, id)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &eventAgent{name: u.Name(), extension: u.Extension}, nil
}

// eventContact is a customer's contact as telephony events show it.
type eventContact struct{ name, crm, crmURL string }

// contactOf is the eventContact of k, nil when k is.
func contactOf(k *switchboard.ContactRef) *eventContact {
	if k == nil {
		return nil
	}
	return &eventContact{name: contactName(*k), crm: k.CRMName, crmURL: k.CRMContactURL}
}

// contactOfContact is the eventContact of a stored contact.
func contactOfContact(k switchboard.Contact) *eventContact {
	return contactOf(&switchboard.ContactRef{FirstName: k.FirstName, LastName: k.LastName, CRMName: k.CRMName, CRMContactURL: k.CRMContactURL})
}

// upperDirection is a direction as Voxloud writes it, without allocating
// for the two there are.
func upperDirection(d switchboard.Direction) string {
	switch d {
	case switchboard.Inbound:
		return "INBOUND"
	case switchboard.Outbound:
		return "OUTBOUND"
	}
	return strings.ToUpper(string(d))
}

// Shared targets of the optional booleans of telephony events, so that
// rendering one allocates none; nothing writes through them.
var (
	yes, no = true, false
)

func boolRef(b bool) *bool {
	if b {
		return &yes
	}
	return &no
}

// telephonyEvent renders one record, its agent and its customer's contact
// (either nil when unknown) as given; account is accountID of the record's
// tenant, which exports work out once.
func (a *API) telephonyEvent(r switchboard.CDR, agent *eventAgent, contact *eventContact, account string) telephonyEvent {
	c := &r.Call
	ev := telephonyEvent{ID: c.ID, Type: "PHONE_CALL", AccountID: account, Direction: upperDirection(c.Direction),
		Timestamp: c.CreatedAt.UnixMilli(), OriginatorNumber: c.From, OriginatorName: c.From, DestinationNumber: c.To,
		DestinationName: c.To, Duration: int64(r.TotalSeconds + 0.5), CallID: c.UUID}
	if c.Media == switchboard.MediaFax {
		ev.Type = "FAX_CALL"
		if contact != nil {
			ev.OriginatorName = contact.name
		}
		return ev
	}
	ring, recorded := int64(r.RingSeconds+0.5), c.Recorded
	ev.RingTime, ev.Recorded, ev.Labels, ev.RuleNames = &ring, boolRef(recorded), []string{}, []string{}
	if recorded {
		ev.RecordingURL = strings.TrimRight(a.opt.PublicURL, "/") + "/api/v1/telephony-events/" + strconv.FormatInt(c.ID, 10) + "/recording"
	}
	if contact != nil {
		ev.ContactCRM, ev.ContactCRMURL = contact.crm, contact.crmURL
	}
	inbound := c.Direction == switchboard.Inbound
	switch {
	case inbound && contact != nil:
		ev.OriginatorName = contact.name
	case !inbound && contact != nil:
		ev.DestinationName = contact.name
	}
	if agent != nil {
		if inbound {
			ev.DestinationName = agent.name
		} else {
			ev.OriginatorName = agent.name
		}
		if c.ConnectedAt != nil && c.Source.System != SourceClickToCall {
			ev.AnswererName, ev.AnswererNumber = agent.name, agent.extension
			if !inbound {
				ev.AnswererName, ev.AnswererNumber = ev.DestinationName, c.To
			}
		}
	}
	if c.Source.System == SourceClickToCall {
		ev.Type, ev.QueueCallID, ev.ClickToCallType = "CLICK_TO_CALL", c.UUID, "EXTENSION"
		if c.ScheduledAt != nil {
			ev.ClickToCallType = "CONTACT" // the contact was dialled first
		}
	} else {
		ev.MaskCallerNumber, ev.Voicemail, ev.LastEvent = boolRef(false), boolRef(c.Status == switchboard.CallVoicemail), lastEvent(*c)
	}
	return ev
}

// telephonyQuery is the body of a telephony-events query.
type telephonyQuery struct {
	Number       string `json:"number" limit:"64"`
	DateTimeFrom string `json:"date_time_from" limit:"64"`
	DateTimeTo   string `json:"date_time_to" limit:"64"`
}

// telephonyPage is Spring Data's page object, as the document shows it.
type telephonyPage struct {
	Content          []telephonyEvent `json:"content"`
	Last             bool             `json:"last"`
	TotalElements    int              `json:"totalElements"`
	TotalPages       int              `json:"totalPages"`
	Sort             []sortOrder      `json:"sort"`
	First            bool             `json:"first"`
	NumberOfElements int              `json:"numberOfElements"`
	Size             int              `json:"size"`
	Number           int              `json:"number"`
}

type sortOrder struct {
	Direction    string `json:"direction"`
	Property     string `json:"property"`
	IgnoreCase   bool   `json:"ignoreCase"`
	NullHandling string `json:"nullHandling"`
	Ascending    bool   `json:"ascending"`
	Descending   bool   `json:"descending"`
}

// Page bounds of the telephony-events query.
const (
	defaultPageSize = 20
	maxPageSize     = 1000
)

// parseTime reads the ISO-8601 times the document shows, with a "Z", an
// offset with a colon, or one without.
func parseTime(field, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, v); err == nil {
			return &t, nil
		}
	}
	return nil, invalid(field, "must be an ISO-8601 time with a time zone, such as 2021-01-01T00:00:00.000Z")
}

// filter turns a query into the core's record filter and page.
func (q *telephonyQuery) filter(r *http.Request) (switchboard.CDRFilter, sortOrder, int, int, error) {
	var f switchboard.CDRFilter
	var err error
	if f.Since, err = parseTime("date_time_from", q.DateTimeFrom); err != nil {
		return f, sortOrder{}, 0, 0, err
	}
	if f.Until, err = parseTime("date_time_to", q.DateTimeTo); err != nil {
		return f, sortOrder{}, 0, 0, err
	}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		return f, sortOrder{}, 0, 0, invalid("date_time_to", "must be later than date_time_from")
	}
	if n := strings.TrimSpace(q.Number); n != "" {
		digits := strings.TrimLeft(strings.TrimPrefix(n, "+"), "0")
		if strings.Trim(n, "+0123456789") != "" || digits == "" {
			return f, sortOrder{}, 0, 0, invalid("number", "must be a phone number: digits, optionally after a +")
		}
		// A whole international number matches exactly (an indexed
		// lookup); anything else, such as a national number, matches any
		// number that contains its digits.
		if e164, err := phone.Normalize(n, ""); err == nil && strings.HasPrefix(n, "+") {
			f.Number = e164
		} else {
			f.NumberContains = digits
		}
	}
	params := r.URL.Query()
	size, err := intParam(params.Get("size"), "size", defaultPageSize, 1, maxPageSize, "must be a whole number from 1 to 1000")
	if err != nil {
		return f, sortOrder{}, 0, 0, err
	}
	page, err := intParam(params.Get("page"), "page", 0, 0, 1<<31-1, "must be a whole number, 0 or more")
	if err != nil {
		return f, sortOrder{}, 0, 0, err
	}
	order := sortOrder{Direction: "DESC", Property: "timestamp", NullHandling: "NATIVE", Descending: true}
	if s := params.Get("sort"); s != "" {
		prop, dir, _ := strings.Cut(s, ",")
		if prop != "timestamp" && prop != "id" {
			return f, sortOrder{}, 0, 0, invalid("sort", "must sort by timestamp or id, such as sort=timestamp,desc")
		}
		order.Property = prop
		switch strings.ToLower(dir) {
		case "", "asc":
			order.Direction, order.Ascending, order.Descending = "ASC", true, false
		case "desc":
		default:
			return f, sortOrder{}, 0, 0, invalid("sort", "direction must be asc or desc")
		}
	}
	f.Newest = order.Descending
	return f, order, size, page, nil
}

func (a *API) telephonyRoutes() {
	const base = "/api/v1/telephony-events"
	query := []param{{"sort", "string", "property,direction: timestamp or id, asc or desc (default timestamp,desc)"},
		{"size", "integer", "page size, 1-1000 (default 20)"}, {"page", "integer", "page number from 0"}}
	rt := route{Method: "POST", Path: base, Summary: "Query telephony events (JSON pages, or CSV with Accept: text/csv)",
		Scope: switchboard.ScopeCallsRead, Query: query, CSV: true, Replay: httpapi.ReplayOff,
		Body: typeOf[telephonyQuery](), Result: typeOf[telephonyPage]()}
	a.add(rt, func(w http.ResponseWriter, r *http.Request, c *call) {
		var in telephonyQuery
		if err := decodeLenient(r, &in); err != nil {
			a.writeError(w, r, err)
			return
		}
		f, order, size, page, err := in.filter(r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if media, _ := negotiate(r, true); media == mediaCSV {
			a.streamCSV(w, r, c.tenantID(), f)
			return
		}
		p, err := a.opt.Store.CDRs(r.Context(), c.tenantID(), f, switchboard.ListOptions{Limit: size, Offset: page * size})
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		evs, err := a.telephonyEvents(r.Context(), c.tenantID(), p.Items)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		for i := range evs {
			evs[i].Timestamp = springTime(p.Items[i].CreatedAt)
		}
		pages := (p.Total + size - 1) / size
		writeJSON(w, telephonyPage{Content: evs, Last: page >= pages-1, TotalElements: p.Total, TotalPages: pages,
			Sort: []sortOrder{order}, First: page == 0, NumberOfElements: len(evs), Size: size, Number: page})
	})
	handle(a, route{Method: "GET", Path: base, Summary: "Get the telephony event of a call by its callId", Scope: switchboard.ScopeCallsRead,
		Query: []param{{"callId", "string", "the call's identifier (required)"}}},
		func(ctx context.Context, c *call, _ *noBody) (telephonyEvent, error) {
			id := c.r.URL.Query().Get("callId")
			if id == "" {
				return telephonyEvent{}, invalid("callId", "is required; to list events, POST a query to "+base)
			}
			call, err := a.opt.Store.CallByUUID(ctx, c.tenantID(), id)
			if err != nil {
				return telephonyEvent{}, err
			}
			return a.oneEvent(ctx, call)
		})
	handle(a, route{Method: "GET", Path: base + "/{id}", Summary: "Get a telephony event", Scope: switchboard.ScopeCallsRead},
		func(ctx context.Context, c *call, _ *noBody) (telephonyEvent, error) {
			call, err := a.eventCall(ctx, c)
			if err != nil {
				return telephonyEvent{}, err
			}
			return a.oneEvent(ctx, call)
		})
	att := route{Method: "GET", Path: base + "/{id}/attachment", Summary: "Download a received fax (application/pdf); a Switchboard extension",
		Scope: switchboard.ScopeCallsRead}
	a.add(att, a.serveAttachment)
	rec := route{Method: "GET", Path: base + "/{id}/recording", Summary: "Download a call's recording (audio/wav); a Switchboard extension",
		Scope: switchboard.ScopeCallsRead}
	a.add(rec, func(w http.ResponseWriter, r *http.Request, c *call) {
		call, err := a.eventCall(r.Context(), c)
		if err == nil && (!call.Recorded || a.opt.Calls == nil) {
			err = switchboard.Errorf(switchboard.CodeNotFound, "telephony event %d has no recording", call.ID)
		}
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		size, body, err := a.opt.Calls.Recording(r.Context(), call)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		httpapi.WriteDownload(w, "audio/wav", size, "", body)
	})
}

// serveAttachment serves a received fax's document.
func (a *API) serveAttachment(w http.ResponseWriter, r *http.Request, c *call) {
	call, err := a.eventCall(r.Context(), c)
	if err == nil && (call.Media != switchboard.MediaFax || a.opt.Calls == nil) {
		err = switchboard.Errorf(switchboard.CodeNotFound, "telephony event %d is not a fax", call.ID)
	}
	var doc []byte
	if err == nil {
		doc, err = a.opt.Calls.FaxDocument(r.Context(), call)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	w.Write(doc)
}

// eventCall loads the ended call named by the path's id.
func (a *API) eventCall(ctx context.Context, c *call) (switchboard.Call, error) {
	v := c.r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeBadRequest, Message: "id must be a positive integer, not " + switchboard.Echo(v),
			Fields: map[string]string{"id": "must be a positive integer"}}
	}
	return a.opt.Store.Call(ctx, c.tenantID(), id)
}

// oneEvent renders one call's record, as webhooks carry it; a call still in
// progress has none yet.
func (a *API) oneEvent(ctx context.Context, c switchboard.Call) (telephonyEvent, error) {
	if c.EndedAt == nil {
		return telephonyEvent{}, switchboard.Errorf(switchboard.CodeNotFound, "call %s is still in progress: its telephony event comes when it ends", c.UUID)
	}
	evs, err := a.telephonyEvents(ctx, c.TenantID, []switchboard.CDR{switchboard.NewCDR(c)})
	if err != nil {
		return telephonyEvent{}, err
	}
	return evs[0], nil
}
