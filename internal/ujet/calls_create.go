package ujet

// POST /calls: UJET's three API call types over the core's call service.
//
//   - Voice Outbound (API) / OutboundCall: a click-to-call (CallService.Dial):
//     the agent (agent_email, the native user's e-mail) is rung first, then
//     the end user is dialled. menu_id is optional and only recorded (the
//     call is shown under it).
//   - Voice Inbound (API) / IncomingCall: the system calls the end user now
//     and queues them under menu_id (a queue's menu) as an incoming caller
//     (CallService.Schedule with At = now).
//   - Voice Scheduled (API) / ScheduledCall: the same at scheduled_at;
//     call_id links the parent call, whose queue serves when menu_id is
//     left out.
//
// A ticket_id wins over end_user_number: it resolves to the customer number
// of the newest call whose data carries that ticket (Store.CallByTicket); a
// ticket no call carries yet falls back to end_user_number (and the new call
// then carries it), and without one is "Contact not found". A number on the tenant's do-not-call list is
// refused before anything is dialled.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/internal/phone"
)

const callCreateDoc = "call_type selects the call: \"Voice Outbound (API)\" (legacy \"OutboundCall\": agent_email required; the agent's " +
	"phone rings, then end_user_number or the ticket's number is dialled), \"Voice Inbound (API)\" (legacy \"IncomingCall\": menu_id " +
	"of an IVR or mobile queue menu required; the end user is called now and queued) and \"Voice Scheduled (API)\" (legacy " +
	"\"ScheduledCall\": scheduled_at in the future, menu_id of a mobile or web queue menu, or call_id of a parent call). ticket_id wins " +
	"over end_user_number and resolves to the number of the newest call that carries it. 201 with the call object; 400 " +
	"{\"message\"} with UJET's texts (Invalid call type, Agent email required, Not a valid agent email, Agent is not available to " +
	"take this call, ticket_id or end_user_number required, menu_id is required, menu_id N is not found, …)."

// createCallBody is POST /calls's body, as the seed's four examples send it.
// menu_id, call_id and ticket_id are read leniently (numbers or strings),
// so that a malformed one gets UJET's own text.
type createCallBody struct {
	CallType            string          `json:"call_type" limit:"100"`
	MenuID              json.RawMessage `json:"menu_id"`
	AgentEmail          string          `json:"agent_email" limit:"254"`
	TicketID            json.RawMessage `json:"ticket_id"`
	EndUserNumber       string          `json:"end_user_number" limit:"64"`
	OutboundNumber      string          `json:"outbound_number" limit:"64"`
	Lang                string          `json:"lang" limit:"35"`
	RecordingPermission string          `json:"recording_permission" limit:"64"`
	CallID              json.RawMessage `json:"call_id"`
	ScheduledAt         string          `json:"scheduled_at" limit:"64"`
}

// The call types POST /calls takes, by kind.
var callKinds = map[string]string{
	typeOutboundAPI: typeOutboundAPI, "OutboundCall": typeOutboundAPI,
	typeInboundAPI: typeInboundAPI, "IncomingCall": typeInboundAPI,
	typeScheduledAPI: typeScheduledAPI, "ScheduledCall": typeScheduledAPI,
}

// ujetSource marks the calls this dialect places (Call.Source.System).
const ujetSource = "ujet"

// rawID reads an id sent as a number or a string of digits: set says one
// was sent (null and "" are none), ok that it is an id.
func rawID(raw json.RawMessage) (id int64, set, ok bool) {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return 0, false, true
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, true, false
		}
		if s = strings.TrimSpace(s); s == "" {
			return 0, false, true
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, true, false
	}
	return n, true, true
}

// rawText reads a string sent as a string or a number (ticket ids).
func rawText(raw json.RawMessage) (string, bool) {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return "", true
	}
	var s string
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false
		}
		return strings.TrimSpace(s), len(s) <= 200
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return "", false
	}
	return n.String(), true
}

// recordingPermissions maps what the API takes to what the call keeps.
var recordingPermissions = map[string]string{
	"": switchboard.RecordingNotAsked, "recording_permission_not_asked": switchboard.RecordingNotAsked,
	"recording_permission_denied": switchboard.RecordingDenied, "recording_permission_granted": switchboard.RecordingGranted,
}

