package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"switchboard"
)

// Call records are the largest table by far (a busy tenant writes millions of
// calls a year), so every list of them is written to cost what the page
// shows, not what the table holds:
//
//   - A filter on one party's number, or on a part of a number of three
//     characters or more, is a small set of ids found through an index (the
//     number indexes bounded by the period; FTS5 over the numbers' digit
//     windows on SQLite, pg_trgm on PostgreSQL), and the calls are read by
//     id. The other conditions are written with a unary plus
//     (+tenant_id) so that neither engine can drive the query from a wider
//     index instead, with or without statistics.
//   - A page of every call reads the (tenant_id, id) index in order and stops
//     at the page's end; its total comes from the per-tenant counters kept by
//     triggers (call_counts), never from a count over the table.
//   - Other filtered totals count the filtered rows, which costs what the
//     filter selects (a period's calls through the period index).
//
// Parts of numbers without three digits in a row on SQLite, or shorter than
// three characters on PostgreSQL, are checked with LIKE on the rows the other
// conditions select (the period's, through its index).

// sqlCond is one condition of a WHERE clause with its arguments.
type sqlCond struct {
	sql  string
	args []any
}

// cdrQuery builds the FROM…WHERE of a list of f's calls, and the query that
// counts them: a counter when f filters nothing but whether calls ended. On
// SQLite a search for part of a number asks the number index first, once,
// and the page and its count read the ids it found (as a JSON array, so that
// the statement's text stays the same): an FTS5 query costs more than
// reading its few dozen answers twice. more are further conditions (the
// record list's subtypes), ANDed with f's.
func (db *DB) cdrQuery(ctx context.Context, tenantID int64, f switchboard.CDRFilter, more ...sqlCond) (listQuery, error) {
	q := listQuery{cols: callCols, key: "id", desc: f.Newest}
	var conds []string
	add := func(cond string, args ...any) {
		conds = append(conds, cond)
		q.args = append(q.args, args...)
	}
	var period []string
	var periodArgs []any
	if f.Since != nil {
		period, periodArgs = append(period, "created_at >= ?"), append(periodArgs, micros(*f.Since))
	}
	if f.Until != nil {
		period, periodArgs = append(period, "created_at < ?"), append(periodArgs, micros(*f.Until))
	}
	drivers, err := db.cdrDrivers(ctx, tenantID, f, period, periodArgs)
	if err != nil {
		return q, err
	}
	// plus is "+" when the ids come from a driving set, so that the outer
	// conditions filter those rows rather than pick an index of their own.
	plus := ""
	if len(drivers) > 0 {
		plus = "+"
	}
	for _, d := range drivers {
		add(d.sql, d.args...)
	}
	add(plus+"tenant_id = ?", tenantID)
	switch {
	case f.OnlyOpen:
		add("ended_at IS NULL")
	case !f.Open:
		add(plus + "ended_at IS NOT NULL")
	}
	for i, c := range period {
		add(plus+c, periodArgs[i])
	}
	filtered := len(period) > 0 || len(drivers) > 0 || len(more) > 0
	// in adds "col IN (…)" for a list that is not empty.
	in := func(col string, n int, arg func(i int) any) {
		if n == 0 {
			return
		}
		args := make([]any, n)
		for i := range args {
			args[i] = arg(i)
		}
		add(col+" IN ("+placeholders(n)+")", args...)
		filtered = true
	}
	if f.Direction != "" {
		add("direction = ?", f.Direction)
		filtered = true
	}
	in("direction", len(f.Directions), func(i int) any { return string(f.Directions[i]) })
	if f.Disposition != "" {
		add("disposition = ?", f.Disposition)
		filtered = true
	}
	in("disposition", len(f.Dispositions), func(i int) any { return string(f.Dispositions[i]) })
	if f.AgentID != 0 {
		add("agent_id = ?", f.AgentID)
		filtered = true
	}
	in("agent_id", len(f.AgentIDs), func(i int) any { return f.AgentIDs[i] })
	if f.TeamID != 0 {
		add("agent_id IN (SELECT user_id FROM user_teams WHERE team_id = ?)", f.TeamID)
		filtered = true
	}
	if n := len(f.TeamIDs); n > 0 {
		args := make([]any, n)
		for i, id := range f.TeamIDs {
			args[i] = id
		}
		add("agent_id IN (SELECT user_id FROM user_teams WHERE team_id IN ("+placeholders(n)+"))", args...)
		filtered = true
	}
	if f.QueueID != 0 {
		add("queue_id = ?", f.QueueID)
		filtered = true
	}
	in("queue_id", len(f.QueueIDs), func(i int) any { return f.QueueIDs[i] })
	in("campaign_id", len(f.CampaignIDs), func(i int) any { return f.CampaignIDs[i] })
	in("source_account_id", len(f.SourceIDs), func(i int) any { return f.SourceIDs[i] })
	in("status", len(f.Statuses), func(i int) any { return string(f.Statuses[i]) })
	if f.EndedSince != nil {
		add("ended_at >= ?", micros(*f.EndedSince))
		filtered = true
	}
	if f.EndedUntil != nil {
		add("ended_at < ?", micros(*f.EndedUntil))
		filtered = true
	}
	if f.NumberPrefix != "" {
		p := likeEscape(f.NumberPrefix) + "%"
		add("(from_number LIKE ?"+db.likeEscapeClause()+" OR to_number LIKE ?"+db.likeEscapeClause()+")", p, p)
		filtered = true
	}
	if contains := f.NumberContains; contains != "" {
		// Also where an index found the ids: they find a superset (the
		// digits of the search, or trigrams folded in case), and LIKE's
		// rules are the engine's, so LIKE has the last word.
		p := "%" + likeEscape(contains) + "%"
		add("(from_number LIKE ?"+db.likeEscapeClause()+" OR to_number LIKE ?"+db.likeEscapeClause()+")", p, p)
		filtered = true
	}
	// The patterns of one side: the same last word.
	if f.FromLike != "" {
		add("from_number LIKE ?"+db.likeEscapeClause(), numberPattern(f.FromLike))
		filtered = true
	}
	if f.ToLike != "" {
		add("to_number LIKE ?"+db.likeEscapeClause(), numberPattern(f.ToLike))
		filtered = true
	}
	talk := "(COALESCE(ended_at, 0) - COALESCE(connected_at, COALESCE(ended_at, 0)))"
	if f.MinDuration != nil {
		add(talk+" >= ?", f.MinDuration.Microseconds())
		filtered = true
	}
	if f.MaxDuration != nil {
		add(talk+" <= ?", f.MaxDuration.Microseconds())
		filtered = true
	}
	for _, c := range more {
		add(c.sql, c.args...)
	}
	q.from = "FROM calls WHERE " + strings.Join(conds, " AND ")
	if !filtered {
		switch {
		case f.OnlyOpen:
			q.count = "SELECT COALESCE(MAX(calls - ended), 0) FROM call_counts WHERE tenant_id = ?"
		case f.Open:
			q.count = "SELECT COALESCE(MAX(calls), 0) FROM call_counts WHERE tenant_id = ?"
		default:
			q.count = "SELECT COALESCE(MAX(ended), 0) FROM call_counts WHERE tenant_id = ?"
		}
		q.countArgs = []any{tenantID}
	}
	return q, nil
}

