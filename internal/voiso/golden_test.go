package voiso

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/golden"
)

// The files the dialect is built against: Voiso's two seeds and the
// inventory, copied verbatim, and the examples and shapes taken from them.
const (
	seedOverview  = "000_bae812daa76c2dd0.txt"
	seedStartCall = "001_d872b3737b7dcc22.txt"
	inventoryFile = "testdata/voiso-v4.md"
	examplesFile  = "testdata/seed_examples.json"
	shapesFile    = "testdata/shapes.json"
)

// example is one entry of seed_examples.json: a golden.Case (which the
// dialect's tests replay) and where in the seed it was taken from.
type example struct {
	golden.Case
	Kind         string `json:"kind"`
	Seed         string `json:"seed"`
	Line         int    `json:"line"`
	SeedText     string `json:"seed_text"`
	Curl         string `json:"curl"`
	RefShape     string `json:"ref_shape"`
	ResponseLine int    `json:"response_line"`
	ResponseText string `json:"response_text"`
}

// shape is one entry of shapes.json: a golden.Case whose Response is the
// example object, and the type and evidence of each of its fields.
type shape struct {
	golden.Case
	Section string           `json:"section"`
	Mark    Evidence         `json:"mark"`
	Why     string           `json:"why"`
	Route   string           `json:"route"`
	Fields  map[string]field `json:"fields"`
}

type field struct {
	Type string   `json:"type"`
	Mark Evidence `json:"mark"`
	Why  string   `json:"why"`
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// strict decodes path into v, refusing unknown keys, so that a misspelt
// key in a fixture fails here instead of being silently ignored.
func strict(t *testing.T, path string, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(readText(t, path))))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadShapes(t *testing.T) map[string]shape {
	t.Helper()
	var list []shape
	strict(t, shapesFile, &list)
	out := map[string]shape{}
	for _, s := range list {
		if s.Name == "" {
			t.Errorf("%s: a shape without a name", shapesFile)
		}
		if _, dup := out[s.Name]; dup {
			t.Errorf("%s: %q twice", shapesFile, s.Name)
		}
		out[s.Name] = s
	}
	if len(golden.Load(t, shapesFile)) != len(list) {
		t.Errorf("%s does not load as golden cases", shapesFile)
	}
	return out
}

func unmarshal(raw []byte) (any, error) {
	var v any
	err := json.Unmarshal(raw, &v)
	return v, err
}

// lineAt reports whether text occurs in doc starting on the 1-based line.
func lineAt(doc, text string, line int) bool {
	for off := 0; ; {
		i := strings.Index(doc[off:], text)
		if i < 0 {
			return false
		}
		if strings.Count(doc[:off+i], "\n")+1 == line {
			return true
		}
		off += i + 1
	}
}

// jsonExamples finds every JSON object written in a seed's prose: the
// examples the dialect must be golden-tested against.
func jsonExamples(doc string) []any {
	var out []any
	for i := 0; i < len(doc); i++ {
		if doc[i] != '{' {
			continue
		}
		d := json.NewDecoder(strings.NewReader(doc[i:]))
		var v map[string]any
		if d.Decode(&v) == nil {
			out = append(out, v)
			i += int(d.InputOffset()) - 1
		}
	}
	return out
}

