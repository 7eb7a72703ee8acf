package ujet

import (
	"reflect"
	"strings"
	"testing"
)

// wantShape checks that obj has exactly the keys of want, each of the JSON
// type want's value has ("string", "number", "boolean", "array", "object",
// "null", or "string|null").
func wantShape(t *testing.T, what string, obj map[string]any, want map[string]string) {
	t.Helper()
	for k, typ := range want {
		v, ok := obj[k]
		if !ok {
			t.Errorf("%s: key %q missing", what, k)
			continue
		}
		if got := jsonType(v); !strings.Contains("|"+typ+"|", "|"+got+"|") {
			t.Errorf("%s: %q is %s (%v), want %s", what, k, got, v, typ)
		}
	}
	for k := range obj {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected key %q", what, k)
		}
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return reflect.TypeOf(v).String()
}
