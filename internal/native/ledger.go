package native

import (
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/csvsafe"
	"switchboard/internal/httpapi"
)

var ledgerParams = []param{
	{"since", "string", "attempts made at or after this RFC 3339 time"},
	{"until", "string", "attempts made before this RFC 3339 time"},
	{"lead_id", "integer", "attempts on this lead"},
}

// ledgerFilter reads the ledger's query parameters; a bad one is a 400
// naming it.
func (c *call) ledgerFilter() (switchboard.AttemptFilter, error) {
	var f switchboard.AttemptFilter
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		t, err := c.queryTime(name)
		if err != nil {
			return f, err
		}
		if t != nil {
			*dst = *t
		}
	}
	var err error
	if f.LeadID, err = c.queryInt("lead_id"); err != nil {
		return f, err
	}
	if f.LeadID < 0 {
		return f, badParam("lead_id", "must be a lead's id")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, badParam("until", "must be after since")
	}
	return f, nil
}

// wantsCSV says whether the request's Accept asks for text/csv before
// JSON.
func wantsCSV(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/csv":
			return true
		case "application/json":
			return false
		}
	}
	return false
}

// ledgerRoutes serve a campaign's compliance ledger: every dial attempt
// with the rules checked before it, and blocked attempts too.
func (a *API) ledgerRoutes() {
	e := route{Method: "GET", Path: "/v1/campaigns/{id}/ledger", Summary: "A campaign's compliance ledger: every dial attempt, the rules checked and the outcome",
		Doc: "Each row is one dial the dialer placed or refused, oldest first: when (at, and local_time in the lead's time_zone), " +
			"the number and caller id, each rule checked before the dial (emergency, dnc, calling_hours, consent, abandon_budget: " +
			"pass, blocked or n/a), and how it ended. With Accept: text/csv the whole selection is one CSV file, streamed " +
			"(columns: " + strings.Join(ledgerColumns, ", ") + ").",
		Tag: "Campaigns", Scope: switchboard.ScopeCampaignsRead, Paged: true, Query: ledgerParams, CSV: true}.endpoint()
	e.Result = reflect.TypeFor[listBody[switchboard.DialAttempt]]()
	a.table.HandleRaw(&e, a.serveLedger)
}

func (a *API) serveLedger(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	cp, err := byID(a.opt.Store.Campaign)(ctx, c)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	f, err := c.ledgerFilter()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if wantsCSV(r) {
		a.exportLedger(w, r, c, cp.ID, f)
		return
	}
	opt, err := c.listOptions()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	p, err := a.opt.Store.Attempts(ctx, c.tenantID(), cp.ID, f, opt)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toList(p, opt))
}

// ledgerColumns are the ledger export's columns, in order.
var ledgerColumns = []string{"id", "at", "local_time", "time_zone", "lead_id", "number", "caller_id", "mode", "dnc",
	"calling_hours", "consent", "abandon_budget", "emergency", "call_id", "agent_id", "outcome", "reason", "ended_at", "abandon_rate"}

// exportLedger streams the selected ledger rows as CSV from one read of the
// store (Store.EachAttempt), as exportCDRs does the call records: a failure
// before the first bytes is answered as an error, after it the connection
// is cut, so a client never takes a truncated ledger for a whole one.
func (a *API) exportLedger(w http.ResponseWriter, r *http.Request, c *call, campaignID int64, f switchboard.AttemptFilter) {
	out := httpapi.NewStream(w, func(h http.Header) {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="campaign-`+strconv.FormatInt(campaignID, 10)+`-ledger.csv"`)
	})
	line := csvHeader(ledgerColumns)
	buf := out.Buffer()
	buf.Write(append(line, '\n'))
	err := a.opt.Store.EachAttempt(r.Context(), c.tenantID(), campaignID, f, func(d *switchboard.DialAttempt) error {
		b := strconv.AppendInt(line[:0], d.ID, 10)
		b = d.At.UTC().AppendFormat(append(b, ','), time.RFC3339Nano)
		b = csvsafe.AppendCell(append(b, ','), d.LocalTime)
		b = csvsafe.AppendCell(append(b, ','), d.TimeZone)
		b = strconv.AppendInt(append(b, ','), d.LeadID, 10)
		for _, s := range []string{d.Number, d.CallerID, d.Mode, d.Checks.DNC, d.Checks.CallingHours, d.Checks.Consent,
			d.Checks.AbandonBudget, d.Checks.Emergency} {
			b = csvsafe.AppendCell(append(b, ','), s)
		}
		b = appendID(append(b, ','), d.CallID)
		b = appendID(append(b, ','), d.AgentID)
		b = csvsafe.AppendCell(append(b, ','), string(d.Outcome))
		b = csvsafe.AppendCell(append(b, ','), d.Reason)
		b = appendTime(append(b, ','), d.EndedAt)
		b = strconv.AppendFloat(append(b, ','), d.AbandonRate, 'f', 2, 64)
		line = append(b, '\n')
		_, err := buf.Write(line)
		return err
	})
	a.endExport(w, r, out, err, "ledger export", "tenant_id", c.tenantID(), "campaign_id", campaignID)
}
