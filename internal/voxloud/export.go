package voxloud

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"switchboard"
	"switchboard/internal/csvsafe"
	"switchboard/internal/httpapi"
)

// csvColumns are the CSV export's columns, in order.
var csvColumns = []string{"id", "type", "accountId", "direction", "timestamp", "originatorName", "originatorNumber",
	"destinationName", "destinationNumber", "answererName", "answererNumber", "lastEvent", "duration", "ringTime",
	"callId", "recorded", "recordingUrl", "voicemail", "contactCrm", "contactCrmUrl"}

// csvCallColumns are the stored fields the export's columns derive from: the
// ones telephonyEvent reads, and no more.
const csvCallColumns = switchboard.ColUUID | switchboard.ColDirection | switchboard.ColStatus | switchboard.ColNumbers |
	switchboard.ColAgent | switchboard.ColDisposition | switchboard.ColHangupCause | switchboard.ColRingingAt |
	switchboard.ColConnectedAt | switchboard.ColEndedAt | switchboard.ColSourceSystem | switchboard.ColScheduledAt |
	switchboard.ColMedia | switchboard.ColRecorded

// Bounds of the export's contact lookups. Records whose customer's number
// it has not seen wait (at most csvLookupBatch of them) until one query
// finds the contacts of all their numbers; the numbers seen are remembered,
// contact or not, until there are csvContactMemo of them, when the memory
// starts over, so that an export's memory never depends on its length.
const (
	csvLookupBatch = 1024
	csvContactMemo = 100_000
)

// csvExport is one run of the telephony-events CSV export: the records come
// from one streaming read, every agent is looked up once for the whole
// export, and each line is built in one reused buffer.
type csvExport struct {
	a        *API
	ctx      context.Context
	tenantID int64
	account  string
	out      *httpapi.Stream
	line     []byte
	rows     int
	agents   map[int64]*eventAgent
	contacts map[string]*eventContact // nil: known to have no contact
	pending  []pendingRecord
	wanted   []string
	clock    springClock
}

// pendingRecord is a record waiting for its customer's contact, copied out
// of the store's reused one with the times it points to.
type pendingRecord struct {
	r     switchboard.CDR
	times [5]time.Time
	agent int64
}

// set copies r, pointing its times at p's own.
func (p *pendingRecord) set(r *switchboard.CDR) {
	p.r = *r
	for i, t := range []**time.Time{&p.r.QueuedAt, &p.r.RingingAt, &p.r.ConnectedAt, &p.r.EndedAt, &p.r.ScheduledAt} {
		if *t != nil {
			p.times[i] = **t
			*t = &p.times[i]
		}
	}
	if r.AgentID != nil {
		p.agent = *r.AgentID
		p.r.AgentID = &p.agent
	}
}