// cdrDrivers returns the conditions that find f's calls by number through
// an index, each a small set of ids in the period: a party's number exactly
// (either side, or the list of one side) through the per-side number
// indexes, and on SQLite the digits of a part or a pattern through the
// number index. On PostgreSQL a part or a pattern of three characters or
// more needs no driver: its LIKE can drive the query, PostgreSQL ORing (or
// choosing) the trigram indexes' bitmaps and ANDing the period index's when
// its statistics say that is cheaper.
func (db *DB) cdrDrivers(ctx context.Context, tenantID int64, f switchboard.CDRFilter, period []string, periodArgs []any) ([]sqlCond, error) {
	inPeriod := ""
	for _, c := range period {
		inPeriod += " AND " + c
	}
	var out []sqlCond
	side := func(col string, numbers ...string) sqlCond {
		args := []any{tenantID}
		for _, n := range numbers {
			args = append(args, n)
		}
		return sqlCond{"SELECT id FROM calls WHERE tenant_id = ? AND " + col + " IN (" + placeholders(len(numbers)) + ")" + inPeriod,
			append(args, periodArgs...)}
	}
	if f.Number != "" {
		// One party's calls in the period, through (tenant_id, from_number,
		// created_at) and (tenant_id, to_number, created_at).
		from, to := side("from_number", f.Number), side("to_number", f.Number)
		out = append(out, sqlCond{"id IN (" + from.sql + " UNION ALL " + to.sql + ")", append(from.args, to.args...)})
	}
	if len(f.From) > 0 {
		c := side("from_number", f.From...)
		out = append(out, sqlCond{"id IN (" + c.sql + ")", c.args})
	}
	if len(f.To) > 0 {
		c := side("to_number", f.To...)
		out = append(out, sqlCond{"id IN (" + c.sql + ")", c.args})
	}
	if db.engine != SQLite {
		return out, nil
	}
	searched := map[string]bool{}
	for _, part := range []string{f.NumberContains, f.FromLike, f.ToLike} {
		digits := longestDigits(part)
		if len(digits) < minIndexedDigits || searched[digits] {
			continue
		}
		searched[digits] = true
		ids, ok, err := db.numberIDs(ctx, digits)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, sqlCond{"id IN (SELECT value FROM json_each(?))", []any{ids}})
		}
	}
	return out, nil
}

