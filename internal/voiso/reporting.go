package voiso

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"switchboard"
)

type cdrsList struct {
	CDRs     []cdrOut    `json:"cdrs"`
	Metadata cdrMetadata `json:"metadata"`
}

// cdrMetadata is the CDR list's metadata: every match, and the cursor of the
// next page (null on the last).
type cdrMetadata struct {
	Total      int     `json:"total"`
	NextCursor *string `json:"next_cursor"`
}

type cdrEnvelope struct {
	CDR cdrOut `json:"cdr"`
}

// cdrEventOut is one event of a record: the core's event, its data the
// parties at that moment.
type cdrEventOut struct {
	ID         int64        `json:"id"`
	CDRID      string       `json:"cdr_id"`
	Type       string       `json:"type"`
	OccurredAt string       `json:"occurred_at"`
	Data       cdrEventData `json:"data"`
}

type cdrEventData struct {
	Agent         *agentOut `json:"agent"`
	Queue         *named    `json:"queue"`
	CallingNumber string    `json:"calling_number"`
	CalledNumber  string    `json:"called_number"`
}

type cdrEventsList struct {
	Events   []cdrEventOut `json:"events"`
	Metadata listMetadata  `json:"metadata"`
}

// speechOut is a call's speech analytics.
type speechOut struct {
	ID         int64                           `json:"id"`
	Call       callRef                         `json:"call"`
	Status     string                          `json:"status"`
	Language   string                          `json:"language"`
	Summary    *string                         `json:"summary"`
	Score      *string                         `json:"score"`
	Transcript []switchboard.TranscriptSegment `json:"transcript"`
	CreatedAt  string                          `json:"created_at"`
}

type speechEnvelope struct {
	SpeechAnalytics speechOut `json:"speech_analytics"`
}

// recordTypes are the CDR list's types; hlr_lookup is Voiso's and matches
// nothing here.
var recordTypes = []string{"call", "conversation", "sms", "hlr_lookup"}

// smsSubtypes are Voiso's subtypes of an SMS, with the direction the core
// filters on.
var smsSubtypes = map[string]string{"inbound_sms": "inbound", "outbound_sms": "outbound"}

// callSubtypes are the subtypes of a call.
var callSubtypes = []string{switchboard.CallSubtypeInbound, switchboard.CallSubtypeOutbound, switchboard.CallSubtypeClickToCall,
	switchboard.CallSubtypeDialer, switchboard.CallSubtypeQueueCallback}

// endReasonDispositions are the end reasons a disposition decides (see
// endReason); the others (agent_hangup, customer_hangup, system) are who
// hung up an answered call, which the record list does not filter on.
var endReasonDispositions = map[string][]switchboard.Disposition{
	"busy":      {switchboard.DispositionBusy},
	"no_answer": {switchboard.DispositionNoAnswer, switchboard.DispositionMissed},
	"failed":    {switchboard.DispositionFailed, switchboard.DispositionRejected},
}

