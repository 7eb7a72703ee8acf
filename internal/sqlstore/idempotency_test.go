package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestIdempotencyKeys covers the store side of Idempotency-Key: one claim
// wins, a held key returns its record, answers are saved and replayed,
// released and expired keys are claimed again, keys belong to one credential,
// and purging drops the expired.
func TestIdempotencyKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		day, lease := 24*time.Hour, 10*time.Minute
		claim := func(k switchboard.IdempotencyKey, at time.Time) (switchboard.IdempotentResponse, bool) {
			t.Helper()
			prev, ok, err := db.ClaimIdempotencyKey(ctx, k, at, at.Add(-day), at.Add(-lease))
			if err != nil {
				t.Fatalf("ClaimIdempotencyKey: %v", err)
			}
			return prev, ok
		}
		k := switchboard.IdempotencyKey{TenantID: tn.ID, APIKeyID: 7, Key: "order-1", RequestHash: "h1"}

		// Of 16 concurrent claims exactly one wins; the others see it running.
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				prev, ok, err := db.ClaimIdempotencyKey(ctx, k, now, now.Add(-day), now.Add(-lease))
				if err != nil {
					t.Errorf("ClaimIdempotencyKey: %v", err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if ok {
					won++
				} else if prev.Status != 0 || prev.RequestHash != "h1" {
					t.Errorf("a losing claim saw %+v, want the running request h1", prev)
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d concurrent claims won, want exactly 1", won)
		}

		// Saved, the answer comes back to the next claim, whatever its hash.
		if err := db.SaveIdempotentResponse(ctx, k, switchboard.IdempotentResponse{Status: 201, ContentType: "application/json", Body: []byte(`{"id":1}`)}); err != nil {
			t.Fatal(err)
		}
		prev, ok := claim(switchboard.IdempotencyKey{TenantID: tn.ID, APIKeyID: 7, Key: "order-1", RequestHash: "h2"}, now.Add(time.Hour))
		if ok || prev.Status != 201 || prev.ContentType != "application/json" || string(prev.Body) != `{"id":1}` || prev.RequestHash != "h1" {
			t.Fatalf("claim of a saved key = %+v, %v; want the saved answer", prev, ok)
		}

		// The same key of another API key or tenant is another key.
		if _, ok := claim(switchboard.IdempotencyKey{TenantID: tn.ID, APIKeyID: 8, Key: "order-1", RequestHash: "h1"}, now); !ok {
			t.Error("the key of another credential was taken")
		}

		// After 24 h the key is free again.
		if _, ok := claim(k, now.Add(day+time.Second)); !ok {
			t.Error("an expired key was not claimed again")
		}

		// A released key is free at once; an abandoned one after the lease.
		k2 := switchboard.IdempotencyKey{TenantID: tn.ID, APIKeyID: 7, Key: "order-2", RequestHash: "h"}
		claim(k2, now)
		if err := db.ReleaseIdempotencyKey(ctx, k2); err != nil {
			t.Fatal(err)
		}
		if _, ok := claim(k2, now); !ok {
			t.Error("a released key was not claimed again")
		}
		if _, ok := claim(k2, now.Add(lease/2)); ok {
			t.Error("a running key was claimed twice")
		}
		if _, ok := claim(k2, now.Add(lease+time.Second)); !ok {
			t.Error("an abandoned key was not claimed again")
		}

		// Purging drops what was created before the cut-off only.
		n, err := db.PurgeIdempotencyKeys(ctx, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 { // order-1 of key 8; order-1 of key 7 and order-2 were claimed later
			t.Errorf("purged %d keys, want 1", n)
		}
	})
}
