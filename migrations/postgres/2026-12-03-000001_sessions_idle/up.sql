-- Sessions end when idle (config session_idle_minutes): the last time one was used.
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE sessions SET last_seen_at = created_at;
-- Record search on the pages and `GET /api/v1/records?q=`: by name and by school name.
CREATE INDEX records_name ON records (name);
CREATE INDEX records_school_name ON records (school_name);
-- The audit log page filters by action and pages by id.
CREATE INDEX audit_events_action ON audit_events (action, id);
