package httpapi

import (
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"switchboard"
)

type inner struct {
	Proficiency int `json:"proficiency" range:"0,5"`
}

type body struct {
	Name    string            `json:"name" limit:"5"`
	Free    string            `json:"free"`
	Tags    []string          `json:"tags" limit:"2"`
	Items   []inner           `json:"items"`
	Ptr     *float64          `json:"ptr" range:"-1,1"`
	Headers map[string]string `json:"headers"`
	Any     any               `json:"any"`
	skipped string
}

func TestCheckBody(t *testing.T) {
	two := 2.0
	for _, tc := range []struct {
		name  string
		body  body
		code  switchboard.Code
		field string
	}{
		{"fine", body{Name: "ab", Tags: []string{"x"}, Items: []inner{{5}}}, "", ""},
		{"NUL", body{Name: "a\x00"}, switchboard.CodeBadRequest, "name"},
		{"invalid UTF-8", body{Free: "\xff"}, switchboard.CodeBadRequest, "free"},
		{"NUL in a list", body{Tags: []string{"ok", "\x00"}}, switchboard.CodeBadRequest, "tags[1]"},
		{"NUL in a map value", body{Headers: map[string]string{"X-A": "\x00"}}, switchboard.CodeBadRequest, "headers.X-A"},
		{"NUL in a map key", body{Headers: map[string]string{"X\x00": "v"}}, switchboard.CodeBadRequest, "headers"},
		{"NUL in any", body{Any: map[string]any{"k": []any{"\x00"}}}, switchboard.CodeBadRequest, "any.k[0]"},
		{"over its limit", body{Name: "ééééé é"}, switchboard.CodeInvalid, "name"},
		{"at its limit in runes", body{Name: "ééééé"}, "", ""},
		{"over the default limit", body{Free: strings.Repeat("x", DefaultMaxText+1)}, switchboard.CodeInvalid, "free"},
		{"too many items", body{Tags: []string{"a", "b", "c"}}, switchboard.CodeInvalid, "tags"},
		{"too many by default", body{Items: make([]inner, DefaultMaxItems+1)}, switchboard.CodeInvalid, "items"},
		{"too many entries", body{Headers: func() map[string]string {
			m := map[string]string{}
			for i := range DefaultMaxItems + 1 {
				m[strings.Repeat("k", i+1)] = ""
			}
			return m
		}()}, switchboard.CodeInvalid, "headers"},
		{"out of range nested", body{Items: []inner{{0}, {6}}}, switchboard.CodeInvalid, "items[1].proficiency"},
		{"out of range below", body{Items: []inner{{-1}}}, switchboard.CodeInvalid, "items[0].proficiency"},
		{"out of range pointer", body{Ptr: &two}, switchboard.CodeInvalid, "ptr"},
		{"unexported skipped", body{skipped: "\x00"}, "", ""},
	} {
		err := CheckBody(&tc.body)
		if switchboard.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want code %q", tc.name, err, tc.code)
			continue
		}
		var se *switchboard.Error
		if tc.field != "" && (!errors.As(err, &se) || se.Fields[tc.field] == "") {
			t.Errorf("%s: %v does not name %s", tc.name, err, tc.field)
		}
	}
}

func TestCheckRequestText(t *testing.T) {
	for target, field := range map[string]string{
		"/v1/users/1":                  "",
		"/v1/users/%C3%A9?name=%C3%A9": "",
		"/v1/users/%FF":                "path",
		"/v1/users/%00":                "path",
		"/v1/users?email=%FF":          "email",
		"/v1/users?email=a%00":         "email",
		"/v1/users?%FF=1":              "query parameter name",
		"/v1/users?a=%zz":              "",
	} {
		err := CheckRequestText(httptest.NewRequest("GET", target, nil))
		var se *switchboard.Error
		switch {
		case field == "" && err != nil:
			t.Errorf("%s: %v", target, err)
		case field != "" && (!errors.As(err, &se) || se.Code != switchboard.CodeBadRequest || se.Fields[field] == ""):
			t.Errorf("%s: %v, want a 400 naming %s", target, err, field)
		}
	}
}

func TestUnboundedNumbers(t *testing.T) {
	type b struct {
		ID      int64   `json:"id"`
		QueueID int64   `json:"queue_id"`
		TeamIDs []int64 `json:"team_ids"`
		Seconds float64 `json:"seconds"`
		Bounded int     `json:"bounded" range:"0,1"`
		Nested  []inner `json:"nested"`
		Loose   []struct {
			N int `json:"n"`
		} `json:"loose"`
	}
	got := strings.Join(UnboundedNumbers(reflect.TypeFor[b]()), ",")
	if got != "seconds,loose[].n" {
		t.Errorf("UnboundedNumbers = %s, want seconds,loose[].n", got)
	}
}
