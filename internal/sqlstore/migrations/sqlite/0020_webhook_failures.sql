-- Webhook failures (issue 16): an event that did not reach a subscription
-- (every attempt failed, 410, or its type was inactive), kept with what was
-- sent and what came back until the tenant retriggers it. One per delivery;
-- a retriggered delivery that fails again turns the same row back to failed.
CREATE TABLE webhook_failures (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id),
    uuid             TEXT NOT NULL,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    delivery_id      INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    event_id         INTEGER NOT NULL,
    event_seq        INTEGER NOT NULL,
    event_type       TEXT NOT NULL,
    request_body     TEXT NOT NULL,
    response_status  INTEGER NOT NULL,
    response_body    TEXT NOT NULL,
    error            TEXT NOT NULL,
    inactive         BOOLEAN NOT NULL,
    attempts         INTEGER NOT NULL,
    status           TEXT NOT NULL,
    first_failed_at  INTEGER NOT NULL,
    last_failed_at   INTEGER NOT NULL,
    retriggered_at   INTEGER,
    delivered_at     INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX webhook_failures_delivery_key ON webhook_failures (delivery_id);
CREATE UNIQUE INDEX webhook_failures_uuid_key ON webhook_failures (uuid);
CREATE INDEX webhook_failures_tenant ON webhook_failures (tenant_id, id);
-- The inactive rule counts a type's recent failures.
CREATE INDEX webhook_failures_type ON webhook_failures (webhook_id, event_type, last_failed_at);

-- The inactive rule (0: off) and the types it holds back now, as a JSON list
-- of {event_type, since, failures}.
ALTER TABLE webhooks ADD COLUMN inactive_after_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN inactive_event_types TEXT NOT NULL DEFAULT '[]';

-- A delivery queued again by a retrigger: sent while its type is inactive,
-- and its outcome settles its failure.
ALTER TABLE webhook_deliveries ADD COLUMN retriggered BOOLEAN NOT NULL DEFAULT false;
