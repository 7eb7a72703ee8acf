-- The calls continuing a call (a transfer's, a callback's) by their parent,
-- and a campaign's transferred calls apart (a transfer is rare): UJET's
-- campaign contacts show whether their call was transferred and whether
-- the call it went on as has ended.
CREATE INDEX calls_parent ON calls (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX calls_transferred ON calls (tenant_id, campaign_id) WHERE hangup_cause = 'transferred' AND campaign_id IS NOT NULL;
