package voxloud

import (
	"context"
	"net/http"
	"strings"

	"switchboard"
)

// clickToCallBody creates a click-to-call link.
type clickToCallBody struct {
	Name           string `json:"name" limit:"200"`
	Extension      string `json:"extension" limit:"20"`
	OutboundNumber string `json:"outboundNumber" limit:"64"`
	DialFirst      string `json:"dial_first" limit:"20"`
}

// clickToCallOut is a link as Voxloud renders it.
type clickToCallOut struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Extension      string `json:"extension"`
	OutboundNumber string `json:"outboundNumber"`
	DialFirst      string `json:"dial_first"`
}

func renderLink(l switchboard.ClickToCall) clickToCallOut {
	return clickToCallOut{ID: l.Key, Name: l.Name, Extension: l.Extension, OutboundNumber: l.OutboundNumber, DialFirst: l.DialFirst}
}

// connectBody names the contact a link calls.
type connectBody struct {
	Contact string `json:"contact" limit:"200"`
}

func (a *API) clickToCallRoutes() {
	const base = "/api/v1/click-to-call"
	handle(a, route{Method: "POST", Path: base, Summary: "Create a click-to-call link (at most one per user or queue of the tenant)",
		Scope: switchboard.ScopeCallsManage},
		func(ctx context.Context, c *call, in *clickToCallBody) (clickToCallOut, error) {
			l, err := a.opt.Store.CreateClickToCall(ctx, c.tenantID(), switchboard.ClickToCall{Name: in.Name, Extension: in.Extension,
				OutboundNumber: in.OutboundNumber, DialFirst: strings.ToLower(strings.TrimSpace(in.DialFirst))})
			return renderLink(l), err
		})
	handle(a, route{Method: "GET", Path: base, Summary: "List the click-to-call links", Scope: switchboard.ScopeCallsRead},
		func(ctx context.Context, c *call, _ *noBody) ([]clickToCallOut, error) {
			links, err := switchboard.All(ctx, a.opt.Store.ClickToCalls, c.tenantID())
			out := make([]clickToCallOut, len(links))
			for i, l := range links {
				out[i] = renderLink(l)
			}
			return out, err
		})
	handle(a, route{Method: "GET", Path: base + "/{id}", Summary: "Get a click-to-call link", Scope: switchboard.ScopeCallsRead},
		func(ctx context.Context, c *call, _ *noBody) (clickToCallOut, error) {
			l, err := a.opt.Store.ClickToCallByKey(ctx, c.tenantID(), c.r.PathValue("id"))
			return renderLink(l), err
		})
	handle(a, route{Method: "DELETE", Path: base + "/{id}", Summary: "Delete a click-to-call link", Scope: switchboard.ScopeCallsManage,
		Status: http.StatusNoContent},
		func(ctx context.Context, c *call, _ *noBody) (noContent, error) {
			l, err := a.opt.Store.ClickToCallByKey(ctx, c.tenantID(), c.r.PathValue("id"))
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, a.opt.Store.DeleteClickToCall(ctx, c.tenantID(), l.ID)
		})
	handle(a, route{Method: "POST", Path: base + "/{id}/connect", Summary: "Call a contact through a click-to-call link",
		Scope: switchboard.ScopeCallsManage},
		func(ctx context.Context, c *call, in *connectBody) (connectBody, error) {
			l, err := a.opt.Store.ClickToCallByKey(ctx, c.tenantID(), c.r.PathValue("id"))
			if err != nil {
				return connectBody{}, err
			}
			contact := strings.TrimSpace(in.Contact)
			switch {
			case contact == "":
				return connectBody{}, invalid("contact", "is required")
			case !switchboard.IsE164(contact):
				return connectBody{}, invalid("contact", "must be in E.164 format, such as +39987654321")
			case a.opt.Calls == nil:
				return connectBody{}, switchboard.Errorf(codeUnavailable, "the call engine is not running")
			}
			if _, err := a.opt.Calls.DialLink(ctx, c.tenantID(), switchboard.LinkRequest{Link: l, Contact: contact,
				Source: switchboard.CallSource{System: SourceClickToCall, AccountID: l.Key}}); err != nil {
				return connectBody{}, err
			}
			return connectBody{Contact: contact}, nil
		})
}
