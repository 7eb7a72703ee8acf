-- New calls reach the FTS5 number index once per write transaction instead of
-- one statement at a time. FTS5 flushes its pending terms to disk at every
-- statement savepoint, and a trigger on calls opens one per insert: every call
-- the batching writer saved left a small segment to merge. The trigger now
-- records the new call's id here; the SQLite writer moves these rows into the
-- index in one statement just before each commit (flushNumberIndex), so
-- committed state never holds a pending row.
CREATE TABLE calls_numbers_pending (id INTEGER PRIMARY KEY);

DROP TRIGGER calls_insert;
CREATE TRIGGER calls_insert AFTER INSERT ON calls BEGIN
    INSERT INTO call_counts (tenant_id, calls, ended) VALUES (NEW.tenant_id, 1, NEW.ended_at IS NOT NULL)
        ON CONFLICT (tenant_id) DO UPDATE SET calls = calls + 1, ended = ended + (NEW.ended_at IS NOT NULL);
    INSERT OR IGNORE INTO calls_numbers_pending (id) VALUES (NEW.id);
END;

-- A pending call is not in the index yet: the flush reads its numbers as they
-- are then, so a renumbering has nothing to undo, and a deletion only drops
-- the pending row. (Deleting from a contentless FTS5 table terms it never
-- held would corrupt it.)
DROP TRIGGER calls_renumber;
CREATE TRIGGER calls_renumber AFTER UPDATE OF from_number, to_number ON calls
    WHEN (OLD.from_number <> NEW.from_number OR OLD.to_number <> NEW.to_number)
        AND NOT EXISTS (SELECT 1 FROM calls_numbers_pending WHERE id = OLD.id) BEGIN
    INSERT INTO calls_numbers (calls_numbers, rowid, grams)
        VALUES ('delete', OLD.id, switchboard_number_grams(OLD.from_number) || ' ' || switchboard_number_grams(OLD.to_number));
    INSERT INTO calls_numbers (rowid, grams)
        VALUES (NEW.id, switchboard_number_grams(NEW.from_number) || ' ' || switchboard_number_grams(NEW.to_number));
END;

DROP TRIGGER calls_delete;
CREATE TRIGGER calls_delete AFTER DELETE ON calls BEGIN
    UPDATE call_counts SET calls = calls - 1, ended = ended - (OLD.ended_at IS NOT NULL) WHERE tenant_id = OLD.tenant_id;
    INSERT INTO calls_numbers (calls_numbers, rowid, grams)
        SELECT 'delete', OLD.id, switchboard_number_grams(OLD.from_number) || ' ' || switchboard_number_grams(OLD.to_number)
        WHERE NOT EXISTS (SELECT 1 FROM calls_numbers_pending WHERE id = OLD.id);
    DELETE FROM calls_numbers_pending WHERE id = OLD.id;
END;
