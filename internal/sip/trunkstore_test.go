package sip

import (
	"context"
	"net/netip"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestTrunksFollowTheStore loads trunks from a real store and follows its
// trunk.* events: a new trunk, an update (with the password the event does
// not carry), a default moving, a delete.
func TestTrunksFollowTheStore(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := sqlstoretest.Open(t, mk(t), sqlstore.Options{})
			tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
			if err != nil {
				t.Fatal(err)
			}
			in, err := db.CreateTrunk(ctx, tn.ID, switchboard.Trunk{Name: "carrier", InboundAddresses: []string{"127.0.0.1/32"}, Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			head, err := db.EventHead(ctx, tn.ID)
			if err != nil {
				t.Fatal(err)
			}
			ts := NewTrunks(TrunksOptions{})
			if err := ts.Load(ctx, db); err != nil {
				t.Fatal(err)
			}
			if got, ok := ts.MatchInbound(netip.MustParseAddr("127.0.0.1")); !ok || got.ID != in.ID || got.TenantID != tn.ID {
				t.Fatalf("loaded trunk does not match: %+v %v", got, ok)
			}
			follow := func() {
				t.Helper()
				evs, err := db.Events(ctx, tn.ID, head, 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range evs {
					if err := ts.Apply(ctx, db, e); err != nil {
						t.Fatal(err)
					}
					head = e.Seq
				}
			}

			out, err := db.CreateTrunk(ctx, tn.ID, switchboard.Trunk{Name: "out", OutboundURI: "sip:127.0.0.1:5099", Username: "u", Password: "p",
				DefaultOutbound: true, Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			follow()
			got, release, err := ts.Outbound(tn.ID)
			if err != nil || got.ID != out.ID || got.Password != "p" {
				t.Fatalf("Outbound after trunk.created = %+v, %v (the password must come from the store)", got, err)
			}
			release()

			if _, err := db.UpdateTrunkFunc(ctx, tn.ID, out.ID, func(tr *switchboard.Trunk) error {
				tr.Password = "rotated"
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			backup, err := db.CreateTrunk(ctx, tn.ID, switchboard.Trunk{Name: "backup", OutboundURI: "sip:127.0.0.1:5098", DefaultOutbound: true, Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			follow()
			if got, _, _ := ts.Outbound(tn.ID); got.ID != backup.ID {
				t.Errorf("the default did not move to backup: %+v", got)
			}
			if got, _ := ts.Trunk(out.ID); got.Password != "rotated" || got.DefaultOutbound {
				t.Errorf("out after its updates = %+v", got)
			}

			if err := db.DeleteTrunk(ctx, tn.ID, in.ID); err != nil {
				t.Fatal(err)
			}
			follow()
			if _, ok := ts.MatchInbound(netip.MustParseAddr("127.0.0.1")); ok {
				t.Errorf("a deleted trunk still matches")
			}
		})
	}
}
