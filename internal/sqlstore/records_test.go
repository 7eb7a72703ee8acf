package sqlstore_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/callseed"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// allCDRs walks every call of the tenant, open ones too, by cursor.
func allCDRs(t *testing.T, db *sqlstore.DB, tenantID int64) []switchboard.CDR {
	t.Helper()
	var out []switchboard.CDR
	opt := switchboard.ListOptions{Limit: 1000, SkipTotal: true}
	for {
		p, err := db.CDRs(context.Background(), tenantID, switchboard.CDRFilter{Open: true}, opt)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out
		}
		opt.Cursor = p.NextCursor
	}
}

// likeNumber is a number pattern (* any run) as a regular expression.
func likeNumber(p string) *regexp.Regexp {
	parts := strings.Split(p, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// Each new CDR filter, alone and with others, lists exactly the calls a
// check of every call keeps, in order and with the right total, on both
// engines; another tenant's calls never show.
func TestCDRMultiValueFilters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		t1, _ := db.CreateTeam(ctx, tn.ID, switchboard.Team{Name: "Sales"})
		t2, _ := db.CreateTeam(ctx, tn.ID, switchboard.Team{Name: "Support"})
		u1, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", TeamIDs: []int64{t1.ID}})
		u2, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "bob@acme.test", FirstName: "Bob", TeamIDs: []int64{t1.ID, t2.ID}})
		u3, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "cy@acme.test", FirstName: "Cy"})
		teams := map[int64][]int64{u1.ID: {t1.ID}, u2.ID: {t1.ID, t2.ID}}
		q1, _ := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Q1"})
		q2, _ := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Q2"})
		end := time.Now().UTC().Truncate(time.Hour)
		load := func(tenantID int64, n int) {
			g, err := callseed.New(callseed.Config{TenantID: tenantID, Rows: n, Days: 10, End: end, Customers: 60,
				AgentIDs: []int64{u1.ID, u2.ID, u3.ID}, QueueIDs: []int64{q1.ID, q2.ID}, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.LoadCalls(ctx, tenantID, n, g.Next, nil); err != nil {
				t.Fatal(err)
			}
		}
		load(tn.ID, 1500)
		load(other.ID, 300)
		// Calls the generator does not make: from outside systems, by
		// campaigns, callbacks; some still open.
		camp1, camp2 := int64(501), int64(502)
		for i := range 40 {
			at := end.Add(-time.Duration(i) * time.Hour)
			done := at.Add(time.Minute)
			c := switchboard.Call{TenantID: tn.ID, Direction: switchboard.Outbound, Status: switchboard.CallFinished,
				From: "+18005550100", To: callseed.Customer(i), CreatedAt: at, EndedAt: &done, AgentID: &u3.ID,
				Disposition: switchboard.DispositionAnswered}
			switch i % 4 {
			case 0:
				c.Source = switchboard.CallSource{System: "zoho", AccountID: fmt.Sprintf("acct-%d", i%3)}
			case 1:
				c.CampaignID = &camp1
				if i%8 == 1 {
					c.CampaignID = &camp2
				}
			case 2:
				c.ScheduledAt = &at
			}
			if i%5 == 0 {
				c.EndedAt, c.Status, c.Disposition = nil, switchboard.CallConnected, ""
			}
			if _, err := db.SaveCall(ctx, c, "created"); err != nil {
				t.Fatal(err)
			}
		}
		calls := allCDRs(t, db, tn.ID)
		if len(calls) != 1540 {
			t.Fatalf("%d calls, want 1540", len(calls))
		}
		theirIDs := map[int64]bool{}
		for _, c := range allCDRs(t, db, other.ID) {
			theirIDs[c.ID] = true
		}
		if len(theirIDs) != 300 {
			t.Fatalf("other tenant: %d calls, want 300", len(theirIDs))
		}
		// Numbers that occur, to search for.
		cust, line := calls[7].From, calls[7].To
		if calls[7].Direction == switchboard.Outbound {
			cust, line = calls[7].To, calls[7].From
		}
		cust2 := callseed.Customer(11)
		since, until := end.Add(-6*24*time.Hour), end.Add(-2*24*time.Hour)
		endedSince, endedUntil := end.Add(-5*24*time.Hour), end.Add(-3*24*time.Hour)
		agent := func(c *switchboard.Call, ids ...int64) bool {
			return c.AgentID != nil && slices.Contains(ids, *c.AgentID)
		}
		inTeam := func(c *switchboard.Call, ids ...int64) bool {
			if c.AgentID == nil {
				return false
			}
			for _, tm := range teams[*c.AgentID] {
				if slices.Contains(ids, tm) {
					return true
				}
			}
			return false
		}
		queue := func(c *switchboard.Call, ids ...int64) bool {
			return c.QueueID != nil && slices.Contains(ids, *c.QueueID)
		}
		campaign := func(c *switchboard.Call, ids ...int64) bool {
			return c.CampaignID != nil && slices.Contains(ids, *c.CampaignID)
		}
		endedIn := func(c *switchboard.Call) bool {
			return c.EndedAt != nil && !c.EndedAt.Before(endedSince) && c.EndedAt.Before(endedUntil)
		}
		startedIn := func(c *switchboard.Call) bool { return !c.CreatedAt.Before(since) && c.CreatedAt.Before(until) }
		cases := []struct {
			name string
			f    switchboard.CDRFilter
			keep func(c *switchboard.Call) bool
		}{
			{"directions", switchboard.CDRFilter{Directions: []switchboard.Direction{switchboard.Outbound}},
				func(c *switchboard.Call) bool { return c.Direction == switchboard.Outbound }},
			{"both directions", switchboard.CDRFilter{Directions: []switchboard.Direction{switchboard.Outbound, switchboard.Inbound}},
				func(c *switchboard.Call) bool { return true }},
			{"direction and directions disagree", switchboard.CDRFilter{Direction: switchboard.Inbound,
				Directions: []switchboard.Direction{switchboard.Outbound}}, func(c *switchboard.Call) bool { return false }},
			{"dispositions", switchboard.CDRFilter{Dispositions: []switchboard.Disposition{switchboard.DispositionBusy, switchboard.DispositionMissed}},
				func(c *switchboard.Call) bool {
					return c.Disposition == switchboard.DispositionBusy || c.Disposition == switchboard.DispositionMissed
				}},
			{"agents", switchboard.CDRFilter{AgentIDs: []int64{u1.ID, u3.ID}}, func(c *switchboard.Call) bool { return agent(c, u1.ID, u3.ID) }},
			{"one team", switchboard.CDRFilter{TeamIDs: []int64{t2.ID}}, func(c *switchboard.Call) bool { return inTeam(c, t2.ID) }},
			{"two teams", switchboard.CDRFilter{TeamIDs: []int64{t1.ID, t2.ID}}, func(c *switchboard.Call) bool { return inTeam(c, t1.ID, t2.ID) }},
			{"queues", switchboard.CDRFilter{QueueIDs: []int64{q2.ID}}, func(c *switchboard.Call) bool { return queue(c, q2.ID) }},
			{"campaigns", switchboard.CDRFilter{CampaignIDs: []int64{camp2}}, func(c *switchboard.Call) bool { return campaign(c, camp2) }},
			{"two campaigns", switchboard.CDRFilter{CampaignIDs: []int64{camp1, camp2}},
				func(c *switchboard.Call) bool { return campaign(c, camp1, camp2) }},
			{"sources", switchboard.CDRFilter{SourceIDs: []string{"acct-0", "acct-2"}},
				func(c *switchboard.Call) bool {
					return c.Source.AccountID == "acct-0" || c.Source.AccountID == "acct-2"
				}},
			{"ended in a period", switchboard.CDRFilter{EndedSince: &endedSince, EndedUntil: &endedUntil}, endedIn},
			{"ended in a period, open asked for", switchboard.CDRFilter{EndedSince: &endedSince, Open: true}, func(c *switchboard.Call) bool {
				return c.EndedAt != nil && !c.EndedAt.Before(endedSince)
			}},
			{"from exactly", switchboard.CDRFilter{From: []string{cust, cust2}}, func(c *switchboard.Call) bool { return c.From == cust || c.From == cust2 }},
			{"to exactly", switchboard.CDRFilter{To: []string{line}}, func(c *switchboard.Call) bool { return c.To == line }},
			{"from and to", switchboard.CDRFilter{From: []string{line}, To: []string{cust}, Since: &since},
				func(c *switchboard.Call) bool { return c.From == line && c.To == cust && !c.CreatedAt.Before(since) }},
			{"number and from", switchboard.CDRFilter{Number: cust, From: []string{cust}}, func(c *switchboard.Call) bool { return c.From == cust }},
			{"from prefix", switchboard.CDRFilter{FromLike: cust[:5] + "*"}, func(c *switchboard.Call) bool { return strings.HasPrefix(c.From, cust[:5]) }},
			{"to suffix", switchboard.CDRFilter{ToLike: "*" + cust[len(cust)-4:]}, func(c *switchboard.Call) bool { return strings.HasSuffix(c.To, cust[len(cust)-4:]) }},
			{"from inner", switchboard.CDRFilter{FromLike: "+1*" + cust[5:8] + "*"}, func(c *switchboard.Call) bool { return likeNumber("+1*" + cust[5:8] + "*").MatchString(c.From) }},
			{"short pattern", switchboard.CDRFilter{ToLike: "*1*"}, func(c *switchboard.Call) bool { return strings.Contains(c.To, "1") }},
			{"pattern without star", switchboard.CDRFilter{ToLike: line}, func(c *switchboard.Call) bool { return c.To == line }},
			{"both sides' patterns", switchboard.CDRFilter{FromLike: "+1800*", ToLike: cust[:6] + "*"},
				func(c *switchboard.Call) bool {
					return strings.HasPrefix(c.From, "+1800") && strings.HasPrefix(c.To, cust[:6])
				}},
			{"direction, agents and start", switchboard.CDRFilter{Directions: []switchboard.Direction{switchboard.Inbound},
				AgentIDs: []int64{u2.ID}, Since: &since, Until: &until}, func(c *switchboard.Call) bool {
				return c.Direction == switchboard.Inbound && agent(c, u2.ID) && startedIn(c)
			}},
			{"everything at once", switchboard.CDRFilter{Directions: []switchboard.Direction{switchboard.Inbound},
				Dispositions: []switchboard.Disposition{switchboard.DispositionAnswered}, TeamIDs: []int64{t1.ID},
				QueueIDs: []int64{q1.ID}, Since: &since, Until: &until, EndedSince: &endedSince, FromLike: "+1*"},
				func(c *switchboard.Call) bool {
					return c.Direction == switchboard.Inbound && c.Disposition == switchboard.DispositionAnswered &&
						inTeam(c, t1.ID) && queue(c, q1.ID) && startedIn(c) && c.EndedAt != nil &&
						!c.EndedAt.Before(endedSince) && strings.HasPrefix(c.From, "+1")
				}},
		}
		for _, tc := range cases {
			var want []int64
			for i := range calls {
				c := &calls[i].Call
				if (c.EndedAt != nil || tc.f.Open) && tc.keep(c) {
					want = append(want, c.ID)
				}
			}
			got, total := allCDRIDs(t, db, tn.ID, tc.f)
			if !slices.Equal(got, want) || total != len(want) {
				t.Errorf("%s: %d calls (total %d), want %d; first %v, want %v", tc.name, len(got), total, len(want),
					got[:min(5, len(got))], want[:min(5, len(want))])
				continue
			}
			tc.f.Newest = true
			got, _ = allCDRIDs(t, db, tn.ID, tc.f)
			slices.Reverse(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s, newest first: %d calls, want %d", tc.name, len(got), len(want))
			}
			// Another tenant's list of the same filter holds its calls only
			// (the generator gave it the same agents and lines).
			theirs, _ := allCDRIDs(t, db, other.ID, tc.f)
			for _, id := range theirs {
				if !theirIDs[id] {
					t.Errorf("%s: another tenant's list holds call %d", tc.name, id)
				}
			}
		}
	})
}

