-- Voiso API v4 (issue 16): the rules Voiso enforces on SMS and lead imports.

-- How many SMS one agent may send to one number per calendar day in the
-- tenant's time zone (0: no cap). Voiso's cap is 20, every tenant's default.
ALTER TABLE tenants ADD COLUMN sms_daily_per_recipient INTEGER NOT NULL DEFAULT 20;
-- An agent's texts to a number by time: the daily cap counts them and the
-- duplicate check (same text within 2 s) reads the latest.
CREATE INDEX messages_user_recipient ON messages (tenant_id, user_id, to_number, created_at);

-- A lead import into a campaign holds its campaign's row here while it runs
-- (until: a lease, in case the process dies) and for 2 s after it ends;
-- another import is refused while until is ahead of the clock.
CREATE TABLE lead_import_claims (
    campaign_id BIGINT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id),
    until       BIGINT NOT NULL
);

-- A campaign's leads by their (first) number: updates by number.
CREATE INDEX leads_campaign_number ON leads (campaign_id, phone_number) WHERE campaign_id IS NOT NULL;
