package conversation

import (
	"context"
	"fmt"
	"sync"
	"time"

	"switchboard"
)

// SimulatedEndUser scripts one web-chat visitor for demos and end-to-end
// tests: they start a chat, write Messages messages Gap apart, wait for an
// agent's reply and then leave (finished by the end user). When no agent
// has taken the conversation Abandon after it started (0: they wait as
// long as the context allows), they leave and it ends abandoned.
type SimulatedEndUser struct {
	Messages int
	Gap      time.Duration
	Abandon  time.Duration
	// Text is their i-th message (0-based); nil writes "message i".
	Text func(i int) string
}

// SimulationReport is what Simulate's end users went through.
type SimulationReport struct {
	Started   int `json:"started"`
	Answered  int `json:"answered"`
	Abandoned int `json:"abandoned"`
	// Ended counts conversations an agent or the system ended before the
	// end user was answered or left.
	Ended  int     `json:"ended"`
	Failed int     `json:"failed"`
	IDs    []int64 `json:"conversation_ids"`
}

// Simulate runs users as real-time goroutines against the service: each
// starts a web chat into queueID, and the call returns when all are done
// or ctx ends.
func (s *Service) Simulate(ctx context.Context, tenantID, queueID int64, users []SimulatedEndUser) (SimulationReport, error) {
	var (
		mu  sync.Mutex
		rep SimulationReport
		wg  sync.WaitGroup
	)
	stamp := s.now().UnixNano()
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, outcome, err := s.simulateOne(ctx, tenantID, queueID, fmt.Sprintf("sim-%d-%d", stamp, i), u)
			mu.Lock()
			defer mu.Unlock()
			if id != 0 {
				rep.Started++
				rep.IDs = append(rep.IDs, id)
			}
			if err != nil {
				rep.Failed++
				s.log.Warn("simulated end user", "conversation_id", id, "err", err)
				return
			}
			switch outcome {
			case "answered":
				rep.Answered++
			case "abandoned":
				rep.Abandoned++
			default:
				rep.Ended++
			}
		}()
	}
	wg.Wait()
	return rep, ctx.Err()
}

func (s *Service) simulateOne(ctx context.Context, tenantID, queueID int64, identifier string, u SimulatedEndUser) (int64, string, error) {
	text := u.Text
	if text == nil {
		text = func(i int) string { return fmt.Sprintf("message %d", i+1) }
	}
	n := max(u.Messages, 1)
	c, _, err := s.Start(ctx, tenantID, switchboard.Conversation{Channel: switchboard.ChannelWebChat, QueueID: &queueID,
		EndUser: switchboard.EndUser{Identifier: identifier, Name: "Simulated " + identifier}}, "",
		&switchboard.ConversationMessage{Kind: switchboard.KindText, Text: text(0)})
	if err != nil {
		return 0, "", err
	}
	wake, stop := s.Watch(tenantID, c.ID)
	defer stop()
	var abandonAt <-chan time.Time
	if u.Abandon > 0 {
		t := time.NewTimer(u.Abandon)
		defer t.Stop()
		abandonAt = t.C
	}
	var gapC <-chan time.Time
	written := 1
	var seen int64 // messages read so far
	replied := false
	if written < n {
		gapC = time.After(u.Gap)
	}
	for {
		cur, err := s.Conversation(ctx, tenantID, c.ID)
		if err != nil {
			return c.ID, "", err
		}
		if cur.Status.Ended() {
			return c.ID, "ended", nil
		}
		msgs, err := s.Messages(ctx, tenantID, c.ID, seen, 1000)
		if err != nil {
			return c.ID, "", err
		}
		for _, m := range msgs {
			seen = m.Seq
			if m.Direction == switchboard.Outbound && m.AgentID != nil && m.Kind != switchboard.KindNote && m.Kind != switchboard.KindActivity {
				replied = true
			}
		}
		if replied && written >= n {
			_, err := s.Finish(ctx, tenantID, c.ID, switchboard.SideEndUser, "resolved")
			return c.ID, "answered", err
		}
		select {
		case <-ctx.Done():
			return c.ID, "", ctx.Err()
		case <-wake:
		case <-gapC:
			gapC = nil
			if _, err := s.Send(ctx, tenantID, c.ID, switchboard.ConversationMessage{Direction: switchboard.Inbound,
				Kind: switchboard.KindText, Text: text(written)}); err != nil {
				return c.ID, "", err
			}
			written++
			if written < n {
				gapC = time.After(u.Gap)
			}
		case <-abandonAt:
			abandonAt = nil
			cur, err := s.Conversation(ctx, tenantID, c.ID)
			if err != nil {
				return c.ID, "", err
			}
			if cur.AssignedAt == nil && !cur.Status.Ended() {
				_, err := s.Finish(ctx, tenantID, c.ID, switchboard.SideEndUser, "abandoned")
				return c.ID, "abandoned", err
			}
		}
	}
}
