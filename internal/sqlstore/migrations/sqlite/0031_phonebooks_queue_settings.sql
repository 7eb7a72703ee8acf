-- UJET dialect (issue 17), part P7. Phonebooks are the external contacts
-- agents pick numbers from (UJET's personal, favorite, global and custom
-- contact lists), apart from the dialer's contact_lists of leads. A tenant
-- has one global phonebook and each agent at most one personal and one
-- favorite; custom phonebooks are named uniquely. Entries keep their
-- numbers as a JSON list of {label, number}.
CREATE TABLE phonebooks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    owner_user_id INTEGER REFERENCES users (id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX phonebooks_tenant ON phonebooks (tenant_id, id);
CREATE UNIQUE INDEX phonebooks_kind_key ON phonebooks (tenant_id, kind, COALESCE(owner_user_id, 0)) WHERE kind <> 'custom';
CREATE UNIQUE INDEX phonebooks_name_key ON phonebooks (tenant_id, name) WHERE kind = 'custom';
CREATE INDEX phonebooks_owner ON phonebooks (owner_user_id) WHERE owner_user_id IS NOT NULL;

CREATE TABLE phonebook_entries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    phonebook_id INTEGER NOT NULL REFERENCES phonebooks (id),
    name         TEXT NOT NULL,
    company      TEXT NOT NULL DEFAULT '',
    email        TEXT NOT NULL DEFAULT '',
    numbers      TEXT NOT NULL DEFAULT '[]',
    notes        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX phonebook_entries_book ON phonebook_entries (phonebook_id, id);

-- Saved snapshots of a tenant's queue and menu configuration (exports,
-- imports, auto-saves), newest first by id; snapshot is the JSON document.
CREATE TABLE queue_settings_versions (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id             INTEGER NOT NULL REFERENCES tenants (id),
    revision              TEXT NOT NULL,
    type                  TEXT NOT NULL,
    created_by            TEXT NOT NULL DEFAULT '',
    export_audio_files    INTEGER NOT NULL DEFAULT 0,
    export_attached_files INTEGER NOT NULL DEFAULT 0,
    size                  INTEGER NOT NULL,
    snapshot              TEXT NOT NULL,
    created_at            INTEGER NOT NULL
);
CREATE INDEX queue_settings_versions_tenant ON queue_settings_versions (tenant_id, id);
CREATE UNIQUE INDEX queue_settings_versions_revision_key ON queue_settings_versions (tenant_id, revision);
