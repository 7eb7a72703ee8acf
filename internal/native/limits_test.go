package native

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"switchboard/internal/httpapi"
)

// TestEveryNumberHasARange walks every route's request body: each number a
// client can send has a documented range (a range tag, enforced by
// httpapi.CheckBody and shown in the OpenAPI document).
func TestEveryNumberHasARange(t *testing.T) {
	for _, rt := range newTestAPI(t, nil).api.routes {
		if rt.Body == nil {
			continue
		}
		for _, f := range httpapi.UnboundedNumbers(rt.Body) {
			t.Errorf("%s %s: %s has no range tag", rt.Method, rt.Path, f)
		}
	}
}

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
	for _, rt := range ta.api.routes {
		if rt.Body == nil || rt.Body.Kind() != reflect.Struct {
			continue
		}
		key := f.key
		if rt.Access == adminToken {
			key = "admin-secret"
		}
		path := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(rt.Path, "1")
		for i := range rt.Body.NumField() {
			fd := rt.Body.Field(i)
			name, _, _ := strings.Cut(fd.Tag.Get("json"), ",")
			if !fd.IsExported() || name == "" || name == "-" {
				continue
			}
			typ := fd.Type
			for typ.Kind() == reflect.Pointer {
				typ = typ.Elem()
			}
			var bad []any
			want := []int{}
			if lo, hi, ok := httpapi.Range(fd.Tag); ok {
				bad, want = append(bad, hi+1, lo-1), append(want, 422, 422)
			}
			switch n, ok := httpapi.Limit(fd.Tag); {
			case typ.Kind() == reflect.String:
				if !ok {
					n = httpapi.DefaultMaxText
				}
				bad, want = append(bad, strings.Repeat("é", n+1), "a\x00b"), append(want, 422, 400)
			case typ.Kind() == reflect.Slice && ok:
				bad, want = append(bad, make([]any, n+1)), append(want, 422)
			}
			for j, v := range bad {
				res := ta.do(t, rt.Method, path, key, map[string]any{name: v})
				e := res.errorBody(t)
				if res.status != want[j] || e.Fields[name] == "" {
					t.Errorf("%s %s with %s = %.40v: %d %v, want %d naming %s", rt.Method, rt.Path, name, v, res.status, e, want[j], name)
				}
				checked++
			}
		}
	}
	t.Logf("%d bad values sent", checked)
	if checked < 100 {
		t.Errorf("only %d bad values sent; the walk missed the routes", checked)
	}
}
