package ujet

import (
	"context"
	"strings"

	"switchboard"
)

// escalateBody is POST /chats/{id}/escalations.
type escalateBody struct {
	Reason        string   `json:"reason" limit:"500"`
	ForceEscalate flexBool `json:"force_escalate"`
}

// EscalationOut is an escalation as the chat routes answer it.
type EscalationOut struct {
	ID                int64   `json:"id"`
	ChatID            int64   `json:"chat_id"`
	Reason            string  `json:"reason"`
	Kind              string  `json:"escalation_type"`
	Status            string  `json:"status"`
	DeflectionChannel *string `json:"deflection_channel"`
	ForceEscalate     bool    `json:"force_escalate"`
	CreatedAt         string  `json:"created_at"`
	UpdatedAt         string  `json:"updated_at"`
}

func escalationOut(e switchboard.ConversationEscalation) EscalationOut {
	out := EscalationOut{ID: e.ID, ChatID: e.ConversationID, Reason: e.Reason, Kind: e.Kind, Status: e.Status,
		ForceEscalate: e.Force, CreatedAt: millis(e.CreatedAt), UpdatedAt: millis(e.UpdatedAt)}
	if e.DeflectionChannel != "" {
		d := e.DeflectionChannel
		out.DeflectionChannel = &d
	}
	return out
}

// escalateChat hands the chat to human agents: it waits in its queue (a
// dismissed one is queued again). When the queue is over capacity and the
// escalation is not forced, the escalation is over_capacity and pending:
// the end user is offered deflection (PATCH …/escalations/{id}).
func (a *API) escalateChat(ctx context.Context, c *call, in *escalateBody) (EscalationOut, error) {
	svc, cv, err := a.chat(ctx, c)
	if err != nil {
		return EscalationOut{}, err
	}
	if cv.Status.Ended() {
		return EscalationOut{}, badRequest(textEnded)
	}
	e := switchboard.ConversationEscalation{ConversationID: cv.ID, Kind: switchboard.EscalationVirtualAgent,
		Reason: strings.TrimSpace(in.Reason), Force: in.ForceEscalate.Value, Status: switchboard.EscalationEscalated}
	if cv.QueueID != nil && !e.Force {
		q, err := a.opt.Store.Queue(ctx, c.tenantID(), *cv.QueueID)
		if err != nil {
			return EscalationOut{}, err
		}
		full, err := a.overCapacity(ctx, &q)
		if err != nil {
			return EscalationOut{}, err
		}
		if full && !held(&cv) {
			e.Kind, e.Status = switchboard.EscalationOverCapacity, switchboard.EscalationPending
		}
	}
	if cv.Status == switchboard.ConversationDismissed {
		if _, err := svc.Resume(ctx, c.tenantID(), cv.ID); err != nil {
			return EscalationOut{}, err
		}
	}
	e, err = a.opt.Store.CreateEscalation(ctx, c.tenantID(), e)
	if err != nil {
		return EscalationOut{}, err
	}
	return escalationOut(e), nil
}

// updateEscalationBody is PATCH /chats/{id}/escalations/{escalation_id}.
type updateEscalationBody struct {
	DeflectionChannel string `json:"deflection_channel" limit:"32"`
}

func (a *API) updateEscalation(ctx context.Context, c *call, in *updateEscalationBody) (EscalationOut, error) {
	svc, cv, err := a.chat(ctx, c)
	if err != nil {
		return EscalationOut{}, err
	}
	eid, err := pathID(c, "escalation_id")
	if err != nil {
		return EscalationOut{}, err
	}
	if in.DeflectionChannel == "" {
		return EscalationOut{}, missing("deflection_channel")
	}
	if err := a.deflect(ctx, svc, &cv, flexInt{Set: true, Value: eid}, in.DeflectionChannel); err != nil {
		return EscalationOut{}, err
	}
	e, err := a.opt.Store.Escalation(ctx, c.tenantID(), eid)
	if err != nil {
		return EscalationOut{}, err
	}
	return escalationOut(e), nil
}
