-- A campaign's transferred calls apart (a transfer is rare): UJET's campaign
-- contacts show whether their call was transferred and whether the call it
-- went on as has ended (found through calls_parent, made by 0025).
CREATE INDEX calls_transferred ON calls (tenant_id, campaign_id) WHERE hangup_cause = 'transferred' AND campaign_id IS NOT NULL;
