package golden

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// CheckTypes compares an answer with a shape given field by field: fields
// maps each path (data.agent.id, items[].name; the top object is "") to its
// JSON types, alternatives joined by | ("string|null"), where "integer" is a
// number without a fraction. Every field of the shape must be in the answer
// (inside arrays, in each item), every field of the answer in the shape, and
// each of the type the shape gives. Compare takes its types from one example
// value and so cannot say that a field may be null; this can.
func CheckTypes(fields map[string]string, got []byte) []string {
	var g any
	if err := json.Unmarshal(got, &g); err != nil {
		return []string{"the answer is not JSON: " + err.Error()}
	}
	var diffs []string
	checkTypes("", g, fields, &diffs)
	sort.Strings(diffs)
	return slices.Compact(diffs)
}

func checkTypes(path string, v any, fields map[string]string, diffs *[]string) {
	if path != "" {
		want, ok := fields[path]
		if !ok {
			*diffs = append(*diffs, path+": not in the shape")
			return
		}
		if !typeIn(v, strings.Split(want, "|")) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %s in the answer, %s in the shape", path, kind(v), want))
			return
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for k, item := range x {
			checkTypes(join(path, k), item, fields, diffs)
		}
		prefix := path + "."
		if path == "" {
			prefix = ""
		}
		for f := range fields {
			name, ok := strings.CutPrefix(f, prefix)
			if !ok || name == "" || strings.Contains(name, ".") || strings.HasSuffix(name, "[]") {
				continue
			}
			if _, present := x[name]; !present {
				*diffs = append(*diffs, f+": missing from the answer")
			}
		}
	case []any:
		for _, item := range x {
			checkTypes(path+"[]", item, fields, diffs)
		}
	}
}

// typeIn reports whether v has one of the JSON types named.
func typeIn(v any, types []string) bool {
	for _, t := range types {
		switch t {
		case "integer":
			if f, ok := v.(float64); ok && f == math.Trunc(f) {
				return true
			}
		case "any":
			return true
		default:
			if kind(v) == t {
				return true
			}
		}
	}
	return false
}

// TypeOK reports whether v, decoded from JSON, has the declared type:
// string, integer, number, boolean, object, array, null or any, with
// alternatives joined by "|" ("string|null").
func TypeOK(declared string, v any) bool { return typeIn(v, strings.Split(declared, "|")) }

// FieldPaths records in out each field path of v (the notation of
// CheckTypes: a.b, a[].b) with its value; an array's first item stands for
// all of them, so fixtures can be walked field by field.
func FieldPaths(v any, path string, out map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			p := join(path, k)
			out[p] = c
			FieldPaths(c, p, out)
		}
	case []any:
		if len(x) > 0 {
			out[path+"[]"] = x[0]
			FieldPaths(x[0], path+"[]", out)
		}
	}
}
