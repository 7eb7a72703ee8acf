package httpapi

import (
	"log/slog"
	"net/http"

	"switchboard"
)

// ErrorTable is one dialect's answer to errors: the one table from the core's
// error codes to its statuses, and the function that writes its envelope.
// Internal errors are logged in full and never shown.
type ErrorTable struct {
	Status map[switchboard.Code]int
	// Render writes err, answered with status, in the dialect's envelope.
	Render func(w http.ResponseWriter, r *http.Request, status int, err error)
	Log    *slog.Logger
}

// kitStatus are the statuses of the codes the kit itself raises, which every
// dialect answers alike whatever its table says.
var kitStatus = map[switchboard.Code]int{
	CodeIdempotencyReused:  http.StatusUnprocessableEntity,
	CodeIdempotencyRunning: http.StatusConflict,
}

// StatusOf is the status err is answered with: 500 for codes the table lacks.
func (t *ErrorTable) StatusOf(err error) int {
	code := switchboard.ErrorCode(err)
	if s, ok := kitStatus[code]; ok {
		return s
	}
	if s, ok := t.Status[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Write is the table's ErrorWriter.
func (t *ErrorTable) Write(w http.ResponseWriter, r *http.Request, err error) {
	status := t.StatusOf(err)
	if status >= 500 {
		info := InfoFrom(r.Context())
		log := t.Log
		if log == nil {
			log = slog.Default()
		}
		log.Error("request failed", "request_id", info.RequestID, "route", info.Route, "err", err)
	}
	t.Render(w, r, status, err)
}
