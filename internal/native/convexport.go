package native

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"switchboard"
	"switchboard/internal/csvsafe"
	"switchboard/internal/httpapi"
)

// conversationExportColumns are the columns of the CSV export: one row per
// message, each with its conversation's columns; a conversation without
// messages is one row with the message columns empty.
var conversationExportColumns = []string{"conversation_id", "conversation_uuid", "channel", "status", "queue_id", "agent_id",
	"end_user_identifier", "end_user_name", "address", "conversation_created_at", "ended_at", "ended_by", "end_reason",
	"seq", "message_created_at", "direction", "author", "message_agent_id", "kind", "text", "attachment_id", "message_status"}

// exportedConversation is one record of the JSON export: the conversation
// with its whole transcript.
type exportedConversation struct {
	switchboard.Conversation
	Messages []switchboard.ConversationMessage `json:"messages"`
}

const (
	exportConversationPage = 200
	exportMessagePage      = 1000
)

func (a *API) conversationExportRoute() {
	handleRaw(a, route{Method: "GET", Path: "/v1/conversations/export", Summary: "Every matching conversation with its transcript, streamed as CSV or JSON",
		Doc: "format=csv (the default) writes one row per message (timestamp, direction, author, text) with its conversation's columns; " +
			"format=json an array of conversations, each with its messages. The filters are the list's. A failure once the body " +
			"started cuts the connection, so a truncated export never looks complete.",
		Tag: "Conversations", Scope: switchboard.ScopeMessagesRead, CSV: true,
		Query: append([]param{{"format", "string", "csv (default) or json"}}, conversationParams...)},
		reflect.TypeFor[[]exportedConversation](), a.exportConversations)
}

// exportConversations streams the records page by page of the list, each
// conversation's transcript read in pages after it, so that memory holds
// one page of each whatever the export's size.
func (a *API) exportConversations(w http.ResponseWriter, r *http.Request, c *call) {
	svc, err := a.conversations()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	f, err := c.conversationFilter()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "":
		format = "csv"
	case "csv", "json":
	default:
		a.writeError(w, r, badParam("format", "must be csv or json"))
		return
	}
	out := httpapi.NewStream(w, func(h http.Header) {
		if format == "json" {
			h.Set("Content-Type", "application/json")
			h.Set("Content-Disposition", `attachment; filename="conversations.json"`)
			return
		}
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="conversations.csv"`)
	})
	buf := out.Buffer()
	ctx := r.Context()
	line := csvHeader(conversationExportColumns)
	if format == "csv" {
		buf.Write(append(line, '\n'))
	} else {
		buf.WriteByte('[')
	}
	first := true
	err = eachConversation(ctx, svc, c.tenantID(), f, func(cv *switchboard.Conversation, msgs []switchboard.ConversationMessage) error {
		if format == "json" {
			b, err := json.Marshal(exportedConversation{Conversation: *cv, Messages: msgs})
			if err != nil {
				return err
			}
			if !first {
				buf.WriteByte(',')
			}
			first = false
			_, err = buf.Write(b)
			return err
		}
		if len(msgs) == 0 {
			line = appendConversationCells(line[:0], cv)
			line = append(line, ",,,,,,,,,"...) // the message columns, empty
			_, err := buf.Write(append(line, '\n'))
			return err
		}
		for i := range msgs {
			line = appendMessageCells(appendConversationCells(line[:0], cv), &msgs[i])
			if _, err := buf.Write(append(line, '\n')); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && format == "json" {
		err = buf.WriteByte(']')
	}
	a.endExport(w, r, out, err, "conversation export", "tenant_id", c.tenantID())
}

// eachConversation calls fn with every conversation f selects, newest
// first, and its whole transcript; fn's error stops the walk.
func eachConversation(ctx context.Context, svc switchboard.Conversations, tenantID int64, f switchboard.ConversationFilter,
	fn func(*switchboard.Conversation, []switchboard.ConversationMessage) error) error {
	opt := switchboard.ListOptions{Limit: exportConversationPage, SkipTotal: true}
	var msgs []switchboard.ConversationMessage
	for {
		page, err := svc.List(ctx, tenantID, f, opt)
		if err != nil {
			return err
		}
		for i := range page.Items {
			cv := &page.Items[i]
			msgs = msgs[:0]
			for after := int64(0); ; {
				part, err := svc.Messages(ctx, tenantID, cv.ID, after, exportMessagePage)
				if err != nil {
					return err
				}
				msgs = append(msgs, part...)
				if len(part) < exportMessagePage {
					break
				}
				after = part[len(part)-1].Seq
			}
			if err := fn(cv, msgs); err != nil {
				return err
			}
		}
		if page.NextCursor == "" || len(page.Items) == 0 {
			return nil
		}
		opt.Cursor = page.NextCursor
	}
}

func appendConversationCells(b []byte, cv *switchboard.Conversation) []byte {
	b = strconv.AppendInt(b, cv.ID, 10)
	for _, s := range []string{cv.UUID, string(cv.Channel), string(cv.Status)} {
		b = csvsafe.AppendCell(append(b, ','), s)
	}
	b = appendID(append(b, ','), cv.QueueID)
	b = appendID(append(b, ','), cv.AgentID)
	for _, s := range []string{cv.EndUser.Identifier, cv.EndUser.Name, cv.Address} {
		b = csvsafe.AppendCell(append(b, ','), s)
	}
	b = cv.CreatedAt.AppendFormat(append(b, ','), time.RFC3339Nano)
	b = appendTime(append(b, ','), cv.EndedAt)
	b = csvsafe.AppendCell(append(b, ','), string(cv.EndedBy))
	return csvsafe.AppendCell(append(b, ','), cv.EndReason)
}

func appendMessageCells(b []byte, m *switchboard.ConversationMessage) []byte {
	b = strconv.AppendInt(append(b, ','), m.Seq, 10)
	b = m.CreatedAt.AppendFormat(append(b, ','), time.RFC3339Nano)
	b = csvsafe.AppendCell(append(b, ','), string(m.Direction))
	b = csvsafe.AppendCell(append(b, ','), author(m))
	b = appendID(append(b, ','), m.AgentID)
	b = csvsafe.AppendCell(append(b, ','), string(m.Kind))
	b = csvsafe.AppendCell(append(b, ','), m.Text)
	b = appendID(append(b, ','), m.AttachmentID)
	return csvsafe.AppendCell(append(b, ','), string(m.Status))
}

// author says who wrote a message: the end user (inbound), an agent, or
// the system (an integration, an activity line).
func author(m *switchboard.ConversationMessage) string {
	switch {
	case m.Direction == switchboard.Inbound:
		return string(switchboard.SideEndUser)
	case m.AgentID != nil:
		return string(switchboard.SideAgent)
	}
	return string(switchboard.SideSystem)
}
