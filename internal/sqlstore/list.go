package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"switchboard"
)

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

// listQuery describes one paged list: the columns, the FROM…WHERE clause with its
// arguments, and the integer key column that orders the list and the cursor.
type listQuery struct {
	cols string
	from string
	args []any
	key  string
	desc bool // newest (highest key) first
	// count, when set, is the query (with countArgs) that answers the
	// page's total instead of a COUNT(*) over from: a kept counter.
	count     string
	countArgs []any
}

// listPage runs q as one page of opt. The cursor is the last key of the page,
// wrapped so that clients treat it as opaque.
func listPage[T any](ctx context.Context, db *DB, q listQuery, opt switchboard.ListOptions, scan func(scanner) (T, error), keyOf func(T) int64) (switchboard.Page[T], error) {
	var page switchboard.Page[T]
	if err := opt.Validate(); err != nil {
		return page, err
	}
	if !opt.SkipTotal {
		count, args := "SELECT COUNT(*) "+q.from, q.args
		if q.count != "" {
			count, args = q.count, q.countArgs
		}
		if err := db.queryRow(ctx, count, args...).Scan(&page.Total); err != nil {
			return page, fmt.Errorf("count: %w", err)
		}
	}
	sel := "SELECT " + q.cols + " " + q.from
	cmp, order := " >", ""
	if q.desc {
		cmp, order = " <", " DESC"
	}
	args := append([]any(nil), q.args...)
	switch {
	case opt.Cursor != "":
		after, err := decodeCursor(opt.Cursor)
		if err != nil {
			return page, err
		}
		sel += " AND " + q.key + cmp + " ?"
		args = append(args, after)
		sel += " ORDER BY " + q.key + order + " LIMIT ?"
		args = append(args, opt.Limit+1)
	default:
		sel += " ORDER BY " + q.key + order + " LIMIT ? OFFSET ?"
		args = append(args, opt.Limit+1, opt.Offset)
	}
	rows, err := db.query(ctx, sel, args...)
	if err != nil {
		return page, fmt.Errorf("list: %w", err)
	}
	defer rows.Close()
	page.Items = make([]T, 0, min(opt.Limit, 64))
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return page, fmt.Errorf("list: %w", err)
		}
		page.Items = append(page.Items, item)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list: %w", err)
	}
	if len(page.Items) > opt.Limit {
		page.Items = page.Items[:opt.Limit]
		page.NextCursor = encodeCursor(keyOf(page.Items[len(page.Items)-1]))
	}
	return page, nil
}

func encodeCursor(key int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("k" + strconv.FormatInt(key, 10)))
}

func decodeCursor(c string) (int64, error) {
	bad := &switchboard.Error{Code: switchboard.CodeInvalid, Message: "invalid cursor",
		Fields: map[string]string{"cursor": "is not a cursor returned by this API"}}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), "k") {
		return 0, bad
	}
	v, err := strconv.ParseInt(string(b[1:]), 10, 64)
	if err != nil || v < 0 {
		return 0, bad
	}
	return v, nil
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// checkOwned verifies that every id in ids names a row of table in tenantID. It
// is how references stay inside a tenant: a foreign id looks like a missing one.
// The rows stay as checked until t ends.
func (t *tx) checkOwned(ctx context.Context, tenantID int64, table, field string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	uniq := map[int64]bool{}
	args := []any{tenantID}
	for _, id := range ids {
		if !uniq[id] {
			uniq[id] = true
			args = append(args, id)
		}
	}
	var n int
	q := "SELECT COUNT(*) FROM " + table + " WHERE tenant_id = ? AND id IN (" + placeholders(len(uniq)) + ")"
	if t.db.engine == Postgres {
		// The rows are share-locked until the commit, so that none can be
		// deleted between this check and the insert that refers to it (which
		// would fail as a foreign-key violation, or leave a dangling id where
		// no key guards it). SQLite's single writer needs no lock.
		q = "SELECT COUNT(*) FROM (SELECT id FROM " + table + " WHERE tenant_id = ? AND id IN (" + placeholders(len(uniq)) + ") FOR KEY SHARE) AS owned"
	}
	if err := t.queryRow(ctx, q, args...).Scan(&n); err != nil {
		return fmt.Errorf("check %s: %w", table, err)
	}
	if n != len(uniq) {
		return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "reference to an unknown object",
			Fields: map[string]string{field: "refers to a " + strings.TrimSuffix(table, "s") + " that does not exist"}}
	}
	return nil
}

// decodeList decodes a stored JSON array into dst, with no decoder for the
// empty list most rows hold: the decoder's setup was a measurable share of a
// page of users (four lists a row). An empty list stays non-nil, so that it
// renders as [] as before.
func decodeList[T any](src string, dst *[]T) error {
	if src == "[]" {
		*dst = []T{}
		return nil
	}
	if err := json.Unmarshal([]byte(src), dst); err != nil {
		return fmt.Errorf("decode stored list %.40q: %w", src, err)
	}
	return nil
}

// decodeIDs decodes a stored JSON array of integers ("[3,7]", as the engines
// aggregate ids) without reflection, falling back to the decoder for any
// other spelling.
func decodeIDs(src string) ([]int64, error) {
	if src == "[]" {
		return []int64{}, nil
	}
	if len(src) < 2 || src[0] != '[' || src[len(src)-1] != ']' {
		var out []int64
		return out, decodeList(src, &out)
	}
	body := src[1 : len(src)-1]
	out := make([]int64, 0, strings.Count(body, ",")+1)
	if strings.TrimSpace(body) == "" {
		return out, nil
	}
	for part := range strings.SplitSeq(body, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil {
			var slow []int64
			return slow, decodeList(src, &slow)
		}
		out = append(out, v)
	}
	return out, nil
}
