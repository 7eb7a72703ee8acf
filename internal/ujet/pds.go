package ujet

// The PDS webhook. UJET's Predictive Dialer Service (an outside dialer) dials
// the customer on its own telephony and, once they answer, hands the call to
// an agent with the seed's body: call_id (the dialer's id of the call),
// agent_id, lcm_key, dnis (the number dialled), org_id, contact,
// pacing_mode and call_type. Switchboard does not carry that call's audio:
// it records it as an action-only call of the agent (status action_only),
// keeps the agent busy with it, and finishes it (action_only_finished,
// followed by the agent's wrap-up) when the dialer says the call is over.
//
//	POST /pds/calls                    start; 201 {id, status, call_id, agent_id, created_at, ended_at}
//	POST /pds/calls/{call_id}/finish   finish; 200 the same object, status action_only_finished
//
// call_id and agent_id may be strings (as the seed sends them) or numbers;
// agent_id is the native user id. org_id, when given, must be the company
// (the tenant slug of the credentials). A repeated POST of a call_id whose
// call is in progress answers 200 with that call (a retried webhook starts
// nothing twice) and rewrites its data; a call_id whose call has finished
// may start a new call. The dialer's fields are kept as the call's data:
// call_type as its call type, and lcm_key, pacing_mode, dnis, org_id and
// contact (the object as sent) as its custom data; the call's source is
// {system: "ujet_pds", account_id: call_id}. The finish body is optional:
// {"disconnected_by": "agent" | "end_user" | "system" (or UJET's
// disconnected_by_… names), "reason": text}.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/internal/httpapi"
)

// PDSSystem is the source system of the calls the PDS webhook starts.
const PDSSystem = "ujet_pds"

// pdsID is an outside id a client may send as a string or a number.
type pdsID string

// UnmarshalJSON implements json.Unmarshaler.
func (p *pdsID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*p = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = pdsID(strings.TrimSpace(s))
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("must be a string or a number")
		}
		*p = pdsID(n.String())
	}
	return nil
}

// PDSCall is the seed's PDS webhook body.
type PDSCall struct {
	// CallID is the dialer's id of the call.
	CallID pdsID `json:"call_id" limit:"200"`
	// AgentID is the agent the dialer hands the call to (a user id), a
	// string or a number. (Not a flexInt: its exported Value would need a
	// range tag of the body kit.)
	AgentID pdsID `json:"agent_id" limit:"20"`
	// LCMKey is the dialer's list/campaign key of the record dialled.
	LCMKey string `json:"lcm_key" limit:"200"`
	// DNIS is the number the dialer dialled: the customer's.
	DNIS string `json:"dnis" limit:"64"`
	// OrgID names the company; when given it must be the tenant's slug.
	OrgID string `json:"org_id" limit:"200"`
	// Contact is the record the dialer dialled, kept as sent.
	Contact    map[string]json.RawMessage `json:"contact" limit:"100"`
	PacingMode string                     `json:"pacing_mode" limit:"64"`
	CallType   string                     `json:"call_type" limit:"100"`
}

// PDSFinish is the optional body of the finish route.
type PDSFinish struct {
	// DisconnectedBy is agent, end_user or system (UJET's
	// disconnected_by_agent… names are accepted too); empty is system.
	DisconnectedBy string `json:"disconnected_by" limit:"64"`
	Reason         string `json:"reason" limit:"500"`
}

// PDSCallAnswer is what both routes answer: the action-only call.
type PDSCallAnswer struct {
	ID        int64   `json:"id"`
	Status    string  `json:"status"`
	CallID    string  `json:"call_id"`
	AgentID   *int64  `json:"agent_id"`
	CreatedAt string  `json:"created_at"`
	EndedAt   *string `json:"ended_at"`
}

func pdsAnswer(c switchboard.Call) PDSCallAnswer {
	return PDSCallAnswer{ID: c.ID, Status: string(c.Status), CallID: c.Source.AccountID, AgentID: c.AgentID,
		CreatedAt: millis(c.CreatedAt), EndedAt: optMillis(c.EndedAt)}
}

