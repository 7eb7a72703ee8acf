package native

import (
	"fmt"
	"reflect"
	"testing"

	"switchboard"
)

// TestQueueHoursAPI checks that the native API takes and shows a queue's
// menu type, hours, voicemail and callback slots, that a PATCH of one of
// them keeps the others, and that invalid values are 422 naming the field.
func TestQueueHoursAPI(t *testing.T) {
	ta := newTestAPI(t, nil)
	a := newFixture(t, ta.store, "acme")
	hours := map[string]any{"time_zone": "America/New_York",
		"weekly":   []any{map[string]any{"day": 1, "open": "08:00", "close": "20:00"}},
		"holidays": []any{map[string]any{"date": "2026-07-04", "name": "Independence Day", "open": "", "close": ""}}}
	res := ta.do(t, "POST", "/v1/queues", a.key, map[string]any{"name": "Hours", "menu_type": "mobile_menu", "hours": hours,
		"voicemail_enabled": true, "callback_slot_minutes": 30, "callback_slot_capacity": 2})
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	var q switchboard.Queue
	res.decode(t, &q)
	wantHours := &switchboard.OperatingHours{TimeZone: "America/New_York",
		Weekly:   []switchboard.OpenRange{{Day: 1, Open: "08:00", Close: "20:00"}},
		Holidays: []switchboard.Holiday{{Date: "2026-07-04", Name: "Independence Day"}}}
	check := func(how string, q switchboard.Queue, mt string, vm bool, mins, capacity int) {
		t.Helper()
		if q.MenuType != mt || !reflect.DeepEqual(q.Hours, wantHours) || q.VoicemailEnabled != vm ||
			q.CallbackSlotMinutes != mins || q.CallbackSlotCapacity != capacity {
			t.Fatalf("%s: %+v", how, q)
		}
	}
	check("created", q, "mobile_menu", true, 30, 2)
	res = ta.do(t, "PATCH", fmt.Sprintf("/v1/queues/%d", q.ID), a.key, map[string]any{"callback_slot_capacity": 5, "voicemail_enabled": false})
	if res.status != 200 {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	res.decode(t, &q)
	check("patched", q, "mobile_menu", false, 30, 5)
	ta.do(t, "GET", fmt.Sprintf("/v1/queues/%d", q.ID), a.key, nil).decode(t, &q)
	check("read", q, "mobile_menu", false, 30, 5)

	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"menu_type": "sms_menu"}, "menu_type"},
		{map[string]any{"hours": map[string]any{"time_zone": "Nowhere/Land"}}, "hours.time_zone"},
		{map[string]any{"hours": map[string]any{"weekly": []any{map[string]any{"day": 1, "open": "18:00", "close": "09:00"}}}}, "hours.weekly[0].close"},
		{map[string]any{"callback_slot_minutes": 5000}, "callback_slot_minutes"},
	} {
		res := ta.do(t, "PATCH", fmt.Sprintf("/v1/queues/%d", q.ID), a.key, c.body)
		if res.status != 422 {
			t.Fatalf("%v: %d %s", c.body, res.status, res.body)
		}
		if e := res.errorBody(t); e.Fields[c.field] == "" {
			t.Fatalf("%v: fields %v, want %s", c.body, e.Fields, c.field)
		}
	}
}