// recordClock is a store clock the test moves, so that conversations and
// messages are created at chosen times.
type recordClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *recordClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *recordClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// recordKey names a record in a list.
type recordKey struct {
	typ switchboard.RecordType
	id  int64
}

func (k recordKey) String() string { return fmt.Sprintf("%s:%d", k.typ, k.id) }

func keysOf(rs []switchboard.Record) []recordKey {
	out := make([]recordKey, len(rs))
	for i, r := range rs {
		switch r.Type {
		case switchboard.RecordCall:
			out[i] = recordKey{r.Type, r.Call.ID}
		case switchboard.RecordConversation:
			out[i] = recordKey{r.Type, r.Conversation.ID}
		case switchboard.RecordSMS:
			out[i] = recordKey{r.Type, r.Message.ID}
		}
	}
	return out
}

// walkRecords lists every record of f by cursor, and again by offset, with
// pages of limit; both walks must agree, and each page's total.
func walkRecords(t *testing.T, db *sqlstore.DB, tenantID int64, f switchboard.RecordFilter, limit int) ([]recordKey, int) {
	t.Helper()
	ctx := context.Background()
	var byCursor, byOffset []recordKey
	total := -1
	opt := switchboard.ListOptions{Limit: limit}
	for pages := 0; ; pages++ {
		p, err := db.Records(ctx, tenantID, f, opt)
		if err != nil {
			t.Fatalf("Records(%+v, %+v): %v", f, opt, err)
		}
		if total < 0 {
			total = p.Total
		} else if p.Total != total {
			t.Fatalf("page %d: total %d, first page said %d", pages, p.Total, total)
		}
		byCursor = append(byCursor, keysOf(p.Items)...)
		if p.NextCursor == "" {
			break
		}
		if len(p.Items) != limit || pages > 1000 {
			t.Fatalf("page %d of %d items has a next cursor", pages, len(p.Items))
		}
		opt.Cursor = p.NextCursor
	}
	for offset := 0; ; offset += limit {
		p, err := db.Records(ctx, tenantID, f, switchboard.ListOptions{Limit: limit, Offset: offset, SkipTotal: true})
		if err != nil {
			t.Fatal(err)
		}
		byOffset = append(byOffset, keysOf(p.Items)...)
		// An offset page's cursor continues where it ends.
		if p.NextCursor != "" && offset == limit {
			next, err := db.Records(ctx, tenantID, f, switchboard.ListOptions{Limit: limit, Cursor: p.NextCursor})
			if err != nil {
				t.Fatal(err)
			}
			more, err := db.Records(ctx, tenantID, f, switchboard.ListOptions{Limit: limit, Offset: offset + limit})
			if err != nil {
				t.Fatal(err)
			}
			if a, b := keysOf(next.Items), keysOf(more.Items); !slices.Equal(a, b) {
				t.Fatalf("the cursor of offset %d lists %v, the next offset %v", offset, a, b)
			}
		}
		if p.NextCursor == "" {
			break
		}
	}
	if !slices.Equal(byCursor, byOffset) {
		t.Fatalf("%+v: the cursor walk lists %v,\nthe offset walk %v", f, byCursor, byOffset)
	}
	return byCursor, total
}

