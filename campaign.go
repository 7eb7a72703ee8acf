package switchboard

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// CampaignMode is how a campaign paces its dials.
type CampaignMode string

// The pacing modes.
const (
	// ModePreview offers each lead to a free agent, who accepts or skips it;
	// the call is placed (agent's phone first) once they accept.
	ModePreview CampaignMode = "preview"
	// ModeProgressive dials one lead per free agent.
	ModeProgressive CampaignMode = "progressive"
	// ModePredictive dials ahead of free agents, from the measured answer
	// rate and handle times, within the campaign's abandon limit.
	ModePredictive CampaignMode = "predictive"
)

// CampaignStatus is where a campaign stands in its lifecycle:
// created → started ⇄ paused → stopped, and started → finished when no lead
// is left to dial (or the target is reached, or the schedule ends).
type CampaignStatus string

// The campaign statuses.
const (
	CampaignCreated  CampaignStatus = "created"
	CampaignStarted  CampaignStatus = "started"
	CampaignPaused   CampaignStatus = "paused"
	CampaignStopped  CampaignStatus = "stopped"
	CampaignFinished CampaignStatus = "finished"
)

// Machine actions: what a dial answered by an answering machine gets.
const (
	MachineHangup  = "hangup"  // hang up at once
	MachineMessage = "message" // play the campaign's machine prompt, then hang up
)

// Preview timeout actions: what happens to a lead an agent neither accepted
// nor skipped within PreviewSeconds.
const (
	PreviewDial = "dial" // the call is placed as if accepted
	PreviewSkip = "skip" // the lead is skipped and goes back to be offered again
)

// Default campaign settings; CFR 47 §64.1200 and the TSR put the abandon
// limit at 3 % and the ring time at no less than 15 s, and the US calling
// hours at 8 a.m. to 9 p.m. in the called party's time.
const (
	DefaultMaxAbandonPercent = 3.0
	DefaultMaxRedials        = 2
	DefaultRedialInterval    = 3600 // seconds
	DefaultRingSeconds       = 30
	MinRingSeconds           = 15
	DefaultPreviewSeconds    = 30
	DefaultCallingFrom       = "08:00"
	DefaultCallingTo         = "21:00"
	DefaultAbandonPrompt     = "abandon"
)

// Campaign is an outbound campaign: leads dialled for one queue's agents
// under a pacing mode, calling hours and an abandon limit.
type Campaign struct {
	ID       int64          `json:"id"`
	TenantID int64          `json:"tenant_id"`
	Name     string         `json:"name" limit:"200"`
	Mode     CampaignMode   `json:"mode"`
	QueueID  int64          `json:"queue_id"`
	Status   CampaignStatus `json:"status"`
	// CallerID is the number the called party sees; CallerIDPool, when
	// set, is rotated through dial by dial instead.
	CallerID     string           `json:"caller_id"`
	CallerIDPool []string         `json:"caller_id_pool"`
	Schedule     CampaignSchedule `json:"schedule"`
	// MaxAbandonPercent is the most of the person-answered dials that may be
	// abandoned (no agent within 2 s), over the rolling hour; predictive
	// pacing throttles itself to stay under it. Default 3.
	MaxAbandonPercent float64 `json:"max_abandon_percent"`
	// MaxRedials is how many times a lead is dialled again after its first
	// attempt, when its outcome's rule says to retry; RedialIntervalSeconds
	// is the pause before a redial when the rule names none.
	MaxRedials            int         `json:"max_redials"`
	RedialIntervalSeconds int         `json:"redial_interval_seconds"`
	RetryRules            []RetryRule `json:"retry_rules"`
	// OverdialAdjustment scales the predictive dial rate (1 = as measured;
	// 0.5-2).
	OverdialAdjustment float64 `json:"overdial_adjustment"`
	// TargetToProcess finishes the campaign once this many leads reached a
	// final status (0: every lead).
	TargetToProcess int `json:"target_to_process"`
	// RingSeconds is how long a dial rings before it is given up (≥ 15).
	RingSeconds int `json:"ring_seconds"`
	// MachineAction is hangup or message; MachinePrompt and AbandonPrompt
	// name the prompts played to a machine and to an abandoned person (the
	// latter "abandon" by default: on SIP, prompts/t<tenant>-abandon.wav).
	MachineAction string `json:"machine_action"`
	MachinePrompt string `json:"machine_prompt" limit:"100"`
	AbandonPrompt string `json:"abandon_prompt" limit:"100"`
	// RequireConsent dials only leads whose consent is true.
	RequireConsent bool `json:"require_consent"`
	// PreviewSeconds bounds an agent's look at a lead in preview mode;
	// PreviewTimeoutAction says what happens then (dial or skip).
	PreviewSeconds       int        `json:"preview_seconds"`
	PreviewTimeoutAction string     `json:"preview_timeout_action"`
	CreatedAt            time.Time  `json:"created_at"`
	UpdatedAt            time.Time  `json:"updated_at"`
	StartedAt            *time.Time `json:"started_at"`
	FinishedAt           *time.Time `json:"finished_at"`
}

