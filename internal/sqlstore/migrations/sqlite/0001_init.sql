-- Times are Unix microseconds (UTC) in both engines, so that the same Go code
-- reads them back exactly, whatever the driver thinks a timestamp is.
CREATE TABLE tenants (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    slug          TEXT NOT NULL,
    name          TEXT NOT NULL,
    admin_email   TEXT NOT NULL DEFAULT '',
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    balance_cents INTEGER NOT NULL DEFAULT 0,
    currency      TEXT NOT NULL DEFAULT 'USD',
    event_seq     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    uuid            TEXT NOT NULL,
    email           TEXT NOT NULL,
    first_name      TEXT NOT NULL DEFAULT '',
    last_name       TEXT NOT NULL DEFAULT '',
    agent_number    TEXT NOT NULL DEFAULT '',
    extension       TEXT NOT NULL DEFAULT '',
    location        TEXT NOT NULL DEFAULT '',
    roles           TEXT NOT NULL DEFAULT '[]',
    max_chats       INTEGER NOT NULL DEFAULT 3,
    phone_numbers   TEXT NOT NULL DEFAULT '[]',
    outbound_number TEXT NOT NULL DEFAULT '',
    time_zone       TEXT NOT NULL DEFAULT '',
    sip_username    TEXT NOT NULL DEFAULT '',
    sip_password    TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deactivated_at  INTEGER
);
-- Lists page by (tenant_id, id); without this index every page sorts the tenant.
CREATE INDEX users_tenant ON users (tenant_id, id);
CREATE UNIQUE INDEX users_uuid_key ON users (uuid);
CREATE UNIQUE INDEX users_email_key ON users (tenant_id, email);
CREATE UNIQUE INDEX users_extension_key ON users (tenant_id, extension) WHERE extension <> '';
CREATE UNIQUE INDEX users_agent_number_key ON users (tenant_id, agent_number) WHERE agent_number <> '';
CREATE UNIQUE INDEX users_sip_username_key ON users (tenant_id, sip_username) WHERE sip_username <> '';

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    parent_id  INTEGER REFERENCES teams (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX teams_name_key ON teams (tenant_id, name);
CREATE INDEX teams_tenant ON teams (tenant_id, id);

CREATE TABLE user_teams (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, team_id)
);
CREATE INDEX user_teams_team ON user_teams (team_id);

CREATE TABLE skills (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX skills_name_key ON skills (tenant_id, name);
CREATE INDEX skills_tenant ON skills (tenant_id, id);

CREATE TABLE user_skills (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill_id    INTEGER NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    proficiency INTEGER NOT NULL,
    PRIMARY KEY (user_id, skill_id)
);

CREATE TABLE agent_statuses (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    system     BOOLEAN NOT NULL DEFAULT FALSE,
    available  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX agent_statuses_name_key ON agent_statuses (tenant_id, name);
CREATE INDEX agent_statuses_tenant ON agent_statuses (tenant_id, id);

CREATE TABLE queues (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id             INTEGER NOT NULL REFERENCES tenants (id),
    uuid                  TEXT NOT NULL,
    name                  TEXT NOT NULL,
    extension             TEXT NOT NULL DEFAULT '',
    strategy              TEXT NOT NULL,
    timeout_seconds       INTEGER NOT NULL,
    retry_seconds         INTEGER NOT NULL,
    wrap_up_seconds       INTEGER NOT NULL,
    max_length            INTEGER NOT NULL,
    join_empty            BOOLEAN NOT NULL,
    leave_when_empty      BOOLEAN NOT NULL,
    ring_in_use           BOOLEAN NOT NULL,
    overflow_callback     BOOLEAN NOT NULL DEFAULT FALSE,
    music_on_hold         TEXT NOT NULL,
    service_level_seconds INTEGER NOT NULL,
    channel               TEXT NOT NULL,
    language              TEXT NOT NULL DEFAULT '',
    parent_id             INTEGER REFERENCES queues (id) ON DELETE SET NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE UNIQUE INDEX queues_uuid_key ON queues (uuid);
CREATE INDEX queues_tenant ON queues (tenant_id, id);
CREATE UNIQUE INDEX queues_name_key ON queues (tenant_id, name);
CREATE UNIQUE INDEX queues_extension_key ON queues (tenant_id, extension) WHERE extension <> '';

CREATE TABLE queue_skills (
    queue_id        INTEGER NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    skill_id        INTEGER NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    min_proficiency INTEGER NOT NULL,
    PRIMARY KEY (queue_id, skill_id)
);

CREATE TABLE queue_members (
    queue_id   INTEGER NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    penalty    INTEGER NOT NULL DEFAULT 0,
    position   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (queue_id, user_id)
);
CREATE INDEX queue_members_user ON queue_members (user_id);

CREATE TABLE phone_numbers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    number      TEXT NOT NULL,
    input       TEXT NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    sms_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    mms_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    queue_id    INTEGER REFERENCES queues (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
-- A DID routes calls installation-wide, so it can belong to one tenant only.
CREATE UNIQUE INDEX phone_numbers_number_key ON phone_numbers (number);
CREATE INDEX phone_numbers_tenant ON phone_numbers (tenant_id, id);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    user_id      INTEGER REFERENCES users (id),
    name         TEXT NOT NULL DEFAULT '',
    prefix       TEXT NOT NULL,
    hash         BLOB NOT NULL,
    scopes       TEXT NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX api_keys_prefix ON api_keys (prefix);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    seq          INTEGER NOT NULL,
    type         TEXT NOT NULL,
    time         INTEGER NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id   INTEGER NOT NULL,
    payload      TEXT NOT NULL
);
CREATE UNIQUE INDEX events_seq_key ON events (tenant_id, seq);
