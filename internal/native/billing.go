package native

import (
	"context"
	"net/http"
	"time"

	"switchboard"
)

// The prepaid balance (switchboard.BillingStore). A tenant key reads its
// balance and ledger with billing.read, and with billing.manage tops the
// balance up, sets its low-balance threshold and keeps the rate table. What
// decides whether a tenant may call on credit (prepaid, overdraft) and
// corrections of the amount are the operator's: admin routes.

// creditBody is a top-up or an adjustment.
type creditBody struct {
	// AmountCents is in minor units of the tenant's currency: positive for
	// a top-up, either sign for an adjustment.
	AmountCents int64  `json:"amount_cents" range:"-1000000000000000,1000000000000000"`
	Reason      string `json:"reason" limit:"200"`
}

// thresholdBody is what a tenant may change about its balance.
type thresholdBody struct {
	LowBalanceThresholdCents *int64 `json:"low_balance_threshold_cents" range:"0,1000000000000000"`
}

// balanceSettingsBody is the operator's view of a balance's settings;
// omitted fields keep their values.
type balanceSettingsBody struct {
	LowBalanceThresholdCents *int64 `json:"low_balance_threshold_cents" range:"0,1000000000000000"`
	// Prepaid refuses new outbound calls once the available amount plus
	// the overdraft is spent; calls in progress always finish.
	Prepaid        *bool  `json:"prepaid"`
	OverdraftCents *int64 `json:"overdraft_cents" range:"0,1000000000000000"`
}

// rateBody is the writable view of a rate.
type rateBody struct {
	// Prefix is the start of the E.164 numbers the rate covers, digits
	// only ("" covers every number); the longest prefix wins.
	Prefix    string                `json:"prefix" limit:"16"`
	Direction switchboard.Direction `json:"direction" limit:"8"`
	// PerMinuteMilli is the price of a minute in thousandths of a minor
	// unit (1250: 1.25 cents); ConnectionFeeMilli is charged once per
	// connected call.
	PerMinuteMilli     int64 `json:"per_minute_milli" range:"0,1000000000"`
	ConnectionFeeMilli int64 `json:"connection_fee_milli" range:"0,1000000000"`
	// InitialIncrement and Increment are the billing increments in seconds
	// (60/60 by default; 1/1 bills by the second).
	InitialIncrement int `json:"initial_increment" range:"0,3600"`
	Increment        int `json:"increment" range:"0,3600"`
	// EffectiveFrom is when the rate starts to apply (default: now).
	EffectiveFrom *time.Time `json:"effective_from"`
	Description   string     `json:"description" limit:"200"`
}

func rateToBody(r switchboard.Rate) rateBody {
	from := r.EffectiveFrom
	return rateBody{Prefix: r.Prefix, Direction: r.Direction, PerMinuteMilli: r.PerMinuteMilli, ConnectionFeeMilli: r.ConnectionFeeMilli,
		InitialIncrement: r.InitialIncrement, Increment: r.Increment, EffectiveFrom: &from, Description: r.Description}
}

func (b *rateBody) apply(r *switchboard.Rate) {
	r.Prefix, r.Direction, r.PerMinuteMilli, r.ConnectionFeeMilli = b.Prefix, b.Direction, b.PerMinuteMilli, b.ConnectionFeeMilli
	r.InitialIncrement, r.Increment, r.Description = b.InitialIncrement, b.Increment, b.Description
	if b.EffectiveFrom != nil {
		r.EffectiveFrom = *b.EffectiveFrom
	}
}

