package switchboard

import (
	"slices"
	"testing"
)

func TestSetDialectTypes(t *testing.T) {
	vocabulary := map[string][]string{"CALL_ENDED": {"call.ended"}, "USER_HANGUP": {"call.ended"}, "SMS_SENT": {"sms.sent"}}
	var w Webhook
	if unknown := w.SetDialectTypes(vocabulary, "CALL_ENDED", "USER_HANGUP", "SMS_SENT"); unknown != "" {
		t.Fatalf("unknown %q", unknown)
	}
	if !slices.Equal(w.EventTypes, []string{"call.ended", "sms.sent"}) || !slices.Equal(w.DialectTypes, []string{"CALL_ENDED", "USER_HANGUP", "SMS_SENT"}) {
		t.Errorf("types %v from %v", w.EventTypes, w.DialectTypes)
	}
	if unknown := w.SetDialectTypes(vocabulary, "SMS_SENT", "CALL_STARTED"); unknown != "CALL_STARTED" || len(w.DialectTypes) != 3 {
		t.Errorf("unknown %q, and w changed to %v", unknown, w.DialectTypes)
	}
}
