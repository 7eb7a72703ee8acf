package sqlstore_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// uuidV4 is the format of every UUID the store gives (google/uuid's
// NewString), which the migration's backfill must match.
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestVoisoCoreColumns checks that tenants and conversation messages get a
// UUID when stored, that an update cannot change a tenant's, and that a
// call keeps the campaign that placed it, on the single and batched paths.
func TestVoisoCoreColumns(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		if !uuidV4.MatchString(f.tn.UUID) || !uuidV4.MatchString(f.other.UUID) || f.tn.UUID == f.other.UUID {
			t.Fatalf("tenant UUIDs %q, %q", f.tn.UUID, f.other.UUID)
		}
		for _, read := range []func() (switchboard.Tenant, error){
			func() (switchboard.Tenant, error) { return db.Tenant(ctx, f.tn.ID) },
			func() (switchboard.Tenant, error) { return db.TenantBySlug(ctx, f.tn.Slug) },
			func() (switchboard.Tenant, error) {
				return db.UpdateTenantFunc(ctx, f.tn.ID, func(tn *switchboard.Tenant) error {
					tn.UUID, tn.Name = "00000000-0000-4000-8000-000000000000", "Renamed"
					return nil
				})
			},
			func() (switchboard.Tenant, error) { return db.Tenant(ctx, f.tn.ID) },
		} {
			if got, err := read(); err != nil || got.UUID != f.tn.UUID {
				t.Fatalf("tenant UUID read back as %q (%v), want %q", got.UUID, err, f.tn.UUID)
			}
		}
		page, err := db.Tenants(ctx, switchboard.ListOptions{Limit: 10})
		if err != nil || len(page.Items) != 2 || page.Items[0].UUID != f.tn.UUID || page.Items[1].UUID != f.other.UUID {
			t.Fatalf("Tenants = %+v, %v", page.Items, err)
		}

		c := mustConversation(t, db, f.tn.ID, f.webChat("v"))
		m1, _, _, err := db.AddMessage(ctx, f.tn.ID, text(c.ID, switchboard.Inbound, "hello"), nil)
		if err != nil {
			t.Fatal(err)
		}
		m2, _, _, err := db.AddMessage(ctx, f.tn.ID, text(c.ID, switchboard.Inbound, "again"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !uuidV4.MatchString(m1.UUID) || m1.UUID == m2.UUID {
			t.Fatalf("message UUIDs %q, %q", m1.UUID, m2.UUID)
		}
		if read, err := db.ConversationMessage(ctx, f.tn.ID, m1.ID); err != nil || read.UUID != m1.UUID {
			t.Fatalf("ConversationMessage UUID %q (%v), want %q", read.UUID, err, m1.UUID)
		}
		if list, err := db.ConversationMessages(ctx, f.tn.ID, c.ID, 0, 10); err != nil || len(list) != 2 || list[1].UUID != m2.UUID {
			t.Fatalf("ConversationMessages = %+v, %v", list, err)
		}

		campaign := int64(77)
		at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		placed, err := db.SaveCall(ctx, switchboard.Call{TenantID: f.tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallAssigned,
			From: "+15550001000", To: "+15550002000", CampaignID: &campaign, CreatedAt: at}, "created")
		if err != nil {
			t.Fatal(err)
		}
		plain, err := db.SaveCall(ctx, switchboard.Call{TenantID: f.tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallAssigned,
			From: "+15550001000", To: "+15550003000", CreatedAt: at}, "created")
		if err != nil {
			t.Fatal(err)
		}
		batched := switchboard.Call{ID: placed.ID + 100, TenantID: f.tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallAssigned,
			From: "+15550001000", To: "+15550004000", CampaignID: &campaign, CreatedAt: at}
		if err := db.SaveCalls(ctx, []switchboard.CallChange{{Call: batched, What: "created"}}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []struct {
			id       int64
			campaign string
		}{{placed.ID, "77"}, {plain.ID, "<nil>"}, {batched.ID, "77"}} {
			got, err := db.Call(ctx, f.tn.ID, want.id)
			if err != nil {
				t.Fatal(err)
			}
			if s := ptrString(got.CampaignID); s != want.campaign {
				t.Errorf("call %d campaign %s, want %s", want.id, s, want.campaign)
			}
		}
	})
}

func ptrString(p *int64) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprint(*p)
}

// TestVoisoCoreMigration runs migration 0021 over an installation that has
// tenants, conversation messages and calls: each existing tenant and message
// gets its own UUID in the store's format, and calls have no campaign.
func TestVoisoCoreMigration(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			url := mk(t)
			db := sqlstoretest.Open(t, url, sqlstore.Options{})
			f := newConvFixture(t, db)
			c := mustConversation(t, db, f.tn.ID, f.webChat("v"))
			for _, s := range []string{"one", "two", "three"} {
				if _, _, _, err := db.AddMessage(ctx, f.tn.ID, text(c.ID, switchboard.Inbound, s), nil); err != nil {
					t.Fatal(err)
				}
			}
			call, err := db.SaveCall(ctx, switchboard.Call{TenantID: f.tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
				From: "+15550002000", To: "+15550001000", CreatedAt: time.Now()}, "created")
			if err != nil {
				t.Fatal(err)
			}
			// Back to the schema before 0021.
			err = sqlstore.RunTx(ctx, db, func(exec func(string, ...any) error) error {
				for _, q := range []string{"DROP INDEX calls_tenant_campaign", "DROP INDEX tenants_uuid_key",
					"DROP INDEX conversation_messages_uuid_key", "ALTER TABLE calls DROP COLUMN campaign_id",
					"ALTER TABLE tenants DROP COLUMN uuid", "ALTER TABLE conversation_messages DROP COLUMN uuid",
					"DELETE FROM schema_migrations WHERE version LIKE '0021%'"} {
					if err := exec(q); err != nil {
						return fmt.Errorf("%s: %w", q, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			db = sqlstoretest.Open(t, url, sqlstore.Options{}) // migrates

			seen := map[string]bool{}
			for _, id := range []int64{f.tn.ID, f.other.ID} {
				tn, err := db.Tenant(ctx, id)
				if err != nil || !uuidV4.MatchString(tn.UUID) || seen[tn.UUID] {
					t.Fatalf("tenant %d UUID %q after the migration (%v)", id, tn.UUID, err)
				}
				seen[tn.UUID] = true
			}
			msgs, err := db.ConversationMessages(ctx, f.tn.ID, c.ID, 0, 10)
			if err != nil || len(msgs) != 3 {
				t.Fatalf("messages %+v, %v", msgs, err)
			}
			for _, m := range msgs {
				if !uuidV4.MatchString(m.UUID) || seen[m.UUID] {
					t.Fatalf("message %d UUID %q after the migration", m.ID, m.UUID)
				}
				seen[m.UUID] = true
			}
			if got, err := db.Call(ctx, f.tn.ID, call.ID); err != nil || got.CampaignID != nil {
				t.Fatalf("call after the migration: campaign %v (%v)", got.CampaignID, err)
			}
			// New rows after the migration get theirs as before.
			if tn := mustTenant(t, db, "later"); !uuidV4.MatchString(tn.UUID) || seen[tn.UUID] {
				t.Fatalf("a tenant made after the migration has UUID %q", tn.UUID)
			}
		})
	}
}
