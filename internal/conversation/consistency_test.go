package conversation

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestStoreFollowsEngine drives conversations from several goroutines at
// once — end users writing, agents writing (and so claiming), accepting,
// transferring, dismissing, finishing, signing out and in, offers timing
// out and wrap-ups ending as the virtual clock moves — and then checks
// that the store says what the engine does: every conversation the store
// shows held is held by that agent in the engine, every one the engine
// holds (not wrapping up) is shown held by the store, and the queues wait
// exactly the queued conversations.
func TestStoreFollowsEngine(t *testing.T) {
	f := newFixtureOn(t, sqlstoretest.SQLiteURL(t), 4, func(f *fixture) {
		f.offerTimeout = 20 * time.Second
		f.slow = 3 * time.Millisecond // the record lags behind routing
	})
	var ids []int64
	for i := range 16 {
		q := f.sales
		if i%3 == 0 {
			q = f.supp
		}
		c, _ := f.webChat(q, fmt.Sprintf("visitor-%d", i))
		ids = append(ids, c.ID)
	}
	queues := []int64{f.sales.ID, f.supp.ID}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var unexpected []error
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 99))
			for range 100 {
				id := ids[r.IntN(len(ids))]
				agent := f.agents[r.IntN(len(f.agents))]
				var err error
				switch r.IntN(10) {
				case 0, 1:
					_, err = f.write(id, "more")
				case 2, 3:
					_, err = f.say(id, agent, "reply")
				case 4:
					_, err = f.svc.Accept(f.ctx, f.tenant, id, agent)
				case 5:
					_, err = f.svc.Transfer(f.ctx, f.tenant, id, queues[r.IntN(2)], &agent)
				case 6:
					_, err = f.svc.Dismiss(f.ctx, f.tenant, id)
				case 7:
					if r.IntN(6) == 0 {
						_, err = f.svc.Finish(f.ctx, f.tenant, id, switchboard.SideAgent, "")
					}
				case 8:
					if r.IntN(2) == 0 {
						f.status(agent, switchboard.StatusOffline, false)
					} else {
						f.status(agent, switchboard.StatusAvailable, true)
					}
				case 9:
					f.clock.Advance(time.Duration(r.IntN(25)) * time.Second)
				}
				switch switchboard.ErrorCode(err) {
				case "", switchboard.CodeConflict, switchboard.CodeForbidden, switchboard.CodeInvalid:
				default:
					mu.Lock()
					unexpected = append(unexpected, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range unexpected {
		t.Errorf("unexpected error: %v", err)
	}
	if err := f.svc.Sync(f.ctx); err != nil {
		t.Fatal(err)
	}
	engineHolds := map[int64]int64{} // conversation → agent
	for _, a := range f.agents {
		for _, id := range f.holds(a) {
			if other, dup := engineHolds[id]; dup {
				t.Errorf("conversation %d held by agents %d and %d", id, other, a)
			}
			engineHolds[id] = a
		}
	}
	waiting := 0
	counts := map[switchboard.ConversationStatus]int{}
	for _, id := range ids {
		c := f.get(id)
		counts[c.Status]++
		switch {
		case held(c.Status):
			if a, ok := engineHolds[id]; !ok || c.AgentID == nil || a != *c.AgentID {
				t.Errorf("conversation %d: store says %s by %v, engine holder %d (%v)", id, c.Status, deref(c.AgentID), a, ok)
			}
		case c.Status == switchboard.ConversationQueued:
			waiting++
			if a, ok := engineHolds[id]; ok {
				t.Errorf("conversation %d: store says queued, engine says held by %d", id, a)
			}
		case c.Status.Ended():
			// An agent may still be wrapping it up.
		default: // dismissed
			if a, ok := engineHolds[id]; ok {
				t.Errorf("conversation %d: store says %s, engine says held by %d", id, c.Status, a)
			}
		}
	}
	engineWaiting := 0
	for _, q := range queues {
		live, _ := f.eng.QueueLive(f.tenant, q)
		engineWaiting += live.ChatsWaiting
	}
	if engineWaiting != waiting {
		t.Errorf("the engine has %d conversations waiting, the store %d queued", engineWaiting, waiting)
	}
	t.Logf("statuses at the end: %v", counts)
	if counts[switchboard.ConversationInProgress]+counts[switchboard.ConversationFinished] == 0 {
		t.Error("the run never got a conversation in progress or finished: it tests nothing")
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
