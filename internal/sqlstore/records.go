package sqlstore

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// A record list (Voiso's CDR list) spans three tables: calls, conversations
// and messages (SMS). Each kind is read as its own keyset-paged list, on its
// own (tenant_id, id) index with the kind's filters, and a page is the merge
// of the kinds' next rows by start time, then kind (call, conversation, sms),
// then id:
//
//   - A cursor page reads at most limit+1 rows of each kind after the
//     position the cursor holds for it, so it costs three index range reads
//     whatever its depth. The cursor is each kind's last id shown
//     ("c12,v7,s3", base64); a kind not yet shown has none.
//   - An offset page reads offset+limit+1 rows of each kind from the start
//     and merges them, which is why dialects bound the offset.
//   - The total is the sum of each kind's count (a kept counter for
//     unfiltered calls).
//
// Ids are given as rows are created, so each kind's id order is its start
// order, and the merge of the three is the list ordered by start. The merge
// is the same whether a page is reached by cursor or by offset, so walking
// either way lists the same records in the same order.
//
// A list of calls alone is the CDR list itself (cdrQuery, ordered by id).

// recordRank orders the kinds of one instant: calls, conversations, SMS.
var recordRank = map[switchboard.RecordType]int{switchboard.RecordCall: 0, switchboard.RecordConversation: 1, switchboard.RecordSMS: 2}

// recordKind is one kind's part of a record list.
type recordKind struct {
	typ  switchboard.RecordType
	q    listQuery
	scan func(scanner) (switchboard.Record, error)
}

// recordPosition is a cursor of a record list: the last id of each kind
// shown so far, absent for a kind none of whose records were shown.
type recordPosition map[switchboard.RecordType]int64

// recordCursorKeys name the kinds in a cursor.
var recordCursorKeys = map[switchboard.RecordType]byte{switchboard.RecordCall: 'c', switchboard.RecordConversation: 'v', switchboard.RecordSMS: 's'}

func encodeRecordCursor(p recordPosition) string {
	var b []byte
	for _, t := range []switchboard.RecordType{switchboard.RecordCall, switchboard.RecordConversation, switchboard.RecordSMS} {
		id, ok := p[t]
		if !ok {
			continue
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(append(b, recordCursorKeys[t]), id, 10)
	}
	return base64.RawURLEncoding.EncodeToString(append([]byte("r"), b...))
}

func decodeRecordCursor(c string) (recordPosition, error) {
	bad := &switchboard.Error{Code: switchboard.CodeInvalid, Message: "invalid cursor",
		Fields: map[string]string{"cursor": "is not a cursor returned by this API"}}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || b[0] != 'r' {
		return nil, bad
	}
	p := recordPosition{}
	if len(b) == 1 {
		return p, nil
	}
	for part := range strings.SplitSeq(string(b[1:]), ",") {
		var t switchboard.RecordType
		for typ, k := range recordCursorKeys {
			if part != "" && part[0] == k {
				t = typ
			}
		}
		if t == "" {
			return nil, bad
		}
		id, err := strconv.ParseInt(part[1:], 10, 64)
		if _, dup := p[t]; err != nil || id < 0 || dup {
			return nil, bad
		}
		p[t] = id
	}
	return p, nil
}

// Records implements switchboard.RecordStore.
func (db *DB) Records(ctx context.Context, tenantID int64, f switchboard.RecordFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.Record], error) {
	var page switchboard.Page[switchboard.Record]
	if err := opt.Validate(); err != nil {
		return page, err
	}
	pos := recordPosition{}
	if opt.Cursor != "" {
		var err error
		if pos, err = decodeRecordCursor(opt.Cursor); err != nil {
			return page, err
		}
	}
	kinds, err := db.recordKinds(ctx, tenantID, f)
	if err != nil {
		return page, err
	}
	if len(kinds) == 1 && kinds[0].typ == switchboard.RecordCall {
		return db.callRecords(ctx, kinds[0].q, pos, opt)
	}
	// Each kind's rows, in its order.
	rows := make([][]switchboard.Record, len(kinds))
	n := opt.Limit + 1
	if opt.Cursor == "" {
		n += opt.Offset
	}
	for i, k := range kinds {
		if !opt.SkipTotal {
			total, err := db.countList(ctx, k.q)
			if err != nil {
				return page, fmt.Errorf("count %ss: %w", k.typ, err)
			}
			page.Total += total
		}
		var after *int64
		if id, ok := pos[k.typ]; ok && opt.Cursor != "" {
			after = &id
		}
		if rows[i], err = db.readRecords(ctx, k, after, n); err != nil {
			return page, err
		}
	}
	// Merge: take the first of the kinds' next rows, skipping offset of
	// them, until the page and one more are taken.
	next := make([]int, len(kinds))
	skip := 0
	if opt.Cursor == "" {
		skip = opt.Offset
	}
	page.Items = make([]switchboard.Record, 0, min(opt.Limit, 1000))
	for {
		best := -1
		for i := range kinds {
			if next[i] < len(rows[i]) && (best < 0 || recordBefore(rows[i][next[i]], rows[best][next[best]], f.Newest)) {
				best = i
			}
		}
		if best < 0 {
			return page, nil
		}
		if skip == 0 && len(page.Items) == opt.Limit {
			page.NextCursor = encodeRecordCursor(pos)
			return page, nil
		}
		r := rows[best][next[best]]
		next[best]++
		pos[r.Type] = recordID(r)
		if skip > 0 {
			skip--
			continue
		}
		page.Items = append(page.Items, r)
	}
}

