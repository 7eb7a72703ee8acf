package ujet

import (
	"log/slog"
	"net/http"

	"switchboard"
	"switchboard/internal/httpapi"
)

// statusOf is the one table from error codes to this dialect's statuses.
// UJET answers every validation failure 400 (there is no 422), a state that
// forbids the action 400 too ("Call is already ended"), and a method a path
// does not serve 404, as a Rails router does.
var statusOf = map[switchboard.Code]int{
	switchboard.CodeInvalid:            http.StatusBadRequest,
	switchboard.CodeBadRequest:         http.StatusBadRequest,
	switchboard.CodeTooLarge:           http.StatusRequestEntityTooLarge,
	switchboard.CodeUnauthorized:       http.StatusUnauthorized,
	switchboard.CodeForbidden:          http.StatusForbidden,
	switchboard.CodeNotFound:           http.StatusNotFound,
	switchboard.CodeMethodNotAllowed:   http.StatusNotFound,
	switchboard.CodeConflict:           http.StatusBadRequest,
	switchboard.CodePreconditionFailed: http.StatusBadRequest,
	switchboard.CodeRateLimited:        http.StatusTooManyRequests,
	switchboard.CodeInternal:           http.StatusInternalServerError,
	switchboard.CodeUnavailable:        http.StatusServiceUnavailable,
}

// ErrorBody is UJET's one error body: {"message": "<text>"}.
type ErrorBody struct {
	Message string `json:"message"`
}

// The fixed texts of the answers that carry no detail of their own.
const (
	textNotFound = "Not Found"
	textInternal = "Internal Server Error"
)

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(a.opt.Log)(w, r, err)
}

// WriteError returns the dialect's httpapi.ErrorWriter. Every error is
// {"message": text}: the documented text when the handler raised one
// (message), the core's message otherwise (which names the field and the
// rule), "Not Found" for an unknown route or method, and a fixed text for
// server errors, whose details are logged, never shown.
func WriteError(log *slog.Logger) httpapi.ErrorWriter {
	t := &httpapi.ErrorTable{Status: statusOf, Log: log, Render: func(w http.ResponseWriter, r *http.Request, status int, err error) {
		w.Header().Del("Allow")
		text := switchboard.ErrorMessage(err)
		switch {
		case status >= 500:
			text = http.StatusText(status)
			if status == http.StatusInternalServerError {
				text = textInternal
			}
		case switchboard.ErrorCode(err) == switchboard.CodeMethodNotAllowed:
			text = textNotFound
		case text == "":
			text = http.StatusText(status)
		}
		httpapi.WriteJSON(w, status, ErrorBody{Message: text})
	}}
	return t.Write
}

// message is a refusal with one of UJET's documented texts, rendered as is.
func message(code switchboard.Code, text string) error {
	return &switchboard.Error{Code: code, Message: text}
}

// badRequest is a 400 with UJET's text.
func badRequest(text string) error { return message(switchboard.CodeBadRequest, text) }

// notFound is UJET's 404 for an unknown object: {"message":"Not Found"}.
func notFound() error { return message(switchboard.CodeNotFound, textNotFound) }

// missing is Rails' refusal of a required parameter, as UJET words it.
func missing(name string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalid, Message: "param is missing or the value is empty: " + name,
		Fields: map[string]string{name: "is required"}}
}
