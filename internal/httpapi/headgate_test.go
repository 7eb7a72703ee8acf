package httpapi

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHeadGateReadsAfterArrival checks that every caller gets a read that
// started after it called, while concurrent callers share reads.
func TestHeadGateReadsAfterArrival(t *testing.T) {
	var g headGate
	var started atomic.Int64
	read := func(ctx context.Context, tenantID int64) (int64, error) {
		n := started.Add(1) // the read's number is the value it returns
		time.Sleep(time.Millisecond)
		return n, nil
	}
	var wg sync.WaitGroup
	const callers = 64
	var bad atomic.Int64
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				arrived := started.Load()
				got, err := g.head(context.Background(), 7, read)
				if err != nil || got <= arrived {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d calls got a read that started before they did", bad.Load())
	}
	if n := started.Load(); n >= callers*20 {
		t.Errorf("%d reads for %d calls: none shared", n, callers*20)
	}
}
