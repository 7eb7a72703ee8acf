package voice360

import (
	"encoding/json"
	"flag"
	"net/http/httptest"
	"testing"

	"switchboard/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi.json")

func TestOpenAPIGolden(t *testing.T) {
	doc := New(Options{}).OpenAPI()
	var v map[string]any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	paths := v["paths"].(map[string]any)
	for _, p := range []string{"/availability", "/queues", "/queues/{id}", "/availability/queues", "/availability/queues/{id}",
		"/call/outbound", "/sms/send", "/user/profile", "/user/numbers", "/webhooks", "/public/availability"} {
		if paths[Base+"/{account_id}"+p] == nil {
			t.Errorf("the document lacks %s", p)
		}
	}
	golden.File(t, "testdata/openapi.json", doc, *update)
}

func TestMaskKey(t *testing.T) {
	for in, want := range map[string]string{"v360_dev_abcdefghijkl": "v360_dev...", "abc": "abc...", "": "..."} {
		if got := maskKey(in); got != want {
			t.Errorf("maskKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClientKeyIsPerAddress(t *testing.T) {
	a, b, a2 := httptest.NewRequest("GET", "/", nil), httptest.NewRequest("GET", "/", nil), httptest.NewRequest("GET", "/", nil)
	a.RemoteAddr, b.RemoteAddr, a2.RemoteAddr = "192.0.2.1:5000", "192.0.2.2:5000", "192.0.2.1:6000"
	if clientKey(a) != clientKey(a2) || clientKey(a) == clientKey(b) || clientKey(a) >= 0 {
		t.Errorf("client keys %d %d %d: the same address must share a non-positive key, others differ", clientKey(a), clientKey(a2), clientKey(b))
	}
}
