package ujet

// The Company Do Not Call list (seed: "Company Do Not Call List", 3 items):
// add numbers with an optional expiry, remove them, check one. It is the
// tenant's one do-not-call list (switchboard.DNCStore), the same the dialer,
// the native click-to-call and every API call check before dialling.

import (
	"context"
	"net/http"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/leadimport"
	"switchboard/internal/phone"
)

// The texts UJET gives a DNC entry it refuses.
const (
	dncInvalidNumber = "phone_number is invalid"
	dncBlankNumber   = "phone_number can't be blank"
	dncEmergency     = "emergency phone number is not allowed"
	dncPastExpiry    = "expires_at cannot be past date/time"
	dncBadExpiry     = "expires_at is invalid"
)

// The outcomes of one entry of an add or a removal.
const (
	dncCreated  = "created"
	dncUpdated  = "updated"
	dncFailed   = "failed"
	dncRemoved  = "removed"
	dncNotFound = "not_found"
)

// DNCContact is one number of an add: UJET's {"phone_number", "expires_at"}.
type DNCContact struct {
	PhoneNumber string `json:"phone_number" limit:"64"`
	// ExpiresAt is when the entry stops blocking calls, in UJET's form
	// ("2022-10-29 00:00:00 UTC") or any ISO 8601 time; absent or null:
	// never.
	ExpiresAt *string `json:"expires_at" limit:"64"`
}

// DNCAddBody is the body of POST /outbound_dialer/dnc.
type DNCAddBody struct {
	Contacts []DNCContact `json:"contacts" limit:"1000"`
}

// DNCAddResult is one entry of the add's answer, in the order of the
// request: the number (E.164 once accepted, as sent when refused), its
// expiry in UJET's DNC form or null, created, updated or failed, and the
// reason of a failure.
type DNCAddResult struct {
	PhoneNumber string  `json:"phone_number"`
	ExpiresAt   *string `json:"expires_at"`
	Status      string  `json:"status"`
	Error       string  `json:"error,omitempty"`
}

// DNCRemoveBody is the body of POST (or DELETE) /outbound_dialer/dnc/remove.
type DNCRemoveBody struct {
	PhoneNumbers []string `json:"phone_numbers" limit:"1000"`
}

// DNCRemoveResult is one entry of a removal's answer, in the order of the
// request: removed, not_found (the number was not on the list) or failed
// (with the reason).
type DNCRemoveResult struct {
	PhoneNumber string `json:"phone_number"`
	Status      string `json:"status"`
	Error       string `json:"error,omitempty"`
}

// DNCCheck is the answer of GET /outbound_dialer/dnc/check: whether the
// number blocks calls now, and until when (null: for good, or not listed).
type DNCCheck struct {
	PhoneNumber string  `json:"phone_number"`
	InDNC       bool    `json:"in_dnc"`
	ExpiresAt   *string `json:"expires_at"`
}

func (a *API) dncRoutes() []route {
	remove := route{Path: "/outbound_dialer/dnc/remove", Summary: "Remove phone numbers from the Company DNC list",
		Doc:   "Answers one entry per number: removed, not_found, or failed with the reason.",
		Scope: switchboard.ScopeCallsManage}
	post, del := remove, remove
	post.Method, del.Method = http.MethodPost, http.MethodDelete
	alias := del
	alias.Path = "/outbound_dialer/dnc"
	return []route{
		handler(route{Method: http.MethodPost, Path: "/outbound_dialer/dnc", Summary: "Add phone numbers to the Company DNC list",
			Doc: "Answers one entry per contact, in order: created, updated (the number was listed: it takes the new expiry) or " +
				"failed with the reason (" + dncInvalidNumber + ", " + dncEmergency + ", " + dncPastExpiry + "). The accepted " +
				"entries are written in one transaction.",
			Scope: switchboard.ScopeCallsManage}, a.addDNC),
		handler(post, a.removeDNC),
		handler(del, a.removeDNC),
		handler(alias, a.removeDNC),
		handler(route{Method: http.MethodGet, Path: "/outbound_dialer/dnc/check", Summary: "Check whether a phone number is in the Company DNC list",
			Scope: switchboard.ScopeCallsRead, Query: []param{{Name: "phone_number", Type: "string", Doc: "the number to check (required)"}},
			Doc: "in_dnc is true while the entry blocks calls; an expired entry does not."}, a.checkDNC),
	}
}

