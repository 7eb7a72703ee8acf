-- CRM contacts of a tenant. Their numbers live in contact_phones as well, so
-- that an inbound caller is found by an indexed lookup; emails_search holds
-- every address lower-cased, one per line, for partial search.
CREATE TABLE contacts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    uuid            TEXT NOT NULL,
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL DEFAULT '',
    primary_phone   TEXT NOT NULL,
    phones          TEXT NOT NULL DEFAULT '[]',
    primary_email   TEXT NOT NULL DEFAULT '',
    emails          TEXT NOT NULL DEFAULT '[]',
    emails_search   TEXT NOT NULL DEFAULT '',
    company_name    TEXT NOT NULL DEFAULT '',
    job_title       TEXT NOT NULL DEFAULT '',
    website         TEXT NOT NULL DEFAULT '',
    crm_name        TEXT NOT NULL DEFAULT '',
    crm_contact_url TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX contacts_uuid_key ON contacts (uuid);
CREATE INDEX contacts_tenant ON contacts (tenant_id, id);

CREATE TABLE contact_phones (
    tenant_id  INTEGER NOT NULL,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    number     TEXT NOT NULL,
    PRIMARY KEY (contact_id, number)
);
CREATE INDEX contact_phones_number ON contact_phones (tenant_id, number);

-- Reusable click-to-call links (Voxloud's click-to-call resources).
CREATE TABLE click_to_calls (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    link_key        TEXT NOT NULL,
    name            TEXT NOT NULL,
    extension       TEXT NOT NULL,
    outbound_number TEXT NOT NULL,
    dial_first      TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX click_to_calls_key ON click_to_calls (link_key);
CREATE INDEX click_to_calls_tenant ON click_to_calls (tenant_id, id);

-- The event types a subscription was made with, in its dialect's vocabulary
-- (Voxloud's CALL_INCOMING…); the renderer reads them.
ALTER TABLE webhooks ADD COLUMN dialect_types TEXT NOT NULL DEFAULT '[]';
-- Deliveries wait this long after their event (call records wait for their
-- recording, as Voxloud's do).
ALTER TABLE webhooks ADD COLUMN delay_seconds INTEGER NOT NULL DEFAULT 0;
-- The identifier dialects that show UUIDs give a subscription.
ALTER TABLE webhooks ADD COLUMN uuid TEXT NOT NULL DEFAULT '';

-- Call records are listed by period, newest first, by the vendor dialects.
CREATE INDEX calls_tenant_created ON calls (tenant_id, created_at, ended_at, from_number, to_number);
-- Counting a tenant's ended calls reads this index alone.
CREATE INDEX calls_tenant_ended ON calls (tenant_id, ended_at);
-- One party's calls, by period.
CREATE INDEX calls_tenant_from ON calls (tenant_id, from_number, created_at);
CREATE INDEX calls_tenant_to ON calls (tenant_id, to_number, created_at);

-- Calls carry voice, or a fax received by the system.
ALTER TABLE calls ADD COLUMN media TEXT NOT NULL DEFAULT 'voice';
ALTER TABLE calls ADD COLUMN fax_pages INTEGER NOT NULL DEFAULT 0;
