// Package voiso speaks Voiso's REST API v4 (/api/v4) over Switchboard's core,
// so that an integration written for Voiso (a CRM's click-to-call, a BI job
// reading CDRs, a webhook receiver) works by changing only its base URL and
// its key. It holds no business rule: it parses Voiso's requests, calls the
// store and the core services, and renders Voiso's JSON, envelopes, pagination
// and errors.
//
// Voiso's documents are two seeds (the v4 overview and Start call, kept in
// testdata beside the examples taken from them, seed_examples.json) and an
// inventory of Voiso's public reference (testdata/voiso-v4.md), which marks
// what it saw, what it inferred and what it never found. Every object this
// package renders is in testdata/shapes.json with each field's JSON type and
// where it comes from: ✅ the inventory saw it documented, ◐ the inventory
// inferred it, "ours" we chose it (with why). Where the documents are silent
// or disagree, the choice is written below; the golden test keeps the three
// files and this package's scope table from drifting apart.
//
// # Base URL and credentials
//
// Voiso serves https://{cluster_id}.voiso.com/api/v4; here the prefix
// /api/v4/ on this server's host, so the cluster id is whatever host the
// integration is pointed at. Every route takes Authorization: Bearer <key>,
// a tenant-wide Switchboard API key carrying Voiso scope names (created with
// the native API or "switchboard key create --scopes voice.call.manage").
// Voiso's keys belong to the contact center, never to a person, so a user key
// is answered 403 {"error":"Forbidden"} on every route. The legacy v1-v3
// credentials (?key=, a key in the path) are not accepted: v4 refuses them.
//
// # Scopes
//
// Voiso's scope names become scopes of the core, which a key may carry like
// any native scope; each route needs exactly one (Scopes lists them with the
// routes they admit). A key holding the broader native scope a Voiso scope
// falls under (Scope.Core: calls.read covers reporting.cdrs.read) is admitted
// too, and * admits everything, so native keys keep working; a Voiso scope
// never admits a native route. users.read, campaigns.read and
// campaigns.manage already are native names and mean the same; every other
// name is a core scope too (switchboard.Scopes), and switchboard.ScopeCovers
// names its native cover. Where the inventory
// offered two candidate names, RejectedScopes says which we did not take and
// why. A key without the route's scope is 403 {"error":"Forbidden"}.
//
// # Errors
//
// Two bodies, as the overview shows: {"error": "<text>"} and
// {"errors": {"<field>": ["<message>", ...]}}. The texts are exactly Voiso's,
// casing included:
//
//	400 {"error":"Bad Request"}        malformed JSON, a body that is not the
//	                                   route's type, a bad query value, a
//	                                   fallback offset that is invalid, a body
//	                                   over the size limit
//	401 {"error":"Unauthorized"}       no key, an unknown, revoked or expired key
//	403 {"error":"Forbidden"}          the key lacks the scope; a user key; an
//	                                   agent without click-to-call
//	404 {"error":"Not found"}          an object not in the key's tenant, and
//	                                   every unknown path, whatever the method
//	406 {"errors":{"accept":[…]}}      Accept rules out application/json
//	409 {"errors":{"<field>":[…]}}     the object's state forbids the action
//	422 {"errors":{"<field>":[…]}}     validation; the core's Fields, each one
//	                                   message, nested fields dotted
//	                                   (source.account_id)
//	429 {"error":"Too many requests"}  with Retry-After (an addition)
//	500 {"error":"Internal Server Error"}, 503 {"error":"Service Unavailable"}
//
// Messages keep Voiso's phrasing where the seed shows it ("is missing",
// "must be a string", "must be an integer").
//
// # Envelopes
//
// A list is {"<resource>": [...], "metadata": {"total": N}}, total counting
// every match, not the page. The overview's example says "items", but every
// concrete page the inventory saw names the array after its resource (users,
// campaigns, canned_messages, webhook_failures), and so do we, for every list
// including those not seen (queues, skills, teams, cdrs, conversations,
// messages, channel_profiles, whatsapp_templates, webhooks, events). One
// object is {"<resource>": {...}} (user, queue, campaign, cdr, webhook,
// webhook_failure), except the campaign lifecycle actions (see below).
//
// # Pagination
//
// limit and offset, defaults 100 and 0. limit is 1..100 everywhere but the CDR
// list, whose schema allows 0..1000 (limit=0 answers the total and no items);
// a limit or offset that is not a whole number in range is 400 Bad Request,
// never clamped, so a client's bug shows at once. The CDR list also pages by
// cursor: metadata.next_cursor is an opaque string while more records follow
// and null on the last page. Its rules, as Voiso documents them: a valid
// cursor wins and offset is ignored; an invalid cursor silently falls back to
// offset; if that offset is invalid too the answer is 400. Without a cursor
// only the first 10,000 records are reachable: offset must be below 10,000
// (else 400) and a page ends at the 10,000th record; next_cursor is given on
// every page that has a successor, offset-paged ones included, so a client
// can switch to cursors at any point. A cursor carries its position only, not
// the filters: the filters come from the request each time, as documented.
//
// # Filters
//
// Comparison filters use brackets: started_at[gte], started_at[lt] and the
// same for ended_at and created_at, with gt, gte, lt, lte and eq; a bare
// started_at=T means eq. Times are RFC 3339 (a date alone means its midnight
// UTC). Multi-valued filters take one value, a repeated key (type=call&type=sms),
// the bracket form (type[]=call&type[]=sms) or, for ids, a comma list
// (user_id=1,2): the inventory says "a single value or an array" without the
// encoding, and all three are common in clients. Phone filters: from_phone_number
// and to_phone_number are exact (digits, with or without +);
// from_phone_number_like and to_phone_number_like take * as any run of digits;
// a number and its _like together are 422 naming both. Unknown filters are
// ignored, as Voiso's reference does not say they are refused. The CDR filters:
// type (call, conversation, sms, hlr_lookup, which matches nothing: there are
// no HLR lookups here), subtype, disposition, user_id, team_id, queue_id,
// campaign_id, external_account_id (the call's source.account_id), end_reason
// and started_at/ended_at.
//
// # Records
//
// The CDR list holds three kinds of record, each shaped as shapes.json shows
// (cdr call, cdr conversation, cdr sms): type call is a call's record (the
// core's CDR); type conversation a conversation on any channel but SMS; type
// sms one SMS, in or out, whichever API sent it (the core's messages). SMS is
// not a conversation channel in Voiso, and listing an SMS thread as a
// conversation too would count its texts twice. Records are ordered by
// started_at, then type (call, conversation, sms), then id, oldest first.
//
// What a record shows, where the core has no field of that name: a call's
// subtype is switchboard.CallSubtype (dialer, queue_callback, click_to_call,
// outbound, inbound); its durations are whole seconds, total from start to
// end, dialing_time from start to answer (outbound calls), queue_time
// waiting in the queue, talk_time connected, hold_time on hold, and
// wrapup_time 0, as the core keeps no wrap-up time per call; its team is
// the first team of its agent; caller_id is the number an outbound call
// showed (null inbound); wrapup_code is null (the core keeps no wrap-up
// codes). end_reason says who or what ended it: busy, no_answer, failed
// from the disposition, else agent_hangup, customer_hangup or system. A
// conversation's subtype is its channel, its disposition waiting, active or
// archived, its wrapup_code why it ended (resolved, abandoned, …), its
// contact and channel as the messages API shows them. An SMS's subtype is inbound_sms or outbound_sms, its disposition
// waiting, sent, delivered or not_sent, and it ends when delivered, or sent
// if no receipt says more; segments counts GSM or UCS-2 parts.
//
// Filter values the core cannot decide are answered plainly: end_reason
// takes busy, no_answer and failed (what a disposition decides); who hung up
// an answered call is not a filter (400). disposition=machine_answered
// matches nothing (the core marks answering machines by the call's status).
// A subtype names its kind: asking only for SMS subtypes lists SMS alone. A
// record is found by id as a call, else as a conversation (not an SMS
// thread), else as an SMS; its events are the core's events of that subject,
// named as the core names them (call.queued, call.connected, …). Speech
// analytics are the core's analysis of a recorded call, 404 until
// available; score is the core's 0-100 on Voiso's 0-5 scale with one
// decimal ("4.7").
//
// # Conversations and messages
//
// GET /api/v4/messaging/conversations lists the conversations of every
// channel but SMS, newest first, each named by its UUID (also the path of
// GET .../conversations/{id}, where an SMS thread's UUID is not found).
// status is Voiso's legacy pair: active until the conversation ends,
// archived after; wrapup_code is the core's end reason (resolved, timeout …)
// until the core has wrap-up codes. channel is the channel profile the
// conversation runs on ({id: its UUID, type, name}; type is the channel's
// name, web chat's being "chat" as the message webhook shows; a conversation
// on no profile has an empty id and its Via as name); contact is the end
// user (username their name, else Guest; channel_identifier their address,
// numbers as digits). Filters, one value each: subtype (the
// channel; chat means web_chat; sms matches nothing), status (active,
// archived), user_id (who holds or last held it), queue_id, contact_id and
// started_at with bracket comparisons.
//
// GET .../{id}/messages is the whole transcript, oldest first: messages
// exchanged with the contact (activity "message"), agents' notes ("note")
// and system lines ("system", content_type "notification"). Every line
// counts: offset n starts after the n-th line, which is how the core numbers
// them (gapless), so a deep page costs what a first one does, and
// metadata.total is the number of lines. content_type is text, image, video,
// document or template; participant is the contact (their id), the agent, or
// the system (id 0); status is Voiso's vocabulary: waiting (queued), sent,
// delivered, seen (read), failed, and accepted for what the contact sent (as
// the message.received webhook shows). attributes is always {}.
//
// Channel profiles show their number as digits; GET .../channel_profiles
// takes a channel filter. A canned message with no channels or no teams is
// for every channel or team (the core's rule), shown as empty arrays.
// GET .../whatsapp_templates lists the templates of every WhatsApp profile
// (profiles in the order they were made, each one's templates in theirs):
// templates belong to a profile, and another channel's profile may have
// some that are not WhatsApp's. category is upper case, as v3 showed it;
// number is the profile's, as digits.
//
// # SMS
//
// POST /api/v4/messaging/sms (not found for v4; v1's sendsms renamed as Start
// call names things) sends {user_id, phone_number, body, sender_id} as the
// agent user_id through the agent's SMS conversation with the number: the
// open one is replied in, else one is started (in the queue of sender_id's
// SMS channel profile, else of the number). sender_id defaults to the
// agent's outbound number, else their first own number; it must be one of
// the contact center's numbers with SMS enabled and not another agent's
// (422 naming sender_id otherwise). body is 1..1,600 characters; a body of
// spaces alone is missing. Sending takes the conversation for the agent, as
// an agent's reply does, so the agent must be signed in with a free chat
// slot, and a conversation another agent holds refuses: both are 409 naming
// user_id. A number that texted STOP is 422 naming phone_number. The answer is
// 200 {"sms":{"id","segments"}}: id is the SMS record's (type sms of the CDR
// list), segments how many SMS the carrier bills (160 GSM-7 characters, or
// 70 UCS-2, in one; 153 or 67 per part of more). A carrier that refuses the
// text leaves it failed and answers 503. Voiso's platform limits are the
// core's: at most 20 SMS from one agent to one number per calendar day in
// the tenant's time zone, and no identical text (same sender, recipient,
// agent and body) twice within 2 seconds; either answers 429 {"error":"Too
// many requests"}, the answer a client already retries later.
//
// # Identifiers
//
// A user's id is the native user id, an integer, in every object and path:
// Start call and the campaign user routes take integers, and an integration
// reads ids from one call and sends them to another, so one type must serve
// both (the inventory's user examples show UUIDs; we do not). Queues, teams,
// skills, campaigns, canned messages and channel profiles are integers, the
// core's ids. Calls, conversations, messages (of conversations and SMS) and
// webhooks are the core's UUIDs, and a record of the CDR list has its call's,
// conversation's or SMS's UUID as its id, so the id Start call answers is the
// id of the call's CDR. Webhook failures are 24 hex digits (the examples'
// form): the core's integer id in hexadecimal, zero-padded, which a path may
// also give as a decimal integer (the readme's schema says integer).
// Phone numbers are shown as digits without + everywhere (E.164 minus the
// plus) and read with or without it.
//
// # Times and links
//
// Timestamps are RFC 3339 in UTC with Z, at the precision each resource's
// example shows: seconds by default, milliseconds on campaigns, microseconds
// on webhooks. cdr_url, which Voiso points at its web app, points at this
// server's GET /api/v4/reporting/cdrs/{id} under the server's public base URL
// (the one webhooks and recordings already use): the only page of a record
// we serve.
//
// # Start call
//
// POST /api/v4/voice/calls places a click-to-call through the call service:
// the agent's phone rings first, the customer once they answer. user_id is an
// integer or a string of digits (the seed sends "1234"); phone_number is
// required and read as international digits; caller_id, when given, must be
// one of the tenant's numbers or the agent's outbound number; source.account_id
// and source.system are kept on the call (shown as ext_user_id in the
// outbound webhooks and as source and ext_user_id in the CDR). The answer is
// 200 {"call":{"id":"<uuid>"}}: the seed shows the body but not the status,
// and hand-written clients test for 200 far more often than for 201. The
// prerequisites answer as the seed's troubleshooting says: click-to-call
// withheld from the agent is 403 Forbidden; everything else about the agent
// is 422 naming user_id (the seed's "does not match an existing agent"): an
// unknown or deactivated user (the core's not-found becomes 422 here, not
// 404), one without an extension or sign-in identity, one not signed in or
// not Available. The seed names no status for the last two and the core
// reports them as invalid user_id with the reason, which keeps one mapping.
//
// # Users, teams and routing
//
// A user is the core's user, rendered whole from one page read plus a fixed
// few (the tenant's teams, queues, skills and channel profiles, and the
// page's queue memberships), whatever the page's size. The core has roles,
// not security access groups: each role is one fixed group, 1 Agent,
// 2 Supervisor, 3 Admin, and a user's group is the highest role they hold;
// security_access_group_id filters on holding that role, so a supervisor who
// is also an agent is listed under 1 too. sip_account is the user's SIP
// username at the SIP realm (one realm serves every tenant); a sip_account
// filter with another domain matches nobody. caller_id is the user's
// outbound number. A user's queues are those they are a member of, their
// channel profiles the enabled profiles routed to one of those queues, and
// their channels voice and those profiles' channels. webrtc_ringtone is
// always Bells (Default) and channel_group_capacity both figures the user's
// chat capacity: the core has no ringtones and one capacity. status is the
// presence: available, busy (on a call or in wrap-up), offline, or a custom
// status's name in lower case.
//
// Supervisors: the core has roles, not supervision relations. A queue's
// supervisors are its members holding the supervisor role; a user's
// supervised_teams and supervised_queues are their own teams and queues when
// they hold it; a team's assignments list its members, each with role
// supervisor (holding the role) or member.
//
// A queue's strategy is named as Voiso names it (ring_all, round_robin,
// least_recent, fewest_calls, random, weighted_random, linear). The core has
// no announcements, failover destinations or post-call rating: those are
// null; callback is shown when the queue turns callers it cannot take into
// callbacks, with the core's wait limit.
//
// # Campaigns
//
// A campaign's users are its queue's members: adding one adds a member
// (one already there is listed as added), removing one removes the
// membership (404 when not a member). At most 100 ids a request, every one
// an active user of the tenant, or 422 naming user_ids and nothing is added.
// strategy is predictive_ai for predictive pacing, simple for preview and
// progressive; status draft, active, paused, stopped or completed; dial_level
// a predictive campaign's stored overdial adjustment, else 1; max_dial_time
// the ring time; max_wait_time the core's fixed 2 s before an answered dial
// is abandoned; max_dial_attempts the redials plus one; caller_id_sets one
// set of the caller-id pool (or the one caller id). start resumes a paused
// campaign. A lifecycle move the status forbids is
// 409 {"errors":{"status":["cannot be paused while stopped"]}}.
//
// Add leads takes a JSON array of at most 1,000 leads and inserts them in
// one transaction: a number that is not a phone number is rejected, one
// already in the campaign (or earlier in the request) a duplicate, every
// other created; each list holds the numbers as sent. Voiso's priority runs
// 1 (first) to 1000, the core's the other way: a lead of priority p is the
// core's 1001-p. source.system and source.url, and each context header,
// are kept in the lead's fields (source_system, source_url, the header's
// name). Field errors of an item are named [i].field. A lead sent with
// active false is created and then taken off dialling (skipped). One import
// into a campaign runs at a time: another while it runs, or within 2 s of
// its end, is 409 {"errors":{"campaign_id":[…]}}, as Voiso refuses
// overlapping imports.
//
// Update leads (PATCH /api/v4/campaigns/{id}/leads; not found for v4, built
// as the help article describes it) takes the same array: each item names
// its lead by phone_number (the lead's first number) and changes the
// fields it gives, of name, source, priority and active (false skips a lead
// still to be dialled, true puts a skipped one back; refused while a dial of
// it runs). The answer is {"leads_update": {updated, not_found, rejected}},
// each the numbers as sent, rejected holding the numbers that are not
// phone numbers and the changes refused.
//
// A 409 or 422 the core raises without naming a field is
// {"errors":{"base":["<why>"]}}: the two bodies of the overview are the only
// ones a client parses.
//
// # Discrepancies in the inventory, and what we chose
//
// The list key. The overview shows items, every concrete page a key named
// after the resource. We follow the pages: they are the endpoint reference
// integrations are written against, and the overview's example is generic.
// We do not also send items: a second copy of every list doubles the answer
// for a client that no page tells to read it.
//
// Page size caps. limit is at most 100, and at most 1,000 for CDRs; a value
// above is 400 Bad Request, as Voiso answers bad pagination (the inventory's
// error table), not a silent clamp that would make a client believe it read
// everything. limit=0 is legal for CDRs only (its schema is 0..1000).
//
// Id types. Users are integers (see Identifiers); queues, teams, skills,
// campaigns, canned messages and SAGs integers; webhooks, calls, CDRs and
// conversations UUIDs; webhook failures 24 hex digits that are also read as
// integers.
//
// Pause answers an unwrapped campaign while get wraps it in "campaign". We
// render exactly that, and start and stop (not found, inferred by symmetry)
// answer like pause: an unwrapped campaign. Pausing a campaign that is not
// active, or starting one that is running, is 409.
//
// Error text casing. "Not found" and "Too many requests" (lower case after the
// first word) beside "Bad Request": we send each text exactly as documented.
//
// Unknown paths are 404 {"error":"Not found"}, and so is a known path with a
// method it does not serve: the error article lists no 405, and a 404 is what
// a Voiso client handles.
//
// Scope failures are 403 {"error":"Forbidden"}; a missing, unknown, revoked or
// expired key is 401 {"error":"Unauthorized"}; another tenant's object is 404,
// as if it did not exist.
//
// Phone numbers are digit strings without + in every answer and webhook; input
// is accepted with or without it.
//
// # Webhooks
//
// Subscriptions of dialect "voiso" (made through /api/v4/tasks/webhooks, an
// extension documented as such, or the native webhooks API) get Voiso's
// envelope {event, object, timestamp, secret, contact_center_id, data}:
// timestamp in seconds (RFC 3339, Z), secret the subscription's own signing
// secret (the whsec_ secret the Standard Webhooks headers are signed with,
// shown once when it is created), contact_center_id the tenant's UUID.
// Events: inbound., outbound. and dialer.call.answered|hangup|ended,
// message.received|sent, conversation.ended and call.analytics.available.
// answered is the call's connection (an outbound call's: the customer
// answering), hangup the call's end, ended the end of its agent's wrap-up
// (call.wrapped_up; at once when there is none). A call is dialer when a
// campaign placed it, outbound when an agent or Start call did, inbound
// otherwise; a subscription's events of another kind, and fax calls, are
// passed over. The call object has the fields of its kind as the inventory
// shows them: durations in whole seconds (total from the start to the
// event, to the connection for answered; queue_time and dialer_waiting
// waiting in the queue; dialing_time from the start to the answer;
// talk_time on hangup and ended), queue as a name and script null on
// inbound calls, ext_user_id (source.account_id of Start call) on outbound
// ones, the campaign with is_live false (no campaign here takes leads live)
// and contacts_url (the campaign's page in this API) on dialer ones; hangup
// and ended add end_time, disposition, end_reason and wrapup_code (null).
// The agent is null when the call never reached one. Messages and
// conversations of SMS threads are not sent (SMS is no conversation channel
// in Voiso), nor agents' notes and system lines. A message's status,
// content_type, contact and channel are as the messages API shows them (see
// Conversations and messages) and its reference_id is the sender's client
// id; names are those the event recorded (events written before payloads
// named them are completed by reads at delivery). A record's channel and
// contact are shown the same way.
//
// A Voiso subscription gets Voiso's inactive rule whichever API makes it
// (httpapi.WebhookDefaulter; /v1/webhooks applies it on creation and when a
// subscription is moved to this dialect): an event type that fails 5
// deliveries within 24 hours becomes inactive, is not retried, and shows in
// /api/v4/tasks/webhook_failures until retriggered. Events reach a receiver
// in their order when the server sends one delivery at a time per
// subscription (--webhook-per-endpoint 1); with more, deliveries overlap.
//
// # Tasks
//
// POST, PATCH and DELETE /api/v4/tasks/webhooks are our extension (Voiso's
// v4 reference shows webhooks read-only): the body is the webhook object's
// writable fields (name, url, http_method post or get, headers, events) and
// authentication {method: none|basic|bearer, username, password, token},
// kept as an Authorization header that no answer shows (the object says
// only authentication_method). A secret in the body is 422: deliveries are
// signed with the server's secret, which the creation's answer shows once
// (webhook.secret). PATCH changes the fields it gives. The list and get show
// this dialect's subscriptions only; timestamps have microseconds.
//
// The webhook failures are the tenant's failures still needing attention,
// newest first: inactive (not retried automatically) or pending (retriggered,
// its attempt to come; reason null). A failure a retrigger delivered leaves
// the list (its get says delivered). event is the Voiso event of the body
// that failed (outbound.call.ended), reason the last attempt's error, and
// last_attempt_at the retrigger's time once retriggered. Retriggering a
// failure that is pending or delivered is 409.
//
// # Billing
//
// GET /api/v4/billing/balance is v1's {"balance": 3562.67} with the
// currency: the prepaid amount available for calls (on the account less what
// running calls hold) in major units of the tenant's currency, exact.
package voiso
