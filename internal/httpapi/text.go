package httpapi

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"switchboard"
)

// Text that no store can keep is refused at the door, for every dialect alike:
// PostgreSQL cannot store a NUL byte in a text column and refuses invalid
// UTF-8, so without these checks such input reached the database and came
// back as a 500. The checks are generic (every string of every decoded body,
// every path and every query parameter), so a field added later is covered
// without anyone remembering to.

// textProblem says what is wrong with s as text, or "" when nothing is.
func textProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8 text"
	case strings.IndexByte(s, 0) >= 0:
		return "must not contain NUL characters"
	}
	return ""
}

// badText is the 400 naming the field that holds bad text.
func badText(field, reason string) error {
	field = switchboard.Clip(field, 2*switchboard.MaxEchoRunes)
	return &switchboard.Error{Code: switchboard.CodeBadRequest, Message: field + " " + reason,
		Fields: map[string]string{field: reason}}
}

// CheckRequestText refuses a request whose path or query parameters are not
// text a store can keep: invalid UTF-8 (after percent-decoding) or NUL bytes.
// Observer.Wrap runs it before any dialect sees the request, so path ids and
// query parameters of every route are covered in one place.
func CheckRequestText(r *http.Request) error {
	if reason := textProblem(r.URL.Path); reason != "" {
		return badText("path", reason)
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	// ParseQuery skips pairs it cannot decode (a bad escape, a semicolon)
	// and goes on; so does r.URL.Query, which the dialects read, so those
	// pairs reach nothing and need no check.
	values, _ := url.ParseQuery(r.URL.RawQuery)
	for k, vs := range values {
		if reason := textProblem(k); reason != "" {
			return badText("query parameter name", reason)
		}
		for _, v := range vs {
			if reason := textProblem(v); reason != "" {
				return badText(k, reason)
			}
		}
	}
	return nil
}

// Limits every decoded body is held to where its type sets none narrower.
// Fields tag their own: `limit:"N"` caps a string at N characters (runes) or
// a list or object at N entries, `range:"LO,HI"` bounds a number. Both are
// what the OpenAPI documents show as maxLength, maxItems, minimum and maximum.
const (
	// DefaultMaxText bounds any string of a body, in characters.
	DefaultMaxText = 4096
	// DefaultMaxItems bounds any list or object of a body, in entries.
	DefaultMaxItems = 1000
)

// CheckBody walks a decoded request body and refuses, naming the field by its
// JSON path (e.g. "phones[2]" or "headers.X-Key"):
//   - with CodeBadRequest, a string (a value, or a key of an object) that is
//     not text a store can keep;
//   - with CodeInvalid, a string, list or object over its limit, or a number
//     outside its range.
//
// Unexported fields and fields the JSON encoding skips are not walked.
func CheckBody(v any) error {
	return walk(reflect.ValueOf(v), "", "", textProblem)
}

// replaced finds the strings into which encoding/json put U+FFFD for invalid
// UTF-8, to name the field of a body that was not UTF-8.
func replaced(s string) string {
	if strings.ContainsRune(s, utf8.RuneError) {
		return "must be valid UTF-8 text"
	}
	return ""
}

func walk(v reflect.Value, path string, tag reflect.StructTag, problem func(string) string) error {
	limit := func(def int) int {
		if n, err := strconv.Atoi(tag.Get("limit")); err == nil {
			return n
		}
		return def
	}
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if reason := problem(s); reason != "" {
			return badText(orBody(path), reason)
		}
		if max := limit(DefaultMaxText); len(s) > max && utf8.RuneCountInString(s) > max {
			return tooBig(orBody(path), "must be at most "+strconv.Itoa(max)+" characters")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if lo, hi, ok := Range(tag); ok && (float64(v.Int()) < lo || float64(v.Int()) > hi) {
			return tooBig(orBody(path), "must be between "+fmtNum(lo)+" and "+fmtNum(hi))
		}
	case reflect.Float32, reflect.Float64:
		if lo, hi, ok := Range(tag); ok && !(v.Float() >= lo && v.Float() <= hi) {
			return tooBig(orBody(path), "must be between "+fmtNum(lo)+" and "+fmtNum(hi))
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return walk(v.Elem(), path, tag, problem)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes (json.RawMessage, base64) are not text
		}
		if max := limit(DefaultMaxItems); v.Len() > max {
			return tooBig(orBody(path), "must hold at most "+strconv.Itoa(max)+" items")
		}
		for i := range v.Len() {
			if err := walk(v.Index(i), orBody(path)+"["+strconv.Itoa(i)+"]", "", problem); err != nil {
				return err
			}
		}
	case reflect.Map:
		if max := limit(DefaultMaxItems); v.Len() > max {
			return tooBig(orBody(path), "must hold at most "+strconv.Itoa(max)+" entries")
		}
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			name := orBody(path)
			if k.Kind() == reflect.String {
				name = join(path, k.String())
				if reason := problem(k.String()); reason != "" {
					return badText(orBody(path), "keys "+reason)
				}
				if utf8.RuneCountInString(k.String()) > DefaultMaxText {
					return tooBig(orBody(path), "keys must be at most "+strconv.Itoa(DefaultMaxText)+" characters")
				}
			}
			if err := walk(iter.Value(), name, "", problem); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			sub, ok := fieldPath(f, path)
			if !ok {
				continue
			}
			if err := walk(v.Field(i), sub, f.Tag, problem); err != nil {
				return err
			}
		}
	}
	return nil
}

