package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/phone"
)

// NumberOwner finds the tenant number (E.164) belongs to, across tenants
// (switchboard.Store has it).
type NumberOwner interface {
	NumberOwner(ctx context.Context, number string) (switchboard.PhoneNumber, error)
}

// Errors of Inbound; TrunkErrorStatus maps them to the final response.
var (
	// ErrNotFromTrunk: the INVITE comes from no trunk's address, or from
	// none of the trunks of the tenant owning the number it dials.
	ErrNotFromTrunk = errors.New("not from a trunk of the number's tenant")
	// ErrUnknownDID: a trunk's INVITE dials no number any tenant has.
	ErrUnknownDID = errors.New("no such number")
)

// InboundDID reads the number an inbound INVITE dials: the Request-URI's
// user, or the To header's when the Request-URI's is no number (carriers
// that send sip:s@ or an account name there), in E.164. Numbers come with
// or without "+", with visual separators, and with a parameter tail
// (";npdi;rn=…", RFC 4694) that is dropped.
func InboundDID(req *sip.Request) (string, bool) {
	if n, ok := didUser(req.Recipient.User); ok {
		return n, true
	}
	if to := req.To(); to != nil {
		return didUser(to.Address.User)
	}
	return "", false
}

func didUser(user string) (string, bool) {
	user, _, _ = strings.Cut(user, ";")
	digits := strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9' || r == '+':
			return r
		case r == '-' || r == '.' || r == '(' || r == ')' || r == ' ':
			return -1
		}
		return 'x' // anything else makes it no number
	}, user)
	if digits == "" || strings.ContainsRune(digits, 'x') || strings.LastIndex(digits, "+") > 0 {
		return "", false
	}
	n, err := phone.Normalize(digits, "")
	return n, err == nil
}

// Inbound decides whether an INVITE that came from src is a carrier's call,
// and whose: it must come from some trunk's address (else ErrNotFromTrunk,
// asked first so that strangers learn nothing about which numbers exist),
// dial a number a tenant has (else ErrUnknownDID), and come from one of
// that tenant's trunks (else ErrNotFromTrunk: a carrier of one tenant
// cannot deliver calls into another's numbers). It returns the trunk and
// the number, whose route (queue, user or menu) the call then takes.
//
// Carriers that authenticate with credentials instead of addresses are
// the driver's to challenge (MatchCredentials finds their trunk).
func (ts *Trunks) Inbound(ctx context.Context, owner NumberOwner, src netip.Addr, req *sip.Request) (switchboard.Trunk, switchboard.PhoneNumber, error) {
	if _, ok := ts.MatchInbound(src); !ok {
		return switchboard.Trunk{}, switchboard.PhoneNumber{}, fmt.Errorf("%s: %w", src, ErrNotFromTrunk)
	}
	did, ok := InboundDID(req)
	if !ok {
		return switchboard.Trunk{}, switchboard.PhoneNumber{}, fmt.Errorf("request-URI %q: %w", req.Recipient.User, ErrUnknownDID)
	}
	n, err := owner.NumberOwner(ctx, did)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return switchboard.Trunk{}, switchboard.PhoneNumber{}, fmt.Errorf("%s: %w", did, ErrUnknownDID)
	}
	if err != nil {
		return switchboard.Trunk{}, switchboard.PhoneNumber{}, fmt.Errorf("look up %s: %w", did, err)
	}
	t, ok := ts.MatchInboundTenant(n.TenantID, src)
	if !ok {
		return switchboard.Trunk{}, switchboard.PhoneNumber{}, fmt.Errorf("%s to %s: %w", src, did, ErrNotFromTrunk)
	}
	return t, n, nil
}
