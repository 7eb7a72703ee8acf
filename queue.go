package switchboard

import (
	"strconv"
	"strings"
	"time"
)

// Strategy decides which agent of a queue is offered the next call.
type Strategy string

// The queue strategies, named as Asterisk names them since most contact-center
// staff know them by those names.
const (
	StrategyRingAll     Strategy = "ringall"     // ring every available agent; the first to answer wins
	StrategyLeastRecent Strategy = "leastrecent" // the agent idle the longest since their last call
	StrategyFewestCalls Strategy = "fewestcalls" // the agent who answered the fewest calls today
	StrategyRandom      Strategy = "random"      // a uniformly random available agent
	StrategyRRMemory    Strategy = "rrmemory"    // round robin, remembering where it stopped
	StrategyLinear      Strategy = "linear"      // members in their listed order, every time
	StrategyWRandom     Strategy = "wrandom"     // random, weighted down by penalty
)

// Strategies lists every valid Strategy.
var Strategies = []Strategy{StrategyRingAll, StrategyLeastRecent, StrategyFewestCalls,
	StrategyRandom, StrategyRRMemory, StrategyLinear, StrategyWRandom}

// Channel is the kind of interaction a queue distributes.
type Channel string

// The queue channels.
const (
	ChannelVoice Channel = "voice"
	ChannelChat  Channel = "chat"
)

// Queue distributes waiting interactions to its member agents. Queues with a
// ParentID form menu trees (an IVR choice leads to a sub-queue).
type Queue struct {
	ID        int64    `json:"id"`
	TenantID  int64    `json:"tenant_id"`
	UUID      string   `json:"uuid"`
	Name      string   `json:"name"`
	Extension string   `json:"extension"`
	Strategy  Strategy `json:"strategy"`
	// TimeoutSeconds is how long one agent rings before the next try.
	TimeoutSeconds int `json:"timeout_seconds"`
	// RetrySeconds is the pause between two rounds of ringing.
	RetrySeconds int `json:"retry_seconds"`
	// WrapUpSeconds is the after-call time before an agent is offered again.
	WrapUpSeconds int `json:"wrap_up_seconds"`
	// MaxLength caps how many callers may wait; 0 means no cap.
	MaxLength int `json:"max_length"`
	// MaxWaitSeconds ends a call that has waited this long without an agent
	// (hang-up cause CauseQueueTimeout); 0 lets callers wait for ever.
	MaxWaitSeconds int `json:"max_wait_seconds"`
	// JoinEmpty lets callers join when no member is signed in.
	JoinEmpty bool `json:"join_empty"`
	// LeaveWhenEmpty sends waiting callers on when the last member signs out.
	LeaveWhenEmpty bool `json:"leave_when_empty"`
	// RingInUse offers calls to agents already on a call.
	RingInUse bool `json:"ring_in_use"`
	// OverflowToCallback turns callers who find the queue full into
	// callbacks, dialled back when their turn would have come, instead of
	// refusing them.
	OverflowToCallback bool   `json:"overflow_to_callback"`
	MusicOnHold        string `json:"music_on_hold"`
	// ServiceLevelSeconds is the answer time that counts towards the service level.
	ServiceLevelSeconds int          `json:"service_level_seconds"`
	Channel             Channel      `json:"channel"`
	Language            string       `json:"language"`
	ParentID            *int64       `json:"parent_id"`
	RequiredSkills      []QueueSkill `json:"required_skills"`
	// MenuType is how the app-style dialects (UJET) show the queue in their
	// menu trees: ivr_menu, mobile_menu or web_menu. Empty shows a voice
	// queue as an IVR menu and a chat queue as a web menu.
	MenuType string `json:"menu_type"`
	// Hours are when the queue takes interactions (nil: always). Outside
	// them callers are refused, or offered voicemail when VoicemailEnabled.
	Hours *OperatingHours `json:"hours"`
	// VoicemailEnabled offers callers who find the queue closed or full, or
	// who waited MaxWaitSeconds, to leave a voicemail instead.
	VoicemailEnabled bool `json:"voicemail_enabled"`
	// CallbackSlotMinutes divides the day into periods for scheduled
	// callbacks, each taking at most CallbackSlotCapacity of them (0: no
	// limit); 0 minutes means periods of 15 minutes.
	CallbackSlotMinutes  int       `json:"callback_slot_minutes" range:"0,1440"`
	CallbackSlotCapacity int       `json:"callback_slot_capacity" range:"0,100000"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`
}

