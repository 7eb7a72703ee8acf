-- Call data (issue 17, the UJET dialect): what the integration APIs attach to
-- a call beside the engine's record of it (end user, customer flags, custom
-- data signed and unsigned, CRM ticket, language, recording permission). A
-- table of its own, one row per call that has any, so that the engine's saves
-- of the call's row never overwrite it.
CREATE TABLE call_data (
    call_id              BIGINT PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
    tenant_id            BIGINT NOT NULL REFERENCES tenants (id),
    call_type            TEXT NOT NULL DEFAULT '',
    end_user_id          BIGINT,
    verified_customer    BOOLEAN NOT NULL DEFAULT false,
    bad_actor            BOOLEAN NOT NULL DEFAULT false,
    repeat_customer      BOOLEAN NOT NULL DEFAULT false,
    custom_data          TEXT NOT NULL DEFAULT '{}',
    signed_data          TEXT NOT NULL DEFAULT '{}',
    ticket_id            TEXT NOT NULL DEFAULT '',
    language             TEXT NOT NULL DEFAULT '',
    recording_permission TEXT NOT NULL DEFAULT '',
    updated_at           BIGINT NOT NULL
);
-- A ticket resolves to the number of its latest call (POST /calls by
-- ticket_id).
CREATE INDEX call_data_ticket ON call_data (tenant_id, ticket_id, call_id);

-- The company secret that signs UJET's signed custom data (HS256), written
-- through PATCH /v1/tenant and never shown.
ALTER TABLE tenants ADD COLUMN company_secret TEXT NOT NULL DEFAULT '';
