package voiso

import (
	"strings"
	"testing"
)

func TestSMSSegments(t *testing.T) {
	for _, tc := range []struct {
		body string
		want int
	}{
		{"Your code is 1234", 1},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1},  // extension characters take two septets
		{strings.Repeat("€", 81), 2},  // 162 septets
		{strings.Repeat("é", 160), 1}, // in the default alphabet
		{strings.Repeat("ж", 70), 1},  // UCS-2
		{strings.Repeat("ж", 71), 2},
		{strings.Repeat("ж", 134), 2},
		{strings.Repeat("ж", 135), 3},
		{strings.Repeat("😀", 35), 1}, // two UTF-16 units each
		{strings.Repeat("😀", 36), 2},
		{strings.Repeat("a", 1600), 11},
	} {
		if got := smsSegments(tc.body); got != tc.want {
			t.Errorf("smsSegments(%d runes starting %q) = %d, want %d", len([]rune(tc.body)), []rune(tc.body)[0], got, tc.want)
		}
	}
}
