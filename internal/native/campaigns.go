package native

import (
	"context"
	"net/http"
	"slices"
	"time"

	"switchboard"
	"switchboard/internal/phone"
)

// campaignBody is the writable view of a campaign: everything but its id,
// tenant, status and times. Omitted settings take the campaign defaults on
// create (progressive, 3 % abandon limit, two redials an hour apart, the
// default retry rules, 30 s of ringing, hang up on machines, 08:00-21:00 in
// each lead's zone); a PATCH keeps what it leaves out.
type campaignBody struct {
	Name    string                   `json:"name" limit:"200"`
	Mode    switchboard.CampaignMode `json:"mode" limit:"16"`
	QueueID int64                    `json:"queue_id"`
	// CallerID is the number called parties see (any common format, stored
	// in E.164); CallerIDPool, when set, is rotated through instead.
	CallerID          string               `json:"caller_id" limit:"64"`
	CallerIDPool      []string             `json:"caller_id_pool" limit:"100"`
	Schedule          campaignScheduleBody `json:"schedule"`
	MaxAbandonPercent float64              `json:"max_abandon_percent" range:"0,100"`
	// MaxRedials is how many times a lead is dialled again (0-100; 2 when
	// omitted on create).
	MaxRedials *int `json:"max_redials" range:"0,100"`
	// RedialIntervalSeconds is the pause before a redial whose rule names
	// none (60 s to 30 days).
	RedialIntervalSeconds int             `json:"redial_interval_seconds" range:"0,2592000"`
	RetryRules            []retryRuleBody `json:"retry_rules" limit:"10"`
	// OverdialAdjustment scales the predictive dial rate (0.5-2).
	OverdialAdjustment float64 `json:"overdial_adjustment" range:"0,2"`
	TargetToProcess    int     `json:"target_to_process" range:"0,100000000"`
	RingSeconds        int     `json:"ring_seconds" range:"0,120"`
	// MachineAction is hangup or message (MachinePrompt is then played).
	MachineAction  string `json:"machine_action" limit:"16"`
	MachinePrompt  string `json:"machine_prompt" limit:"100"`
	AbandonPrompt  string `json:"abandon_prompt" limit:"100"`
	RequireConsent bool   `json:"require_consent"`
	// PreviewSeconds bounds an agent's look at a lead in preview mode
	// (5-600); PreviewTimeoutAction (dial or skip) is what happens then.
	PreviewSeconds       int    `json:"preview_seconds" range:"0,600"`
	PreviewTimeoutAction string `json:"preview_timeout_action" limit:"16"`
}

// campaignScheduleBody is when a campaign dials: between starts_at and ends_at when
// set, on days (mon … sun; every day when empty), from from to to (HH:MM)
// in each lead's own time zone.
type campaignScheduleBody struct {
	StartsAt *time.Time `json:"starts_at"`
	EndsAt   *time.Time `json:"ends_at"`
	Days     []string   `json:"days" limit:"7"`
	From     string     `json:"from" limit:"5"`
	To       string     `json:"to" limit:"5"`
}

// retryRuleBody says whether a lead whose attempt ended in outcome is
// dialled again, and after how long (0: the campaign's redial interval).
type retryRuleBody struct {
	Outcome      switchboard.DialOutcome `json:"outcome" limit:"32"`
	Retry        bool                    `json:"retry"`
	AfterSeconds int                     `json:"after_seconds" range:"0,2592000"`
}

func campaignToBody(c switchboard.Campaign) campaignBody {
	b := campaignBody{Name: c.Name, Mode: c.Mode, QueueID: c.QueueID, CallerID: c.CallerID, CallerIDPool: c.CallerIDPool,
		Schedule: campaignScheduleBody{StartsAt: c.Schedule.StartsAt, EndsAt: c.Schedule.EndsAt, Days: c.Schedule.Days,
			From: c.Schedule.From, To: c.Schedule.To},
		MaxAbandonPercent: c.MaxAbandonPercent, MaxRedials: &c.MaxRedials, RedialIntervalSeconds: c.RedialIntervalSeconds,
		OverdialAdjustment: c.OverdialAdjustment, TargetToProcess: c.TargetToProcess, RingSeconds: c.RingSeconds,
		MachineAction: c.MachineAction, MachinePrompt: c.MachinePrompt, AbandonPrompt: c.AbandonPrompt,
		RequireConsent: c.RequireConsent, PreviewSeconds: c.PreviewSeconds, PreviewTimeoutAction: c.PreviewTimeoutAction,
		RetryRules: make([]retryRuleBody, len(c.RetryRules))}
	for i, r := range c.RetryRules {
		b.RetryRules[i] = retryRuleBody(r)
	}
	return b
}

