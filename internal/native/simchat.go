package native

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"switchboard"
	"switchboard/internal/conversation"
)

// ChatSimulator runs scripted web-chat end users (*conversation.Service).
type ChatSimulator interface {
	Simulate(ctx context.Context, tenantID, queueID int64, users []conversation.SimulatedEndUser) (conversation.SimulationReport, error)
}

// simChatBody starts scripted chatting end users: each starts a web chat in
// the queue, writes messages gap_seconds apart, waits for an agent's reply,
// and leaves (abandoning when no agent took it within abandon_seconds).
type simChatBody struct {
	QueueID int64 `json:"queue_id"`
	// Count is how many end users (default 1); Messages how many each
	// writes (default 3).
	Count          int     `json:"count" range:"0,200"`
	Messages       int     `json:"messages" range:"0,50"`
	GapSeconds     float64 `json:"gap_seconds" range:"0,600"`
	AbandonSeconds float64 `json:"abandon_seconds" range:"0,3600"`
}

// simChatStarted answers POST /v1/sim/chats: the end users run on in the
// background; their conversations are listed as any others.
type simChatStarted struct {
	Started int    `json:"started"`
	Note    string `json:"note"`
}

// maxSimChatRun bounds how long a simulated end user runs.
const maxSimChatRun = time.Hour

func (a *API) simChatRoutes() {
	handle(a, route{Method: "POST", Path: "/v1/sim/chats", Summary: "Simulator: start scripted chatting end users in a queue", Tag: "Simulator",
		Doc:   "Each starts a web chat, writes its messages gap_seconds apart, waits for an agent's reply and leaves; with no agent within abandon_seconds it abandons. They run in the background (an hour at most).",
		Scope: switchboard.ScopeMessagesManage, Status: http.StatusAccepted},
		func(ctx context.Context, c *call, in *simChatBody) (simChatStarted, error) {
			sim, ok := a.opt.Conversations.(ChatSimulator)
			if a.opt.Simulator == nil || !ok {
				return simChatStarted{}, &switchboard.Error{Code: switchboard.CodeConflict,
					Message: "the server does not run the simulated telephony (--telephony), or conversations are not running"}
			}
			p := switchboard.Problems{}
			if in.Count == 0 {
				in.Count = 1
			}
			if in.Messages == 0 {
				in.Messages = 3
			}
			if in.Count < 1 || in.Count > 200 {
				p.Add("count", "must be between 1 and 200")
			}
			if in.Messages < 1 || in.Messages > 50 {
				p.Add("messages", "must be between 1 and 50")
			}
			if in.GapSeconds < 0 || in.GapSeconds > 600 {
				p.Add("gap_seconds", "must be between 0 and 600")
			}
			if in.AbandonSeconds < 0 || in.AbandonSeconds > 3600 {
				p.Add("abandon_seconds", "must be between 0 (never) and 3600")
			}
			if err := p.Err(); err != nil {
				return simChatStarted{}, err
			}
			if in.QueueID == 0 {
				return simChatStarted{}, invalid("queue_id", "is required")
			}
			if _, err := a.opt.Store.Queue(ctx, c.tenantID(), in.QueueID); err != nil {
				if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
					return simChatStarted{}, invalid("queue_id", "names no queue of this tenant")
				}
				return simChatStarted{}, err
			}
			users := make([]conversation.SimulatedEndUser, in.Count)
			for i := range users {
				users[i] = conversation.SimulatedEndUser{Messages: in.Messages, Gap: secondsOf(in.GapSeconds), Abandon: secondsOf(in.AbandonSeconds)}
			}
			tenant, queue, log := c.tenantID(), in.QueueID, a.opt.Log
			run, cancel := context.WithTimeout(a.background, maxSimChatRun)
			go func() {
				defer cancel()
				rep, err := sim.Simulate(run, tenant, queue, users)
				log.Info("simulated chats done", "tenant_id", tenant, "queue_id", queue, "started", rep.Started,
					"answered", rep.Answered, "abandoned", rep.Abandoned, "failed", rep.Failed, "err", err)
			}()
			return simChatStarted{Started: in.Count, Note: fmt.Sprintf("%d end users are chatting in queue %d; list them with GET /v1/conversations?queue_id=%d", in.Count, queue, queue)}, nil
		})
}
