package sqlstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

func TestCallAnalyticsLifecycle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn, other := mustTenant(t, db, "acme"), mustTenant(t, db, "other")
		now := time.Now()
		c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
			From: "+15550001111", To: "+15550002222", CreatedAt: now}, "created")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.QueueCallAnalytics(ctx, other.ID, c.ID); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Fatalf("queue another tenant's call: %v, want not_found", err)
		}
		seq := lastSeq(t, db, tn.ID)
		a, created, err := db.QueueCallAnalytics(ctx, tn.ID, c.ID)
		if err != nil || !created || a.Status != switchboard.AnalyticsPending || a.CallUUID != c.UUID || a.NextAttemptAt == nil {
			t.Fatalf("QueueCallAnalytics = %+v, %v, %v; want a new pending analysis of call %s", a, created, err, c.UUID)
		}
		again, created, err := db.QueueCallAnalytics(ctx, tn.ID, c.ID)
		if err != nil || created || again.ID != a.ID {
			t.Fatalf("queueing the call again = %+v, %v, %v; want the same analysis, not created", again, created, err)
		}
		if evs := eventsSince(t, db, tn.ID, seq); len(evs) != 0 {
			t.Fatalf("queueing wrote events %v", eventTypes(evs))
		}
		due, err := db.DueCallAnalytics(ctx, time.Now().Add(time.Second), 10)
		if err != nil || len(due) != 1 || due[0].ID != a.ID {
			t.Fatalf("DueCallAnalytics = %+v, %v; want the analysis", due, err)
		}
		later := time.Now().Add(time.Hour)
		d, err := db.DeferCallAnalytics(ctx, tn.ID, a.ID, "server answered 503", later)
		if err != nil || d.Attempts != 1 || d.Error != "server answered 503" {
			t.Fatalf("DeferCallAnalytics = %+v, %v", d, err)
		}
		if due, _ := db.DueCallAnalytics(ctx, time.Now().Add(time.Second), 10); len(due) != 0 {
			t.Fatalf("a deferred analysis is due before its time: %+v", due)
		}
		if due, _ := db.DueCallAnalytics(ctx, later.Add(time.Second), 10); len(due) != 1 {
			t.Fatalf("a deferred analysis is not due after its time: %+v", due)
		}
		// An invalid outcome names the field and changes nothing.
		_, err = db.FinishCallAnalytics(ctx, switchboard.CallAnalytics{ID: a.ID, TenantID: tn.ID, Status: switchboard.AnalyticsAvailable})
		wantField(t, "finish without a score", err, switchboard.CodeInvalid, "score")
		_, err = db.FinishCallAnalytics(ctx, switchboard.CallAnalytics{ID: a.ID, TenantID: other.ID, Status: switchboard.AnalyticsFailed, Error: "x"})
		wantCode(t, "finish another tenant's analysis", err, switchboard.CodeNotFound)

		score := 73
		share := 0.5
		in := switchboard.CallAnalytics{ID: a.ID, TenantID: tn.ID, Status: switchboard.AnalyticsAvailable, Language: "en", Duration: 12,
			Transcript: []switchboard.TranscriptSegment{{Speaker: switchboard.SpeakerCustomer, Start: 0, End: 2, Text: "I need help."},
				{Speaker: switchboard.SpeakerAgent, Start: 2, End: 4, Text: "Done."}},
			Summary: "Customer: I need help. Agent: Done.", Score: &score, Provider: "sim",
			ScoreParts: &switchboard.ScoreParts{Sentiment: 60, Silence: 100, Keywords: 20, AgentTalkShare: &share, KeywordsHit: []string{"thanks"}}}
		seq = lastSeq(t, db, tn.ID)
		got, err := db.FinishCallAnalytics(ctx, in)
		if err != nil || got.Status != switchboard.AnalyticsAvailable || got.Attempts != 2 || got.FinishedAt == nil || got.NextAttemptAt != nil {
			t.Fatalf("FinishCallAnalytics = %+v, %v", got, err)
		}
		read, err := db.CallAnalytics(ctx, tn.ID, c.ID)
		if err != nil || *read.Score != 73 || len(read.Transcript) != 2 || read.Transcript[1].Text != "Done." ||
			*read.ScoreParts.AgentTalkShare != 0.5 || read.Summary != in.Summary {
			t.Fatalf("CallAnalytics = %+v, %v", read, err)
		}
		if _, err := db.CallAnalytics(ctx, other.ID, c.ID); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Fatalf("another tenant reads the analysis: %v", err)
		}
		evs := eventsSince(t, db, tn.ID, seq)
		if len(evs) != 1 || evs[0].Type != switchboard.EventCallAnalyticsAvailable || evs[0].SubjectType != "call_analytics" || evs[0].SubjectID != a.ID {
			t.Fatalf("events of the finish: %+v", evs)
		}
		var p switchboard.AnalyticsEventPayload
		if err := json.Unmarshal(evs[0].Payload, &p); err != nil || p.V != 1 || p.CallUUID != c.UUID || *p.Score != 73 || p.Segments != 2 {
			t.Fatalf("payload %s: %v", evs[0].Payload, err)
		}
		_, err = db.FinishCallAnalytics(ctx, in)
		wantCode(t, "finishing twice", err, switchboard.CodeConflict)
		if _, err := db.DeferCallAnalytics(ctx, tn.ID, a.ID, "late", later); switchboard.ErrorCode(err) != switchboard.CodeConflict {
			t.Fatalf("deferring a finished analysis: %v, want conflict", err)
		}
	})
}

func TestFollowerPositions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		pos, err := db.FollowerPositions(ctx, "analytics")
		if err != nil || pos != nil {
			t.Fatalf("positions of a reader that never saved = %v, %v; want nil", pos, err)
		}
		if err := db.SaveFollowerPositions(ctx, "analytics", map[int64]int64{}); err != nil {
			t.Fatal(err)
		}
		if pos, err = db.FollowerPositions(ctx, "analytics"); err != nil || pos == nil || len(pos) != 0 {
			t.Fatalf("positions after an empty save = %v, %v; want an empty map", pos, err)
		}
		if err := db.SaveFollowerPositions(ctx, "analytics", map[int64]int64{1: 5, 2: 7}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveFollowerPositions(ctx, "analytics", map[int64]int64{1: 9}); err != nil {
			t.Fatal(err)
		}
		pos, err = db.FollowerPositions(ctx, "analytics")
		if err != nil || pos[1] != 9 || pos[2] != 7 || len(pos) != 2 {
			t.Fatalf("positions = %v, %v; want 1:9 2:7", pos, err)
		}
		if other, _ := db.FollowerPositions(ctx, "other"); other != nil {
			t.Fatalf("another reader's positions = %v", other)
		}
	})
}
