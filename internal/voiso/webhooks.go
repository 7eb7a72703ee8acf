package voiso

import (
	"context"
	"maps"

	"switchboard"
	"switchboard/internal/webhook"
)

// This file is the kit's placeholder for part 5 of issue 16, which replaces
// it wholesale with Voiso's payloads: until then subscriptions of dialect
// "voiso" may be made with Voiso's event names, and every delivery is
// skipped (webhook.ErrSkip) rather than sent in a format that is not Voiso's.

// eventTypes maps Voiso's event names to the core event types each is made
// of. *.call.ended is the call's end until the core has call.wrapped_up.
var eventTypes = map[string][]string{
	"inbound.call.answered":    {switchboard.EventCallConnected},
	"outbound.call.answered":   {switchboard.EventCallConnected},
	"dialer.call.answered":     {switchboard.EventCallConnected},
	"inbound.call.hangup":      {switchboard.EventCallEnded},
	"outbound.call.hangup":     {switchboard.EventCallEnded},
	"dialer.call.hangup":       {switchboard.EventCallEnded},
	"inbound.call.ended":       {switchboard.EventCallEnded},
	"outbound.call.ended":      {switchboard.EventCallEnded},
	"dialer.call.ended":        {switchboard.EventCallEnded},
	"message.received":         {switchboard.EventMessageReceived},
	"message.sent":             {switchboard.EventMessageSent},
	"conversation.ended":       {switchboard.EventConversationFinished},
	"call.analytics.available": {switchboard.EventCallAnalyticsAvailable},
}

// EventTypes maps Voiso's webhook event names to core event types.
func EventTypes() map[string][]string { return maps.Clone(eventTypes) }

// Renderer renders the payloads of Voiso subscriptions.
type Renderer struct{ API *API }

// Render implements webhook.Renderer: it skips every event until part 5's
// renderer replaces this file.
func (Renderer) Render(context.Context, switchboard.Webhook, switchboard.Event) ([]byte, error) {
	return nil, webhook.ErrSkip
}