func (a *API) createCall(ctx context.Context, c *call, in *createCallBody) (CallObject, error) {
	kind, ok := callKinds[strings.TrimSpace(in.CallType)]
	if !ok {
		return CallObject{}, badRequest("Invalid call type")
	}
	if a.opt.Calls == nil {
		return CallObject{}, switchboard.Errorf(switchboard.CodeUnavailable, "call control is not running")
	}
	tid := c.tenantID()
	tree, err := loadMenus(ctx, a.opt.Store, tid)
	if err != nil {
		return CallObject{}, err
	}
	perm, ok := recordingPermissions[strings.TrimSpace(in.RecordingPermission)]
	if !ok {
		return CallObject{}, badRequest("recording_permission must be recording_permission_not_asked, recording_permission_denied " +
			"or recording_permission_granted")
	}
	ticket, ok := rawText(in.TicketID)
	if !ok {
		return CallObject{}, badRequest("ticket_id is not well formed")
	}
	data := switchboard.CallData{CallType: kind, TicketID: ticket, RecordingPermission: perm}
	var placed switchboard.Call
	switch kind {
	case typeOutboundAPI:
		placed, err = a.createOutbound(ctx, tid, tree, in, &data)
	default:
		placed, err = a.createQueued(ctx, tid, tree, kind, in, &data)
	}
	if err != nil {
		return CallObject{}, err
	}
	// The end user is the number called, as the conversations core names
	// a phone's end user (its identifier is the E.164 number), until the
	// call's end_user route names another.
	number := placed.CustomerNumber()
	eu, err := a.opt.Store.UpsertEndUser(ctx, tid, switchboard.EndUser{Identifier: number, Phone: number})
	if err != nil {
		return CallObject{}, err
	}
	if _, err := a.opt.Store.UpdateCallDataFunc(ctx, tid, placed.ID, func(d *switchboard.CallData) error {
		d.CallType, d.MenuID, d.TicketID, d.Language, d.RecordingPermission = data.CallType, data.MenuID, data.TicketID, data.Language,
			data.RecordingPermission
		if d.EndUserID == nil {
			d.EndUserID = &eu.ID
		}
		return nil
	}); err != nil {
		return CallObject{}, err
	}
	// The engine moves on while the data is written: show the call as it
	// stands now.
	if now, err := a.opt.Store.Call(ctx, tid, placed.ID); err == nil {
		placed = now
	}
	return a.renderCall(ctx, tid, placed)
}

// customerNumber is the number to dial: the ticket's when one is given
// (it wins), else end_user_number, normalized to E.164 and checked against
// the do-not-call list. malformed is the text UJET uses for a bad number,
// whose hyphen differs between call types; required the text for neither.
func (a *API) customerNumber(ctx context.Context, tid int64, ticket, number, malformed, required string) (string, error) {
	if ticket != "" {
		prior, err := a.opt.Store.CallByTicket(ctx, tid, ticket)
		switch {
		case err == nil:
			number = prior.CustomerNumber()
		case switchboard.ErrorCode(err) != switchboard.CodeNotFound:
			return "", err
		case strings.TrimSpace(number) == "":
			return "", badRequest("Contact not found")
		}
	}
	if strings.TrimSpace(number) == "" {
		return "", badRequest(required)
	}
	e164, err := phone.Normalize(number, "")
	if err != nil {
		return "", badRequest(malformed)
	}
	dnc, err := a.opt.Store.IsDNC(ctx, tid, e164)
	if err != nil {
		return "", err
	}
	if dnc {
		return "", badRequest("end_user_number is in the company's Do Not Call list")
	}
	return e164, nil
}