// recordFilter reads the CDR list's filters (doc.go: Filters). none is true
// when the filters can match nothing (only hlr_lookup records asked for).
func recordFilter(q url.Values) (f switchboard.RecordFilter, none bool, err error) {
	p := switchboard.Problems{}
	kinds := map[switchboard.RecordType]bool{}
	for _, t := range values(q, "type", true) {
		if !slices.Contains(recordTypes, t) {
			return f, false, badRequest("type must be call, conversation, sms or hlr_lookup")
		}
		if t != "hlr_lookup" {
			kinds[switchboard.RecordType(t)] = true
		}
	}
	typed := len(values(q, "type", true)) > 0
	if typed && len(kinds) == 0 {
		none = true
	}
	// A subtype names its kind: asking only for SMS subtypes leaves the
	// calls out, though the core names an SMS's subtype by its direction,
	// as it names some calls'.
	subKinds := map[switchboard.RecordType]bool{}
	for _, s := range values(q, "subtype", true) {
		switch dir, sms := smsSubtypes[s]; {
		case sms:
			subKinds[switchboard.RecordSMS] = true
			s = dir
		case slices.Contains(callSubtypes, s):
			subKinds[switchboard.RecordCall] = true
		default: // a channel: web_chat, whatsapp, …
			subKinds[switchboard.RecordConversation] = true
		}
		if !slices.Contains(f.Subtypes, s) {
			f.Subtypes = append(f.Subtypes, s)
		}
	}
	for _, k := range []switchboard.RecordType{switchboard.RecordCall, switchboard.RecordConversation, switchboard.RecordSMS} {
		if (!typed || kinds[k]) && (len(subKinds) == 0 || subKinds[k]) {
			f.Types = append(f.Types, k)
		}
	}
	if len(f.Types) == 0 {
		none = true
	}
	for _, d := range values(q, "disposition", true) {
		if d == "machine_answered" || d == "answered_by_VM" {
			// The core marks an answering machine by the call's status, not
			// its disposition; such calls have no other disposition to match.
			continue
		}
		f.Dispositions = append(f.Dispositions, switchboard.Disposition(d))
	}
	if reasons := values(q, "end_reason", true); len(reasons) > 0 {
		var ds []switchboard.Disposition
		for _, r := range reasons {
			m, ok := endReasonDispositions[r]
			if !ok {
				return f, false, badRequest("end_reason must be busy, no_answer or failed: who hung up an answered call is not a filter here")
			}
			ds = append(ds, m...)
		}
		if len(f.Dispositions) > 0 {
			ds = slices.DeleteFunc(ds, func(d switchboard.Disposition) bool { return !slices.Contains(f.Dispositions, d) })
			if len(ds) == 0 {
				none = true
			}
		}
		f.Dispositions = ds
	}
	if f.AgentIDs, err = ids(q, "user_id"); err != nil {
		return f, false, err
	}
	if f.TeamIDs, err = ids(q, "team_id"); err != nil {
		return f, false, err
	}
	if f.QueueIDs, err = ids(q, "queue_id"); err != nil {
		return f, false, err
	}
	if f.CampaignIDs, err = ids(q, "campaign_id"); err != nil {
		return f, false, err
	}
	f.SourceIDs = append(values(q, "external_account_id", true), values(q, "account_id", true)...)
	if f.From, err = phoneFilter(q, "from_phone_number"); err != nil {
		return f, false, err
	}
	if f.To, err = phoneFilter(q, "to_phone_number"); err != nil {
		return f, false, err
	}
	if f.FromLike, err = likePattern(q, "from_phone_number_like"); err != nil {
		return f, false, err
	}
	if f.ToLike, err = likePattern(q, "to_phone_number_like"); err != nil {
		return f, false, err
	}
	for _, side := range []string{"from", "to"} {
		if q.Get(side+"_phone_number") != "" && q.Get(side+"_phone_number_like") != "" {
			p.Add(side+"_phone_number", "cannot be given with "+side+"_phone_number_like")
			p.Add(side+"_phone_number_like", "cannot be given with "+side+"_phone_number")
		}
	}
	started, err := comparisons(q, "started_at")
	if err != nil {
		return f, false, err
	}
	ended, err := comparisons(q, "ended_at")
	if err != nil {
		return f, false, err
	}
	f.Since, f.Until, f.EndedSince, f.EndedUntil = started.Since, started.Until, ended.Since, ended.Until
	return f, none, p.Err()
}

// likePattern reads a _like number filter as the store's pattern: E.164 with
// * for any run of digits ("+4420*"), unless it starts with a wildcard.
func likePattern(q url.Values, key string) (string, error) {
	v, err := phonePattern(q, key)
	if v != "" && !strings.HasPrefix(v, "*") {
		v = "+" + v
	}
	return v, err
}

