-- Record lists (issue 16): Voiso's CDR list filters by agent (user_id) over
-- a period far more often than by anything else; without this index such a
-- page reads and sorts every call of the period (a week of a million-call
-- year is ~19,000 rows) to keep the few hundred of one agent.
CREATE INDEX calls_tenant_agent ON calls (tenant_id, agent_id, created_at);