// streamCSV writes every record the filter selects. An error before the
// first bytes went out is answered as any error is; after, the connection is
// cut, so that the client sees a truncated body, not a false end. The number
// of records comes last, as the trailer X-Total-Count of a complete export:
// counting them first would cost a count over every call.
func (a *API) streamCSV(w http.ResponseWriter, r *http.Request, tenantID int64, f switchboard.CDRFilter) {
	e := &csvExport{a: a, ctx: r.Context(), tenantID: tenantID, account: accountID(tenantID),
		agents: map[int64]*eventAgent{}, contacts: map[string]*eventContact{}}
	e.out = httpapi.NewStream(w, func(h http.Header) {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="telephony-events.csv"`)
		h.Set("Trailer", "X-Total-Count")
	})
	for i, c := range csvColumns {
		if i > 0 {
			e.line = append(e.line, ',')
		}
		e.line = csvsafe.AppendCell(e.line, c)
	}
	e.out.Buffer().Write(append(e.line, '\n'))
	err := a.opt.Store.EachCDR(e.ctx, tenantID, f, csvCallColumns, e.record)
	if err == nil {
		err = e.resolve()
	}
	if err == nil {
		err = e.out.Finish()
	}
	switch {
	case err == nil:
		w.Header().Set("X-Total-Count", strconv.Itoa(e.rows))
	case !e.out.Sent() && e.ctx.Err() == nil:
		a.writeError(w, r, err)
	default:
		if e.ctx.Err() == nil && !errors.Is(err, errWrite) {
			a.opt.Log.Error("telephony CSV export stopped", "tenant_id", tenantID, "rows", e.rows, "err", err)
		}
		e.out.Abort()
	}
}

// errWrite marks a failed write to the client, who went away: not worth a
// log line.
var errWrite = errors.New("write CSV")

// record takes one record of the store's read: written at once when its
// customer's contact is known and nothing waits before it, queued for the
// next lookup otherwise.
func (e *csvExport) record(r *switchboard.CDR) error {
	if len(e.pending) == 0 {
		if k, known := e.contacts[r.CustomerNumber()]; known {
			return e.write(r, k)
		}
	}
	if e.pending == nil {
		e.pending = make([]pendingRecord, 0, csvLookupBatch)
	}
	e.pending = e.pending[:len(e.pending)+1]
	e.pending[len(e.pending)-1].set(r)
	if len(e.pending) == csvLookupBatch {
		return e.resolve()
	}
	return nil
}

// resolve finds the contacts of the queued records' numbers in one query and
// writes the records.
func (e *csvExport) resolve() error {
	if len(e.pending) == 0 {
		return nil
	}
	if len(e.contacts) >= csvContactMemo {
		clear(e.contacts)
	}
	e.wanted = e.wanted[:0]
	for i := range e.pending {
		n := e.pending[i].r.CustomerNumber()
		if _, known := e.contacts[n]; !known && n != "" {
			e.contacts[n] = nil
			e.wanted = append(e.wanted, n)
		}
	}
	if len(e.wanted) > 0 {
		// The list is padded to a power of two with its first number, so that
		// the store prepares a handful of statements, not one per length.
		for size := 8; ; size *= 2 {
			if size >= len(e.wanted) {
				for len(e.wanted) < size {
					e.wanted = append(e.wanted, e.wanted[0])
				}
				break
			}
		}
		found, err := e.a.opt.Store.ContactsByPhone(e.ctx, e.tenantID, e.wanted)
		if err != nil {
			return err
		}
		for n, k := range found {
			e.contacts[n] = contactOfContact(k)
		}
	}
	for i := range e.pending {
		p := &e.pending[i].r
		if err := e.write(p, e.contacts[p.CustomerNumber()]); err != nil {
			return err
		}
	}
	e.pending = e.pending[:0]
	return nil
}

// write renders one record as a CSV line.
func (e *csvExport) write(r *switchboard.CDR, contact *eventContact) error {
	var agent *eventAgent
	if id := r.AgentID; id != nil {
		u, seen := e.agents[*id]
		if !seen {
			var err error
			if u, err = e.a.agent(e.ctx, e.tenantID, *id); err != nil {
				return err
			}
			e.agents[*id] = u
		}
		agent = u
	}
	ev := e.a.telephonyEvent(*r, agent, contact, e.account)
	b := strconv.AppendInt(e.line[:0], ev.ID, 10)
	for _, s := range []string{ev.Type, ev.AccountID, ev.Direction} {
		b = csvsafe.AppendCell(append(b, ','), s)
	}
	// The time has digits first, so it needs neither quotes nor neutralising.
	b = e.clock.append(append(b, ','), r.CreatedAt)
	for _, s := range []string{ev.OriginatorName, ev.OriginatorNumber, ev.DestinationName, ev.DestinationNumber,
		ev.AnswererName, ev.AnswererNumber, ev.LastEvent} {
		b = csvsafe.AppendCell(append(b, ','), s)
	}
	b = strconv.AppendInt(append(b, ','), ev.Duration, 10)
	b = append(b, ',')
	if ev.RingTime != nil {
		b = strconv.AppendInt(b, *ev.RingTime, 10)
	}
	b = csvsafe.AppendCell(append(b, ','), ev.CallID)
	b = appendBool(append(b, ','), ev.Recorded)
	b = csvsafe.AppendCell(append(b, ','), ev.RecordingURL)
	b = appendBool(append(b, ','), ev.Voicemail)
	b = csvsafe.AppendCell(append(b, ','), ev.ContactCRM)
	b = csvsafe.AppendCell(append(b, ','), ev.ContactCRMURL)
	e.line = append(b, '\n')
	if _, err := e.out.Buffer().Write(e.line); err != nil {
		return errors.Join(errWrite, err)
	}
	e.rows++
	return nil
}

// appendBool writes an optional boolean as the export always has: empty
// when absent.
func appendBool(b []byte, v *bool) []byte {
	if v == nil {
		return b
	}
	return strconv.AppendBool(b, *v)
}

// springClock writes times as springTime does, for rows that come in time
// order: the date part is worked out once per day, the rest by arithmetic,
// which saves time.AppendFormat's cost on every row of a long export.
type springClock struct {
	day  int64 // days since the epoch of date
	date []byte
}

// append appends t, in UTC, as 2006-01-02T15:04:05.000+0000.
func (c *springClock) append(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	day, rem := ms/86_400_000, ms%86_400_000
	if rem < 0 {
		day, rem = day-1, rem+86_400_000
	}
	if c.date == nil || day != c.day {
		c.day, c.date = day, time.UnixMilli(day*86_400_000).UTC().AppendFormat(c.date[:0], "2006-01-02T")
	}
	b = append(b, c.date...)
	two := func(b []byte, v int64) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	b = append(two(b, rem/3_600_000), ':')
	b = append(two(b, rem/60_000%60), ':')
	b = append(two(b, rem/1000%60), '.')
	b = append(b, byte('0'+rem%1000/100))
	b = two(b, rem%100)
	return append(b, "+0000"...)
}
