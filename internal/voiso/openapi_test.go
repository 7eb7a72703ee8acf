package voiso

import (
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"switchboard/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi.json")

// TestOpenAPIGolden pins the document and checks that it lists every route
// with its scope.
func TestOpenAPIGolden(t *testing.T) {
	api := New(Options{})
	doc := api.OpenAPI()
	var v struct {
		Paths map[string]map[string]struct {
			Scope string `json:"x-voiso-scope"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	for _, r := range api.Routes() {
		if r.Public {
			continue
		}
		op, ok := v.Paths[r.Path][strings.ToLower(r.Method)]
		if !ok || op.Scope != r.Scope {
			t.Errorf("the document lacks %s %s with scope %s", r.Method, r.Path, r.Scope)
		}
	}
	golden.File(t, "testdata/openapi.json", doc, *update)
}
