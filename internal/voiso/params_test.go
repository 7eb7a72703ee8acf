package voiso

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
)

func query(s string) url.Values {
	q, err := url.ParseQuery(s)
	if err != nil {
		panic(err)
	}
	return q
}

func TestPageOf(t *testing.T) {
	for _, tc := range []struct {
		q             string
		min, max      int
		limit, offset int
		bad           bool
	}{
		{"", 1, 100, 100, 0, false},
		{"limit=1&offset=0", 1, 100, 1, 0, false},
		{"limit=100&offset=9999999", 1, 100, 100, 9999999, false},
		{"limit=0", 1, 100, 0, 0, true},
		{"limit=0", 0, 1000, 0, 0, false},
		{"limit=101", 1, 100, 0, 0, true},
		{"limit=1000", 0, 1000, 1000, 0, false},
		{"limit=1001", 0, 1000, 0, 0, true},
		{"limit=1.5", 1, 100, 0, 0, true},
		{"limit=abc", 1, 100, 0, 0, true},
		{"offset=-1", 1, 100, 0, 0, true},
		{"offset=x", 1, 100, 0, 0, true},
	} {
		limit, offset, err := pageOf(query(tc.q), tc.min, tc.max)
		if (err != nil) != tc.bad || !tc.bad && (limit != tc.limit || offset != tc.offset) {
			t.Errorf("pageOf(%q, %d, %d) = %d, %d, %v", tc.q, tc.min, tc.max, limit, offset, err)
		}
	}
}

func TestValuesAndIDs(t *testing.T) {
	for _, tc := range []struct {
		q      string
		commas bool
		want   []string
	}{
		{"type=call", false, []string{"call"}},
		{"type=call&type=sms", false, []string{"call", "sms"}},
		{"type[]=call&type[]=sms", false, []string{"call", "sms"}},
		{"type=call&type[]=sms", false, []string{"call", "sms"}},
		{"type=a,b", false, []string{"a,b"}},
		{"type=a,b&type=c", true, []string{"a", "b", "c"}},
		{"type=&type=+", false, nil},
		{"other=1", false, nil},
	} {
		if got := values(query(tc.q), "type", tc.commas); !slices.Equal(got, tc.want) {
			t.Errorf("values(%q) = %q, want %q", tc.q, got, tc.want)
		}
	}
	if got, err := ids(query("user_id=1,2&user_id[]=3"), "user_id"); err != nil || !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("ids = %v, %v", got, err)
	}
	for _, q := range []string{"user_id=x", "user_id=0", "user_id=1,-2"} {
		if _, err := ids(query(q), "user_id"); err == nil {
			t.Errorf("ids(%q) took a bad id", q)
		}
	}
}

func TestComparisons(t *testing.T) {
	at := func(s string) *time.Time {
		t, _ := time.Parse(time.RFC3339Nano, s)
		return &t
	}
	const us = "T10:00:00.000001Z"
	for _, tc := range []struct {
		q            string
		since, until *time.Time
		bad          bool
	}{
		{"", nil, nil, false},
		{"started_at[gte]=2026-01-01T10:00:00Z", at("2026-01-01T10:00:00Z"), nil, false},
		{"started_at[gt]=2026-01-01T10:00:00Z", at("2026-01-01" + us), nil, false},
		{"started_at[lt]=2026-01-02T10:00:00Z", nil, at("2026-01-02T10:00:00Z"), false},
		{"started_at[lte]=2026-01-02T10:00:00Z", nil, at("2026-01-02" + us), false},
		{"started_at=2026-01-01T10:00:00Z", at("2026-01-01T10:00:00Z"), at("2026-01-01" + us), false},
		{"started_at[eq]=2026-01-01T10:00:00Z", at("2026-01-01T10:00:00Z"), at("2026-01-01" + us), false},
		{"started_at[gte]=2026-01-01", at("2026-01-01T00:00:00Z"), nil, false},
		// The tightest bound on each side wins.
		{"started_at[gte]=2026-01-01T00:00:00Z&started_at[gt]=2026-01-05T00:00:00Z&started_at[lt]=2026-02-01T00:00:00Z&started_at[lte]=2026-01-10T00:00:00Z",
			at("2026-01-05T00:00:00.000001Z"), at("2026-01-10T00:00:00.000001Z"), false},
		{"started_at[gte]=2026-01-01T10:00:00+02:00", at("2026-01-01T08:00:00Z"), nil, false},
		{"started_at[gte]=yesterday", nil, nil, true},
		{"started_at[lt]=2026-13-01", nil, nil, true},
	} {
		r, err := comparisons(query(tc.q), "started_at")
		same := func(a, b *time.Time) bool { return a == nil && b == nil || a != nil && b != nil && a.Equal(*b) }
		if (err != nil) != tc.bad || !tc.bad && (!same(r.Since, tc.since) || !same(r.Until, tc.until)) {
			t.Errorf("comparisons(%q) = %v..%v, %v; want %v..%v", tc.q, r.Since, r.Until, err, tc.since, tc.until)
		}
	}
}