// callRecords is a record list of calls alone: the CDR list, its cursor
// carried in the record cursor's call position.
func (db *DB) callRecords(ctx context.Context, q listQuery, pos recordPosition, opt switchboard.ListOptions) (switchboard.Page[switchboard.Record], error) {
	var page switchboard.Page[switchboard.Record]
	if opt.Cursor != "" {
		// A cursor that shows no call yet starts before the first.
		id, ok := pos[switchboard.RecordCall]
		switch {
		case ok:
		case q.desc:
			id = math.MaxInt64
		default:
			id = 0
		}
		opt.Cursor = encodeCursor(id)
	}
	calls, err := listPage(ctx, db, q, opt, scanCall, func(c switchboard.Call) int64 { return c.ID })
	if err != nil {
		return page, err
	}
	page.Total, page.Items = calls.Total, make([]switchboard.Record, len(calls.Items))
	for i, c := range calls.Items {
		cdr := switchboard.NewCDR(c)
		page.Items[i] = switchboard.Record{Type: switchboard.RecordCall, Call: &cdr}
	}
	if calls.NextCursor != "" {
		last, err := decodeCursor(calls.NextCursor)
		if err != nil {
			return page, err
		}
		page.NextCursor = encodeRecordCursor(recordPosition{switchboard.RecordCall: last})
	}
	return page, nil
}

// recordBefore reports whether a comes before b in a record list.
func recordBefore(a, b switchboard.Record, newest bool) bool {
	c := a.StartedAt().Compare(b.StartedAt())
	if c == 0 {
		c = recordRank[a.Type] - recordRank[b.Type]
	}
	if c == 0 {
		c = cmp.Compare(recordID(a), recordID(b))
	}
	if newest {
		return c > 0
	}
	return c < 0
}

// recordID is the id of a record's object in its own table.
func recordID(r switchboard.Record) int64 {
	switch {
	case r.Call != nil:
		return r.Call.ID
	case r.Conversation != nil:
		return r.Conversation.ID
	case r.Message != nil:
		return r.Message.ID
	}
	return 0
}

// countList counts q's rows: its kept counter when it has one.
func (db *DB) countList(ctx context.Context, q listQuery) (int, error) {
	count, args := "SELECT COUNT(*) "+q.from, q.args
	if q.count != "" {
		count, args = q.count, q.countArgs
	}
	var n int
	err := db.queryRow(ctx, count, args...).Scan(&n)
	return n, err
}

// readRecords reads up to n of k's records in its order, after the id after
// when it is set.
func (db *DB) readRecords(ctx context.Context, k recordKind, after *int64, n int) ([]switchboard.Record, error) {
	sel := "SELECT " + k.q.cols + " " + k.q.from
	args := append([]any(nil), k.q.args...)
	op, order := " > ?", ""
	if k.q.desc {
		op, order = " < ?", " DESC"
	}
	if after != nil {
		sel += " AND " + k.q.key + op
		args = append(args, *after)
	}
	sel += " ORDER BY " + k.q.key + order + " LIMIT ?"
	args = append(args, n)
	rows, err := db.query(ctx, sel, args...)
	if err != nil {
		return nil, fmt.Errorf("list %ss: %w", k.typ, err)
	}
	defer rows.Close()
	var out []switchboard.Record
	for rows.Next() {
		r, err := k.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list %ss: %w", k.typ, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %ss: %w", k.typ, err)
	}
	return out, nil
}

