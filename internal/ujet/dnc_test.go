package ujet

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard"
)

// TestUJETDNC runs the Company DNC list's three operations on both engines:
// the seed's add body (created, then updated with the new expiry), each
// documented refusal per entry, removal per number, and the check, with
// the list being the one the call center refuses to dial.
func TestUJETDNC(t *testing.T) {
	p5EachEngine(t, func(t *testing.T, f *p5Fixture) {
		ctx := context.Background()
		future := time.Now().UTC().AddDate(1, 0, 0).Truncate(24 * time.Hour)
		futureText := future.Format("2006-01-02 15:04:05 UTC")
		// The seed's body, its expiry moved into the future (the seed's
		// 2022-10-29 has passed: that entry is the past-date refusal below).
		var got []map[string]any
		f.json("POST", "/outbound_dialer/dnc", fmt.Sprintf(`{"contacts":[{"phone_number":"+1-7187309219","expires_at":%q},{"phone_number":"+1 (415) 555-0100"}]}`,
			futureText), 200, &got)
		if len(got) != 2 {
			t.Fatalf("add answered %v, want one entry per contact", got)
		}
		entry := map[string]string{"phone_number": "string", "expires_at": "string|null", "status": "string"}
		for i, e := range got {
			wantShape(t, fmt.Sprintf("entry %d", i), e, entry)
		}
		if got[0]["phone_number"] != "+17187309219" || got[0]["expires_at"] != futureText || got[0]["status"] != "created" {
			t.Errorf("first entry = %v", got[0])
		}
		if got[1]["phone_number"] != "+14155550100" || got[1]["expires_at"] != nil || got[1]["status"] != "created" {
			t.Errorf("second entry = %v", got[1])
		}

		// The call center refuses both numbers, by click-to-call and by
		// schedule.
		for _, n := range []string{"+17187309219", "+14155550100"} {
			_, err := f.calls.Dial(ctx, f.tenant.ID, switchboard.DialRequest{UserID: f.agent.ID, PhoneNumber: n})
			if switchboard.ErrorCode(err) != switchboard.CodeForbidden {
				t.Errorf("Dial(%s) on the DNC list: %v, want refused", n, err)
			}
			_, err = f.calls.Schedule(ctx, f.tenant.ID, switchboard.ScheduleRequest{QueueID: f.queue.ID, PhoneNumber: n, At: time.Now().Add(time.Hour)})
			if switchboard.ErrorCode(err) != switchboard.CodeForbidden {
				t.Errorf("Schedule(%s) on the DNC list: %v, want refused", n, err)
			}
		}

		// Re-adding: updated, with the new expiry; every refusal with its
		// text, the others still going in.
		later := future.AddDate(0, 1, 0)
		f.json("POST", "/outbound_dialer/dnc", map[string]any{"contacts": []map[string]any{
			{"phone_number": "+1-7187309219", "expires_at": later.Format(time.RFC3339)},
			{"phone_number": "+1-7187309220", "expires_at": "2022-10-29 00:00:00 UTC"},
			{"phone_number": "not a number"},
			{"phone_number": "911"},
			{"phone_number": "+1 911"},
			{"phone_number": "112"},
			{"phone_number": "+44 999"},
			{"phone_number": ""},
			{"phone_number": "+12125550123", "expires_at": "next tuesday"},
			{"phone_number": "12125550124", "expires_at": nil},
		}}, 200, &got)
		want := []struct{ number, status, err string }{
			{"+17187309219", "updated", ""},
			{"+1-7187309220", "failed", "expires_at cannot be past date/time"},
			{"not a number", "failed", "phone_number is invalid"},
			{"911", "failed", "emergency phone number is not allowed"},
			{"+1 911", "failed", "emergency phone number is not allowed"},
			{"112", "failed", "emergency phone number is not allowed"},
			{"+44 999", "failed", "emergency phone number is not allowed"},
			{"", "failed", "phone_number can't be blank"},
			{"+12125550123", "failed", "expires_at is invalid"},
			{"+12125550124", "created", ""},
		}
		if len(got) != len(want) {
			t.Fatalf("add answered %d entries, want %d: %v", len(got), len(want), got)
		}
		for i, w := range want {
			e := got[i]
			if e["phone_number"] != w.number || e["status"] != w.status || (w.err != "" && e["error"] != w.err) || (w.err == "" && e["error"] != nil) {
				t.Errorf("entry %d = %v, want %s %s %q", i, e, w.number, w.status, w.err)
			}
			if w.status == "failed" {
				wantShape(t, fmt.Sprintf("failed entry %d", i), e, map[string]string{"phone_number": "string", "expires_at": "string|null",
					"status": "string", "error": "string"})
			}
		}
		if got[0]["expires_at"] != dncTime(later) || got[1]["expires_at"] != "2022-10-29 00:00:00 UTC" {
			t.Errorf("expiries = %v, %v: the update's new one, and the refused one as sent", got[0]["expires_at"], got[1]["expires_at"])
		}

		// Check: listed with its expiry; listed for good; not listed; the
		// other tenant sees none of it; a key without the scope may read.
		check := func(key, slug, number string) (int, map[string]any) {
			var v map[string]any
			status, _, raw := f.do("GET", "/outbound_dialer/dnc/check?phone_number="+url.QueryEscape(number), slug, key, nil)
			if status == 200 {
				wantShape(t, "check", p5Object(t, raw, &v), map[string]string{"phone_number": "string", "in_dnc": "boolean", "expires_at": "string|null"})
			}
			return status, v
		}
		if _, v := check(f.readKey, "acme", "+1 718 730 9219"); v["in_dnc"] != true || v["expires_at"] != dncTime(later) || v["phone_number"] != "+17187309219" {
			t.Errorf("check of a listed number = %v", v)
		}
		if _, v := check(f.key, "acme", "+14155550100"); v["in_dnc"] != true || v["expires_at"] != nil {
			t.Errorf("check of a number listed for good = %v", v)
		}
		if _, v := check(f.key, "acme", "+12125550199"); v["in_dnc"] != false || v["expires_at"] != nil {
			t.Errorf("check of a number not listed = %v", v)
		}
		if _, v := check(f.otherKey, "other", "+17187309219"); v["in_dnc"] != false {
			t.Errorf("the other tenant sees the list: %v", v)
		}
		if status, _ := check(f.key, "other", "+17187309219"); status != 401 {
			t.Errorf("a key under another tenant's slug: %d, want 401", status)
		}
		if status, _, raw := f.do("GET", "/outbound_dialer/dnc/check", "acme", f.key, nil); status != 400 ||
			strings.TrimSpace(string(raw)) != `{"message":"param is missing or the value is empty: phone_number"}` {
			t.Errorf("check without a number: %d %s", status, raw)
		}
		if status, _, raw := f.do("GET", "/outbound_dialer/dnc/check?phone_number=abc", "acme", f.key, nil); status != 400 ||
			strings.TrimSpace(string(raw)) != `{"message":"phone_number is invalid"}` {
			t.Errorf("check of an invalid number: %d %s", status, raw)
		}
		if status, _, _ := f.do("POST", "/outbound_dialer/dnc", "acme", f.readKey, map[string]any{"contacts": []any{}}); status != 403 {
			t.Errorf("add with a read key: %d, want 403", status)
		}
		if status, _, raw := f.do("POST", "/outbound_dialer/dnc", "acme", f.key, map[string]any{}); status != 400 ||
			strings.TrimSpace(string(raw)) != `{"message":"param is missing or the value is empty: contacts"}` {
			t.Errorf("add without contacts: %d %s", status, raw)
		}

		// An expired entry does not block: neither the check nor a call.
		soon := time.Now().Add(1500 * time.Millisecond).UTC()
		f.json("POST", "/outbound_dialer/dnc", map[string]any{"contacts": []map[string]any{{"phone_number": "+12125550177",
			"expires_at": soon.Format(time.RFC3339Nano)}}}, 200, &got)
		if got[0]["status"] != "created" {
			t.Fatalf("short entry = %v", got[0])
		}
		if on, _ := f.db.IsDNC(ctx, f.tenant.ID, "+12125550177"); !on {
			t.Fatal("the short entry does not block before it expires")
		}
		time.Sleep(time.Until(soon) + 50*time.Millisecond)
		if _, v := check(f.key, "acme", "+12125550177"); v["in_dnc"] != false {
			t.Errorf("check of an expired entry = %v, want not in the list", v)
		}
		if _, err := f.calls.Dial(ctx, f.tenant.ID, switchboard.DialRequest{UserID: f.agent.ID, PhoneNumber: "+12125550177"}); switchboard.ErrorCode(err) == switchboard.CodeForbidden {
			t.Errorf("Dial of an expired entry's number refused: %v", err)
		}
		// Adding it again lists it anew.
		f.json("POST", "/outbound_dialer/dnc", map[string]any{"contacts": []map[string]any{{"phone_number": "+12125550177"}}}, 200, &got)
		if got[0]["status"] != "created" {
			t.Errorf("re-adding an expired number = %v, want created", got[0])
		}

		// Removal, by POST and by DELETE: per number.
		var removed []map[string]any
		f.json("POST", "/outbound_dialer/dnc/remove", map[string]any{"phone_numbers": []string{"+1-7187309219", "+19175550100", "bad"}}, 200, &removed)
		wantRemoved := []map[string]any{{"phone_number": "+17187309219", "status": "removed"}, {"phone_number": "+19175550100", "status": "not_found"},
			{"phone_number": "bad", "status": "failed", "error": "phone_number is invalid"}}
		if fmt.Sprint(removed) != fmt.Sprint(wantRemoved) {
			t.Errorf("remove = %v, want %v", removed, wantRemoved)
		}
		f.json("DELETE", "/outbound_dialer/dnc/remove", map[string]any{"phone_numbers": []string{"+14155550100"}}, 200, &removed)
		if len(removed) != 1 || removed[0]["status"] != "removed" {
			t.Errorf("DELETE remove = %v", removed)
		}
		if status, _, _ := f.do("POST", "/outbound_dialer/dnc/remove", "acme", f.key, map[string]any{}); status != 400 {
			t.Errorf("remove without phone_numbers: %d, want 400", status)
		}
		for _, n := range []string{"+17187309219", "+14155550100"} {
			if on, err := f.db.IsDNC(ctx, f.tenant.ID, n); err != nil || on {
				t.Errorf("IsDNC(%s) after removal = %v, %v", n, on, err)
			}
			if _, err := f.calls.Dial(ctx, f.tenant.ID, switchboard.DialRequest{UserID: f.agent.ID, PhoneNumber: n}); switchboard.ErrorCode(err) == switchboard.CodeForbidden {
				t.Errorf("Dial(%s) after removal still refused: %v", n, err)
			}
		}
	})
}

func p5Object(t *testing.T, raw []byte, v *map[string]any) map[string]any {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return *v
}
