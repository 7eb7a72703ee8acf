package native

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"switchboard"
)

// TestBillingAPI drives /v1/billing over real HTTP: top-ups and the ledger,
// validation naming the field, the scopes (a read key cannot top up), the
// rate table, and the operator's prepaid switch refusing new calls once the
// balance is spent.
func TestBillingAPI(t *testing.T) {
	ta := newTestAPI(t, nil)
	ctx := context.Background()
	f := newFixture(t, ta.store, "acme")
	other := newFixture(t, ta.store, "beta")

	var bal switchboard.Balance
	ta.do(t, "GET", "/v1/billing/balance", f.key, nil).decode(t, &bal)
	if bal.AmountCents != 0 || bal.Currency != "USD" || bal.TenantID != f.tenant.ID {
		t.Errorf("new balance = %+v", bal)
	}

	res := ta.do(t, "POST", "/v1/billing/credits", f.key, `{"amount_cents": 0}`)
	if res.status != http.StatusUnprocessableEntity || res.errorBody(t).Fields["amount_cents"] == "" {
		t.Errorf("zero top-up: %d %s", res.status, res.body)
	}
	for i := range 3 {
		res = ta.do(t, "POST", "/v1/billing/credits", f.key, fmt.Sprintf(`{"amount_cents": %d, "reason": "top-up %d"}`, 1000*(i+1), i))
		if res.status != http.StatusCreated {
			t.Fatalf("top-up: %d %s", res.status, res.body)
		}
	}
	var e switchboard.LedgerEntry
	res.decode(t, &e)
	if e.Kind != switchboard.LedgerCredit || e.AmountCents != 3000 || e.BalanceAfterCents != 6000 {
		t.Errorf("last top-up = %+v", e)
	}
	// The ledger pages newest first.
	var page listBody[switchboard.LedgerEntry]
	ta.do(t, "GET", "/v1/billing/ledger?limit=2", f.key, nil).decode(t, &page)
	if len(page.Items) != 2 || page.Metadata.Total != 3 || page.Items[0].AmountCents != 3000 || page.Metadata.NextCursor == "" {
		t.Fatalf("ledger page = %+v", page)
	}
	ta.do(t, "GET", "/v1/billing/ledger?limit=2&cursor="+page.Metadata.NextCursor, f.key, nil).decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].AmountCents != 1000 {
		t.Errorf("second ledger page = %+v", page)
	}
	ta.do(t, "GET", "/v1/billing/balance", other.key, nil).decode(t, &bal)
	if bal.AmountCents != 0 {
		t.Errorf("the other tenant's balance = %+v", bal)
	}

	// billing.read reads and cannot top up.
	k, err := ta.store.CreateAPIKey(ctx, f.tenant.ID, switchboard.APIKey{Scopes: []string{switchboard.ScopeBillingRead}})
	if err != nil {
		t.Fatal(err)
	}
	if res := ta.do(t, "GET", "/v1/billing/balance", k.Secret, nil); res.status != http.StatusOK {
		t.Errorf("balance with billing.read: %d %s", res.status, res.body)
	}
	if res := ta.do(t, "POST", "/v1/billing/credits", k.Secret, `{"amount_cents": 5}`); res.status != http.StatusForbidden {
		t.Errorf("top-up with billing.read: %d %s", res.status, res.body)
	}
	// Prepaid mode is the operator's, not the tenant's.
	if res := ta.do(t, "PATCH", fmt.Sprintf("/v1/admin/tenants/%d/billing", f.tenant.ID), f.key, `{"prepaid": true}`); res.status != http.StatusUnauthorized {
		t.Errorf("prepaid switch with a tenant key: %d %s", res.status, res.body)
	}

	// Rates: defaults, validation, update, and the match the service uses.
	res = ta.do(t, "POST", "/v1/billing/rates", f.key, `{"prefix": "+44", "per_minute_milli": 2500}`)
	var r switchboard.Rate
	res.decode(t, &r)
	if res.status != http.StatusCreated || r.Prefix != "44" || r.Direction != switchboard.Outbound || r.InitialIncrement != 60 || r.Increment != 60 {
		t.Fatalf("created rate: %d %s", res.status, res.body)
	}
	res = ta.do(t, "POST", "/v1/billing/rates", f.key, `{"prefix": "44x", "direction": "up"}`)
	if fields := res.errorBody(t).Fields; res.status != http.StatusUnprocessableEntity || fields["prefix"] == "" || fields["direction"] == "" {
		t.Errorf("bad rate: %d %s", res.status, res.body)
	}
	res = ta.do(t, "PATCH", fmt.Sprintf("/v1/billing/rates/%d", r.ID), f.key, `{"increment": 1}`)
	res.decode(t, &r)
	if res.status != http.StatusOK || r.Increment != 1 || r.PerMinuteMilli != 2500 {
		t.Errorf("patched rate: %d %s", res.status, res.body)
	}
	if m, ok, err := ta.store.MatchRate(ctx, f.tenant.ID, switchboard.Outbound, "+442071234567", r.EffectiveFrom); err != nil || !ok || m.ID != r.ID {
		t.Errorf("match = %+v, %v, %v", m, ok, err)
	}

	// The operator makes the tenant prepaid and takes the money away:
	// new calls are refused, naming the balance.
	res = ta.do(t, "PATCH", fmt.Sprintf("/v1/admin/tenants/%d/billing", f.tenant.ID), "admin-secret", `{"prepaid": true, "overdraft_cents": 100}`)
	res.decode(t, &bal)
	if res.status != http.StatusOK || !bal.Prepaid || bal.OverdraftCents != 100 {
		t.Fatalf("prepaid switch: %d %s", res.status, res.body)
	}
	res = ta.do(t, "POST", fmt.Sprintf("/v1/admin/tenants/%d/billing/adjustments", f.tenant.ID), "admin-secret", `{"amount_cents": -6101}`)
	if res.status != http.StatusConflict {
		t.Errorf("adjustment past the overdraft: %d %s", res.status, res.body)
	}
	res = ta.do(t, "POST", fmt.Sprintf("/v1/admin/tenants/%d/billing/adjustments", f.tenant.ID), "admin-secret", `{"amount_cents": -6100, "reason": "refund"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("adjustment: %d %s", res.status, res.body)
	}
	err = ta.store.CanPlaceCall(ctx, f.tenant.ID)
	if switchboard.ErrorCode(err) != switchboard.CodeConflict || switchboard.ErrorFields(err)["balance"] == "" {
		t.Errorf("CanPlaceCall with the balance spent = %v", err)
	}
	// The tenant's own threshold PATCH leaves the operator's settings.
	res = ta.do(t, "PATCH", "/v1/billing/balance", f.key, `{"low_balance_threshold_cents": 500}`)
	res.decode(t, &bal)
	if res.status != http.StatusOK || bal.LowBalanceThresholdCents != 500 || !bal.Prepaid || bal.OverdraftCents != 100 || bal.AmountCents != -100 {
		t.Errorf("threshold: %d %s", res.status, res.body)
	}
	// And the tenant as the operator sees it shows the same amount.
	var tn switchboard.Tenant
	ta.do(t, "GET", fmt.Sprintf("/v1/admin/tenants/%d", f.tenant.ID), "admin-secret", nil).decode(t, &tn)
	if tn.BalanceCents != -100 {
		t.Errorf("tenant balance_cents = %d, want -100", tn.BalanceCents)
	}
}
