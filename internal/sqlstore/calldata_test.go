package sqlstore_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestCallData is the conformance of the call data store: reads of a call
// with none, the read-modify-write, the batch read of a page, tenancy, the
// engine's saves leaving it alone, validation, concurrent updates, tickets,
// and the tenant's write-only company secret.
func TestCallData(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		now := time.Now().UTC().Truncate(time.Microsecond)
		mkCall := func(tenantID int64, to string) switchboard.Call {
			t.Helper()
			c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tenantID, Direction: switchboard.Outbound, Status: switchboard.CallAssigned,
				From: "+15550001111", To: to, CreatedAt: now}, "created")
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		c1, c2, c3 := mkCall(tn.ID, "+15550002222"), mkCall(tn.ID, "+15550003333"), mkCall(tn.ID, "+15550004444")
		foreign := mkCall(other.ID, "+15550005555")

		// A call nothing was written about reads as its zero data.
		d, err := db.CallData(ctx, tn.ID, c1.ID)
		if err != nil || d.CallID != c1.ID || d.TenantID != tn.ID || d.CustomData == nil || len(d.CustomData) != 0 || d.EndUserID != nil {
			t.Fatalf("CallData(empty) = %+v, %v", d, err)
		}
		_, err = db.CallData(ctx, tn.ID, foreign.ID)
		wantCode(t, "CallData of another tenant's call", err, switchboard.CodeNotFound)
		_, err = db.UpdateCallDataFunc(ctx, tn.ID, foreign.ID, func(*switchboard.CallData) error { return nil })
		wantCode(t, "UpdateCallDataFunc of another tenant's call", err, switchboard.CodeNotFound)

		eu, err := db.UpsertEndUser(ctx, tn.ID, switchboard.EndUser{Identifier: "cust-1", Name: "Ada"})
		if err != nil {
			t.Fatal(err)
		}
		d, err = db.UpdateCallDataFunc(ctx, tn.ID, c1.ID, func(d *switchboard.CallData) error {
			d.CallType, d.TicketID, d.Language, d.RecordingPermission = "Voice Outbound (API)", "T-9", "pt-BR", switchboard.RecordingGranted
			d.VerifiedCustomer, d.RepeatCustomer = true, true
			d.EndUserID = &eu.ID
			d.CustomData["field1"] = switchboard.CustomField{Label: "LABEL 4", Value: json.RawMessage(`"dummy1"`)}
			d.SignedData["n"] = switchboard.CustomField{Value: json.RawMessage(`{"a":[1,2]}`)}
			return nil
		})
		if err != nil || !d.VerifiedCustomer || d.BadActor || !d.RepeatCustomer || d.TicketID != "T-9" || *d.EndUserID != eu.ID {
			t.Fatalf("UpdateCallDataFunc = %+v, %v", d, err)
		}
		got, err := db.CallData(ctx, tn.ID, c1.ID)
		if err != nil || got.CallType != "Voice Outbound (API)" || got.Language != "pt-BR" || got.RecordingPermission != "granted" ||
			got.CustomData["field1"].Label != "LABEL 4" || string(got.CustomData["field1"].Value) != `"dummy1"` ||
			string(got.SignedData["n"].Value) != `{"a":[1,2]}` || !got.UpdatedAt.Equal(d.UpdatedAt) {
			t.Fatalf("CallData = %+v, %v (wrote %+v)", got, err, d)
		}

		// The engine's saves of the call leave its data alone.
		c1.Status = switchboard.CallConnected
		c1.ConnectedAt = &now
		if _, err := db.SaveCall(ctx, c1, "connected"); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.CallData(ctx, tn.ID, c1.ID); got.TicketID != "T-9" || !got.VerifiedCustomer {
			t.Fatalf("call data after SaveCall: %+v", got)
		}

		// Invalid data is refused and nothing is written; fn's error aborts.
		_, err = db.UpdateCallDataFunc(ctx, tn.ID, c1.ID, func(d *switchboard.CallData) error {
			d.RecordingPermission = "maybe"
			d.TicketID = "changed"
			return nil
		})
		wantField(t, "bad recording_permission", err, switchboard.CodeInvalid, "recording_permission")
		stray := int64(1 << 40)
		_, err = db.UpdateCallDataFunc(ctx, tn.ID, c1.ID, func(d *switchboard.CallData) error { d.EndUserID = &stray; return nil })
		if err == nil {
			t.Fatal("an end user that does not exist was linked")
		}
		_, err = db.UpdateCallDataFunc(ctx, tn.ID, c2.ID, func(d *switchboard.CallData) error {
			return switchboard.Errorf(switchboard.CodeConflict, "no")
		})
		wantCode(t, "fn's error", err, switchboard.CodeConflict)
		if got, _ := db.CallData(ctx, tn.ID, c1.ID); got.TicketID != "T-9" {
			t.Fatalf("refused update wrote: %+v", got)
		}

		// Concurrent updates of different fields lose nothing.
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.UpdateCallDataFunc(ctx, tn.ID, c2.ID, func(d *switchboard.CallData) error {
					d.CustomData[string(rune('a'+i))] = switchboard.CustomField{Value: json.RawMessage("1")}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if got, _ := db.CallData(ctx, tn.ID, c2.ID); len(got.CustomData) != 8 {
			t.Fatalf("concurrent updates kept %d of 8 fields: %+v", len(got.CustomData), got.CustomData)
		}

		// The batch read: stored rows only, the tenant's only.
		m, err := db.CallDataFor(ctx, tn.ID, []int64{c1.ID, c2.ID, c3.ID, foreign.ID})
		if err != nil || len(m) != 2 || m[c1.ID].TicketID != "T-9" || len(m[c2.ID].CustomData) != 8 {
			t.Fatalf("CallDataFor = %+v, %v", m, err)
		}
		if _, err := db.UpdateCallDataFunc(ctx, other.ID, foreign.ID, func(d *switchboard.CallData) error { d.TicketID = "T-9"; return nil }); err != nil {
			t.Fatal(err)
		}
		if m, _ := db.CallDataFor(ctx, tn.ID, []int64{foreign.ID}); len(m) != 0 {
			t.Fatalf("CallDataFor crossed tenants: %+v", m)
		}
		if m, err := db.CallDataFor(ctx, tn.ID, nil); err != nil || len(m) != 0 {
			t.Fatalf("CallDataFor(nil) = %v, %v", m, err)
		}

		// A ticket resolves to its newest call, within the tenant.
		if _, err := db.UpdateCallDataFunc(ctx, tn.ID, c3.ID, func(d *switchboard.CallData) error { d.TicketID = "T-9"; return nil }); err != nil {
			t.Fatal(err)
		}
		if c, err := db.CallByTicket(ctx, tn.ID, "T-9"); err != nil || c.ID != c3.ID || c.To != "+15550004444" {
			t.Fatalf("CallByTicket = %+v, %v", c, err)
		}
		_, err = db.CallByTicket(ctx, tn.ID, "T-404")
		wantCode(t, "unknown ticket", err, switchboard.CodeNotFound)

		// The company secret: empty at first, set, kept by writes that do
		// not name it, never in an event.
		if got, _ := db.Tenant(ctx, tn.ID); got.CompanySecret == nil || *got.CompanySecret != "" {
			t.Fatalf("new tenant's secret = %v", got.CompanySecret)
		}
		secret := "s3cret-of-acme"
		if _, err := db.UpdateTenantFunc(ctx, tn.ID, func(t *switchboard.Tenant) error { t.CompanySecret = &secret; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpdateTenantFunc(ctx, tn.ID, func(t *switchboard.Tenant) error { t.Name, t.CompanySecret = "Acme 2", nil; return nil }); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Tenant(ctx, tn.ID); got.CompanySecret == nil || *got.CompanySecret != secret || got.Name != "Acme 2" {
			t.Fatalf("secret after an update without it = %v", got.CompanySecret)
		}
		evs, err := db.Events(ctx, tn.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if strings.Contains(string(e.Payload), secret) {
				t.Fatalf("event %s carries the company secret", e.Type)
			}
		}
	})
}