// apply copies b into c, fills the defaults of what is unset and checks the
// result, naming each bad field.
func (b *campaignBody) apply(c *switchboard.Campaign) error {
	c.Name, c.Mode, c.QueueID = b.Name, b.Mode, b.QueueID
	c.CallerID, c.CallerIDPool = e164(b.CallerID), make([]string, len(b.CallerIDPool))
	for i, n := range b.CallerIDPool {
		c.CallerIDPool[i] = e164(n)
	}
	c.Schedule = switchboard.CampaignSchedule{StartsAt: b.Schedule.StartsAt, EndsAt: b.Schedule.EndsAt,
		Days: slices.Clone(b.Schedule.Days), From: b.Schedule.From, To: b.Schedule.To}
	c.MaxAbandonPercent, c.RedialIntervalSeconds = b.MaxAbandonPercent, b.RedialIntervalSeconds
	c.MaxRedials = switchboard.DefaultMaxRedials
	if b.MaxRedials != nil {
		c.MaxRedials = *b.MaxRedials
	}
	c.RetryRules = nil
	if b.RetryRules != nil {
		c.RetryRules = make([]switchboard.RetryRule, len(b.RetryRules))
		for i, r := range b.RetryRules {
			c.RetryRules[i] = switchboard.RetryRule(r)
		}
	}
	c.OverdialAdjustment, c.TargetToProcess, c.RingSeconds = b.OverdialAdjustment, b.TargetToProcess, b.RingSeconds
	c.MachineAction, c.MachinePrompt, c.AbandonPrompt = b.MachineAction, b.MachinePrompt, b.AbandonPrompt
	c.RequireConsent, c.PreviewSeconds, c.PreviewTimeoutAction = b.RequireConsent, b.PreviewSeconds, b.PreviewTimeoutAction
	c.Normalize()
	return c.Validate()
}

// e164 is n in E.164 when it reads as a number, else n as given, for
// Campaign.Validate to name.
func e164(n string) string {
	if n == "" {
		return n
	}
	if v, err := phone.Normalize(n, ""); err == nil {
		return v
	}
	return n
}

// campaignView is a campaign with its stats, as GET /v1/campaigns/{id}
// shows it.
type campaignView struct {
	switchboard.Campaign
	Stats switchboard.CampaignStats `json:"stats"`
}

// etagObject makes the view's ETag the campaign's own, so that a PATCH
// with If-Match from a GET applies; the stats beside it change without the
// campaign, so the view is never answered 304 (see writeETag).
func (v campaignView) etagObject() any { return v.Campaign }

// hour is the window of the window abandon rate.
const hour = time.Hour

// contactListRef names the contact list copied into a campaign.
type contactListRef struct {
	ContactListID int64 `json:"contact_list_id"`
}

type copiedBody struct {
	Copied int `json:"copied"`
}

// errNoDialer answers the routes that need the dialer on a server without
// one.
var errNoDialer = switchboard.Errorf(switchboard.CodeUnavailable,
	"the dialer is not running on this server: campaigns cannot be started, paused, resumed or stopped, nor leads imported or previewed")

// dialer is the dialer, or errNoDialer.
func (a *API) dialer() (switchboard.Dialer, error) {
	if a.opt.Dialer == nil {
		return nil, errNoDialer
	}
	return a.opt.Dialer, nil
}

