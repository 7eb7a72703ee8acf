package sim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"switchboard"
	"switchboard/internal/engine"
)

// ChatScenario is a chat contact center to run through the engine alone, in
// virtual time: end users who arrive, write, wait for replies and give up
// when nobody takes them; agents who accept what they are offered, reply,
// and finish a conversation once they have answered its last message.
//
// Every end user writes Messages messages: the first on arrival, each next
// one a think time (exponential, mean MessageGap) after the agent's reply
// to the one before. An agent accepts an offer after an exponential delay
// of mean AcceptAfter (so with an OfferTimeout some offers lapse and go to
// another agent) and replies to each message after an exponential delay of
// mean ReplyAfter; after the reply to the last message the conversation is
// finished and its slot wraps up for WrapUp. An end user not accepted by
// any agent within Patience of arriving abandons.
type ChatScenario struct {
	Agents        int
	MaxChats      int
	Conversations int
	// Queues spreads the conversations over that many queues (default 1),
	// every agent a member of each.
	Queues int
	// ArrivalsPerHour makes arrivals Poisson; 0 brings every end user at
	// once.
	ArrivalsPerHour float64
	Messages        int
	MessageGap      time.Duration
	ReplyAfter      time.Duration
	AcceptAfter     time.Duration
	Patience        time.Duration
	WrapUp          time.Duration
	OfferTimeout    time.Duration
	Strategy        switchboard.Strategy
	// Breaks sends every agent offline now and then (every 20 minutes on
	// average, for 2 on average) while conversations remain, which requeues
	// what they hold.
	Breaks bool
	// CallsPerHour mixes in callers to the same queues, with exponential
	// talk times of mean CallAHT; MaxChatsOnCall is the engine's.
	CallsPerHour   float64
	CallAHT        time.Duration
	MaxChatsOnCall int
	Seed           uint64
	// Observe, when set, is told every routing decision, under the engine's
	// lock (it must not call the engine); Tick is called after each second
	// of virtual time, when the engine is at rest. Tests check invariants
	// with them.
	Observe func(eng *engine.Engine, ch engine.ChatChange)
	Tick    func(eng *engine.Engine)
}

// ChatResult is what a chat run measured.
type ChatResult struct {
	Conversations int `json:"conversations"`
	Handled       int `json:"handled"`
	Abandoned     int `json:"abandoned"`
	// OfferTimeouts counts offers withdrawn unaccepted; Requeued those taken
	// back from agents who went offline.
	OfferTimeouts int `json:"offer_timeouts"`
	Requeued      int `json:"requeued_on_sign_out"`
	// MeanWaitSeconds and MaxWaitSeconds are from arrival to the accepting
	// agent, over the handled conversations.
	MeanWaitSeconds float64 `json:"mean_wait_seconds"`
	MaxWaitSeconds  float64 `json:"max_wait_seconds"`
	// SlotOccupancy is the share of the agents' chat slots held (offered,
	// accepted or wrapping up) over the run.
	SlotOccupancy float64 `json:"slot_occupancy"`
	// MaxChatsHeld is the most conversations any agent held at once.
	MaxChatsHeld int `json:"max_chats_held"`
	// Calls counts the calls answered, when calls were mixed in.
	Calls            int     `json:"calls"`
	SimulatedSeconds float64 `json:"simulated_seconds"`
	WallSeconds      float64 `json:"wall_seconds"`
}

// Validate reports what is wrong with s, after filling in defaults.
func (s *ChatScenario) Validate() error {
	if s.Queues == 0 {
		s.Queues = 1
	}
	if s.Strategy == "" {
		s.Strategy = switchboard.StrategyLeastRecent
	}
	switch {
	case s.Agents < 1 || s.Agents > 100000:
		return errors.New("agents must be 1-100000")
	case s.MaxChats < 1 || s.MaxChats > 50:
		return errors.New("max chats must be 1-50")
	case s.Conversations < 1 || s.Conversations > 10000000:
		return errors.New("conversations must be 1-10000000")
	case s.Queues < 1 || s.Queues > 1000:
		return errors.New("queues must be 1-1000")
	case s.Messages < 1:
		return errors.New("messages must be at least 1")
	case s.ArrivalsPerHour < 0 || s.CallsPerHour < 0:
		return errors.New("arrival rates must not be negative")
	case s.MessageGap < 0 || s.ReplyAfter < 0 || s.AcceptAfter < 0 || s.Patience < 0 || s.WrapUp < 0 || s.OfferTimeout < 0:
		return errors.New("delays must not be negative")
	case s.CallsPerHour > 0 && s.CallAHT <= 0:
		return errors.New("calls need a positive handle time")
	case s.MaxChatsOnCall < 0:
		return errors.New("max chats on call must not be negative")
	}
	return nil
}

