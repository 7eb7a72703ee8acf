package golden

import (
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	example := `{"id": 1, "name": "a", "tags": ["x"], "owner": {"email": "e"}, "items": [{"n": 1}], "note": "when available"}`
	for _, tc := range []struct {
		why, got string
		want     []string
	}{
		{"same shape, other values", `{"id": 9, "name": "b", "tags": [], "owner": {"email": "f"}, "items": [{"n": 2}, {"n": 3}], "note": "x"}`, nil},
		{"optional key left out", `{"id": 9, "name": "b", "tags": [], "owner": {"email": "f"}, "items": []}`, nil},
		{"wrong type", `{"id": "9", "name": "b", "tags": [], "owner": {"email": "f"}, "items": [], "note": "x"}`, []string{"id: number in the example, string in the answer"}},
		{"missing key", `{"id": 9, "tags": [], "owner": {}, "items": [], "note": "x"}`, []string{"name: missing", "owner.email: missing"}},
		{"extra key", `{"id": 9, "name": "b", "tags": [], "owner": {"email": "f"}, "items": [{"n": 1, "m": 2}], "note": "x"}`, []string{"items[].m: not in the example"}},
		{"nested item type", `{"id": 9, "name": "b", "tags": [1], "owner": {"email": "f"}, "items": [], "note": "x"}`, []string{"tags[]: string in the example, number"}},
	} {
		diffs := Compare([]byte(example), []byte(tc.got), []string{"note"}, nil)
		if len(diffs) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.why, diffs, tc.want)
			continue
		}
		for i, d := range diffs {
			if !strings.HasPrefix(d, tc.want[i]) {
				t.Errorf("%s: %q, want %q…", tc.why, d, tc.want[i])
			}
		}
	}
}
