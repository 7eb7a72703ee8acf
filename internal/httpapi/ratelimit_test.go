package httpapi

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestRefusalsAreHeldLongerTheMoreAreWaiting checks the pacing of a tenant
// that retries refused writes without waiting: one refusal is held only
// until the next token, but many at once are held up to maxRefusalDelay, so
// that the refusals of a client looping on many connections cost about one
// per connection per second.
func TestRefusalsAreHeldLongerTheMoreAreWaiting(t *testing.T) {
	writes := NewRateLimiter(50, 1) // a token every 20 ms
	refuse := func() time.Duration {
		r := httptest.NewRequest("POST", "/v1/skills", nil)
		start := time.Now()
		if err := AdmitWrite(httptest.NewRecorder(), r, writes, 7); err == nil {
			t.Error("a write over the tenant's budget was admitted")
		}
		return time.Since(start)
	}
	writes.Allow(7) // the burst is spent
	if d := refuse(); d > 500*time.Millisecond {
		t.Errorf("a lone refusal was held %s; the next token was 20 ms away", d)
	}

	writes.Allow(7)
	const n = 32
	held := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			held[i] = refuse()
		}()
	}
	wg.Wait()
	long := 0
	for _, d := range held {
		if d >= 300*time.Millisecond {
			long++
		}
	}
	// The k-th refusal to arrive waits k token intervals, capped at a second:
	// all but the first 15 wait at least 300 ms.
	if long < n/2 {
		t.Errorf("of %d refusals held together only %d waited 300 ms or more: %v", n, long, held)
	}
	if len(writes.buckets) != 1 || writes.buckets[7].held != 0 {
		t.Errorf("holds left counted after every refusal was sent: %+v", writes.buckets[7])
	}
}
