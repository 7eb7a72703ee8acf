package switchboard

import (
	"errors"
	"strings"
	"testing"
)

// TestValidateBounds checks the domain's own limits, which hold for every
// way into the store (every dialect, the CLI's imports), not only for JSON
// bodies.
func TestValidateBounds(t *testing.T) {
	long := strings.Repeat("é", MaxNameLength+1)
	many := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m["X-H"+strings.Repeat("i", i)] = "v"
		}
		return m
	}
	for name, tc := range map[string]struct {
		v     interface{ Validate() error }
		field string
	}{
		"user last_name":      {&User{Email: "a@b.test", FirstName: "A", LastName: long}, "last_name"},
		"user team_ids":       {&User{Email: "a@b.test", FirstName: "A", TeamIDs: make([]int64, MaxUserTeams+1)}, "team_ids"},
		"user phone_numbers":  {&User{Email: "a@b.test", FirstName: "A", PhoneNumbers: make([]string, MaxUserNumbers+1)}, "phone_numbers"},
		"user roles":          {&User{Email: "a@b.test", FirstName: "A", Roles: []string{"agent", "agent", "agent", "agent"}}, "roles"},
		"user sip_password":   {&User{Email: "a@b.test", FirstName: "A", SIPPassword: strings.Repeat("p", MaxSecretLength+1)}, "sip_password"},
		"user email":          {&User{Email: strings.Repeat("a", MaxEmailLength) + "@b.test", FirstName: "A"}, "email"},
		"user time_zone":      {&User{Email: "a@b.test", FirstName: "A", TimeZone: strings.Repeat("Europe/", 20)}, "time_zone"},
		"queue music":         {&Queue{Name: "Q", Strategy: StrategyRingAll, TimeoutSeconds: 1, ServiceLevelSeconds: 1, Channel: ChannelVoice, MusicOnHold: long}, "music_on_hold"},
		"queue skills":        {&Queue{Name: "Q", Strategy: StrategyRingAll, TimeoutSeconds: 1, ServiceLevelSeconds: 1, Channel: ChannelVoice, RequiredSkills: make([]QueueSkill, MaxSkills+1)}, "required_skills"},
		"contact website":     {&Contact{FirstName: "A", PrimaryPhone: "+390312345678", Website: strings.Repeat("w", MaxURLLength+1)}, "website"},
		"number input":        {&PhoneNumber{Input: strings.Repeat("1", MaxNumberLength+1)}, "number"},
		"message to":          {&Message{From: "+15550001111", To: strings.Repeat("1", MaxNumberLength+1), Body: "hi"}, "to"},
		"team name":           {&Team{Name: long}, "name"},
		"webhook headers":     {&Webhook{URL: "https://example.com/", Method: "POST", Dialect: DialectNative, Headers: many(MaxWebhookHeaders + 1)}, "headers"},
		"webhook header size": {&Webhook{URL: "https://example.com/", Method: "POST", Dialect: DialectNative, Headers: map[string]string{"X-A": strings.Repeat("v", MaxHeaderValueLength+1)}}, "headers"},
	} {
		var e *Error
		if err := tc.v.Validate(); !errors.As(err, &e) || e.Code != CodeInvalid || e.Fields[tc.field] == "" {
			t.Errorf("%s: %v, want a validation error naming %s", name, err, tc.field)
		}
	}
}

func TestEchoAndClip(t *testing.T) {
	long := strings.Repeat("x", 100000)
	if got := Echo(long); len(got) > MaxEchoRunes+8 || !strings.HasSuffix(got, `…"`) {
		t.Errorf("Echo of 100000 bytes = %q", got)
	}
	if got := Echo("short"); got != `"short"` {
		t.Errorf("Echo(short) = %s", got)
	}
	if got := Clip("ééé", 2); got != "éé…" {
		t.Errorf("Clip = %q", got)
	}
	err := &Error{Code: CodeInvalid, Message: long, Fields: map[string]string{long: long}}
	if len(ErrorMessage(err)) > MaxErrorText+3 {
		t.Errorf("ErrorMessage keeps %d bytes", len(ErrorMessage(err)))
	}
	for k, v := range ErrorFields(err) {
		if len(k) > MaxEchoRunes+3 || len(v) > MaxErrorText+3 {
			t.Errorf("ErrorFields keeps %d and %d bytes", len(k), len(v))
		}
	}
}