func (a *API) billingRoutes() {
	s := a.opt.Store
	read, manage, tag := switchboard.ScopeBillingRead, switchboard.ScopeBillingManage, "Billing"
	handle(a, route{Method: "GET", Path: "/v1/billing/balance", Summary: "Get the prepaid balance",
		Doc: "Amounts are in minor units of the tenant's currency. held_cents is set aside for calls in progress; " +
			"available_cents = amount_cents - held_cents.", Tag: tag, Scope: read},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.Balance, error) {
			return s.Balance(ctx, c.tenantID())
		})
	handle(a, route{Method: "PATCH", Path: "/v1/billing/balance", Summary: "Set the low-balance threshold (billing.low_balance fires once below it)",
		Tag: tag, Scope: manage},
		func(ctx context.Context, c *call, in *thresholdBody) (switchboard.Balance, error) {
			return s.UpdateBalanceSettings(ctx, c.tenantID(), func(st *switchboard.BalanceSettings) error {
				if in.LowBalanceThresholdCents != nil {
					st.LowBalanceThresholdCents = *in.LowBalanceThresholdCents
				}
				return nil
			})
		})
	handle(a, route{Method: "POST", Path: "/v1/billing/credits", Summary: "Top the balance up", Tag: tag, Scope: manage,
		Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *creditBody) (switchboard.LedgerEntry, error) {
			return s.CreditBalance(ctx, c.tenantID(), switchboard.LedgerCredit, switchboard.Credit{AmountCents: in.AmountCents, Reason: in.Reason})
		})
	handle(a, route{Method: "GET", Path: "/v1/billing/ledger", Summary: "List the balance's ledger, newest first",
		Doc: "kind is credit, charge, hold, release or adjustment. amount_cents is the change to the balance (credit, charge, " +
			"adjustment) or to the held amount (hold, release).", Tag: tag, Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.LedgerEntry], error) {
			return s.Ledger(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "GET", Path: "/v1/billing/rates", Summary: "List the rate table", Tag: tag, Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.Rate], error) {
			return s.Rates(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/billing/rates", Summary: "Add a rate (a prefix's per-minute price from a date)",
		Tag: tag, Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *rateBody) (switchboard.Rate, error) {
			r := switchboard.Rate{EffectiveFrom: nowUTC()}
			in.apply(&r)
			return s.CreateRate(ctx, c.tenantID(), r)
		})
	handle(a, route{Method: "GET", Path: "/v1/billing/rates/{id}", Summary: "Get a rate", Tag: tag, Scope: read}, getter(byID(s.Rate)))
	handlePatch(a, route{Method: "PATCH", Path: "/v1/billing/rates/{id}", Summary: "Update a rate", Tag: tag, Scope: manage},
		patch[rateBody, switchboard.Rate]{
			update: updater(s.UpdateRateFunc),
			toBody: rateToBody,
			apply:  func(in *rateBody, r *switchboard.Rate) error { in.apply(r); return nil },
		})
	handle(a, route{Method: "DELETE", Path: "/v1/billing/rates/{id}", Summary: "Delete a rate", Tag: tag, Scope: manage,
		Status: http.StatusNoContent}, deleter(s.DeleteRate))
}

// adminBillingRoutes are the operator's: whether a tenant may call on
// credit, and corrections of its amount.
func (a *API) adminBillingRoutes() {
	s := a.opt.Store
	tag := "Platform admin"
	handle(a, route{Method: "PATCH", Path: "/v1/admin/tenants/{id}/billing", Summary: "Set a tenant's prepaid mode, overdraft and threshold",
		Tag: tag, Access: adminToken},
		func(ctx context.Context, c *call, in *balanceSettingsBody) (switchboard.Balance, error) {
			id, err := c.pathID("id")
			if err != nil {
				return switchboard.Balance{}, err
			}
			return s.UpdateBalanceSettings(ctx, id, func(st *switchboard.BalanceSettings) error {
				if in.LowBalanceThresholdCents != nil {
					st.LowBalanceThresholdCents = *in.LowBalanceThresholdCents
				}
				if in.Prepaid != nil {
					st.Prepaid = *in.Prepaid
				}
				if in.OverdraftCents != nil {
					st.OverdraftCents = *in.OverdraftCents
				}
				return nil
			})
		})
	handle(a, route{Method: "POST", Path: "/v1/admin/tenants/{id}/billing/adjustments", Summary: "Correct a tenant's balance (either sign)",
		Tag: tag, Access: adminToken, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *creditBody) (switchboard.LedgerEntry, error) {
			id, err := c.pathID("id")
			if err != nil {
				return switchboard.LedgerEntry{}, err
			}
			return s.CreditBalance(ctx, id, switchboard.LedgerAdjustment, switchboard.Credit{AmountCents: in.AmountCents, Reason: in.Reason})
		})
}
