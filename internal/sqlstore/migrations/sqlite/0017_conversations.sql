-- Conversations (issue 15): chats and message threads (web chat, SMS,
-- WhatsApp) with their end users, transcripts, attachments, and what agents
-- and channels use (canned replies, channel profiles, templates), and the
-- numbers' consent. Lists and maps are JSON text, as elsewhere; times are
-- Unix microseconds.

-- The person on the other side; identifier (the site's id, or the E.164
-- number) is unique within a tenant.
CREATE TABLE end_users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    identifier  TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    phone       TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    language    TEXT NOT NULL DEFAULT '',
    contact_id  INTEGER REFERENCES contacts (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX end_users_tenant_identifier_key ON end_users (tenant_id, identifier);

-- A channel instance: the number or account a channel uses and the queue its
-- new conversations enter. The same identifier may have several profiles (one
-- enabled is used); the index finds them.
CREATE TABLE channel_profiles (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    uuid           TEXT NOT NULL,
    channel        TEXT NOT NULL,
    name           TEXT NOT NULL,
    identifier     TEXT NOT NULL DEFAULT '',
    queue_id       INTEGER REFERENCES queues (id) ON DELETE SET NULL,
    signing_secret TEXT NOT NULL DEFAULT '',
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX channel_profiles_uuid_key ON channel_profiles (uuid);
CREATE INDEX channel_profiles_identifier ON channel_profiles (tenant_id, channel, identifier);
CREATE INDEX channel_profiles_tenant ON channel_profiles (tenant_id, id);

-- queue_id and agent_id are no foreign keys: a conversation's history
-- outlives its queue and its agent, as a call's does. last_seq hands out the
-- messages' sequence numbers (gapless: taken in the insert's transaction,
-- under the row's lock).
CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id),
    uuid              TEXT NOT NULL,
    channel           TEXT NOT NULL,
    status            TEXT NOT NULL,
    queue_id          INTEGER,
    agent_id          INTEGER,
    end_user_id       INTEGER NOT NULL REFERENCES end_users (id),
    address           TEXT NOT NULL,
    via               TEXT NOT NULL DEFAULT '',
    language          TEXT NOT NULL DEFAULT '',
    profile_id        INTEGER REFERENCES channel_profiles (id),
    context           TEXT NOT NULL DEFAULT '{}',
    flags             TEXT NOT NULL DEFAULT '[]',
    ended_by          TEXT NOT NULL DEFAULT '',
    end_reason        TEXT NOT NULL DEFAULT '',
    deflection        TEXT NOT NULL DEFAULT '',
    transfers         TEXT NOT NULL DEFAULT '[]',
    previous_id       INTEGER,
    last_seq          INTEGER NOT NULL DEFAULT 0,
    token_hash        BLOB,
    created_at        INTEGER NOT NULL,
    queued_at         INTEGER,
    assigned_at       INTEGER,
    first_response_at INTEGER,
    last_inbound_at   INTEGER,
    last_outbound_at  INTEGER,
    ended_at          INTEGER,
    updated_at        INTEGER NOT NULL
);
CREATE UNIQUE INDEX conversations_uuid_key ON conversations (uuid);
-- One conversation not ended per address and profile (0: none) of a channel:
-- concurrent first messages cannot open two threads.
CREATE UNIQUE INDEX conversations_open_address_key ON conversations (tenant_id, channel, COALESCE(profile_id, 0), address)
    WHERE status NOT IN ('finished', 'abandoned', 'deflected');
-- The router's restart reads every tenant's open conversations.
CREATE INDEX conversations_open ON conversations (id) WHERE status NOT IN ('finished', 'abandoned', 'deflected');
-- Lists, newest first, by the filters they take.
CREATE INDEX conversations_tenant ON conversations (tenant_id, id);
CREATE INDEX conversations_status ON conversations (tenant_id, status, id);
CREATE INDEX conversations_queue ON conversations (tenant_id, queue_id, id);
CREATE INDEX conversations_agent ON conversations (tenant_id, agent_id, id);
CREATE INDEX conversations_end_user ON conversations (tenant_id, end_user_id, id);
CREATE INDEX conversations_address ON conversations (tenant_id, channel, address, id);
CREATE INDEX conversations_created ON conversations (tenant_id, created_at);

-- A pending attachment has an upload token (its hash) good until
-- expires_at; the upload makes it ready.
CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    uuid            TEXT NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    kind            TEXT NOT NULL,
    content_type    TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL DEFAULT '',
    size            INTEGER NOT NULL DEFAULT 0,
    sha256          TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    blob_key        TEXT NOT NULL DEFAULT '',
    token_hash      BLOB NOT NULL,
    expires_at      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    ready_at        INTEGER
);
CREATE UNIQUE INDEX attachments_uuid_key ON attachments (uuid);
CREATE UNIQUE INDEX attachments_token_hash_key ON attachments (token_hash);
CREATE INDEX attachments_conversation ON attachments (conversation_id, id);

-- Approved templates (WhatsApp-style) of a profile.
CREATE TABLE message_templates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    uuid        TEXT NOT NULL,
    profile_id  INTEGER NOT NULL REFERENCES channel_profiles (id),
    name        TEXT NOT NULL,
    language    TEXT NOT NULL,
    category    TEXT NOT NULL,
    status      TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX message_templates_uuid_key ON message_templates (uuid);
CREATE INDEX message_templates_tenant ON message_templates (tenant_id, id);
CREATE INDEX message_templates_profile ON message_templates (profile_id, id);

-- A conversation's transcript: seq numbers its messages 1, 2, 3… A sender's
-- client_id stores a retried send once; provider_id finds the message a
-- delivery report is about.
CREATE TABLE conversation_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    seq             INTEGER NOT NULL,
    direction       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    text            TEXT NOT NULL DEFAULT '',
    attachment_id   INTEGER REFERENCES attachments (id),
    template        TEXT,
    agent_id        INTEGER,
    status          TEXT NOT NULL,
    error           TEXT NOT NULL DEFAULT '',
    provider_id     TEXT NOT NULL DEFAULT '',
    client_id       TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    read_at         INTEGER
);
CREATE UNIQUE INDEX conversation_messages_seq_key ON conversation_messages (conversation_id, seq);
CREATE UNIQUE INDEX conversation_messages_client_id_key ON conversation_messages (conversation_id, client_id) WHERE client_id <> '';
CREATE INDEX conversation_messages_provider ON conversation_messages (tenant_id, provider_id) WHERE provider_id <> '';

-- Reusable agent replies; empty lists of channels and teams mean all.
CREATE TABLE canned_replies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    channels    TEXT NOT NULL DEFAULT '[]',
    team_ids    TEXT NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX canned_replies_tenant_name ON canned_replies (tenant_id, name, id);

-- A number's standing for messages (STOP, START): no row is consent.
CREATE TABLE consents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    number      TEXT NOT NULL,
    opted_out   BOOLEAN NOT NULL,
    channel     TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    keyword     TEXT NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX consents_tenant_number_key ON consents (tenant_id, number);
