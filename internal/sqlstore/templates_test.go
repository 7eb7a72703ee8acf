package sqlstore_test

import (
	"context"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestMessageTemplatesTenantWide checks that profile 0 lists the tenant's
// templates of every profile as one paged list, and no other tenant's.
func TestMessageTemplatesTenantWide(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		wa, err := db.CreateChannelProfile(ctx, f.tn.ID, switchboard.ChannelProfile{Channel: switchboard.ChannelWhatsApp,
			Name: "WhatsApp", Identifier: "+15550009000"})
		if err != nil {
			t.Fatal(err)
		}
		oprof, err := db.CreateChannelProfile(ctx, f.other.ID, switchboard.ChannelProfile{Channel: switchboard.ChannelWhatsApp,
			Name: "Theirs", Identifier: "+15550009001"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, p := range []int64{f.profile.ID, wa.ID, wa.ID} {
			tpl, err := db.CreateMessageTemplate(ctx, f.tn.ID, switchboard.MessageTemplate{ProfileID: p, Name: "t", Body: "Hi"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tpl.ID)
		}
		if _, err := db.CreateMessageTemplate(ctx, f.other.ID, switchboard.MessageTemplate{ProfileID: oprof.ID, Name: "x", Body: "y"}); err != nil {
			t.Fatal(err)
		}
		var got []int64
		opt := switchboard.ListOptions{Limit: 2}
		for {
			page, err := db.MessageTemplates(ctx, f.tn.ID, 0, opt)
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != 3 {
				t.Fatalf("MessageTemplates(tenant, 0) total = %d, want 3", page.Total)
			}
			for _, m := range page.Items {
				got = append(got, m.ID)
			}
			if page.NextCursor == "" {
				break
			}
			opt.Cursor = page.NextCursor
		}
		if len(got) != 3 || got[0] != ids[0] || got[1] != ids[1] || got[2] != ids[2] {
			t.Fatalf("MessageTemplates(tenant, 0) = %v, want %v", got, ids)
		}
		if page, err := db.MessageTemplates(ctx, f.tn.ID, wa.ID, switchboard.ListOptions{}); err != nil || page.Total != 2 {
			t.Fatalf("MessageTemplates(whatsapp profile) = %+v, %v", page, err)
		}
	})
}
