-- The first answer to each request sent with an Idempotency-Key, replayed to
-- its retries for 24 hours. A key belongs to the credential that sent it;
-- status 0 marks a request still being served.
CREATE TABLE idempotency_keys (
    tenant_id    BIGINT NOT NULL,
    api_key_id   BIGINT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    body         BYTEA,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, api_key_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