// Range reads a field's `range:"LO,HI"` tag.
func Range(tag reflect.StructTag) (lo, hi float64, ok bool) {
	a, b, found := strings.Cut(tag.Get("range"), ",")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseFloat(a, 64)
	hi, err2 := strconv.ParseFloat(b, 64)
	return lo, hi, err1 == nil && err2 == nil
}

// Limit reads a field's `limit:"N"` tag.
func Limit(tag reflect.StructTag) (int, bool) {
	n, err := strconv.Atoi(tag.Get("limit"))
	return n, err == nil
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// tooBig is the 422 naming a field over its limit or out of its range.
func tooBig(field, reason string) error {
	field = switchboard.Clip(field, 2*switchboard.MaxEchoRunes)
	return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
		Fields: map[string]string{field: reason}}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// UnboundedNumbers lists the JSON paths of the numeric fields of body type t
// that carry no range tag, for tests that walk every route of a dialect:
// every number a client sends needs a documented range. Ids and references
// (fields named id or ending in _id, Id or ID) are exempt: any value is
// looked up, and one that names nothing is a not-found or a validation error.
func UnboundedNumbers(t reflect.Type) []string {
	var out []string
	var visit func(t reflect.Type, path string, tag reflect.StructTag, seen map[reflect.Type]bool)
	visit = func(t reflect.Type, path string, tag reflect.StructTag, seen map[reflect.Type]bool) {
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64:
			if _, _, ok := Range(tag); !ok && !idLike(path) {
				out = append(out, orBody(path))
			}
		case reflect.Pointer, reflect.Slice, reflect.Array:
			if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
				return
			}
			sub := path
			if t.Kind() != reflect.Pointer {
				sub = orBody(path) + "[]"
				tag = ""
			}
			visit(t.Elem(), sub, tag, seen)
		case reflect.Map:
			visit(t.Elem(), join(path, "*"), "", seen)
		case reflect.Struct:
			if seen[t] || t.PkgPath() == "time" {
				return
			}
			seen[t] = true
			defer delete(seen, t)
			for i := range t.NumField() {
				f := t.Field(i)
				sub, ok := fieldPath(f, path)
				if !ok {
					continue
				}
				visit(f.Type, sub, f.Tag, seen)
			}
		}
	}
	visit(t, "", "", map[reflect.Type]bool{})
	return out
}

func idLike(path string) bool {
	path = strings.TrimSuffix(path, "[]")
	if i := strings.LastIndexAny(path, ".]"); i >= 0 {
		path = path[i+1:]
	}
	return path == "id" || path == "ids" || strings.HasSuffix(path, "_id") || strings.HasSuffix(path, "_ids") ||
		strings.HasSuffix(path, "Id") || strings.HasSuffix(path, "ID") || strings.HasSuffix(path, "Ids")
}

// Violation is a value a body field's tags refuse, and the code CheckBody
// answers it with.
type Violation struct {
	Field string
	Value any
	Code  switchboard.Code
}

// Violations lists, for each top-level field of body type t, values its
// tags refuse: a number just outside its range, a string or a tagged list
// one past its limit, a string with a NUL. Tests of each dialect send them
// through the real server to show that every field is held to what its
// OpenAPI document says.
func Violations(t reflect.Type) []Violation {
	var out []Violation
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		typ := f.Type
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if lo, hi, ok := Range(f.Tag); ok {
			out = append(out, Violation{name, hi + 1, switchboard.CodeInvalid}, Violation{name, lo - 1, switchboard.CodeInvalid})
		}
		n, tagged := Limit(f.Tag)
		switch {
		case typ.Kind() == reflect.String:
			if !tagged {
				n = DefaultMaxText
			}
			out = append(out, Violation{name, strings.Repeat("é", n+1), switchboard.CodeInvalid},
				Violation{name, "a\x00b", switchboard.CodeBadRequest})
		case typ.Kind() == reflect.Slice && tagged:
			out = append(out, Violation{name, make([]any, n+1), switchboard.CodeInvalid})
		}
	}
	return out
}

// fieldPath is the JSON path of struct field f below path, as encoding/json
// names it (embedded structs without a name lift their fields); ok is false
// for fields JSON never reads.
func fieldPath(f reflect.StructField, path string) (sub string, ok bool) {
	if !f.IsExported() {
		return "", false
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return "", false
	}
	if f.Anonymous && name == "" {
		return path, true
	}
	if name == "" {
		name = f.Name
	}
	return join(path, name), true
}
