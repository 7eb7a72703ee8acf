package callcenter_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
)

// TestCallbackSlots checks that a queue's callback periods take at most
// CallbackSlotCapacity scheduled callbacks: the next one into a full period
// is refused naming scheduled_at and the period in the queue's zone, the
// next period still takes callbacks, a callback that is dialled frees its
// slot, concurrent requests never overfill a period, and a queue without a
// capacity takes any number.
func TestCallbackSlots(t *testing.T) {
	w := newWorld(t, 1, 0, 0)
	ctx := context.Background()
	queues, err := w.store.Queues(ctx, w.tenant, switchboard.ListOptions{Limit: 10})
	if err != nil || len(queues.Items) != 1 {
		t.Fatalf("queues %v %v", queues.Items, err)
	}
	qid := queues.Items[0].ID
	if _, err := w.store.UpdateQueueFunc(ctx, w.tenant, qid, func(q *switchboard.Queue) error {
		q.CallbackSlotMinutes, q.CallbackSlotCapacity = 30, 2
		q.Hours = &switchboard.OperatingHours{TimeZone: "Asia/Kolkata"} // UTC+05:30: periods at :00 and :30 UTC too
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	schedule := func(at time.Time, n int) error {
		_, err := w.svc.Schedule(ctx, w.tenant, switchboard.ScheduleRequest{QueueID: qid,
			PhoneNumber: fmt.Sprintf("+1555000%04d", n), At: at})
		return err
	}
	// start is 09:00 UTC = 14:30 in Kolkata: the period 14:30-15:00 local.
	p1 := start.Add(2 * time.Hour) // 11:00 UTC, 16:30 local
	for i, at := range []time.Time{p1, p1.Add(29 * time.Minute)} {
		if err := schedule(at, i); err != nil {
			t.Fatalf("callback %d: %v", i, err)
		}
	}
	err = schedule(p1.Add(10*time.Minute), 9)
	var se *switchboard.Error
	if !errors.As(err, &se) || se.Code != switchboard.CodeInvalid ||
		!strings.Contains(se.Fields["scheduled_at"], "2026-03-02 16:30-17:00") || !strings.Contains(se.Fields["scheduled_at"], "2 of 2") {
		t.Fatalf("third callback of the period: %v (%+v)", err, se)
	}
	if err := schedule(p1.Add(30*time.Minute), 10); err != nil {
		t.Fatalf("the next period: %v", err)
	}
	if err := schedule(p1.Add(-time.Second), 11); err != nil {
		t.Fatalf("the period before: %v", err)
	}

	// A callback that is dialled no longer holds its slot.
	soon := start.Add(10 * time.Minute) // 14:40 local, period 14:30-15:00
	for i := range 2 {
		if err := schedule(soon, 20+i); err != nil {
			t.Fatal(err)
		}
	}
	if err := schedule(soon, 22); err == nil {
		t.Fatal("a third callback in the full period was taken")
	}
	w.clock.Advance(11 * time.Minute) // both are being dialled now
	if err := schedule(soon.Add(5*time.Minute), 23); err != nil {
		t.Fatalf("after the period's callbacks were dialled: %v", err)
	}

	// Concurrent requests for one period: exactly its capacity succeed.
	p2 := start.Add(5 * time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if schedule(p2.Add(time.Duration(i)*time.Minute), 30+i) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 2 {
		t.Fatalf("%d concurrent callbacks took a period of 2 slots", ok)
	}

	// No capacity: no limit.
	if _, err := w.store.UpdateQueueFunc(ctx, w.tenant, qid, func(q *switchboard.Queue) error {
		q.CallbackSlotCapacity = 0
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := schedule(p1, 40+i); err != nil {
			t.Fatalf("unlimited queue, callback %d: %v", i, err)
		}
	}
}
