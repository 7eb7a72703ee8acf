package native

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"switchboard"
	"switchboard/internal/csvsafe"
	"switchboard/internal/httpapi"
)

var cdrParams = []param{
	{"since", "string", "calls started at or after this RFC 3339 time"},
	{"until", "string", "calls started before this RFC 3339 time"},
	{"direction", "string", "inbound or outbound"},
	{"disposition", "string", "answered, no_answer, busy, failed, abandoned, rejected or missed"},
	{"user_id", "integer", "calls handled by this agent"},
	{"team_id", "integer", "calls handled by members of this team"},
	{"queue_id", "integer", "calls through this queue"},
	{"number_prefix", "string", "from or to number starts with this"},
	{"number_contains", "string", "from or to number contains this"},
	{"min_duration", "integer", "talk time of at least this many seconds"},
	{"max_duration", "integer", "talk time of at most this many seconds"},
	{"include_open", "boolean", "also calls still in progress"},
}

// maxDurationParam bounds min_duration and max_duration: a year of seconds,
// far beyond any call, and far from where a Duration overflows.
const maxDurationParam = 366 * 86400

// cdrFilter reads the CDR filters from the query string.
func (c *call) cdrFilter() (switchboard.CDRFilter, error) {
	var f switchboard.CDRFilter
	var err error
	q := c.r.URL.Query()
	if f.Since, err = c.queryTime("since"); err != nil {
		return f, err
	}
	if f.Until, err = c.queryTime("until"); err != nil {
		return f, err
	}
	switch d := switchboard.Direction(q.Get("direction")); d {
	case "", switchboard.Inbound, switchboard.Outbound:
		f.Direction = d
	default:
		return f, badParam("direction", "must be inbound or outbound")
	}
	switch d := switchboard.Disposition(q.Get("disposition")); d {
	case "", switchboard.DispositionAnswered, switchboard.DispositionNoAnswer, switchboard.DispositionBusy,
		switchboard.DispositionFailed, switchboard.DispositionAbandoned, switchboard.DispositionRejected, switchboard.DispositionMissed:
		f.Disposition = d
	default:
		return f, badParam("disposition", "must be answered, no_answer, busy, failed, abandoned, rejected or missed")
	}
	for name, dst := range map[string]*int64{"user_id": &f.AgentID, "team_id": &f.TeamID, "queue_id": &f.QueueID} {
		if *dst, err = c.queryInt(name); err != nil {
			return f, err
		}
	}
	f.NumberPrefix, f.NumberContains = q.Get("number_prefix"), q.Get("number_contains")
	for name, dst := range map[string]**time.Duration{"min_duration": &f.MinDuration, "max_duration": &f.MaxDuration} {
		if q.Has(name) {
			n, err := c.queryInt(name)
			if err != nil || n < 0 || n > maxDurationParam {
				return f, badParam(name, "must be a whole number of seconds from 0 to "+strconv.Itoa(maxDurationParam))
			}
			d := time.Duration(n) * time.Second
			*dst = &d
		}
	}
	if f.Open, err = c.queryBool("include_open"); err != nil {
		return f, err
	}
	return f, nil
}

func (a *API) cdrRoutes() {
	s := a.opt.Store
	read := switchboard.ScopeCallsRead
	handle(a, route{Method: "GET", Path: "/v1/cdrs", Summary: "Call detail records, oldest first", Tag: "Calls", Scope: read, Paged: true, Query: cdrParams},
		func(ctx context.Context, c *call, _ *noBody) (listBody[switchboard.CDR], error) {
			f, err := c.cdrFilter()
			if err != nil {
				return listBody[switchboard.CDR]{}, err
			}
			opt, err := c.listOptions()
			if err != nil {
				return listBody[switchboard.CDR]{}, err
			}
			p, err := s.CDRs(ctx, c.tenantID(), f, opt)
			return toList(p, opt), err
		})
	handleStream(a, route{Method: "GET", Path: "/v1/cdrs/export", Summary: "Every matching call detail record as CSV, streamed", Tag: "Calls", Scope: read, Query: cdrParams},
		a.exportCDRs)
	handle(a, route{Method: "GET", Path: "/v1/cdrs/{id}", Summary: "One call detail record", Tag: "Calls", Scope: read},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.CDR, error) {
			call, err := byID(s.Call)(ctx, c)
			return switchboard.NewCDR(call), err
		})
	handleStream(a, route{Method: "GET", Path: "/v1/calls/{id}/recording", Summary: "The call's recording as WAV (8 kHz, 16-bit mono)", Tag: "Calls", Scope: read},
		a.serveRecording)
	handle(a, route{Method: "GET", Path: "/v1/calls/{id}/analytics", Summary: "The call's speech analytics: transcript, summary and score", Tag: "Calls", Scope: read,
		Doc: "The analysis of a recorded call, made after it ends when the server runs a transcription provider (--analytics-provider): " +
			"pending until its recording is transcribed, then available (transcript segments with speaker agent, customer or unknown, " +
			"an extractive summary, a score of 0-100 and its parts) or failed (error). A call without one is 404. " +
			"The call.analytics.available and call.analytics.failed events say when it is done."},
		func(ctx context.Context, c *call, _ *noBody) (switchboard.CallAnalytics, error) {
			call, err := byID(s.Call)(ctx, c)
			if err != nil {
				return switchboard.CallAnalytics{}, err
			}
			return s.CallAnalytics(ctx, c.tenantID(), call.ID)
		})
	handle(a, route{Method: "GET", Path: "/v1/cdrs/{id}/events", Summary: "Each step of a call, with its time", Tag: "Calls", Scope: read},
		func(ctx context.Context, c *call, _ *noBody) (eventsBody, error) {
			call, err := byID(s.Call)(ctx, c)
			if err != nil {
				return eventsBody{}, err
			}
			evs, err := s.SubjectEvents(ctx, c.tenantID(), "call", call.ID)
			if evs == nil {
				evs = []switchboard.Event{}
			}
			var last int64
			if len(evs) > 0 {
				last = evs[len(evs)-1].Seq
			}
			return eventsBody{Items: evs, NextAfterSeq: last}, err
		})
}

