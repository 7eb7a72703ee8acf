CREATE TABLE webhooks (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id                  INTEGER NOT NULL REFERENCES tenants (id),
    url                        TEXT NOT NULL,
    method                     TEXT NOT NULL,
    dialect                    TEXT NOT NULL,
    event_types                TEXT NOT NULL,
    secret                     TEXT NOT NULL,
    previous_secret            TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at INTEGER,
    enabled                    BOOLEAN NOT NULL,
    disabled_reason            TEXT NOT NULL DEFAULT '',
    disabled_at                INTEGER,
    max_attempts               INTEGER NOT NULL DEFAULT 0,
    notify_email               TEXT NOT NULL DEFAULT '',
    headers                    TEXT NOT NULL DEFAULT '{}',
    failed_count               INTEGER NOT NULL DEFAULT 0,
    consecutive_failures       INTEGER NOT NULL DEFAULT 0,
    failing_since              INTEGER,
    last_error                 TEXT NOT NULL DEFAULT '',
    last_success_at            INTEGER,
    last_failure_at            INTEGER,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, id);

-- One row per event and subscription, written in the event's transaction.
-- lease_until hides a claimed row from other workers; a crashed worker's rows
-- reappear when the lease runs out.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL REFERENCES events (id),
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);
CREATE UNIQUE INDEX webhook_deliveries_event_key ON webhook_deliveries (webhook_id, event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, id);

CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    latency_ms  INTEGER NOT NULL,
    error_class TEXT NOT NULL,
    error       TEXT NOT NULL,
    response    TEXT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

CREATE INDEX events_time ON events (tenant_id, time);
