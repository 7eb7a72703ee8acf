package voiso

import "switchboard"

// Evidence says how sure we are of a name or a field: the inventory saw it
// documented, the inventory inferred it, or we chose it.
type Evidence string

// The kinds of evidence, as testdata/shapes.json marks them.
const (
	Documented Evidence = "✅"
	Inferred   Evidence = "◐"
	Ours       Evidence = "ours"
)

// Scope is one of Voiso's scope names as the core carries it. Keys carry the
// Voiso name itself, so an administrator creating a key for a Voiso
// integration types the names Voiso's own admin UI shows.
type Scope struct {
	// Name is Voiso's scope name, which a route of this dialect requires.
	Name string
	// Core is the native scope that also admits the route: the broader
	// native permission the Voiso scope is a part of. A key holding it need
	// not also hold Name.
	Core string
	// Evidence is how the inventory knows the name.
	Evidence Evidence
	// Routes lists the routes the scope admits, "METHOD /path" under /api/v4.
	Routes []string
}

// Scopes is every Voiso scope this dialect requires, with the native scope
// that covers it. Routes marked as extensions are ours (doc.go).
var Scopes = []Scope{
	{Name: "voice.call.manage", Core: switchboard.ScopeCallsManage, Evidence: Documented,
		Routes: []string{"POST /voice/calls"}},
	{Name: "reporting.cdrs.read", Core: switchboard.ScopeCallsRead, Evidence: Documented,
		Routes: []string{"GET /reporting/cdrs", "GET /reporting/cdrs/{cdr_id}"}},
	{Name: "reporting.cdr_events.read", Core: switchboard.ScopeCallsRead, Evidence: Inferred,
		Routes: []string{"GET /reporting/cdrs/{cdr_id}/events"}},
	{Name: "reporting.speech_analytics.read", Core: switchboard.ScopeCallsRead, Evidence: Inferred,
		Routes: []string{"GET /reporting/cdrs/{cdr_id}/speech_analytics"}},
	{Name: "messaging.conversations.read", Core: switchboard.ScopeMessagesRead, Evidence: Inferred,
		Routes: []string{"GET /messaging/conversations", "GET /messaging/conversations/{conversation_id}",
			"GET /messaging/conversations/{conversation_id}/messages"}},
	{Name: "messaging.channel_profiles.read", Core: switchboard.ScopeMessagesRead, Evidence: Inferred,
		Routes: []string{"GET /messaging/channel_profiles"}},
	{Name: "messaging.canned_messages.read", Core: switchboard.ScopeMessagesRead, Evidence: Documented,
		Routes: []string{"GET /messaging/canned_messages"}},
	{Name: "messaging.whatsapp_templates.read", Core: switchboard.ScopeMessagesRead, Evidence: Inferred,
		Routes: []string{"GET /messaging/whatsapp_templates"}},
	{Name: "messaging.sms.manage", Core: switchboard.ScopeMessagesManage, Evidence: Inferred,
		Routes: []string{"POST /messaging/sms"}},
	{Name: "routing.queues.read", Core: switchboard.ScopeRoutingRead, Evidence: Documented,
		Routes: []string{"GET /routing/queues", "GET /routing/queues/{queue_id}", "GET /routing/queues/{queue_id}/users",
			"GET /routing/queues/{queue_id}/supervisors"}},
	{Name: "routing.skills.read", Core: switchboard.ScopeRoutingRead, Evidence: Inferred,
		Routes: []string{"GET /routing/skills"}},
	{Name: "users.read", Core: switchboard.ScopeUsersRead, Evidence: Documented,
		Routes: []string{"GET /users", "GET /users/{user_id}"}},
	{Name: "users.teams.read", Core: switchboard.ScopeRoutingRead, Evidence: Inferred,
		Routes: []string{"GET /teams", "GET /teams/{team_id}/assignments"}},
	{Name: "campaigns.read", Core: switchboard.ScopeCampaignsRead, Evidence: Documented,
		Routes: []string{"GET /campaigns", "GET /campaigns/{campaign_id}", "GET /campaigns/{campaign_id}/users"}},
	{Name: "campaigns.manage", Core: switchboard.ScopeCampaignsManage, Evidence: Documented,
		Routes: []string{"POST /campaigns/{campaign_id}/users", "DELETE /campaigns/{campaign_id}/users/{user_id}",
			"POST /campaigns/{campaign_id}/start", "POST /campaigns/{campaign_id}/pause", "POST /campaigns/{campaign_id}/stop",
			"POST /campaigns/{campaign_id}/leads", "PATCH /campaigns/{campaign_id}/leads"}},
	{Name: "tasks.webhooks.read", Core: switchboard.ScopeWebhooksRead, Evidence: Documented,
		Routes: []string{"GET /tasks/webhooks", "GET /tasks/webhooks/{webhook_id}", "GET /tasks/webhook_failures",
			"GET /tasks/webhook_failures/{webhook_failure_id}"}},
	{Name: "tasks.webhooks.manage", Core: switchboard.ScopeWebhooksManage, Evidence: Documented,
		Routes: []string{"POST /tasks/webhook_failures/{webhook_failure_id}/retrigger",
			"POST /tasks/webhooks (extension)", "PATCH /tasks/webhooks/{webhook_id} (extension)", "DELETE /tasks/webhooks/{webhook_id} (extension)"}},
	{Name: "billing.balance.read", Core: switchboard.ScopeBillingRead, Evidence: Inferred,
		Routes: []string{"GET /billing/balance"}},
}

// RejectedScopes are scope names the inventory offered as alternatives that
// we did not take, each with why. A key asking for one is refused with the
// list of valid names, so the administrator sees the one to use.
var RejectedScopes = map[string]string{
	"teams.read": "the inventory's uncertain alternative to users.teams.read; teams sit in the Users area " +
		"of the overview (\"Users, teams and assignments\"), and area scopes are <area>.<resource>.<action>",
	"messaging.sms.send": "the inventory's guess for a dedicated action scope; every documented scope ends in .read " +
		"or .manage, the one documented action included (voice.call.manage), so SMS is messaging.sms.manage",
}
