-- Agent presence: the status an agent chose (or the system set) and since when.
ALTER TABLE users ADD COLUMN presence_status TEXT NOT NULL DEFAULT 'Offline';
ALTER TABLE users ADD COLUMN presence_since INTEGER;
-- Agents may place click-to-calls unless this is set.
ALTER TABLE users ADD COLUMN click_to_call_disabled BOOLEAN NOT NULL DEFAULT FALSE;

-- One row per call, updated as the engine moves it through its states; each
-- update appends its call.* event in the same transaction.
CREATE TABLE calls (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    uuid         TEXT NOT NULL,
    direction    TEXT NOT NULL,
    status       TEXT NOT NULL,
    from_number  TEXT NOT NULL,
    to_number    TEXT NOT NULL,
    queue_id     INTEGER,
    agent_id     INTEGER,
    parent_id    INTEGER,
    disposition  TEXT NOT NULL DEFAULT '',
    hangup_by    TEXT NOT NULL DEFAULT '',
    hangup_cause TEXT NOT NULL DEFAULT '',
    source_system     TEXT NOT NULL DEFAULT '',
    source_account_id TEXT NOT NULL DEFAULT '',
    dtmf              TEXT NOT NULL DEFAULT '',
    hold_micros       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    queued_at    INTEGER,
    ringing_at   INTEGER,
    connected_at INTEGER,
    ended_at     INTEGER,
    scheduled_at INTEGER,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX calls_uuid_key ON calls (uuid);
CREATE INDEX calls_tenant ON calls (tenant_id, id);
CREATE INDEX calls_open ON calls (ended_at) WHERE ended_at IS NULL;
CREATE INDEX events_subject ON events (tenant_id, subject_type, subject_id, seq);

-- Numbers the tenant must not call.
CREATE TABLE dnc_numbers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    number     TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX dnc_numbers_number_key ON dnc_numbers (tenant_id, number);
