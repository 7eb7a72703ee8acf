package native

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// scheduleBody schedules a callback: at scheduled_at the customer is dialled
// and, once they answer, queued for an agent.
type scheduleBody struct {
	QueueID     int64     `json:"queue_id"`
	PhoneNumber string    `json:"phone_number" limit:"64"`
	ScheduledAt time.Time `json:"scheduled_at"`
	// ParentID links the callback to an earlier call; a failed parent becomes
	// recovered once the callback connects.
	ParentID *int64 `json:"parent_id"`
	CallerID string `json:"caller_id" limit:"64"`
}

// holdBody puts a caller on hold (on) or takes them off it.
type holdBody struct {
	On bool `json:"on"`
}

// transferBody names where a blind transfer goes: a queue or an agent.
type transferBody struct {
	QueueID int64 `json:"queue_id"`
	UserID  int64 `json:"user_id"`
}

// clickBody starts a click-to-call.
type clickBody struct {
	UserID int64 `json:"user_id"`
	// PhoneNumber is the customer's number, E.164 or digits with country code.
	PhoneNumber string `json:"phone_number" limit:"64"`
	// CallerID is shown to the customer: one of the tenant's numbers; by default
	// the agent's outbound number, else the tenant's first number.
	CallerID string `json:"caller_id" limit:"64"`
	// Source names the system placing the call (a CRM) and its record, kept on
	// the call and its CDR.
	Source switchboard.CallSource `json:"source"`
}

type dncBody struct {
	Number string `json:"number" limit:"64"`
	Reason string `json:"reason" limit:"200"`
	// ExpiresAt, when set, ends the entry's effect then (RFC 3339).
	ExpiresAt *time.Time `json:"expires_at"`
}

// simCallBody injects an inbound call into the simulator.
type simCallBody struct {
	From string `json:"from" limit:"64"`
	// To is a phone number of the tenant routed to a queue, a user or an IVR
	// menu, or a queue extension.
	To string `json:"to" limit:"64"`
	// AnswerAfterSeconds is how long the call rings before Switchboard picks it up.
	AnswerAfterSeconds float64 `json:"answer_after_seconds" range:"0,86400"`
	// TalkSeconds is how long the caller talks once connected (0: until the agent hangs up).
	TalkSeconds float64 `json:"talk_seconds" range:"0,86400"`
	// PatienceSeconds is how long the caller waits for an agent (0: forever).
	PatienceSeconds float64 `json:"patience_seconds" range:"0,86400"`
	// DTMF is keyed by the caller DTMFAfterSeconds after Switchboard answers;
	// commas split it into groups keyed DTMFAfterSeconds apart ("1,2" walks
	// an IVR menu and then its submenu).
	DTMF             string  `json:"dtmf" limit:"64"`
	DTMFAfterSeconds float64 `json:"dtmf_after_seconds" range:"0,86400"`
	// FaxPages makes the caller a fax machine that sends this many pages
	// (1-200) and hangs up after talk_seconds, or 20 s a page.
	FaxPages int `json:"fax_pages" range:"0,200"`
	// MessageSeconds is how long the caller speaks when offered voicemail
	// (a closed or full queue, or a wait that ran out), after the greeting
	// and the beep; 0 hangs up at the beep.
	MessageSeconds float64 `json:"message_seconds" range:"0,3600"`
}

// SimDevice is an agent's virtual phone.
type SimDevice struct {
	Registered bool `json:"registered"`
	// Behavior is answer, reject (busy), ignore (rings until the timeout), no_answer or voicemail.
	Behavior           string  `json:"behavior"`
	AnswerAfterSeconds float64 `json:"answer_after_seconds" range:"0,600"`
}

