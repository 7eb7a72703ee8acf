package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestEveryBoundIsEnforced sends, to every route with a body of every vendor
// dialect, what each top-level field's tags refuse (httpapi.Violations)
// through the real server: each answers in the dialect's envelope naming the
// field, so the bounds the OpenAPI documents show are the ones enforced.
// (The native API walks its own, with objects to aim at, in its package.)
func TestEveryBoundIsEnforced(t *testing.T) {
	s := newAccessServer(t, sqlstoretest.SQLiteURL(t), "--tenant-write-rate", "0")
	user := s.key(switchboard.APIKey{UserID: &s.ann.ID})
	// names reports whether an error answer is a 400 naming field.
	names := map[string]func(status int, body []byte, field string) bool{
		"voxloud": func(status int, body []byte, field string) bool {
			var e struct{ Errors []struct{ Field string } }
			json.Unmarshal(body, &e)
			for _, fe := range e.Errors {
				if fe.Field == field {
					return status == http.StatusBadRequest
				}
			}
			return false
		},
		"voice360": func(status int, body []byte, field string) bool {
			var e struct {
				Details struct{ Fields map[string]string }
			}
			json.Unmarshal(body, &e)
			return status == http.StatusBadRequest && e.Details.Fields[field] != ""
		},
	}
	params := regexp.MustCompile(`\{[a-zA-Z_]+\}`)
	for _, d := range accessDialects(s.m.store) {
		named, ok := names[d.name]
		if !ok {
			continue
		}
		checked := 0
		for _, rt := range d.routes {
			if rt.Body == nil {
				continue
			}
			key := s.admin
			if rt.UserKeys && !rt.TenantKeys {
				key = user
			}
			path := params.ReplaceAllString(s.path(rt.Path, 1), "1")
			for _, v := range httpapi.Violations(rt.Body) {
				status, body := s.do(rt.Method, path, d.header+key, map[string]any{v.Field: v.Value})
				if !named(status, body, v.Field) {
					t.Errorf("%s %s %s with %s = %.40v: %d %.300s, want 400 naming %s", d.name, rt.Method, rt.Path, v.Field, v.Value, status, body, v.Field)
				}
				checked++
			}
		}
		t.Logf("%s: %d bad values sent", d.name, checked)
		if checked < 20 {
			t.Errorf("%s: only %d bad values sent; the walk missed the routes", d.name, checked)
		}
	}
}