// cdrPaging reads the CDR list's limit (0..1000, default 100) and offset
// (below 10,000); a bad limit is 400 at once, a bad offset only when no valid
// cursor makes it moot (offsetErr).
func cdrPaging(q url.Values) (limit, offset int, offsetErr, err error) {
	limit = defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxCDRLimit {
			return 0, 0, nil, badRequest("limit must be a whole number from 0 to %d", maxCDRLimit)
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n >= offsetWindow {
			return limit, 0, badRequest("offset must be a whole number below %d; page further with cursor", offsetWindow), nil
		}
		offset = n
	}
	return limit, offset, nil, nil
}

// cdrPage reads one page of records under Voiso's paging rules: a valid
// cursor wins over offset; an invalid one falls back to the offset, which
// must then be valid (else 400); without a cursor only the first 10,000
// records are reachable, so a page ends at the 10,000th record.
func (a *API) cdrPage(ctx context.Context, tenantID int64, q url.Values, f switchboard.RecordFilter) (switchboard.Page[switchboard.Record], error) {
	limit, offset, offsetErr, err := cdrPaging(q)
	if err != nil {
		return switchboard.Page[switchboard.Record]{}, err
	}
	// limit=0 asks for the total only: one row is read to count.
	read := max(limit, 1)
	if cursor := q.Get("cursor"); cursor != "" {
		page, err := a.opt.Store.Records(ctx, tenantID, f, switchboard.ListOptions{Limit: read, Cursor: cursor})
		if _, bad := switchboard.ErrorFields(err)["cursor"]; !bad {
			return trimPage(page, limit), err
		}
	}
	if offsetErr != nil {
		return switchboard.Page[switchboard.Record]{}, offsetErr
	}
	page, err := a.opt.Store.Records(ctx, tenantID, f, switchboard.ListOptions{Limit: min(read, offsetWindow-offset), Offset: offset})
	return trimPage(page, limit), err
}

// trimPage drops the row a limit=0 page read to count.
func trimPage(p switchboard.Page[switchboard.Record], limit int) switchboard.Page[switchboard.Record] {
	if limit == 0 {
		p.Items, p.NextCursor = nil, ""
	}
	return p
}

// record finds the record id: a call, else a conversation (not an SMS
// thread, whose texts are records of their own), else an SMS.
func (a *API) record(ctx context.Context, tenantID int64, id string) (switchboard.Record, error) {
	s := a.opt.Store
	c, err := s.CallByUUID(ctx, tenantID, id)
	if err == nil {
		cdr := switchboard.NewCDR(c)
		return switchboard.Record{Type: switchboard.RecordCall, Call: &cdr}, nil
	}
	if switchboard.ErrorCode(err) != switchboard.CodeNotFound {
		return switchboard.Record{}, err
	}
	cv, err := s.ConversationByUUID(ctx, tenantID, id)
	if err == nil && cv.Channel != switchboard.ChannelSMS {
		return switchboard.Record{Type: switchboard.RecordConversation, Conversation: &cv}, nil
	}
	if err != nil && switchboard.ErrorCode(err) != switchboard.CodeNotFound {
		return switchboard.Record{}, err
	}
	m, err := s.MessageByUUID(ctx, tenantID, id)
	if err == nil {
		return switchboard.Record{Type: switchboard.RecordSMS, Message: &m}, nil
	}
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		err = switchboard.Errorf(switchboard.CodeNotFound, "CDR %s not found", switchboard.Echo(id))
	}
	return switchboard.Record{}, err
}

