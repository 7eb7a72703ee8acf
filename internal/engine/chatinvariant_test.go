package engine_test

import (
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

// invariants collects the first violations a run shows, checked at every
// routing decision (under the engine's lock) and after every second of
// virtual time.
type invariants struct {
	t       *testing.T
	errs    []error
	changes int
	ticks   int
}

func (v *invariants) observe(eng *engine.Engine, ch engine.ChatChange) {
	v.changes++
	if err := eng.CheckChatChangeLocked(ch); err != nil && len(v.errs) < 5 {
		v.errs = append(v.errs, err)
	}
}

func (v *invariants) tick(eng *engine.Engine) {
	v.ticks++
	if err := eng.CheckChatsQuiescent(); err != nil && len(v.errs) < 5 {
		v.errs = append(v.errs, err)
	}
}

func (v *invariants) report(res sim.ChatResult, maxChats int) {
	v.t.Helper()
	for _, err := range v.errs {
		v.t.Error(err)
	}
	if res.MaxChatsHeld > maxChats {
		v.t.Errorf("an agent held %d conversations at once, over %d", res.MaxChatsHeld, maxChats)
	}
	if res.Handled+res.Abandoned != res.Conversations {
		v.t.Errorf("%d handled + %d abandoned of %d conversations", res.Handled, res.Abandoned, res.Conversations)
	}
	v.t.Logf("%+v; %d routing decisions and %d seconds checked", res, v.changes, v.ticks)
}

// TestChatInvariants runs 1,000 conversations, all arriving at once, over
// 100 agents with 3 slots each, through every kind of routing decision:
// offers, lapsed offers, agents signing out and back in, wrap-ups and end
// users who give up; the routing invariants are checked at each decision
// and after each second.
func TestChatInvariants(t *testing.T) {
	for _, strategy := range []switchboard.Strategy{switchboard.StrategyLeastRecent, switchboard.StrategyRRMemory, switchboard.StrategyRandom} {
		t.Run(string(strategy), func(t *testing.T) {
			v := &invariants{t: t}
			res, err := sim.RunChat(sim.ChatScenario{Agents: 100, MaxChats: 3, Conversations: 1000, Queues: 3,
				Messages: 4, MessageGap: 40 * time.Second, ReplyAfter: 20 * time.Second, AcceptAfter: 8 * time.Second,
				OfferTimeout: 30 * time.Second, Patience: 10 * time.Minute, WrapUp: 15 * time.Second, Breaks: true,
				Strategy: strategy, Seed: 1, Observe: v.observe, Tick: v.tick})
			if err != nil {
				t.Fatal(err)
			}
			v.report(res, 3)
			if res.MaxChatsHeld != 3 || res.OfferTimeouts == 0 || res.Requeued == 0 || res.Abandoned == 0 || res.Handled == 0 {
				t.Errorf("the run did not exercise every path: %+v", res)
			}
		})
	}
}

// TestChatInvariantsWithCalls mixes callers into the same queues with
// MaxChatsOnCall 1: no agent ever has a call and more than one conversation.
func TestChatInvariantsWithCalls(t *testing.T) {
	v := &invariants{t: t}
	res, err := sim.RunChat(sim.ChatScenario{Agents: 30, MaxChats: 3, Conversations: 1000, Queues: 2, ArrivalsPerHour: 3000, Breaks: true,
		Messages: 3, MessageGap: 30 * time.Second, ReplyAfter: 15 * time.Second, AcceptAfter: 5 * time.Second,
		OfferTimeout: 30 * time.Second, Patience: 15 * time.Minute, WrapUp: 10 * time.Second,
		CallsPerHour: 300, CallAHT: 3 * time.Minute, MaxChatsOnCall: 1, Seed: 2, Observe: v.observe, Tick: v.tick})
	if err != nil {
		t.Fatal(err)
	}
	v.report(res, 3)
	if res.Calls == 0 || res.Handled == 0 || res.MaxChatsHeld != 3 {
		t.Errorf("the run did not mix calls and chats: %+v", res)
	}
}

// TestChatRunRepeats holds a seeded run to the same result.
func TestChatRunRepeats(t *testing.T) {
	s := sim.ChatScenario{Agents: 10, MaxChats: 2, Conversations: 100, ArrivalsPerHour: 600, Messages: 3,
		MessageGap: 20 * time.Second, ReplyAfter: 10 * time.Second, AcceptAfter: 5 * time.Second, OfferTimeout: 10 * time.Second,
		Patience: 5 * time.Minute, Strategy: switchboard.StrategyRandom, Seed: 9}
	a, err := sim.RunChat(s)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sim.RunChat(s)
	a.WallSeconds, b.WallSeconds = 0, 0
	if a != b {
		t.Errorf("two runs of one seed differ:\n%+v\n%+v", a, b)
	}
}