// dncNumber reads a number a client sends to the DNC list: E.164 as the
// rest of the core keeps numbers (digits without + are taken as
// international, the core having no tenant country), never an emergency
// number. The error is UJET's text.
func dncNumber(raw string) (string, string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", dncBlankNumber
	}
	if leadimport.IsEmergency(raw, "") {
		return "", dncEmergency
	}
	e164, err := phone.Normalize(raw, "")
	if err != nil || !switchboard.IsE164(e164) {
		return "", dncInvalidNumber
	}
	if phone.IsEmergency(e164) {
		return "", dncEmergency
	}
	return e164, ""
}

func (a *API) addDNC(ctx context.Context, c *call, in *DNCAddBody) ([]DNCAddResult, error) {
	if in.Contacts == nil {
		return nil, missing("contacts")
	}
	now := a.now()
	out := make([]DNCAddResult, len(in.Contacts))
	var puts []switchboard.DNCPut
	var at []int // the answer's index of each put
	for i, ct := range in.Contacts {
		out[i] = DNCAddResult{PhoneNumber: ct.PhoneNumber, Status: dncFailed}
		if ct.ExpiresAt != nil {
			out[i].ExpiresAt = ct.ExpiresAt
		}
		number, why := dncNumber(ct.PhoneNumber)
		if why != "" {
			out[i].Error = why
			continue
		}
		var expires *time.Time
		if ct.ExpiresAt != nil && strings.TrimSpace(*ct.ExpiresAt) != "" {
			t, ok := parseTime(*ct.ExpiresAt)
			switch {
			case !ok:
				out[i].Error = dncBadExpiry
				continue
			case !t.After(now):
				out[i].Error = dncPastExpiry
				continue
			}
			expires = &t
		}
		puts = append(puts, switchboard.DNCPut{Number: number, ExpiresAt: expires, Reason: "UJET Apps API"})
		at = append(at, i)
	}
	if len(puts) > 0 {
		res, err := a.opt.Store.PutDNC(ctx, c.tenantID(), puts)
		if err != nil {
			return nil, err
		}
		for k, r := range res {
			o := &out[at[k]]
			o.PhoneNumber, o.Status, o.ExpiresAt = r.Entry.Number, dncUpdated, nil
			if r.Created {
				o.Status = dncCreated
			}
			if r.Entry.ExpiresAt != nil {
				s := dncTime(*r.Entry.ExpiresAt)
				o.ExpiresAt = &s
			}
		}
	}
	return out, nil
}

func (a *API) removeDNC(ctx context.Context, c *call, in *DNCRemoveBody) ([]DNCRemoveResult, error) {
	if in.PhoneNumbers == nil {
		return nil, missing("phone_numbers")
	}
	out := make([]DNCRemoveResult, len(in.PhoneNumbers))
	var numbers []string
	var at []int
	for i, raw := range in.PhoneNumbers {
		out[i] = DNCRemoveResult{PhoneNumber: raw, Status: dncFailed}
		// A number is read as an add reads it: one that is no phone number
		// fails, one not on the list is not_found.
		e164, err := phone.Normalize(strings.TrimSpace(raw), "")
		if strings.TrimSpace(raw) == "" {
			out[i].Error = dncBlankNumber
			continue
		}
		if err != nil || !switchboard.IsE164(e164) {
			out[i].Error = dncInvalidNumber
			continue
		}
		out[i].PhoneNumber = e164
		numbers = append(numbers, e164)
		at = append(at, i)
	}
	if len(numbers) > 0 {
		removed, err := a.opt.Store.RemoveDNCNumbers(ctx, c.tenantID(), numbers)
		if err != nil {
			return nil, err
		}
		for k, ok := range removed {
			out[at[k]].Status = dncNotFound
			if ok {
				out[at[k]].Status = dncRemoved
			}
		}
	}
	return out, nil
}

func (a *API) checkDNC(ctx context.Context, c *call, _ *noBody) (DNCCheck, error) {
	raw := strings.TrimSpace(c.r.URL.Query().Get("phone_number"))
	if raw == "" {
		return DNCCheck{}, missing("phone_number")
	}
	e164, err := phone.Normalize(raw, "")
	if err != nil || !switchboard.IsE164(e164) {
		return DNCCheck{}, badRequest(dncInvalidNumber)
	}
	out := DNCCheck{PhoneNumber: e164}
	d, err := a.opt.Store.DNCByNumber(ctx, c.tenantID(), e164)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound:
		return out, nil
	case err != nil:
		return out, err
	}
	if d.ExpiresAt == nil || d.ExpiresAt.After(a.now()) {
		out.InDNC = true
		if d.ExpiresAt != nil {
			s := dncTime(*d.ExpiresAt)
			out.ExpiresAt = &s
		}
	}
	return out, nil
}
