-- Speech analytics (issue 16): one analysis per call, pending until its
-- recording is transcribed, summarised and scored (available) or the
-- attempts run out (failed). The transcript and the score's parts are JSON
-- text, as lists are elsewhere. follower_positions keeps, per named reader
-- of the event log and tenant, the sequence number of the last event it
-- handled, so that a reader resumes after a restart where it stopped
-- (tenant 0 marks a reader that has started once).
CREATE TABLE call_analytics (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    call_id         INTEGER NOT NULL,
    call_uuid       TEXT NOT NULL,
    status          TEXT NOT NULL,
    language        TEXT NOT NULL DEFAULT '',
    duration        REAL NOT NULL DEFAULT 0,
    transcript      TEXT NOT NULL DEFAULT '[]',
    summary         TEXT NOT NULL DEFAULT '',
    score           INTEGER,
    score_parts     TEXT,
    provider        TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    error           TEXT NOT NULL DEFAULT '',
    next_attempt_at INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE UNIQUE INDEX call_analytics_call_id_key ON call_analytics (tenant_id, call_id);
CREATE INDEX call_analytics_due ON call_analytics (next_attempt_at, id) WHERE status = 'pending';

CREATE TABLE follower_positions (
    name      TEXT NOT NULL,
    tenant_id INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (name, tenant_id)
);
