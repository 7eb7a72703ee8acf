package httpapi

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestRefusalDelayGrowsWithTheRefusalsWaiting checks the pacing of a
// tenant that retries refused writes without waiting: one refusal is held
// only until the next token, k held together k token intervals, never more
// than maxRefusalDelay, so that a client looping on many connections gets
// about one refusal per connection per second.
func TestRefusalDelayGrowsWithTheRefusalsWaiting(t *testing.T) {
	for _, c := range []struct {
		retry time.Duration
		held  int
		want  time.Duration
	}{
		{20 * time.Millisecond, 1, 20 * time.Millisecond},
		{20 * time.Millisecond, 0, 20 * time.Millisecond},
		{20 * time.Millisecond, 10, 200 * time.Millisecond},
		{20 * time.Millisecond, 32, 640 * time.Millisecond},
		{20 * time.Millisecond, 64, maxRefusalDelay},
		{5 * time.Second, 1, maxRefusalDelay},
		{time.Duration(1 << 62), 1 << 30, maxRefusalDelay}, // no overflow
	} {
		if got := refusalDelay(c.retry, c.held); got != c.want {
			t.Errorf("refusalDelay(%s, %d) = %s, want %s", c.retry, c.held, got, c.want)
		}
	}
}

// TestRefusalsAreCountedWhileHeld sends 32 refusals of one tenant at once
// and checks that they are held (the count reached more than one, so the
// delay grew) and that every hold is given back afterwards.
func TestRefusalsAreCountedWhileHeld(t *testing.T) {
	writes := NewRateLimiter(50, 1)
	writes.Allow(7) // the burst is spent
	const n = 32
	start := make(chan struct{})
	held := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := httptest.NewRequest("POST", "/v1/skills", nil)
			begin := time.Now()
			if err := AdmitWrite(httptest.NewRecorder(), r, writes, 7); err == nil {
				t.Error("a write over the tenant's budget was admitted")
			}
			held[i] = time.Since(begin)
		}()
	}
	close(start)
	wg.Wait()
	longest := time.Duration(0)
	for _, d := range held {
		longest = max(longest, d)
	}
	if longest < 40*time.Millisecond {
		t.Errorf("32 refusals at once were each held at most %s, no longer than one token interval", longest)
	}
	if b := writes.buckets[7]; b == nil || b.held != 0 {
		t.Errorf("holds left counted after every refusal was sent: %+v", b)
	}
}
