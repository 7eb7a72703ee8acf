// The golden fixtures of the dialect: seed 004 and the inventory copied
// verbatim into testdata, every example of the seed in seed_examples.json and
// every shape of the inventory in shapes.json. These tests keep the fixtures
// in step with the verbatim texts, so that the replays built on them
// (cmd/switchboard's ujet golden test) check what UJET documents and nothing
// else; TestUJETOpenAPI checks the document the route table generates.

package ujet

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"switchboard/internal/golden"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/openapi.json from the current routes")

// The files the dialect is built against.
const (
	seedFile      = "testdata/seed_004.txt"
	inventoryFile = "testdata/ujet-apps-api.md"
	examplesFile  = "testdata/seed_examples.json"
	shapesFile    = "testdata/shapes.json"
	openAPIFile   = "testdata/openapi.json"
)

// The marks of evidence a shape and each of its fields carry: documented
// (the seed or the inventory shows it), inferred (the inventory reasons to
// it), ours (this dialect's choice where UJET documents nothing; a why says
// so).
const (
	markDocumented = "documented"
	markInferred   = "inferred"
	markOurs       = "ours"
)

// seedExample is one entry of seed_examples.json: a golden.Case that the
// end-to-end replay sends (or, for kind response, an object the seed shows)
// and where it comes from.
type seedExample struct {
	golden.Case
	// Group is the seed's heading ("Calls Endpoints") and Item the 1-based
	// position of the Postman item under it (0 for a response object).
	Group string `json:"group"`
	Item  int    `json:"item"`
	// Kind is exchange (a request of the seed), response (an object the
	// seed shows) or extra (a route the seed implies without an item of its
	// own, such as the list of the calls it describes; not counted in its
	// group).
	Kind string `json:"kind"`
	// SeedText is verbatim in the seed starting on Line; a body or response
	// is its JSON once Comments (phrases of the Postman export's // notes)
	// and the remaining // markers are taken out.
	Line     int      `json:"line"`
	SeedText string   `json:"seed_text"`
	Comments []string `json:"comments"`
	// BodySource says where a body comes from when the seed shows none:
	// spec (SpecText, verbatim in the inventory) or ours.
	BodySource string `json:"body_source"`
	SpecText   string `json:"spec_text"`
	// PathMark is confirmed or inferred, as the inventory's row quoted in
	// PathEvidence says.
	PathMark     string `json:"path_mark"`
	PathEvidence string `json:"path_evidence"`
	// Set replaces body fields (dotted paths) at replay: "{name}" is a value
	// of the replay's setup, null drops the field. Form is a multipart body
	// ("@file" is a file of testdata, "{name}" a value of the setup).
	Set  map[string]json.RawMessage `json:"set"`
	Form map[string]string          `json:"form"`
	// Capture names values of the answer (dotted paths, "." the whole body)
	// that later examples use.
	Capture map[string]string `json:"capture"`
	// RefShape is the shapes.json entry the answer is checked against, List
	// when the answer is a bare array of them; Message the exact text of an
	// expected refusal.
	RefShape string `json:"ref_shape"`
	List     bool   `json:"list"`
	// Paged lists carry the Total, Per-Page and Link headers.
	Paged   bool   `json:"paged"`
	Message string `json:"message"`
	// Step orders the replay (a chat is started before it is messaged).
	Step int `json:"step"`
}

// goldenShape is one entry of shapes.json: a golden.Case whose Response is
// an example object (Optional and Extra as golden.Compare reads them; an
// Extra of "*" or "a.*" admits any field, or any under a), and the type and
// evidence of each of its fields.
type goldenShape struct {
	golden.Case
	Section string                `json:"section"`
	Mark    string                `json:"mark"`
	Why     string                `json:"why"`
	Route   string                `json:"route"`
	Fields  map[string]shapeField `json:"fields"`
}

type shapeField struct {
	Type string `json:"type"`
	Mark string `json:"mark"`
	Why  string `json:"why"`
}