// chatRun is one run's state, touched only from the clock's goroutine (and
// from the engine's observer calls made on it).
type chatRun struct {
	s     ChatScenario
	clock *engine.VirtualClock
	eng   *engine.Engine
	drv   *Driver
	rng   *rand.Rand
	chats map[int64]*simChat
	// held counts each agent's slots as the routing decisions say, freed
	// when a wrap-up ends; area integrates their sum over time.
	held      map[int64]int
	total     int
	area      time.Duration
	since     time.Time
	remaining int // conversations neither handled nor abandoned
	res       ChatResult
	wait      time.Duration
}

type simChat struct {
	id        int64
	queue     int64
	arrived   time.Time
	agent     int64 // holding it, 0 while waiting
	accepted  bool
	ever      bool // accepted once: patience no longer applies
	gen       int  // bumped whenever the holder changes: stale timers do nothing
	sent      int  // end-user messages
	replied   int  // agent replies
	done      bool
	replyDue  bool // a reply is scheduled
	nextWrite bool // the end user's next message is scheduled
}

// ChatChanged implements engine.ChatObserver. It only updates the run's
// bookkeeping and sets timers; the agents act from those.
func (r *chatRun) ChatChanged(ch engine.ChatChange) {
	if r.s.Observe != nil {
		r.s.Observe(r.eng, ch)
	}
	c := r.chats[ch.Task.ID]
	switch ch.What {
	case engine.ChatOffered:
		r.hold(ch.AgentID, +1)
		c.agent, c.accepted = ch.AgentID, false
		c.gen++
		gen, agent := c.gen, ch.AgentID
		r.clock.AfterFunc(r.exp(r.s.AcceptAfter), func() { r.accept(c, agent, gen) })
	case engine.ChatRequeued:
		r.hold(ch.AgentID, -1)
		c.agent, c.accepted = 0, false
		c.gen++
		if ch.Reason == "offer timeout" {
			r.res.OfferTimeouts++
		} else {
			r.res.Requeued++
		}
	}
}

// CallChanged implements engine.Observer, counting the calls answered.
func (r *chatRun) CallChanged(c *switchboard.Call, what string) {
	if what == "connected" {
		r.res.Calls++
	}
}

func (r *chatRun) exp(mean time.Duration) time.Duration {
	return time.Duration(r.rng.ExpFloat64() * float64(mean))
}

// hold moves agent's slot count by d and the occupancy integral with it.
func (r *chatRun) hold(agent int64, d int) {
	now := r.clock.Now()
	r.area += time.Duration(r.total) * now.Sub(r.since)
	r.since = now
	r.held[agent] += d
	r.total += d
	r.res.MaxChatsHeld = max(r.res.MaxChatsHeld, r.held[agent])
}

func (r *chatRun) accept(c *simChat, agent int64, gen int) {
	if c.done || c.gen != gen || c.agent != agent {
		return
	}
	if err := r.eng.AcceptChat(c.id, agent); err != nil {
		return // the offer lapsed meanwhile
	}
	c.accepted = true
	if !c.ever {
		c.ever = true
		w := r.clock.Now().Sub(c.arrived)
		r.wait += w
		r.res.MaxWaitSeconds = max(r.res.MaxWaitSeconds, w.Seconds())
	}
	r.replyLater(c)
}

// replyLater has the holder answer the end user's last message, if it is
// not answered yet.
func (r *chatRun) replyLater(c *simChat) {
	if c.replied >= c.sent || c.replyDue || c.nextWrite {
		return
	}
	c.replyDue = true
	gen := c.gen
	r.clock.AfterFunc(r.exp(r.s.ReplyAfter), func() {
		c.replyDue = false
		if c.done {
			return
		}
		if c.gen != gen || !c.accepted {
			// Its holder changed: the new one answers once they accept.
			if c.accepted {
				r.replyLater(c)
			}
			return
		}
		c.replied++
		if c.replied < r.s.Messages {
			c.nextWrite = true
			r.clock.AfterFunc(r.exp(r.s.MessageGap), func() {
				c.nextWrite = false
				if c.done {
					return
				}
				c.sent++
				if c.accepted {
					r.replyLater(c)
				}
			})
			return
		}
		r.finish(c)
	})
}

// finish ends a conversation its agent has answered in full. The slot the
// wrap-up keeps is counted free by a timer set before the engine's own, so
// that the count drops before the engine offers the slot again.
func (r *chatRun) finish(c *simChat) {
	c.done = true
	r.remaining--
	r.res.Handled++
	agent := c.agent
	if wrap := r.s.WrapUp.Truncate(time.Second); wrap > 0 {
		r.clock.AfterFunc(wrap, func() { r.hold(agent, -1) })
		r.eng.ReleaseChat(c.id, true)
		return
	}
	r.hold(agent, -1)
	r.eng.ReleaseChat(c.id, false)
}

func (r *chatRun) arrive(id int64) {
	q := 1 + (id-1)%int64(r.s.Queues)
	c := &simChat{id: id, queue: q, arrived: r.clock.Now(), sent: 1}
	r.chats[id] = c
	if r.s.Patience > 0 {
		r.clock.AfterFunc(r.s.Patience, func() {
			if c.done || c.ever {
				return
			}
			c.done = true
			r.remaining--
			r.res.Abandoned++
			if c.agent != 0 {
				r.hold(c.agent, -1)
			}
			r.eng.ReleaseChat(id, false)
		})
	}
	if err := r.eng.QueueChat(engine.ChatTask{ID: id, TenantID: 1, QueueID: q, Channel: switchboard.ChannelWebChat, Since: c.arrived}); err != nil {
		panic(fmt.Sprintf("sim: queue conversation %d: %v", id, err))
	}
}