// SimNumber is how a simulated outside number answers the tenant's calls.
type SimNumber struct {
	Number string `json:"number"`
	// Behavior is answer, voicemail (a machine answers), reject (busy),
	// no_answer (rings out), invalid (no such number) or ignore.
	Behavior           string  `json:"behavior"`
	AnswerAfterSeconds float64 `json:"answer_after_seconds" range:"0,86400"`
	TalkSeconds        float64 `json:"talk_seconds" range:"0,86400"`
	PatienceSeconds    float64 `json:"patience_seconds" range:"0,86400"`
}

// presenceView is an agent's status and, when the engine runs, its live view.
type presenceView struct {
	switchboard.Presence
	Live *switchboard.AgentLive `json:"live"`
}

type presenceBody struct {
	// Status is a status name of the tenant: Offline, Available or a custom one.
	Status string `json:"status" limit:"40"`
}

func secondsOf(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func (a *API) callRoutes() {
	s := a.opt.Store
	engine := func() error {
		if a.opt.Calls == nil {
			return switchboard.Errorf(switchboard.CodeInternal, "the call engine is not running")
		}
		return nil
	}
	simulator := func() error {
		if a.opt.Simulator == nil {
			return &switchboard.Error{Code: switchboard.CodeConflict, Message: "the server does not run the simulated telephony (--telephony)"}
		}
		return nil
	}
	userID := func(ctx context.Context, c *call, name string) (int64, error) {
		id, err := c.pathID(name)
		if err != nil {
			return 0, err
		}
		if _, err := s.User(ctx, c.tenantID(), id); err != nil {
			return 0, err
		}
		return id, nil
	}
	handle(a, route{Method: "GET", Path: "/v1/users/{id}/status", Summary: "An agent's presence status, with what the call engine sees them doing", Tag: "Agents", Scope: switchboard.ScopeUsersRead, User: userSelf},
		func(ctx context.Context, c *call, _ *noBody) (presenceView, error) {
			id, err := c.pathID("id")
			if err != nil {
				return presenceView{}, err
			}
			p, err := s.Presence(ctx, c.tenantID(), id)
			if err != nil {
				return presenceView{}, err
			}
			v := presenceView{Presence: p}
			if a.opt.Calls != nil {
				live := a.opt.Calls.AgentLive(ctx, c.tenantID(), id)
				v.Live = &live
			}
			return v, nil
		})
	handle(a, route{Method: "POST", Path: "/v1/users/{id}/status", Summary: "Set an agent's status; Available signs the agent in to take calls", Tag: "Agents", Scope: switchboard.ScopeUsersManage, User: userSelf},
		func(ctx context.Context, c *call, in *presenceBody) (switchboard.Presence, error) {
			id, err := c.pathID("id")
			if err != nil {
				return switchboard.Presence{}, err
			}
			before, err := s.Presence(ctx, c.tenantID(), id)
			if err != nil {
				return before, err
			}
			p, err := s.SetPresence(ctx, c.tenantID(), id, in.Status, false)
			if err == nil && c.principal.Key.UserID != nil && before.Status == switchboard.StatusOffline && p.Status != switchboard.StatusOffline {
				a.recordSignIn(ctx, c, id)
			}
			return p, err
		})
	handle(a, route{Method: "GET", Path: "/v1/calls", Summary: "Calls in progress, oldest first (ended calls are CDRs)", Tag: "Calls", Scope: switchboard.ScopeCallsRead, Paged: true},
		func(ctx context.Context, c *call, _ *noBody) (listBody[switchboard.CDR], error) {
			opt, err := c.listOptions()
			if err != nil {
				return listBody[switchboard.CDR]{}, err
			}
			p, err := s.CDRs(ctx, c.tenantID(), switchboard.CDRFilter{OnlyOpen: true}, opt)
			return toList(p, opt), err
		})
	handle(a, route{Method: "GET", Path: "/v1/calls/{id}", Summary: "A call, live or ended", Tag: "Calls", Scope: switchboard.ScopeCallsRead, User: userOwnCall},
		getter(byID(s.Call)))
	handle(a, route{Method: "POST", Path: "/v1/calls/{id}/transfer", Summary: "Blind transfer: the caller goes to a queue or an agent; the answer is the call that continues", Tag: "Calls", Scope: switchboard.ScopeCallsManage},
		func(ctx context.Context, c *call, in *transferBody) (switchboard.Call, error) {
			call, err := byID(s.Call)(ctx, c)
			if err != nil {
				return call, err
			}
			if (in.QueueID == 0) == (in.UserID == 0) {
				return call, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"queue_id": "give exactly one of queue_id and user_id"}}
			}
			if in.QueueID != 0 {
				if _, err := s.Queue(ctx, c.tenantID(), in.QueueID); err != nil {
					return call, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed", Fields: map[string]string{"queue_id": "no such queue"}}
				}
			}
			if in.UserID != 0 {
				if _, err := s.User(ctx, c.tenantID(), in.UserID); err != nil {
					return call, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed", Fields: map[string]string{"user_id": "no such user"}}
				}
			}
			if err := engine(); err != nil {
				return call, err
			}
			return a.opt.Calls.Transfer(ctx, c.tenantID(), call.ID, switchboard.TransferTarget{QueueID: in.QueueID, UserID: in.UserID})
		})
	handle(a, route{Method: "POST", Path: "/v1/calls/{id}/hold", Summary: "Put the caller on hold (music) or take them off it", Tag: "Calls", Scope: switchboard.ScopeCallsManage, User: userOwnCall},
		func(ctx context.Context, c *call, in *holdBody) (switchboard.Call, error) {
			call, err := byID(s.Call)(ctx, c)
			if err != nil {
				return call, err
			}
			if err := engine(); err != nil {
				return call, err
			}
			return a.opt.Calls.Hold(ctx, c.tenantID(), call.ID, in.On)
		})
	handle(a, route{Method: "POST", Path: "/v1/calls/{id}/hangup", Summary: "End a call in progress", Tag: "Calls", Scope: switchboard.ScopeCallsManage, User: userOwnCall},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.Call, error) {
			call, err := byID(s.Call)(ctx, c)
			if err != nil {
				return call, err
			}
			if call.EndedAt != nil {
				return call, &switchboard.Error{Code: switchboard.CodeConflict, Message: "the call has already ended"}
			}
			if err := engine(); err != nil {
				return call, err
			}
			return a.opt.Calls.Hangup(ctx, c.tenantID(), call.ID)
		})
	handle(a, route{Method: "POST", Path: "/v1/calls", Summary: "Click-to-call: ring the agent's phone, then the customer", Tag: "Calls", Scope: switchboard.ScopeCallsManage, Status: http.StatusCreated, User: userChecked},
		func(ctx context.Context, c *call, in *clickBody) (switchboard.Call, error) {
			p := switchboard.Problems{}
			if in.UserID <= 0 {
				p.Add("user_id", "is required")
			}
			if self := c.userKeyID(); self != 0 && in.UserID > 0 && in.UserID != self {
				return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeForbidden, Message: "a user key calls only from its own user's phone",
					Fields: map[string]string{"user_id": "must be " + strconv.FormatInt(self, 10) + ", the key's own user"}}
			}
			if in.PhoneNumber == "" {
				p.Add("phone_number", "is required")
			}
			if err := p.Err(); err != nil {
				return switchboard.Call{}, err
			}
			if _, err := s.User(ctx, c.tenantID(), in.UserID); err != nil {
				return switchboard.Call{}, err
			}
			if err := engine(); err != nil {
				return switchboard.Call{}, err
			}
			return a.opt.Calls.Dial(ctx, c.tenantID(), switchboard.DialRequest{UserID: in.UserID, PhoneNumber: in.PhoneNumber,
				CallerID: in.CallerID, Source: in.Source})
		})
	handle(a, route{Method: "POST", Path: "/v1/scheduled_calls", Summary: "Schedule a callback: dial the customer at a set time and queue them for an agent", Tag: "Calls", Scope: switchboard.ScopeCallsManage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *scheduleBody) (switchboard.Call, error) {
			p := switchboard.Problems{}
			if in.QueueID <= 0 {
				p.Add("queue_id", "is required")
			} else if _, err := s.Queue(ctx, c.tenantID(), in.QueueID); err != nil {
				p.Add("queue_id", "no such queue")
			}
			if in.PhoneNumber == "" {
				p.Add("phone_number", "is required")
			}
			now := nowUTC()
			switch {
			case in.ScheduledAt.IsZero():
				p.Add("scheduled_at", "is required")
			case in.ScheduledAt.Before(now.Add(-time.Minute)):
				p.Add("scheduled_at", "must be in the future")
			case in.ScheduledAt.After(now.AddDate(1, 0, 0)):
				p.Add("scheduled_at", "must be within a year")
			}
			if in.ParentID != nil {
				if _, err := s.Call(ctx, c.tenantID(), *in.ParentID); err != nil {
					p.Add("parent_id", "no such call")
				}
			}
			if err := p.Err(); err != nil {
				return switchboard.Call{}, err
			}
			if err := engine(); err != nil {
				return switchboard.Call{}, err
			}
			return a.opt.Calls.Schedule(ctx, c.tenantID(), switchboard.ScheduleRequest{QueueID: in.QueueID, PhoneNumber: in.PhoneNumber,
				CallerID: in.CallerID, At: in.ScheduledAt, ParentID: in.ParentID})
		})
	handle(a, route{Method: "GET", Path: "/v1/dnc", Summary: "The do-not-call list", Tag: "Calls", Scope: switchboard.ScopeCallsRead, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.DNCNumber], error) {
			return s.DNCNumbers(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/dnc", Summary: "Put a number on the do-not-call list; click-to-calls to it are refused", Tag: "Calls", Scope: switchboard.ScopeCallsManage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *dncBody) (switchboard.DNCNumber, error) {
			return s.AddDNC(ctx, c.tenantID(), in.Number, in.Reason, in.ExpiresAt)
		})
	handle(a, route{Method: "DELETE", Path: "/v1/dnc/{id}", Summary: "Take a number off the do-not-call list", Tag: "Calls", Scope: switchboard.ScopeCallsManage, Status: http.StatusNoContent},
		deleter(s.RemoveDNC))
	handle(a, route{Method: "POST", Path: "/v1/sim/calls", Summary: "Simulator: place an inbound call from a scripted caller", Tag: "Simulator", Scope: switchboard.ScopeCallsManage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *simCallBody) (switchboard.Call, error) {
			p := switchboard.Problems{}
			if in.From == "" {
				p.Add("from", "is required")
			}
			if in.To == "" {
				p.Add("to", "is required")
			}
			for field, v := range map[string]float64{"answer_after_seconds": in.AnswerAfterSeconds, "talk_seconds": in.TalkSeconds, "patience_seconds": in.PatienceSeconds} {
				if v < 0 || v > 86400 {
					p.Add(field, "must be between 0 and 86400")
				}
			}
			if in.FaxPages < 0 || in.FaxPages > 200 {
				p.Add("fax_pages", "must be between 1 and 200, or 0 for a voice call")
			}
			if err := p.Err(); err != nil {
				return switchboard.Call{}, err
			}
			if err := simulator(); err != nil {
				return switchboard.Call{}, err
			}
			if strings.Trim(in.DTMF, "0123456789*#ABCD,") != "" || len(in.DTMF) > 64 {
				return switchboard.Call{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"dtmf": "must be up to 64 of 0-9, *, #, A-D, with commas between groups"}}
			}
			return a.opt.Simulator.PlaceCall(ctx, c.tenantID(), switchboard.SimulatedCall{From: in.From, To: in.To,
				AnswerAfter: secondsOf(in.AnswerAfterSeconds), Talk: secondsOf(in.TalkSeconds), Patience: secondsOf(in.PatienceSeconds),
				DTMF: in.DTMF, DTMFAfter: secondsOf(in.DTMFAfterSeconds), FaxPages: in.FaxPages, Message: secondsOf(in.MessageSeconds)})
		})
	handle(a, route{Method: "PUT", Path: "/v1/sim/numbers/{number}", Summary: "Simulator: script how an outside number answers the tenant's calls", Tag: "Simulator", Scope: switchboard.ScopeCallsManage},
		func(ctx context.Context, c *call, in *SimNumber) (SimNumber, error) {
			number := c.r.PathValue("number")
			p := switchboard.Problems{}
			if !switchboard.IsE164(number) {
				p.Add("number", "must be an E.164 number in the path (+ and digits, the + written %2B)")
			}
			switch in.Behavior {
			case "":
				in.Behavior = "answer"
			case "answer", "voicemail", "reject", "no_answer", "invalid", "ignore":
			default:
				p.Add("behavior", "must be answer, voicemail, reject, no_answer, invalid or ignore")
			}
			for field, v := range map[string]float64{"answer_after_seconds": in.AnswerAfterSeconds, "talk_seconds": in.TalkSeconds, "patience_seconds": in.PatienceSeconds} {
				if v < 0 || v > 86400 {
					p.Add(field, "must be between 0 and 86400")
				}
			}
			if err := p.Err(); err != nil {
				return SimNumber{}, err
			}
			if err := simulator(); err != nil {
				return SimNumber{}, err
			}
			in.Number = number
			return *in, a.opt.Simulator.SetNumber(ctx, c.tenantID(), number, switchboard.SimulatedNumber{Behavior: in.Behavior,
				AnswerAfter: secondsOf(in.AnswerAfterSeconds), Talk: secondsOf(in.TalkSeconds), Patience: secondsOf(in.PatienceSeconds)})
		})
	handle(a, route{Method: "PUT", Path: "/v1/sim/devices/{user_id}", Summary: "Simulator: configure an agent's virtual phone", Tag: "Simulator", Scope: switchboard.ScopeCallsManage},
		func(ctx context.Context, c *call, in *SimDevice) (SimDevice, error) {
			id, err := userID(ctx, c, "user_id")
			if err != nil {
				return SimDevice{}, err
			}
			switch in.Behavior {
			case "":
				in.Behavior = "answer"
			case "answer", "reject", "ignore", "no_answer":
			default:
				return SimDevice{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"behavior": "must be answer, reject, ignore or no_answer (an agent's phone has no voicemail)"}}
			}
			if in.AnswerAfterSeconds < 0 || in.AnswerAfterSeconds > 600 {
				return SimDevice{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"answer_after_seconds": "must be between 0 and 600"}}
			}
			if err := simulator(); err != nil {
				return SimDevice{}, err
			}
			return *in, a.opt.Simulator.SetPhone(ctx, c.tenantID(), id, switchboard.SimulatedPhone{Registered: in.Registered,
				Behavior: in.Behavior, AnswerAfter: secondsOf(in.AnswerAfterSeconds)})
		})
}

