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
