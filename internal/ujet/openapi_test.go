package ujet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"switchboard/internal/golden"
	"switchboard/internal/httpapi"
	"switchboard/internal/openapi"
)

// TestUJETOpenAPI checks the document the dialect serves at
// /apps/api/v1/openapi.json: OpenAPI 3.1 JSON whose operations are exactly
// the route table's (each with its scope, its path parameters and its
// responses, every $ref resolved), pinned in testdata/openapi.json.
func TestUJETOpenAPI(t *testing.T) {
	f := newUJETFixture(t)
	if faults := documentPanics(f.api); len(faults) > 0 {
		t.Fatalf("building the document panics:\n%s", strings.Join(faults, "\n"))
	}
	res, err := http.Get(f.srv.URL + prefix + "openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %sopenapi.json: %d %s", prefix, res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, d := range validateOpenAPI(raw, f.api.Routes()) {
		t.Error(d)
	}
	if !bytes.Equal(raw, f.api.OpenAPI()) {
		t.Errorf("the document served differs from OpenAPI()")
	}
	if _, err := os.Stat(openAPIFile); err != nil && !*updateGolden {
		t.Fatalf("%s: %v; run go test ./internal/ujet -run TestUJETOpenAPI -update to write it, and review it", openAPIFile, err)
	}
	golden.File(t, openAPIFile, raw, *updateGolden)
}

// documentPanics builds the document, and when that panics, the schema of
// each route's body and result alone, to name the types at fault.
func documentPanics(api *API) (faults []string) {
	try := func(what string, build func()) {
		defer func() {
			if r := recover(); r != nil {
				faults = append(faults, fmt.Sprintf("%s: %v", what, r))
			}
		}()
		build()
	}
	try("the document", func() { api.buildSpec() })
	if len(faults) == 0 {
		return nil
	}
	for _, e := range api.table.Endpoints() {
		for _, ty := range []reflect.Type{e.Body, e.Result} {
			if ty != nil {
				try(fmt.Sprintf("%s %s: %v", e.Method, e.Path, ty), func() { (&openapi.Schemas{}).Of(ty, false) })
			}
		}
	}
	return faults
}

// validateOpenAPI checks the structure of an OpenAPI 3.1 document against
// the routes it must describe, one line per fault.
func validateOpenAPI(raw []byte, routes []httpapi.Route) []string {
	var faults []string
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return []string{"the document is not JSON: " + err.Error()}
	}
	if doc["openapi"] != "3.1.0" {
		faults = append(faults, fmt.Sprintf("openapi is %v, want 3.1.0", doc["openapi"]))
	}
	info, _ := doc["info"].(map[string]any)
	if s, _ := info["title"].(string); s == "" {
		faults = append(faults, "info.title is missing")
	}
	if s, _ := info["version"].(string); s == "" {
		faults = append(faults, "info.version is missing")
	}
	paths, _ := doc["paths"].(map[string]any)
	if paths == nil {
		return append(faults, "paths is missing")
	}
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	// Every $ref resolves.
	var refs func(v any)
	refs = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok {
				name, ok := strings.CutPrefix(r, "#/components/schemas/")
				if _, found := schemas[name]; !ok && !strings.HasPrefix(r, "#/components/parameters/") || ok && !found {
					faults = append(faults, "unresolved $ref "+r)
				}
			}
			for _, c := range x {
				refs(c)
			}
		case []any:
			for _, c := range x {
				refs(c)
			}
		}
	}
	refs(doc)
	ops := map[string]bool{}
	opIDs := map[string]bool{}
	for path, item := range paths {
		if !strings.HasPrefix(path, "/") {
			faults = append(faults, "path "+path+" does not start with /")
		}
		methods, _ := item.(map[string]any)
		for method, o := range methods {
			op, _ := o.(map[string]any)
			name := strings.ToUpper(method) + " " + path
			ops[name] = true
			id, _ := op["operationId"].(string)
			if id == "" || opIDs[id] {
				faults = append(faults, name+": operationId missing or taken: "+id)
			}
			opIDs[id] = true
			if r, _ := op["responses"].(map[string]any); len(r) == 0 {
				faults = append(faults, name+": no responses")
			}
			declared := map[string]bool{}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				pm, _ := p.(map[string]any)
				if pm["in"] == "path" {
					declared[fmt.Sprint(pm["name"])] = pm["required"] == true
				}
			}
			for _, m := range placeholderRE.FindAllString(path, -1) {
				if !declared[strings.Trim(m, "{}")] {
					faults = append(faults, name+": path parameter "+m+" is not declared as required")
				}
			}
		}
	}
	listed := map[string]bool{}
	for _, r := range routes {
		name := r.Method + " " + r.Path
		if r.Public && r.Path == prefix+"openapi.json" {
			continue // the document itself
		}
		listed[name] = true
		if !ops[name] {
			faults = append(faults, "the document lacks "+name)
			continue
		}
		if r.Public {
			continue
		}
		op := paths[r.Path].(map[string]any)[strings.ToLower(r.Method)].(map[string]any)
		if op["x-required-scope"] != r.Scope {
			faults = append(faults, fmt.Sprintf("%s: the document says scope %v, the route needs %s", name, op["x-required-scope"], r.Scope))
		}
	}
	for name := range ops {
		if !listed[name] {
			faults = append(faults, "the document has "+name+", which the route table does not serve")
		}
	}
	sort.Strings(faults)
	return faults
}
