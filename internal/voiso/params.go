package voiso

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/phone"
)

// Page bounds: limit is 1..100 everywhere but the CDR list (0..1000), and
// without a cursor only the first 10,000 records are reachable.
const (
	defaultLimit = 100
	maxLimit     = 100
	maxCDRLimit  = 1000
	offsetWindow = 10000
)

// badRequest is the 400 of a query value out of its range.
func badRequest(format string, args ...any) error {
	return switchboard.Errorf(switchboard.CodeBadRequest, format, args...)
}

// pageOf reads limit (1..max, default 100) and offset (≥ 0, default 0)
// from q. A value that is not a whole number in range is 400: Voiso refuses
// bad pagination rather than clamping it.
func pageOf(q url.Values, min, max int) (limit, offset int, err error) {
	limit, offset = defaultLimit, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return 0, 0, badRequest("limit must be a whole number from %d to %d", min, max)
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > switchboard.MaxOffset {
			return 0, 0, badRequest("offset must be a whole number from 0")
		}
		offset = n
	}
	return limit, offset, nil
}

// listOptions reads a list's limit and offset as the store takes them.
func listOptions(q url.Values) (switchboard.ListOptions, error) {
	limit, offset, err := pageOf(q, 1, maxLimit)
	return switchboard.ListOptions{Limit: limit, Offset: offset}, err
}

// values is every value of a multi-valued filter: a repeated key (k=a&k=b),
// the bracket form (k[]=a&k[]=b), and, when commas is set (ids), comma
// lists (k=a,b). Empty values are dropped.
func values(q url.Values, key string, commas bool) []string {
	var out []string
	for _, v := range append(append([]string(nil), q[key]...), q[key+"[]"]...) {
		parts := []string{v}
		if commas {
			parts = strings.Split(v, ",")
		}
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// ids reads a multi-valued id filter; a value that is not a positive integer
// is 400 naming the key.
func ids(q url.Values, key string) ([]int64, error) {
	var out []int64
	for _, v := range values(q, key, true) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return nil, badRequest("%s must be positive integers", key)
		}
		out = append(out, n)
	}
	return out, nil
}

// timeRange is a comparison filter on one time field, as [since, until):
// nil ends are open.
type timeRange struct{ Since, Until *time.Time }

// comparisons reads key's bracket comparisons (key[gt], key[gte], key[lt],
// key[lte], key[eq], and a bare key meaning eq) into a half-open range. The
// store's ranges are [since, until), so gt and lte move their bound by the
// smallest step the store keeps (a microsecond). Several bounds on one side
// keep the tightest. A value that is not a time is 400 naming the key.
func comparisons(q url.Values, key string) (timeRange, error) {
	var r timeRange
	lower := func(t time.Time) {
		if r.Since == nil || t.After(*r.Since) {
			r.Since = &t
		}
	}
	upper := func(t time.Time) {
		if r.Until == nil || t.Before(*r.Until) {
			r.Until = &t
		}
	}
	for _, op := range []string{"", "eq", "gt", "gte", "lt", "lte"} {
		k := key
		if op != "" {
			k = key + "[" + op + "]"
		}
		v := q.Get(k)
		if v == "" {
			continue
		}
		t, err := parseTime(v)
		if err != nil {
			return timeRange{}, badRequest("%s must be an RFC 3339 time, such as 2026-11-27T10:00:00Z", k)
		}
		switch op {
		case "", "eq":
			lower(t)
			upper(t.Add(time.Microsecond))
		case "gt":
			lower(t.Add(time.Microsecond))
		case "gte":
			lower(t)
		case "lt":
			upper(t)
		case "lte":
			upper(t.Add(time.Microsecond))
		}
	}
	return r, nil
}

// parseTime reads an RFC 3339 time, or a date alone as its midnight UTC.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