// numberPattern is the LIKE pattern of a number pattern where * stands for
// any run of digits (LIKE's %: a number holds nothing else but its +), every
// other character standing for itself.
func numberPattern(p string) string {
	return strings.ReplaceAll(likeEscape(p), "*", "%")
}

// maxIndexedIDs bounds the ids a search takes from the number index: a
// search that common (three digits of the tenant's own line, say) matches a
// good part of the table, and is checked with LIKE over the period instead,
// rather than carried as a list of millions of ids.
var maxIndexedIDs = 50_000 // a variable for the tests

// numberIDs returns, as a JSON array, the ids of the calls whose numbers
// hold the digits d, by SQLite's number index (numbergrams.go); ok is false
// when there are more than maxIndexedIDs.
func (db *DB) numberIDs(ctx context.Context, d string) (ids string, ok bool, err error) {
	rows, err := db.query(ctx, "SELECT rowid FROM calls_numbers WHERE calls_numbers MATCH ?"+
		// Committed state holds no pending call (flushNumberIndex), but a
		// write made outside the store's writer may have left some: they
		// are candidates, which LIKE then checks.
		" UNION ALL SELECT id FROM calls_numbers_pending LIMIT ?", gramQuery(d), maxIndexedIDs+1)
	if err != nil {
		return "", false, fmt.Errorf("search numbers: %w", err)
	}
	defer rows.Close()
	b := []byte{'['}
	n := 0
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return "", false, fmt.Errorf("search numbers: %w", err)
		}
		if n++; n > maxIndexedIDs {
			return "", false, nil
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	if err := rows.Err(); err != nil {
		return "", false, fmt.Errorf("search numbers: %w", err)
	}
	return string(append(b, ']')), true, nil
}

// likeEscapeClause names the escape character of likeEscape's patterns.
// PostgreSQL's LIKE escapes with a backslash already, and an ESCAPE clause
// there becomes a function call that keeps the trigram index out of reach.
func (db *DB) likeEscapeClause() string {
	if db.engine == Postgres {
		return ""
	}
	return ` ESCAPE '\'`
}

// CDRs implements switchboard.Store.
func (db *DB) CDRs(ctx context.Context, tenantID int64, f switchboard.CDRFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.CDR], error) {
	q, err := db.cdrQuery(ctx, tenantID, f)
	if err != nil {
		return switchboard.Page[switchboard.CDR]{}, err
	}
	page, err := listPage(ctx, db, q, opt, scanCall, func(c switchboard.Call) int64 { return c.ID })
	out := switchboard.Page[switchboard.CDR]{Total: page.Total, NextCursor: page.NextCursor, Items: make([]switchboard.CDR, len(page.Items))}
	for i, c := range page.Items {
		out.Items[i] = switchboard.NewCDR(c)
	}
	return out, err
}

// likeEscape makes s match itself in a LIKE pattern.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
