package ujet

import "switchboard/internal/webhook"

// EventTypes maps the dialect's webhook event names to core event types;
// nil until the chat webhooks are served.
func EventTypes() map[string][]string { return nil }

func (a *API) renderer() webhook.Renderer { return nil }
