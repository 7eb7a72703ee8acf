package native

import (
	"regexp"
	"testing"

	"switchboard"
	"switchboard/internal/httpapi"
)

// TestEveryBoundIsEnforced walks every route with a request body and sends,
// for each of its top-level fields, what the field's tags refuse: a number
// just outside its range, a string or list one past its limit, a NUL
// character. Each answers 422 (400 for the NUL) naming the field, before
// any other check, so the tags the OpenAPI document shows are what the
// server enforces.
func TestEveryBoundIsEnforced(t *testing.T) {
	ta := newTestAPI(t, nil)
	f := newFixture(t, ta.store, "acme")
	checked := 0
	for _, rt := range ta.api.table.Endpoints() {
		if rt.Body == nil {
			continue
		}
		key := f.key
		if rt.Admin {
			key = "admin-secret"
		}
		path := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(rt.Path, "1")
		for _, v := range httpapi.Violations(rt.Body) {
			want := 422
			if v.Code == switchboard.CodeBadRequest {
				want = 400
			}
			res := ta.do(t, rt.Method, path, key, map[string]any{v.Field: v.Value})
			e := res.errorBody(t)
			if res.status != want || e.Fields[v.Field] == "" {
				t.Errorf("%s %s with %s = %.40v: %d %v, want %d naming %s", rt.Method, rt.Path, v.Field, v.Value, res.status, e, want, v.Field)
			}
			checked++
		}
	}
	t.Logf("%d bad values sent", checked)
	if checked < 100 {
		t.Errorf("only %d bad values sent; the walk missed the routes", checked)
	}
}
