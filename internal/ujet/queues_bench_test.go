package ujet

import (
	"context"
	"fmt"
	"testing"

	"switchboard"
)

// BenchmarkQueuesWaitTimes measures GET /wait_times and GET /queues/status
// over HTTP for a tenant of 200 queues under 20 IVR menus, 5 agents signed
// in to each: every request reads the menu tree from SQLite and each
// queue's live state from the engine.
func BenchmarkQueuesWaitTimes(b *testing.B) {
	w := newQSWorld(b)
	ctx := context.Background()
	tid := w.tenant.ID
	for m := range 20 {
		var opts []switchboard.IVROption
		for q := range 10 {
			qu, err := w.db.CreateQueue(ctx, tid, switchboard.Queue{Name: fmt.Sprintf("Q%d-%d", m, q), JoinEmpty: true, Language: "en",
				CallbackSlotCapacity: 3})
			if err != nil {
				b.Fatal(err)
			}
			for a := range 5 {
				u, err := w.db.CreateUser(ctx, tid, switchboard.User{Email: fmt.Sprintf("a%d-%d-%d@acme.test", m, q, a), FirstName: "A",
					Extension: fmt.Sprintf("5%d%d%d", m, q, a)})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.db.AddQueueMember(ctx, tid, switchboard.QueueMember{QueueID: qu.ID, UserID: u.ID}); err != nil {
					b.Fatal(err)
				}
				if _, err := w.db.SetPresence(ctx, tid, u.ID, switchboard.StatusAvailable, false); err != nil {
					b.Fatal(err)
				}
			}
			opts = append(opts, switchboard.IVROption{Digit: fmt.Sprint(q), IVRAction: switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &qu.ID}})
		}
		if _, err := w.db.CreateIVRMenu(ctx, tid, switchboard.IVRMenu{Name: fmt.Sprintf("M%d", m), Options: opts}); err != nil {
			b.Fatal(err)
		}
	}
	for _, path := range []string{"/wait_times?lang=en", "/queues/status?lang=en"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				if st, _, body := w.get(path, nil); st != 200 {
					b.Fatalf("%d %s", st, body)
				}
			}
		})
	}
}
