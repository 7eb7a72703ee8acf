package golden

import (
	"strings"
	"testing"
)

func TestCheckTypes(t *testing.T) {
	fields := map[string]string{"items": "array", "items[]": "object", "items[].id": "integer",
		"items[].name": "string|null", "metadata": "object", "metadata.total": "integer"}
	for _, tc := range []struct {
		answer string
		want   []string
	}{
		{`{"items":[{"id":1,"name":"a"},{"id":2,"name":null}],"metadata":{"total":2}}`, nil},
		{`{"items":[],"metadata":{"total":0}}`, nil},
		{`{"items":[{"id":1.5,"name":"a"}],"metadata":{"total":1}}`, []string{"items[].id: number in the answer, integer in the shape"}},
		{`{"items":[{"id":1}],"metadata":{"total":1,"next":null}}`, []string{"items[].name: missing from the answer", "metadata.next: not in the shape"}},
		{`{"metadata":{"total":"1"}}`, []string{"items: missing from the answer", "metadata.total: string in the answer, integer in the shape"}},
	} {
		if got := CheckTypes(fields, []byte(tc.answer)); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tc.answer, got, tc.want)
		}
	}
}
