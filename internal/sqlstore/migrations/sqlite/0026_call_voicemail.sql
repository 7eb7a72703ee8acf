-- Voicemail (issue 17): why a caller was offered voicemail, and when and by
-- whom the message was first opened (status voicemail_read). read_at is in
-- microseconds like every time of a call.
ALTER TABLE calls ADD COLUMN voicemail_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN voicemail_read_at INTEGER;
ALTER TABLE calls ADD COLUMN voicemail_read_by INTEGER;

-- An outside system's calls are found by its own id of them (UJET's PDS
-- finishes an action-only call by its call_id). Not a partial index (WHERE
-- source_account_id <> ''): SQLite cannot prove a query's
-- source_account_id = ? implies it, and PostgreSQL's generic plans cannot
-- either; the column is never updated, so the index costs one insert a call.
CREATE INDEX calls_source_account ON calls (tenant_id, source_account_id);
