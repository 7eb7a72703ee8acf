package native

import (
	"fmt"
	"testing"

	"switchboard"
)

// TestTenantUUID checks that the tenant's UUID (Voiso's contact_center_id)
// is shown by the tenant routes and that no write changes it.
func TestTenantUUID(t *testing.T) {
	ta := newTestAPI(t, nil)
	a := newFixture(t, ta.store, "acme")
	b := newFixture(t, ta.store, "globex")
	if a.tenant.UUID == "" || a.tenant.UUID == b.tenant.UUID {
		t.Fatalf("tenant UUIDs %q, %q", a.tenant.UUID, b.tenant.UUID)
	}
	var got switchboard.Tenant
	res := ta.do(t, "GET", "/v1/tenant", a.key, nil)
	res.decode(t, &got)
	if res.status != 200 || got.UUID != a.tenant.UUID {
		t.Fatalf("GET /v1/tenant: %d %s, want uuid %s", res.status, res.body, a.tenant.UUID)
	}
	ta.do(t, "PATCH", "/v1/tenant", a.key, map[string]any{"name": "Acme Renamed", "uuid": b.tenant.UUID})
	res = ta.do(t, "GET", "/v1/tenant", a.key, nil)
	res.decode(t, &got)
	if got.UUID != a.tenant.UUID {
		t.Fatalf("after a PATCH naming a uuid: %s", res.body)
	}
	res = ta.do(t, "GET", fmt.Sprintf("/v1/admin/tenants/%d", a.tenant.ID), "admin-secret", nil)
	res.decode(t, &got)
	if res.status != 200 || got.UUID != a.tenant.UUID {
		t.Fatalf("GET /v1/admin/tenants/{id}: %d %s", res.status, res.body)
	}
	// The UUID is not writable: the store gives each new tenant its own.
	res = ta.do(t, "POST", "/v1/admin/tenants", "admin-secret", map[string]any{"slug": "initech", "name": "Initech", "uuid": a.tenant.UUID})
	if res.status != 400 || res.errorBody(t).Fields["uuid"] == "" {
		t.Fatalf("POST /v1/admin/tenants with a uuid: %d %s", res.status, res.body)
	}
	res = ta.do(t, "POST", "/v1/admin/tenants", "admin-secret", map[string]any{"slug": "initech", "name": "Initech"})
	res.decode(t, &got)
	if res.status != 201 || got.UUID == "" || got.UUID == a.tenant.UUID {
		t.Fatalf("POST /v1/admin/tenants: %d %s", res.status, res.body)
	}
}

// TestTenantSMSDailyCap sets the daily cap on one agent's texts to one
// number through PATCH /v1/tenant: shown by GET, bounded, and off at 0.
func TestTenantSMSDailyCap(t *testing.T) {
	ta := newTestAPI(t, nil)
	a := newFixture(t, ta.store, "acme")
	var got switchboard.Tenant
	res := ta.do(t, "GET", "/v1/tenant", a.key, nil)
	res.decode(t, &got)
	if got.SMSDailyPerRecipient == nil || *got.SMSDailyPerRecipient != switchboard.DefaultSMSDailyPerRecipient {
		t.Fatalf("a new tenant's cap: %s", res.body)
	}
	for _, n := range []int{3, 0} {
		res = ta.do(t, "PATCH", "/v1/tenant", a.key, map[string]any{"sms_daily_per_recipient": n})
		res.decode(t, &got)
		if res.status != 200 || got.SMSDailyPerRecipient == nil || *got.SMSDailyPerRecipient != n {
			t.Fatalf("PATCH to %d: %d %s", n, res.status, res.body)
		}
	}
	// A PATCH without it keeps it.
	res = ta.do(t, "PATCH", "/v1/tenant", a.key, map[string]any{"name": "Acme Two"})
	res.decode(t, &got)
	if got.SMSDailyPerRecipient == nil || *got.SMSDailyPerRecipient != 0 {
		t.Fatalf("a PATCH of the name: %s", res.body)
	}
	res = ta.do(t, "PATCH", "/v1/tenant", a.key, map[string]any{"sms_daily_per_recipient": -1})
	if res.status != 422 || res.errorBody(t).Fields["sms_daily_per_recipient"] == "" {
		t.Fatalf("a negative cap: %d %s", res.status, res.body)
	}
}
