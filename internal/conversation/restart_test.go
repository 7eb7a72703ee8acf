package conversation

import (
	"context"
	"testing"
	"time"

	"switchboard"
)

// TestRestart: a new engine and service over the same store put held
// conversations back with their agent and queued ones back in their
// queue; a deactivated agent's conversation waits in the queue again.
func TestRestart(t *testing.T) { onEveryEngine(t, testRestart) }

func testRestart(t *testing.T, dbURL string) {
	f := newFixtureOn(t, dbURL, 2)
	a, b := f.agents[0], f.agents[1]
	f.status(b, "Break", false)
	var held []int64
	for i := range 3 {
		c, _ := f.webChat(f.sales, "v"+itoa(int64(i)))
		held = append(held, c.ID)
	}
	if _, err := f.say(held[0], a, "on it"); err != nil {
		t.Fatal(err)
	}
	waiting, _ := f.webChat(f.sales, "v-waiting")
	dismissed, _ := f.webChat(f.supp, "v-dismissed")
	f.wantStatus(waiting.ID, switchboard.ConversationQueued, 0)
	f.status(b, switchboard.StatusAvailable, true)
	f.wantStatus(waiting.ID, switchboard.ConversationAssigned, b)
	f.wantStatus(dismissed.ID, switchboard.ConversationAssigned, b)
	if _, err := f.svc.Dismiss(f.ctx, f.tenant, dismissed.ID); err != nil {
		t.Fatal(err)
	}
	// b leaves the company while holding the waiting one.
	if _, err := f.db.UpdateUserFunc(f.ctx, f.tenant, b, func(u *switchboard.User) error {
		u.DeactivatedAt = ptr(time.Now())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.eng.Close()

	f.agents = []int64{a} // the new engine knows only a
	f.boot()
	got := f.holds(a)
	for _, id := range held {
		if !contains(got, id) {
			t.Fatalf("after restart agent holds %v, want %v", got, held)
		}
	}
	f.wantStatus(held[0], switchboard.ConversationInProgress, a)
	f.wantStatus(waiting.ID, switchboard.ConversationQueued, 0)
	if live, _ := f.eng.QueueLive(f.tenant, f.sales.ID); live.ChatsWaiting != 1 {
		t.Fatalf("chats waiting %d after restart, want 1", live.ChatsWaiting)
	}
	f.wantStatus(dismissed.ID, switchboard.ConversationDismissed, 0)
	// The restored agent works on as before: finishing frees a slot for
	// the waiting one.
	if _, err := f.svc.Finish(f.ctx, f.tenant, held[1], switchboard.SideAgent, ""); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(31 * time.Second)
	f.wantStatus(waiting.ID, switchboard.ConversationAssigned, a)
}
