package conversation

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard"
)

// TestSimulate runs scripted end users against a scripted agent: those
// who get an answer leave satisfied, the one nobody takes abandons.
func TestSimulate(t *testing.T) {
	f := newFixture(t, 1)
	a := f.agents[0]
	f.eng.SetMaxChats(a, 2)
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	// The agent answers whatever they hold, once.
	var wg sync.WaitGroup
	wg.Add(1)
	stop := make(chan struct{})
	go func() {
		defer wg.Done()
		answered := map[int64]bool{}
		for {
			for _, id := range f.eng.AgentChats(a) {
				if !answered[id] {
					if _, err := f.say(id, a, "hello, agent here"); err == nil {
						answered[id] = true
					}
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	users := []SimulatedEndUser{
		{Messages: 2, Gap: 10 * time.Millisecond},
		{Messages: 3, Gap: 5 * time.Millisecond, Text: func(i int) string { return fmt.Sprintf("line %d", i) }},
		{Messages: 1, Abandon: 50 * time.Millisecond},
	}
	// The third arrives when the agent holds two (max 2): it abandons.
	rep, err := f.svc.Simulate(ctx, f.tenant, f.sales.ID, users[:2])
	if err != nil {
		t.Fatal(err)
	}
	f.status(a, "Break", false)
	rep2, err := f.svc.Simulate(ctx, f.tenant, f.sales.ID, users[2:])
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Started != 2 || rep.Answered != 2 || rep2.Abandoned != 1 || rep.Failed+rep2.Failed != 0 {
		t.Fatalf("reports %+v %+v", rep, rep2)
	}
	for _, id := range rep.IDs {
		c := f.get(id)
		if c.Status != switchboard.ConversationFinished || c.EndedBy != switchboard.SideEndUser {
			t.Errorf("answered conversation %d ended %s by %s", id, c.Status, c.EndedBy)
		}
	}
	if c := f.get(rep2.IDs[0]); c.Status != switchboard.ConversationAbandoned {
		t.Errorf("unanswered conversation ended %s", c.Status)
	}
}
