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
// continued (null when conversations do not run, or its conversation
// could not be written: the text is stored either way).
type inboundMessage struct {
	switchboard.Message
	ConversationID *int64 `json:"conversation_id"`
}

// receiptAnswer is the message a delivery report applied to, and the
// conversation message it applied to when it was one's.
type receiptAnswer struct {
	switchboard.Message
	ConversationMessage *switchboard.ConversationMessage `json:"conversation_message,omitempty"`
}

// receiptStatus is a gateway's delivered or failed as a receipt status.
func receiptStatus(s string) switchboard.ReceiptStatus {
	if s == "delivered" {
		return switchboard.ReceiptDelivered
	}
	return switchboard.ReceiptFailed
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
			// The text is stored whatever becomes of its conversation: a
			// failure there is logged, and the answer lacks conversation_id.
			cv, err := a.opt.Conversations.Inbound(ctx, c.tenantID(), switchboard.ChannelSMS, msg.From, msg.To, msg.Body, msg.ProviderID)
			if err != nil {
				a.opt.Log.Error("inbound sms: conversation", "tenant_id", c.tenantID(), "message_id", msg.ID, "err", err)
				return inboundMessage{Message: msg}, nil
			}
			return inboundMessage{Message: msg, ConversationID: &cv.ID}, nil
		})
	handle(a, route{Method: "POST", Path: "/v1/messages/receipts", Summary: "Hand in a delivery report for a sent message (SMS gateways)",
		Tag: "Messages", Scope: manage},
		func(ctx context.Context, c *call, in *receiptBody) (receiptAnswer, error) {
			m, err := messenger()
			if err != nil {
				return receiptAnswer{}, err
			}
			if in.Status != "delivered" && in.Status != "failed" {
				return receiptAnswer{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "validation failed",
					Fields: map[string]string{"status": "must be delivered or failed"}}
			}
			msg, err := m.Receipt(ctx, c.tenantID(), in.ProviderID, in.Status == "delivered", in.Error)
			if a.opt.Conversations == nil {
				return receiptAnswer{Message: msg}, err
			}
			// The report may be of a conversation's message too (or only):
			// not found there just means it is not one.
			cm, cerr := a.opt.Conversations.Receipt(ctx, c.tenantID(), in.ProviderID, receiptStatus(in.Status), in.Error)
			switch {
			case cerr == nil:
				return receiptAnswer{Message: msg, ConversationMessage: &cm}, nil
			case switchboard.ErrorCode(cerr) != switchboard.CodeNotFound:
				a.opt.Log.Error("sms receipt: conversation message", "tenant_id", c.tenantID(), "provider_id", in.ProviderID, "err", cerr)
			}
			return receiptAnswer{Message: msg}, err
		})
}
