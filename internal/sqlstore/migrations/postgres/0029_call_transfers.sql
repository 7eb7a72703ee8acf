-- The calls continuing a call (a transfer's, a callback's) by their parent:
-- UJET's campaign contacts show whether their call was transferred and
-- whether the call it went on as has ended.
CREATE INDEX calls_parent ON calls (parent_id) WHERE parent_id IS NOT NULL;