// QueueSkill is a skill a queue requires, with the lowest proficiency accepted.
type QueueSkill struct {
	SkillID        int64 `json:"skill_id"`
	MinProficiency int   `json:"min_proficiency" range:"0,5"`
}

// QueueMember puts an agent in a queue. Agents with a lower penalty are offered
// calls before those with a higher one (penalty tiers).
type QueueMember struct {
	QueueID int64 `json:"queue_id"`
	UserID  int64 `json:"user_id"`
	Penalty int   `json:"penalty"`
	// Position orders members as they joined; the linear strategy rings them
	// in this order.
	Position  int       `json:"position"`
	CreatedAt time.Time `json:"created_at"`
}

// Normalize fills the defaults a new queue gets.
func (q *Queue) Normalize() {
	q.Name = strings.TrimSpace(q.Name)
	q.Extension = strings.TrimSpace(q.Extension)
	if q.Strategy == "" {
		q.Strategy = StrategyRingAll
	}
	if q.TimeoutSeconds == 0 {
		q.TimeoutSeconds = 20
	}
	if q.RetrySeconds == 0 {
		q.RetrySeconds = 5
	}
	if q.ServiceLevelSeconds == 0 {
		q.ServiceLevelSeconds = 20
	}
	if q.Channel == "" {
		q.Channel = ChannelVoice
	}
	if q.MusicOnHold == "" {
		q.MusicOnHold = "default"
	}
	if q.RequiredSkills == nil {
		q.RequiredSkills = []QueueSkill{}
	}
}

// Validate reports every invalid field of q.
func (q *Queue) Validate() error {
	p := Problems{}
	checkName(p, "name", q.Name, true)
	if q.Extension != "" && !dialablePattern.MatchString(q.Extension) {
		p.Add("extension", "must be 1-20 digits")
	}
	if !contains(Strategies, q.Strategy) {
		p.Add("strategy", "must be one of ringall, leastrecent, fewestcalls, random, rrmemory, linear, wrandom")
	}
	checkRange(p, "timeout_seconds", q.TimeoutSeconds, 1, 600)
	checkRange(p, "retry_seconds", q.RetrySeconds, 0, 600)
	checkRange(p, "wrap_up_seconds", q.WrapUpSeconds, 0, 3600)
	checkRange(p, "max_length", q.MaxLength, 0, 10000)
	checkRange(p, "max_wait_seconds", q.MaxWaitSeconds, 0, 86400)
	checkRange(p, "service_level_seconds", q.ServiceLevelSeconds, 1, 3600)
	if q.Channel != ChannelVoice && q.Channel != ChannelChat {
		p.Add("channel", "must be voice or chat")
	}
	if len(q.Language) > 16 {
		p.Add("language", "must be a language tag such as en or it-IT")
	}
	checkName(p, "music_on_hold", q.MusicOnHold, false)
	switch q.MenuType {
	case "", "ivr_menu", "mobile_menu", "web_menu":
	default:
		p.Add("menu_type", "must be ivr_menu, mobile_menu or web_menu (or empty)")
	}
	q.Hours.check("hours", p)
	checkRange(p, "callback_slot_minutes", q.CallbackSlotMinutes, 0, 1440)
	checkRange(p, "callback_slot_capacity", q.CallbackSlotCapacity, 0, 100000)
	checkItems(p, "required_skills", len(q.RequiredSkills), MaxSkills)
	if q.ParentID != nil && q.ID != 0 && *q.ParentID == q.ID {
		p.Add("parent_id", "cannot be the queue itself")
	}
	seen := map[int64]bool{}
	for _, s := range q.RequiredSkills {
		if s.SkillID <= 0 {
			p.Add("required_skills", "each skill needs a skill_id")
		}
		if s.MinProficiency < 0 || s.MinProficiency > MaxProficiency {
			p.Add("required_skills", "min_proficiency must be between 0 and 5")
		}
		if seen[s.SkillID] {
			p.Add("required_skills", "lists a skill twice")
		}
		seen[s.SkillID] = true
	}
	return p.Err()
}

// Validate reports every invalid field of m.
func (m *QueueMember) Validate() error {
	p := Problems{}
	if m.UserID <= 0 {
		p.Add("user_id", "is required")
	}
	checkRange(p, "penalty", m.Penalty, 0, 100)
	return p.Err()
}

func checkRange(p Problems, field string, v, lo, hi int) {
	if v < lo || v > hi {
		p.Add(field, "must be between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
	}
}