func (a *API) pdsRoutes() []route {
	return []route{
		// Raw, for its two statuses: 201 when it starts a call, 200 when the
		// call_id's call was already in progress.
		rawHandler(route{Method: "POST", Path: "/pds/calls", Scope: switchboard.ScopeCallsManage, Status: http.StatusCreated,
			Summary: "PDS webhook: the outside dialer hands a connected call to an agent (an action-only call)",
			Doc:     "Answers 201 with the new action-only call, or 200 with the call already in progress under the same call_id."},
			reflect.TypeFor[PDSCall](), reflect.TypeFor[PDSCallAnswer](),
			func(w http.ResponseWriter, c *call) {
				var in PDSCall
				err := decode(c.r, &in)
				if err == nil {
					err = httpapi.CheckBody(&in)
				}
				var out PDSCallAnswer
				created := false
				if err == nil {
					out, created, err = a.startPDSCall(c.r.Context(), c, &in)
				}
				if err != nil {
					a.writeError(w, c.r, err)
					return
				}
				status := http.StatusOK
				if created {
					status = http.StatusCreated
				}
				httpapi.WriteJSON(w, status, out)
			}),
		// Raw, for its optional body (an empty body is an empty object).
		rawHandler(route{Method: "POST", Path: "/pds/calls/{call_id}/finish", Scope: switchboard.ScopeCallsManage,
			Summary: "PDS webhook: the outside dialer's call is over (action_only_finished; the agent wraps up)"},
			reflect.TypeFor[PDSFinish](), reflect.TypeFor[PDSCallAnswer](),
			func(w http.ResponseWriter, c *call) {
				var in PDSFinish
				err := decodeOptional(c.r, &in)
				if err == nil {
					err = httpapi.CheckBody(&in)
				}
				var out PDSCallAnswer
				if err == nil {
					out, err = a.finishPDSCall(c.r.Context(), c, &in)
				}
				if err != nil {
					a.writeError(w, c.r, err)
					return
				}
				httpapi.WriteJSON(w, http.StatusOK, out)
			}),
	}
}

// decodeOptional is decode for a body that may be left out: an empty body
// (none, or only white space) is the zero value. (The body is already
// bounded by the server's limit.)
func decodeOptional(r *http.Request, dst any) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return badRequest("the request body could not be read")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return decode(r, dst)
}

// startPDSCall starts the action-only call of in, or finds the one in
// progress under its call_id; created says which.
func (a *API) startPDSCall(ctx context.Context, c *call, in *PDSCall) (_ PDSCallAnswer, created bool, _ error) {
	agent, err := strconv.ParseInt(string(in.AgentID), 10, 64)
	switch {
	case in.CallID == "":
		return PDSCallAnswer{}, false, badRequest("call_id is missing")
	case in.AgentID == "":
		return PDSCallAnswer{}, false, badRequest("agent_id is missing")
	case err != nil || agent <= 0:
		return PDSCallAnswer{}, false, badRequest("agent_id is not an agent of this company")
	case in.OrgID != "" && !strings.EqualFold(in.OrgID, c.principal.Tenant.Slug):
		return PDSCallAnswer{}, false, badRequest("org_id is not this company")
	}
	if a.opt.Calls == nil {
		return PDSCallAnswer{}, false, message(switchboard.CodeUnavailable, "Service Unavailable")
	}
	tenant := c.tenantID()
	if _, err := a.opt.Store.User(ctx, tenant, agent); err != nil {
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
			return PDSCallAnswer{}, false, badRequest("agent_id is not an agent of this company")
		}
		return PDSCallAnswer{}, false, err
	}
	existing, found, err := a.pdsCall(ctx, tenant, string(in.CallID))
	if err != nil {
		return PDSCallAnswer{}, false, err
	}
	call := existing
	if found && existing.EndedAt == nil {
		if existing.AgentID == nil || *existing.AgentID != agent {
			return PDSCallAnswer{}, false, badRequest("call_id is in progress with another agent")
		}
	} else {
		created = true
		call, err = a.opt.Calls.StartActionOnly(ctx, tenant, switchboard.ActionOnlyRequest{UserID: agent, PhoneNumber: in.DNIS,
			Source: switchboard.CallSource{System: PDSSystem, AccountID: string(in.CallID)}})
		if err != nil {
			return PDSCallAnswer{}, false, pdsRefusal(err)
		}
	}
	if err := a.keepPDSData(ctx, tenant, call.ID, in); err != nil {
		return PDSCallAnswer{}, false, err
	}
	return pdsAnswer(call), created, nil
}