// CampaignSchedule is when a campaign dials: between StartsAt and EndsAt (if
// set), on Days (mon … sun; all when empty), from From to To in each lead's
// own time zone.
type CampaignSchedule struct {
	StartsAt *time.Time `json:"starts_at"`
	EndsAt   *time.Time `json:"ends_at"`
	Days     []string   `json:"days"`
	From     string     `json:"from"`
	To       string     `json:"to"`
}

// RetryRule says whether, and after how long, a lead whose attempt ended in
// Outcome is dialled again (within the campaign's MaxRedials).
type RetryRule struct {
	Outcome      DialOutcome `json:"outcome"`
	Retry        bool        `json:"retry"`
	AfterSeconds int         `json:"after_seconds"`
}

// DialOutcome is how one dial attempt ended.
type DialOutcome string

// The dial outcomes.
const (
	DialConnected DialOutcome = "connected" // a person answered and reached an agent
	DialAbandoned DialOutcome = "abandoned" // a person answered and no agent took them within 2 s
	DialMachine   DialOutcome = "machine"   // an answering machine answered
	DialNoAnswer  DialOutcome = "no_answer"
	DialBusy      DialOutcome = "busy"
	DialInvalid   DialOutcome = "invalid_number"
	DialFailed    DialOutcome = "failed"      // the network refused or lost the call
	DialHungUp    DialOutcome = "hung_up"     // the person hung up before an agent took them, within 2 s
	DialBlocked   DialOutcome = "blocked"     // a rule forbade the dial (DNC, consent, emergency)
	DialSkipped   DialOutcome = "skipped"     // the agent skipped the lead in preview
	DialInterrupt DialOutcome = "interrupted" // the server stopped while the call was up
)

// RetryOutcomes are the outcomes a RetryRule may name.
var RetryOutcomes = []DialOutcome{DialNoAnswer, DialBusy, DialMachine, DialAbandoned, DialFailed, DialHungUp}

// DefaultRetryRules are a new campaign's rules: retry what did not reach a
// person, abandoned calls only after a day (UK Ofcom allows a redial within
// 72 h only with an agent guaranteed).
func DefaultRetryRules(interval int) []RetryRule {
	return []RetryRule{
		{Outcome: DialNoAnswer, Retry: true, AfterSeconds: interval},
		{Outcome: DialBusy, Retry: true, AfterSeconds: min(interval, 900)},
		{Outcome: DialMachine, Retry: true, AfterSeconds: interval},
		{Outcome: DialFailed, Retry: true, AfterSeconds: interval},
		{Outcome: DialAbandoned, Retry: true, AfterSeconds: 86400},
		{Outcome: DialHungUp, Retry: false},
	}
}

// Rule is the retry rule for o (Retry false when none is set).
func (c *Campaign) Rule(o DialOutcome) RetryRule {
	for _, r := range c.RetryRules {
		if r.Outcome == o {
			if r.AfterSeconds <= 0 {
				r.AfterSeconds = c.RedialIntervalSeconds
			}
			return r
		}
	}
	return RetryRule{Outcome: o}
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseClock reads "HH:MM" (00:00 to 24:00) as minutes since midnight.
func ParseClock(s string) (int, error) {
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || n != 2 || len(s) != 5 {
		return 0, fmt.Errorf("must be HH:MM")
	}
	if h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("must be between 00:00 and 24:00")
	}
	return h*60 + m, nil
}