func (a *API) campaignRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeCampaignsRead, switchboard.ScopeCampaignsManage
	const tag = "Campaigns"
	handle(a, route{Method: "GET", Path: "/v1/campaigns", Summary: "List outbound campaigns", Tag: tag, Scope: read, Paged: true},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.Campaign], error) {
			return s.Campaigns(ctx, c.tenantID(), opt)
		}))
	handle(a, route{Method: "POST", Path: "/v1/campaigns", Summary: "Create an outbound campaign (status created; start it once it has leads)",
		Doc: "name, mode (preview, progressive or predictive) and queue_id (the queue whose agents take the calls) suffice; " +
			"every other setting has a default.", Tag: tag, Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *campaignBody) (switchboard.Campaign, error) {
			var cp switchboard.Campaign
			if err := in.apply(&cp); err != nil {
				return cp, err
			}
			return s.CreateCampaign(ctx, c.tenantID(), cp)
		})
	get := byID(s.Campaign)
	handle(a, route{Method: "GET", Path: "/v1/campaigns/{id}", Summary: "Get a campaign with its stats",
		Doc: "stats counts the campaign's leads by status and its dials by outcome; while the campaign runs on this server it also " +
			"shows what the pacing sees now (agents, dials in progress, pacing ratio). The ETag is the campaign's own, for If-Match; " +
			"the stats change without it, so this route never answers 304.", Tag: tag, Scope: read},
		func(ctx context.Context, c *call, _ *noBody) (campaignView, error) {
			cp, err := get(ctx, c)
			if err != nil {
				return campaignView{}, err
			}
			var st switchboard.CampaignStats
			if a.opt.Dialer != nil {
				st, err = a.opt.Dialer.CampaignStats(ctx, c.tenantID(), cp.ID)
			} else {
				// Without a dialer nothing runs here: the stored figures are
				// all there is.
				st, err = s.CampaignCounts(ctx, c.tenantID(), cp.ID, nowUTC().Add(-hour))
			}
			return campaignView{Campaign: cp, Stats: st}, err
		})
	handlePatch(a, route{Method: "PATCH", Path: "/v1/campaigns/{id}", Summary: "Update a campaign's settings (its status moves through start, pause, resume and stop)",
		Tag: tag, Scope: manage},
		patch[campaignBody, switchboard.Campaign]{
			update: updater(s.UpdateCampaignFunc),
			toBody: campaignToBody,
			apply:  func(in *campaignBody, cp *switchboard.Campaign) error { return in.apply(cp) },
		})
	handle(a, route{Method: "DELETE", Path: "/v1/campaigns/{id}", Summary: "Delete a campaign that is not running, with its leads and ledger (409 while it runs)",
		Tag: tag, Scope: manage, Status: http.StatusNoContent}, deleter(s.DeleteCampaign))

	for _, step := range []struct {
		verb, summary string
		fn            func(switchboard.Dialer) func(ctx context.Context, tenantID, id int64) (switchboard.Campaign, error)
	}{
		{"start", "Start dialing a created campaign's leads", func(d switchboard.Dialer) func(context.Context, int64, int64) (switchboard.Campaign, error) {
			return d.StartCampaign
		}},
		{"pause", "Pause a started campaign: no new dials, calls in progress go on", func(d switchboard.Dialer) func(context.Context, int64, int64) (switchboard.Campaign, error) {
			return d.PauseCampaign
		}},
		{"resume", "Resume a paused campaign", func(d switchboard.Dialer) func(context.Context, int64, int64) (switchboard.Campaign, error) {
			return d.ResumeCampaign
		}},
		{"stop", "Stop a campaign for good: no new dials, calls in progress go on", func(d switchboard.Dialer) func(context.Context, int64, int64) (switchboard.Campaign, error) {
			return d.StopCampaign
		}},
	} {
		handle(a, route{Method: "POST", Path: "/v1/campaigns/{id}/" + step.verb, Summary: step.summary,
			Doc: "Answers the campaign as the move left it; 409 when its status does not allow the move (the message says why), " +
				"503 when the dialer does not run on this server.", Tag: tag, Scope: manage},
			func(ctx context.Context, c *call, _ *noBody) (switchboard.Campaign, error) {
				cp, err := get(ctx, c)
				if err != nil {
					return cp, err
				}
				d, err := a.dialer()
				if err != nil {
					return cp, err
				}
				return step.fn(d)(ctx, c.tenantID(), cp.ID)
			})
	}

	handle(a, route{Method: "POST", Path: "/v1/campaigns/{id}/contact_lists", Summary: "Copy a contact list's leads into a campaign",
		Doc: "The list's leads join the campaign as upcoming leads; those already in it (by external id, or by number) are skipped. " +
			"copied is how many joined.", Tag: tag, Scope: manage},
		func(ctx context.Context, c *call, in *contactListRef) (copiedBody, error) {
			cp, err := get(ctx, c)
			if err != nil {
				return copiedBody{}, err
			}
			if in.ContactListID <= 0 {
				return copiedBody{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"contact_list_id": "is required"}}
			}
			n, err := s.CopyContactList(ctx, c.tenantID(), in.ContactListID, cp.ID)
			return copiedBody{Copied: n}, err
		})
	a.ledgerRoutes()
}
