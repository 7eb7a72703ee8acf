package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// TestEachCDR shows that the streaming read of exports yields, for every
// filter and order, the records the paged list yields, field for field, in
// the same order, however many rows each of its statements reads; that it
// reads only the columns asked for; and that an error of its callback stops
// it.
func TestEachCDR(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		team, _ := db.CreateTeam(ctx, tn.ID, switchboard.Team{Name: "Sales"})
		ann, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", TeamIDs: []int64{team.ID}})
		q, _ := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Q"})
		base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		for i := range 60 {
			start := base.Add(time.Duration(i)*7*time.Minute + time.Duration(i)*time.Microsecond)
			c := switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallFinished,
				From: fmt.Sprintf("+1555000%04d", i%9), To: "+390112121212", Disposition: switchboard.DispositionAnswered,
				CreatedAt: start, HangupBy: switchboard.SideAgent, HangupCause: "normal", DTMF: "12#", Media: switchboard.MediaVoice,
				Source: switchboard.CallSource{System: "crm", AccountID: fmt.Sprint(i)}, Hold: time.Duration(i) * time.Second,
				Recorded: i%2 == 0}
			if i%3 == 0 {
				c.Direction, c.From, c.To = switchboard.Outbound, c.To, c.From
				c.AgentID, c.QueueID = &ann.ID, &q.ID
			}
			if i%4 != 0 {
				queued, ringing := start.Add(time.Second), start.Add(2*time.Second)
				c.QueuedAt, c.RingingAt = &queued, &ringing
			}
			if i%5 != 0 {
				conn := start.Add(5 * time.Second)
				c.ConnectedAt = &conn
			} else {
				c.Status, c.Disposition = switchboard.CallFailed, switchboard.DispositionNoAnswer
			}
			if i%7 != 0 {
				end := start.Add(time.Duration(30+i*11) * time.Second)
				c.EndedAt = &end
			}
			if i%11 == 0 {
				c.ScheduledAt, c.ParentID, c.Media, c.FaxPages = &start, &ann.ID, switchboard.MediaFax, 2
			}
			if _, err := db.SaveCall(ctx, c, "ended"); err != nil {
				t.Fatal(err)
			}
			c.TenantID = other.ID
			if _, err := db.SaveCall(ctx, c, "ended"); err != nil {
				t.Fatal(err)
			}
		}
		since, until := base.Add(time.Hour), base.Add(5*time.Hour)
		minTalk := 5 * time.Minute
		filters := map[string]switchboard.CDRFilter{
			"ended": {}, "open too": {Open: true}, "only open": {OnlyOpen: true}, "period": {Since: &since, Until: &until},
			"direction": {Direction: switchboard.Outbound}, "agent": {AgentID: ann.ID}, "team": {TeamID: team.ID},
			"queue": {QueueID: q.ID}, "number": {Number: "+15550000003"}, "prefix": {NumberPrefix: "+1555"},
			"contains": {NumberContains: "0004"}, "min talk": {MinDuration: &minTalk},
			"disposition": {Disposition: switchboard.DispositionNoAnswer},
		}
		for name, f := range filters {
			for _, newest := range []bool{false, true} {
				f.Newest = newest
				var want []switchboard.CDR
				opt := switchboard.ListOptions{Limit: 7}
				for {
					p, err := db.CDRs(ctx, tn.ID, f, opt)
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, p.Items...)
					if p.NextCursor == "" {
						break
					}
					opt.Cursor = p.NextCursor
				}
				if len(want) == 0 {
					t.Fatalf("%s: the filter selects nothing", name)
				}
				for _, chunk := range []int{0, 1, 4, len(want), 1000} {
					sqlstore.SetExportChunk(db, chunk)
					var got []switchboard.CDR
					err := db.EachCDR(ctx, tn.ID, f, switchboard.AllCallColumns, func(r *switchboard.CDR) error {
						got = append(got, switchboard.NewCDR(r.Call.Clone()))
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%s, newest %v, chunk %d: EachCDR gave %d records, CDRs %d; first differing:\n%s", name, newest, chunk,
							len(got), len(want), firstDiff(got, want))
					}
				}
			}
		}
		sqlstore.SetExportChunk(db, 0)

		// Only the columns asked for are read.
		n := 0
		err := db.EachCDR(ctx, tn.ID, switchboard.CDRFilter{AgentID: ann.ID}, switchboard.ColNumbers|switchboard.ColEndedAt, func(r *switchboard.CDR) error {
			n++
			if r.ID == 0 || r.TenantID != tn.ID || r.CreatedAt.IsZero() || r.From == "" || r.To == "" || r.EndedAt == nil {
				return fmt.Errorf("record %+v lacks a column asked for", r.Call)
			}
			if r.UUID != "" || r.AgentID != nil || r.Direction != "" || r.ConnectedAt != nil || r.Recorded || r.Source.System != "" {
				return fmt.Errorf("record %+v has columns not asked for", r.Call)
			}
			return nil
		})
		if err != nil || n == 0 {
			t.Fatalf("EachCDR over two columns: %d records, %v", n, err)
		}

		// The callback's error stops the read and comes back as it was.
		stop := errors.New("stop")
		sqlstore.SetExportChunk(db, 3)
		n = 0
		err = db.EachCDR(ctx, tn.ID, switchboard.CDRFilter{}, switchboard.AllCallColumns, func(*switchboard.CDR) error {
			if n++; n == 5 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 5 {
			t.Fatalf("EachCDR after its callback failed on the 5th record: %d records, %v", n, err)
		}
	})
}

func firstDiff(got, want []switchboard.CDR) string {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("got  %+v\nwant %+v", got[i], want[i])
		}
	}
	return "one is a prefix of the other"
}

// TestEachCDRLeavesConnectionsForLookups runs more streaming reads at once
// than the read pool has connections, each reading the store again for
// every record as exports look names up: none may wait forever for a
// connection the others hold.
func TestEachCDRLeavesConnectionsForLookups(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tn := mustTenant(t, db, "acme")
		ann, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
		start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		for i := range 20 {
			created := start.Add(time.Duration(i) * time.Minute)
			end := created.Add(time.Minute)
			if _, err := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallFinished,
				From: "+15550001111", To: "+390112121212", AgentID: &ann.ID, CreatedAt: created, EndedAt: &end}, "ended"); err != nil {
				t.Fatal(err)
			}
		}
		const readers = 24 // more than either engine's read pool
		errs := make(chan error, readers)
		for range readers {
			go func() {
				errs <- db.EachCDR(ctx, tn.ID, switchboard.CDRFilter{}, switchboard.ColAgent, func(r *switchboard.CDR) error {
					_, err := db.User(ctx, tn.ID, *r.AgentID)
					time.Sleep(time.Millisecond) // keep the reads overlapping
					return err
				})
			}()
		}
		for range readers {
			if err := <-errs; err != nil {
				t.Fatalf("a read with lookups failed (a connection never came free?): %v", err)
			}
		}
	})
}