func goldenText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// goldenStrict decodes path into v refusing unknown keys, so that a
// misspelt key of a fixture fails instead of being ignored.
func goldenStrict(t *testing.T, path string, v any) {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(goldenText(t, path)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadSeedExamples(t *testing.T) []seedExample {
	t.Helper()
	var list []seedExample
	goldenStrict(t, examplesFile, &list)
	if len(golden.Load(t, examplesFile)) != len(list) {
		t.Fatalf("%s does not load as golden cases", examplesFile)
	}
	return list
}

func loadGoldenShapes(t *testing.T) map[string]goldenShape {
	t.Helper()
	var list []goldenShape
	goldenStrict(t, shapesFile, &list)
	out := map[string]goldenShape{}
	for _, s := range list {
		if s.Name == "" {
			t.Errorf("%s: a shape without a name", shapesFile)
		}
		if _, dup := out[s.Name]; dup {
			t.Errorf("%s: %q twice", shapesFile, s.Name)
		}
		out[s.Name] = s
	}
	return out
}

func decodeJSON(raw []byte) (any, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return normalizeNumbers(v), nil
}

// normalizeNumbers turns json.Number into float64 so that values decoded
// from the seed and from the fixtures compare equal.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, c := range x {
			x[k] = normalizeNumbers(c)
		}
	case []any:
		for i, c := range x {
			x[i] = normalizeNumbers(c)
		}
	}
	return v
}

// uncomment is the JSON of a seed fragment: the Postman export flattened its
// bodies' // notes onto one line, so the notes given are taken out, then
// the // markers of commented-out lines.
func uncomment(text string, comments []string) (string, error) {
	for _, c := range comments {
		if !strings.Contains(text, c) {
			return "", fmt.Errorf("comment %q is not in the text", c)
		}
		text = strings.ReplaceAll(text, c, " ")
	}
	return strings.ReplaceAll(text, "//", " "), nil
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

// seedJSON finds every JSON value the seed writes out: objects wherever they
// start, arrays where a line starts with one (prose brackets like id[] are
// not examples).
func seedJSON(doc string) []any {
	var out []any
	lineStart := true
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if c == '{' || c == '[' && lineStart {
			d := json.NewDecoder(strings.NewReader(doc[i:]))
			var v any
			if d.Decode(&v) == nil {
				out = append(out, v)
				i += int(d.InputOffset()) - 1
				lineStart = false
				continue
			}
		}
		switch {
		case c == '\n':
			lineStart = true
		case c != ' ' && c != '\t':
			lineStart = false
		}
	}
	return out
}

// contains reports whether want equals v or a value nested in it.
func contains(v, want any) bool {
	if reflect.DeepEqual(v, want) {
		return true
	}
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			if contains(c, want) {
				return true
			}
		}
	case []any:
		for _, c := range x {
			if contains(c, want) {
				return true
			}
		}
	}
	return false
}

// seedGroups are the seed's endpoint groups: heading, count and the line
// the heading is on, in the seed's order.
type seedGroup struct {
	Name        string
	Count, Line int
}

var headingRE = regexp.MustCompile(`^([A-Z][A-Za-z -]*[A-Za-z]) (\d+)$`)

// notEndpoints are headings of the seed that count something other than
// requests.
var notEndpoints = map[string]string{"Available Variables": "lists the Postman collection's variables, not requests"}

func seedGroups(doc string) []seedGroup {
	var out []seedGroup
	for i, l := range strings.Split(doc, "\n") {
		if m := headingRE.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[2])
			out = append(out, seedGroup{Name: m[1], Count: n, Line: i + 1})
		}
	}
	return out
}

var (
	placeholderRE = regexp.MustCompile(`\{[a-z0-9_]+\}`)
	// confirmedRE is the inventory's Src column of a confirmed row: C or
	// C\* (an official page, release notes or a real integration).
	confirmedRE = regexp.MustCompile(`\| C(\\\*)? `)
)