// callerID is outbound_number when it is one of the tenant's numbers (or
// the agent's own); else, when the call has a queue's menu, the queue's own
// number (UJET takes an outbound call's settings from its menu); else "" for
// the call service's default. UJET uses the default number when the one
// given is empty or invalid.
func (a *API) callerID(ctx context.Context, tid int64, outbound string, agent *switchboard.User, menu *menuNode) (string, error) {
	numbers, err := switchboard.All(ctx, a.opt.Store.PhoneNumbers, tid)
	if err != nil {
		return "", err
	}
	if e164, err := phone.Normalize(outbound, ""); strings.TrimSpace(outbound) != "" && err == nil {
		if agent != nil && agent.OutboundNumber == e164 {
			return e164, nil
		}
		for _, n := range numbers {
			if n.Number == e164 {
				return e164, nil
			}
		}
	}
	if menu != nil && menu.Queue != nil {
		for _, n := range numbers {
			if n.QueueID != nil && *n.QueueID == menu.Queue.ID {
				return n.Number, nil
			}
		}
	}
	return "", nil
}

// menuParam reads menu_id: 0 when none was sent.
func menuParam(tree *menuTree, raw json.RawMessage) (*menuNode, error) {
	id, set, ok := rawID(raw)
	switch {
	case !ok:
		return nil, badRequest("menu_id is not well formed")
	case !set:
		return nil, nil
	}
	n := tree.node(id)
	if n == nil {
		return nil, badRequest("menu_id " + strconv.FormatInt(id, 10) + " is not found")
	}
	return n, nil
}

// callLanguage vets lang against the tenant's menus and, when a menu is given,
// against the menu's own language. A call that names none takes its menu's
// language, else UJET's default, unchecked: only a language the client asks
// for can be unavailable.
func callLanguage(tree *menuTree, lang string, menu *menuNode) (string, error) {
	if strings.TrimSpace(lang) == "" {
		if menu != nil {
			return menu.langOf(), nil
		}
		return defaultLang, nil
	}
	l, err := tree.checkLang(lang)
	if err != nil {
		return "", err
	}
	if menu != nil && !menu.servesLang(l) {
		return "", badRequest("Language '" + l + "' is not available")
	}
	return l, nil
}

func (a *API) createOutbound(ctx context.Context, tid int64, tree *menuTree, in *createCallBody, data *switchboard.CallData) (switchboard.Call, error) {
	email := strings.TrimSpace(in.AgentEmail)
	if email == "" {
		return switchboard.Call{}, badRequest("Agent email required")
	}
	agent, err := a.opt.Store.UserByEmail(ctx, tid, email)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return switchboard.Call{}, badRequest("Not a valid agent email")
	}
	if err != nil {
		return switchboard.Call{}, err
	}
	if agent.DeactivatedAt != nil {
		return switchboard.Call{}, badRequest("Not a valid agent email")
	}
	if agent.ClickToCallDisabled {
		return switchboard.Call{}, badRequest("Agent does not have access to make calls")
	}
	menu, err := menuParam(tree, in.MenuID)
	if err != nil {
		return switchboard.Call{}, err
	}
	if data.Language, err = callLanguage(tree, in.Lang, menu); err != nil {
		return switchboard.Call{}, err
	}
	if menu != nil {
		data.MenuID = &menu.ID
	}
	number, err := a.customerNumber(ctx, tid, data.TicketID, in.EndUserNumber, "end_user_number is not well-formed",
		"ticket_id or end_user_number required")
	if err != nil {
		return switchboard.Call{}, err
	}
	callerID, err := a.callerID(ctx, tid, in.OutboundNumber, &agent, menu)
	if err != nil {
		return switchboard.Call{}, err
	}
	placed, err := a.opt.Calls.Dial(ctx, tid, switchboard.DialRequest{UserID: agent.ID, PhoneNumber: number, CallerID: callerID,
		Source: switchboard.CallSource{System: ujetSource}})
	return placed, serviceRefusal(err)
}

