// Package ujet serves UJET's Apps API (Google CCAI Platform) under
// /apps/api/v1, over the core, as seed 004 (a Postman export without paths)
// and the inventory in the project's specs (ujet-apps-api.md) describe it.
//
// # Conventions
//
//   - Auth: HTTP Basic, user = the tenant's slug (UJET's subdomain),
//     password = a company API key (switchboard key create --tenant SLUG). A
//     wrong slug for the key, an unknown or revoked key is 401; a user key
//     (bound to one agent) is 403, since UJET tokens belong to the company.
//     Every other credential style of the server works too (Bearer), so one
//     key serves every dialect.
//   - Rate limit: per tenant (UJET limits each customer, not each token),
//     --ujet-rate-limit requests per second, 10 by default as Google's pages
//     say today; 1 reproduces the seed's older limit. Over it: 429
//     {"message": …} with Retry-After. Mutating requests also spend the
//     tenant's write bucket shared with every dialect.
//   - Errors: always {"message": text}. Validation is 400 (UJET has no 422)
//     with the documented text where the seed or inventory gives one
//     ("Invalid call type", "menu_id 9999 is not found", Rails'
//     "param is missing or the value is empty: identifier") and the core's
//     field message otherwise; an unknown object or route is 404
//     {"message":"Not Found"} (an unknown method on a known path too, as a
//     Rails router answers); 5xx texts are fixed and details are logged.
//   - Times: ISO 8601 UTC with milliseconds ("2019-06-07T01:27:30.406Z"),
//     except where UJET documents otherwise: a DNC entry's expires_at is
//     "2022-10-29 00:00:00 UTC", queue-status callback periods are a date
//     "20260225" with times "17:30". Times sent to us may be any ISO 8601 or
//     RFC 3339 form.
//   - Lists: bare JSON arrays; page (1-based) and per (100 by default, larger
//     values clamped to 100); headers Total (records selected), Per-Page and
//     Link (first, prev, next, last: the request's URL with page changed).
//     Filters use brackets: x[from], x[to], x[]=a&x[]=b (also x=a,b).
//   - Bodies: unknown keys are ignored (UJET tells clients to ignore unknown
//     keys, and so do we); ids may be numbers or strings of digits, booleans
//     true/false, "true"/"false" or 1/0, as the seed's Postman bodies quote
//     them.
//
// # Menus
//
// UJET's menu tree (IVR, mobile and web menus; leaves are queues) is the
// tenant's IVR menus and queues: queue q is menu 2·q and IVR menu m is menu
// 2·m+1, so one integer names either without a table of its own. A queue's
// parent is its ParentID queue, else the first IVR menu whose option leads to
// it; an IVR menu's parent is the first IVR menu leading to it. A queue's
// menu_type is its MenuType (ivr_menu, mobile_menu, web_menu), by default
// ivr_menu for voice and web_menu for chat; an IVR menu is an ivr_menu. Its
// language is the queue's Language (an IVR menu takes its first queue's).
// materialized_path is the names from the root joined by " / " in wait times
// and queue status, and the ids joined by "/" in the call object's menu_path
// (the seed shows "9" there). selected_menu.hidden is a string ("false"), as
// the seed types it.
//
// # Paths
//
// Confirmed paths (Google's CCAI Platform pages, release notes, or real
// integrations) are served as documented. Where the inventory marks a path
// inferred, this dialect serves the inferred path and the listed aliases:
//
//	GET  /calls, GET /calls/{id}                          inferred (Manager API has them)
//	POST /calls/{id}/custom_data (also PATCH)             inferred
//	GET  /chats                                           inferred
//	GET  /chats/{id}/photos, GET /chats/{id}/videos       inferred
//	PATCH /chats/{id}/customer_flag                       inferred (GET confirmed)
//	POST /chats/{id}/custom_data                          inferred
//	POST /bulk/users/proceed body {"id": job_id}          path confirmed, body inferred
//	GET  /agent_statuses/force_logout/jobs[/{id}]         inferred; alias /agent_statuses/jobs[/{id}]
//	GET  /outbound_dialer/dnc/check?phone_number=         inferred
//	POST /outbound_dialer/dnc/remove (also DELETE)        method inferred
//	GET  /outbound_dialer/campaigns[/{id}]                Manager API path, served here too
//	GET  /queue_settings/export                           inferred (all of queue_settings)
//	POST /queue_settings/import
//	GET  /queue_settings/version_histories[/{id}[/download]]
//	POST /queue_settings/version_histories                (auto_saved version)
//	POST /queue_settings/version_histories/{id}/restore
//	GET|POST /contact_lists, GET|PATCH|DELETE /contact_lists/{id}   inferred
//	GET|POST /contact_lists/{id}/entries, PATCH|DELETE …/entries/{entry_id}
//	GET  /users                                           inferred (Manager API /agents)
//	GET  /menu, /menu/{id}; aliases /menus, /menus/{id}   Manager API names
//	POST /pds/calls                                       inferred (the seed's PDS body)
//
// The sections below record the rest of the choices.
//
// # Wait times, queue statuses and menus
//
// EWT is whole seconds from the engine's live state (CallService.QueueLive),
// capped at 18000 (UJET's example for a queue no agent serves), which is also
// what a queue with nobody signed in shows. A voice queue serves voice_call,
// a chat queue chat, and a voice queue shown as mobile_menu or web_menu both
// (UJET's mobile menu example carries both keys); only served channels'
// keys appear. /wait_times lists the queue nodes of the tree or subtree (an
// IVR menu has no wait of its own); /queues/status only leaf queues.
// logged_in_agents are members signed in; available_agents members free now
// (for chat: with a free chat slot); breakthrough_agents members ringing or
// talking who are still offered calls because the queue rings agents in use
// (RingInUse), 0 otherwise and for chat.
//
// Operation statuses send after_hour (the example's key) and after_hours
// (the prose's) with one value, from Queue.Hours. overcapacity is true when
// MaxLength interactions already wait, or when nobody is signed in and the
// queue does not let callers join empty: exactly what the engine refuses for
// calls. An IVR menu is after hours or over capacity only when every queue
// under it is. channel_type takes call or chat (voice_call is read as call).
//
// Queue status callback periods are CallbackSlotMinutes long (15 by
// default) from midnight in the hours' time zone, listed only while the
// queue is open; scheduled_calls counts the callbacks waiting in the period
// and max_slots is CallbackSlotCapacity (0: no limit), which
// CallService.Schedule enforces. scheduled_callback_ewt is the seconds to
// the first shown period with room (0 when the current one has, 18000 when
// none does). Ours beside UJET's keys: after_hour, always_open, time_zone,
// hours_of_operation [{day, start_time, end_time}] and holidays [{date
// "20261225", name, closed, start_time, end_time}]. The menu object's deleted
// is false and hidden "false" (the core has neither state); it adds materialized_path,
// lang and channels.//
// # Chats and SMS
//
// A chat is a core conversation and has its id. POST /chats starts a web
// chat in a chat queue's menu ("Only chat menu IDs are permitted"), for an
// existing end user, in a language checkLang accepts (the queue's by
// default); one open chat per end user ("End user is already in an active
// chat"). context.value (or context) becomes the unsigned context; a
// transcript's end-user lines are inbound, the rest outbound. Statuses:
// queued; assigned and in_progress are assigned; dismissed; deflected;
// finished and abandoned are finished. virtual_agent is null and timeout_at
// null (the core runs neither). from_user_id is the end user when it is the
// chat's end user's id, else an agent (from_user_type settles a clash); an
// agent writing takes the chat. Signed custom data verifies with the HS256
// secret of the tenant's web-chat channel profile; reserved_* fields set the
// customer flags.
//
// Escalations are stored (conversation_escalations): POST …/escalations on a
// queue over capacity (MaxLength chats waiting) without force_escalate is an
// over_capacity escalation, pending; otherwise a virtual_agent escalation,
// escalated (a dismissed chat resumes). human_agent keeps waiting (only on
// over_capacity), email and external_link end the chat deflected. The
// escalation object's keys are ours: id, chat_id, reason, escalation_type,
// status, deflection_channel, force_escalate, created_at, updated_at.
//
// Photo and video uploads are presigned to this server: POST /chat_uploads
// (public; the form's token is the proof) takes JPEG up to 2 MB or MP4 up to
// 20 MB within 5 minutes, once; the key is the s3_path attach takes. Each
// attachment is one end-user message, attached idempotently.
//
// POST /sms answers 200 with the SMS chat object in status queued (the spec's
// example shows selecting; ours waits in its queue from the start). "SMS is
// not enabled": no number of the tenant takes SMS; "Outbound SMS is not
// enabled": the outbound number does not; "Non-US phone number not allowed":
// a +1 outbound number texting outside +1; an opted-out number is "Outbound
// SMS failed. Consumer has opted out of SMS." (ours). Its queue is the
// number's channel profile's, else the number's, else the agent's first.
//
// Chat webhooks (subscriptions with dialect "ujet" through the native API):
// chat_created, chat_assigned, chat_connected, message_received,
// escalation_created, escalation_updated, chat_deflected, chat_dismissed,
// chat_ended, each {event_type, timestamp, chat_id, chat|message|escalation},
// signed X-Signature: primary=<b64> secondary=<b64> with
// X-Signature-Timestamp, each base64(HMAC-SHA256(secret, timestamp+body));
// secondary only while a rotated-out secret still signs.
//
// # Contact lists and queue settings
//
// Contact lists are the core's phonebooks (not the dialer's lead lists):
// list_type personal, favorite, global or custom, with entries {name,
// company, email, phone_numbers [{label, number}], notes}. The global list
// exists from the first read, an agent's personal and favorite ones from the
// first read with user_id. The API writes custom lists and the entries of
// global and custom ones; personal and favorite lists are read-only (400).
//
// Queue settings are a JSON snapshot (format switchboard.queue_settings/1)
// of queues (every setting, hours, skills, members), IVR menus, number
// routes, chat shortcuts and the global and custom contact lists, naming
// objects by name or e-mail, never by id. export_audio_files=true is refused
// (no ZIP is written; prompts stay names). Import and restore vet the whole
// file first, save the state before as auto_saved, then create or update by
// name (never delete), so a restore brings a deleted queue back (with a new
// id) and re-links the menus, numbers and child queues that named it.
// Version types: exported, imported, auto_saved, restored; restore finds a
// version by revision, then id (latest also works).//
// # Calls
//
// GET /calls lists newest first every call, in progress and scheduled ones
// too, with created_at[from|to], updated_at[from|to] (a call's record stops
// changing when it ends, so this bounds the end) and status[]. The call
// object carries every key of the seed plus the spec's deflection_details,
// offer_type, offer_events, answer_type and outbound_number. call_type is
// the one the API gave; other calls are "Voice Inbound (IVR)", "Voice
// Outbound (API)" (placed through another API), "Voice Outbound (Dialer)",
// "Voice Outbound (Manual)" and "Voice Scheduled (Callback)". voip_provider
// is voip_provider_switchboard; deflection voicemail, deflected or
// no_deflection; disconnected_by from who hung up; fail_reason nothing,
// no_answer, busy, connection_failed, end_user_abandoned, rejected,
// agent_not_answered, queue_timeout or failed, with the hang-up cause as
// fail_details; voicemail_reason not_voicemail or the core's reason; rating
// null (no ratings), photos and videos empty. Transfers are the calls that
// continue it; participants are the end user's leg (id 2·call) and the
// agent's (2·call+1). recording_url is GET /calls/{id}/recording.
//
// What the APIs attach to a call (end user, flags, custom data, ticket,
// language, recording permission, menu) lives beside it (CallData), never
// overwritten by the engine. An API call links the called number's end user
// until end_user names another. A ticket resolves to the number of the
// newest call carrying it; unknown, the call falls back to end_user_number
// ("Contact not found" without one). Inbound API calls take IVR and mobile
// menus (as the error text says; the parameter table says IVR and web),
// scheduled calls mobile and web; the menu must be a queue ("menu_id N is
// not a leaf menu; calls queue in leaf menus", ours). An inbound API call is
// a callback placed now: it answers 201 while the end user is dialled
// (connecting) and queues once they answer. Signed custom data is an HS256
// JWT verified with the tenant's company secret (PATCH /v1/tenant
// company_secret, write-only), exp honoured; reserved_* fields set the flags.
// recording_permission_denied places the call unrecorded; not_asked and
// granted record it as the queue always does (the core has no per-queue
// "ask the caller" option, which UJET evaluates the value under).
// A number on the DNC list is refused ("end_user_number is in the company's
// Do Not Call list", ours), as the call service refuses it anyway. Not
// reproduced: "Menu is in 'manual redirection' state" (no such state),
// "Unsupported CRM request" and "Duplicate request" (no CRM connector;
// retries use Idempotency-Key).
//
// # Voicemail, switching and the PDS webhook
//
// A queue with VoicemailEnabled offers voicemail when closed (after_hours),
// full (over_capacity) or after MaxWaitSeconds (no_answer): the call is
// voicemail while the caller records, voicemail_received after, and
// voicemail_read once an agent opens it (native POST
// /v1/calls/{id}/voicemail/read). A closed queue without it refuses the call
// (failed, "after hours"). A call whose carrier fails while connecting goes
// switching and is tried through the tenant's next outbound trunk.
// POST /pds/calls takes the seed's PDS body (an outside predictive dialer
// handing its call to agent_id, the native user id; org_id, when given, must
// be the tenant's slug; dnis is the customer's number) and starts an
// action_only call that keeps the agent busy; the same call_id again answers
// 200 with that call; POST /pds/calls/{call_id}/finish ends it
// (action_only_finished). lcm_key, pacing_mode, dnis, org_id and contact are
// kept as the call's custom data.
//
// # Do-not-call list and campaigns
//
// DNC numbers are stored E.164 (digits without + read as international);
// emergency numbers (libphonenumber's short-number data: 911, 112, …) are
// refused. Adding a listed number answers updated with the new expiry; an
// expired entry re-added is created. Removal answers each number removed,
// not_found or failed (ours). The list is the one the dialer (contact status
// "Do Not Call"), click-to-call, callbacks and API calls honour.
//
// Campaigns are the dialer's; campaign_type is "default", status and mode
// the core's, contact_stats every one of the 21 labels. A contact is a lead:
// unique_id is its external id, assigned_call_id its last call,
// assigned_participant_id null, priority null when 0; email and
// outbound_number are kept in its fields, and an outbound_number the tenant
// owns is the caller id of its dials. Phone numbers are unique in a campaign
// through this API. Imports (JSON array or CSV) run in the background:
// POST …/contacts/import answers {job_id, status}. Lead states map to the
// seed's labels (finished/connected with a transfer: Transferred, or
// Transferred and Finished once the transfer ended; not_picked_up: Not Picked
// Up, Not Reached to Contact when busy, Abandoned by Contact when hung up;
// abandoned: Abandoned by Dialer; failed: Carrier Error or Dialer General
// Error; skipped: Skipped & Closed); "Skipped" and "Invalid Outbound Number"
// are never reached (a timed-out preview goes back to Upcoming; an unowned
// outbound_number is refused when written).//
// # Users, bulk users, agent statuses and end users
//
// GET /users shows the seed's user object: max_chat_limit_enabled is a
// chat limit other than the default 3, unrestricted_international_calling
// true and external_user false (the core has neither restriction),
// ucaas_user_name the SIP username and ucaas_sip_uri sip:user@realm,
// extension_numbers the extension as an integer. Its filters follow the
// seed's response table as written: per is 1-999 there (the one exception to
// the clamp at 100), a filter cannot be combined with page or per, one
// filter at a time (a [from]/[to] pair is one), at most 1000 values; a
// filtered answer is not paged. online is any status but Offline, wrap_up
// the Wrap-Up status, last_login_time the latest recorded sign-in.
//
// Bulk users are jobs stored with their rows (created → valid_scheme or
// invalid_scheme → in_progress → finished), run by the dialect's worker
// (API.Run), which resumes an unfinished job after a restart; rows are
// applied in batches, each row in its own savepoint, so a bad row fails
// alone and a resumed job never applies a row twice. The Link header names
// /bulk/users_jobs/{id}, which is served too. Row rules use the seed's texts;
// locations are the distinct locations of the tenant's users, roles map
// Admin/Manager/Agent to admin/supervisor/agent, teams match by name,
// max_chat_limit is 1 to 50 (the core's bound), Inactive deactivates.
//
// Sign-ins (time and address) are recorded when an agent's own key brings
// them online (the connection's address; no forwarding header is trusted)
// and when a SIP phone registers its first binding. POST /agent_statuses
// moves agents between Available and custom statuses; a target system status
// refuses the request, an agent in a system status keeps it with an error in
// their entry. Force logout selects agent_ids, team members and agents whose
// latest sign-in address matches ip_addrs (CIDR, an address, or a range
// a-b); idle agents go Offline at once, busy ones (ringing, talking, in
// wrap-up or holding chats) get a pending sign-out applied when they are
// free (pending_logout: true in their entry); more than 100 agents make a
// job (202), listed at /agent_statuses/force_logout/jobs (alias
// /agent_statuses/jobs).
//
// # Seed items and paths
//
// Where the seed lists an item with no more than its parameters: Calls item
// 8 is GET /calls/{id}; Wait Times item 2 (the PDS body) is POST /pds/calls;
// "Queue Status Endpoints 1" is GET /queues/status and "Queue Operation
// Statuses 1" GET /queue_operation_statuses; Chats item 14 is GET
// /chats/{id}/media/{media_id}; the seven campaign items are list campaigns,
// add, get contacts, import, import job, update, delete; the six contact
// list items create, update, delete, add entry, update entry, delete entry.
// internal/ujet/testdata/seed_examples.json holds every item with its path
// and the seed text it came from.
package ujet