func TestSeedExamples(t *testing.T) {
	var examples []example
	strict(t, examplesFile, &examples)
	if len(golden.Load(t, examplesFile)) != len(examples) {
		t.Fatalf("%s does not load as golden cases", examplesFile)
	}
	shapes := loadShapes(t)
	seeds := map[string]string{seedOverview: readText(t, "testdata/"+seedOverview), seedStartCall: readText(t, "testdata/"+seedStartCall)}
	names := map[string]bool{}
	var covered []any // every JSON value the examples account for
	curls := map[string]int{}
	for _, e := range examples {
		what := e.Name
		if what == "" || names[what] {
			t.Errorf("an example is unnamed or its name %q is taken", what)
		}
		names[what] = true
		doc, ok := seeds[e.Seed]
		if !ok {
			t.Errorf("%s: unknown seed %q", what, e.Seed)
			continue
		}
		if e.SeedText == "" || !lineAt(doc, e.SeedText, e.Line) {
			t.Errorf("%s: its seed_text is not in %s at line %d", what, e.Seed, e.Line)
		}
		if e.ResponseText != "" && !lineAt(doc, e.ResponseText, e.ResponseLine) {
			t.Errorf("%s: its response_text is not in %s at line %d", what, e.Seed, e.ResponseLine)
		}
		var resp any
		if e.Response != nil {
			var err error
			if resp, err = unmarshal(e.Response); err != nil {
				t.Errorf("%s: the response does not parse: %v", what, err)
			}
			covered = append(covered, resp)
		}
		if e.Body != nil {
			body, err := unmarshal(e.Body)
			if err != nil {
				t.Errorf("%s: the body does not parse: %v", what, err)
			}
			covered = append(covered, body)
		}
		// The response is the seed's own JSON, whether the seed shows it as
		// the example itself or as the answer of a request.
		for _, text := range []string{e.SeedText, e.ResponseText} {
			if v, err := unmarshal([]byte(text)); err == nil && e.Response != nil && !reflect.DeepEqual(v, resp) {
				t.Errorf("%s: the response differs from the seed's %s", what, text)
			}
		}
		switch e.Kind {
		case "exchange":
			if !slices.Contains([]string{"GET", "POST"}, e.Method) || !strings.HasPrefix(e.Path, "/api/v4/") || e.Status < 200 || e.Status > 599 {
				t.Errorf("%s: %s %s answering %d is not a request of the seed", what, e.Method, e.Path, e.Status)
			}
			// Key names the credential a replay sends: none, or a key
			// holding one of this dialect's scopes.
			if e.Key != "none" && !slices.ContainsFunc(Scopes, func(s Scope) bool { return s.Name == e.Key }) {
				t.Errorf("%s: key %q is neither none nor a scope of Scopes", what, e.Key)
			}
			if e.Response == nil {
				if _, ok := shapes[e.RefShape]; !ok {
					t.Errorf("%s: no response and no shape %q in %s", what, e.RefShape, shapesFile)
				}
			}
		case "response":
			if e.Response == nil || e.Method != "" {
				t.Errorf("%s: a response example needs a response and no request", what)
			}
		default:
			t.Errorf("%s: kind %q, want exchange or response", what, e.Kind)
		}
		if e.Curl != "" {
			checkCurl(t, e, doc)
			curls[e.Seed]++
		}
	}
	// Every curl line of the seeds is an example, and so is every JSON
	// object they show.
	found := 0
	for name, doc := range seeds {
		found += len(jsonExamples(doc))
		if n := strings.Count(doc, "curl "); n != curls[name] {
			t.Errorf("%s has %d curl lines, the examples %d", name, n, curls[name])
		}
		for _, v := range jsonExamples(doc) {
			if !slices.ContainsFunc(covered, func(c any) bool { return reflect.DeepEqual(c, v) }) {
				t.Errorf("%s shows %v, which no example holds", name, v)
			}
		}
	}
	if found < 10 { // 3 in the overview, 7 in Start call
		t.Errorf("found %d JSON examples in the seeds: the scan no longer finds them", found)
	}
}

var (
	curlURL    = regexp.MustCompile(`^curl -X ([A-Z]+) "https://\{cluster_id\}\.voiso\.com(/api/v4/[^"]*)"`)
	curlHeader = regexp.MustCompile(`-H "([^:"]+): ([^"]*)"`)
	curlData   = regexp.MustCompile(`(?s)-d '(.*)'$`)
)

// checkCurl checks that a curl line is verbatim in its seed and says the
// same as the example's method, path, headers and body, which the dialect's
// tests send.
func checkCurl(t *testing.T, e example, doc string) {
	t.Helper()
	if !strings.Contains(doc, e.Curl) {
		t.Errorf("%s: the curl line is not verbatim in %s", e.Name, e.Seed)
	}
	m := curlURL.FindStringSubmatch(e.Curl)
	if m == nil || m[1] != e.Method || m[2] != e.Path {
		t.Errorf("%s: the curl line does not request %s %s", e.Name, e.Method, e.Path)
	}
	headers := map[string]string{}
	for _, h := range curlHeader.FindAllStringSubmatch(e.Curl, -1) {
		headers[h[1]] = h[2]
	}
	if !reflect.DeepEqual(headers, e.Header) {
		t.Errorf("%s: the curl line sends headers %v, the example %v", e.Name, headers, e.Header)
	}
	var fromCurl, body any
	if d := curlData.FindStringSubmatch(e.Curl); d != nil {
		var err error
		if fromCurl, err = unmarshal([]byte(d[1])); err != nil {
			t.Errorf("%s: the curl body does not parse: %v", e.Name, err)
		}
	}
	if e.Body != nil {
		body, _ = unmarshal(e.Body)
	}
	if !reflect.DeepEqual(fromCurl, body) {
		t.Errorf("%s: the curl line sends %v, the example %v", e.Name, fromCurl, body)
	}
}

var validType = regexp.MustCompile(`^(string|integer|number|boolean|object|array)(\|(string|integer|null))?$`)

func TestShapes(t *testing.T) {
	shapes := loadShapes(t)
	for name, s := range shapes {
		if !slices.Contains([]Evidence{Documented, Inferred, Ours}, s.Mark) || s.Section == "" {
			t.Errorf("%s: mark %q, section %q", name, s.Mark, s.Section)
		}
		v, err := unmarshal(s.Response)
		if err != nil || v == nil {
			t.Errorf("%s: the example does not parse: %v", name, err)
			continue
		}
		paths := map[string]any{}
		golden.FieldPaths(v, "", paths)
		for p, val := range paths {
			f, ok := s.Fields[p]
			switch {
			case !ok:
				t.Errorf("%s: %s is in the example but not in fields", name, p)
			case !validType.MatchString(f.Type):
				t.Errorf("%s: %s has type %q", name, p, f.Type)
			case !golden.TypeOK(f.Type, val):
				t.Errorf("%s: %s is %v in the example, declared %s", name, p, val, f.Type)
			}
		}
		for p, f := range s.Fields {
			if _, ok := paths[p]; !ok {
				t.Errorf("%s: field %s is not in the example", name, p)
			}
			if !slices.Contains([]Evidence{Documented, Inferred, Ours}, f.Mark) {
				t.Errorf("%s: %s is marked %q", name, p, f.Mark)
			}
			if f.Mark == Ours && why(s, p) == "" {
				t.Errorf("%s: %s is ours without a why (on it, a parent or the shape)", name, p)
			}
		}
	}
}