// serviceRefusal turns the call service's refusals into UJET's texts: an
// agent who cannot take the call now, a number on the do-not-call list
// (listed between our check and the dial), a caller id or a queue the
// service refuses.
func serviceRefusal(err error) error {
	var se *switchboard.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch {
	case se.Fields["user_id"] != "":
		if se.Code == switchboard.CodeForbidden {
			return badRequest("Agent does not have access to make calls")
		}
		return badRequest("Agent is not available to take this call")
	case strings.Contains(se.Fields["phone_number"], "do-not-call"):
		return badRequest("end_user_number is in the company's Do Not Call list")
	case se.Fields["phone_number"] != "":
		return badRequest("end_user_number is not well-formed")
	case se.Code == switchboard.CodeInvalid || se.Code == switchboard.CodeConflict || se.Code == switchboard.CodeForbidden:
		// The service's own words (a full callback period, a caller id):
		// still UJET's 400 {"message"}.
		msg := se.Message
		for field, why := range se.Fields {
			msg += ": " + field + " " + why
			break
		}
		return badRequest(msg)
	}
	return err
}

// createQueued places an inbound (now) or scheduled (at scheduled_at) API
// call: the end user is called and, once they answer, queued under the
// menu.
func (a *API) createQueued(ctx context.Context, tid int64, tree *menuTree, kind string, in *createCallBody, data *switchboard.CallData) (switchboard.Call, error) {
	now := a.now()
	at := now
	var parent *switchboard.Call
	if kind == typeScheduledAPI {
		if strings.TrimSpace(in.ScheduledAt) == "" {
			return switchboard.Call{}, badRequest("scheduled_at is required")
		}
		t, ok := parseTime(in.ScheduledAt)
		if !ok {
			return switchboard.Call{}, badRequest("scheduled_at is not well formed")
		}
		if !t.After(now) {
			return switchboard.Call{}, badRequest("scheduled_at must be a future time")
		}
		at = t
		id, set, ok := rawID(in.CallID)
		if !ok {
			return switchboard.Call{}, badRequest("call_id is not well formed")
		}
		if set {
			p, err := a.opt.Store.Call(ctx, tid, id)
			if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
				return switchboard.Call{}, badRequest("call_id " + strconv.FormatInt(id, 10) + " is not found")
			}
			if err != nil {
				return switchboard.Call{}, err
			}
			parent = &p
		}
	}
	menu, err := menuParam(tree, in.MenuID)
	if err != nil {
		return switchboard.Call{}, err
	}
	if menu == nil && parent != nil && parent.QueueID != nil {
		menu = tree.queueNode(*parent.QueueID)
	}
	if menu == nil {
		return switchboard.Call{}, badRequest("menu_id is required")
	}
	switch {
	case kind == typeInboundAPI && menu.Type != menuIVR && menu.Type != menuMobile:
		return switchboard.Call{}, badRequest("Only IVR and mobile menu IDs are permitted")
	case kind == typeScheduledAPI && menu.Type != menuMobile && menu.Type != menuWeb:
		return switchboard.Call{}, badRequest("Only mobile and web menu IDs are permitted")
	case menu.Queue == nil:
		// Calls wait in queues: an IVR menu has nobody to queue them for.
		return switchboard.Call{}, badRequest("menu_id " + strconv.FormatInt(menu.ID, 10) + " is not a leaf menu; calls queue in leaf menus")
	}
	if kind == typeInboundAPI && !menu.Queue.Hours.OpenAt(now) {
		return switchboard.Call{}, badRequest("Menu is in 'after hours' state, can't accept incoming calls")
	}
	if data.Language, err = callLanguage(tree, in.Lang, menu); err != nil {
		return switchboard.Call{}, err
	}
	data.MenuID = &menu.ID
	number, err := a.customerNumber(ctx, tid, data.TicketID, in.EndUserNumber, "end_user_number is not well formed",
		"end_user_number is required")
	if err != nil {
		return switchboard.Call{}, err
	}
	callerID, err := a.callerID(ctx, tid, in.OutboundNumber, nil, menu)
	if err != nil {
		return switchboard.Call{}, err
	}
	// A caller who declined recording is not recorded; without an answer
	// (not_asked) the queue records as it always does, since the core has
	// no per-queue "ask for permission" option.
	req := switchboard.ScheduleRequest{QueueID: menu.Queue.ID, PhoneNumber: number, CallerID: callerID, At: at,
		NoRecording: data.RecordingPermission == switchboard.RecordingDenied}
	if parent != nil {
		req.ParentID = &parent.ID
	}
	placed, err := a.opt.Calls.Schedule(ctx, tid, req)
	return placed, serviceRefusal(err)
}