// Normalize fills in the defaults of a new campaign's unset settings.
func (c *Campaign) Normalize() {
	if c.Mode == "" {
		c.Mode = ModeProgressive
	}
	if c.Status == "" {
		c.Status = CampaignCreated
	}
	if c.MaxAbandonPercent == 0 {
		c.MaxAbandonPercent = DefaultMaxAbandonPercent
	}
	if c.RedialIntervalSeconds == 0 {
		c.RedialIntervalSeconds = DefaultRedialInterval
	}
	if c.RetryRules == nil {
		c.RetryRules = DefaultRetryRules(c.RedialIntervalSeconds)
	}
	if c.OverdialAdjustment == 0 {
		c.OverdialAdjustment = 1
	}
	if c.RingSeconds == 0 {
		c.RingSeconds = DefaultRingSeconds
	}
	if c.MachineAction == "" {
		c.MachineAction = MachineHangup
	}
	if c.AbandonPrompt == "" {
		// The rules require a message to an abandoned person (the seller's
		// name and a number to call back): the tenant's "abandon" prompt.
		c.AbandonPrompt = DefaultAbandonPrompt
	}
	if c.PreviewSeconds == 0 {
		c.PreviewSeconds = DefaultPreviewSeconds
	}
	if c.PreviewTimeoutAction == "" {
		c.PreviewTimeoutAction = PreviewDial
	}
	if c.Schedule.From == "" {
		c.Schedule.From = DefaultCallingFrom
	}
	if c.Schedule.To == "" {
		c.Schedule.To = DefaultCallingTo
	}
	if c.CallerIDPool == nil {
		c.CallerIDPool = []string{}
	}
	if c.Schedule.Days == nil {
		c.Schedule.Days = []string{}
	}
	for i, d := range c.Schedule.Days {
		c.Schedule.Days[i] = strings.ToLower(d)
	}
}

// Validate reports every invalid field of a normalized campaign. Numbers
// (caller ids) must already be E.164; the store checks the queue.
func (c *Campaign) Validate() error {
	p := Problems{}
	if strings.TrimSpace(c.Name) == "" {
		p.Add("name", "is required")
	} else if len(c.Name) > 200 {
		p.Add("name", "must be at most 200 characters")
	}
	switch c.Mode {
	case ModePreview, ModeProgressive, ModePredictive:
	default:
		p.Add("mode", "must be preview, progressive or predictive")
	}
	if c.QueueID <= 0 {
		p.Add("queue_id", "is required")
	}
	switch c.Status {
	case CampaignCreated, CampaignStarted, CampaignPaused, CampaignStopped, CampaignFinished:
	default:
		p.Add("status", "is not a campaign status")
	}
	if c.CallerID != "" && !IsE164(c.CallerID) {
		p.Add("caller_id", "must be an E.164 number (+ and 8 to 15 digits)")
	}
	for i, n := range c.CallerIDPool {
		if !IsE164(n) {
			p.Add(fmt.Sprintf("caller_id_pool[%d]", i), "must be an E.164 number (+ and 8 to 15 digits)")
		}
	}
	if len(c.CallerIDPool) > 100 {
		p.Add("caller_id_pool", "must hold at most 100 numbers")
	}
	if c.MaxAbandonPercent < 0 || c.MaxAbandonPercent > 100 {
		p.Add("max_abandon_percent", "must be between 0 and 100")
	}
	if c.MaxRedials < 0 || c.MaxRedials > 100 {
		p.Add("max_redials", "must be between 0 and 100")
	}
	if c.RedialIntervalSeconds < 60 || c.RedialIntervalSeconds > 30*86400 {
		p.Add("redial_interval_seconds", "must be between 60 and 2592000")
	}
	seen := map[DialOutcome]bool{}
	for i, r := range c.RetryRules {
		f := fmt.Sprintf("retry_rules[%d]", i)
		ok := false
		for _, o := range RetryOutcomes {
			ok = ok || r.Outcome == o
		}
		switch {
		case !ok:
			p.Add(f+".outcome", "must be one of no_answer, busy, machine, abandoned, failed, hung_up")
		case seen[r.Outcome]:
			p.Add(f+".outcome", "is named by an earlier rule")
		case r.AfterSeconds < 0 || r.AfterSeconds > 30*86400:
			p.Add(f+".after_seconds", "must be between 0 and 2592000")
		}
		seen[r.Outcome] = true
	}
	if c.OverdialAdjustment < 0.5 || c.OverdialAdjustment > 2 {
		p.Add("overdial_adjustment", "must be between 0.5 and 2")
	}
	if c.TargetToProcess < 0 {
		p.Add("target_to_process", "must not be negative")
	}
	if c.RingSeconds < MinRingSeconds || c.RingSeconds > 120 {
		p.Add("ring_seconds", "must be between 15 and 120 (US and UK rules require 15 s of ringing)")
	}
	if c.MachineAction != MachineHangup && c.MachineAction != MachineMessage {
		p.Add("machine_action", "must be hangup or message")
	} else if c.MachineAction == MachineMessage && c.MachinePrompt == "" {
		p.Add("machine_prompt", "is required when machine_action is message")
	}
	for f, v := range map[string]string{"machine_prompt": c.MachinePrompt, "abandon_prompt": c.AbandonPrompt} {
		if v != "" && !validPromptName(v) {
			p.Add(f, "must be 1 to 100 letters, digits, '-' or '_'")
		}
	}
	if c.PreviewSeconds < 5 || c.PreviewSeconds > 600 {
		p.Add("preview_seconds", "must be between 5 and 600")
	}
	if c.PreviewTimeoutAction != PreviewDial && c.PreviewTimeoutAction != PreviewSkip {
		p.Add("preview_timeout_action", "must be dial or skip")
	}
	from, errF := ParseClock(c.Schedule.From)
	if errF != nil {
		p.Add("schedule.from", errF.Error())
	}
	to, errT := ParseClock(c.Schedule.To)
	if errT != nil {
		p.Add("schedule.to", errT.Error())
	}
	if errF == nil && errT == nil && from >= to {
		p.Add("schedule.to", "must be after schedule.from")
	}
	for i, d := range c.Schedule.Days {
		if _, ok := weekdays[d]; !ok {
			p.Add(fmt.Sprintf("schedule.days[%d]", i), "must be one of mon, tue, wed, thu, fri, sat, sun")
		}
	}
	if s, e := c.Schedule.StartsAt, c.Schedule.EndsAt; s != nil && e != nil && !e.After(*s) {
		p.Add("schedule.ends_at", "must be after schedule.starts_at")
	}
	return p.Err()
}

