-- Voicemail (issue 17): why a caller was offered voicemail, and when and by
-- whom the message was first opened (status voicemail_read). read_at is in
-- microseconds like every time of a call.
ALTER TABLE calls ADD COLUMN voicemail_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN voicemail_read_at BIGINT;
ALTER TABLE calls ADD COLUMN voicemail_read_by BIGINT;

-- An outside system's calls are found by its own id of them (UJET's PDS
-- finishes an action-only call by its call_id): only calls that carry one
-- are indexed.
CREATE INDEX calls_source_account ON calls (tenant_id, source_account_id) WHERE source_account_id <> '';