// TestUJETSeedExamples checks seed_examples.json against the verbatim seed
// and inventory: every request of the seed is an example, in its group,
// with a body that is the seed's JSON (or the inventory's, where the seed
// shows none), a path the inventory gives with the evidence it quotes, and a
// shape that shapes.json holds.
func TestUJETSeedExamples(t *testing.T) {
	seed := goldenText(t, seedFile)
	inv := goldenText(t, inventoryFile)
	examples := loadSeedExamples(t)
	shapes := loadGoldenShapes(t)
	groups := seedGroups(seed)
	if len(groups) != 16 {
		t.Fatalf("found %d group headings in the seed, want 16: %v", len(groups), groups)
	}
	groupOf := map[string]seedGroup{}
	for _, g := range groups {
		groupOf[g.Name] = g
	}
	// end is the line of the heading after g's (or the end of the seed).
	end := func(g seedGroup) int {
		i := slices.IndexFunc(groups, func(h seedGroup) bool { return h.Line == g.Line })
		if i+1 < len(groups) {
			return groups[i+1].Line
		}
		return strings.Count(seed, "\n") + 2
	}
	names := map[string]bool{}
	items := map[string]map[int]bool{}
	exampleLines := map[int]bool{}
	var covered []any
	for _, e := range examples {
		what := e.Name
		if what == "" || names[what] {
			t.Errorf("an example is unnamed or its name %q is taken", what)
		}
		names[what] = true
		g, ok := groupOf[e.Group]
		switch {
		case !ok || notEndpoints[e.Group] != "":
			t.Errorf("%s: group %q is not an endpoint group of the seed", what, e.Group)
		case e.Line < g.Line || e.Line >= end(g):
			t.Errorf("%s: line %d is outside its group %s (lines %d-%d)", what, e.Line, g.Name, g.Line, end(g)-1)
		}
		if e.SeedText == "" || !lineAt(seed, e.SeedText, e.Line) {
			t.Errorf("%s: its seed_text is not in the seed at line %d", what, e.Line)
		}
		exampleLines[e.Line] = true
		if !strings.HasPrefix(e.Path, prefix) || strings.Contains(e.Path, "//") {
			t.Errorf("%s: path %q is not under %s", what, e.Path, prefix)
		}
		if e.PathMark != "confirmed" && e.PathMark != "inferred" {
			t.Errorf("%s: path_mark %q, want confirmed or inferred", what, e.PathMark)
		}
		if e.PathEvidence == "" || !strings.Contains(inv, e.PathEvidence) {
			t.Errorf("%s: its path_evidence is not verbatim in the inventory", what)
		} else if e.PathMark == "confirmed" && !confirmedRE.MatchString(e.PathEvidence) {
			t.Errorf("%s: confirmed, but the inventory's row marks it otherwise: %s", what, e.PathEvidence)
		}
		// The body is the seed's JSON, or the inventory's where the seed
		// has none (then quoted in spec_text), or ours (said so).
		var body any
		if e.Body != nil {
			var err error
			if body, err = decodeJSON(e.Body); err != nil {
				t.Errorf("%s: the body does not parse: %v", what, err)
			}
			covered = append(covered, body)
		}
		switch e.BodySource {
		case "":
			if e.Body == nil {
				break
			}
			text, err := uncomment(e.SeedText, e.Comments)
			if err != nil {
				t.Errorf("%s: %v", what, err)
				break
			}
			if v, err := decodeJSON([]byte(text)); err != nil || !reflect.DeepEqual(v, body) {
				t.Errorf("%s: the body is not the seed's %s (%v)", what, e.SeedText, err)
			}
		case "seed":
			// A key/value body of the Postman export, sent as JSON: its
			// keys are in the seed text.
			m, _ := body.(map[string]any)
			for k := range m {
				if !strings.Contains(e.SeedText, k) {
					t.Errorf("%s: the body's %s is not in the seed text", what, k)
				}
			}
		case "spec":
			if e.SpecText == "" || !strings.Contains(inv, e.SpecText) {
				t.Errorf("%s: its spec_text is not verbatim in the inventory", what)
				break
			}
			// The inventory abbreviates values with …: its keys must be
			// the body's.
			keys := regexp.MustCompile(`"([a-z_]+)":`).FindAllStringSubmatch(e.SpecText, -1)
			if len(keys) == 0 {
				t.Errorf("%s: the spec_text has no keys", what)
			}
			for _, k := range keys {
				if !strings.Contains(string(e.Body), `"`+k[1]+`"`) {
					t.Errorf("%s: the inventory's key %s is not in the body", what, k[1])
				}
			}
		case "ours":
			if e.Note == "" && e.Body == nil {
				t.Errorf("%s: a body of ours without a body", what)
			}
		default:
			t.Errorf("%s: body_source %q", what, e.BodySource)
		}
		// Set only replaces what the body has.
		for p := range e.Set {
			if !hasPath(body, p) {
				t.Errorf("%s: set %s, which the body does not have", what, p)
			}
		}
		if e.RefShape != "" {
			if _, ok := shapes[e.RefShape]; !ok {
				t.Errorf("%s: no shape %q in %s", what, e.RefShape, shapesFile)
			}
		}
		if e.Paged && (!e.List || e.Method != "GET") {
			t.Errorf("%s: paged, but not a GET of a list", what)
		}
		switch e.Kind {
		case "exchange", "extra":
			if e.Kind == "extra" && (e.Item != 0 || e.Note == "") {
				t.Errorf("%s: an extra is no item of the seed (item 0) and says why it is here", what)
			}
			if e.Kind == "exchange" {
				if items[e.Group] == nil {
					items[e.Group] = map[int]bool{}
				}
				items[e.Group][e.Item] = true
			}
			if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, e.Method) || e.Status < 200 || e.Status > 499 {
				t.Errorf("%s: %s answering %d is not a request", what, e.Method, e.Status)
			}
			if e.Status >= 400 && (e.Message == "" || e.RefShape != "error") {
				t.Errorf("%s: a refusal needs UJET's message and the error shape", what)
			}
			if e.Response != nil {
				// The seed's answer of this request: its text's JSON,
				// each item of the example's shape.
				resp, err := decodeJSON(e.Response)
				if err != nil {
					t.Errorf("%s: the response does not parse: %v", what, err)
				}
				covered = append(covered, resp)
				if v, err := decodeJSON([]byte(e.SeedText)); err != nil || !reflect.DeepEqual(v, resp) {
					t.Errorf("%s: the response is not the seed's text (%v)", what, err)
				}
				items, _ := resp.([]any)
				if !e.List || len(items) == 0 {
					t.Errorf("%s: a seed answer of a list request is a non-empty list", what)
				}
				for _, it := range items {
					one, _ := json.Marshal(it)
					for _, d := range checkShapeFields(shapes[e.RefShape], one) {
						t.Errorf("%s: the seed's answer against shape %s: %s", what, e.RefShape, d)
					}
				}
			}
			for _, v := range placeholderRE.FindAllString(e.Path, -1) {
				if !slices.Contains([]string{"{call_id}", "{chat_id}"}, v) && !strings.HasSuffix(v, "_id}") && !strings.HasSuffix(v, "_menu}") {
					t.Errorf("%s: path placeholder %s is not an id or a menu", what, v)
				}
			}
		case "response":
			resp, err := decodeJSON(e.Response)
			if err != nil || e.Method != "GET" || e.Item != 0 || e.RefShape == "" {
				t.Errorf("%s: a response example needs a response (%v), the route that answers it and its shape", what, err)
				continue
			}
			covered = append(covered, resp)
			text, err := uncomment(e.SeedText, e.Comments)
			if v, err2 := decodeJSON([]byte(text)); err != nil || err2 != nil || !reflect.DeepEqual(v, resp) {
				t.Errorf("%s: the response is not the seed's (%v, %v)", what, err, err2)
			}
			// Its shape is the seed's object, type for type.
			s := shapes[e.RefShape]
			one := e.Response
			if arr, ok := resp.([]any); ok && len(arr) > 0 {
				one, _ = json.Marshal(arr[0])
			}
			for _, d := range checkShapeFields(s, one) {
				t.Errorf("%s: against shape %s: %s", what, s.Name, d)
			}
		default:
			t.Errorf("%s: kind %q, want exchange, response or extra", what, e.Kind)
		}
	}
	// Every group's items, as many as its heading says, 1..n.
	for _, g := range groups {
		if notEndpoints[g.Name] != "" {
			continue
		}
		got := items[g.Name]
		for i := 1; i <= g.Count; i++ {
			if !got[i] {
				t.Errorf("group %s (%d items): item %d has no example", g.Name, g.Count, i)
			}
		}
		if len(got) != g.Count {
			t.Errorf("group %s: the heading says %d items, the examples have %d", g.Name, g.Count, len(got))
		}
	}
	// Every body the seed prints after "Body" is an example.
	lines := strings.Split(seed, "\n")
	for i, l := range lines {
		if l == "Body" && !exampleLines[i+1] && !exampleLines[i+2] {
			t.Errorf("the seed's body at line %d (%.60s) is no example's", i+1, lines[min(i+1, len(lines)-1)])
		}
	}
	// Every JSON value of the seed is an example's body or response, or in
	// one.
	found := seedJSON(seed)
	if len(found) < 25 {
		t.Fatalf("found %d JSON values in the seed: the scan no longer finds them", len(found))
	}
	for _, v := range found {
		v = normalizeNumbers(v)
		if !slices.ContainsFunc(covered, func(c any) bool { return contains(c, v) }) {
			t.Errorf("the seed shows %v, which no example holds", v)
		}
	}
}

