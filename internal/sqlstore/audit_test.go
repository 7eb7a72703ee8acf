package sqlstore_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readTables are the tables the routes the response cache keeps
// (httpapi.ResponseCache, each dialect's cachedRoutes) read. A cached answer
// stays valid while its tenant's event sequence stands still, so every
// statement writing one of them must run in a transaction that appends an
// event for that tenant.
var readTables = []string{"tenants", "users", "user_teams", "user_skills", "teams", "skills", "agent_statuses",
	"phone_numbers", "queues", "queue_members", "queue_skills", "contacts", "contact_phones", "dnc_numbers",
	"messages", "calls", "click_to_calls", "trunks", "events", "ivr_menus", "ivr_menu_actions", "campaigns", "contact_lists",
	// Conversations (issue 15): end users show through their conversations.
	"end_users", "conversations", "conversation_messages", "canned_replies", "channel_profiles", "message_templates", "consents",
	// Billing (issue 16): every change of an account is a ledger entry with
	// its billing.* event.
	"billing_balances", "billing_ledger", "billing_rates",
	// Webhook failures (issue 16): every write appends its webhook_failure.*
	// event, so their routes may be cached.
	"webhook_failures",
	// Phonebooks and queue-settings versions (issue 17, P7): every write
	// appends its phonebook*.* or queue_settings.* event.
	"phonebooks", "phonebook_entries", "queue_settings_versions",
	// UJET chats (issue 17): every escalation write appends its
	// conversation.escalat* event.
	"conversation_escalations"}

// otherTables are written without events, and no cached route reads them:
// the routes that show them are left out of the cache.
var otherTables = map[string]string{
	// UJET users and agents (issue 17): sign-ins, pending sign-outs and the
	// bulk user and force logout jobs are written without events; the
	// routes that show them are not cached.
	"agent_sessions":        "sign-ins are written without events: GET /apps/api/v1/users is not cached",
	"pending_logouts":       "pending sign-outs; no GET shows them",
	"force_logout_jobs":     "job progress is written without events: force logout job GETs are not cached",
	"user_jobs":             "job progress is written without events: bulk user job GETs are not cached",
	"user_job_rows":         "as user_jobs",
	"api_keys":              "last use is written without an event: GET /v1/api_keys is not cached",
	"webhooks":              "delivery statistics are written without events: webhook GETs are not cached",
	"webhook_deliveries":    "delivery outcomes are written without events: delivery GETs are not cached",
	"webhook_attempts":      "as webhook_deliveries",
	"idempotency_keys":      "no GET shows them",
	"node_heartbeats":       "no GET shows them",
	"id_blocks":             "no GET shows them",
	"schema_migrations":     "no GET shows them",
	"sip_bindings":          "the registrar's runtime state; no GET shows them",
	"call_counts":           "totals of calls, written with the calls themselves (triggers, or a load's calls.loaded)",
	"calls_numbers":         "SQLite's number index, written with the calls themselves",
	"calls_numbers_pending": "calls waiting for the number index within a write transaction; empty once committed",
	"leads": "the dialer's progress (SaveDialProgress) is written without events but for outcomes' campaign.attempt: " +
		"lead lists and campaign stats (GET /v1/campaigns/{id} shows them) are not cached",
	"dial_attempts": "open ledger rows are written without events: ledger GETs are not cached",
	"import_jobs":   "import progress is written without events: import job GETs are not cached",
	"attachments":   "uploads (pending, then ready) are written without events: attachment GETs are not cached",
	// Speech analytics (issue 16): queueing and deferring write no event
	// (FinishCallAnalytics does): GET /v1/calls/{id}/analytics is not cached.
	"call_analytics":     "pending analyses and their attempts are written without events: analytics GETs are not cached",
	"follower_positions": "where event-log readers stopped; no GET shows them",
	// Voiso rules (issue 16): a campaign's lead import claim is runtime
	// state of AddCampaignLeads, like a lock.
	"lead_import_claims": "a running lead import's claim on its campaign; no GET shows them",
	// UJET call data (issue 17): written by the integration APIs without
	// an event; the dialect caches none of its routes.
	"call_data": "custom data, flags and the end user of calls, written without events: no cached route reads them",
}

