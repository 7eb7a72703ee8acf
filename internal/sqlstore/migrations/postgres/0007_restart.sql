-- The status an agent had before the system set In-Call or Wrap-Up, so that a
-- restart which cut their call can give it back (NULL: none to give back).
ALTER TABLE users ADD COLUMN presence_return TEXT;

-- When each node running call control was last known alive. A restart ends the
-- calls the old process held at that moment rather than at the restart.
CREATE TABLE node_heartbeats (
    node      TEXT PRIMARY KEY,
    last_seen BIGINT NOT NULL
);
