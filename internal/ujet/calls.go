package ujet

// Calls (seed "Calls Endpoints 8" and "Calls 1"): list and get, create by
// call_type, the mid-session end user, customer flags, custom data, and the
// recording the call object's recording_url names.

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"switchboard"
)

func (a *API) callRoutes() []route {
	read, manage := switchboard.ScopeCallsRead, switchboard.ScopeCallsManage
	return []route{
		rawHandler(route{Method: "GET", Path: "/calls", Summary: "List calls, newest first", Scope: read,
			Doc: "Every call of the tenant (in progress and scheduled ones too), newest first, paged with page and per " +
				"(Total, Per-Page and Link headers). created_at[from|to] bound the call's creation, updated_at[from|to] its " +
				"end (a call's record stops changing when it ends, so tailing by updated_at reads each ended call once), " +
				"status[] keeps calls in any of the statuses given.",
			Query: []param{{"page", "integer", "page number, from 1"}, {"per", "integer", "calls per page (100 by default and at most)"},
				{"created_at[from]", "string", "ISO 8601: calls created at or after"}, {"created_at[to]", "string", "ISO 8601: calls created before"},
				{"updated_at[from]", "string", "ISO 8601: calls that ended at or after"}, {"updated_at[to]", "string", "ISO 8601: calls that ended before"},
				{"status[]", "string", "a call status (repeat, or comma-separated)"}}},
			nil, typeOf[[]CallObject](), a.listCalls),
		handler(route{Method: "GET", Path: "/calls/{id}", Summary: "Get a call", Scope: read}, a.getCall),
		handler(route{Method: "POST", Path: "/calls", Summary: "Create a call: Voice Outbound, Inbound or Scheduled (API)", Scope: manage,
			Status: http.StatusCreated, Doc: callCreateDoc}, a.createCall),
		rawHandler(route{Method: "GET", Path: "/calls/{id}/recording", Summary: "Download a call's recording (audio/wav)", Scope: read,
			Doc: "The recording_url of the call object: the call's recording, or the voicemail the caller left."},
			nil, nil, a.callRecording),
		handler(route{Method: "POST", Path: "/calls/{id}/end_user", Summary: "Update the end user of a call in progress (mid-session authentication)",
			Scope: manage, Status: http.StatusAccepted}, a.callEndUser),
		handler(route{Method: "GET", Path: "/calls/{id}/customer_flag", Summary: "Get a call's customer flags", Scope: read}, a.getCallFlags),
		handler(route{Method: "PATCH", Path: "/calls/{id}/customer_flag", Summary: "Set a call's customer flags", Scope: manage}, a.patchCallFlags),
		handler(route{Method: "POST", Path: "/calls/{id}/custom_data", Summary: "Send custom data for a call (signed HS256 JWT or unsigned)",
			Scope: manage, Doc: customDataDoc}, a.postCallCustomData),
		handler(route{Method: "PATCH", Path: "/calls/{id}/custom_data", Summary: "Send custom data for a call (alias of POST)",
			Scope: manage, Doc: customDataDoc}, a.postCallCustomData),
	}
}

// callStatuses are the statuses a call list may filter on: the core's,
// whose names are UJET's.
var callStatuses = []switchboard.CallStatus{switchboard.CallSelecting, switchboard.CallQueued, switchboard.CallAssigned,
	switchboard.CallConnecting, switchboard.CallConnected, switchboard.CallFinished, switchboard.CallFailed, switchboard.CallSwitching,
	switchboard.CallRecovered, switchboard.CallScheduled, switchboard.CallActionOnly, switchboard.CallActionOnlyFinished,
	switchboard.CallDeflected, switchboard.CallVoicemail, switchboard.CallVoicemailReceived, switchboard.CallVoicemailRead}

// callFilter reads a call list's filters.
func callFilter(r *http.Request) (switchboard.CDRFilter, error) {
	f := switchboard.CDRFilter{Open: true, Newest: true}
	var err error
	if f.Since, f.Until, err = timeRange(r, "created_at"); err != nil {
		return f, err
	}
	if f.EndedSince, f.EndedUntil, err = timeRange(r, "updated_at"); err != nil {
		return f, err
	}
	for _, s := range multi(r, "status") {
		st := switchboard.CallStatus(s)
		if !containsStatus(st) {
			return f, badRequest("status " + strconv.Quote(s) + " is not a call status")
		}
		f.Statuses = append(f.Statuses, st)
	}
	return f, nil
}

func containsStatus(s switchboard.CallStatus) bool {
	for _, c := range callStatuses {
		if c == s {
			return true
		}
	}
	return false
}

func (a *API) listCalls(w http.ResponseWriter, c *call) {
	ctx := c.r.Context()
	opt, page, per, err := pageOptions(c.r)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	f, err := callFilter(c.r)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	p, err := a.opt.Store.CDRs(ctx, c.tenantID(), f, opt)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	calls := make([]switchboard.Call, len(p.Items))
	for i := range p.Items {
		calls[i] = p.Items[i].Call
	}
	objs, err := a.renderCalls(ctx, c.tenantID(), calls)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	writeList(c, a.opt.PublicURL, objs, p.Total, page, per)
}

// theCall reads the call the path names; another tenant's is Not Found.
func (a *API) theCall(ctx context.Context, c *call) (switchboard.Call, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return switchboard.Call{}, err
	}
	call, err := a.opt.Store.Call(ctx, c.tenantID(), id)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return call, notFound()
	}
	return call, err
}

func (a *API) getCall(ctx context.Context, c *call, _ *noBody) (CallObject, error) {
	call, err := a.theCall(ctx, c)
	if err != nil {
		return CallObject{}, err
	}
	return a.renderCall(ctx, c.tenantID(), call)
}

// callRecording streams the call's recording from the call service.
func (a *API) callRecording(w http.ResponseWriter, c *call) {
	ctx := c.r.Context()
	call, err := a.theCall(ctx, c)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	if !hasRecording(&call) {
		a.writeError(w, c.r, notFound())
		return
	}
	if a.opt.Calls == nil {
		a.writeError(w, c.r, switchboard.Errorf(switchboard.CodeUnavailable, "call control is not running"))
		return
	}
	size, rc, err := a.opt.Calls.Recording(ctx, call)
	if err != nil {
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
			err = notFound()
		}
		a.writeError(w, c.r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "audio/wav")
	if size > 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	}
	w.Header().Set("Content-Disposition", `attachment; filename="call-`+strconv.FormatInt(call.ID, 10)+`.wav"`)
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		a.opt.Log.Debug("recording download cut short", "call", call.ID, "err", err)
	}
}

// hasRecording says whether a call has audio to download: it was recorded,
// or the caller left a voicemail.
func hasRecording(c *switchboard.Call) bool {
	return c.Recorded || c.Status == switchboard.CallVoicemailReceived || c.Status == switchboard.CallVoicemailRead
}
