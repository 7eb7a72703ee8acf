package sip

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"

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

// TestInboundDecision takes INVITEs from carriers' addresses to tenants'
// numbers, through a real store: the dialled number picks the tenant among
// trunks sharing a carrier, a trunk of one tenant cannot deliver into
// another's numbers, and strangers are refused before any number is looked
// up.
func TestInboundDecision(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := sqlstoretest.Open(t, mk(t), sqlstore.Options{})
			mustTenant := func(slug string) switchboard.Tenant {
				tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: slug, Name: slug})
				if err != nil {
					t.Fatal(err)
				}
				return tn
			}
			a, b, c := mustTenant("acme"), mustTenant("beta"), mustTenant("gamma")
			for _, x := range []struct {
				tenant int64
				addr   string
				number string
			}{{a.ID, "127.0.0.1/32", "+390612345678"}, {b.ID, "127.0.0.1", "+15550001111"}, {c.ID, "10.0.0.0/24", "+442071234567"}} {
				if _, err := db.CreateTrunk(ctx, x.tenant, switchboard.Trunk{Name: "carrier", InboundAddresses: []string{x.addr}, Enabled: true}); err != nil {
					t.Fatal(err)
				}
				if _, err := db.CreatePhoneNumber(ctx, x.tenant, switchboard.PhoneNumber{Number: x.number}); err != nil {
					t.Fatal(err)
				}
			}
			ts := NewTrunks(TrunksOptions{})
			if err := ts.Load(ctx, db); err != nil {
				t.Fatal(err)
			}
			invite := func(ruser, touser string) *sip.Request {
				req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: ruser, Host: "127.0.0.1", Port: 5060})
				req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: touser, Host: "127.0.0.1"}, Params: sip.NewParams()})
				return req
			}
			for _, x := range []struct {
				src, ruser, touser string
				tenant             int64
				err                error
			}{
				{"127.0.0.1", "390612345678", "", a.ID, nil},
				{"127.0.0.1", "+390612345678;npdi", "", a.ID, nil},
				{"127.0.0.1", "s", "+1 (555) 000-1111", b.ID, nil},
				{"::ffff:127.0.0.1", "15550001111", "", b.ID, nil},
				{"10.0.0.9", "+442071234567", "", c.ID, nil},
				{"10.0.0.9", "+390612345678", "", 0, ErrNotFromTrunk},  // gamma's carrier into acme's number
				{"127.0.0.2", "+390612345678", "", 0, ErrNotFromTrunk}, // a stranger
				{"127.0.0.1", "+390699999999", "", 0, ErrUnknownDID},
				{"127.0.0.1", "alice", "bob", 0, ErrUnknownDID},
			} {
				tr, n, err := ts.Inbound(ctx, db, netip.MustParseAddr(x.src), invite(x.ruser, x.touser))
				switch {
				case x.err != nil && !errors.Is(err, x.err):
					t.Errorf("%s -> %s/%s: %v, want %v", x.src, x.ruser, x.touser, err, x.err)
				case x.err == nil && (err != nil || tr.TenantID != x.tenant || n.TenantID != x.tenant):
					t.Errorf("%s -> %s/%s: trunk of %d, number of %d, %v; want tenant %d", x.src, x.ruser, x.touser, tr.TenantID, n.TenantID, err, x.tenant)
				}
				if x.err != nil {
					if status, _ := TrunkErrorStatus(err); status != map[error]int{ErrNotFromTrunk: 403, ErrUnknownDID: 404}[x.err] {
						t.Errorf("%v answers %d", err, status)
					}
				}
			}
		})
	}
}
