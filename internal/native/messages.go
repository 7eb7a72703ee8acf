package native

import (
	"context"
	"net/http"

	"switchboard"
	"switchboard/internal/sms"
)

// Messenger is the messaging service the message routes use.
type Messenger interface {
	Send(ctx context.Context, o sms.Outbound) (switchboard.Message, error)
	Receive(ctx context.Context, in sms.Inbound) (switchboard.Message, error)
	Receipt(ctx context.Context, tenantID int64, providerID string, delivered bool, why string) (switchboard.Message, error)
}

// messageBody sends a text message.
type messageBody struct {
	// From is one of the tenant's numbers with SMS enabled.
	From string `json:"from" limit:"64"`
	To   string `json:"to" limit:"64"`
	// Message is the text, at most 1600 characters.
	Message string `json:"message" limit:"1600"`
}

// inboundBody is a message an SMS gateway received for one of the tenants'
// numbers (or one the simulator injects).
type inboundBody struct {
	From       string `json:"from" limit:"64"`
	To         string `json:"to" limit:"64"`
	Message    string `json:"message" limit:"1600"`
	ProviderID string `json:"provider_id" limit:"200"`
}

// receiptBody is an SMS gateway's delivery report.
type receiptBody struct {
	ProviderID string `json:"provider_id" limit:"200"`
	// Status is delivered or failed.
	Status string `json:"status"`
	Error  string `json:"error" limit:"1000"`
}

// inboundMessage is a received text with the conversation it opened or
// continued: null when conversations do not run here, or the text could
// not be threaded (it is stored either way).
type inboundMessage struct {
	switchboard.Message
	ConversationID *int64 `json:"conversation_id"`
}

func (a *API) messageRoutes() {
	s := a.opt.Store
	read, manage := switchboard.ScopeMessagesRead, switchboard.ScopeMessagesManage
	messenger := func() (Messenger, error) {
		if a.opt.Messenger == nil {
			return nil, switchboard.Errorf(switchboard.CodeConflict, "messaging is not running on this server")
		}
		return a.opt.Messenger, nil
	}
	handle(a, route{Method: "GET", Path: "/v1/messages", Summary: "Text messages sent and received, newest first", Tag: "Messages",
		Scope: read, Paged: true, Query: []param{{"direction", "string", "inbound or outbound"}, {"status", "string", "queued, sent, delivered, failed or received"},
			{"number", "string", "either party's number, E.164"}}},
		listed(func(ctx context.Context, c *call, opt switchboard.ListOptions) (switchboard.Page[switchboard.Message], error) {
			q := c.r.URL.Query()
			return s.Messages(ctx, c.tenantID(), switchboard.MessageFilter{Direction: switchboard.Direction(q.Get("direction")),
				Status: switchboard.MessageStatus(q.Get("status")), Number: q.Get("number")}, opt)
		}))
	handle(a, route{Method: "GET", Path: "/v1/messages/{id}", Summary: "Get a text message", Tag: "Messages", Scope: read},
		getter(byID(s.Message)))
	handle(a, route{Method: "POST", Path: "/v1/messages", Summary: "Send a text message from one of the tenant's SMS numbers",
		Tag: "Messages", Scope: manage, Status: http.StatusCreated, User: userChecked},
		func(ctx context.Context, c *call, in *messageBody) (switchboard.Message, error) {
			m, err := messenger()
			if err != nil {
				return switchboard.Message{}, err
			}
			return m.Send(ctx, sms.Outbound{TenantID: c.tenantID(), UserID: c.principal.Key.UserID, From: in.From, To: in.To, Body: in.Message})
		})
	handle(a, route{Method: "POST", Path: "/v1/messages/inbound", Summary: "Hand in a message received for one of the tenant's numbers (SMS gateways, the simulator)",
		Tag: "Messages", Scope: manage, Status: http.StatusCreated},
		func(ctx context.Context, c *call, in *inboundBody) (inboundMessage, error) {
			m, err := messenger()
			if err != nil {
				return inboundMessage{}, err
			}
			// A number of another tenant and a number of nobody answer alike:
			// the caller must not learn which numbers other tenants own.
			owner, err := s.NumberOwner(ctx, in.To)
			if (err == nil && owner.TenantID != c.tenantID()) || switchboard.ErrorCode(err) == switchboard.CodeNotFound {
				err = &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"to": "is not one of this tenant's numbers (E.164)"}}
			}
			if err != nil {
				return inboundMessage{}, err
			}
			msg, err := m.Receive(ctx, sms.Inbound{From: in.From, To: in.To, Body: in.Message, ProviderID: in.ProviderID})
			if err != nil || a.opt.Conversations == nil {
				return inboundMessage{Message: msg}, err
			}
			// The messaging service threads the text into its sender's
			// conversation as it stores it (its hooks, whatever dialect
			// handed it in): the answer names that conversation, the
			// sender's newest on the channel.
			cv, err := a.opt.Store.LastConversation(ctx, c.tenantID(), switchboard.ChannelSMS, msg.From)
			if err != nil {
				if switchboard.ErrorCode(err) != switchboard.CodeNotFound {
					a.opt.Log.Error("inbound sms: its conversation", "tenant_id", c.tenantID(), "message_id", msg.ID, "err", err)
				}
				return inboundMessage{Message: msg}, nil
			}
			return inboundMessage{Message: msg, ConversationID: &cv.ID}, nil
		})
	handle(a, route{Method: "POST", Path: "/v1/messages/receipts", Summary: "Hand in a delivery report for a sent message (SMS gateways)",
		Tag: "Messages", Scope: manage},
		func(ctx context.Context, c *call, in *receiptBody) (switchboard.Message, error) {
			m, err := messenger()
			if err != nil {
				return switchboard.Message{}, err
			}
			if in.Status != "delivered" && in.Status != "failed" {
				return switchboard.Message{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"status": "must be delivered or failed"}}
			}
			return m.Receipt(ctx, c.tenantID(), in.ProviderID, in.Status == "delivered", in.Error)
		})
}