// recordEvents lists the events of record r, each with the parties as they
// were then.
func (a *API) recordEvents(ctx context.Context, tenantID int64, r switchboard.Record) ([]cdrEventOut, error) {
	var (
		subject string
		id      int64
		uuid    string
	)
	switch {
	case r.Call != nil:
		subject, id, uuid = "call", r.Call.ID, r.Call.UUID
	case r.Conversation != nil:
		subject, id, uuid = "conversation", r.Conversation.ID, r.Conversation.UUID
	default:
		subject, id, uuid = "message", r.Message.ID, r.Message.UUID
	}
	events, err := a.opt.Store.SubjectEvents(ctx, tenantID, subject, id)
	if err != nil {
		return nil, err
	}
	n := newRecordNames(a.opt.Store, tenantID)
	out := make([]cdrEventOut, 0, len(events))
	for _, e := range events {
		ev := cdrEventOut{ID: e.ID, CDRID: uuid, Type: e.Type, OccurredAt: seconds(e.Time)}
		switch subject {
		case "call":
			var p switchboard.CallEventPayload
			if err := json.Unmarshal(e.Payload, &p); err != nil {
				return nil, fmt.Errorf("voiso: call event %d: %w", e.ID, err)
			}
			ev.Data = cdrEventData{Agent: agentOf(p.Agent), CallingNumber: digits(p.From), CalledNumber: digits(p.To)}
			if p.Queue != nil {
				ev.Data.Queue = &named{ID: p.Queue.ID, Name: p.Queue.Name}
			}
		case "conversation":
			var p switchboard.ConversationEventPayload
			if err := json.Unmarshal(e.Payload, &p); err != nil {
				return nil, fmt.Errorf("voiso: conversation event %d: %w", e.ID, err)
			}
			c := p.Conversation
			ev.Data = cdrEventData{CallingNumber: digits(c.Address), CalledNumber: digits(c.Via)}
			if ev.Data.Agent, err = n.agent(ctx, c.AgentID); err != nil {
				return nil, err
			}
			if ev.Data.Queue, err = n.queue(ctx, c.QueueID); err != nil {
				return nil, err
			}
		default:
			var p switchboard.MessageEventPayload
			if err := json.Unmarshal(e.Payload, &p); err != nil {
				return nil, fmt.Errorf("voiso: message event %d: %w", e.ID, err)
			}
			ev.Data = cdrEventData{CallingNumber: digits(p.From), CalledNumber: digits(p.To)}
			if ev.Data.Agent, err = n.agent(ctx, p.UserID); err != nil {
				return nil, err
			}
		}
		out = append(out, ev)
	}
	return out, nil
}

