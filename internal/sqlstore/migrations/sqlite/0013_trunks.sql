-- Carrier trunks (issue 13). inbound_addresses is a JSON list of canonical
-- prefixes. password and inbound_password are kept retrievably: the SIP
-- driver answers a carrier's digest challenge with the first and checks the
-- carrier's answer to ours with the second; no API ever returns them.
CREATE TABLE trunks (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id                INTEGER NOT NULL REFERENCES tenants (id),
    name                     TEXT NOT NULL,
    inbound_addresses        TEXT NOT NULL DEFAULT '[]',
    inbound_username         TEXT NOT NULL DEFAULT '',
    inbound_password         TEXT NOT NULL DEFAULT '',
    outbound_uri             TEXT NOT NULL DEFAULT '',
    username                 TEXT NOT NULL DEFAULT '',
    password                 TEXT NOT NULL DEFAULT '',
    register                 BOOLEAN NOT NULL DEFAULT FALSE,
    default_outbound         BOOLEAN NOT NULL DEFAULT FALSE,
    caller_id                TEXT NOT NULL DEFAULT 'from_call',
    strip_plus               BOOLEAN NOT NULL DEFAULT FALSE,
    prefix                   TEXT NOT NULL DEFAULT '',
    max_concurrent_calls     INTEGER NOT NULL DEFAULT 0,
    calls_per_second         INTEGER NOT NULL DEFAULT 0,
    options_interval_seconds INTEGER NOT NULL DEFAULT 0,
    enabled                  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL
);
CREATE UNIQUE INDEX trunks_name_key ON trunks (tenant_id, name);
-- A carrier authenticating with credentials is told apart by its username
-- alone, so inbound usernames are unique across tenants.
CREATE UNIQUE INDEX trunks_inbound_username_key ON trunks (inbound_username) WHERE inbound_username <> '';
-- At most one default outbound trunk per tenant (the store clears the
-- others in the transaction that sets one; this keeps a race from making two).
CREATE UNIQUE INDEX trunks_default_outbound_key ON trunks (tenant_id, default_outbound) WHERE default_outbound;
