-- IVR menus (issue 13): a number can route to a voice menu whose digits lead
-- to queues, agents or other menus.
CREATE TABLE ivr_menus (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    name            TEXT NOT NULL,
    prompt          TEXT NOT NULL,
    timeout_seconds INTEGER NOT NULL,
    max_repeats     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX ivr_menus_tenant ON ivr_menus (tenant_id, id);

-- A menu's actions, one row each: its options (slot is the digit) and its
-- timeout, invalid and final actions (slot names them). The targets are
-- foreign keys so that nothing a menu leads to can disappear under it; the
-- store refuses such deletions first with a message naming the menu.
CREATE TABLE ivr_menu_actions (
    menu_id        INTEGER NOT NULL REFERENCES ivr_menus (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    slot           TEXT NOT NULL,
    action         TEXT NOT NULL,
    queue_id       INTEGER REFERENCES queues (id),
    user_id        INTEGER REFERENCES users (id),
    target_menu_id INTEGER REFERENCES ivr_menus (id),
    PRIMARY KEY (menu_id, position)
);
CREATE INDEX ivr_menu_actions_queue ON ivr_menu_actions (queue_id) WHERE queue_id IS NOT NULL;
CREATE INDEX ivr_menu_actions_user ON ivr_menu_actions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX ivr_menu_actions_menu ON ivr_menu_actions (target_menu_id) WHERE target_menu_id IS NOT NULL;

-- A number's third routing target.
ALTER TABLE phone_numbers ADD COLUMN ivr_menu_id INTEGER REFERENCES ivr_menus (id);
CREATE INDEX phone_numbers_ivr_menu ON phone_numbers (ivr_menu_id) WHERE ivr_menu_id IS NOT NULL;
