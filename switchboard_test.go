package switchboard_test

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
)

// fieldsOf returns the sorted field names an error names.
func fieldsOf(err error) []string {
	var e *switchboard.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for k := range e.Fields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		v    interface {
			Validate() error
		}
		want []string // the fields named; nil means valid
	}{
		{"good tenant", &switchboard.Tenant{Slug: "acme-1", Name: "Acme", Timezone: "Europe/Rome", Currency: "EUR"}, nil},
		{"bad tenant", &switchboard.Tenant{Slug: "-acme", AdminEmail: "boss", Timezone: "Nowhere/City", Currency: "eu"},
			[]string{"admin_email", "currency", "name", "slug", "timezone"}},
		{"good user", &switchboard.User{Email: "a@b.co", FirstName: "A", Extension: "1001", Roles: []string{"agent"},
			Skills: []switchboard.UserSkill{{SkillID: 1, Proficiency: 5}}}, nil},
		{"last name alone is a name", &switchboard.User{Email: "a@b.co", LastName: "B"}, nil},
		{"bad user", &switchboard.User{Email: "Ann <a@b.co>", Extension: "10a", Roles: []string{"root"}, MaxChats: 99,
			Skills: []switchboard.UserSkill{{SkillID: 1, Proficiency: 6}, {SkillID: 1}}, SIPUsername: "a b", TimeZone: "Mars"},
			[]string{"email", "extension", "first_name", "max_chats", "roles", "sip_username", "skills", "time_zone"}},
		{"good queue", &switchboard.Queue{Name: "Q", Strategy: switchboard.StrategyWRandom, TimeoutSeconds: 15,
			ServiceLevelSeconds: 20, Channel: switchboard.ChannelChat}, nil},
		{"bad queue", &switchboard.Queue{Strategy: "first", TimeoutSeconds: -5, RetrySeconds: -1, WrapUpSeconds: 4000,
			MaxLength: -1, ServiceLevelSeconds: -1, Channel: "fax", Language: "a-very-long-language-tag",
			RequiredSkills: []switchboard.QueueSkill{{SkillID: 0, MinProficiency: 9}}},
			[]string{"channel", "language", "max_length", "name", "required_skills", "retry_seconds", "service_level_seconds",
				"strategy", "timeout_seconds", "wrap_up_seconds"}},
		{"queue member", &switchboard.QueueMember{Penalty: 101}, []string{"penalty", "user_id"}},
		{"custom status", &switchboard.AgentStatus{Name: "Lunch"}, nil},
		{"status shadowing a system one", &switchboard.AgentStatus{Name: "in-call"}, []string{"name"}},
		{"team", &switchboard.Team{Name: " "}, []string{"name"}},
		{"skill", &switchboard.Skill{Name: "Italian"}, nil},
		{"number with two targets", &switchboard.PhoneNumber{Input: "+15550001111", UserID: new(int64), QueueID: new(int64)}, []string{"queue_id"}},
		{"number missing", &switchboard.PhoneNumber{}, []string{"number"}},
		{"key scopes", &switchboard.APIKey{Scopes: []string{"users.read", "launch.missiles"}}, []string{"scopes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n, ok := tt.v.(interface{ Normalize() }); ok {
				n.Normalize()
			}
			err := tt.v.Validate()
			if diff := cmp.Diff(tt.want, fieldsOf(err)); diff != "" {
				t.Errorf("Validate() = %v; fields (-want +got):\n%s", err, diff)
			}
			if err != nil && switchboard.ErrorCode(err) != switchboard.CodeInvalid {
				t.Errorf("code %q, want invalid", switchboard.ErrorCode(err))
			}
		})
	}
}

func TestNormalizeDefaults(t *testing.T) {
	q := switchboard.Queue{Name: " Sales "}
	q.Normalize()
	if q.Name != "Sales" || q.Strategy != switchboard.StrategyRingAll || q.TimeoutSeconds != 20 || q.Channel != switchboard.ChannelVoice {
		t.Errorf("queue defaults = %+v", q)
	}
	u := switchboard.User{Email: " Ann@Example.COM ", Extension: "1001"}
	u.Normalize()
	if u.Email != "ann@example.com" || u.SIPUsername != "1001" || len(u.Roles) != 1 || u.Roles[0] != switchboard.RoleAgent {
		t.Errorf("user defaults = %+v", u)
	}
	k := switchboard.APIKey{}
	if err := k.Validate(); err != nil || !k.Allows(switchboard.ScopeKeysManage) {
		t.Errorf("a key without scopes must get every scope: %v %v", k.Scopes, err)
	}
}

