-- The prepaid billing ledger (issue 16). The amount of a tenant's balance
-- is tenants.balance_cents (one truth for the operator's view and the
-- ledger); billing_balances keeps the rest of the account, a row appearing
-- at a tenant's first billing write (a missing row reads as the defaults).
CREATE TABLE billing_balances (
    tenant_id                   INTEGER PRIMARY KEY REFERENCES tenants (id),
    held_cents                  INTEGER NOT NULL DEFAULT 0,
    low_balance_threshold_cents INTEGER NOT NULL DEFAULT 0,
    prepaid                     BOOLEAN NOT NULL DEFAULT FALSE,
    overdraft_cents             INTEGER NOT NULL DEFAULT 0,
    -- low_notified: billing.low_balance was written and the available
    -- amount has not risen back to the threshold since.
    low_notified                BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at                  INTEGER NOT NULL
);

-- Every change of a balance. amount_cents is the change to the balance
-- (credit, charge, adjustment) or to the held amount (hold, release).
CREATE TABLE billing_ledger (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id           INTEGER NOT NULL REFERENCES tenants (id),
    kind                TEXT NOT NULL,
    amount_cents        INTEGER NOT NULL,
    call_id             INTEGER,
    rate_id             INTEGER,
    billed_seconds      INTEGER NOT NULL DEFAULT 0,
    reason              TEXT NOT NULL DEFAULT '',
    balance_after_cents INTEGER NOT NULL,
    held_after_cents    INTEGER NOT NULL,
    created_at          INTEGER NOT NULL
);
CREATE INDEX billing_ledger_tenant ON billing_ledger (tenant_id, id);
-- A call is held, released and charged at most once: replays of its events
-- find the entry and write nothing.
CREATE UNIQUE INDEX billing_ledger_call ON billing_ledger (tenant_id, call_id, kind)
    WHERE call_id IS NOT NULL AND kind IN ('hold', 'release', 'charge');

-- Tenants that already had a balance open their ledger with it.
INSERT INTO billing_ledger (tenant_id, kind, amount_cents, reason, balance_after_cents, held_after_cents, created_at)
    SELECT id, 'adjustment', balance_cents, 'opening balance', balance_cents, 0, updated_at FROM tenants WHERE balance_cents <> 0;

-- The rate table.
CREATE TABLE billing_rates (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id            INTEGER NOT NULL REFERENCES tenants (id),
    prefix               TEXT NOT NULL,
    direction            TEXT NOT NULL,
    per_minute_milli     INTEGER NOT NULL,
    connection_fee_milli INTEGER NOT NULL DEFAULT 0,
    initial_increment    INTEGER NOT NULL,
    increment            INTEGER NOT NULL,
    effective_from       INTEGER NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE UNIQUE INDEX billing_rates_key ON billing_rates (tenant_id, direction, prefix, effective_from);

-- Where the billing service has read each tenant's event log to. Tenants
-- that exist now start at their head, so that calls made before billing
-- existed are not charged; tenants born later start at their first event.
CREATE TABLE billing_positions (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants (id),
    seq       INTEGER NOT NULL
);
INSERT INTO billing_positions (tenant_id, seq) SELECT id, event_seq FROM tenants;
