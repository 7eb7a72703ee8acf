package engine

import (
	"time"

	"switchboard"
)

// The chat side of the engine routes conversations (web chat, SMS, WhatsApp
// threads) through the same queues, members, strategies and skills as
// calls. An agent holds up to their MaxChats conversations at once, beside
// at most one call; the conversation service keeps the conversations
// themselves (the store, the transcript) and tells the engine when one
// waits, is accepted, moves or ends. These are its types; chat.go its logic.

// ChatTask is a conversation for the engine to route.
type ChatTask struct {
	// ID is the conversation's id.
	ID       int64
	TenantID int64
	QueueID  int64
	Channel  switchboard.ConversationChannel
	// Since is when it (re-)entered its queue: waiting conversations are
	// offered in the order of Since, then ID.
	Since time.Time
}

// What a ChatChange reports.
const (
	// ChatOffered: the conversation is assigned to AgentID, who now holds a
	// chat slot for it.
	ChatOffered = "offered"
	// ChatRequeued: AgentID did not accept it within the offer timeout, or
	// signed out while holding it; it waits in its queue again (Reason
	// says which).
	ChatRequeued = "requeued"
)

// ChatChange is one routing decision about a conversation.
type ChatChange struct {
	Task    ChatTask
	What    string
	AgentID int64
	Reason  string
}

// ChatObserver is told every routing decision about conversations, in
// order, under the engine's lock: it must only queue the change, never
// block or call the engine.
type ChatObserver interface {
	ChatChanged(ch ChatChange)
}
