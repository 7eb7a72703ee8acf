package voiso

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"switchboard"
)

// balanceOut is the contact center's balance as Voiso's v1 showed it (a
// number in major units), with its currency.
type balanceOut struct {
	Balance  json.Number `json:"balance"`
	Currency string      `json:"currency"`
}

// minorDigits are the ISO 4217 currencies whose minor unit is not a
// hundredth: the core keeps money in minor units, Voiso shows major ones.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
	"UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// majorUnits renders an amount in minor units of currency as a decimal in
// major units, exactly (no float on the way): 356267 USD cents is 3562.67.
func majorUnits(minor int64, currency string) json.Number {
	d, ok := minorDigits[currency]
	if !ok {
		d = 2
	}
	sign, abs := "", strconv.FormatUint(uint64(minor), 10)
	if minor < 0 {
		sign, abs = "-", strconv.FormatUint(uint64(-minor), 10) // -MinInt64 wraps to its own magnitude
	}
	if d == 0 {
		return json.Number(sign + abs)
	}
	if len(abs) <= d {
		abs = strings.Repeat("0", d-len(abs)+1) + abs
	}
	return json.Number(sign + abs[:len(abs)-d] + "." + abs[len(abs)-d:])
}

func (a *API) billingRoutes() []route {
	return []route{
		handler(route{Method: "GET", Path: "/billing/balance", Summary: "Get the balance", Scope: switchboard.ScopeBillingBalanceRead,
			Doc: "The contact center's prepaid balance available for calls (what is on the account less what running calls " +
				"hold), in major units of its currency."},
			func(ctx context.Context, c *call, _ *noBody) (balanceOut, error) {
				b, err := a.opt.Store.Balance(ctx, c.tenantID())
				if err != nil {
					return balanceOut{}, err
				}
				return balanceOut{Balance: majorUnits(b.AvailableCents, b.Currency), Currency: b.Currency}, nil
			}),
	}
}