// RunChat runs s through the engine under a virtual clock and reports what
// happened.
func RunChat(s ChatScenario) (ChatResult, error) {
	if err := s.Validate(); err != nil {
		return ChatResult{}, err
	}
	wall := time.Now()
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	clock := engine.NewVirtualClock(start)
	r := &chatRun{s: s, clock: clock, rng: rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15)),
		chats: map[int64]*simChat{}, held: map[int64]int{}, since: start, remaining: s.Conversations}
	r.res.Conversations = s.Conversations
	r.drv = New(clock)
	r.eng = engine.New(engine.Options{Clock: clock, Telephony: r.drv, Observer: r,
		Router: engine.NewRouter(rand.New(rand.NewPCG(s.Seed+1, s.Seed+2))),
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)), ChatOfferTimeout: s.OfferTimeout, MaxChatsOnCall: s.MaxChatsOnCall})
	defer r.eng.Close()
	r.drv.SetEngine(r.eng)
	r.eng.SetChatObserver(r)
	members := make([]switchboard.QueueMember, s.Agents)
	for i := range members {
		id := int64(i + 1)
		dev := fmt.Sprintf("chat-agent-%d", id)
		r.drv.SetDevice(dev, Device{Registered: true, Behavior: Answer, AnswerAfter: time.Second})
		r.eng.SetAgent(id, dev)
		r.eng.SetMaxChats(id, s.MaxChats)
		r.eng.SetStatus(id, switchboard.StatusAvailable, true)
		members[i] = switchboard.QueueMember{UserID: id, Position: i + 1}
	}
	for qid := int64(1); qid <= int64(s.Queues); qid++ {
		q := switchboard.Queue{ID: qid, TenantID: 1, Name: fmt.Sprintf("Chat %d", qid), Strategy: s.Strategy,
			WrapUpSeconds: int(s.WrapUp / time.Second), TimeoutSeconds: 20}
		q.Normalize()
		ms := make([]switchboard.QueueMember, len(members))
		for i, m := range members {
			m.QueueID = qid
			ms[i] = m
		}
		r.eng.SetQueue(q, ms, fmt.Sprintf("+1555010%04d", qid))
	}

	next := int64(0)
	if s.ArrivalsPerHour == 0 {
		for range s.Conversations {
			next++
			r.arrive(next)
		}
	} else {
		mean := time.Duration(float64(time.Hour) / s.ArrivalsPerHour)
		var arrival func()
		arrival = func() {
			next++
			r.arrive(next)
			if next < int64(s.Conversations) {
				clock.AfterFunc(r.exp(mean), arrival)
			}
		}
		clock.AfterFunc(r.exp(mean), arrival)
	}
	if s.CallsPerHour > 0 {
		mean := time.Duration(float64(time.Hour) / s.CallsPerHour)
		var call func()
		call = func() {
			if r.remaining == 0 {
				return
			}
			q := 1 + r.rng.IntN(s.Queues)
			talk := max(r.exp(s.CallAHT), time.Second)
			r.drv.Call("+15550000001", fmt.Sprintf("+1555010%04d", q), Script{Talk: talk, Patience: 10 * time.Minute})
			clock.AfterFunc(r.exp(mean), call)
		}
		clock.AfterFunc(r.exp(mean), call)
	}
	if s.Breaks {
		for i := range s.Agents {
			id := int64(i + 1)
			var work func()
			work = func() {
				if r.remaining == 0 {
					return
				}
				r.eng.SetStatus(id, switchboard.StatusOffline, false)
				clock.AfterFunc(r.exp(2*time.Minute), func() {
					r.eng.SetStatus(id, switchboard.StatusAvailable, true)
					clock.AfterFunc(r.exp(20*time.Minute), work)
				})
			}
			clock.AfterFunc(r.exp(20*time.Minute), work)
		}
	}

	for r.remaining > 0 {
		if clock.Pending() == 0 {
			return r.res, fmt.Errorf("sim: %d conversations are stuck: nothing is left to happen", r.remaining)
		}
		clock.Advance(time.Second)
		if s.Tick != nil {
			s.Tick(r.eng)
		}
	}
	end := clock.Now() // within a second of the last conversation's end
	r.hold(0, 0)
	res := r.res
	if res.Handled > 0 {
		res.MeanWaitSeconds = r.wait.Seconds() / float64(res.Handled)
	}
	if span := end.Sub(start); span > 0 {
		res.SlotOccupancy = r.area.Seconds() / (float64(s.Agents*s.MaxChats) * span.Seconds())
		res.SimulatedSeconds = span.Seconds()
	}
	res.WallSeconds = time.Since(wall).Seconds()
	return res, nil
}
