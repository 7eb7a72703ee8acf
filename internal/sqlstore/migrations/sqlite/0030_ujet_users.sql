-- UJET users and agents (issue 17): agents' sign-ins (when, from which
-- address) for force logout by IP and the users' last_login_time; sign-outs
-- pending until a busy agent frees up; force logout jobs; bulk user jobs
-- with their rows. All are written without events: no cached route reads
-- them.
CREATE TABLE agent_sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    user_id      INTEGER NOT NULL REFERENCES users (id),
    at           INTEGER NOT NULL,
    remote_addr  TEXT NOT NULL,
    source       TEXT NOT NULL
);
-- The latest sign-in of a user is the one with the highest id.
CREATE INDEX agent_sessions_user ON agent_sessions (tenant_id, user_id, id);

CREATE TABLE pending_logouts (
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    user_id       INTEGER NOT NULL REFERENCES users (id),
    requested_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX pending_logouts_requested ON pending_logouts (requested_at);

CREATE TABLE force_logout_jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    status       TEXT NOT NULL,
    agent_ids    TEXT NOT NULL,
    processed    INTEGER NOT NULL,
    results      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX force_logout_jobs_tenant ON force_logout_jobs (tenant_id, id);
CREATE INDEX force_logout_jobs_unfinished ON force_logout_jobs (status) WHERE status <> 'finished';

CREATE TABLE user_jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    status         TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    file           BLOB NOT NULL,
    version        INTEGER NOT NULL,
    total          INTEGER NOT NULL,
    scheme_errors  INTEGER NOT NULL,
    processed      INTEGER NOT NULL,
    created        INTEGER NOT NULL,
    updated        INTEGER NOT NULL,
    failed         INTEGER NOT NULL,
    error          TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    finished_at    INTEGER
);
CREATE INDEX user_jobs_tenant ON user_jobs (tenant_id, id);
CREATE INDEX user_jobs_unfinished ON user_jobs (status) WHERE status IN ('created', 'in_progress');

CREATE TABLE user_job_rows (
    job_id    INTEGER NOT NULL REFERENCES user_jobs (id) ON DELETE CASCADE,
    row_num   INTEGER NOT NULL,
    email     TEXT NOT NULL,
    data      TEXT NOT NULL,
    errors    TEXT NOT NULL,
    has_errors BOOLEAN NOT NULL,
    outcome   TEXT NOT NULL,
    reason    TEXT NOT NULL,
    user_id   INTEGER,
    PRIMARY KEY (job_id, row_num)
);
