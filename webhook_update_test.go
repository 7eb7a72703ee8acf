package switchboard

import (
	"reflect"
	"testing"
)

// TestWebhookApplyChanges shows the three-way merge: what the update changed
// wins, what it left alone keeps the value stored meanwhile, and Clone shares
// nothing with the original.
func TestWebhookApplyChanges(t *testing.T) {
	before := Webhook{Name: "a", URL: "http://x/1", EventTypes: []string{"call.*"}, Headers: map[string]string{"K": "1"}, MaxAttempts: 3, Enabled: true}
	after := before.Clone()
	after.URL, after.EventTypes, after.Enabled = "http://x/2", []string{"sms.*"}, false
	after.Headers["K"] = "2"
	if before.Headers["K"] != "1" {
		t.Fatal("Clone shares the headers map")
	}
	now := before.Clone()
	now.Name, now.MaxAttempts, now.FailedCount = "renamed meanwhile", 5, 7
	now.ApplyChanges(before, after)
	want := Webhook{Name: "renamed meanwhile", URL: "http://x/2", EventTypes: []string{"sms.*"}, Headers: map[string]string{"K": "2"},
		MaxAttempts: 5, Enabled: false, FailedCount: 7}
	if !reflect.DeepEqual(now, want) {
		t.Errorf("merged = %+v\nwant %+v", now, want)
	}
}