// hasPath reports whether v has the dotted path p.
func hasPath(v any, p string) bool {
	for _, k := range strings.Split(p, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return false
		}
	}
	return true
}

// checkShapeFields compares one answer object with shape s: golden.CheckTypes
// over the shape's fields, less the absences its Optional allows and the
// additions its Extra allows. cmd/switchboard's replay applies the same rule.
func checkShapeFields(s goldenShape, got []byte) []string {
	fields := map[string]string{}
	for p, f := range s.Fields {
		fields[p] = f.Type
	}
	var out []string
	for _, d := range golden.CheckTypes(fields, got) {
		path, rest, _ := strings.Cut(d, ": ")
		switch {
		case rest == "missing from the answer" && slices.Contains(s.Optional, path):
		case rest == "not in the shape" && extraAllowed(s.Extra, path):
		default:
			out = append(out, d)
		}
	}
	return out
}

// extraAllowed reports whether an answer may add path: it is listed, or
// under a listed "a.*", or "*" is listed.
func extraAllowed(extra []string, path string) bool {
	for _, e := range extra {
		if e == "*" || e == path || strings.HasSuffix(e, ".*") && strings.HasPrefix(path, strings.TrimSuffix(e, "*")) {
			return true
		}
	}
	return false
}

var validType = regexp.MustCompile(`^(string|integer|number|boolean|object|array)(\|(string|integer|null))*$`)

