-- Call ids are handed out in blocks: the call engine numbers a call the
-- moment it creates it, from ids reserved here ahead of need, and persists it
-- later; every other insert of a call draws on the same counter, so no two
-- calls can share an id whatever fails in between.
CREATE TABLE id_blocks (
    name    TEXT PRIMARY KEY,
    next_id BIGINT NOT NULL
);
INSERT INTO id_blocks (name, next_id) SELECT 'calls', COALESCE(MAX(id), 0) + 1 FROM calls;
