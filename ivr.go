package switchboard

import (
	"regexp"
	"strings"
	"time"
)

// IVRMenu is a voice menu a number can route to: the caller hears Prompt and
// keys a digit, and the digit's option decides where the call goes (a queue,
// an agent, another menu), or that the menu repeats or the call ends. The call
// engine runs it, so it behaves the same on every telephony driver.
//
// No digit within TimeoutSeconds of the prompt starting takes TimeoutAction; a
// digit no option lists takes InvalidAction. Every "repeat" plays the prompt
// again, and once the menu has been repeated MaxRepeats times the next repeat
// takes FinalAction instead, so a caller who never chooses does not hold a
// line for ever.
type IVRMenu struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"tenant_id"`
	Name     string `json:"name"`
	// Prompt names what is played: the driver looks the name up among the
	// tenant's prompts and falls back to a generated default (see
	// engine.PromptMedia for the media name the driver is given).
	Prompt         string      `json:"prompt"`
	Options        []IVROption `json:"options"`
	TimeoutSeconds int         `json:"timeout_seconds"`
	TimeoutAction  IVRAction   `json:"timeout_action"`
	InvalidAction  IVRAction   `json:"invalid_action"`
	MaxRepeats     int         `json:"max_repeats"`
	FinalAction    IVRAction   `json:"final_action"`
	CreatedAt      time.Time   `json:"created_at"`
	UpdatedAt      time.Time   `json:"updated_at"`
}

// IVRActionType is what a menu does with the call.
type IVRActionType string

// The menu actions.
const (
	IVRToQueue IVRActionType = "queue"  // the call joins QueueID
	IVRToUser  IVRActionType = "user"   // the call rings UserID's phone (missed if they do not answer)
	IVRToMenu  IVRActionType = "menu"   // the caller hears MenuID
	IVRRepeat  IVRActionType = "repeat" // the prompt plays again
	IVRHangup  IVRActionType = "hangup" // the call ends
)

// IVRAction is one decision of a menu. Only the target of its type is set.
type IVRAction struct {
	Action  IVRActionType `json:"action"`
	QueueID *int64        `json:"queue_id,omitempty"`
	UserID  *int64        `json:"user_id,omitempty"`
	MenuID  *int64        `json:"menu_id,omitempty"`
}

// IVROption is what one digit of a menu does.
type IVROption struct {
	// Digit is one of 0-9, * and #.
	Digit string `json:"digit"`
	IVRAction
}

// The bounds of a menu.
const (
	MaxIVROptions        = 12 // 0-9, * and #: one option per key
	MaxIVRRepeats        = 10
	MaxIVRTimeoutSeconds = 60
	DefaultIVRTimeout    = 10 // seconds
	DefaultIVRPrompt     = "default"
)

// promptPattern keeps prompt names safe to use as file names and in media
// names: 1-40 letters, digits, '-', '_' and '.', starting with a letter or
// digit.
var promptPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$`)

// Normalize fills the defaults a new menu gets: the default prompt, a 10 s
// timeout, and "repeat" for timeouts and invalid digits with "hangup" as the
// final action. MaxRepeats has no default: 0 is a valid choice (no repeat, the
// first repeat takes the final action).
func (m *IVRMenu) Normalize() {
	m.Name = strings.TrimSpace(m.Name)
	m.Prompt = strings.TrimSpace(m.Prompt)
	if m.Prompt == "" {
		m.Prompt = DefaultIVRPrompt
	}
	if m.TimeoutSeconds == 0 {
		m.TimeoutSeconds = DefaultIVRTimeout
	}
	if m.TimeoutAction.Action == "" {
		m.TimeoutAction.Action = IVRRepeat
	}
	if m.InvalidAction.Action == "" {
		m.InvalidAction.Action = IVRRepeat
	}
	if m.FinalAction.Action == "" {
		m.FinalAction.Action = IVRHangup
	}
	if m.Options == nil {
		m.Options = []IVROption{}
	}
}

// Validate reports every invalid field of m. Whether the queues, users and
// menus it names exist in the tenant is the store's to check.
func (m *IVRMenu) Validate() error {
	p := Problems{}
	checkName(p, "name", m.Name, true)
	if !promptPattern.MatchString(m.Prompt) {
		p.Add("prompt", "must be 1-40 letters, digits, '-', '_' or '.', starting with a letter or digit")
	}
	checkRange(p, "timeout_seconds", m.TimeoutSeconds, 1, MaxIVRTimeoutSeconds)
	checkRange(p, "max_repeats", m.MaxRepeats, 0, MaxIVRRepeats)
	checkItems(p, "options", len(m.Options), MaxIVROptions)
	seen := map[string]bool{}
	for _, o := range m.Options {
		if len(o.Digit) != 1 || !strings.Contains("0123456789*#", o.Digit) {
			p.Add("options", "each option's digit must be one of 0-9, * and #")
		} else if seen[o.Digit] {
			p.Add("options", "lists digit "+o.Digit+" twice")
		}
		seen[o.Digit] = true
		m.checkAction(p, "options", o.IVRAction)
	}
	m.checkAction(p, "timeout_action", m.TimeoutAction)
	m.checkAction(p, "invalid_action", m.InvalidAction)
	m.checkAction(p, "final_action", m.FinalAction)
	if m.FinalAction.Action == IVRRepeat {
		p.Add("final_action", "cannot be repeat: it is what happens when repeats run out")
	}
	return p.Err()
}

// checkAction reports an action without its target, or with a target of
// another type.
func (m *IVRMenu) checkAction(p Problems, field string, a IVRAction) {
	set := 0
	for _, id := range []*int64{a.QueueID, a.UserID, a.MenuID} {
		if id != nil {
			set++
		}
	}
	need := func(id *int64, name string) {
		switch {
		case id == nil || *id <= 0:
			p.Add(field, "a "+string(a.Action)+" action needs "+name)
		case set > 1:
			p.Add(field, "a "+string(a.Action)+" action takes "+name+" only")
		}
	}
	switch a.Action {
	case IVRToQueue:
		need(a.QueueID, "queue_id")
	case IVRToUser:
		need(a.UserID, "user_id")
	case IVRToMenu:
		need(a.MenuID, "menu_id")
		if a.MenuID != nil && m.ID != 0 && *a.MenuID == m.ID {
			p.Add(field, "cannot lead to the menu itself: use repeat")
		}
	case IVRRepeat, IVRHangup:
		if set > 0 {
			p.Add(field, "a "+string(a.Action)+" action takes no queue_id, user_id or menu_id")
		}
	default:
		p.Add(field, "action must be one of queue, user, menu, repeat, hangup")
	}
}

// Option returns the option of digit, if the menu has one.
func (m *IVRMenu) Option(digit byte) (IVRAction, bool) {
	for _, o := range m.Options {
		if len(o.Digit) == 1 && o.Digit[0] == digit {
			return o.IVRAction, true
		}
	}
	return IVRAction{}, false
}

// Actions lists every action of the menu (options, timeout, invalid, final),
// for the checks that follow their targets.
func (m *IVRMenu) Actions() []IVRAction {
	out := make([]IVRAction, 0, len(m.Options)+3)
	for _, o := range m.Options {
		out = append(out, o.IVRAction)
	}
	return append(out, m.TimeoutAction, m.InvalidAction, m.FinalAction)
}