// TestUJETShapes checks that every shape's fields are exactly its example's,
// each typed as the example is and marked with its evidence, and that a
// field of ours says why.
func TestUJETShapes(t *testing.T) {
	shapes := loadGoldenShapes(t)
	marks := []string{markDocumented, markInferred, markOurs}
	for name, s := range shapes {
		if !slices.Contains(marks, s.Mark) || s.Section == "" {
			t.Errorf("%s: mark %q, section %q", name, s.Mark, s.Section)
		}
		v, err := decodeJSON(s.Response)
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
			if !slices.Contains(marks, f.Mark) {
				t.Errorf("%s: %s is marked %q", name, p, f.Mark)
			}
			if f.Mark == markOurs && shapeWhy(s, p) == "" {
				t.Errorf("%s: %s is ours without a why (on it, a parent or the shape)", name, p)
			}
		}
		for _, p := range s.Optional {
			if _, ok := s.Fields[p]; !ok {
				t.Errorf("%s: optional %s is not a field", name, p)
			}
		}
		// The example passes its own check.
		if arr, ok := v.([]any); ok {
			t.Errorf("%s: the example is an array of %d; a shape is one object", name, len(arr))
		} else if d := checkShapeFields(s, s.Response); len(d) > 0 {
			t.Errorf("%s: its example fails its own fields: %v", name, d)
		}
	}
}