// One list of calls, conversations (not SMS threads) and SMS, ordered by
// start, kind and id; cursor and offset walks agree; each filter applies to
// the kinds that have it and leaves out those that do not; the tenant's
// records only.
func TestRecords(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			clock := &recordClock{t: time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)}
			db := sqlstoretest.Open(t, mk(t), sqlstore.Options{Now: clock.Now})
			testRecords(t, db, clock)
		})
	}
}

// recordWant is a record the test made, with what its filters look at.
type recordWant struct {
	key      recordKey
	at       time.Time
	ended    *time.Time
	subtype  string
	agent    *int64
	queue    *int64
	campaign *int64
	source   string
	from, to string
	disp     switchboard.Disposition
}

func testRecords(t *testing.T, db *sqlstore.DB, clock *recordClock) {
	ctx := context.Background()
	tn := mustTenant(t, db, "acme")
	other := mustTenant(t, db, "other")
	team, _ := db.CreateTeam(ctx, tn.ID, switchboard.Team{Name: "Sales"})
	ann, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", TeamIDs: []int64{team.ID}})
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "bob@acme.test", FirstName: "Bob"})
	q, _ := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Chat"})
	oq, _ := db.CreateQueue(ctx, other.ID, switchboard.Queue{Name: "Theirs"})
	camp := int64(77)
	base := clock.Now()
	var want []recordWant
	rank := map[switchboard.RecordType]int{switchboard.RecordCall: 0, switchboard.RecordConversation: 1, switchboard.RecordSMS: 2}
	mkCall := func(tenantID int64, at time.Time, i int) {
		t.Helper()
		done := at.Add(90 * time.Second)
		c := switchboard.Call{TenantID: tenantID, Direction: switchboard.Inbound, Status: switchboard.CallFinished,
			From: fmt.Sprintf("+4420794600%02d", i%7), To: "+18005550100", CreatedAt: at, EndedAt: &done,
			Disposition: switchboard.DispositionAnswered, AgentID: &ann.ID, QueueID: &q.ID}
		switch i % 5 {
		case 1:
			c.Direction, c.From, c.To, c.QueueID, c.AgentID = switchboard.Outbound, "+18005550100", fmt.Sprintf("+4420794600%02d", i%7), nil, &bob.ID
		case 2:
			c.Direction, c.From, c.To, c.QueueID = switchboard.Outbound, "+18005550100", "+15550001111", nil
			c.Source = switchboard.CallSource{System: "zoho", AccountID: "acct-9"}
		case 3:
			c.Direction, c.From, c.To, c.CampaignID = switchboard.Outbound, "+18005550100", "+15550002222", &camp
		case 4:
			c.Disposition = switchboard.DispositionMissed
		}
		if tenantID != tn.ID {
			c.AgentID, c.QueueID = nil, &oq.ID
		}
		if i%11 == 10 {
			c.EndedAt, c.Status, c.Disposition = nil, switchboard.CallConnected, "" // open: not a record
		}
		saved, err := db.SaveCall(ctx, c, "created")
		if err != nil {
			t.Fatal(err)
		}
		if tenantID == tn.ID && c.EndedAt != nil {
			want = append(want, recordWant{key: recordKey{switchboard.RecordCall, saved.ID}, at: at, ended: c.EndedAt,
				subtype: switchboard.CallSubtype(&c), agent: c.AgentID, queue: c.QueueID, campaign: c.CampaignID,
				source: c.Source.AccountID, from: c.From, to: c.To, disp: c.Disposition})
		}
	}
	mkConversation := func(tenantID int64, at time.Time, i int) {
		t.Helper()
		clock.set(at)
		ch := switchboard.ChannelWebChat
		if i%3 == 1 {
			ch = switchboard.ChannelWhatsApp
		}
		if i%4 == 3 {
			ch = switchboard.ChannelSMS // an SMS thread: its texts are the SMS records
		}
		addr := fmt.Sprintf("+1555000%04d", i)
		qid := &q.ID
		agent := &ann.ID
		if tenantID != tn.ID {
			qid, agent = &oq.ID, nil
		} else if i%2 == 0 {
			agent = &bob.ID
		}
		c, _, err := db.CreateConversation(ctx, tenantID, switchboard.Conversation{Channel: ch, QueueID: qid, AgentID: agent,
			Address: addr, EndUser: switchboard.EndUser{Identifier: addr, Name: "Visitor"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ended *time.Time
		if i%5 != 4 { // some still open: not records
			e := at.Add(7 * time.Minute)
			ended = &e
			clock.set(e)
			if _, err := db.UpdateConversationFunc(ctx, tenantID, c.ID, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
				c.Status, c.EndedAt, c.EndedBy, c.EndReason = switchboard.ConversationFinished, ended, switchboard.SideAgent, "resolved"
				return switchboard.ConversationUpdate{Event: switchboard.EventConversationFinished}, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if tenantID == tn.ID && ended != nil && ch != switchboard.ChannelSMS {
			want = append(want, recordWant{key: recordKey{switchboard.RecordConversation, c.ID}, at: at, ended: ended,
				subtype: string(ch), agent: agent, queue: qid})
		}
	}
	mkSMS := func(tenantID int64, at time.Time, i int) {
		t.Helper()
		clock.set(at)
		m := switchboard.Message{TenantID: tenantID, Direction: switchboard.Outbound, From: "+18005550100",
			To: fmt.Sprintf("+4420794600%02d", i%7), Body: "hello", Status: switchboard.MessageDelivered, UserID: &ann.ID}
		d := at.Add(2 * time.Second)
		m.SentAt, m.DeliveredAt = &d, &d
		if i%2 == 1 {
			m.Direction, m.From, m.To, m.Status, m.UserID, m.SentAt, m.DeliveredAt = switchboard.Inbound, m.To, m.From, switchboard.MessageReceived, nil, nil, nil
		}
		if tenantID != tn.ID {
			m.UserID = nil
		}
		saved, err := db.CreateMessage(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if tenantID == tn.ID {
			want = append(want, recordWant{key: recordKey{switchboard.RecordSMS, saved.ID}, at: at, ended: m.DeliveredAt,
				subtype: string(m.Direction), agent: m.UserID, from: m.From, to: m.To})
		}
	}
	// Records interleaved in time; every fourth minute one of each kind at
	// the same instant, so that the kind orders them.
	for i := range 60 {
		at := base.Add(time.Duration(i) * time.Minute)
		switch {
		case i%4 == 0:
			mkSMS(tn.ID, at, i)
			mkConversation(tn.ID, at, i)
			mkCall(tn.ID, at, i)
		case i%3 == 0:
			mkCall(tn.ID, at, i)
		case i%3 == 1:
			mkConversation(tn.ID, at, i)
		default:
			mkSMS(tn.ID, at, i)
		}
		if i%6 == 0 {
			mkCall(other.ID, at, i)
			mkConversation(other.ID, at, i)
			mkSMS(other.ID, at, i)
		}
	}
	slices.SortStableFunc(want, func(a, b recordWant) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		if c := rank[a.key.typ] - rank[b.key.typ]; c != 0 {
			return c
		}
		return int(a.key.id - b.key.id)
	})
	idIn := func(p *int64, ids ...int64) bool { return p != nil && slices.Contains(ids, *p) }
	since, until := base.Add(10*time.Minute), base.Add(40*time.Minute)
	endedSince := base.Add(20 * time.Minute)
	cases := []struct {
		name string
		f    switchboard.RecordFilter
		keep func(r recordWant) bool
	}{
		{"all", switchboard.RecordFilter{}, func(recordWant) bool { return true }},
		{"conversations and SMS", switchboard.RecordFilter{Types: []switchboard.RecordType{switchboard.RecordConversation, switchboard.RecordSMS}},
			func(r recordWant) bool { return r.key.typ != switchboard.RecordCall }},
		{"SMS", switchboard.RecordFilter{Types: []switchboard.RecordType{switchboard.RecordSMS}},
			func(r recordWant) bool { return r.key.typ == switchboard.RecordSMS }},
		{"calls", switchboard.RecordFilter{Types: []switchboard.RecordType{switchboard.RecordCall}},
			func(r recordWant) bool { return r.key.typ == switchboard.RecordCall }},
		{"calls of subtypes", switchboard.RecordFilter{Types: []switchboard.RecordType{switchboard.RecordCall},
			Subtypes: []string{switchboard.CallSubtypeClickToCall, switchboard.CallSubtypeDialer}}, func(r recordWant) bool {
			return r.key.typ == switchboard.RecordCall && (r.subtype == switchboard.CallSubtypeClickToCall || r.subtype == switchboard.CallSubtypeDialer)
		}},
		{"subtypes of every kind", switchboard.RecordFilter{Subtypes: []string{"outbound", "whatsapp"}}, func(r recordWant) bool {
			return r.subtype == "outbound" || r.subtype == "whatsapp"
		}},
		{"inbound", switchboard.RecordFilter{Subtypes: []string{"inbound"}}, func(r recordWant) bool { return r.subtype == "inbound" }},
		{"no kind has the subtype", switchboard.RecordFilter{Subtypes: []string{"sms"}}, func(recordWant) bool { return false }},
		{"started in a period", switchboard.RecordFilter{Since: &since, Until: &until},
			func(r recordWant) bool { return !r.at.Before(since) && r.at.Before(until) }},
		{"ended since", switchboard.RecordFilter{EndedSince: &endedSince},
			func(r recordWant) bool { return r.ended != nil && !r.ended.Before(endedSince) }},
		{"agents", switchboard.RecordFilter{AgentIDs: []int64{bob.ID}}, func(r recordWant) bool { return idIn(r.agent, bob.ID) }},
		{"team", switchboard.RecordFilter{TeamIDs: []int64{team.ID}}, func(r recordWant) bool { return idIn(r.agent, ann.ID) }},
		{"queues: no SMS", switchboard.RecordFilter{QueueIDs: []int64{q.ID}}, func(r recordWant) bool { return idIn(r.queue, q.ID) }},
		{"campaigns: calls only", switchboard.RecordFilter{CampaignIDs: []int64{camp}}, func(r recordWant) bool { return idIn(r.campaign, camp) }},
		{"sources: calls only", switchboard.RecordFilter{SourceIDs: []string{"acct-9"}}, func(r recordWant) bool { return r.source == "acct-9" }},
		{"dispositions: calls only", switchboard.RecordFilter{Dispositions: []switchboard.Disposition{switchboard.DispositionMissed}},
			func(r recordWant) bool { return r.disp == switchboard.DispositionMissed }},
		{"from: calls and SMS", switchboard.RecordFilter{From: []string{"+442079460003"}}, func(r recordWant) bool { return r.from == "+442079460003" }},
		{"to pattern", switchboard.RecordFilter{ToLike: "+44*3"}, func(r recordWant) bool {
			return likeNumber("+44*3").MatchString(r.to) && r.key.typ != switchboard.RecordConversation
		}},
	}
	for _, tc := range cases {
		var expect []recordKey
		for _, r := range want {
			if tc.keep(r) {
				expect = append(expect, r.key)
			}
		}
		for _, limit := range []int{1, 7, 100} {
			got, total := walkRecords(t, db, tn.ID, tc.f, limit)
			if !slices.Equal(got, expect) || total != len(expect) {
				t.Fatalf("%s (pages of %d): %v (total %d),\nwant %v", tc.name, limit, got, total, expect)
			}
		}
		tc.f.Newest = true
		got, _ := walkRecords(t, db, tn.ID, tc.f, 7)
		slices.Reverse(expect)
		if !slices.Equal(got, expect) {
			t.Fatalf("%s newest first: %v,\nwant %v", tc.name, got, expect)
		}
	}
	// A list of calls alone is the CDR list, page for page.
	cdrs, err := db.CDRs(ctx, tn.ID, switchboard.CDRFilter{}, switchboard.ListOptions{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := db.Records(ctx, tn.ID, switchboard.RecordFilter{Types: []switchboard.RecordType{switchboard.RecordCall}}, switchboard.ListOptions{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range cdrs.Items {
		if recs.Items[i].Call.ID != cdrs.Items[i].ID || recs.Items[i].Call.UUID != cdrs.Items[i].UUID || recs.Total != cdrs.Total {
			t.Fatalf("record %d is call %d, the CDR list's %d", i, recs.Items[i].Call.ID, cdrs.Items[i].ID)
		}
	}
	// The other tenant sees its own records only, and the records are whole.
	theirs, err := db.Records(ctx, other.ID, switchboard.RecordFilter{}, switchboard.ListOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if theirs.Total != len(theirs.Items) || theirs.Total == 0 {
		t.Fatalf("other tenant: %d records, total %d", len(theirs.Items), theirs.Total)
	}
	for _, r := range theirs.Items {
		switch {
		case r.Call != nil && r.Call.TenantID != other.ID,
			r.Conversation != nil && (r.Conversation.TenantID != other.ID || r.Conversation.EndUser.Identifier == ""),
			r.Message != nil && (r.Message.TenantID != other.ID || r.Message.UUID == ""):
			t.Fatalf("other tenant's list holds %+v", r)
		}
	}
	for _, c := range []string{"garbage", "cjEy", sqlstoreCursor("x5"), sqlstoreCursor("c1,c2")} {
		_, err := db.Records(ctx, tn.ID, switchboard.RecordFilter{}, switchboard.ListOptions{Cursor: c})
		wantField(t, "cursor "+c, err, switchboard.CodeInvalid, "cursor")
	}
}

// sqlstoreCursor is a record cursor holding s.
func sqlstoreCursor(s string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("r" + s))
}