func TestAPIKeyUsable(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Second)
	for _, tt := range []struct {
		k    switchboard.APIKey
		want bool
	}{
		{switchboard.APIKey{}, true},
		{switchboard.APIKey{ExpiresAt: &future}, true},
		{switchboard.APIKey{ExpiresAt: &past}, false},
		{switchboard.APIKey{ExpiresAt: &now}, false},
		{switchboard.APIKey{RevokedAt: &past}, false},
	} {
		if got := tt.k.Usable(now); got != tt.want {
			t.Errorf("Usable(%+v) = %v, want %v", tt.k, got, tt.want)
		}
	}
}

func TestErrors(t *testing.T) {
	p := switchboard.Problems{}
	p.Add("email", "is required")
	p.Add("email", "is too long")
	err := fmt.Errorf("create user: %w", p.Err())
	if got, want := err.Error(), "create user: invalid: validation failed (email is required)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if switchboard.ErrorCode(err) != switchboard.CodeInvalid || switchboard.ErrorMessage(err) != "validation failed" {
		t.Errorf("wrapped error lost its code or message")
	}
	leak := errors.New("pq: relation users does not exist")
	if switchboard.ErrorCode(leak) != switchboard.CodeInternal || switchboard.ErrorMessage(leak) != "internal error" {
		t.Errorf("foreign errors must be internal and hidden")
	}
	if (switchboard.Problems{}).Err() != nil || switchboard.ErrorCode(nil) != "" {
		t.Errorf("no problems must be no error")
	}
	opt := switchboard.ListOptions{}
	if err := opt.Validate(); err != nil || opt.Limit != switchboard.DefaultPageLimit {
		t.Errorf("default list options: %+v %v", opt, err)
	}
}

func TestBuildInfo(t *testing.T) {
	got := switchboard.BuildInfo()
	if !strings.HasPrefix(got, switchboard.Version+" (commit ") || !strings.HasSuffix(got, ", "+runtime.Version()+")") {
		t.Errorf("BuildInfo() = %q", got)
	}
}

// TestVoisoScopes checks Voiso's scope names as core scopes: a narrow key
// reaches only its own name, the native scope covering a name grants it, and
// a user key never carries one, whatever its list says.
func TestVoisoScopes(t *testing.T) {
	narrow := switchboard.APIKey{Scopes: []string{switchboard.ScopeVoiceCallManage}}
	if err := narrow.Validate(); err != nil {
		t.Fatalf("a voice.call.manage key: %v", err)
	}
	for _, s := range switchboard.Scopes[1:] {
		if got, want := narrow.Allows(s), s == switchboard.ScopeVoiceCallManage; got != want {
			t.Errorf("a voice.call.manage key allows %s: %v, want %v", s, got, want)
		}
	}
	if got := narrow.EffectiveScopes(); !slices.Equal(got, []string{switchboard.ScopeVoiceCallManage}) {
		t.Errorf("EffectiveScopes = %v", got)
	}
	if err := narrow.MayCreate(switchboard.APIKey{Scopes: []string{switchboard.ScopeCallsManage}}); switchboard.ErrorCode(err) != switchboard.CodeForbidden {
		t.Errorf("a voice.call.manage key created a calls.manage key: %v", err)
	}

	native := switchboard.APIKey{Scopes: []string{switchboard.ScopeCallsManage}}
	if !native.Allows(switchboard.ScopeVoiceCallManage) || native.Allows(switchboard.ScopeReportingCDRsRead) {
		t.Errorf("a calls.manage key: voice.call.manage %v, reporting.cdrs.read %v", native.Allows(switchboard.ScopeVoiceCallManage),
			native.Allows(switchboard.ScopeReportingCDRsRead))
	}
	if got := native.EffectiveScopes(); !slices.Equal(got, []string{switchboard.ScopeCallsManage, switchboard.ScopeVoiceCallManage}) {
		t.Errorf("a calls.manage key's EffectiveScopes = %v", got)
	}
	if err := native.MayCreate(switchboard.APIKey{Scopes: []string{switchboard.ScopeVoiceCallManage}}); err != nil {
		t.Errorf("a calls.manage key may not create a voice.call.manage key: %v", err)
	}

	user := int64(7)
	for name, cover := range switchboard.ScopeCovers {
		if !slices.Contains(switchboard.Scopes, name) || !slices.Contains(switchboard.Scopes, cover) {
			t.Errorf("%s or its cover %s is not a scope a key may be given", name, cover)
		}
		for _, k := range []switchboard.APIKey{{Scopes: []string{cover}}, {Scopes: []string{switchboard.ScopeAll}}, {Scopes: []string{name}}} {
			if !k.Allows(name) {
				t.Errorf("a %v key does not allow %s", k.Scopes, name)
			}
			k.UserID = &user
			if k.Allows(name) {
				t.Errorf("a user key holding %v allows %s", k.Scopes, name)
			}
		}
		if slices.Contains(switchboard.UserKeyScopes, name) {
			t.Errorf("%s is among the user key scopes", name)
		}
	}
}