// exportColumns are the native CDR export's columns, in order.
var exportColumns = []string{"id", "uuid", "direction", "status", "disposition", "from", "to", "queue_id", "agent_id",
	"created_at", "connected_at", "ended_at", "wait_seconds", "ring_seconds", "talk_seconds", "total_seconds", "hangup_by", "hangup_cause"}

// exportCallColumns are the stored fields the export's columns derive from.
const exportCallColumns = switchboard.ColUUID | switchboard.ColDirection | switchboard.ColStatus | switchboard.ColDisposition |
	switchboard.ColNumbers | switchboard.ColQueue | switchboard.ColAgent | switchboard.ColQueuedAt | switchboard.ColRingingAt |
	switchboard.ColConnectedAt | switchboard.ColEndedAt | switchboard.ColHangupBy | switchboard.ColHangupCause

// exportCDRs streams every matching record as CSV from one read of the store
// (Store.EachCDR), each line built in one reused buffer, so an export of a
// year of calls holds no more memory than one line and the stream's buffer.
// A failure before the first bytes went out is answered as an error; after,
// the connection is cut, so that the client sees a truncated body, never a
// complete-looking one.
func (a *API) exportCDRs(w http.ResponseWriter, r *http.Request, c *call) {
	f, err := c.cdrFilter()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := httpapi.NewStream(w, func(h http.Header) {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="cdrs.csv"`)
	})
	line := csvHeader(exportColumns)
	buf := out.Buffer()
	buf.Write(append(line, '\n'))
	err = a.opt.Store.EachCDR(r.Context(), c.tenantID(), f, exportCallColumns, func(d *switchboard.CDR) error {
		b := strconv.AppendInt(line[:0], d.ID, 10)
		for _, s := range []string{d.UUID, string(d.Direction), string(d.Status), string(d.Disposition), d.From, d.To} {
			b = csvsafe.AppendCell(append(b, ','), s)
		}
		b = appendID(append(b, ','), d.QueueID)
		b = appendID(append(b, ','), d.AgentID)
		// Times and seconds start with a digit or a sign and digits: they
		// need neither quotes nor neutralising.
		b = d.CreatedAt.AppendFormat(append(b, ','), time.RFC3339Nano)
		b = appendTime(append(b, ','), d.ConnectedAt)
		b = appendTime(append(b, ','), d.EndedAt)
		for _, v := range []float64{d.WaitSeconds, d.RingSeconds, d.TalkSeconds, d.TotalSeconds} {
			b = strconv.AppendFloat(append(b, ','), v, 'f', 3, 64)
		}
		b = csvsafe.AppendCell(append(b, ','), string(d.HangupBy))
		b = csvsafe.AppendCell(append(b, ','), d.HangupCause)
		line = append(b, '\n')
		_, err := buf.Write(line)
		return err
	})
	a.endExport(w, r, out, err, "cdr export", "tenant_id", c.tenantID())
}

func appendID(b []byte, id *int64) []byte {
	if id == nil {
		return b
	}
	return strconv.AppendInt(b, *id, 10)
}

func appendTime(b []byte, t *time.Time) []byte {
	if t == nil {
		return b
	}
	return t.AppendFormat(b, time.RFC3339Nano)
}

// serveRecording streams a recorded call's recording.
func (a *API) serveRecording(w http.ResponseWriter, r *http.Request, c *call) {
	call, err := byID(a.opt.Store.Call)(r.Context(), c)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if !call.Recorded {
		a.writeError(w, r, switchboard.Errorf(switchboard.CodeNotFound, "call %d was not recorded (never connected, or placed without recording)", call.ID))
		return
	}
	if a.opt.Calls == nil {
		a.writeError(w, r, switchboard.Errorf(switchboard.CodeInternal, "the call engine is not running"))
		return
	}
	size, rec, err := a.opt.Calls.Recording(r.Context(), call)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := httpapi.WriteDownload(w, "audio/wav", size, fmt.Sprintf("call-%d.wav", call.ID), rec); err != nil {
		a.opt.Log.Warn("recording download cut short", "call_id", call.ID, "err", err)
	}
}

// csvHeader is the header line of a CSV export (without its newline); the
// exports reuse its buffer for the rows.
func csvHeader(cols []string) []byte {
	var line []byte
	for i, col := range cols {
		if i > 0 {
			line = append(line, ',')
		}
		line = csvsafe.AppendCell(line, col)
	}
	return line
}

// endExport ends a streamed export that err (nil: the read succeeded) left:
// a failure before the first bytes is answered as an error; after them the
// connection is cut, so that a client never takes a truncated file for a
// whole one. what and attrs name the export in the log.
func (a *API) endExport(w http.ResponseWriter, r *http.Request, out *httpapi.Stream, err error, what string, attrs ...any) {
	if err == nil {
		err = out.Finish()
	}
	switch {
	case err == nil:
	case !out.Sent() && r.Context().Err() == nil:
		a.writeError(w, r, err)
	default:
		if r.Context().Err() == nil {
			a.opt.Log.Error(what, append(attrs, "err", err)...)
		}
		out.Abort()
	}
}
