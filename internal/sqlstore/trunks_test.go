package sqlstore_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
)

func TestTrunks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "acme"), mustTenant(t, db, "globex")

		in, err := db.CreateTrunk(ctx, a.ID, switchboard.Trunk{Name: " carrier ", InboundAddresses: []string{"127.0.0.1", "2001:db8::/32"}, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if in.Name != "carrier" || strings.Join(in.InboundAddresses, ",") != "127.0.0.1/32,2001:db8::/32" || in.CallerID != switchboard.CallerIDFromCall {
			t.Errorf("created inbound trunk = %+v", in)
		}
		out, err := db.CreateTrunk(ctx, a.ID, switchboard.Trunk{Name: "out", OutboundURI: "sip:127.0.0.1:5080", Username: "u",
			Password: "p", DefaultOutbound: true, CallerID: "+39 011 2121212", MaxConcurrentCalls: 10, CallsPerSecond: 2, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if out.CallerID != "+390112121212" || !out.PasswordSet || !out.DefaultOutbound {
			t.Errorf("created outbound trunk = %+v", out)
		}
		got, err := db.Trunk(ctx, a.ID, out.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Password != "p" || got.Username != "u" || got.MaxConcurrentCalls != 10 || got.CallsPerSecond != 2 {
			t.Errorf("read back %+v: the driver needs the password retrievably", got)
		}

		// Names are unique per tenant (CodeConflict naming name), not across tenants.
		_, err = db.CreateTrunk(ctx, a.ID, switchboard.Trunk{Name: "carrier", InboundAddresses: []string{"10.0.0.0/8"}})
		wantField(t, "duplicate name", err, switchboard.CodeConflict, "name")
		if _, err := db.CreateTrunk(ctx, b.ID, switchboard.Trunk{Name: "carrier", InboundAddresses: []string{"127.0.0.1/32"}}); err != nil {
			t.Fatalf("same name in another tenant: %v", err)
		}
		// Inbound usernames are unique across tenants: they tell the tenant.
		if _, err := db.CreateTrunk(ctx, a.ID, switchboard.Trunk{Name: "cred", InboundUsername: "carrier1", InboundPassword: "x"}); err != nil {
			t.Fatal(err)
		}
		_, err = db.CreateTrunk(ctx, b.ID, switchboard.Trunk{Name: "cred", InboundUsername: "carrier1", InboundPassword: "y"})
		wantField(t, "duplicate inbound username", err, switchboard.CodeConflict, "inbound_username")

		// Validation names the field.
		for _, c := range []struct {
			tr    switchboard.Trunk
			field string
		}{
			{switchboard.Trunk{Name: "x"}, "outbound_uri"},
			{switchboard.Trunk{Name: "x", InboundAddresses: []string{"300.1.1.1"}}, "inbound_addresses"},
			{switchboard.Trunk{Name: "x", InboundAddresses: []string{"10.0.0.7/8"}}, "inbound_addresses"},
			{switchboard.Trunk{Name: "x", InboundAddresses: []string{"0.0.0.0/0"}}, "inbound_addresses"},
			{switchboard.Trunk{Name: "x", OutboundURI: "http://carrier.example"}, "outbound_uri"},
			{switchboard.Trunk{Name: "x", OutboundURI: "sip:"}, "outbound_uri"},
			{switchboard.Trunk{Name: "x", OutboundURI: "sip:host:70000"}, "outbound_uri"},
			{switchboard.Trunk{Name: "x", OutboundURI: "sips:host;transport=udp"}, "outbound_uri"},
			{switchboard.Trunk{Name: "x", OutboundURI: "sip:host", Register: true}, "register"},
			{switchboard.Trunk{Name: "x", OutboundURI: "sip:host", CallerID: "anonymous"}, "caller_id"},
			{switchboard.Trunk{Name: "x", OutboundURI: "sip:host", CallsPerSecond: -1}, "calls_per_second"},
			{switchboard.Trunk{Name: "x", OutboundURI: "sip:host", OptionsIntervalSeconds: 1}, "options_interval_seconds"},
			{switchboard.Trunk{Name: "x", OutboundURI: "sip:host", Prefix: "0x"}, "prefix"},
			{switchboard.Trunk{Name: "x", InboundAddresses: []string{"127.0.0.1"}, DefaultOutbound: true}, "default_outbound"},
			{switchboard.Trunk{Name: "", OutboundURI: "sip:host"}, "name"},
		} {
			_, err := db.CreateTrunk(ctx, a.ID, c.tr)
			wantField(t, "create "+c.field, err, switchboard.CodeInvalid, c.field)
		}

		// A second default clears the first, with the first's trunk.updated in
		// the same transaction.
		head, _ := db.EventHead(ctx, a.ID)
		out2, err := db.CreateTrunk(ctx, a.ID, switchboard.Trunk{Name: "out2", OutboundURI: "sips:carrier.example.com;transport=tls", DefaultOutbound: true, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Trunk(ctx, a.ID, out.ID); got.DefaultOutbound {
			t.Errorf("the old default kept default_outbound")
		}
		evs, err := db.Events(ctx, a.ID, head, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 || evs[0].Type != switchboard.EventTrunkUpdated || evs[0].SubjectID != out.ID ||
			evs[1].Type != switchboard.EventTrunkCreated || evs[1].SubjectID != out2.ID {
			t.Fatalf("events after a new default = %+v", evs)
		}
		for _, e := range evs {
			if strings.Contains(string(e.Payload), `"p"`) || strings.Contains(string(e.Payload), "password\":") {
				t.Errorf("event payload carries a secret: %s", e.Payload)
			}
			var v struct {
				V int `json:"v"`
			}
			if json.Unmarshal(e.Payload, &v) != nil || v.V != switchboard.EventPayloadVersion {
				t.Errorf("payload not versioned: %s", e.Payload)
			}
		}

		// Update: an empty password keeps the stored one; clearing the
		// username clears it; default moves back.
		up, err := db.UpdateTrunkFunc(ctx, a.ID, out.ID, func(tr *switchboard.Trunk) error {
			tr.Password, tr.DefaultOutbound, tr.Prefix = "", true, "00"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if up.Password != "p" || up.Prefix != "00" || !up.DefaultOutbound {
			t.Errorf("updated = %+v", up)
		}
		if got, _ := db.Trunk(ctx, a.ID, out2.ID); got.DefaultOutbound {
			t.Errorf("moving the default left it on out2")
		}
		up.Username = ""
		if up, err = db.UpdateTrunk(ctx, a.ID, up); err != nil || up.Password != "" || up.PasswordSet {
			t.Errorf("clearing the username: %+v, %v", up, err)
		}

		// AllTrunks crosses tenants, with secrets, in id order.
		all, err := db.AllTrunks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 5 {
			t.Fatalf("AllTrunks = %d trunks, want 5", len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i-1].ID >= all[i].ID {
				t.Errorf("AllTrunks out of order")
			}
		}
		if all[3].InboundPassword != "x" {
			t.Errorf("inbound password not retrievable: %+v", all[3])
		}

		// Tenant isolation and delete.
		if _, err := db.Trunk(ctx, b.ID, out.ID); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Errorf("another tenant's trunk: %v", err)
		}
		wantCode(t, "delete in another tenant", db.DeleteTrunk(ctx, b.ID, out.ID), switchboard.CodeNotFound)
		if err := db.DeleteTrunk(ctx, a.ID, out.ID); err != nil {
			t.Fatal(err)
		}
		p, err := db.Trunks(ctx, a.ID, switchboard.ListOptions{Limit: 10})
		if err != nil || len(p.Items) != 3 {
			t.Fatalf("Trunks after delete = %+v, %v", p, err)
		}
	})
}
