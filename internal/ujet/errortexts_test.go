package ujet

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// errorText is one entry of error_texts.json: a documented error text (Text,
// verbatim in the seed or the inventory on Line) and the request that
// makes the dialect answer it, Message in a refusal or ItemError in an
// item of a 200 list; setup entries prepare the state a refusal needs.
type errorText struct {
	Name      string          `json:"name"`
	Source    string          `json:"source"`
	Text      string          `json:"text"`
	Line      int             `json:"line"`
	Method    string          `json:"method"`
	Path      string          `json:"path"`
	Body      json.RawMessage `json:"body"`
	Form      json.RawMessage `json:"form"`
	Status    int             `json:"status"`
	Message   string          `json:"message"`
	ItemError string          `json:"item_error"`
	RefShape  string          `json:"ref_shape"`
	As        string          `json:"as"`
	Capture   json.RawMessage `json:"capture"`
	Step      int             `json:"step"`
	Note      string          `json:"note"`
	Setup     bool            `json:"setup"`
}

// errorTextsFile holds the error texts of the seed and the inventory with
// the requests that reproduce them.
const errorTextsFile = "testdata/error_texts.json"

// notReproduced are the documented error texts no request reproduces, and
// why.
var notReproduced = map[string]string{
	"…: comm_type": "the comm type is the path's (calls or chats); another is 404 Not Found, which is reproduced",
	"Menu is in 'manual redirection' state, can't accept calls":                        "the core has no manual redirection state of a queue",
	"Unsupported CRM request":                                                          "no CRM is connected to this server",
	"Duplicate request: Please wait for the interval to expire":                        "the core keeps no interval between end user updates; a retried POST is answered by its Idempotency-Key instead",
	"Missing parameter - check to ensure that the required parameters have been added": "the seed's meaning of the missing-parameter 400s, which are reproduced by their messages (menu_id is required, …)",
	"Resource not found - Please check your subdomain":                                 "a wrong subdomain is 401 here (the slug names the tenant: doc.go, Auth); an unknown object is 404 Not Found, which is reproduced",
}

// documentedErrors are the error texts of the inventory's lists (SMS, call
// creation, mid-session end users, DNC entries, languages) and of the
// seed's response code tables.
func documentedErrors(t *testing.T, inv, seed string) []string {
	t.Helper()
	tick := regexp.MustCompile("`([^`]+)`")
	var out []string
	for _, l := range strings.Split(inv, "\n") {
		var part string
		switch {
		case strings.HasPrefix(l, "SMS error messages"), strings.HasPrefix(l, "Call creation error messages"),
			strings.HasPrefix(l, "400 `param is missing"):
			part = l
		case strings.HasPrefix(l, "| Add numbers |"):
			_, part, _ = strings.Cut(l, "errors like")
		case strings.HasPrefix(l, "| Languages |"):
			_, part, _ = strings.Cut(l, "Unknown language")
		default:
			continue
		}
		for _, m := range tick.FindAllStringSubmatch(part, -1) {
			if strings.Contains(m[1], " ") && !strings.HasPrefix(m[1], "{") {
				out = append(out, m[1])
			}
		}
	}
	for _, l := range strings.Split(seed, "\n") {
		if m := regexp.MustCompile(`^(400|404)(\D.+)$`).FindStringSubmatch(l); m != nil {
			out = append(out, m[2])
		}
	}
	if len(out) < 40 {
		t.Fatalf("found %d documented error texts: the scan no longer finds them", len(out))
	}
	return out
}

// TestUJETErrorTexts checks error_texts.json against the seed and the
// inventory: each text is verbatim where it says, its request expects that
// very text (or the message the text describes), and every documented
// error text is reproduced here or by a seed example, or said not to be
// reproducible and why.
func TestUJETErrorTexts(t *testing.T) {
	seed := goldenText(t, seedFile)
	inv := goldenText(t, inventoryFile)
	var entries []errorText
	goldenStrict(t, errorTextsFile, &entries)
	covered := map[string]bool{}
	names := map[string]bool{}
	for _, e := range entries {
		if e.Name == "" || names[e.Name] {
			t.Errorf("an entry is unnamed or its name %q is taken", e.Name)
		}
		names[e.Name] = true
		doc := map[string]string{"seed": seed, "spec": inv}[e.Source]
		if doc == "" || !lineAt(doc, e.Text, e.Line) && !strings.Contains(strings.Split(doc, "\n")[max(0, e.Line-1)], e.Text) {
			t.Errorf("%s: %q is not in the %s at line %d", e.Name, e.Text, e.Source, e.Line)
		}
		if !strings.HasPrefix(e.Path, prefix) && !strings.HasPrefix(e.Path, "/v1/") {
			t.Errorf("%s: path %s is neither the dialect's nor the native API's (setup)", e.Name, e.Path)
		}
		if e.Body != nil {
			if _, err := decodeJSON(e.Body); err != nil {
				t.Errorf("%s: the body does not parse: %v", e.Name, err)
			}
		}
		if e.As != "" && e.As != "other" {
			t.Errorf("%s: as %q, want other or nothing", e.Name, e.As)
		}
		if e.Setup {
			if e.Status >= 400 || e.Note == "" {
				t.Errorf("%s: a setup step succeeds and says what it prepares", e.Name)
			}
			continue
		}
		switch {
		case e.ItemError != "":
			if e.ItemError != e.Text || e.Status != 200 {
				t.Errorf("%s: an entry's error %q in a 200 list must be the text %q", e.Name, e.ItemError, e.Text)
			}
		case e.Message == e.Text, strings.HasSuffix(e.Message, " "+e.Text),
			strings.HasPrefix(strings.ToLower(e.Text), strings.ToLower(e.Message)+" - ") && e.Note != "":
			if e.Status < 400 || e.RefShape != "error" {
				t.Errorf("%s: a refusal answers 4xx with the error shape", e.Name)
			}
		default:
			t.Errorf("%s: message %q does not say the documented %q", e.Name, e.Message, e.Text)
		}
		covered[e.Text] = true
	}
	for _, e := range loadSeedExamples(t) {
		if e.Message != "" {
			covered[e.Message] = true
		}
	}
	for _, text := range documentedErrors(t, inv, seed) {
		switch {
		case covered[text] && notReproduced[text] != "":
			t.Errorf("%q is reproduced and also said not to be", text)
		case !covered[text] && notReproduced[text] == "":
			t.Errorf("the documented error %q is not reproduced, nor said why not", text)
		}
	}
}
