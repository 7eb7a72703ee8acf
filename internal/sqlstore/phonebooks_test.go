package sqlstore_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestPhonebooks is the store's contract for phonebooks (UJET's contact
// lists) on both engines: the one-per-tenant and one-per-agent rules, unique
// custom names, tenant isolation, entries checked and scoped to their list,
// and a whole list replaced at once.
func TestPhonebooks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		ann, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
		if err != nil {
			t.Fatal(err)
		}
		stranger, err := db.CreateUser(ctx, other.ID, switchboard.User{Email: "bob@other.test", FirstName: "Bob"})
		if err != nil {
			t.Fatal(err)
		}

		vendors, err := db.CreatePhonebook(ctx, tn.ID, switchboard.Phonebook{Kind: switchboard.PhonebookCustom, Name: "  Vendors ", Description: "suppliers"})
		if err != nil {
			t.Fatal(err)
		}
		if vendors.ID == 0 || vendors.Name != "Vendors" || vendors.TenantID != tn.ID || vendors.Entries != 0 {
			t.Fatalf("created %+v", vendors)
		}
		_, err = db.CreatePhonebook(ctx, tn.ID, switchboard.Phonebook{Kind: switchboard.PhonebookCustom, Name: "Vendors"})
		wantField(t, "a second custom list named Vendors", err, switchboard.CodeConflict, "name")
		if _, err := db.CreatePhonebook(ctx, other.ID, switchboard.Phonebook{Kind: switchboard.PhonebookCustom, Name: "Vendors"}); err != nil {
			t.Fatalf("another tenant's list of the same name: %v", err)
		}
		_, err = db.CreatePhonebook(ctx, tn.ID, switchboard.Phonebook{Kind: switchboard.PhonebookPersonal, Name: "Mine"})
		wantField(t, "a personal list without owner", err, switchboard.CodeInvalid, "owner_user_id")
		_, err = db.CreatePhonebook(ctx, tn.ID, switchboard.Phonebook{Kind: switchboard.PhonebookPersonal, Name: "Mine", OwnerUserID: &stranger.ID})
		wantField(t, "a personal list owned by another tenant's user", err, switchboard.CodeInvalid, "owner_user_id")
		_, err = db.CreatePhonebook(ctx, tn.ID, switchboard.Phonebook{Kind: "team", Name: "X"})
		wantField(t, "an unknown kind", err, switchboard.CodeInvalid, "kind")

		// EnsurePhonebook makes one global list however many ask at once.
		var wg sync.WaitGroup
		got := make([]switchboard.Phonebook, 8)
		errs := make([]error, 8)
		for i := range got {
			wg.Go(func() { got[i], errs[i] = db.EnsurePhonebook(ctx, tn.ID, switchboard.PhonebookGlobal, nil) })
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil || got[i].ID != got[0].ID || got[i].Name != "Global" {
				t.Fatalf("EnsurePhonebook %d = %+v, %v; first %+v", i, got[i], errs[i], got[0])
			}
		}
		global := got[0]
		_, err = db.CreatePhonebook(ctx, tn.ID, switchboard.Phonebook{Kind: switchboard.PhonebookGlobal, Name: "Another"})
		wantField(t, "a second global list", err, switchboard.CodeConflict, "kind")
		fav, err := db.EnsurePhonebook(ctx, tn.ID, switchboard.PhonebookFavorite, &ann.ID)
		if err != nil || fav.OwnerUserID == nil || *fav.OwnerUserID != ann.ID || fav.Kind != switchboard.PhonebookFavorite {
			t.Fatalf("favorite list = %+v, %v", fav, err)
		}
		if again, err := db.EnsurePhonebook(ctx, tn.ID, switchboard.PhonebookFavorite, &ann.ID); err != nil || again.ID != fav.ID {
			t.Fatalf("favorite list again = %+v, %v; want %d", again, err, fav.ID)
		}
		_, err = db.EnsurePhonebook(ctx, tn.ID, switchboard.PhonebookCustom, nil)
		wantField(t, "EnsurePhonebook of a custom list", err, switchboard.CodeInvalid, "kind")

		// Lists: by kind, by owner, tenant's own only.
		all, err := db.Phonebooks(ctx, tn.ID, switchboard.PhonebookFilter{}, switchboard.ListOptions{})
		if err != nil || all.Total != 3 || len(all.Items) != 3 || all.Items[0].ID != vendors.ID {
			t.Fatalf("Phonebooks = %+v, %v", all, err)
		}
		customs, err := db.Phonebooks(ctx, tn.ID, switchboard.PhonebookFilter{Kinds: []switchboard.PhonebookKind{switchboard.PhonebookCustom, switchboard.PhonebookGlobal}}, switchboard.ListOptions{})
		if err != nil || customs.Total != 2 {
			t.Fatalf("custom and global = %+v, %v", customs, err)
		}
		_, err = db.Phonebook(ctx, other.ID, vendors.ID)
		wantCode(t, "another tenant's list", err, switchboard.CodeNotFound)

		// Entries.
		e, err := db.CreatePhonebookEntry(ctx, tn.ID, switchboard.PhonebookEntry{PhonebookID: vendors.ID, Name: " Acme Support ",
			Email: "Help@Acme.test", Numbers: []switchboard.PhonebookNumber{{Label: "office", Number: "+14155550100"}}, Notes: "24/7"})
		if err != nil {
			t.Fatal(err)
		}
		if e.Name != "Acme Support" || e.Email != "help@acme.test" || e.TenantID != tn.ID || len(e.Numbers) != 1 {
			t.Fatalf("entry %+v", e)
		}
		_, err = db.CreatePhonebookEntry(ctx, tn.ID, switchboard.PhonebookEntry{PhonebookID: vendors.ID, Name: "No way to reach"})
		wantField(t, "an entry without number or email", err, switchboard.CodeInvalid, "numbers")
		_, err = db.CreatePhonebookEntry(ctx, tn.ID, switchboard.PhonebookEntry{PhonebookID: vendors.ID, Name: "Bad",
			Numbers: []switchboard.PhonebookNumber{{Number: "555-0100"}}})
		wantField(t, "a number not in E.164", err, switchboard.CodeInvalid, "numbers")
		_, err = db.CreatePhonebookEntry(ctx, other.ID, switchboard.PhonebookEntry{PhonebookID: vendors.ID, Name: "X", Email: "x@y.test"})
		wantCode(t, "an entry in another tenant's list", err, switchboard.CodeNotFound)
		if got, err := db.Phonebook(ctx, tn.ID, vendors.ID); err != nil || got.Entries != 1 {
			t.Fatalf("entry count = %+v, %v", got, err)
		}
		_, err = db.PhonebookEntry(ctx, tn.ID, global.ID, e.ID)
		wantCode(t, "the entry through another list", err, switchboard.CodeNotFound)
		up, err := db.UpdatePhonebookEntryFunc(ctx, tn.ID, vendors.ID, e.ID, func(e *switchboard.PhonebookEntry) error {
			e.Company, e.Numbers = "Acme", append(e.Numbers, switchboard.PhonebookNumber{Label: "mobile", Number: "+393471234567"})
			return nil
		})
		if err != nil || up.Company != "Acme" || len(up.Numbers) != 2 || !up.UpdatedAt.After(e.UpdatedAt) && !up.UpdatedAt.Equal(e.UpdatedAt) {
			t.Fatalf("updated entry %+v, %v", up, err)
		}
		if read, err := db.PhonebookEntry(ctx, tn.ID, vendors.ID, e.ID); err != nil || read.Numbers[1].Number != "+393471234567" || read.Company != "Acme" {
			t.Fatalf("read back %+v, %v", read, err)
		}
		_, err = db.UpdatePhonebookEntryFunc(ctx, tn.ID, vendors.ID, e.ID, func(e *switchboard.PhonebookEntry) error {
			e.PhonebookID = global.ID
			return nil
		})
		wantField(t, "moving an entry", err, switchboard.CodeInvalid, "phonebook_id")
		_, err = db.UpdatePhonebookEntryFunc(ctx, tn.ID, global.ID, e.ID, func(*switchboard.PhonebookEntry) error { return nil })
		wantCode(t, "updating the entry through another list", err, switchboard.CodeNotFound)

		renamed, err := db.UpdatePhonebookFunc(ctx, tn.ID, vendors.ID, func(p *switchboard.Phonebook) error {
			p.Name = "Suppliers"
			return nil
		})
		if err != nil || renamed.Name != "Suppliers" || renamed.Entries != 1 {
			t.Fatalf("renamed %+v, %v", renamed, err)
		}
		_, err = db.UpdatePhonebookFunc(ctx, tn.ID, vendors.ID, func(p *switchboard.Phonebook) error {
			p.Kind = switchboard.PhonebookGlobal
			return nil
		})
		wantField(t, "changing the kind", err, switchboard.CodeInvalid, "kind")

		// Replace: all checked first, then the list is exactly the new entries.
		_, err = db.ReplacePhonebookEntries(ctx, tn.ID, vendors.ID, []switchboard.PhonebookEntry{
			{Name: "Good", Email: "g@acme.test"}, {Name: "Bad"}})
		wantCode(t, "a replacement with a bad entry", err, switchboard.CodeInvalid)
		if p, _ := db.PhonebookEntries(ctx, tn.ID, vendors.ID, switchboard.ListOptions{}); p.Total != 1 || p.Items[0].ID != e.ID {
			t.Fatalf("a refused replacement changed the list: %+v", p)
		}
		rep, err := db.ReplacePhonebookEntries(ctx, tn.ID, vendors.ID, []switchboard.PhonebookEntry{
			{Name: "One", Email: "one@acme.test"}, {Name: "Two", Numbers: []switchboard.PhonebookNumber{{Number: "+442071234567"}}}})
		if err != nil || rep.Entries != 2 {
			t.Fatalf("replaced %+v, %v", rep, err)
		}
		entries, err := db.PhonebookEntries(ctx, tn.ID, vendors.ID, switchboard.ListOptions{Limit: 1})
		if err != nil || entries.Total != 2 || len(entries.Items) != 1 || entries.Items[0].Name != "One" || entries.NextCursor == "" {
			t.Fatalf("entries page 1 = %+v, %v", entries, err)
		}
		_, err = db.PhonebookEntries(ctx, tn.ID, 999999, switchboard.ListOptions{})
		wantCode(t, "entries of an unknown list", err, switchboard.CodeNotFound)

		if err := db.DeletePhonebookEntry(ctx, tn.ID, vendors.ID, entries.Items[0].ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "deleting it again", db.DeletePhonebookEntry(ctx, tn.ID, vendors.ID, entries.Items[0].ID), switchboard.CodeNotFound)
		if err := db.DeletePhonebook(ctx, tn.ID, vendors.ID); err != nil {
			t.Fatalf("deleting a list with an entry: %v", err)
		}
		_, err = db.Phonebook(ctx, tn.ID, vendors.ID)
		wantCode(t, "the deleted list", err, switchboard.CodeNotFound)

		// Every write is an event (the response cache relies on it).
		evs, err := db.Events(ctx, tn.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, ev := range evs {
			seen[ev.Type] = true
		}
		for _, typ := range []string{switchboard.EventPhonebookCreated, switchboard.EventPhonebookUpdated, switchboard.EventPhonebookDeleted,
			switchboard.EventPhonebookEntryCreated, switchboard.EventPhonebookEntryUpdated, switchboard.EventPhonebookEntryDeleted,
			switchboard.EventPhonebookEntriesReplaced} {
			if !seen[typ] {
				t.Errorf("no %s event", typ)
			}
		}
	})
}

