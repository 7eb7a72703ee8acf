package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestEventPagesAreBoundedInBytes checks that a page of the event log stops
// before its payloads pass switchboard.MaxEventPageBytes whatever the count
// asked for, still holds one event when that one alone is larger, and that
// paging by sequence number walks the whole log; and that EventHead is the
// newest sequence number.
func TestEventPagesAreBoundedInBytes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "acme")
		b := mustTenant(t, db, "beta")
		head, err := db.EventHead(ctx, a.ID)
		if err != nil || head != 1 { // tenant.created
			t.Fatalf("EventHead of a new tenant = %d, %v; want 1", head, err)
		}
		// 300,000-byte strings: three fit in a 1 MiB page, four do not.
		big := strings.Repeat("x", 300_000)
		for range 7 {
			if _, err := db.AppendEvent(ctx, a.ID, "test.big", "test", 1, map[string]string{"blob": big}); err != nil {
				t.Fatal(err)
			}
		}
		huge := strings.Repeat("y", 3<<20)
		if _, err := db.AppendEvent(ctx, a.ID, "test.huge", "test", 1, map[string]string{"blob": huge}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AppendEvent(ctx, a.ID, "test.small", "test", 1, map[string]string{}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AppendEvent(ctx, b.ID, "test.small", "test", 1, map[string]string{}); err != nil {
			t.Fatal(err)
		}
		if head, err = db.EventHead(ctx, a.ID); err != nil || head != 10 {
			t.Fatalf("EventHead = %d, %v; want 10", head, err)
		}
		if head, err = db.EventHead(ctx, b.ID); err != nil || head != 2 {
			t.Fatalf("EventHead of the other tenant = %d, %v; want 2", head, err)
		}

		var sizes []int
		var seqs []int64
		for after := int64(0); ; {
			page, err := db.Events(ctx, a.ID, after, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			bytes := 0
			for _, e := range page {
				bytes += len(e.Payload)
				seqs = append(seqs, e.Seq)
			}
			if len(page) > 1 && bytes > switchboard.MaxEventPageBytes {
				t.Errorf("a page of %d events holds %d payload bytes, more than %d", len(page), bytes, switchboard.MaxEventPageBytes)
			}
			sizes = append(sizes, len(page))
			after = page[len(page)-1].Seq
		}
		// tenant.created and 3 big ones, 3 big, the last big one (the huge
		// one does not fit beside it), the huge one alone, the small one.
		if want := []int{4, 3, 1, 1, 1}; fmt.Sprint(sizes) != fmt.Sprint(want) {
			t.Fatalf("pages of %v events, want %v", sizes, want)
		}
		for i, s := range seqs {
			if s != int64(i+1) {
				t.Fatalf("paging by sequence number read %v, want 1..10 in order", seqs)
			}
		}
		if len(seqs) != 10 {
			t.Fatalf("paging read %d events, want 10", len(seqs))
		}
		// Small events still come a thousand to a page.
		for range 5 {
			db.AppendEvent(ctx, b.ID, "test.small", "test", 1, map[string]string{})
		}
		if page, err := db.Events(ctx, b.ID, 0, 1000); err != nil || len(page) != 7 {
			t.Fatalf("small events: %d, %v; want all 7", len(page), err)
		}
	})
}
