-- Call records stay fast at millions of calls (issue 12).
--
-- Totals of unfiltered record lists come from per-tenant counters kept by
-- triggers in the transaction of every call write, exact by construction,
-- instead of a COUNT(*) over every call. calls counts every call, ended the
-- calls with an end; open calls are the difference.
CREATE TABLE call_counts (
    tenant_id BIGINT PRIMARY KEY REFERENCES tenants (id),
    calls     BIGINT NOT NULL DEFAULT 0,
    ended     BIGINT NOT NULL DEFAULT 0
);
INSERT INTO call_counts (tenant_id, calls, ended)
    SELECT tenant_id, COUNT(*), COUNT(ended_at) FROM calls GROUP BY tenant_id;

CREATE FUNCTION calls_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A bulk load (LoadCalls) adds its counts once per transaction.
    IF current_setting('switchboard.bulk_load', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO call_counts AS c (tenant_id, calls, ended)
            VALUES (NEW.tenant_id, 1, CASE WHEN NEW.ended_at IS NULL THEN 0 ELSE 1 END)
            ON CONFLICT (tenant_id) DO UPDATE SET calls = c.calls + 1, ended = c.ended + EXCLUDED.ended;
    ELSIF TG_OP = 'UPDATE' THEN
        IF (OLD.ended_at IS NULL) <> (NEW.ended_at IS NULL) THEN
            UPDATE call_counts SET ended = ended + CASE WHEN NEW.ended_at IS NULL THEN -1 ELSE 1 END
                WHERE tenant_id = NEW.tenant_id;
        END IF;
    ELSE
        UPDATE call_counts SET calls = calls - 1, ended = ended - CASE WHEN OLD.ended_at IS NULL THEN 0 ELSE 1 END
            WHERE tenant_id = OLD.tenant_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER calls_count AFTER INSERT OR DELETE OR UPDATE OF ended_at ON calls
    FOR EACH ROW EXECUTE FUNCTION calls_count();

-- Searches for a part of a number read trigram indexes of both numbers.
-- pg_trgm is a trusted extension: a database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX calls_from_trgm ON calls USING gin (from_number gin_trgm_ops);
CREATE INDEX calls_to_trgm ON calls USING gin (to_number gin_trgm_ops);

-- The counters answer what this index was for (counting a tenant's ended
-- calls), and every call's end rewrote an entry of it.
DROP INDEX calls_tenant_ended;
