package switchboard

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Code classifies an Error. Codes are part of the API contract: every dialect maps
// them to its own status codes and envelopes in one table, so new codes are only
// ever appended and existing ones never change meaning.
type Code string

// The error codes. Their string values appear on the native API's wire.
const (
	CodeInvalid          Code = "invalid"            // the request was understood but fails validation
	CodeNotFound         Code = "not_found"          // the object does not exist in the caller's tenant
	CodeConflict         Code = "conflict"           // the change collides with existing state (e.g. a duplicate)
	CodeUnauthorized     Code = "unauthorized"       // no credential, or one that is unknown, expired or revoked
	CodeForbidden        Code = "forbidden"          // the credential lacks the scope or role for the action
	CodeRateLimited      Code = "rate_limited"       // the credential has spent its request budget for now
	CodeTooLarge         Code = "too_large"          // the request body exceeds the configured limit
	CodeInternal         Code = "internal"           // anything else; details are logged, never shown
	CodeBadRequest       Code = "bad_request"        // the request cannot be parsed: bad JSON, unknown field, wrong type
	CodeMethodNotAllowed Code = "method_not_allowed" // the resource exists but not with this method
	// CodePreconditionFailed: the request's If-Match names a version of the
	// object other than the current one (someone changed it since).
	CodePreconditionFailed Code = "precondition_failed"
	// CodeUnavailable: the server cannot act now but may soon (the database
	// is unreachable); the client may retry.
	CodeUnavailable Code = "unavailable"
)

// Error is the one error type that crosses package boundaries. Message is safe to
// show to the API caller; Fields names each offending input field with the reason,
// so a client can point at the exact input that was wrong.
type Error struct {
	Code    Code
	Message string
	Fields  map[string]string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	names := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + " " + e.Fields[k]
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, strings.Join(parts, "; "))
}

// Errorf returns an Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first Error in err's chain; any other non-nil
// error is CodeInternal, because an error we did not classify is our fault.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the caller-safe message of err. Unclassified errors hide
// their text, since it may carry SQL, paths or other internals. Messages are
// clipped to MaxErrorText runes, so that no error can echo a large input back.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return Clip(e.Message, MaxErrorText)
	}
	return "internal error"
}

// ErrorFields returns the per-field reasons of err for the caller, with names
// clipped to MaxEchoRunes and reasons to MaxErrorText: field names may come from
// the input (an unknown JSON key), and reasons may quote it. It is nil when err
// names no field.
func ErrorFields(err error) map[string]string {
	var e *Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return nil
	}
	out := make(map[string]string, len(e.Fields))
	for k, v := range e.Fields {
		out[Clip(k, MaxEchoRunes)] = Clip(v, MaxErrorText)
	}
	return out
}

// Limits on what error messages repeat of the request.
const (
	// MaxEchoRunes is the most of one input an error message quotes.
	MaxEchoRunes = 40
	// MaxErrorText bounds a whole message or field reason, as a last guard
	// for messages that quote input without Echo.
	MaxErrorText = 300
)

// Echo quotes input for an error message, clipped to MaxEchoRunes runes with
// an ellipsis: enough for the caller to recognise what was refused, never the
// megabyte they may have sent. Invalid UTF-8 and control characters come out
// escaped, so the quote is always safe to print.
func Echo(input string) string {
	return strconv.Quote(Clip(input, MaxEchoRunes))
}

// Clip shortens s to at most n runes, marking a cut with "…". Invalid UTF-8
// counts one rune per byte.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i, runes := 0, 0
	for i < len(s) && runes < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		runes++
	}
	if i >= len(s) {
		return s
	}
	return s[:i] + "…"
}

// Problems collects per-field validation failures so that one response can name
// every bad field at once instead of making the caller fix them one by one.
type Problems map[string]string

// Add records why field is invalid. The first reason for a field wins, since it
// is usually the most basic one ("is required" before "is too long").
func (p Problems) Add(field, reason string) {
	if _, ok := p[field]; !ok {
		p[field] = reason
	}
}

// Err returns nil when nothing was recorded, or a CodeInvalid Error listing the
// fields otherwise.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: CodeInvalid, Message: "validation failed", Fields: map[string]string(p)}
}
