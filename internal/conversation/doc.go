// Package conversation is the conversation service (switchboard.Conversations):
// web chats and message threads (SMS, WhatsApp-style) kept in the store and
// routed by the engine to agents with chat capacity, as calls are.
//
// # Who keeps what
//
// The store keeps the conversations, their transcripts and their events;
// the engine (Router, *engine.Engine) keeps who holds which conversation
// and offers waiting ones. The service tells the engine when a conversation
// waits (QueueChat), is taken (AcceptChat, ClaimChat), moves (TransferChat)
// or leaves routing (ReleaseChat), and records the engine's own decisions
// (an offer: assigned with the agent and assigned_at, conversation.assigned;
// a withdrawn offer or an agent signing out: queued with no agent,
// conversation.requeued). The engine reports those under its lock, so they
// are only queued there and written in order by one goroutine (applier.go);
// Sync waits for the ones reported so far, and Send, Accept and the other
// moves call it first, so an agent who was just offered a conversation is
// seen holding it. The service's own moves of a conversation and the
// applier's writes take the same per-conversation lock, and the applier
// writes a decision only while the engine still agrees with it, so an old
// decision never overwrites a newer move.
//
// Open (not Start: that name is the interface's start of a conversation)
// makes the service the engine's chat observer and restores every open
// conversation after a restart: queued ones into their queue (those with
// no queue wait for a claim), held ones back to their agent (RestoreChat)
// unless that agent was deleted or deactivated (then queued again,
// conversation.requeued); dismissed ones stay out of the engine. Call it
// after the engine knows the queues and agents. Close drains the applier.
//
// # Statuses and moves
//
//   - Start: web chat (or any channel) on the end user's behalf, into
//     c.QueueID or the channel profile's queue; the address is the end
//     user's identifier (web chat) or E.164 number (other channels, whose
//     Via is the profile's number). Web chat returns a random end-user
//     token (32 bytes, base64url) whose SHA-256 is kept. A signed context
//     is an HS256 JWT verified with the profile's SigningSecret
//     (github.com/golang-jwt/jwt/v5; no other algorithm, exp honoured).
//   - Send, inbound: a dismissed conversation is queued again (resume); an
//     ended one refuses (CodeConflict: the next message opens another).
//   - Send, outbound by an agent: they must hold it; nobody holding an open
//     one lets them claim it; another holder is CodeForbidden. Their first
//     message to the end user moves it to in_progress and sets
//     FirstResponseAt. Notes are stored (sent) and never delivered; any
//     agent may add one without taking the conversation.
//   - Send, outbound without agent (an integration or bot): any open
//     conversation, no move.
//   - Delivery: web chat is stored sent (the end user reads it through the
//     end-user API); sms goes through the sms service from Via to the
//     address; other channels through their Provider. The message is
//     stored queued first and then becomes sent (with the provider's id)
//     or failed (with why): a refused send is a failed message, not an
//     error. A number that opted out refuses outbound messages
//     (CodeInvalid, field "to", naming consent); on whatsapp, outside 24 h
//     since the end user's last message only templates may be sent. A
//     template's {{1}}, {{2}}… come from the message's params; the text
//     stored is the rendered body.
//   - Accept: assigned → in_progress, by the agent it is assigned to.
//   - Transfer: to another queue from any open status: a transfer record,
//     an activity line ("transferred to queue N"), queued with no agent
//     and QueuedAt now (conversation.transferred); the holder's slot is
//     freed without wrap-up.
//   - Finish: by the end user before any agent wrote to them → abandoned;
//     otherwise finished, and a holder wraps up (the engine keeps the slot
//     for the queue's wrap-up time).
//   - Dismiss (assigned or in progress → dismissed, no agent, slot freed),
//     Resume (dismissed → queued), Deflect (email, external_link: ended
//     deflected by the end user; keep_waiting: recorded on a queued one).
//   - Update: language, customer flags, unsigned context, the end user's
//     name, email and phone; nothing else.
//
// Timestamps: QueuedAt is when it last entered a queue; AssignedAt when
// its current (or last) holder got it; FirstResponseAt is that holder's
// first message, so wait and first-response durations describe the last
// queue and holder after a transfer.
//
// # Numbers
//
// Inbound takes a text that arrived on a tenant number: STOP, STOPALL,
// UNSUBSCRIBE, CANCEL, END and QUIT (the whole text, any case) opt the
// sender out, START, UNSTOP and YES back in. The text then joins the
// sender's open conversation on the number's profile (or channel), or
// opens one routed to the profile's queue, else the number's queue, else
// held by the number's user, else queued with no queue. A bare opt-out
// with no open conversation opens none (the zero Conversation). The
// provider's id doubles as the message's client id ("provider:<id>"), so a
// provider's retry is stored once. Receipt applies delivery reports.
//
// # Attachments and the end user
//
// NewUpload creates a pending attachment with a token good for UploadTTL;
// Upload checks the announced content type and the kind's size limit and
// stores the bytes in the BlobStore under tenant/yyyy/mm/uuid.
// EndUserConversation admits the web-chat end user by their token
// (constant-time compare of its SHA-256). Watch wakes on every change this
// node makes to a conversation and every PollInterval, for other nodes.
//
// Providers are in provider.go (SimProvider, HTTPProvider); Simulate in
// sim.go runs scripted web-chat end users in real time.
package conversation
