package voice360

import (
	"testing"

	"switchboard/internal/httpapi"
)

// TestEveryNumberHasARange walks every route's request body: each number a
// client can send has a documented range (a range tag, enforced by
// httpapi.CheckBody and shown in the OpenAPI document).
func TestEveryNumberHasARange(t *testing.T) {
	for _, rt := range New(Options{}).routes {
		if rt.Body == nil {
			continue
		}
		for _, f := range httpapi.UnboundedNumbers(rt.Body) {
			t.Errorf("%s %s: %s has no range tag", rt.Method, rt.Path, f)
		}
	}
}