// recordKinds returns the queries of the kinds f lists: those its Types
// name (every kind when none) that can meet every one of its filters.
func (db *DB) recordKinds(ctx context.Context, tenantID int64, f switchboard.RecordFilter) ([]recordKind, error) {
	var out []recordKind
	wants := func(t switchboard.RecordType) bool { return len(f.Types) == 0 || slices.Contains(f.Types, t) }
	if wants(switchboard.RecordCall) {
		if k, ok, err := db.callKind(ctx, tenantID, f); err != nil {
			return nil, err
		} else if ok {
			out = append(out, k)
		}
	}
	if wants(switchboard.RecordConversation) {
		if k, ok := db.conversationKind(tenantID, f); ok {
			out = append(out, k)
		}
	}
	if wants(switchboard.RecordSMS) {
		if k, ok := db.smsKind(tenantID, f); ok {
			out = append(out, k)
		}
	}
	return out, nil
}

// callSubtypeSQL is the condition of each call subtype, mirroring
// switchboard.CallSubtype.
var callSubtypeSQL = map[string]string{
	switchboard.CallSubtypeDialer:        "campaign_id IS NOT NULL",
	switchboard.CallSubtypeQueueCallback: "(campaign_id IS NULL AND scheduled_at IS NOT NULL)",
	switchboard.CallSubtypeClickToCall:   "(campaign_id IS NULL AND scheduled_at IS NULL AND direction = 'outbound' AND source_system <> '')",
	switchboard.CallSubtypeOutbound:      "(campaign_id IS NULL AND scheduled_at IS NULL AND direction = 'outbound' AND source_system = '')",
	switchboard.CallSubtypeInbound:       "(campaign_id IS NULL AND scheduled_at IS NULL AND direction = 'inbound')",
}

// callKind is the calls' part of f: the CDR list with f's filters.
func (db *DB) callKind(ctx context.Context, tenantID int64, f switchboard.RecordFilter) (recordKind, bool, error) {
	var more []sqlCond
	if len(f.Subtypes) > 0 {
		var any []string
		for _, s := range f.Subtypes {
			if c, ok := callSubtypeSQL[s]; ok && !slices.Contains(any, c) {
				any = append(any, c)
			}
		}
		if len(any) == 0 {
			return recordKind{}, false, nil
		}
		more = append(more, sqlCond{sql: "(" + strings.Join(any, " OR ") + ")"})
	}
	q, err := db.cdrQuery(ctx, tenantID, switchboard.CDRFilter{
		Since: f.Since, Until: f.Until, EndedSince: f.EndedSince, EndedUntil: f.EndedUntil,
		Dispositions: f.Dispositions, AgentIDs: f.AgentIDs, TeamIDs: f.TeamIDs, QueueIDs: f.QueueIDs,
		CampaignIDs: f.CampaignIDs, SourceIDs: f.SourceIDs, From: f.From, To: f.To, FromLike: f.FromLike, ToLike: f.ToLike,
		Newest: f.Newest,
	}, more...)
	return recordKind{typ: switchboard.RecordCall, q: q, scan: func(s scanner) (switchboard.Record, error) {
		c, err := scanCall(s)
		cdr := switchboard.NewCDR(c)
		return switchboard.Record{Type: switchboard.RecordCall, Call: &cdr}, err
	}}, err == nil, err
}

