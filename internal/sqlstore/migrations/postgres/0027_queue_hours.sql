-- UJET dialect (issue 17): what a queue needs to show as a UJET menu and to
-- answer wait times, operation statuses and queue status.

-- How app-style dialects show the queue in their menu trees (ivr_menu,
-- mobile_menu, web_menu); empty takes the channel's default.
ALTER TABLE queues ADD COLUMN menu_type TEXT NOT NULL DEFAULT '';
-- The queue's operating hours and holidays as JSON (switchboard.OperatingHours);
-- NULL is always open. They are read and written whole with the queue, never
-- queried inside, so one column serves better than three tables.
ALTER TABLE queues ADD COLUMN hours TEXT;
ALTER TABLE queues ADD COLUMN voicemail_enabled BOOLEAN NOT NULL DEFAULT FALSE;
-- Scheduled callback periods: their length in minutes (0: 15) and how many
-- callbacks one period takes (0: no limit).
ALTER TABLE queues ADD COLUMN callback_slot_minutes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN callback_slot_capacity INTEGER NOT NULL DEFAULT 0;

-- A queue's scheduled callbacks by time, for the callback periods: few rows
-- wait at any moment, so the index holds only them.
CREATE INDEX calls_scheduled_queue ON calls (tenant_id, queue_id, scheduled_at) WHERE status = 'scheduled';