// queueMetrics is a queue's live state and the statistics of a period.
type queueMetrics struct {
	QueueID int64  `json:"queue_id"`
	Name    string `json:"name"`
	// Live is null when the call engine does not run the queue.
	Live   *switchboard.QueueLive `json:"live"`
	Period periodStats            `json:"period"`
}

type periodStats struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	switchboard.CallStats
}

type tenantMetrics struct {
	Period periodStats    `json:"period"`
	Queues []queueMetrics `json:"queues"`
}

var metricParams = []param{
	{"since", "string", "start of the period (RFC 3339); default 24 hours ago"},
	{"until", "string", "end of the period (RFC 3339); default now"},
}

func (a *API) metricRoutes() {
	s := a.opt.Store
	period := func(c *call) (time.Time, time.Time, error) {
		now := nowUTC()
		since, until := now.Add(-24*time.Hour), now
		if t, err := c.queryTime("since"); err != nil {
			return since, until, err
		} else if t != nil {
			since = *t
		}
		if t, err := c.queryTime("until"); err != nil {
			return since, until, err
		} else if t != nil {
			until = *t
		}
		if !until.After(since) {
			return since, until, badParam("until", "must be after since")
		}
		return since, until, nil
	}
	metrics := func(ctx context.Context, tenantID int64, q switchboard.Queue, since, until time.Time) (queueMetrics, error) {
		st, err := s.CallStats(ctx, tenantID, q.ID, since, until, time.Duration(q.ServiceLevelSeconds)*time.Second)
		m := queueMetrics{QueueID: q.ID, Name: q.Name, Period: periodStats{Since: since, Until: until, CallStats: st}}
		if a.opt.Calls != nil {
			if live, ok := a.opt.Calls.QueueLive(ctx, q.TenantID, q.ID); ok {
				m.Live = &live
			}
		}
		return m, err
	}
	handle(a, route{Method: "GET", Path: "/v1/queues/{id}/metrics", Summary: "A queue's live state and its service level, ASA, AHT and abandon rate over a period", Tag: "Queues",
		Scope: switchboard.ScopeCallsRead, Query: metricParams},
		func(ctx context.Context, c *call, _ *noBody) (queueMetrics, error) {
			q, err := byID(s.Queue)(ctx, c)
			if err != nil {
				return queueMetrics{}, err
			}
			since, until, err := period(c)
			if err != nil {
				return queueMetrics{}, err
			}
			return metrics(ctx, c.tenantID(), q, since, until)
		})
	handle(a, route{Method: "GET", Path: "/v1/metrics", Summary: "The tenant's call statistics over a period and every queue's live state", Tag: "Queues",
		Scope: switchboard.ScopeCallsRead, Query: metricParams},
		func(ctx context.Context, c *call, _ *noBody) (tenantMetrics, error) {
			since, until, err := period(c)
			if err != nil {
				return tenantMetrics{}, err
			}
			st, err := s.CallStats(ctx, c.tenantID(), 0, since, until, 20*time.Second)
			if err != nil {
				return tenantMetrics{}, err
			}
			out := tenantMetrics{Period: periodStats{Since: since, Until: until, CallStats: st}, Queues: []queueMetrics{}}
			opt := switchboard.ListOptions{Limit: switchboard.MaxPageLimit}
			for {
				page, err := s.Queues(ctx, c.tenantID(), opt)
				if err != nil {
					return out, err
				}
				for _, q := range page.Items {
					m, err := metrics(ctx, c.tenantID(), q, since, until)
					if err != nil {
						return out, err
					}
					out.Queues = append(out.Queues, m)
				}
				if page.NextCursor == "" {
					return out, nil
				}
				opt.Cursor = page.NextCursor
			}
		})
}

// recordSignIn records an agent signing in (Offline to another status) with
// their own key, from the request's address: the sign-ins the UJET dialect's
// force logout selects agents by. The address is the connection's: no
// forwarding header is trusted. A failure is logged, not the caller's.
func (a *API) recordSignIn(ctx context.Context, c *call, userID int64) {
	host, _, err := net.SplitHostPort(c.r.RemoteAddr)
	if err != nil {
		host = c.r.RemoteAddr
	}
	if _, err := a.opt.Store.RecordSignIn(ctx, c.tenantID(), userID, host, switchboard.SessionPresence); err != nil {
		a.opt.Log.Warn("record sign-in", "tenant_id", c.tenantID(), "user_id", userID, "remote", c.r.RemoteAddr, "error", err)
	}
}
