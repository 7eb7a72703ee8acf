package voiso

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"switchboard"
)

// reportingWorld is a tenant with one record of each kind: an inbound call,
// a click-to-call, a web chat and an SMS, started a minute apart in that
// order.
type reportingWorld struct {
	*fixture
	inbound, clickToCall switchboard.Call
	conv                 switchboard.Conversation
	sms                  switchboard.Message
}

func newReportingWorld(t *testing.T, f *fixture) *reportingWorld {
	t.Helper()
	ctx := context.Background()
	w := &reportingWorld{fixture: f}
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	at := func(s int) *time.Time { v := t0.Add(time.Duration(s) * time.Second); return &v }
	var err error
	w.inbound, err = f.db.SaveCall(ctx, switchboard.Call{TenantID: f.tenant.ID, Direction: switchboard.Inbound, Status: switchboard.CallFinished,
		From: "+15551234567", To: f.number, QueueID: &f.queue.ID, AgentID: &f.agent.ID, CreatedAt: t0, QueuedAt: at(0), ConnectedAt: at(12),
		EndedAt: at(300), Disposition: switchboard.DispositionAnswered, HangupBy: switchboard.SideCaller, Recorded: true}, "ended")
	if err != nil {
		t.Fatal(err)
	}
	w.clickToCall, err = f.db.SaveCall(ctx, switchboard.Call{TenantID: f.tenant.ID, Direction: switchboard.Outbound, Status: switchboard.CallFinished,
		From: f.number, To: "+15557654321", AgentID: &f.agent.ID, Source: switchboard.CallSource{AccountID: "123321", System: "zoho"},
		CreatedAt: *at(60), ConnectedAt: at(72), EndedAt: at(360), Disposition: switchboard.DispositionAnswered, HangupBy: switchboard.SideAgent}, "ended")
	if err != nil {
		t.Fatal(err)
	}
	prof, err := f.db.CreateChannelProfile(ctx, f.tenant.ID, switchboard.ChannelProfile{Channel: switchboard.ChannelWebChat,
		Name: "premium support", Identifier: "example.com", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	w.conv, _, err = f.db.CreateConversation(ctx, f.tenant.ID, switchboard.Conversation{Channel: switchboard.ChannelWebChat,
		Status: switchboard.ConversationQueued, QueueID: &f.queue.ID, ProfileID: &prof.ID, Address: "visitor-1", CreatedAt: *at(120),
		EndUser: switchboard.EndUser{Identifier: "visitor-1"}},
		&switchboard.ConversationMessage{Direction: switchboard.Inbound, Kind: switchboard.KindText, Text: "Hello", Status: switchboard.ReceiptReceived})
	if err != nil {
		t.Fatal(err)
	}
	if w.conv, err = f.db.UpdateConversationFunc(ctx, f.tenant.ID, w.conv.ID, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
		c.Status, c.AgentID, c.EndedAt, c.EndReason = switchboard.ConversationFinished, &f.agent.ID, at(540), "resolved"
		return switchboard.ConversationUpdate{Event: switchboard.EventConversationFinished}, nil
	}); err != nil {
		t.Fatal(err)
	}
	w.sms, err = f.db.CreateMessage(ctx, switchboard.Message{TenantID: f.tenant.ID, Direction: switchboard.Outbound, From: f.number,
		To: "+15551234567", Body: "Your code is 1234", Status: switchboard.MessageSent, UserID: &f.agent.ID, CreatedAt: *at(180), SentAt: at(181)})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// cdrIDs is the ids of a CDR list answer, with its metadata.
func cdrIDs(t *testing.T, body []byte) ([]string, int, *string) {
	t.Helper()
	var l cdrsList
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	var ids []string
	for _, c := range l.CDRs {
		ids = append(ids, c.ID)
	}
	return ids, l.Metadata.Total, l.Metadata.NextCursor
}

// TestCDRList lists the records of every kind in start order, each shaped
// as its type's shape, filters them, and pages them by offset and by
// cursor under Voiso's rules.
func TestCDRList(t *testing.T) { eachEngine(t, testCDRList) }

func testCDRList(t *testing.T, f *fixture) {
	w := newReportingWorld(t, f)
	key := w.keyFor(switchboard.ScopeReportingCDRsRead)
	shapes := loadShapes(t)
	all := []string{w.inbound.UUID, w.clickToCall.UUID, w.conv.UUID, w.sms.UUID}
	checkShape(t, shapes, "cdrs list", w.expect("GET", "/api/v4/reporting/cdrs?type=call", key, nil, 200, ""))
	body := w.expect("GET", "/api/v4/reporting/cdrs", key, nil, 200, "")
	ids, total, next := cdrIDs(t, body)
	if fmt.Sprint(ids) != fmt.Sprint(all) || total != 4 || next != nil {
		t.Fatalf("list %v total %d next %v, want %v", ids, total, next, all)
	}
	var l struct{ CDRs []json.RawMessage }
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"cdr call", "cdr call", "cdr conversation", "cdr sms"} {
		checkShape(t, shapes, name, l.CDRs[i])
	}

	for q, want := range map[string][]string{
		"type=call":                            all[:2],
		"type[]=sms&type[]=conversation":       all[2:],
		"type=hlr_lookup":                      nil,
		"subtype=click_to_call":                all[1:2],
		"subtype=outbound_sms":                 all[3:],
		"subtype=web_chat&subtype=inbound":     {all[0], all[2]},
		"user_id=" + fmt.Sprint(w.agent.ID):    all,
		"user_id=999999":                       nil,
		"queue_id=" + fmt.Sprint(w.queue.ID):   {all[0], all[2]},
		"external_account_id=123321":           all[1:2],
		"from_phone_number=15551234567":        all[:1],
		"to_phone_number=%2B15551234567":       {all[3]},
		"from_phone_number_like=1555*":         all[:1],
		"to_phone_number_like=*4321":           all[1:2],
		"started_at[gte]=2026-01-01T10:01:00Z": all[1:],
		"started_at[lt]=2026-01-01T10:01:00Z":  all[:1],
		"ended_at[gte]=2026-01-01T10:06:00Z":   {all[1], all[2]},
		"ended_at[gt]=2026-01-01T10:06:00Z":    {all[2]},
		"disposition=answered":                 all[:2],
		"end_reason=busy":                      nil,
		"type=call&limit=1&offset=1":           all[1:2],
		"limit=2&cursor=not-a-cursor&offset=2": all[2:],
	} {
		ids, _, _ := cdrIDs(t, w.expect("GET", "/api/v4/reporting/cdrs?"+q, key, nil, 200, ""))
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Errorf("?%s: %v, want %v", q, ids, want)
		}
	}
	for _, q := range []string{"limit=1001", "limit=-1", "offset=10000", "offset=x", "cursor=bogus&offset=x", "type=fax",
		"started_at[gte]=yesterday", "user_id=x", "end_reason=agent_hangup"} {
		w.expect("GET", "/api/v4/reporting/cdrs?"+q, key, nil, 400, `{"error":"Bad Request"}`)
	}
	w.expect("GET", "/api/v4/reporting/cdrs?from_phone_number=15551234567&from_phone_number_like=1555*", key, nil, 422,
		`{"errors":{"from_phone_number":["cannot be given with from_phone_number_like"],"from_phone_number_like":["cannot be given with from_phone_number"]}}`)
	w.expect("GET", "/api/v4/reporting/cdrs?limit=0", key, nil, 200, `{"cdrs":[],"metadata":{"total":4,"next_cursor":null}}`)
	w.expect("GET", "/api/v4/reporting/cdrs", w.otherKey, nil, 200, `{"cdrs":[],"metadata":{"total":0,"next_cursor":null}}`)

	// A cursor walk meets every record once, in the offset walk's order;
	// a valid cursor wins over an invalid offset.
	var walked []string
	q := url.Values{"limit": {"1"}, "offset": {"not-a-number"}}
	body = w.expect("GET", "/api/v4/reporting/cdrs?limit=1", key, nil, 200, "")
	for i := 0; ; i++ {
		ids, total, next := cdrIDs(t, body)
		if total != 4 || i > 4 {
			t.Fatalf("cursor page %d: total %d", i, total)
		}
		walked = append(walked, ids...)
		if next == nil {
			break
		}
		q.Set("cursor", *next)
		body = w.expect("GET", "/api/v4/reporting/cdrs?"+q.Encode(), key, nil, 200, "")
	}
	if fmt.Sprint(walked) != fmt.Sprint(all) {
		t.Errorf("cursor walk %v, want %v", walked, all)
	}
}

