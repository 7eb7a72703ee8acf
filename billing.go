package switchboard

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Billing is a prepaid ledger per tenant. Money is int64 minor units of the
// tenant's currency (cents for USD), the unit tenants.balance_cents has
// always used: integers add and compare exactly, and no decimal library is
// needed. Rates are priced finer, in thousandths of a minor unit
// ("milli"), because per-minute prices such as 1.25 ¢ are common; a call's
// charge is rounded up to a whole minor unit once, at the end.
//
// The balance amount is tenants.balance_cents itself (one truth: the
// operator's tenant view and the ledger cannot disagree); every change of it
// is a ledger entry written in the transaction that changes it, with its
// billing.* event.

// LedgerKind says what a ledger entry did.
type LedgerKind string

// The ledger entry kinds. Credit, charge and adjustment move the balance;
// hold and release move the held amount.
const (
	LedgerCredit     LedgerKind = "credit"     // a top-up
	LedgerCharge     LedgerKind = "charge"     // a call's cost
	LedgerHold       LedgerKind = "hold"       // money set aside while a call runs
	LedgerRelease    LedgerKind = "release"    // a hold given back (the call ended)
	LedgerAdjustment LedgerKind = "adjustment" // an operator's correction, either sign
)

// Balance is a tenant's prepaid account.
type Balance struct {
	TenantID int64  `json:"tenant_id"`
	Currency string `json:"currency"` // the tenant's currency
	// AmountCents is the money on the account; HeldCents is set aside for
	// calls in progress; AvailableCents = AmountCents − HeldCents.
	AmountCents    int64 `json:"amount_cents"`
	HeldCents      int64 `json:"held_cents"`
	AvailableCents int64 `json:"available_cents"`
	// LowBalanceThresholdCents: billing.low_balance is written once when
	// the available amount falls below it, and armed again when it rises
	// back to it or above.
	LowBalanceThresholdCents int64 `json:"low_balance_threshold_cents"`
	// Prepaid makes the balance block new outbound calls (CanPlaceCall)
	// once the available amount, plus OverdraftCents, is spent. A tenant
	// that is not prepaid (the default, so that installations without
	// billing keep calling) is still charged and may go below zero.
	Prepaid        bool      `json:"prepaid"`
	OverdraftCents int64     `json:"overdraft_cents"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Low reports whether the available amount is below the threshold.
func (b Balance) Low() bool { return b.AvailableCents < b.LowBalanceThresholdCents }

// BalanceSettings are what may be changed about a balance besides its
// amount.
type BalanceSettings struct {
	LowBalanceThresholdCents int64 `json:"low_balance_threshold_cents"`
	Prepaid                  bool  `json:"prepaid"`
	OverdraftCents           int64 `json:"overdraft_cents"`
}

// MaxMoney bounds any amount the API accepts (10^15 minor units), so that
// sums of amounts can never overflow an int64.
const MaxMoney = 1_000_000_000_000_000

// Validate reports every invalid field of s.
func (s *BalanceSettings) Validate() error {
	p := Problems{}
	if s.LowBalanceThresholdCents < 0 || s.LowBalanceThresholdCents > MaxMoney {
		p.Add("low_balance_threshold_cents", "must be between 0 and 10^15")
	}
	if s.OverdraftCents < 0 || s.OverdraftCents > MaxMoney {
		p.Add("overdraft_cents", "must be between 0 and 10^15")
	}
	return p.Err()
}

// LedgerEntry is one change of a balance. AmountCents is the change it made:
// to the balance for credit, charge (negative) and adjustment, to the held
// amount for hold (positive) and release (negative). BalanceAfterCents and
// HeldAfterCents are the account as the entry left it.
type LedgerEntry struct {
	ID                int64      `json:"id"`
	TenantID          int64      `json:"tenant_id"`
	Kind              LedgerKind `json:"kind"`
	AmountCents       int64      `json:"amount_cents"`
	CallID            *int64     `json:"call_id"`
	RateID            *int64     `json:"rate_id"`
	BilledSeconds     int        `json:"billed_seconds"`
	Reason            string     `json:"reason"`
	BalanceAfterCents int64      `json:"balance_after_cents"`
	HeldAfterCents    int64      `json:"held_after_cents"`
	CreatedAt         time.Time  `json:"created_at"`
}

// Credit is a top-up or an adjustment asked for through the API.
type Credit struct {
	AmountCents int64  `json:"amount_cents"`
	Reason      string `json:"reason"`
}

// Validate checks a credit of kind (LedgerCredit: positive; LedgerAdjustment:
// either sign, not zero).
func (c *Credit) Validate(kind LedgerKind) error {
	p := Problems{}
	switch {
	case kind == LedgerCredit && (c.AmountCents <= 0 || c.AmountCents > MaxMoney):
		p.Add("amount_cents", "must be between 1 and 10^15")
	case kind == LedgerAdjustment && (c.AmountCents == 0 || c.AmountCents > MaxMoney || c.AmountCents < -MaxMoney):
		p.Add("amount_cents", "must be between -10^15 and 10^15, and not 0")
	}
	c.Reason = strings.TrimSpace(c.Reason)
	checkLen(p, "reason", c.Reason, MaxNameLength)
	return p.Err()
}

// Rate is a row of a tenant's rate table: what a minute to numbers starting
// with Prefix costs in Direction, from EffectiveFrom on. The longest prefix
// in effect wins; among rows of equal prefix, the latest EffectiveFrom.
type Rate struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"tenant_id"`
	Prefix    string    `json:"prefix"` // E.164 digits without "+"; "" matches every number
	Direction Direction `json:"direction"`
	// PerMinuteMilli is the price of a minute in thousandths of a minor
	// unit (1250 = 1.25 ¢); ConnectionFeeMilli is charged once per
	// connected call.
	PerMinuteMilli     int64 `json:"per_minute_milli"`
	ConnectionFeeMilli int64 `json:"connection_fee_milli"`
	// InitialIncrement and Increment are the billing increments in seconds
	// (60/60: per started minute; 1/1: per second; 30/6…): the first
	// InitialIncrement seconds are billed whole, the rest in whole
	// Increments, each rounded up.
	InitialIncrement int       `json:"initial_increment"`
	Increment        int       `json:"increment"`
	EffectiveFrom    time.Time `json:"effective_from"`
	Description      string    `json:"description"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// MaxRateMilli bounds a rate's prices (10^9 thousandths: a million minor
// units a minute), so that a call's cost cannot overflow an int64 however
// long it lasts (a year of talk stays below 10^17).
const MaxRateMilli = 1_000_000_000

// MaxPrefixLength is the longest rate prefix (an E.164 number has at most
// 15 digits).
const MaxPrefixLength = 15

// Normalize trims input and fills defaults (60/60 increments, outbound).
func (r *Rate) Normalize() {
	r.Prefix = strings.TrimPrefix(strings.TrimSpace(r.Prefix), "+")
	r.Description = strings.TrimSpace(r.Description)
	if r.Direction == "" {
		r.Direction = Outbound
	}
	if r.InitialIncrement == 0 {
		r.InitialIncrement = 60
	}
	if r.Increment == 0 {
		r.Increment = r.InitialIncrement
	}
	r.EffectiveFrom = r.EffectiveFrom.UTC().Truncate(time.Microsecond)
}

// Validate reports every invalid field of a normalized r.
func (r *Rate) Validate() error {
	p := Problems{}
	if len(r.Prefix) > MaxPrefixLength || strings.Trim(r.Prefix, "0123456789") != "" {
		p.Add("prefix", "must be up to 15 digits of an E.164 number (country code first)")
	}
	if r.Direction != Inbound && r.Direction != Outbound {
		p.Add("direction", "must be inbound or outbound")
	}
	if r.PerMinuteMilli < 0 || r.PerMinuteMilli > MaxRateMilli {
		p.Add("per_minute_milli", "must be between 0 and 10^9")
	}
	if r.ConnectionFeeMilli < 0 || r.ConnectionFeeMilli > MaxRateMilli {
		p.Add("connection_fee_milli", "must be between 0 and 10^9")
	}
	if r.InitialIncrement < 1 || r.InitialIncrement > 3600 {
		p.Add("initial_increment", "must be between 1 and 3600 seconds")
	}
	if r.Increment < 1 || r.Increment > 3600 {
		p.Add("increment", "must be between 1 and 3600 seconds")
	}
	checkLen(p, "description", r.Description, MaxNameLength)
	return p.Err()
}

// BilledSeconds is the talk time a call of talk seconds is billed for under
// r's increments: 0 for no talk, else at least InitialIncrement, and the
// rest rounded up to whole Increments.
func (r Rate) BilledSeconds(talk int) int {
	if talk <= 0 {
		return 0
	}
	if talk <= r.InitialIncrement {
		return r.InitialIncrement
	}
	rest := talk - r.InitialIncrement
	return r.InitialIncrement + (rest+r.Increment-1)/r.Increment*r.Increment
}

// Cost is what a connected call of talk seconds costs under r, in minor
// units rounded up: the connection fee plus the billed seconds at the
// per-minute price. A call that never connected (talk ≤ 0) costs nothing.
func (r Rate) Cost(talk int) int64 {
	if talk <= 0 {
		return 0
	}
	milli := r.ConnectionFeeMilli*60 + int64(r.BilledSeconds(talk))*r.PerMinuteMilli // sixtieths of a milli
	return (milli + 60_000 - 1) / 60_000
}

// Matches reports whether r applies to number (E.164, with or without
// "+").
func (r Rate) Matches(number string) bool {
	return strings.HasPrefix(strings.TrimPrefix(number, "+"), r.Prefix)
}

// CallCharge is the cost of one ended call, as the billing service worked it
// out from the call's event.
type CallCharge struct {
	CallID        int64
	RateID        *int64
	BilledSeconds int
	AmountCents   int64 // ≥ 0; 0 still records that the call was billed
	Reason        string
}

// BillingStore is the persistence of the prepaid ledger. Every change writes
// its ledger entry, the balance and its billing.* event in one transaction,
// serialized per tenant, so that the ledger's sum is always the balance.
type BillingStore interface {
	// Balance reads a tenant's account.
	Balance(ctx context.Context, tenantID int64) (Balance, error)
	// UpdateBalanceSettings changes the threshold, prepaid flag and
	// overdraft (billing.settings_updated): fn receives the settings as
	// stored, inside the transaction that writes them (see the Update…Func
	// methods of Store), so that the tenant's and the operator's changes
	// of different settings never undo each other.
	UpdateBalanceSettings(ctx context.Context, tenantID int64, fn func(*BalanceSettings) error) (Balance, error)
	// CreditBalance adds a top-up (kind LedgerCredit, billing.credited) or an
	// operator's adjustment (LedgerAdjustment, billing.credited or, when
	// negative, billing.charged). A negative adjustment that would take the
	// balance below −overdraft fails with CodeConflict naming amount_cents.
	CreditBalance(ctx context.Context, tenantID int64, kind LedgerKind, c Credit) (LedgerEntry, error)
	// HoldForCall sets amount aside for a call in progress (billing.held).
	// It is idempotent by call: a call already held or charged is left as
	// it is and the returned bool is false.
	HoldForCall(ctx context.Context, tenantID, callID, amountCents int64, reason string) (LedgerEntry, bool, error)
	// ChargeCall releases the call's hold, if any (billing.released), and
	// charges it (billing.charged), in one transaction. It is idempotent
	// by call: a call already charged is left as it is and the returned
	// bool is false; so is a free call (AmountCents 0) that held nothing,
	// which writes nothing. A charge is recorded even when it takes the balance
	// below zero or the overdraft: the call has been made.
	ChargeCall(ctx context.Context, tenantID int64, c CallCharge) (LedgerEntry, bool, error)
	// CallHeld reports whether a call has a hold that no charge has
	// released yet: a read, so that the end of a free call costs no write.
	CallHeld(ctx context.Context, tenantID, callID int64) (bool, error)
	// Ledger lists a tenant's entries, newest first.
	Ledger(ctx context.Context, tenantID int64, opt ListOptions) (Page[LedgerEntry], error)
	// CanPlaceCall says whether a new outbound call may start: nil, or
	// CodeConflict naming "balance" when the tenant is prepaid and its
	// available amount plus overdraft is spent. Calls already connected
	// are never cut for money; they are charged when they end.
	CanPlaceCall(ctx context.Context, tenantID int64) error

	CreateRate(ctx context.Context, tenantID int64, r Rate) (Rate, error)
	Rate(ctx context.Context, tenantID, id int64) (Rate, error)
	Rates(ctx context.Context, tenantID int64, opt ListOptions) (Page[Rate], error)
	UpdateRateFunc(ctx context.Context, tenantID, id int64, fn func(*Rate) error) (Rate, error)
	DeleteRate(ctx context.Context, tenantID, id int64) error
	// MatchRate finds the rate for a call to (outbound) or at (inbound)
	// number at time at: the longest prefix among the rates of direction in
	// effect then, the latest in effect on ties. ok is false when none
	// applies.
	MatchRate(ctx context.Context, tenantID int64, direction Direction, number string, at time.Time) (r Rate, ok bool, err error)
}

// Billing events. billing.credited, billing.charged, billing.held and
// billing.released (subject "tenant"; payload BillingEventPayload) are
// written with each ledger entry; billing.low_balance (subject "tenant";
// payload BillingEventPayload without an entry) once when the available
// amount falls below the threshold; billing.settings_updated (payload
// BillingEventPayload) when the settings change; rates (subject
// "billing_rate"; payload: the Rate with "v").
const (
	EventBillingCredited        = "billing.credited"
	EventBillingCharged         = "billing.charged"
	EventBillingHeld            = "billing.held"
	EventBillingReleased        = "billing.released"
	EventBillingLowBalance      = "billing.low_balance"
	EventBillingSettingsUpdated = "billing.settings_updated"
	EventRateCreated            = "billing_rate.created"
	EventRateUpdated            = "billing_rate.updated"
	EventRateDeleted            = "billing_rate.deleted"
)

// BillingEventPayload is the payload of the billing.* events: the entry
// written (nil for billing.low_balance and settings) and the balance as it
// left it.
type BillingEventPayload struct {
	V       int          `json:"v"`
	Entry   *LedgerEntry `json:"entry,omitempty"`
	Balance Balance      `json:"balance"`
}

// InsufficientBalance is CanPlaceCall's refusal.
func InsufficientBalance(b Balance) error {
	return &Error{Code: CodeConflict, Message: "the prepaid balance is spent; top it up to place calls",
		Fields: map[string]string{"balance": "available " + strconv.FormatInt(b.AvailableCents, 10) + " " + b.Currency +
			" minor units, overdraft " + strconv.FormatInt(b.OverdraftCents, 10)}}
}