// phoneFilter reads an exact number filter: digits with or without +, as
// E.164. A value that is not a number is 400 naming the key.
func phoneFilter(q url.Values, key string) ([]string, error) {
	var out []string
	for _, v := range values(q, key, true) {
		n, err := phone.Normalize(v, "")
		if err != nil {
			return nil, badRequest("%s must be phone numbers in international form", key)
		}
		out = append(out, n)
	}
	return out, nil
}

// phonePattern reads a _like number filter: digits and * (any run of
// digits), with or without a leading +, into the store's pattern, where *
// stays the wildcard. "" when absent.
func phonePattern(q url.Values, key string) (string, error) {
	v := strings.TrimPrefix(strings.TrimSpace(q.Get(key)), "+")
	if v == "" {
		return "", nil
	}
	for _, r := range v {
		if (r < '0' || r > '9') && r != '*' {
			return "", badRequest("%s must be digits and *", key)
		}
	}
	return v, nil
}

// decode reads a request body as Voiso does: unknown fields are ignored (a
// client may send fields we do not know), every field of the wrong type is
// reported at once as 422 naming it ("must be a string", "must be an
// integer"), every field tagged required:"true" that is absent or null is
// "is missing", nested fields dotted (source.account_id). A body that is not
// a JSON object is 400. An empty body is an empty object.
func decode(r *http.Request, dst any) error {
	rawBody, err := io.ReadAll(r.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return switchboard.Errorf(switchboard.CodeTooLarge, "request body exceeds %d bytes", maxErr.Limit)
		}
		return badRequest("cannot read request body")
	}
	if len(bytes.TrimSpace(rawBody)) == 0 {
		rawBody = []byte("{}")
	}
	if !utf8.Valid(rawBody) {
		return badRequest("request body must be UTF-8 text")
	}
	if !json.Valid(rawBody) {
		return badRequest("request body is not JSON")
	}
	p := switchboard.Problems{}
	if err := decodeObject(rawBody, reflect.ValueOf(dst).Elem(), "", p); err != nil {
		return err
	}
	if err := p.Err(); err != nil {
		return err
	}
	return httpapi.CheckBody(dst)
}

// decodeObject decodes the object raw into the struct v field by field,
// recording each field's problem in p under path.name.
func decodeObject(raw []byte, v reflect.Value, path string, p switchboard.Problems) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		if path == "" {
			return badRequest("request body must be a JSON object")
		}
		p.Add(path, "must be an object")
		return nil
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		full := name
		if path != "" {
			full = path + "." + name
		}
		val, ok := obj[name]
		if !ok || string(val) == "null" {
			if f.Tag.Get("required") == "true" {
				p.Add(full, "is missing")
			}
			continue
		}
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && !reflect.PointerTo(f.Type).Implements(unmarshaler) && f.Type.PkgPath() != "time" {
			if err := decodeObject(val, fv, full, p); err != nil {
				return err
			}
			continue
		}
		if err := json.Unmarshal(val, fv.Addr().Interface()); err != nil {
			p.Add(full, typeMessage(f.Type, err))
		}
	}
	return nil
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// fieldError is the message a field's own decoder gives for a bad value.
type fieldError string

func (e fieldError) Error() string { return string(e) }

// typeMessage words a field's decode error in Voiso's style.
func typeMessage(t reflect.Type, err error) string {
	var fe fieldError
	if errors.As(err, &fe) {
		return string(fe)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "must be a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "must be an integer"
	case reflect.Float32, reflect.Float64:
		return "must be a number"
	case reflect.Bool:
		return "must be true or false"
	case reflect.Slice, reflect.Array:
		return "must be an array"
	}
	return "must be an object"
}

// flexID is an integer id a client may send as a number or a string of
// digits, as Start call's user_id ("1234" in the seed).
type flexID int64

// UnmarshalJSON implements json.Unmarshaler.
func (id *flexID) UnmarshalJSON(b []byte) error {
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return fieldError("must be an integer")
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 1 {
		return fieldError("must be an integer")
	}
	*id = flexID(n)
	return nil
}