// writers are the functions that write readTables, with how their
// transaction appends the event: "" when the function itself calls one of
// the event appenders, else the functions that call it and do.
var writers = map[string][]string{
	"AddDNC": nil, "AddQueueMember": nil, "CreateClickToCall": nil, "CreateContact": nil, "CreateMessage": nil,
	"CreatePhoneNumber": nil, "CreateQueue": nil, "CreateSkill": nil, "CreateStatus": nil, "CreateTeam": nil,
	"CreateTenant": nil, "createUser": nil, "DeleteContact": nil, "RemoveQueueMember": nil, "UpdateMessage": nil,
	"UpdateQueueMember": nil, "agentCallState": nil, "recoverCall": nil, "saveCallChange": nil, "setPresence": nil,
	"updateContact": nil, "updatePhoneNumber": nil, "updateQueue": nil, "updateSkill": nil, "updateStatus": nil,
	"updateTeam": nil, "updateTenant": nil, "updateUser": nil, "deleteOne": nil,
	// Trunks: clearing another trunk's default_outbound appends that
	// trunk's trunk.updated in the transaction that sets the new default.
	"CreateTrunk": nil, "updateTrunk": nil, "clearDefaultOutbound": nil,
	// CreateWebhook takes the tenant row's lock (UPDATE … SET event_seq =
	// event_seq), changing nothing, and appends its event anyway.
	"CreateWebhook": nil,
	// The appenders themselves: the sequence moves with the events.
	"appendEventReturning": nil, "flushEvents": nil,
	// Bulk loads (seed-calls): the load's transaction appends calls.loaded,
	// or on PostgreSQL the transaction after its COPYs does.
	"LoadCalls": nil, "insertCalls": {"LoadCalls"}, "copyCalls": {"LoadCalls"},
	// Helpers of the writes above.
	"writePhones":      {"CreateContact", "updateContact"},
	"writeQueueSkills": {"CreateQueue", "updateQueue"},
	"writeUserLinks":   {"createUser", "updateUser"},
	"CreateIVRMenu":    nil, "updateIVRMenu": nil,
	"writeIVRActions": {"CreateIVRMenu", "updateIVRMenu"},
	// Campaigns and contact lists: every write appends its event (the
	// lifecycle's through CampaignStatusEvent).
	"CreateCampaign": nil, "UpdateCampaignFunc": nil, "SetCampaignStatus": nil,
	"CreateContactList": nil, "UpdateContactListFunc": nil,
	// Conversations: every write appends its event (conversation.*,
	// message.*, consent.*, channel_profile.*, canned_reply.*,
	// message_template.*). An end user is written with an event of a
	// conversation that shows them.
	"CreateConversation": nil, "addMessage": nil,
	"SetMessageStatus": nil, "SetConsent": nil,
	"upsertEndUser":     {"UpsertEndUser", "CreateConversation"},
	"writeConversation": {"UpdateConversationFunc", "addMessage"},
	"CreateCannedReply": nil, "UpdateCannedReplyFunc": nil, "CreateChannelProfile": nil, "UpdateChannelProfileFunc": nil,
	"CreateMessageTemplate": nil, "UpdateMessageTemplateFunc": nil,
	// Billing: a ledger entry appends its billing.* event, and the account
	// (tenants.balance_cents, billing_balances) is saved by the writes that
	// append one.
	"writeEntry": nil, "saveAccount": {"writeEntry", "UpdateBalanceSettings"},
	"CreateRate": nil, "updateRate": nil,
	// Webhook failures: recorded, retriggered and settled each with its
	// webhook_failure.* event.
	"recordFailure": nil, "settleRetrigger": nil, "RetriggerWebhookFailure": nil,
	// Phonebooks (issue 17, P7): each write appends its phonebook.* or
	// phonebook_entry.* event; a saved queue-settings version its
	// queue_settings.version_saved.
	"createPhonebook": nil, "UpdatePhonebookFunc": nil, "DeletePhonebook": nil, "UpdatePhonebookEntryFunc": nil,
	"ReplacePhonebookEntries": nil, "insertEntry": {"CreatePhonebookEntry", "ReplacePhonebookEntries"},
	"SaveQueueSettingsVersion": nil,
	// Conversation escalations (UJET chats): each write appends its
	// conversation.escalat* event.
	"CreateEscalation": nil, "UpdateEscalationFunc": nil,
	// The do-not-call list's batches (issue 17): each entry added,
	// refreshed or removed appends its dnc.* event.
	"PutDNC": nil, "RemoveDNCNumbers": nil,
}

