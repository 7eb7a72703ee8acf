package voxloud

import (
	"encoding/json"
	"flag"
	"net/http/httptest"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi.json")

func TestOpenAPIGolden(t *testing.T) {
	doc := New(Options{}).OpenAPI()
	var v map[string]any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	paths := v["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/validate-auth", "/api/v1/contacts", "/api/v1/contacts/{id}", "/api/v2/users",
		"/api/v1/webhook-subscriptions", "/api/v1/webhook-subscriptions/{id}", "/api/v1/telephony-events",
		"/api/v1/telephony-events/{id}", "/api/v1/click-to-call", "/api/v1/click-to-call/{id}", "/api/v1/click-to-call/{id}/connect"} {
		if paths[p] == nil {
			t.Errorf("the document lacks %s", p)
		}
	}
	golden.File(t, "testdata/openapi.json", doc, *update)
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		accept string
		csv    bool
		want   string
		ok     bool
	}{
		{"", false, mediaJSON, true},
		{"*/*", false, mediaJSON, true},
		{"application/json", true, mediaJSON, true},
		{"text/csv", true, mediaCSV, true},
		{"text/csv", false, "", false},
		{"application/xml", true, "", false},
		{"text/csv;q=0.5, application/json", true, mediaJSON, true},
		{"application/json;q=0.1, text/csv", true, mediaCSV, true},
		{"application/json;q=0", false, "", false},
		{"application/problem+json", false, mediaJSON, true},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		got, ok := negotiate(r, tc.csv)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Accept %q (csv %v) = %q %v, want %q %v", tc.accept, tc.csv, got, ok, tc.want, tc.ok)
		}
	}
}

func TestLastEvent(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		c    switchboard.Call
		want string
	}{
		{switchboard.Call{Disposition: switchboard.DispositionAnswered, HangupCause: "normal clearing"}, "CALL_TERMINATED"},
		{switchboard.Call{Disposition: switchboard.DispositionAnswered, HangupCause: "transferred"}, "CALL_TRANSFERRED"},
		{switchboard.Call{Disposition: switchboard.DispositionAbandoned}, "CALL_CANCELED_BY_ORIGINATOR"},
		{switchboard.Call{Disposition: switchboard.DispositionMissed}, "CALL_LOST_NO_ANSWER"},
		{switchboard.Call{Disposition: switchboard.DispositionNoAnswer}, "CALL_LOST_NO_ANSWER"},
		{switchboard.Call{Disposition: switchboard.DispositionBusy}, "CALL_LOST_USER_BUSY"},
		{switchboard.Call{Disposition: switchboard.DispositionRejected}, "CALL_REJECTED"},
		{switchboard.Call{ConnectedAt: &now}, "CALL_ANSWERED"},
		{switchboard.Call{}, "CALL_STARTED"},
	} {
		if got := lastEvent(tc.c); got != tc.want {
			t.Errorf("lastEvent(%s, %q) = %s, want %s", tc.c.Disposition, tc.c.HangupCause, got, tc.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, v := range []string{"2018-03-11T07:00:00.000Z", "2021-01-01T00:00:00.000+01:00", "2018-05-15T15:47:03.000+0000", "2021-01-01T00:00:00Z"} {
		if got, err := parseTime("f", v); err != nil || got == nil {
			t.Errorf("parseTime(%q) = %v, %v", v, got, err)
		}
	}
	for _, v := range []string{"2018-03-11", "yesterday", "2018-03-11T07:00:00"} {
		if _, err := parseTime("date_time_from", v); switchboard.ErrorCode(err) != switchboard.CodeInvalid {
			t.Errorf("parseTime(%q) accepted", v)
		}
	}
	if got := springTime(time.Date(2018, 5, 15, 17, 47, 3, 0, time.FixedZone("CEST", 7200))); got != "2018-05-15T15:47:03.000+0000" {
		t.Errorf("springTime = %s", got)
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	if got := isoTime(time.Date(2022, 12, 27, 13, 42, 37, 0, time.UTC), rome); got != "2022-12-27T14:42:37+01:00" {
		t.Errorf("isoTime = %s", got)
	}
}