// shapeWhy is the reason given for path: its own, its nearest parent's, or
// the shape's.
func shapeWhy(s goldenShape, path string) string {
	for p := path; p != ""; {
		if w := s.Fields[p].Why; w != "" {
			return w
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return s.Why
}

// TestUJETShapesCoverInventory checks that every object the inventory
// writes out as JSON has a shape whose example has its keys, and that every
// shape the examples do not use says why it is kept.
func TestUJETShapesCoverInventory(t *testing.T) {
	inv := goldenText(t, inventoryFile)
	shapes := loadGoldenShapes(t)
	var objects []map[string]any
	for _, v := range seedJSON(inv) {
		switch x := v.(type) {
		case map[string]any:
			objects = append(objects, x)
		case []any:
			for _, item := range x {
				if m, ok := item.(map[string]any); ok {
					objects = append(objects, m)
				}
			}
		}
	}
	if len(objects) < 4 { // wait time, operation status, queue status, bulk job …
		t.Fatalf("found %d JSON objects in the inventory: the scan no longer finds them", len(objects))
	}
	for _, o := range objects {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range o {
				if !yield(k) {
					return
				}
			}
		})
		ok := slices.ContainsFunc(slices.Collect(func(yield func(goldenShape) bool) {
			for _, s := range shapes {
				if !yield(s) {
					return
				}
			}
		}), func(s goldenShape) bool { return shapeHolds(s, keys) })
		// Request bodies the inventory writes out are the examples'
		// business, not a shape's.
		if !ok && !requestBody(keys) {
			t.Errorf("the inventory shows an object with keys %v that no shape has", keys)
		}
	}
	// The named shapes of the inventory's sections: §3.1 call, §3.2 chat
	// and SMS chat, §3.4 agent, §2.3 wait time, §2.10 operation and queue
	// status, §2.9 DNC entry, §2.5 campaign and contact, §2.4 job, §2.7 end
	// user, §2.6 agent status, §1 error.
	for _, name := range []string{"call", "chat", "sms chat", "agent", "user", "wait time", "queue operation status", "queue status",
		"dnc entry", "campaign", "contact", "bulk job", "bulk template row", "end user", "agent status", "error", "customer flags", "menu"} {
		if _, ok := shapes[name]; !ok {
			t.Errorf("no shape %q", name)
		}
	}
	used := map[string]bool{}
	for _, e := range loadSeedExamples(t) {
		used[e.RefShape] = true
	}
	for name, s := range shapes {
		if !used[name] && s.Note == "" && s.Why == "" {
			t.Errorf("shape %s is used by no example and says nothing of why it is kept", name)
		}
	}
}

// shapeHolds reports whether s has an object, at its top or nested, with
// every one of keys.
func shapeHolds(s goldenShape, keys []string) bool {
	parents := []string{""}
	for p := range s.Fields {
		parents = append(parents, p+".")
	}
	return slices.ContainsFunc(parents, func(parent string) bool {
		for _, k := range keys {
			if _, has := s.Fields[parent+k]; !has {
				return false
			}
		}
		return true
	})
}

// requestBody reports whether keys are those of a request the inventory
// writes out (a body, not an answer).
func requestBody(keys []string) bool {
	for _, set := range [][]string{
		{"agent_ids", "status", "team_ids"}, {"agent_ids", "ip_addrs", "team_ids"}, {"contacts"}, {"chat"},
		{"finished_by_user_id", "chat"}, {"from_user_id", "message"}, {"force_escalate", "reason"}, {"id"}, {"custom_data"},
		{"signed"}, {"phone_numbers"}, {"content", "type"}, {"text"}, {"media_id"},
	} {
		sort.Strings(set)
		if slices.Equal(set, keys) {
			return true
		}
	}
	return false
}
