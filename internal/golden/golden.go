// Package golden checks dialect responses against the examples of the
// vendors' documents. A vendor example's values are the vendor's own data; what
// must match is its shape: the same keys, the same JSON types, the same
// nesting. Tests replay each documented request against a real server and
// compare the answer's shape with the documented answer's.
package golden

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Case is one documented request and its documented answer.
type Case struct {
	Name   string            `json:"name"`
	Note   string            `json:"note"`
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Header map[string]string `json:"header"`
	// Key names the credential the case is sent with, when a dialect has
	// several kinds.
	Key    string          `json:"key"`
	Body   json.RawMessage `json:"body"`
	Status int             `json:"status"`
	// Response is the documented answer; Ref names another example to use
	// instead (a document that says "structured like the ones above").
	Response json.RawMessage `json:"response"`
	Ref      string          `json:"ref"`
	// Optional lists paths the document shows that an answer may leave out
	// ("when available" fields); Extra lists paths an answer may add that
	// the document defines elsewhere. Paths look like content[].ringTime.
	Optional []string `json:"optional"`
	Extra    []string `json:"extra"`
}

// Load reads a JSON array of cases.
func Load(t testing.TB, path string) []Case {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []Case
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cases
}

// Replace substitutes {name} placeholders.
func Replace(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// Compare returns every difference between the shapes of want (the
// document's example) and got (the answer), one line each; none means they
// match.
func Compare(want, got []byte, optional, extra []string) []string {
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		return []string{"the example is not JSON: " + err.Error()}
	}
	if err := json.Unmarshal(got, &g); err != nil {
		return []string{"the answer is not JSON: " + err.Error()}
	}
	var diffs []string
	compare("", w, g, optional, extra, &diffs)
	sort.Strings(diffs)
	return diffs
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func compare(path string, want, got any, optional, extra []string, diffs *[]string) {
	name := path
	if name == "" {
		name = "(top)"
	}
	if kind(want) != kind(got) {
		*diffs = append(*diffs, fmt.Sprintf("%s: %s in the example, %s in the answer", name, kind(want), kind(got)))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				if !slices.Contains(optional, join(path, k)) {
					*diffs = append(*diffs, join(path, k)+": missing from the answer")
				}
				continue
			}
			compare(join(path, k), wv, gv, optional, extra, diffs)
		}
		for k := range g {
			if _, ok := w[k]; !ok && !slices.Contains(extra, join(path, k)) {
				*diffs = append(*diffs, join(path, k)+": not in the example")
			}
		}
	case []any:
		g := got.([]any)
		// An empty array has the example's type; its items are checked
		// whenever the answer has some, each against the example item of
		// the same "type" when the example mixes types.
		if len(w) > 0 {
			for _, item := range g {
				compare(path+"[]", sameType(w, item), item, optional, extra, diffs)
			}
		}
	}
}

// sameType picks the example item whose "type" field equals item's, or the
// first example item.
func sameType(examples []any, item any) any {
	if m, ok := item.(map[string]any); ok {
		for _, e := range examples {
			if em, ok := e.(map[string]any); ok && em["type"] != nil && em["type"] == m["type"] {
				return e
			}
		}
	}
	return examples[0]
}

// File compares got with the golden file at path, byte for byte, and with
// update rewrites the file first: a generated document (an OpenAPI
// description) is pinned, so that every change to it shows in review.
func File(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (rerun with -update to write it)", err)
	}
	if string(want) == string(got) {
		return
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	line := 0
	for line < len(wl) && line < len(gl) && wl[line] == gl[line] {
		line++
	}
	t.Errorf("%s changed from line %d (golden %d lines, now %d); if intended, rerun with -update and review the diff",
		path, line+1, len(wl), len(gl))
}
