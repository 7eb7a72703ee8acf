package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"switchboard"
)

// DecodeJSON reads r's body into dst. With strict set, fields dst does not know
// are refused, so that a typo in a field name fails loudly instead of being
// silently ignored. Every failure is a switchboard.Error naming the field when
// there is one: CodeBadRequest for unparsable input, CodeTooLarge for a body over
// the limit. The decoded value then goes through CheckBody, so that every
// string of every dialect's body is text a store can keep (400) and every
// field keeps to its limit or range (422).
func DecodeJSON(r *http.Request, dst any, strict bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		// curl -d sends application/x-www-form-urlencoded unless told otherwise;
		// the body is still JSON, so accept it rather than fail a first try.
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json") && mt != "application/x-www-form-urlencoded") {
			return switchboard.Errorf(switchboard.CodeBadRequest, "Content-Type must be application/json, not %s", switchboard.Echo(ct))
		}
	}
	// The body is read whole (Observer bounds it) so that its encoding can be
	// checked: encoding/json would quietly turn invalid UTF-8 into U+FFFD.
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return decodeError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return switchboard.Errorf(switchboard.CodeBadRequest, "request body holds more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return switchboard.Errorf(switchboard.CodeBadRequest, "unexpected data after the JSON body")
	}
	if !utf8.Valid(raw) {
		if err := walk(reflect.ValueOf(dst), "", "", replaced); err != nil {
			return err
		}
		return switchboard.Errorf(switchboard.CodeBadRequest, "request body must be UTF-8 text")
	}
	return CheckBody(dst)
}

func decodeError(err error) error {
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	var timeErr *time.ParseError
	field := func(name, reason string) error {
		return &switchboard.Error{Code: switchboard.CodeBadRequest, Message: name + " " + reason,
			Fields: map[string]string{name: reason}}
	}
	switch {
	case errors.As(err, &maxErr):
		return switchboard.Errorf(switchboard.CodeTooLarge, "request body exceeds %d bytes", maxErr.Limit)
	case errors.Is(err, io.EOF):
		return switchboard.Errorf(switchboard.CodeBadRequest, "request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return switchboard.Errorf(switchboard.CodeBadRequest, "request body is truncated JSON")
	case errors.As(err, &syntaxErr):
		return switchboard.Errorf(switchboard.CodeBadRequest, "malformed JSON at byte %d: %s", syntaxErr.Offset,
			switchboard.Clip(syntaxErr.Error(), 2*switchboard.MaxEchoRunes))
	case errors.As(err, &typeErr):
		name := switchboard.Clip(typeErr.Field, 2*switchboard.MaxEchoRunes)
		// Value is "string", "number" or "number <literal>": the literal can
		// be as long as the body.
		value := switchboard.Clip(typeErr.Value, switchboard.MaxEchoRunes)
		if name == "" {
			return switchboard.Errorf(switchboard.CodeBadRequest, "request body must be a JSON %s, not %s", jsonKind(typeErr.Type), value)
		}
		return field(name, fmt.Sprintf("must be %s, not %s", jsonKind(typeErr.Type), value))
	case errors.As(err, &timeErr):
		// encoding/json does not say which field a time came in.
		return switchboard.Errorf(switchboard.CodeBadRequest, "times must be RFC 3339, such as 2026-11-27T10:00:00Z, not %s",
			switchboard.Echo(timeErr.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return field(switchboard.Clip(name, switchboard.MaxEchoRunes), "is not a known field")
	}
	return switchboard.Errorf(switchboard.CodeBadRequest, "cannot read request body: %s", switchboard.Clip(err.Error(), 2*switchboard.MaxEchoRunes))
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Pointer:
		return jsonKind(t.Elem()) + " or null"
	}
	return "a " + t.String()
}

// WriteJSON writes v as the JSON response body with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// Allowed lists the methods of the routes whose pattern fits path, in route
// order and without repeats, for a 405's Allow header. Each route is a method
// and a pattern whose {name} segments match any one non-empty segment.
func Allowed(routes [][2]string, path string) []string {
	var out []string
	for _, rt := range routes {
		if PathMatches(rt[1], path) && !slices.Contains(out, rt[0]) {
			out = append(out, rt[0])
		}
	}
	return out
}

// PathMatches reports whether path fits pattern, whose {name} segments match
// any one non-empty segment.
func PathMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") {
			if xs[i] == "" {
				return false
			}
		} else if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// WriteDownload sends body, size bytes of contentType, and closes it; a
// filename makes it an attachment of that name. It returns the error of a
// copy cut short, which is the client's doing and only worth a log line.
func WriteDownload(w http.ResponseWriter, contentType string, size int64, filename string, body io.ReadCloser) error {
	defer body.Close()
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	if filename != "" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	}
	_, err := io.Copy(w, body)
	return err
}