// TestQueueSettingsVersions is the store's contract for saved queue
// settings on both engines: a version keeps its snapshot byte for byte, is
// found by id and by revision within its tenant only, and lists come newest
// first without snapshots.
func TestQueueSettingsVersions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		doc := []byte(`{"format":"x","queues":[{"name":"Sales ✓"}]}`)
		v1, err := db.SaveQueueSettingsVersion(ctx, tn.ID, switchboard.QueueSettingsVersion{Type: switchboard.QueueSettingsExported,
			ExportAttachedFiles: true, Snapshot: doc})
		if err != nil {
			t.Fatal(err)
		}
		if v1.ID == 0 || len(v1.Revision) != 36 || v1.Size != len(doc) || v1.CreatedAt.IsZero() {
			t.Fatalf("saved %+v", v1)
		}
		v2, err := db.SaveQueueSettingsVersion(ctx, tn.ID, switchboard.QueueSettingsVersion{Type: switchboard.QueueSettingsAutoSaved,
			CreatedBy: "ann@acme.test", Revision: "e8a11621-50a2-41b0-9152-0a15c3a8391a", Snapshot: []byte(`{}`)})
		if err != nil || v2.Revision != "e8a11621-50a2-41b0-9152-0a15c3a8391a" {
			t.Fatalf("saved with a revision: %+v, %v", v2, err)
		}
		_, err = db.SaveQueueSettingsVersion(ctx, tn.ID, switchboard.QueueSettingsVersion{Type: switchboard.QueueSettingsAutoSaved,
			Revision: v2.Revision, Snapshot: []byte(`{}`)})
		wantField(t, "a revision twice", err, switchboard.CodeConflict, "revision")
		_, err = db.SaveQueueSettingsVersion(ctx, tn.ID, switchboard.QueueSettingsVersion{Type: "weird", Snapshot: []byte(`{}`)})
		wantField(t, "an unknown type", err, switchboard.CodeInvalid, "type")
		_, err = db.SaveQueueSettingsVersion(ctx, tn.ID, switchboard.QueueSettingsVersion{Type: switchboard.QueueSettingsExported, Snapshot: []byte(`{"a":`)})
		wantField(t, "a snapshot that is not JSON", err, switchboard.CodeInvalid, "snapshot")
		_, err = db.SaveQueueSettingsVersion(ctx, tn.ID, switchboard.QueueSettingsVersion{Type: switchboard.QueueSettingsExported, Revision: "v1", Snapshot: []byte(`{}`)})
		wantField(t, "a revision that is not a UUID", err, switchboard.CodeInvalid, "revision")

		got, err := db.QueueSettingsVersion(ctx, tn.ID, v1.ID)
		if err != nil || string(got.Snapshot) != string(doc) || !got.ExportAttachedFiles || got.Type != switchboard.QueueSettingsExported || got.Revision != v1.Revision {
			t.Fatalf("read %+v (%s), %v", got, got.Snapshot, err)
		}
		if !json.Valid(got.Snapshot) {
			t.Fatal("the snapshot read back is not JSON")
		}
		byRev, err := db.QueueSettingsVersionByRevision(ctx, tn.ID, v2.Revision)
		if err != nil || byRev.ID != v2.ID || byRev.CreatedBy != "ann@acme.test" || string(byRev.Snapshot) != "{}" {
			t.Fatalf("by revision %+v, %v", byRev, err)
		}
		_, err = db.QueueSettingsVersion(ctx, other.ID, v1.ID)
		wantCode(t, "another tenant's version", err, switchboard.CodeNotFound)
		_, err = db.QueueSettingsVersionByRevision(ctx, other.ID, v2.Revision)
		wantCode(t, "another tenant's revision", err, switchboard.CodeNotFound)

		list, err := db.QueueSettingsVersions(ctx, tn.ID, switchboard.ListOptions{Limit: 1})
		if err != nil || list.Total != 2 || len(list.Items) != 1 || list.Items[0].ID != v2.ID || list.Items[0].Snapshot != nil || list.Items[0].Size != 2 {
			t.Fatalf("page 1 = %+v, %v", list, err)
		}
		next, err := db.QueueSettingsVersions(ctx, tn.ID, switchboard.ListOptions{Limit: 1, Cursor: list.NextCursor})
		if err != nil || len(next.Items) != 1 || next.Items[0].ID != v1.ID || next.NextCursor != "" {
			t.Fatalf("page 2 = %+v, %v", next, err)
		}
		if p, err := db.QueueSettingsVersions(ctx, other.ID, switchboard.ListOptions{}); err != nil || p.Total != 0 {
			t.Fatalf("other tenant's versions = %+v, %v", p, err)
		}
	})
}