func TestPhoneFilters(t *testing.T) {
	if got, err := phoneFilter(query("from=18885658889&from=+442071234567"), "from"); err != nil ||
		!slices.Equal(got, []string{"+18885658889", "+442071234567"}) {
		t.Errorf("phoneFilter = %v, %v", got, err)
	}
	if _, err := phoneFilter(query("from=call-me"), "from"); err == nil {
		t.Error("phoneFilter took a word")
	}
	for q, want := range map[string]string{"x=1888*": "1888*", "x=%2B44*12": "44*12", "x=": "", "x=*": "*"} {
		if got, err := phonePattern(query(q), "x"); err != nil || got != want {
			t.Errorf("phonePattern(%q) = %q, %v; want %q", q, got, err, want)
		}
	}
	for _, q := range []string{"x=1888%25", "x=18_8", "x=abc"} {
		if _, err := phonePattern(query(q), "x"); err == nil {
			t.Errorf("phonePattern(%q) took it", q)
		}
	}
}

func TestFlexID(t *testing.T) {
	for in, want := range map[string]int64{`1234`: 1234, `"1234"`: 1234, `" 42 "`: 42} {
		var id flexID
		if err := json.Unmarshal([]byte(in), &id); err != nil || int64(id) != want {
			t.Errorf("flexID(%s) = %d, %v", in, id, err)
		}
	}
	for _, in := range []string{`"12a"`, `0`, `-1`, `1.5`, `true`, `""`, `{}`, `"１２"`} {
		var id flexID
		if err := json.Unmarshal([]byte(in), &id); err == nil {
			t.Errorf("flexID(%s) = %d, want an error", in, id)
		} else if fmt.Sprint(err) != "must be an integer" {
			t.Errorf("flexID(%s): %v", in, err)
		}
	}
}

// TestDecode checks that every field's problem is reported at once, in
// Voiso's words, unknown fields ignored.
func TestDecode(t *testing.T) {
	type inner struct {
		A string `json:"a"`
		N int    `json:"n" range:"0,5"`
	}
	type body struct {
		ID    flexID `json:"id" required:"true"`
		S     string `json:"s" required:"true"`
		In    inner  `json:"in"`
		Opt   *inner `json:"opt"`
		List  []int  `json:"list" range:"0,9"`
		Flag  bool   `json:"flag"`
		Empty string `json:"empty"`
	}
	for _, tc := range []struct {
		raw    string
		fields map[string]string
		bad    bool
	}{
		{`{"id": "7", "s": "x", "unknown": [1, {"deep": true}]}`, nil, false},
		{``, map[string]string{"id": "is missing", "s": "is missing"}, false},
		{`{"id": null, "s": 1}`, map[string]string{"id": "is missing", "s": "must be a string"}, false},
		{`{"id": 1, "s": "x", "in": {"a": 1, "n": "2"}, "opt": {"a": []}}`,
			map[string]string{"in.a": "must be a string", "in.n": "must be an integer", "opt.a": "must be a string"}, false},
		{`{"id": 1, "s": "x", "in": [], "list": {}, "flag": "yes"}`,
			map[string]string{"in": "must be an object", "list": "must be an array", "flag": "must be true or false"}, false},
		{`{"id": 1, "s": "x", "in": {"n": 6}, "opt": {"n": 0}}`,
			map[string]string{"in.n": "must be between 0 and 5"}, false},
		{`{"id": "x", "s": 2, "in": {"n": 9}}`,
			map[string]string{"id": "must be an integer", "s": "must be a string", "in.n": "must be between 0 and 5"}, false},
		{`[1]`, nil, true},
		{`{"id": 1`, nil, true},
		{`"text"`, nil, true},
	} {
		var got body
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.raw))
		err := decode(r, &got)
		switch {
		case tc.bad:
			if switchboard.ErrorCode(err) != switchboard.CodeBadRequest {
				t.Errorf("%s: %v, want a bad request", tc.raw, err)
			}
		case tc.fields == nil:
			if err != nil || got.ID != 7 && got.ID != 1 {
				t.Errorf("%s: %+v, %v", tc.raw, got, err)
			}
		default:
			if f := switchboard.ErrorFields(err); switchboard.ErrorCode(err) != switchboard.CodeInvalid || !maps.Equal(f, tc.fields) {
				t.Errorf("%s: %v %v, want %v", tc.raw, switchboard.ErrorCode(err), f, tc.fields)
			}
		}
	}
	// An array body names its items' fields [i].field.
	var leads []leadIn
	err := decode(httptest.NewRequest("POST", "/", strings.NewReader(`[{"phone_number": "1"}, {"priority": 0}]`)), &leads)
	if f := switchboard.ErrorFields(err); !maps.Equal(f, map[string]string{"[1].phone_number": "is missing", "[1].priority": "must be between 1 and 1000"}) {
		t.Errorf("array body: %v", f)
	}
}
