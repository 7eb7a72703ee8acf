package ujet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
)

// decode reads a JSON body leniently, as UJET asks of clients in return:
// unknown keys are ignored (Google: "new JSON keys may appear at any time"),
// an empty body is an empty object, and a key of the wrong type is a 400
// naming it.
func decode(r *http.Request, dst any) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return switchboard.Errorf(switchboard.CodeTooLarge, "request body exceeds %d bytes", tooLarge.Limit)
		}
		return switchboard.Errorf(switchboard.CodeBadRequest, "cannot read the request body: %v", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return httpapi.DecodeJSON(r, dst, false)
}

// Pagination bounds: UJET pages with page (1-based) and per, 100 records by
// default and at most.
const (
	defaultPer = 100
	maxPer     = 100
)

// pageOptions reads page and per. A per above the maximum is clamped to it
// (as UJET does); a page or per that is not a positive integer is a 400.
func pageOptions(r *http.Request) (opt switchboard.ListOptions, page, per int, err error) {
	q := r.URL.Query()
	page, per = 1, defaultPer
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > switchboard.MaxOffset/maxPer {
			return opt, 0, 0, badRequest("Invalid page request - page must be a positive integer")
		}
		page = n
	}
	if v := q.Get("per"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return opt, 0, 0, badRequest("Invalid page size request - per must be a positive integer")
		}
		per = min(n, maxPer)
	}
	return switchboard.ListOptions{Limit: per, Offset: (page - 1) * per}, page, per, nil
}

// paginate writes UJET's list headers: Total (every record the filters
// select), Per-Page and Link with the first, prev, next and last pages, each
// the request's own URL with only page changed.
func (c *call) paginate(publicURL string, total, page, per int) {
	h := c.w.Header()
	h.Set("Total", strconv.Itoa(total))
	h.Set("Per-Page", strconv.Itoa(per))
	last := max(1, (total+per-1)/per)
	link := func(p int, rel string) string {
		q := c.r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per", strconv.Itoa(per))
		return fmt.Sprintf("<%s%s?%s>; rel=%q", strings.TrimSuffix(publicURL, "/"), c.r.URL.Path, q.Encode(), rel)
	}
	links := []string{link(1, "first")}
	if page > 1 {
		links = append(links, link(min(page-1, last), "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"))
	}
	links = append(links, link(last, "last"))
	h.Set("Link", strings.Join(links, ", "))
}

// writeList answers a paginated list: the headers, then the bare array UJET
// lists are (never null).
func writeList[T any](c *call, publicURL string, items []T, total, page, per int) {
	if items == nil {
		items = []T{}
	}
	c.paginate(publicURL, total, page, per)
	httpapi.WriteJSON(c.w, http.StatusOK, items)
}

// millis renders t as UJET does everywhere: ISO 8601 in UTC to the
// millisecond ("2019-06-07T01:27:30.406Z").
func millis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// optMillis is millis(*t), or null.
func optMillis(t *time.Time) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	s := millis(*t)
	return &s
}

// dncTime renders a DNC expiry as UJET's DNC API does: "2022-10-29 00:00:00 UTC".
func dncTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// parseTime reads a time a client sends: ISO 8601 / RFC 3339 (with or
// without fractions or zone, UTC assumed without), a date, or UJET's DNC
// form "2022-10-29 00:00:00 UTC".
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05 MST",
		"2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// timeRange reads name[from] and name[to] (either may be absent); a value
// that is not a time is a 400 naming it.
func timeRange(r *http.Request, name string) (from, to *time.Time, err error) {
	q := r.URL.Query()
	for _, end := range []struct {
		key string
		dst **time.Time
	}{{name + "[from]", &from}, {name + "[to]", &to}} {
		if v := q.Get(end.key); v != "" {
			t, ok := parseTime(v)
			if !ok {
				return nil, nil, badRequest(end.key + " is not a valid time (ISO 8601, e.g. 2019-06-07T01:27:30.406Z)")
			}
			*end.dst = &t
		}
	}
	return from, to, nil
}

// multi reads a multi-valued parameter in every form clients send it:
// name[]=a&name[]=b, name=a&name=b, and comma-separated name=a,b.
func multi(r *http.Request, name string) []string {
	q := r.URL.Query()
	var out []string
	for _, key := range []string{name + "[]", name} {
		for _, v := range q[key] {
			for _, part := range strings.Split(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
		}
	}
	return out
}

// multiInt is multi of integers; a value that is not one is a 400 naming the
// parameter.
func multiInt(r *http.Request, name string) ([]int64, error) {
	var out []int64
	for _, v := range multi(r, name) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, badRequest(name + "[] must hold integers")
		}
		out = append(out, n)
	}
	return out, nil
}

// pathID reads an integer path value; one that is not an id is a 404, as
// no object has it.
func pathID(c *call, name string) (int64, error) {
	n, err := strconv.ParseInt(c.r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, notFound()
	}
	return n, nil
}

// flexInt is an integer a client may send as a JSON number or as a string of
// digits (the seed's menu_id is "String / Integer", its Postman bodies quote
// ids). Null and "" leave it unset.
type flexInt struct {
	// The fields are the decoded value, not JSON keys (the kit's range
	// check skips them: the value is an id).
	Set   bool  `json:"-"`
	Value int64 `json:"-"`
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = flexInt{}
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s = strings.TrimSpace(s); s == "" {
			*f = flexInt{}
			return nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("must be an integer")
	}
	*f = flexInt{Set: true, Value: n}
	return nil
}

// MarshalJSON implements json.Marshaler (for the OpenAPI examples).
func (f flexInt) MarshalJSON() ([]byte, error) {
	if !f.Set {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatInt(f.Value, 10)), nil
}

// flexBool is a boolean a client may send as true/false, "true"/"false",
// 1/0 or "1"/"0". Null leaves it unset.
type flexBool struct {
	Set   bool `json:"-"`
	Value bool `json:"-"`
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(strings.ToLower(string(bytes.TrimSpace(b))), `"`) {
	case "null", "":
		*f = flexBool{}
	case "true", "1":
		*f = flexBool{Set: true, Value: true}
	case "false", "0":
		*f = flexBool{Set: true, Value: false}
	default:
		return fmt.Errorf("must be a boolean")
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (f flexBool) MarshalJSON() ([]byte, error) {
	if !f.Set {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatBool(f.Value)), nil
}

// readAllLimited reads an upload's bytes up to limit, refusing more.
func readAllLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, switchboard.Errorf(switchboard.CodeTooLarge, "file exceeds %d bytes", limit)
	}
	return b, nil
}

// absURL is path under the server's public URL.
func absURL(publicURL, path string) string {
	u, err := url.JoinPath(publicURL, path)
	if err != nil {
		return strings.TrimSuffix(publicURL, "/") + path
	}
	return u
}
