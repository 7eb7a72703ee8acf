-- Call settings of a user (Voice360's profile shows them).
ALTER TABLE users ADD COLUMN voicemail_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN forward_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN forward_number TEXT NOT NULL DEFAULT '';

-- Whether the tenant's public status endpoints answer without a key.
ALTER TABLE tenants ADD COLUMN public_status BOOLEAN NOT NULL DEFAULT FALSE;

-- A webhook subscription's name (Voice360 subscriptions have one).
ALTER TABLE webhooks ADD COLUMN name TEXT NOT NULL DEFAULT '';

-- Text messages, sent and received, with their delivery state.
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    uuid         TEXT NOT NULL,
    direction    TEXT NOT NULL,
    from_number  TEXT NOT NULL,
    to_number    TEXT NOT NULL,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL,
    user_id      INTEGER,
    provider_id  TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER,
    delivered_at INTEGER,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX messages_uuid_key ON messages (uuid);
CREATE INDEX messages_tenant ON messages (tenant_id, id);
CREATE INDEX messages_provider ON messages (provider_id) WHERE provider_id <> '';

-- Whether a call was recorded; calls may now be placed without recording.
ALTER TABLE calls ADD COLUMN recorded BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE calls SET recorded = TRUE WHERE connected_at IS NOT NULL AND media = 'voice';

-- How long a caller may wait in a queue before the call ends (0: for ever).
ALTER TABLE queues ADD COLUMN max_wait_seconds INTEGER NOT NULL DEFAULT 0;
