package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"text/tabwriter"

	"switchboard"
	"switchboard/internal/sim"
)

// simulateChat runs scripted chatting end users and agents through the
// engine alone in virtual time (sim.RunChat) and prints what it measured.
func (m *Main) simulateChat(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("simulate-chat", flag.ContinueOnError)
	var (
		agents        = fs.Int("agents", 100, "agents, all signed in and members of every queue")
		maxChats      = fs.Int("max-chats", 3, "conversations an agent may hold at once")
		conversations = fs.Int("conversations", 1000, "conversations (end users) in the run")
		queues        = fs.Int("queues", 1, "queues the conversations are spread over")
		rate          = fs.Float64("arrival-rate", 0, "conversations per hour, Poisson arrivals; 0: all at once")
		messages      = fs.Int("messages", 4, "messages each end user writes")
		gap           = fs.Float64("message-gap", 40, "end user's mean think time after a reply, in seconds")
		reply         = fs.Float64("reply-after", 20, "agent's mean time to reply, in seconds")
		accept        = fs.Float64("accept-after", 5, "agent's mean time to accept an offer, in seconds")
		offerTimeout  = fs.Float64("offer-timeout", 30, "seconds an offer waits for acceptance before it goes to another agent (0: offers are final)")
		patience      = fs.Float64("patience", 900, "seconds an end user waits for an agent before abandoning (0: forever)")
		wrap          = fs.Float64("wrap-up", 10, "seconds a finished conversation's slot stays taken")
		strategy      = fs.String("strategy", "leastrecent", "the queues' strategy")
		breaks        = fs.Bool("breaks", false, "agents sign out now and then (every 20 minutes on average, for 2), which requeues what they hold")
		calls         = fs.Float64("calls-per-hour", 0, "callers into the same queues, beside the conversations")
		callAHT       = fs.Float64("call-aht", 180, "callers' mean talk time, in seconds")
		onCall        = fs.Int("max-chats-on-call", 0, "conversations an agent may hold beside a call (0: calls and chats do not mix)")
		seed          = fs.Uint64("seed", 1, "random seed; the same seed gives the same run")
		asJSON        = fs.Bool("json", false, "print one JSON object instead of a table")
	)
	if err := m.parseOnly(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	s := sim.ChatScenario{Agents: *agents, MaxChats: *maxChats, Conversations: *conversations, Queues: *queues,
		ArrivalsPerHour: *rate, Messages: *messages, MessageGap: seconds(*gap), ReplyAfter: seconds(*reply),
		AcceptAfter: seconds(*accept), OfferTimeout: seconds(*offerTimeout), Patience: seconds(*patience),
		WrapUp: seconds(*wrap), Strategy: switchboard.Strategy(*strategy), Breaks: *breaks,
		CallsPerHour: *calls, CallAHT: seconds(*callAHT), MaxChatsOnCall: *onCall, Seed: *seed}
	if !slices.Contains(switchboard.Strategies, s.Strategy) {
		return usageError{fmt.Errorf("--strategy %q is not a queue strategy", *strategy)}
	}
	if err := s.Validate(); err != nil {
		return usageError{err}
	}
	res, err := sim.RunChat(s)
	if err != nil {
		return err
	}
	if *asJSON {
		return m.printJSON(res)
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "conversations\t%d\n", res.Conversations)
	fmt.Fprintf(w, "handled\t%d\n", res.Handled)
	fmt.Fprintf(w, "abandoned\t%d\n", res.Abandoned)
	fmt.Fprintf(w, "offer timeouts\t%d\n", res.OfferTimeouts)
	fmt.Fprintf(w, "requeued on sign-out\t%d\n", res.Requeued)
	fmt.Fprintf(w, "mean wait\t%.1f s\n", res.MeanWaitSeconds)
	fmt.Fprintf(w, "max wait\t%.1f s\n", res.MaxWaitSeconds)
	fmt.Fprintf(w, "slot occupancy\t%.3f\n", res.SlotOccupancy)
	fmt.Fprintf(w, "max chats held by an agent\t%d\n", res.MaxChatsHeld)
	if *calls > 0 {
		fmt.Fprintf(w, "calls answered\t%d\n", res.Calls)
	}
	fmt.Fprintf(w, "simulated\t%.0f s\n", res.SimulatedSeconds)
	fmt.Fprintf(w, "wall\t%.3f s\n", res.WallSeconds)
	return w.Flush()
}
