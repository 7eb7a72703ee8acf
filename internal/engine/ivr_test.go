package engine

import "testing"

func TestPromptMedia(t *testing.T) {
	m := PromptMedia(42, "main-menu.v2")
	if m != "prompt:t42-main-menu.v2" {
		t.Fatalf("PromptMedia = %q", m)
	}
	if tenant, name, ok := ParsePromptMedia(m); !ok || tenant != 42 || name != "main-menu.v2" {
		t.Errorf("ParsePromptMedia(%q) = %d, %q, %v", m, tenant, name, ok)
	}
	for _, bad := range []string{"moh:default", "ringback", "prompt:", "prompt:t42", "prompt:t42-", "prompt:tx-main",
		"prompt:t-1-main", "prompt:t0-main", "prompt:t+4-main", "prompt:main"} {
		if _, _, ok := ParsePromptMedia(bad); ok {
			t.Errorf("ParsePromptMedia(%q) accepted it", bad)
		}
	}
}
