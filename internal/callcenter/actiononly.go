package callcenter

import (
	"context"
	"errors"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/phone"
)

// Voicemail and action-only calls as the APIs see them: the engine's side
// is internal/engine (voicemail.go, actiononly.go).

// MarkVoicemailRead implements switchboard.CallService. The reader must be a
// user of the tenant; the store keeps the first reader.
func (s *Service) MarkVoicemailRead(ctx context.Context, tenantID, callID, userID int64) (switchboard.Call, error) {
	if _, err := s.recorded(ctx, tenantID, callID); err != nil {
		return switchboard.Call{}, err
	}
	if _, err := s.store.User(ctx, tenantID, userID); err != nil {
		return switchboard.Call{}, err
	}
	return s.store.MarkVoicemailRead(ctx, tenantID, callID, userID)
}

// StartActionOnly implements switchboard.CallService. The customer's number
// is normalized when it is a phone number and kept as given otherwise (a
// dialer's DNIS may be a national number); the do-not-call list is the
// dialer's to honour, since it placed the call.
func (s *Service) StartActionOnly(ctx context.Context, tenantID int64, r switchboard.ActionOnlyRequest) (switchboard.Call, error) {
	if err := s.catchUp(ctx); err != nil {
		return switchboard.Call{}, err
	}
	const msg = "cannot hand the call to the agent"
	u, err := s.store.User(ctx, tenantID, r.UserID)
	if err != nil {
		return switchboard.Call{}, err
	}
	if u.DeactivatedAt != nil {
		return switchboard.Call{}, invalid(msg, "user_id", "the user is deactivated")
	}
	if r.QueueID != nil {
		if _, err := s.store.Queue(ctx, tenantID, *r.QueueID); err != nil {
			return switchboard.Call{}, err
		}
	}
	number := func(n string) string {
		if e164, err := phone.Normalize(n, ""); err == nil {
			return e164
		}
		return n
	}
	id, err := s.eng.StartActionOnly(engine.ActionOnly{TenantID: tenantID, AgentID: u.ID, From: number(r.CallerID),
		To: number(r.PhoneNumber), QueueID: r.QueueID, Source: r.Source})
	var un *engine.ErrAgentUnavailable
	switch {
	case errors.As(err, &un):
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeConflict, Message: msg,
			Fields: map[string]string{"user_id": un.Reason}}
	case errors.Is(err, engine.ErrNoCallID):
		return switchboard.Call{}, unavailable(err)
	case err != nil:
		return switchboard.Call{}, invalid(msg, "queue_id", err.Error())
	}
	return s.recorded(ctx, tenantID, id)
}

// FinishActionOnly implements switchboard.CallService.
func (s *Service) FinishActionOnly(ctx context.Context, tenantID, callID int64, r switchboard.FinishActionOnly) (switchboard.Call, error) {
	if err := s.ours(ctx, tenantID, callID); err != nil {
		return switchboard.Call{}, err
	}
	by := r.By
	if by == "" {
		by = switchboard.SideSystem
	}
	cause := r.Cause
	if cause == "" {
		cause = "finished by the dialer"
	}
	if err := s.eng.FinishActionOnly(tenantID, callID, by, cause); err != nil {
		return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeConflict, Message: err.Error()}
	}
	return s.recorded(ctx, tenantID, callID)
}
