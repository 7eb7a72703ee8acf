-- Outbound campaigns (issue 14): campaigns dial leads for a queue's agents;
-- contact lists hold reusable leads; dial_attempts is the compliance ledger
-- (one row per dial the dialer placed or refused); import_jobs track bulk
-- lead imports running in the background. Lists and maps are JSON text, as
-- elsewhere.
CREATE TABLE campaigns (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id               INTEGER NOT NULL REFERENCES tenants (id),
    name                    TEXT NOT NULL,
    mode                    TEXT NOT NULL,
    queue_id                INTEGER NOT NULL REFERENCES queues (id),
    status                  TEXT NOT NULL,
    caller_id               TEXT NOT NULL DEFAULT '',
    caller_id_pool          TEXT NOT NULL DEFAULT '[]',
    starts_at               INTEGER,
    ends_at                 INTEGER,
    days                    TEXT NOT NULL DEFAULT '[]',
    calling_from            TEXT NOT NULL,
    calling_to              TEXT NOT NULL,
    max_abandon_percent     REAL NOT NULL,
    max_redials             INTEGER NOT NULL,
    redial_interval_seconds INTEGER NOT NULL,
    retry_rules             TEXT NOT NULL DEFAULT '[]',
    overdial_adjustment     REAL NOT NULL,
    target_to_process       INTEGER NOT NULL,
    ring_seconds            INTEGER NOT NULL,
    machine_action          TEXT NOT NULL,
    machine_prompt          TEXT NOT NULL DEFAULT '',
    abandon_prompt          TEXT NOT NULL DEFAULT '',
    require_consent         INTEGER NOT NULL DEFAULT 0,
    preview_seconds         INTEGER NOT NULL,
    preview_timeout_action  TEXT NOT NULL,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    started_at              INTEGER,
    finished_at             INTEGER
);
CREATE INDEX campaigns_tenant ON campaigns (tenant_id, id);
CREATE INDEX campaigns_queue ON campaigns (queue_id);
-- The dialer's start reads every tenant's running campaigns.
CREATE INDEX campaigns_started ON campaigns (id) WHERE status = 'started';

CREATE TABLE contact_lists (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX contact_lists_tenant ON contact_lists (tenant_id, id);

-- A lead belongs to a campaign or to a contact list (exactly one).
-- dedupe_key is Lead.DedupeKey(): the external id, or the phone number when
-- there is none; each is unique within its campaign or list, which is how
-- imports skip duplicates (ON CONFLICT DO NOTHING). The columns from status
-- on are the dialer's (SaveDialProgress).
CREATE TABLE leads (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    campaign_id     INTEGER REFERENCES campaigns (id),
    contact_list_id INTEGER REFERENCES contact_lists (id),
    dedupe_key      TEXT NOT NULL,
    external_id     TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL DEFAULT '',
    phone_number    TEXT NOT NULL,
    phone_numbers   TEXT NOT NULL DEFAULT '[]',
    time_zone       TEXT NOT NULL DEFAULT '',
    fields          TEXT NOT NULL DEFAULT '{}',
    priority        INTEGER NOT NULL DEFAULT 0,
    consent         INTEGER,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_outcome    TEXT NOT NULL DEFAULT '',
    last_call_id    INTEGER,
    last_attempt_at INTEGER,
    next_attempt_at INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK ((campaign_id IS NULL) <> (contact_list_id IS NULL))
);
CREATE UNIQUE INDEX leads_campaign_dedupe_key ON leads (campaign_id, dedupe_key) WHERE campaign_id IS NOT NULL;
CREATE UNIQUE INDEX leads_list_dedupe_key ON leads (contact_list_id, dedupe_key) WHERE contact_list_id IS NOT NULL;
-- Lists of a campaign's or list's leads (by id, or by status and id), and
-- a campaign's counts by status.
CREATE INDEX leads_campaign ON leads (campaign_id, id) WHERE campaign_id IS NOT NULL;
CREATE INDEX leads_campaign_status ON leads (campaign_id, status, id) WHERE campaign_id IS NOT NULL;
CREATE INDEX leads_list ON leads (contact_list_id, id) WHERE contact_list_id IS NOT NULL;
-- The dialer's next leads: only the dialable ones are in this index, so
-- finished leads cost nothing however many there are.
CREATE INDEX leads_dialable ON leads (campaign_id, priority DESC, id)
    WHERE status IN ('upcoming', 'redial_scheduled');

-- The compliance ledger. lead_id is no foreign key: the ledger outlives a
-- deleted lead, and goes only with its campaign.
CREATE TABLE dial_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id),
    lead_id      INTEGER NOT NULL,
    call_id      INTEGER,
    agent_id     INTEGER,
    number       TEXT NOT NULL,
    caller_id    TEXT NOT NULL DEFAULT '',
    mode         TEXT NOT NULL DEFAULT '',
    at           INTEGER NOT NULL,
    time_zone    TEXT NOT NULL DEFAULT '',
    local_time   TEXT NOT NULL DEFAULT '',
    checks       TEXT NOT NULL DEFAULT '{}',
    outcome      TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    ended_at     INTEGER,
    abandon_rate REAL NOT NULL DEFAULT 0
);
CREATE INDEX dial_attempts_campaign ON dial_attempts (campaign_id, id);
CREATE INDEX dial_attempts_campaign_at ON dial_attempts (campaign_id, at);
CREATE INDEX dial_attempts_lead ON dial_attempts (lead_id);
-- Attempts still open when a run was cut.
CREATE INDEX dial_attempts_open ON dial_attempts (id) WHERE ended_at IS NULL;

CREATE TABLE import_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    campaign_id     INTEGER REFERENCES campaigns (id),
    contact_list_id INTEGER REFERENCES contact_lists (id),
    status          TEXT NOT NULL,
    format          TEXT NOT NULL,
    total           INTEGER NOT NULL DEFAULT 0,
    processed       INTEGER NOT NULL DEFAULT 0,
    imported        INTEGER NOT NULL DEFAULT 0,
    duplicates      INTEGER NOT NULL DEFAULT 0,
    rejected        INTEGER NOT NULL DEFAULT 0,
    errors          TEXT NOT NULL DEFAULT '[]',
    error           TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX import_jobs_tenant ON import_jobs (tenant_id, id);
CREATE INDEX import_jobs_campaign ON import_jobs (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX import_jobs_list ON import_jobs (contact_list_id) WHERE contact_list_id IS NOT NULL;
CREATE INDEX import_jobs_running ON import_jobs (id) WHERE status = 'running';
