-- Call records stay fast at millions of calls (issue 12).
--
-- Totals of unfiltered record lists come from per-tenant counters kept by
-- triggers in the transaction of every call write, exact by construction,
-- instead of a COUNT(*) over every call. calls counts every call, ended the
-- calls with an end; open calls are the difference.
CREATE TABLE call_counts (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants (id),
    calls     INTEGER NOT NULL DEFAULT 0,
    ended     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO call_counts (tenant_id, calls, ended)
    SELECT tenant_id, COUNT(*), COUNT(ended_at) FROM calls GROUP BY tenant_id;

-- Searches for a part of a number read an FTS5 index of the numbers' digit
-- windows (numbergrams.go says why and how; switchboard_number_grams is a
-- function the store registers). Contentless: it holds only the index, keyed
-- by the call's id, and no positions.
CREATE VIRTUAL TABLE calls_numbers USING fts5 (grams, content = '', tokenize = 'ascii', detail = 'none', columnsize = 0);
INSERT INTO calls_numbers (rowid, grams)
    SELECT id, switchboard_number_grams(from_number) || ' ' || switchboard_number_grams(to_number) FROM calls;

CREATE TRIGGER calls_insert AFTER INSERT ON calls BEGIN
    INSERT INTO call_counts (tenant_id, calls, ended) VALUES (NEW.tenant_id, 1, NEW.ended_at IS NOT NULL)
        ON CONFLICT (tenant_id) DO UPDATE SET calls = calls + 1, ended = ended + (NEW.ended_at IS NOT NULL);
    INSERT INTO calls_numbers (rowid, grams)
        VALUES (NEW.id, switchboard_number_grams(NEW.from_number) || ' ' || switchboard_number_grams(NEW.to_number));
END;
CREATE TRIGGER calls_end AFTER UPDATE OF ended_at ON calls
    WHEN (OLD.ended_at IS NULL) <> (NEW.ended_at IS NULL) BEGIN
    UPDATE call_counts SET ended = ended + (CASE WHEN NEW.ended_at IS NULL THEN -1 ELSE 1 END) WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER calls_renumber AFTER UPDATE OF from_number, to_number ON calls
    WHEN OLD.from_number <> NEW.from_number OR OLD.to_number <> NEW.to_number BEGIN
    INSERT INTO calls_numbers (calls_numbers, rowid, grams)
        VALUES ('delete', OLD.id, switchboard_number_grams(OLD.from_number) || ' ' || switchboard_number_grams(OLD.to_number));
    INSERT INTO calls_numbers (rowid, grams)
        VALUES (NEW.id, switchboard_number_grams(NEW.from_number) || ' ' || switchboard_number_grams(NEW.to_number));
END;
CREATE TRIGGER calls_delete AFTER DELETE ON calls BEGIN
    UPDATE call_counts SET calls = calls - 1, ended = ended - (OLD.ended_at IS NOT NULL) WHERE tenant_id = OLD.tenant_id;
    INSERT INTO calls_numbers (calls_numbers, rowid, grams)
        VALUES ('delete', OLD.id, switchboard_number_grams(OLD.from_number) || ' ' || switchboard_number_grams(OLD.to_number));
END;

-- The counters answer what this index was for (counting a tenant's ended
-- calls), and every call's end rewrote an entry of it.
DROP INDEX calls_tenant_ended;