func (a *API) reportingRoutes() []route {
	read := switchboard.ScopeReportingCDRsRead
	return []route{
		handler(route{Method: "GET", Path: "/reporting/cdrs", Summary: "List CDRs", Scope: read,
			Query: []param{{"limit", "integer", "0-1000, default 100; 0 answers the total alone"},
				{"offset", "integer", "below 10,000; page further with cursor"},
				{"cursor", "string", "metadata.next_cursor of the previous page; a valid cursor wins over offset"},
				{"type", "string", "call, conversation, sms, hlr_lookup; repeatable"}, {"subtype", "string", "repeatable"},
				{"disposition", "string", "repeatable"}, {"end_reason", "string", "busy, no_answer, failed; repeatable"},
				{"user_id", "integer", "repeatable or comma-separated"}, {"team_id", "integer", "repeatable or comma-separated"},
				{"queue_id", "integer", "repeatable or comma-separated"}, {"campaign_id", "integer", "repeatable or comma-separated"},
				{"external_account_id", "string", "the source.account_id of Start call; repeatable"},
				{"from_phone_number", "string", "exact"}, {"to_phone_number", "string", "exact"},
				{"from_phone_number_like", "string", "* for any run of digits"}, {"to_phone_number_like", "string", "* for any run of digits"},
				{"started_at[gte]", "string", "RFC 3339; also gt, lt, lte, eq"}, {"ended_at[lt]", "string", "RFC 3339; also gt, gte, lte, eq"}},
			Doc: "Calls, conversations (every channel but SMS) and SMS as one list, oldest first by start."},
			func(ctx context.Context, c *call, _ *noBody) (cdrsList, error) {
				q := c.r.URL.Query()
				f, none, err := recordFilter(q)
				if err != nil {
					return cdrsList{}, err
				}
				out := cdrsList{CDRs: []cdrOut{}}
				if none { // nothing can match; the paging rules still hold
					_, _, offsetErr, err := cdrPaging(q)
					if err == nil && q.Get("cursor") == "" {
						err = offsetErr
					}
					return out, err
				}
				page, err := a.cdrPage(ctx, c.tenantID(), q, f)
				if err != nil {
					return cdrsList{}, err
				}
				n := newRecordNames(a.opt.Store, c.tenantID())
				if err := n.prepare(ctx, page.Items); err != nil {
					return cdrsList{}, err
				}
				for _, r := range page.Items {
					rec, err := n.render(ctx, a.opt.PublicURL, r)
					if err != nil {
						return cdrsList{}, err
					}
					out.CDRs = append(out.CDRs, rec)
				}
				out.Metadata.Total = page.Total
				if page.NextCursor != "" {
					out.Metadata.NextCursor = &page.NextCursor
				}
				return out, nil
			}),
		handler(route{Method: "GET", Path: "/reporting/cdrs/{cdr_id}", Summary: "Get a CDR", Scope: read,
			Doc: "A call's, conversation's or SMS's record by its id (the call's id Start call answered, a conversation's, an SMS's)."},
			func(ctx context.Context, c *call, _ *noBody) (cdrEnvelope, error) {
				r, err := a.record(ctx, c.tenantID(), c.r.PathValue("cdr_id"))
				if err != nil {
					return cdrEnvelope{}, err
				}
				rec, err := newRecordNames(a.opt.Store, c.tenantID()).render(ctx, a.opt.PublicURL, r)
				return cdrEnvelope{CDR: rec}, err
			}),
		handler(route{Method: "GET", Path: "/reporting/cdrs/{cdr_id}/events", Summary: "List a CDR's events", Scope: switchboard.ScopeReportingCDREventsRead,
			Doc: "The record's events in order, named as the core names them (call.queued, call.connected, …), each with the parties as they were then."},
			func(ctx context.Context, c *call, _ *noBody) (cdrEventsList, error) {
				r, err := a.record(ctx, c.tenantID(), c.r.PathValue("cdr_id"))
				if err != nil {
					return cdrEventsList{}, err
				}
				events, err := a.recordEvents(ctx, c.tenantID(), r)
				return cdrEventsList{Events: events, Metadata: listMetadata{Total: len(events)}}, err
			}),
		handler(route{Method: "GET", Path: "/reporting/cdrs/{cdr_id}/speech_analytics", Summary: "Get a call's speech analytics",
			Scope: switchboard.ScopeReportingSpeechAnalyticsRead,
			Doc: "The transcript, summary and score (0-5) of a recorded call, once the call.analytics.available webhook said it is " +
				"ready; 404 before, and for a call never analysed."},
			func(ctx context.Context, c *call, _ *noBody) (speechEnvelope, error) {
				id := c.r.PathValue("cdr_id")
				call, err := a.opt.Store.CallByUUID(ctx, c.tenantID(), id)
				if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
					err = switchboard.Errorf(switchboard.CodeNotFound, "call %s not found", switchboard.Echo(id))
				}
				if err != nil {
					return speechEnvelope{}, err
				}
				an, err := a.opt.Store.CallAnalytics(ctx, c.tenantID(), call.ID)
				if err == nil && an.Status != switchboard.AnalyticsAvailable {
					err = switchboard.Errorf(switchboard.CodeNotFound, "the speech analytics of call %s are not available", call.UUID)
				}
				if err != nil {
					return speechEnvelope{}, err
				}
				out := speechOut{ID: an.ID, Call: callRef{ID: call.UUID, CDRURL: cdrURL(a.opt.PublicURL, call.UUID)}, Status: string(an.Status),
					Language: an.Language, Score: score(an.Score), Transcript: an.Transcript, CreatedAt: seconds(an.CreatedAt)}
				if an.FinishedAt != nil {
					out.CreatedAt = seconds(*an.FinishedAt)
				}
				if an.Summary != "" {
					out.Summary = &an.Summary
				}
				if out.Transcript == nil {
					out.Transcript = []switchboard.TranscriptSegment{}
				}
				return speechEnvelope{SpeechAnalytics: out}, nil
			}),
	}
}
