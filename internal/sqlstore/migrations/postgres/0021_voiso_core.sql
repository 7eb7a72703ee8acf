-- Voiso API v4 (issue 16): what the core lacked to show calls, tenants and
-- conversation messages the way Voiso names them.

-- The campaign whose dialer placed a call. No foreign key, like queue_id and
-- agent_id: a stopped campaign may be deleted and its calls stay, and the
-- events of the call keep the campaign's name as it was.
ALTER TABLE calls ADD COLUMN campaign_id BIGINT;
-- A campaign's calls by period (Voiso's campaign_id filter on CDRs).
CREATE INDEX calls_tenant_campaign ON calls (tenant_id, campaign_id, created_at) WHERE campaign_id IS NOT NULL;

-- A tenant's UUID: Voiso's contact_center_id. Existing tenants get a random
-- version 4 UUID in the format of every other UUID of the store.
ALTER TABLE tenants ADD COLUMN uuid TEXT;
UPDATE tenants SET uuid = gen_random_uuid()::text;
ALTER TABLE tenants ALTER COLUMN uuid SET NOT NULL;
CREATE UNIQUE INDEX tenants_uuid_key ON tenants (uuid);

-- A conversation message's UUID: its id wherever a dialect shows it.
ALTER TABLE conversation_messages ADD COLUMN uuid TEXT;
UPDATE conversation_messages SET uuid = gen_random_uuid()::text;
ALTER TABLE conversation_messages ALTER COLUMN uuid SET NOT NULL;
CREATE UNIQUE INDEX conversation_messages_uuid_key ON conversation_messages (uuid);

-- Webhooks made before they had a UUID (0004) get one: dialects name
-- subscriptions by it (Voiso's webhook id).
UPDATE webhooks SET uuid = gen_random_uuid()::text WHERE uuid = '';
