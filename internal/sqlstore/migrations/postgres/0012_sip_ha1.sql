-- SIP passwords are kept as digest hashes (RFC 7616 A1: MD5 and SHA-256 of
-- username:realm:password), never as text. sip_realm is the realm the hashes
-- were computed with, so a registrar configured with another realm can tell a
-- hash it cannot use from a wrong password. The Go step of this migration
-- (sipHA1Migration in migrate.go) hashes every plaintext password with the
-- store's realm and then drops users.sip_password, in this transaction.
ALTER TABLE users ADD COLUMN sip_realm TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN sip_ha1 TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN sip_ha1_sha256 TEXT NOT NULL DEFAULT '';
-- The registrar looks a REGISTER's username up across tenants.
CREATE INDEX users_sip_account ON users (sip_username) WHERE sip_ha1 <> '';

-- The registrar's bindings, so that agents' phones stay reachable across a
-- restart (and on the node that takes call control over) until they expire,
-- rather than until each phone next registers. One row per device and
-- Contact URI; the registrar rewrites a device's rows as they change.
CREATE TABLE sip_bindings (
    device      TEXT NOT NULL,
    contact     TEXT NOT NULL,
    source      TEXT NOT NULL,
    transport   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    call_id     TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (device, contact)
);
CREATE INDEX sip_bindings_expires ON sip_bindings (expires_at);
