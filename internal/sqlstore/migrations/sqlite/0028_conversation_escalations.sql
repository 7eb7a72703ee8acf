-- Conversation escalations (issue 17, UJET's chats): a request that a chat
-- be handled by a human agent (a virtual agent's hand-over, or an end user
-- who found the queue over capacity and is offered deflection), with where
-- the end user chose to go. Written with conversation.escalated and
-- conversation.escalation_updated.
CREATE TABLE conversation_escalations (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id          INTEGER NOT NULL REFERENCES tenants (id),
    conversation_id    INTEGER NOT NULL REFERENCES conversations (id),
    kind               TEXT NOT NULL,
    reason             TEXT NOT NULL DEFAULT '',
    force_escalate     BOOLEAN NOT NULL DEFAULT FALSE,
    status             TEXT NOT NULL,
    deflection_channel TEXT NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX conversation_escalations_conversation ON conversation_escalations (tenant_id, conversation_id, id);
