package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"switchboard"
)

// DecodeJSON reads r's body into dst. With strict set, fields dst does not know
// are refused, so that a typo in a field name fails loudly instead of being
// silently ignored. Every failure is a switchboard.Error naming the field when
// there is one: CodeBadRequest for unparsable input, CodeTooLarge for a body over
// the limit.
func DecodeJSON(r *http.Request, dst any, strict bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		// curl -d sends application/x-www-form-urlencoded unless told otherwise;
		// the body is still JSON, so accept it rather than fail a first try.
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json") && mt != "application/x-www-form-urlencoded") {
			return switchboard.Errorf(switchboard.CodeBadRequest, "Content-Type must be application/json, not %q", ct)
		}
	}
	dec := json.NewDecoder(r.Body)
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(dst)
	if err == nil {
		if dec.More() {
			return switchboard.Errorf(switchboard.CodeBadRequest, "request body holds more than one JSON value")
		}
		if _, err := dec.Token(); err != io.EOF {
			return switchboard.Errorf(switchboard.CodeBadRequest, "unexpected data after the JSON body")
		}
		return nil
	}
	return decodeError(err)
}

func decodeError(err error) error {
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
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
		return switchboard.Errorf(switchboard.CodeBadRequest, "malformed JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.As(err, &typeErr):
		name := typeErr.Field
		if name == "" {
			return switchboard.Errorf(switchboard.CodeBadRequest, "request body must be a JSON %s, not %s", jsonKind(typeErr.Type), typeErr.Value)
		}
		return field(name, fmt.Sprintf("must be %s, not %s", jsonKind(typeErr.Type), typeErr.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return field(name, "is not a known field")
	}
	return switchboard.Errorf(switchboard.CodeBadRequest, "cannot read request body: %v", err)
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