// pdsRefusal gives the call service's refusals of an agent UJET-style texts.
func pdsRefusal(err error) error {
	if f := switchboard.ErrorFields(err); f["user_id"] != "" {
		return badRequest("The agent cannot take the call: " + f["user_id"])
	}
	return err
}

// keepPDSData writes the dialer's fields as the call's data.
func (a *API) keepPDSData(ctx context.Context, tenantID, callID int64, in *PDSCall) error {
	str := func(s string) json.RawMessage {
		b, _ := json.Marshal(s)
		return b
	}
	_, err := a.opt.Store.UpdateCallDataFunc(ctx, tenantID, callID, func(d *switchboard.CallData) error {
		d.CallType = in.CallType
		if d.CustomData == nil {
			d.CustomData = map[string]switchboard.CustomField{}
		}
		for k, f := range map[string]switchboard.CustomField{
			"lcm_key": {Label: "LCM key", Value: str(in.LCMKey)}, "pacing_mode": {Label: "Pacing mode", Value: str(in.PacingMode)},
			"dnis": {Label: "DNIS", Value: str(in.DNIS)}, "org_id": {Label: "Org", Value: str(in.OrgID)},
		} {
			d.CustomData[k] = f
		}
		if in.Contact != nil {
			b, err := json.Marshal(in.Contact)
			if err != nil {
				return fmt.Errorf("pds contact: %w", err)
			}
			d.CustomData["contact"] = switchboard.CustomField{Label: "Contact", Value: b}
		}
		return nil
	})
	if switchboard.ErrorCode(err) == switchboard.CodeInvalid {
		return badRequest("contact is too large: " + strings.Join(fieldReasons(err), "; "))
	}
	return err
}

func fieldReasons(err error) []string {
	var out []string
	for k, v := range switchboard.ErrorFields(err) {
		out = append(out, k+" "+v)
	}
	return out
}

func (a *API) finishPDSCall(ctx context.Context, c *call, in *PDSFinish) (PDSCallAnswer, error) {
	by := switchboard.SideSystem
	switch strings.TrimPrefix(in.DisconnectedBy, "disconnected_by_") {
	case "", "system", "unknown":
	case "agent":
		by = switchboard.SideAgent
	case "end_user":
		by = switchboard.SideCaller
	default:
		return PDSCallAnswer{}, badRequest("disconnected_by must be agent, end_user or system")
	}
	if a.opt.Calls == nil {
		return PDSCallAnswer{}, message(switchboard.CodeUnavailable, "Service Unavailable")
	}
	tenant := c.tenantID()
	existing, found, err := a.pdsCall(ctx, tenant, c.r.PathValue("call_id"))
	switch {
	case err != nil:
		return PDSCallAnswer{}, err
	case !found:
		return PDSCallAnswer{}, notFound()
	case existing.EndedAt != nil:
		return PDSCallAnswer{}, badRequest("Call is already ended")
	}
	reason := in.Reason
	if reason == "" {
		reason = "finished by the PDS"
	}
	call, err := a.opt.Calls.FinishActionOnly(ctx, tenant, existing.ID, switchboard.FinishActionOnly{By: by, Cause: reason})
	if err != nil {
		return PDSCallAnswer{}, err
	}
	return pdsAnswer(call), nil
}

// pdsCall finds the newest call the PDS started under its call id.
func (a *API) pdsCall(ctx context.Context, tenantID int64, pdsCallID string) (switchboard.Call, bool, error) {
	if pdsCallID == "" {
		return switchboard.Call{}, false, nil
	}
	page, err := a.opt.Store.CDRs(ctx, tenantID, switchboard.CDRFilter{SourceIDs: []string{pdsCallID}, Open: true, Newest: true},
		switchboard.ListOptions{Limit: 20, SkipTotal: true})
	if err != nil {
		return switchboard.Call{}, false, err
	}
	for _, r := range page.Items {
		if r.Source.System == PDSSystem {
			return r.Call, true, nil
		}
	}
	return switchboard.Call{}, false, nil
}
