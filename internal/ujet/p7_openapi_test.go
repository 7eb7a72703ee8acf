package ujet

import (
	"testing"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestP7OpenAPI checks that the document lists every contact-list and
// queue-settings operation, with the request bodies the routes decode.
func TestP7OpenAPI(t *testing.T) {
	r := newP7Rig(t, sqlstoretest.SQLiteURL(t))
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody map[string]any `json:"requestBody"`
		} `json:"paths"`
	}
	r.send("GET", "openapi.json", "", "", "", nil).want(t, 200, "").json(t, &doc)
	for _, op := range []struct {
		method, path string
		body         bool
	}{
		{"get", "/apps/api/v1/contact_lists", false}, {"post", "/apps/api/v1/contact_lists", true},
		{"get", "/apps/api/v1/contact_lists/{id}", false}, {"patch", "/apps/api/v1/contact_lists/{id}", true},
		{"delete", "/apps/api/v1/contact_lists/{id}", false},
		{"get", "/apps/api/v1/contact_lists/{contact_list_id}/entries", false},
		{"post", "/apps/api/v1/contact_lists/{contact_list_id}/entries", true},
		{"patch", "/apps/api/v1/contact_lists/{contact_list_id}/entries/{id}", true},
		{"delete", "/apps/api/v1/contact_lists/{contact_list_id}/entries/{id}", false},
		{"get", "/apps/api/v1/queue_settings/export", false}, {"post", "/apps/api/v1/queue_settings/import", false},
		{"get", "/apps/api/v1/queue_settings/version_histories", false},
		{"post", "/apps/api/v1/queue_settings/version_histories", true},
		{"get", "/apps/api/v1/queue_settings/version_histories/{id}", false},
		{"get", "/apps/api/v1/queue_settings/version_histories/{id}/download", false},
		{"post", "/apps/api/v1/queue_settings/version_histories/{id}/restore", true},
	} {
		ops, ok := doc.Paths[op.path]
		if !ok {
			t.Errorf("no path %s", op.path)
			continue
		}
		o, ok := ops[op.method]
		if !ok {
			t.Errorf("no %s %s", op.method, op.path)
			continue
		}
		if (o.RequestBody != nil) != op.body {
			t.Errorf("%s %s: request body %v, want one: %v", op.method, op.path, o.RequestBody, op.body)
		}
	}
}