// migrationWrites run only inside Migrate, before the store serves a
// request, so no cached answer can predate them.
var migrationWrites = map[string]string{
	"sipHA1Migration": "hashes the plaintext SIP passwords (0012); no route renders the hashes",
}

var appenders = []string{"appendEvent", "appendCallsLoaded", "appendEventReturning", "appendCallEvent", "flushEvents", "deleteOne",
	"conversationEvent", "messageEvent"}

var sqlWrite = regexp.MustCompile(`\b(?:INSERT INTO|UPDATE|DELETE FROM) ([a-z_]+)\b|\bDELETE FROM $`)

// TestEveryWriteOfCachedDataAppendsAnEvent reads the store's source: every
// statement writing a table a cached route reads must be in a function
// that appends an event (or a helper only such functions call), and every
// other table written must be one no cached route reads. A new write path
// fails here until it is audited, so the cache cannot go stale by a write
// nobody thought of.
func TestEveryWriteOfCachedDataAppendsAnEvent(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	writes := map[string][]string{} // function -> tables
	calls := map[string][]string{}  // function -> functions it calls
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			name := fd.Name.Name
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BasicLit:
					if n.Kind != token.STRING {
						return true
					}
					s, _ := strconv.Unquote(n.Value)
					for _, m := range sqlWrite.FindAllStringSubmatch(s, -1) {
						table := m[1]
						if table == "" {
							table = "(a table named by its caller)"
						}
						if table == "SET" {
							continue // ON CONFLICT … DO UPDATE SET
						}
						writes[name] = append(writes[name], table)
					}
				case *ast.CallExpr:
					switch fn := n.Fun.(type) {
					case *ast.SelectorExpr:
						calls[name] = append(calls[name], fn.Sel.Name)
					case *ast.Ident:
						calls[name] = append(calls[name], fn.Name)
					}
				}
				return true
			})
		}
	}
	appends := func(fn string) bool {
		return slices.ContainsFunc(calls[fn], func(c string) bool { return slices.Contains(appenders, c) }) ||
			fn == "appendEventReturning" || fn == "flushEvents"
	}
	for fn, tables := range writes {
		for _, table := range tables {
			if _, ok := otherTables[table]; ok {
				continue
			}
			if !slices.Contains(readTables, table) && !strings.HasPrefix(table, "(") {
				t.Errorf("%s writes %s, which is neither a table cached routes read nor one listed as read by none", fn, table)
				continue
			}
			if _, ok := migrationWrites[fn]; ok {
				continue
			}
			via, audited := writers[fn]
			switch {
			case !audited:
				t.Errorf("%s writes %s, which cached routes read, and is not audited: make its transaction append an event (or leave the routes showing %s out of the cache) and list it in writers", fn, table, table)
			case via == nil && !appends(fn):
				t.Errorf("%s writes %s but appends no event", fn, table)
			}
			for _, caller := range via {
				if !slices.Contains(calls[caller], fn) || !appends(caller) {
					t.Errorf("%s writes %s for %s, which does not call it or appends no event", fn, table, caller)
				}
			}
		}
	}
	for fn := range writers {
		if _, ok := writes[fn]; !ok {
			t.Errorf("writers lists %s, which writes no table a cached route reads any more", fn)
		}
	}
}
