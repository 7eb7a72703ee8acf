package voiso

import (
	"context"
	"strings"
	"testing"

	"switchboard"
)

// TestBillingBalance reads the prepaid balance in major units, exactly, and
// keeps it to the key's tenant.
func TestBillingBalance(t *testing.T) { eachEngine(t, testBillingBalance) }

func testBillingBalance(t *testing.T, f *fixture) {
	ctx := context.Background()
	key := f.keyFor(switchboard.ScopeBillingBalanceRead)
	f.expect("GET", "/api/v4/billing/balance", key, nil, 200, `{"balance": 0.00, "currency": "USD"}`)
	if _, err := f.db.CreditBalance(ctx, f.tenant.ID, switchboard.LedgerCredit, switchboard.Credit{AmountCents: 356267}); err != nil {
		t.Fatal(err)
	}
	out := f.expect("GET", "/api/v4/billing/balance", key, nil, 200, "")
	if strings.TrimSpace(string(out)) != `{"balance":3562.67,"currency":"USD"}` {
		t.Errorf("balance %s, want exactly 3562.67 USD", out)
	}
	checkShape(t, loadShapes(t), "billing balance", out)
	f.expect("GET", "/api/v4/billing/balance", f.otherKey, nil, 200, `{"balance": 0, "currency": "USD"}`)
	f.expect("GET", "/api/v4/billing/balance", f.keyFor(switchboard.ScopeTasksWebhooksRead), nil, 403, `{"error":"Forbidden"}`)
	f.expect("GET", "/api/v4/billing/balance", "", nil, 401, `{"error":"Unauthorized"}`)
}

func TestMajorUnits(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{356267, "USD", "3562.67"}, {5, "EUR", "0.05"}, {-5, "EUR", "-0.05"}, {-120, "USD", "-1.20"}, {0, "USD", "0.00"},
		{1500, "JPY", "1500"}, {1234, "KWD", "1.234"}, {7, "BHD", "0.007"},
		{-9223372036854775808, "USD", "-92233720368547758.08"},
	} {
		if got := majorUnits(tc.minor, tc.currency); string(got) != tc.want {
			t.Errorf("majorUnits(%d, %s) = %s, want %s", tc.minor, tc.currency, got, tc.want)
		}
	}
}