// why is the reason given for path: its own, its nearest parent's, or the
// shape's.
func why(s shape, path string) string {
	for p := path; p != ""; {
		if w := s.Fields[p].Why; w != "" {
			return w
		}
		switch i := strings.LastIndexAny(p, ".["); {
		case i < 0:
			p = ""
		default:
			p = p[:i]
		}
	}
	return s.Why
}

// TestInventoryCovered checks that every path of the inventory's endpoint
// table and every event of its webhook catalogue has a shape, and that
// every route of a shape needs one of Scopes.
func TestInventoryCovered(t *testing.T) {
	inv := readText(t, inventoryFile)
	shapes := loadShapes(t)
	route := regexp.MustCompile(`(GET|POST|PATCH|DELETE) /api/v4(/[a-z_/{}]+)`)
	paths, routes := map[string]bool{}, map[string]bool{}
	for _, s := range shapes {
		for _, m := range route.FindAllStringSubmatch(s.Route, -1) {
			paths["/api/v4"+m[2]] = true
			routes[m[1]+" "+m[2]] = true
		}
	}
	for _, m := range regexp.MustCompile("`(/api/v4/[a-z_/{}]+)`").FindAllStringSubmatch(inv, -1) {
		if !paths[m[1]] {
			t.Errorf("the inventory's %s has no shape", m[1])
		}
	}
	_, catalogue, _ := strings.Cut(inv, "### 4.2 Event catalogue")
	catalogue, _, _ = strings.Cut(catalogue, "### 4.3")
	events := regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\| ([a-z]+) \\|").FindAllStringSubmatch(catalogue, -1)
	if len(events) < 13 {
		t.Fatalf("found %d events in the inventory's catalogue", len(events))
	}
	for _, m := range events {
		s, ok := shapes["webhook "+m[1]]
		if !ok {
			t.Errorf("the inventory's event %s (%s) has no shape", m[1], m[2])
			continue
		}
		var env struct{ Event, Object string }
		if err := json.Unmarshal(s.Response, &env); err != nil || env.Event != m[1] || env.Object != m[2] {
			t.Errorf("the shape of %s has event %q and object %q, want %s", m[1], env.Event, env.Object, m[2])
		}
	}
	scoped := map[string]bool{}
	for _, sc := range Scopes {
		for _, r := range sc.Routes {
			r, _, _ = strings.Cut(r, " (")
			if scoped[r] {
				t.Errorf("%s is listed under two scopes", r)
			}
			scoped[r] = true
		}
	}
	for r := range routes {
		if !scoped[r] {
			t.Errorf("%s has a shape but no scope in Scopes", r)
		}
	}
}

// TestScopesNameEverySeedScope checks that every scope name the seeds and
// the inventory mention is one this dialect requires or one it rejected
// with a reason, and that the native scopes it maps to exist.
func TestScopesNameEverySeedScope(t *testing.T) {
	named := map[string]bool{}
	for _, s := range Scopes {
		if named[s.Name] || s.Name == "" || len(s.Routes) == 0 {
			t.Errorf("scope %q: listed twice, unnamed or without routes", s.Name)
		}
		named[s.Name] = true
		if !slices.Contains(switchboard.Scopes, s.Core) {
			t.Errorf("%s: its native scope %q is not a core scope", s.Name, s.Core)
		}
		if !slices.Contains(switchboard.Scopes, s.Name) {
			t.Errorf("%s is not a core scope", s.Name)
		}
		if s.Name != s.Core && switchboard.ScopeCovers[s.Name] != s.Core {
			t.Errorf("%s: the core says %q covers it, the dialect %q", s.Name, switchboard.ScopeCovers[s.Name], s.Core)
		}
		if !slices.Contains([]Evidence{Documented, Inferred, Ours}, s.Evidence) {
			t.Errorf("%s: evidence %q", s.Name, s.Evidence)
		}
	}
	for name, why := range RejectedScopes {
		if named[name] || why == "" {
			t.Errorf("rejected scope %s: also required, or no reason", name)
		}
	}
	scopeName := regexp.MustCompile(`\b(?:[a-z_]+\.){1,2}(?:read|manage|send)\b`)
	found := 0
	for _, f := range []string{"testdata/" + seedOverview, "testdata/" + seedStartCall, inventoryFile} {
		for _, s := range scopeName.FindAllString(readText(t, f), -1) {
			found++
			if !named[s] && RejectedScopes[s] == "" {
				t.Errorf("%s mentions scope %s, which Scopes does not name", f, s)
			}
		}
	}
	if found < 20 {
		t.Errorf("only %d scope mentions found: the pattern no longer matches the documents", found)
	}
}