func validPromptName(s string) bool {
	if len(s) == 0 || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Allowed says whether t falls within the schedule's days and hours in loc
// (the lead's time zone), and within its start and end.
func (s CampaignSchedule) Allowed(t time.Time, loc *time.Location) bool {
	if s.StartsAt != nil && t.Before(*s.StartsAt) || s.EndsAt != nil && !t.Before(*s.EndsAt) {
		return false
	}
	local := t.In(loc)
	if len(s.Days) > 0 {
		ok := false
		for _, d := range s.Days {
			ok = ok || weekdays[d] == local.Weekday()
		}
		if !ok {
			return false
		}
	}
	from, err1 := ParseClock(s.From)
	to, err2 := ParseClock(s.To)
	if err1 != nil || err2 != nil {
		return false
	}
	m := local.Hour()*60 + local.Minute()
	return m >= from && m < to
}

// LeadStatus is where a lead stands in its campaign.
type LeadStatus string

// The lead statuses. Final ones are never dialled again.
const (
	LeadUpcoming        LeadStatus = "upcoming"         // not dialled yet
	LeadPreviewing      LeadStatus = "previewing"       // offered to an agent in preview
	LeadDialing         LeadStatus = "dialing"          // a dial is ringing
	LeadQueued          LeadStatus = "queued"           // answered, waiting for an agent
	LeadConnected       LeadStatus = "connected"        // talking to an agent
	LeadRedialScheduled LeadStatus = "redial_scheduled" // will be dialled again at NextAttemptAt
	LeadFinished        LeadStatus = "finished"         // final: reached an agent
	LeadNotPickedUp     LeadStatus = "not_picked_up"    // final: no answer or busy, no redial left
	LeadAbandoned       LeadStatus = "abandoned"        // final: abandoned, no redial left
	LeadVoicemail       LeadStatus = "voicemail"        // final: machine, no redial left
	LeadInvalidNumber   LeadStatus = "invalid_number"   // final: the number does not exist
	LeadDoNotCall       LeadStatus = "do_not_call"      // final: on the DNC list, or consent refused
	LeadSkipped         LeadStatus = "skipped"          // final: skipped (preview), or removed from dialing
	LeadFailed          LeadStatus = "failed"           // final: failed, no redial left
)

// LeadStatuses lists every lead status, in lifecycle order.
var LeadStatuses = []LeadStatus{LeadUpcoming, LeadPreviewing, LeadDialing, LeadQueued, LeadConnected, LeadRedialScheduled,
	LeadFinished, LeadNotPickedUp, LeadAbandoned, LeadVoicemail, LeadInvalidNumber, LeadDoNotCall, LeadSkipped, LeadFailed}

// Final says the lead will not be dialled again.
func (s LeadStatus) Final() bool {
	switch s {
	case LeadUpcoming, LeadPreviewing, LeadDialing, LeadQueued, LeadConnected, LeadRedialScheduled:
		return false
	}
	return true
}

// Lead is one person a campaign calls, or an entry of a reusable contact
// list (CampaignID nil).
type Lead struct {
	ID            int64  `json:"id"`
	TenantID      int64  `json:"tenant_id"`
	CampaignID    *int64 `json:"campaign_id"`
	ContactListID *int64 `json:"contact_list_id"`
	// ExternalID is the lead's id in the system it came from; unique within
	// its campaign or list when set (duplicates are detected by it, or by
	// the phone number when it is empty).
	ExternalID string `json:"external_id" limit:"200"`
	Name       string `json:"name" limit:"200"`
	// PhoneNumber is dialled first; PhoneNumbers are every number, the first
	// being PhoneNumber, dialled in turn attempt by attempt.
	PhoneNumber  string   `json:"phone_number"`
	PhoneNumbers []string `json:"phone_numbers"`
	// TimeZone (IANA) is where calling hours are counted; derived from the
	// number's region when not given.
	TimeZone string            `json:"time_zone"`
	Fields   map[string]string `json:"fields"`
	// Priority orders dialling: higher first, then oldest.
	Priority int `json:"priority"`
	// Consent is the person's consent to be called: true, false (refused:
	// never dialled), or null (unknown: dialled unless the campaign
	// requires consent).
	Consent       *bool       `json:"consent"`
	Status        LeadStatus  `json:"status"`
	Attempts      int         `json:"attempts"`
	LastOutcome   DialOutcome `json:"last_outcome"`
	LastCallID    *int64      `json:"last_call_id"`
	LastAttemptAt *time.Time  `json:"last_attempt_at"`
	NextAttemptAt *time.Time  `json:"next_attempt_at"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
}

// LeadFieldCallerID is the lead field that, set to one of the tenant's
// numbers (E.164), is the caller ID of the lead's dials in place of the
// campaign's (UJET's per-contact outbound_number). A number the tenant does
// not own is not shown: the campaign's is.
const LeadFieldCallerID = "outbound_number"

// DedupeKey is what duplicates of a lead share within a campaign or list.
func (l *Lead) DedupeKey() string {
	if l.ExternalID != "" {
		return "x:" + l.ExternalID
	}
	return "p:" + l.PhoneNumber
}

// ContactList is a reusable list of leads, copied into campaigns.
type ContactList struct {
	ID          int64     `json:"id"`
	TenantID    int64     `json:"tenant_id"`
	Name        string    `json:"name" limit:"200"`
	Description string    `json:"description" limit:"1000"`
	Leads       int       `json:"leads"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Check results of the compliance ledger.
const (
	CheckPass    = "pass"
	CheckBlocked = "blocked"
	CheckNA      = "n/a"
)

// DialChecks are the rules checked before a dial, each pass, blocked or n/a.
type DialChecks struct {
	Emergency     string `json:"emergency"`
	DNC           string `json:"dnc"`
	CallingHours  string `json:"calling_hours"`
	Consent       string `json:"consent"`
	AbandonBudget string `json:"abandon_budget"`
}

// DialAttempt is one row of a campaign's compliance ledger: a dial attempt,
// the rules checked before it and how it ended. Blocked attempts are rows
// too, so the ledger shows every lead the dialer considered and refused.
type DialAttempt struct {
	ID         int64      `json:"id"`
	TenantID   int64      `json:"tenant_id"`
	CampaignID int64      `json:"campaign_id"`
	LeadID     int64      `json:"lead_id"`
	CallID     *int64     `json:"call_id"`
	AgentID    *int64     `json:"agent_id"`
	Number     string     `json:"number"`
	CallerID   string     `json:"caller_id"`
	Mode       string     `json:"mode"`
	At         time.Time  `json:"at"`
	TimeZone   string     `json:"time_zone"`
	LocalTime  string     `json:"local_time"` // At in the lead's zone, RFC 3339
	Checks     DialChecks `json:"checks"`
	// Outcome is empty while the call is up.
	Outcome DialOutcome `json:"outcome"`
	Reason  string      `json:"reason"`
	EndedAt *time.Time  `json:"ended_at"`
	// AbandonRate is the campaign's rolling abandon rate (percent) when
	// the dial was placed.
	AbandonRate float64 `json:"abandon_rate"`
}

// CampaignStats are a campaign's figures: its leads by status and its dial
// outcomes (from the ledger), and, while it runs, what the pacing sees now.
type CampaignStats struct {
	Leads      map[LeadStatus]int `json:"leads"`
	LeadsTotal int                `json:"leads_total"`
	Dials      int                `json:"dials"`
	Connects   int                `json:"connects"`
	Abandons   int                `json:"abandons"`
	Machines   int                `json:"machines"`
	NoAnswers  int                `json:"no_answers"`
	Busy       int                `json:"busy"`
	Failed     int                `json:"failed"`
	Blocked    int                `json:"blocked"`
	// AbandonRate is abandons over person-answered dials, in percent, over
	// the campaign's life; WindowAbandonRate over the last hour.
	AbandonRate       float64 `json:"abandon_rate"`
	WindowAbandonRate float64 `json:"window_abandon_rate"`
	// The live part (zero while the campaign does not run here).
	AgentsOnCampaign int     `json:"agents_on_campaign"`
	AgentsAvailable  int     `json:"agents_available"`
	DialsInProgress  int     `json:"dials_in_progress"`
	PacingRatio      float64 `json:"pacing_ratio"`
}

// ImportJob is a bulk import of leads running in the background.
type ImportJob struct {
	ID            int64  `json:"id"`
	TenantID      int64  `json:"tenant_id"`
	CampaignID    *int64 `json:"campaign_id"`
	ContactListID *int64 `json:"contact_list_id"`
	// Status is running, completed or failed (Error says why).
	Status     string           `json:"status"`
	Format     string           `json:"format"` // json or csv
	Total      int              `json:"total"`
	Processed  int              `json:"processed"`
	Imported   int              `json:"imported"`
	Duplicates int              `json:"duplicates"`
	Rejected   int              `json:"rejected"`
	Errors     []ImportRowError `json:"errors"`
	Error      string           `json:"error"`
	CreatedAt  time.Time        `json:"created_at"`
	FinishedAt *time.Time       `json:"finished_at"`
}

// The import job statuses.
const (
	ImportRunning   = "running"
	ImportCompleted = "completed"
	ImportFailed    = "failed"
)

// MaxImportErrors bounds the row errors an import job keeps.
const MaxImportErrors = 1000

// ImportRowError says why one row of an import was rejected.
type ImportRowError struct {
	Row     int    `json:"row"` // 1-based, the header not counted
	Field   string `json:"field"`
	Message string `json:"message"`
}

// LeadFilter narrows a lead list.
type LeadFilter struct {
	Status LeadStatus // "": any
	// Number keeps the leads whose first number (PhoneNumber) is this
	// E.164 number: how Voiso names the leads an update changes.
	Number string
	// ExternalID keeps the lead with this external id (UJET names a
	// contact by its external_unique_id).
	ExternalID string
}

// LeadImportCooldown is how long after one import into a campaign ends
// another is refused (Voiso's rule); LeadImportLease bounds how long an
// import may hold its campaign if its process dies before releasing it.
const (
	LeadImportCooldown = 2 * time.Second
	LeadImportLease    = 10 * time.Minute
)

// LeadTarget names where leads go: a campaign or a contact list.
type LeadTarget struct {
	CampaignID    int64
	ContactListID int64
	// UniquePhone also takes a lead whose phone number a lead of the
	// campaign or list (or an earlier one of the batch) has for a
	// duplicate, whatever its external id: UJET's rule for a campaign's
	// contacts. Without it duplicates share the dedupe key alone.
	UniquePhone bool
}

// InsertLeadsResult counts what an insert of leads did.
type InsertLeadsResult struct {
	Inserted   int
	Duplicates []int // the indexes (in the batch) of leads already present
	// DuplicateFields names, for each of Duplicates, what it shares with a
	// lead already present: phone_number or external_id.
	DuplicateFields []string
}

// LeadCount is how many of a campaign's leads stand in Status after an
// attempt that ended in Outcome ("" before any), their last call
// transferred or not (Transfer).
type LeadCount struct {
	Status  LeadStatus
	Outcome DialOutcome
	// Transfer is "" when the lead's last call was not transferred,
	// TransferOpen while the call it was transferred to goes on,
	// TransferEnded once that call ended.
	Transfer string
	Count    int
}

// The states of a lead's transferred call (LeadCount.Transfer,
// LeadTransfers).
const (
	TransferOpen  = "open"
	TransferEnded = "ended"
)

// AttemptFilter narrows the ledger.
type AttemptFilter struct {
	Since, Until time.Time // zero: open
	LeadID       int64
}

// CampaignStore is the persistent side of campaigns. Like every Store method,
// each checks the tenant and writes the change with its event.
type CampaignStore interface {
	CreateCampaign(ctx context.Context, tenantID int64, c Campaign) (Campaign, error)
	Campaign(ctx context.Context, tenantID, id int64) (Campaign, error)
	Campaigns(ctx context.Context, tenantID int64, opt ListOptions) (Page[Campaign], error)
	// UpdateCampaignFunc is the read-modify-write update (see the Update…Func
	// methods of Store); the status is not changed by it.
	UpdateCampaignFunc(ctx context.Context, tenantID, id int64, fn func(*Campaign) error) (Campaign, error)
	// DeleteCampaign removes a campaign that is not started, with its leads
	// and ledger (CodeConflict while it runs).
	DeleteCampaign(ctx context.Context, tenantID, id int64) error
	// SetCampaignStatus moves a campaign to status `to` when its status is one
	// of from (CodeConflict otherwise), with its campaign.<to> event.
	SetCampaignStatus(ctx context.Context, tenantID, id int64, from []CampaignStatus, to CampaignStatus) (Campaign, error)
	// RunningCampaigns lists every tenant's started campaigns, for the
	// dialer's start.
	RunningCampaigns(ctx context.Context) ([]Campaign, error)

	CreateContactList(ctx context.Context, tenantID int64, l ContactList) (ContactList, error)
	ContactList(ctx context.Context, tenantID, id int64) (ContactList, error)
	ContactLists(ctx context.Context, tenantID int64, opt ListOptions) (Page[ContactList], error)
	UpdateContactListFunc(ctx context.Context, tenantID, id int64, fn func(*ContactList) error) (ContactList, error)
	DeleteContactList(ctx context.Context, tenantID, id int64) error
	// CopyContactList copies a list's leads into a campaign as upcoming leads,
	// skipping those already in it; it returns how many it copied.
	CopyContactList(ctx context.Context, tenantID, listID, campaignID int64) (int, error)

	// InsertLeads adds leads (validated and normalized by the caller) to a
	// campaign or list in one transaction, skipping duplicates of leads
	// already there or earlier in the batch.
	InsertLeads(ctx context.Context, tenantID int64, to LeadTarget, leads []Lead) (InsertLeadsResult, error)
	// AddCampaignLeads is InsertLeads into a campaign as one import, which
	// Voiso runs alone: while another import into the campaign runs, and
	// for LeadImportCooldown after it ends however it ended, it is refused
	// with CodeConflict naming campaign_id. The claim is held in the store,
	// so the rule holds across processes; one whose process died lapses
	// after LeadImportLease.
	AddCampaignLeads(ctx context.Context, tenantID, campaignID int64, leads []Lead) (InsertLeadsResult, error)
	Lead(ctx context.Context, tenantID, id int64) (Lead, error)
	Leads(ctx context.Context, tenantID int64, to LeadTarget, f LeadFilter, opt ListOptions) (Page[Lead], error)
	// UpdateLeadFunc changes a lead's own fields (name, numbers, zone,
	// fields, priority, consent, and status only to skipped or back to
	// upcoming); the dialer's progress goes through SaveDialProgress.
	UpdateLeadFunc(ctx context.Context, tenantID, id int64, fn func(*Lead) error) (Lead, error)
	DeleteLead(ctx context.Context, tenantID, id int64) error
	// DialableLeads reads up to limit leads of a started campaign that may be
	// dialled at now: upcoming or redial_scheduled, with NextAttemptAt null
	// or ≤ now (the dialer defers a lead outside its calling hours by setting
	// it), highest priority first, then oldest.
	DialableLeads(ctx context.Context, tenantID, campaignID int64, now time.Time, limit int) ([]Lead, error)
	// SaveDialProgress writes the dialer's changes in one transaction: each
	// lead's dial state, the ledger rows new (ID 0) or updated (ID set,
	// outcome filled), returning the new rows' ids in order.
	SaveDialProgress(ctx context.Context, tenantID int64, leads []Lead, attempts []DialAttempt) ([]int64, error)
	// Attempts reads a campaign's ledger, oldest first.
	Attempts(ctx context.Context, tenantID, campaignID int64, f AttemptFilter, opt ListOptions) (Page[DialAttempt], error)
	// EachAttempt streams the ledger rows f selects, oldest first (CSV export).
	EachAttempt(ctx context.Context, tenantID, campaignID int64, f AttemptFilter, fn func(*DialAttempt) error) error
	// LeadCounts counts a campaign's leads by status and last outcome, for
	// the dialects that tell more statuses than the core's (UJET's contact
	// statuses tell an abandon by the dialer from one by the person).
	LeadCounts(ctx context.Context, tenantID, campaignID int64) ([]LeadCount, error)
	// LeadTransfers says, of the calls callIDs (leads' last calls), which
	// an agent transferred (the call ended "transferred" and a call
	// continues it, linked by ParentID): TransferOpen while that call goes
	// on, TransferEnded once it ended. Calls not transferred are absent.
	LeadTransfers(ctx context.Context, tenantID int64, callIDs []int64) (map[int64]string, error)
	// CampaignCounts fills the stored part of a campaign's stats: leads by
	// status and outcomes from the ledger (Since zero: all; it bounds the
	// window abandon rate otherwise).
	CampaignCounts(ctx context.Context, tenantID, campaignID int64, windowSince time.Time) (CampaignStats, error)
	// OpenAttempts lists ledger rows that have not ended (no outcome yet,
	// or connected and still talking), every tenant's, for the recovery of
	// a cut run.
	OpenAttempts(ctx context.Context) ([]DialAttempt, error)

	CreateImportJob(ctx context.Context, tenantID int64, j ImportJob) (ImportJob, error)
	UpdateImportJob(ctx context.Context, j ImportJob) error
	ImportJob(ctx context.Context, tenantID, id int64) (ImportJob, error)
	// FailRunningImports marks jobs left running by a cut run as failed.
	FailRunningImports(ctx context.Context, reason string) (int, error)
}

// Dialer is the service that runs campaigns: every dialect's campaign
// lifecycle, live stats, imports and preview actions go through it.
type Dialer interface {
	// Start, Pause, Resume and Stop move a campaign through its lifecycle
	// (CodeConflict for a move its status does not allow).
	StartCampaign(ctx context.Context, tenantID, id int64) (Campaign, error)
	PauseCampaign(ctx context.Context, tenantID, id int64) (Campaign, error)
	ResumeCampaign(ctx context.Context, tenantID, id int64) (Campaign, error)
	StopCampaign(ctx context.Context, tenantID, id int64) (Campaign, error)
	// CampaignStats is the stored stats with the live part of a running
	// campaign.
	CampaignStats(ctx context.Context, tenantID, id int64) (CampaignStats, error)
	// ImportLeads starts a background import of a JSON array or CSV body
	// (format "json" or "csv") into a campaign or list and returns the job.
	ImportLeads(ctx context.Context, tenantID int64, to LeadTarget, format string, body []byte) (ImportJob, error)
	// Preview is the lead offered to an agent in a preview campaign (ok
	// false when none); AcceptPreview and SkipPreview answer it.
	Preview(ctx context.Context, tenantID, agentID int64) (PreviewOffer, bool, error)
	AcceptPreview(ctx context.Context, tenantID, agentID, leadID int64) (PreviewOffer, error)
	SkipPreview(ctx context.Context, tenantID, agentID, leadID int64) error
}

// PreviewOffer is a lead offered to an agent in a preview campaign.
type PreviewOffer struct {
	CampaignID int64     `json:"campaign_id"`
	AgentID    int64     `json:"agent_id"`
	Lead       Lead      `json:"lead"`
	OfferedAt  time.Time `json:"offered_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	// TimeoutAction is what happens at ExpiresAt: dial or skip.
	TimeoutAction string `json:"timeout_action"`
	// CallID is the call placed once the offer was accepted.
	CallID *int64 `json:"call_id"`
}