// conversationKind is the conversations' part of f: ended conversations on
// every channel but SMS (whose texts are SMS records). Conversations have no
// disposition, campaign, source or calling and called numbers, so a filter
// on any of them leaves them out.
func (db *DB) conversationKind(tenantID int64, f switchboard.RecordFilter) (recordKind, bool) {
	if len(f.Dispositions) > 0 || len(f.CampaignIDs) > 0 || len(f.SourceIDs) > 0 || len(f.From) > 0 || len(f.To) > 0 ||
		f.FromLike != "" || f.ToLike != "" {
		return recordKind{}, false
	}
	q := listQuery{cols: conversationListCols, from: conversationListFrom + " WHERE c.tenant_id = ? AND c.ended_at IS NOT NULL AND c.channel <> ?",
		args: []any{tenantID, string(switchboard.ChannelSMS)}, key: "c.id", desc: f.Newest}
	w := where{q: &q, esc: db.likeEscapeClause()}
	if len(f.Subtypes) > 0 {
		var channels []string
		for _, s := range f.Subtypes {
			// The other kinds' subtypes are no channels.
			_, call := callSubtypeSQL[s]
			if !call && s != string(switchboard.ChannelSMS) && switchboard.ValidConversationChannel(switchboard.ConversationChannel(s)) {
				channels = append(channels, s)
			}
		}
		if len(channels) == 0 {
			return recordKind{}, false
		}
		whereIn(w, "c.channel", channels)
	}
	w.period("c.created_at", f.Since, f.Until)
	w.period("c.ended_at", f.EndedSince, f.EndedUntil)
	whereIn(w, "c.agent_id", f.AgentIDs)
	w.teams("c.agent_id", f.TeamIDs)
	whereIn(w, "c.queue_id", f.QueueIDs)
	return recordKind{typ: switchboard.RecordConversation, q: q, scan: func(s scanner) (switchboard.Record, error) {
		c, err := scanConversation(s)
		return switchboard.Record{Type: switchboard.RecordConversation, Conversation: &c}, err
	}}, true
}

// smsKind is the SMS part of f: every text message, in or out. An SMS
// ends when it is delivered, or sent when no receipt says more; it has no
// queue, disposition, campaign or source, so a filter on any of them
// leaves SMS out.
func (db *DB) smsKind(tenantID int64, f switchboard.RecordFilter) (recordKind, bool) {
	if len(f.Dispositions) > 0 || len(f.CampaignIDs) > 0 || len(f.SourceIDs) > 0 || len(f.QueueIDs) > 0 {
		return recordKind{}, false
	}
	q := listQuery{cols: messageCols, from: "FROM messages WHERE tenant_id = ?", args: []any{tenantID}, key: "id", desc: f.Newest}
	w := where{q: &q, esc: db.likeEscapeClause()}
	if len(f.Subtypes) > 0 {
		var dirs []string
		for _, s := range f.Subtypes {
			if s == string(switchboard.Inbound) || s == string(switchboard.Outbound) {
				dirs = append(dirs, s)
			}
		}
		if len(dirs) == 0 {
			return recordKind{}, false
		}
		whereIn(w, "direction", dirs)
	}
	w.period("created_at", f.Since, f.Until)
	w.period("COALESCE(delivered_at, sent_at)", f.EndedSince, f.EndedUntil)
	whereIn(w, "user_id", f.AgentIDs)
	w.teams("user_id", f.TeamIDs)
	whereIn(w, "from_number", f.From)
	whereIn(w, "to_number", f.To)
	w.like("from_number", f.FromLike)
	w.like("to_number", f.ToLike)
	return recordKind{typ: switchboard.RecordSMS, q: q, scan: func(s scanner) (switchboard.Record, error) {
		m, err := scanMessage(s)
		return switchboard.Record{Type: switchboard.RecordSMS, Message: &m}, err
	}}, true
}

// where adds conditions to a list query's WHERE clause.
type where struct {
	q   *listQuery
	esc string // the engine's LIKE escape clause
}

func (w where) add(cond string, args ...any) {
	w.q.from += " AND " + cond
	w.q.args = append(w.q.args, args...)
}

// whereIn adds "col IN (…)" for a list that is not empty.
func whereIn[T any](w where, col string, vals []T) {
	if len(vals) == 0 {
		return
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	w.add(col+" IN ("+placeholders(len(vals))+")", args...)
}

// period bounds col to [since, until) where they are set.
func (w where) period(col string, since, until *time.Time) {
	if since != nil {
		w.add(col+" >= ?", micros(*since))
	}
	if until != nil {
		w.add(col+" < ?", micros(*until))
	}
}

// teams keeps the rows whose user col is a member of one of the teams.
func (w where) teams(col string, teams []int64) {
	if len(teams) == 0 {
		return
	}
	args := make([]any, len(teams))
	for i, id := range teams {
		args[i] = id
	}
	w.add(col+" IN (SELECT user_id FROM user_teams WHERE team_id IN ("+placeholders(len(teams))+"))", args...)
}

// like matches col against a number pattern (numberPattern).
func (w where) like(col, pattern string) {
	if pattern != "" {
		w.add(col+" LIKE ?"+w.esc, numberPattern(pattern))
	}
}