// TestCDRGetEventsAnalytics reads each kind of record by its id, a call's
// events, and its speech analytics once available.
func TestCDRGetEventsAnalytics(t *testing.T) { eachEngine(t, testCDRGetEventsAnalytics) }

func testCDRGetEventsAnalytics(t *testing.T, f *fixture) {
	w := newReportingWorld(t, f)
	ctx := context.Background()
	key := w.keyFor(switchboard.ScopeReportingCDRsRead)
	shapes := loadShapes(t)
	body := w.expect("GET", "/api/v4/reporting/cdrs/"+w.clickToCall.UUID, key, nil, 200, "")
	checkShape(t, shapes, "cdr get", body)
	var got cdrEnvelope
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(got.CDR.Data)
	var d cdrCall
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.Subtype != "click_to_call" || d.Duration.Total != 300 || d.Duration.TalkTime != 288 || d.Duration.DialingTime != 12 ||
		d.Source == nil || d.Source.System != "zoho" || *d.ExtUserID != "123321" || d.Agent == nil || d.Agent.Extension != "101" ||
		d.Team == nil || d.Team.Name != "Sales" || *d.EndReason != "agent_hangup" || d.CallingNumber != "18885658889" {
		t.Errorf("click-to-call record %s", body)
	}
	for id, shape := range map[string]string{w.conv.UUID: "cdr conversation", w.sms.UUID: "cdr sms"} {
		var one struct{ CDR json.RawMessage }
		if err := json.Unmarshal(w.expect("GET", "/api/v4/reporting/cdrs/"+id, key, nil, 200, ""), &one); err != nil {
			t.Fatal(err)
		}
		checkShape(t, shapes, shape, one.CDR)
	}
	for _, path := range []string{"/api/v4/reporting/cdrs/" + w.inbound.UUID + "x", "/api/v4/reporting/cdrs/12"} {
		w.expect("GET", path, key, nil, 404, `{"error":"Not found"}`)
	}
	w.expect("GET", "/api/v4/reporting/cdrs/"+w.inbound.UUID, w.otherKey, nil, 404, `{"error":"Not found"}`)

	evKey := w.keyFor(switchboard.ScopeReportingCDREventsRead)
	body = w.expect("GET", "/api/v4/reporting/cdrs/"+w.inbound.UUID+"/events", evKey, nil, 200, "")
	checkShape(t, shapes, "cdr events list", body)
	var evs cdrEventsList
	if err := json.Unmarshal(body, &evs); err != nil {
		t.Fatal(err)
	}
	if evs.Metadata.Total != 1 || evs.Events[0].Type != switchboard.EventCallEnded || evs.Events[0].CDRID != w.inbound.UUID ||
		evs.Events[0].Data.Queue == nil || evs.Events[0].Data.Queue.Name != "Support" {
		t.Errorf("events %s", body)
	}
	body = w.expect("GET", "/api/v4/reporting/cdrs/"+w.conv.UUID+"/events", evKey, nil, 200, "")
	if err := json.Unmarshal(body, &evs); err != nil || evs.Metadata.Total < 3 {
		t.Errorf("conversation events %s", body)
	}
	w.expect("GET", "/api/v4/reporting/cdrs/"+w.inbound.UUID+"/events", key, nil, 403, `{"error":"Forbidden"}`)

	saKey := w.keyFor(switchboard.ScopeReportingSpeechAnalyticsRead)
	path := "/api/v4/reporting/cdrs/" + w.inbound.UUID + "/speech_analytics"
	w.expect("GET", path, saKey, nil, 404, `{"error":"Not found"}`)
	an, _, err := w.db.QueueCallAnalytics(ctx, w.tenant.ID, w.inbound.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.expect("GET", path, saKey, nil, 404, `{"error":"Not found"}`) // pending
	score := 94
	an.Status, an.Language, an.Summary, an.Score = switchboard.AnalyticsAvailable, "en", "Customer asked to move the delivery.", &score
	an.ScoreParts = &switchboard.ScoreParts{Sentiment: 90}
	an.Transcript = []switchboard.TranscriptSegment{{Speaker: switchboard.SpeakerAgent, Start: 0, End: 2.5, Text: "Hello, this is Ann."}}
	if _, err := w.db.FinishCallAnalytics(ctx, an); err != nil {
		t.Fatal(err)
	}
	body = w.expect("GET", path, saKey, nil, 200, "")
	checkShape(t, shapes, "speech analytics", body)
	var sa speechEnvelope
	if err := json.Unmarshal(body, &sa); err != nil || *sa.SpeechAnalytics.Score != "4.7" || sa.SpeechAnalytics.Call.ID != w.inbound.UUID {
		t.Errorf("speech analytics %s", body)
	}
	w.expect("GET", path, w.otherKey, nil, 404, `{"error":"Not found"}`)
}
