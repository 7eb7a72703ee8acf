-- A do-not-call entry may expire (a request honoured for a period, a
-- consent window): it then no longer blocks dials. NULL never expires.
ALTER TABLE dnc_numbers ADD COLUMN expires_at INTEGER;
