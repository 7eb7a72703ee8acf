package native

import (
	"context"
	"net/http"

	"switchboard"
)

// ivrMenuBody is the writable view of an IVR menu. Omitted settings take the
// menu defaults on create (the default prompt, a 10 s timeout, repeat on
// timeout and on a digit without an option, then hang up; max_repeats 0 means
// the first repeat hangs up).
type ivrMenuBody struct {
	Name string `json:"name" limit:"200"`
	// Prompt names the recording played (see switchboard.IVRMenu.Prompt).
	Prompt  string          `json:"prompt" limit:"40"`
	Options []ivrOptionBody `json:"options" limit:"12"`
	// TimeoutSeconds is how long the caller has to key a digit once the
	// prompt starts.
	TimeoutSeconds int           `json:"timeout_seconds" range:"0,60"`
	TimeoutAction  ivrActionBody `json:"timeout_action"`
	InvalidAction  ivrActionBody `json:"invalid_action"`
	// MaxRepeats is how often the menu repeats before FinalAction.
	MaxRepeats  int           `json:"max_repeats" range:"0,10"`
	FinalAction ivrActionBody `json:"final_action"`
}

// ivrActionBody is what a menu does: queue (queue_id), user (user_id), menu
// (menu_id), repeat or hangup.
type ivrActionBody struct {
	Action  switchboard.IVRActionType `json:"action" limit:"16"`
	QueueID *int64                    `json:"queue_id,omitempty"`
	UserID  *int64                    `json:"user_id,omitempty"`
	MenuID  *int64                    `json:"menu_id,omitempty"`
}

// ivrOptionBody is what one digit (0-9, *, #) does.
type ivrOptionBody struct {
	Digit   string                    `json:"digit" limit:"1"`
	Action  switchboard.IVRActionType `json:"action" limit:"16"`
	QueueID *int64                    `json:"queue_id,omitempty"`
	UserID  *int64                    `json:"user_id,omitempty"`
	MenuID  *int64                    `json:"menu_id,omitempty"`
}

func (b ivrActionBody) action() switchboard.IVRAction {
	return switchboard.IVRAction{Action: b.Action, QueueID: b.QueueID, UserID: b.UserID, MenuID: b.MenuID}
}

func actionBody(a switchboard.IVRAction) ivrActionBody {
	return ivrActionBody{Action: a.Action, QueueID: a.QueueID, UserID: a.UserID, MenuID: a.MenuID}
}

func ivrMenuToBody(m switchboard.IVRMenu) ivrMenuBody {
	b := ivrMenuBody{Name: m.Name, Prompt: m.Prompt, TimeoutSeconds: m.TimeoutSeconds, TimeoutAction: actionBody(m.TimeoutAction),
		InvalidAction: actionBody(m.InvalidAction), MaxRepeats: m.MaxRepeats, FinalAction: actionBody(m.FinalAction),
		Options: make([]ivrOptionBody, len(m.Options))}
	for i, o := range m.Options {
		b.Options[i] = ivrOptionBody{Digit: o.Digit, Action: o.Action, QueueID: o.QueueID, UserID: o.UserID, MenuID: o.MenuID}
	}
	return b
}

func (b *ivrMenuBody) apply(m *switchboard.IVRMenu) {
	m.Name, m.Prompt, m.TimeoutSeconds, m.MaxRepeats = b.Name, b.Prompt, b.TimeoutSeconds, b.MaxRepeats
	m.TimeoutAction, m.InvalidAction, m.FinalAction = b.TimeoutAction.action(), b.InvalidAction.action(), b.FinalAction.action()
	m.Options = make([]switchboard.IVROption, len(b.Options))
	for i, o := range b.Options {
		m.Options[i] = switchboard.IVROption{Digit: o.Digit,
			IVRAction: switchboard.IVRAction{Action: o.Action, QueueID: o.QueueID, UserID: o.UserID, MenuID: o.MenuID}}
	}
}

func (a *API) ivrRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeRoutingRead, switchboard.ScopeRoutingManage
	handle(a, route{Method: "GET", Path: "/v1/ivr_menus", Summary: "List IVR menus", Tag: "IVR menus", Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.IVRMenu], error) {
			return s.IVRMenus(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/ivr_menus", Summary: "Create an IVR menu (a number routes to it with ivr_menu_id)",
		Tag: "IVR menus", Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *ivrMenuBody) (switchboard.IVRMenu, error) {
			var m switchboard.IVRMenu
			in.apply(&m)
			return s.CreateIVRMenu(ctx, c.tenantID(), m)
		})
	handle(a, route{Method: "GET", Path: "/v1/ivr_menus/{id}", Summary: "Get an IVR menu", Tag: "IVR menus", Scope: read}, getter(byID(s.IVRMenu)))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/ivr_menus/{id}", Summary: "Update an IVR menu", Tag: "IVR menus", Scope: manage},
		patch[ivrMenuBody, switchboard.IVRMenu]{
			update: updater(s.UpdateIVRMenuFunc),
			toBody: ivrMenuToBody,
			apply:  func(in *ivrMenuBody, m *switchboard.IVRMenu) error { in.apply(m); return nil },
		})
	handle(a, route{Method: "DELETE", Path: "/v1/ivr_menus/{id}", Summary: "Delete an IVR menu no number or menu leads to (409 otherwise)",
		Tag: "IVR menus", Scope: manage, Status: http.StatusNoContent}, deleter(s.DeleteIVRMenu))
}
