package switchboard

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Roles a user can hold. An agent takes interactions; a supervisor also watches
// and steers them; an admin manages the tenant's configuration.
const (
	RoleAgent      = "agent"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// Roles lists every role name accepted on a user.
var Roles = []string{RoleAgent, RoleSupervisor, RoleAdmin}

// User is a person who signs in to Switchboard, usually an agent. Users are never
// deleted, only deactivated, because calls and reports keep pointing at them.
type User struct {
	ID             int64       `json:"id"`
	TenantID       int64       `json:"tenant_id"`
	UUID           string      `json:"uuid"`
	Email          string      `json:"email"`
	FirstName      string      `json:"first_name"`
	LastName       string      `json:"last_name"`
	AgentNumber    string      `json:"agent_number"`
	Extension      string      `json:"extension"`
	Location       string      `json:"location"`
	Roles          []string    `json:"roles"`
	TeamIDs        []int64     `json:"team_ids"`
	Skills         []UserSkill `json:"skills"`
	MaxChats       int         `json:"max_chats"`
	PhoneNumbers   []string    `json:"phone_numbers"`
	OutboundNumber string      `json:"outbound_number"`
	TimeZone       string      `json:"time_zone"`
	SIPUsername    string      `json:"sip_username"`
	// ClickToCallDisabled withholds the click-to-call permission.
	ClickToCallDisabled bool `json:"click_to_call_disabled"`
	// VoicemailEnabled lets callers the user misses leave a message;
	// ForwardEnabled sends the user's direct calls to ForwardNumber (E.164).
	VoicemailEnabled bool   `json:"voicemail_enabled"`
	ForwardEnabled   bool   `json:"forward_enabled"`
	ForwardNumber    string `json:"forward_number"`
	// SIPPassword sets a new password for the agent's phone: the store keeps
	// only its digest hashes (SIPAccount) and never returns it, so it is
	// empty on every user read back and write-only on every API.
	SIPPassword   string     `json:"-"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	DeactivatedAt *time.Time `json:"deactivated_at"`
	// Presence is the user's presence as the row stood when it was read, so
	// that a page of users needs no presence read per user. It is read-only:
	// writes ignore it (SetPresence changes it), and it stays off the wire
	// and out of the user.* events, whose payloads predate it and which
	// would otherwise carry a presence that agent.status_changed owns.
	Presence Presence `json:"-"`
}

// UserSkill is a skill held by a user with a proficiency from 0 (novice) to 5
// (expert); skills-based routing offers calls to the most proficient first.
type UserSkill struct {
	SkillID     int64 `json:"skill_id"`
	Proficiency int   `json:"proficiency" range:"0,5"`
}

// MaxProficiency is the highest skill proficiency.
const MaxProficiency = 5

var (
	dialablePattern = regexp.MustCompile(`^[0-9*#]{1,20}$`)
	sipUserPattern  = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,64}$`)
)

// Name is the user's display name.
func (u *User) Name() string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// Normalize trims input and fills defaults; Validate expects a normalized user.
func (u *User) Normalize() {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	u.FirstName = strings.TrimSpace(u.FirstName)
	u.LastName = strings.TrimSpace(u.LastName)
	u.AgentNumber = strings.TrimSpace(u.AgentNumber)
	u.Extension = strings.TrimSpace(u.Extension)
	u.Location = strings.TrimSpace(u.Location)
	if len(u.Roles) == 0 {
		u.Roles = []string{RoleAgent}
	}
	if u.TeamIDs == nil {
		u.TeamIDs = []int64{}
	}
	if u.Skills == nil {
		u.Skills = []UserSkill{}
	}
	if u.PhoneNumbers == nil {
		u.PhoneNumbers = []string{}
	}
	if u.MaxChats == 0 {
		u.MaxChats = 3
	}
	if u.SIPUsername == "" && u.Extension != "" {
		u.SIPUsername = u.Extension
	}
}

// Validate reports every invalid field of u. Phone numbers are checked for shape
// here and normalized to E.164 by the store's number parser.
func (u *User) Validate() error {
	p := Problems{}
	if u.Email == "" {
		p.Add("email", "is required")
	} else {
		checkEmail(p, "email", u.Email)
	}
	checkName(p, "first_name", u.FirstName, false)
	checkName(p, "last_name", u.LastName, false)
	if u.FirstName == "" && u.LastName == "" {
		p.Add("first_name", "is required unless last_name is given")
	}
	if u.Extension != "" && !dialablePattern.MatchString(u.Extension) {
		p.Add("extension", "must be 1-20 digits")
	}
	if len(u.AgentNumber) > 32 {
		p.Add("agent_number", "must be at most 32 characters")
	}
	checkName(p, "location", u.Location, false)
	checkItems(p, "roles", len(u.Roles), len(Roles))
	for _, r := range u.Roles {
		if !contains(Roles, r) {
			p.Add("roles", "must contain only "+strings.Join(Roles, ", "))
		}
	}
	checkItems(p, "team_ids", len(u.TeamIDs), MaxUserTeams)
	checkItems(p, "skills", len(u.Skills), MaxSkills)
	checkItems(p, "phone_numbers", len(u.PhoneNumbers), MaxUserNumbers)
	for i, n := range u.PhoneNumbers {
		checkLen(p, "phone_numbers["+strconv.Itoa(i)+"]", n, MaxNumberLength)
	}
	checkLen(p, "outbound_number", u.OutboundNumber, MaxNumberLength)
	checkLen(p, "sip_password", u.SIPPassword, MaxSecretLength)
	seen := map[int64]bool{}
	for _, s := range u.Skills {
		if s.SkillID <= 0 {
			p.Add("skills", "each skill needs a skill_id")
		}
		if s.Proficiency < 0 || s.Proficiency > MaxProficiency {
			p.Add("skills", "proficiency must be between 0 and 5")
		}
		if seen[s.SkillID] {
			p.Add("skills", "lists a skill twice")
		}
		seen[s.SkillID] = true
	}
	if u.MaxChats < 0 || u.MaxChats > 50 {
		p.Add("max_chats", "must be between 0 and 50")
	}
	checkTimezone(p, "time_zone", u.TimeZone)
	if u.ForwardNumber != "" && !IsE164(u.ForwardNumber) {
		p.Add("forward_number", "must be in E.164 format, such as +15551234567")
	}
	if u.ForwardEnabled && u.ForwardNumber == "" {
		p.Add("forward_number", "is required when forward_enabled is set")
	}
	if u.SIPUsername != "" && !sipUserPattern.MatchString(u.SIPUsername) {
		p.Add("sip_username", "must be 1-64 letters, digits or ._~-")
	}
	if u.SIPPassword != "" && u.SIPUsername == "" {
		p.Add("sip_password", "needs a sip_username (or an extension, its default): the password is hashed with it")
	}
	return p.Err()
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
