-- One table of positions for every reader of the event log: the billing
-- service's (0018) joins the speech-analytics service's (0019) under the name
-- "billing", with the mark of tenant 0 that says it has started.
INSERT INTO follower_positions (name, tenant_id, seq) SELECT 'billing', tenant_id, seq FROM billing_positions;
INSERT INTO follower_positions (name, tenant_id, seq) VALUES ('billing', 0, 0);
DROP TABLE billing_positions;
